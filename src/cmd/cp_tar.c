/* scow cp: the tar streams of `cp CTR:PATH -` and `cp - CTR:DIR` (see cp.h).
 *
 * Writing walks the container's tree by fd with O_NOFOLLOW: a name is
 * stat'ed, opened relative to its directory's fd, and the open file is
 * checked to be the one stat'ed (a swapped-in symlink, fifo or device is
 * never read). Reading creates every entry with *at() calls relative to
 * its parent's fd, which is resolved inside the container's root. */
#include "cmd/cp.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fscopy.h"
#include "util/lazy_archive.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* Deeper trees are refused rather than running out of fds (one per level). */
#define MAX_DEPTH 256
#define BUF_SIZE (1 << 16)

/* ---- writing ------------------------------------------------------------- */

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *name;
};

struct tar_writer {
	struct archive *a;
	struct archive_entry *e;
	int out_fd;
	unsigned long long bytes;
	/* Files with several links: the first name written, so that the
	 * others become hardlink entries (as Docker writes them). */
	struct link_seen *links;
	size_t n_links;
};

static la_ssize_t out_write(struct archive *a, void *opaque, const void *buf, size_t len)
{
	struct tar_writer *w = opaque;
	if (fs_write_all(w->out_fd, buf, len) < 0) {
		archive_set_error(a, errno, "write: %s", strerror(errno));
		return -1;
	}
	w->bytes += len;
	return (la_ssize_t)len;
}

static int tw_error(struct tar_writer *w, const char *path, struct scow_error **err)
{
	return error_set(err, EIO, "tar %s: %s", path, archive_error_string(w->a));
}

static const char *link_lookup(struct tar_writer *w, const struct stat *st, const char *path)
{
	for (size_t i = 0; i < w->n_links; i++)
		if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
			return w->links[i].name;
	w->links = xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
	w->links[w->n_links++] = (struct link_seen){st->st_dev, st->st_ino, xstrdup(path)};
	return NULL;
}

/* The file's data, exactly st_size bytes: a file that grew is cut, one that
 * shrank is padded with zeros (the stream stays a valid tar). */
static int tw_data(struct tar_writer *w, int fd, const struct stat *st, const char *path,
		   struct scow_error **err)
{
	char buf[BUF_SIZE];
	off_t left = st->st_size;
	while (left > 0) {
		size_t want = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read %s", path);
		if (n == 0) {
			log_warn("%s shrank while it was copied; padded with zeros", path);
			memset(buf, 0, want);
			n = (ssize_t)want;
		}
		if (archive_write_data(w->a, buf, (size_t)n) < 0)
			return tw_error(w, path, err);
		left -= n;
	}
	return 0;
}

/* Opens dfd/name for reading, only if it is still what was stat'ed: it is
 * opened as a path first and checked, so a fifo or device node swapped in
 * meanwhile is never opened (a device of the host's, made by a container
 * with CAP_MKNOD, would be readable by us). */
