/* File locks (flock): the kernel drops them when the holder dies, so a
 * kill -9 never leaves a store locked. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

enum lock_mode { LOCK_MODE_SHARED, LOCK_MODE_EXCLUSIVE };

/* Opens (creating) dirfd/name and locks it; blocks unless nonblock. Returns
 * the fd holding the lock, -1 with *err set, or -2 when nonblock and busy.
 * Re-checks after locking that the file was not unlinked meanwhile, so a
 * lock file may be removed by its holder (lock_unlink_release). */
int lock_acquire(int dirfd, const char *name, enum lock_mode mode, bool nonblock,
		 struct scow_error **err);
void lock_release(int fd);
/* Removes the lock file, then releases: for locks on things being deleted. */
void lock_unlink_release(int dirfd, const char *name, int fd);
