/* image_load(): docker-archive and OCI layouts (see archive.h).
 *
 * One pass over the archive fills a table of entries (JSON kept in memory,
 * other files staged as layers); then every image is checked; then layers
 * and images are committed. Threads: a decompressing reader when the
 * archive itself is compressed, and an extractor per staged entry (the
 * entry's bytes are hashed and, if compressed, inflated on the way). */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/reference.h"
#include "layers/decompress.h"
#include "layers/extract.h"
#include "layers/tar.h"
#include "layers/tarsplit.h"
#include "util/bytequeue.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define JSON_ENTRY_MAX (4u << 20)
#define JSON_TOTAL_MAX (64u << 20)
#define READ_CHUNK (1u << 20)
#define QUEUE_SLOTS 4
#define SLOT_SIZE (256u << 10)
#define LINK_DEPTH_MAX 16
#define IMAGES_MAX 1000

#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

/* ENT_EXISTING: a layer the store has already (not extracted again). */
enum entry_kind { ENT_JSON, ENT_STAGED, ENT_OTHER, ENT_LINK, ENT_EXISTING };

struct entry {
	char *name; /* normalised */
	enum entry_kind kind;
	char *target; /* ENT_LINK: normalised name it stands for */
	char *data;   /* ENT_JSON */
	size_t len;
	bool too_large;
	char digest[DIGEST_STR_LEN + 1]; /* of the entry's bytes */
	int64_t size;
	/* ENT_STAGED */
	struct layer_tx tx;
	bool tx_open;
	char diff_id[DIGEST_STR_LEN + 1];
	enum decomp_format format;
	int64_t unpacked;
	char committed[DIGEST_STR_LEN + 1]; /* the chain id it became */
	char *why; /* ENT_OTHER: why it is not a layer */
};

struct loader {
	struct image_store *s;
	struct entry *entries;
	size_t n, cap;
	size_t json_total;
};

static void entry_release(struct loader *ld, struct entry *e)
{
	if (e->tx_open)
		layer_tx_abort_staging(&ld->s->layers, &e->tx);
	e->tx_open = false;
	free(e->name);
	free(e->target);
	free(e->data);
	free(e->why);
	memset(e, 0, sizeof(*e));
}

static void loader_release(struct loader *ld)
{
	for (size_t i = 0; i < ld->n; i++)
		entry_release(ld, &ld->entries[i]);
	free(ld->entries);
}

/* ---- names ------------------------------------------------------------------------- */

/* A member name as a clean relative path; "..", absolute names and empty
 * ones are refused. */
static int name_clean(const char *raw, char **ret, struct scow_error **err)
{
	if (!raw || !*raw)
		return error_set(err, EINVAL, "refusing an entry without a name");
	if (raw[0] == '/')
		return error_set(err, EPERM, "refusing the absolute name \"%.200s\"", raw);
	struct strbuf sb = STRBUF_INIT;
	const char *p = raw;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			sb_release(&sb);
			return error_set(err, EPERM, "refusing the name \"%.200s\" (\"..\")", raw);
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				sb_appendc(&sb, '/');
			sb_appendn(&sb, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	if (sb.len >= 4096) {
		sb_release(&sb);
		return error_set(err, ENAMETOOLONG, "refusing a name of 4096 bytes or more");
	}
	*ret = sb_steal(&sb);
	return 0;
}

/* The name a symlink at `name` pointing to `target` stands for; it must
 * stay inside the archive. */
static int link_resolve(const char *name, const char *target, char **ret, struct scow_error **err)
{
	if (!target || !*target || target[0] == '/')
		return error_set(err, EPERM, "refusing the link \"%.200s\" to \"%.200s\"", name,
				 target ? target : "");
	char **parts = xcalloc(1, sizeof(char *));
	const char *slash = strrchr(name, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(name, (size_t)(slash - name)) : xstrdup("");
	_cleanup_free_ char *joined = *dir ? xasprintf("%s/%s", dir, target) : xstrdup(target);
	int r = 0;
	for (char *p = joined, *tok; (tok = strsep(&p, "/"));) {
		if (!*tok || strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			size_t n = strv_len(parts);
			if (n == 0) {
				r = error_set(err, EPERM,
					      "refusing the link \"%.200s\": \"%.200s\" leads out of "
					      "the archive",
					      name, target);
				break;
			}
			free(parts[n - 1]);
			parts[n - 1] = NULL;
			continue;
		}
		strv_push(&parts, xstrdup(tok));
	}
	if (r == 0) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; parts[i]; i++)
			sb_printf(&sb, "%s%s", i ? "/" : "", parts[i]);
		*ret = sb_steal(&sb);
	}
	strv_free(parts);
	return r;
}

static struct entry *entry_find(struct loader *ld, const char *name)
{
	for (size_t i = ld->n; i-- > 0;)
		if (ld->entries[i].name && strcmp(ld->entries[i].name, name) == 0)
			return &ld->entries[i];
	return NULL;
}

/* The entry name refers to, links followed. */
static struct entry *entry_lookup(struct loader *ld, const char *raw, struct scow_error **err)
{
	_cleanup_free_ char *name = NULL;
	if (name_clean(raw, &name, err) < 0)
		return NULL;
	for (int depth = 0; depth <= LINK_DEPTH_MAX; depth++) {
		struct entry *e = entry_find(ld, name);
		if (!e) {
			error_set(err, ENOENT, "the archive has no \"%.200s\"", raw);
			return NULL;
		}
		if (e->kind != ENT_LINK)
			return e;
		free(name);
		name = xstrdup(e->target);
	}
	error_set(err, ELOOP, "\"%.200s\": too many links", raw);
	return NULL;
}

/* A new entry for name (replacing an earlier one of that name). */
static struct entry *entry_new(struct loader *ld, char *name, struct scow_error **err)
{
	struct entry *old = entry_find(ld, name);
	if (old) {
		entry_release(ld, old);
	} else if (ld->n >= ARCHIVE_ENTRIES_MAX) {
		free(name);
		error_set(err, E2BIG, "refusing an archive of more than %d entries",
			  ARCHIVE_ENTRIES_MAX);
		return NULL;
	}
	if (!old) {
		xgrow((void **)&ld->entries, &ld->cap, ld->n + 1, sizeof(*ld->entries));
		old = &ld->entries[ld->n++];
		memset(old, 0, sizeof(*old));
	}
	old->name = name;
	return old;
}

