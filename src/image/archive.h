/* Image archives: save and load.
 *
 * Formats written by image_save():
 *  - docker-archive (what `docker load` and `podman load` read): a tar of
 *      <diff_id hex>.tar        each layer's tar, once per archive
 *      <image id hex>.json      each image's config, byte for byte
 *      manifest.json            [{"Config", "RepoTags", "Layers"}] per image
 *      repositories             {"repo": {"tag": "<top layer>"}}
 *    metadata first, so that a streaming reader knows the layers in advance.
 *  - oci-archive: a tar of an OCI image layout (oci-layout, index.json with
 *    one manifest per image and tag, annotated with
 *    org.opencontainers.image.ref.name and io.containerd.image.name = the
 *    full reference; blobs/sha256/...: uncompressed layer tars, configs,
 *    manifests);
 *  - oci-dir: the same layout as a directory (which must not exist, or be
 *    empty).
 * Layer tars are replayed byte for byte from their tar-split records, so
 * their digests are the diff_ids and the image ids stay; a layer without a
 * record is made anew (layers_tar_create) and the saved config then lists
 * its new diff_id (the saved image gets another id; a warning says so).
 *
 * image_load() reads docker-archive (podman's and Docker's, old and new
 * layouts) and OCI layouts as a tar, gzip- or zstd-compressed or not, from
 * any stream (a pipe too: one pass, no temporary copy), or an OCI layout
 * directory. Entries are only ever looked up by name in a table in memory;
 * nothing of the archive is written to the file system by its name:
 *  - JSON entries (configs, manifests, index) are kept in memory, at most
 *    ARCHIVE_JSON_MAX each (REGISTRY_MANIFEST_MAX) and 64 MiB in all;
 *  - any other regular file is extracted right away, as a possible layer,
 *    into a private staging directory of the layer store, through the same
 *    verified extraction as a pull (layers_extract: names, symlinks,
 *    hardlinks, whiteouts, devices, bombs), with its SHA-256 (and, for a
 *    compressed blob, the SHA-256 of the tar: the diff_id) computed on the
 *    way, and its tar-split recorded;
 *  - names with "..", absolute names, symlinks and hardlinks that lead out
 *    of the archive, more than ARCHIVE_ENTRIES_MAX entries: the archive is
 *    refused.
 * Then each image's config and manifest are checked (OCI: every blob's
 * digest and size; both: each layer's diff_id against the config), staged
 * layers get their chain ids (existing layers are kept, the staged copy
 * dropped) and the image and its tags are committed. Nothing is registered
 * before every check passed; staged layers nobody uses are removed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image/store.h"
#include "util/error.h"

#define ARCHIVE_ENTRIES_MAX 100000

enum archive_format { ARCHIVE_DOCKER, ARCHIVE_OCI, ARCHIVE_OCI_DIR };

/* "docker-archive", "oci-archive", "oci-dir"; -1 if unknown. */
int archive_format_parse(const char *s);

struct save_opts {
	enum archive_format format;
	/* The archive goes to out_fd (a file, a pipe), or for oci-dir into the
	 * directory dir. */
	int out_fd;
	const char *dir;
	/* Called once per layer made anew (without a tar-split record). */
	void (*warn)(void *opaque, const char *msg);
	void *warn_opaque;
};

/* Saves the images names (references or ids). A name that is a reference
 * is recorded as a tag of its image (RepoTags / ref.name). */
int image_save(struct image_store *s, char *const *names, size_t n, const struct save_opts *opts,
	       struct scow_error **err);

struct load_result {
	char **tags; /* full references tagged, in archive order */
	char **ids;  /* images loaded without any tag */
};
void load_result_release(struct load_result *r);

/* Loads from in_fd (a tar, maybe compressed), or, when dir_fd >= 0, from an
 * OCI layout directory. */
int image_load(struct image_store *s, int in_fd, int dir_fd, struct load_result *ret,
	       struct scow_error **err);

/* One layer from a stream, for import and commit: the bytes (a tar, or a
 * gzip- or zstd-compressed tar) are hashed, inflated and extracted as they
 * come, through the same verified extraction as the layers of a loaded
 * archive, into a staging directory of the layer store, and the layer's
 * tar-split is recorded (so push and save give the same tar back and the
 * diff_id stays). The caller holds image_store_gc_guard() from before
 * the start until the image that uses the layer is committed. */
struct layer_import;
int layer_import_start(struct image_store *s, struct layer_import **ret, struct scow_error **err);
/* The next bytes. -1 once the layer can no longer be made (corrupt data,
 * an extraction error): the caller may stop; finish says why. */
int layer_import_feed(struct layer_import *li, const void *buf, size_t len);
/* The end of the stream: ret gets diff_id, digest (of the bytes fed if
 * compressed, else the diff_id), media type and sizes; or the reason the
 * stream is no layer tar. */
int layer_import_finish(struct layer_import *li, struct layer_info *ret, struct scow_error **err);
/* Puts the finished layer into the store on top of parent (a chain id, ""
 * for a base layer); sets info->chain_id and info->parent. A layer that
 * exists already is kept and the staged copy dropped. */
int layer_import_commit(struct layer_import *li, const char *parent, struct layer_info *info,
			struct scow_error **err);
/* Drops what was not committed (NULL is fine). */
void layer_import_free(struct layer_import *li);
