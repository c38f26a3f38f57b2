/* What scow itself puts in a container's upper dir when it starts it.
 *
 * Docker keeps the mount points it makes (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf, /dev, /proc, /sys) in an "init" layer below the
 * container's own, so they are no change of the container's: diff does
 * not show them and commit does not take them into the image. scow makes
 * whatever the image lacks of them in the upper dir itself, so the
 * commands that read an upper dir (diff, commit) leave them out here:
 *  - stub files: /etc/hosts, /etc/hostname, /etc/resolv.conf in the upper
 *    dir are always scow's (the container only ever sees the bind mounts
 *    on top of them, so it can neither write nor remove them);
 *  - setup dirs: /dev, /etc, /proc and /sys, which scow makes (when the
 *    image lacks them) or touches (copy-up for a stub inside): they count
 *    only for what else is in them, or when their mode changed.
 * Paths: dir is the parent ("" or "/" for the root, "/etc" or "etc"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

bool layers_upper_stub_file(const char *dir, const char *name);
bool layers_upper_setup_dir(const char *dir, const char *name);

/* Overlay form, as layer dirs and upper dirs hold their changes: a
 * whiteout is a 0:0 character device, an opaque directory has
 * trusted.overlay.opaque (rootless: user.overlay.opaque) "y". */
bool layers_ovl_whiteout(const struct stat *st);
bool layers_ovl_opaque(int dir_fd);

/* For making a layer of an upper dir (commit, build): which setup dirs to
 * leave out. One is left out when nothing of the container's is in it
 * and it is the image's (same mode and owner) or scow made it (not in the
 * image). layer_fds: the image's layer dirs, top first. */
struct layers_upper_skips {
	bool skip[4]; /* dev, etc, proc, sys */
};
void layers_upper_skips_find(int upper, const int *layer_fds, size_t n,
			     struct layers_upper_skips *ret);
/* A layers_tar_opts.skip function: opaque is a struct layers_upper_skips;
 * the stub files are always left out. */
bool layers_upper_skip(void *opaque, const char *path);
