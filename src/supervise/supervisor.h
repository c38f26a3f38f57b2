/* The per-container supervisor: a fork of the scow process that started
 * the container, in its own session. It spawns the container (so it is
 * its parent and gets its exit status), owns its stdio (pipes or the pty
 * master), writes the json-file log, relays output and input for a
 * foreground client, records the exit code, signal and OOM kill, and tears
 * everything down (cgroup, runtime state, the container itself with --rm).
 *
 * The invoking process talks to it over a SOCK_SEQPACKET socketpair with
 * struct sup_msg: STARTED/FAILED/EXITED come back, SIGNAL and WINSIZE go
 * in. If the invoker dies, the supervisor carries on alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "ns/spawn.h"
#include "state/container.h"

enum sup_msg_type {
	SUP_STARTED = 1, /* a: pid */
	SUP_FAILED,	 /* code: exit status for the invoker, text: why */
	SUP_EXITED,	 /* code: the container's exit status */
	SUP_SIGNAL,	 /* a: signal to deliver */
	SUP_WINSIZE,	 /* a: rows, b: columns */
	SUP_DETACHED,	 /* the foreground client typed the detach keys */
};

struct sup_msg {
	uint32_t type;
	int32_t code;
	int32_t a, b;
	char text[1024];
};

struct supervisor_opts {
	struct container_store *cs;
	const char *id;
	json_t *config;
	struct spawn_spec *spec; /* the supervisor adds the cgroup view */
	/* The invoker's fds 0-2 are a foreground client: output is copied
	 * there, input (with -i) read from there. */
	bool foreground;
	bool attach_stdin, attach_stdout, attach_stderr;
	int ctl_fd; /* socketpair end; -1 if none */
	const char *cgroup_parent;
	const struct cgroup_device_rule *devices;
	size_t n_devices;
	const struct cgroup_limits *limits; /* NULL: none */
	int oom_score_adj;		    /* written for the container's process; 0: inherited */
	const char *detach_keys; /* for the foreground client with a tty; NULL: default */
	bool log_none;
	uint64_t log_max_size;
	unsigned log_max_file;
};

/* In the forked supervisor: runs the container to its end, then _exits. */
void __attribute__((noreturn)) supervisor_main(const struct supervisor_opts *o);

int sup_send(int fd, const struct sup_msg *m);
/* 1 got a message, 0 peer closed, -1 error. */
int sup_recv(int fd, struct sup_msg *m);
