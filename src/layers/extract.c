/* Safe extraction of a layer tar.
 *
 * libarchive is used only to parse the tar stream (ustar, pax, GNU long
 * names, sparse files); every file-system change is made here with *at()
 * system calls relative to directory fds below root_fd:
 *
 *  - An entry name is normalised ("/", "./", "//" and "." dropped; ".."
 *    refused) and split into a parent path and a base name. The parent is
 *    opened with openat2(RESOLVE_IN_ROOT), so a symlink anywhere in the tar
 *    (absolute, relative going up, chained, replacing a directory) resolves
 *    as it would inside the container and never leads out of root_fd. The
 *    base name is then acted on with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so the
 *    last component is never followed either.
 *  - Missing parents are created one component at a time (mkdirat relative
 *    to the previous component, opened O_NOFOLLOW).
 *  - The last parent directory fd is cached: tar entries arrive grouped by
 *    directory, so most entries cost one openat/mknodat/symlinkat plus their
 *    metadata calls. Removing a directory or a symlink invalidates the cache.
 *  - OCI whiteouts (".wh.NAME", ".wh..wh..opq") are converted into the
 *    overlayfs form (char device 0:0, "<prefix>.overlay.opaque" = "y"); their
 *    parent must not go through a symlink.
 *  - Directory mtimes (and, rootless, restrictive directory modes) are
 *    applied at the end from a bounded list, so memory stays bounded for any
 *    number of entries.
 */
#include "layers/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Directories whose mtime (and possibly mode) is applied at the end. Beyond
 * these limits a directory keeps the mtime of its extraction. */
#define DEFERRED_DIRS_MAX 65536
#define DEFERRED_DIRS_BYTES_MAX (8u << 20)
/* Error messages quote at most this much of an entry name. */
#define LABEL_MAX 200

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* Largest uid/gid accepted: (uid_t)-1 means "leave unchanged" to chown. */
#define ID_MAX 4294967294LL

struct deferred_dir {
	char *path; /* normalised, "" for the root */
	struct timespec times[2];
	mode_t mode;
	bool set_times;
	bool set_mode; /* rootless: the final mode was withheld during extraction */
	bool via_symlink;
};

struct extract_ctx {
	int root; /* O_RDONLY|O_DIRECTORY fd of the layer root */
	bool rootless;
	mode_t umask; /* the process's, read once: lets fchmod be skipped */
	const char *xattr_prefix;
	struct archive *a;

	layers_read_fn read_fn;
	void *opaque;
	struct layers_tarsplit *tarsplit;
	struct scow_error *read_err;
	bool read_eof;

	/* Current entry: normalised path, its length, where the base starts. */
	char path[PATH_MAX];
	size_t path_len;
	size_t base_off;
	bool parent_via_symlink; /* set by parent_get() */

	/* Cache of the last parent directory (never the root). */
	char cache_path[PATH_MAX];
	size_t cache_len;
	int cache_fd;
	bool cache_valid;
	bool cache_via_symlink;
	/* The group a file created in the cached directory (or the root) gets:
	 * ours, or the directory's if it is setgid. Lets fchown be skipped. */
	bool cache_gid_known, root_gid_known;
	gid_t cache_gid, root_gid;
	uid_t euid;
	gid_t egid;

	struct deferred_dir *dirs;
	size_t ndirs, dirs_cap, dirs_bytes;
	bool dirs_full_logged;

	struct layers_extract_stats stats;
};

/* The attributes of an entry that apply to every type. */
struct entry_meta {
	uid_t uid;
	gid_t gid;
	mode_t perm; /* including setuid/setgid/sticky */
	struct timespec times[2];
	bool has_times;
};

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve};
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a concurrent rename raced a RESOLVE_IN_ROOT walk. */
		if ((errno != EAGAIN && errno != EINTR) || tries >= 16)
			return -1;
	}
}

/* --- the tar stream ------------------------------------------------------ */

static la_ssize_t read_cb(struct archive *a, void *opaque, const void **ret_buf)
{
	struct extract_ctx *ctx = opaque;
	if (ctx->read_eof)
		return 0;
	ssize_t n = ctx->read_fn(ctx->opaque, ret_buf, &ctx->read_err);
	if (n < 0) {
		if (!ctx->read_err)
			error_set(&ctx->read_err, EIO, "read failed");
		archive_set_error(a, ctx->read_err->errnum ? ctx->read_err->errnum : EIO, "%s",
				  ctx->read_err->msg);
		return -1;
	}
	if (n == 0)
		ctx->read_eof = true;
	else if (ctx->tarsplit)
		layers_tarsplit_feed(ctx->tarsplit, *ret_buf, (size_t)n);
	return n;
}

/* Turns a libarchive failure into *err, preferring the read_fn's own error. */
static int archive_fail(struct extract_ctx *ctx, struct scow_error **err)
{
	if (ctx->read_err) {
		if (err) {
			error_free(*err);
			*err = steal_ptr(&ctx->read_err);
		}
		return -1;
	}
	const char *msg = archive_error_string(ctx->a);
	return error_set(err, EINVAL, "%s", msg ? msg : "malformed tar stream");
}

