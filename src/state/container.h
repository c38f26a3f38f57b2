/* Container records.
 *
 *   ROOT/containers/<id>/config.json   what was asked (Docker-shaped: Config,
 *                                      HostConfig, Path, Args, Image, Name...)
 *   ROOT/containers/<id>/state.json    what happened, durable: Status,
 *                                      ExitCode, StartedAt, FinishedAt, ...
 *   ROOT/containers/<id>/lock          flock for state transitions
 *   ROOT/names/<name>                  symlink -> id; symlinkat() makes the
 *                                      reservation atomic
 *   RUNROOT/containers/<id>/runtime.json  live: pids with their start times
 *
 * The runroot is a tmpfs, so after a reboot runtime.json is gone and a
 * container whose state.json says "running" is known to have stopped. A pid
 * is only trusted together with its start time (a recycled pid is never
 * signalled). Writes are atomic (temp + rename); durable ones are also
 * fsynced, except for --rm containers, which do not outlive their run. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define CONTAINER_ID_LEN 64

enum container_status {
	CTR_CREATED,
	CTR_RUNNING,
	CTR_PAUSED,
	CTR_RESTARTING,
	CTR_REMOVING,
	CTR_EXITED,
	CTR_DEAD,
};

struct container_store {
	char *root, *runroot;
	int containers_fd;   /* ROOT/containers */
	int names_fd;	     /* ROOT/names */
	int run_fd;	     /* RUNROOT/containers */
	char boot_id[40];
};

struct container {
	char id[CONTAINER_ID_LEN + 1];
	char *name; /* without the leading "/" */
	json_t *config;
	json_t *state;
	json_t *runtime; /* NULL when not running */
	enum container_status status;
	/* Its records say running, but the container and its supervisor are
	 * gone (killed supervisor, reboot): status is already CTR_EXITED here,
	 * and supervise_reap_orphan() makes the records say so. */
	const char *orphaned;
	int lock_fd; /* >= 0 while locked */
};

int container_store_open(const char *root, const char *runroot, struct container_store *ret,
			 struct scow_error **err);
void container_store_close(struct container_store *cs);

/* A new random id. */
void container_new_id(char out[CONTAINER_ID_LEN + 1]);
/* Docker's rules: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 253 characters. */
int container_name_check(const char *name, struct scow_error **err);
/* A random "adjective_scientist" name that is free right now. */
char *container_random_name(struct container_store *cs);
/* Reserves name for id; EEXIST gives Docker's conflict message. */
int container_name_reserve(struct container_store *cs, const char *name, const char *id,
			   struct scow_error **err);
void container_name_release(struct container_store *cs, const char *name, const char *id);

/* Creating a container takes steps, so that a kill -9 at any point leaves
 * either nothing visible (a ROOT/containers/.new-<id>, removed by the next
 * listing once its creator is dead) or the whole container with its name:
 *   container_create   .new-<id> with config.json and the initial state.json;
 *                      *ret_dfd: the directory, locked (keep it open until
 *                      committed), for the caller's own files
 *   container_commit   the name (config's "Name"), then the rename to <id>,
 *                      under one lock; a generated name found taken is
 *                      replaced by another (config and record updated)
 *   container_abort    removes .new-<id> after a failure */
int container_create(struct container_store *cs, const char *id, json_t *config, bool durable,
		     int *ret_dfd, struct scow_error **err);
int container_commit(struct container_store *cs, const char *id, json_t *config, bool generated,
		     struct scow_error **err);
void container_abort(struct container_store *cs, const char *id);

/* Finds a container by full id, name, or unique id prefix (Docker's
 * order). ENOENT: "No such container: NAME". */
int container_resolve(struct container_store *cs, const char *ref, char out[CONTAINER_ID_LEN + 1],
		      struct scow_error **err);
/* Loads records and computes the status from them and from the processes
 * alive (see orphaned). With lock, the container lock is held on return. */
/* A read-only load for listings: state, runtime and only the config
 * members `ps` uses (Id, Name, Image, Created, Path, Args, Config.Image,
 * Config.Labels, Config.Hostname); c->orphaned says when a full load must
 * reconcile it. Never locked. */
int container_load_summary(struct container_store *cs, const char *id, struct container *ret,
			   struct scow_error **err);
/* Cheap test on state.json alone: false means the container is certainly
 * not running (created or exited), so `ps` without -a can skip it. */
bool container_maybe_running(struct container_store *cs, const char *id);
int container_load(struct container_store *cs, const char *id, bool lock, struct container *ret,
		   struct scow_error **err);
void container_release(struct container *c);
int container_lock(struct container_store *cs, struct container *c, struct scow_error **err);
void container_unlock(struct container *c);
/* All container ids. */
int container_list(struct container_store *cs, char ***ret, struct scow_error **err);

/* Saves c->state (durable unless the container is --rm). */
int container_save_state(struct container_store *cs, struct container *c, struct scow_error **err);
int container_save_config(struct container_store *cs, struct container *c, struct scow_error **err);
/* runtime.json in the runroot; NULL removes it. */
int container_save_runtime(struct container_store *cs, const char *id, json_t *runtime,
			   struct scow_error **err);
/* Removes every trace: runtime, names, the directory. */
int container_delete(struct container_store *cs, struct container *c, struct scow_error **err);
/* The same in two steps: after unlink the container no longer exists for
 * any command (its directory is renamed to ROOT/containers/.del-<id>);
 * container_purge then frees the space, e.g. after answering the user. */
int container_unlink(struct container_store *cs, struct container *c, struct scow_error **err);
void container_purge(struct container_store *cs, const char *id);

const char *container_status_name(enum container_status s);
/* "Up 3 minutes", "Exited (0) 2 seconds ago", "Created" (ps's STATUS). */
void container_status_text(const struct container *c, char *buf, size_t len);
/* Path helpers: "ROOT/containers/<id>/<rel>". */
char *container_path(struct container_store *cs, const char *id, const char *rel);
int container_dir_fd(struct container_store *cs, const char *id, struct scow_error **err);

/* A pid together with its start time (field 22 of /proc/PID/stat). */
uint64_t proc_start_time(pid_t pid);
bool proc_alive(pid_t pid, uint64_t start_time);
