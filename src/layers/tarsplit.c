/* Tar-split records (see tarsplit.h).
 *
 * Recording: the bytes fed since the last classified offset are kept in
 * `pend` until layers_tarsplit_file() says where the next file's data
 * begins; what comes before is raw, the data itself is dropped (as it
 * arrives, once the data region is known). Between two calls `pend` holds at
 * most libarchive's read-ahead. */
#include "layers/tarsplit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/lazy_zstd.h"

#define MAGIC "scow-tarsplit-1\n"
#define HEADER_SIZE 64
#define ZOUT_SIZE (128u << 10)
#define RD_IN (128u << 10)
#define RD_OUT (256u << 10)
#define FILE_BUF (1u << 20)
#define RAW_RECORD_MAX (1u << 30)

struct layers_tarsplit {
	int fd;
	ZSTD_CCtx *z;
	unsigned char *zout;
	int64_t fed;	  /* stream offset of the end of what was fed */
	int64_t resolved; /* everything before this is recorded */
	int64_t skip_end; /* > resolved: inside a file's data up to here */
	unsigned char *pend; /* bytes [resolved, fed) are pend[pend_start..pend_len) */
	size_t pend_start, pend_len, pend_cap;
	uint64_t nfiles;
	bool failed;
};

static void put_le(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *b, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void give_up(struct layers_tarsplit *ts, const char *why)
{
	if (!ts->failed)
		log_debug("tar-split: no record for this layer: %s", why);
	ts->failed = true;
	free(ts->pend);
	ts->pend = NULL;
	ts->pend_start = ts->pend_len = ts->pend_cap = 0;
}

struct layers_tarsplit *layers_tarsplit_new(int fd)
{
	struct layers_tarsplit *ts = xcalloc(1, sizeof(*ts));
	ts->fd = fd;
	if (fd < 0) {
		give_up(ts, "cannot create the file");
		return ts;
	}
	if (lazy_zstd_load(NULL) < 0 || !(ts->z = ZSTD_createCCtx())) {
		give_up(ts, "no zstd");
		return ts;
	}
	ZSTD_CCtx_setParameter(ts->z, ZSTD_c_compressionLevel, 1);
	ts->zout = xmalloc(ZOUT_SIZE);
	unsigned char hdr[HEADER_SIZE] = {0};
	if (fs_write_all(fd, hdr, sizeof(hdr)) < 0)
		give_up(ts, strerror(errno));
	return ts;
}

void layers_tarsplit_free(struct layers_tarsplit *ts)
{
	if (!ts)
		return;
	if (ts->z)
		ZSTD_freeCCtx(ts->z);
	closep(&ts->fd);
	free(ts->zout);
	free(ts->pend);
	free(ts);
}

static void z_push(struct layers_tarsplit *ts, const void *p, size_t n, ZSTD_EndDirective mode)
{
	if (ts->failed)
		return;
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {ts->zout, ZOUT_SIZE, 0};
		size_t r = ZSTD_compressStream2(ts->z, &out, &in, mode);
		if (ZSTD_isError(r)) {
			give_up(ts, ZSTD_getErrorName(r));
			return;
		}
		if (out.pos && fs_write_all(ts->fd, ts->zout, out.pos) < 0) {
			give_up(ts, strerror(errno));
			return;
		}
		if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size)
			return;
	}
}

static void rec_raw(struct layers_tarsplit *ts, const unsigned char *p, size_t n)
{
	while (n > 0 && !ts->failed) {
		size_t k = n > RAW_RECORD_MAX ? RAW_RECORD_MAX : n;
		unsigned char hdr[5] = {'R'};
		put_le(hdr + 1, k, 4);
		z_push(ts, hdr, sizeof(hdr), ZSTD_e_continue);
		z_push(ts, p, k, ZSTD_e_continue);
		p += k;
		n -= k;
	}
}

static void pend_append(struct layers_tarsplit *ts, const unsigned char *p, size_t n)
{
	if (ts->pend_len - ts->pend_start + n > TARSPLIT_RAW_MAX) {
		give_up(ts, "too much data outside regular files");
		return;
	}
	if (ts->pend_len + n > ts->pend_cap && ts->pend_start > 0) {
		memmove(ts->pend, ts->pend + ts->pend_start, ts->pend_len - ts->pend_start);
		ts->pend_len -= ts->pend_start;
		ts->pend_start = 0;
	}
	xgrow((void **)&ts->pend, &ts->pend_cap, ts->pend_len + n, 1);
	memcpy(ts->pend + ts->pend_len, p, n);
	ts->pend_len += n;
}