/* Reads the rest of the stream so that a digest computed in read_fn covers
 * every byte, including anything after the end-of-archive marker. */
static int drain(struct extract_ctx *ctx, struct scow_error **err)
{
	while (!ctx->read_eof) {
		const void *buf;
		ssize_t n = ctx->read_fn(ctx->opaque, &buf, err);
		if (n < 0) {
			if (err && !*err)
				error_set(err, EIO, "read failed");
			return error_wrap(err, "read layer after end of archive");
		}
		if (n == 0)
			ctx->read_eof = true;
		else if (ctx->tarsplit)
			layers_tarsplit_feed(ctx->tarsplit, buf, (size_t)n);
	}
	return 0;
}

/* --- names --------------------------------------------------------------- */

/* A printable, bounded form of an entry name for error messages. */
static const char *entry_label(const char *raw, char *out, size_t outsz)
{
	size_t o = 0, i = 0;
	if (!raw)
		raw = "";
	for (; raw[i] && o + 5 < outsz && i < LABEL_MAX; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (raw[i] && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Normalises a tar name into out (size PATH_MAX): leading "/" and "./",
 * repeated "/", "." components and a trailing "/" go; a ".." component is
 * refused. The result is "" for the root. */
static int name_normalize(const char *raw, char *out, size_t *ret_len, struct scow_error **err)
{
	size_t len = 0;
	const char *p = raw;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return error_set(err, EPERM, "refusing a name with a \"..\" component");
		if (len + (len ? 1 : 0) + n >= PATH_MAX)
			return error_set(err, ENAMETOOLONG, "name longer than %d bytes", PATH_MAX - 1);
		if (len)
			out[len++] = '/';
		memcpy(out + len, s, n);
		len += n;
	}
	out[len] = '\0';
	*ret_len = len;
	return 0;
}

/* True if a parent component starts with ".wh..wh." (aufs metadata such as
 * ".wh..wh.plnk/" or ".wh..wh.orph/"). */
static bool path_has_aufs_meta_dir(const char *path, size_t parent_len)
{
	const char *p = path, *end = path + parent_len;
	while (p < end) {
		if ((size_t)(end - p) >= strlen(WH_META_PREFIX) &&
		    memcmp(p, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0)
			return true;
		const char *slash = memchr(p, '/', (size_t)(end - p));
		if (!slash)
			break;
		p = slash + 1;
	}
	return false;
}

/* --- parent directories -------------------------------------------------- */

static void cache_invalidate(struct extract_ctx *ctx)
{
	/* The fd stays open: the current entry may still be using it as its
	 * parent. It is closed when the cache is next replaced. */
	ctx->cache_valid = false;
}

/* Takes ownership of fd. */
static void cache_set(struct extract_ctx *ctx, const char *path, size_t len, int fd, bool via)
{
	if (ctx->cache_fd >= 0 && ctx->cache_fd != fd)
		close(ctx->cache_fd);
	ctx->cache_fd = fd;
	if (path != ctx->cache_path)
		memcpy(ctx->cache_path, path, len);
	ctx->cache_path[len] = '\0';
	ctx->cache_len = len;
	ctx->cache_valid = true;
	ctx->cache_via_symlink = via;
	ctx->cache_gid_known = false;
}

/* Symlinks followed while creating one parent path, as the kernel's
 * MAXSYMLINKS. */
#define WALK_SYMLINKS_MAX 40
/* walk_step(): comp is a symlink whose target does not exist (yet). */
#define WALK_DANGLING (-2)

/* Opens comp below dfd, creating it as a 0755 directory if missing. buf is
 * the path walked so far, NUL-terminated right after comp: a ".." or a
 * symlink is resolved by openat2(RESOLVE_IN_ROOT) on all of it. */
static int walk_step(struct extract_ctx *ctx, int dfd, const char *buf, const char *comp,
		     bool no_symlinks, bool *via, struct scow_error **err)
{
	const int dirflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	if (strcmp(comp, "..") == 0) {
		/* Only from a spliced symlink target. */
		int fd = sys_openat2(ctx->root, buf, O_RDONLY | O_DIRECTORY,
				     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		return fd >= 0 ? fd : error_errno(err, "open directory \"%s\"", buf);
	}
	int fd = openat(dfd, comp, dirflags);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create directory \"%s\"", buf);
		fd = openat(dfd, comp, dirflags);
		if (fd < 0)
			return error_errno(err, "open directory \"%s\"", buf);
		/* mkdirat applied the umask. */
		if (fchmod(fd, 0755) < 0) {
			error_errno(err, "chmod directory \"%s\"", buf);
			close(fd);
			return -1;
		}
		return fd;
	}
	if (errno != ELOOP && errno != ENOTDIR)
		return error_errno(err, "open directory \"%s\"", buf);
	struct stat st;
	if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "stat \"%s\"", buf);
	if (!S_ISLNK(st.st_mode))
		return error_set(err, ENOTDIR, "\"%s\" is not a directory", buf);
	if (no_symlinks)
		return error_set(err, ELOOP, "refusing a parent path through the symlink \"%s\"",
				 buf);
	*via = true;
	fd = sys_openat2(ctx->root, buf, O_RDONLY | O_DIRECTORY,
			 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return WALK_DANGLING;
	return error_errno(err, "open directory \"%s\" through its symlink", buf);
}

/* Replaces the symlink comp (at buf + comp_off, below dfd) in buf by its
 * target; rest is what followed comp, or NULL. */
static int walk_splice(int dfd, char *buf, size_t comp_off, const char *rest,
		       struct scow_error **err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, buf + comp_off, target, sizeof(target));
	if (n < 0)
		return error_errno(err, "read symlink \"%s\"", buf);
	size_t keep = target[0] == '/' ? 0 : comp_off;
	size_t rlen = rest ? strlen(rest) : 0;
	if ((size_t)n >= sizeof(target) || keep + (size_t)n + 1 + rlen >= PATH_MAX)
		return error_set(err, ENAMETOOLONG, "\"%s\": path through symlinks too long", buf);
	if (rest)
		memmove(buf + keep + n + 1, rest, rlen + 1);
	else
		buf[keep + n + 1] = '\0';
	memcpy(buf + keep, target, (size_t)n);
	buf[keep + n] = '/';
	return 0;
}

/* Opens the directory path (below the root), creating what is missing as
 * 0755 directories, one component at a time: each mkdirat is relative to
 * the fd of the previous component, opened O_NOFOLLOW.
 *
 * Symlinks and ".." are only ever resolved by openat2(RESOLVE_IN_ROOT) on
 * the prefix walked so far. A symlink whose target does not exist yet (a
 * layer with "etc -> /etc" but no etc/ of its own) has its target spliced
 * into the path, which is then walked again from the root: the missing
 * directories are made where the symlink points inside the root, as the
 * kernel resolves it there. With no_symlinks any symlink is refused. */
static int walk_create(struct extract_ctx *ctx, const char *path, bool no_symlinks, bool *via,
		       struct scow_error **err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	memcpy(buf, path, len + 1);
	for (int splices = 0; splices <= WALK_SYMLINKS_MAX; splices++) {
		_cleanup_close_ int cur = -1;
		char *p = buf;
		bool spliced = false;
		for (;;) {
			while (*p == '/')
				p++;
			if (!*p)
				break;
			char *comp = p;
			while (*p && *p != '/')
				p++;
			char saved = *p;
			*p = '\0'; /* buf is now the prefix up to comp */
			if (strcmp(comp, ".") == 0) {
				*p = saved;
				continue;
			}
			int dfd = cur >= 0 ? cur : ctx->root;
			int fd = walk_step(ctx, dfd, buf, comp, no_symlinks, via, err);
			if (fd == WALK_DANGLING) {
				if (walk_splice(dfd, buf, (size_t)(comp - buf), saved ? p + 1 : NULL,
						err) < 0)
					return -1;
				spliced = true;
				break;
			}
			if (fd < 0)
				return -1;
			closep(&cur);
			cur = fd;
			*p = saved;
		}
		if (spliced)
			continue; /* walk the new path from the root */
		if (cur < 0) /* the path named the root ("a/.." spliced) */
			cur = openat(ctx->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return error_errno(err, "open layer root");
		return steal_fd(&cur);
	}
	return error_set(err, ELOOP, "too many symlinks in \"%s\"", path);
}

/* Returns a borrowed fd of the parent directory of the current entry
 * (ctx->path[0..base_off-1]), creating it if missing. With no_symlinks the
 * parent path must not go through any symlink. */
static int parent_get(struct extract_ctx *ctx, bool no_symlinks, struct scow_error **err)
{
	ctx->parent_via_symlink = false;
	if (ctx->base_off == 0)
		return ctx->root;
	size_t len = ctx->base_off - 1;
	if (ctx->cache_valid && ctx->cache_len == len && memcmp(ctx->cache_path, ctx->path, len) == 0) {
		if (!no_symlinks || !ctx->cache_via_symlink) {
			ctx->parent_via_symlink = ctx->cache_via_symlink;
			return ctx->cache_fd;
		}
	}
	/* Work on the cache buffer: it becomes the cached path on success. */
	memcpy(ctx->cache_path, ctx->path, len);
	ctx->cache_path[len] = '\0';
	ctx->cache_valid = false;
	char *parent = ctx->cache_path;
	bool via = false;
	int fd = sys_openat2(ctx->root, parent, O_RDONLY | O_DIRECTORY,
			     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
	if (fd < 0 && errno == ELOOP && !no_symlinks) {
		fd = sys_openat2(ctx->root, parent, O_RDONLY | O_DIRECTORY,
				 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		via = true;
	}
	if (fd < 0 && errno == ENOENT) {
		via = false;
		fd = walk_create(ctx, parent, no_symlinks, &via, err);
		if (fd < 0)
			return error_wrap(err, "parent directory");
	}
	if (fd < 0) {
		if (errno == ELOOP && no_symlinks)
			return error_set(err, ELOOP,
					 "refusing a parent path \"%s\" that goes through a symlink",
					 parent);
		if (errno == ENOTDIR)
			return error_set(err, ENOTDIR, "parent \"%s\" is not a directory", parent);
		return error_errno(err, "open parent directory \"%s\"", parent);
	}
	cache_set(ctx, parent, len, fd, via);
	ctx->parent_via_symlink = via;
	return fd;
}

/* Removes whatever is at dirfd/name so that a new entry can take its place. */
static int remove_existing(struct extract_ctx *ctx, int dirfd, const char *name,
			   struct scow_error **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno(err, "stat existing entry");
	}
	if (S_ISDIR(st.st_mode)) {
		cache_invalidate(ctx);
		if (fs_rm_rf_at(dirfd, name, err) < 0)
			return error_wrap(err, "replace existing directory");
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		cache_invalidate(ctx);
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return error_errno(err, "replace existing entry");
	return 0;
}

/* --- metadata ------------------------------------------------------------ */

static int meta_read(struct archive_entry *e, struct entry_meta *m, struct scow_error **err)
{
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || uid > ID_MAX)
		return error_set(err, ERANGE, "uid %lld out of range (0-%lld)", (long long)uid,
				 ID_MAX);
	if (gid < 0 || gid > ID_MAX)
		return error_set(err, ERANGE, "gid %lld out of range (0-%lld)", (long long)gid,
				 ID_MAX);
	m->uid = (uid_t)uid;
	m->gid = (gid_t)gid;
	m->perm = archive_entry_perm(e) & 07777;
	m->has_times = archive_entry_mtime_is_set(e);
	if (m->has_times) {
		long nsec = archive_entry_mtime_nsec(e);
		m->times[1].tv_sec = (time_t)archive_entry_mtime(e);
		m->times[1].tv_nsec = (nsec >= 0 && nsec < 1000000000L) ? nsec : 0;
		m->times[0] = m->times[1];
		if (archive_entry_atime_is_set(e)) {
			long ansec = archive_entry_atime_nsec(e);
			struct timespec at = {(time_t)archive_entry_atime(e),
					      (ansec >= 0 && ansec < 1000000000L) ? ansec : 0};
			if (at.tv_sec > m->times[1].tv_sec ||
			    (at.tv_sec == m->times[1].tv_sec && at.tv_nsec > m->times[1].tv_nsec))
				m->times[0] = at;
		}
	}
	return 0;
}

/* fchown(fd) when name is NULL, else fchownat(fd, name, NOFOLLOW). Rootless,
 * an id the user namespace does not map leaves the extracting user's. */
static int set_owner(struct extract_ctx *ctx, int fd, const char *name, const struct entry_meta *m,
		     struct scow_error **err)
{
	int r = name ? fchownat(fd, name, m->uid, m->gid, AT_SYMLINK_NOFOLLOW)
		     : fchown(fd, m->uid, m->gid);
	if (r == 0)
		return 0;
	if (ctx->rootless && (errno == EINVAL || errno == EPERM)) {
		log_debug("layer entry \"%s\": cannot chown to %u:%u rootless, keeping the "
			  "current owner",
			  ctx->path, (unsigned)m->uid, (unsigned)m->gid);
		return 0;
	}
	return error_errno(err, "chown to %u:%u", (unsigned)m->uid, (unsigned)m->gid);
}

static bool xattr_is_overlay(const char *name)
{
	return str_starts_with(name, "trusted.overlay.") || str_starts_with(name, "user.overlay.");
}

static bool xattr_is_kept(const char *name)
{
	return strcmp(name, "security.capability") == 0 || str_starts_with(name, "user.");
}

/* Refuses the layer if it carries overlay xattrs of its own. */
static int xattrs_check(struct archive_entry *e, struct scow_error **err)
{
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		if (name && xattr_is_overlay(name))
			return error_set(err, EPERM,
					 "refusing xattr \"%s\": it would forge overlay metadata",
					 name);
	return 0;
}

static int xattrs_apply(struct extract_ctx *ctx, int fd, struct archive_entry *e,
			struct scow_error **err)
{
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!name || !xattr_is_kept(name)) {
			log_debug("layer entry \"%s\": skipping xattr \"%s\"", ctx->path,
				  name ? name : "");
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (errno == EOPNOTSUPP || (ctx->rootless && errno == EPERM)) {
			log_warn("layer entry \"%s\": cannot set xattr \"%s\": %s", ctx->path, name,
				 strerror(errno));
			continue;
		}
		return error_errno(err, "set xattr \"%s\"", name);
	}
	return 0;
}

static bool entry_has_xattrs(struct archive_entry *e)
{
	return archive_entry_xattr_count(e) > 0;
}

/* --- deferred directory metadata ----------------------------------------- */

static void deferred_add(struct extract_ctx *ctx, const struct entry_meta *m, bool set_mode,
			 bool via_symlink)
{
	size_t need = ctx->path_len + 1;
	if (ctx->ndirs >= DEFERRED_DIRS_MAX || ctx->dirs_bytes + need > DEFERRED_DIRS_BYTES_MAX) {
		if (!ctx->dirs_full_logged) {
			log_debug("layer: more than %d directories, later ones keep their "
				  "extraction mtime",
				  DEFERRED_DIRS_MAX);
			ctx->dirs_full_logged = true;
		}
		return;
	}
	xgrow((void **)&ctx->dirs, &ctx->dirs_cap, ctx->ndirs + 1, sizeof(*ctx->dirs));
	struct deferred_dir *d = &ctx->dirs[ctx->ndirs++];
	d->path = xstrndup(ctx->path, ctx->path_len);
	d->times[0] = m->times[0];
	d->times[1] = m->times[1];
	d->set_times = m->has_times;
	d->mode = m->perm;
	d->set_mode = set_mode;
	d->via_symlink = via_symlink;
	ctx->dirs_bytes += need;
}

/* Applies the deferred directory metadata in tar order (a later entry for the
 * same directory wins). Each directory is reopened inside the root with
 * O_NOFOLLOW: one that was since replaced is skipped, and nothing is ever
 * changed through a symlink. */
static int deferred_apply(struct extract_ctx *ctx, struct scow_error **err)
{
	for (size_t i = 0; i < ctx->ndirs; i++) {
		struct deferred_dir *d = &ctx->dirs[i];
		uint64_t resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
		if (!d->via_symlink)
			resolve |= RESOLVE_NO_SYMLINKS;
		_cleanup_close_ int fd = sys_openat2(ctx->root, d->path[0] ? d->path : ".",
						     O_RDONLY | O_DIRECTORY | O_NOFOLLOW, resolve);
		if (fd < 0) {
			/* Replaced since (by a file, a symlink, nothing), or
			 * rootless below a directory we may not search. */
			if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != EACCES)
				return error_errno(err, "layer entry \"%s\": reopen directory",
						   d->path);
			log_debug("layer directory \"%s\": not reopened for its mtime: %s", d->path,
				  strerror(errno));
			continue;
		}
		if (d->set_mode && fchmod(fd, d->mode) < 0)
			return error_errno(err, "layer entry \"%s\": chmod %04o", d->path,
					   (unsigned)d->mode);
		if (d->set_times && futimens(fd, d->times) < 0)
			return error_errno(err, "layer entry \"%s\": set times", d->path);
	}
	return 0;
}

static void deferred_free(struct extract_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ndirs; i++)
		free(ctx->dirs[i].path);
	free(ctx->dirs);
	ctx->dirs = NULL;
	ctx->ndirs = ctx->dirs_cap = 0;
}

