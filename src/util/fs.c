#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_read_fd(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
	       struct scow_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", what);
	if (!S_ISREG(st.st_mode))
		return error_set(err, EINVAL, "%s: not a regular file", what);
	if ((size_t)st.st_size > max)
		return error_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
	size_t cap = (size_t)st.st_size + 1, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > max)
				return error_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "read %s", what);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* A short read of a regular file is its end (our files are
		 * replaced by rename, never grown in place): saves a read. */
		if (len < cap)
			break;
	}
	if (len > max)
		return error_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
	buf[len] = '\0';
	*ret = steal_ptr(&buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int fs_read_stream(const char *path, size_t max, char **ret, size_t *ret_len,
		   struct scow_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return error_set(err, EISDIR, "%s: is a directory", path);
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sb_release(&sb);
			return error_errno(err, "read %s", path);
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			sb_release(&sb);
			return error_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
		}
		sb_appendn(&sb, chunk, (size_t)n);
	}
	if (ret_len)
		*ret_len = sb.len;
	*ret = sb_steal(&sb);
	return 0;
}

int fs_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
	       struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_errno(err, "open %s", name);
	return fs_read_fd(fd, name, max, ret, ret_len, err);
}

int fs_fsync_dir(int dirfd)
{
	return fsync(dirfd);
}

int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct scow_error **err)
{
	char rnd[17];
	fs_random_hex(rnd, 8);
	_cleanup_free_ char *tmp = xasprintf(".%s.tmp-%s", name, rnd);
	_cleanup_close_ int fd =
		openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return error_errno(err, "create %s", tmp);
	if (fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error_errno(err, "write %s", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		error_errno(err, "rename %s", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (fs_fsync_dir(dirfd) < 0)
		return error_errno(err, "fsync directory of %s", name);
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct scow_error **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		if (errno != EEXIST)
			return error_errno(err, "mkdir %s", p);
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return error_set(err, ENOTDIR, "%s: not a directory", p);
	}
	return 0;
}

int fs_open_dir_at(int dirfd, const char *name, bool create, mode_t mode, struct scow_error **err)
{
	if (create && mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return error_errno(err, "mkdir %s", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_errno(err, "open %s", name);
	return fd;
}

bool fs_exists_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* rm -rf without recursion and with a constant number of open fds, so a
 * hostile 5000-deep tree can be removed as easily as a flat one. Each level
 * keeps only the names of its subdirectories still to visit; we climb back
 * with "..", which is always the real parent (mount points are refused). */
struct rm_frame {
	char *name;	/* this directory's name in its parent */
	char **subdirs; /* still to remove */
	size_t next;
};

static void rm_frame_release(struct rm_frame *f)
{
	free(f->name);
	strv_free(f->subdirs);
}

/* Removes every non-directory in fd, lists the directories. */
static int rm_scan(int fd, dev_t dev, const char *what, char ***ret_subdirs,
		   struct scow_error **err)
{
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dupfd < 0)
		return error_errno(err, "dup");
	_cleanup_closedir_ DIR *d = fdopendir(dupfd);
	if (!d) {
		close(dupfd);
		return error_errno(err, "opendir %s", what);
	}
	char **subdirs = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (unlinkat(fd, n, 0) < 0 && errno != ENOENT) {
				strv_free(subdirs);
				return error_errno(err, "remove %s/%s", what, n);
			}
			continue;
		}
		struct stat st;
		if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			unlinkat(fd, n, 0);
			continue;
		}
		if (st.st_dev != dev) {
			strv_free(subdirs);
			return error_set(err, EBUSY, "remove %s/%s: a file system is mounted there",
					 what, n);
		}
		/* A directory without write or search permission (overlay's
		 * work/work is 0000) cannot be emptied otherwise. */
		if ((st.st_mode & 0700) != 0700 && fchmodat(fd, n, 0700, 0) < 0)
			log_debug("chmod %s/%s: %m", what, n); /* the open below says why */
		strv_push(&subdirs, xstrdup(n));
	}
	if (errno) {
		strv_free(subdirs);
		return error_errno(err, "readdir %s", what);
	}
	*ret_subdirs = subdirs;
	return 0;
}

