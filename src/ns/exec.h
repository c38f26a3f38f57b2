/* A new process in a running container (scow exec): it joins the
 * container's cgroup and every namespace, takes the container's root, user,
 * capabilities and seccomp filter, and stays non-dumpable until execve
 * (SECURITY.md case 12: nothing in the container can ptrace it or open its
 * /proc entries while it still runs scow's code). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ns/spawn.h"

struct exec_target {
	pid_t pid;		 /* the container's first process */
	uint64_t start_time;	 /* its start time (a recycled pid is refused) */
	const char *cgroup_path; /* joined when set */
	bool cgroupns;		 /* join its cgroup namespace too (v2) */
};

struct exec_process {
	pid_t pid;	/* the new process: our child (we become a subreaper) */
	int exec_fd;	/* EOF once it executed: ns_spawn_wait_exec's pipe */
	int console_fd; /* pty master with spec->tty, else -1 */
};

/* spec gives the process (argv, env, cwd, user, caps, seccomp, tty, rlimits);
 * io its stdio without a tty. */
int ns_exec(const struct exec_target *t, const struct spawn_spec *spec,
	    const struct spawn_stdio *io, struct exec_process *ret, struct scow_error **err);
/* 0 once the process executed; else its report (126/127/125). */
int ns_exec_wait(struct exec_process *p, struct scow_error **err);
void exec_process_release(struct exec_process *p);

/* The network namespace of a running container's first process, for
 * --network container:X (NET_JOIN): a recycled pid is never followed (the
 * pid is opened as a pidfd, its start time checked, and it is still that
 * process once the namespace file is open). ESRCH when it is gone. */
int ns_open_net(pid_t pid, uint64_t start_time, struct scow_error **err);
