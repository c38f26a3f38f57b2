/* scow stop, kill, restart, rm, wait, rename, container prune */
#include "cmd/containers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cmd/run.h"
#include "state/volume.h"
#include "supervise/reap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/lock.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

int cmd_open_containers(struct scow_ctx *ctx, struct container_store *cs,
			struct scow_error **err)
{
	return container_store_open(ctx->root, ctx->runroot, cs, err);
}

int cmd_load_container(struct container_store *cs, const char *ref, bool lock,
		       struct container *ret, struct scow_error **err)
{
	char id[CONTAINER_ID_LEN + 1];
	if (container_resolve(cs, ref, id, err) < 0 || container_load(cs, id, lock, ret, err) < 0)
		return -1;
	if (!ret->orphaned)
		return 0;
	/* Reconcile under the lock, then hand back what the caller asked for. */
	if (!lock) {
		container_release(ret);
		if (container_load(cs, id, true, ret, err) < 0)
			return -1;
	}
	if (ret->orphaned && supervise_reap_orphan(cs, ret, 255, ret->orphaned, err) < 0) {
		container_release(ret);
		return -1;
	}
	if (!lock)
		container_unlock(ret);
	if (!fs_exists_at(cs->containers_fd, id)) {
		container_release(ret);
		return error_set(err, ENOENT, "No such container: %s", ref);
	}
	return 0;
}

