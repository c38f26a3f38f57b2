#include "util/fscopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* Deeper trees are refused rather than risking running out of fds (each
 * level holds two). */
#define MAX_DEPTH 256

static int copy_at(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
		   const struct fs_copy *how, int depth, struct scow_error **err);

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

bool fs_copy_is_kernel_fs(int fd)
{
	static const unsigned long kernel[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC,	    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
		DEVPTS_SUPER_MAGIC, MQUEUE_MAGIC,   SECURITYFS_MAGIC,	DEBUGFS_MAGIC,
		TRACEFS_MAGIC,	  BPF_FS_MAGIC,	    BINFMTFS_MAGIC,	PSTOREFS_MAGIC,
		EFIVARFS_MAGIC,	  NSFS_MAGIC,
	};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return false;
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
		if ((unsigned long)sf.f_type == kernel[i])
			return true;
	return false;
}

bool fs_dir_is_empty(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return true;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return true;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return false;
	return true;
}

static void owner_of(const struct stat *st, const struct fs_copy *how, uid_t *uid, gid_t *gid)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (how->flags & FS_COPY_OWNER)
		*uid = st->st_uid, *gid = st->st_gid;
	if (how->chown_to)
		*uid = how->uid, *gid = how->gid;
}

/* Owner, then mode (chown clears set-id bits), then times. */
static int finish_fd(int fd, const struct stat *st, const struct fs_copy *how, const char *what,
		     struct scow_error **err)
{
	uid_t uid;
	gid_t gid;
	owner_of(st, how, &uid, &gid);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		return error_errno(err, "chown %s", what);
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return error_errno(err, "chmod %s", what);
	if (how->flags & FS_COPY_TIMES) {
		struct timespec t[2] = {st->st_atim, st->st_mtim};
		if (futimens(fd, t) < 0)
			return error_errno(err, "set times of %s", what);
	}
	return 0;
}

static int copy_data(int in, int out, const char *what, struct scow_error **err)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
			return error_errno(err, "copy %s", what);
		break;
	}
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read %s", what);
		if (n == 0)
			return 0;
		if (fs_write_all(out, buf, (size_t)n) < 0)
			return error_errno(err, "write %s", what);
	}
}

