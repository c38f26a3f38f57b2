#include "supervise/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/run.h"
#include "state/volume.h"
#include "supervise/attach_server.h"
#include "supervise/logfile.h"
#include "util/detach.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define IO_CHUNK (32u << 10)
#define DRAIN_MS 2000

/* Forwarded to the container when the supervisor itself receives them. */
static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int sup_send(int fd, const struct sup_msg *m)
{
	if (fd < 0)
		return -1;
	ssize_t n;
	while ((n = send(fd, m, sizeof(*m), MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

int sup_recv(int fd, struct sup_msg *m)
{
	ssize_t n;
	while ((n = recv(fd, m, sizeof(*m), 0)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*m))
		return -1;
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

struct sup {
	const struct supervisor_opts *o;
	struct spawned sp;
	struct cgroup *cg;
	struct logfile *log;
	int epfd, sigfd;
	int out_rd, err_rd; /* container output (pipes) */
	int in_wr;	     /* container input pipe we feed, or -1 */
	int local_in;	     /* the client's input we read, or -1 */
	int local_out, local_err;
	bool exited;
	int exit_code;
	struct attach_server *as;
	struct detach_keys keys;
	char **anonymous_volumes; /* --rm: removed with the container */
	json_t *net_settings;	  /* NetworkSettings once connected, else NULL */
	bool log_failing;	  /* the last log write failed (warned once) */
	char buf[IO_CHUNK];
};

/* Waits (briefly) for the invoker to close its end after our last
 * message, reading what it still sends. Closing first with its messages
 * unread (a window size, a signal) would make its read of our last
 * message fail with ECONNRESET. */
static void ctl_linger(int ctl)
{
	if (ctl < 0)
		return;
	struct pollfd p = {.fd = ctl, .events = POLLIN};
	char sink[sizeof(struct sup_msg)];
	while (poll(&p, 1, 2000) > 0 && recv(ctl, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static void fatal(struct sup *s, struct scow_error *e)
{
	struct sup_msg m = {.type = SUP_FAILED, .code = e && e->exit_code ? e->exit_code : 125};
	snprintf(m.text, sizeof(m.text), "%s", e ? e->msg : "supervisor failed");
	sup_send(s->o->ctl_fd, &m);
}

static int watch(struct sup *s, int fd)
{
	if (fd < 0)
		return 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch(struct sup *s, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

static void stdio_to_null(const bool keep[3]);

/* ---- memory ---------------------------------------------------------------------- */

static int shed_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		/* Never written (code, read-only data): dropping its pages
		 * loses nothing, they fault back in from the file. */
		madvise((void *)start, end - start, MADV_DONTNEED);
		madvise((void *)start, end - start, MADV_RANDOM);
	}
	return 0;
}

/* The supervisor runs a small part of scow's code for a long time, but
 * the invoker's work and the kernel's fault-around (64 KiB per fault) left
 * most of the binary's and libc's read-only pages mapped in it: hundreds
 * of KiB of Rss and Pss per supervisor. Unmap them and let what the loop
 * touches come back. */
static void shed_code_pages(void)
{
	dl_iterate_phdr(shed_segments, NULL);
}

/* ---- start ------------------------------------------------------------------------ */

/* --oom-score-adj: set on the container's first process before it runs
 * anything; everything it starts inherits it. */
static int set_oom_score_adj(pid_t pid, int adj, struct scow_error **err)
{
	char path[64], val[16];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	int len = snprintf(val, sizeof(val), "%d", adj);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, (size_t)len) != len)
		return error_errno(err, "set oom_score_adj %d", adj);
	return 0;
}

/* While the child sets up its root file system (it runs nothing of the
 * image's until this returns): the limits, written to the still empty
 * cgroup (no reclaim to wait for), then the membership. */
static int prepare_child(void *opaque, pid_t pid, struct scow_error **err)
{
	struct sup *s = opaque;
	if (s->o->oom_score_adj && set_oom_score_adj(pid, s->o->oom_score_adj, err) < 0)
		return -1;
	if (s->cg && s->o->limits && cgroup_set_limits(s->cg, s->o->limits, err) < 0)
		return -1;
	if (s->cg && cgroup_attach(s->cg, pid, err) < 0)
		return -1;
	if (!net_run_wanted(s->o->config))
		return 0;
	/* Its network namespace exists: connect it before it runs. */
	const struct supervisor_opts *o = s->o;
	_cleanup_free_ char *hosts = container_path(o->cs, o->id, "hosts");
	return net_run_setup(o->cs->root, o->cs->runroot, o->id, o->config, hosts, pid,
			     proc_start_time(pid), &s->net_settings, err);
}

/* defer_links: the veths are left for net_links_delete() (after the
 * invoker has its answer), or NULL to delete them now. */
static void teardown_network(struct sup *s, char ***defer_links)
{
	if (!s->net_settings)
		return;
	net_run_teardown(s->o->cs->root, s->o->cs->runroot, s->o->id, defer_links);
	json_decref(s->net_settings);
	s->net_settings = NULL;
}

static int setup_cgroup(struct sup *s, struct scow_error **err)
{
	const struct supervisor_opts *o = s->o;
	if (cgroup_create(NULL, o->cgroup_parent, o->id, &s->cg, err) < 0)
		return -1;
	/* What /sys/fs/cgroup shows the container (it exists only now). */
	strv_free(o->spec->cgroup_dirs);
	o->spec->cgroup_dirs = cgroup_v1_view(s->cg);
	if (cgroup_set_devices(s->cg, o->spec->privileged, o->devices, o->n_devices, err) < 0)
		return -1;
	return 0;
}

/* Pipes (no tty) between us and the container. in/out/err get the
 * container's ends. */
static int setup_pipes(struct sup *s, struct spawn_stdio *io, struct scow_error **err)
{
	const struct supervisor_opts *o = s->o;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	s->out_rd = p[0], io->out = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	s->err_rd = p[0], io->err = p[1];
	io->in = -1;
	if (!o->spec->open_stdin)
		return 0;
	if (o->foreground && o->attach_stdin && !isatty(STDIN_FILENO)) {
		/* A file or pipe: the container reads it directly. */
		io->in = STDIN_FILENO;
		return 0;
	}
	/* A terminal is never handed to the container: it could push input
	 * into the host's terminal with TIOCSTI (SECURITY.md case 17). */
	if (pipe2(p, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	io->in = p[0], s->in_wr = p[1];
	if (o->foreground && o->attach_stdin)
		s->local_in = STDIN_FILENO;
	return 0;
}

static json_t *runtime_record(struct sup *s)
{
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	json_t *rt = json_object();
	json_set_int(rt, "Pid", s->sp.pid);
	json_set_int(rt, "PidStart", (long long)s->sp.start_time);
	json_set_int(rt, "SupervisorPid", getpid());
	json_set_int(rt, "SupervisorStart", (long long)proc_start_time(getpid()));
	json_set_str(rt, "CgroupPath", s->cg ? s->cg->path : NULL);
	json_set_str(rt, "Status", "running");
	json_set_str(rt, "StartedAt", now);
	if (s->net_settings)
		json_object_set(rt, "NetworkSettings", s->net_settings);
	return rt;
}

/* Records the start: runtime (tmpfs) first, then the durable state. */
static int record_start(struct sup *s, struct scow_error **err)
{
	const struct supervisor_opts *o = s->o;
	_cleanup_json_ json_t *rt = runtime_record(s);
	if (container_save_runtime(o->cs, o->id, rt, err) < 0)
		return -1;
	struct container c;
	if (container_load(o->cs, o->id, true, &c, err) < 0)
		return -1;
	json_set_str(c.state, "Status", "running");
	json_set_int(c.state, "Pid", s->sp.pid);
	json_set_int(c.state, "ExitCode", 0);
	json_set_str(c.state, "Error", "");
	json_set_str(c.state, "StartedAt", json_get_str(rt, "StartedAt"));
	json_set_str(c.state, "FinishedAt", "0001-01-01T00:00:00Z");
	json_object_set_new(c.state, "OOMKilled", json_false());
	int r = container_save_state(o->cs, &c, err);
	container_release(&c);
	return r;
}

/* A start that failed: the container stays "created" with the error, as
 * Docker leaves it (and --rm removes it). */
static void record_failure(struct sup *s, const struct scow_error *e)
{
	const struct supervisor_opts *o = s->o;
	struct container c;
	_cleanup_error_ struct scow_error *ignored = NULL;
	if (container_load(o->cs, o->id, true, &c, &ignored) < 0)
		return;
	json_set_int(c.state, "ExitCode", e && e->exit_code ? e->exit_code : 125);
	json_set_str(c.state, "Error", e ? e->msg : "start failed");
	if (json_get_bool(json_get_obj(c.config, "HostConfig"), "AutoRemove", false)) {
		_cleanup_strv_ char **volumes = volume_anonymous_of(c.config);
		if (container_delete(o->cs, &c, &ignored) == 0)
			volume_remove_unused(o->cs, volumes);
	} else
		container_save_state(o->cs, &c, &ignored);
	container_release(&c);
}

static int start(struct sup *s, struct scow_error **err)
{
	const struct supervisor_opts *o = s->o;
	struct spawn_stdio io = {-1, -1, -1};
	if (!o->log_none) {
		_cleanup_close_ int dfd = container_dir_fd(o->cs, o->id, err);
		if (dfd < 0 ||
		    logfile_open(dfd, "ctr.log", o->log_max_size, o->log_max_file, &s->log, err) < 0)
			return -1;
	}
	if (setup_cgroup(s, err) < 0 || (!o->spec->tty && setup_pipes(s, &io, err) < 0))
		return -1;
	log_trace("sup: cgroup ready");
	int r = ns_spawn(o->spec, &io, prepare_child, s, &s->sp, err);
	log_trace("sup: spawned");
	/* Our copies of the container's ends go, so EOF means its end. */
	if (io.in >= 0 && io.in != STDIN_FILENO)
		close(io.in);
	closep(&io.out);
	closep(&io.err);
	if (r < 0 || ns_spawn_wait_exec(&s->sp, err) < 0)
		return -1;
	log_trace("sup: exec confirmed");
	if (o->spec->tty) {
		s->out_rd = s->sp.console_fd;
		if (o->spec->open_stdin) {
			s->in_wr = s->sp.console_fd;
			if (o->foreground && o->attach_stdin)
				s->local_in = STDIN_FILENO;
		}
	}
	log_trace("sup: start recorded");
	if (record_start(s, err) < 0)
		return -1;
	/* Attach: in the runtime dir record_start just made. */
	_cleanup_close_ int rdir = openat(o->cs->run_fd, o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_error_ struct scow_error *e = NULL;
	if (rdir < 0 || attach_server_open(rdir, &s->as, &e) < 0)
		log_warn("container %.12s: attach unavailable: %s", o->id, e ? e->msg : "no runtime dir");
	return 0;
}

/* ---- the loop -------------------------------------------------------------------------- */

static void deliver(struct sup *s, int sig)
{
	if (s->exited)
		return;
	if (syscall(SYS_pidfd_send_signal, s->sp.pidfd, sig, NULL, 0) < 0)
		kill(s->sp.pid, sig);
}

/* Copies the container's output to the log and the client. Returns false
 * at EOF (or EIO: a pty whose slave side is all closed). */
static bool pump_output(struct sup *s, int fd, const char *stream, int local)
{
	ssize_t n = read(fd, s->buf, sizeof(s->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (s->log) {
		_cleanup_error_ struct scow_error *e = NULL;
		/* Said once per run of failures (a full disk fails every write). */
		if (logfile_write(s->log, stream, s->buf, (size_t)n, &e) < 0) {
			if (!s->log_failing)
				log_warn("container log: %s (output is not logged until writes "
					 "succeed again)",
					 e->msg);
			s->log_failing = true;
		} else {
			s->log_failing = false;
		}
	}
	if (s->as)
		attach_server_broadcast(s->as, strcmp(stream, "stderr") == 0 ? 2 : 1, s->buf,
					(size_t)n);
	if (local >= 0 && fs_write_all(local, s->buf, (size_t)n) < 0) {
		/* The client went away: keep logging. */
		if (local == s->local_out)
			s->local_out = -1;
		else
			s->local_err = -1;
	}
	return true;
}

/* The foreground client typed the detach keys: it goes, we carry on. */
static void detach_local(struct sup *s)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->local_in, NULL);
	s->local_in = s->local_out = s->local_err = -1;
	stdio_to_null((bool[3]){false, false, false});
	struct sup_msg m = {.type = SUP_DETACHED};
	sup_send(s->o->ctl_fd, &m);
}

static void pump_input(struct sup *s)
{
	ssize_t n = read(s->local_in, s->buf, sizeof(s->buf) / 2 - 16);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF from the client: the container's stdin closes too (not
		 * for a tty, which is shared with the container's own use). */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->local_in, NULL);
		s->local_in = -1;
		if (!s->o->spec->tty)
			closep(&s->in_wr), s->in_wr = -1;
		return;
	}
	size_t len = (size_t)n;
	const char *data = s->buf;
	if (s->o->spec->tty) {
		/* Filtered into the second half of the buffer. */
		bool detach;
		len = detach_keys_filter(&s->keys, (unsigned char *)s->buf, (size_t)n,
					 (unsigned char *)s->buf + sizeof(s->buf) / 2, &detach);
		data = s->buf + sizeof(s->buf) / 2;
		if (detach) {
			if (len && s->in_wr >= 0)
				fs_write_all(s->in_wr, data, len);
			detach_local(s);
			return;
		}
	}
	if (s->in_wr >= 0 && fs_write_all(s->in_wr, data, len) < 0 && !s->o->spec->tty)
		closep(&s->in_wr), s->in_wr = -1;
}

static void attach_input(void *opaque, const void *buf, size_t len)
{
	struct sup *s = opaque;
	if (s->in_wr >= 0)
		fs_write_all(s->in_wr, buf, len);
}

static void attach_winsize(void *opaque, int rows, int cols)
{
	struct sup *s = opaque;
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (s->o->spec->tty)
		ioctl(s->sp.console_fd, TIOCSWINSZ, &ws);
}

static void attach_signal(void *opaque, int sig)
{
	deliver(opaque, sig);
}

static void handle_ctl(struct sup *s)
{
	struct sup_msg m;
	int r = sup_recv(s->o->ctl_fd, &m);
	if (r <= 0) {
		/* The invoker is gone: we carry on without it. */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->o->ctl_fd, NULL);
		((struct supervisor_opts *)s->o)->ctl_fd = -1;
		s->local_in = s->local_out = s->local_err = -1;
		return;
	}
	if (m.type == SUP_SIGNAL)
		deliver(s, m.a);
	else if (m.type == SUP_WINSIZE && s->o->spec->tty) {
		struct winsize ws = {.ws_row = (unsigned short)m.a, .ws_col = (unsigned short)m.b};
		ioctl(s->sp.console_fd, TIOCSWINSZ, &ws);
	}
}

static void handle_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if ((int)si.ssi_signo != SIGCHLD) {
			deliver(s, (int)si.ssi_signo);
			continue;
		}
		siginfo_t info = {0};
		if (waitid(P_PIDFD, (id_t)s->sp.pidfd, &info, WEXITED | WNOHANG) == 0 &&
		    info.si_pid != 0) {
			s->exited = true;
			s->exit_code = info.si_code == CLD_EXITED ? info.si_status
								  : 128 + info.si_status;
		}
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void loop(struct sup *s)
{
	int64_t deadline = -1;
	for (;;) {
		if (s->exited && deadline < 0)
			deadline = now_ms() + DRAIN_MS;
		/* After the exit, only output still buffered in the pipes. */
		if (s->exited && ((s->out_rd < 0 && s->err_rd < 0) || now_ms() > deadline))
			return;
		int timeout = s->exited ? (int)(deadline - now_ms()) : -1;
		struct epoll_event evs[8];
		int n = epoll_wait(s->epfd, evs, 8, timeout < 0 && s->exited ? 0 : timeout);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == s->out_rd) {
				if (!pump_output(s, fd, "stdout", s->local_out))
					unwatch(s, &s->out_rd);
			} else if (fd == s->err_rd) {
				if (!pump_output(s, fd, "stderr", s->local_err))
					unwatch(s, &s->err_rd);
			} else if (fd == s->local_in) {
				pump_input(s);
			} else if (fd == s->sigfd) {
				handle_signal(s);
			} else if (fd == s->o->ctl_fd) {
				handle_ctl(s);
			} else if (s->as && fd == attach_server_listen_fd(s->as)) {
				watch(s, attach_server_accept(s->as));
			} else if (s->as && attach_server_is_client(s->as, fd)) {
				struct attach_sink sink = {attach_input, attach_winsize,
							   attach_signal, s};
				attach_server_receive(s->as, fd, &sink);
			}
		}
	}
}

/* ---- the end --------------------------------------------------------------------------------- */

/* Returns true when the container was --rm and is now unlinked: its files
 * are purged after the invoker has its answer. */
static bool record_exit(struct sup *s)
{
	bool purge = false;
	const struct supervisor_opts *o = s->o;
	_cleanup_error_ struct scow_error *e = NULL;
	bool oom = false;
	if (s->log) {
		logfile_flush(s->log, &e);
		logfile_close(s->log);
		s->log = NULL;
	}
	if (s->cg)
		cgroup_oom_killed(s->cg, &oom, &e);
	log_trace("sup: log closed, oom checked");
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	struct container c;
	if (container_load(o->cs, o->id, true, &c, &e) == 0) {
	log_trace("sup: loaded for exit");
		json_set_str(c.state, "Status", "exited");
		json_set_int(c.state, "ExitCode", s->exit_code);
		json_set_int(c.state, "Pid", 0);
		json_set_str(c.state, "FinishedAt", now);
		json_object_set_new(c.state, "OOMKilled", json_boolean(oom));
		if (json_get_bool(json_get_obj(c.config, "HostConfig"), "AutoRemove", false)) {
			container_save_runtime(o->cs, o->id, NULL, NULL);
			purge = container_unlink(o->cs, &c, &e) == 0;
			if (purge)
				s->anonymous_volumes = volume_anonymous_of(c.config);
		} else if (container_save_state(o->cs, &c, &e) == 0) {
			container_save_runtime(o->cs, o->id, NULL, NULL);
		} else {
			/* A full data root: the exit waits in the runroot until a
			 * later command can write it (supervise_reap_orphan). */
			log_warn("record the exit of %.12s: %s", o->id, e->msg);
			json_object_set_new(c.runtime ? c.runtime : (c.runtime = json_object()), "Exit",
					    json_pack("{si ss sb}", "ExitCode", s->exit_code,
						      "FinishedAt", now, "OOMKilled", oom));
			error_freep(&e);
			if (container_save_runtime(o->cs, o->id, c.runtime, &e) < 0)
				log_warn("keep the exit of %.12s: %s", o->id, e->msg);
		}
		container_release(&c);
	}
	return purge;
}

static void teardown_cgroup(struct sup *s)
{
	if (!s->cg)
		return;
	_cleanup_error_ struct scow_error *e = NULL;
	/* The pid namespace is gone with its init; stragglers (zombies being
	 * reaped) only need a moment. */
	if (cgroup_destroy(s->cg, &e) < 0) {
		error_freep(&e);
		cgroup_kill_all(s->cg, &e);
		error_freep(&e);
		if (cgroup_destroy(s->cg, &e) < 0)
			log_warn("remove cgroup %s: %s", s->cg->path, e->msg);
	}
	cgroup_free(s->cg);
	s->cg = NULL;
}

static int setup_loop(struct sup *s, struct scow_error **err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&set, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sigfd < 0 || s->epfd < 0)
		return error_errno(err, "supervisor: event loop");
	if (watch(s, s->sigfd) < 0 || watch(s, s->out_rd) < 0 || watch(s, s->err_rd) < 0 ||
	    watch(s, s->o->ctl_fd) < 0 || watch(s, s->local_in) < 0 ||
	    (s->as && watch(s, attach_server_listen_fd(s->as)) < 0))
		return error_errno(err, "supervisor: epoll");
	return 0;
}

/* Points fds 0-2 (but those kept) at /dev/null. */
static void stdio_to_null(const bool keep[3])
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		if (!keep[fd])
			dup2(null, fd);
	if (null > 2)
		close(null);
}

void supervisor_main(const struct supervisor_opts *o)
{
	struct sup s = {.o = o, .out_rd = -1, .err_rd = -1, .in_wr = -1, .local_in = -1,
			.sigfd = -1, .epfd = -1, .sp = {.pidfd = -1, .exec_fd = -1, .console_fd = -1}};
	s.local_out = o->foreground && o->attach_stdout ? STDOUT_FILENO : -1;
	s.local_err = o->foreground && o->attach_stderr ? STDERR_FILENO : -1;
	if (o->spec->tty && s.local_out < 0 && o->foreground && o->attach_stderr)
		s.local_out = STDERR_FILENO;
	setsid();
	signal(SIGPIPE, SIG_IGN);
	/* Detached: let go of the invoker's terminal or pipes, or a shell
	 * reading `scow run -d` through $(...) would wait for us forever. */
	bool keep[3] = {o->foreground && o->attach_stdin,
			o->foreground && (o->attach_stdout || o->spec->tty),
			o->foreground && (o->attach_stderr || o->spec->tty)};
	stdio_to_null(keep);
	/* SIGCHLD is blocked before the container exists, so that its exit
	 * cannot slip by before the signalfd is there. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	struct scow_error *e = NULL;
	if (detach_keys_parse(o->detach_keys, &s.keys, &e) < 0)
		detach_keys_parse(NULL, &s.keys, NULL);
	error_freep(&e);
	if (start(&s, &e) < 0 || setup_loop(&s, &e) < 0) {
		if (s.sp.pid > 0 && !s.exited) {
			kill(s.sp.pid, SIGKILL);
			waitpid(s.sp.pid, NULL, 0);
		}
		teardown_network(&s, NULL);
		teardown_cgroup(&s);
		record_failure(&s, e);
		fatal(&s, e);
		ctl_linger(o->ctl_fd);
		_exit(1);
	}
	struct sup_msg m = {.type = SUP_STARTED, .a = s.sp.pid};
	sup_send(o->ctl_fd, &m);
	/* We may watch the container for months: give back the heap pages
	 * the invoker's work left free (the image, the seccomp profile, the
	 * config it parsed before the fork); they count against each
	 * supervisor, as nothing shares them once the invoker is gone. */
	malloc_trim(0);
	shed_code_pages();
	loop(&s);
	log_trace("sup: container exited");
	if (s.as) {
		attach_server_exit(s.as, s.exit_code);
		attach_server_close(s.as);
		s.as = NULL;
	}
	_cleanup_strv_ char **veths = xcalloc(1, sizeof(char *));
	teardown_network(&s, &veths);
	bool purge = record_exit(&s);
	log_trace("sup: exit recorded");
	teardown_cgroup(&s);
	log_trace("sup: cgroup removed");
	/* Anonymous volumes of an --rm container go before the answer: a
	 * script's next command must not see them (rarely any: the common
	 * run --rm pays nothing here). */
	volume_remove_unused(o->cs, s.anonymous_volumes);
	struct sup_msg done = {.type = SUP_EXITED, .code = s.exit_code};
	sup_send(o->ctl_fd, &done);
	ctl_linger(o->ctl_fd);
	/* Its address and ports are free already; the veth usually goes
	 * with the container's network namespace before we get here. */
	net_links_delete(veths);
	if (purge) {
		/* The invoker has its answer: let go of its terminal or pipes
		 * (a shell waiting on $(scow run --rm ...) would wait for us),
		 * then free the space. */
		stdio_to_null((bool[3]){false, false, false});
		closep(&((struct supervisor_opts *)o)->ctl_fd);
		container_purge(o->cs, o->id);
	}
	_exit(0);
}