/* ---- staging a layer: hash, inflate, extract ------------------------------------------ */

struct ingest {
	struct loader *ld;
	struct entry *e;
	struct sha256 raw, tar;
	struct decomp *dec;
	struct bytequeue *q;
	pthread_t thread;
	bool started;
	struct layers_extract_opts xopts;
	struct layers_extract_stats stats;
	int xret;
	struct scow_error *xerr;
	struct scow_error *ferr; /* why inflating stopped */
	bool failed;		 /* not a layer: keep hashing only */
	int64_t bytes;
};

static ssize_t ingest_read(void *opaque, const void **ret, struct scow_error **err)
{
	(void)err;
	struct ingest *ig = opaque;
	return (ssize_t)bytequeue_read(ig->q, ret);
}

static void *ingest_main(void *opaque)
{
	struct ingest *ig = opaque;
	ig->xret = layers_extract(ig->e->tx.diff_fd, ingest_read, ig, &ig->xopts, &ig->stats,
				  &ig->xerr);
	bytequeue_close(ig->q);
	return NULL;
}

static int ingest_out(void *opaque, const void *buf, size_t len)
{
	struct ingest *ig = opaque;
	sha256_update(&ig->tar, buf, len);
	return bytequeue_write(ig->q, buf, len);
}

static int ingest_start(struct ingest *ig, struct loader *ld, struct entry *e,
			struct scow_error **err)
{
	*ig = (struct ingest){.ld = ld, .e = e};
	sha256_init(&ig->raw);
	sha256_init(&ig->tar);
	if (layer_tx_begin_staging(&ld->s->layers, &e->tx, err) < 0)
		return -1;
	e->tx_open = true;
	ig->q = bytequeue_new(QUEUE_SLOTS, SLOT_SIZE);
	ig->dec = decomp_new(ingest_out, ig);
	ig->xopts.rootless = ld->s->layers.rootless;
	ig->xopts.overlay_xattr_prefix = ig->xopts.rootless ? "user" : "trusted";
	ig->xopts.tarsplit = layers_tarsplit_new(openat(e->tx.tmp_fd, LAYERS_TARSPLIT_FILE,
							O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
							0600));
	if (pthread_create(&ig->thread, NULL, ingest_main, ig) != 0)
		return error_set(err, EAGAIN, "cannot start a thread");
	ig->started = true;
	return 0;
}

static void ingest_feed(struct ingest *ig, const void *buf, size_t len)
{
	sha256_update(&ig->raw, buf, len);
	ig->bytes += (int64_t)len;
	if (ig->failed)
		return;
	int r = decomp_feed(ig->dec, buf, len, &ig->ferr);
	if (r < 0)
		ig->failed = true; /* corrupt, or the extractor gave up */
}

static void ingest_stop(struct ingest *ig)
{
	if (ig->started) {
		bytequeue_finish(ig->q);
		pthread_join(ig->thread, NULL);
		ig->started = false;
	}
}

/* Ends the entry: it is a staged layer, or ENT_OTHER (with the reason). */
static void ingest_finish(struct ingest *ig)
{
	struct entry *e = ig->e;
	if (!ig->failed && decomp_finish(ig->dec, &ig->ferr) < 0)
		ig->failed = true;
	ingest_stop(ig);
	sha256_final(&ig->raw, e->digest);
	e->size = ig->bytes;
	bool ok = !ig->failed && ig->xret == 0;
	if (ok) {
		sha256_final(&ig->tar, e->diff_id);
		e->format = decomp_format(ig->dec);
		e->unpacked = (int64_t)ig->stats.bytes;
		e->kind = ENT_STAGED;
		if (!layers_tarsplit_finish(ig->xopts.tarsplit))
			unlinkat(e->tx.tmp_fd, LAYERS_TARSPLIT_FILE, 0);
		/* Only the lock is needed until the commit. */
		closep(&e->tx.diff_fd);
		closep(&e->tx.tmp_fd);
		e->tx.diff_fd = e->tx.tmp_fd = -1;
	} else {
		e->kind = ENT_OTHER;
		struct scow_error *why = ig->xret < 0 && ig->xerr ? ig->xerr : ig->ferr;
		e->why = xstrdup(why ? why->msg : "not a layer");
		layer_tx_abort_staging(&ig->ld->s->layers, &e->tx);
		e->tx_open = false;
	}
}

static void ingest_release(struct ingest *ig)
{
	ingest_stop(ig);
	if (ig->raw.md)
		sha256_release(&ig->raw);
	if (ig->tar.md)
		sha256_release(&ig->tar);
	decomp_free(ig->dec);
	bytequeue_free(ig->q);
	layers_tarsplit_free(ig->xopts.tarsplit);
	error_free(ig->xerr);
	error_free(ig->ferr);
}

/* ---- one layer from a stream: import, commit (archive.h) -------------------------------- */

struct layer_import {
	struct loader ld;
	struct entry e;
	struct ingest ig;
	bool started, finished;
};

int layer_import_start(struct image_store *s, struct layer_import **ret, struct scow_error **err)
{
	if (lazy_archive_load(err) < 0 || lazy_crypto_load(err) < 0 || lazy_isal_load(err) < 0 ||
	    lazy_zstd_load(err) < 0)
		return -1;
	struct layer_import *li = xcalloc(1, sizeof(*li));
	li->ld.s = s;
	li->started = true;
	if (ingest_start(&li->ig, &li->ld, &li->e, err) < 0) {
		layer_import_free(li);
		return -1;
	}
	*ret = li;
	return 0;
}

int layer_import_feed(struct layer_import *li, const void *buf, size_t len)
{
	ingest_feed(&li->ig, buf, len);
	return li->ig.failed ? -1 : 0;
}

