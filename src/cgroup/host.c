/* What the host's cgroups can limit (Docker's "sysinfo"): probed from the
 * files at the root of each hierarchy, so that create can refuse or drop
 * limits the host cannot apply, as Docker does, before anything runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"

static bool has_file(int dirfd, const char *name)
{
	return dirfd >= 0 && faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The first line of a file (no newline) into buf; false if unreadable or
 * empty. */
static bool read_line(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_error_ struct scow_error *e = NULL;
	if (dirfd < 0 || cg_read(dirfd, name, buf, size, &e) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0';
}

static void cpuset_defaults(struct cgroup_host_info *h)
{
	if (!h->cpus[0] && !read_line(AT_FDCWD, "/sys/devices/system/cpu/online", h->cpus,
				      sizeof(h->cpus)))
		snprintf(h->cpus, sizeof(h->cpus), "0");
	if (!h->mems[0] && !read_line(AT_FDCWD, "/sys/devices/system/node/online", h->mems,
				      sizeof(h->mems)))
		snprintf(h->mems, sizeof(h->mems), "0");
}

static int root_of(const struct cg_layout *l, enum cg_ctrl c)
{
	int i = l->by_ctrl[c];
	return i >= 0 ? l->h[i].rootfd : -1;
}

static void probe_v1(const struct cg_layout *l, struct cgroup_host_info *h)
{
	int mem = root_of(l, CG_MEMORY), cpu = root_of(l, CG_CPU), cpuset = root_of(l, CG_CPUSET);
	int blkio = root_of(l, CG_BLKIO);
	h->memory = mem >= 0;
	h->swap = has_file(mem, "memory.memsw.limit_in_bytes");
	h->oom_kill_disable = has_file(mem, "memory.oom_control");
	h->cpu_shares = has_file(cpu, "cpu.shares");
	h->cpu_cfs = has_file(cpu, "cpu.cfs_quota_us");
	h->cpuset = cpuset >= 0;
	h->pids = root_of(l, CG_PIDS) >= 0;
	/* The weight files are not shown at the root; BFQ's statistics files
	 * there say its policy (and so blkio.bfq.weight below) is present. */
	h->blkio_weight = has_file(blkio, "blkio.weight") || has_file(blkio, "blkio.bfq.weight") ||
			  has_file(blkio, "blkio.bfq.io_service_bytes");
	h->blkio_throttle = has_file(blkio, "blkio.throttle.read_bps_device");
	if (!read_line(cpuset, "cpuset.effective_cpus", h->cpus, sizeof(h->cpus)))
		read_line(cpuset, "cpuset.cpus", h->cpus, sizeof(h->cpus));
	if (!read_line(cpuset, "cpuset.effective_mems", h->mems, sizeof(h->mems)))
		read_line(cpuset, "cpuset.mems", h->mems, sizeof(h->mems));
}

static void probe_v2(const struct cg_layout *l, struct cgroup_host_info *h)
{
	const struct cg_hier *u = &l->h[l->unified];
	unsigned c = u->ctrls;
	h->memory = h->swap = (c & CG_BIT(CG_MEMORY)) != 0;
	h->oom_kill_disable = false;
	h->cpu_shares = h->cpu_cfs = (c & CG_BIT(CG_CPU)) != 0;
	h->cpuset = (c & CG_BIT(CG_CPUSET)) != 0;
	h->pids = (c & CG_BIT(CG_PIDS)) != 0;
	h->blkio_weight = h->blkio_throttle = (c & CG_BIT(CG_IO)) != 0;
	if (h->cpuset) {
		read_line(u->rootfd, "cpuset.cpus.effective", h->cpus, sizeof(h->cpus));
		read_line(u->rootfd, "cpuset.mems.effective", h->mems, sizeof(h->mems));
	}
}

int cgroup_host_info(const char *root_override, struct cgroup_host_info *ret,
		     struct scow_error **err)
{
	struct cg_layout l;
	if (cg_layout_detect(root_override, &l, err) < 0)
		return -1;
	memset(ret, 0, sizeof(*ret));
	ret->mode = l.mode;
	if (l.mode == CGROUP_V2)
		probe_v2(&l, ret);
	else
		probe_v1(&l, ret);
	cpuset_defaults(ret);
	cg_layout_release(&l);
	return 0;
}
