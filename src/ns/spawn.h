/* Spawning a container's first process: new namespaces, the root file
 * system, Docker's process defaults, execve. The parent keeps control
 * between clone and execve: the child waits until the parent has done what
 * must be done from outside (cgroup membership, user namespace maps,
 * network), and reports an exec failure precisely through a CLOEXEC pipe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "util/error.h"

struct seccomp_bpf;

enum mount_kind { MOUNT_BIND, MOUNT_FS };

struct mount_spec {
	enum mount_kind kind;
	char *source; /* bind: absolute host path; fs: the device ("tmpfs", "/dev/sdb1") */
	char *target; /* absolute path in the container */
	bool readonly;
	bool recursive;	      /* rbind (the default for binds) */
	unsigned propagation; /* MS_PRIVATE, MS_SLAVE, MS_SHARED (| MS_REC) or 0 */
	/* bind of an empty volume: first filled with what the image has at
	 * the target (Docker's copy-up; "nocopy" turns it off). */
	bool copy_up;
	char *fstype;		/* fs: "tmpfs", "ext4", ... */
	char *fs_options;	/* fs: "size=...,mode=..." */
	unsigned long fs_flags; /* fs: MS_NOSUID | MS_NODEV | MS_NOEXEC ... */
};

struct device_spec {
	char *path; /* in the container */
	char *host_path;
	char type; /* 'c' or 'b' */
	unsigned major, minor;
	mode_t mode;
};

struct rlimit_spec {
	int resource;
	struct rlimit lim;
};

/* NET_JOIN: --network container:X, the namespace of X's init in netns_fd
 * (ns_open_net); nothing of the network is set up or torn down. */
enum net_mode { NET_PRIVATE, NET_HOST, NET_NONE, NET_JOIN };

struct spawn_spec {
	/* root file system */
	char **lowerdirs; /* layer dirs, top first; NULL-terminated */
	char *upperdir, *workdir, *merged;
	bool overlay_userxattr; /* rootless overlay */
	/* The upper layer is thrown away after the run (--rm): no sync of it
	 * when the overlay goes (that sync costs a journal commit per run). */
	bool overlay_volatile;
	bool readonly_rootfs;
	char *hosts_file, *resolv_file, *hostname_file; /* host paths to bind */
	struct mount_spec *mounts;
	size_t n_mounts;
	struct device_spec *devices;
	size_t n_devices;
	char **cgroup_dirs; /* v1: cgroup_v1_view(), shown read-only; v2: NULL */
	bool cgroup_v2;
	/* process */
	char **argv, **env;
	char *cwd;
	char *user; /* "name|uid[:group|gid]" or NULL for root */
	char **group_add;
	char *hostname, *domainname;
	bool tty, open_stdin;
	unsigned short tty_rows, tty_cols; /* initial size of the pty; 0: unknown */
	bool privileged;
	uint64_t caps; /* bounding = permitted = effective for root */
	bool no_new_privs;
	const struct seccomp_bpf *seccomp; /* compiled filter; NULL: unconfined */
	struct rlimit_spec *rlimits;
	size_t n_rlimits;
	char **sysctl; /* "key=value" */
	bool init;     /* scow's own init as pid 1 */
	enum net_mode net;
	int netns_fd; /* NET_JOIN only: entered right after the clone */
	bool new_cgroupns;
	bool rootless;
};

struct spawn_stdio {
	int in, out, err; /* used when !tty; -1: /dev/null */
};

struct spawned {
	pid_t pid;
	int pidfd;
	int exec_fd;	 /* read end: EOF when execve succeeded */
	int console_fd;	 /* pty master (tty), else -1 */
	uint64_t start_time;
};

/* Called in the parent while the child sets up its root file system, and
 * finished before the child may drop privileges and execve: cgroup
 * membership, network. (User namespace maps, when they come, must precede
 * the setup: they get a hook of their own.) A failure aborts the child. */
typedef int (*spawn_prepare_fn)(void *opaque, pid_t pid, struct scow_error **err);

int ns_spawn(const struct spawn_spec *spec, const struct spawn_stdio *io,
	     spawn_prepare_fn prepare, void *opaque, struct spawned *ret,
	     struct scow_error **err);

/* Waits for the child's verdict on execve: 0 started; -1 with *err carrying
 * Docker's status (126 cannot invoke, 127 not found, 125 setup failure). */
int ns_spawn_wait_exec(struct spawned *s, struct scow_error **err);
void spawned_release(struct spawned *s);

/* Docker's default capability set (CapEff 00000000a80425fb). */
#define CAPS_DOCKER_DEFAULT 0xa80425fbULL
