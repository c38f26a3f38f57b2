/* scow cp: a container's root file system, running or stopped (see cp.h). */
#include "cmd/cp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/common.h"
#include "cmd/containers.h"
#include "layers/view.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* How long a container that is starting, restarting or being torn down
 * (its supervisor holds supervisor.lock, but no process runs) is waited
 * for before giving up. */
#define BUSY_WAIT_MS 10000
#define BUSY_STEP_MS 20

/* The root of a running container's init as it sees it. The pid is only
 * trusted with its start time: /proc/PID is opened first and checked
 * after, so a pid recycled in between is never used. */
static int open_running(const struct container *c)
{
	pid_t pid = (pid_t)json_get_int(c->runtime, "Pid", 0);
	uint64_t start = (uint64_t)json_get_int(c->runtime, "PidStart", 0);
	if (pid <= 0)
		return -1;
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	_cleanup_close_ int proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0 || !proc_alive(pid, start))
		return -1;
	return openat(proc, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The stopped container's overlay as a detached mount: the fd is the root
 * of a tree attached nowhere, gone when the last fd on it is closed. */
static int mount_stopped(struct scow_ctx *ctx, struct container_store *cs,
			 const struct container *c, bool write, struct scow_error **err)
{
	/* For reading, the container's upper dir is the top lower layer (its
	 * whiteouts and opaque dirs work there as in any lower layer) and no
	 * upper/work dir is needed. */
	_cleanup_strv_ char **lowers = NULL;
	if (container_layer_dirs(ctx, cs, c, !write, &lowers, err) < 0)
		return -1;
	_cleanup_free_ char *upper = write ? container_path(cs, c->id, "upper") : NULL;
	_cleanup_free_ char *work = write ? container_path(cs, c->id, "work") : NULL;
	int root = layers_overlay_mount(lowers, upper, work, ctx->rootless, err);
	if (root >= 0)
		log_debug("cp: mounted the overlay of stopped container %.12s (%s)", c->id,
			  write ? "read-write" : "read-only");
	return root;
}

static int reload(struct container_store *cs, struct container *c, struct scow_error **err)
{
	struct container fresh;
	if (container_load(cs, c->id, false, &fresh, err) < 0)
		return -1;
	container_release(c);
	*c = fresh;
	return 0;
}

/* The lock is free: no supervisor lives, so the container is stopped,
 * unless its supervisor was killed and the process lives on (then it is
 * running: *ret_fd stays -1). */
static int open_stopped(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
			bool write, int dfd, int lock, struct cp_root *ret, struct scow_error **err)
{
	if (reload(cs, c, err) < 0)
		return -1;
	if (c->status == CTR_RUNNING || c->status == CTR_PAUSED)
		return 0;
	/* Two overlays must not share an upper/work dir: writers take turns. */
	int wlock = write ? lock_acquire(dfd, "cp.lock", LOCK_MODE_EXCLUSIVE, false, err) : -1;
	if (write && wlock < 0)
		return -1;
	int fd = mount_stopped(ctx, cs, c, write, err);
	if (fd < 0) {
		lock_release(wlock);
		return -1;
	}
	*ret = (struct cp_root){.fd = fd, .lock_fd = lock, .write_lock_fd = wlock, .running = false};
	return 1;
}

int cp_root_open(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
		 bool write, struct cp_root *ret, struct scow_error **err)
{
	struct timespec step = {0, BUSY_STEP_MS * 1000 * 1000};
	for (int waited = 0; waited < BUSY_WAIT_MS; waited += BUSY_STEP_MS) {
		if (c->status == CTR_RUNNING || c->status == CTR_PAUSED) {
			int fd = open_running(c);
			if (fd >= 0) {
				*ret = (struct cp_root){
					.fd = fd, .lock_fd = -1, .write_lock_fd = -1, .running = true};
				return 0;
			}
		} else {
			_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
			if (dfd < 0)
				return -1;
			/* Shared: a supervisor (start) takes it exclusively, so
			 * holding it keeps the container from starting, and
			 * `cp CTR:X - | cp - CTR:Y` does not wait for itself. */
			int lock = lock_acquire(dfd, "supervisor.lock", LOCK_MODE_SHARED, true, err);
			if (lock == -1)
				return -1;
			if (lock >= 0) {
				int r = open_stopped(ctx, cs, c, write, dfd, lock, ret, err);
				if (r > 0)
					return 0;
				lock_release(lock);
				if (r < 0)
					return -1;
				continue; /* running after all */
			}
		}
		/* Starting, restarting or being torn down: look again. */
		nanosleep(&step, NULL);
		if (reload(cs, c, err) < 0)
			return -1;
	}
	return error_set(err, EBUSY, "container %s is starting or restarting, try again", c->name);
}

void cp_root_release(struct cp_root *r)
{
	/* The detached overlay goes with its last fd; only then may the
	 * container start (and mount the same upper dir). */
	closep(&r->fd);
	r->fd = -1;
	lock_release(r->write_lock_fd);
	r->write_lock_fd = -1;
	lock_release(r->lock_fd);
	r->lock_fd = -1;
}
