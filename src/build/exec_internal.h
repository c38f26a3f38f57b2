/* Shared between the executor's files (exec*.c); see exec.h. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "build/dockerignore.h"
#include "build/exec.h"
#include "build/plan.h"
#include "layers/store.h"

/* The executor's state for one build. */
struct bx {
	const struct build_opts *o;
	struct image_store *is;
	FILE *out;
	int ctx_fd; /* the context root, -1 without one */
	struct dockerignore *di;
	int cache_fd; /* ROOT/build-cache */
	char *cache_path;
	int gc_guard;
	struct build_plan *plan;
	/* Merged file systems of images, kept for the next steps: slot 0 for
	 * the image a step builds on, slot 1 for COPY --from's. */
	char view_id[2][DIGEST_STR_LEN + 1];
	int view_fd[2];
	char **purge; /* removed containers (for the runner): nothing to do now */
	/* --squash: what the target stage started from (its FROM image) */
	struct bstate *squash_base;
};

/* What a stage has built so far. */
struct bstate {
	char id[DIGEST_STR_LEN + 1]; /* "" before the first image (scratch) */
	json_t *img;		     /* the image config (architecture, config, history, rootfs) */
	json_t *layers;		     /* chain ids, base first */
	bool cmd_set;		     /* a CMD of this stage (ENTRYPOINT keeps it) */
	char *author;		     /* MAINTAINER of this stage, NULL if none */
	bool from_scratch;
};

void bstate_release(struct bstate *st);
/* Loads image id into st (config, layers). */
int bstate_load(struct bx *b, const char *id, struct bstate *st, struct scow_error **err);

/* ---- exec_image.c: images made by steps --------------------------------------------------- */

/* The image config's "config" object to change (a deep copy; never NULL). */
json_t *bx_config_copy(const struct bstate *st);
/* Stores a new image on top of st: cfg (stolen) as its "config", one more
 * history entry (created_by; empty_layer unless li), li's layer (NULL: none),
 * st->author. st then describes the new image. */
int bx_commit(struct bx *b, struct bstate *st, json_t *cfg, const struct layer_info *li,
	      const char *created_by, struct scow_error **err);
/* "2026-01-01T00:00:00Z": now, or SOURCE_DATE_EPOCH. */
void bx_created(const struct bx *b, char *buf, size_t len);
/* True (and err set) once the build was asked to stop (SIGINT, SIGTERM). */
bool bx_interrupted(const struct bx *b, struct scow_error **err);
/* A layer from a directory in overlay form (a container's upper dir), with
 * scow's own stub files left out and mtimes clamped to SOURCE_DATE_EPOCH;
 * *ret_empty when there is nothing in it. */
int bx_layer_from_upper(struct bx *b, int upper_fd, const struct bstate *st, struct layer_info *ret,
			bool *ret_empty, struct scow_error **err);
/* A layer from a directory in overlay form on top of parent_layers (chain
 * ids, base first): scow_files leaves out what scow made in a container's
 * upper dir (bx_layer_from_upper); keep_empty stores a layer even when the
 * tree is empty (Docker's squash does). */
int bx_layer_from_tree(struct bx *b, int dir_fd, json_t *parent_layers, bool scow_files,
		       bool keep_empty, struct layer_info *ret, bool *ret_empty,
		       struct scow_error **err);
/* Stores an image config with its layers (chain ids), Docker's "parent"
 * in image.json; ret_id: its id. */
int bx_store_image(struct bx *b, json_t *config, json_t *layers, const char *parent,
		   char ret_id[DIGEST_STR_LEN + 1], struct scow_error **err);
/* Stores img with layers (taking both, also on failure) and makes it
 * st's image; parent: the image it was made on. */
int bx_adopt_image(struct bx *b, struct bstate *st, json_t *img, json_t *layers,
		   const char *parent, struct scow_error **err);
/* Tags id with every one of the build's tags. */
int bx_tag(struct bx *b, const char *id, struct scow_error **err);

/* ---- exec_cache.c ------------------------------------------------------------------------ */

/* Looks key up: 1 with the image in ret_id, 0 for a miss. */
int bx_cache_get(struct bx *b, const char *key, char ret_id[DIGEST_STR_LEN + 1]);
void bx_cache_put(struct bx *b, const char *key, const char *id);
/* The key of a step: hex SHA-256 of its parent, its parts and the
 * build's SOURCE_DATE_EPOCH. */
char *bx_cache_key(const struct bx *b, const struct bstate *st, const char *const *parts);

/* ---- exec_tar.c: writing a layer tar ------------------------------------------------------- */

struct btar;
int btar_open(struct bx *b, struct btar **ret, struct scow_error **err);
/* Entry paths are relative ("srv/app/x"); mtimes are clamped to SOURCE_DATE_EPOCH. */
int btar_dir(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid, time_t mtime);
int btar_file_fd(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid, time_t mtime,
		 int fd, off_t size);
