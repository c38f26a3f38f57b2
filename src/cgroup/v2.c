/* The cgroup v2 driver, and the v2 pieces (freeze, kill, device programs)
 * the hybrid driver reuses on the unified hierarchy.
 *
 * Devices on v2 are a BPF_PROG_TYPE_CGROUP_DEVICE program assembled here by
 * hand (no libbpf). Its context is struct bpf_cgroup_dev_ctx:
 *   access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*, major, minor.
 * The program loads type into r2, access into r3, major into r4, minor into
 * r5, then tests the rules from last to first (the last matching rule wins,
 * as with Docker's list) and returns 1 (allow) or 0 (deny). A rule that
 * matches everything ends the program; without one the default is deny. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/xalloc.h"

static struct cg_hier *v2_hier(struct cgroup *cg)
{
	return &cg->layout->h[cg->layout->unified];
}

/* --- create ---------------------------------------------------------------- */

/* Makes sure the controllers in *avail are enabled in fd's
 * cgroup.subtree_control; those the kernel refuses are dropped from *avail
 * with a warning. */
static int enable_controllers(const struct cg_layout *l, int fd, const char *where, unsigned *avail,
			      struct scow_error **err)
{
	char buf[1024];
	unsigned have = 0;
	if (cg_read(fd, "cgroup.subtree_control", buf, sizeof(buf), err) < 0) {
		if (!l->fake || (*err)->errnum != ENOENT)
			return -1;
		error_freep(err);
	} else {
		have = cg_ctrls_parse(buf, " \n");
	}
	unsigned missing = *avail & ~have;
	if (!missing)
		return 0;
	char line[256];
	size_t len = 0;
	for (int c = 0; c < CG_NCTRL; c++)
		if (missing & CG_BIT(c))
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s+%s",
						len ? " " : "", cg_ctrl_names[c]);
	if (cg_write(l, fd, "cgroup.subtree_control", line, len, err) == 0)
		return 0;
	if ((*err)->errnum == EBUSY)
		return error_wrap(err, "%s holds processes; cannot enable controllers below it",
				  *where ? where : "the root");
	error_freep(err);
	/* One at a time, to find the one the kernel refuses. */
	for (int c = 0; c < CG_NCTRL; c++) {
		if (!(missing & CG_BIT(c)))
			continue;
		char one[32];
		snprintf(one, sizeof(one), "+%s", cg_ctrl_names[c]);
		_cleanup_error_ struct scow_error *e = NULL;
		if (cg_write_str(l, fd, "cgroup.subtree_control", one, &e) < 0) {
			log_warn("cgroup %s: cannot enable the %s controller: %s",
				 *where ? where : "root", cg_ctrl_names[c], e->msg);
			*avail &= ~CG_BIT(c);
		}
	}
	return 0;
}

static int v2_create(struct cgroup *cg, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	struct cg_hier *h = v2_hier(cg);
	unsigned avail = h->ctrls & CG_V2_WANTED;
	char path[4096];
	size_t plen = strlen(cg->path);
	if (plen >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "path too long");
	memcpy(path, cg->path, plen + 1);
	_cleanup_close_ int cur = -1;
	for (char *comp = path;;) {
		char *slash = strchr(comp, '/');
		int parent = cur >= 0 ? cur : h->rootfd;
		if (comp != path)
			comp[-1] = '\0'; /* path now names the parent */
		if (avail && enable_controllers(l, parent, comp == path ? "" : path, &avail, err) < 0)
			return -1;
		if (comp != path)
			comp[-1] = '/';
		if (slash)
			*slash = '\0';
		bool created = mkdirat(parent, comp, 0755) == 0;
		if (!created && errno != EEXIST)
			return error_errno(err, "mkdir %s", path);
		int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			error_errno(err, "open %s", path);
			if (created && !slash)
				unlinkat(parent, comp, AT_REMOVEDIR);
			return -1;
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
		if (!slash) {
			h->fd = steal_fd(&cur);
			h->created = created;
			return 0;
		}
		*slash = '/';
		comp = slash + 1;
	}
}

static int v2_attach(struct cgroup *cg, pid_t pid, struct scow_error **err)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(cg->layout, v2_hier(cg)->fd, "cgroup.procs", buf, (size_t)len, err);
}

/* --- devices --------------------------------------------------------------- */

static struct bpf_insn mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