static int open_checked(int dfd, const char *name, const struct stat *st, const char *path,
			struct scow_error **err)
{
	_cleanup_close_ int p = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (p < 0 || fstat(p, &now) < 0)
		return error_errno(err, "open %s", path);
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
		return error_set(err, EAGAIN, "%s changed while it was copied", path);
	int fd;
	if (S_ISDIR(now.st_mode)) {
		fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p);
		fd = open(proc, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? error_errno(err, "open %s", path) : fd;
}

static int tw_entry(struct tar_writer *w, int dfd, const char *name, const char *path, int depth,
		    struct scow_error **err);

static int tw_dir(struct tar_writer *w, int dfd, const char *name, const struct stat *st,
		  const char *path, int depth, struct scow_error **err)
{
	if (depth >= MAX_DEPTH)
		return error_set(err, ELOOP, "%s: directory tree deeper than %d levels", path,
				 MAX_DEPTH);
	int fd = open_checked(dfd, name, st, path, err);
	if (fd < 0)
		return -1;
	/* /proc, /sys and such of a running container: the directory only. */
	if (fs_copy_is_kernel_fs(fd)) {
		close(fd);
		return 0;
	}
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error_errno(err, "read %s", path);
	}
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, xstrdup(de->d_name));
	if (errno)
		return error_errno(err, "read %s", path);
	strv_sort(names);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *child = xasprintf("%s/%s", path, names[i]);
		if (tw_entry(w, dirfd(d), names[i], child, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int tw_entry(struct tar_writer *w, int dfd, const char *name, const char *path, int depth,
		    struct scow_error **err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && depth > 0)
			return 0; /* removed since its directory was listed */
		return error_errno(err, "stat %s", path);
	}
	if (S_ISSOCK(st.st_mode))
		return 0; /* meaningless without its listener; Docker leaves them out too */
	struct archive_entry *e = w->e;
	archive_entry_clear(e);
	_cleanup_free_ char *tar_name =
		S_ISDIR(st.st_mode) && !str_ends_with(path, "/") ? xasprintf("%s/", path)
								 : xstrdup(path);
	archive_entry_set_pathname(e, tar_name);
	archive_entry_set_filetype(e, st.st_mode & S_IFMT);
	archive_entry_set_perm(e, st.st_mode & 07777);
	archive_entry_set_uid(e, st.st_uid);
	archive_entry_set_gid(e, st.st_gid);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	_cleanup_close_ int fd = -1;
	if (S_ISREG(st.st_mode)) {
		const char *first = st.st_nlink > 1 ? link_lookup(w, &st, path) : NULL;
		if (first) {
			archive_entry_set_hardlink(e, first);
			archive_entry_set_size(e, 0);
		} else {
			fd = open_checked(dfd, name, &st, path, err);
			if (fd < 0)
				return -1;
			archive_entry_set_size(e, st.st_size);
		}
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return error_errno(err, "read link %s", path);
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		archive_entry_set_rdevmajor(e, major(st.st_rdev));
		archive_entry_set_rdevminor(e, minor(st.st_rdev));
	}
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		return tw_error(w, path, err);
	if (fd >= 0)
		return tw_data(w, fd, &st, path, err);
	if (S_ISDIR(st.st_mode))
		return tw_dir(w, dfd, name, &st, path, depth, err);
	return 0;
}

int cp_tar_write(int src_dfd, const char *src_name, const char *top, int out_fd,
		 unsigned long long *ret_bytes, struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	struct tar_writer w = {.out_fd = out_fd};
	w.a = archive_write_new();
	w.e = archive_entry_new();
	int r = 0;
	if (!w.a || !w.e)
		r = error_set(err, ENOMEM, "libarchive: cannot allocate a writer");
	else if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
		 archive_write_set_bytes_per_block(w.a, 10240) != ARCHIVE_OK ||
		 archive_write_open(w.a, &w, NULL, out_write, NULL) != ARCHIVE_OK)
		r = tw_error(&w, top, err);
	if (r == 0)
		r = tw_entry(&w, src_dfd, src_name, top, 0, err);
	if (r == 0 && archive_write_close(w.a) != ARCHIVE_OK)
		r = tw_error(&w, top, err);
	if (w.a)
		archive_write_free(w.a);
	if (w.e)
		archive_entry_free(w.e);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].name);
	free(w.links);
	if (r == 0 && ret_bytes)
		*ret_bytes = w.bytes;
	return r;
}

/* ---- reading ------------------------------------------------------------- */

struct dir_time {
	char *path;
	struct timespec mtime;
};

struct tar_reader {
	int root;
	char *dir; /* the destination, relative to root ("." for "/") */
	const struct cp_untar_opts *o;
	int in_fd;
	char buf[BUF_SIZE];
	/* Directory times are set last: creating entries in them changes them. */
	struct dir_time *dirs;
	size_t n_dirs;
};