/* --- entry types --------------------------------------------------------- */

static const char *entry_base(struct extract_ctx *ctx)
{
	return ctx->path + ctx->base_off;
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int file_write_data(struct extract_ctx *ctx, int fd, int64_t size, struct scow_error **err)
{
	int64_t end = 0;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(ctx->a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return archive_fail(ctx, err);
		if (off < 0 || (uint64_t)len > (uint64_t)INT64_MAX - (uint64_t)off)
			return error_set(err, EINVAL, "data block at a bad offset");
		if (len == 0)
			continue;
		if (pwrite_all(fd, buf, len, (off_t)off) < 0)
			return error_errno(err, "write %zu bytes at offset %lld", len, (long long)off);
		if (off + (int64_t)len > end)
			end = off + (int64_t)len;
	}
	/* Sparse files end in a hole, or the size was only declared. */
	if (end != size && ftruncate(fd, (off_t)size) < 0)
		return error_errno(err, "set size to %lld bytes", (long long)size);
	return 0;
}

/* False when a file just created in pfd already has the owner m asks for:
 * fchown is then skipped (most files of a rootful layer are 0:0). */
static bool file_needs_chown(struct extract_ctx *ctx, int pfd, const struct entry_meta *m)
{
	if (m->uid != ctx->euid)
		return true;
	bool is_root = pfd == ctx->root;
	bool *known = is_root ? &ctx->root_gid_known : &ctx->cache_gid_known;
	gid_t *gid = is_root ? &ctx->root_gid : &ctx->cache_gid;
	if (!is_root && pfd != ctx->cache_fd)
		return true;
	if (!*known) {
		struct stat st;
		if (fstat(pfd, &st) < 0)
			return true;
		*gid = (st.st_mode & S_ISGID) ? st.st_gid : ctx->egid;
		*known = true;
	}
	return m->gid != *gid;
}

/* The umask without changing it (umask(2) can only read by setting, which
 * would race with another extracting thread). Unknown: assume 077, so
 * every mode gets set explicitly. */
static mode_t current_umask(void)
{
	char buf[2048];
	_cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 077;
	buf[n] = '\0';
	const char *u = strstr(buf, "\nUmask:");
	return u ? (mode_t)strtoul(u + 8, NULL, 8) & 0777 : 077;
}

static int extract_file(struct extract_ctx *ctx, struct archive_entry *e,
			const struct entry_meta *m, struct scow_error **err)
{
	int64_t size = archive_entry_size(e);
	if (size < 0)
		return error_set(err, EINVAL, "negative size");
	int pfd = parent_get(ctx, false, err);
	if (pfd < 0)
		return -1;
	const char *base = entry_base(ctx);
	/* Most files (0644, 0755) get their mode at creation, saving a
	 * syscall each; set-id bits only after the chown that clears them.
	 * The store is 0700: nothing sees a file before it is complete. */
	bool special = m->perm & 07000;
	mode_t create_mode = special ? 0600 : m->perm & 0777;
	_cleanup_close_ int fd = -1;
	for (int attempt = 0;; attempt++) {
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    create_mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return error_errno(err, "create");
		if (remove_existing(ctx, pfd, base, err) < 0)
			return -1;
	}
	if (file_write_data(ctx, fd, size, err) < 0)
		return -1;
	/* chown clears setuid/setgid and security.capability: mode and xattrs
	 * come after it. */
	if (file_needs_chown(ctx, pfd, m) && set_owner(ctx, fd, NULL, m, err) < 0)
		return -1;
	bool exact = !special && !(create_mode & ctx->umask);
	if (!exact && fchmod(fd, m->perm) < 0)
		return error_errno(err, "chmod %04o", (unsigned)m->perm);
	if (entry_has_xattrs(e) && xattrs_apply(ctx, fd, e, err) < 0)
		return -1;
	if (m->has_times && futimens(fd, m->times) < 0)
		return error_errno(err, "set times");
	if (close(steal_fd(&fd)) < 0 && errno != EINTR)
		return error_errno(err, "close");
	ctx->stats.bytes += (uint64_t)size;
	return 0;
}

static int set_opaque(struct extract_ctx *ctx, int dirfd, struct scow_error **err)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.overlay.opaque", ctx->xattr_prefix);
	if (fsetxattr(dirfd, name, "y", 1, 0) < 0)
		return error_errno(err, "set %s", name);
	return 0;
}

