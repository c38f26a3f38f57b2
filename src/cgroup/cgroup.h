/* cgroups: one container's cgroup(s), behind one ops table for cgroup v1,
 * v2 and hybrid hosts.
 *
 * Layout. A container's cgroup is "<parent>/<id>" below the root of every
 * hierarchy the driver uses (cgroup->path, e.g. "scow/<id>"). The default
 * parent is "scow"; Docker's --cgroup-parent "/foo/bar" means "foo/bar" below
 * each hierarchy root, and a systemd slice name "x.slice" is taken as a plain
 * directory name (no slice expansion).
 *
 *   v1      one directory per needed controller hierarchy: cpu, cpuacct,
 *           cpuset (cpus/mems copied down from the parent), memory, devices,
 *           freezer, blkio, pids, net_cls, net_prio, perf_event, hugetlb and
 *           the named "systemd" hierarchy, those that are mounted.
 *   v2      one directory; the controllers cpu cpuset io memory pids hugetlb
 *           that the root offers are enabled in cgroup.subtree_control of
 *           every ancestor; devices are a BPF_PROG_TYPE_CGROUP_DEVICE program.
 *   hybrid  the v1 layout plus the same directory in the v2 hierarchy
 *           (usually /sys/fs/cgroup/unified), used for tracking and for
 *           cgroup.kill/cgroup.freeze when the kernel has them.
 *
 * Detection never guesses: statfs() of the root tells cgroup2 from a tmpfs
 * holding v1 mounts (each checked with statfs too), and hybrid is a v1 tree
 * whose "unified" entry is a cgroup2 mount. /proc/self/mountinfo is not read.
 * Each hierarchy's root and the container's directory are kept open as
 * directory fds, so an operation is a few openat()/write() calls.
 *
 * root_override (tests): a directory used instead of /sys/fs/cgroup. It may be
 * a real cgroup2 mount, or a fake tree of plain directories and regular files:
 * a fake tree is v2 when its root holds a "cgroup.controllers" file, otherwise
 * v1 with one hierarchy per directory named after controllers ("cpu",
 * "cpu,cpuacct", "systemd", ...), hybrid when there is also a "unified"
 * directory holding "cgroup.controllers". Fake trees are accepted only through
 * root_override. In a fake tree nothing waits for the kernel: freezing accepts
 * the state file as it is, and kill_all does not wait for processes to go. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define CGROUP_DEFAULT_PARENT "scow"

enum cgroup_mode { CGROUP_V1, CGROUP_V2, CGROUP_HYBRID };

struct cgroup_ops;
struct cg_layout; /* hierarchies and open directories (internal.h) */

struct cgroup {
	const struct cgroup_ops *ops;
	enum cgroup_mode mode;
	char *path; /* relative path below each hierarchy root: "scow/<id>" */
	struct cg_layout *layout;
};

/* Detects what is mounted at /sys/fs/cgroup (or root_override). */
int cgroup_detect(const char *root_override, enum cgroup_mode *ret, struct scow_error **err);
const char *cgroup_mode_name(enum cgroup_mode m);

/* Checks a --cgroup-parent value and returns its normalised form (no leading
 * or trailing "/"; "" for the hierarchy root). NULL means the default parent.
 * Refused: "..", ".", empty components ("a//b"), control characters,
 * components over NAME_MAX. */
int cgroup_parent_normalize(const char *parent, char **ret, struct scow_error **err);

/* Creates parent/id in every hierarchy (see above). An existing directory
 * with that name is reused. On failure nothing created here is left. */
int cgroup_create(const char *root_override, const char *parent, const char *id,
		  struct cgroup **ret, struct scow_error **err);
/* Reopens an existing container cgroup from its stored path ("scow/<id>").
 * Hierarchies where the directory is missing are skipped; ENOENT if it is
 * missing everywhere. */
int cgroup_open(const char *root_override, const char *path, struct cgroup **ret,
		struct scow_error **err);

/* Moves pid (a whole process) into the cgroup in every hierarchy. */
int cgroup_attach(struct cgroup *cg, pid_t pid, struct scow_error **err);

/* One --device rule. type 'c', 'b' or 'a' (all); major/minor -1 = any;
 * access a non-empty subset of "rwm". */
struct cgroup_device_rule {
	char type;
	long major, minor;
	char access[4];
	bool allow;
};

/* Docker's default device rules, in order: deny all, then allow
 * c *:* m, b *:* m, c 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:1, 5:2, 136:*, 10:200 rwm. */
extern const struct cgroup_device_rule cgroup_default_device_rules[];
extern const size_t cgroup_n_default_device_rules;

/* Applies the default rules followed by extra (later rules win). privileged:
 * no restriction at all. v1: devices.deny "a" then devices.allow/deny lines;
 * v2: a BPF cgroup device program replacing any this call attached before. */
int cgroup_set_devices(struct cgroup *cg, bool privileged, const struct cgroup_device_rule *extra,
		       size_t n, struct scow_error **err);

/* Resource limits. Every field: CGROUP_UNSET leaves the current value;
 * CGROUP_MAX means "no limit" ("max" on v2, -1 on v1), so Docker's
 * --memory-swap -1 is CGROUP_MAX here. Units are Docker's. cpuset strings:
 * NULL leaves the current value. */