#define LDX_W(dst, src, off) mk(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_K(op, dst, imm) mk(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_X(dst, src) mk(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm) mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_K(op, dst, imm, off) mk(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define JMP_X(op, dst, src, off) mk(BPF_JMP | (op) | BPF_X, dst, src, off, 0)
#define EXIT() mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int access_bits(const char *a)
{
	int bits = 0;
	for (size_t i = 0; i < 3 && a[i]; i++)
		bits |= a[i] == 'r' ? BPF_DEVCG_ACC_READ
			: a[i] == 'w' ? BPF_DEVCG_ACC_WRITE
				      : a[i] == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
	return bits;
}

/* Emits into out (when not NULL, up to cap) and returns the count. */
size_t cg2_devices_build(const struct cgroup_device_rule *rules, size_t n, struct bpf_insn *out,
			 size_t cap)
{
	size_t k = 0;
#define EMIT(x)                                                                                    \
	do {                                                                                       \
		struct bpf_insn _i = (x);                                                          \
		if (out && k < cap)                                                                \
			out[k] = _i;                                                               \
		k++;                                                                               \
	} while (0)
	EMIT(LDX_W(BPF_REG_2, BPF_REG_1, 0));
	EMIT(ALU32_K(BPF_AND, BPF_REG_2, 0xffff));
	EMIT(LDX_W(BPF_REG_3, BPF_REG_1, 0));
	EMIT(ALU32_K(BPF_RSH, BPF_REG_3, 16));
	EMIT(LDX_W(BPF_REG_4, BPF_REG_1, 4));
	EMIT(LDX_W(BPF_REG_5, BPF_REG_1, 8));
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	for (size_t i = n; i-- > 0;) {
		const struct cgroup_device_rule *r = &rules[i];
		int acc = access_bits(r->access);
		bool t = r->type != 'a', a = acc != all, ma = t && r->major >= 0,
		     mi = t && r->minor >= 0;
		/* Block: the checks, each jumping past the block on mismatch,
		 * then r0 = verdict; exit. */
		int len = (t ? 1 : 0) + (a ? 3 : 0) + (ma ? 1 : 0) + (mi ? 1 : 0) + 2;
		int pos = 0;
#define SKIP ((int16_t)(len - (pos + 1)))
		if (t) {
			int type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
			EMIT(JMP_K(BPF_JNE, BPF_REG_2, type, SKIP));
			pos++;
		}
		if (a) {
			EMIT(MOV32_X(BPF_REG_1, BPF_REG_3));
			EMIT(ALU32_K(BPF_AND, BPF_REG_1, acc));
			pos += 2;
			if (r->allow) /* allow: every requested access is in the rule */
				EMIT(JMP_X(BPF_JNE, BPF_REG_1, BPF_REG_3, SKIP));
			else /* deny: any requested access is in the rule */
				EMIT(JMP_K(BPF_JEQ, BPF_REG_1, 0, SKIP));
			pos++;
		}
		if (ma) {
			EMIT(JMP_K(BPF_JNE, BPF_REG_4, (int32_t)r->major, SKIP));
			pos++;
		}
		if (mi) {
			EMIT(JMP_K(BPF_JNE, BPF_REG_5, (int32_t)r->minor, SKIP));
			pos++;
		}
#undef SKIP
		EMIT(MOV64_K(BPF_REG_0, r->allow ? 1 : 0));
		EMIT(EXIT());
		if (len == 2)
			return k; /* matches everything: what follows is unreachable */
	}
	EMIT(MOV64_K(BPF_REG_0, 0));
	EMIT(EXIT());
#undef EMIT
	return k;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct scow_error **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int saved = errno;
	if (saved != EINVAL && saved != EACCES) {
		errno = saved;
		return error_errno(err, "load device BPF program");
	}
	/* Once more with the verifier's log for the message. */
	char log[2048];
	log[0] = '\0';
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	log[sizeof(log) - 1] = '\0';
	size_t l = strlen(log);
	while (l && log[l - 1] == '\n')
		log[--l] = '\0';
	const char *last = strrchr(log, '\n');
	return error_set(err, saved, "load device BPF program: %s%s%s", strerror(saved),
			 *log ? ": " : "", last ? last + 1 : log);
}

/* Ids of the device programs attached directly to fd. */
static int prog_query(int fd, uint32_t *ids, uint32_t cap, uint32_t *ret_n,
		      struct scow_error **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = cap;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return error_errno(err, "query device BPF programs");
	*ret_n = a.query.prog_cnt < cap ? a.query.prog_cnt : cap;
	return 0;
}

