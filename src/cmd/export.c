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
#include <unistd.h>

#include "cmd/containers.h"
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
		r = container_layer_dirs(ctx, &cs, &c, true, &lowers, err);
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
