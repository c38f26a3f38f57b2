/* Streaming decompression of layer blobs: gzip (ISA-L's inflate, ~3x
 * zlib's speed; multi-member streams), zstd, or none. The format is sniffed
 * from the first bytes, not taken from the media type. */
#pragma once

#include <stddef.h>

#include "util/error.h"

enum decomp_format { DECOMP_UNKNOWN, DECOMP_NONE, DECOMP_GZIP, DECOMP_ZSTD };

struct decomp;

/* Receives decompressed bytes; returns <0 to stop (its error kept by the
 * caller). */
typedef int (*decomp_out_fn)(void *opaque, const void *buf, size_t len);

struct decomp *decomp_new(decomp_out_fn out, void *opaque);
void decomp_free(struct decomp *d);
/* Feeds compressed bytes. -1 with *err for corrupt data or trailing
 * garbage; -2 when out asked to stop. */
int decomp_feed(struct decomp *d, const void *buf, size_t len, struct scow_error **err);
/* At the end of the input: fails if the stream was cut short. */
int decomp_finish(struct decomp *d, struct scow_error **err);
enum decomp_format decomp_format(const struct decomp *d);
const char *decomp_format_name(enum decomp_format f);
