/* scow diff CONTAINER: the changes of a container's file system against its
 * image, as `docker diff` prints them ("A /path", "C /path", "D /path").
 *
 * Docker (overlay2, archive.OverlayChanges) walks the container's upper dir
 * in lexical order, depth first, and for each entry says:
 *   D  a whiteout (char device 0:0), or a directory marked opaque that the
 *      image has (it was removed and made again; what is inside is then
 *      reported on its own lines);
 *   A  anything the image does not have;
 *   C  anything else, except a directory whose mode and mtime equal the
 *      image's: overlayfs copies a directory up with its times when
 *      something below it changes, and such a directory is not reported;
 * and the parent of an A or D entry is reported as C even when it looks
 * unchanged. Differences from Docker, on purpose:
 *  - "in the image" means in the merged image, honouring the whiteouts and
 *    opaque directories of its layers (Docker stats each layer dir on its
 *    own, so a file deleted by a later layer and made again counts as C);
 *    symlinks in the layers are never followed;
 *  - Docker compares the directories' st_size too, which is filesystem
 *    bookkeeping (4096 for a small directory on ext4, entry-based on xfs,
 *    btrfs or tmpfs), so its output depends on the backing filesystem;
 *    scow gives Docker's ext4 output everywhere;
 *  - a parent reported only because of an A/D child comes right before its
 *    children (Docker can print it after earlier siblings' lines).
 * Docker keeps the mount points it creates (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf, /dev, /proc, /sys) in an "init" layer below the
 * container's, so a fresh container shows no changes. scow creates what the
 * image lacks in the upper dir, so: those three files are never reported,
 * and /etc, /dev, /proc and /sys (the directories scow makes or touches for
 * them) only when they are removed, when their mode changed, or when an
 * entry directly inside them was added or removed.
 *
 * The upper dir is written by the container: it is walked through fds, never
 * following a symlink or crossing a mount, and entries that vanish while it
 * runs are skipped. Names are printed as they are, except that on a terminal
 * control characters show as '?'. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "layers/store.h"
#include "layers/upper.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

const struct opt_def cmd_diff_opts[] = {
	OPT_END,
};

enum change { CH_NONE, CH_MODIFY, CH_ADD, CH_DELETE };

static const char change_letter[] = {'?', 'C', 'A', 'D'};

/* The directories of the image's layers that make up one directory of the
 * merged image, top layer first (open fds, owned). */
struct view {
	int *fds;
	size_t n;
};

static void view_release(struct view *v)
{
	for (size_t i = 0; i < v->n; i++)
		close(v->fds[i]);
	free(v->fds);
	v->fds = NULL;
	v->n = 0;
}

static void view_push(struct view *v, int fd)
{
	v->fds = xrealloc(v->fds, (v->n + 1) * sizeof(int));
	v->fds[v->n++] = fd;
}

struct walk {
	const char *opaque_xattr; /* "trusted.overlay.opaque" (rootless: user.) */
	bool tty;
	FILE *out;
	struct strbuf path; /* of the directory being walked, "" for the root */
	unsigned depth;
};

/* Docker's entry of the walk: what the upper dir has, what the image has. */
struct entry {
	char *name;
	struct stat st;
	enum change kind;
	bool in_image;
	struct stat img; /* the image's entry (its topmost layer's), if in_image */
};

static const char *wpath(const struct walk *w)
{
	return w->path.buf ? w->path.buf : "";
}

static bool fd_is_opaque(const struct walk *w, int fd)
{
	char v[2];
	return fgetxattr(fd, w->opaque_xattr, v, sizeof(v)) == 1 && v[0] == 'y';
}

/* A directory below dirfd: no symlink, no other mount. */
static int open_subdir(int dirfd, const char *name)
{
	return fs_openat2(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				  RESOLVE_NO_XDEV);
}

/* Looks name up in the merged image below the directory whose layers are v:
 * the topmost layer that has it decides, a whiteout removes it, a
 * non-directory or an opaque directory hides the layers below. With
 * ret_view, the child's own layer directories (when it is a directory). */