int btar_file_mem(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid,
		  time_t mtime, const void *data, size_t len);
int btar_symlink(struct btar *t, const char *path, const char *target, uid_t uid, gid_t gid,
		 time_t mtime);
int btar_hardlink(struct btar *t, const char *path, const char *target, uid_t uid, gid_t gid,
		  time_t mtime);
int btar_special(struct btar *t, const char *path, const struct stat *st, uid_t uid, gid_t gid);
/* A raw entry (an archive's, for ADD): header then data through btar_data. */
int btar_header(struct btar *t, void *archive_entry);
int btar_data(struct btar *t, const void *buf, size_t len);
/* The tar's error, once a btar_* call failed. */
int btar_error(struct btar *t, struct scow_error **err);
/* Ends the tar and puts the layer on top of parent (chain id or ""). */
int btar_finish(struct btar *t, const char *parent, struct layer_info *ret, struct scow_error **err);
void btar_free(struct btar *t);

/* ---- exec_fs.c: paths inside a root ----------------------------------------------------------- */

/* Resolves path (absolute or relative to the root) inside root_fd the way
 * the kernel would inside a chroot: symlinks followed (at most 40; the last
 * component too when follow_last), ".." stopping at the root. ret_real: the
 * path without symlinks, relative, no leading "/" ("" for the root); the
 * part that does not exist is kept as written (cleaned). *ret_exists and
 * ret_st say whether the whole path exists, and what it is. */
int bx_resolve(int root_fd, const char *path, bool follow_last, char **ret_real, bool *ret_exists,
	       struct stat *ret_st, struct scow_error **err);
/* The merged file system of the image in st (read-only; -1 for scratch
 * without layers: nothing exists). Kept open for the next steps. */
int bx_view(struct bx *b, const struct bstate *st, int slot, struct scow_error **err);
void bx_view_close(struct bx *b);
/* Go's filepath.Match for one path component. */
bool bx_match(const char *pattern, const char *name);
bool bx_has_wildcard(const char *s);

/* ---- exec_copy.c ------------------------------------------------------------------------------- */

/* COPY/ADD: the layer and the new image (or the cached one). */
int bx_step_copy(struct bx *b, struct bstate *st, const struct build_step *step, bool *ret_cached,
		 struct bstate *stages, struct scow_error **err);
/* WORKDIR: the directory in a layer when the image lacks it. */
int bx_workdir_layer(struct bx *b, const struct bstate *st, const char *dir, struct layer_info *ret,
		     bool *ret_made, struct scow_error **err);

/* ---- exec_run.c ---------------------------------------------------------------------------------- */

int bx_step_run(struct bx *b, struct bstate *st, const struct build_step *step, bool *ret_cached,
		struct scow_error **err);
/* The shell of st's config, or /bin/sh -c. */
char **bx_shell(const struct bstate *st);
char *bx_join(char *const *v, const char *sep);

/* ---- exec_squash.c --------------------------------------------------------------------------- */

/* --squash (Docker's legacy one): what the target stage added on top of
 * base becomes one layer; st is then the squashed image. */
int bx_squash(struct bx *b, const struct bstate *base, struct bstate *st, struct scow_error **err);

/* ---- exec_archive.c: ADD's archives and URLs ------------------------------------------------------- */

/* When fd (a regular file, read from offset 0) holds a tar, maybe
 * compressed (gzip, bzip2, xz, zstd), extracts it under dest (a layer path,
 * "" for the root) into t and returns 1; returns 0 without writing anything
 * when it is no archive. */
int bx_archive_extract(struct bx *b, int fd, struct btar *t, const char *dest,
		       struct scow_error **err);
/* Whether fd holds a (maybe compressed) tar: 1, 0, -1. */
int bx_archive_probe(struct bx *b, int fd, struct scow_error **err);
/* Downloads url into an unnamed temporary file (returned, at offset 0);
 * ret_digest: its SHA-256. */
int bx_fetch(struct bx *b, const char *url, int *ret_fd, char ret_digest[DIGEST_STR_LEN + 1],
	     struct scow_error **err);
/* What fd holds, decompressed when it is gzip, bzip2, xz or zstd: a new
 * fd (a temporary file, or a dup of fd for plain data) read from 0. */
int bx_plain_fd(struct bx *b, int fd, struct scow_error **err);
/* A temporary file in ROOT/build-cache (O_TMPFILE: gone with its fd). */
int bx_tmpfile(struct bx *b, struct scow_error **err);

/* ---- exec_cache.c (hashing) ---------------------------------------------------------------- */

/* SHA-256 of what fd holds from offset 0 (left at its end). */
int bx_hash_fd(int fd, char ret[DIGEST_STR_LEN + 1], struct scow_error **err);