static la_ssize_t in_read(struct archive *a, void *opaque, const void **ret)
{
	struct tar_reader *t = opaque;
	for (;;) {
		ssize_t n = read(t->in_fd, t->buf, sizeof(t->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read: %s", strerror(errno));
			return -1;
		}
		*ret = t->buf;
		return n;
	}
}

static char *join(const char *dir, const char *name)
{
	return strcmp(dir, ".") == 0 ? xstrdup(name) : xasprintf("%s/%s", dir, name);
}

/* The entry's name inside the destination: Docker's filepath.Clean, and
 * nothing that climbs out ("../x", "a/../../x"). An absolute name is taken
 * relative to the destination. */
static int clean_name(const char *raw, char **ret, struct scow_error **err)
{
	if (!raw || !*raw)
		return error_set(err, EINVAL, "an entry without a name");
	if (strlen(raw) >= PATH_MAX)
		return error_set(err, ENAMETOOLONG, "an entry name of %zu bytes", strlen(raw));
	while (*raw == '/')
		raw++;
	char *name = fs_path_clean(*raw ? raw : ".");
	if (strcmp(name, "..") == 0 || str_starts_with(name, "../")) {
		free(name);
		return error_set(err, EPERM, "\"%s\" is outside of the destination", raw);
	}
	*ret = name;
	return 0;
}

/* The directory that holds name (relative to the destination), created
 * as 0755 directories where missing, as Docker does. Each part is resolved
 * from the root with CP_IN_ROOT and created by mkdirat on its parent's fd. */
static int open_parent(struct tar_reader *t, const char *name, struct scow_error **err)
{
	_cleanup_free_ char *parent_rel = xstrdup(name);
	char *slash = strrchr(parent_rel, '/');
	if (!slash)
		strcpy(parent_rel, ".");
	else
		*slash = '\0';
	_cleanup_free_ char *full = join(t->dir, parent_rel);
	int fd = fs_openat2(t->root, full, O_PATH | O_DIRECTORY, CP_IN_ROOT);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : error_errno(err, "open %s", parent_rel);
	_cleanup_close_ int cur = fs_openat2(t->root, t->dir, O_PATH | O_DIRECTORY, CP_IN_ROOT);
	if (cur < 0)
		return error_errno(err, "open the destination");
	_cleanup_strv_ char **parts = strv_split(parent_rel, '/');
	_cleanup_free_ char *sofar = xstrdup(t->dir);
	for (size_t i = 0; parts[i]; i++) {
		char *next = join(sofar, parts[i]);
		free(sofar);
		sofar = next;
		if (mkdirat(cur, parts[i], 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create %s", parts[i]);
		int nfd = fs_openat2(t->root, sofar, O_PATH | O_DIRECTORY, CP_IN_ROOT);
		if (nfd < 0)
			return error_errno(err, "open %s", parts[i]);
		close(cur);
		cur = nfd;
	}
	return steal_fd(&cur);
}

/* The owner to give: the tar's (-a), the container's root, or (uid_t)-1
 * for "leave as created". */
static int owner_of(struct archive_entry *ae, const struct cp_untar_opts *o, uid_t *uid,
		    gid_t *gid, struct scow_error **err)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (o->keep_owner) {
		la_int64_t u = archive_entry_uid(ae), g = archive_entry_gid(ae);
		/* (uid_t)-1 would mean "leave as is"; larger ids must not wrap. */
		if (u < 0 || u > 4294967294LL || g < 0 || g > 4294967294LL)
			return error_set(err, ERANGE, "uid/gid %lld:%lld out of range", (long long)u,
					 (long long)g);
		*uid = (uid_t)u;
		*gid = (gid_t)g;
	} else if (o->chown) {
		*uid = o->uid;
		*gid = o->gid;
	}
	return 0;
}

/* Owner, then mode (chown clears set-id bits), then times. fd may be an
 * O_PATH fd (devices, fifos): then through its /proc/self/fd link. */
static int apply_meta(int fd, bool opath, struct archive_entry *ae, const struct cp_untar_opts *o,
		      bool times, struct scow_error **err)
{
	uid_t uid;
	gid_t gid;
	if (owner_of(ae, o, &uid, &gid, err) < 0)
		return -1;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	mode_t mode = archive_entry_perm(ae) & 07777;
	if (uid != (uid_t)-1 && (opath ? chown(p, uid, gid) : fchown(fd, uid, gid)) < 0)
		return error_errno(err, "chown");
	if ((opath ? chmod(p, mode) : fchmod(fd, mode)) < 0)
		return error_errno(err, "chmod");
	if (times) {
		struct timespec ts[2] = {{archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)},
					 {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)}};
		if ((opath ? utimensat(AT_FDCWD, p, ts, 0) : futimens(fd, ts)) < 0)
			return error_errno(err, "set times");
	}
	return 0;
}

