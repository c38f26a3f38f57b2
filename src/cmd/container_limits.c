/* Resource limits of run/create/update: the options, checked with Docker's
 * rules (its CLI parsing, then its daemon's verifyPlatformContainerResources
 * and adaptContainerSettings), stored in HostConfig under Docker's names and
 * units, and turned back into cgroup limits when the container starts.
 *
 * Bad values are errors before anything is created (exit 125); a limit the
 * host's cgroups cannot apply is dropped with Docker's warning, as Docker
 * does. The host is probed only when a limit is asked for, so a plain run
 * pays nothing here. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "cgroup/cgroup.h"
#include "cmd/run.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define MIN_MEMORY (6LL << 20) /* Docker's linuxMinMemory */
#define MAX_BYTES (1LL << 62)
#define MIN_SHARES 2
#define MAX_SHARES 262144
#define CPU_PERIOD_DEFAULT 100000 /* the kernel's and Docker's */
#define CPUSET_MAX_INDEX 8192 /* Docker's bound: "the normal maximum number of CPUs" */

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- parsing values ------------------------------------------------------------------ */

/* pflag's message for a value its type refuses. */
static int bad_flag(struct scow_error **err, const struct opts *o, const char *name,
		    const char *value, const char *why)
{
	char shown[64];
	char s = 0;
	for (const struct opt_def *d = o->defs; d->name; d++)
		if (strcmp(d->name, name) == 0)
			s = d->short_name;
	if (s)
		snprintf(shown, sizeof(shown), "-%c, --%s", s, name);
	else
		snprintf(shown, sizeof(shown), "--%s", name);
	return error_set(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, shown,
			 why);
}

static int opt_bytes(const struct opts *o, const char *name, bool minus_one, int64_t *ret,
		     struct scow_error **err)
{
	const char *v = opt_str(o, name);
	if (minus_one && strcmp(v, "-1") == 0) {
		*ret = -1;
		return 0;
	}
	if (!str_to_ram_bytes(v, MAX_BYTES, ret)) {
		_cleanup_free_ char *why = xasprintf("invalid size: '%s'", v);
		return bad_flag(err, o, name, v, why);
	}
	return 0;
}

static int opt_int(const struct opts *o, const char *name, long long min, long long max,
		   int64_t *ret, struct scow_error **err)
{
	const char *v = opt_str(o, name);
	long long n;
	if (!str_to_ll(v, min, max, &n)) {
		bool range = str_to_ll(v, LLONG_MIN, LLONG_MAX, &n);
		_cleanup_free_ char *why = xasprintf("strconv.Parse%s: parsing \"%s\": %s",
						     min >= 0 ? "Uint" : "Int", v,
						     range ? "value out of range" : "invalid syntax");
		return bad_flag(err, o, name, v, why);
	}
	*ret = n;
	return 0;
}

/* Docker's --cpus is a rational number kept as nano CPUs: "1.5" is
 * 1500000000; more than nine decimals is "too precise". */
static int opt_nano_cpus(const struct opts *o, int64_t *ret, struct scow_error **err)
{
	const char *v = opt_str(o, "cpus"), *p = v;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	bool precise = true;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (whole > 1000000) /* far beyond any CPU count */
			return bad_flag(err, o, "cpus", v, "value out of range");
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, fdigits++) {
			if (fdigits < 9)
				frac = frac * 10 + (*p - '0');
			else if (*p != '0')
				precise = false;
		}
	}
	if (*p || (digits == 0 && fdigits == 0)) {
		_cleanup_free_ char *why = xasprintf("failed to parse %s as a rational number", v);
		return bad_flag(err, o, "cpus", v, why);
	}
	if (!precise)
		return bad_flag(err, o, "cpus", v, "value is too precise");
	for (int i = fdigits < 9 ? fdigits : 9; i < 9; i++)
		frac *= 10;
	int64_t nano = whole * 1000000000LL + frac;
	*ret = neg ? -nano : nano;
	return 0;
}

/* ---- cpusets -------------------------------------------------------------------------- */

struct cpuset {
	unsigned char bits[CPUSET_MAX_INDEX / 8 + 1];
	int max; /* highest index set, -1 if none */
};

static void cpuset_add(struct cpuset *s, long i)
{
	s->bits[i / 8] |= (unsigned char)(1u << (i % 8));
	if (i > s->max)
		s->max = (int)i;
}

/* Docker's ParseUintList ("0-3,5"), with an upper bound on the indexes:
 * "1-9223372036854775807" is refused, not walked. */
