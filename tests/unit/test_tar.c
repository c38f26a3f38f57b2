/* Tests of layers_tar_create() and the tar-split recorder/replay:
 *  - round trip: a tar (built in memory with libarchive) is extracted with
 *    layers_extract(), recreated with layers_tar_create(), extracted again;
 *    both trees are compared entry by entry;
 *  - the recorded tar-split replays the original tar byte for byte (so a
 *    pulled layer keeps its diff_id), also for odd tars: trailing bytes,
 *    pax records, sparse files, data-carrying entries it cannot map;
 *  - determinism, sorted order, whiteout and opaque conversion, hardlinks,
 *    symlinks never followed, xattr filtering, deep trees, no_data sizes.
 * Tests needing root (chown, device nodes, trusted.* xattrs) check
 * geteuid() and otherwise skip. */
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
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layers/extract.h"
#include "layers/tar.h"
#include "layers/tarsplit.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define MTIME 1700000000

static bool is_root(void)
{
	return geteuid() == 0;
}

/* ---- in-memory tar builder ---------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->len + n + 1, 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static la_ssize_t tb_write_cb(struct archive *a, void *opaque, const void *p, size_t n)
{
	(void)a;
	buf_add(opaque, p, n);
	return (la_ssize_t)n;
}

struct tb {
	struct archive *a;
	struct buf out;
};

/* block: libarchive's bytes_per_block (10240 pads like GNU tar, 0 none). */
static void tb_init(struct tb *t, int block)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_per_block(t->a, block), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, &t->out, NULL, tb_write_cb, NULL), ARCHIVE_OK);
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

static void tb_close(struct tb *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

/* ---- fixture: a temporary directory with trees in it ------------------------------- */

struct fx {
	char dir[64];
	int dir_fd;
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	snprintf(fx->dir, sizeof(fx->dir), "%s/scow-tar.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(fx->dir))
		return -1;
	fx->dir_fd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = fx;
	return fx->dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	close(fx->dir_fd);
	struct scow_error *err = NULL;
	int r = fs_rm_rf_at(AT_FDCWD, fx->dir, &err);
	error_free(err);
	free(fx);
	return r;
}

static int mkdir_in(struct fx *fx, const char *name)
{
	if (mkdirat(fx->dir_fd, name, 0755) < 0)
		fail_msg("mkdir %s: %s", name, strerror(errno));
	int fd = openat(fx->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

struct memsrc {
	const char *p;
	size_t len, pos, chunk;
};

static ssize_t mem_read(void *opaque, const void **ret, struct scow_error **err)
{
	(void)err;
	struct memsrc *m = opaque;
	size_t n = m->len - m->pos < m->chunk ? m->len - m->pos : m->chunk;
	*ret = m->p + m->pos;
	m->pos += n;
	return (ssize_t)n;
}

/* Extracts buf into dir_fd; with split_fd >= 0, records its tar-split. */
static void extract(int dir_fd, const char *p, size_t len, int split_fd, bool *ret_recorded)
{
	struct memsrc m = {p, len, 0, 7777};
	struct layers_extract_opts o = {.rootless = !is_root()};
	struct layers_tarsplit *ts = split_fd >= 0 ? layers_tarsplit_new(split_fd) : NULL;
	o.tarsplit = ts;
	struct scow_error *err = NULL;
	if (layers_extract(dir_fd, mem_read, &m, &o, NULL, &err) < 0)
		fail_msg("extract: %s", err->msg);
	if (ts) {
		bool ok = layers_tarsplit_finish(ts);
		if (ret_recorded)
			*ret_recorded = ok;
		layers_tarsplit_free(ts);
	}
}

static int buf_write(void *opaque, const void *p, size_t n, struct scow_error **err)
{
	(void)err;
	buf_add(opaque, p, n);
	return 0;
}

static void create(int dir_fd, struct buf *out, bool no_data)
{
	struct layers_tar_opts o = {.no_data = no_data};
	struct layers_tar_stats st;
	struct scow_error *err = NULL;
	if (layers_tar_create(dir_fd, buf_write, out, &o, &st, &err) < 0)
		fail_msg("create: %s", err->msg);
	assert_int_equal(st.bytes, out->len);
}

static la_ssize_t arch_read(struct archive *a, void *opaque, const void **ret)
{
	(void)a;
	return mem_read(opaque, ret, NULL);
}

/* The entry names of a tar, in order, "\n"-joined; types marked:
 * "name=target" for hardlinks, "name@" for symlinks. */
static char *list_tar(const struct buf *b)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct memsrc m = {b->p, b->len, 0, 4096};
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(archive_read_open(a, &m, NULL, arch_read, NULL), ARCHIVE_OK);
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		sb_append(&sb, archive_entry_pathname(e));
		if (archive_entry_hardlink(e))
			sb_printf(&sb, "=%s", archive_entry_hardlink(e));
		else if (archive_entry_filetype(e) == AE_IFLNK)
			sb_append(&sb, "@");
		sb_append(&sb, "\n");
	}
	archive_read_free(a);
	return sb_steal(&sb);
}

/* ---- tree comparison -------------------------------------------------------------- */

static void read_all(int dfd, const char *name, struct buf *b)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	char tmp[65536];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(b, tmp, (size_t)n);
}

static void xattr_summary(int dfd, const char *name, struct strbuf *sb)
{
	_cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", dfd, name);
	char list[4096];
	ssize_t n = llistxattr(p, list, sizeof(list));
	if (n <= 0)
		return;
	char *names[64];
	size_t k = 0;
	for (char *q = list; q < list + n && k < 64; q += strlen(q) + 1)
		names[k++] = q;
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < k; i++) {
		char v[256];
		ssize_t vn = lgetxattr(p, names[i], v, sizeof(v));
		sb_printf(sb, " %s=", names[i]);
		for (ssize_t j = 0; j < vn; j++)
			sb_printf(sb, "%02x", (unsigned char)v[j]);
	}
}