static int rm_tree(int dirfd, const char *name, dev_t dev, struct scow_error **err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open %s", name);
	struct rm_frame *stack = NULL;
	size_t depth = 0, cap = 0;
	int ret = 0;
	void *p = stack;
	xgrow(&p, &cap, 1, sizeof(*stack));
	stack = p;
	stack[depth++] = (struct rm_frame){.name = xstrdup(name)};
	if (rm_scan(fd, dev, name, &stack[0].subdirs, err) < 0) {
		ret = -1;
		depth = 0;
	}
	while (depth > 0) {
		struct rm_frame *top = &stack[depth - 1];
		if (top->subdirs[top->next]) {
			const char *child = top->subdirs[top->next++];
			int cfd = openat(fd, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				if (errno == ENOENT)
					continue;
				ret = error_errno(err, "open %s", child);
				break;
			}
			close(fd);
			fd = cfd;
			p = stack;
			xgrow(&p, &cap, depth + 1, sizeof(*stack));
			stack = p;
			stack[depth] = (struct rm_frame){.name = xstrdup(child)};
			if (rm_scan(fd, dev, child, &stack[depth].subdirs, err) < 0) {
				rm_frame_release(&stack[depth]);
				ret = -1;
				break;
			}
			depth++;
			continue;
		}
		/* Empty now: climb to the parent and remove it there. */
		int parent = depth > 1 ? openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				       : openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0) {
			ret = error_errno(err, "open parent of %s", top->name);
			break;
		}
		close(fd);
		fd = parent;
		if (unlinkat(fd, top->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			ret = error_errno(err, "remove %s", top->name);
			break;
		}
		rm_frame_release(top);
		depth--;
	}
	for (size_t i = 0; i < depth; i++)
		rm_frame_release(&stack[i]);
	free(stack);
	close(fd);
	return ret;
}

int fs_rm_rf_at(int dirfd, const char *name, struct scow_error **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : error_errno(err, "stat %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return error_errno(err, "remove %s", name);
		return 0;
	}
	if ((st.st_mode & 0700) != 0700 && fchmodat(dirfd, name, 0700, 0) < 0)
		log_debug("chmod %s: %m", name); /* the open below says why */
	return rm_tree(dirfd, name, st.st_dev, err);
}

char *fs_path_clean(const char *path)
{
	bool abs = path[0] == '/';
	_cleanup_strv_ char **parts = strv_split(path, '/');
	char **out = xcalloc(strv_len(parts) + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; parts[i]; i++) {
		const char *c = parts[i];
		if (!*c || strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (n > 0 && strcmp(out[n - 1], "..") != 0)
				n--;
			else if (!abs)
				out[n++] = (char *)c;
			continue;
		}
		out[n++] = (char *)c;
	}
	struct strbuf sb = STRBUF_INIT;
	if (abs)
		sb_appendc(&sb, '/');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_appendc(&sb, '/');
		sb_append(&sb, out[i]);
	}
	free(out);
	if (sb.len == 0)
		sb_appendc(&sb, '.');
	return sb_steal(&sb);
}

int fs_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve};
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if ((errno != EAGAIN && errno != EINTR) || tries >= 16)
			return -1;
	}
}

void fs_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];
	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	size_t got = 0;
	while (got < nbytes) {
		ssize_t n = getrandom(buf + got, nbytes - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		got += (size_t)n;
	}
	str_hex(buf, nbytes, out);
}

static uint64_t tree_size(int dfd, const char *name, int depth)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || depth > 256)
		return fd < 0 ? 0 : (close(fd), 0);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += tree_size(fd, de->d_name, depth + 1);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

uint64_t fs_tree_size_at(int dirfd, const char *name)
{
	return tree_size(dirfd, name, 0);
}

void fs_close_fds_except(const int *keep, size_t n)
{
	int sorted[16];
	size_t m = 0;
	for (size_t i = 0; i < n && m < ARRAY_SIZE(sorted); i++)
		if (keep[i] > 2)
			sorted[m++] = keep[i];
	for (size_t i = 1; i < m; i++)
		for (size_t k = i; k > 0 && sorted[k - 1] > sorted[k]; k--) {
			int t = sorted[k];
			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	unsigned from = 3;
	for (size_t i = 0; i <= m; i++) {
		unsigned to = i < m ? (unsigned)sorted[i] : ~0U; /* close [from, to) */
		if (to > from && syscall(SYS_close_range, from, to - 1, 0) < 0)
			for (unsigned fd = from; fd < to && fd < 65536; fd++)
				close((int)fd);
		if (i < m && to + 1 > from)
			from = to + 1;
	}
}