#define CGROUP_UNSET ((int64_t)-1)
#define CGROUP_MAX INT64_MAX
/* One --device-read-bps/--device-write-bps/--device-read-iops/
 * --device-write-iops limit on a block device (a whole disk). */
enum cgroup_throttle_kind { CG_READ_BPS, CG_WRITE_BPS, CG_READ_IOPS, CG_WRITE_IOPS };
struct cgroup_throttle {
	enum cgroup_throttle_kind kind;
	long major, minor;
	uint64_t rate; /* bytes or operations per second; 0 removes the limit */
};
struct cgroup_limits {
	int64_t memory;		   /* bytes (-m) */
	int64_t memory_swap;	   /* memory + swap in bytes (--memory-swap); needs memory */
	int64_t memory_reservation; /* soft limit, bytes (v2 memory.low) */
	int64_t cpu_shares;	   /* 2..262144 (v2: converted to cpu.weight) */
	int64_t cpu_quota;	   /* microseconds per period (--cpu-quota, --cpus) */
	int64_t cpu_period;	   /* microseconds (1000..1000000) */
	int64_t pids_max;	   /* --pids-limit */
	int64_t blkio_weight;	   /* 10..1000 (v2: converted to io.weight) */
	const char *cpuset_cpus;   /* "0-2,4" */
	const char *cpuset_mems;
	int oom_kill_disable;	   /* -1 unset, 0 or 1 (v1 memory.oom_control; v2 has none) */
	const struct cgroup_throttle *throttle; /* v1 blkio.throttle.*, v2 io.max */
	size_t n_throttle;
};
void cgroup_limits_init(struct cgroup_limits *l);
/* Checks ranges and applies every set field; EINVAL names the bad field. */
int cgroup_set_limits(struct cgroup *cg, const struct cgroup_limits *l, struct scow_error **err);

/* What the host's cgroups can limit, for Docker's create-time checks (a
 * limit the host cannot apply is dropped with a warning, as Docker does).
 * cpus/mems: the CPUs and memory nodes containers may use ("0-3"). */
struct cgroup_host_info {
	enum cgroup_mode mode;
	bool memory, swap, oom_kill_disable, cpu_shares, cpu_cfs, cpuset, pids;
	bool blkio_weight, blkio_throttle;
	char cpus[256], mems[256];
};
int cgroup_host_info(const char *root_override, struct cgroup_host_info *ret,
		     struct scow_error **err);

/* Usage figures for `stats` (Docker's): has_* false when the controller is
 * missing. mem_usage excludes the inactive page cache, as Docker's CLI
 * shows it; mem_limit 0 means no limit. */
struct cgroup_stats {
	bool has_cpu, has_mem, has_blkio, has_pids;
	uint64_t cpu_ns;
	uint64_t mem_usage, mem_limit;
	uint64_t blk_read, blk_write;
	uint64_t pids;
};
#define CGROUP_STATS_CPU 1u
#define CGROUP_STATS_MEMORY 2u
#define CGROUP_STATS_BLKIO 4u
#define CGROUP_STATS_PIDS 8u
#define CGROUP_STATS_ALL 15u
/* what: the CGROUP_STATS_* figures to read. */
int cgroup_stats(struct cgroup *cg, unsigned what, struct cgroup_stats *ret,
		 struct scow_error **err);
/* Many containers' cgroups at once (stats): the hierarchies are detected
 * once, and each cgroup opens only the directories cgroup_stats reads (it
 * serves for nothing else). The roots must outlive the cgroups. */
struct cgroup_roots;
int cgroup_roots_open(const char *root_override, struct cgroup_roots **ret,
		      struct scow_error **err);
void cgroup_roots_free(struct cgroup_roots *r);
int cgroup_open_stats(struct cgroup_roots *r, const char *path, struct cgroup **ret,
		      struct scow_error **err);

/* Was anything in the cgroup killed by the OOM killer? false when there is no
 * memory controller to ask. */
int cgroup_oom_killed(struct cgroup *cg, bool *ret, struct scow_error **err);
/* Processes in the cgroup (malloc'd array, caller frees). */
int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct scow_error **err);
/* SIGKILLs everything inside and waits (bounded, ETIMEDOUT) until it is empty:
 * cgroup.kill where the kernel has it (v2, and the v2 directory of a hybrid
 * host), else rounds of freeze / list / kill each / thaw. */
int cgroup_kill_all(struct cgroup *cg, struct scow_error **err);
/* Freezes (waiting until the kernel reports frozen, bounded, ETIMEDOUT) or
 * thaws. */
int cgroup_freeze(struct cgroup *cg, bool frozen, struct scow_error **err);
/* Removes the directory in every hierarchy. Missing is fine; EBUSY if
 * processes remain (kill them first); the cgroup stays usable after a
 * failure. The parent directories are left in place. */
int cgroup_destroy(struct cgroup *cg, struct scow_error **err);
void cgroup_free(struct cgroup *cg);
/* v1/hybrid: what the container's /sys/fs/cgroup shows, as Docker does:
 * "NAME=HOSTDIR" for its own directory in each v1 hierarchy it joined
 * (NAME as mounted: "memory", "cpu,cpuacct", "systemd"), and "NAME>TARGET"
 * for the host's co-mount symlinks ("cpu>cpu,cpuacct"). NULL on v2 (the
 * container mounts its own cgroup2 in its cgroup namespace). */
char **cgroup_v1_view(const struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **cg)
{
	cgroup_free(*cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))
