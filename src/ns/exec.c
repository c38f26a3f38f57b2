#include "ns/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "ns/spawn_internal.h"
#include "state/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

int ns_exec_wait(struct exec_process *p, struct scow_error **err)
{
	int r = proc_wait_exec(p->exec_fd, err);
	closep(&p->exec_fd);
	p->exec_fd = -1;
	return r;
}

void exec_process_release(struct exec_process *p)
{
	closep(&p->exec_fd);
	closep(&p->console_fd);
	p->exec_fd = p->console_fd = -1;
}

/* In the process that will execute: the container's root, cwd, stdio,
 * limits, user. Does not return. */
static void __attribute__((noreturn)) exec_child(int root, const struct spawn_spec *spec,
						   const struct spawn_stdio *io, int exec_wr,
						   int console_wr)
{
	struct scow_error *e = NULL;
	proc_reset_signals();
	if (setsid() < 0)
		error_errno(&e, "setsid");
	/* The root we opened from /proc/PID/root before joining: the
	 * container's, whatever setns left as our root. */
	if (!e && (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0))
		error_errno(&e, "enter the container's root");
	close(root);
	if (!e)
		proc_stdio(spec, io, console_wr, false, &e);
	if (!e)
		proc_rlimits(spec, &e);
	int keep[] = {exec_wr, console_wr};
	fs_close_fds_except(keep, ARRAY_SIZE(keep));
	if (!e)
		proc_enter_cwd(spec->cwd, &e);
	char **env = strv_copy(spec->env);
	if (!e)
		proc_become_user(spec, &env, &e);
	if (e)
		proc_fail_err(exec_wr, e);
	if (console_wr >= 0)
		close(console_wr);
	proc_exec(spec, env, exec_wr, NULL);
}

/* The joiner: cgroup, namespaces, then a fork so that the child is inside
 * the pid namespace; it reports the child's pid and leaves, the child is
 * reparented to our subreaper parent. */
static void __attribute__((noreturn)) joiner(const struct exec_target *t, int pidfd, int root,
					     const struct spawn_spec *spec,
					     const struct spawn_stdio *io, int exec_wr, int console_wr,
					     int pid_wr)
{
	struct scow_error *e = NULL;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	struct cgroup *cg = NULL;
	if (t->cgroup_path && (cgroup_open(NULL, t->cgroup_path, &cg, &e) < 0 ||
			       cgroup_attach(cg, getpid(), &e) < 0))
		proc_fail_err(exec_wr, e);
	cgroup_free(cg);
	int flags = CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS;
	if (t->cgroupns)
		flags |= CLONE_NEWCGROUP;
	if (setns(pidfd, flags) < 0) {
		error_errno(&e, "join the container's namespaces");
		proc_fail_err(exec_wr, e);
	}
	pid_t child = fork();
	if (child < 0) {
		error_errno(&e, "fork in the container");
		proc_fail_err(exec_wr, e);
	}
	if (child == 0) {
		close(pid_wr);
		exec_child(root, spec, io, exec_wr, console_wr);
	}
	(void)!write(pid_wr, &child, sizeof(child));
	_exit(0);
}

int ns_exec(const struct exec_target *t, const struct spawn_spec *spec,
	    const struct spawn_stdio *io, struct exec_process *ret, struct scow_error **err)
{
	*ret = (struct exec_process){.exec_fd = -1, .console_fd = -1};
	/* The new process is our grandchild; it must come back to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return error_errno(err, "become a subreaper");
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (pidfd < 0 || !proc_alive(t->pid, t->start_time))
		return error_set(err, ESRCH, "the container's process is gone");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)t->pid);
	_cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return error_errno(err, "open the container's root");
	int execp[2] = {-1, -1}, pidp[2] = {-1, -1}, cons[2] = {-1, -1};
	if (pipe2(execp, O_CLOEXEC) < 0 || pipe2(pidp, O_CLOEXEC) < 0 ||
	    (spec->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cons) < 0)) {
		error_errno(err, "exec: pipes");
		for (int i = 0; i < 2; i++)
			closep(&execp[i]), closep(&pidp[i]), closep(&cons[i]);
		return -1;
	}
	pid_t j = fork();
	if (j == 0) {
		close(execp[0]);
		close(pidp[0]);
		if (cons[0] >= 0)
			close(cons[0]);
		joiner(t, pidfd, root, spec, io, execp[1], cons[1], pidp[1]);
	}
	closep(&execp[1]);
	closep(&pidp[1]);
	closep(&cons[1]);
	pid_t child = -1;
	if (j > 0 && read(pidp[0], &child, sizeof(child)) != (ssize_t)sizeof(child))
		child = -1;
	closep(&pidp[0]);
	if (j > 0)
		waitpid(j, NULL, 0);
	ret->exec_fd = execp[0];
	if (j < 0 || child <= 0) {
		/* The joiner failed: its report is in the exec pipe. */
		int r = j < 0 ? error_errno(err, "fork") : proc_wait_exec(execp[0], err);
		if (r == 0)
			error_set(err, EIO, "exec: the process was not started");
		exec_process_release(ret);
		closep(&cons[0]);
		return -1;
	}
	ret->pid = child;
	if (spec->tty)
		ret->console_fd = proc_recv_fd(cons[0]);
	closep(&cons[0]);
	return 0;
}

int ns_open_net(pid_t pid, uint64_t start_time, struct scow_error **err)
{
	_cleanup_close_ int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0 || !proc_alive(pid, start_time))
		return error_set(err, ESRCH, "the container's process is gone");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? error_set(err, ESRCH, "the container's process is gone")
				       : error_errno(err, "open %s", path);
	/* The pidfd's process not reaped yet after the open: it still held
	 * the pid when /proc/PID was opened, so the namespace is its own. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return error_set(err, ESRCH, "the container's process is gone");
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return error_set(err, EINVAL, "%s is not a network namespace", path);
	return steal_fd(&fd);
}