static int prog_detach_id(int cgfd, uint32_t id, struct scow_error **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	_cleanup_close_ int pfd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (pfd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open device BPF program %u", id);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
		return error_errno(err, "detach device BPF program %u", id);
	return 0;
}

int cg2_devices_bpf(const struct cg_layout *l, int fd, bool privileged,
		    const struct cgroup_device_rule *rules, size_t n, struct scow_error **err)
{
	_cleanup_close_ int prog = -1;
	if (!privileged) {
		size_t count = cg2_devices_build(rules, n, NULL, 0);
		_cleanup_free_ struct bpf_insn *insns = xcalloc(count, sizeof(*insns));
		cg2_devices_build(rules, n, insns, count);
		prog = prog_load(insns, count, err);
		if (prog < 0)
			return -1;
	}
	if (l->fake)
		return 0; /* nothing to attach to: the program loaded, that is all */
	uint32_t old[64];
	uint32_t n_old = 0;
	if (prog_query(fd, old, ARRAY_SIZE(old), &n_old, err) < 0)
		return -1;
	if (prog >= 0) {
		/* ALLOW_MULTI: programs of ancestors (systemd's) keep running
		 * too, and ours can be replaced without a window without one. */
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)fd;
		a.attach_bpf_fd = (uint32_t)prog;
		a.attach_type = BPF_CGROUP_DEVICE;
		a.attach_flags = BPF_F_ALLOW_MULTI;
		if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
			return error_errno(err, "attach device BPF program");
	}
	for (uint32_t i = 0; i < n_old; i++)
		if (prog_detach_id(fd, old[i], err) < 0)
			return -1;
	return 0;
}

static int v2_set_devices(struct cgroup *cg, bool privileged, const struct cgroup_device_rule *rules,
			  size_t n, struct scow_error **err)
{
	return cg2_devices_bpf(cg->layout, v2_hier(cg)->fd, privileged, rules, n, err);
}

/* --- limits ---------------------------------------------------------------- */

static int v2_write(struct cgroup *cg, const char *file, const char *val, struct scow_error **err)
{
	if (cg_write_str(cg->layout, v2_hier(cg)->fd, file, val, err) < 0) {
		if ((*err)->errnum == ENOENT) {
			char ctrl[32];
			snprintf(ctrl, sizeof(ctrl), "%.*s", (int)strcspn(file, "."), file);
			return error_set(err, ENOTSUP, "the %s cgroup controller is not enabled (%s)",
					 ctrl, file);
		}
		return -1;
	}
	return 0;
}

static void fmt_max(char *buf, size_t size, int64_t v)
{
	if (v == CGROUP_MAX)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%lld", (long long)v);
}

static int v2_write_i64(struct cgroup *cg, const char *file, int64_t v, struct scow_error **err)
{
	char buf[24];
	fmt_max(buf, sizeof(buf), v);
	return v2_write(cg, file, buf, err);
}

static int v2_set_cpu_max(struct cgroup *cg, const struct cgroup_limits *lim,
			  struct scow_error **err)
{
	char buf[64], quota[24];
	if (lim->cpu_quota != CGROUP_UNSET) {
		fmt_max(quota, sizeof(quota), lim->cpu_quota);
	} else {
		/* Only the period: keep the current quota. */
		char cur[64];
		if (cg_read(v2_hier(cg)->fd, "cpu.max", cur, sizeof(cur), err) < 0)
			return -1;
		snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " \n"), cur);
		if (!*quota)
			snprintf(quota, sizeof(quota), "max");
	}
	if (lim->cpu_period != CGROUP_UNSET)
		snprintf(buf, sizeof(buf), "%s %lld", quota, (long long)lim->cpu_period);
	else
		snprintf(buf, sizeof(buf), "%s", quota);
	return v2_write(cg, "cpu.max", buf, err);
}

