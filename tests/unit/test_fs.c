/* fs helpers: atomic writes, bounded reads, rm -rf of hostile trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fscopy.h"
#include "util/json.h"

static char *make_tmp(void)
{
	char *t = strdup("/tmp/scow-unit-fs.XXXXXX");
	assert_non_null(mkdtemp(t));
	return t;
}

static void test_atomic_write_and_read(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = make_tmp();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(fs_write_atomic_at(dfd, "f", "one", 3, 0600, NULL), 0);
	assert_int_equal(fs_write_atomic_at(dfd, "f", "second", 6, 0600, NULL), 0);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	assert_int_equal(fs_read_at(dfd, "f", 100, &buf, &len, NULL), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "second");
	/* no temporary file left next to it */
	_cleanup_closedir_ DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	assert_int_equal(n, 1);
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ char *big = NULL;
	assert_int_equal(fs_read_at(dfd, "f", 5, &big, &len, &err), -1);
	assert_int_equal(err->errnum, EFBIG);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static void test_json_save_load(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = make_tmp();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	_cleanup_json_ json_t *j = json_pack("{si ss}", "a", 1, "b", "x");
	assert_int_equal(json_save_at(dfd, "s.json", j, NULL), 0);
	_cleanup_json_ json_t *back = json_load_at(dfd, "s.json", 1024, NULL);
	assert_true(json_equal(j, back));
	/* a torn file is an error with the file's name, not a crash */
	assert_int_equal(fs_write_atomic_at(dfd, "bad.json", "{\"a\":", 5, 0600, NULL), 0);
	_cleanup_error_ struct scow_error *err = NULL;
	assert_null(json_load_at(dfd, "bad.json", 1024, &err));
	assert_non_null(strstr(err->msg, "bad.json"));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static void test_rm_rf_deep_with_few_fds(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = make_tmp();
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(mkdirat(fd, "a", 0755), 0);
		int next = openat(fd, "a", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		/* files, a symlink out, and an unreadable directory on the way */
		close(openat(fd, "f", O_CREAT | O_WRONLY, 0600));
		assert_int_equal(symlinkat("/etc", fd, "escape"), 0);
		if (i % 500 == 0)
			mkdirat(fd, "locked", 0);
		close(fd);
		fd = next;
	}
	close(fd);
	struct rlimit old, low = {64, 64};
	getrlimit(RLIMIT_NOFILE, &old);
	setrlimit(RLIMIT_NOFILE, &low);
	_cleanup_error_ struct scow_error *err = NULL;
	int r = fs_rm_rf_at(AT_FDCWD, dir, &err);
	setrlimit(RLIMIT_NOFILE, &old);
	if (r < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

static void test_rm_rf_missing_and_file(void **state)
{
	(void)state;
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, "/tmp/scow-unit-does-not-exist", NULL), 0);
	_cleanup_free_ char *dir = make_tmp();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	close(openat(dfd, "file", O_CREAT | O_WRONLY, 0600));
	assert_int_equal(fs_rm_rf_at(dfd, "file", NULL), 0);
	assert_false(fs_exists_at(dfd, "file"));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

/* A hostile source tree: symlinks to the outside are copied as symlinks,
 * a symlink planted in the destination is replaced, never written
 * through; modes survive; type conflicts are refused. */
static void test_copy_never_follows_symlinks(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = make_tmp();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(mkdirat(dfd, "src", 0755), 0);
	assert_int_equal(mkdirat(dfd, "src/sub", 0750), 0);
	assert_int_equal(mkdirat(dfd, "dst", 0755), 0);
	assert_int_equal(mkdirat(dfd, "outside", 0755), 0);
	_cleanup_close_ int f = openat(dfd, "src/sub/file", O_CREAT | O_WRONLY, 04711);
	assert_true(f >= 0 && write(f, "data", 4) == 4);
	assert_int_equal(fchmod(f, 04711), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, "src/abs"), 0);
	assert_int_equal(symlinkat("../outside", dfd, "src/sub/up"), 0);
	assert_int_equal(mkfifoat(dfd, "src/fifo", 0640), 0);
	/* planted in the destination: writing "abs" through it would hit outside/victim */
	assert_int_equal(symlinkat("../outside/victim", dfd, "dst/abs"), 0);

	_cleanup_close_ int src = openat(dfd, "src", O_RDONLY | O_DIRECTORY);
	_cleanup_close_ int dst = openat(dfd, "dst", O_RDONLY | O_DIRECTORY);
	const struct fs_copy how = {.flags = FS_COPY_OWNER | FS_COPY_TIMES};
	assert_int_equal(fs_copy_contents(src, dst, &how, NULL), 0);

	char buf[64];
	ssize_t n = readlinkat(dfd, "dst/abs", buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "/etc/passwd");
	assert_false(fs_exists_at(dfd, "outside/victim"));
	n = readlinkat(dfd, "dst/sub/up", buf, sizeof(buf) - 1);
	assert_true(n > 0);
	struct stat st;
	assert_int_equal(fstatat(dfd, "dst/sub/file", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 04711);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(fstatat(dfd, "dst/sub", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(fstatat(dfd, "dst/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_true(fs_dir_is_empty(openat(dfd, "outside", O_RDONLY | O_DIRECTORY)));

	/* a file over a directory and a directory over a file are refused */
	struct scow_error *e = NULL;
	assert_int_equal(fs_copy_at(dfd, "src/sub/file", dfd, "dst/sub", &how, &e), -1);
	assert_int_equal(e->errnum, EISDIR);
	error_freep(&e);
	assert_int_equal(fs_copy_at(dfd, "src/sub", dfd, "dst/sub/file", &how, &e), -1);
	assert_int_equal(e->errnum, ENOTDIR);
	error_freep(&e);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write_and_read),
		cmocka_unit_test(test_json_save_load),
		cmocka_unit_test(test_rm_rf_deep_with_few_fds),
		cmocka_unit_test(test_rm_rf_missing_and_file),
		cmocka_unit_test(test_copy_never_follows_symlinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
