/* Layer tar creation (see tar.h).
 *
 * The walk is depth-first with an explicit stack of levels, one per
 * directory being listed: its fd, its sorted names and how far the walk
 * got. libarchive's pax writer makes every header; its output is batched
 * into OUT_BUF pieces (file data larger than that passes straight
 * through). */
#include "layers/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layers/tarsplit.h"
#include "layers/upper.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define OUT_BUF (256u << 10)
#define READ_BUF (1u << 20)
/* Directory fds kept open at once; deeper levels are reopened by path. */
#define TAR_OPEN_DIRS 64
#define XATTR_NAMES_MAX (64u << 10)
#define XATTR_VALUE_MAX (64u << 10)

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct level {
	int fd; /* -1 while closed */
	dev_t dev;
	ino_t ino;
	char **names;
	size_t n, next;
	size_t path_len; /* this directory's path in ctx->path, with its "/" */
};

struct link {
	dev_t dev;
	ino_t ino;
	char *path; /* NULL: empty slot */
};

struct tar_ctx {
	int root;
	bool no_data;
	bool (*skip)(void *opaque, const char *path);
	void *skip_opaque;
	struct archive *a;
	struct archive_entry *e;
	layers_write_fn write_fn;
	void *opaque;
	struct scow_error *write_err;
	unsigned char *out;
	size_t out_len;
	unsigned char *rbuf;
	char path[PATH_MAX + 8];
	struct level *levels;
	size_t depth, levels_cap;
	struct link *links; /* open addressing, power-of-two size */
	size_t links_used, links_cap;
	struct layers_tar_stats stats;
};

/* ---- output ----------------------------------------------------------------- */

static int flush_out(struct tar_ctx *c)
{
	if (c->out_len == 0)
		return 0;
	size_t n = c->out_len;
	c->out_len = 0;
	return c->write_fn(c->opaque, c->out, n, &c->write_err);
}

static int emit(struct tar_ctx *c, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (c->out_len == 0 && n >= OUT_BUF)
			return c->write_fn(c->opaque, p, n, &c->write_err);
		size_t k = OUT_BUF - c->out_len < n ? OUT_BUF - c->out_len : n;
		memcpy(c->out + c->out_len, p, k);
		c->out_len += k;
		p += k;
		n -= k;
		if (c->out_len == OUT_BUF && flush_out(c) < 0)
			return -1;
	}
	return 0;
}

static la_ssize_t write_cb(struct archive *a, void *opaque, const void *buf, size_t n)
{
	struct tar_ctx *c = opaque;
	if (c->write_err || emit(c, buf, n) < 0) {
		if (!c->write_err)
			error_set(&c->write_err, EIO, "write failed");
		archive_set_error(a, EIO, "%s", c->write_err->msg);
		return -1;
	}
	c->stats.bytes += n;
	return (la_ssize_t)n;
}

/* The error of a failed libarchive call: the writer's own, else libarchive's. */
static int archive_err(struct tar_ctx *c, struct scow_error **err)
{
	if (c->write_err) {
		*err = steal_ptr(&c->write_err);
		return -1;
	}
	const char *m = archive_error_string(c->a);
	return error_set(err, EIO, "%s", m ? m : "tar writer failed");
}

