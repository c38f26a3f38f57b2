/* Streaming compression (see compress.h).
 *
 * gzip is made the way pigz makes it, with ISA-L: the input is cut into
 * GZ_BLOCK pieces, each deflated on its own (primed with the 32 KiB before
 * it as a dictionary, ended with a sync flush so that it ends on a byte
 * boundary, the last one with the final block), and the pieces are
 * concatenated behind one gzip header; the CRC-32 of the whole input and
 * its length make the trailer. The result is one ordinary gzip member that
 * any gzip reader takes. Pieces are deflated by a pool of worker threads
 * (up to `threads`), or inline with none; the bytes do not depend on the
 * number of threads, only on the level: the same tar gives the same blob
 * on every machine. */
#include "layers/compress.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/xalloc.h"
#include "util/lazy_isal.h"
#include "util/lazy_zstd.h"

#define OUT_SIZE (256u << 10)
#define GZ_BLOCK (1u << 20)
#define GZ_DICT (32u << 10)
#define GZ_THREADS_MAX 16

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct gz_job {
	enum job_state state;
	unsigned long seq;
	unsigned char *in; /* GZ_DICT of dictionary, then the piece */
	size_t dict_len, len;
	bool last;
	unsigned char *out;
	size_t out_len, out_cap;
	bool failed;
};

struct gz {
	int level;
	unsigned char *level_buf; /* for inline compression */
	size_t level_buf_size;
	/* the pool */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t *threads;
	size_t nthreads;
	bool stop;
	struct gz_job *jobs;
	size_t njobs;
	unsigned long next_seq; /* of the next job queued */
	unsigned long emit_seq; /* of the next job to write out */
	struct gz_job *cur;	/* being filled by the caller */
	unsigned char dict[GZ_DICT];
	size_t dict_len;
	uint32_t crc;
	uint64_t total;
	bool header_done;
};

struct comp {
	enum comp_format fmt;
	comp_out_fn out;
	void *opaque;
	unsigned char *obuf;
	struct gz *gz;
	ZSTD_CCtx *zs;
	bool finished;
};

int comp_format_parse(const char *s)
{
	if (!s || strcmp(s, "gzip") == 0)
		return COMP_GZIP;
	if (strcmp(s, "zstd") == 0)
		return COMP_ZSTD;
	if (strcmp(s, "none") == 0 || strcmp(s, "uncompressed") == 0)
		return COMP_NONE;
	return -1;
}

const char *comp_format_name(enum comp_format f)
{
	switch (f) {
	case COMP_GZIP: return "gzip";
	case COMP_ZSTD: return "zstd";
	default: return "none";
	}
}

/* ---- gzip pieces ---------------------------------------------------------------- */

static size_t isal_level_buf_size(int level)
{
	switch (level) {
	case 0: return 0;
	case 1: return ISAL_DEF_LVL1_DEFAULT;
	case 2: return ISAL_DEF_LVL2_DEFAULT;
	default: return ISAL_DEF_LVL3_DEFAULT;
	}
}

/* Deflates one piece into job->out. */
static void gz_deflate(int level, unsigned char *level_buf, size_t level_buf_size,
		       struct gz_job *job)
{
	struct isal_zstream s;
	isal_deflate_init(&s);
	s.level = (uint32_t)level;
	s.level_buf = level_buf;
	s.level_buf_size = (uint32_t)level_buf_size;
	s.gzip_flag = IGZIP_DEFLATE;
	if (job->dict_len && isal_deflate_set_dict(&s, job->in, (uint32_t)job->dict_len) != COMP_OK) {
		job->failed = true;
		return;
	}
	s.next_in = job->in + job->dict_len;
	s.avail_in = (uint32_t)job->len;
	s.end_of_stream = job->last;
	s.flush = job->last ? NO_FLUSH : SYNC_FLUSH;
	job->out_len = 0;
	for (;;) {
		if (job->out_cap - job->out_len < 4096) {
			job->out_cap = job->out_cap ? job->out_cap * 2 : GZ_BLOCK + GZ_BLOCK / 8 + 4096;
			job->out = xrealloc(job->out, job->out_cap);
		}
		s.next_out = job->out + job->out_len;
		s.avail_out = (uint32_t)(job->out_cap - job->out_len);
		uint32_t before = s.avail_out;
		if (isal_deflate(&s) != COMP_OK) {
			job->failed = true;
			return;
		}
		job->out_len += before - s.avail_out;
		bool done = job->last ? s.internal_state.state == ZSTATE_END
				      : s.avail_in == 0 && s.internal_state.state == ZSTATE_NEW_HDR;
		if (done)
			return;
	}
}

static void *gz_worker(void *opaque)
{
	struct gz *g = opaque;
	size_t lbs = isal_level_buf_size(g->level);
	unsigned char *lb = lbs ? xmalloc(lbs) : NULL;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct gz_job *job = NULL;
		for (size_t i = 0; i < g->njobs; i++)
			if (g->jobs[i].state == JOB_QUEUED && (!job || g->jobs[i].seq < job->seq))
				job = &g->jobs[i];
		if (!job) {
			if (g->stop)
				break;
			pthread_cond_wait(&g->changed, &g->lock);
			continue;
		}
		job->state = JOB_RUNNING;
		pthread_mutex_unlock(&g->lock);
		gz_deflate(g->level, lb, lbs, job);
		pthread_mutex_lock(&g->lock);
		job->state = JOB_DONE;
		pthread_cond_broadcast(&g->changed);
	}
	pthread_mutex_unlock(&g->lock);
	free(lb);
	return NULL;
}

