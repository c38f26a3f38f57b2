#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define META_MAX (4u << 20)
#define TAGS_MAX (64u << 20)

int image_store_open(const char *root, bool rootless, struct image_store *ret,
		     struct scow_error **err)
{
	struct image_store s = {.root_fd = -1, .images_fd = -1, .store_lock = -1};
	if (layer_store_open(root, rootless, &s.layers, err) < 0)
		return -1;
	s.root_fd = fcntl(s.layers.root_fd, F_DUPFD_CLOEXEC, 3);
	if (s.root_fd < 0) {
		error_errno(err, "dup");
		goto fail;
	}
	s.images_fd = fs_open_dir_at(s.root_fd, "images", true, 0700, err);
	if (s.images_fd < 0)
		goto fail;
	s.root = xstrdup(root);
	*ret = s;
	return 0;
fail:
	image_store_close(&s);
	return -1;
}

void image_store_close(struct image_store *s)
{
	image_store_unlock(s);
	closep(&s->root_fd);
	closep(&s->images_fd);
	s->root_fd = s->images_fd = -1;
	layer_store_close(&s->layers);
	free(s->root);
	s->root = NULL;
}

int image_store_lock(struct image_store *s, struct scow_error **err)
{
	if (s->store_lock >= 0)
		return 0;
	s->store_lock = lock_acquire(s->layers.locks_fd, "store", LOCK_MODE_EXCLUSIVE, false, err);
	return s->store_lock < 0 ? -1 : 0;
}

void image_store_unlock(struct image_store *s)
{
	lock_release(s->store_lock);
	s->store_lock = -1;
}

int image_store_users_lock(struct image_store *s, bool exclusive, struct scow_error **err)
{
	return lock_acquire(s->layers.locks_fd, "users",
			    exclusive ? LOCK_MODE_EXCLUSIVE : LOCK_MODE_SHARED, false, err);
}

int image_store_gc_guard(struct image_store *s, struct scow_error **err)
{
	return lock_acquire(s->layers.locks_fd, "gc", LOCK_MODE_SHARED, false, err);
}

json_t *image_store_tags(struct image_store *s, struct scow_error **err)
{
	if (!fs_exists_at(s->root_fd, "images.json"))
		return json_object();
	_cleanup_json_ json_t *j = json_load_at(s->root_fd, "images.json", TAGS_MAX, err);
	if (!j) {
		error_wrap(err, "image store");
		return NULL;
	}
	json_t *tags = json_get_obj(j, "tags");
	return tags ? json_incref(tags) : json_object();
}

int image_store_save_tags(struct image_store *s, json_t *tags, struct scow_error **err)
{
	_cleanup_json_ json_t *j = json_pack("{sO}", "tags", tags);
	return json_save_at(s->root_fd, "images.json", j, err);
}

void image_release(struct image *img)
{
	json_decref(img->meta);
	json_decref(img->config);
	strv_free(img->tags);
	memset(img, 0, sizeof(*img));
}

bool image_store_has(struct image_store *s, const char *id)
{
	if (!digest_is_valid(id))
		return false;
	char name[DIGEST_HEX_LEN + 16];
	snprintf(name, sizeof(name), "%s/image.json", digest_hex(id));
	return fs_exists_at(s->images_fd, name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int image_store_load(struct image_store *s, const char *id, json_t *tags, struct image *ret,
		     struct scow_error **err)
{
	if (digest_check(id, "image", err) < 0)
		return -1;
	struct image img = {0};
	snprintf(img.id, sizeof(img.id), "%s", id);
	char name[DIGEST_HEX_LEN + 16];
	snprintf(name, sizeof(name), "%s/image.json", digest_hex(id));
	img.meta = json_load_at(s->images_fd, name, META_MAX, err);
	snprintf(name, sizeof(name), "%s/config.json", digest_hex(id));
	if (img.meta)
		img.config = json_load_at(s->images_fd, name, META_MAX, err);
	if (!img.meta || !img.config) {
		image_release(&img);
		return error_wrap(err, "image %.19s", id);
	}
	img.tags = xcalloc(1, sizeof(char *));
	const char *ref;
	json_t *v;
	json_object_foreach(tags, ref, v)
		if (str_eq(json_string_value(v), id))
			strv_push(&img.tags, xstrdup(ref));
	qsort(img.tags, strv_len(img.tags), sizeof(char *), cmp_str);
	*ret = img;
	return 0;
}

int image_store_ids(struct image_store *s, char ***ret, struct scow_error **err)
{
	int dfd = openat(s->images_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "open images");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "read images");
	}
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN || !str_is_hex(de->d_name, DIGEST_HEX_LEN))
			continue;
		_cleanup_free_ char *id = xasprintf("sha256:%s", de->d_name);
		if (image_store_has(s, id))
			strv_push(&v, steal_ptr(&id));
	}
	*ret = v;
	return 0;
}

