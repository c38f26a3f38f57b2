/* COPY and ADD: the files go straight into a layer tar (exec_tar.c), no
 * container involved. Docker's rules:
 *  - sources are relative to the context (or, with --from, to a stage's
 *    or an image's root); a leading "/" changes nothing, a path that climbs
 *    out ("../x") is refused; the source itself is resolved with its
 *    symlinks inside the root (openat2 RESOLVE_IN_ROOT semantics: a link to
 *    /etc/passwd names CONTEXT/etc/passwd), symlinks below it are copied as
 *    links; what .dockerignore excludes does not exist;
 *  - wildcards (Go's filepath.Match, per component);
 *  - a directory's contents are copied, not the directory itself (its
 *    metadata goes to the destination directory);
 *  - a file goes to DEST/<name> when DEST ends with "/" or is an existing
 *    directory, else to DEST; several sources need a DEST ending in "/";
 *  - owners 0:0 or --chown (names from the image's /etc/passwd and
 *    /etc/group); COPY --from keeps the owners; --chmod for everything;
 *    mtimes as in the source;
 *  - ADD: local tar archives (plain, gzip, bzip2, xz, zstd) are extracted
 *    into DEST; http(s) URLs are downloaded (mode 0600) as DEST/<last part
 *    of the URL> or DEST;
 *  - the destination's existing parent directories keep their metadata
 *    (the layer carries them as they are in the image), missing ones are
 *    made 0755 with the --chown owner; symlinks in the destination path
 *    are followed inside the image's root.
 * The cache key covers names, types, modes, owners, link targets and
 * contents (not mtimes, as Docker). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "ns/user.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

enum ckind { C_FILE, C_DIR, C_LINK, C_HARDLINK, C_SPECIAL, C_MEM, C_FD, C_ARCHIVE };

struct centry {
	enum ckind kind;
	char *dst;   /* the path in the layer: relative, "" for the root */
	int root_fd; /* borrowed: where src is */
	char *src;   /* path below root_fd without symlinks (C_FILE, C_ARCHIVE) */
	struct stat st;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char *link;	  /* C_LINK target, C_HARDLINK: the first one's dst */
	const char *data; /* C_MEM */
	size_t len;
	int fd; /* C_FD, C_ARCHIVE: borrowed, read from offset 0 */
};

struct clist {
	struct centry *v;
	size_t n, cap;
};

static struct centry *clist_push(struct clist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	struct centry *e = &l->v[l->n++];
	*e = (struct centry){.root_fd = -1, .fd = -1};
	return e;
}

static void centry_release(struct centry *e)
{
	free(e->dst);
	free(e->src);
	free(e->link);
}

static void clist_release(struct clist *l)
{
	for (size_t i = 0; i < l->n; i++)
		centry_release(&l->v[i]);
	free(l->v);
}

/* A COPY/ADD in progress. */
struct cop {
	struct bx *b;
	const struct build_step *step;
	bool add;
	bool keep_owner;	 /* COPY --from without --chown */
	bool has_chown, has_chmod;
	uid_t uid;
	gid_t gid;
	mode_t chmod;
	int src_root;		 /* the context or the --from image's view */
	bool from_context;
	int dest_view;		 /* the current image's file system */
	char *dest;		 /* absolute, as normalised (trailing "/" kept) */
	bool dest_dir;		 /* DEST names a directory ("/" at the end, ".") */
	struct clist items;	 /* the entries to write, in order */
	size_t nsources;	 /* sources after wildcard expansion */
	int *fds;		 /* downloads and archives to close */
	size_t nfds;
	char **first_kind;	 /* "file", "dir" of the single source, for history */
	char **emitted;		 /* layer dirs written already */
	/* hardlinks: (dev, ino) -> dst */
	struct link_seen {
		dev_t dev;
		ino_t ino;
		char *dst;
	} *links;
	size_t nlinks;
};

static void cop_release(struct cop *c)
{
	clist_release(&c->items);
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c->fds);
	free(c->dest);
	strv_free(c->first_kind);
	strv_free(c->emitted);
	for (size_t i = 0; i < c->nlinks; i++)
		free(c->links[i].dst);
	free(c->links);
}

