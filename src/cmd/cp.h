/* scow cp: the pieces shared by cp.c (Docker's path rules), cp_root.c (a
 * container's file system) and cp_tar.c (the "-" tar streams).
 *
 * The container side is hostile (SECURITY.md case 18, CVE-2018-15664): a
 * running container can swap any path component for a symlink while cp
 * runs. So a container path is never resolved on the host as a string: it
 * is resolved from the container's root fd with openat2(RESOLVE_IN_ROOT),
 * which keeps every symlink (absolute, relative, swapped in meanwhile)
 * inside that root, and below that everything goes by fd with O_NOFOLLOW
 * (util/fscopy.h). The host side is the user's: its paths are used as
 * given, symlinks followed, as Docker does. */
#pragma once

#include <linux/openat2.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cmd/cmd.h"
#include "state/container.h"

#define CP_IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* A container's file system as cp sees it. */
struct cp_root {
	int fd;	     /* its "/": resolve below it only with CP_IN_ROOT */
	int lock_fd;	   /* supervisor.lock (shared) while a stopped container's overlay is used */
	int write_lock_fd; /* cp.lock (exclusive) while it is written to */
	bool running;
};

/* Opens the root of the container c (loaded without its lock; reloaded
 * here as needed):
 *  - running or paused: /proc/PID/root, the root as its processes see it,
 *    with its volumes, tmpfs and other mounts;
 *  - created or exited: its overlay, mounted detached (fsmount, attached
 *    nowhere, so nothing is left mounted by a crash), writable through the
 *    container's upper dir when write, else read-only; supervisor.lock is
 *    held (shared) until cp_root_release so that the container cannot start
 *    meanwhile, and writers take turns on cp.lock. Its volumes are not
 *    mounted there.
 * A container being started, restarted or torn down is waited for a while. */
int cp_root_open(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
		 bool write, struct cp_root *ret, struct scow_error **err);
void cp_root_release(struct cp_root *r);

/* Writes a tar stream of src_dfd/src_name (any type; a directory with all
 * below it) to out_fd, entry names starting with top ("name", "name/x",
 * ...). Walked by fd with O_NOFOLLOW; a file swapped meanwhile is never
 * followed. *ret_bytes (may be NULL): the length of the stream. */
int cp_tar_write(int src_dfd, const char *src_name, const char *top, int out_fd,
		 unsigned long long *ret_bytes, struct scow_error **err);

struct cp_untar_opts {
	bool keep_owner; /* -a: the tar's uid/gid; else uid/gid below (if chown) */
	bool chown;
	uid_t uid;
	gid_t gid;
};

/* Extracts the tar stream read from in_fd into the directory dir (a path
 * inside the container, already checked to be a directory) of root_fd.
 * Every entry's parent is resolved from root_fd with CP_IN_ROOT (symlinks
 * in it stay inside the container, as with Docker's chroot), the entry
 * itself is created with *at() calls that never follow it. */
int cp_tar_extract(int root_fd, const char *dir, int in_fd, const struct cp_untar_opts *o,
		   struct scow_error **err);
