/* Copying file trees between two directory fds, for volumes seeded from
 * the image and for `cp`. Both sides are walked by fd with O_NOFOLLOW: a
 * symlink is copied as a symlink and never followed, on either side, so a
 * hostile tree (a container's) cannot redirect the copy outside the
 * directory it was given. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

enum {
	FS_COPY_OWNER = 1 << 0, /* keep uid/gid (else the copier's own) */
	FS_COPY_TIMES = 1 << 1, /* keep modification times */
	/* The source tree may be changed by someone else meanwhile (a running
	 * container, for cp): a regular file is opened as a path first, checked
	 * to be the file stat'ed, and only then opened for reading, so a fifo
	 * or device node swapped in is never opened. */
	FS_COPY_SAME_FILE = 1 << 2,
	/* Directories on kernel file systems (proc, sysfs, cgroup, devpts,
	 * mqueue, ...; see fs_copy_is_kernel_fs) are copied empty: what a
	 * running container's root shows there is the kernel's, not files of
	 * the container's (cp out of /proc/PID/root). */
	FS_COPY_SKIP_KERNEL_FS = 1 << 3,
};

struct fs_copy {
	unsigned flags;
	/* Applied after FS_COPY_OWNER when >= 0 (cp into a container as
	 * the container's root, cp -a). */
	uid_t uid;
	gid_t gid;
	bool chown_to;
};

/* Copies src_dfd/src_name to dst_dfd/dst_name (any type: directory,
 * regular file, symlink, fifo, device). An existing destination of
 * another type is replaced; an existing directory is merged into. */
int fs_copy_at(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
	       const struct fs_copy *how, struct scow_error **err);
/* Copies what is inside src_dir into dst_dir (both open directories). */
int fs_copy_contents(int src_dir, int dst_dir, const struct fs_copy *how,
		     struct scow_error **err);
/* Whether fd is on one of the kernel's pseudo file systems. */
bool fs_copy_is_kernel_fs(int fd);
/* True when the directory has no entries (or cannot be read). */
bool fs_dir_is_empty(int dir_fd);
