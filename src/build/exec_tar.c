/* A layer tar written entry by entry (COPY, ADD, WORKDIR) straight into
 * the layer store's verified import (layer_import_*): libarchive's pax
 * writer, in the same form as layers_tar_create() (pax only where ustar
 * cannot hold a value, whole-second mtimes, no user or group names). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "image/archive.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define OUT_BUF (256u * 1024)
#define READ_BUF (256u * 1024)

struct btar {
	struct bx *b;
	struct archive *a;
	struct archive_entry *e;
	struct layer_import *li;
	unsigned char *out;
	size_t out_len;
	unsigned char *rbuf;
	bool stopped;		/* the import gave up: its error is the one */
	struct scow_error *err; /* the first failure */
	bool closed;
};

static int flush_out(struct btar *t)
{
	if (t->out_len && !t->stopped && layer_import_feed(t->li, t->out, t->out_len) < 0)
		t->stopped = true;
	t->out_len = 0;
	return t->stopped ? -1 : 0;
}

static la_ssize_t write_cb(struct archive *a, void *opaque, const void *buf, size_t n)
{
	struct btar *t = opaque;
	const unsigned char *p = buf;
	size_t left = n;
	while (left) {
		size_t k = OUT_BUF - t->out_len < left ? OUT_BUF - t->out_len : left;
		memcpy(t->out + t->out_len, p, k);
		t->out_len += k;
		p += k;
		left -= k;
		if (t->out_len == OUT_BUF && flush_out(t) < 0) {
			archive_set_error(a, EIO, "the layer's extraction stopped");
			return -1;
		}
	}
	return (la_ssize_t)n;
}

static int fail(struct btar *t, int errnum, const char *what)
{
	if (!t->err) {
		const char *m = archive_error_string(t->a);
		error_set(&t->err, errnum, "%s: %s", what, m ? m : strerror(errnum));
	}
	return -1;
}

int btar_open(struct bx *b, struct btar **ret, struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	struct btar *t = xcalloc(1, sizeof(*t));
	t->b = b;
	t->out = xmalloc(OUT_BUF);
	t->rbuf = xmalloc(READ_BUF);
	if (layer_import_start(b->is, &t->li, err) < 0) {
		btar_free(t);
		return -1;
	}
	t->a = archive_write_new();
	t->e = archive_entry_new();
	if (!t->a || !t->e || archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(t->a, 0) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, write_cb, NULL) != ARCHIVE_OK) {
		error_set(err, ENOMEM, "libarchive: cannot make a tar writer");
		btar_free(t);
		return -1;
	}
	*ret = t;
	return 0;
}

static time_t clamp(const struct btar *t, time_t mtime)
{
	const struct build_opts *o = t->b->o;
	return o->has_sde && mtime > o->sde ? o->sde : mtime;
}

static void start(struct btar *t, const char *path, unsigned type, mode_t mode, uid_t uid,
		  gid_t gid, time_t mtime)
{
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, path);
	archive_entry_set_filetype(t->e, type);
	archive_entry_set_perm(t->e, mode & 07777);
	archive_entry_set_uid(t->e, uid);
	archive_entry_set_gid(t->e, gid);
	archive_entry_set_mtime(t->e, clamp(t, mtime), 0);
}