/* A line per entry below dfd (sorted walk): type, mode, owner, mtime,
 * content digest / target / rdev, link count, xattrs. */
static void describe(int dfd, const char *prefix, struct strbuf *sb)
{
	int d2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(d2);
	assert_non_null(d);
	char *names[256];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && n < 256)
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		assert_int_equal(fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW), 0);
		sb_printf(sb, "%s%s %o %u:%u %ld", prefix, names[i], st.st_mode, st.st_uid, st.st_gid,
			  (long)st.st_mtim.tv_sec);
		if (S_ISREG(st.st_mode)) {
			struct buf b = {0};
			read_all(dfd, names[i], &b);
			char dg[DIGEST_STR_LEN + 1];
			sha256_digest(b.p ? b.p : "", b.len, dg);
			free(b.p);
			sb_printf(sb, " %s nlink=%lu", dg + 7, (unsigned long)st.st_nlink);
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t k = readlinkat(dfd, names[i], t, sizeof(t) - 1);
			t[k > 0 ? k : 0] = '\0';
			sb_printf(sb, " -> %s", t);
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			sb_printf(sb, " %u:%u", major(st.st_rdev), minor(st.st_rdev));
		}
		xattr_summary(dfd, names[i], sb);
		sb_append(sb, "\n");
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub =
				openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_free_ char *p = xasprintf("%s%s/", prefix, names[i]);
			describe(sub, p, sb);
		}
		free(names[i]);
	}
}

static void assert_same_tree(int a, int b)
{
	struct strbuf sa = STRBUF_INIT, sbb = STRBUF_INIT;
	describe(a, "", &sa);
	describe(b, "", &sbb);
	if (strcmp(sb_str(&sa), sb_str(&sbb)) != 0)
		fail_msg("trees differ:\n--- first\n%s--- second\n%s", sb_str(&sa), sb_str(&sbb));
	sb_release(&sa);
	sb_release(&sbb);
}

/* ---- tests ------------------------------------------------------------------------- */

/* A tar with a bit of everything an image layer has (and entries out of
 * order, as real tars often are). */