static void keep_fd(struct cop *c, int fd)
{
	c->fds = xrealloc(c->fds, (c->nfds + 1) * sizeof(int));
	c->fds[c->nfds++] = fd;
}

static char *join_path(const char *a, const char *b)
{
	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	return xasprintf("%s/%s", a, b);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* ---- owners and modes -------------------------------------------------------------------- */

static int parse_chown(struct cop *c, struct bstate *st, struct scow_error **err)
{
	const char *spec = c->step->ins->copy.chown;
	if (!spec || !*spec)
		return 0;
	c->has_chown = true;
	c->keep_owner = false;
	/* "uid" alone means "uid:uid"; "name" alone: the user's own group
	 * (BuildKit's rule; the classic builder looked for a group "name") */
	long long n;
	_cleanup_free_ char *full = !strchr(spec, ':') && str_to_ll(spec, 0, INT32_MAX, &n)
					    ? xasprintf("%s:%s", spec, spec)
					    : xstrdup(spec);
	int root = bx_view(c->b, st, 0, err);
	if (root < 0)
		return -1;
	struct user_ids ids = {0};
	if (user_resolve(root, full, NULL, &ids, err) < 0)
		return error_wrap(err, "unable to convert uid/gid chown string to host mapping");
	c->uid = ids.uid;
	c->gid = ids.gid;
	user_ids_release(&ids);
	return 0;
}

static int parse_chmod(struct cop *c, struct scow_error **err)
{
	const char *s = c->step->ins->copy.chmod;
	if (!s || !*s)
		return 0;
	char *end;
	unsigned long m = strtoul(s, &end, 8);
	if (*end || m > 07777)
		return error_set(err, EINVAL, "invalid chmod parameter: %s", s);
	c->has_chmod = true;
	c->chmod = (mode_t)m;
	return 0;
}

static void set_owner_mode(struct cop *c, struct centry *e)
{
	e->mode = c->has_chmod ? c->chmod : e->st.st_mode & 07777;
	if (c->keep_owner) {
		e->uid = e->st.st_uid;
		e->gid = e->st.st_gid;
	} else {
		e->uid = c->uid;
		e->gid = c->gid;
	}
}

/* ---- walking a source tree -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_dir(int dfd, struct scow_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		error_errno(err, "read a directory");
		return NULL;
	}
	char **names = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, xstrdup(de->d_name));
	closedir(d);
	qsort(names, strv_len(names), sizeof(char *), cmp_str);
	return names;
}

/* A non-directory entry below a source (or the source itself). */
static int add_leaf(struct cop *c, int dfd, const char *name, const char *src, const char *dst,
		    const struct stat *st, struct scow_error **err)
{
	struct centry *e = clist_push(&c->items);
	e->dst = xstrdup(dst);
	e->src = xstrdup(src);
	e->root_fd = c->src_root;
	e->st = *st;
	set_owner_mode(c, e);
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return error_errno(err, "readlink %s", src);
		target[n] = '\0';
		e->kind = C_LINK;
		e->link = xstrdup(target);
		return 0;
	}
	if (!S_ISREG(st->st_mode)) {
		e->kind = C_SPECIAL;
		return 0;
	}
	e->kind = C_FILE;
	if (st->st_nlink > 1) {
		for (size_t i = 0; i < c->nlinks; i++)
			if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino) {
				e->kind = C_HARDLINK;
				e->link = xstrdup(c->links[i].dst);
				return 0;
			}
		c->links = xrealloc(c->links, (c->nlinks + 1) * sizeof(*c->links));
		c->links[c->nlinks++] = (struct link_seen){st->st_dev, st->st_ino, xstrdup(dst)};
	}
	return 0;
}

static void add_dir(struct cop *c, const char *src, const char *dst, const struct stat *st)
{
	struct centry *e = clist_push(&c->items);
	e->kind = C_DIR;
	e->dst = xstrdup(dst);
	e->src = xstrdup(src);
	e->st = *st;
	set_owner_mode(c, e);
}

/* Walks dfd (the directory src, copied to dst); ctx: its path in the
 * context for .dockerignore (NULL outside the context). */
