/* builder prune: the build cache is ROOT/build-cache (the index, cache
 * mounts, leftovers of killed builds) and the images builds made (those in
 * the index, and any image with a "parent", which only builds record)
 * that have no tag and no container; their layers go when no other image
 * uses them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* The ids the index names. */
static char **index_ids(int cache_fd)
{
	char **ids = xcalloc(1, sizeof(char *));
	int fd = openat(cache_fd, "index", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ids;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		char buf[DIGEST_STR_LEN + 2];
		int f = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f < 0)
			continue;
		ssize_t n = read(f, buf, sizeof(buf) - 1);
		close(f);
		if (n < DIGEST_STR_LEN)
			continue;
		buf[DIGEST_STR_LEN] = '\0';
		if (digest_is_valid(buf) && !strv_contains(ids, buf))
			strv_push(&ids, xstrdup(buf));
	}
	closedir(d);
	return ids;
}

static long long layers_size(struct image_store *is)
{
	_cleanup_strv_ char **layers = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (layer_list(&is->layers, &layers, &e) < 0)
		return 0;
	long long total = 0;
	for (size_t i = 0; layers[i]; i++) {
		struct layer_info li;
		if (layer_info_read(&is->layers, layers[i], &li, &e) == 0)
			total += li.size;
		error_freep(&e);
	}
	return total;
}

static bool removable(struct image_store *is, json_t *tags, const char *id,
		      bool (*in_use)(void *, const char *), void *opaque)
{
	const char *k;
	json_t *v;
	json_object_foreach(tags, k, v)
		if (str_eq(json_string_value(v), id))
			return false;
	(void)is;
	return !in_use || !in_use(opaque, id);
}

int build_cache_prune(struct image_store *is, const char *root,
		      bool (*in_use)(void *opaque, const char *image_id), void *opaque,
		      char ***ret_ids, long long *ret_bytes, struct scow_error **err)
{
	*ret_ids = xcalloc(1, sizeof(char *));
	*ret_bytes = 0;
	_cleanup_free_ char *cpath = xasprintf("%s/build-cache", root);
	_cleanup_close_ int cache = open(cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_strv_ char **ids = cache >= 0 ? index_ids(cache) : xcalloc(1, sizeof(char *));
	if (image_store_lock(is, err) < 0)
		return -1;
	long long before = layers_size(is);
	_cleanup_json_ json_t *tags = image_store_tags(is, err);
	_cleanup_strv_ char **all = NULL;
	int r = tags ? image_store_ids(is, &all, err) : -1;
	for (size_t i = 0; r == 0 && all[i]; i++) {
		struct image img;
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_load(is, all[i], NULL, &img, &e) < 0)
			continue;
		bool built = strv_contains(ids, img.id) || json_get_str(img.meta, "parent");
		image_release(&img);
		if (!built || !removable(is, tags, all[i], in_use, opaque))
			continue;
		if (image_store_delete(is, all[i], err) < 0) {
			r = -1;
			break;
		}
		strv_push(ret_ids, xstrdup(all[i]));
	}
	if (r == 0)
		r = image_store_gc_layers(is, err);
	long long after = layers_size(is);
	image_store_unlock(is);
	if (r < 0)
		return -1;
	*ret_bytes = before > after ? before - after : 0;
	if (cache >= 0) {
		*ret_bytes += (long long)fs_tree_size_at(cache, "mounts");
		if (fs_rm_rf_at(cache, "index", err) < 0 || fs_rm_rf_at(cache, "mounts", err) < 0)
			return -1;
	}
	return 0;
}