/* A directory entry: an existing directory is kept and gets the new
 * metadata; anything else in its place is replaced. */
static int extract_dir(struct extract_ctx *ctx, struct archive_entry *e, const struct entry_meta *m,
		       struct scow_error **err)
{
	_cleanup_close_ int fd = -1;
	bool via = false, opaque = false;

	if (ctx->path_len == 0) {
		/* "./": the layer root itself. */
		fd = openat(ctx->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return error_errno(err, "open layer root");
	} else {
		int pfd = parent_get(ctx, false, err);
		if (pfd < 0)
			return -1;
		via = ctx->parent_via_symlink;
		const char *base = entry_base(ctx);
		if (mkdirat(pfd, base, 0700) < 0) {
			if (errno != EEXIST)
				return error_errno(err, "create directory");
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				if (errno != ENOTDIR && errno != ELOOP)
					return error_errno(err, "open existing directory");
				struct stat st;
				/* A same-layer whiteout of this name: the new
				 * directory must still hide the lower one. */
				if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    layers_ovl_whiteout(&st))
					opaque = true;
				if (remove_existing(ctx, pfd, base, err) < 0)
					return -1;
				if (mkdirat(pfd, base, 0700) < 0)
					return error_errno(err, "create directory");
			}
		}
		if (fd < 0)
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return error_errno(err, "open new directory");
	}

	/* Rootless without CAP_DAC_OVERRIDE, a directory we cannot write to
	 * could not be filled: keep it 0700 until the end. */
	bool withhold = ctx->rootless && (m->perm & 0700) != 0700;
	mode_t now = withhold ? (m->perm | 0700) : m->perm;
	if (set_owner(ctx, fd, NULL, m, err) < 0)
		return -1;
	if (fchmod(fd, now) < 0)
		return error_errno(err, "chmod %04o", (unsigned)now);
	if (entry_has_xattrs(e) && xattrs_apply(ctx, fd, e, err) < 0)
		return -1;
	if (opaque && set_opaque(ctx, fd, err) < 0)
		return -1;
	size_t before = ctx->ndirs;
	deferred_add(ctx, m, withhold, via);
	if (withhold && ctx->ndirs == before && fchmod(fd, m->perm) < 0)
		return error_errno(err, "chmod %04o", (unsigned)m->perm);
	/* The next entries most likely live in this directory. */
	if (ctx->path_len > 0)
		cache_set(ctx, ctx->path, ctx->path_len, steal_fd(&fd), via);
	else
		ctx->root_gid_known = false; /* its group or setgid bit may have changed */
	return 0;
}