static void build_rich(struct tb *t, int block)
{
	tb_init(t, block);
	tb_dir(t, "usr/", 0755);
	tb_dir(t, "usr/bin/", 0755);
	tb_file(t, "usr/bin/tool", 0755, "#!/bin/sh\necho tool\n");
	tb_dir(t, "etc/", 0755);
	tb_file(t, "etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n");
	tb_symlink(t, "bin", "usr/bin");
	tb_symlink(t, "etc/abs", "/etc/passwd");
	tb_file(t, "etc/suid", 04755, "suid\n");
	tb_dir(t, "tmp/", 01777);
	tb_file(t, "etc/hl-a", 0644, "hardlinked\n");
	tb_hardlink(t, "etc/hl-b", "etc/hl-a");
	tb_file(t, "empty", 0600, "");
	char big[70000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	tb_add(t, ent("usr/big", AE_IFREG, 0644), big, sizeof(big));
	_cleanup_free_ char *longname = xasprintf("usr/%0150d", 7);
	tb_file(t, longname, 0644, "long\n");
	struct archive_entry *e = ent("usr/cap", AE_IFREG, 0755);
	static const char cap[20] = {1, 0, 0, 2, 0, 0x20};
	archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	archive_entry_xattr_add_entry(e, "user.note", "hi", 2);
	tb_add(t, e, "cap\n", 4);
	struct archive_entry *o = ent("etc/owned", AE_IFREG, 0640);
	archive_entry_set_uid(o, 1234);
	archive_entry_set_gid(o, 5678);
	tb_add(t, o, "owned\n", 6);
	tb_close(t);
}

static void test_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	build_rich(&t, 10240);
	_cleanup_close_ int a = mkdir_in(fx, "a");
	_cleanup_close_ int b = mkdir_in(fx, "b");
	extract(a, t.out.p, t.out.len, -1, NULL);
	struct buf tar1 = {0}, tar2 = {0}, sized = {0};
	create(a, &tar1, false);
	extract(b, tar1.p, tar1.len, -1, NULL);
	assert_same_tree(a, b);
	/* deterministic: the same tree gives the same bytes, from either copy */
	create(b, &tar2, false);
	assert_int_equal(tar1.len, tar2.len);
	assert_memory_equal(tar1.p, tar2.p, tar1.len);
	/* no_data: the same length without reading contents */
	create(a, &sized, true);
	assert_int_equal(sized.len, tar1.len);
	free(tar1.p);
	free(tar2.p);
	free(sized.p);
	free(t.out.p);
}

static void test_order_and_names(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	build_rich(&t, 0);
	_cleanup_close_ int a = mkdir_in(fx, "a");
	extract(a, t.out.p, t.out.len, -1, NULL);
	struct buf out = {0};
	create(a, &out, false);
	_cleanup_free_ char *list = list_tar(&out);
	_cleanup_free_ char *longname = xasprintf("usr/%0150d", 7);
	_cleanup_free_ char *want = xasprintf("bin@\nempty\netc/\netc/abs@\netc/hl-a\n"
					      "etc/hl-b=etc/hl-a\netc/owned\netc/passwd\netc/suid\n"
					      "tmp/\nusr/\n%s\nusr/big\nusr/bin/\nusr/bin/tool\n"
					      "usr/cap\n",
					      longname);
	assert_string_equal(list, want);
	/* ends with exactly the end-of-archive marker */
	assert_true(out.len % 512 == 0);
	for (size_t i = out.len - 1024; i < out.len; i++)
		assert_int_equal(out.p[i], 0);
	free(out.p);
	free(t.out.p);
}

