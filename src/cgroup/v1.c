/* The cgroup v1 driver, and hybrid: v1 controllers plus the container's
 * directory in the v2 hierarchy (usually /sys/fs/cgroup/unified), where the
 * kernel's cgroup.kill makes kill_all one write and cgroup.freeze stands in
 * for a missing v1 freezer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

static int v1_create(struct cgroup *cg, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	for (size_t i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		bool cpuset = !h->v2 && (h->ctrls & CG_BIT(CG_CPUSET));
		bool created = false;
		int fd = cg_mkdir_path(l, h->rootfd, cg->path, cpuset, &created, err);
		if (fd < 0) {
			error_wrap(err, "%s", h->name);
			cg_undo_create(cg);
			return -1;
		}
		h->fd = fd;
		h->created = created;
	}
	return 0;
}

static int v1_attach(struct cgroup *cg, pid_t pid, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		if (h->fd < 0)
			continue;
		if (cg_write(l, h->fd, "cgroup.procs", buf, (size_t)len, err) < 0)
			return error_wrap(err, "%s", h->name);
	}
	return 0;
}

/* "c 1:3 rwm\n", '*' for any; "a\n" for every device. */
static int device_line(const struct cgroup_device_rule *r, char *buf, size_t size)
{
	if (r->type == 'a')
		return snprintf(buf, size, "a\n");
	char maj[24] = "*", min[24] = "*";
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%ld", r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%ld", r->minor);
	return snprintf(buf, size, "%c %s:%s %.3s\n", r->type, maj, min, r->access);
}

static int v1_set_devices(struct cgroup *cg, bool privileged, const struct cgroup_device_rule *rules,
			  size_t n, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	int fd = cg_ctrl_fd(cg, CG_DEVICES);
	if (fd < 0) {
		/* No v1 devices controller: a hybrid host can still filter
		 * through a BPF program on the v2 directory. */
		if (l->unified >= 0 && l->h[l->unified].fd >= 0)
			return cg2_devices_bpf(l, l->h[l->unified].fd, privileged, rules, n, err);
		if (privileged)
			return 0;
		return error_set(err, ENOTSUP, "no devices cgroup controller to restrict devices");
	}
	if (privileged)
		return cg_write_str(l, fd, "devices.allow", "a", err);
	/* One write() per rule: the kernel parses a single rule per write. */
	_cleanup_close_ int allow = cg_open_write(l, fd, "devices.allow", err);
	if (allow < 0)
		return -1;
	_cleanup_close_ int deny = cg_open_write(l, fd, "devices.deny", err);
	if (deny < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char line[80];
		int len = device_line(&rules[i], line, sizeof(line));
		const char *file = rules[i].allow ? "devices.allow" : "devices.deny";
		if (cg_write_fd(rules[i].allow ? allow : deny, file, line, (size_t)len, err) < 0)
			return -1;
	}
	return 0;
}

static int need_fd(struct cgroup *cg, enum cg_ctrl c, struct scow_error **err)
{
	int fd = cg_ctrl_fd(cg, c);
	if (fd < 0)
		return error_set(err, ENOTSUP, "the %s cgroup controller is not available",
				 cg_ctrl_names[c]);
	return fd;
}

static void fmt_v1(char *buf, size_t size, int64_t v)
{
	if (v == CGROUP_MAX)
		snprintf(buf, size, "-1");
	else
		snprintf(buf, size, "%lld", (long long)v);
}

static int write_i64(struct cgroup *cg, int fd, const char *file, int64_t v, struct scow_error **err)
{
	char buf[24];
	fmt_v1(buf, sizeof(buf), v);
	return cg_write_str(cg->layout, fd, file, buf, err);
}

