/* Storing images made by import and commit (see create.h). */
#include "image/create.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/reference.h"
#include "layers/tar.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

int image_store_create(struct image_store *s, json_t *config, json_t *layers, const char *parent,
		       char *const *tags, char ret_id[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	_cleanup_free_ char *bytes = json_dump_compact(config);
	if (!bytes)
		return error_set(err, ENOMEM, "cannot serialise the image config");
	char id[DIGEST_STR_LEN + 1];
	sha256_digest(bytes, strlen(bytes), id);
	int64_t size = 0;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		struct layer_info li;
		if (layer_info_read(&s->layers, json_string_value(l), &li, err) < 0)
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
	if (image_store_lock(s, err) < 0)
		return -1;
	image_store_clean_stale(s);
	int r = image_store_put(s, id, bytes, strlen(bytes), NULL, 0, meta, err);
	if (r == 0 && tags && tags[0]) {
		_cleanup_json_ json_t *all = image_store_tags(s, err);
		if (!all) {
			r = -1;
		} else {
			for (size_t k = 0; tags[k]; k++)
				json_object_set_new(all, tags[k], json_string(id));
			r = image_store_save_tags(s, all, err);
		}
	}
	image_store_unlock(s);
	if (r < 0)
		return -1;
	memcpy(ret_id, id, DIGEST_STR_LEN + 1);
	return 0;
}

int image_tag_arg(const char *arg, char **ret, struct scow_error **err)
{
	struct image_ref r = {0};
	if (image_ref_parse(arg, true, &r, err) < 0)
		return error_wrap(err, "Error parsing reference: \"%s\" is not a valid repository/tag",
				  arg);
	if (r.digest) {
		image_ref_release(&r);
		return error_set(err, EINVAL, "refusing to create a tag with a digest reference");
	}
	*ret = image_ref_string(&r);
	image_ref_release(&r);
	return 0;
}

int image_layer_dirs_open(struct image_store *s, json_t *layers, int **ret, size_t *ret_n,
			  struct scow_error **err)
{
	size_t n = json_array_size(layers);
	int *fds = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		const char *chain = json_string_value(json_array_get(layers, n - 1 - i));
		_cleanup_free_ char *p = chain ? layer_diff_path(&s->layers, chain) : NULL;
		fds[i] = p ? open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (fds[i] < 0) {
			image_layer_dirs_close(fds, i);
			return error_set(err, ENOENT, "layer %.19s of the image is missing",
					 chain ? chain : "?");
		}
	}
	*ret = fds;
	*ret_n = n;
	return 0;
}

void image_layer_dirs_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

struct feed {
	struct layer_import *li;
	bool stopped; /* the extraction gave up: its error is the one to show */
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

int image_layer_from_dir(struct image_store *s, int dir_fd, const char *parent,
			 struct layers_upper_skips *skips, bool keep_empty, struct layer_info *ret,
			 struct scow_error **err)
{
	*ret = (struct layer_info){0};
	struct feed f = {0};
	if (layer_import_start(s, &f.li, err) < 0)
		return -1;
	struct layers_tar_opts to = {.skip = skips ? layers_upper_skip : NULL, .skip_opaque = skips};
	_cleanup_error_ struct scow_error *terr = NULL;
	int tr = layers_tar_create(dir_fd, feed_write, &f, &to, NULL, &terr);
	int r = layer_import_finish(f.li, ret, err);
	if (tr < 0 && !f.stopped) {
		/* the tar's own failure explains the extraction's */
		error_freep(err);
		*err = steal_ptr(&terr);
		r = -1;
	}
	if (r == 0 && (keep_empty || strcmp(ret->diff_id, EMPTY_TAR_DIFF_ID) != 0))
		r = layer_import_commit(f.li, parent, ret, err);
	layer_import_free(f.li);
	return r;
}