static int image_lookup(const struct walk *w, const struct view *v, const char *name,
			struct entry *e, struct view *ret_view, struct scow_error **err)
{
	e->in_image = false;
	for (size_t i = 0; i < v->n; i++) {
		struct stat st;
		if (fstatat(v->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return error_errno(err, "image layer: %.256s/%s", wpath(w), name);
		}
		if (layers_ovl_whiteout(&st))
			break;
		if (!e->in_image) {
			e->in_image = true;
			e->img = st;
		}
		/* A non-directory is never merged with what is below it. */
		if (!S_ISDIR(st.st_mode) || !S_ISDIR(e->img.st_mode) || !ret_view)
			break;
		int fd = open_subdir(v->fds[i], name);
		if (fd < 0)
			return error_errno(err, "image layer: open %.256s/%s", wpath(w), name);
		view_push(ret_view, fd);
		if (fd_is_opaque(w, fd))
			break;
	}
	return 0;
}

/* Go's sameFsTime: equal, or equal seconds and one side without
 * nanoseconds (times that went through a tar). */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec &&
	       (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* Mount points scow makes in the upper dir that Docker keeps in its init
 * layer: never reported (layers/upper.h). */
static bool hidden_file(const struct walk *w, const char *name)
{
	return layers_upper_stub_file(wpath(w), name);
}

/* Directories scow makes or changes for its mount points (see above). */
static bool setup_dir(const struct walk *w, const char *name)
{
	return layers_upper_setup_dir(wpath(w), name);
}

static int classify(const struct walk *w, int dirfd, const struct view *v, struct entry *e,
		    struct scow_error **err)
{
	if (layers_ovl_whiteout(&e->st)) {
		e->kind = CH_DELETE;
		return 0;
	}
	if (image_lookup(w, v, e->name, e, NULL, err) < 0)
		return -1;
	bool dir = S_ISDIR(e->st.st_mode);
	if (dir && e->in_image) {
		_cleanup_close_ int fd = open_subdir(dirfd, e->name);
		if (fd >= 0 && fd_is_opaque(w, fd)) {
			e->kind = CH_DELETE;
			return 0;
		}
	}
	if (!e->in_image)
		e->kind = CH_ADD;
	else if (dir && S_ISDIR(e->img.st_mode) && e->st.st_mode == e->img.st_mode &&
		 same_time(&e->st.st_mtim, &e->img.st_mtim))
		e->kind = CH_NONE;
	else
		e->kind = CH_MODIFY;
	if (dir && setup_dir(w, e->name))
		e->kind = e->in_image && S_ISDIR(e->img.st_mode) && e->st.st_mode != e->img.st_mode
				  ? CH_MODIFY
				  : CH_NONE;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* The entries of dirfd, classified and sorted by name. */
static int read_entries(const struct walk *w, int dirfd, const struct view *v,
			struct entry **ret, size_t *ret_n, struct scow_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "read %.256s/", wpath(w));
	}
	struct entry *es = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	/* errno tells the end of the directory from a failure */
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    hidden_file(w, de->d_name))
			continue;
		struct entry e = {.name = de->d_name};
		if (fstatat(dirfd, e.name, &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed meanwhile */
				continue;
			closedir(d);
			entries_free(es, n);
			return error_errno(err, "stat %.256s/%s", wpath(w), de->d_name);
		}
		e.name = xstrdup(de->d_name);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			es = xrealloc(es, cap * sizeof(*es));
		}
		es[n++] = e;
	}
	int rerr = errno;
	closedir(d);
	if (rerr) {
		entries_free(es, n);
		errno = rerr;
		return error_errno(err, "read %.256s/", wpath(w));
	}
	if (n)
		qsort(es, n, sizeof(*es), name_cmp);
	for (size_t i = 0; i < n; i++)
		if (classify(w, dirfd, v, &es[i], err) < 0) {
			entries_free(es, n);
			return -1;
		}
	*ret = es;
	*ret_n = n;
	return 0;
}