int layer_import_finish(struct layer_import *li, struct layer_info *ret, struct scow_error **err)
{
	if (!li->finished) {
		ingest_finish(&li->ig);
		li->finished = true;
	}
	struct entry *e = &li->e;
	if (e->kind != ENT_STAGED)
		return error_set(err, EINVAL, "not a layer tar: %s", e->why ? e->why : "?");
	bool comp = e->format != DECOMP_NONE;
	*ret = (struct layer_info){.compressed_size = e->size, .size = e->unpacked};
	memcpy(ret->diff_id, e->diff_id, sizeof(ret->diff_id));
	memcpy(ret->digest, comp ? e->digest : e->diff_id, sizeof(ret->digest));
	snprintf(ret->media_type, sizeof(ret->media_type), "%s",
		 comp && e->format == DECOMP_ZSTD ? MT_OCI_LAYER "+zstd"
		 : comp			   ? MT_DOCKER_LAYER
					   : MT_DOCKER_LAYER_TAR);
	return 0;
}

int layer_import_commit(struct layer_import *li, const char *parent, struct layer_info *info,
			struct scow_error **err)
{
	struct entry *e = &li->e;
	if (!li->finished || e->kind != ENT_STAGED || !e->tx_open)
		return error_set(err, EINVAL, "layer_import_commit: no staged layer");
	snprintf(info->parent, sizeof(info->parent), "%s", parent);
	layer_chain_id(parent, info->diff_id, info->chain_id);
	if (layer_exists(&li->ld.s->layers, info->chain_id)) {
		layer_tx_abort_staging(&li->ld.s->layers, &e->tx);
		e->tx_open = false;
		return 0;
	}
	bool existed;
	e->tx_open = false; /* over, whatever the commit gives */
	if (layer_tx_commit_as(&li->ld.s->layers, &e->tx, info->chain_id, info, &existed, err) < 0)
		return error_wrap(err, "layer %.19s", info->diff_id);
	return 0;
}

void layer_import_free(struct layer_import *li)
{
	if (!li)
		return;
	if (li->started)
		ingest_release(&li->ig);
	entry_release(&li->ld, &li->e);
	free(li);
}

/* ---- one regular file of the archive ------------------------------------------------------ */

/* Supplies the file's bytes: >0 bytes at *ret, 0 at its end, <0 error. */
typedef ssize_t (*data_fn)(void *opaque, const void **ret, struct scow_error **err);

static bool looks_like_json(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
			continue;
		return p[i] == '{' || p[i] == '[';
	}
	return false;
}

static int file_json(struct loader *ld, struct entry *e, const void *first, size_t flen,
		     data_fn next, void *opaque, struct scow_error **err)
{
	struct sha256 h;
	sha256_init(&h);
	struct strbuf sb = STRBUF_INIT;
	const void *buf = first;
	ssize_t n = (ssize_t)flen;
	int r = 0;
	while (n > 0) {
		sha256_update(&h, buf, (size_t)n);
		e->size += n;
		if (!e->too_large && sb.len + (size_t)n <= JSON_ENTRY_MAX)
			sb_appendn(&sb, buf, (size_t)n);
		else
			e->too_large = true;
		n = next(opaque, &buf, err);
	}
	if (n < 0)
		r = -1;
	sha256_final(&h, e->digest);
	sha256_release(&h);
	e->kind = ENT_JSON;
	if (e->too_large) {
		sb_release(&sb);
	} else {
		ld->json_total += sb.len;
		e->len = sb.len;
		e->data = sb_steal(&sb);
	}
	if (r == 0 && ld->json_total > JSON_TOTAL_MAX)
		r = error_set(err, E2BIG, "refusing an archive with more than %u MiB of metadata",
			      JSON_TOTAL_MAX >> 20);
	return r;
}

static int config_diff_ids(const char *config, size_t len, json_t **ret_ids,
			   struct scow_error **err);

/* In a docker-archive whose manifest.json and configs come before the
 * layers (as scow writes them): true when every image that lists the layer
 * name already has it in the store, which then need not be extracted again.
 * Sets its diff_id and one chain id it exists as. */
static bool layer_known(struct loader *ld, const char *name, char diff_id[DIGEST_STR_LEN + 1],
			char chain_id[DIGEST_STR_LEN + 1])
{
	struct entry *m = entry_find(ld, "manifest.json");
	if (!m || m->kind != ENT_JSON || m->too_large)
		return false;
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_json_ json_t *j = json_parse_buf(m->data, m->len, "manifest.json", &e);
	int uses = 0;
	size_t i, k;
	json_t *it, *ln;
	json_array_foreach(j, i, it) {
		json_array_foreach(json_get_arr(it, "Layers"), k, ln) {
			_cleanup_free_ char *clean = NULL;
			if (!json_is_string(ln) || name_clean(json_string_value(ln), &clean, &e) < 0 ||
			    strcmp(clean, name) != 0) {
				error_freep(&e);
				continue;
			}
			const char *cn = json_get_str(it, "Config");
			struct entry *ce = cn ? entry_lookup(ld, cn, &e) : NULL;
			_cleanup_json_ json_t *ids = NULL;
			if (!ce || ce->kind != ENT_JSON || ce->too_large ||
			    config_diff_ids(ce->data, ce->len, &ids, &e) < 0 || json_array_size(ids) <= k)
				return false;
			char chain[DIGEST_STR_LEN + 1] = "";
			for (size_t x = 0; x <= k; x++)
				layer_chain_id(chain, json_string_value(json_array_get(ids, x)), chain);
			if (!layer_exists(&ld->s->layers, chain))
				return false;
			snprintf(diff_id, DIGEST_STR_LEN + 1, "%s", json_string_value(json_array_get(ids, k)));
			memcpy(chain_id, chain, DIGEST_STR_LEN + 1);
			uses++;
		}
	}
	return uses > 0;
}

static int file_add(struct loader *ld, char *name, data_fn next, void *opaque,
		    struct scow_error **err)
{
	struct entry *e = entry_new(ld, name, err);
	if (!e)
		return -1;
	const void *first = NULL;
	ssize_t n = next(opaque, &first, err);
	if (n < 0)
		return -1;
	if (n > 0 && looks_like_json(first, (size_t)n))
		return file_json(ld, e, first, (size_t)n, next, opaque, err);
	if (layer_known(ld, e->name, e->diff_id, e->committed)) {
		log_debug("archive entry \"%s\": layer %.19s exists, not extracted", e->name,
			  e->diff_id);
		e->kind = ENT_EXISTING;
		while (n > 0)
			n = next(opaque, &first, err);
		return n < 0 ? -1 : 0;
	}
	struct ingest ig;
	int r = ingest_start(&ig, ld, e, err);
	while (r == 0 && n > 0) {
		ingest_feed(&ig, first, (size_t)n);
		n = next(opaque, &first, err);
	}
	if (r == 0 && n < 0)
		r = -1;
	if (r == 0)
		ingest_finish(&ig);
	ingest_release(&ig);
	if (r < 0 && e->tx_open) {
		layer_tx_abort_staging(&ld->s->layers, &e->tx);
		e->tx_open = false;
	}
	if (r == 0 && e->kind == ENT_OTHER)
		log_debug("archive entry \"%s\" is not a layer: %s", e->name, e->why);
	return r;
}

