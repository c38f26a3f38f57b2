/* Merged views of layer directories, for a container's whole file system
 * without running it (export, cp, the builder), and the overlay lower-layer
 * set-up that container roots share.
 *
 * The overlay is made with the new mount API (fsopen/fsconfig/fsmount) and
 * never attached: the returned fd is the root of a mount that exists
 * nowhere in any mount table and goes away with its last fd, so neither a
 * crash nor a kill leaves anything mounted. It has no upper or work dir,
 * so it can be made while a container runs on the same directories: a
 * container's upper dir can be given as the top lower layer, where its
 * whiteouts and opaque directories work as in any layer. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

/* lowers: layer directories, top first, NULL-terminated; overlayfs wants at
 * least two without an upper dir, so give an empty directory at the bottom
 * when there is only one. userxattr: the layers use "user.overlay.*"
 * xattrs (rootless). Returns the root's fd (O_RDONLY directory), or -1. */
int layers_view_mount(char *const *lowers, bool userxattr, struct scow_error **err);
/* The same with an upper and a work dir: a writable view (cp into a
 * stopped container). The caller makes sure no other overlay uses them. */
int layers_overlay_mount(char *const *lowers, const char *upper, const char *work,
			 bool userxattr, struct scow_error **err);
/* Gives the overlay fs context fs its lower layers (top first), one by one
 * where the kernel has lowerdir+ (Linux 6.8), else joined (ns/rootfs.c
 * uses it for containers' roots). */
int layers_overlay_lowers(int fs, char *const *lowers, struct scow_error **err);
