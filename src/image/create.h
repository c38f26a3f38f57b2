/* Images made here rather than pulled or loaded: import and commit.
 *
 * The config is made by the caller (image/changes.h applies Dockerfile
 * instructions to it); image_store_create() stores it with its layers,
 * which must be in the layer store already (layer_import_commit), as
 * archive_load.c stores a loaded image: config.json byte for byte (its
 * SHA-256 is the image id), no manifest (push makes one), image.json with
 * the layers' chain ids and their size, then the tags. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "image/store.h"
#include "layers/upper.h"
#include "util/digest.h"
#include "util/error.h"

/* The diff id of a tar with nothing in it (two zero blocks). */
#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* Stores the image: config (a complete image config), layers (chain ids,
 * base first, a JSON array), parent (an image id for image.json, or
 * NULL), tags (full references, NULL-terminated; may be NULL). The store
 * lock is taken here. ret_id: "sha256:<hex>". */
int image_store_create(struct image_store *s, json_t *config, json_t *layers, const char *parent,
		       char *const *tags, char ret_id[DIGEST_STR_LEN + 1], struct scow_error **err);

/* The layer dirs of layers (chain ids, base first), opened top first, for
 * layers_upper_skips_find(). ENOENT when one is missing. */
int image_layer_dirs_open(struct image_store *s, json_t *layers, int **ret, size_t *ret_n,
			  struct scow_error **err);
void image_layer_dirs_close(int *fds, size_t n);

/* A layer of the tree at dir_fd, in overlay form (a container's upper
 * dir: its whiteouts and opaque dirs become OCI ones), streamed through
 * the layer store's verified extraction and stored on parent (a chain
 * id, "" for a base layer). skips: scow's own files to leave out (NULL:
 * none). ret gets its layer.json fields; an empty tree gives
 * EMPTY_TAR_DIFF_ID and is stored only if keep_empty. */
int image_layer_from_dir(struct image_store *s, int dir_fd, const char *parent,
			 struct layers_upper_skips *skips, bool keep_empty, struct layer_info *ret,
			 struct scow_error **err);

/* A full reference to tag an image with, from a command's REPOSITORY[:TAG]
 * argument (Docker's rules: a digest is refused, no tag means "latest"). */
int image_tag_arg(const char *arg, char **ret, struct scow_error **err);

/* Import: reads a layer tar from fd to its end (plain, or compressed with
 * gzip, zstd, bzip2 or xz: sniffed from the first bytes; bzip2 and xz are
 * inflated by libarchive's built-in filters, never by a program) and puts
 * it into the layer store as a base layer (layer_import_*: the verified
 * extraction). ret gets its layer.json fields. The caller holds
 * image_store_gc_guard() until the image using the layer is stored. */
int image_import_layer(struct image_store *s, int fd, struct layer_info *ret,
		       struct scow_error **err);

/* Downloading an http(s) URL for import: a thread runs the transfer and
 * writes the body into *ret_fd (the read end of a socket pair, to read
 * until EOF; redirects followed, http and https only). The caller closes
 * that fd (a transfer still running then stops), then
 * image_fetch_finish() waits for the thread and reports a failed download
 * (HTTP status >= 400, connection, ...). */
struct image_fetch;
int image_fetch_start(const char *url, struct image_fetch **ret, int *ret_fd,
		      struct scow_error **err);
int image_fetch_finish(struct image_fetch *f, struct scow_error **err);
