/* Images made by build steps: the config (Docker's image.NewChildImage:
 * architecture, os, config, created, history, rootfs; author from
 * MAINTAINER), the layer of a RUN step's upper dir, tags. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "image/archive.h"
#include "image/create.h"
#include "image/manifest.h"
#include "layers/upper.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

void bstate_release(struct bstate *st)
{
	json_decref(st->img);
	json_decref(st->layers);
	st->img = st->layers = NULL;
	free(st->author);
	st->author = NULL;
}

int bstate_load(struct bx *b, const char *id, struct bstate *st, struct scow_error **err)
{
	struct image img;
	if (image_store_load(b->is, id, NULL, &img, err) < 0)
		return -1;
	json_decref(st->img);
	json_decref(st->layers);
	snprintf(st->id, sizeof(st->id), "%s", img.id);
	st->img = json_incref(img.config);
	json_t *l = json_get_arr(img.meta, "layers");
	st->layers = l ? json_incref(l) : json_array();
	image_release(&img);
	return 0;
}

json_t *bx_config_copy(const struct bstate *st)
{
	json_t *c = json_get_obj(st->img, "config");
	return c ? json_deep_copy(c) : json_object();
}

void bx_created(const struct bx *b, char *buf, size_t len)
{
	if (b->o->has_sde) {
		struct tm tm;
		time_t t = b->o->sde;
		gmtime_r(&t, &tm);
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		time_now_rfc3339(buf, len);
	}
}

static void copy_member(json_t *to, json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (v)
		json_object_set(to, key, v);
}

/* The new image config: what NewChildImage keeps of the parent. */
static json_t *child_config(struct bx *b, const struct bstate *st, json_t *cfg,
			    const struct layer_info *li, const char *created_by, const char *author)
{
	char now[64];
	bx_created(b, now, sizeof(now));
	json_t *img = json_object();
	const char *arch = json_get_str(st->img, "architecture");
	json_set_str(img, "architecture", arch ? arch : platform_host_arch());
	copy_member(img, st->img, "variant");
	const char *os = json_get_str(st->img, "os");
	json_set_str(img, "os", os ? os : "linux");
	copy_member(img, st->img, "os.version");
	copy_member(img, st->img, "os.features");
	if (author && *author)
		json_set_str(img, "author", author);
	json_object_set_new(img, "config", cfg);
	json_set_str(img, "created", now);
	json_t *hist = json_get_arr(st->img, "history");
	hist = hist ? json_deep_copy(hist) : json_array();
	json_t *h = json_object();
	json_set_str(h, "created", now);
	if (author && *author)
		json_set_str(h, "author", author);
	json_set_str(h, "created_by", created_by);
	if (!li)
		json_object_set_new(h, "empty_layer", json_true());
	json_array_append_new(hist, h);
	json_object_set_new(img, "history", hist);
	json_t *old = json_get_arr(json_get_obj(st->img, "rootfs"), "diff_ids");
	json_t *ids = old ? json_deep_copy(old) : json_array();
	if (li)
		json_array_append_new(ids, json_string(li->diff_id));
	json_object_set_new(img, "rootfs", json_pack("{ss so}", "type", "layers", "diff_ids", ids));
	return img;
}

int bx_store_image(struct bx *b, json_t *config, json_t *layers, const char *parent,
		   char ret_id[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	_cleanup_free_ char *bytes = json_dump_compact(config);
	if (!bytes)
		return error_set(err, ENOMEM, "cannot serialise the image config");
	sha256_digest(bytes, strlen(bytes), ret_id);
	if (image_store_has(b->is, ret_id))
		return 0; /* the same step made again (SOURCE_DATE_EPOCH) */
	return image_store_create(b->is, config, layers, parent, NULL, ret_id, err);
}

int bx_commit(struct bx *b, struct bstate *st, json_t *cfg, const struct layer_info *li,
	      const char *created_by, struct scow_error **err)
{
	json_t *img = child_config(b, st, cfg, li, created_by, st->author);
	json_t *layers = json_deep_copy(st->layers ? st->layers : json_array());
	if (li)
		json_array_append_new(layers, json_string(li->chain_id));
	char parent[DIGEST_STR_LEN + 1];
	memcpy(parent, st->id, sizeof(parent));
	return bx_adopt_image(b, st, img, layers, parent, err);
}

int bx_adopt_image(struct bx *b, struct bstate *st, json_t *img, json_t *layers,
		   const char *parent, struct scow_error **err)
{
	char id[DIGEST_STR_LEN + 1];
	if (bx_store_image(b, img, layers, parent, id, err) < 0) {
		json_decref(img);
		json_decref(layers);
		return -1;
	}
	json_decref(st->img);
	json_decref(st->layers);
	st->img = img;
	st->layers = layers;
	memcpy(st->id, id, sizeof(id));
	return 0;
}

int bx_tag(struct bx *b, const char *id, struct scow_error **err)
{
	char *const *tags = b->o->tags;
	if (!tags || !tags[0])
		return 0;
	if (image_store_lock(b->is, err) < 0)
		return -1;
	int r = -1;
	json_t *all = image_store_tags(b->is, err);
	if (all) {
		for (size_t k = 0; tags[k]; k++)
			json_object_set_new(all, tags[k], json_string(id));
		r = image_store_save_tags(b->is, all, err);
		json_decref(all);
	}
	image_store_unlock(b->is);
	return r;
}

/* ---- a RUN step's upper dir ------------------------------------------------------------------ */

/* SOURCE_DATE_EPOCH: no mtime in the layer is later (children first, as
 * setting a child's time does not touch its directory's). */
static void clamp_tree(int dfd, time_t sde, int depth)
{
	if (depth > 256)
		return;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				clamp_tree(sub, sde, depth + 1);
				close(sub);
			}
		}
		if (st.st_mtime > sde) {
			struct timespec ts[2] = {{0, UTIME_OMIT}, {sde, 0}};
			utimensat(dirfd(d), de->d_name, ts, AT_SYMLINK_NOFOLLOW);
		}
	}
	closedir(d);
}

int bx_layer_from_tree(struct bx *b, int dir_fd, json_t *parent_layers, bool scow_files,
		       bool keep_empty, struct layer_info *ret, bool *ret_empty,
		       struct scow_error **err)
{
	struct layers_upper_skips skips;
	if (scow_files) {
		int *fds = NULL;
		size_t n = 0;
		if (image_layer_dirs_open(b->is, parent_layers, &fds, &n, err) < 0)
			return -1;
		layers_upper_skips_find(dir_fd, fds, n, &skips);
		image_layer_dirs_close(fds, n);
	}
	if (b->o->has_sde)
		clamp_tree(dir_fd, b->o->sde, 0);
	size_t n = json_array_size(parent_layers);
	const char *parent = n ? json_string_value(json_array_get(parent_layers, n - 1)) : "";
	int r = image_layer_from_dir(b->is, dir_fd, parent, scow_files ? &skips : NULL, keep_empty,
				     ret, err);
	*ret_empty = r == 0 && strcmp(ret->diff_id, EMPTY_TAR_DIFF_ID) == 0;
	return r;
}

int bx_layer_from_upper(struct bx *b, int upper_fd, const struct bstate *st, struct layer_info *ret,
			bool *ret_empty, struct scow_error **err)
{
	return bx_layer_from_tree(b, upper_fd, st->layers, true, false, ret, ret_empty, err);
}