static int walk(struct cop *c, int dfd, const char *src, const char *dst, const char *ctx,
		const unsigned char *bits, int depth, struct scow_error **err)
{
	if (depth > 512)
		return error_set(err, ELOOP, "%s: too deep", src);
	_cleanup_strv_ char **names = list_dir(dfd, err);
	if (!names)
		return error_wrap(err, "%s", *src ? src : ".");
	const struct dockerignore *di = c->b->di;
	size_t np = di ? dockerignore_npatterns(di) : 0;
	_cleanup_free_ unsigned char *mine = xcalloc(np + 1, 1);
	for (size_t i = 0; names[i]; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return error_errno(err, "stat %s/%s", src, names[i]);
		}
		if (S_ISSOCK(st.st_mode))
			continue;
		_cleanup_free_ char *csrc = join_path(src, names[i]);
		_cleanup_free_ char *cdst = join_path(dst, names[i]);
		_cleanup_free_ char *cctx = ctx ? join_path(ctx, names[i]) : NULL;
		bool excluded = cctx && di && dockerignore_excluded_child(di, cctx, bits, mine);
		if (!S_ISDIR(st.st_mode)) {
			if (!excluded && add_leaf(c, dfd, names[i], csrc, cdst, &st, err) < 0)
				return -1;
			continue;
		}
		if (excluded && !dockerignore_may_reinclude_below(di, cctx))
			continue;
		size_t mark = c->items.n;
		add_dir(c, csrc, cdst, &st);
		_cleanup_close_ int sub =
			openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return error_errno(err, "open %s", csrc);
		_cleanup_free_ unsigned char *copy = np ? xmalloc(np) : NULL;
		if (np)
			memcpy(copy, mine, np);
		if (walk(c, sub, csrc, cdst, cctx, copy, depth + 1, err) < 0)
			return -1;
		/* an excluded directory shows only for what is let in below it */
		if (excluded && c->items.n == mark + 1) {
			centry_release(&c->items.v[mark]);
			c->items.n--;
		}
	}
	return 0;
}

/* ---- the destination ---------------------------------------------------------------------- */

/* The layer path of dest (absolute, in the image): its directories'
 * symlinks followed inside the image; the last component too when
 * follow_last. */
static int dest_real(struct cop *c, const char *dest, bool follow_last, char **ret,
		     struct scow_error **err)
{
	return bx_resolve(c->dest_view, dest, follow_last, ret, NULL, NULL, err);
}

static bool dest_is_dir(struct cop *c, const char *dest)
{
	_cleanup_free_ char *real = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	bool exists;
	struct stat st;
	if (bx_resolve(c->dest_view, dest, true, &real, &exists, &st, &e) < 0)
		return false;
	return exists && S_ISDIR(st.st_mode);
}

/* Where a single file named name goes. */
static int file_target(struct cop *c, const char *name, char **ret, struct scow_error **err)
{
	_cleanup_free_ char *path = NULL;
	if (c->dest_dir || dest_is_dir(c, c->dest))
		path = xasprintf("%s/%s", c->dest, name);
	else
		path = xstrdup(c->dest);
	_cleanup_free_ char *clean = fs_path_clean(path);
	char *slash = strrchr(clean, '/');
	*slash = '\0';
	_cleanup_free_ char *dir = NULL;
	if (dest_real(c, *clean ? clean : "/", true, &dir, err) < 0)
		return -1;
	*ret = join_path(dir, slash + 1);
	return 0;
}

static int dir_target(struct cop *c, char **ret, struct scow_error **err)
{
	return dest_real(c, c->dest, true, ret, err);
}

/* ---- sources ------------------------------------------------------------------------------ */

static bool is_url(const char *s)
{
	return str_starts_with(s, "http://") || str_starts_with(s, "https://");
}

static int not_found(const char *src, struct scow_error **err)
{
	return error_set(err, ENOENT,
			 "COPY failed: file not found in build context or excluded by "
			 ".dockerignore: stat %s: file does not exist",
			 src);
}

/* Context paths (.dockerignore) are the real paths in the context. */
static bool src_excluded(struct cop *c, const char *real)
{
	return c->from_context && c->b->di && dockerignore_excluded(c->b->di, real);
}