static int header(struct btar *t, const char *path)
{
	if (t->err)
		return -1;
	int r = archive_write_header(t->a, t->e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return fail(t, EIO, path);
	return 0;
}

int btar_dir(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid, time_t mtime)
{
	_cleanup_free_ char *p = xasprintf("%s/", path);
	start(t, p, AE_IFDIR, mode, uid, gid, mtime);
	archive_entry_set_size(t->e, 0);
	return header(t, path);
}

int btar_data(struct btar *t, const void *buf, size_t len)
{
	if (t->err)
		return -1;
	const unsigned char *p = buf;
	while (len) {
		la_ssize_t w = archive_write_data(t->a, p, len);
		if (w <= 0)
			return fail(t, EIO, "tar data");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int btar_file_fd(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid, time_t mtime,
		 int fd, off_t size)
{
	start(t, path, AE_IFREG, mode, uid, gid, mtime);
	archive_entry_set_size(t->e, size);
	if (header(t, path) < 0)
		return -1;
	off_t left = size;
	while (left > 0) {
		size_t want = (off_t)READ_BUF < left ? READ_BUF : (size_t)left;
		ssize_t n = read(fd, t->rbuf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!t->err)
				error_set(&t->err, n < 0 ? errno : EIO, "read %s: %s", path,
					  n < 0 ? strerror(errno) : "the file shrank while being copied");
			return -1;
		}
		if (btar_data(t, t->rbuf, (size_t)n) < 0)
			return -1;
		left -= n;
	}
	return 0;
}

int btar_file_mem(struct btar *t, const char *path, mode_t mode, uid_t uid, gid_t gid,
		  time_t mtime, const void *data, size_t len)
{
	start(t, path, AE_IFREG, mode, uid, gid, mtime);
	archive_entry_set_size(t->e, (la_int64_t)len);
	if (header(t, path) < 0)
		return -1;
	return btar_data(t, data, len);
}

int btar_symlink(struct btar *t, const char *path, const char *target, uid_t uid, gid_t gid,
		 time_t mtime)
{
	start(t, path, AE_IFLNK, 0777, uid, gid, mtime);
	archive_entry_set_symlink(t->e, target);
	archive_entry_set_size(t->e, 0);
	return header(t, path);
}

int btar_hardlink(struct btar *t, const char *path, const char *target, uid_t uid, gid_t gid,
		  time_t mtime)
{
	start(t, path, AE_IFREG, 0644, uid, gid, mtime);
	archive_entry_set_hardlink(t->e, target);
	archive_entry_set_size(t->e, 0);
	return header(t, path);
}

int btar_special(struct btar *t, const char *path, const struct stat *st, uid_t uid, gid_t gid)
{
	unsigned type = S_ISFIFO(st->st_mode)  ? AE_IFIFO
			: S_ISCHR(st->st_mode) ? AE_IFCHR
			: S_ISBLK(st->st_mode) ? AE_IFBLK
					       : 0;
	if (!type)
		return 0; /* sockets are no file to copy */
	start(t, path, type, st->st_mode, uid, gid, st->st_mtim.tv_sec);
	archive_entry_set_size(t->e, 0);
	if (type != AE_IFIFO) {
		archive_entry_set_rdevmajor(t->e, major(st->st_rdev));
		archive_entry_set_rdevminor(t->e, minor(st->st_rdev));
	}
	return header(t, path);
}

int btar_header(struct btar *t, void *archive_entry)
{
	struct archive_entry *e = archive_entry;
	archive_entry_set_mtime(e, clamp(t, archive_entry_mtime(e)), 0);
	if (t->err)
		return -1;
	int r = archive_write_header(t->a, e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return fail(t, EIO, archive_entry_pathname(e));
	return 0;
}

int btar_error(struct btar *t, struct scow_error **err)
{
	if (t->stopped) {
		/* the import's own reason */
		struct layer_info li;
		if (layer_import_finish(t->li, &li, err) == 0)
			error_set(err, EIO, "the layer's extraction stopped");
		return -1;
	}
	if (t->err) {
		*err = steal_ptr(&t->err);
		return -1;
	}
	return error_set(err, EIO, "tar writer failed");
}

int btar_finish(struct btar *t, const char *parent, struct layer_info *ret, struct scow_error **err)
{
	if (t->err || t->stopped)
		return btar_error(t, err);
	t->closed = true;
	if (archive_write_close(t->a) != ARCHIVE_OK || flush_out(t) < 0) {
		fail(t, EIO, "end of the tar");
		return btar_error(t, err);
	}
	if (layer_import_finish(t->li, ret, err) < 0 ||
	    layer_import_commit(t->li, parent, ret, err) < 0)
		return -1;
	return 0;
}

void btar_free(struct btar *t)
{
	if (!t)
		return;
	if (t->e)
		archive_entry_free(t->e);
	if (t->a)
		archive_write_free(t->a);
	layer_import_free(t->li);
	error_free(t->err);
	free(t->out);
	free(t->rbuf);
	free(t);
}
