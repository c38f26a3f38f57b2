#include "ns/spawn.h"
#include "ns/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ns/caps.h"
#include "ns/rootfs.h"
#include "ns/seccomp_cache.h"
#include "ns/user.h"
#include "state/container.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the child sends through the exec pipe when it cannot execve. */
struct exec_report {
	int32_t exit_code;
	int32_t errnum;
	char msg[1024];
};

struct child_ctx {
	const struct spawn_spec *spec;
	const struct spawn_stdio *io;
	int sync_rd;	 /* the parent's go: one byte to set up, one to execute */
	int exec_wr;	 /* CLOEXEC: closes on successful execve */
	int console_wr; /* sends the pty master */
};

void proc_fail(int exec_wr, int code, int errnum, const char *msg)
{
	struct exec_report r = {.exit_code = code, .errnum = errnum};
	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	(void)!write(exec_wr, &r, sizeof(r));
	_exit(code);
}

void proc_fail_err(int exec_wr, struct scow_error *e)
{
	proc_fail(exec_wr, e && e->exit_code ? e->exit_code : 125, e ? e->errnum : 0,
		  e ? e->msg : "container setup failed");
}

static void __attribute__((noreturn)) child_fail_err(struct child_ctx *c, struct scow_error *e)
{
	proc_fail_err(c->exec_wr, e);
}

static int loopback_up(struct scow_error **err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return error_errno(err, "loopback");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return error_errno(err, "bring up loopback");
	return 0;
}

void proc_reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static int send_fd(int sock, int fd, struct scow_error **err)
{
	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return error_errno(err, "send the console");
	return 0;
}

int proc_recv_fd(int sock)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The pty comes from the container's own devpts, and its slave is what
 * /dev/console shows (CVE-2025-52565: never a host pty, never a file);
 * an exec'd process gets a pty of its own and leaves /dev/console alone. */
