/* build --squash, as Docker's legacy one (daemon/images/image_squash.go):
 * the layers the target stage added on top of its FROM image become one
 * layer on top of that image's layers (FROM scratch: everything in one
 * layer); the config stays; the history keeps every entry, those after
 * the base marked empty_layer, plus one for the merged layer ("merge
 * <image> to <base>" or "create new from <image>"); the image.json parent
 * is the base. The steps' own images stay in the store and the cache, so a
 * rebuild uses the cache and squashes again.
 *
 * The merge is overlayfs's own: an overlay of the base's layers with a
 * fresh upper dir, into which each new layer (overlay form: a whiteout is
 * a 0:0 char device, an opaque directory has <prefix>.overlay.opaque "y")
 * is replayed in order: a whiteout removes the path, an opaque directory
 * is emptied first, anything else replaces what is there, and a
 * directory gets its owner, mode, xattrs and mtime once its contents are
 * in. The upper dir is then the difference from the base: the kernel's
 * whiteouts for what the build removed of the base, the rest as it ends
 * up, and it becomes the layer as a RUN step's upper dir does.
 *
 * The replay walks by fd with O_NOFOLLOW on both sides; the overlay is
 * detached (new mount API: no mount table entry, gone with its fd). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "layers/upper.h"
#include "layers/view.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* Two fds per level are kept open while the walk is below it. */
#define SQUASH_MAX_DEPTH 256

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the mount's root */
};

struct replay {
	int root; /* the overlay */
	struct link_seen *links; /* one layer's multiply-linked files */
	size_t nlinks;
};

static void replay_links_reset(struct replay *rp)
{
	for (size_t i = 0; i < rp->nlinks; i++)
		free(rp->links[i].path);
	free(rp->links);
	rp->links = NULL;
	rp->nlinks = 0;
}

/* What a layer tar keeps (layers/tar.h): security.capability and user.*
 * but overlayfs's own. */
static bool xattr_kept(const char *name)
{
	if (strcmp(name, "security.capability") == 0)
		return true;
	return str_starts_with(name, "user.") && !str_starts_with(name, "user.overlay.");
}

static int copy_xattrs(int src, int dst, const char *path, struct scow_error **err)
{
	char list[16384];
	ssize_t n = flistxattr(src, list, sizeof(list));
	if (n < 0)
		return errno == ENOTSUP ? 0 : error_errno(err, "squash: list xattrs of %s", path);
	for (char *name = list; name < list + n; name += strlen(name) + 1) {
		if (!xattr_kept(name))
			continue;
		char val[65536];
		ssize_t vn = fgetxattr(src, name, val, sizeof(val));
		if (vn < 0)
			return error_errno(err, "squash: xattr %s of %s", name, path);
		if (fsetxattr(dst, name, val, (size_t)vn, 0) < 0)
			return error_errno(err, "squash: set xattr %s on %s", name, path);
	}
	return 0;
}

/* Owner, mode (after the owner: chown clears set-id bits), xattrs, mtime. */
static int set_meta_fd(int src, int dst, const struct stat *st, const char *path,
		       struct scow_error **err)
{
	if (fchown(dst, st->st_uid, st->st_gid) < 0 || fchmod(dst, st->st_mode & 07777) < 0)
		return error_errno(err, "squash: set the owner and mode of %s", path);
	if (copy_xattrs(src, dst, path, err) < 0)
		return -1;
	struct timespec ts[2] = {{0, UTIME_OMIT}, st->st_mtim};
	if (futimens(dst, ts) < 0)
		return error_errno(err, "squash: set the mtime of %s", path);
	return 0;
}

/* Symlinks, devices, fifos: by name (never opened). */
static int set_meta_at(int dfd, const char *name, const struct stat *st, const char *path,
		       struct scow_error **err)
{
	if (fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "squash: set the owner of %s", path);
	if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
		return error_errno(err, "squash: set the mode of %s", path);
	struct timespec ts[2] = {{0, UTIME_OMIT}, st->st_mtim};
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "squash: set the mtime of %s", path);
	return 0;
}