static int cpuset_parse(const char *s, long limit, struct cpuset *ret, struct scow_error **err)
{
	memset(ret, 0, sizeof(*ret));
	ret->max = -1;
	if (!*s)
		return 0;
	_cleanup_strv_ char **parts = strv_split(s, ',');
	for (size_t i = 0; parts[i]; i++) {
		char *dash = strchr(parts[i], '-');
		long long a, b;
		if (dash)
			*dash = '\0';
		bool ok = str_to_ll(parts[i], 0, LLONG_MAX, &a) &&
			  (!dash || str_to_ll(dash + 1, 0, LLONG_MAX, &b));
		if (dash)
			*dash = '-';
		if (!ok || !*parts[i])
			return error_set(err, EINVAL, "invalid format: %s", parts[i]);
		if (!dash)
			b = a;
		if (b < a)
			return error_set(err, EINVAL, "invalid range format: %s", parts[i]);
		if (b > limit)
			return error_set(err, EINVAL, "value of out range, maximum is %ld", limit);
		for (long long k = a; k <= b; k++)
			cpuset_add(ret, (long)k);
	}
	return 0;
}

static bool cpuset_subset(const struct cpuset *want, const struct cpuset *have)
{
	for (size_t i = 0; i < sizeof(want->bits); i++)
		if (want->bits[i] & ~have->bits[i])
			return false;
	return true;
}

/* "cpus" or "mems" against what the host offers (avail NULL: unknown,
 * the syntax and a sane bound only). */
static int check_cpuset(const char *value, const char *what, const char *avail,
			struct scow_error **err)
{
	struct cpuset have, want;
	_cleanup_error_ struct scow_error *e = NULL;
	bool known = avail && cpuset_parse(avail, CPUSET_MAX_INDEX, &have, &e) == 0 &&
		     have.max >= 0;
	if (cpuset_parse(value, CPUSET_MAX_INDEX, &want, err) < 0)
		return error_wrap(err, "Invalid value %s for cpuset %s", value, what);
	if (known && !cpuset_subset(&want, &have))
		return error_set(err, EINVAL,
				 "Requested %s are not available - requested %s, available: %s",
				 strcmp(what, "cpus") == 0 ? "CPUs" : "memory nodes", value, avail);
	return 0;
}

/* ---- the resource options, parsed -------------------------------------------------------- */

struct res {
	bool memory_set, swap_set, reservation_set, nano_set, shares_set, period_set, quota_set;
	bool pids_set, blkio_set, oom_adj_set;
	int64_t memory, swap, reservation, nano, shares, period, quota, pids, blkio, oom_adj;
	const char *cpus, *mems; /* NULL: not given */
	int oom_kill_disable;	 /* -1: not given */
};

static int parse_res(const struct opts *o, struct res *r, struct scow_error **err)
{
	memset(r, 0, sizeof(*r));
	r->oom_kill_disable = -1;
#define SET(name) (opt_declared(o, name) && opt_set(o, name))
	if ((r->memory_set = SET("memory")) && opt_bytes(o, "memory", false, &r->memory, err) < 0)
		return -1;
	if ((r->swap_set = SET("memory-swap")) && opt_bytes(o, "memory-swap", true, &r->swap, err) < 0)
		return -1;
	if ((r->reservation_set = SET("memory-reservation")) &&
	    opt_bytes(o, "memory-reservation", false, &r->reservation, err) < 0)
		return -1;
	if ((r->nano_set = SET("cpus")) && opt_nano_cpus(o, &r->nano, err) < 0)
		return -1;
	if ((r->shares_set = SET("cpu-shares")) &&
	    opt_int(o, "cpu-shares", LLONG_MIN, LLONG_MAX, &r->shares, err) < 0)
		return -1;
	if ((r->period_set = SET("cpu-period")) &&
	    opt_int(o, "cpu-period", LLONG_MIN, LLONG_MAX, &r->period, err) < 0)
		return -1;
	if ((r->quota_set = SET("cpu-quota")) &&
	    opt_int(o, "cpu-quota", LLONG_MIN, LLONG_MAX, &r->quota, err) < 0)
		return -1;
	if ((r->pids_set = SET("pids-limit")) &&
	    opt_int(o, "pids-limit", LLONG_MIN, LLONG_MAX, &r->pids, err) < 0)
		return -1;
	if ((r->blkio_set = SET("blkio-weight")) &&
	    opt_int(o, "blkio-weight", 0, 65535, &r->blkio, err) < 0)
		return -1;
	if ((r->oom_adj_set = SET("oom-score-adj")) &&
	    opt_int(o, "oom-score-adj", INT32_MIN, INT32_MAX, &r->oom_adj, err) < 0)
		return -1;
	if (SET("cpuset-cpus"))
		r->cpus = opt_str(o, "cpuset-cpus");
	if (SET("cpuset-mems"))
		r->mems = opt_str(o, "cpuset-mems");
	if (opt_declared(o, "oom-kill-disable") && opt_set(o, "oom-kill-disable"))
		r->oom_kill_disable = opt_bool(o, "oom-kill-disable");
#undef SET
	return 0;
}