static int write_header(struct tar_ctx *c, struct scow_error **err)
{
	int r = archive_write_header(c->a, c->e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return archive_err(c, err);
	c->stats.entries++;
	return 0;
}

/* ---- entries ------------------------------------------------------------------ */

static void entry_start(struct tar_ctx *c, const char *path, const struct stat *st, mode_t type)
{
	archive_entry_clear(c->e);
	archive_entry_set_pathname(c->e, path);
	archive_entry_set_filetype(c->e, type);
	archive_entry_set_perm(c->e, st->st_mode & 07777);
	archive_entry_set_uid(c->e, st->st_uid);
	archive_entry_set_gid(c->e, st->st_gid);
	archive_entry_set_mtime(c->e, st->st_mtim.tv_sec, 0);
}

static bool xattr_is_kept(const char *name)
{
	if (strcmp(name, "security.capability") == 0)
		return true;
	return str_starts_with(name, "user.") && !str_starts_with(name, "user.overlay.");
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds fd's kept xattrs to the entry, sorted by name. */
static int add_xattrs(struct tar_ctx *c, int fd, struct scow_error **err)
{
	ssize_t n = flistxattr(fd, NULL, 0);
	if (n < 0) {
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			return 0;
		return error_errno(err, "list xattrs");
	}
	if (n == 0)
		return 0;
	if ((size_t)n > XATTR_NAMES_MAX)
		return error_set(err, E2BIG, "xattr names longer than %u bytes", XATTR_NAMES_MAX);
	_cleanup_free_ char *list = xmalloc((size_t)n + 1);
	n = flistxattr(fd, list, (size_t)n);
	if (n < 0)
		return error_errno(err, "list xattrs");
	list[n] = '\0';
	_cleanup_free_ const char **kept = xcalloc((size_t)n + 1, sizeof(char *));
	size_t nk = 0;
	for (char *p = list; p < list + n; p += strlen(p) + 1)
		if (xattr_is_kept(p))
			kept[nk++] = p;
	qsort(kept, nk, sizeof(char *), cmp_strp);
	for (size_t i = 0; i < nk; i++) {
		char value[XATTR_VALUE_MAX];
		ssize_t vn = fgetxattr(fd, kept[i], value, sizeof(value));
		if (vn < 0) {
			if (errno == ENODATA)
				continue; /* removed meanwhile */
			return error_errno(err, "read xattr \"%s\"", kept[i]);
		}
		archive_entry_xattr_add_entry(c->e, kept[i], value, (size_t)vn);
	}
	return 0;
}

/* The sorted names in the directory fd (not "." and ".."). */
static int list_dir(int fd, char ***ret_names, size_t *ret_n, struct scow_error **err)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "open directory");
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "open directory");
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xgrow((void **)&names, &cap, n + 1, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
		errno = 0;
	}
	int saved = errno;
	closedir(d);
	if (saved) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		errno = saved;
		return error_errno(err, "read directory");
	}
	if (n > 1)
		qsort(names, n, sizeof(char *), cmp_strp);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static void level_release(struct level *l)
{
	closep(&l->fd);
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* Pushes a level for the directory fd (taken) whose path is ctx->path
 * (the root: ""). */
static int push_level(struct tar_ctx *c, int fd, const struct stat *st, struct scow_error **err)
{
	struct level l = {.fd = fd, .dev = st->st_dev, .ino = st->st_ino};
	if (list_dir(fd, &l.names, &l.n, err) < 0) {
		level_release(&l);
		return -1;
	}
	size_t len = strlen(c->path);
	if (len > 0) {
		c->path[len++] = '/';
		c->path[len] = '\0';
	}
	l.path_len = len;
	xgrow((void **)&c->levels, &c->levels_cap, c->depth + 1, sizeof(*c->levels));
	c->levels[c->depth++] = l;
	if (c->depth > TAR_OPEN_DIRS) {
		struct level *old = &c->levels[c->depth - TAR_OPEN_DIRS - 1];
		closep(&old->fd);
		old->fd = -1;
	}
	return 0;
}

/* The fd of a level, reopened from the root if it was closed: by a path
 * that may contain no symlink, and it must still be the same directory. */
static int level_fd(struct tar_ctx *c, struct level *l, struct scow_error **err)
{
	if (l->fd >= 0)
		return l->fd;
	char saved = c->path[l->path_len ? l->path_len - 1 : 0];
	if (l->path_len)
		c->path[l->path_len - 1] = '\0';
	int fd = fs_openat2(c->root, l->path_len ? c->path : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (l->path_len)
		c->path[l->path_len - 1] = saved;
	if (fd < 0)
		return error_errno(err, "reopen directory");
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino) {
		close(fd);
		return error_set(err, ESTALE, "directory replaced while being read");
	}
	l->fd = fd;
	return fd;
}

/* Remembers the path of a multiply-linked file; returns the first path
 * seen for that inode, or NULL if this is the first. */
static const char *link_lookup_add(struct tar_ctx *c, const struct stat *st)
{
	if (c->links_used * 2 >= c->links_cap) {
		size_t ncap = c->links_cap ? c->links_cap * 2 : 256;
		struct link *nl = xcalloc(ncap, sizeof(*nl));
		for (size_t i = 0; i < c->links_cap; i++) {
			if (!c->links[i].path)
				continue;
			size_t h = ((size_t)c->links[i].ino * 0x9e3779b97f4a7c15ull ^ c->links[i].dev) & (ncap - 1);
			while (nl[h].path)
				h = (h + 1) & (ncap - 1);
			nl[h] = c->links[i];
		}
		free(c->links);
		c->links = nl;
		c->links_cap = ncap;
	}
	size_t h = ((size_t)st->st_ino * 0x9e3779b97f4a7c15ull ^ st->st_dev) & (c->links_cap - 1);
	for (; c->links[h].path; h = (h + 1) & (c->links_cap - 1))
		if (c->links[h].ino == st->st_ino && c->links[h].dev == st->st_dev)
			return c->links[h].path;
	c->links[h] = (struct link){st->st_dev, st->st_ino, xstrdup(c->path)};
	c->links_used++;
	return NULL;
}

static int tar_dir(struct tar_ctx *c, int dfd, const char *name, struct scow_error **err)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0; /* removed or replaced since it was listed */
		return error_errno(err, "open directory");
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		error_errno(err, "stat");
		close(fd);
		return -1;
	}
	entry_start(c, c->path, &st, AE_IFDIR);
	bool opaque = layers_ovl_opaque(fd);
	if (add_xattrs(c, fd, err) < 0 || write_header(c, err) < 0) {
		close(fd);
		return -1;
	}
	if (opaque) {
		size_t len = strlen(c->path);
		if (len + 1 + strlen(WH_OPAQUE) >= PATH_MAX) {
			close(fd);
			return error_set(err, ENAMETOOLONG, "name too long");
		}
		char wh[sizeof(c->path) + sizeof(WH_OPAQUE) + 1];
		snprintf(wh, sizeof(wh), "%s/%s", c->path, WH_OPAQUE);
		struct stat wst = st;
		wst.st_mode = S_IFREG | 0644;
		entry_start(c, wh, &wst, AE_IFREG);
		archive_entry_set_size(c->e, 0);
		if (write_header(c, err) < 0) {
			close(fd);
			return -1;
		}
	}
	return push_level(c, fd, &st, err);
}