static int write_data(struct archive *a, int fd, la_int64_t size, struct scow_error **err)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return error_set(err, EIO, "read the tar stream: %s", archive_error_string(a));
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return error_errno(err, "write");
			p += n, off += n, len -= (size_t)n;
		}
	}
	/* Sparse entries may end in a hole. */
	if (size > 0 && ftruncate(fd, size) < 0)
		return error_errno(err, "write");
	return 0;
}

static int make_file(struct tar_reader *t, struct archive *a, struct archive_entry *ae, int pfd,
		     const char *base, struct scow_error **err)
{
	_cleanup_close_ int fd =
		openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno(err, "create");
	if (write_data(a, fd, archive_entry_size(ae), err) < 0)
		return -1;
	return apply_meta(fd, false, ae, t->o, true, err);
}

static int make_dir(struct tar_reader *t, struct archive_entry *ae, int pfd, const char *base,
		    const char *full, bool exists, struct scow_error **err)
{
	if (!exists && mkdirat(pfd, base, 0700) < 0)
		return error_errno(err, "create");
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open");
	if (apply_meta(fd, false, ae, t->o, false, err) < 0)
		return -1;
	t->dirs = xrealloc(t->dirs, (t->n_dirs + 1) * sizeof(*t->dirs));
	t->dirs[t->n_dirs++] = (struct dir_time){
		xstrdup(full), {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)}};
	return 0;
}

static int make_symlink(struct tar_reader *t, struct archive_entry *ae, int pfd, const char *base,
			struct scow_error **err)
{
	const char *target = archive_entry_symlink(ae);
	if (symlinkat(target ? target : "", pfd, base) < 0)
		return error_errno(err, "create link");
	uid_t uid;
	gid_t gid;
	if (owner_of(ae, t->o, &uid, &gid, err) < 0)
		return -1;
	if (uid != (uid_t)-1 && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "chown");
	struct timespec ts[2] = {{archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)},
				 {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)}};
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* A hardlink's target is a name inside the destination (Docker: "invalid
 * hardlink" otherwise), resolved in the root without following its last
 * component, and linked by fd. */
static int make_hardlink(struct tar_reader *t, const char *target, int pfd, const char *base,
			 struct scow_error **err)
{
	_cleanup_free_ char *name = NULL;
	if (clean_name(target, &name, err) < 0)
		return error_wrap(err, "invalid hardlink");
	_cleanup_free_ char *full = join(t->dir, name);
	_cleanup_close_ int fd = fs_openat2(t->root, full, O_PATH | O_NOFOLLOW, CP_IN_ROOT);
	if (fd < 0)
		return error_errno(err, "hardlink to %s", target);
	if (linkat(fd, "", pfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	/* Without CAP_DAC_READ_SEARCH: the same through the fd's link. */
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, p, pfd, base, AT_SYMLINK_FOLLOW) < 0)
		return error_errno(err, "hardlink to %s", target);
	return 0;
}

static int make_node(struct tar_reader *t, struct archive_entry *ae, mode_t type, int pfd,
		     const char *base, struct scow_error **err)
{
	dev_t dev = makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
	if (mknodat(pfd, base, type | 0600, type == S_IFIFO ? 0 : dev) < 0)
		return error_errno(err, "create");
	_cleanup_close_ int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_errno(err, "open");
	if ((st.st_mode & S_IFMT) != type)
		return error_set(err, EAGAIN, "changed while it was created");
	return apply_meta(fd, true, ae, t->o, true, err);
}

/* An existing entry is replaced, except that a directory is merged into
 * by a directory, and neither replaces the other (Docker's
 * NoOverwriteDirNonDir, which cp uses). */