int proc_console(const struct spawn_spec *spec, int console_wr, bool bind_console,
		 struct scow_error **err)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || unlockpt(master) < 0)
		return error_errno(err, "open a pty");
	char name[64];
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return error_errno(err, "pty name");
	_cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (slave < 0 || fstat(slave, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 136)
		return error_set(err, EPERM, "%s is not a pty slave", name);
	if (bind_console) {
		_cleanup_close_ int src = open_tree(AT_FDCWD, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		_cleanup_close_ int target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0 || target < 0 ||
		    move_mount(src, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return error_errno(err, "bind the pty to /dev/console");
	}
	if (spec->tty_rows && spec->tty_cols) {
		/* Before the command runs, so that it sees its size at once. */
		struct winsize ws = {.ws_row = spec->tty_rows, .ws_col = spec->tty_cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (send_fd(console_wr, master, err) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return error_errno(err, "dup2 the pty");
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return error_errno(err, "make the pty the controlling terminal");
	return 0;
}

int proc_stdio(const struct spawn_spec *spec, const struct spawn_stdio *io, int console_wr,
	       bool bind_console, struct scow_error **err)
{
	if (spec->tty)
		return proc_console(spec, console_wr, bind_console, err);
	_cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return error_errno(err, "open /dev/null");
	int want[3] = {io->in, io->out, io->err};
	/* Move the originals out of the way before dup2 can clobber them. */
	for (int i = 0; i < 3; i++)
		if (want[i] >= 0 && want[i] < 3 && (want[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 3)) < 0)
			return error_errno(err, "dup");
	for (int i = 0; i < 3; i++)
		if (dup2(want[i] >= 0 ? want[i] : null, i) < 0)
			return error_errno(err, "set up stdio");
	return 0;
}

int proc_rlimits(const struct spawn_spec *spec, struct scow_error **err)
{
	for (size_t i = 0; i < spec->n_rlimits; i++)
		if (setrlimit(spec->rlimits[i].resource, &spec->rlimits[i].lim) < 0)
			return error_errno(err, "set rlimit %d", spec->rlimits[i].resource);
	return 0;
}

/* The working directory, resolved inside the root without magic links
 * and created like Docker does when missing. A /proc/self/fd/N (or a
 * symlink to one) would be a cwd outside the root (CVE-2024-21626);
 * the caller has already closed every fd it does not need. */
int proc_enter_cwd(const char *cwd, struct scow_error **err)
{
	const unsigned long long how = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	_cleanup_free_ char *clean = fs_path_clean(cwd && *cwd ? cwd : "/");
	const char *rel = clean[0] == '/' ? clean + 1 : clean;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return error_errno(err, "open /");
	_cleanup_close_ int fd = *rel ? fs_openat2(root, rel, O_PATH | O_DIRECTORY, how)
				      : fcntl(root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 && errno == ENOENT) {
		/* Component by component, each below the last one opened. */
		_cleanup_strv_ char **comps = strv_split(rel, '/');
		_cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
		for (size_t i = 0; comps[i] && dir >= 0; i++) {
			int next = fs_openat2(dir, comps[i], O_PATH | O_DIRECTORY, how);
			if (next < 0 && errno == ENOENT && mkdirat(dir, comps[i], 0755) == 0)
				next = fs_openat2(dir, comps[i], O_PATH | O_DIRECTORY, how);
			closep(&dir);
			dir = next;
		}
		fd = steal_fd(&dir);
	}
	if (fd < 0)
		return error_errno(err, "working directory %s%s", clean,
				   errno == ELOOP ? ": a link out of the container is refused" : "");
	if (fchdir(fd) < 0)
		return error_errno(err, "chdir %s", clean);
	/* Belt and braces: the kernel says "(unreachable)" for a cwd
	 * outside the root. */
	char buf[4096];
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		return error_set(err, EPERM, "working directory %s is outside the container", clean);
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* strerror as Go words it: "permission denied", "no such file or directory". */
static const char *go_strerror(int errnum, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(errnum));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* Go's exec.LookPath, against the container's PATH. */
static char *look_path(const char *file, char *const *env, int *ret_code, char *msg, size_t len)
{
	struct stat st;
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0) {
			*ret_code = errno == ENOENT ? 127 : 126;
			char e[128];
			snprintf(msg, len, "exec: \"%s\": stat %s: %s", file, file,
				 go_strerror(errno, e, sizeof(e)));
			return NULL;
		}
		return xstrdup(file);
	}
	const char *path = env_get(env, "PATH");
	_cleanup_strv_ char **dirs = strv_split(path ? path : DEFAULT_PATH, ':');
	for (size_t i = 0; dirs[i]; i++) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", *dirs[i] ? dirs[i] : ".", file);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return steal_ptr(&cand);
	}
	*ret_code = 127;
	snprintf(msg, len, "exec: \"%s\": executable file not found in $PATH", file);
	return NULL;
}

/* ---- scow's own init (--init) --------------------------------------------------- */

/* pid 1 for --init: forwards every signal to the command and reaps all
 * zombies; exits with the command's status (128+N after signal N). It is
 * the container's process made just before execve, so it has exactly the
 * container's credentials, capabilities and seccomp filter, and stays
 * non-dumpable (it never executes anything). */
static void __attribute__((noreturn)) init_loop(pid_t child)
{
	sigset_t all;
	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != child)
				continue;
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
			_exit(WEXITSTATUS(status));
		}
	}
}

/* The init is a fork of scow: its argv and environment are the host's
 * command line and environment. /proc/1/cmdline is readable by everything
 * in the container, so overwrite both where the kernel shows them. */
static void scrub_proc_identity(void)
{
	char buf[2048];
	_cleanup_close_ int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long v[4] = {0};
	/* arg_start, arg_end, env_start, env_end are fields 48-51. */
	for (int field = 3; p && field <= 51; field++) {
		p = strchr(p + 1, ' '); /* p + 1 is now field number `field` */
		if (p && field >= 48)
			v[field - 48] = strtoul(p + 1, NULL, 10);
	}
	if (v[0] && v[1] > v[0] && v[1] - v[0] < (1u << 24)) {
		memset((void *)v[0], 0, v[1] - v[0]);
		snprintf((char *)v[0], v[1] - v[0], "scow-init");
	}
	if (v[2] && v[3] > v[2] && v[3] - v[2] < (1u << 24))
		memset((void *)v[2], 0, v[3] - v[2]);
	prctl(PR_SET_NAME, "scow-init", 0, 0, 0);
}

/* The command waits until the init holds nothing but fds 0-2: it may look
 * at /proc/1/fd at once (and must never see the exec pipe there). The
 * init closes its end of `ready` last; the command reads it to EOF. */
