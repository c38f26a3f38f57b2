/* The image store.
 *
 *   ROOT/images.json            {"tags": {"docker.io/library/busybox:latest": "sha256:<id>"}}
 *   ROOT/images/<id hex>/       config.json (exact bytes; sha256 = id),
 *                               manifest.json (exact bytes as pulled),
 *                               image.json (ours, below)
 *   image.json: {"id", "manifest_digest", "manifest_media_type",
 *                "repo_digests": ["docker.io/library/busybox@sha256:.."],
 *                "layers": [chain ids, base first], "size", "pulled"}
 *
 * An image directory is written as images/<hex>.tmp and renamed into place,
 * so one that exists is whole. Writers hold ROOT/locks/store (exclusive);
 * every JSON write is atomic. Pulls hold ROOT/locks/gc shared from their
 * first layer to their commit; removing unreferenced layers needs it
 * exclusive and is skipped (left for later) while a pull runs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "layers/store.h"
#include "util/error.h"

struct image_store {
	char *root;
	int root_fd;
	int images_fd;
	struct layer_store layers;
	int store_lock; /* fd while held, else -1 */
};

int image_store_open(const char *root, bool rootless, struct image_store *ret,
		     struct scow_error **err);
void image_store_close(struct image_store *s);

int image_store_lock(struct image_store *s, struct scow_error **err);
void image_store_unlock(struct image_store *s);
/* ROOT/locks/users: container creation holds it shared from resolving its
 * image to committing its record; image removal holds it exclusive while
 * it looks for containers using an image and deletes it. Without it, a
 * create could commit a container whose image was deleted meanwhile.
 * Returns the fd holding the lock. */
int image_store_users_lock(struct image_store *s, bool exclusive, struct scow_error **err);

/* images.json's "tags" object (new reference). */
json_t *image_store_tags(struct image_store *s, struct scow_error **err);
int image_store_save_tags(struct image_store *s, json_t *tags, struct scow_error **err);

struct image {
	char id[DIGEST_STR_LEN + 1];
	json_t *meta;	/* image.json */
	json_t *config; /* config.json */
	char **tags;	/* full references pointing here, sorted */
};
void image_release(struct image *img);

bool image_store_has(struct image_store *s, const char *id);
/* Loads one image by id (with its tags from tags, which may be NULL). */
int image_store_load(struct image_store *s, const char *id, json_t *tags, struct image *ret,
		     struct scow_error **err);
/* All image ids (a strv), in no particular order. */
int image_store_ids(struct image_store *s, char ***ret, struct scow_error **err);

/* Finds an image the way Docker does: a full or short id ("sha256:..",
 * 64 hex, a unique prefix), a tag ("busybox" = busybox:latest) or a digest
 * reference. *ret_ref gets the matched full reference, if it was one.
 * Not found: ENOENT with "No such image: NAME". */
int image_store_resolve(struct image_store *s, const char *name, char **ret_id, char **ret_ref,
			struct scow_error **err);

/* Writes an image (or adds to an existing one's repo digests), store lock
 * held by the caller. */
int image_store_put(struct image_store *s, const char *id, const char *config, size_t config_len,
		    const char *manifest, size_t manifest_len, json_t *meta,
		    struct scow_error **err);
/* Deletes the image's directory (store lock held; tags are the caller's). */
int image_store_delete(struct image_store *s, const char *id, struct scow_error **err);
/* Removes layers no image uses, unless a pull is running. Store lock held. */
int image_store_gc_layers(struct image_store *s, struct scow_error **err);
/* Held shared by a pull from its first layer to its commit. */
int image_store_gc_guard(struct image_store *s, struct scow_error **err);
/* Removes leftovers of killed processes (partial images and layers). */
void image_store_clean_stale(struct image_store *s);