static int v2_set_limits(struct cgroup *cg, const struct cgroup_limits *lim, struct scow_error **err)
{
	if (lim->memory != CGROUP_UNSET && v2_write_i64(cg, "memory.max", lim->memory, err) < 0)
		return -1;
	if (lim->memory_swap != CGROUP_UNSET) {
		/* Docker's --memory-swap is memory + swap; v2 limits swap alone. */
		int64_t swap = lim->memory_swap == CGROUP_MAX ? CGROUP_MAX
							       : lim->memory_swap - lim->memory;
		if (v2_write_i64(cg, "memory.swap.max", swap, err) < 0)
			return -1;
	}
	if (lim->memory_reservation != CGROUP_UNSET &&
	    v2_write_i64(cg, "memory.low", lim->memory_reservation, err) < 0)
		return -1;
	if (lim->cpu_shares != CGROUP_UNSET) {
		/* runc's mapping of shares [2, 262144] onto weight [1, 10000]. */
		int64_t w = 1 + ((lim->cpu_shares - 2) * 9999) / 262142;
		if (v2_write_i64(cg, "cpu.weight", w, err) < 0)
			return -1;
	}
	if ((lim->cpu_quota != CGROUP_UNSET || lim->cpu_period != CGROUP_UNSET) &&
	    v2_set_cpu_max(cg, lim, err) < 0)
		return -1;
	if (lim->cpuset_cpus && v2_write(cg, "cpuset.cpus", lim->cpuset_cpus, err) < 0)
		return -1;
	if (lim->cpuset_mems && v2_write(cg, "cpuset.mems", lim->cpuset_mems, err) < 0)
		return -1;
	if (lim->pids_max != CGROUP_UNSET && v2_write_i64(cg, "pids.max", lim->pids_max, err) < 0)
		return -1;
	if (lim->blkio_weight != CGROUP_UNSET) {
		/* blkio weight [10, 1000] onto io.weight [1, 10000]. */
		char buf[32];
		int64_t w = 1 + ((lim->blkio_weight - 10) * 9999) / 990;
		snprintf(buf, sizeof(buf), "default %lld", (long long)w);
		if (v2_write(cg, "io.weight", buf, err) < 0) {
			if ((*err)->errnum != ENOTSUP || cg->layout->fake)
				return -1;
			error_freep(err);
			if (v2_write_i64(cg, "io.bfq.weight", lim->blkio_weight, err) < 0)
				return -1;
		}
	}
	/* io.max takes "MAJ:MIN key=value" lines, one per write; 0 in
	 * Docker's terms (no limit) is "max". */
	static const char *const keys[] = {[CG_READ_BPS] = "rbps", [CG_WRITE_BPS] = "wbps",
					   [CG_READ_IOPS] = "riops", [CG_WRITE_IOPS] = "wiops"};
	for (size_t i = 0; i < lim->n_throttle; i++) {
		const struct cgroup_throttle *t = &lim->throttle[i];
		char line[96];
		if (t->rate)
			snprintf(line, sizeof(line), "%ld:%ld %s=%llu", t->major, t->minor,
				 keys[t->kind], (unsigned long long)t->rate);
		else
			snprintf(line, sizeof(line), "%ld:%ld %s=max", t->major, t->minor,
				 keys[t->kind]);
		if (v2_write(cg, "io.max", line, err) < 0)
			return -1;
	}
	/* v2 has no switch for the OOM killer (Docker drops the option
	 * there with a warning at create time). */
	if (lim->oom_kill_disable == 1)
		log_warn("cgroup v2 cannot disable the OOM killer; --oom-kill-disable ignored");
	return 0;
}

/* --- state ------------------------------------------------------------------ */

/* A missing file is a missing figure (controller not enabled), not an error. */
static bool gone(struct scow_error **err)
{
	if ((*err)->errnum != ENOENT)
		return false;
	error_freep(err);
	return true;
}

static int v2_stats(struct cgroup *cg, unsigned what, struct cgroup_stats *st,
                     struct scow_error **err)
{
	int fd = v2_hier(cg)->fd;
	char buf[8192];
	long long v = 0;
	if (fd < 0)
		return error_set(err, ENOENT, "the cgroup has no directory left");
	if (!(what & CGROUP_STATS_CPU)) {
		/* not asked */
	} else if (cg_read(fd, "cpu.stat", buf, sizeof(buf), err) < 0) {
		if (!gone(err))
			return -1;
	} else if (cg_keyed_value(buf, "usage_usec", &v) && v >= 0) {
		st->cpu_ns = (uint64_t)v * 1000;
		st->has_cpu = true;
	}
	if (!(what & CGROUP_STATS_MEMORY)) {
		/* not asked */
	} else if (cg_read_u64(fd, "memory.current", &st->mem_usage, err) < 0 ||
		   cg_read_u64(fd, "memory.max", &st->mem_limit, err) < 0) {
		if (!gone(err))
			return -1;
	} else {
		st->has_mem = true;
		if (cg_read(fd, "memory.stat", buf, sizeof(buf), err) < 0) {
			if (!gone(err))
				return -1;
		} else if (cg_keyed_value(buf, "inactive_file", &v) && v > 0 &&
			   (uint64_t)v < st->mem_usage) {
			st->mem_usage -= (uint64_t)v;
		}
	}
	_cleanup_free_ char *io = NULL;
	if (!(what & CGROUP_STATS_BLKIO)) {
		/* not asked */
	} else if (cg_read_all(fd, "io.stat", &io, NULL, err) < 0) {
		if (!gone(err))
			return -1;
	} else {
		cg_sum_io_stat_v2(io, &st->blk_read, &st->blk_write);
		st->has_blkio = true;
	}
	if (!(what & CGROUP_STATS_PIDS))
		return 0;
	if (cg_read_u64(fd, "pids.current", &st->pids, err) == 0)
		st->has_pids = true;
	else if (!gone(err))
		return -1;
	return 0;
}

