/* ADD's local archives and remote URLs.
 *
 * An archive is a file whose bytes, after gzip, bzip2, xz or zstd
 * decompression (sniffed from the first bytes, inflated in this process:
 * ISA-L, libzstd, libarchive's own bzip2 and xz, never a program), start
 * with a valid tar header (Docker: archive.DecompressStream then a
 * tar.Reader's first Next()). Its entries are written into the step's
 * layer below the destination: names cleaned, a ".." component refused,
 * hard links kept inside the destination, whiteout names left out (they
 * would delete files of lower layers); the layer import then checks
 * everything again as for a pulled layer (symlinks, hard links, sizes). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "image/create.h"
#include "layers/decompress.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define CHUNK (256u * 1024)

enum comp { COMP_NONE, COMP_GZIP_ZSTD, COMP_BZIP2, COMP_XZ };

int bx_tmpfile(struct bx *b, struct scow_error **err)
{
	_cleanup_close_ int tmp = fs_open_dir_at(b->cache_fd, "tmp", true, 0700, err);
	if (tmp < 0)
		return -1;
	int fd = openat(tmp, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno(err, "create a temporary file in %s/tmp", b->cache_path);
	return fd;
}

static ssize_t pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static enum comp sniff(const unsigned char *m, size_t n)
{
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return COMP_GZIP_ZSTD;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return COMP_GZIP_ZSTD;
	if (n >= 3 && memcmp(m, "BZh", 3) == 0)
		return COMP_BZIP2;
	if (n >= 6 && memcmp(m, xz, 6) == 0)
		return COMP_XZ;
	return COMP_NONE;
}

/* A tar header block: its checksum (unsigned, as every tar reader
 * accepts) matches and it names something. */
static bool tar_header_valid(const unsigned char *h, size_t n)
{
	if (n < 512 || !h[0])
		return false;
	unsigned long want = 0;
	size_t i = 148;
	while (i < 156 && h[i] == ' ')
		i++;
	bool digits = false;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits = true)
		want = want * 8 + (unsigned long)(h[i] - '0');
	if (!digits)
		return false;
	unsigned long sum = 0;
	for (i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum == want;
}

/* ---- decompressing ------------------------------------------------------------------------ */

struct sink {
	int fd;		    /* write here, or */
	unsigned char *buf; /* keep the first cap bytes here */
	size_t n, cap;
};

static int sink_out(void *opaque, const void *buf, size_t len)
{
	struct sink *s = opaque;
	if (s->fd >= 0)
		return fs_write_all(s->fd, buf, len) < 0 ? -1 : 0;
	size_t k = s->cap - s->n < len ? s->cap - s->n : len;
	memcpy(s->buf + s->n, buf, k);
	s->n += k;
	return s->n == s->cap ? -1 : 0; /* enough */
}

static int inflate_decomp(int in, struct sink *s, struct scow_error **err)
{
	if (lazy_isal_load(err) < 0 || lazy_zstd_load(err) < 0)
		return -1;
	struct decomp *d = decomp_new(sink_out, s);
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	off_t off = 0;
	int r = 0;
	for (;;) {
		ssize_t n = pread_all(in, buf, CHUNK, off);
		if (n < 0) {
			r = error_errno(err, "read");
			break;
		}
		if (n == 0) {
			r = decomp_finish(d, err);
			break;
		}
		off += n;
		r = decomp_feed(d, buf, (size_t)n, err);
		if (r == -2) { /* the sink has what it wanted (or failed writing) */
			r = s->fd >= 0 ? error_errno(err, "write the decompressed archive") : 0;
			break;
		}
		if (r < 0)
			break;
	}
	decomp_free(d);
	return r;
}

struct fd_src {
	int fd;
	off_t off;
	unsigned char *buf;
};

static la_ssize_t fd_read(struct archive *a, void *opaque, const void **ret)
{
	struct fd_src *src = opaque;
	ssize_t n = pread_all(src->fd, src->buf, CHUNK, src->off);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	src->off += n;
	*ret = src->buf;
	return n;
}