/* Expands a wildcard source into real paths (the part up to the first
 * wildcard resolved like any path). */
static int expand_wildcard(struct cop *c, const char *pattern, char ***ret, struct scow_error **err)
{
	_cleanup_strv_ char **comps = strv_split(pattern, '/');
	_cleanup_strv_ char **cur = xcalloc(2, sizeof(char *));
	cur[0] = xstrdup("");
	for (size_t i = 0; comps[i]; i++) {
		if (!*comps[i] || strcmp(comps[i], ".") == 0)
			continue;
		char **next = xcalloc(1, sizeof(char *));
		for (size_t k = 0; cur[k]; k++) {
			if (!bx_has_wildcard(comps[i])) {
				_cleanup_free_ char *p = join_path(cur[k], comps[i]);
				_cleanup_free_ char *real = NULL;
				bool exists;
				_cleanup_error_ struct scow_error *e = NULL;
				if (bx_resolve(c->src_root, p, true, &real, &exists, NULL, &e) == 0 &&
				    exists && !src_excluded(c, real))
					strv_push(&next, steal_ptr(&real));
				continue;
			}
			_cleanup_close_ int dfd =
				*cur[k] ? fs_openat2(c->src_root, cur[k], O_RDONLY | O_DIRECTORY,
						     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
					: openat(c->src_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0)
				continue;
			_cleanup_error_ struct scow_error *e = NULL;
			_cleanup_strv_ char **names = list_dir(dfd, &e);
			for (size_t j = 0; names && names[j]; j++) {
				if (!bx_match(comps[i], names[j]))
					continue;
				_cleanup_free_ char *p = join_path(cur[k], names[j]);
				_cleanup_free_ char *real = NULL;
				bool exists;
				if (bx_resolve(c->src_root, p, true, &real, &exists, NULL, &e) == 0 &&
				    exists && !src_excluded(c, real))
					strv_push(&next, steal_ptr(&real));
				error_freep(&e);
			}
		}
		strv_free(cur);
		cur = next;
	}
	if (!cur[0] || (!cur[1] && !*cur[0]))
		return error_set(err, ENOENT, "COPY failed: no source files were specified");
	*ret = steal_ptr(&cur);
	return 0;
}

static void note_kind(struct cop *c, const char *kind)
{
	strv_push(&c->first_kind, xstrdup(kind));
}

/* One source that exists (real: its path in src_root). */
static int add_source(struct cop *c, const char *real, struct scow_error **err)
{
	c->nsources++;
	_cleanup_close_ int fd =
		*real ? fs_openat2(c->src_root, real, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
		      : openat(c->src_root, ".", O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_errno(err, "open %s", *real ? real : ".");
	if (S_ISDIR(st.st_mode)) {
		note_kind(c, "dir");
		_cleanup_free_ char *target = NULL;
		if (dir_target(c, &target, err) < 0)
			return -1;
		if (*target)
			add_dir(c, real, target, &st);
		_cleanup_close_ int dfd =
			*real ? fs_openat2(c->src_root, real, O_RDONLY | O_DIRECTORY,
					   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
			      : openat(c->src_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return error_errno(err, "open %s", real);
		const struct dockerignore *di = c->b->di;
		size_t np = di ? dockerignore_npatterns(di) : 0;
		_cleanup_free_ unsigned char *bits = xcalloc(np + 1, 1);
		if (c->from_context && di)
			dockerignore_excluded_child(di, real, NULL, bits);
		return walk(c, dfd, real, target, c->from_context ? real : NULL,
			    c->from_context && di ? bits : NULL, 0, err);
	}
	note_kind(c, "file");
	if (c->add && c->from_context && S_ISREG(st.st_mode)) {
		int afd = fs_openat2(c->src_root, real, O_RDONLY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (afd < 0)
			return error_errno(err, "open %s", real);
		keep_fd(c, afd);
		int r = bx_archive_probe(c->b, afd, err);
		if (r < 0)
			return -1;
		if (r == 1) {
			_cleanup_free_ char *target = NULL;
			if (dir_target(c, &target, err) < 0)
				return -1;
			struct centry *e = clist_push(&c->items);
			e->kind = C_ARCHIVE;
			e->dst = steal_ptr(&target);
			e->src = xstrdup(real);
			e->fd = afd;
			e->st = st;
			return 0;
		}
	}
	_cleanup_free_ char *target = NULL;
	if (file_target(c, base_name(real), &target, err) < 0)
		return -1;
	const char *slash = strrchr(real, '/');
	_cleanup_free_ char *parent = slash ? xstrndup(real, (size_t)(slash - real)) : xstrdup("");
	_cleanup_close_ int pfd =
		*parent ? fs_openat2(c->src_root, parent, O_PATH | O_DIRECTORY,
				     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
			: openat(c->src_root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return error_errno(err, "open %s", real);
	return add_leaf(c, pfd, base_name(real), real, target, &st, err);
}

/* ADD http(s)://...: downloaded now (Docker does too, for the cache key). */
static int add_url(struct cop *c, const char *url, struct scow_error **err)
{
	c->nsources++;
	note_kind(c, "file");
	int fd;
	char digest[DIGEST_STR_LEN + 1];
	if (bx_fetch(c->b, url, &fd, digest, err) < 0)
		return -1;
	keep_fd(c, fd);
	const char *sum = c->step->ins->copy.checksum;
	if (sum && *sum && strcmp(sum, digest) != 0)
		return error_set(err, EINVAL, "digest mismatch %s: %s", digest, sum);
	/* the file's name: the URL's last path component */
	_cleanup_free_ char *path = xstrdup(url + (str_starts_with(url, "https") ? 8 : 7));
	path[strcspn(path, "?#")] = '\0';
	const char *slash = strchr(path, '/');
	const char *name = slash ? base_name(slash) : "";
	if (!*name)
		name = "__unnamed__";
	_cleanup_free_ char *target = NULL;
	if (file_target(c, name, &target, err) < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat the download");
	struct centry *e = clist_push(&c->items);
	e->kind = C_FD;
	e->dst = steal_ptr(&target);
	e->fd = fd;
	e->st = st;
	e->st.st_mtime = time(NULL);
	e->st.st_mode = S_IFREG | 0600;
	e->link = xstrdup(digest); /* the content's digest, for the cache key */
	set_owner_mode(c, e);
	return 0;
}

static int add_inline(struct cop *c, const struct df_inline_file *f, struct scow_error **err)
{
	c->nsources++;
	note_kind(c, "file");
	_cleanup_free_ char *target = NULL;
	if (file_target(c, base_name(f->path), &target, err) < 0)
		return -1;
	struct centry *e = clist_push(&c->items);
	e->kind = C_MEM;
	e->dst = steal_ptr(&target);
	e->data = f->data ? f->data : "";
	e->len = strlen(e->data);
	e->st.st_mode = S_IFREG | 0644;
	e->st.st_mtime = time(NULL);
	set_owner_mode(c, e);
	return 0;
}

static int add_path(struct cop *c, const char *src, struct scow_error **err)
{
	if (c->from_context && c->b->ctx_fd < 0)
		return error_set(err, ENOENT, "COPY failed: there is no build context (the "
					      "Dockerfile came from stdin)");
	_cleanup_free_ char *clean = fs_path_clean(src);
	if (strcmp(clean, "..") == 0 || str_starts_with(clean, "../"))
		return error_set(err, EPERM, "COPY failed: forbidden path outside the build context: "
					     "%s ()",
				 src);
	if (bx_has_wildcard(src)) {
		_cleanup_strv_ char **matches = NULL;
		if (expand_wildcard(c, clean, &matches, err) < 0)
			return -1;
		for (size_t i = 0; matches[i]; i++)
			if (add_source(c, matches[i], err) < 0)
				return -1;
		return 0;
	}
	_cleanup_free_ char *real = NULL;
	bool exists;
	_cleanup_error_ struct scow_error *e = NULL;
	if (bx_resolve(c->src_root, clean, true, &real, &exists, NULL, &e) < 0 || !exists)
		return not_found(src, err);
	if (src_excluded(c, real)) {
		/* excluded, unless something below it is let back in */
		struct stat st;
		if (!(*real && fstatat(c->src_root, real, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		      S_ISDIR(st.st_mode) && dockerignore_may_reinclude_below(c->b->di, real)))
			return not_found(src, err);
	}
	return add_source(c, real, err);
}

/* ---- writing -------------------------------------------------------------------------------- */

static bool was_emitted(struct cop *c, const char *dir)
{
	return strv_contains(c->emitted, dir);
}

/* The destination's parent directories: as in the image, or made. */
static int emit_parents(struct cop *c, struct btar *t, const char *dst, struct scow_error **err)
{
	_cleanup_free_ char *p = xstrdup(dst);
	for (char *s = p; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (!was_emitted(c, p)) {
			struct stat st;
			int r;
			if (fstatat(c->dest_view, p, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				if (!S_ISDIR(st.st_mode))
					return error_set(err, ENOTDIR, "cannot copy to /%s: /%s is not "
								       "a directory",
							 dst, p);
				r = btar_dir(t, p, st.st_mode, st.st_uid, st.st_gid, st.st_mtime);
			} else {
				r = btar_dir(t, p, 0755, c->has_chown ? c->uid : 0,
					     c->has_chown ? c->gid : 0, time(NULL));
			}
			if (r < 0)
				return btar_error(t, err);
			strv_push(&c->emitted, xstrdup(p));
		}
		*s = '/';
	}
	return 0;
}

static int open_src(struct cop *c, const struct centry *e, struct scow_error **err)
{
	(void)c;
	int fd = fs_openat2(e->root_fd, e->src, O_RDONLY | O_NOFOLLOW,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return error_errno(err, "open %s", e->src);
	return fd;
}

static int write_entry(struct cop *c, struct btar *t, struct centry *e, struct scow_error **err)
{
	if (!*e->dst && e->kind == C_DIR)
		return 0; /* the root has no entry of its own */
	if (emit_parents(c, t, e->dst, err) < 0)
		return -1;
	int r = 0;
	time_t mt = e->st.st_mtime;
	switch (e->kind) {
	case C_DIR:
		if (!was_emitted(c, e->dst))
			strv_push(&c->emitted, xstrdup(e->dst));
		r = btar_dir(t, e->dst, e->mode, e->uid, e->gid, mt);
		break;
	case C_FILE: {
		_cleanup_close_ int fd = open_src(c, e, err);
		struct stat st;
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0)
			return error_errno(err, "stat %s", e->src);
		r = btar_file_fd(t, e->dst, e->mode, e->uid, e->gid, mt, fd, st.st_size);
		break;
	}
	case C_FD:
		if (lseek(e->fd, 0, SEEK_SET) < 0)
			return error_errno(err, "seek");
		r = btar_file_fd(t, e->dst, e->mode, e->uid, e->gid, mt, e->fd, e->st.st_size);
		break;
	case C_MEM:
		r = btar_file_mem(t, e->dst, e->mode, e->uid, e->gid, mt, e->data, e->len);
		break;
	case C_LINK:
		r = btar_symlink(t, e->dst, e->link, e->uid, e->gid, mt);
		break;
	case C_HARDLINK:
		r = btar_hardlink(t, e->dst, e->link, e->uid, e->gid, mt);
		break;
	case C_SPECIAL:
		r = btar_special(t, e->dst, &e->st, e->uid, e->gid);
		break;
	case C_ARCHIVE:
		if (*e->dst && !was_emitted(c, e->dst)) {
			struct stat st;
			if (fstatat(c->dest_view, e->dst, &st, AT_SYMLINK_NOFOLLOW) == 0)
				r = btar_dir(t, e->dst, st.st_mode, st.st_uid, st.st_gid, st.st_mtime);
			else
				r = btar_dir(t, e->dst, 0755, c->uid, c->gid, time(NULL));
			strv_push(&c->emitted, xstrdup(e->dst));
			if (r < 0)
				break;
		}
		return bx_archive_extract(c->b, e->fd, t, e->dst, err) < 0 ? -1 : 0;
	}
	return r < 0 ? btar_error(t, err) : 0;
}

/* ---- the cache key ----------------------------------------------------------------------------- */

static int hash_entries(struct cop *c, char ret[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	struct sha256 h;
	sha256_init(&h);
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->items.n; i++) {
		struct centry *e = &c->items.v[i];
		char d[DIGEST_STR_LEN + 1] = "";
		if (e->kind == C_FILE || e->kind == C_ARCHIVE) {
			int fd = e->kind == C_FILE ? open_src(c, e, err) : dup(e->fd);
			if (fd < 0) {
				r = -1;
				break;
			}
			if (e->kind == C_ARCHIVE)
				lseek(fd, 0, SEEK_SET);
			r = bx_hash_fd(fd, d, err);
			close(fd);
		} else if (e->kind == C_MEM) {
			sha256_digest(e->data, e->len, d);
		} else if (e->kind == C_FD) {
			snprintf(d, sizeof(d), "%s", e->link);
		}
		_cleanup_free_ char *line = xasprintf(
			"%d %o %u %u %s %s %s\n", (int)e->kind, (unsigned)e->mode, (unsigned)e->uid,
			(unsigned)e->gid, e->dst, e->kind == C_LINK || e->kind == C_HARDLINK ? e->link : "",
			d);
		sha256_update(&h, line, strlen(line));
	}
	sha256_final(&h, ret);
	sha256_release(&h);
	return r;
}

/* ---- the step ---------------------------------------------------------------------------------- */

static int setup_dest(struct cop *c, const struct build_step *step, struct scow_error **err)
{
	const char *d = step->ins->copy.dest;
	if (!d || !*d)
		return error_set(err, EINVAL, "%s requires at least two arguments",
				 c->add ? "ADD" : "COPY");
	bool slash = str_ends_with(d, "/") || strcmp(d, ".") == 0 || str_ends_with(d, "/.");
	_cleanup_free_ char *abs = d[0] == '/' ? xstrdup(d)
					       : xasprintf("/%s/%s", step->workdir ? step->workdir : "", d);
	_cleanup_free_ char *clean = fs_path_clean(abs);
	c->dest = slash && strcmp(clean, "/") ? xasprintf("%s/", clean) : xstrdup(clean);
	c->dest_dir = slash || strcmp(clean, "/") == 0;
	return 0;
}

static int collect(struct cop *c, struct bstate *st, struct bstate *stages,
		   struct scow_error **err)
{
	const struct df_instruction *in = c->step->ins;
	struct bx *b = c->b;
	c->from_context = !in->copy.from;
	if (in->copy.from) {
		if (c->step->from_stage >= 0) {
			c->src_root = bx_view(b, &stages[c->step->from_stage], 1, err);
		} else {
			_cleanup_free_ char *id = NULL;
			struct bstate img = {0};
			const struct build_runner *r = &b->o->runner;
			if (r->image(r->opaque, in->copy.from, false, b->o->quiet ? NULL : b->out, &id,
				     err) < 0 ||
			    bstate_load(b, id, &img, err) < 0) {
				bstate_release(&img);
				return -1;
			}
			c->src_root = bx_view(b, &img, 1, err);
			bstate_release(&img);
		}
		if (c->src_root < 0)
			return -1;
		c->keep_owner = true;
	} else {
		c->src_root = b->ctx_fd;
	}
	if (parse_chown(c, st, err) < 0 || parse_chmod(c, err) < 0)
		return -1;
	if (in->copy.excludes && in->copy.excludes[0])
		return error_set(err, ENOTSUP, "%s --exclude is not supported", c->add ? "ADD" : "COPY");
	if (in->copy.parents)
		return error_set(err, ENOTSUP, "%s --parents is not supported", c->add ? "ADD" : "COPY");
	for (size_t i = 0; in->copy.srcs && in->copy.srcs[i]; i++) {
		const char *s = in->copy.srcs[i];
		int r;
		if (is_url(s) && c->add && !in->copy.from)
			r = add_url(c, s, err);
		else if (is_url(s))
			r = error_set(err, EINVAL, "source can't be a URL for COPY");
		else
			r = add_path(c, s, err);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < in->copy.ninline; i++)
		if (add_inline(c, &in->copy.inline_srcs[i], err) < 0)
			return -1;
	if (c->nsources > 1 && !str_ends_with(c->dest, "/"))
		return error_set(err, EINVAL, "When using %s with more than one source file, the "
					      "destination must be a directory and end with a /",
				 c->add ? "ADD" : "COPY");
	return 0;
}

/* Docker's history text: "COPY file:<hash> in DEST " (dir:, multi:). */
static char *copy_created_by(struct cop *c, const char *digest)
{
	const char *kind = c->nsources > 1 ? "multi" : c->first_kind && c->first_kind[0]
								? c->first_kind[0]
								: "file";
	return xasprintf("/bin/sh -c #(nop) %s %s:%s in %s ", c->add ? "ADD" : "COPY", kind,
			 digest_hex(digest), c->step->ins->copy.dest);
}

static int write_layer(struct cop *c, struct bstate *st, struct layer_info *li,
		       struct scow_error **err)
{
	struct btar *t;
	if (btar_open(c->b, &t, err) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->items.n; i++)
		r = write_entry(c, t, &c->items.v[i], err);
	size_t n = json_array_size(st->layers);
	if (r == 0)
		r = btar_finish(t, n ? json_string_value(json_array_get(st->layers, n - 1)) : "", li,
				err);
	btar_free(t);
	return r;
}

int bx_step_copy(struct bx *b, struct bstate *st, const struct build_step *step, bool *ret_cached,
		 struct bstate *stages, struct scow_error **err)
{
	struct cop c = {.b = b, .step = step, .add = step->ins->kind == DF_ADD};
	int r = setup_dest(&c, step, err);
	if (r == 0) {
		c.dest_view = bx_view(b, st, 0, err);
		r = c.dest_view < 0 ? -1 : collect(&c, st, stages, err);
	}
	char digest[DIGEST_STR_LEN + 1];
	if (r == 0)
		r = hash_entries(&c, digest, err);
	if (r < 0) {
		cop_release(&c);
		return -1;
	}
	_cleanup_free_ char *created_by = copy_created_by(&c, digest);
	_cleanup_free_ char *source = df_instruction_source(step->ins);
	_cleanup_free_ char *owner = xasprintf("%d %u:%u %d %o", c.keep_owner, (unsigned)c.uid,
					       (unsigned)c.gid, c.has_chmod, (unsigned)c.chmod);
	const char *parts[] = {c.add ? "ADD" : "COPY", source, created_by, owner, digest, NULL};
	_cleanup_free_ char *key = bx_cache_key(b, st, parts);
	char cached[DIGEST_STR_LEN + 1];
	if (bx_cache_get(b, key, cached) == 1) {
		cop_release(&c);
		*ret_cached = true;
		return bstate_load(b, cached, st, err);
	}
	struct layer_info li;
	r = write_layer(&c, st, &li, err);
	cop_release(&c);
	if (r < 0 || bx_commit(b, st, bx_config_copy(st), &li, created_by, err) < 0)
		return -1;
	bx_cache_put(b, key, st->id);
	return 0;
}

/* ---- WORKDIR ---------------------------------------------------------------------------------- */

int bx_workdir_layer(struct bx *b, const struct bstate *st, const char *dir, struct layer_info *ret,
		     bool *ret_made, struct scow_error **err)
{
	*ret_made = false;
	int view = bx_view(b, st, 0, err);
	if (view < 0)
		return -1;
	_cleanup_free_ char *real = NULL;
	bool exists;
	struct stat sst;
	if (bx_resolve(view, dir, true, &real, &exists, &sst, err) < 0)
		return -1;
	if (exists || !*real)
		return 0; /* Docker: an existing path is left as it is */
	struct cop c = {.b = b, .dest_view = view};
	struct btar *t;
	if (btar_open(b, &t, err) < 0)
		return -1;
	_cleanup_free_ char *leaf = xasprintf("%s/", real);
	int r = emit_parents(&c, t, leaf, err);
	size_t n = json_array_size(st->layers);
	if (r == 0)
		r = btar_finish(t, n ? json_string_value(json_array_get(st->layers, n - 1)) : "", ret,
				err);
	btar_free(t);
	cop_release(&c);
	if (r == 0)
		*ret_made = true;
	return r;
}
