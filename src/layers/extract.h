/* Safe extraction of an OCI/Docker layer tar into a directory, converting
 * OCI whiteouts into the form overlayfs reads. See SECURITY.md cases 1-10. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct layers_tarsplit;

/* Supplies the uncompressed tar stream. Returns the number of bytes at
 * *ret_buf (valid until the next call), 0 at end of stream, or -1 with *err
 * set. */
typedef ssize_t (*layers_read_fn)(void *opaque, const void **ret_buf, struct scow_error **err);

struct layers_extract_opts {
	/* Rootless: device nodes are skipped with a warning, ownership is kept
	 * only where the user namespace maps it (an unmapped id leaves the
	 * extracting user's), overlay xattrs default to "user.", directories
	 * get modes that would lock the extracting user out only at the end. */
	bool rootless;
	/* Whiteout xattr namespace: "trusted" (rootful overlay) or "user"
	 * (overlay mounted with userxattr). NULL: "user" if rootless, else
	 * "trusted". Anything else is an error. */
	const char *overlay_xattr_prefix;
	/* If not NULL, gets the whole stream and where each regular file's
	 * data lies, to record the layer's tar-split (layers/tarsplit.h). */
	struct layers_tarsplit *tarsplit;
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
 * result that the caller removes.
 *
 * The stream is parsed by libarchive as tar only (ustar, pax, GNU long names
 * and sparse files; no compression filter); an empty stream is an empty
 * layer. Bytes after the end-of-archive marker are read but not interpreted;
 * a truncated stream, or garbage where a header is due, is an error.
 *
 * Names: a leading "/" or "./", "//" and "." are dropped; a ".." component,
 * an empty name or one of PATH_MAX bytes or more is an error. "./" as a
 * directory entry applies its owner, mode and mtime to root_fd itself.
 * Symlinks in the tar resolve as they would inside the container
 * (openat2 RESOLVE_IN_ROOT); hardlink targets must be relative paths that go
 * through no symlink. ".wh.NAME" becomes a 0:0 char device (an existing
 * same-layer NAME is kept, a directory made opaque), ".wh..wh..opq" sets
 * "<prefix>.overlay.opaque" = "y"; neither may go through a symlink.
 * Refused with an error: uid/gid outside 0..4294967294, xattrs named
 * "trusted.overlay.*" or "user.overlay.*". Kept: "security.capability" and
 * "user.*" xattrs; other namespaces are skipped.
 *
 * Memory stays bounded whatever the stream holds. Errors name the entry:
 * 'layer entry "etc/passwd": ...'. opts may be NULL (rootful, "trusted").
 * ret_stats, if not NULL, is set on success only. */
int layers_extract(int root_fd, layers_read_fn read_fn, void *opaque,
		   const struct layers_extract_opts *opts, struct layers_extract_stats *ret_stats,
		   struct scow_error **err);
