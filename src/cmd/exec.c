/* scow exec */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "util/detach.h"
#include "cmd/run.h"
#include "ns/caps.h"
#include "ns/exec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

const struct opt_def cmd_exec_opts[] = {
	{"detach", 'd', OPT_BOOL, NULL, "Detached mode: run command in the background", NULL},
	{"detach-keys", 0, OPT_VALUE, "string", "Override the key sequence for detaching a container",
	 NULL},
	{"env", 'e', OPT_LIST, "list", "Set environment variables", NULL},
	{"env-file", 0, OPT_LIST, "list", "Read in a file of environment variables", NULL},
	{"interactive", 'i', OPT_BOOL, NULL, "Keep STDIN open even if not attached", NULL},
	{"privileged", 0, OPT_BOOL, NULL, "Give extended privileges to the command", NULL},
	{"tty", 't', OPT_BOOL, NULL, "Allocate a pseudo-TTY", NULL},
	{"user", 'u', OPT_VALUE, "string", "Username or UID (format: <name|uid>[:<group|gid>])",
	 NULL},
	{"workdir", 'w', OPT_VALUE, "string", "Working directory inside the container", NULL},
	OPT_END,
};

int container_env_apply(json_t *env, const struct opts *o, struct scow_error **err);

/* The container's process spec, changed by exec's options. */
static int exec_spec(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
		     const struct opts *o, struct spec_store *st, struct scow_error **err)
{
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	int r = spec_build(cs, &is, c->config, c->id, st, err);
	image_store_close(&is);
	if (r < 0)
		return -1;
	struct spawn_spec *s = &st->spec;
	strv_free(s->argv);
	s->argv = xcalloc((size_t)o->nargs, sizeof(char *));
	for (int i = 1; i < o->nargs; i++)
		s->argv[i - 1] = xstrdup(o->args[i]);
	_cleanup_json_ json_t *env = json_array();
	for (size_t i = 0; s->env[i]; i++)
		json_array_append_new(env, json_string(s->env[i]));
	if (container_env_apply(env, o, err) < 0)
		return -1;
	strv_free(s->env);
	s->env = xcalloc(json_array_size(env) + 2, sizeof(char *));
	for (size_t i = 0; i < json_array_size(env); i++)
		s->env[i] = xstrdup(json_string_value(json_array_get(env, i)));
	s->tty = opt_bool(o, "tty");
	if (s->tty && !strv_contains(s->env, "TERM=xterm"))
		strv_push(&s->env, xstrdup("TERM=xterm"));
	s->open_stdin = opt_bool(o, "interactive");
	s->init = false;
	if (opt_str(o, "user")) {
		free(s->user);
		s->user = xstrdup(opt_str(o, "user"));
	}
	if (opt_str(o, "workdir")) {
		if (opt_str(o, "workdir")[0] != '/')
			return error_set(err, EINVAL, "the working directory '%s' is invalid, it needs "
						      "to be an absolute path",
					 opt_str(o, "workdir"));
		free(s->cwd);
		s->cwd = xstrdup(opt_str(o, "workdir"));
	}
	if (opt_bool(o, "privileged")) {
		s->caps = caps_all();
		s->seccomp = NULL;
	}
	struct winsize ws;
	if (s->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		s->tty_rows = ws.ws_row;
		s->tty_cols = ws.ws_col;
	}
	return 0;
}

/* ---- the relay between our stdio and the process ---------------------------------- */

struct relay {
	int in_from, in_to;   /* our stdin -> the process's input */
	int out_from, out_to; /* process stdout (or pty) -> ours */
	int err_from, err_to;
	bool tty;
	struct detach_keys keys;
	bool detached;
};

static bool copy_once(int from, int to)
{
	char buf[32768];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (to >= 0)
		fs_write_all(to, buf, (size_t)n);
	return true;
}

static void relay_input(struct relay *r)
{
	unsigned char buf[4096], out[2 * 4096 + 16];
	ssize_t n = read(r->in_from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->in_from = -1;
		if (!r->tty)
			closep(&r->in_to), r->in_to = -1;
		return;
	}
	size_t m = r->tty ? detach_keys_filter(&r->keys, buf, (size_t)n, out, &r->detached)
			  : (memcpy(out, buf, (size_t)n), (size_t)n);
	if (r->in_to >= 0)
		fs_write_all(r->in_to, out, m);
}

