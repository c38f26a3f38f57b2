/* Streaming compression of layer tars for push: gzip through ISA-L's
 * deflate (level 1 by default: several times zlib's speed at a few percent
 * more bytes), on several threads, or zstd through libzstd. The output is deterministic: the same
 * input, format and level give the same bytes (the gzip header carries no
 * time and no name). */
#pragma once

#include <stddef.h>

#include "util/error.h"

enum comp_format { COMP_NONE, COMP_GZIP, COMP_ZSTD };

/* Receives compressed bytes; returns <0 (with *err set) to stop. */
typedef int (*comp_out_fn)(void *opaque, const void *buf, size_t len, struct scow_error **err);

struct comp;

/* level: 0 for the default (gzip 1, zstd 3); gzip takes 1-3 (ISA-L's
 * levels), zstd 1-19. threads > 1: compress on that many threads (gzip in
 * 1 MiB pieces, pigz-style; the bytes are the same whatever the number).
 * Loads the library it needs. */
struct comp *comp_new(enum comp_format f, int level, int threads, comp_out_fn out, void *opaque,
		      struct scow_error **err);
void comp_free(struct comp *c);
int comp_write(struct comp *c, const void *buf, size_t len, struct scow_error **err);
/* Ends the stream (trailer, last frame). */
int comp_finish(struct comp *c, struct scow_error **err);

/* "gzip", "zstd", "none" (also "uncompressed") -> format; -1 if unknown. */
int comp_format_parse(const char *s);
const char *comp_format_name(enum comp_format f);