static int make_room(int pfd, const char *base, const char *name, bool want_dir, bool *ret_exists,
		     struct scow_error **err)
{
	struct stat cur;
	*ret_exists = fstatat(pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*ret_exists)
		return 0;
	if (S_ISDIR(cur.st_mode) && !want_dir)
		return error_set(err, EISDIR, "cannot overwrite directory \"%s\" with non-directory",
				 name);
	if (!S_ISDIR(cur.st_mode) && want_dir)
		return error_set(err, ENOTDIR,
				 "cannot overwrite non-directory \"%s\" with directory", name);
	if (!want_dir && unlinkat(pfd, base, 0) < 0)
		return error_errno(err, "replace");
	return 0;
}

static int extract_entry(struct tar_reader *t, struct archive *a, struct archive_entry *ae,
			 const char *name, struct scow_error **err)
{
	const char *hardlink = archive_entry_hardlink(ae);
	mode_t type = hardlink ? S_IFREG : archive_entry_filetype(ae);
	bool want_dir = type == S_IFDIR;
	if (strcmp(name, ".") == 0)
		return want_dir ? 0 : error_set(err, EISDIR, "cannot overwrite the destination "
							     "directory with a non-directory");
	if (type == S_IFSOCK)
		return 0;
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	_cleanup_close_ int pfd = open_parent(t, name, err);
	if (pfd < 0)
		return -1;
	bool exists;
	if (make_room(pfd, base, name, want_dir, &exists, err) < 0)
		return -1;
	if (hardlink)
		return make_hardlink(t, hardlink, pfd, base, err);
	switch (type) {
	case S_IFREG:
		return make_file(t, a, ae, pfd, base, err);
	case S_IFDIR: {
		_cleanup_free_ char *full = join(t->dir, name);
		return make_dir(t, ae, pfd, base, full, exists, err);
	}
	case S_IFLNK:
		return make_symlink(t, ae, pfd, base, err);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		return make_node(t, ae, type, pfd, base, err);
	default:
		return error_set(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
	}
}

static void set_dir_times(struct tar_reader *t)
{
	for (size_t i = t->n_dirs; i-- > 0;) {
		_cleanup_close_ int fd = fs_openat2(t->root, t->dirs[i].path,
						    O_RDONLY | O_DIRECTORY | O_NOFOLLOW, CP_IN_ROOT);
		struct timespec ts[2] = {t->dirs[i].mtime, t->dirs[i].mtime};
		if (fd >= 0)
			futimens(fd, ts);
		free(t->dirs[i].path);
	}
	free(t->dirs);
}

int cp_tar_extract(int root_fd, const char *dir, int in_fd, const struct cp_untar_opts *o,
		   struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	_cleanup_free_ char *clean = fs_path_clean(dir);
	const char *rel = clean;
	while (*rel == '/')
		rel++;
	struct tar_reader *t = xcalloc(1, sizeof(*t));
	t->root = root_fd;
	t->dir = xstrdup(*rel ? rel : ".");
	t->o = o;
	t->in_fd = in_fd;
	struct archive *a = archive_read_new();
	int r = 0;
	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(a) != ARCHIVE_OK ||
	    archive_read_open(a, t, NULL, in_read, NULL) != ARCHIVE_OK)
		r = error_set(err, EINVAL, "read the tar stream: %s",
			      a ? archive_error_string(a) : "libarchive");
	while (r == 0) {
		struct archive_entry *ae;
		int h = archive_read_next_header(a, &ae);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = error_set(err, EINVAL, "read the tar stream: %s", archive_error_string(a));
			break;
		}
		_cleanup_free_ char *name = NULL;
		r = clean_name(archive_entry_pathname(ae), &name, err);
		if (r == 0)
			r = extract_entry(t, a, ae, name, err);
		if (r < 0 && archive_entry_pathname(ae))
			error_wrap(err, "tar entry \"%s\"", archive_entry_pathname(ae));
	}
	set_dir_times(t);
	if (a)
		archive_read_free(a);
	free(t->dir);
	free(t);
	return r;
}
