/* Tests of layers_extract(): hostile tars are built in memory with
 * libarchive's writer and extracted into a fresh directory ("root") made
 * inside another fresh directory ("outer"); every test then checks the
 * result with fstatat/readlinkat and that nothing appeared next to root.
 * SECURITY.md "Layer extraction" cases 1-8 and 10. Tests that need root
 * (chown, device nodes, trusted.* xattrs) check geteuid() and otherwise take
 * the rootless path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layers/extract.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MTIME 1234567890

/* --- tar builder --------------------------------------------------------- */

struct tb {
	struct archive *a;
	char *buf;
	size_t len, cap;
	bool discard; /* drop what the writer still produces */
};

static la_ssize_t tb_write_cb(struct archive *a, void *opaque, const void *buf, size_t n)
{
	(void)a;
	struct tb *t = opaque;
	if (t->discard)
		return (la_ssize_t)n;
	xgrow((void **)&t->buf, &t->cap, t->len + n + 1, 1);
	memcpy(t->buf + t->len, buf, n);
	t->len += n;
	return (la_ssize_t)n;
}

static void tb_init(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	assert_non_null(t->a);
	assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_per_block(t->a, 0), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, t, NULL, tb_write_cb, NULL), ARCHIVE_OK);
}

static struct archive_entry *ent(const char *name, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, MTIME, 0);
	return e;
}

/* Adds e (consumed) with data for a regular file. */
static void tb_add(struct tb *t, struct archive_entry *e, const void *data, size_t len)
{
	if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
	    !archive_entry_size_is_set(e))
		archive_entry_set_size(e, (la_int64_t)len);
	int r = archive_write_header(t->a, e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		fail_msg("archive_write_header %s: %s", archive_entry_pathname(e),
			 archive_error_string(t->a));
	if (len)
		assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static void tb_file(struct tb *t, const char *name, mode_t perm, const char *data)
{
	tb_add(t, ent(name, AE_IFREG, perm), data, strlen(data));
}

static void tb_dir(struct tb *t, const char *name, mode_t perm)
{
	tb_add(t, ent(name, AE_IFDIR, perm), NULL, 0);
}

static void tb_symlink(struct tb *t, const char *name, const char *target)
{
	struct archive_entry *e = ent(name, AE_IFLNK, 0777);
	archive_entry_set_symlink(e, target);
	tb_add(t, e, NULL, 0);
}

static void tb_hardlink(struct tb *t, const char *name, const char *target)
{
	struct archive_entry *e = ent(name, AE_IFREG, 0644);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	tb_add(t, e, NULL, 0);
}

static void tb_node(struct tb *t, const char *name, mode_t type, mode_t perm, unsigned maj,
		    unsigned min)
{
	struct archive_entry *e = ent(name, type, perm);
	archive_entry_set_rdevmajor(e, maj);
	archive_entry_set_rdevminor(e, min);
	tb_add(t, e, NULL, 0);
}

/* Closes the writer (end-of-archive marker) and keeps the bytes in t. */
static void tb_close(struct tb *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

static void tb_release(struct tb *t)
{
	if (t->a)
		archive_write_free(t->a);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* --- reader -------------------------------------------------------------- */

struct memsrc {
	const char *buf;
	size_t len, pos, chunk;
	bool eof;
	size_t fail_at; /* fail once pos reaches this (0: never) */
};

static ssize_t mem_read(void *opaque, const void **ret_buf, struct scow_error **err)
{
	struct memsrc *m = opaque;
	if (m->fail_at && m->pos >= m->fail_at)
		return error_set(err, EPROTO, "test read failure at %zu", m->pos);
	size_t n = m->len - m->pos;
	if (n > m->chunk)
		n = m->chunk;
	if (m->fail_at && m->pos + n > m->fail_at)
		n = m->fail_at - m->pos;
	if (n == 0) {
		m->eof = true;
		return 0;
	}
	*ret_buf = m->buf + m->pos;
	m->pos += n;
	return (ssize_t)n;
}

/* --- fixture ------------------------------------------------------------- */

struct fx {
	char outer[64];
	char root[96];
	int root_fd;
	size_t chunk;
	struct layers_extract_opts opts;
	struct layers_extract_stats stats;
	struct scow_error *err;
	struct memsrc src;
};

static bool is_root(void)
{
	return geteuid() == 0;
}

/* openat2 is what keeps every path inside the layer. Valgrind 3.19 (Debian
 * 12) does not know the system call and fails it with ENOSYS: under it only
 * the tests that never resolve a parent directory run. */
static bool have_openat2;

static void need_openat2(void)
{
	if (!have_openat2) {
		print_message("(openat2 unavailable here: skipped)\n");
		skip();
	}
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	snprintf(fx->outer, sizeof(fx->outer), "%s/scow-extract.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(fx->outer))
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->outer);
	if (mkdir(fx->root, 0700) < 0)
		return -1;
	fx->root_fd = open(fx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->root_fd < 0)
		return -1;
	fx->chunk = 7777; /* odd, so that headers straddle reads */
	fx->opts.rootless = !is_root();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	close(fx->root_fd);
	error_free(fx->err);
	struct scow_error *err = NULL;
	int r = fs_rm_rf_at(AT_FDCWD, fx->outer, &err);
	if (r < 0) {
		fprintf(stderr, "cleanup %s: %s\n", fx->outer, err->msg);
		error_free(err);
	}
	free(fx);
	return r;
}

static int extract_buf(struct fx *fx, const char *buf, size_t len)
{
	error_freep(&fx->err);
	memset(&fx->stats, 0, sizeof(fx->stats));
	fx->src = (struct memsrc){.buf = buf, .len = len, .chunk = fx->chunk};
	return layers_extract(fx->root_fd, mem_read, &fx->src, &fx->opts, &fx->stats, &fx->err);
}

static int extract_tb(struct fx *fx, struct tb *t)
{
	tb_close(t);
	int r = extract_buf(fx, t->buf, t->len);
	if (r < 0)
		print_message("(extract: %s)\n", fx->err->msg);
	return r;
}

/* Expects failure with errnum and a message naming the entry. */
static void expect_fail(struct fx *fx, struct tb *t, int errnum, const char *entry)
{
	tb_close(t);
	int r = extract_buf(fx, t->buf, t->len);
	if (r == 0)
		fail_msg("extraction succeeded, expected an error about \"%s\"", entry);
	assert_non_null(fx->err);
	if (errnum)
		assert_int_equal(fx->err->errnum, errnum);
	if (entry) {
		/* A prefix: directory names come back with a trailing "/". */
		_cleanup_free_ char *want = xasprintf("layer entry \"%s", entry);
		if (!strstr(fx->err->msg, want))
			fail_msg("error \"%s\" does not name %s", fx->err->msg, want);
	}
}

/* outer must hold root and the listed names only. */
static void assert_outer_clean(struct fx *fx, const char *const *allowed)
{
	_cleanup_closedir_ DIR *d = opendir(fx->outer);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "root"))
			continue;
		bool ok = false;
		for (size_t i = 0; allowed && allowed[i]; i++)
			ok |= strcmp(de->d_name, allowed[i]) == 0;
		if (!ok)
			fail_msg("\"%s\" appeared outside the layer, in %s", de->d_name, fx->outer);
	}
}

