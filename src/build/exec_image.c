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
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "image/archive.h"
#include "image/manifest.h"
#include "layers/tar.h"
#include "layers/upper.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* sha256 of 1024 zero bytes: a tar without entries (Docker's EmptyTar). */
#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

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
	char id[DIGEST_STR_LEN + 1];
	sha256_digest(bytes, strlen(bytes), id);
	memcpy(ret_id, id, sizeof(id));
	if (image_store_has(b->is, id))
		return 0; /* the same step made again (SOURCE_DATE_EPOCH) */
	int64_t size = 0;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		struct layer_info li;
		if (layer_info_read(&b->is->layers, json_string_value(l), &li, err) < 0)
			return -1;
		size += li.size;
	}
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	_cleanup_json_ json_t *meta = json_object();
	json_set_str(meta, "id", id);
	json_object_set_new(meta, "repo_digests", json_array());
	json_object_set(meta, "layers", layers);
	json_set_int(meta, "size", size);
	json_set_str(meta, "pulled", now);
	if (parent && *parent)
		json_set_str(meta, "parent", parent);
	if (image_store_lock(b->is, err) < 0)
		return -1;
	int r = image_store_put(b->is, id, bytes, strlen(bytes), NULL, 0, meta, err);
	image_store_unlock(b->is);
	return r;
}

int bx_commit(struct bx *b, struct bstate *st, json_t *cfg, const struct layer_info *li,
	      const char *created_by, struct scow_error **err)
{
	json_t *img = child_config(b, st, cfg, li, created_by, st->author);
	json_t *layers = json_deep_copy(st->layers ? st->layers : json_array());
	if (li)
		json_array_append_new(layers, json_string(li->chain_id));
	char id[DIGEST_STR_LEN + 1];
	if (bx_store_image(b, img, layers, st->id, id, err) < 0) {
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

/* What of the upper dir scow made itself (as commit leaves it out: see
 * layers/upper.h and src/cmd/commit.c, whose rules these are). */
static const char *const setup_names[] = {"dev", "etc", "proc", "sys"};

struct skip_set {
	bool skip[4];
};

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool fd_opaque(int fd)
{
	static const char *const names[] = {"trusted.overlay.opaque", "user.overlay.opaque"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char v[2];
		if (fgetxattr(fd, names[i], v, sizeof(v)) == 1 && v[0] == 'y')
			return true;
	}
	return false;
}

static bool has_own_entries(int upper, const char *dir)
{
	int fd = openat(upper, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return true;
	}
	bool own = fd_opaque(dirfd(d));
	struct dirent *de;
	while (!own && (de = readdir(d)))
		own = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		      !layers_upper_stub_file(dir, de->d_name);
	closedir(d);
	return own;
}

/* The image's entry at its root: the topmost layer that has it. */
static bool image_has(struct bx *b, json_t *layers, const char *name, struct stat *ret)
{
	for (size_t i = json_array_size(layers); i-- > 0;) {
		_cleanup_free_ char *p =
			layer_diff_path(&b->is->layers, json_string_value(json_array_get(layers, i)));
		_cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstatat(fd, name, ret, AT_SYMLINK_NOFOLLOW) == 0)
			return !is_whiteout(ret);
		if (fd_opaque(fd))
			return false;
	}
	return false;
}

static void find_skips(struct bx *b, int upper, json_t *layers, struct skip_set *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(setup_names); i++) {
		const char *name = setup_names[i];
		struct stat st, img;
		ret->skip[i] = false;
		if (fstatat(upper, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    has_own_entries(upper, name))
			continue;
		if (!image_has(b, layers, name, &img))
			ret->skip[i] = true;
		else
			ret->skip[i] = S_ISDIR(img.st_mode) && img.st_mode == st.st_mode &&
				       img.st_uid == st.st_uid && img.st_gid == st.st_gid;
	}
}

static bool upper_skip(void *opaque, const char *path)
{
	const struct skip_set *s = opaque;
	const char *slash = strchr(path, '/');
	if (!slash) {
		for (size_t i = 0; i < ARRAY_SIZE(setup_names); i++)
			if (s->skip[i] && strcmp(path, setup_names[i]) == 0)
				return true;
		return false;
	}
	if (strchr(slash + 1, '/'))
		return false;
	char dir[8];
	size_t dlen = (size_t)(slash - path);
	if (dlen >= sizeof(dir))
		return false;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	return layers_upper_stub_file(dir, slash + 1);
}

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

struct feed {
	struct layer_import *li;
	bool stopped;
};

static int feed_write(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	struct feed *f = opaque;
	if (layer_import_feed(f->li, buf, len) < 0) {
		f->stopped = true;
		return error_set(err, EIO, "the layer's extraction stopped");
	}
	return 0;
}

int bx_layer_from_tree(struct bx *b, int dir_fd, json_t *parent_layers, bool scow_files,
		       bool keep_empty, struct layer_info *ret, bool *ret_empty,
		       struct scow_error **err)
{
	*ret = (struct layer_info){0};
	struct skip_set skips;
	if (scow_files)
		find_skips(b, dir_fd, parent_layers, &skips);
	if (b->o->has_sde)
		clamp_tree(dir_fd, b->o->sde, 0);
	struct feed f = {0};
	if (layer_import_start(b->is, &f.li, err) < 0)
		return -1;
	struct layers_tar_opts to = {.skip = scow_files ? upper_skip : NULL,
				     .skip_opaque = scow_files ? &skips : NULL};
	_cleanup_error_ struct scow_error *terr = NULL;
	int tr = layers_tar_create(dir_fd, feed_write, &f, &to, NULL, &terr);
	int r = layer_import_finish(f.li, ret, err);
	if (tr < 0 && !f.stopped) {
		error_freep(err);
		*err = steal_ptr(&terr);
		r = -1;
	}
	*ret_empty = r == 0 && strcmp(ret->diff_id, EMPTY_TAR_DIFF_ID) == 0;
	size_t n = json_array_size(parent_layers);
	const char *parent = n ? json_string_value(json_array_get(parent_layers, n - 1)) : "";
	if (r == 0 && (keep_empty || !*ret_empty))
		r = layer_import_commit(f.li, parent, ret, err);
	layer_import_free(f.li);
	return r;
}

int bx_layer_from_upper(struct bx *b, int upper_fd, const struct bstate *st, struct layer_info *ret,
			bool *ret_empty, struct scow_error **err)
{
	return bx_layer_from_tree(b, upper_fd, st->layers, true, false, ret, ret_empty, err);
}
