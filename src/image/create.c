/* Storing images made by import and commit (see create.h). */
#include "image/create.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/timefmt.h"

int image_store_create(struct image_store *s, json_t *config, json_t *layers, char *const *tags,
		       char ret_id[DIGEST_STR_LEN + 1], struct scow_error **err)
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
