/* Safe extraction of an OCI/Docker layer tar into a directory, converting
 * OCI whiteouts into the form overlayfs reads. See SECURITY.md cases 1-10. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Supplies the uncompressed tar stream. Returns the number of bytes at
 * *ret_buf (valid until the next call), 0 at end of stream, or -1 with *err
 * set. */
typedef ssize_t (*layers_read_fn)(void *opaque, const void **ret_buf, struct scow_error **err);

struct layers_extract_opts {
	/* Rootless: device nodes are skipped with a warning, ownership is kept
	 * only where the user namespace maps it, overlay xattrs use "user." */
	bool rootless;
	/* Whiteout xattr namespace: "trusted" (rootful overlay) or "user"
	 * (overlay mounted with userxattr). */
	const char *overlay_xattr_prefix;
};

struct layers_extract_stats {
	uint64_t entries;
	uint64_t bytes; /* sum of regular file sizes */
};

/* Extracts the tar read through read_fn into the directory root_fd, which
 * must be empty and private to the caller. After the end-of-archive marker
 * the rest of the stream is read to EOF, so that a digest the caller
 * computes in read_fn covers every byte. Nothing outside root_fd is ever
 * created, changed or followed. On failure the directory holds a partial
 * result that the caller removes. */
int layers_extract(int root_fd, layers_read_fn read_fn, void *opaque,
		   const struct layers_extract_opts *opts, struct layers_extract_stats *ret_stats,
		   struct scow_error **err);