static int extract_symlink(struct extract_ctx *ctx, struct archive_entry *e,
			   const struct entry_meta *m, struct scow_error **err)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !*target)
		return error_set(err, EINVAL, "symlink without a target");
	int pfd = parent_get(ctx, false, err);
	if (pfd < 0)
		return -1;
	const char *base = entry_base(ctx);
	for (int attempt = 0;; attempt++) {
		if (symlinkat(target, pfd, base) == 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return error_errno(err, "create symlink");
		if (remove_existing(ctx, pfd, base, err) < 0)
			return -1;
	}
	if (set_owner(ctx, pfd, base, m, err) < 0)
		return -1;
	if (m->has_times && utimensat(pfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "set times");
	return 0;
}

/* Char/block devices and FIFOs. */
static int extract_node(struct extract_ctx *ctx, struct archive_entry *e,
			const struct entry_meta *m, mode_t type, struct scow_error **err)
{
	dev_t dev = 0;
	if (type != S_IFIFO) {
		if (ctx->rootless) {
			log_warn("layer entry \"%s\": skipping a device node in rootless mode",
				 ctx->path);
			return 0;
		}
		dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	}
	int pfd = parent_get(ctx, false, err);
	if (pfd < 0)
		return -1;
	const char *base = entry_base(ctx);
	for (int attempt = 0;; attempt++) {
		if (mknodat(pfd, base, type | 0600, dev) == 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return error_errno(err, "create %s", type == S_IFIFO ? "FIFO" : "device node");
		if (remove_existing(ctx, pfd, base, err) < 0)
			return -1;
	}
	if (set_owner(ctx, pfd, base, m, err) < 0)
		return -1;
	/* fchmodat follows a symlink in the last component, but base is the
	 * node created just above in a directory only we write to. Opening a
	 * device to fchmod it could have side effects. */
	if (m->perm != 0600 && fchmodat(pfd, base, m->perm, 0) < 0)
		return error_errno(err, "chmod %04o", (unsigned)m->perm);
	if (m->has_times && utimensat(pfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "set times");
	return 0;
}

static int extract_hardlink(struct extract_ctx *ctx, const char *raw_target,
			    struct scow_error **err)
{
	char target[PATH_MAX];
	size_t tlen;
	if (raw_target[0] == '/')
		return error_set(err, EPERM, "refusing a hardlink to the absolute path \"%s\"",
				 raw_target);
	if (name_normalize(raw_target, target, &tlen, err) < 0)
		return error_wrap(err, "hardlink target");
	if (tlen == 0)
		return error_set(err, EPERM, "refusing a hardlink to the layer root");
	/* The target must be a plain path below the root: no symlink in any
	 * component, the last one not followed either. */
	_cleanup_close_ int tfd = sys_openat2(ctx->root, target, O_PATH | O_NOFOLLOW,
					      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
						      RESOLVE_NO_MAGICLINKS);
	if (tfd < 0) {
		if (errno == ELOOP || errno == EXDEV)
			return error_set(err, EPERM,
					 "refusing a hardlink target \"%s\" that goes through a "
					 "symlink",
					 target);
		return error_errno(err, "hardlink target \"%s\"", target);
	}
	struct stat tst;
	if (fstat(tfd, &tst) < 0)
		return error_errno(err, "stat hardlink target \"%s\"", target);
	if (S_ISDIR(tst.st_mode))
		return error_set(err, EPERM, "refusing a hardlink to the directory \"%s\"", target);

	int pfd = parent_get(ctx, false, err);
	if (pfd < 0)
		return -1;
	const char *base = entry_base(ctx);
	for (int attempt = 0;; attempt++) {
		int r = linkat(tfd, "", pfd, base, AT_EMPTY_PATH);
		if (r < 0 && (errno == ENOENT || errno == EPERM)) {
			/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic
			 * link of the O_PATH fd names the same inode (a symlink
			 * itself, not what it points to). */
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tfd);
			r = linkat(AT_FDCWD, proc, pfd, base, AT_SYMLINK_FOLLOW);
		}
		if (r == 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return error_errno(err, "hardlink to \"%s\"", target);
		struct stat st;
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
		    st.st_ino == tst.st_ino)
			break; /* already that file */
		if (remove_existing(ctx, pfd, base, err) < 0)
			return -1;
	}
	return 0;
}

/* ".wh.NAME" and ".wh..wh..opq". The parent must not go through a symlink:
 * a whiteout only ever applies to the path it names. */
static int extract_whiteout(struct extract_ctx *ctx, struct scow_error **err)
{
	const char *base = entry_base(ctx);
	const char *name = base + strlen(WH_PREFIX);
	bool opaque = strcmp(base, WH_OPAQUE) == 0;
	if (!opaque && str_starts_with(base, WH_META_PREFIX)) {
		log_debug("layer entry \"%s\": skipping aufs metadata", ctx->path);
		return 0;
	}
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return error_set(err, EPERM, "refusing the whiteout name \"%s\"", base);
	int pfd = parent_get(ctx, true, err);
	if (pfd < 0)
		return error_wrap(err, "whiteout");
	if (opaque)
		return set_opaque(ctx, pfd, err);

	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Same-layer content wins; a same-layer directory must still
		 * hide what lower layers have below it. */
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int dfd =
				openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dfd < 0)
				return error_errno(err, "open directory \"%s\"", name);
			return set_opaque(ctx, dfd, err);
		}
		log_debug("layer entry \"%s\": \"%s\" exists in this layer, keeping it", ctx->path,
			  name);
		return 0;
	}
	if (errno != ENOENT)
		return error_errno(err, "stat \"%s\"", name);
	if (mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
		return error_errno(err, "create whiteout for \"%s\"", name);
	return 0;
}

