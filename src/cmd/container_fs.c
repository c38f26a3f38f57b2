/* A container's file system without running it: its layer directories,
 * for a detached overlay (export, cp into or out of a stopped container). */
#include <errno.h>
#include <sys/stat.h>

#include "cmd/containers.h"
#include "layers/store.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

int container_layer_dirs(struct scow_ctx *ctx, struct container_store *cs,
			 const struct container *c, bool with_upper, char ***ret,
			 struct scow_error **err)
{
	json_t *layers = json_get_arr(json_get_obj(c->config, "Scow"), "Layers");
	size_t n = json_array_size(layers);
	_cleanup_strv_ char **lowers = xcalloc(n + 3, sizeof(char *));
	size_t k = 0;
	if (with_upper) {
		_cleanup_free_ char *upper = container_path(cs, c->id, "upper");
		struct stat st;
		int lr = lstat(upper, &st);
		if (lr == 0 && S_ISDIR(st.st_mode))
			lowers[k++] = steal_ptr(&upper);
		else if (lr < 0 && errno != ENOENT) /* ENOENT: never started */
			return error_errno(err, "the container's upper dir");
	}
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *chain = json_string_value(json_array_get(layers, n - 1 - i));
		if (!chain || !layer_exists(&is.layers, chain))
			r = error_set(err, ENOENT, "layer %.19s of the container's image is missing",
				      chain ? chain : "?");
		else
			lowers[k++] = layer_diff_path(&is.layers, chain);
	}
	image_store_close(&is);
	if (r < 0)
		return -1;
	if (k < 2) {
		/* Without an upper dir overlayfs wants two lower layers. */
		lowers[k] = xasprintf("%s/empty", cs->root);
		if (mkdir(lowers[k], 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create %s", lowers[k]);
	}
	*ret = steal_ptr(&lowers);
	return 0;
}