static int v1_set_memory(struct cgroup *cg, const struct cgroup_limits *lim, struct scow_error **err)
{
	int fd = need_fd(cg, CG_MEMORY, err);
	if (fd < 0)
		return -1;
	const char *mem = "memory.limit_in_bytes", *memsw = "memory.memsw.limit_in_bytes";
	if (lim->memory != CGROUP_UNSET) {
		if (write_i64(cg, fd, mem, lim->memory, err) < 0) {
			/* The kernel keeps memory <= memory+swap: when raising
			 * both, raise memsw first. */
			if (lim->memory_swap == CGROUP_UNSET || (*err)->errnum != EINVAL)
				return -1;
			error_freep(err);
			if (write_i64(cg, fd, memsw, lim->memory_swap, err) < 0 ||
			    write_i64(cg, fd, mem, lim->memory, err) < 0)
				return -1;
		} else if (lim->memory_swap != CGROUP_UNSET &&
			   write_i64(cg, fd, memsw, lim->memory_swap, err) < 0) {
			if ((*err)->errnum != ENOENT)
				return -1;
			log_warn("the kernel has no swap accounting; --memory-swap ignored");
			error_freep(err);
		}
	}
	if (lim->memory_reservation != CGROUP_UNSET &&
	    write_i64(cg, fd, "memory.soft_limit_in_bytes", lim->memory_reservation, err) < 0)
		return -1;
	if (lim->oom_kill_disable >= 0 &&
	    cg_write_str(cg->layout, fd, "memory.oom_control", lim->oom_kill_disable ? "1" : "0",
			 err) < 0)
		return -1;
	return 0;
}

static const char *const v1_throttle_files[] = {
	[CG_READ_BPS] = "blkio.throttle.read_bps_device",
	[CG_WRITE_BPS] = "blkio.throttle.write_bps_device",
	[CG_READ_IOPS] = "blkio.throttle.read_iops_device",
	[CG_WRITE_IOPS] = "blkio.throttle.write_iops_device",
};

/* One "MAJ:MIN RATE" line per write(); in a fake tree each file keeps the
 * last line written to it. */