static void replay_check(struct fx *fx, const struct buf *orig, const char *name,
			 bool expect_recorded)
{
	_cleanup_close_ int d = mkdir_in(fx, name);
	_cleanup_free_ char *sname = xasprintf("%s.split", name);
	int sfd = openat(fx->dir_fd, sname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(sfd >= 0);
	bool recorded = false;
	extract(d, orig->p, orig->len, sfd, &recorded);
	assert_int_equal(recorded, expect_recorded);
	if (!expect_recorded)
		return;
	_cleanup_close_ int rfd = openat(fx->dir_fd, sname, O_RDONLY | O_CLOEXEC);
	int64_t size = -1;
	struct scow_error *err = NULL;
	assert_int_equal(layers_tarsplit_size(rfd, &size, &err), 0);
	assert_int_equal(size, (int64_t)orig->len);
	struct buf out = {0};
	if (layers_tarsplit_replay(d, rfd, buf_write, &out, &err) < 0)
		fail_msg("replay: %s", err->msg);
	assert_int_equal(out.len, orig->len);
	assert_memory_equal(out.p, orig->p, orig->len);
	free(out.p);
}

static void test_tarsplit_replay(void **state)
{
	struct fx *fx = *state;
	/* GNU-tar-like 10 KiB records: bytes after the end-of-archive marker */
	struct tb t;
	build_rich(&t, 10240);
	replay_check(fx, &t.out, "padded", true);
	free(t.out.p);
	build_rich(&t, 0);
	replay_check(fx, &t.out, "unpadded", true);
	/* Trailing garbage after the end-of-archive marker is part of the diff_id. */
	buf_add(&t.out, "trailing bytes", 14);
	replay_check(fx, &t.out, "trailing", true);
	free(t.out.p);
}

static void test_tarsplit_raw_entries(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	tb_init(&t, 10240);
	tb_file(&t, "a", 0644, "aaaa\n");
	/* data the extractor does not keep as a file: recorded raw (libarchive
	 * cannot write a hardlink entry with data) */
	struct archive_entry *e = ent("sparse", AE_IFREG, 0644);
	archive_entry_set_size(e, 1 << 20);
	archive_entry_sparse_add_entry(e, 0, 5);
	archive_entry_sparse_add_entry(e, (1 << 20) - 5, 5);
	tb_add(&t, e, "xxxxx", 5);
	tb_add(&t, ent(".wh..wh.plnk/123", AE_IFREG, 0644), "aufs data", 9);
	tb_file(&t, "z", 0644, "zzz\n");
	tb_close(&t);
	replay_check(fx, &t.out, "raw", true);
	free(t.out.p);
}

static void test_tarsplit_gives_up(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	tb_init(&t, 0);
	/* more raw data than the recorder keeps pending */
	size_t n = TARSPLIT_RAW_MAX + 4096;
	char *data = xcalloc(1, n);
	struct archive_entry *h = ent("aufs", AE_IFDIR, 0755);
	tb_add(&t, h, NULL, 0);
	tb_file(&t, "a", 0644, "a\n");
	tb_add(&t, ent(".wh..wh.plnk/big", AE_IFREG, 0644), data, n);
	tb_close(&t);
	free(data);
	replay_check(fx, &t.out, "gaveup", false);
	free(t.out.p);
}

static void test_replay_detects_changes(void **state)
{
	struct fx *fx = *state;
	struct tb t;
	tb_init(&t, 0);
	tb_file(&t, "f", 0644, "content\n");
	tb_close(&t);
	_cleanup_close_ int d = mkdir_in(fx, "chg");
	int sfd = openat(fx->dir_fd, "chg.split", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool recorded = false;
	extract(d, t.out.p, t.out.len, sfd, &recorded);
	assert_true(recorded);
	/* a file replaced by a symlink is never followed */
	assert_int_equal(unlinkat(d, "f", 0), 0);
	assert_int_equal(symlinkat("/etc/hostname", d, "f"), 0);
	_cleanup_close_ int rfd = openat(fx->dir_fd, "chg.split", O_RDONLY | O_CLOEXEC);
	struct buf out = {0};
	struct scow_error *err = NULL;
	assert_int_equal(layers_tarsplit_replay(d, rfd, buf_write, &out, &err), -1);
	assert_non_null(err);
	error_free(err);
	free(out.p);
	free(t.out.p);
}

static void test_whiteouts_and_opaque(void **state)
{
	if (!is_root())
		skip();
	struct fx *fx = *state;
	_cleanup_close_ int d = mkdir_in(fx, "wh");
	assert_int_equal(mkdirat(d, "dir", 0755), 0);
	assert_int_equal(mknodat(d, "gone", S_IFCHR | 0, makedev(0, 0)), 0);
	assert_int_equal(mknodat(d, "dir/x", S_IFCHR | 0, makedev(0, 0)), 0);
	/* overlay may share one whiteout inode: still no hardlink entry */
	assert_int_equal(linkat(d, "gone", d, "gone2", 0), 0);
	_cleanup_close_ int dd = openat(d, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(fsetxattr(dd, "trusted.overlay.opaque", "y", 1, 0), 0);
	assert_int_equal(mkdirat(d, "udir", 0755), 0);
	_cleanup_close_ int ud = openat(d, "udir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(fsetxattr(ud, "user.overlay.opaque", "y", 1, 0), 0);
	assert_int_equal(fsetxattr(ud, "trusted.overlay.origin", "zz", 2, 0), 0);
	assert_int_equal(mknodat(d, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(mknodat(d, "fifo", S_IFIFO | 0600, 0), 0);
	struct buf out = {0};
	create(d, &out, false);
	_cleanup_free_ char *list = list_tar(&out);
	assert_string_equal(list, "dir/\ndir/.wh..wh..opq\ndir/.wh.x\nfifo\n.wh.gone\n.wh.gone2\n"
				  "null\nudir/\nudir/.wh..wh..opq\n");
	/* and back: extraction makes the same overlay form again */
	_cleanup_close_ int back = mkdir_in(fx, "wh-back");
	extract(back, out.p, out.len, -1, NULL);
	struct stat st;
	assert_int_equal(fstatat(back, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	_cleanup_close_ int bd = openat(back, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char v[2];
	assert_int_equal(fgetxattr(bd, "trusted.overlay.opaque", v, sizeof(v)), 1);
	free(out.p);
}

static void test_xattrs_filtered(void **state)
{
	if (!is_root())
		skip();
	struct fx *fx = *state;
	_cleanup_close_ int d = mkdir_in(fx, "xa");
	_cleanup_close_ int f = openat(d, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(f >= 0);
	assert_int_equal(fsetxattr(f, "user.b", "2", 1, 0), 0);
	assert_int_equal(fsetxattr(f, "user.a", "1", 1, 0), 0);
	assert_int_equal(fsetxattr(f, "trusted.secret", "s", 1, 0), 0);
	assert_int_equal(fsetxattr(f, "trusted.overlay.origin", "o", 1, 0), 0);
	assert_int_equal(fsetxattr(f, "user.overlay.redirect", "r", 1, 0), 0);
	struct buf out = {0};
	create(d, &out, false);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct memsrc m = {out.p, out.len, 0, 4096};
	assert_int_equal(archive_read_open(a, &m, NULL, arch_read, NULL), ARCHIVE_OK);
	struct archive_entry *e;
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	struct strbuf sb = STRBUF_INIT;
	archive_entry_xattr_reset(e);
	const char *name;
	const void *val;
	size_t len;
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK)
		sb_printf(&sb, "%s=%.*s;", name, (int)len, (const char *)val);
	assert_string_equal(sb_str(&sb), "user.a=1;user.b=2;");
	sb_release(&sb);
	archive_read_free(a);
	free(out.p);
}

static void test_symlinks_not_followed(void **state)
{
	struct fx *fx = *state;
	_cleanup_close_ int d = mkdir_in(fx, "sl");
	assert_int_equal(symlinkat("/etc", d, "etc"), 0);
	assert_int_equal(symlinkat("../../../../..", d, "up"), 0);
	struct buf out = {0};
	create(d, &out, false);
	_cleanup_free_ char *list = list_tar(&out);
	assert_string_equal(list, "etc@\nup@\n");
	free(out.p);
}

static void test_deep_tree(void **state)
{
	struct fx *fx = *state;
	_cleanup_close_ int d = mkdir_in(fx, "deep");
	/* deeper than the directory fds kept open at once */
	int cur = dup(d);
	for (int i = 0; i < 150; i++) {
		assert_int_equal(mkdirat(cur, "d", 0755), 0);
		if (i % 50 == 0) {
			int f = openat(cur, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			assert_true(f >= 0);
			assert_int_equal(write(f, "x", 1), 1);
			close(f);
		}
		int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = next;
	}
	close(cur);
	struct buf out = {0};
	create(d, &out, false);
	_cleanup_close_ int back = mkdir_in(fx, "deep-back");
	extract(back, out.p, out.len, -1, NULL);
	assert_same_tree(d, back);
	free(out.p);
}

static int failing_write(void *opaque, const void *p, size_t n, struct scow_error **err)
{
	(void)opaque;
	(void)p;
	(void)n;
	return error_set(err, ENOSPC, "test: no space");
}

static void test_write_error(void **state)
{
	struct fx *fx = *state;
	_cleanup_close_ int d = mkdir_in(fx, "we");
	int f = openat(d, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	char big[300000] = {0};
	assert_int_equal(write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	close(f);
	struct scow_error *err = NULL;
	assert_int_equal(layers_tar_create(d, failing_write, NULL, NULL, NULL, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, ENOSPC);
	error_free(err);
}

int main(void)
{
	struct scow_error *err = NULL;
	if (lazy_archive_load(&err) < 0 || lazy_crypto_load(&err) < 0 ||
	    lazy_zstd_load(&err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tarsplit_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tarsplit_raw_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tarsplit_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_detects_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts_and_opaque, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xattrs_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
