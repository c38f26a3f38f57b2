/* scow export [-o FILE] CONTAINER: a tar of the container's file system,
 * as `docker export` writes it.
 *
 * The tree is the container's own: its image's layers with its upper dir
 * on top, merged by a read-only overlay that is mounted detached
 * (layers/view.h), so the host's mount table is never touched and the
 * container may be running meanwhile. Its volumes, bind mounts, /proc,
 * /sys and /dev are not in it, as with Docker. What scow made for
 * /etc/hosts, /etc/hostname and /etc/resolv.conf when the image lacked
 * them is there as empty files, as Docker's init layer has them. The tar
 * comes from layers_tar_create() (pax, sorted, no whiteouts: the merged
 * view has none).
 *
 * To stdout, refused when that is a terminal (Docker's message), or with
 * -o to FILE.tmp-RANDOM, renamed to FILE only once complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "layers/store.h"
#include "layers/tar.h"
#include "layers/view.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

const struct opt_def cmd_export_opts[] = {
	{"output", 'o', OPT_VALUE, "string", "Write to a file, instead of STDOUT", NULL},
	OPT_END,
};

/* The container's layer dirs for a read-only view, top first: its upper
 * dir (if it was ever started), then its image's layers; an empty dir at
 * the bottom when that makes fewer than two (overlayfs needs two lowers
 * without an upper). */
static int view_lowers(struct scow_ctx *ctx, struct container_store *cs,
		       const struct container *c, char ***ret, struct scow_error **err)
{
	json_t *layers = json_get_arr(json_get_obj(c->config, "Scow"), "Layers");
	size_t n = json_array_size(layers);
	_cleanup_strv_ char **lowers = xcalloc(n + 3, sizeof(char *));
	size_t k = 0;
	_cleanup_free_ char *upper = container_path(cs, c->id, "upper");
	struct stat st;
	int lr = lstat(upper, &st);
	if (lr == 0 && S_ISDIR(st.st_mode))
		lowers[k++] = steal_ptr(&upper);
	else if (lr < 0 && errno != ENOENT) /* ENOENT: never started */
		return error_errno(err, "the container's upper dir");
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
		lowers[k] = xasprintf("%s/empty", cs->root);
		if (mkdir(lowers[k], 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create %s", lowers[k]);
	}
	*ret = steal_ptr(&lowers);
	return 0;
}

static int write_fd(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	int fd = *(int *)opaque;
	if (fs_write_all(fd, buf, len) < 0)
		return error_errno(err, "write");
	return 0;
}

static int export_to(int root, int fd, struct scow_error **err)
{
	return layers_tar_create(root, write_fd, &fd, NULL, NULL, err);
}

/* FILE.tmp-RANDOM, renamed when complete: FILE is never a partial tar. */
static int export_to_file(int root, const char *path, struct scow_error **err)
{
	char rnd[13];
	fs_random_hex(rnd, 6);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%s", path, rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_errno(err, "create %s", tmp);
	int r = export_to(root, fd, err);
	if (close(fd) < 0 && r == 0)
		r = error_errno(err, "write %s", path);
	if (r == 0 && rename(tmp, path) < 0)
		r = error_errno(err, "rename %s to %s", tmp, path);
	if (r < 0)
		unlink(tmp);
	return r;
}

int cmd_export(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *out = opt_str(o, "output");
	if (out && (!*out || strcmp(out, "-") == 0))
		out = NULL;
	if (!out && isatty(STDOUT_FILENO)) {
		error_set(err, EINVAL,
			  "cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return cmd_fail(err);
	}
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	_cleanup_strv_ char **lowers = NULL;
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	if (r == 0) {
		r = view_lowers(ctx, &cs, &c, &lowers, err);
		container_release(&c);
	}
	_cleanup_close_ int root = r == 0 ? layers_view_mount(lowers, ctx->rootless, err) : -1;
	if (r == 0 && root < 0)
		r = -1;
	if (r == 0)
		r = out ? export_to_file(root, out, err) : export_to(root, STDOUT_FILENO, err);
	container_store_close(&cs);
	if (r < 0) {
		error_wrap(err, "export %s", o->args[0]);
		return cmd_fail(err);
	}
	return 0;
}