static int extract_entry(struct extract_ctx *ctx, struct archive_entry *e, struct scow_error **err)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw || !*raw)
		return error_set(err, EINVAL, "entry without a name");
	if (name_normalize(raw, ctx->path, &ctx->path_len, err) < 0)
		return -1;
	const char *slash = memrchr(ctx->path, '/', ctx->path_len);
	ctx->base_off = slash ? (size_t)(slash - ctx->path) + 1 : 0;

	struct entry_meta m;
	if (meta_read(e, &m, err) < 0 || xattrs_check(e, err) < 0)
		return -1;

	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	if (ctx->path_len == 0) {
		if (type == AE_IFDIR && !hardlink)
			return extract_dir(ctx, e, &m, err);
		return error_set(err, EINVAL, "entry with an empty name");
	}
	if (ctx->base_off > 0 && path_has_aufs_meta_dir(ctx->path, ctx->base_off - 1)) {
		log_debug("layer entry \"%s\": skipping aufs metadata", ctx->path);
		return 0;
	}
	if (str_starts_with(entry_base(ctx), WH_PREFIX))
		return extract_whiteout(ctx, err);
	if (hardlink)
		return extract_hardlink(ctx, hardlink, err);

	switch (type) {
	case AE_IFREG:
		/* Its data ends up in the file ctx->path: tell the recorder
		 * before the data is read. */
		if (ctx->tarsplit && archive_entry_size(e) > 0 && archive_entry_sparse_count(e) == 0)
			layers_tarsplit_file(ctx->tarsplit, archive_filter_bytes(ctx->a, 0),
					     archive_entry_size(e), ctx->path);
		return extract_file(ctx, e, &m, err);
	case AE_IFDIR:
		return extract_dir(ctx, e, &m, err);
	case AE_IFLNK:
		return extract_symlink(ctx, e, &m, err);
	case AE_IFCHR:
		return extract_node(ctx, e, &m, S_IFCHR, err);
	case AE_IFBLK:
		return extract_node(ctx, e, &m, S_IFBLK, err);
	case AE_IFIFO:
		return extract_node(ctx, e, &m, S_IFIFO, err);
	case AE_IFSOCK:
		log_debug("layer entry \"%s\": dropping a socket", ctx->path);
		return 0;
	default:
		return error_set(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
	}
}

