/* Pushing an image from the store to a registry.
 *
 * Layers, in parallel:
 *  1. A blob the registry may already have is not uploaded again: the
 *     layer's original compressed blob (recorded at pull time in layer.json)
 *     and the blobs earlier pushes made of it (layers/<chain>/blobs.json) are
 *     looked up with HEAD in the destination repository, then mounted
 *     cross-repository (POST ...?mount=D&from=R) from repositories of the
 *     same registry known to hold them (the image's repo digests, earlier
 *     pushes). Only blobs of the requested compression count.
 *  2. Otherwise the layer's tar is made (replayed byte for byte from its
 *     tar-split record when it has one, so it hashes to the config's diff_id;
 *     else by layers_tar_create()), compressed (gzip by ISA-L, or zstd),
 *     hashed and uploaded in one streaming pass: a producer thread writes
 *     into a bounded queue, the HTTP thread sends it as one PATCH with a
 *     chunked body (or, with chunk_size, as PATCHes with Content-Range),
 *     then the upload is closed with PUT ?digest=.
 *     A pulled layer therefore keeps its diff_id; its compressed digest
 *     changes unless step 1 found the original blob (scow keeps no
 *     compressed blobs after a pull, as podman: recompression is
 *     deterministic, but not the compressor the image's author used).
 *     A layer without a tar-split record gets a new diff_id; the pushed
 *     config then lists the new diff_ids, and its digest (the image id on
 *     the other side) differs from the local image's.
 * Then the config (monolithic upload: POST, PUT ?digest= with the body) and
 * the manifest (Docker schema2 by default, OCI on request or for zstd).
 * When every blob is the original one and the format is the original's,
 * the pulled manifest is pushed byte for byte, so the manifest digest is
 * kept too. A push that changes nothing locally records the pushed repo
 * digest in image.json. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "image/regconf.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/digest.h"
#include "util/error.h"

enum push_event_kind {
	PUSH_EV_LAYER_PREPARING, /* every layer, before anything else */
	PUSH_EV_LAYER_WAITING,
	PUSH_EV_LAYER_PROGRESS, /* current: compressed bytes sent; total: tar size or 0 */
	PUSH_EV_LAYER_EXISTS,
	PUSH_EV_LAYER_MOUNTED, /* msg: the repository it came from */
	PUSH_EV_LAYER_PUSHED,
	PUSH_EV_LAYER_RETRY, /* msg: why */
	PUSH_EV_WARNING,     /* msg */
};

struct push_event {
	enum push_event_kind kind;
	int layer;	     /* index in the image, base first; -1 for none */
	const char *diff_id; /* Docker shows layers by their diff_id */
	int64_t current, total;
	const char *msg;
};

/* Called from several threads, never at once. */
typedef void (*push_progress_fn)(void *opaque, const struct push_event *ev);

enum push_format { PUSH_FORMAT_DEFAULT, PUSH_FORMAT_V2S2, PUSH_FORMAT_OCI };

struct push_opts {
	struct registry_opts reg;
	enum push_format format;
	int compression;	/* enum comp_format; -1: the default (gzip) */
	int compression_level;	/* 0: the default */
	bool force_compression; /* never reuse an existing blob */
	int64_t chunk_size;	/* > 0: PATCH in chunks of this size */
	int max_parallel;	/* 0: the configuration's */
	push_progress_fn progress;
	void *progress_opaque;
};

struct push_result {
	char digest[DIGEST_STR_LEN + 1]; /* of the manifest */
	int64_t size;			 /* of the manifest */
	char *ref;			 /* full destination reference */
	char *tag;			 /* its tag */
	int uploaded, reused;		 /* layer counts */
	bool config_changed;		 /* the pushed config lists new diff_ids */
};

void push_result_release(struct push_result *r);

/* Pushes the stored image name (a reference or an id) to dest (a reference,
 * "docker://" allowed), or to name itself when dest is NULL. */
int image_push(struct image_store *s, const struct regconf *conf, const char *name,
	       const char *dest, const struct push_opts *opts, struct push_result *ret,
	       struct scow_error **err);
