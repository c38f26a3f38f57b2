/* Shared by the container commands. */
#pragma once

#include "cmd/common.h"
#include "state/container.h"

int cmd_open_containers(struct scow_ctx *ctx, struct container_store *cs,
			struct scow_error **err);
/* Resolves ref and loads the container; a container orphaned by a dead
 * supervisor or a reboot is reconciled on the way (that takes the lock). */
int cmd_load_container(struct container_store *cs, const char *ref, bool lock,
		       struct container *ret, struct scow_error **err);
/* Runs fn on each argument, printing it on success, Docker's error line
 * otherwise; the status is 1 if any failed (stop, kill, rm, pause, ...). */
typedef int container_fn(struct container_store *cs, const char *ref, const struct opts *o,
			 void *opaque, struct scow_error **err);
int cmd_for_each_container(struct scow_ctx *ctx, const struct opts *o, container_fn *fn,
			   void *opaque, struct scow_error **err);
/* Stops a container: its stop signal (sig 0) or sig, then SIGKILL after
 * timeout seconds (-1: its configured timeout); waits until its end is
 * recorded. Works without a supervisor. */
int container_stop(struct container_store *cs, const char *id, int timeout, int sig,
		   struct scow_error **err);
/* Thaws a paused container and records it running (pause.c); 0 if it was
 * not paused. A frozen process acts on no signal, on v1 not even SIGKILL. */
int container_thaw(struct container_store *cs, const char *id);
/* Freezes a running container and records it paused (pause.c). */
int container_freeze(struct container_store *cs, const char *id, struct scow_error **err);
/* The container's layer dirs, top first (container_fs.c): its upper dir if
 * with_upper and it was ever started, then its image's layers; an empty
 * dir at the bottom when that makes fewer than two. */
int container_layer_dirs(struct scow_ctx *ctx, struct container_store *cs,
			 const struct container *c, bool with_upper, char ***ret,
			 struct scow_error **err);