/* --- driver -------------------------------------------------------------- */

static void ctx_release(struct extract_ctx *ctx)
{
	if (ctx->a)
		archive_read_free(ctx->a);
	if (ctx->cache_fd >= 0)
		close(ctx->cache_fd);
	if (ctx->root >= 0)
		close(ctx->root);
	error_free(ctx->read_err);
	deferred_free(ctx);
}

static int extract_run(struct extract_ctx *ctx, struct scow_error **err)
{
	if (archive_read_support_format_tar(ctx->a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(ctx->a) != ARCHIVE_OK)
		return error_set(err, EINVAL, "libarchive: %s", archive_error_string(ctx->a));
	if (archive_read_open(ctx->a, ctx, NULL, read_cb, NULL) != ARCHIVE_OK) {
		archive_fail(ctx, err);
		return error_wrap(err, "layer tar");
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(ctx->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_WARN) {
			log_debug("layer tar: %s", archive_error_string(ctx->a));
		} else if (r != ARCHIVE_OK) {
			/* ARCHIVE_RETRY (a bad checksum) is as final as FATAL:
			 * never resynchronise inside an untrusted stream. */
			archive_fail(ctx, err);
			return error_wrap(err, "layer tar after %llu entries",
					  (unsigned long long)ctx->stats.entries);
		}
		ctx->stats.entries++;
		if (extract_entry(ctx, e, err) < 0) {
			char label[LABEL_MAX * 4 + 8];
			return error_wrap(err, "layer entry \"%s\"",
					  entry_label(archive_entry_pathname(e), label, sizeof(label)));
		}
	}
	if (drain(ctx, err) < 0)
		return -1;
	return deferred_apply(ctx, err);
}

int layers_extract(int root_fd, layers_read_fn read_fn, void *opaque,
		   const struct layers_extract_opts *opts, struct layers_extract_stats *ret_stats,
		   struct scow_error **err)
{
	struct layers_extract_opts defaults = {0};
	if (!opts)
		opts = &defaults;
	const char *prefix = opts->overlay_xattr_prefix;
	if (!prefix)
		prefix = opts->rootless ? "user" : "trusted";
	if (strcmp(prefix, "trusted") != 0 && strcmp(prefix, "user") != 0)
		return error_set(err, EINVAL, "overlay xattr prefix \"%s\" is neither \"trusted\" "
					      "nor \"user\"",
				 prefix);

	struct extract_ctx *ctx = xcalloc(1, sizeof(*ctx));
	ctx->cache_fd = -1;
	ctx->rootless = opts->rootless;
	ctx->xattr_prefix = prefix;
	ctx->read_fn = read_fn;
	ctx->opaque = opaque;
	ctx->tarsplit = opts->tarsplit;
	ctx->euid = geteuid();
	ctx->egid = getegid();
	ctx->umask = current_umask();
	int r = -1;
	ctx->root = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root < 0) {
		error_errno(err, "open layer directory");
		goto out;
	}
	ctx->a = archive_read_new();
	if (!ctx->a) {
		error_set(err, ENOMEM, "libarchive: cannot allocate a reader");
		goto out;
	}
	r = extract_run(ctx, err);
	if (r == 0 && ret_stats)
		*ret_stats = ctx->stats;
out:
	ctx_release(ctx);
	free(ctx);
	return r;
}