static bool root_is_empty(struct fx *fx)
{
	_cleanup_closedir_ DIR *d = opendir(fx->root);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return false;
	return true;
}

/* lstat of a path below root; the test only passes paths whose directories
 * it knows are real directories. */
static bool lstat_in(struct fx *fx, const char *path, struct stat *st)
{
	return fstatat(fx->root_fd, path, st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void assert_type(struct fx *fx, const char *path, mode_t type)
{
	struct stat st;
	if (!lstat_in(fx, path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & S_IFMT) != type)
		fail_msg("%s: type 0%o, expected 0%o", path, st.st_mode & S_IFMT, type);
}

static void assert_absent(struct fx *fx, const char *path)
{
	struct stat st;
	if (lstat_in(fx, path, &st))
		fail_msg("%s exists", path);
	assert_int_equal(errno, ENOENT);
}

static void assert_content(struct fx *fx, const char *path, const char *want)
{
	char *data = NULL;
	size_t len = 0;
	struct scow_error *err = NULL;
	if (fs_read_at(fx->root_fd, path, 1 << 20, &data, &len, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(data, want);
	free(data);
}

static void assert_symlink(struct fx *fx, const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(fx->root_fd, path, buf, sizeof(buf) - 1);
	if (n < 0)
		fail_msg("readlink %s: %s", path, strerror(errno));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static mode_t perm_of(struct fx *fx, const char *path)
{
	struct stat st;
	if (!lstat_in(fx, path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* fx->outer without its leading "/": where an absolute symlink to it leads
 * inside the layer. */
static const char *outer_rel(struct fx *fx)
{
	return fx->outer + 1;
}

static char *outer_up(struct fx *fx)
{
	return xasprintf("../../../../../../../../../../../../../../..%s", fx->outer);
}

static const char *opaque_xattr(struct fx *fx)
{
	const char *p = fx->opts.overlay_xattr_prefix;
	if (!p)
		p = fx->opts.rootless ? "user" : "trusted";
	return str_eq(p, "user") ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

static bool has_opaque(struct fx *fx, const char *path)
{
	_cleanup_free_ char *full = xasprintf("%s/%s", fx->root, path);
	char v[8];
	ssize_t n = lgetxattr(full, opaque_xattr(fx), v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* --- basics -------------------------------------------------------------- */

static void test_basic_tree(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct tb t;
	tb_init(&t);
	tb_dir(&t, "./", 0755);
	tb_dir(&t, "./etc/", 0750);
	tb_file(&t, "./etc/hostname", 0644, "scow\n");
	tb_file(&t, "etc//./motd", 0600, "hi");
	tb_symlink(&t, "etc/localtime", "/usr/share/zoneinfo/UTC");
	tb_dir(&t, "usr/", 0755);
	tb_file(&t, "usr/bin/tool", 0755, "#!/bin/sh\n"); /* parent not in the tar */
	tb_file(&t, "etc/late", 0644, "back");		/* a parent seen before */
	tb_file(&t, "/abs", 0644, "abs");
	tb_hardlink(&t, "usr/bin/tool2", "usr/bin/tool");
	tb_file(&t, "empty", 0644, "");
	tb_node(&t, "fifo", AE_IFIFO, 0640, 0, 0);
	/* Replacements: file -> dir, dir -> file, symlink -> file. */
	tb_file(&t, "x", 0644, "file");
	tb_dir(&t, "x/", 0711);
	tb_file(&t, "x/in", 0644, "in");
	tb_dir(&t, "y/", 0755);
	tb_file(&t, "y/in", 0644, "in");
	tb_file(&t, "y", 0644, "now a file");
	tb_symlink(&t, "z", "x");
	tb_file(&t, "z", 0644, "z");
	tb_file(&t, "dup", 0644, "first");
	tb_file(&t, "dup", 0644, "second");
	assert_int_equal(extract_tb(fx, &t), 0);

	assert_int_equal(fx->stats.entries, 22);
	assert_int_equal(fx->stats.bytes,
			 strlen("scow\nhi#!/bin/sh\nbackabsfileinin") + strlen("now a file") + 1 +
				 strlen("firstsecond"));
	assert_type(fx, "etc", S_IFDIR);
	assert_int_equal(perm_of(fx, "etc"), 0750);
	assert_content(fx, "etc/hostname", "scow\n");
	assert_int_equal(perm_of(fx, "etc/hostname"), 0644);
	assert_content(fx, "etc/motd", "hi");
	assert_int_equal(perm_of(fx, "etc/motd"), 0600);
	assert_symlink(fx, "etc/localtime", "/usr/share/zoneinfo/UTC");
	assert_content(fx, "usr/bin/tool", "#!/bin/sh\n");
	assert_int_equal(perm_of(fx, "usr/bin/tool"), 0755);
	assert_int_equal(perm_of(fx, "usr/bin"), 0755); /* implicit parent */
	assert_content(fx, "etc/late", "back");
	assert_content(fx, "abs", "abs");
	assert_content(fx, "empty", "");
	assert_type(fx, "fifo", S_IFIFO);
	assert_int_equal(perm_of(fx, "fifo"), 0640);
	struct stat a, b;
	assert_true(lstat_in(fx, "usr/bin/tool", &a) && lstat_in(fx, "usr/bin/tool2", &b));
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	assert_type(fx, "x", S_IFDIR);
	assert_int_equal(perm_of(fx, "x"), 0711);
	assert_content(fx, "x/in", "in");
	assert_content(fx, "y", "now a file");
	assert_content(fx, "z", "z");
	assert_content(fx, "dup", "second");

	/* mtimes, directories' restored after their content was written. */
	const char *timed[] = {"etc", "etc/hostname", "etc/localtime", "usr", "x", "fifo", "."};
	for (size_t i = 0; i < ARRAY_SIZE(timed); i++) {
		struct stat st;
		assert_true(lstat_in(fx, timed[i], &st));
		if (st.st_mtim.tv_sec != MTIME)
			fail_msg("%s: mtime %lld", timed[i], (long long)st.st_mtim.tv_sec);
	}
	assert_int_equal(perm_of(fx, "."), 0755); /* "./" applies to the root */
	assert_outer_clean(fx, NULL);
	tb_release(&t);
}

static void test_owner_and_chunking(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	fx->chunk = 1; /* libarchive has to reassemble every header */
	struct tb t;
	tb_init(&t);
	struct archive_entry *e = ent("owned", AE_IFREG, 0640);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 2000);
	tb_add(&t, e, "x", 1);
	e = ent("odir/", AE_IFDIR, 0750);
	archive_entry_set_uid(e, 1001);
	archive_entry_set_gid(e, 2001);
	tb_add(&t, e, NULL, 0);
	e = ent("olink", AE_IFLNK, 0777);
	archive_entry_set_symlink(e, "owned");
	archive_entry_set_uid(e, 1002);
	archive_entry_set_gid(e, 2002);
	tb_add(&t, e, NULL, 0);
	assert_int_equal(extract_tb(fx, &t), 0);
	assert_true(fx->src.eof);
	assert_content(fx, "owned", "x");
	if (!is_root()) {
		tb_release(&t);
		skip();
	}
	struct stat st;
	assert_true(lstat_in(fx, "owned", &st));
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 2000);
	assert_true(lstat_in(fx, "odir", &st));
	assert_int_equal(st.st_uid, 1001);
	assert_int_equal(st.st_gid, 2001);
	assert_true(lstat_in(fx, "olink", &st));
	assert_int_equal(st.st_uid, 1002);
	assert_int_equal(st.st_gid, 2002);
	tb_release(&t);

	/* In a setgid directory a new file takes the directory's group: a
	 * 0:0 file must still be chowned, also when the root is setgid. */
	tb_init(&t);
	e = ent("./", AE_IFDIR, 02755);
	archive_entry_set_gid(e, 43);
	tb_add(&t, e, NULL, 0);
	tb_file(&t, "top", 0644, "t");
	e = ent("sg/", AE_IFDIR, 02775);
	archive_entry_set_gid(e, 42);
	tb_add(&t, e, NULL, 0);
	tb_file(&t, "sg/f", 0644, "f");
	e = ent("sg/g42", AE_IFREG, 0644);
	archive_entry_set_gid(e, 42);
	tb_add(&t, e, "g", 1);
	assert_int_equal(extract_tb(fx, &t), 0);
	assert_true(lstat_in(fx, "top", &st));
	assert_int_equal(st.st_gid, 0);
	assert_true(lstat_in(fx, "sg/f", &st));
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	assert_true(lstat_in(fx, "sg/g42", &st));
	assert_int_equal(st.st_gid, 42);
	assert_true(lstat_in(fx, ".", &st));
	assert_int_equal(st.st_gid, 43);
	assert_int_equal(st.st_mode & 07777, 02755);
	tb_release(&t);
}

/* --- case 1: names ------------------------------------------------------- */

static void test_names_dotdot_refused(void **state)
{
	struct fx *fx = *state;
	const char *bad[] = {"../x", "a/../../x", "../../../../../../../../tmp/scow-x", "..", "a/..",
			     "./../x", "a/b/../../../x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tb t;
		tb_init(&t);
		tb_file(&t, "ok-before", 0644, "x");
		tb_file(&t, bad[i], 0644, "escaped");
		expect_fail(fx, &t, EPERM, bad[i]);
		assert_non_null(strstr(fx->err->msg, "\"..\""));
		tb_release(&t);
		/* As a symlink, directory and hardlink name too. */
		tb_init(&t);
		tb_symlink(&t, bad[i], "/");
		expect_fail(fx, &t, EPERM, bad[i]);
		tb_release(&t);
		tb_init(&t);
		tb_dir(&t, bad[i], 0755);
		expect_fail(fx, &t, EPERM, bad[i]);
		tb_release(&t);
		assert_outer_clean(fx, NULL);
	}
	assert_absent(fx, "x");
	need_openat2();
	/* Absolute names land inside. */
	struct tb t;
	tb_init(&t);
	tb_file(&t, "/abs", 0644, "a");
	tb_file(&t, "//abs2//.//f", 0644, "b");
	assert_int_equal(extract_tb(fx, &t), 0);
	assert_content(fx, "abs", "a");
	assert_content(fx, "abs2/f", "b");
	assert_outer_clean(fx, NULL);
	tb_release(&t);
	/* A non-directory whose name is the root itself. */
	tb_init(&t);
	tb_symlink(&t, "./", "/elsewhere");
	expect_fail(fx, &t, EINVAL, "./");
	tb_release(&t);
}

/* --- case 2: symlinks ---------------------------------------------------- */

static void test_symlink_absolute(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct tb t;
	tb_init(&t);
	tb_symlink(&t, "esc", fx->outer);
	tb_file(&t, "esc/pwned", 0644, "inside");
	tb_dir(&t, "esc/newdir/", 0777);
	tb_file(&t, "esc/newdir/f", 0644, "deep");
	tb_symlink(&t, "hostetc", "/etc");
	tb_file(&t, "hostetc/scow-test-extract-pwned", 0644, "inside");
	tb_symlink(&t, "slash", "/");
	_cleanup_free_ char *via_slash = xasprintf("slash%s/pwned2", fx->outer);
	tb_file(&t, via_slash, 0644, "inside");
	assert_int_equal(extract_tb(fx, &t), 0);

	assert_outer_clean(fx, NULL);
	struct stat st;
	if (stat("/etc/scow-test-extract-pwned", &st) == 0) {
		unlink("/etc/scow-test-extract-pwned");
		fail_msg("a file was written to the host's /etc");
	}
	_cleanup_free_ char *p1 = xasprintf("%s/pwned", outer_rel(fx));
	_cleanup_free_ char *p2 = xasprintf("%s/newdir/f", outer_rel(fx));
	_cleanup_free_ char *p3 = xasprintf("%s/pwned2", outer_rel(fx));
	assert_content(fx, p1, "inside");
	assert_content(fx, p2, "deep");
	assert_content(fx, p3, "inside");
	assert_content(fx, "etc/scow-test-extract-pwned", "inside");
	assert_symlink(fx, "esc", fx->outer);
	tb_release(&t);

	/* "etc -> /etc" is a loop inside the layer: a clean error. */
	tb_init(&t);
	tb_symlink(&t, "etc", "/etc");
	tb_file(&t, "etc/scow-test-extract-pwned2", 0644, "loop");
	expect_fail(fx, &t, ELOOP, "etc/scow-test-extract-pwned2");
	tb_release(&t);
	if (stat("/etc/scow-test-extract-pwned2", &st) == 0) {
		unlink("/etc/scow-test-extract-pwned2");
		fail_msg("a file was written to the host's /etc");
	}
	assert_outer_clean(fx, NULL);
}

static void test_symlink_relative_and_chained(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	_cleanup_free_ char *up = outer_up(fx);
	struct tb t;
	tb_init(&t);
	tb_symlink(&t, "up", up);
	tb_file(&t, "up/pwned", 0644, "rel");
	tb_dir(&t, "sub/", 0755);
	tb_symlink(&t, "sub/up", "../../../../../../../../../../../../..");
	_cleanup_free_ char *via_sub = xasprintf("sub/up%s/pwned-sub", fx->outer);
	tb_file(&t, via_sub, 0644, "sub");
	/* a -> b -> c -> up: a chain ending outside. */
	tb_symlink(&t, "a", "b");
	tb_symlink(&t, "b", "c");
	tb_symlink(&t, "c", up);
	tb_file(&t, "a/chained", 0644, "chain");
	tb_file(&t, "a/made/on/the/way", 0644, "way");
	assert_int_equal(extract_tb(fx, &t), 0);

	assert_outer_clean(fx, NULL);
	const char *names[] = {"pwned", "pwned-sub", "chained", "made/on/the/way"};
	const char *data[] = {"rel", "sub", "chain", "way"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", outer_rel(fx), names[i]);
		assert_content(fx, p, data[i]);
	}
	tb_release(&t);
}

static void test_symlink_replaces_dir(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct stat outer_before;
	assert_int_equal(stat(fx->outer, &outer_before), 0);
	struct tb t;
	tb_init(&t);
	tb_dir(&t, "d/", 0777);
	tb_file(&t, "d/f", 0644, "old");
	tb_symlink(&t, "d", fx->outer); /* the cached parent "d" goes away */
	tb_file(&t, "d/pwned", 0644, "new");
	/* A directory entry later replaced by a symlink: its deferred mtime
	 * and mode must not land on what the symlink points to. */
	tb_dir(&t, "m/", 0777);
	tb_symlink(&t, "m", fx->outer);
	/* The last component is never followed: this replaces the link. */
	_cleanup_free_ char *target = xasprintf("%s/target", fx->outer);
	tb_symlink(&t, "last", target);
	tb_file(&t, "last", 0666, "replaced");
	assert_int_equal(extract_tb(fx, &t), 0);

	assert_outer_clean(fx, NULL);
	struct stat outer_after;
	assert_int_equal(stat(fx->outer, &outer_after), 0);
	assert_int_equal(outer_after.st_mode, outer_before.st_mode);
	assert_int_equal(outer_after.st_mtim.tv_sec, outer_before.st_mtim.tv_sec);
	assert_int_equal(outer_after.st_mtim.tv_nsec, outer_before.st_mtim.tv_nsec);
	assert_symlink(fx, "d", fx->outer);
	_cleanup_free_ char *p = xasprintf("%s/pwned", outer_rel(fx));
	assert_content(fx, p, "new");
	/* Nor inside the layer: m's mtime is not put on what "m" points to. */
	struct stat st;
	assert_true(lstat_in(fx, outer_rel(fx), &st));
	assert_true(S_ISDIR(st.st_mode));
	assert_int_not_equal(st.st_mtim.tv_sec, MTIME);
	assert_type(fx, "last", S_IFREG);
	assert_content(fx, "last", "replaced");
	tb_release(&t);
}

/* --- case 3: hardlinks --------------------------------------------------- */

static void test_hardlink_refused(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct {
		const char *target;
		bool symlink_etc;
		bool symlink_real;
	} bad[] = {
		{"/etc/passwd", false, false},
		{"../../../../../../etc/passwd", false, false},
		{"a/../../etc/passwd", false, false},
		{"l/passwd", true, false}, /* l -> /etc */
		{"r/f", false, true},	   /* r -> real, inside the layer */
		{"missing", false, false},
		{"real", false, true}, /* a directory */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tb t;
		tb_init(&t);
		tb_dir(&t, "real/", 0755);
		tb_file(&t, "real/f", 0644, "f");
		if (bad[i].symlink_etc)
			tb_symlink(&t, "l", "/etc");
		if (bad[i].symlink_real)
			tb_symlink(&t, "r", "real");
		tb_hardlink(&t, "h", bad[i].target);
		expect_fail(fx, &t, 0, "h");
		assert_absent(fx, "h");
		tb_release(&t);
	}
	struct stat st;
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_outer_clean(fx, NULL);
}

static void test_hardlink_to_symlink(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	_cleanup_free_ char *host = xasprintf("%s/hostfile", fx->outer);
	int hfd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(hfd >= 0);
	assert_int_equal(write(hfd, "host", 4), 4);
	close(hfd);
	struct stat before;
	assert_int_equal(stat(host, &before), 0);

	struct tb t;
	tb_init(&t);
	tb_symlink(&t, "s", host);
	tb_hardlink(&t, "h", "s");
	tb_hardlink(&t, "h2", "h");
	tb_hardlink(&t, "h", "s"); /* again: already that inode */
	struct archive_entry *e = ent("h3", AE_IFREG, 04777);
	archive_entry_set_hardlink(e, "h");
	archive_entry_set_uid(e, 1234);
	tb_add(&t, e, NULL, 0);
	tb_dir(&t, "s/", 0777); /* replaces s; never chmods the host file */
	assert_int_equal(extract_tb(fx, &t), 0);

	const char *allowed[] = {"hostfile", NULL};
	assert_outer_clean(fx, allowed);
	struct stat after;
	assert_int_equal(stat(host, &after), 0);
	assert_int_equal(after.st_mode, before.st_mode);
	assert_int_equal(after.st_uid, before.st_uid);
	assert_int_equal(after.st_nlink, 1);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	struct stat h, h3;
	assert_true(lstat_in(fx, "h", &h) && lstat_in(fx, "h3", &h3));
	assert_true(S_ISLNK(h.st_mode));
	assert_int_equal(h.st_ino, h3.st_ino);
	assert_int_equal(h.st_nlink, 3); /* h, h2, h3; s was replaced */
	assert_symlink(fx, "h2", host);
	assert_type(fx, "s", S_IFDIR);
	tb_release(&t);
}

/* --- case 4: whiteouts --------------------------------------------------- */

static void check_whiteouts(struct fx *fx)
{
	need_openat2();
	struct tb t;
	tb_init(&t);
	tb_file(&t, "keep", 0644, "kept");
	tb_file(&t, ".wh.keep", 0644, "");
	tb_file(&t, ".wh.gone", 0644, "");
	tb_file(&t, ".wh.later", 0644, "");
	tb_file(&t, "later", 0644, "recreated");
	tb_dir(&t, "dir/", 0755);
	tb_file(&t, "dir/.wh..wh..opq", 0644, "");
	tb_file(&t, "dir/x", 0644, "x");
	tb_dir(&t, "dir2/", 0755);
	tb_file(&t, "dir2/x", 0644, "x");
	tb_file(&t, ".wh.dir2", 0644, "");
	tb_file(&t, ".wh.dir3", 0644, "");
	tb_dir(&t, "dir3/", 0755);
	tb_dir(&t, "plain/", 0755);
	tb_file(&t, "deep/er/.wh.x", 0644, ""); /* parents missing */
	tb_file(&t, ".wh..wh.plnk", 0644, "");
	tb_file(&t, ".wh..wh.plnk/123.456", 0644, "aufs");
	assert_int_equal(extract_tb(fx, &t), 0);

	assert_content(fx, "keep", "kept");
	struct stat st;
	assert_true(lstat_in(fx, "gone", &st));
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	assert_true(lstat_in(fx, "deep/er/x", &st));
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	assert_content(fx, "later", "recreated");
	assert_absent(fx, ".wh.keep");
	assert_absent(fx, ".wh.gone");
	assert_absent(fx, ".wh..wh.plnk");
	assert_true(has_opaque(fx, "dir"));
	assert_content(fx, "dir/x", "x");
	assert_absent(fx, "dir/.wh..wh..opq");
	assert_true(has_opaque(fx, "dir2"));
	assert_content(fx, "dir2/x", "x");
	assert_type(fx, "dir3", S_IFDIR);
	assert_true(has_opaque(fx, "dir3"));
	assert_false(has_opaque(fx, "plain"));
	assert_outer_clean(fx, NULL);
	tb_release(&t);
}

static void test_whiteouts(void **state)
{
	check_whiteouts(*state);
}

static void test_whiteouts_user_prefix(void **state)
{
	struct fx *fx = *state;
	fx->opts.overlay_xattr_prefix = "user";
	check_whiteouts(fx);
}

static void test_whiteouts_refused(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	const char *names[] = {".wh.", "a/.wh..", ".wh...", "a/b/.wh."};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct tb t;
		tb_init(&t);
		tb_file(&t, names[i], 0644, "");
		expect_fail(fx, &t, EPERM, names[i]);
		tb_release(&t);
	}
	/* Through symlinked parents: inside the layer and out of it, with the
	 * parent cached from an earlier entry and not. */
	const char *wh[] = {"l/.wh.x", "l/.wh..wh..opq", "o/.wh.x", "o/.wh..wh..opq",
			    "l/sub/.wh.y"};
	for (size_t i = 0; i < ARRAY_SIZE(wh); i++) {
		for (int cached = 0; cached < 2; cached++) {
			struct tb t;
			tb_init(&t);
			tb_dir(&t, "d/", 0755);
			tb_dir(&t, "d/sub/", 0755);
			tb_file(&t, "d/x", 0644, "x");
			tb_symlink(&t, "l", "d");
			tb_symlink(&t, "o", fx->outer);
			if (cached) {
				tb_file(&t, "l/cached", 0644, "c");
				tb_file(&t, "l/sub/cached", 0644, "c");
				tb_file(&t, "o/cached", 0644, "c");
			}
			tb_file(&t, wh[i], 0644, "");
			expect_fail(fx, &t, ELOOP, wh[i]);
			assert_content(fx, "d/x", "x");
			assert_false(has_opaque(fx, "d"));
			assert_absent(fx, "d/y");
			assert_outer_clean(fx, NULL);
			char v[4];
			assert_true(lgetxattr(fx->outer, opaque_xattr(fx), v, sizeof(v)) < 0);
			tb_release(&t);
		}
	}
}

/* --- case 5: devices, FIFOs, setuid -------------------------------------- */

static void add_nodes(struct tb *t)
{
	tb_dir(t, "dev/", 0755);
	tb_node(t, "dev/null", AE_IFCHR, 0666, 1, 3);
	tb_node(t, "dev/loop9", AE_IFBLK, 0660, 7, 9);
	tb_node(t, "dev/zero", AE_IFCHR, 0666, 1, 5);
	tb_node(t, "pipe", AE_IFIFO, 0620, 0, 0);
	struct archive_entry *e = ent("bin/su", AE_IFREG, 04755);
	archive_entry_set_uid(e, 0);
	tb_add(t, e, "su", 2);
	e = ent("bin/sg", AE_IFREG, 02711);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 42);
	tb_add(t, e, "sg", 2);
	e = ent("tmp/", AE_IFDIR, 01777);
	tb_add(t, e, NULL, 0);
}

static void test_devices_rootful(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	if (!is_root())
		skip();
	fx->opts.rootless = false;
	struct tb t;
	tb_init(&t);
	add_nodes(&t);
	assert_int_equal(extract_tb(fx, &t), 0);
	struct stat st;
	assert_true(lstat_in(fx, "dev/null", &st));
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_true(lstat_in(fx, "dev/loop9", &st));
	assert_true(S_ISBLK(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(7, 9));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_type(fx, "pipe", S_IFIFO);
	assert_int_equal(perm_of(fx, "pipe"), 0620);
	assert_int_equal(perm_of(fx, "bin/su"), 04755);
	assert_int_equal(perm_of(fx, "bin/sg"), 02711);
	assert_true(lstat_in(fx, "bin/sg", &st));
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 42);
	assert_int_equal(perm_of(fx, "tmp"), 01777);
	assert_outer_clean(fx, NULL);
	tb_release(&t);
}

static void test_devices_rootless(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	fx->opts.rootless = true;
	struct tb t;
	tb_init(&t);
	add_nodes(&t);
	assert_int_equal(extract_tb(fx, &t), 0);
	assert_absent(fx, "dev/null");
	assert_absent(fx, "dev/loop9");
	assert_absent(fx, "dev/zero");
	assert_type(fx, "dev", S_IFDIR);
	assert_type(fx, "pipe", S_IFIFO);
	assert_int_equal(perm_of(fx, "bin/su"), 04755);
	assert_outer_clean(fx, NULL);
	tb_release(&t);
}

/* Rootless for real: an unprivileged user (nobody) extracts. Ownership it
 * cannot set is kept as its own, devices are skipped, directories it could
 * not write are filled anyway and get their mode at the end. */
static int nobody_extract(struct fx *fx, const char *buf, size_t len)
{
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return 2;
	struct memsrc src = {.buf = buf, .len = len, .chunk = 4096};
	struct layers_extract_opts opts = {.rootless = true, .overlay_xattr_prefix = "user"};
	struct scow_error *err = NULL;
	if (layers_extract(fx->root_fd, mem_read, &src, &opts, NULL, &err) < 0) {
		fprintf(stderr, "nobody extract: %s\n", err->msg);
		return 1;
	}
	return 0;
}

static void test_rootless_unprivileged(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	if (!is_root())
		skip(); /* then every other test already ran rootless */
	assert_int_equal(fchown(fx->root_fd, 65534, 65534), 0);
	struct tb t;
	tb_init(&t);
	tb_dir(&t, "ro/", 0555);
	tb_file(&t, "ro/f", 0644, "f");
	tb_dir(&t, "ro/sub/", 0500);
	tb_file(&t, "ro/sub/g", 0400, "g");
	struct archive_entry *e = ent("rootfile", AE_IFREG, 04755);
	archive_entry_set_uid(e, 0);
	tb_add(&t, e, "r", 1);
	tb_node(&t, "null", AE_IFCHR, 0666, 1, 3);
	tb_node(&t, "pipe", AE_IFIFO, 0644, 0, 0);
	tb_file(&t, ".wh.gone", 0644, "");
	tb_dir(&t, "opq/", 0755);
	tb_file(&t, "opq/.wh..wh..opq", 0644, "");
	tb_hardlink(&t, "ro/sub/g2", "ro/sub/g");
	tb_close(&t);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nobody_extract(fx, t.buf, t.len));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(perm_of(fx, "ro"), 0555);
	assert_int_equal(perm_of(fx, "ro/sub"), 0500);
	assert_content(fx, "ro/f", "f");
	assert_content(fx, "ro/sub/g", "g");
	struct stat st, st2;
	assert_true(lstat_in(fx, "rootfile", &st));
	assert_int_equal(st.st_uid, 65534);
	assert_true(lstat_in(fx, "ro/sub/g2", &st2));
	assert_true(lstat_in(fx, "ro/sub/g", &st));
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_absent(fx, "null");
	assert_type(fx, "pipe", S_IFIFO);
	assert_true(lstat_in(fx, "gone", &st));
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	fx->opts.overlay_xattr_prefix = "user";
	assert_true(has_opaque(fx, "opq"));
	assert_outer_clean(fx, NULL);
	tb_release(&t);
}

/* --- case 6: xattrs ------------------------------------------------------ */

static void test_xattrs(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	/* cap_net_raw+ep, VFS_CAP_REVISION_2 */
	const uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
	struct tb t;
	tb_init(&t);
	struct archive_entry *e;
	if (is_root()) {
		e = ent("ping", AE_IFREG, 0755);
		archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
		tb_add(&t, e, "ping", 4);
		/* chown clears the capability: it must be set after. */
		e = ent("ping1000", AE_IFREG, 0755);
		archive_entry_set_uid(e, 1000);
		archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
		tb_add(&t, e, "ping", 4);
		e = ent("trusted", AE_IFREG, 0644);
		archive_entry_xattr_add_entry(e, "trusted.other", "v", 1);
		tb_add(&t, e, "t", 1);
	}
	e = ent("user", AE_IFREG, 0644);
	archive_entry_xattr_add_entry(e, "user.mime_type", "text/plain", 10);
	archive_entry_xattr_add_entry(e, "security.selinux", "system_u:object_r:bin_t:s0", 26);
	tb_add(&t, e, "u", 1);
	e = ent("udir/", AE_IFDIR, 0755);
	archive_entry_xattr_add_entry(e, "user.dir", "d", 1);
	tb_add(&t, e, NULL, 0);
	assert_int_equal(extract_tb(fx, &t), 0);

	char full[256], v[64];
	snprintf(full, sizeof(full), "%s/user", fx->root);
	assert_int_equal(lgetxattr(full, "user.mime_type", v, sizeof(v)), 10);
	assert_memory_equal(v, "text/plain", 10);
	assert_true(lgetxattr(full, "security.selinux", v, sizeof(v)) < 0 ||
		    memcmp(v, "system_u:object_r:bin_t", 23) != 0);
	snprintf(full, sizeof(full), "%s/udir", fx->root);
	assert_int_equal(lgetxattr(full, "user.dir", v, sizeof(v)), 1);
	if (is_root()) {
		const char *capped[] = {"ping", "ping1000"};
		for (size_t i = 0; i < ARRAY_SIZE(capped); i++) {
			uint32_t got[5];
			snprintf(full, sizeof(full), "%s/%s", fx->root, capped[i]);
			if (lgetxattr(full, "security.capability", got, sizeof(got)) !=
			    (ssize_t)sizeof(cap))
				fail_msg("%s: security.capability missing: %s", capped[i],
					 strerror(errno));
			assert_memory_equal(got, cap, sizeof(cap));
		}
		snprintf(full, sizeof(full), "%s/trusted", fx->root);
		assert_true(lgetxattr(full, "trusted.other", v, sizeof(v)) < 0);
		assert_int_equal(errno, ENODATA);
	}
	tb_release(&t);
}

static void test_xattrs_overlay_refused(void **state)
{
	struct fx *fx = *state;
	const char *names[] = {"trusted.overlay.opaque", "user.overlay.opaque",
			       "trusted.overlay.redirect", "user.overlay.metacopy"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		for (int dir = 0; dir < 2; dir++) {
			struct tb t;
			tb_init(&t);
			struct archive_entry *e =
				ent(dir ? "d/" : "f", dir ? AE_IFDIR : AE_IFREG, 0755);
			archive_entry_xattr_add_entry(e, names[i], "y", 1);
			tb_add(&t, e, NULL, 0);
			expect_fail(fx, &t, EPERM, dir ? "d/" : "f");
			assert_non_null(strstr(fx->err->msg, names[i]));
			assert_true(root_is_empty(fx));
			tb_release(&t);
		}
	}
}

/* --- case 7: bombs ------------------------------------------------------- */

/* A tar produced while it is read: memory stays bounded on both sides. */
struct gen {
	struct tb t;
	size_t pos;
	size_t next, total;
	size_t dirs;
	bool closed;
	char *chunk;
};

static ssize_t gen_read(void *opaque, const void **ret_buf, struct scow_error **err)
{
	(void)err;
	struct gen *g = opaque;
	while (g->pos == g->t.len) {
		g->t.len = g->pos = 0;
		if (g->next < g->total) {
			for (int k = 0; k < 512 && g->next < g->total; k++, g->next++) {
				char name[64];
				size_t i = g->next;
				if (i < g->dirs) {
					snprintf(name, sizeof(name), "d%zu/", i);
					tb_dir(&g->t, name, 0755);
				} else if (i < g->total / 4) {
					snprintf(name, sizeof(name), "d%zu/f%zu", i % g->dirs, i);
					tb_file(&g->t, name, 0644, "");
				} else {
					/* Repeated directory entries: more than the
					 * deferred-mtime list holds. */
					snprintf(name, sizeof(name), "d%zu/", i % g->dirs);
					tb_dir(&g->t, name, 0755);
				}
			}
		} else if (!g->closed) {
			tb_close(&g->t);
			g->closed = true;
		} else {
			return 0;
		}
	}
	size_t n = g->t.len - g->pos;
	if (n > 65536)
		n = 65536;
	*ret_buf = g->t.buf + g->pos;
	g->pos += n;
	return (ssize_t)n;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_bomb_many_entries(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct gen g = {.total = 200000, .dirs = 100};
	tb_init(&g.t);
	long before = maxrss_kb();
	int r = layers_extract(fx->root_fd, gen_read, &g, &fx->opts, &fx->stats, &fx->err);
	if (r < 0)
		fail_msg("%s", fx->err->msg);
	long grown_mb = (maxrss_kb() - before) / 1024;
	print_message("(200000 entries: max RSS grew by %ld MiB)\n", grown_mb);
	assert_int_equal(fx->stats.entries, 200000);
	if (!UNDER_ASAN && grown_mb > 64)
		fail_msg("memory grew by %ld MiB for 200000 entries", grown_mb);
	struct stat st;
	assert_true(lstat_in(fx, "d7/f107", &st));
	assert_true(lstat_in(fx, "d99", &st));
	assert_int_equal(st.st_mtim.tv_sec, MTIME);
	tb_release(&g.t);
}

static char *chain(const char *comp, size_t depth, const char *leaf)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < depth; i++) {
		sb_append(&sb, comp);
		sb_appendc(&sb, '/');
	}
	sb_append(&sb, leaf);
	return sb_steal(&sb);
}

static void test_bomb_deep_dirs(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	/* 2000 levels, each a directory entry: names stay below PATH_MAX. */
	struct tb t;
	tb_init(&t);
	for (size_t i = 1; i <= 2000; i++) {
		_cleanup_free_ char *name = chain("d", i, "");
		tb_dir(&t, name, 0755);
	}
	_cleanup_free_ char *leaf = chain("d", 2000, "leaf");
	tb_file(&t, leaf, 0644, "bottom");
	/* 2000 levels of parents created for a single entry. */
	_cleanup_free_ char *implicit = chain("i", 2000, "leaf");
	tb_file(&t, implicit, 0644, "implicit");
	assert_int_equal(extract_tb(fx, &t), 0);
	assert_content(fx, leaf, "bottom");
	assert_content(fx, implicit, "implicit");
	_cleanup_free_ char *d1999 = chain("d", 1999, "d");
	struct stat st;
	assert_true(lstat_in(fx, d1999, &st));
	assert_int_equal(st.st_mtim.tv_sec, MTIME);
	tb_release(&t);

	/* 4000 levels: refused cleanly once a name reaches PATH_MAX. */
	tb_init(&t);
	for (size_t i = 1; i <= 4000; i++) {
		_cleanup_free_ char *name = chain("e", i, "");
		tb_dir(&t, name, 0755);
	}
	tb_close(&t);
	assert_int_equal(extract_buf(fx, t.buf, t.len), -1);
	assert_int_equal(fx->err->errnum, ENAMETOOLONG);
	assert_non_null(strstr(fx->err->msg, "layer entry \"e/e/e/"));
	assert_true(strlen(fx->err->msg) < 1024);
	assert_int_equal(fx->stats.entries, 0); /* untouched on failure */
	tb_release(&t);
}

static void test_bomb_long_names(void **state)
{
	struct fx *fx = *state;
	size_t lens[] = {PATH_MAX, PATH_MAX + 1, 5000, 100000};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		_cleanup_free_ char *name = xmalloc(lens[i] + 1);
		memset(name, 'n', lens[i]);
		for (size_t k = 200; k < lens[i]; k += 201)
			name[k] = '/';
		name[lens[i]] = '\0';
		struct tb t;
		tb_init(&t);
		tb_file(&t, name, 0644, "x");
		tb_close(&t);
		assert_int_equal(extract_buf(fx, t.buf, t.len), -1);
		assert_int_equal(fx->err->errnum, ENAMETOOLONG);
		assert_non_null(strstr(fx->err->msg, "layer entry \"nnnn"));
		assert_true(strlen(fx->err->msg) < 1024);
		tb_release(&t);
	}
	/* A component longer than NAME_MAX, in a short path. */
	char comp[400];
	memset(comp, 'c', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	struct tb t;
	tb_init(&t);
	tb_file(&t, comp, 0644, "x");
	tb_close(&t);
	assert_int_equal(extract_buf(fx, t.buf, t.len), -1);
	assert_int_equal(fx->err->errnum, ENAMETOOLONG);
	tb_release(&t);
	/* A symlink whose target is longer than PATH_MAX. */
	_cleanup_free_ char *target = xmalloc(8001);
	memset(target, 't', 8000);
	target[8000] = '\0';
	tb_init(&t);
	tb_symlink(&t, "longlink", target);
	tb_close(&t);
	assert_int_equal(extract_buf(fx, t.buf, t.len), -1);
	assert_non_null(strstr(fx->err->msg, "layer entry \"longlink\""));
	tb_release(&t);
	assert_outer_clean(fx, NULL);
}

static void add_sparse(struct tb *t, const char *name, int64_t size, int64_t off2)
{
	struct archive_entry *e = ent(name, AE_IFREG, 0644);
	archive_entry_set_size(e, size);
	archive_entry_sparse_add_entry(e, 0, 512);
	if (off2 >= 0)
		archive_entry_sparse_add_entry(e, off2, 512);
	int r = archive_write_header(t->a, e);
	assert_true(r == ARCHIVE_OK || r == ARCHIVE_WARN);
	char data[512];
	memset(data, 'S', sizeof(data));
	assert_int_equal(archive_write_data(t->a, data, sizeof(data)), 512);
	archive_entry_free(e);
}

static void test_sparse(void **state)
{
	struct fx *fx = *state;
	/* A sane sparse file first: holes stay holes, data lands at offsets. */
	struct tb t;
	tb_init(&t);
	add_sparse(&t, "sparse", 64 << 20, -1);
	assert_int_equal(extract_tb(fx, &t), 0);
	struct stat st;
	assert_true(lstat_in(fx, "sparse", &st));
	assert_int_equal(st.st_size, 64 << 20);
	assert_true(st.st_blocks * 512 < (1 << 20));
	assert_int_equal(fx->stats.bytes, 64 << 20);
	tb_release(&t);

	/* 2^62 bytes: data at the start and at the end, or only a hole. */
	int64_t big = (int64_t)1 << 62;
	for (int variant = 0; variant < 2; variant++) {
		tb_init(&t);
		add_sparse(&t, "bomb", big, variant ? -1 : big - 512);
		tb_close(&t);
		long before = maxrss_kb();
		int r = extract_buf(fx, t.buf, t.len);
		assert_true(maxrss_kb() - before < 65536);
		if (r < 0) {
			print_message("(sparse 2^62: %s)\n", fx->err->msg);
			assert_true(fx->err->errnum == EFBIG || fx->err->errnum == ENOSPC);
			assert_non_null(strstr(fx->err->msg, "layer entry \"bomb\""));
		} else {
			/* A file system that takes 2^62-byte files (tmpfs):
			 * still only a few blocks. */
			assert_true(lstat_in(fx, "bomb", &st));
			assert_int_equal(st.st_size, big);
			assert_true(st.st_blocks * 512 < (1 << 20));
		}
		tb_release(&t);
	}
}

static void test_declared_size_truncated(void **state)
{
	struct fx *fx = *state;
	/* 1 GiB declared, 8 KiB present. */
	struct tb t;
	tb_init(&t);
	struct archive_entry *e = ent("huge", AE_IFREG, 0644);
	archive_entry_set_size(e, 1 << 30);
	assert_int_equal(archive_write_header(t.a, e), ARCHIVE_OK);
	char data[8192];
	memset(data, 'z', sizeof(data));
	assert_int_equal(archive_write_data(t.a, data, sizeof(data)), (la_ssize_t)sizeof(data));
	archive_entry_free(e);
	size_t len = t.len; /* before the writer pads the entry */
	assert_int_equal(extract_buf(fx, t.buf, len), -1);
	assert_non_null(strstr(fx->err->msg, "layer entry \"huge\""));
	assert_non_null(strstr(fx->err->msg, "runcated"));
	t.discard = true; /* closing pads out the declared size */
	tb_release(&t);
}

/* --- case 8: truncated and garbage streams -------------------------------- */

static void small_tar(struct tb *t)
{
	tb_init(t);
	tb_dir(t, "a/", 0755);
	char big[3000];
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tb_file(t, "a/big", 0644, big);
	tb_file(t, "a/small", 0644, "s");
	tb_close(t);
}

static void test_stream_truncated(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	small_tar(&t);
	/* Cut inside the first header, inside the data of a/big, inside the
	 * header of a/small. */
	size_t cuts[] = {100, 512 + 700, 512 * 3 + 1000, 512 * 8 + 13};
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_true(cuts[i] < t.len);
		int r = extract_buf(fx, t.buf, cuts[i]);
		if (r == 0)
			fail_msg("a stream cut at %zu bytes was accepted", cuts[i]);
		assert_non_null(fx->err);
		assert_true(fx->err->msg[0] != '\0');
	}
	tb_release(&t);
}

static void test_stream_garbage(void **state)
{
	struct fx *fx = *state;
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	assert_int_equal(extract_buf(fx, junk, sizeof(junk)), -1);
	assert_non_null(strstr(fx->err->msg, "layer tar"));
	assert_true(root_is_empty(fx));
	/* A gzip stream: never decompressed here, never handed to a program. */
	const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03,
				    0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(extract_buf(fx, (const char *)gz, sizeof(gz)), -1);

	/* Valid entries, then garbage where the next header should be. */
	struct tb t;
	tb_init(&t);
	tb_file(&t, "first", 0644, "1");
	size_t len = t.len;
	xgrow((void **)&t.buf, &t.cap, len + sizeof(junk), 1);
	memcpy(t.buf + len, junk, sizeof(junk));
	assert_int_equal(extract_buf(fx, t.buf, len + sizeof(junk)), -1);
	assert_non_null(strstr(fx->err->msg, "after 1 entries"));
	tb_release(&t);
}

static void test_stream_trailing_and_drain(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	struct tb t;
	small_tar(&t);
	/* Bytes after the end-of-archive marker are read (for the caller's
	 * digest) but not interpreted. */
	size_t len = t.len;
	xgrow((void **)&t.buf, &t.cap, len + 100000, 1);
	memset(t.buf + len, 'T', 100000);
	assert_int_equal(extract_buf(fx, t.buf, len + 100000), 0);
	assert_true(fx->src.eof);
	assert_int_equal(fx->src.pos, len + 100000);
	assert_int_equal(fx->stats.entries, 3);
	assert_int_equal(fx->stats.bytes, 3000);
	tb_release(&t);

	/* Empty stream: an empty layer. */
	assert_int_equal(extract_buf(fx, "", 0), 0);
	assert_int_equal(fx->stats.entries, 0);
	assert_true(fx->src.eof);
}

static void test_stream_read_error(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	small_tar(&t);
	size_t at[] = {1, 512 + 100, t.len - 10};
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		error_freep(&fx->err);
		fx->src = (struct memsrc){.buf = t.buf, .len = t.len, .chunk = 512, .fail_at = at[i]};
		assert_int_equal(layers_extract(fx->root_fd, mem_read, &fx->src, &fx->opts, NULL,
						&fx->err),
				 -1);
		assert_non_null(strstr(fx->err->msg, "test read failure"));
		assert_int_equal(fx->err->errnum, EPROTO);
	}
	tb_release(&t);
}

/* --- case 10: ids -------------------------------------------------------- */

static void test_ids(void **state)
{
	need_openat2();
	struct fx *fx = *state;
	const int64_t bad[] = {4294967295LL, 4294967296LL, 1LL << 40};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		for (int gid = 0; gid < 2; gid++) {
			struct tb t;
			tb_init(&t);
			struct archive_entry *e = ent("idfile", AE_IFREG, 0644);
			if (gid)
				archive_entry_set_gid(e, bad[i]);
			else
				archive_entry_set_uid(e, bad[i]);
			tb_add(&t, e, "x", 1);
			expect_fail(fx, &t, ERANGE, "idfile");
			assert_non_null(strstr(fx->err->msg, gid ? "gid" : "uid"));
			assert_absent(fx, "idfile");
			tb_release(&t);
		}
	}
	/* A negative id in a pax header: write 12345678 and patch it. */
	struct tb t;
	tb_init(&t);
	struct archive_entry *e = ent("neg", AE_IFREG, 0644);
	archive_entry_set_gid(e, 12345678);
	tb_add(&t, e, "x", 1);
	tb_close(&t);
	char *p = memmem(t.buf, t.len, "gid=12345678", 12);
	assert_non_null(p);
	memcpy(p, "gid=-2345678", 12);
	assert_int_equal(extract_buf(fx, t.buf, t.len), -1);
	assert_int_equal(fx->err->errnum, ERANGE);
	assert_absent(fx, "neg");
	tb_release(&t);

	/* 2^31 and 4294967294 are valid ids and kept exactly. */
	tb_init(&t);
	e = ent("big", AE_IFREG, 04755);
	archive_entry_set_uid(e, 2147483648LL);
	archive_entry_set_gid(e, 4294967294LL);
	tb_add(&t, e, "x", 1);
	e = ent("bigdir/", AE_IFDIR, 0755);
	archive_entry_set_uid(e, 2147483648LL);
	archive_entry_set_gid(e, 2147483649LL);
	tb_add(&t, e, NULL, 0);
	assert_int_equal(extract_tb(fx, &t), 0);
	tb_release(&t);
	if (!is_root())
		skip();
	struct stat st;
	assert_true(lstat_in(fx, "big", &st));
	assert_int_equal(st.st_uid, 2147483648U);
	assert_int_equal(st.st_gid, 4294967294U);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_true(lstat_in(fx, "bigdir", &st));
	assert_int_equal(st.st_uid, 2147483648U);
	assert_int_equal(st.st_gid, 2147483649U);
}

static void test_bad_prefix(void **state)
{
	struct fx *fx = *state;
	fx->opts.overlay_xattr_prefix = "security";
	assert_int_equal(extract_buf(fx, "", 0), -1);
	assert_int_equal(fx->err->errnum, EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
	have_openat2 = fd >= 0;
	if (fd >= 0)
		close((int)fd);

	const struct CMUnitTest tests[] = {
		T(test_bomb_many_entries),
		T(test_basic_tree),
		T(test_owner_and_chunking),
		T(test_names_dotdot_refused),
		T(test_symlink_absolute),
		T(test_symlink_relative_and_chained),
		T(test_symlink_replaces_dir),
		T(test_hardlink_refused),
		T(test_hardlink_to_symlink),
		T(test_whiteouts),
		T(test_whiteouts_user_prefix),
		T(test_whiteouts_refused),
		T(test_devices_rootful),
		T(test_devices_rootless),
		T(test_rootless_unprivileged),
		T(test_xattrs),
		T(test_xattrs_overlay_refused),
		T(test_bomb_deep_dirs),
		T(test_bomb_long_names),
		T(test_sparse),
		T(test_declared_size_truncated),
		T(test_stream_truncated),
		T(test_stream_garbage),
		T(test_stream_trailing_and_drain),
		T(test_stream_read_error),
		T(test_ids),
		T(test_bad_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
