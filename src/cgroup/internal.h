/* Shared between the cgroup drivers: the detected layout, the ops table and
 * small file helpers. Not for use outside src/cgroup/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "util/error.h"

/* Controllers (v1 hierarchies and v2 controllers share one numbering). */
enum cg_ctrl {
	CG_CPU,
	CG_CPUACCT,
	CG_CPUSET,
	CG_MEMORY,
	CG_DEVICES,
	CG_FREEZER,
	CG_BLKIO,
	CG_PIDS,
	CG_NET_CLS,
	CG_NET_PRIO,
	CG_PERF_EVENT,
	CG_HUGETLB,
	CG_IO,	    /* v2 only */
	CG_RDMA,    /* known, not used */
	CG_MISC,    /* known, not used */
	CG_SYSTEMD, /* the v1 named hierarchy "name=systemd" */
	CG_NCTRL
};
#define CG_BIT(c) (1u << (c))
extern const char *const cg_ctrl_names[CG_NCTRL];

/* The v1 hierarchies a container joins. */
#define CG_V1_WANTED                                                                               \
	(CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT) | CG_BIT(CG_CPUSET) | CG_BIT(CG_MEMORY) |             \
	 CG_BIT(CG_DEVICES) | CG_BIT(CG_FREEZER) | CG_BIT(CG_BLKIO) | CG_BIT(CG_PIDS) |            \
	 CG_BIT(CG_NET_CLS) | CG_BIT(CG_NET_PRIO) | CG_BIT(CG_PERF_EVENT) | CG_BIT(CG_HUGETLB) |   \
	 CG_BIT(CG_SYSTEMD))
/* The v2 controllers enabled for containers (those the root offers). */
#define CG_V2_WANTED                                                                               \
	(CG_BIT(CG_CPU) | CG_BIT(CG_CPUSET) | CG_BIT(CG_IO) | CG_BIT(CG_MEMORY) |                  \
	 CG_BIT(CG_PIDS) | CG_BIT(CG_HUGETLB))

#define CG_MAX_HIER 24

struct cg_hier {
	unsigned ctrls; /* v1: controllers of this hierarchy; v2: those the root offers */
	bool v2;
	bool created; /* this process made the leaf (undo on a failed create) */
	char name[64]; /* the entry below the root: "memory", "cpu,cpuacct", "unified" */
	int rootfd;   /* the hierarchy's root directory */
	int fd;	      /* the container's directory, -1 if absent */
};

struct cg_layout {
	enum cgroup_mode mode;
	bool fake;		/* a plain-directory tree given through root_override */
	bool borrowed;		/* the root fds belong to a struct cgroup_roots */
	size_t n;
	struct cg_hier h[CG_MAX_HIER];
	int by_ctrl[CG_NCTRL]; /* v1: index in h of the hierarchy holding a controller, -1 */
	int unified;	       /* index of the v2 hierarchy, -1 */
};

struct cgroup_ops {
	const char *name;
	/* cg->path and cg->layout are set; create the directories. */
	int (*create)(struct cgroup *cg, struct scow_error **err);
	int (*attach)(struct cgroup *cg, pid_t pid, struct scow_error **err);
	int (*set_devices)(struct cgroup *cg, bool privileged, const struct cgroup_device_rule *rules,
			   size_t n, struct scow_error **err);
	int (*set_limits)(struct cgroup *cg, const struct cgroup_limits *l, struct scow_error **err);
	int (*oom_killed)(struct cgroup *cg, bool *ret, struct scow_error **err);
	int (*pids)(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct scow_error **err);
	int (*kill_all)(struct cgroup *cg, struct scow_error **err);
	int (*freeze)(struct cgroup *cg, bool frozen, struct scow_error **err);
	int (*stats)(struct cgroup *cg, unsigned what, struct cgroup_stats *ret,
		     struct scow_error **err);
};

extern const struct cgroup_ops cgroup_ops_v1;
extern const struct cgroup_ops cgroup_ops_hybrid;
extern const struct cgroup_ops cgroup_ops_v2;

/* Detection (cgroup.c). */
/* "cpu,cpuacct" / "cpu io memory" -> CG_BIT set; sep lists the separators. */
unsigned cg_ctrls_parse(const char *s, const char *seps);
/* Removes the directories cg->ops->create made (after a failure). */
void cg_undo_create(struct cgroup *cg);
/* The fd of the directory whose cgroup.procs lists the container's
 * processes (v1: pids, else memory, else any), -1 if none. */
