/* Tar-split: what it takes to rebuild a layer's original tar byte for byte.
 *
 * A layer's diff_id is the SHA-256 of its tar as the image's author made
 * it: header layout, pax records, padding and the bytes after the
 * end-of-archive marker depend on the tool that wrote it, so no writer of
 * our own (layers/tar.h) can reproduce it in general. So while a layer is
 * extracted, everything of the stream except the contents of regular files
 * is recorded (as containers/storage does with tar-split): the headers and
 * padding as raw bytes, each file's contents as a reference to the file it
 * was extracted to. Replaying the record with the extracted files gives the
 * original stream, whose digest is the diff_id again; push and save keep the
 * image's config and id that way. The record is a few percent of the tar
 * (headers only) and is zstd-compressed: about 100 bytes per entry.
 *
 * The recorder only ever looks at byte offsets that libarchive reports
 * (where an entry's data starts); it does not parse tar itself. Entries
 * whose data is not kept as a file (sparse files, aufs metadata, hardlinks
 * with data) are recorded raw, up to TARSPLIT_RAW_MAX bytes pending at once;
 * beyond that the recorder gives up and the layer simply has no record.
 *
 * File: ROOT/layers/<chain hex>/tar-split: a 64-byte header
 * ("scow-tarsplit-1\n", the tar's length and its file count, little-endian
 * 64-bit) and one zstd stream of records: 'R' u32 len, bytes (raw);
 * 'F' u64 size, u16 len, path (contents of the file at path, relative to the
 * layer's diff/); 'E' (end). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/store.h"
#include "layers/tar.h"
#include "util/error.h"

#define LAYERS_TARSPLIT_FILE "tar-split"
#define TARSPLIT_RAW_MAX (16u << 20)

struct layers_tarsplit;

/* A recorder writing to fd (taken; closed by layers_tarsplit_free). */
struct layers_tarsplit *layers_tarsplit_new(int fd);
void layers_tarsplit_free(struct layers_tarsplit *ts);
/* Every byte of the tar stream, in order, as it is read. */
void layers_tarsplit_feed(struct layers_tarsplit *ts, const void *buf, size_t len);
/* The current entry's size bytes of data, starting at offset data_off of
 * the stream, end up as the regular file path (relative to the layer root,
 * as the extractor resolves it). Called once the entry's header was read and
 * before its data is. */
void layers_tarsplit_file(struct layers_tarsplit *ts, int64_t data_off, int64_t size,
			  const char *path);
/* At the end of the stream: completes the record. False when the recorder
 * gave up (the caller then removes the file). */
bool layers_tarsplit_finish(struct layers_tarsplit *ts);

/* The record of a stored layer: an fd, or -1 if it has none. */
int layers_tarsplit_open(const struct layer_store *ls, const char *chain_id);
/* Writes the original tar: the record's raw bytes, and the contents of the
 * files it names, read below dir_fd (resolved in that root, never through a
 * symlink in the last component; each must have the recorded size). */
int layers_tarsplit_replay(int dir_fd, int split_fd, layers_write_fn write_fn, void *opaque,
			   struct scow_error **err);
/* The length of the tar layers_tarsplit_replay() writes. */
int layers_tarsplit_size(int split_fd, int64_t *ret_size, struct scow_error **err);