/* See FS_COPY_SAME_FILE. */
static int open_source(int src_dfd, const char *src_name, const struct stat *st,
		       const struct fs_copy *how, struct scow_error **err)
{
	if (!(how->flags & FS_COPY_SAME_FILE)) {
		int fd = openat(src_dfd, src_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? error_errno(err, "open %s", src_name) : fd;
	}
	_cleanup_close_ int path = openat(src_dfd, src_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (path < 0 || fstat(path, &now) < 0)
		return error_errno(err, "open %s", src_name);
	if (!S_ISREG(now.st_mode) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return error_set(err, EAGAIN, "%s changed while it was copied", src_name);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path);
	int fd = open(proc, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? error_errno(err, "open %s", src_name) : fd;
}

static int copy_file(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
		     const struct stat *st, const struct fs_copy *how, struct scow_error **err)
{
	_cleanup_close_ int in = open_source(src_dfd, src_name, st, how, err);
	if (in < 0)
		return -1;
	_cleanup_close_ int out =
		openat(dst_dfd, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return error_errno(err, "create %s", dst_name);
	if (copy_data(in, out, src_name, err) < 0)
		return -1;
	return finish_fd(out, st, how, dst_name, err);
}

static int copy_symlink(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
			const struct stat *st, const struct fs_copy *how, struct scow_error **err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(src_dfd, src_name, target, sizeof(target) - 1);
	if (n < 0)
		return error_errno(err, "read link %s", src_name);
	target[n] = '\0';
	if (symlinkat(target, dst_dfd, dst_name) < 0)
		return error_errno(err, "create link %s", dst_name);
	uid_t uid;
	gid_t gid;
	owner_of(st, how, &uid, &gid);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(dst_dfd, dst_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "chown %s", dst_name);
	if (how->flags & FS_COPY_TIMES) {
		struct timespec t[2] = {st->st_atim, st->st_mtim};
		utimensat(dst_dfd, dst_name, t, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

static int copy_special(int dst_dfd, const char *dst_name, const struct stat *st,
			const struct fs_copy *how, struct scow_error **err)
{
	if (S_ISSOCK(st->st_mode))
		return 0; /* a socket is meaningless without its listener */
	if (mknodat(dst_dfd, dst_name, st->st_mode & (S_IFMT | 0777), st->st_rdev) < 0)
		return error_errno(err, "create %s", dst_name);
	_cleanup_close_ int fd = openat(dst_dfd, dst_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open %s", dst_name);
	/* fchown/fchmod refuse O_PATH fds: go through the fd's /proc link. */
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	uid_t uid;
	gid_t gid;
	owner_of(st, how, &uid, &gid);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(p, uid, gid) < 0)
		return error_errno(err, "chown %s", dst_name);
	if (chmod(p, st->st_mode & 07777) < 0)
		return error_errno(err, "chmod %s", dst_name);
	return 0;
}

static int copy_contents(int src_dir, int dst_dir, const struct fs_copy *how, int depth,
			 struct scow_error **err)
{
	int fd = openat(src_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open directory");
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error_errno(err, "read directory");
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (copy_at(dirfd(d), de->d_name, dst_dir, de->d_name, how, depth, err) < 0)
			return error_wrap(err, "%s", de->d_name);
		errno = 0;
	}
	if (errno)
		return error_errno(err, "read directory");
	return 0;
}

static int copy_dir(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
		    const struct stat *st, bool exists, const struct fs_copy *how, int depth,
		    struct scow_error **err)
{
	if (depth >= MAX_DEPTH)
		return error_set(err, ELOOP, "directory tree deeper than %d levels", MAX_DEPTH);
	if (!exists && mkdirat(dst_dfd, dst_name, 0700) < 0)
		return error_errno(err, "create %s", dst_name);
	_cleanup_close_ int in =
		openat(src_dfd, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return error_errno(err, "open %s", src_name);
	_cleanup_close_ int out =
		openat(dst_dfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		return error_errno(err, "open %s", dst_name);
	bool skip = (how->flags & FS_COPY_SKIP_KERNEL_FS) && fs_copy_is_kernel_fs(in);
	if (!skip && copy_contents(in, out, how, depth + 1, err) < 0)
		return -1;
	/* A directory merged into keeps its own owner and mode. */
	return exists ? 0 : finish_fd(out, st, how, dst_name, err);
}

static int copy_at(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
		   const struct fs_copy *how, int depth, struct scow_error **err)
{
	struct stat st, dst;
	if (fstatat(src_dfd, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "stat %s", src_name);
	bool exists = fstatat(dst_dfd, dst_name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && S_ISDIR(dst.st_mode) != S_ISDIR(st.st_mode))
		return S_ISDIR(dst.st_mode)
			       ? error_set(err, EISDIR, "cannot overwrite directory %s with "
							"non-directory",
					   dst_name)
			       : error_set(err, ENOTDIR, "cannot overwrite non-directory %s with "
							 "directory",
					   dst_name);
	if (exists && !S_ISDIR(dst.st_mode) && unlinkat(dst_dfd, dst_name, 0) < 0)
		return error_errno(err, "replace %s", dst_name);
	if (S_ISDIR(st.st_mode))
		return copy_dir(src_dfd, src_name, dst_dfd, dst_name, &st, exists, how, depth, err);
	if (S_ISREG(st.st_mode))
		return copy_file(src_dfd, src_name, dst_dfd, dst_name, &st, how, err);
	if (S_ISLNK(st.st_mode))
		return copy_symlink(src_dfd, src_name, dst_dfd, dst_name, &st, how, err);
	return copy_special(dst_dfd, dst_name, &st, how, err);
}

int fs_copy_at(int src_dfd, const char *src_name, int dst_dfd, const char *dst_name,
	       const struct fs_copy *how, struct scow_error **err)
{
	return copy_at(src_dfd, src_name, dst_dfd, dst_name, how, 0, err);
}

int fs_copy_contents(int src_dir, int dst_dir, const struct fs_copy *how,
		     struct scow_error **err)
{
	return copy_contents(src_dir, dst_dir, how, 0, err);
}