static struct gz *gz_new(int level, int threads)
{
	struct gz *g = xcalloc(1, sizeof(*g));
	g->level = level;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	size_t n = threads > 1 ? (size_t)(threads > GZ_THREADS_MAX ? GZ_THREADS_MAX : threads) : 0;
	g->njobs = n ? 2 * n + 1 : 1;
	g->jobs = xcalloc(g->njobs, sizeof(*g->jobs));
	for (size_t i = 0; i < g->njobs; i++)
		g->jobs[i].in = xmalloc(GZ_DICT + GZ_BLOCK);
	if (!n) {
		g->level_buf_size = isal_level_buf_size(level);
		g->level_buf = g->level_buf_size ? xmalloc(g->level_buf_size) : NULL;
	}
	g->threads = xcalloc(n + 1, sizeof(pthread_t));
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&g->threads[i], NULL, gz_worker, g) != 0)
			break;
		g->nthreads++;
	}
	if (n && !g->nthreads) { /* no thread could start: deflate inline */
		g->level_buf_size = isal_level_buf_size(level);
		g->level_buf = g->level_buf_size ? xmalloc(g->level_buf_size) : NULL;
	}
	return g;
}

static void gz_free(struct gz *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < g->nthreads; i++)
		pthread_join(g->threads[i], NULL);
	for (size_t i = 0; i < g->njobs; i++) {
		free(g->jobs[i].in);
		free(g->jobs[i].out);
	}
	free(g->jobs);
	free(g->threads);
	free(g->level_buf);
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Writes out, in order, the pieces that are done; with wait, waits until
 * every queued piece is out. */
static int gz_emit(struct comp *c, bool wait, struct scow_error **err)
{
	struct gz *g = c->gz;
	for (;;) {
		pthread_mutex_lock(&g->lock);
		struct gz_job *job = NULL;
		for (size_t i = 0; i < g->njobs; i++)
			if (g->jobs[i].state != JOB_FREE && g->jobs[i].seq == g->emit_seq)
				job = &g->jobs[i];
		if (!job || (job->state != JOB_DONE && !wait)) {
			pthread_mutex_unlock(&g->lock);
			return 0;
		}
		while (job->state != JOB_DONE)
			pthread_cond_wait(&g->changed, &g->lock);
		pthread_mutex_unlock(&g->lock);
		if (job->failed)
			return error_set(err, EIO, "gzip compression failed");
		if (job->out_len && c->out(c->opaque, job->out, job->out_len, err) < 0)
			return -1;
		pthread_mutex_lock(&g->lock);
		job->state = JOB_FREE;
		g->emit_seq++;
		pthread_cond_broadcast(&g->changed);
		pthread_mutex_unlock(&g->lock);
	}
}

/* A free job to fill (writing out finished ones while waiting for it). */
static int gz_take(struct comp *c, struct scow_error **err)
{
	struct gz *g = c->gz;
	for (;;) {
		pthread_mutex_lock(&g->lock);
		for (size_t i = 0; i < g->njobs && !g->cur; i++)
			if (g->jobs[i].state == JOB_FREE)
				g->cur = &g->jobs[i];
		pthread_mutex_unlock(&g->lock);
		if (g->cur) {
			g->cur->dict_len = g->dict_len;
			memcpy(g->cur->in, g->dict, g->dict_len);
			g->cur->len = 0;
			g->cur->last = false;
			g->cur->failed = false;
			return 0;
		}
		/* all busy: the oldest must come out first */
		if (gz_emit(c, true, err) < 0)
			return -1;
	}
}

static int gz_submit(struct comp *c, bool last, struct scow_error **err)
{
	struct gz *g = c->gz;
	struct gz_job *job = g->cur;
	job->last = last;
	unsigned char *piece = job->in + job->dict_len;
	g->crc = crc32_gzip_refl(g->crc, piece, job->len);
	g->total += job->len;
	/* the next piece's dictionary: the last 32 KiB of input */
	if (job->len >= GZ_DICT) {
		memcpy(g->dict, piece + job->len - GZ_DICT, GZ_DICT);
		g->dict_len = GZ_DICT;
	} else {
		size_t keep = g->dict_len + job->len > GZ_DICT ? GZ_DICT - job->len : g->dict_len;
		memmove(g->dict, g->dict + g->dict_len - keep, keep);
		memcpy(g->dict + keep, piece, job->len);
		g->dict_len = keep + job->len;
	}
	g->cur = NULL;
	pthread_mutex_lock(&g->lock);
	job->seq = g->next_seq++;
	job->state = g->nthreads ? JOB_QUEUED : JOB_RUNNING;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	if (!g->nthreads) {
		gz_deflate(g->level, g->level_buf, g->level_buf_size, job);
		pthread_mutex_lock(&g->lock);
		job->state = JOB_DONE;
		pthread_mutex_unlock(&g->lock);
	}
	return gz_emit(c, false, err);
}