static int write_file_data(struct tar_ctx *c, int fd, int64_t size, struct scow_error **err)
{
	if (c->no_data)
		return 0; /* libarchive pads the entry with zeros */
	int64_t left = size;
	while (left > 0) {
		size_t want = left < READ_BUF ? (size_t)left : READ_BUF;
		ssize_t n = read(fd, c->rbuf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "read");
		}
		if (n == 0)
			return error_set(err, EIO, "file shrank while being read");
		la_ssize_t w = archive_write_data(c->a, c->rbuf, (size_t)n);
		if (w != n)
			return archive_err(c, err);
		left -= n;
	}
	return 0;
}

static int tar_file(struct tar_ctx *c, int dfd, const char *name, const struct stat *lst,
		    struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 0;
		return error_errno(err, "open");
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat");
	if (!S_ISREG(st.st_mode) || st.st_ino != lst->st_ino || st.st_dev != lst->st_dev)
		return 0; /* replaced since it was listed */
	entry_start(c, c->path, &st, AE_IFREG);
	if (st.st_nlink > 1) {
		const char *first = link_lookup_add(c, &st);
		if (first) {
			archive_entry_set_hardlink(c->e, first);
			archive_entry_set_size(c->e, 0);
			return write_header(c, err);
		}
	}
	if (add_xattrs(c, fd, err) < 0)
		return -1;
	archive_entry_set_size(c->e, st.st_size);
	if (write_header(c, err) < 0)
		return -1;
	if (st.st_size > 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return write_file_data(c, fd, st.st_size, err);
}

static int tar_symlink(struct tar_ctx *c, int dfd, const char *name, const struct stat *st,
		       struct scow_error **err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target));
	if (n < 0) {
		if (errno == ENOENT || errno == EINVAL)
			return 0;
		return error_errno(err, "read symlink");
	}
	if ((size_t)n >= sizeof(target))
		return error_set(err, ENAMETOOLONG, "symlink target too long");
	target[n] = '\0';
	entry_start(c, c->path, st, AE_IFLNK);
	archive_entry_set_symlink(c->e, target);
	return write_header(c, err);
}

