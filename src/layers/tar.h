/* Layer tar creation: the reverse of layers_extract().
 *
 * layers_tar_create() turns a directory in overlay form (a pulled layer's
 * diff/, a container's upper/) into an OCI layer tar stream, for push,
 * save, commit, build and export:
 *
 *  - Deterministic: entries in depth-first order, the names of every
 *    directory sorted bytewise; pax format (ustar headers, pax records only
 *    where ustar cannot hold a value: long names, large ids or sizes,
 *    xattrs); names relative, without "./", directories ending in "/";
 *    mtimes in whole seconds, no atime/ctime, no user or group names. The
 *    same tree gives the same bytes.
 *  - Owners, modes (with set-id and sticky bits), mtimes, symlinks, char
 *    and block devices, FIFOs; sockets are left out. Regular files with
 *    several links inside the tree become one file and hardlink entries
 *    (found by device and inode). xattrs: "security.capability" and
 *    "user.*" as SCHILY.xattr records, never "trusted.*" nor
 *    "user.overlay.*".
 *  - Overlay whiteouts go back to the OCI form: a 0:0 char device NAME
 *    becomes an empty regular file ".wh.NAME", a directory with
 *    trusted.overlay.opaque (or user.overlay.opaque) = "y" becomes the
 *    directory entry followed by "DIR/.wh..wh..opq".
 *  - Safe against a tree that changes underneath (a running container):
 *    every name is opened relative to its directory's fd with O_NOFOLLOW,
 *    a symlink is never followed, a directory fd is checked to be the
 *    directory that was listed, a file is read only up to the size it had
 *    when its header was written (a file that shrank meanwhile is an error;
 *    one that vanished is left out).
 *  - Bounded memory: one directory listing per level of the walk, the
 *    paths of multiply-linked files, and fixed buffers; directory fds are
 *    kept open for at most TAR_OPEN_DIRS levels (deeper ones are reopened
 *    from the root when the walk comes back to them).
 *
 * The root directory itself gets no entry. The stream goes to write_fn in
 * pieces of up to 256 KiB, so a caller can hash and compress on the fly.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "layers/store.h"
#include "util/error.h"

/* Receives the next bytes of the stream; returns <0 (with *err set) to stop. */
typedef int (*layers_write_fn)(void *opaque, const void *buf, size_t len, struct scow_error **err);

struct layers_tar_opts {
	/* File contents are not read: the stream has zeros where they would be.
	 * Gives the exact size of the real stream without reading the data. */
	bool no_data;
	/* If not NULL, asked about every entry (its path as in the tar, e.g.
	 * "etc/hosts"): true leaves it out, and for a directory everything
	 * below it. Lets commit drop what scow itself made in an upper dir. */
	bool (*skip)(void *opaque, const char *path);
	void *skip_opaque;
};

struct layers_tar_stats {
	uint64_t entries;
	uint64_t bytes; /* length of the tar stream */
};

/* Writes the tar of the tree at dir_fd (see above). opts and ret_stats may
 * be NULL. Errors name the entry: 'tar "etc/passwd": ...'. */
int layers_tar_create(int dir_fd, layers_write_fn write_fn, void *opaque,
		      const struct layers_tar_opts *opts, struct layers_tar_stats *ret_stats,
		      struct scow_error **err);

/* The tar of a layer in the store. When the layer has a tar-split record
 * (layers/tarsplit.h) the original tar is replayed byte for byte, so it
 * hashes to the layer's diff_id; otherwise (or with no_replay) it is made
 * by layers_tar_create() and its digest is usually another one.
 * *ret_replayed (may be NULL) says which. */
int layers_tar_stored(const struct layer_store *ls, const char *chain_id, bool no_replay,
		      layers_write_fn write_fn, void *opaque, bool *ret_replayed,
		      struct scow_error **err);
/* The length of what layers_tar_stored() writes, without reading file
 * contents. */
int layers_tar_stored_size(const struct layer_store *ls, const char *chain_id, bool no_replay,
			   int64_t *ret_size, bool *ret_replayed, struct scow_error **err);