static int link_add(struct loader *ld, char *name, const char *target, bool hard,
		    struct scow_error **err)
{
	char *resolved = NULL;
	int r = hard ? name_clean(target, &resolved, err) : link_resolve(name, target, &resolved, err);
	if (r < 0) {
		free(name);
		return -1;
	}
	struct entry *e = entry_new(ld, name, err);
	if (!e) {
		free(resolved);
		return -1;
	}
	e->kind = ENT_LINK;
	e->target = resolved;
	return 0;
}

/* ---- reading a tar ------------------------------------------------------------------------ */

/* The archive's bytes, decompressed if need be. */
struct source {
	int fd;
	unsigned char *buf;
	size_t first_len; /* bytes of buf read while sniffing, not yet handed out */
	bool compressed;
	/* compressed: a thread reads and inflates into q */
	struct bytequeue *q;
	struct decomp *dec;
	pthread_t thread;
	bool started;
	struct scow_error *err;
};

static int src_out(void *opaque, const void *buf, size_t len)
{
	struct source *s = opaque;
	return bytequeue_write(s->q, buf, len);
}

static void *src_main(void *opaque)
{
	struct source *s = opaque;
	size_t n = s->first_len;
	for (;;) {
		if (n > 0 && decomp_feed(s->dec, s->buf, n, &s->err) < 0)
			break;
		ssize_t k = read(s->fd, s->buf, READ_CHUNK);
		if (k < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (k < 0) {
			error_errno(&s->err, "read the archive");
			break;
		}
		if (k == 0) {
			decomp_finish(s->dec, &s->err);
			break;
		}
		n = (size_t)k;
	}
	bytequeue_finish(s->q); /* an early end with s->err set: reported */
	return NULL;
}

static int src_open(struct source *s, int fd, struct scow_error **err)
{
	*s = (struct source){.fd = fd};
	s->buf = xmalloc(READ_CHUNK);
	while (s->first_len < 4) {
		ssize_t k = read(fd, s->buf + s->first_len, READ_CHUNK - s->first_len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return error_errno(err, "read the archive");
		if (k == 0)
			break;
		s->first_len += (size_t)k;
	}
	const unsigned char *b = s->buf;
	s->compressed = s->first_len >= 4 && ((b[0] == 0x1f && b[1] == 0x8b) ||
					      (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd));
	if (!s->compressed)
		return 0;
	s->q = bytequeue_new(QUEUE_SLOTS, SLOT_SIZE);
	s->dec = decomp_new(src_out, s);
	if (pthread_create(&s->thread, NULL, src_main, s) != 0)
		return error_set(err, EAGAIN, "cannot start a thread");
	s->started = true;
	return 0;
}

static void src_release(struct source *s)
{
	if (s->started) {
		bytequeue_close(s->q);
		pthread_join(s->thread, NULL);
	}
	bytequeue_free(s->q);
	decomp_free(s->dec);
	free(s->buf);
	error_free(s->err);
}

static la_ssize_t src_read(struct archive *a, void *opaque, const void **ret)
{
	struct source *s = opaque;
	if (s->compressed) {
		size_t n = bytequeue_read(s->q, ret);
		if (n == 0 && s->err) {
			archive_set_error(a, EIO, "%s", s->err->msg);
			return -1;
		}
		return (la_ssize_t)n;
	}
	if (s->first_len) {
		*ret = s->buf;
		la_ssize_t n = (la_ssize_t)s->first_len;
		s->first_len = 0;
		return n;
	}
	for (;;) {
		ssize_t k = read(s->fd, s->buf, READ_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			archive_set_error(a, errno, "read the archive: %s", strerror(errno));
			return -1;
		}
		*ret = s->buf;
		return k;
	}
}

struct tar_data {
	struct archive *a;
	bool eof;
};

static ssize_t tar_next(void *opaque, const void **ret, struct scow_error **err)
{
	struct tar_data *t = opaque;
	for (;;) {
		if (t->eof)
			return 0;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(t->a, ret, &len, &off);
		if (r == ARCHIVE_EOF) {
			t->eof = true;
			return 0;
		}
		if (r != ARCHIVE_OK)
			return error_set(err, EIO, "read the archive: %s", archive_error_string(t->a));
		if (len > 0)
			return (ssize_t)len;
	}
}

static int read_tar(struct loader *ld, int fd, struct scow_error **err)
{
	struct source src;
	int r = src_open(&src, fd, err);
	struct archive *a = r == 0 ? archive_read_new() : NULL;
	if (r == 0 && (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
		       archive_read_open(a, &src, NULL, src_read, NULL) != ARCHIVE_OK))
		r = error_set(err, EINVAL, "not an image archive: %s",
			      a ? archive_error_string(a) : "libarchive");
	for (size_t count = 0; r == 0; count++) {
		struct archive_entry *ae;
		int h = archive_read_next_header(a, &ae);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = error_set(err, EINVAL, "%s: %s", count ? "corrupt archive" : "not an image archive",
				      src.err ? src.err->msg : archive_error_string(a));
			break;
		}
		char *name = NULL;
		if (name_clean(archive_entry_pathname(ae), &name, err) < 0) {
			r = -1;
			break;
		}
		mode_t type = archive_entry_filetype(ae);
		const char *hl = archive_entry_hardlink(ae);
		if (hl) {
			r = link_add(ld, name, hl, true, err);
		} else if (type == AE_IFLNK) {
			r = link_add(ld, name, archive_entry_symlink(ae), false, err);
		} else if (type == AE_IFREG) {
			struct tar_data t = {.a = a};
			r = file_add(ld, name, tar_next, &t, err);
		} else {
			free(name); /* directories and anything else: not needed */
		}
	}
	if (a)
		archive_read_free(a);
	if (r == 0 && src.err) {
		*err = steal_ptr(&src.err);
		r = -1;
	}
	src_release(&src);
	return r;
}

/* ---- reading an OCI layout directory -------------------------------------------------------- */

struct fd_data {
	int fd;
	unsigned char *buf;
};

static ssize_t fd_next(void *opaque, const void **ret, struct scow_error **err)
{
	struct fd_data *d = opaque;
	for (;;) {
		ssize_t k = read(d->fd, d->buf, READ_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return error_errno(err, "read");
		*ret = d->buf;
		return k;
	}
}

static int dir_file(struct loader *ld, int dfd, const char *name, const char *entry_name,
		    unsigned char *buf, struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open %s", entry_name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", entry_name);
	if (!S_ISREG(st.st_mode))
		return error_set(err, EPERM, "refusing \"%s\": not a regular file", entry_name);
	struct fd_data d = {fd, buf};
	return file_add(ld, xstrdup(entry_name), fd_next, &d, err);
}

static int read_dir(struct loader *ld, int dir_fd, struct scow_error **err)
{
	_cleanup_free_ unsigned char *buf = xmalloc(READ_CHUNK);
	static const char *const top[] = {"oci-layout", "index.json", "manifest.json"};
	for (size_t i = 0; i < ARRAY_SIZE(top); i++)
		if (dir_file(ld, dir_fd, top[i], top[i], buf, err) < 0)
			return -1;
	_cleanup_close_ int bfd = openat(dir_fd, "blobs/sha256",
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open blobs/sha256");
	int dup_fd = openat(bfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d)
		return error_errno(err, "read blobs/sha256");
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN || !str_is_hex(de->d_name, DIGEST_HEX_LEN))
			continue;
		_cleanup_free_ char *en = xasprintf("blobs/sha256/%s", de->d_name);
		if (dir_file(ld, bfd, de->d_name, en, buf, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- images ------------------------------------------------------------------------------------ */

struct load_layer {
	struct entry *e;   /* the staged (or JSON-looking) entry */
	char diff_id[DIGEST_STR_LEN + 1];
	char chain_id[DIGEST_STR_LEN + 1];
	char digest[DIGEST_STR_LEN + 1]; /* of the blob as archived */
	char media_type[128];
	int64_t size;
};

struct load_image {
	char id[DIGEST_STR_LEN + 1];
	const char *config;
	size_t config_len;
	const char *manifest; /* OCI: the manifest's bytes, else NULL */
	size_t manifest_len;
	char manifest_digest[DIGEST_STR_LEN + 1];
	char *manifest_mt;
	struct load_layer *layers;
	size_t nlayers;
	char **tags;
};

static void load_image_release(struct load_image *im)
{
	free(im->layers);
	free(im->manifest_mt);
	strv_free(im->tags);
}

static struct entry *json_entry(struct loader *ld, const char *name, const char *what,
				struct scow_error **err)
{
	struct entry *e = entry_lookup(ld, name, err);
	if (!e)
		return NULL;
	if (e->kind == ENT_JSON && e->too_large) {
		error_set(err, EFBIG, "refusing %s \"%.200s\": larger than %u bytes", what, name,
			  JSON_ENTRY_MAX);
		return NULL;
	}
	if (e->kind != ENT_JSON) {
		error_set(err, EINVAL, "%s \"%.200s\" is not JSON", what, name);
		return NULL;
	}
	return e;
}

/* Checks a layer's entry against the config's diff_id. */
static int layer_check(struct load_layer *l, struct entry *e, const char *name, const char *diff_id,
		       struct scow_error **err)
{
	l->e = e;
	snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff_id);
	if (e->kind == ENT_STAGED || e->kind == ENT_EXISTING) {
		if (strcmp(e->diff_id, diff_id) != 0)
			return error_set(err, EBADMSG, "layer \"%.200s\": diff_id mismatch: the config "
						       "says %s, the layer is %s",
					 name, diff_id, e->diff_id);
		return 0;
	}
	if (e->kind == ENT_JSON && !e->too_large)
		return 0; /* a tar that starts with "{": checked when extracted */
	return error_set(err, EINVAL, "layer \"%.200s\" is not a layer tar%s%s", name,
			 e->why ? ": " : "", e->why ? e->why : "");
}

static int config_diff_ids(const char *config, size_t len, json_t **ret_ids,
			   struct scow_error **err)
{
	_cleanup_json_ json_t *c = json_parse_buf(config, len, "image config", err);
	if (!c)
		return -1;
	json_t *rootfs = json_get_obj(c, "rootfs");
	json_t *ids = json_get_arr(rootfs, "diff_ids");
	if (!ids || !str_eq(json_get_str(rootfs, "type"), "layers"))
		return error_set(err, EINVAL, "image config: invalid rootfs");
	size_t i;
	json_t *d;
	json_array_foreach(ids, i, d)
		if (digest_check(json_string_value(d), "image config: diff_id", err) < 0)
			return -1;
	*ret_ids = json_incref(ids);
	return 0;
}

static void add_tag(struct load_image *im, const char *ref)
{
	struct image_ref r = {0};
	if (!ref || image_ref_parse(ref, true, &r, NULL) < 0)
		return;
	if (!r.digest) {
		char *full = image_ref_string(&r);
		if (strv_contains(im->tags, full))
			free(full);
		else
			strv_push(&im->tags, full);
	}
	image_ref_release(&r);
}

static int docker_images(struct loader *ld, struct entry *m, struct load_image **ret,
			 size_t *ret_n, struct scow_error **err)
{
	_cleanup_json_ json_t *j = json_parse_buf(m->data, m->len, "manifest.json", err);
	if (!j)
		return -1;
	if (!json_is_array(j) || json_array_size(j) == 0 || json_array_size(j) > IMAGES_MAX)
		return error_set(err, EINVAL, "manifest.json: not a list of images");
	size_t n = json_array_size(j);
	struct load_image *imgs = xcalloc(n, sizeof(*imgs));
	*ret = imgs;
	*ret_n = n;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(j, i);
		struct load_image *im = &imgs[i];
		im->tags = xcalloc(1, sizeof(char *));
		const char *cname = json_get_str(it, "Config");
		json_t *layers = json_get_arr(it, "Layers");
		if (!cname || !layers)
			return error_set(err, EINVAL, "manifest.json: image %zu lacks Config or Layers", i);
		struct entry *ce = json_entry(ld, cname, "config", err);
		if (!ce)
			return -1;
		im->config = ce->data;
		im->config_len = ce->len;
		sha256_digest(ce->data, ce->len, im->id);
		_cleanup_json_ json_t *ids = NULL;
		if (config_diff_ids(ce->data, ce->len, &ids, err) < 0)
			return error_wrap(err, "%s", cname);
		if (json_array_size(ids) != json_array_size(layers))
			return error_set(err, EINVAL, "%s lists %zu layers, manifest.json %zu", cname,
					 json_array_size(ids), json_array_size(layers));
		im->nlayers = json_array_size(layers);
		im->layers = xcalloc(im->nlayers + 1, sizeof(*im->layers));
		for (size_t k = 0; k < im->nlayers; k++) {
			const char *ln = json_string_value(json_array_get(layers, k));
			struct entry *le = ln ? entry_lookup(ld, ln, err) : NULL;
			if (!ln)
				return error_set(err, EINVAL, "manifest.json: bad layer name");
			if (!le)
				return -1;
			struct load_layer *l = &im->layers[k];
			if (layer_check(l, le, ln, json_string_value(json_array_get(ids, k)), err) < 0)
				return -1;
			bool comp = le->kind == ENT_STAGED && le->format != DECOMP_NONE;
			snprintf(l->digest, sizeof(l->digest), "%s", comp ? le->digest : l->diff_id);
			snprintf(l->media_type, sizeof(l->media_type), "%s",
				 comp && le->format == DECOMP_ZSTD ? MT_OCI_LAYER "+zstd"
				 : comp			    ? MT_DOCKER_LAYER
							    : MT_DOCKER_LAYER_TAR);
			l->size = le->size;
		}
		size_t t;
		json_t *tag;
		json_array_foreach(json_get_arr(it, "RepoTags"), t, tag)
			add_tag(im, json_string_value(tag));
	}
	return 0;
}

/* The blob a descriptor names, checked against its digest and size. */
static struct entry *blob_entry(struct loader *ld, const struct descriptor *d,
				struct scow_error **err)
{
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(d->digest));
	struct entry *e = entry_lookup(ld, name, err);
	if (!e)
		return NULL;
	if (strcmp(e->digest, d->digest) != 0 || (d->size >= 0 && e->size != d->size)) {
		error_set(err, EBADMSG, "blob %s: digest or size mismatch (got %s, %lld bytes)",
			  d->digest, e->digest, (long long)e->size);
		return NULL;
	}
	return e;
}

static int oci_image(struct loader *ld, const struct descriptor *d, struct load_image *im,
		     struct scow_error **err)
{
	struct entry *me = blob_entry(ld, d, err);
	if (!me)
		return -1;
	if (me->kind != ENT_JSON || me->too_large)
		return error_set(err, EINVAL, "manifest %s: not a manifest of at most %u bytes",
				 d->digest, JSON_ENTRY_MAX);
	struct manifest m;
	if (manifest_parse(me->data, me->len, d->media_type, &m, err) < 0)
		return error_wrap(err, "manifest %s", d->digest);
	int r = 0;
	if (m.kind != MANIFEST_IMAGE)
		r = error_set(err, EINVAL, "manifest %s is an index", d->digest);
	struct entry *ce = r == 0 ? blob_entry(ld, &m.config, err) : NULL;
	if (r == 0 && !ce)
		r = -1;
	if (r == 0 && (ce->kind != ENT_JSON || ce->too_large))
		r = error_set(err, EINVAL, "config %s is not JSON", m.config.digest);
	_cleanup_json_ json_t *ids = NULL;
	if (r == 0 && config_diff_ids(ce->data, ce->len, &ids, err) < 0)
		r = -1;
	if (r == 0 && json_array_size(ids) != m.n_layers)
		r = error_set(err, EINVAL, "config %s lists %zu layers, the manifest %zu",
			      m.config.digest, json_array_size(ids), m.n_layers);
	if (r == 0) {
		im->config = ce->data;
		im->config_len = ce->len;
		memcpy(im->id, m.config.digest, sizeof(im->id));
		im->manifest = me->data;
		im->manifest_len = me->len;
		im->manifest_mt = xstrdup(m.media_type);
		im->nlayers = m.n_layers;
		im->layers = xcalloc(im->nlayers + 1, sizeof(*im->layers));
	}
	for (size_t k = 0; r == 0 && k < m.n_layers; k++) {
		struct load_layer *l = &im->layers[k];
		struct entry *le = blob_entry(ld, &m.layers[k], err);
		if (!le ||
		    layer_check(l, le, m.layers[k].digest, json_string_value(json_array_get(ids, k)),
				err) < 0) {
			r = -1;
			break;
		}
		memcpy(l->digest, m.layers[k].digest, sizeof(l->digest));
		snprintf(l->media_type, sizeof(l->media_type), "%s",
			 m.layers[k].media_type ? m.layers[k].media_type : MT_OCI_LAYER);
		l->size = m.layers[k].size;
	}
	manifest_release(&m);
	return r;
}

/* A name from the index's annotations: a full reference, not a bare tag. */
static const char *oci_ref_name(json_t *desc)
{
	json_t *ann = json_get_obj(desc, "annotations");
	const char *n = json_get_str(ann, "io.containerd.image.name");
	if (!n)
		n = json_get_str(ann, "org.opencontainers.image.ref.name");
	if (!n || (!strchr(n, '/') && !strchr(n, ':')))
		return NULL;
	return n;
}

static int oci_images(struct loader *ld, struct entry *idx, struct load_image **ret,
		      size_t *ret_n, struct scow_error **err)
{
	_cleanup_json_ json_t *j = json_parse_buf(idx->data, idx->len, "index.json", err);
	if (!j)
		return -1;
	json_t *list = json_get_arr(j, "manifests");
	if (!list || json_array_size(list) == 0 || json_array_size(list) > IMAGES_MAX)
		return error_set(err, EINVAL, "index.json: no manifests");
	struct manifest index;
	if (manifest_parse(idx->data, idx->len, MT_OCI_INDEX, &index, err) < 0)
		return error_wrap(err, "index.json");
	struct load_image *imgs = xcalloc(index.n_manifests + 1, sizeof(*imgs));
	size_t n = 0;
	*ret = imgs;
	int r = 0;
	for (size_t i = 0; r == 0 && i < index.n_manifests; i++) {
		const struct descriptor *d = &index.manifests[i];
		struct manifest nested = {0};
		bool have_nested = false;
		if (str_eq(d->media_type, MT_OCI_INDEX) || str_eq(d->media_type, MT_DOCKER_LIST)) {
			struct entry *ne = blob_entry(ld, d, err);
			if (!ne || ne->kind != ENT_JSON || ne->too_large ||
			    manifest_parse(ne->data, ne->len, d->media_type, &nested, err) < 0) {
				r = ne && ne->kind != ENT_JSON ? error_set(err, EINVAL, "bad index %s", d->digest) : -1;
				break;
			}
			have_nested = true;
			struct platform plat;
			platform_parse(NULL, &plat, NULL);
			d = manifest_select(&nested, &plat, err);
			if (!d)
				r = -1;
		}
		/* Several tags of one manifest: one image. */
		struct load_image *im = NULL;
		for (size_t k = 0; r == 0 && k < n; k++)
			if (strcmp(imgs[k].manifest_digest, d->digest) == 0)
				im = &imgs[k];
		if (r == 0 && !im) {
			im = &imgs[n++];
			im->tags = xcalloc(1, sizeof(char *));
			memcpy(im->manifest_digest, d->digest, sizeof(im->manifest_digest));
			r = oci_image(ld, d, im, err);
		}
		if (r == 0)
			add_tag(im, oci_ref_name(json_array_get(list, i)));
		if (have_nested)
			manifest_release(&nested);
	}
	manifest_release(&index);
	*ret_n = n;
	return r;
}

/* ---- committing ----------------------------------------------------------------------------- */

struct copy_src {
	struct loader *ld;
	struct entry *e;
	struct bytequeue *q;
	struct scow_error *err;
	int ret;
};

static int copy_write(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	struct copy_src *c = opaque;
	if (bytequeue_write(c->q, buf, len) < 0)
		return error_set(err, ECANCELED, "extraction stopped");
	return 0;
}

static int copy_decomp_out(void *opaque, const void *buf, size_t len)
{
	struct copy_src *c = opaque;
	return bytequeue_write(c->q, buf, len);
}

/* Produces the entry's tar: from memory, or replayed from the layer it
 * was committed as. */
static void *copy_main(void *opaque)
{
	struct copy_src *c = opaque;
	struct entry *e = c->e;
	if (e->kind == ENT_JSON) {
		struct decomp *d = decomp_new(copy_decomp_out, c);
		c->ret = decomp_feed(d, e->data, e->len, &c->err) < 0 ||
				 decomp_finish(d, &c->err) < 0
			 ? -1
			 : 0;
		decomp_free(d);
	} else {
		c->ret = layers_tar_stored(&c->ld->s->layers, e->committed, false, copy_write, c,
					   NULL, &c->err);
	}
	bytequeue_finish(c->q);
	return NULL;
}

struct hashing_reader {
	struct bytequeue *q;
	struct sha256 h;
};

static ssize_t hashing_read(void *opaque, const void **ret, struct scow_error **err)
{
	(void)err;
	struct hashing_reader *r = opaque;
	size_t n = bytequeue_read(r->q, ret);
	sha256_update(&r->h, *ret, n);
	return (ssize_t)n;
}

/* A layer whose entry is not staged any more (committed under another
 * chain id) or was never (JSON-looking): extracted anew into chain_id. */
static int layer_copy(struct loader *ld, struct load_layer *l, const char *parent,
		      struct scow_error **err)
{
	struct layer_tx tx;
	bool exists;
	if (layer_tx_begin(&ld->s->layers, l->chain_id, &tx, &exists, err) < 0)
		return -1;
	if (exists)
		return 0;
	struct copy_src c = {.ld = ld, .e = l->e, .q = bytequeue_new(QUEUE_SLOTS, SLOT_SIZE)};
	struct hashing_reader hr = {.q = c.q};
	sha256_init(&hr.h);
	struct layers_extract_opts xo = {.rootless = ld->s->layers.rootless};
	xo.tarsplit = layers_tarsplit_new(openat(tx.tmp_fd, LAYERS_TARSPLIT_FILE,
						 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	struct layers_extract_stats st;
	pthread_t th;
	int r = pthread_create(&th, NULL, copy_main, &c) == 0 ? 0 : error_set(err, EAGAIN, "thread");
	if (r == 0) {
		r = layers_extract(tx.diff_fd, hashing_read, &hr, &xo, &st, err);
		bytequeue_close(c.q);
		pthread_join(th, NULL);
		if (r == 0 && c.ret < 0) {
			*err = steal_ptr(&c.err);
			r = -1;
		}
	}
	char got[DIGEST_STR_LEN + 1];
	sha256_final(&hr.h, got);
	sha256_release(&hr.h);
	if (r == 0 && strcmp(got, l->diff_id) != 0)
		r = error_set(err, EBADMSG, "layer %s: diff_id mismatch (got %s)", l->diff_id, got);
	if (r == 0 && !layers_tarsplit_finish(xo.tarsplit))
		unlinkat(tx.tmp_fd, LAYERS_TARSPLIT_FILE, 0);
	layers_tarsplit_free(xo.tarsplit);
	bytequeue_free(c.q);
	error_free(c.err);
	if (r < 0) {
		layer_tx_abort(&ld->s->layers, &tx);
		return -1;
	}
	struct layer_info li = {.size = (int64_t)st.bytes, .compressed_size = l->size};
	memcpy(li.diff_id, l->diff_id, sizeof(li.diff_id));
	memcpy(li.digest, l->digest, sizeof(li.digest));
	snprintf(li.parent, sizeof(li.parent), "%s", parent);
	snprintf(li.media_type, sizeof(li.media_type), "%s", l->media_type);
	return layer_tx_commit(&ld->s->layers, &tx, &li, err);
}

static int layers_commit(struct loader *ld, struct load_image *im, int64_t *ret_size,
			 struct scow_error **err)
{
	const char *parent = "";
	int64_t size = 0;
	for (size_t k = 0; k < im->nlayers; k++) {
		struct load_layer *l = &im->layers[k];
		layer_chain_id(parent, l->diff_id, l->chain_id);
		struct entry *e = l->e;
		if (!layer_exists(&ld->s->layers, l->chain_id)) {
			if (e->kind == ENT_STAGED && e->tx_open) {
				struct layer_info li = {.size = e->unpacked, .compressed_size = l->size};
				memcpy(li.diff_id, l->diff_id, sizeof(li.diff_id));
				memcpy(li.digest, l->digest, sizeof(li.digest));
				snprintf(li.parent, sizeof(li.parent), "%s", parent);
				snprintf(li.media_type, sizeof(li.media_type), "%s", l->media_type);
				bool existed;
				e->tx_open = false;
				if (layer_tx_commit_as(&ld->s->layers, &e->tx, l->chain_id, &li, &existed,
						       err) < 0)
					return error_wrap(err, "layer %.19s", l->diff_id);
				if (!existed)
					memcpy(e->committed, l->chain_id, sizeof(e->committed));
			} else if (layer_copy(ld, l, parent, err) < 0) {
				return error_wrap(err, "layer %.19s", l->diff_id);
			}
		}
		struct layer_info li;
		if (layer_info_read(&ld->s->layers, l->chain_id, &li, err) < 0)
			return -1;
		if (!e->committed[0] && e->kind == ENT_STAGED)
			memcpy(e->committed, l->chain_id, sizeof(e->committed));
		size += li.size;
		parent = l->chain_id;
	}
	*ret_size = size;
	return 0;
}

static int image_commit(struct loader *ld, struct load_image *im, int64_t size,
			struct load_result *ret, struct scow_error **err)
{
	struct image_store *s = ld->s;
	_cleanup_json_ json_t *meta = json_object();
	json_t *layers = json_array();
	for (size_t k = 0; k < im->nlayers; k++)
		json_array_append_new(layers, json_string(im->layers[k].chain_id));
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	json_set_str(meta, "id", im->id);
	if (im->manifest) {
		json_set_str(meta, "manifest_digest", im->manifest_digest);
		json_set_str(meta, "manifest_media_type", im->manifest_mt);
	}
	json_object_set_new(meta, "repo_digests", json_array());
	json_object_set_new(meta, "layers", layers);
	json_set_int(meta, "size", size);
	json_set_str(meta, "pulled", now);
	if (image_store_lock(s, err) < 0)
		return -1;
	int r = image_store_put(s, im->id, im->config, im->config_len, im->manifest,
				im->manifest_len, meta, err);
	if (r == 0 && im->tags[0]) {
		_cleanup_json_ json_t *tags = image_store_tags(s, err);
		if (!tags) {
			r = -1;
		} else {
			for (size_t i = 0; im->tags[i]; i++)
				json_object_set_new(tags, im->tags[i], json_string(im->id));
			r = image_store_save_tags(s, tags, err);
		}
	}
	image_store_unlock(s);
	if (r < 0)
		return -1;
	for (size_t i = 0; im->tags[i]; i++)
		if (!strv_contains(ret->tags, im->tags[i]))
			strv_push(&ret->tags, xstrdup(im->tags[i]));
	if (!im->tags[0] && !strv_contains(ret->ids, im->id))
		strv_push(&ret->ids, xstrdup(im->id));
	return 0;
}

static int load_run(struct loader *ld, int in_fd, int dir_fd, struct load_result *ret,
		    struct scow_error **err)
{
	if ((dir_fd >= 0 ? read_dir(ld, dir_fd, err) : read_tar(ld, in_fd, err)) < 0)
		return -1;
	struct load_image *imgs = NULL;
	size_t n = 0;
	_cleanup_error_ struct scow_error *e = NULL;
	struct entry *m = entry_lookup(ld, "manifest.json", &e);
	struct entry *idx = m ? NULL : entry_lookup(ld, "index.json", &e);
	int r;
	if (m && m->kind == ENT_JSON && !m->too_large)
		r = docker_images(ld, m, &imgs, &n, err);
	else if (idx && idx->kind == ENT_JSON && !idx->too_large)
		r = oci_images(ld, idx, &imgs, &n, err);
	else if ((m && m->too_large) || (idx && idx->too_large))
		r = error_set(err, EFBIG, "refusing %s: larger than %u bytes",
			      m ? "manifest.json" : "index.json", JSON_ENTRY_MAX);
	else if (m || idx)
		r = error_set(err, EINVAL, "refusing %s: not JSON", m ? "manifest.json" : "index.json");
	else
		r = error_set(err, EINVAL, "not an image archive: no manifest.json or index.json");
	/* Every image checked: now the store. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		int64_t size = 0;
		r = layers_commit(ld, &imgs[i], &size, err);
		if (r == 0)
			r = image_commit(ld, &imgs[i], size, ret, err);
	}
	for (size_t i = 0; i < n; i++)
		load_image_release(&imgs[i]);
	free(imgs);
	return r;
}

int image_load(struct image_store *s, int in_fd, int dir_fd, struct load_result *ret,
	       struct scow_error **err)
{
	if (lazy_archive_load(err) < 0 || lazy_crypto_load(err) < 0 || lazy_isal_load(err) < 0 ||
	    lazy_zstd_load(err) < 0)
		return -1;
	ret->tags = xcalloc(1, sizeof(char *));
	ret->ids = xcalloc(1, sizeof(char *));
	layer_store_clean_stale(&s->layers);
	/* From the first staged layer to the commit, no layer may be collected. */
	int gc = image_store_gc_guard(s, err);
	if (gc < 0)
		return -1;
	struct loader ld = {.s = s};
	int r = load_run(&ld, in_fd, dir_fd, ret, err);
	loader_release(&ld); /* drops staged layers nobody used */
	lock_release(gc);
	if (r < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_lock(s, &e) == 0) {
			image_store_gc_layers(s, &e);
			image_store_unlock(s);
		}
	}
	return r;
}
