/* scow run, create, start */
#include "cmd/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "image/reference.h"
#include "state/volume.h"
#include "supervise/logfile.h"
#include "supervise/supervisor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ---- image -------------------------------------------------------------------------- */

int run_resolve_image(struct scow_ctx *ctx, const struct opts *o, const char *name,
		      char **ret_id, struct scow_error **err)
{
	const char *pull = opt_str(o, "pull") ? opt_str(o, "pull") : "missing";
	if (strcmp(pull, "always") && strcmp(pull, "missing") && strcmp(pull, "never"))
		return error_set(err, EINVAL,
				 "invalid pull option: '%s': must be one of \"always\", \"missing\" "
				 "or \"never\"",
				 pull);
	bool quiet = opt_bool(o, "quiet");
	if (strcmp(pull, "always") == 0)
		return cmd_pull_image(ctx, o, name, stderr, quiet, ret_id, err);
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return -1;
	_cleanup_error_ struct scow_error *e = NULL;
	int r = image_store_resolve(&s, name, ret_id, NULL, &e);
	image_store_close(&s);
	if (r == 0)
		return 0;
	if (e->errnum != ENOENT || strcmp(pull, "never") == 0 || image_id_like(name)) {
		*err = steal_ptr(&e);
		return -1;
	}
	struct image_ref ref = {0};
	if (image_ref_parse(name, true, &ref, err) < 0)
		return -1;
	_cleanup_free_ char *fam = image_ref_familiar(&ref);
	image_ref_release(&ref);
	if (!quiet)
		fprintf(stderr, "Unable to find image '%s' locally\n", fam);
	return cmd_pull_image(ctx, o, name, stderr, quiet, ret_id, err);
}

/* ---- create ------------------------------------------------------------------------ */

static int write_file(int dfd, const char *name, const char *text, struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, text, strlen(text)) < 0)
		return error_errno(err, "write %s", name);
	return 0;
}

static int write_etc_files(struct scow_ctx *ctx, int dfd, json_t *config,
			   struct scow_error **err)
{
	json_t *cfg = json_get_obj(config, "Config");
	const char *hostname = json_get_str(cfg, "Hostname");
	_cleanup_free_ char *hn = xasprintf("%s\n", hostname);
	_cleanup_free_ char *resolv = container_resolv_conf(config);
	_cleanup_free_ char *hosts = NULL;
	if (container_hosts_file(ctx, config, &hosts, err) < 0)
		return -1;
	if (write_file(dfd, "hostname", hn, err) < 0 || write_file(dfd, "hosts", hosts, err) < 0 ||
	    write_file(dfd, "resolv.conf", resolv, err) < 0)
		return -1;
	for (const char *d = "upper\0work\0merged\0"; *d; d += strlen(d) + 1)
		if (mkdirat(dfd, d, 0755) < 0)
			return error_errno(err, "create %s", d);
	return 0;
}

int container_create_from_opts(struct scow_ctx *ctx, const struct opts *o,
			       struct container_store *cs, char ret_id[CONTAINER_ID_LEN + 1],
			       struct scow_error **err)
{
	const char *image = o->args[0];
	const char *cidfile = opt_str(o, "cidfile");
	if (cidfile && access(cidfile, F_OK) == 0)
		return error_set(err, EEXIST,
				 "Container ID file found, make sure the other container isn't "
				 "running or delete %s",
				 cidfile);
	const char *name = opt_str(o, "name");
	if (name && container_name_check(name[0] == '/' ? name + 1 : name, err) < 0)
		return -1;
	_cleanup_free_ char *image_id = NULL;
	if (run_resolve_image(ctx, o, image, &image_id, err) < 0)
		return -1;
	log_trace("image resolved");
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	/* Until the record is committed, no rmi deletes the image (it finds
	 * no container using it before that). */
	_cleanup_close_ int users = image_store_users_lock(&is, false, err);
	_cleanup_json_ json_t *config = NULL;
	int r = users < 0 ? -1 : container_config_build(ctx, o, &is, image_id, image, &config, err);
	image_store_close(&is);
	if (r < 0)
		return -1;
	const char *id = json_get_str(config, "Id");
	log_trace("config built");
	_cleanup_free_ char *chosen = name ? xstrdup(name[0] == '/' ? name + 1 : name)
					   : container_random_name(cs);
	_cleanup_free_ char *slash_name = xasprintf("/%s", chosen);
	json_set_str(config, "Name", slash_name);
	bool durable = !json_get_bool(json_get_obj(config, "HostConfig"), "AutoRemove", false);
	_cleanup_close_ int dfd = -1;
	_cleanup_strv_ char **anonymous = NULL;
	if (container_volumes_prepare(cs, o, config, &anonymous, err) < 0 ||
	    container_create(cs, id, config, durable, &dfd, err) < 0 ||
	    write_etc_files(ctx, dfd, config, err) < 0 || container_commit(cs, id, config, !name, err) < 0) {
		container_abort(cs, id);
		volume_remove_unused(cs, anonymous);
		return -1;
	}
	if (cidfile) {
		_cleanup_close_ int fd = open(cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || fs_write_all(fd, id, strlen(id)) < 0)
			log_warn("write the container id file %s: %m", cidfile);
	}
	log_trace("created");
	snprintf(ret_id, CONTAINER_ID_LEN + 1, "%s", id);
	return 0;
}