/* "K /path/name" (name NULL: the directory being walked itself). */
static void print_change(struct walk *w, enum change kind, const char *name)
{
	_cleanup_free_ char *p = name ? xasprintf("%s/%s", wpath(w), name) : xstrdup(wpath(w));
	if (w->tty)
		for (char *c = p; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	fprintf(w->out, "%c %s\n", change_letter[kind], p);
}

static bool any_add_delete(const struct entry *es, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (es[i].kind == CH_ADD || es[i].kind == CH_DELETE)
			return true;
	return false;
}

static int walk_subdir(struct walk *w, int *dirfd, const struct stat *self, const struct view *v,
		       const struct entry *e, struct scow_error **err);

/* The directory *dirfd: the upper dir's copy of w->path (the root when
 * w->path is ""), whose image layers are v and whose own change is self.
 * Its line comes first, once its entries tell whether an unchanged-looking
 * directory must be reported after all; then its entries, in order. The
 * walk may replace *dirfd by another fd of the same directory. */
static int walk_dir(struct walk *w, int *dirfd, const struct view *v, enum change self,
		    struct scow_error **err)
{
	struct stat st;
	if (fstat(*dirfd, &st) < 0)
		return error_errno(err, "stat %.256s/", wpath(w));
	struct entry *es = NULL;
	size_t n = 0;
	if (read_entries(w, *dirfd, v, &es, &n, err) < 0)
		return -1;
	if (w->path.len) {
		if (self == CH_NONE && any_add_delete(es, n))
			self = CH_MODIFY;
		if (self != CH_NONE)
			print_change(w, self, NULL);
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (S_ISDIR(es[i].st.st_mode))
			r = walk_subdir(w, dirfd, &st, v, &es[i], err);
		else if (es[i].kind != CH_NONE)
			print_change(w, es[i].kind, es[i].name);
	}
	entries_free(es, n);
	return r;
}

/* Below this depth the walk holds no fd per level (a container can make a
 * tree deeper than any fd limit): it closes the parent and comes back up
 * through "..", which must be the directory it left. */
#define DIFF_FD_DEPTH 64

static int walk_subdir(struct walk *w, int *dirfd, const struct stat *self, const struct view *v,
		       const struct entry *e, struct scow_error **err)
{
	int fd = open_subdir(*dirfd, e->name);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != e->st.st_ino || st.st_dev != e->st.st_dev) {
		/* removed or replaced meanwhile: report what was seen */
		if (fd >= 0)
			close(fd);
		if (e->kind != CH_NONE)
			print_change(w, e->kind, e->name);
		return 0;
	}
	struct view child = {0};
	struct entry look = *e;
	if (e->in_image && S_ISDIR(e->img.st_mode) &&
	    image_lookup(w, v, e->name, &look, &child, err) < 0) {
		view_release(&child);
		close(fd);
		return -1;
	}
	bool release = w->depth >= DIFF_FD_DEPTH;
	if (release) {
		close(*dirfd);
		*dirfd = -1;
	}
	size_t len = w->path.len;
	sb_printf(&w->path, "/%s", e->name);
	w->depth++;
	int r = walk_dir(w, &fd, &child, e->kind, err);
	w->depth--;
	view_release(&child);
	if (release && r == 0) {
		int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0 || fstat(up, &st) < 0 || st.st_ino != self->st_ino ||
		    st.st_dev != self->st_dev) {
			if (up >= 0)
				close(up);
			r = error_set(err, EAGAIN, "%.256s was moved while diff read it", wpath(w));
		}
		*dirfd = up;
	}
	w->path.len = len;
	w->path.buf[len] = '\0';
	close(fd);
	return r;
}

/* The image's layer directories, top first; the roots are the first view. */
static int open_layers(struct image_store *is, json_t *layers, struct view *ret,
		       const struct walk *w, struct scow_error **err)
{
	size_t n = json_array_size(layers);
	for (size_t i = n; i-- > 0;) {
		const char *chain = json_string_value(json_array_get(layers, i));
		if (!chain || !layer_exists(&is->layers, chain))
			return error_set(err, ENOENT, "layer %.19s of the container's image is missing",
					 chain ? chain : "?");
		char rel[DIGEST_HEX_LEN + 8];
		snprintf(rel, sizeof(rel), "%s/diff", digest_hex(chain));
		int fd = open_subdir(is->layers.layers_fd, rel);
		if (fd < 0)
			return error_errno(err, "open layer %.19s", chain);
		view_push(ret, fd);
		if (fd_is_opaque(w, fd))
			break;
	}
	return 0;
}

static int diff_container(struct scow_ctx *ctx, struct container_store *cs, struct container *c,
			  struct scow_error **err)
{
	struct walk w = {
		.opaque_xattr = ctx->rootless ? "user.overlay.opaque" : "trusted.overlay.opaque",
		.tty = isatty(STDOUT_FILENO),
		.out = stdout,
		.path = STRBUF_INIT,
	};
	_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
	if (dfd < 0)
		return -1;
	_cleanup_close_ int upper = open_subdir(dfd, "upper");
	if (upper < 0) {
		if (errno == ENOENT) /* never mounted: nothing changed */
			return 0;
		return error_errno(err, "open the container's upper dir");
	}
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	struct view roots = {0};
	int r = open_layers(&is, json_get_arr(json_get_obj(c->config, "Scow"), "Layers"), &roots,
			    &w, err);
	if (r == 0)
		r = walk_dir(&w, &upper, &roots, CH_NONE, err);
	view_release(&roots);
	image_store_close(&is);
	sb_release(&w.path);
	return r;
}

int cmd_diff(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	if (r == 0) {
		r = diff_container(ctx, &cs, &c, err);
		container_release(&c);
	}
	container_store_close(&cs);
	return r < 0 ? cmd_fail(err) : 0;
}