static int pidfd_open_checked(pid_t pid, uint64_t start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* Opened, then checked: a pid recycled in between fails the check. */
	if (fd >= 0 && !proc_alive(pid, start)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1: exited within ms (-1 forever), 0: timed out. */
static int wait_pidfd(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

int container_stop(struct container_store *cs, const char *id, int timeout, int sig,
		   struct scow_error **err)
{
	struct container c;
	if (container_load(cs, id, false, &c, err) < 0)
		return -1;
	if (c.status != CTR_RUNNING && c.status != CTR_PAUSED) {
		container_release(&c);
		return 0;
	}
	json_t *cfg = json_get_obj(c.config, "Config");
	if (!sig && signal_parse(json_get_str(cfg, "StopSignal") ? json_get_str(cfg, "StopSignal")
								    : "SIGTERM",
				 &sig, err) < 0)
		sig = SIGTERM;
	if (timeout < 0)
		timeout = (int)json_get_int(cfg, "StopTimeout", 10);
	pid_t pid = (pid_t)json_get_int(c.runtime, "Pid", 0);
	_cleanup_close_ int pfd = pidfd_open_checked(pid, (uint64_t)json_get_int(c.runtime, "PidStart", 0));
	pid_t sup = (pid_t)json_get_int(c.runtime, "SupervisorPid", 0);
	_cleanup_close_ int sfd = pidfd_open_checked(sup, (uint64_t)json_get_int(c.runtime, "SupervisorStart", 0));
	int last = sig;
	if (pfd >= 0) {
		syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		/* A paused container is thawed to act on the signal; if that
		 * fails it gets SIGKILL at once (v2 kills frozen tasks). */
		bool paused = c.status == CTR_PAUSED && container_thaw(cs, id) < 0;
		if (paused || !wait_pidfd(pfd, timeout * 1000)) {
			last = SIGKILL;
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			wait_pidfd(pfd, -1);
		}
	}
	container_release(&c);
	/* Its supervisor records the end and tears down; without one, we do. */
	if (sfd >= 0 && wait_pidfd(sfd, 30000))
		return 0;
	if (container_load(cs, id, true, &c, err) < 0)
		return errno == ENOENT ? 0 : -1;
	int r = 0;
	if (c.status == CTR_EXITED || c.orphaned)
		r = c.orphaned ? supervise_reap_orphan(cs, &c, 128 + last, NULL, err) : 0;
	container_release(&c);
	return r;
}

/* ---- stop / kill / restart ----------------------------------------------------------------- */

const struct opt_def cmd_stop_opts[] = {
	{"signal", 's', OPT_VALUE, "string", "Signal to send to the container", NULL},
	{"time", 't', OPT_VALUE, "int", "Seconds to wait before killing the container", NULL},
	OPT_END,
};

static int parse_stop_opts(const struct opts *o, int *timeout, int *sig, struct scow_error **err)
{
	*timeout = -1;
	*sig = 0;
	long long t;
	if (opt_str(o, "time") && !str_to_ll(opt_str(o, "time"), -1, 1 << 30, &t))
		return error_set(err, EINVAL, "invalid --time: %s", opt_str(o, "time"));
	if (opt_str(o, "time"))
		*timeout = t < 0 ? 1 << 30 : (int)t;
	if (opt_str(o, "signal") && signal_parse(opt_str(o, "signal"), sig, err) < 0)
		return -1;
	return 0;
}

int cmd_for_each_container(struct scow_ctx *ctx, const struct opts *o, container_fn *fn,
			   void *opaque, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (fn(&cs, o->args[i], o, opaque, &e) < 0) {
			fflush(stdout);
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		printf("%s\n", o->args[i]);
	}
	container_store_close(&cs);
	return status;
}

static int stop_one(struct container_store *cs, const char *ref, const struct opts *o,
		    void *opaque, struct scow_error **err)
{
	(void)opaque;
	int timeout, sig;
	char id[CONTAINER_ID_LEN + 1];
	if (parse_stop_opts(o, &timeout, &sig, err) < 0 || container_resolve(cs, ref, id, err) < 0)
		return -1;
	return container_stop(cs, id, timeout, sig, err);
}

int cmd_stop(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return cmd_for_each_container(ctx, o, stop_one, NULL, err);
}

const struct opt_def cmd_kill_opts[] = {
	{"signal", 's', OPT_VALUE, "string", "Signal to send to the container", "\"KILL\""},
	OPT_END,
};

static int kill_one(struct container_store *cs, const char *ref, const struct opts *o,
		    void *opaque, struct scow_error **err)
{
	(void)opaque;
	int sig = SIGKILL;
	if (opt_str(o, "signal") && signal_parse(opt_str(o, "signal"), &sig, err) < 0)
		return -1;
	struct container c;
	if (cmd_load_container(cs, ref, false, &c, err) < 0)
		return -1;
	int r = 0;
	if (c.status != CTR_RUNNING && c.status != CTR_PAUSED) {
		r = error_set(err, EINVAL, "Cannot kill container: %s: Container %s is not running",
			      ref, c.id);
	} else {
		pid_t pid = (pid_t)json_get_int(c.runtime, "Pid", 0);
		_cleanup_close_ int pfd =
			pidfd_open_checked(pid, (uint64_t)json_get_int(c.runtime, "PidStart", 0));
		if (pfd < 0 || syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
			r = error_errno(err, "Cannot kill container: %s", ref);
		else if (c.status == CTR_PAUSED && sig == SIGKILL)
			container_thaw(cs, c.id); /* so that the SIGKILL takes effect */
	}
	container_release(&c);
	return r;
}

int cmd_kill(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return cmd_for_each_container(ctx, o, kill_one, NULL, err);
}

static int restart_one(struct container_store *cs, const char *ref, const struct opts *o,
		       void *opaque, struct scow_error **err)
{
	struct scow_ctx *ctx = opaque;
	char id[CONTAINER_ID_LEN + 1];
	if (stop_one(cs, ref, o, NULL, err) < 0 || container_resolve(cs, ref, id, err) < 0)
		return -1;
	struct start_opts so = {.sig_proxy = true};
	return container_start(ctx, cs, id, &so, err);
}

int cmd_restart(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return cmd_for_each_container(ctx, o, restart_one, ctx, err);
}

/* ---- rm ------------------------------------------------------------------------------------------ */

const struct opt_def cmd_rm_opts[] = {
	{"force", 'f', OPT_BOOL, NULL, "Force the removal of a running container (uses SIGKILL)",
	 NULL},
	{"link", 'l', OPT_BOOL, NULL, "Remove the specified link", NULL},
	{"volumes", 'v', OPT_BOOL, NULL, "Remove anonymous volumes associated with the container",
	 NULL},
	OPT_END,
};

/* Whether a supervisor lives for the container (it holds supervisor.lock
 * from before the start to after the teardown). */
static bool supervisor_busy(struct container_store *cs, const char *id)
{
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_close_ int dfd = container_dir_fd(cs, id, &e);
	if (dfd < 0)
		return false;
	int fd = lock_acquire(dfd, "supervisor.lock", LOCK_MODE_EXCLUSIVE, true, &e);
	if (fd >= 0)
		lock_release(fd);
	return fd == -2;
}

/* A container whose record cannot be read (torn by a crash, damaged) can
 * still be removed: its directory and any name pointing at it go. */
static int remove_unreadable(struct container_store *cs, const char *ref, struct scow_error **err)
{
	char id[CONTAINER_ID_LEN + 1];
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_resolve(cs, ref, id, &e) < 0)
		return -1;
	int nfd = openat(cs->names_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = nfd >= 0 ? fdopendir(nfd) : NULL;
	if (!d && nfd >= 0)
		close(nfd);
	struct dirent *de;
	while (d && (de = readdir(d)))
		container_name_release(cs, de->d_name, id);
	error_freep(err);
	return fs_rm_rf_at(cs->containers_fd, id, err);
}

/* A container is removed with its lock held and no supervisor alive: one
 * starting it (the record still says "created") or tearing it down is
 * waited for, then a running one is stopped first (-f) or refused. */
static int rm_one(struct container_store *cs, const char *ref, const struct opts *o,
		  void *opaque, struct scow_error **err)
{
	(void)opaque;
	struct timespec step = {0, 10 * 1000 * 1000};
	for (int attempt = 0;; attempt++) {
		struct container c;
		if (cmd_load_container(cs, ref, attempt == 0 ? false : true, &c, err) < 0) {
			if (attempt > 0 && (*err)->errnum == ENOENT) {
				error_freep(err); /* an --rm container removed itself */
				return 0;
			}
			if (strstr((*err)->msg, "No such container"))
				return -1;
			return remove_unreadable(cs, ref, err);
		}
		char id[CONTAINER_ID_LEN + 1];
		memcpy(id, c.id, sizeof(id));
		bool running = c.status == CTR_RUNNING || c.status == CTR_PAUSED;
		if (running) {
			container_release(&c);
			if (!opt_bool(o, "force"))
				return error_set(err, EBUSY,
						 "cannot remove container \"%s\": container is running: "
						 "stop the container before removing or force remove",
						 ref);
			if (container_stop(cs, id, 0, SIGKILL, err) < 0)
				return -1;
			continue;
		}
		if (c.lock_fd < 0 || supervisor_busy(cs, id)) {
			container_release(&c);
			if (attempt == 3000)
				return error_set(err, EBUSY, "container %.12s is busy (starting or "
							     "stopping)", id);
			if (attempt > 0)
				nanosleep(&step, NULL);
			continue;
		}
		_cleanup_strv_ char **volumes =
			opt_bool(o, "volumes") ? volume_anonymous_of(c.config) : NULL;
		int r = container_delete(cs, &c, err);
		container_release(&c);
		if (r == 0)
			volume_remove_unused(cs, volumes);
		return r;
	}
}

int cmd_rm(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return cmd_for_each_container(ctx, o, rm_one, NULL, err);
}

/* ---- wait ------------------------------------------------------------------------------------------ */

const struct opt_def cmd_wait_opts[] = {OPT_END};

int cmd_wait(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		struct container c;
		_cleanup_error_ struct scow_error *e = NULL;
		if (cmd_load_container(&cs, o->args[i], false, &c, &e) < 0) {
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		pid_t sup = (pid_t)json_get_int(c.runtime, "SupervisorPid", 0);
		_cleanup_close_ int sfd = c.status == CTR_RUNNING || c.status == CTR_PAUSED
						  ? pidfd_open_checked(sup, (uint64_t)json_get_int(
										    c.runtime, "SupervisorStart", 0))
						  : -1;
		char id[CONTAINER_ID_LEN + 1];
		memcpy(id, c.id, sizeof(id));
		container_release(&c);
		if (sfd >= 0)
			wait_pidfd(sfd, -1);
		if (cmd_load_container(&cs, id, false, &c, &e) < 0) {
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		printf("%lld\n", json_get_int(c.state, "ExitCode", 0));
		fflush(stdout);
		container_release(&c);
	}
	container_store_close(&cs);
	return status;
}

/* ---- rename ----------------------------------------------------------------------------------------- */

const struct opt_def cmd_rename_opts[] = {OPT_END};

int cmd_rename(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	const char *newname = o->args[1][0] == '/' ? o->args[1] + 1 : o->args[1];
	int r = cmd_load_container(&cs, o->args[0], true, &c, err);
	if (r == 0 && str_eq(c.name, newname))
		r = error_set(err, EINVAL, "Renaming a container with the same name as its current "
					   "name");
	if (r == 0)
		r = container_name_reserve(&cs, newname, c.id, err);
	if (r == 0) {
		_cleanup_free_ char *old = xstrdup(c.name);
		_cleanup_free_ char *slash = xasprintf("/%s", newname);
		json_set_str(c.config, "Name", slash);
		r = container_save_config(&cs, &c, err);
		if (r == 0)
			container_name_release(&cs, old, c.id);
		else
			container_name_release(&cs, newname, c.id);
	}
	container_release(&c);
	container_store_close(&cs);
	return r < 0 ? cmd_fail(err) : 0;
}

/* ---- container prune ---------------------------------------------------------------------------------- */

const struct opt_def cmd_container_prune_opts[] = {
	{"filter", 0, OPT_LIST, "filter", "Provide filter values (e.g. \"until=<timestamp>\")",
	 NULL},
	{"force", 'f', OPT_BOOL, NULL, "Do not prompt for confirmation", NULL},
	OPT_END,
};

int cmd_container_prune(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	size_t nf;
	const char *const *filters = opt_list(o, "filter", &nf);
	struct timespec until = {0, 0};
	for (size_t i = 0; i < nf; i++) {
		if (!str_starts_with(filters[i], "until=") ||
		    !time_parse_rfc3339(filters[i] + 6, &until))
			return error_set(err, EINVAL, "invalid filter '%s'", filters[i]);
	}
	if (!opt_bool(o, "force") && !cmd_confirm("This will remove all stopped containers."))
		return 0;
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	_cleanup_strv_ char **ids = NULL;
	if (container_list(&cs, &ids, err) < 0) {
		container_store_close(&cs);
		return cmd_fail(err);
	}
	bool header = false;
	uint64_t reclaimed = 0;
	for (size_t i = 0; ids[i]; i++) {
		struct container c;
		_cleanup_error_ struct scow_error *e = NULL;
		if (cmd_load_container(&cs, ids[i], true, &c, &e) < 0)
			continue;
		struct timespec created = {0, 0};
		time_parse_rfc3339(json_get_str(c.config, "Created") ? json_get_str(c.config, "Created")
									: "",
				   &created);
		bool stopped = c.status == CTR_EXITED || c.status == CTR_CREATED ||
			       c.status == CTR_DEAD;
		/* One whose supervisor lives is being started: not stopped. */
		uint64_t size = 0;
		if (stopped && (!until.tv_sec || created.tv_sec < until.tv_sec) &&
		    !supervisor_busy(&cs, ids[i])) {
			_cleanup_close_ int dfd = container_dir_fd(&cs, ids[i], &e);
			size = dfd >= 0 ? fs_tree_size_at(dfd, "upper") : 0;
			error_freep(&e);
		} else {
			stopped = false;
		}
		if (stopped && container_delete(&cs, &c, &e) == 0) {
			reclaimed += size;
			if (!header)
				printf("Deleted Containers:\n");
			header = true;
			printf("%s\n", ids[i]);
		}
		container_release(&c);
	}
	char human[32];
	size_human((double)reclaimed, human, sizeof(human));
	printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", human);
	container_store_close(&cs);
	return 0;
}