static int v1_set_throttle(struct cgroup *cg, int fd, const struct cgroup_limits *lim,
			   struct scow_error **err)
{
	for (size_t i = 0; i < lim->n_throttle; i++) {
		const struct cgroup_throttle *t = &lim->throttle[i];
		char line[96];
		int len = snprintf(line, sizeof(line), "%ld:%ld %llu", t->major, t->minor,
				   (unsigned long long)t->rate);
		if (cg_write(cg->layout, fd, v1_throttle_files[t->kind], line, (size_t)len, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_set_limits(struct cgroup *cg, const struct cgroup_limits *lim, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	int fd;
	if ((lim->memory != CGROUP_UNSET || lim->memory_reservation != CGROUP_UNSET ||
	     lim->oom_kill_disable >= 0) &&
	    v1_set_memory(cg, lim, err) < 0)
		return -1;
	if (lim->cpu_shares != CGROUP_UNSET || lim->cpu_period != CGROUP_UNSET ||
	    lim->cpu_quota != CGROUP_UNSET) {
		if ((fd = need_fd(cg, CG_CPU, err)) < 0)
			return -1;
		if (lim->cpu_shares != CGROUP_UNSET &&
		    write_i64(cg, fd, "cpu.shares", lim->cpu_shares, err) < 0)
			return -1;
		if (lim->cpu_period != CGROUP_UNSET &&
		    write_i64(cg, fd, "cpu.cfs_period_us", lim->cpu_period, err) < 0)
			return -1;
		if (lim->cpu_quota != CGROUP_UNSET &&
		    write_i64(cg, fd, "cpu.cfs_quota_us", lim->cpu_quota, err) < 0)
			return -1;
	}
	if (lim->cpuset_cpus || lim->cpuset_mems) {
		if ((fd = need_fd(cg, CG_CPUSET, err)) < 0)
			return -1;
		if (lim->cpuset_cpus && cg_write_str(l, fd, "cpuset.cpus", lim->cpuset_cpus, err) < 0)
			return -1;
		if (lim->cpuset_mems && cg_write_str(l, fd, "cpuset.mems", lim->cpuset_mems, err) < 0)
			return -1;
	}
	if (lim->pids_max != CGROUP_UNSET) {
		if ((fd = need_fd(cg, CG_PIDS, err)) < 0)
			return -1;
		char buf[24];
		if (lim->pids_max == CGROUP_MAX)
			snprintf(buf, sizeof(buf), "max");
		else
			fmt_v1(buf, sizeof(buf), lim->pids_max);
		if (cg_write_str(l, fd, "pids.max", buf, err) < 0)
			return -1;
	}
	if (lim->blkio_weight != CGROUP_UNSET) {
		if ((fd = need_fd(cg, CG_BLKIO, err)) < 0)
			return -1;
		/* CFQ had blkio.weight; with BFQ it is blkio.bfq.weight. */
		if (write_i64(cg, fd, "blkio.weight", lim->blkio_weight, err) < 0) {
			if ((*err)->errnum != ENOENT || l->fake)
				return -1;
			error_freep(err);
			if (write_i64(cg, fd, "blkio.bfq.weight", lim->blkio_weight, err) < 0) {
				if ((*err)->errnum == ENOENT)
					return error_set(err, ENOTSUP,
							 "no blkio weight support (needs the "
							 "BFQ I/O scheduler)");
				return -1;
			}
		}
	}
	if (lim->n_throttle) {
		if ((fd = need_fd(cg, CG_BLKIO, err)) < 0 || v1_set_throttle(cg, fd, lim, err) < 0)
			return -1;
	}
	return 0;
}

/* A missing file is a missing figure, not an error (a fake tree, an old
 * kernel). */
static bool gone(struct scow_error **err)
{
	if ((*err)->errnum != ENOENT)
		return false;
	error_freep(err);
	return true;
}

static int v1_stats(struct cgroup *cg, unsigned what, struct cgroup_stats *st,
                     struct scow_error **err)
{
	int fd;
	if ((what & CGROUP_STATS_CPU) && (fd = cg_ctrl_fd(cg, CG_CPUACCT)) >= 0) {
		if (cg_read_u64(fd, "cpuacct.usage", &st->cpu_ns, err) == 0)
			st->has_cpu = true;
		else if (!gone(err))
			return -1;
	}
	if ((what & CGROUP_STATS_MEMORY) && (fd = cg_ctrl_fd(cg, CG_MEMORY)) >= 0) {
		char buf[8192];
		long long inactive = 0;
		if (cg_read_u64(fd, "memory.usage_in_bytes", &st->mem_usage, err) < 0 ||
		    cg_read_u64(fd, "memory.limit_in_bytes", &st->mem_limit, err) < 0) {
			if (!gone(err))
				return -1;
		} else {
			st->has_mem = true;
			if (cg_read(fd, "memory.stat", buf, sizeof(buf), err) < 0) {
				if (!gone(err))
					return -1;
			} else if (cg_keyed_value(buf, "total_inactive_file", &inactive) &&
				   inactive > 0 && (uint64_t)inactive < st->mem_usage) {
				st->mem_usage -= (uint64_t)inactive;
			}
		}
	}
	if ((what & CGROUP_STATS_BLKIO) && (fd = cg_ctrl_fd(cg, CG_BLKIO)) >= 0) {
		_cleanup_free_ char *text = NULL;
		if (cg_read_all(fd, "blkio.throttle.io_service_bytes_recursive", &text, NULL, err) <
		    0) {
			if (!gone(err))
				return -1;
		} else {
			cg_sum_blkio_v1(text, &st->blk_read, &st->blk_write);
			st->has_blkio = true;
		}
	}
	if ((what & CGROUP_STATS_PIDS) && (fd = cg_ctrl_fd(cg, CG_PIDS)) >= 0) {
		if (cg_read_u64(fd, "pids.current", &st->pids, err) == 0)
			st->has_pids = true;
		else if (!gone(err))
			return -1;
	}
	return 0;
}

static int v1_oom_killed(struct cgroup *cg, bool *ret, struct scow_error **err)
{
	int fd = cg_ctrl_fd(cg, CG_MEMORY);
	if (fd < 0) {
		*ret = false;
		return 0;
	}
	char buf[256];
	long long v = 0;
	if (cg_read(fd, "memory.oom_control", buf, sizeof(buf), err) < 0)
		return -1;
	/* "oom_kill" appeared in 4.13; older kernels cannot tell. */
	*ret = cg_keyed_value(buf, "oom_kill", &v) && v > 0;
	return 0;
}

static int v1_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct scow_error **err)
{
	int fd = cg_procs_fd(cg);
	if (fd < 0)
		return error_set(err, ENOENT, "the cgroup has no directory left");
	return cg_procs(fd, ret, ret_n, err);
}

static int v1_freezer_state(struct cgroup *cg, int fd, bool frozen, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	const char *want = frozen ? "FROZEN" : "THAWED";
	long long deadline = cg_now_ms() + CG_FREEZE_TIMEOUT_MS;
	for (unsigned attempt = 0;; attempt++) {
		/* Writing again helps when tasks join while FREEZING. */
		if (cg_write_str(l, fd, "freezer.state", want, err) < 0)
			return -1;
		if (l->fake)
			return 0;
		char buf[32];
		if (cg_read(fd, "freezer.state", buf, sizeof(buf), err) < 0)
			return -1;
		if (strncmp(buf, want, strlen(want)) == 0)
			return 0;
		if (cg_now_ms() > deadline) {
			if (frozen)
				cg_write_str(l, fd, "freezer.state", "THAWED", NULL);
			return error_set(err, ETIMEDOUT, "still %.*s after %d ms",
					 (int)strcspn(buf, "\n"), buf, CG_FREEZE_TIMEOUT_MS);
		}
		cg_backoff_sleep(attempt);
	}
}

static int v1_freeze(struct cgroup *cg, bool frozen, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	int fd = cg_ctrl_fd(cg, CG_FREEZER);
	if (fd >= 0)
		return v1_freezer_state(cg, fd, frozen, err);
	if (l->unified >= 0 && l->h[l->unified].fd >= 0)
		return cg2_freeze_dir(l, l->h[l->unified].fd, frozen, err);
	return error_set(err, ENOTSUP, "no freezer cgroup controller");
}

static int v1_kill_all(struct cgroup *cg, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	int fd = cg_procs_fd(cg);
	if (fd < 0)
		return 0; /* nothing left to hold processes */
	if (l->unified >= 0 && l->h[l->unified].fd >= 0) {
		/* Every process attached is in the v2 directory too. */
		int r = cg2_kill_dir(l, l->h[l->unified].fd, err);
		if (r < 0)
			return -1;
		/* r == 1: killed and gone; the loop below then finds the v1
		 * directory empty at once (exited tasks leave their cgroups
		 * before they are reaped). */
	}
	bool can_freeze = cg_ctrl_fd(cg, CG_FREEZER) >= 0 ||
			  (l->unified >= 0 && l->h[l->unified].fd >= 0);
	return cg_kill_loop(cg, fd, can_freeze ? v1_freeze : NULL, err);
}

const struct cgroup_ops cgroup_ops_v1 = {
	.name = "v1",
	.create = v1_create,
	.attach = v1_attach,
	.set_devices = v1_set_devices,
	.set_limits = v1_set_limits,
	.oom_killed = v1_oom_killed,
	.pids = v1_pids,
	.kill_all = v1_kill_all,
	.freeze = v1_freeze,
	.stats = v1_stats,
};

/* Hybrid differs only in data: the layout holds the v2 hierarchy too, and
 * the functions above use it where it helps. */
const struct cgroup_ops cgroup_ops_hybrid = {
	.name = "hybrid",
	.create = v1_create,
	.attach = v1_attach,
	.set_devices = v1_set_devices,
	.set_limits = v1_set_limits,
	.oom_killed = v1_oom_killed,
	.pids = v1_pids,
	.kill_all = v1_kill_all,
	.freeze = v1_freeze,
	.stats = v1_stats,
};