void layers_tarsplit_feed(struct layers_tarsplit *ts, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (ts->failed) {
		ts->fed += (int64_t)len;
		return;
	}
	if (ts->resolved < ts->skip_end) {
		/* Inside a file's data: pend is empty and resolved == fed. */
		int64_t k = ts->skip_end - ts->fed;
		if ((int64_t)len < k)
			k = (int64_t)len;
		p += k;
		len -= (size_t)k;
		ts->fed += k;
		ts->resolved = ts->fed;
	}
	if (len > 0) {
		pend_append(ts, p, len);
		ts->fed += (int64_t)len;
	}
}

void layers_tarsplit_file(struct layers_tarsplit *ts, int64_t data_off, int64_t size,
			  const char *path)
{
	if (ts->failed)
		return;
	size_t plen = strlen(path);
	if (ts->resolved < ts->skip_end || data_off < ts->resolved || data_off > ts->fed ||
	    size <= 0 || plen == 0 || plen > UINT16_MAX) {
		give_up(ts, "unexpected data offset");
		return;
	}
	rec_raw(ts, ts->pend + ts->pend_start, (size_t)(data_off - ts->resolved));
	unsigned char hdr[11] = {'F'};
	put_le(hdr + 1, (uint64_t)size, 8);
	put_le(hdr + 9, plen, 2);
	z_push(ts, hdr, sizeof(hdr), ZSTD_e_continue);
	z_push(ts, path, plen, ZSTD_e_continue);
	if (ts->failed)
		return;
	int64_t data_end = data_off + size;
	if (data_end <= ts->fed) {
		ts->pend_start += (size_t)(data_end - ts->resolved);
		ts->resolved = data_end;
	} else {
		ts->pend_start = ts->pend_len = 0;
		ts->resolved = ts->fed;
		ts->skip_end = data_end;
	}
	ts->nfiles++;
}

