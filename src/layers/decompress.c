#include "layers/decompress.h"

#include <errno.h>
#include <stdbool.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/xalloc.h"
#include "util/lazy_isal.h"
#include "util/lazy_zstd.h"

#define OUT_CHUNK (256u << 10)

struct decomp {
	enum decomp_format fmt;
	decomp_out_fn out;
	void *opaque;
	unsigned char sniff[4];
	size_t nsniff;
	struct inflate_state *gz;
	bool gz_in_member; /* inside a gzip member (header seen, end not yet) */
	ZSTD_DStream *zs;
	bool zs_frame_done; /* the last frame ended and was flushed */
	unsigned char *obuf;
};

static const unsigned char gzip_magic[2] = {0x1f, 0x8b};
static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

struct decomp *decomp_new(decomp_out_fn out, void *opaque)
{
	struct decomp *d = xcalloc(1, sizeof(*d));
	d->out = out;
	d->opaque = opaque;
	d->obuf = xmalloc(OUT_CHUNK);
	return d;
}

void decomp_free(struct decomp *d)
{
	if (!d)
		return;
	free(d->gz);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	free(d->obuf);
	free(d);
}

enum decomp_format decomp_format(const struct decomp *d)
{
	return d->fmt;
}

const char *decomp_format_name(enum decomp_format f)
{
	switch (f) {
	case DECOMP_NONE: return "uncompressed";
	case DECOMP_GZIP: return "gzip";
	case DECOMP_ZSTD: return "zstd";
	default: return "unknown";
	}
}

static void gzip_start_member(struct decomp *d)
{
	isal_inflate_reset(d->gz);
	d->gz->crc_flag = ISAL_GZIP;
	d->gz_in_member = true;
}

static int feed_gzip(struct decomp *d, const unsigned char *in, size_t len,
		     struct scow_error **err)
{
	struct inflate_state *s = d->gz;
	while (len > 0) {
		if (!d->gz_in_member) {
			/* Another member must follow; anything else is garbage. */
			if (len >= 2 && memcmp(in, gzip_magic, 2) != 0)
				return error_set(err, EINVAL, "trailing garbage after gzip data");
			if (len < 2 && in[0] != gzip_magic[0])
				return error_set(err, EINVAL, "trailing garbage after gzip data");
			gzip_start_member(d);
		}
		s->next_in = (uint8_t *)in;
		s->avail_in = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len);
		size_t fed = s->avail_in;
		do {
			s->next_out = d->obuf;
			s->avail_out = OUT_CHUNK;
			int r = isal_inflate(s);
			if (r < 0)
				return error_set(err, EINVAL, "corrupt gzip data (isa-l error %d)", r);
			size_t produced = OUT_CHUNK - s->avail_out;
			if (produced && d->out(d->opaque, d->obuf, produced) < 0)
				return -2;
		} while (s->avail_out == 0 && s->block_state != ISAL_BLOCK_FINISH);
		if (s->block_state == ISAL_BLOCK_FINISH)
			d->gz_in_member = false;
		size_t used = fed - s->avail_in;
		in += used;
		len -= used;
		if (used == 0 && d->gz_in_member)
			break; /* isa-l keeps partial headers/bits internally */
	}
	return 0;
}

static int feed_zstd(struct decomp *d, const unsigned char *in, size_t len,
		     struct scow_error **err)
{
	ZSTD_inBuffer ib = {in, len, 0};
	/* Keep calling while input remains or the output buffer came back
	 * full (the decoder may hold more). A call that consumes and produces
	 * nothing must not forget that the last frame had ended. */
	for (;;) {
		ZSTD_outBuffer ob = {d->obuf, OUT_CHUNK, 0};
		size_t before = ib.pos;
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(r))
			return error_set(err, EINVAL, "corrupt zstd data: %s", ZSTD_getErrorName(r));
		if (r == 0)
			d->zs_frame_done = true;
		else if (ib.pos > before || ob.pos > 0)
			d->zs_frame_done = false;
		if (ob.pos && d->out(d->opaque, d->obuf, ob.pos) < 0)
			return -2;
		if (ib.pos == ib.size && ob.pos < ob.size)
			return 0;
	}
}

static int feed_format(struct decomp *d, const unsigned char *in, size_t len,
		       struct scow_error **err)
{
	switch (d->fmt) {
	case DECOMP_GZIP: return feed_gzip(d, in, len, err);
	case DECOMP_ZSTD: return feed_zstd(d, in, len, err);
	default: return len && d->out(d->opaque, in, len) < 0 ? -2 : 0;
	}
}

static void choose_format(struct decomp *d)
{
	if (d->nsniff >= 2 && memcmp(d->sniff, gzip_magic, 2) == 0) {
		d->fmt = DECOMP_GZIP;
		d->gz = xcalloc(1, sizeof(*d->gz));
		isal_inflate_init(d->gz);
		d->gz->crc_flag = ISAL_GZIP;
		d->gz_in_member = true;
	} else if (d->nsniff >= 4 && memcmp(d->sniff, zstd_magic, 4) == 0) {
		d->fmt = DECOMP_ZSTD;
		d->zs = ZSTD_createDStream();
		if (!d->zs)
			abort();
		ZSTD_initDStream(d->zs);
		/* Bound the decoder's window so a hostile frame cannot make it
		 * allocate gigabytes (2^27 = 128 MiB is zstd's default limit). */
		ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 27);
	} else {
		d->fmt = DECOMP_NONE;
	}
}

int decomp_feed(struct decomp *d, const void *buf, size_t len, struct scow_error **err)
{
	const unsigned char *in = buf;
	if (d->fmt == DECOMP_UNKNOWN) {
		while (d->nsniff < sizeof(d->sniff) && len > 0) {
			d->sniff[d->nsniff++] = *in++;
			len--;
		}
		if (d->nsniff < sizeof(d->sniff))
			return 0;
		choose_format(d);
		int r = feed_format(d, d->sniff, d->nsniff, err);
		if (r < 0)
			return r;
	}
	return feed_format(d, in, len, err);
}

int decomp_finish(struct decomp *d, struct scow_error **err)
{
	if (d->fmt == DECOMP_UNKNOWN) {
		/* Fewer than 4 bytes in all: only an uncompressed (empty) tar. */
		choose_format(d);
		if (d->fmt != DECOMP_NONE)
			return error_set(err, EINVAL, "%s stream cut short",
					 decomp_format_name(d->fmt));
		int r = feed_format(d, d->sniff, d->nsniff, err);
		if (r < 0)
			return r;
	}
	if (d->fmt == DECOMP_GZIP && d->gz_in_member)
		return error_set(err, EINVAL, "gzip stream cut short");
	if (d->fmt == DECOMP_ZSTD && !d->zs_frame_done)
		return error_set(err, EINVAL, "zstd stream cut short");
	return 0;
}