static int find_by_digest_ref(struct image_store *s, const char *full, char **ret_id,
			      struct scow_error **err)
{
	_cleanup_strv_ char **ids = NULL;
	if (image_store_ids(s, &ids, err) < 0)
		return -1;
	for (size_t i = 0; ids[i]; i++) {
		char name[DIGEST_HEX_LEN + 16];
		snprintf(name, sizeof(name), "%s/image.json", digest_hex(ids[i]));
		_cleanup_error_ struct scow_error *e = NULL;
		_cleanup_json_ json_t *meta = json_load_at(s->images_fd, name, META_MAX, &e);
		size_t k;
		json_t *d;
		json_array_foreach(json_get_arr(meta, "repo_digests"), k, d) {
			if (str_eq(json_string_value(d), full)) {
				*ret_id = xstrdup(ids[i]);
				return 1;
			}
		}
	}
	return 0;
}

static int find_by_id_prefix(struct image_store *s, const char *prefix, char **ret_id,
			     struct scow_error **err)
{
	_cleanup_strv_ char **ids = NULL;
	if (image_store_ids(s, &ids, err) < 0)
		return -1;
	const char *match = NULL;
	for (size_t i = 0; ids[i]; i++) {
		if (!str_starts_with(digest_hex(ids[i]), prefix))
			continue;
		if (match)
			return error_set(err, EINVAL,
					 "multiple IDs found with provided prefix: %s", prefix);
		match = ids[i];
	}
	if (!match)
		return 0;
	*ret_id = xstrdup(match);
	return 1;
}

int image_store_resolve(struct image_store *s, const char *name, char **ret_id, char **ret_ref,
			struct scow_error **err)
{
	if (ret_ref)
		*ret_ref = NULL;
	if (str_starts_with(name, "sha256:") && digest_is_valid(name)) {
		if (image_store_has(s, name)) {
			*ret_id = xstrdup(name);
			return 0;
		}
		return error_set(err, ENOENT, "No such image: %s", name);
	}
	struct image_ref ref = {0};
	_cleanup_error_ struct scow_error *perr = NULL;
	if (image_ref_parse(name, true, &ref, &perr) == 0) {
		_cleanup_free_ char *full = image_ref_string(&ref);
		int found = 0;
		if (ref.digest) {
			_cleanup_free_ char *repo = image_ref_repo(&ref);
			_cleanup_free_ char *dref = xasprintf("%s@%s", repo, ref.digest);
			found = find_by_digest_ref(s, dref, ret_id, err);
		} else {
			_cleanup_json_ json_t *tags = image_store_tags(s, err);
			if (!tags) {
				image_ref_release(&ref);
				return -1;
			}
			const char *id = json_string_value(json_object_get(tags, full));
			if (id && image_store_has(s, id)) {
				*ret_id = xstrdup(id);
				found = 1;
			}
		}
		image_ref_release(&ref);
		if (found < 0)
			return -1;
		if (found) {
			if (ret_ref)
				*ret_ref = steal_ptr(&full);
			return 0;
		}
	}
	const char *hex = str_starts_with(name, "sha256:") ? name + 7 : name;
	if (image_id_like(name) && strlen(hex) >= 1) {
		int r = find_by_id_prefix(s, hex, ret_id, err);
		if (r < 0)
			return -1;
		if (r > 0)
			return 0;
	}
	if (perr && !image_id_like(name))
		return error_set(err, EINVAL, "%s", perr->msg);
	return error_set(err, ENOENT, "No such image: %s", name);
}

static int merge_repo_digests(json_t *meta, json_t *old_meta)
{
	json_t *dst = json_get_arr(meta, "repo_digests");
	if (!dst) {
		dst = json_array();
		json_object_set_new(meta, "repo_digests", dst);
	}
	size_t i, k;
	json_t *v, *w;
	json_array_foreach(json_get_arr(old_meta, "repo_digests"), i, v) {
		bool have = false;
		json_array_foreach(dst, k, w)
			have |= json_equal(v, w);
		if (!have)
			json_array_append(dst, v);
	}
	return 0;
}

