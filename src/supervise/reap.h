/* Cleaning up after a container whose supervisor is gone (killed, or the
 * host rebooted): what the supervisor would have done at the exit. */
#pragma once

#include "state/container.h"

/* c locked and loaded. Tears down the cgroup (killing what is left), marks
 * the container exited with exit_code (255 when unknown) and why, and
 * removes it if it was --rm. Idempotent. */
int supervise_reap_orphan(struct container_store *cs, struct container *c, int exit_code,
			  const char *why, struct scow_error **err);

/* Is the container's supervisor alive? */
bool supervise_alive(const struct container *c);