static int gz_header(struct comp *c, struct scow_error **err)
{
	/* no name, no time, OS "unknown": the same bytes everywhere */
	static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	c->gz->header_done = true;
	return c->out(c->opaque, hdr, sizeof(hdr), err);
}

static int gz_write(struct comp *c, const void *buf, size_t len, struct scow_error **err)
{
	struct gz *g = c->gz;
	const unsigned char *p = buf;
	if (!g->header_done && gz_header(c, err) < 0)
		return -1;
	while (len > 0) {
		if (!g->cur && gz_take(c, err) < 0)
			return -1;
		struct gz_job *job = g->cur;
		size_t k = GZ_BLOCK - job->len < len ? GZ_BLOCK - job->len : len;
		memcpy(job->in + job->dict_len + job->len, p, k);
		job->len += k;
		p += k;
		len -= k;
		if (job->len == GZ_BLOCK && gz_submit(c, false, err) < 0)
			return -1;
	}
	return 0;
}

static int gz_finish(struct comp *c, struct scow_error **err)
{
	struct gz *g = c->gz;
	if (!g->header_done && gz_header(c, err) < 0)
		return -1;
	if (!g->cur && gz_take(c, err) < 0)
		return -1;
	if (gz_submit(c, true, err) < 0 || gz_emit(c, true, err) < 0)
		return -1;
	unsigned char trailer[8];
	for (int i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(g->crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(g->total >> (8 * i));
	}
	return c->out(c->opaque, trailer, sizeof(trailer), err);
}

/* ---- the interface ----------------------------------------------------------------- */

struct comp *comp_new(enum comp_format f, int level, int threads, comp_out_fn out, void *opaque,
		      struct scow_error **err)
{
	if (f == COMP_GZIP && lazy_isal_load(err) < 0)
		return NULL;
	if (f == COMP_ZSTD && lazy_zstd_load(err) < 0)
		return NULL;
	if (f == COMP_GZIP && (level < 0 || level > ISAL_DEF_MAX_LEVEL)) {
		error_set(err, EINVAL, "gzip compression level %d out of range 1-%d", level,
			  ISAL_DEF_MAX_LEVEL);
		return NULL;
	}
	if (f == COMP_ZSTD && (level < 0 || level > 19)) {
		error_set(err, EINVAL, "zstd compression level %d out of range 1-19", level);
		return NULL;
	}
	struct comp *c = xcalloc(1, sizeof(*c));
	c->fmt = f;
	c->out = out;
	c->opaque = opaque;
	if (f == COMP_GZIP) {
		c->gz = gz_new(level ? level : 1, threads);
	} else if (f == COMP_ZSTD) {
		c->obuf = xmalloc(OUT_SIZE);
		c->zs = ZSTD_createCCtx();
		if (!c->zs) {
			comp_free(c);
			error_set(err, ENOMEM, "zstd: cannot allocate a compressor");
			return NULL;
		}
		ZSTD_CCtx_setParameter(c->zs, ZSTD_c_compressionLevel, level ? level : 3);
		ZSTD_CCtx_setParameter(c->zs, ZSTD_c_checksumFlag, 1);
		/* Multi-threaded frames are the same bytes as single-threaded
		 * ones; ignored by a libzstd built without threads. */
		if (threads > 1)
			ZSTD_CCtx_setParameter(c->zs, ZSTD_c_nbWorkers, threads);
	}
	return c;
}

void comp_free(struct comp *c)
{
	if (!c)
		return;
	if (c->zs)
		ZSTD_freeCCtx(c->zs);
	gz_free(c->gz);
	free(c->obuf);
	free(c);
}

static int zstd_run(struct comp *c, const void *buf, size_t len, bool end,
		    struct scow_error **err)
{
	ZSTD_inBuffer in = {buf, len, 0};
	for (;;) {
		ZSTD_outBuffer o = {c->obuf, OUT_SIZE, 0};
		size_t r = ZSTD_compressStream2(c->zs, &o, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(r))
			return error_set(err, EIO, "zstd compression: %s", ZSTD_getErrorName(r));
		if (o.pos && c->out(c->opaque, c->obuf, o.pos, err) < 0)
			return -1;
		if (end ? r == 0 : in.pos == in.size)
			return 0;
	}
}

int comp_write(struct comp *c, const void *buf, size_t len, struct scow_error **err)
{
	if (len == 0)
		return 0;
	switch (c->fmt) {
	case COMP_GZIP: return gz_write(c, buf, len, err);
	case COMP_ZSTD: return zstd_run(c, buf, len, false, err);
	default: return c->out(c->opaque, buf, len, err);
	}
}

int comp_finish(struct comp *c, struct scow_error **err)
{
	if (c->finished)
		return 0;
	c->finished = true;
	switch (c->fmt) {
	case COMP_GZIP: return gz_finish(c, err);
	case COMP_ZSTD: return zstd_run(c, NULL, 0, true, err);
	default: return 0;
	}
}