/* bzip2 and xz through libarchive's own filters ("raw": the stream). */
static int inflate_archive(int in, enum comp c, struct sink *s, struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	struct archive *a = archive_read_new();
	if (!a)
		return error_set(err, ENOMEM, "libarchive: cannot allocate a reader");
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	struct fd_src src = {in, 0, buf};
	const char *what = c == COMP_BZIP2 ? "bzip2" : "xz";
	int r = c == COMP_BZIP2 ? archive_read_support_filter_bzip2(a)
				: archive_read_support_filter_xz(a);
	struct archive_entry *ae;
	if (r != ARCHIVE_OK || archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open(a, &src, NULL, fd_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		error_set(err, EINVAL, "%s: %s", what, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	r = 0;
	for (;;) {
		const void *data;
		size_t len;
		la_int64_t off;
		int k = archive_read_data_block(a, &data, &len, &off);
		if (k == ARCHIVE_EOF)
			break;
		if (k != ARCHIVE_OK) {
			r = error_set(err, EINVAL, "%s: %s", what, archive_error_string(a));
			break;
		}
		if (len && sink_out(s, data, len) < 0) {
			if (s->fd >= 0)
				r = error_errno(err, "write the decompressed archive");
			break;
		}
	}
	archive_read_free(a);
	return r;
}

static int inflate(int in, enum comp c, struct sink *s, struct scow_error **err)
{
	return c == COMP_GZIP_ZSTD ? inflate_decomp(in, s, err) : inflate_archive(in, c, s, err);
}

int bx_archive_probe(struct bx *b, int fd, struct scow_error **err)
{
	(void)b;
	unsigned char head[512];
	ssize_t n = pread_all(fd, head, sizeof(head), 0);
	if (n < 0)
		return error_errno(err, "read");
	enum comp c = sniff(head, (size_t)n);
	if (c == COMP_NONE)
		return tar_header_valid(head, (size_t)n);
	unsigned char first[512];
	struct sink s = {.fd = -1, .buf = first, .cap = sizeof(first)};
	_cleanup_error_ struct scow_error *e = NULL;
	if (inflate(fd, c, &s, &e) < 0)
		return 0; /* not what it looked like: a plain file */
	return tar_header_valid(first, s.n);
}

/* ---- rewriting the entries ---------------------------------------------------------------------- */

/* "./a//b/" -> "a/b"; NULL for a name with a ".." component. */
static char *clean_name(const char *name)
{
	_cleanup_strv_ char **comps = strv_split(name, '/');
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	for (size_t i = 0; comps[i]; i++) {
		if (!*comps[i] || strcmp(comps[i], ".") == 0)
			continue;
		if (strcmp(comps[i], "..") == 0) {
			sb_release(&sb);
			return NULL;
		}
		sb_printf(&sb, "%s%s", sb.len ? "/" : "", comps[i]);
	}
	return sb_steal(&sb);
}

static char *under(const char *dest, const char *name)
{
	return *dest ? xasprintf("%s/%s", dest, name) : xstrdup(name);
}

static int copy_data(struct archive *a, struct btar *t, la_int64_t size, struct scow_error **err)
{
	la_int64_t pos = 0;
	static const unsigned char zeros[4096];
	for (;;) {
		const void *data;
		size_t len;
		la_int64_t off;
		int k = archive_read_data_block(a, &data, &len, &off);
		if (k == ARCHIVE_EOF)
			break;
		if (k != ARCHIVE_OK)
			return error_set(err, EINVAL, "archive: %s", archive_error_string(a));
		while (pos < off) { /* a hole of a sparse file */
			size_t z = off - pos < (la_int64_t)sizeof(zeros) ? (size_t)(off - pos)
									 : sizeof(zeros);
			if (btar_data(t, zeros, z) < 0)
				return btar_error(t, err);
			pos += (la_int64_t)z;
		}
		if (len && btar_data(t, data, len) < 0)
			return btar_error(t, err);
		pos += (la_int64_t)len;
	}
	while (pos < size) {
		size_t z = size - pos < (la_int64_t)sizeof(zeros) ? (size_t)(size - pos) : sizeof(zeros);
		if (btar_data(t, zeros, z) < 0)
			return btar_error(t, err);
		pos += (la_int64_t)z;
	}
	return 0;
}

static int rewrite_entry(struct archive *a, struct archive_entry *in, struct archive_entry *out,
			 struct btar *t, const char *dest, struct scow_error **err)
{
	const char *raw = archive_entry_pathname(in);
	_cleanup_free_ char *name = clean_name(raw ? raw : "");
	if (!name)
		return error_set(err, EPERM, "ADD: archive entry \"%s\" would leave the destination",
				 raw);
	if (!*name)
		return 0; /* "./": the destination itself */
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (str_starts_with(base, ".wh.")) {
		log_warn("ADD: archive entry \"%s\" left out (a whiteout name)", raw);
		return 0;
	}
	unsigned type = archive_entry_filetype(in);
	_cleanup_free_ char *path = under(dest, name);
	archive_entry_clear(out);
	archive_entry_set_pathname(out, path);
	archive_entry_set_perm(out, archive_entry_perm(in));
	archive_entry_set_uid(out, archive_entry_uid(in));
	archive_entry_set_gid(out, archive_entry_gid(in));
	archive_entry_set_mtime(out, archive_entry_mtime(in), 0);
	archive_entry_set_size(out, 0);
	const char *hl = archive_entry_hardlink(in);
	if (hl) {
		_cleanup_free_ char *target = clean_name(hl);
		if (!target || !*target)
			return error_set(err, EPERM, "ADD: archive entry \"%s\": bad hard link \"%s\"",
					 raw, hl);
		_cleanup_free_ char *t2 = under(dest, target);
		archive_entry_set_filetype(out, AE_IFREG);
		archive_entry_set_hardlink(out, t2);
		return btar_header(t, out) < 0 ? btar_error(t, err) : 0;
	}
	archive_entry_set_filetype(out, type);
	switch (type) {
	case AE_IFREG: {
		la_int64_t size = archive_entry_size(in);
		archive_entry_set_size(out, size);
		if (btar_header(t, out) < 0)
			return btar_error(t, err);
		return copy_data(a, t, size, err);
	}
	case AE_IFLNK:
		archive_entry_set_symlink(out, archive_entry_symlink(in));
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		archive_entry_set_rdevmajor(out, archive_entry_rdevmajor(in));
		archive_entry_set_rdevminor(out, archive_entry_rdevminor(in));
		break;
	case AE_IFDIR:
	case AE_IFIFO:
		break;
	default:
		return 0;
	}
	return btar_header(t, out) < 0 ? btar_error(t, err) : 0;
}

static int rewrite(int tar_fd, struct btar *t, const char *dest, struct scow_error **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *out = archive_entry_new();
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	struct fd_src src = {tar_fd, 0, buf};
	int r = 0;
	if (!a || !out || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, &src, NULL, fd_read, NULL) != ARCHIVE_OK) {
		r = error_set(err, EINVAL, "archive: %s", a ? archive_error_string(a) : "no memory");
		goto out;
	}
	for (;;) {
		struct archive_entry *in;
		int k = archive_read_next_header(a, &in);
		if (k == ARCHIVE_EOF)
			break;
		if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
			r = error_set(err, EINVAL, "archive: %s", archive_error_string(a));
			break;
		}
		if (rewrite_entry(a, in, out, t, dest, err) < 0) {
			r = -1;
			break;
		}
	}
out:
	if (out)
		archive_entry_free(out);
	if (a)
		archive_read_free(a);
	return r;
}

int bx_archive_extract(struct bx *b, int fd, struct btar *t, const char *dest,
		       struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	unsigned char head[8];
	ssize_t n = pread_all(fd, head, sizeof(head), 0);
	if (n < 0)
		return error_errno(err, "read");
	enum comp c = sniff(head, (size_t)n);
	if (c == COMP_NONE)
		return rewrite(fd, t, dest, err) < 0 ? -1 : 1;
	_cleanup_close_ int tmp = bx_tmpfile(b, err);
	if (tmp < 0)
		return -1;
	struct sink s = {.fd = tmp};
	if (inflate(fd, c, &s, err) < 0)
		return error_wrap(err, "ADD: decompress the archive");
	return rewrite(tmp, t, dest, err) < 0 ? -1 : 1;
}

int bx_plain_fd(struct bx *b, int fd, struct scow_error **err)
{
	unsigned char head[8];
	ssize_t n = pread_all(fd, head, sizeof(head), 0);
	if (n < 0)
		return error_errno(err, "read");
	enum comp c = sniff(head, (size_t)n);
	if (c == COMP_NONE) {
		int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		return d < 0 ? error_errno(err, "dup") : d;
	}
	int tmp = bx_tmpfile(b, err);
	if (tmp < 0)
		return -1;
	struct sink s = {.fd = tmp};
	if (inflate(fd, c, &s, err) < 0) {
		close(tmp);
		return error_wrap(err, "decompress");
	}
	return tmp;
}

/* ---- URLs ------------------------------------------------------------------------------------ */

int bx_fetch(struct bx *b, const char *url, int *ret_fd, char ret_digest[DIGEST_STR_LEN + 1],
	     struct scow_error **err)
{
	_cleanup_close_ int tmp = bx_tmpfile(b, err);
	if (tmp < 0)
		return -1;
	struct image_fetch *f;
	int in;
	if (image_fetch_start(url, &f, &in, err) < 0)
		return -1;
	struct sha256 h;
	sha256_init(&h);
	_cleanup_free_ unsigned char *buf = xmalloc(CHUNK);
	int r = 0;
	for (;;) {
		ssize_t k = read(in, buf, CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = error_errno(err, "download %s", url);
			break;
		}
		if (k == 0)
			break;
		sha256_update(&h, buf, (size_t)k);
		if (fs_write_all(tmp, buf, (size_t)k) < 0) {
			r = error_errno(err, "download %s", url);
			break;
		}
	}
	close(in);
	_cleanup_error_ struct scow_error *ferr = NULL;
	if (image_fetch_finish(f, &ferr) < 0 && r == 0) {
		*err = steal_ptr(&ferr);
		r = -1;
	}
	sha256_final(&h, ret_digest);
	sha256_release(&h);
	if (r < 0)
		return error_wrap(err, "ADD");
	if (lseek(tmp, 0, SEEK_SET) < 0)
		return error_errno(err, "seek");
	*ret_fd = steal_fd(&tmp);
	return 0;
}
