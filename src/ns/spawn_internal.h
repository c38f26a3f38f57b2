/* The steps every container process goes through before execve — the
 * container's first process (spawn.c) and exec'd ones (exec.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ns/spawn.h"

/* Reports an exec failure through the CLOEXEC pipe and exits. */
void __attribute__((noreturn)) proc_fail(int exec_wr, int code, int errnum, const char *msg);
void __attribute__((noreturn)) proc_fail_err(int exec_wr, struct scow_error *e);
void proc_reset_signals(void);
/* stdio from io, or a pty of the current root's devpts sent over
 * console_wr (bind_console: also shown as /dev/console). */
int proc_stdio(const struct spawn_spec *spec, const struct spawn_stdio *io, int console_wr,
	       bool bind_console, struct scow_error **err);
int proc_console(const struct spawn_spec *spec, int console_wr, bool bind_console,
		 struct scow_error **err);
int proc_rlimits(const struct spawn_spec *spec, struct scow_error **err);
/* chdir to cwd inside the current root; never through a magic link. */
int proc_enter_cwd(const char *cwd, struct scow_error **err);
/* USER from the current root's files, then capabilities and seccomp. */
int proc_become_user(const struct spawn_spec *spec, char ***env, struct scow_error **err);
/* Closes every other fd at execve, looks argv[0] up in PATH, executes;
 * reports 126/127 through exec_wr otherwise. init_ctx: --init (spawn.c). */
void __attribute__((noreturn)) proc_exec(const struct spawn_spec *spec, char **env, int exec_wr,
					  void *init_ctx);
/* The parent side: 0 when execve succeeded, else the report as an error. */
int proc_wait_exec(int exec_fd, struct scow_error **err);
int proc_recv_fd(int sock);
