/* A build context that comes as a stream (`build -` with a tar on stdin,
 * a URL): spooled to a temporary file, decompressed if it is, and when it
 * is a tar extracted by the layer extraction (layers_extract: names,
 * symlinks, hard links, bombs checked as for a pulled layer) into a
 * directory of its own. Anything else is a Dockerfile (Docker's rule).
 *
 * The directory's lock (contexts/ctx-<rnd>.lock) is held while it is in
 * use; a directory whose lock is free was left by a killed build and is
 * removed by the next one that looks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "layers/extract.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/lock.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define CHUNK (256u * 1024)
#define DOCKERFILE_MAX (16u << 20)

static int spool(int in, int out, struct scow_error **err)
{
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	for (;;) {
		ssize_t n = read(in, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read the context");
		if (n == 0)
			return 0;
		if (fs_write_all(out, buf, (size_t)n) < 0)
			return error_errno(err, "spool the context");
	}
}

struct reader {
	int fd;
	unsigned char *buf;
};

static ssize_t read_fn(void *opaque, const void **ret, struct scow_error **err)
{
	struct reader *r = opaque;
	for (;;) {
		ssize_t n = read(r->fd, r->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read the context");
		*ret = r->buf;
		return n;
	}
}

/* Removes directories of killed builds (their lock is free). */
static void sweep(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!str_starts_with(de->d_name, "ctx-") || str_ends_with(de->d_name, ".lock"))
			continue;
		_cleanup_free_ char *lk = xasprintf("%s.lock", de->d_name);
		_cleanup_error_ struct scow_error *e = NULL;
		int l = lock_acquire(dfd, lk, LOCK_MODE_EXCLUSIVE, true, &e);
		if (l < 0)
			continue;
		if (fs_rm_rf_at(dfd, de->d_name, &e) == 0)
			lock_unlink_release(dfd, lk, l);
		else
			lock_release(l);
	}
	closedir(d);
}

static int extract(struct bx *b, int tar_fd, char **ret_dir, int *ret_lock,
		   struct scow_error **err)
{
	_cleanup_close_ int cdir = fs_open_dir_at(b->cache_fd, "contexts", true, 0700, err);
	if (cdir < 0)
		return -1;
	sweep(cdir);
	char rnd[17];
	fs_random_hex(rnd, 8);
	_cleanup_free_ char *name = xasprintf("ctx-%s", rnd);
	_cleanup_free_ char *lk = xasprintf("%s.lock", name);
	int lock = lock_acquire(cdir, lk, LOCK_MODE_EXCLUSIVE, false, err);
	if (lock < 0)
		return -1;
	_cleanup_close_ int root = fs_open_dir_at(cdir, name, true, 0700, err);
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	struct reader r = {tar_fd, buf};
	if (root < 0 || lseek(tar_fd, 0, SEEK_SET) < 0 ||
	    layers_extract(root, read_fn, &r, NULL, NULL, err) < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		fs_rm_rf_at(cdir, name, &e);
		lock_unlink_release(cdir, lk, lock);
		return error_wrap(err, "unpack the build context");
	}
	*ret_dir = xasprintf("%s/contexts/%s", b->cache_path, name);
	*ret_lock = lock;
	return 0;
}

int build_stream_context(const char *root, int fd, char **ret_dir, int *ret_lock,
			 char **ret_dockerfile, size_t *ret_len, struct scow_error **err)
{
	struct build_opts o = {.root = root};
	struct bx b = {.o = &o, .cache_fd = -1};
	b.cache_path = xasprintf("%s/build-cache", root);
	int r = fs_mkdir_p(b.cache_path, 0700, err);
	if (r == 0 && (b.cache_fd = open(b.cache_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = error_errno(err, "open %s", b.cache_path);
	_cleanup_close_ int spooled = r < 0 ? -1 : bx_tmpfile(&b, err);
	_cleanup_close_ int plain = -1;
	*ret_dir = NULL;
	*ret_lock = -1;
	int is_tar = -1;
	if (spooled >= 0 && spool(fd, spooled, err) == 0 &&
	    (plain = bx_plain_fd(&b, spooled, err)) >= 0)
		is_tar = bx_archive_probe(&b, plain, err);
	if (is_tar < 0) {
		r = -1;
	} else if (is_tar) {
		r = extract(&b, plain, ret_dir, ret_lock, err);
	} else {
		/* A Dockerfile (what was sent, not decompressed) */
		r = lseek(spooled, 0, SEEK_SET) < 0 ? error_errno(err, "seek") : 0;
		if (r == 0)
			r = fs_read_fd(spooled, "the Dockerfile", DOCKERFILE_MAX, ret_dockerfile,
				       ret_len, err);
	}
	closep(&b.cache_fd);
	free(b.cache_path);
	return r;
}

void build_context_remove(const char *root, const char *dir, int lock)
{
	if (!dir)
		return;
	_cleanup_free_ char *cpath = xasprintf("%s/build-cache/contexts", root);
	_cleanup_close_ int cdir = open(cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	_cleanup_error_ struct scow_error *e = NULL;
	if (cdir >= 0 && fs_rm_rf_at(cdir, name, &e) == 0) {
		_cleanup_free_ char *lk = xasprintf("%s.lock", name);
		lock_unlink_release(cdir, lk, lock);
		return;
	}
	lock_release(lock);
}