static int copy_data(int in, int out, const char *path, struct scow_error **err)
{
	bool plain = false;
	for (;;) {
		ssize_t n;
		if (!plain) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
				      errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			char buf[65536];
			n = read(in, buf, sizeof(buf));
			if (n > 0 && fs_write_all(out, buf, (size_t)n) < 0)
				return error_errno(err, "squash: write %s", path);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "squash: copy %s", path);
		}
		if (n == 0)
			return 0;
	}
}

/* Removes whatever dst/name is (missing is fine). */
static int remove_at(int dfd, const char *name, const char *path, struct scow_error **err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : error_errno(err, "squash: stat %s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return error_errno(err, "squash: remove %s", path);
		return 0;
	}
	return fs_rm_rf_at(dfd, name, err);
}

static int empty_dir(int dfd, const char *path, struct scow_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "squash: open %s", path);
	}
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, xstrdup(de->d_name));
	closedir(d);
	for (size_t i = 0; names[i]; i++)
		if (fs_rm_rf_at(dfd, names[i], err) < 0)
			return error_wrap(err, "squash: empty %s", path);
	return 0;
}

/* The names in a directory (its fd stays usable). */
static int list_dir(int dfd, const char *path, char ***ret, struct scow_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "squash: open %s", path);
	}
	char **names = xcalloc(1, sizeof(char *));
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, xstrdup(de->d_name));
	int e = errno;
	closedir(d);
	if (e) {
		strv_free(names);
		errno = e;
		return error_errno(err, "squash: read %s", path);
	}
	strv_sort(names);
	*ret = names;
	return 0;
}

static int replay_dir(struct replay *rp, int src, int dst, const char *path, int depth,
		      struct scow_error **err);

static int replay_file(struct replay *rp, int src, int dst, const char *name,
		       const struct stat *st, const char *path, struct scow_error **err)
{
	if (st->st_nlink > 1) {
		for (size_t i = 0; i < rp->nlinks; i++)
			if (rp->links[i].dev == st->st_dev && rp->links[i].ino == st->st_ino &&
			    linkat(rp->root, rp->links[i].path, dst, name, 0) == 0)
				return 0;
	}
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return error_errno(err, "squash: open %s", path);
	_cleanup_close_ int out =
		openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return error_errno(err, "squash: create %s", path);
	if (copy_data(in, out, path, err) < 0 || set_meta_fd(in, out, st, path, err) < 0)
		return -1;
	if (st->st_nlink > 1) {
		rp->links = xrealloc(rp->links, (rp->nlinks + 1) * sizeof(*rp->links));
		rp->links[rp->nlinks++] = (struct link_seen){st->st_dev, st->st_ino, xstrdup(path)};
	}
	return 0;
}

static int replay_entry(struct replay *rp, int src, int dst, const char *name, const char *path,
			int depth, struct scow_error **err)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "squash: stat %s", path);
	if (layers_ovl_whiteout(&st))
		return remove_at(dst, name, path, err);
	if (S_ISSOCK(st.st_mode))
		return 0; /* a layer tar has none */
	struct stat cur;
	bool exists = fstatat(dst, name, &cur, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return error_errno(err, "squash: stat %s", path);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sfd = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
								    O_CLOEXEC);
		if (sfd < 0)
			return error_errno(err, "squash: open %s", path);
		if (exists && !S_ISDIR(cur.st_mode)) {
			if (unlinkat(dst, name, 0) < 0)
				return error_errno(err, "squash: remove %s", path);
			exists = false;
		}
		if (!exists && mkdirat(dst, name, 0700) < 0)
			return error_errno(err, "squash: create %s", path);
		_cleanup_close_ int dfd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
								    O_CLOEXEC);
		if (dfd < 0)
			return error_errno(err, "squash: open %s", path);
		if (exists && layers_ovl_opaque(sfd) && empty_dir(dfd, path, err) < 0)
			return -1;
		if (replay_dir(rp, sfd, dfd, path, depth + 1, err) < 0)
			return -1;
		return set_meta_fd(sfd, dfd, &st, path, err);
	}
	if (exists && remove_at(dst, name, path, err) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return replay_file(rp, src, dst, name, &st, path, err);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return error_errno(err, "squash: read the link %s", path);
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0)
			return error_errno(err, "squash: create %s", path);
	} else if (mknodat(dst, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0) {
		return error_errno(err, "squash: create %s", path);
	}
	return set_meta_at(dst, name, &st, path, err);
}

