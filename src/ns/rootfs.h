/* The container's mounts, set up in the child inside its new mount
 * namespace, then pivot_root. Every mount target is resolved inside the
 * rootfs through fds (openat2 RESOLVE_IN_ROOT) and every mount is attached
 * with move_mount onto that fd, so a symlink swapped in meanwhile can never
 * redirect a mount onto the host (SECURITY.md cases 13 and 14). */
#pragma once

#include "ns/spawn.h"

int rootfs_setup(const struct spawn_spec *spec, struct scow_error **err);
/* The masked and read-only paths Docker applies (NULL-terminated). */
extern const char *const rootfs_masked_paths[];
extern const char *const rootfs_readonly_paths[];