/* ---- start: the supervisor and the foreground client ------------------------------------ */

static int log_options(json_t *config, struct supervisor_opts *so, struct scow_error **err)
{
	json_t *lc = json_get_obj(json_get_obj(config, "HostConfig"), "LogConfig");
	so->log_none = str_eq(json_get_str(lc, "Type"), "none");
	so->log_max_file = 1;
	json_t *c = json_get_obj(lc, "Config");
	const char *ms = json_get_str(c, "max-size"), *mf = json_get_str(c, "max-file");
	if (ms && logfile_parse_size(ms, &so->log_max_size, err) < 0)
		return -1;
	if (mf && logfile_parse_max_file(mf, &so->log_max_file, err) < 0)
		return -1;
	return 0;
}

static int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

struct client {
	int ctl;
	int sigfd;
	bool raw;
	struct termios saved;
};

static void send_winsize(int ctl)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	struct sup_msg m = {.type = SUP_WINSIZE, .a = ws.ws_row, .b = ws.ws_col};
	sup_send(ctl, &m);
}

/* A foreground -t run: the terminal goes raw before the container can
 * write anything, and back when we are done. */
static void client_raw(struct client *cl)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &cl->saved) == 0) {
		struct termios raw = cl->saved;
		cfmakeraw(&raw);
		cl->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
}

/* The foreground side: signals go to the container, and the exit status
 * comes back from the supervisor. */