int cg_procs_fd(const struct cgroup *cg);
/* The container's directory in the hierarchy holding controller c, or -1. */
int cg_ctrl_fd(const struct cgroup *cg, enum cg_ctrl c);
int cg_layout_detect(const char *root_override, struct cg_layout *ret, struct scow_error **err);
void cg_layout_release(struct cg_layout *l);

/* Files below a cgroup directory. Writes open O_WRONLY and issue one write()
 * (in a fake tree the file is created or truncated; on cgroupfs a missing
 * file keeps its ENOENT). Reads fill a caller buffer, NUL-terminated,
 * trailing newline kept. */
int cg_write(const struct cg_layout *l, int dirfd, const char *file, const char *buf, size_t len,
	     struct scow_error **err);
int cg_write_str(const struct cg_layout *l, int dirfd, const char *file, const char *s,
		 struct scow_error **err);
/* Opens a file for several write() calls (devices.allow). */
int cg_open_write(const struct cg_layout *l, int dirfd, const char *file, struct scow_error **err);
int cg_write_fd(int fd, const char *file, const char *buf, size_t len, struct scow_error **err);
/* Reads into buf (size bytes); returns the length, -1 with err on failure
 * (ENOENT passes through in errnum). */
ssize_t cg_read(int dirfd, const char *file, char *buf, size_t size, struct scow_error **err);
/* Reads a whole file of any size (cgroup.procs). */
int cg_read_all(int dirfd, const char *file, char **ret, size_t *ret_len, struct scow_error **err);
/* Finds "key N" in a flat keyed file (memory.events, oom_control). */
bool cg_keyed_value(const char *text, const char *key, long long *ret);
/* Parses cgroup.procs content. */
int cg_parse_pids(const char *text, pid_t **ret, size_t *ret_n, struct scow_error **err);
/* Reads dirfd's cgroup.procs into a pid array. */
int cg_procs(int dirfd, pid_t **ret, size_t *ret_n, struct scow_error **err);
/* Opens (creating when missing) each component of rel below dirfd; returns
 * the last one's fd. cpuset_copy: after each component, copy cpuset.cpus and
 * cpuset.mems from its parent when they are empty (v1 cpuset). */
int cg_mkdir_path(const struct cg_layout *l, int rootfd, const char *rel, bool cpuset_copy,
		  bool *ret_created, struct scow_error **err);
/* Monotonic milliseconds, and a short sleep that grows with the attempt. */
long long cg_now_ms(void);
void cg_backoff_sleep(unsigned attempt);

/* v2 pieces the v1 driver reuses for the unified hierarchy of a hybrid host. */
int cg2_freeze_dir(const struct cg_layout *l, int fd, bool frozen, struct scow_error **err);
/* 1: killed and empty; 0: the kernel has no cgroup.kill; -1: error. */
int cg2_kill_dir(const struct cg_layout *l, int fd, struct scow_error **err);
/* Builds, loads and (on a real cgroup2 directory) attaches the device
 * program, replacing programs attached before; privileged only detaches. */
int cg2_devices_bpf(const struct cg_layout *l, int fd, bool privileged,
		    const struct cgroup_device_rule *rules, size_t n, struct scow_error **err);
/* The program as instructions (struct bpf_insn), for tests. */
struct bpf_insn;
size_t cg2_devices_build(const struct cgroup_device_rule *rules, size_t n, struct bpf_insn *out,
			 size_t cap);
/* Waits up to timeout_ms until the directory holds no process. */
int cg_wait_empty(const struct cg_layout *l, int fd, long long timeout_ms, struct scow_error **err);
/* Sends SIGKILL to each process in the directory, in rounds while freezer(fd)
 * keeps new forks out, until it is empty. freeze may be NULL. */
int cg_kill_loop(struct cgroup *cg, int procs_fd,
		 int (*freeze)(struct cgroup *cg, bool frozen, struct scow_error **err),
		 struct scow_error **err);

/* Parsing helpers shared by the drivers' stats (stats.c). */
/* A file holding one number ("max" or a v1 "unlimited" value: *ret = 0). */
int cg_read_u64(int dirfd, const char *file, uint64_t *ret, struct scow_error **err);
/* Sums "MAJ:MIN Read N" / "MAJ:MIN Write N" lines (v1 blkio) or
 * "MAJ:MIN rbytes=N wbytes=N ..." lines (v2 io.stat). */
void cg_sum_blkio_v1(const char *text, uint64_t *read, uint64_t *write);
void cg_sum_io_stat_v2(const char *text, uint64_t *read, uint64_t *write);

/* Time bounds. */
#define CG_FREEZE_TIMEOUT_MS 5000
#define CG_KILL_TIMEOUT_MS 10000