int image_store_put(struct image_store *s, const char *id, const char *config, size_t config_len,
		    const char *manifest, size_t manifest_len, json_t *meta,
		    struct scow_error **err)
{
	if (digest_check(id, "image", err) < 0)
		return -1;
	const char *hex = digest_hex(id);
	if (image_store_has(s, id)) {
		/* Same content, maybe pulled through another repository:
		 * keep the union of repo digests, the newest manifest. */
		char name[DIGEST_HEX_LEN + 16];
		snprintf(name, sizeof(name), "%s/image.json", hex);
		_cleanup_json_ json_t *old = json_load_at(s->images_fd, name, META_MAX, err);
		if (!old)
			return error_wrap(err, "image %.19s", id);
		merge_repo_digests(meta, old);
		_cleanup_close_ int dfd = fs_open_dir_at(s->images_fd, hex, false, 0, err);
		if (dfd < 0)
			return -1;
		if (manifest && fs_write_atomic_at(dfd, "manifest.json", manifest, manifest_len,
						   0600, err) < 0)
			return -1;
		return json_save_at(dfd, "image.json", meta, err);
	}
	char tmp[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", hex);
	if (fs_rm_rf_at(s->images_fd, tmp, err) < 0)
		return -1;
	_cleanup_close_ int dfd = fs_open_dir_at(s->images_fd, tmp, true, 0700, err);
	if (dfd < 0)
		return -1;
	if (fs_write_atomic_at(dfd, "config.json", config, config_len, 0600, err) < 0 ||
	    (manifest &&
	     fs_write_atomic_at(dfd, "manifest.json", manifest, manifest_len, 0600, err) < 0) ||
	    json_save_at(dfd, "image.json", meta, err) < 0)
		goto fail;
	if (renameat(s->images_fd, tmp, s->images_fd, hex) < 0) {
		error_errno(err, "rename image into place");
		goto fail;
	}
	fs_fsync_dir(s->images_fd);
	return 0;
fail:;
	_cleanup_error_ struct scow_error *e = NULL;
	fs_rm_rf_at(s->images_fd, tmp, &e);
	return -1;
}

int image_store_delete(struct image_store *s, const char *id, struct scow_error **err)
{
	if (digest_check(id, "image", err) < 0)
		return -1;
	char rnd[9], del[DIGEST_HEX_LEN + 24];
	fs_random_hex(rnd, 4);
	snprintf(del, sizeof(del), ".del-%s-%s", digest_hex(id), rnd);
	if (renameat(s->images_fd, digest_hex(id), s->images_fd, del) < 0)
		return errno == ENOENT ? 0 : error_errno(err, "remove image %.19s", id);
	fs_fsync_dir(s->images_fd);
	return fs_rm_rf_at(s->images_fd, del, err);
}

int image_store_gc_layers(struct image_store *s, struct scow_error **err)
{
	int gc = lock_acquire(s->layers.locks_fd, "gc", LOCK_MODE_EXCLUSIVE, true, err);
	if (gc == -2)
		return 0; /* a pull is running; its layers must stay */
	if (gc < 0)
		return -1;
	int ret = -1;
	_cleanup_strv_ char **ids = NULL, **layers = NULL;
	_cleanup_json_ json_t *used = json_object();
	if (image_store_ids(s, &ids, err) < 0 || layer_list(&s->layers, &layers, err) < 0)
		goto out;
	for (size_t i = 0; ids[i]; i++) {
		char name[DIGEST_HEX_LEN + 16];
		snprintf(name, sizeof(name), "%s/image.json", digest_hex(ids[i]));
		json_t *meta = json_load_at(s->images_fd, name, META_MAX, err);
		if (!meta) /* unreadable: keep every layer rather than guess */
			goto out;
		size_t k;
		json_t *l;
		json_array_foreach(json_get_arr(meta, "layers"), k, l)
			if (json_is_string(l))
				json_object_set_new(used, json_string_value(l), json_true());
		json_decref(meta);
	}
	for (size_t i = 0; layers[i]; i++) {
		if (json_object_get(used, layers[i]))
			continue;
		log_debug("removing unused layer %s", layers[i]);
		if (layer_delete(&s->layers, layers[i], err) < 0)
			goto out;
	}
	ret = 0;
out:
	lock_release(gc);
	return ret;
}

void image_store_clean_stale(struct image_store *s)
{
	layer_store_clean_stale(&s->layers);
	int dfd = openat(s->images_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		/* *.tmp are only made under the store lock, which we hold. */
		if (s->store_lock < 0)
			break;
		if (str_starts_with(de->d_name, ".del-") || str_ends_with(de->d_name, ".tmp")) {
			_cleanup_error_ struct scow_error *e = NULL;
			fs_rm_rf_at(s->images_fd, de->d_name, &e);
		}
	}
}