static int client_wait(struct client *cl, bool tty, bool sig_proxy, struct scow_error **err)
{
	if (tty)
		send_winsize(cl->ctl);
	for (;;) {
		struct pollfd p[2] = {{cl->ctl, POLLIN, 0}, {cl->sigfd, POLLIN, 0}};
		if (poll(p, cl->sigfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return error_errno(err, "poll");
		if (cl->sigfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(cl->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((int)si.ssi_signo == SIGWINCH) {
					if (tty)
						send_winsize(cl->ctl);
					continue;
				}
				if (!sig_proxy)
					continue;
				struct sup_msg m = {.type = SUP_SIGNAL, .a = (int)si.ssi_signo};
				sup_send(cl->ctl, &m);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		struct sup_msg m;
		int r = sup_recv(cl->ctl, &m);
		if (r == 1 && m.type == SUP_EXITED)
			return m.code;
		if (r == 1 && m.type == SUP_DETACHED)
			return 0; /* the container goes on; so does the shell */
		if (r <= 0)
			return error_set(err, EIO,
					 "the container's supervisor died (%s); the container may "
					 "still run",
					 r < 0 ? strerror(errno) : "no exit status");
	}
}

static void client_release(struct client *cl)
{
	if (cl->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &cl->saved);
	closep(&cl->sigfd);
	closep(&cl->ctl);
}

/* Held by the supervisor for its whole life: a second start sees it taken.
 * `cp` holds it shared while it copies into or out of a stopped container:
 * that is waited for (the container is not running meanwhile). */
static int take_supervisor_lock(struct container_store *cs, const char *id, struct scow_error **err)
{
	_cleanup_close_ int dfd = container_dir_fd(cs, id, err);
	if (dfd < 0)
		return -1;
	struct timespec step = {0, 20 * 1000 * 1000};
	for (int attempt = 0;; attempt++) {
		int fd = lock_acquire(dfd, "supervisor.lock", LOCK_MODE_EXCLUSIVE, true, err);
		if (fd != -2)
			return fd;
		struct container c;
		_cleanup_error_ struct scow_error *e = NULL;
		bool running = container_load(cs, id, false, &c, &e) == 0 &&
			       (c.status == CTR_RUNNING || c.status == CTR_PAUSED ||
				c.status == CTR_RESTARTING);
		if (!e)
			container_release(&c);
		if (running || attempt == 1500)
			return error_set(err, EBUSY, "container %.12s is already running", id);
		nanosleep(&step, NULL);
	}
}

static int start_checks(struct container_store *cs, const char *id, json_t **ret_config,
			struct scow_error **err)
{
	struct container c;
	if (container_load(cs, id, true, &c, err) < 0)
		return -1;
	int r = 0;
	if (c.status == CTR_RUNNING || c.status == CTR_PAUSED)
		r = error_set(err, EBUSY, "container %.12s is already running", id);
	if (r == 0)
		*ret_config = json_incref(c.config);
	container_release(&c);
	return r;
}

int container_start(struct scow_ctx *ctx, struct container_store *cs, const char *id,
		    const struct start_opts *so, struct scow_error **err)
{
	_cleanup_json_ json_t *config = NULL;
	if (start_checks(cs, id, &config, err) < 0)
		return -1;
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	struct spec_store st = {0};
	int r = spec_build(cs, &is, config, id, &st, err);
	if (r == 0)
		r = container_net_join_spec(cs, id, config, &st.spec, err); /* container:X */
	log_trace("spec built");
	image_store_close(&is);
	struct winsize ws;
	if (r == 0 && st.spec.tty && so->foreground &&
	    (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)) {
		st.spec.tty_rows = ws.ws_row;
		st.spec.tty_cols = ws.ws_col;
	}
	struct supervisor_opts sup = {
		.cs = cs, .id = id, .config = config, .spec = &st.spec,
		.foreground = so->foreground, .attach_stdin = so->attach_stdin,
		.attach_stdout = so->attach_stdout, .attach_stderr = so->attach_stderr,
		.devices = st.rules, .n_devices = st.n_rules, .detach_keys = so->detach_keys,
		.cgroup_parent = st.cgroup_parent, .limits = st.limits.any ? &st.limits.l : NULL,
		.oom_score_adj = st.limits.oom_score_adj,
	};
	int lock = r < 0 ? -1 : take_supervisor_lock(cs, id, err);
	if (r < 0 || lock < 0 || log_options(config, &sup, err) < 0) {
		lock_release(lock);
		spec_store_release(&st);
		return -1;
	}
	struct client cl = {.ctl = -1, .sigfd = -1};
	bool tty = json_get_bool(json_get_obj(config, "Config"), "Tty", false);
	if (so->foreground && tty)
		client_raw(&cl);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		lock_release(lock);
		spec_store_release(&st);
		client_release(&cl);
		return error_errno(err, "socketpair");
	}
	/* Signals to forward are blocked before the fork, so none is lost;
	 * the supervisor sets up its own. */
	/* Without --sig-proxy a foreground client keeps the default actions:
	 * Ctrl-C ends the client, not the container (Docker's behaviour). */
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		if (so->sig_proxy || forwarded[i] == SIGWINCH)
			sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid_t pid = fork();
	log_trace("forked");
	if (pid == 0) {
		close(sp[0]);
		sup.ctl_fd = sp[1];
		/* The supervisor outlives its invoker: it must not hold the
		 * invoker's other fds (a caller waiting for EOF on a pipe it
		 * passed would wait for the container's whole life). */
		int keep[] = {sp[1], lock, cs->containers_fd, cs->names_fd, cs->run_fd,
			      st.spec.net == NET_JOIN ? st.spec.netns_fd : -1};
		fs_close_fds_except(keep, ARRAY_SIZE(keep));
		sigprocmask(SIG_SETMASK, &old, NULL);
		supervisor_main(&sup);
	}
	close(sp[1]);
	lock_release(lock); /* the supervisor holds its own copy */
	spec_store_release(&st);
	cl.ctl = sp[0];
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		return error_errno(err, "fork the supervisor");
	}
	struct sup_msg m;
	int got = sup_recv(cl.ctl, &m);
	log_trace("started message");
	if (got != 1 || m.type != SUP_STARTED) {
		waitpid(pid, NULL, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		if (got == 1 && m.type == SUP_FAILED) {
			error_set(err, EIO, "%s", m.text);
			return error_set_exit(err, m.code);
		}
		return error_set(err, EIO, "the container's supervisor died before starting it");
	}
	if (!so->foreground) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		return 0;
	}
	cl.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int code = client_wait(&cl, tty, so->sig_proxy, err);
	client_release(&cl);
	/* The supervisor may still be freeing an --rm container's files; it
	 * is not waited for (init reaps it once we are gone). */
	waitpid(pid, NULL, WNOHANG);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code;
}

/* ---- the commands ---------------------------------------------------------------------------- */

static int open_containers(struct scow_ctx *ctx, struct container_store *cs,
			   struct scow_error **err)
{
	return container_store_open(ctx->root, ctx->runroot, cs, err);
}

int cmd_create(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	char id[CONTAINER_ID_LEN + 1];
	int r = container_create_from_opts(ctx, o, &cs, id, err);
	container_store_close(&cs);
	if (r < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

int cmd_run(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	bool detach = opt_bool(o, "detach");
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	char id[CONTAINER_ID_LEN + 1];
	if (container_create_from_opts(ctx, o, &cs, id, err) < 0) {
		container_store_close(&cs);
		return -1;
	}
	struct container c;
	if (container_load(&cs, id, false, &c, err) < 0) {
		container_store_close(&cs);
		return -1;
	}
	json_t *cfg = json_get_obj(c.config, "Config");
	struct start_opts so = {
		.foreground = !detach,
		.attach_stdin = json_get_bool(cfg, "AttachStdin", false),
		.attach_stdout = json_get_bool(cfg, "AttachStdout", false),
		.attach_stderr = json_get_bool(cfg, "AttachStderr", false),
		.sig_proxy = !opt_set(o, "sig-proxy") || opt_bool(o, "sig-proxy"),
		.detach_keys = opt_str(o, "detach-keys"),
	};
	container_release(&c);
	int r = container_start(ctx, &cs, id, &so, err);
	container_store_close(&cs);
	if (r < 0)
		return -1;
	if (detach)
		printf("%s\n", id);
	return r;
}

const struct opt_def cmd_start_opts[] = {
	{"attach", 'a', OPT_BOOL, NULL, "Attach STDOUT/STDERR and forward signals", NULL},
	{"interactive", 'i', OPT_BOOL, NULL, "Attach container's STDIN", NULL},
	OPT_END,
};

int cmd_start(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	bool attach = opt_bool(o, "attach") || opt_bool(o, "interactive");
	if (attach && o->nargs > 1) {
		container_store_close(&cs);
		return error_set(err, EINVAL, "you cannot start and attach multiple containers at once");
	}
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		char id[CONTAINER_ID_LEN + 1];
		_cleanup_error_ struct scow_error *e = NULL;
		struct start_opts so = {.foreground = attach, .attach_stdin = opt_bool(o, "interactive"),
					.attach_stdout = attach, .attach_stderr = attach,
					.sig_proxy = true};
		int r = container_resolve(&cs, o->args[i], id, &e);
		if (r == 0)
			r = container_start(ctx, &cs, id, &so, &e);
		if (r < 0) {
			/* Starting a running container is not an error for Docker. */
			if (e->errnum == EBUSY && !attach) {
				printf("%s\n", o->args[i]);
				continue;
			}
			if (attach) {
				*err = steal_ptr(&e);
				container_store_close(&cs);
				return cmd_fail(err);
			}
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		if (attach) {
			container_store_close(&cs);
			return r;
		}
		printf("%s\n", o->args[i]);
	}
	container_store_close(&cs);
	if (status)
		fprintf(stderr, "Error: failed to start containers: %s\n", "see above");
	return status;
}
