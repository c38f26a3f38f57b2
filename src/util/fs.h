/* File-system helpers. Every function that takes a dirfd resolves names
 * relative to it and never follows a symlink in the last component. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

int fs_write_all(int fd, const void *buf, size_t len);
/* Reads the whole file; fails with EFBIG if it is larger than max bytes.
 * The result is NUL-terminated (not counted in *ret_len). */
int fs_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
	       struct scow_error **err);
/* The same for an open fd (regular files only); what names it in errors. */
int fs_read_fd(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
	       struct scow_error **err);
/* Reads any file (pipes, /dev/null, process substitution) up to max bytes;
 * more is EFBIG. NUL-terminated. */
int fs_read_stream(const char *path, size_t max, char **ret, size_t *ret_len,
		   struct scow_error **err);
/* write temp + fsync + rename + fsync(dir): readers see the old or the new
 * content, never a torn one, even across a crash. */
int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct scow_error **err);
int fs_fsync_dir(int dirfd);
/* mkdir -p; existing directories are fine, the last one gets mode. */
int fs_mkdir_p(const char *path, mode_t mode, struct scow_error **err);
/* Opens (creating if needed) a directory below dirfd, O_DIRECTORY|O_CLOEXEC. */
int fs_open_dir_at(int dirfd, const char *name, bool create, mode_t mode, struct scow_error **err);
/* rm -rf of dirfd/name. Never follows symlinks and never descends into
 * another file system (a forgotten mount point fails with EBUSY instead of
 * having the mounted content deleted). Missing is not an error. */
int fs_rm_rf_at(int dirfd, const char *name, struct scow_error **err);
bool fs_exists_at(int dirfd, const char *name);
/* openat2(2) (no glibc wrapper yet), retried on EAGAIN (a rename raced a
 * RESOLVE_IN_ROOT walk). O_CLOEXEC is always added. */
int fs_openat2(int dirfd, const char *path, int flags, unsigned long long resolve);
/* Lexical clean-up of a path like Go's filepath.Clean: "//a/./b/../c/"
 * -> "/a/c". ".." never climbs above "/" for absolute paths. */
char *fs_path_clean(const char *path);
/* Random lower-case hex string of 2*nbytes chars (getrandom). */
void fs_random_hex(char *out, size_t nbytes);
/* Total size of the regular files under dirfd/name (symlinks not
 * followed), as Docker counts a container's or a volume's size. */
uint64_t fs_tree_size_at(int dirfd, const char *name);
/* Closes every fd above 2 except those in keep (up to 16; negative
 * entries ignored): what a process inherited and must not pass on. */
void fs_close_fds_except(const int *keep, size_t n);