/* Relays until the process ends (its status) or the user detaches (-2). */
static int relay_run(struct relay *r, pid_t pid, int sigfd)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool exited = false;
	int status = 0;
	for (;;) {
		struct pollfd p[5] = {{r->in_from, POLLIN, 0}, {r->out_from, POLLIN, 0},
				      {r->err_from, POLLIN, 0}, {sigfd, POLLIN, 0}, {pfd, POLLIN, 0}};
		if (poll(p, 5, exited ? 100 : -1) == 0 && exited)
			break;
		if (p[0].revents)
			relay_input(r);
		if (r->detached)
			return -2;
		if (p[1].revents && !copy_once(r->out_from, r->out_to))
			r->out_from = -1;
		if (p[2].revents && !copy_once(r->err_from, r->err_to))
			r->err_from = -1;
		if (p[3].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				struct winsize ws;
				if ((int)si.ssi_signo == SIGWINCH && r->tty &&
				    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
					ioctl(r->out_from, TIOCSWINSZ, &ws);
				else if ((int)si.ssi_signo != SIGWINCH)
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (p[4].revents && !exited) {
			exited = true;
			waitpid(pid, &status, 0);
		}
		if (exited && r->out_from < 0 && r->err_from < 0)
			break;
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* After a detach the pty must stay open, or the process would get a
 * hangup: a small session-less holder keeps draining it. */
static void hold_after_detach(int master)
{
	pid_t h = fork();
	if (h != 0)
		return;
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		dup2(null, fd);
	char buf[4096];
	while (read(master, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
	_exit(0);
}

/* ---- the command ------------------------------------------------------------------------------ */

struct pipes {
	int fds[6]; /* in r/w, out r/w, err r/w */
};

static void pipes_close(struct pipes *p)
{
	for (int i = 0; i < 6; i++)
		closep(&p->fds[i]);
}

/* Our stdio for the process: a file or pipe is handed over as it is; a
 * terminal never is (TIOCSTI could push input into it): relayed through a
 * pipe instead. */
static int plan_stdio(const struct opts *o, struct spawn_stdio *io, struct relay *r,
		      struct pipes *p, struct scow_error **err)
{
	bool detach = opt_bool(o, "detach");
	*io = (struct spawn_stdio){-1, -1, -1};
	for (int i = 0; i < 6; i++)
		p->fds[i] = -1;
	*r = (struct relay){.in_from = -1, .in_to = -1, .out_from = -1, .out_to = -1,
			    .err_from = -1, .err_to = -1};
	if (detach)
		return 0;
	bool want[3] = {opt_bool(o, "interactive"), true, true};
	int *slot[3] = {&io->in, &io->out, &io->err};
	for (int fd = 0; fd < 3; fd++) {
		if (!want[fd])
			continue;
		if (!isatty(fd)) {
			*slot[fd] = fd;
			continue;
		}
		if (pipe2(&p->fds[2 * fd], O_CLOEXEC) < 0)
			return error_errno(err, "pipe");
		int theirs = fd == 0 ? p->fds[0] : p->fds[2 * fd + 1];
		int ours = fd == 0 ? p->fds[1] : p->fds[2 * fd];
		*slot[fd] = theirs;
		if (fd == 0)
			r->in_from = 0, r->in_to = ours;
		else if (fd == 1)
			r->out_from = ours, r->out_to = 1;
		else
			r->err_from = ours, r->err_to = 2;
	}
	return 0;
}

static int exec_container(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
			  const struct opts *o, struct scow_error **err)
{
	struct spec_store st = {0};
	struct relay r;
	struct pipes p;
	struct spawn_stdio io;
	if (exec_spec(ctx, cs, c, o, &st, err) < 0 || plan_stdio(o, &io, &r, &p, err) < 0 ||
	    detach_keys_parse(opt_str(o, "detach-keys"), &r.keys, err) < 0) {
		spec_store_release(&st);
		return -1;
	}
	struct exec_target t = {
		.pid = (pid_t)json_get_int(c->runtime, "Pid", 0),
		.start_time = (uint64_t)json_get_int(c->runtime, "PidStart", 0),
		.cgroup_path = json_get_str(c->runtime, "CgroupPath"),
		.cgroupns = st.spec.new_cgroupns,
	};
	sigset_t set, old;
	sigemptyset(&set);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct exec_process proc;
	int ret = ns_exec(&t, &st.spec, &io, &proc, err);
	bool tty = st.spec.tty;
	spec_store_release(&st);
	/* The process has its ends now; keep only ours. */
	for (int fd = 0; fd < 3; fd++) {
		int theirs = fd == 0 ? p.fds[0] : p.fds[2 * fd + 1];
		closep(&theirs);
		if (fd == 0)
			p.fds[0] = -1;
		else
			p.fds[2 * fd + 1] = -1;
	}
	if (ret == 0)
		ret = ns_exec_wait(&proc, err);
	if (ret < 0 || opt_bool(o, "detach")) {
		exec_process_release(&proc);
		pipes_close(&p);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	if (tty) {
		r.tty = true;
		r.out_from = proc.console_fd;
		r.out_to = 1;
		r.in_from = opt_bool(o, "interactive") ? 0 : -1;
		r.in_to = proc.console_fd;
	}
	struct termios saved;
	bool raw = tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t2 = saved;
		cfmakeraw(&t2);
		tcsetattr(STDIN_FILENO, TCSANOW, &t2);
	}
	_cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int code = relay_run(&r, proc.pid, sigfd);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (code == -2 && tty)
		hold_after_detach(proc.console_fd);
	exec_process_release(&proc);
	pipes_close(&p);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code == -2 ? 0 : code;
}

int cmd_exec(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c;
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	if (r == 0 && c.status == CTR_PAUSED)
		r = error_set(err, EBUSY, "container %s is paused, unpause the container before exec",
			      o->args[0]);
	else if (r == 0 && c.status != CTR_RUNNING)
		r = error_set(err, EINVAL, "container %s is not running", c.id);
	if (r < 0) {
		if (c.config || c.lock_fd >= 0)
			container_release(&c);
		container_store_close(&cs);
		return cmd_fail(err);
	}
	r = exec_container(ctx, &cs, &c, o, err);
	container_release(&c);
	container_store_close(&cs);
	return r;
}