static int tar_whiteout(struct tar_ctx *c, const char *name, const struct stat *st,
			struct scow_error **err)
{
	/* c->path ends in name: put ".wh." in front of it. */
	size_t len = strlen(c->path), nlen = strlen(name);
	if (len + strlen(WH_PREFIX) >= PATH_MAX)
		return error_set(err, ENAMETOOLONG, "name too long");
	memmove(c->path + len - nlen + strlen(WH_PREFIX), c->path + len - nlen, nlen + 1);
	memcpy(c->path + len - nlen, WH_PREFIX, strlen(WH_PREFIX));
	struct stat wst = *st;
	wst.st_mode = S_IFREG | 0644;
	entry_start(c, c->path, &wst, AE_IFREG);
	archive_entry_set_size(c->e, 0);
	return write_header(c, err);
}

static int tar_node(struct tar_ctx *c, const struct stat *st, mode_t type,
		    struct scow_error **err)
{
	entry_start(c, c->path, st, type);
	if (type != AE_IFIFO) {
		archive_entry_set_rdevmajor(c->e, major(st->st_rdev));
		archive_entry_set_rdevminor(c->e, minor(st->st_rdev));
	}
	return write_header(c, err);
}

static int tar_entry(struct tar_ctx *c, int dfd, const char *name, struct scow_error **err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* removed since it was listed */
		return error_errno(err, "stat");
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: return tar_dir(c, dfd, name, err);
	case S_IFREG: return tar_file(c, dfd, name, &st, err);
	case S_IFLNK: return tar_symlink(c, dfd, name, &st, err);
	case S_IFCHR:
		if (layers_ovl_whiteout(&st))
			return tar_whiteout(c, name, &st, err);
		return tar_node(c, &st, AE_IFCHR, err);
	case S_IFBLK: return tar_node(c, &st, AE_IFBLK, err);
	case S_IFIFO: return tar_node(c, &st, AE_IFIFO, err);
	default:
		log_debug("tar: leaving out the socket \"%s\"", c->path);
		return 0;
	}
}

static int walk(struct tar_ctx *c, struct scow_error **err)
{
	while (c->depth > 0) {
		struct level *l = &c->levels[c->depth - 1];
		if (l->next == l->n) {
			level_release(l);
			c->depth--;
			continue;
		}
		const char *name = l->names[l->next++];
		size_t nlen = strlen(name);
		if (l->path_len + nlen + 1 >= PATH_MAX) {
			c->path[l->path_len] = '\0';
			return error_set(err, ENAMETOOLONG, "tar \"%s%s\": name longer than %d bytes",
					 c->path, name, PATH_MAX - 1);
		}
		int dfd = level_fd(c, l, err);
		if (dfd < 0) {
			c->path[l->path_len] = '\0';
			return error_wrap(err, "tar \"%s\"", c->path);
		}
		memcpy(c->path + l->path_len, name, nlen + 1);
		if (c->skip && c->skip(c->skip_opaque, c->path))
			continue;
		if (tar_entry(c, dfd, name, err) < 0)
			return error_wrap(err, "tar \"%s\"", c->path);
	}
	return 0;
}

static void ctx_release(struct tar_ctx *c)
{
	while (c->depth > 0)
		level_release(&c->levels[--c->depth]);
	free(c->levels);
	for (size_t i = 0; i < c->links_cap; i++)
		free(c->links[i].path);
	free(c->links);
	if (c->e)
		archive_entry_free(c->e);
	if (c->a)
		archive_write_free(c->a);
	closep(&c->root);
	error_free(c->write_err);
	free(c->out);
	free(c->rbuf);
}