bool layers_tarsplit_finish(struct layers_tarsplit *ts)
{
	if (ts->failed)
		return false;
	if (ts->resolved < ts->skip_end) {
		give_up(ts, "the stream ended inside a file");
		return false;
	}
	rec_raw(ts, ts->pend + ts->pend_start, ts->pend_len - ts->pend_start);
	unsigned char end = 'E';
	z_push(ts, &end, 1, ZSTD_e_continue);
	z_push(ts, NULL, 0, ZSTD_e_end);
	if (ts->failed)
		return false;
	unsigned char hdr[HEADER_SIZE] = {0};
	memcpy(hdr, MAGIC, strlen(MAGIC));
	put_le(hdr + 16, (uint64_t)ts->fed, 8);
	put_le(hdr + 24, ts->nfiles, 8);
	if (pwrite(ts->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		give_up(ts, "cannot write the header");
		return false;
	}
	return true;
}

/* ---- replay --------------------------------------------------------------------- */

int layers_tarsplit_open(const struct layer_store *ls, const char *chain_id)
{
	if (!digest_is_valid(chain_id))
		return -1;
	char name[DIGEST_HEX_LEN + 32];
	snprintf(name, sizeof(name), "%s/%s", digest_hex(chain_id), LAYERS_TARSPLIT_FILE);
	return openat(ls->layers_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

static int read_header(int fd, int64_t *ret_size, struct scow_error **err)
{
	unsigned char hdr[HEADER_SIZE];
	ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return error_errno(err, "read tar-split record");
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, MAGIC, strlen(MAGIC)) != 0)
		return error_set(err, EINVAL, "tar-split record: bad header");
	uint64_t size = get_le(hdr + 16, 8);
	if (size > INT64_MAX)
		return error_set(err, EINVAL, "tar-split record: bad size");
	*ret_size = (int64_t)size;
	return 0;
}

int layers_tarsplit_size(int split_fd, int64_t *ret_size, struct scow_error **err)
{
	return read_header(split_fd, ret_size, err);
}

struct reader {
	int fd;
	off_t off;
	ZSTD_DStream *z;
	unsigned char *in;
	size_t in_pos, in_len;
	unsigned char *out;
	size_t out_pos, out_len;
};

/* Decompresses at least one more byte into r->out (which has room). */
static int rd_more(struct reader *r, struct scow_error **err)
{
	size_t before = r->out_len;
	while (r->out_len == before) {
		if (r->in_pos == r->in_len) {
			ssize_t n = pread(r->fd, r->in, RD_IN, r->off);
			if (n < 0)
				return error_errno(err, "read tar-split record");
			if (n == 0)
				return error_set(err, EINVAL, "tar-split record truncated");
			r->off += n;
			r->in_len = (size_t)n;
			r->in_pos = 0;
		}
		ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
		ZSTD_outBuffer out = {r->out, RD_OUT, r->out_len};
		size_t z = ZSTD_decompressStream(r->z, &out, &in);
		if (ZSTD_isError(z))
			return error_set(err, EINVAL, "tar-split record: %s", ZSTD_getErrorName(z));
		r->in_pos = in.pos;
		r->out_len = out.pos;
	}
	return 0;
}

/* Makes n contiguous bytes available at r->out + r->out_pos. */
static int rd_need(struct reader *r, size_t n, struct scow_error **err)
{
	if (r->out_len - r->out_pos >= n)
		return 0;
	memmove(r->out, r->out + r->out_pos, r->out_len - r->out_pos);
	r->out_len -= r->out_pos;
	r->out_pos = 0;
	while (r->out_len < n)
		if (rd_more(r, err) < 0)
			return -1;
	return 0;
}

static int replay_raw(struct reader *r, uint64_t len, layers_write_fn write_fn, void *opaque,
		      struct scow_error **err)
{
	while (len > 0) {
		if (r->out_pos == r->out_len && rd_need(r, 1, err) < 0)
			return -1;
		size_t k = r->out_len - r->out_pos;
		if (k > len)
			k = (size_t)len;
		if (write_fn(opaque, r->out + r->out_pos, k, err) < 0)
			return -1;
		r->out_pos += k;
		len -= k;
	}
	return 0;
}

static int replay_file(int dir_fd, const char *path, uint64_t size, unsigned char *buf,
		       layers_write_fn write_fn, void *opaque, struct scow_error **err)
{
	_cleanup_close_ int fd = fs_openat2(dir_fd, path, O_RDONLY | O_NOFOLLOW,
					    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return error_errno(err, "open \"%s\"", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat \"%s\"", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return error_set(err, ESTALE, "\"%s\" is not the file that was extracted", path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (size > 0) {
		size_t want = size < FILE_BUF ? (size_t)size : FILE_BUF;
		ssize_t n = read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "read \"%s\"", path);
		}
		if (n == 0)
			return error_set(err, ESTALE, "\"%s\" shrank", path);
		if (write_fn(opaque, buf, (size_t)n, err) < 0)
			return -1;
		size -= (uint64_t)n;
	}
	return 0;
}

static int replay_run(int dir_fd, struct reader *r, int64_t total, layers_write_fn write_fn,
		      void *opaque, struct scow_error **err)
{
	_cleanup_free_ unsigned char *buf = xmalloc(FILE_BUF);
	char path[UINT16_MAX + 1];
	uint64_t written = 0;
	for (;;) {
		if (rd_need(r, 1, err) < 0)
			return -1;
		unsigned char kind = r->out[r->out_pos++];
		if (kind == 'E')
			break;
		if (kind == 'R') {
			if (rd_need(r, 4, err) < 0)
				return -1;
			uint64_t len = get_le(r->out + r->out_pos, 4);
			r->out_pos += 4;
			if (replay_raw(r, len, write_fn, opaque, err) < 0)
				return -1;
			written += len;
			continue;
		}
		if (kind != 'F')
			return error_set(err, EINVAL, "tar-split record: bad record type");
		if (rd_need(r, 10, err) < 0)
			return -1;
		uint64_t size = get_le(r->out + r->out_pos, 8);
		size_t plen = (size_t)get_le(r->out + r->out_pos + 8, 2);
		r->out_pos += 10;
		if (plen == 0 || rd_need(r, plen, err) < 0)
			return plen == 0 ? error_set(err, EINVAL, "tar-split record: empty path") : -1;
		memcpy(path, r->out + r->out_pos, plen);
		path[plen] = '\0';
		r->out_pos += plen;
		if (memchr(path, '\0', plen))
			return error_set(err, EINVAL, "tar-split record: bad path");
		if (replay_file(dir_fd, path, size, buf, write_fn, opaque, err) < 0)
			return -1;
		written += size;
	}
	if (written != (uint64_t)total)
		return error_set(err, EINVAL, "tar-split record: %llu bytes instead of %lld",
				 (unsigned long long)written, (long long)total);
	return 0;
}

int layers_tarsplit_replay(int dir_fd, int split_fd, layers_write_fn write_fn, void *opaque,
			   struct scow_error **err)
{
	int64_t total;
	if (lazy_zstd_load(err) < 0 || read_header(split_fd, &total, err) < 0)
		return -1;
	struct reader r = {.fd = split_fd, .off = HEADER_SIZE};
	r.z = ZSTD_createDStream();
	if (!r.z)
		return error_set(err, ENOMEM, "zstd: cannot allocate a decompressor");
	ZSTD_initDStream(r.z);
	r.in = xmalloc(RD_IN);
	r.out = xmalloc(RD_OUT);
	int ret = replay_run(dir_fd, &r, total, write_fn, opaque, err);
	ZSTD_freeDStream(r.z);
	free(r.in);
	free(r.out);
	return ret < 0 ? error_wrap(err, "replay layer tar") : 0;
}