static int v2_oom_killed(struct cgroup *cg, bool *ret, struct scow_error **err)
{
	char buf[512];
	long long v = 0;
	if (cg_read(v2_hier(cg)->fd, "memory.events", buf, sizeof(buf), err) < 0) {
		if ((*err)->errnum != ENOENT)
			return -1;
		error_freep(err); /* no memory controller */
		*ret = false;
		return 0;
	}
	*ret = cg_keyed_value(buf, "oom_kill", &v) && v > 0;
	return 0;
}

static int v2_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct scow_error **err)
{
	return cg_procs(v2_hier(cg)->fd, ret, ret_n, err);
}

int cg2_freeze_dir(const struct cg_layout *l, int fd, bool frozen, struct scow_error **err)
{
	if (cg_write_str(l, fd, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	if (l->fake)
		return 0;
	_cleanup_close_ int ev = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (ev < 0)
		return error_errno(err, "open cgroup.events");
	long long deadline = cg_now_ms() + CG_FREEZE_TIMEOUT_MS;
	for (;;) {
		char buf[256];
		ssize_t n = pread(ev, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return error_errno(err, "read cgroup.events");
		buf[n] = '\0';
		long long state;
		if (!cg_keyed_value(buf, "frozen", &state))
			return error_set(err, ENOTSUP, "cgroup.events: no \"frozen\" (kernel < 5.2)");
		if ((state != 0) == frozen)
			return 0;
		long long left = deadline - cg_now_ms();
		if (left <= 0) {
			if (frozen)
				cg_write_str(l, fd, "cgroup.freeze", "0", NULL);
			return error_set(err, ETIMEDOUT, "not %s after %d ms",
					 frozen ? "frozen" : "thawed", CG_FREEZE_TIMEOUT_MS);
		}
		/* kernfs notifies cgroup.events changes with POLLPRI. */
		struct pollfd pfd = {.fd = ev, .events = POLLPRI};
		if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
			return error_errno(err, "poll cgroup.events");
	}
}

int cg2_kill_dir(const struct cg_layout *l, int fd, struct scow_error **err)
{
	_cleanup_close_ int kfd = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (kfd < 0) {
		if (errno == ENOENT)
			return 0; /* kernel < 5.14 */
		return error_errno(err, "open cgroup.kill");
	}
	if (cg_write_fd(kfd, "cgroup.kill", "1", 1, err) < 0)
		return -1;
	if (cg_wait_empty(l, fd, CG_KILL_TIMEOUT_MS, err) < 0)
		return -1;
	return 1;
}

static int v2_freeze(struct cgroup *cg, bool frozen, struct scow_error **err)
{
	return cg2_freeze_dir(cg->layout, v2_hier(cg)->fd, frozen, err);
}

static int v2_kill_all(struct cgroup *cg, struct scow_error **err)
{
	struct cg_hier *h = v2_hier(cg);
	if (h->fd < 0)
		return 0;
	int r = cg2_kill_dir(cg->layout, h->fd, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return cg_kill_loop(cg, h->fd, v2_freeze, err);
}

const struct cgroup_ops cgroup_ops_v2 = {
	.name = "v2",
	.create = v2_create,
	.attach = v2_attach,
	.set_devices = v2_set_devices,
	.set_limits = v2_set_limits,
	.oom_killed = v2_oom_killed,
	.pids = v2_pids,
	.kill_all = v2_kill_all,
	.freeze = v2_freeze,
	.stats = v2_stats,
};