static void warn(const char *msg)
{
	fprintf(stderr, "WARNING: %s\n", msg);
}

static int ncpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return 1;
}

/* Checks that hold whatever the host offers; then the host's support. The
 * values the host cannot apply are zeroed (Docker's warnings). */
static int check_cpu(struct res *r, const struct cgroup_host_info *h, struct scow_error **err)
{
	if (r->nano > 0 && r->period > 0)
		return error_set(err, EINVAL,
				 "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (r->nano > 0 && r->quota > 0)
		return error_set(err, EINVAL,
				 "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	int n = ncpus();
	/* The quota a --cpus value gives must reach the kernel's 1 ms. */
	if (r->nano_set && (r->nano < 0 || r->nano > (int64_t)n * 1000000000LL ||
			    (r->nano > 0 && r->nano * CPU_PERIOD_DEFAULT / 1000000000LL < 1000)))
		return error_set(err, EINVAL,
				 "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs "
				 "available",
				 n, n);
	if (r->nano > 0 && h && !h->cpu_cfs)
		return error_set(err, ENOTSUP,
				 "NanoCPUs can not be set, as your kernel does not support CPU CFS "
				 "scheduler or the cgroup is not mounted");
	if (r->period != 0 && (r->period < 1000 || r->period > 1000000))
		return error_set(err, EINVAL,
				 "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than "
				 "1s (i.e. 1000000)");
	if (r->quota > 0 && r->quota < 1000)
		return error_set(err, EINVAL, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (r->quota < 0)
		r->quota = -1; /* the kernel's "no limit" */
	if (h && !h->cpu_cfs && (r->period || r->quota)) {
		warn("Your kernel does not support CPU CFS period/quota or the cgroup is not "
		     "mounted. Period/quota discarded.");
		r->period = r->quota = 0;
	}
	/* Docker's adaptContainerSettings clamps shares into the kernel's range. */
	if (r->shares < 0 || r->shares == 1)
		r->shares = MIN_SHARES;
	else if (r->shares > MAX_SHARES)
		r->shares = MAX_SHARES;
	if (h && r->shares && !h->cpu_shares) {
		warn("Your kernel does not support CPU shares or the cgroup is not mounted. Shares "
		     "discarded.");
		r->shares = 0;
	}
	return 0;
}

static int check_memory(struct res *r, const struct cgroup_host_info *h, bool update,
			struct scow_error **err)
{
	if (r->memory != 0 && r->memory < MIN_MEMORY)
		return error_set(err, EINVAL, "Minimum memory limit allowed is 6MB");
	if (h && r->memory > 0 && !h->memory) {
		warn("Your kernel does not support memory limit capabilities or the cgroup is not "
		     "mounted. Limitation discarded.");
		r->memory = 0;
		r->swap = -1;
	}
	if (!update && r->memory > 0 && r->swap == 0)
		r->swap = 2 * r->memory; /* Docker's default: as much swap as memory */
	if (h && r->memory > 0 && r->swap != -1 && r->swap != 0 && !h->swap) {
		warn("Your kernel does not support swap limit capabilities or the cgroup is not "
		     "mounted. Memory limited without swap.");
		r->swap = -1;
	}
	if (r->swap < -1)
		return error_set(err, EINVAL, "invalid memory swap limit: %lld", (long long)r->swap);
	if (r->memory > 0 && r->swap > 0 && r->swap < r->memory)
		return error_set(err, EINVAL, "Minimum memoryswap limit should be larger than memory "
					      "limit, see usage");
	if (!update && r->memory == 0 && r->swap > 0)
		return error_set(err, EINVAL, "You should always set the Memory limit when using "
					      "Memoryswap limit, see usage");
	if (r->reservation > 0 && r->reservation < MIN_MEMORY)
		return error_set(err, EINVAL, "Minimum memory reservation allowed is 6MB");
	if (r->memory > 0 && r->reservation > 0 && r->memory < r->reservation)
		return error_set(err, EINVAL, "Minimum memory limit can not be less than memory "
					      "reservation limit, see usage");
	if (h && r->reservation > 0 && !h->memory) {
		warn("Your kernel does not support memory soft limit capabilities or the cgroup is "
		     "not mounted. Limitation discarded.");
		r->reservation = 0;
	}
	if (h && r->oom_kill_disable >= 0 && !h->oom_kill_disable) {
		if (r->oom_kill_disable == 1)
			warn("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
		r->oom_kill_disable = -1;
	}
	if (r->oom_kill_disable == 1 && r->memory == 0 && !update)
		warn("OOM killer is disabled for the container, but no memory limit is set, this "
		     "can result in the system running out of resources.");
	return 0;
}

static int check_res(struct res *r, const struct cgroup_host_info *h, bool update,
		     struct scow_error **err)
{
	if (check_memory(r, h, update, err) < 0 || check_cpu(r, h, err) < 0)
		return -1;
	if (r->oom_adj_set && (r->oom_adj < -1000 || r->oom_adj > 1000))
		return error_set(err, EINVAL, "Invalid value %lld, range for oom score adj is "
					      "[-1000, 1000]",
				 (long long)r->oom_adj);
	if (r->blkio > 0 && (r->blkio < 10 || r->blkio > 1000))
		return error_set(err, EINVAL, "Range of blkio weight is from 10 to 1000");
	if (h && r->blkio > 0 && !h->blkio_weight) {
		warn("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
		     "Weight discarded.");
		r->blkio = 0;
	}
	if (r->cpus && *r->cpus && check_cpuset(r->cpus, "cpus", h ? h->cpus : NULL, err) < 0)
		return -1;
	if (r->mems && *r->mems && check_cpuset(r->mems, "mems", h ? h->mems : NULL, err) < 0)
		return -1;
	if (h && !h->cpuset && ((r->cpus && *r->cpus) || (r->mems && *r->mems))) {
		warn("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset "
		     "discarded.");
		r->cpus = r->mems = NULL;
	}
	if (r->pids_set && r->pids > 0 && h && !h->pids) {
		warn("Your kernel does not support PIDs limit capabilities or the cgroup is not "
		     "mounted. PIDs limit discarded.");
		r->pids_set = false;
	}
	return 0;
}

static bool res_needs_host(const struct res *r, const struct opts *o)
{
	size_t n = 0;
	for (const char *const *f = (const char *const[]){"device-read-bps", "device-write-bps",
							  "device-read-iops", "device-write-iops",
							  NULL};
	     *f; f++) {
		size_t k = 0;
		if (opt_declared(o, *f))
			opt_list(o, *f, &k);
		n += k;
	}
	return r->memory_set || r->swap_set || r->reservation_set || r->nano_set ||
	       r->shares_set || r->period_set || r->quota_set || r->pids_set || r->blkio_set ||
	       r->cpus || r->mems || r->oom_kill_disable >= 0 || n;
}

/* ---- devices ------------------------------------------------------------------------------ */

static const struct {
	const char *flag, *field, *support;
	bool iops;
} throttle_flags[] = {
	[CG_READ_BPS] = {"device-read-bps", "BlkioDeviceReadBps",
			 "Your kernel does not support BPS Block I/O read limit or the cgroup is "
			 "not mounted. Block I/O BPS read limit discarded.",
			 false},
	[CG_WRITE_BPS] = {"device-write-bps", "BlkioDeviceWriteBps",
			  "Your kernel does not support BPS Block I/O write limit or the cgroup is "
			  "not mounted. Block I/O BPS write limit discarded.",
			  false},
	[CG_READ_IOPS] = {"device-read-iops", "BlkioDeviceReadIOps",
			  "Your kernel does not support IOPS Block read limit or the cgroup is not "
			  "mounted. Block I/O IOPS read limit discarded.",
			  true},
	[CG_WRITE_IOPS] = {"device-write-iops", "BlkioDeviceWriteIOps",
			   "Your kernel does not support IOPS Block write limit or the cgroup is "
			   "not mounted. Block I/O IOPS write limit discarded.",
			   true},
};

/* A block device node: what the throttle files name as MAJ:MIN. */
static int block_device(const char *path, struct stat *st, struct scow_error **err)
{
	if (stat(path, st) < 0)
		return error_errno(err, "error getting device %s", path);
	if (!S_ISBLK(st->st_mode))
		return error_set(err, EINVAL, "%s is not a block device", path);
	return 0;
}

/* Docker's ValidateThrottleBpsDevice / ValidateThrottleIOpsDevice:
 * "/dev/sda:1mb", "/dev/sda:100". */
static int parse_throttle(const char *spec, bool iops, json_t *out, struct scow_error **err)
{
	const char *colon = strchr(spec, ':');
	if (!colon)
		return error_set(err, EINVAL, "bad format: %s", spec);
	_cleanup_free_ char *path = xstrndup(spec, (size_t)(colon - spec));
	if (!str_starts_with(path, "/dev/"))
		return error_set(err, EINVAL, "bad format for device path: %s", spec);
	int64_t rate;
	unsigned long long u;
	bool ok = iops ? str_to_ull(colon + 1, (unsigned long long)MAX_BYTES, &u)
		       : str_to_ram_bytes(colon + 1, MAX_BYTES, &rate);
	if (!ok)
		return error_set(err, EINVAL,
				 "invalid rate for device: %s. The correct format is "
				 "<device-path>:<number>%s. Number must be a positive integer%s",
				 spec, iops ? "" : "[<unit>]",
				 iops ? "" : ". Unit is optional and can be kb, mb, or gb");
	if (iops)
		rate = (int64_t)u;
	struct stat st;
	if (block_device(path, &st, err) < 0)
		return -1;
	json_array_append_new(out, json_pack("{ss sI}", "Path", path, "Rate", (json_int_t)rate));
	return 0;
}

/* --device-cgroup-rule "c 1:3 rwm": Docker's
 * ^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$ */
static bool parse_rule(const char *s, struct cgroup_device_rule *r)
{
	memset(r, 0, sizeof(*r));
	if (!s[0] || !strchr("acb", s[0]) || s[1] != ' ')
		return false;
	r->type = s[0];
	const char *p = s + 2;
	long *nums[2] = {&r->major, &r->minor};
	for (int i = 0; i < 2; i++) {
		if (*p == '*') {
			*nums[i] = -1;
			p++;
		} else {
			long v = 0;
			int d = 0;
			for (; isdigit((unsigned char)*p); p++, d++) {
				v = v * 10 + (*p - '0');
				if (v > 0xfffff)
					return false;
			}
			if (!d)
				return false;
			*nums[i] = v;
		}
		if (*p++ != (i == 0 ? ':' : ' '))
			return false;
	}
	size_t n = strlen(p);
	if (n < 1 || n > 3 || strspn(p, "rwm") != n)
		return false;
	memcpy(r->access, p, n);
	r->allow = true;
	return r->major <= 0xfff;
}

/* ---- run / create ----------------------------------------------------------------------- */

static bool cgroup2_host(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 &&
	       (unsigned long)sf.f_type == (unsigned long)CGROUP2_SUPER_MAGIC;
}

/* Options another command's table may lack (a build step's container). */
static const char *ostr(const struct opts *o, const char *name)
{
	return opt_declared(o, name) ? opt_str(o, name) : NULL;
}

static const char *const *olist(const struct opts *o, const char *name, size_t *n)
{
	*n = 0;
	return opt_declared(o, name) ? opt_list(o, name, n) : NULL;
}

static int config_devices(const struct opts *o, const struct cgroup_host_info *h, json_t *host,
			  struct scow_error **err)
{
	for (size_t k = 0; k < ARRAY_SIZE(throttle_flags); k++) {
		json_t *arr = json_array();
		json_object_set_new(host, throttle_flags[k].field, arr);
		size_t n;
		const char *const *v = olist(o, throttle_flags[k].flag, &n);
		for (size_t i = 0; i < n; i++)
			if (parse_throttle(v[i], throttle_flags[k].iops, arr, err) < 0)
				return -1;
		if (n && h && !h->blkio_throttle) {
			warn(throttle_flags[k].support);
			json_array_clear(arr);
		}
	}
	size_t n;
	const char *const *v = olist(o, "device-cgroup-rule", &n);
	json_t *rules = n ? json_array() : json_null();
	json_object_set_new(host, "DeviceCgroupRules", rules);
	for (size_t i = 0; i < n; i++) {
		struct cgroup_device_rule r;
		if (!parse_rule(v[i], &r))
			return error_set(err, EINVAL, "invalid device cgroup format '%s'", v[i]);
		json_array_append_new(rules, json_string(v[i]));
	}
	return 0;
}

int container_limits_config(const struct opts *o, json_t *host, struct scow_error **err)
{
	struct res r;
	if (parse_res(o, &r, err) < 0)
		return -1;
	struct cgroup_host_info info;
	const struct cgroup_host_info *h = NULL;
	if (res_needs_host(&r, o)) {
		_cleanup_error_ struct scow_error *e = NULL;
		/* No cgroups at all: nothing can be limited; the start fails
		 * with the reason. */
		if (cgroup_host_info(NULL, &info, &e) == 0)
			h = &info;
	}
	if (check_res(&r, h, false, err) < 0)
		return -1;
	json_set_int(host, "Memory", r.memory);
	json_set_int(host, "MemorySwap", r.swap);
	json_set_int(host, "MemoryReservation", r.reservation);
	json_object_set_new(host, "OomKillDisable", r.oom_kill_disable == 1 ? json_true()
						    : cgroup2_host()   ? json_null()
								       : json_false());
	json_set_int(host, "OomScoreAdj", r.oom_adj);
	json_set_int(host, "NanoCpus", r.nano);
	json_set_int(host, "CpuShares", r.shares);
	json_set_int(host, "CpuPeriod", r.period);
	json_set_int(host, "CpuQuota", r.quota);
	json_set_str(host, "CpusetCpus", r.cpus ? r.cpus : "");
	json_set_str(host, "CpusetMems", r.mems ? r.mems : "");
	json_object_set_new(host, "PidsLimit", r.pids_set && r.pids > 0 ? json_integer(r.pids)
									 : json_null());
	json_set_int(host, "BlkioWeight", r.blkio);
	json_object_set_new(host, "BlkioWeightDevice", json_array());
	if (config_devices(o, h, host, err) < 0)
		return -1;
	const char *ns = ostr(o, "cgroupns");
	if (ns && *ns && strcmp(ns, "host") && strcmp(ns, "private"))
		return error_set(err, EINVAL, "--cgroupns: invalid CGROUP mode");
	json_set_str(host, "CgroupnsMode", ns && *ns ? ns : cgroup2_host() ? "private" : "host");
	const char *parent = ostr(o, "cgroup-parent");
	if (parent && *parent) {
		_cleanup_free_ char *norm = NULL;
		if (cgroup_parent_normalize(parent, &norm, err) < 0)
			return error_wrap(err, "invalid --cgroup-parent \"%s\"", parent);
	}
	json_set_str(host, "CgroupParent", parent ? parent : "");
	return 0;
}

/* ---- start: HostConfig -> cgroup limits ------------------------------------------------ */

void limits_spec_release(struct limits_spec *ls)
{
	free(ls->throttle);
	free(ls->cpus);
	free(ls->mems);
	memset(ls, 0, sizeof(*ls));
}

static int64_t host_int(json_t *host, const char *key)
{
	return json_get_int(host, key, 0);
}

static int spec_throttles(json_t *host, struct limits_spec *ls, struct scow_error **err)
{
	size_t total = 0;
	for (size_t k = 0; k < ARRAY_SIZE(throttle_flags); k++)
		total += json_array_size(json_get_arr(host, throttle_flags[k].field));
	if (!total)
		return 0;
	ls->throttle = xcalloc(total, sizeof(*ls->throttle));
	for (size_t k = 0; k < ARRAY_SIZE(throttle_flags); k++) {
		size_t i;
		json_t *d;
		json_array_foreach(json_get_arr(host, throttle_flags[k].field), i, d) {
			const char *path = json_get_str(d, "Path");
			struct stat st;
			if (!path || block_device(path, &st, err) < 0)
				return *err ? -1 : error_set(err, EINVAL, "corrupt device throttle");
			struct cgroup_throttle *t = &ls->throttle[ls->l.n_throttle++];
			t->kind = (enum cgroup_throttle_kind)k;
			t->major = (long)major(st.st_rdev);
			t->minor = (long)minor(st.st_rdev);
			t->rate = (uint64_t)json_get_int(d, "Rate", 0);
		}
	}
	ls->l.throttle = ls->throttle;
	return 0;
}

int container_limits_spec(json_t *host, struct limits_spec *ls, struct scow_error **err)
{
	memset(ls, 0, sizeof(*ls));
	struct cgroup_limits *l = &ls->l;
	cgroup_limits_init(l);
	int64_t v;
	/* Only what is set is written: a plain container costs nothing. */
	if ((v = host_int(host, "Memory")) > 0) {
		l->memory = v;
		int64_t swap = host_int(host, "MemorySwap");
		if (swap > 0)
			l->memory_swap = swap;
	}
	if ((v = host_int(host, "MemoryReservation")) > 0)
		l->memory_reservation = v;
	if (json_get_bool(host, "OomKillDisable", false))
		l->oom_kill_disable = 1;
	if ((v = host_int(host, "NanoCpus")) > 0) {
		/* The period stays the kernel's default (100 ms): one write less. */
		l->cpu_quota = v * CPU_PERIOD_DEFAULT / 1000000000LL;
	} else {
		if ((v = host_int(host, "CpuPeriod")) > 0)
			l->cpu_period = v;
		if ((v = host_int(host, "CpuQuota")) > 0)
			l->cpu_quota = v;
	}
	if ((v = host_int(host, "CpuShares")) > 0)
		l->cpu_shares = v;
	if ((v = host_int(host, "PidsLimit")) > 0)
		l->pids_max = v;
	if ((v = host_int(host, "BlkioWeight")) > 0)
		l->blkio_weight = v;
	const char *s = json_get_str(host, "CpusetCpus");
	if (s && *s)
		l->cpuset_cpus = ls->cpus = xstrdup(s);
	s = json_get_str(host, "CpusetMems");
	if (s && *s)
		l->cpuset_mems = ls->mems = xstrdup(s);
	if (spec_throttles(host, ls, err) < 0) {
		limits_spec_release(ls);
		return -1;
	}
	ls->any = l->memory != CGROUP_UNSET || l->memory_reservation != CGROUP_UNSET ||
		  l->oom_kill_disable >= 0 || l->cpu_quota != CGROUP_UNSET ||
		  l->cpu_period != CGROUP_UNSET || l->cpu_shares != CGROUP_UNSET ||
		  l->pids_max != CGROUP_UNSET || l->blkio_weight != CGROUP_UNSET ||
		  l->cpuset_cpus || l->cpuset_mems || l->n_throttle;
	ls->oom_score_adj = (int)host_int(host, "OomScoreAdj");
	return 0;
}

int container_limits_rules(json_t *host, struct cgroup_device_rule **rules, size_t *n,
			   struct scow_error **err)
{
	json_t *arr = json_get_arr(host, "DeviceCgroupRules");
	size_t count = json_array_size(arr);
	if (!count)
		return 0;
	*rules = xrealloc(*rules, (*n + count + 1) * sizeof(**rules));
	size_t i;
	json_t *r;
	json_array_foreach(arr, i, r) {
		const char *s = json_string_value(r);
		if (!s || !parse_rule(s, &(*rules)[*n]))
			return error_set(err, EINVAL, "corrupt record: device cgroup rule %zu", i);
		(*n)++;
	}
	return 0;
}

/* ---- update ------------------------------------------------------------------------------ */

static int parse_restart(const char *s, json_t *host, bool auto_remove, struct scow_error **err)
{
	const char *colon = strchr(s, ':');
	_cleanup_free_ char *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	long long count = 0;
	if (strcmp(name, "no") && strcmp(name, "always") && strcmp(name, "unless-stopped") &&
	    strcmp(name, "on-failure"))
		return error_set(err, EINVAL, "invalid restart policy '%s'", name);
	if (colon) {
		if (strcmp(name, "on-failure"))
			return error_set(err, EINVAL,
					 "maximum retry count cannot be used with restart policy "
					 "'%s'",
					 name);
		if (!str_to_ll(colon + 1, 0, INT32_MAX, &count))
			return error_set(err, EINVAL, "invalid restart policy format: maximum retry "
						      "count must be an integer");
	}
	if (auto_remove && strcmp(name, "no"))
		return error_set(err, EINVAL, "Restart policy cannot be updated because AutoRemove "
					      "is enabled for the container");
	json_object_set_new(host, "RestartPolicy", json_pack("{ss sI}", "Name", name,
							     "MaximumRetryCount",
							     (json_int_t)count));
	return 0;
}

int container_limits_update_check(const struct opts *o, struct scow_error **err)
{
	struct res r;
	if (parse_res(o, &r, err) < 0)
		return -1;
	bool any = res_needs_host(&r, o) || opt_set(o, "restart");
	if (!any)
		return error_set(err, EINVAL,
				 "you must provide one or more flags when using this command");
	return check_res(&r, NULL, true, err);
}

int container_limits_update(const struct opts *o, json_t *host, struct limits_spec *ls,
			    struct scow_error **err)
{
	memset(ls, 0, sizeof(*ls));
	cgroup_limits_init(&ls->l);
	struct res r;
	if (parse_res(o, &r, err) < 0)
		return -1;
	struct cgroup_host_info info;
	const struct cgroup_host_info *h = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (res_needs_host(&r, o) && cgroup_host_info(NULL, &info, &e) == 0)
		h = &info;
	if (check_res(&r, h, true, err) < 0)
		return -1;
	/* Docker's UpdateContainer: --cpus and --cpu-period/--cpu-quota stay
	 * exclusive across updates too. */
	if (r.nano > 0 && host_int(host, "CpuPeriod") > 0)
		return error_set(err, EINVAL, "Conflicting options: Nano CPUs cannot be updated as "
					      "CPU Period has already been set");
	if (r.nano > 0 && host_int(host, "CpuQuota") > 0)
		return error_set(err, EINVAL, "Conflicting options: Nano CPUs cannot be updated as "
					      "CPU Quota has already been set");
	if (r.period > 0 && host_int(host, "NanoCpus") > 0)
		return error_set(err, EINVAL, "Conflicting options: CPU Period cannot be updated as "
					      "NanoCPUs has already been set");
	if (r.quota > 0 && host_int(host, "NanoCpus") > 0)
		return error_set(err, EINVAL, "Conflicting options: CPU Quota cannot be updated as "
					      "NanoCPUs has already been set");
	struct cgroup_limits *l = &ls->l;
	int64_t cur_swap = host_int(host, "MemorySwap"), cur_mem = host_int(host, "Memory");
	if (r.memory) {
		/* Docker's rule (its -1 case aside, moby#39541). */
		if (cur_swap > 0 && r.memory > cur_swap && r.swap == 0)
			return error_set(err, EINVAL,
					 "Memory limit should be smaller than already set memoryswap "
					 "limit, update the memoryswap at the same time");
		json_set_int(host, "Memory", r.memory);
		l->memory = r.memory;
	}
	if (r.swap) {
		int64_t mem = r.memory ? r.memory : cur_mem;
		if (mem <= 0 && r.swap > 0)
			return error_set(err, EINVAL, "You should always set the Memory limit when "
						      "using Memoryswap limit, see usage");
		if (r.swap > 0 && r.swap < mem)
			return error_set(err, EINVAL, "Minimum memoryswap limit should be larger than "
						      "memory limit, see usage");
		json_set_int(host, "MemorySwap", r.swap);
		if (mem > 0) { /* without a memory limit there is no swap limit to lift */
			l->memory = mem;
			l->memory_swap = r.swap == -1 ? CGROUP_MAX : r.swap;
		}
	} else if (r.memory && cur_swap != 0) {
		/* The kernel keeps memory <= memory+swap: the driver orders
		 * the two writes when it knows both. */
		l->memory_swap = cur_swap == -1 ? CGROUP_MAX : cur_swap;
	} else if (r.memory && (!h || h->swap)) {
		/* No swap limit yet: Docker's default, as at create (Docker
		 * itself refuses here, moby#47874 calls that a bug). */
		json_set_int(host, "MemorySwap", 2 * r.memory);
		l->memory_swap = 2 * r.memory;
	}
	if (r.reservation) {
		int64_t mem = r.memory ? r.memory : cur_mem;
		if (mem > 0 && r.reservation > mem)
			return error_set(err, EINVAL, "Minimum memory limit can not be less than memory "
						      "reservation limit, see usage");
		json_set_int(host, "MemoryReservation", r.reservation);
		l->memory_reservation = r.reservation;
	}
	if (r.nano) {
		json_set_int(host, "NanoCpus", r.nano);
		l->cpu_quota = r.nano * CPU_PERIOD_DEFAULT / 1000000000LL;
		l->cpu_period = CPU_PERIOD_DEFAULT;
	}
	if (r.period) {
		json_set_int(host, "CpuPeriod", r.period);
		l->cpu_period = r.period;
	}
	if (r.quota) {
		json_set_int(host, "CpuQuota", r.quota);
		l->cpu_quota = r.quota < 0 ? CGROUP_MAX : r.quota;
	}
	if (r.shares) {
		json_set_int(host, "CpuShares", r.shares);
		l->cpu_shares = r.shares;
	}
	if (r.cpus && *r.cpus) {
		json_set_str(host, "CpusetCpus", r.cpus);
		l->cpuset_cpus = ls->cpus = xstrdup(r.cpus);
	}
	if (r.mems && *r.mems) {
		json_set_str(host, "CpusetMems", r.mems);
		l->cpuset_mems = ls->mems = xstrdup(r.mems);
	}
	if (r.pids_set) {
		json_object_set_new(host, "PidsLimit", r.pids > 0 ? json_integer(r.pids)
								    : json_null());
		l->pids_max = r.pids > 0 ? r.pids : CGROUP_MAX;
	}
	if (r.blkio) {
		json_set_int(host, "BlkioWeight", r.blkio);
		l->blkio_weight = r.blkio;
	}
	if (opt_set(o, "restart") &&
	    parse_restart(opt_str(o, "restart"), host, json_get_bool(host, "AutoRemove", false),
			  err) < 0)
		return -1;
	ls->any = l->memory != CGROUP_UNSET || l->memory_reservation != CGROUP_UNSET ||
		  l->cpu_quota != CGROUP_UNSET || l->cpu_period != CGROUP_UNSET ||
		  l->cpu_shares != CGROUP_UNSET || l->pids_max != CGROUP_UNSET ||
		  l->blkio_weight != CGROUP_UNSET || l->cpuset_cpus || l->cpuset_mems;
	return 0;
}
