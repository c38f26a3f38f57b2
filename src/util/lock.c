#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int lock_acquire(int dirfd, const char *name, enum lock_mode mode, bool nonblock,
		 struct scow_error **err)
{
	for (;;) {
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return error_errno(err, "open lock %s", name);
		int op = (mode == LOCK_MODE_SHARED ? LOCK_SH : LOCK_EX) | (nonblock ? LOCK_NB : 0);
		int r;
		while ((r = flock(fd, op)) < 0 && errno == EINTR)
			;
		if (r < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return -2;
			errno = e;
			return error_errno(err, "lock %s", name);
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd); /* unlinked by its previous holder: lock the new one */
	}
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

void lock_unlink_release(int dirfd, const char *name, int fd)
{
	if (fd < 0)
		return;
	unlinkat(dirfd, name, 0);
	close(fd);
}