static int tar_run(struct tar_ctx *c, struct scow_error **err)
{
	struct stat st;
	if (fstat(c->root, &st) < 0)
		return error_errno(err, "stat layer directory");
	c->a = archive_write_new();
	c->e = archive_entry_new();
	if (!c->a || !c->e)
		return error_set(err, ENOMEM, "libarchive: cannot allocate a writer");
	if (archive_write_set_format_pax_restricted(c->a) != ARCHIVE_OK ||
	    archive_write_set_format_option(c->a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(c->a, 0) != ARCHIVE_OK)
		return error_set(err, EINVAL, "libarchive: %s", archive_error_string(c->a));
	if (archive_write_open(c->a, c, NULL, write_cb, NULL) != ARCHIVE_OK)
		return archive_err(c, err);
	int fd = openat(c->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open layer directory");
	c->path[0] = '\0';
	if (push_level(c, fd, &st, err) < 0 || walk(c, err) < 0)
		return -1;
	if (archive_write_close(c->a) != ARCHIVE_OK)
		return archive_err(c, err);
	if (flush_out(c) < 0) {
		*err = steal_ptr(&c->write_err);
		return -1;
	}
	return 0;
}

int layers_tar_create(int dir_fd, layers_write_fn write_fn, void *opaque,
		      const struct layers_tar_opts *opts, struct layers_tar_stats *ret_stats,
		      struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	struct tar_ctx *c = xcalloc(1, sizeof(*c));
	c->root = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->write_fn = write_fn;
	c->opaque = opaque;
	c->no_data = opts && opts->no_data;
	c->skip = opts ? opts->skip : NULL;
	c->skip_opaque = opts ? opts->skip_opaque : NULL;
	c->out = xmalloc(OUT_BUF);
	c->rbuf = c->no_data ? NULL : xmalloc(READ_BUF);
	int r = c->root < 0 ? error_errno(err, "open layer directory") : tar_run(c, err);
	if (r == 0 && ret_stats)
		*ret_stats = c->stats;
	ctx_release(c);
	free(c);
	return r;
}

/* ---- stored layers ------------------------------------------------------------ */

static int open_layer_dir(const struct layer_store *ls, const char *chain_id,
			  struct scow_error **err)
{
	if (digest_check(chain_id, "layer", err) < 0)
		return -1;
	char name[DIGEST_HEX_LEN + 8];
	snprintf(name, sizeof(name), "%s/diff", digest_hex(chain_id));
	int fd = openat(ls->layers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "layer %.19s", chain_id);
	return fd;
}

static int count_write(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	(void)buf;
	(void)err;
	*(int64_t *)opaque += (int64_t)len;
	return 0;
}

int layers_tar_stored(const struct layer_store *ls, const char *chain_id, bool no_replay,
		      layers_write_fn write_fn, void *opaque, bool *ret_replayed,
		      struct scow_error **err)
{
	_cleanup_close_ int dfd = open_layer_dir(ls, chain_id, err);
	if (dfd < 0)
		return -1;
	_cleanup_close_ int sfd = no_replay ? -1 : layers_tarsplit_open(ls, chain_id);
	if (ret_replayed)
		*ret_replayed = sfd >= 0;
	if (sfd >= 0)
		return layers_tarsplit_replay(dfd, sfd, write_fn, opaque, err);
	return layers_tar_create(dfd, write_fn, opaque, NULL, NULL, err);
}

int layers_tar_stored_size(const struct layer_store *ls, const char *chain_id, bool no_replay,
			   int64_t *ret_size, bool *ret_replayed, struct scow_error **err)
{
	_cleanup_close_ int sfd = no_replay ? -1 : layers_tarsplit_open(ls, chain_id);
	if (ret_replayed)
		*ret_replayed = sfd >= 0;
	if (sfd >= 0)
		return layers_tarsplit_size(sfd, ret_size, err);
	_cleanup_close_ int dfd = open_layer_dir(ls, chain_id, err);
	if (dfd < 0)
		return -1;
	int64_t n = 0;
	struct layers_tar_opts o = {.no_data = true};
	if (layers_tar_create(dfd, count_write, &n, &o, NULL, err) < 0)
		return -1;
	*ret_size = n;
	return 0;
}
