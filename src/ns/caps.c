#include "ns/caps.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ns/spawn.h"
#include "util/cleanup.h"

static const char *const names[] = {
	"CHOWN",	    "DAC_OVERRIDE",	"DAC_READ_SEARCH", "FOWNER",	     "FSETID",
	"KILL",		    "SETGID",		"SETUID",	   "SETPCAP",	     "LINUX_IMMUTABLE",
	"NET_BIND_SERVICE", "NET_BROADCAST",	"NET_ADMIN",	   "NET_RAW",	     "IPC_LOCK",
	"IPC_OWNER",	    "SYS_MODULE",	"SYS_RAWIO",	   "SYS_CHROOT",     "SYS_PTRACE",
	"SYS_PACCT",	    "SYS_ADMIN",	"SYS_BOOT",	   "SYS_NICE",	     "SYS_RESOURCE",
	"SYS_TIME",	    "SYS_TTY_CONFIG",	"MKNOD",	   "LEASE",	     "AUDIT_WRITE",
	"AUDIT_CONTROL",    "SETFCAP",		"MAC_OVERRIDE",	   "MAC_ADMIN",	     "SYSLOG",
	"WAKE_ALARM",	    "BLOCK_SUSPEND",	"AUDIT_READ",	   "PERFMON",	     "BPF",
	"CHECKPOINT_RESTORE",
};

int caps_last(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	last = (int)ARRAY_SIZE(names) - 1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		int v;
		if (fscanf(f, "%d", &v) == 1 && v > 0 && v < 64)
			last = v;
		fclose(f);
	}
	return last;
}

/* Every capability the kernel has and our own bounding set still holds:
 * --privileged cannot give more than scow has. */
uint64_t caps_all(void)
{
	int last = caps_last();
	uint64_t all = 0;
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			all |= 1ULL << c;
	return all;
}

int caps_from_name(const char *name)
{
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i <= caps_last() ? (int)i : -1;
	return -1;
}

const char *caps_name(int cap)
{
	return cap >= 0 && (size_t)cap < ARRAY_SIZE(names) ? names[cap] : "?";
}

static bool has_all(char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcasecmp(list[i], "ALL") == 0)
			return true;
	return false;
}

static int apply_list(char *const *list, bool add, uint64_t *mask, struct scow_error **err)
{
	for (size_t i = 0; list && list[i]; i++) {
		if (strcasecmp(list[i], "ALL") == 0)
			continue;
		int c = caps_from_name(list[i]);
		if (c < 0)
			return error_set(err, EINVAL, "unknown capability: \"%s\"", list[i]);
		if (add)
			*mask |= 1ULL << c;
		else
			*mask &= ~(1ULL << c);
	}
	return 0;
}

int caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *ret,
		 struct scow_error **err)
{
	uint64_t mask = privileged ? caps_all() : CAPS_DOCKER_DEFAULT;
	if (has_all(drop))
		mask = 0;
	if (apply_list(drop, false, &mask, err) < 0)
		return -1;
	if (has_all(add))
		mask = caps_all();
	if (apply_list(add, true, &mask, err) < 0)
		return -1;
	/* Docker applies drops after a plain ALL add too ("--cap-add ALL
	 * --cap-drop NET_ADMIN"). */
	if (has_all(add) && apply_list(drop, false, &mask, err) < 0)
		return -1;
	*ret = mask & caps_all();
	return 0;
}

int caps_drop_bounding(uint64_t mask, struct scow_error **err)
{
	int last = caps_last();
	for (int c = 0; c <= last; c++)
		if (!(mask & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return error_errno(err, "drop capability %s", caps_name(c));
	return 0;
}

int caps_apply(uint64_t mask, bool root, struct scow_error **err)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2] = {{0}};
	uint64_t set = root ? mask : 0;
	d[0].effective = d[0].permitted = (uint32_t)set;
	d[1].effective = d[1].permitted = (uint32_t)(set >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return error_errno(err, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return error_errno(err, "clear ambient capabilities");
	return 0;
}