static int replay_dir(struct replay *rp, int src, int dst, const char *path, int depth,
		      struct scow_error **err)
{
	if (depth > SQUASH_MAX_DEPTH)
		return error_set(err, ELOOP, "squash: %s: more than %d levels of directories", path,
				 SQUASH_MAX_DEPTH);
	_cleanup_strv_ char **names = NULL;
	if (list_dir(src, *path ? path : "/", &names, err) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *p =
			*path ? xasprintf("%s/%s", path, names[i]) : xstrdup(names[i]);
		if (replay_entry(rp, src, dst, names[i], p, depth, err) < 0)
			return -1;
	}
	return 0;
}

/* The kernel's whiteouts have the time of the merge: they get their
 * directory's (set from the layers), so the same layers always give the
 * same squashed tar. */
static int whiteout_times(int dfd, const char *path, int depth, struct scow_error **err)
{
	if (depth > SQUASH_MAX_DEPTH)
		return error_set(err, ELOOP, "squash: %s: too deep", path);
	struct stat dst;
	if (fstat(dfd, &dst) < 0)
		return error_errno(err, "squash: stat %s", path);
	_cleanup_strv_ char **names = NULL;
	if (list_dir(dfd, path, &names, err) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return error_errno(err, "squash: stat %s/%s", path, names[i]);
		if (layers_ovl_whiteout(&st)) {
			struct timespec ts[2] = {{0, UTIME_OMIT}, dst.st_mtim};
			if (utimensat(dfd, names[i], ts, AT_SYMLINK_NOFOLLOW) < 0)
				return error_errno(err, "squash: set the mtime of %s/%s", path,
						   names[i]);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY |
									    O_NOFOLLOW | O_CLOEXEC);
			_cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);
			if (sub < 0)
				return error_errno(err, "squash: open %s", p);
			if (whiteout_times(sub, p, depth + 1, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the squashed image ------------------------------------------------------------------ */

/* Runs the merge in ROOT/build-cache/<dir>: upper/, work/, empty/. */
static int merge_layers(struct bx *b, const struct bstate *base, json_t *new_layers, int tmp_fd,
			const char *tmp_path, struct scow_error **err)
{
	static const char *const subdirs[] = {"upper", "work", "empty"};
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++)
		if (mkdirat(tmp_fd, subdirs[i], 0755) < 0)
			return error_errno(err, "squash: create %s/%s", tmp_path, subdirs[i]);
	size_t n = json_array_size(base->layers);
	char **lowers = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		lowers[i] = layer_diff_path(&b->is->layers,
					    json_string_value(json_array_get(base->layers, n - 1 - i)));
	if (n == 0)
		lowers[0] = xasprintf("%s/empty", tmp_path);
	_cleanup_free_ char *upper = xasprintf("%s/upper", tmp_path);
	_cleanup_free_ char *work = xasprintf("%s/work", tmp_path);
	int root = layers_overlay_mount(lowers, upper, work, b->o->rootless, err);
	strv_free(lowers);
	if (root < 0)
		return error_wrap(err, "squash");
	struct replay rp = {.root = root};
	int r = 0;
	size_t i;
	json_t *l;
	json_array_foreach(new_layers, i, l) {
		_cleanup_free_ char *diff = layer_diff_path(&b->is->layers, json_string_value(l));
		_cleanup_close_ int src = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0) {
			r = error_errno(err, "squash: open the layer %s", diff);
			break;
		}
		r = replay_dir(&rp, src, root, "", 0, err);
		replay_links_reset(&rp);
		if (r < 0)
			break;
	}
	close(root);
	return r;
}

/* The config: the final one with the base's rootfs plus the new layer,
 * the build's history entries empty, one more for the merged layer. */
static json_t *squashed_config(struct bx *b, const struct bstate *base, const struct bstate *st,
			       const char *diff_id)
{
	char now[64];
	bx_created(b, now, sizeof(now));
	json_t *img = json_deep_copy(st->img);
	size_t nbase = json_array_size(json_get_arr(base->img, "history"));
	json_t *hist = json_get_arr(img, "history");
	if (!hist) {
		hist = json_array();
		json_object_set_new(img, "history", hist);
	}
	size_t i;
	json_t *h;
	json_array_foreach(hist, i, h)
		if (i >= nbase && json_is_object(h))
			json_object_set_new(h, "empty_layer", json_true());
	_cleanup_free_ char *comment = base->id[0]
					       ? xasprintf("merge %s to %s", st->id, base->id)
					       : xasprintf("create new from %s", st->id);
	json_array_append_new(hist, json_pack("{ss ss}", "created", now, "comment", comment));
	json_set_str(img, "created", now);
	json_t *old = json_get_arr(json_get_obj(base->img, "rootfs"), "diff_ids");
	json_t *ids = old ? json_deep_copy(old) : json_array();
	json_array_append_new(ids, json_string(diff_id));
	json_object_set_new(img, "rootfs", json_pack("{ss so}", "type", "layers", "diff_ids", ids));
	return img;
}

int bx_squash(struct bx *b, const struct bstate *base, struct bstate *st, struct scow_error **err)
{
	size_t nb = json_array_size(base->layers), nf = json_array_size(st->layers);
	for (size_t i = 0; i < nb; i++)
		if (i >= nf || !json_equal(json_array_get(base->layers, i),
					   json_array_get(st->layers, i)))
			return error_set(err, EINVAL, "squash: the image does not build on its base");
	json_t *new_layers = json_array();
	for (size_t i = nb; i < nf; i++)
		json_array_append(new_layers, json_array_get(st->layers, i));
	char hex[17];
	fs_random_hex(hex, 8);
	_cleanup_free_ char *name = xasprintf("squash-%s", hex);
	_cleanup_free_ char *tmp_path = xasprintf("%s/%s", b->cache_path, name);
	int r = -1;
	struct layer_info li;
	bool empty;
	if (mkdirat(b->cache_fd, name, 0700) < 0) {
		error_errno(err, "squash: create %s", tmp_path);
	} else {
		_cleanup_close_ int tmp_fd =
			openat(b->cache_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int upper = -1;
		if (tmp_fd < 0)
			error_errno(err, "squash: open %s", tmp_path);
		else if (merge_layers(b, base, new_layers, tmp_fd, tmp_path, err) == 0 &&
			 (upper = openat(tmp_fd, "upper",
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			error_errno(err, "squash: open %s/upper", tmp_path);
		else if (upper >= 0 && whiteout_times(upper, "", 0, err) == 0)
			r = bx_layer_from_tree(b, upper, base->layers, false, true, &li, &empty, err);
		_cleanup_error_ struct scow_error *e = NULL;
		fs_rm_rf_at(b->cache_fd, name, &e);
	}
	json_decref(new_layers);
	if (r < 0)
		return -1;
	json_t *img = squashed_config(b, base, st, li.diff_id);
	json_t *layers = json_deep_copy(base->layers);
	json_array_append_new(layers, json_string(li.chain_id));
	return bx_adopt_image(b, st, img, layers, base->id, err);
}