static void start_init(struct child_ctx *c)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		struct scow_error *e = NULL;
		error_errno(&e, "the init's pipe");
		child_fail_err(c, e);
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0) {
		struct scow_error *e = NULL;
		error_errno(&e, "fork the init's child");
		child_fail_err(c, e);
	}
	if (child == 0) {
		close(ready[1]);
		char byte;
		while (read(ready[0], &byte, 1) < 0 && errno == EINTR)
			;
		close(ready[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	close(c->exec_wr); /* the command reports its own execve */
	close(ready[0]);
	scrub_proc_identity();
	close(ready[1]);
	init_loop(child);
}

/* ---- the child ---------------------------------------------------------------------- */

/* Order matters: the bounding set while CAP_SETPCAP is there, seccomp while
 * still root (without no_new_privs, loading a filter needs CAP_SYS_ADMIN,
 * which a non-root USER is about to lose), then the ids, then the sets. */
static int drop_privileges(const struct spawn_spec *spec, const struct user_ids *u,
			   struct scow_error **err)
{
	if (caps_drop_bounding(spec->caps, err) < 0)
		return -1;
	if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_errno(err, "no_new_privs");
	if (spec->seccomp && seccomp_bpf_install(spec->seccomp, err) < 0)
		return -1;
	if (setgroups(u->n_groups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
		return error_errno(err, "switch to user %u:%u", (unsigned)u->uid, (unsigned)u->gid);
	return caps_apply(spec->caps, u->uid == 0, err);
}

int proc_become_user(const struct spawn_spec *spec, char ***env, struct scow_error **err)
{
	_cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct user_ids u = {0};
	if (root < 0 || user_resolve(root, spec->user, spec->group_add, &u, err) < 0)
		return root < 0 ? error_errno(err, "open /") : -1;
	if (!env_get(*env, "HOME"))
		strv_push(env, xasprintf("HOME=%s", u.home));
	int r = drop_privileges(spec, &u, err);
	user_ids_release(&u);
	return r;
}

static void __attribute__((noreturn)) child_main(struct child_ctx *c)
{
	const struct spawn_spec *spec = c->spec;
	struct scow_error *e = NULL;
	/* Until execve, nothing in the container may ptrace us or open our
	 * /proc entries: they would reach the scow binary (CVE-2019-5736). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	char go;
	if (read(c->sync_rd, &go, 1) != 1)
		_exit(1); /* the parent gave up */
	proc_reset_signals();
	if (setsid() < 0)
		error_errno(&e, "setsid");
	/* Before anything that sees the network namespace (sysfs, sysctls). */
	if (!e && spec->net == NET_JOIN && setns(spec->netns_fd, CLONE_NEWNET) < 0)
		error_errno(&e, "join the network namespace");
	if (!e && (spec->net == NET_PRIVATE || spec->net == NET_NONE))
		loopback_up(&e);
	if (!e && spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		error_errno(&e, "set hostname");
	if (!e && spec->domainname &&
	    setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		error_errno(&e, "set domain name");
	umask(0);
	if (!e)
		rootfs_setup(spec, &e);
	umask(022);
	if (!e)
		proc_stdio(spec, c->io, c->console_wr, true, &e);
	if (!e)
		proc_rlimits(spec, &e);
	/* Nothing of the host's stays open into the container: not the
	 * caller's fds, not the store's or the cgroups' (--init keeps its fds
	 * for the container's whole life). */
	int keep[] = {c->sync_rd, c->exec_wr, c->console_wr};
	fs_close_fds_except(keep, ARRAY_SIZE(keep));
	if (!e)
		proc_enter_cwd(spec->cwd, &e);
	/* The parent finishes what must precede any untrusted code (cgroup
	 * membership, network) while we set up; wait for it here. */
	if (!e && read(c->sync_rd, &go, 1) != 1)
		_exit(1);
	log_trace("child: got final go");
	close(c->sync_rd);
	/* v1 --cgroupns private: rooted where the parent has just attached us
	 * (a namespace made at clone would be rooted at the supervisor's). */
	if (!e && spec->new_cgroupns && !spec->cgroup_v2 && unshare(CLONE_NEWCGROUP) < 0)
		error_errno(&e, "cgroup namespace");
	char **env = strv_copy(spec->env);
	if (!e)
		proc_become_user(spec, &env, &e);
	if (e)
		child_fail_err(c, e);
	if (c->console_wr >= 0)
		close(c->console_wr);
	log_trace("child: privileges dropped");
	proc_exec(spec, env, c->exec_wr, spec->init ? c : NULL);
}

void proc_exec(const struct spawn_spec *spec, char **env, int exec_wr, void *init_ctx)
{
	/* Every fd but 0-2 and the exec pipe (already CLOEXEC) goes at execve. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 65536; fd++)
			if (fd != exec_wr)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	int code = 126;
	char msg[1024];
	_cleanup_free_ char *path = look_path(spec->argv[0], env, &code, msg, sizeof(msg));
	if (!path)
		proc_fail(exec_wr, code, ENOENT, msg);
	if (init_ctx)
		start_init(init_ctx);
	execve(path, spec->argv, env);
	int saved = errno;
	char ebuf[128];
	snprintf(msg, sizeof(msg), "exec: \"%s\": %s", spec->argv[0],
		 go_strerror(saved, ebuf, sizeof(ebuf)));
	proc_fail(exec_wr, saved == ENOENT ? 127 : 126, saved, msg);
}

/* ---- the parent ------------------------------------------------------------------------ */

static void close_pair(int p[2])
{
	closep(&p[0]);
	closep(&p[1]);
	p[0] = p[1] = -1;
}

int ns_spawn(const struct spawn_spec *spec, const struct spawn_stdio *io,
	     spawn_prepare_fn prepare, void *opaque, struct spawned *ret,
	     struct scow_error **err)
{
	int sync[2] = {-1, -1}, execp[2] = {-1, -1}, cons[2] = {-1, -1};
	if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(execp, O_CLOEXEC) < 0 ||
	    (spec->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cons) < 0)) {
		error_errno(err, "spawn: pipes");
		close_pair(sync), close_pair(execp), close_pair(cons);
		return -1;
	}
	uint64_t flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_PIDFD;
	if (spec->net == NET_PRIVATE || spec->net == NET_NONE)
		flags |= CLONE_NEWNET;
	if (spec->new_cgroupns && spec->cgroup_v2)
		flags |= CLONE_NEWCGROUP;
	int pidfd = -1;
	struct clone_args args = {.flags = flags, .pidfd = (uint64_t)(uintptr_t)&pidfd,
				  .exit_signal = SIGCHLD};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(sync[1]);
		close(execp[0]);
		if (cons[0] >= 0)
			close(cons[0]);
		struct child_ctx c = {spec, io, sync[0], execp[1], cons[1]};
		child_main(&c);
	}
	closep(&sync[0]);
	closep(&execp[1]);
	closep(&cons[1]);
	if (pid < 0) {
		error_errno(err, "clone the container's namespaces");
		closep(&sync[1]), closep(&execp[0]), closep(&cons[0]);
		return -1;
	}
	struct spawned s = {.pid = pid, .pidfd = pidfd, .exec_fd = execp[0], .console_fd = -1,
			    .start_time = proc_start_time(pid)};
	/* First go: set up. prepare runs meanwhile (the cgroup attach of a v1
	 * host waits for an RCU grace period: better spent in parallel). */
	int r = write(sync[1], "g", 1) == 1 ? 0 : error_errno(err, "start the container");
	if (r == 0 && prepare)
		r = prepare(opaque, pid, err);
	/* Second go: drop privileges and execute. */
	if (r == 0 && write(sync[1], "g", 1) != 1) {
		/* EPIPE: the child failed its set-up and left; its report
		 * says why. */
		int saved = errno;
		r = proc_wait_exec(s.exec_fd, err) < 0 ? -1
							 : (errno = saved,
							    error_errno(err, "start the container"));
	}
	closep(&sync[1]); /* on failure the child sees EOF and leaves */
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* A child that failed its own set-up first (prepare then failed
		 * for want of it) has the error worth reporting. */
		struct scow_error *child_err = NULL;
		if (proc_wait_exec(s.exec_fd, &child_err) < 0) {
			error_freep(err);
			*err = child_err;
		}
		closep(&cons[0]);
		s.pid = 0;
		spawned_release(&s);
		return -1;
	}
	if (spec->tty)
		s.console_fd = proc_recv_fd(cons[0]); /* -1: the exec report says why */
	closep(&cons[0]);
	*ret = s;
	return 0;
}

int ns_spawn_wait_exec(struct spawned *s, struct scow_error **err)
{
	int r = proc_wait_exec(s->exec_fd, err);
	closep(&s->exec_fd);
	s->exec_fd = -1;
	return r;
}

int proc_wait_exec(int exec_fd, struct scow_error **err)
{
	struct exec_report r;
	ssize_t n;
	while ((n = read(exec_fd, &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(r)) {
		error_set(err, EIO, "the container failed to start");
		return error_set_exit(err, 125);
	}
	r.msg[sizeof(r.msg) - 1] = '\0';
	error_set(err, r.errnum, "%s", r.msg);
	return error_set_exit(err, r.exit_code ? r.exit_code : 125);
}

void spawned_release(struct spawned *s)
{
	closep(&s->pidfd);
	closep(&s->exec_fd);
	closep(&s->console_fd);
	s->pidfd = s->exec_fd = s->console_fd = -1;
}
