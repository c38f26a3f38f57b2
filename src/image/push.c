#include "image/push.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/reference.h"
#include "layers/compress.h"
#include "layers/tar.h"
#include "layers/tarsplit.h"
#include "util/bytequeue.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/workers.h"
#include "util/xalloc.h"
#include "util/lazy_curl.h"

#define QUEUE_SLOTS 4
#define SLOT_SIZE (1u << 20)
#define PROGRESS_STEP (512 << 10)
#define BLOBS_JSON "blobs.json"
#define BLOBS_JSON_MAX (64u << 10)

#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_OCI_LAYER_GZIP MT_OCI_LAYER "+gzip"
#define MT_OCI_LAYER_ZSTD MT_OCI_LAYER "+zstd"

void push_result_release(struct push_result *r)
{
	free(r->ref);
	free(r->tag);
	r->ref = r->tag = NULL;
}

/* ---- media types ------------------------------------------------------------- */

static const char *layer_media_type(bool oci, enum comp_format c)
{
	if (oci)
		return c == COMP_GZIP ? MT_OCI_LAYER_GZIP : c == COMP_ZSTD ? MT_OCI_LAYER_ZSTD
									   : MT_OCI_LAYER;
	return c == COMP_GZIP ? MT_DOCKER_LAYER : MT_DOCKER_LAYER_TAR;
}

/* The compression a layer media type says, -1 if it is not a layer type. */
static int media_type_compression(const char *mt)
{
	if (!mt)
		return -1;
	if (str_ends_with(mt, "gzip"))
		return COMP_GZIP;
	if (str_ends_with(mt, "zstd"))
		return COMP_ZSTD;
	if (str_ends_with(mt, ".tar") || strstr(mt, "rootfs.diff.tar"))
		return COMP_NONE;
	return -1;
}

/* ---- state ---------------------------------------------------------------------- */

struct candidate {
	char digest[DIGEST_STR_LEN + 1];
	int64_t size;
	char **repos; /* "domain/path" known to hold it */
};

struct push_layer {
	int index;
	char chain_id[DIGEST_STR_LEN + 1];
	char diff_id[DIGEST_STR_LEN + 1]; /* the config's */
	struct layer_info li;
	struct candidate cands[2]; /* the pulled blob, our last pushed one */
	size_t ncands;
	/* result */
	char digest[DIGEST_STR_LEN + 1];
	int64_t size;
	char new_diff_id[DIGEST_STR_LEN + 1]; /* "" unless the tar changed */
	bool original; /* the pulled blob itself */
	bool uploaded;
	struct scow_error *err;
};

struct pusher {
	struct image_store *s;
	struct registry *reg;
	char *domain; /* destination reference's */
	char *repo;   /* destination repository path */
	const struct push_opts *opts;
	enum comp_format comp;
	bool oci;
	struct push_layer *layers;
	size_t n;
	pthread_mutex_t lock; /* guards q and progress calls */
	struct work_queue q;
};

static void emit(struct pusher *p, enum push_event_kind kind, const struct push_layer *l,
		 int64_t cur, int64_t total, const char *msg)
{
	if (!p->opts->progress)
		return;
	struct push_event ev = {kind, l ? l->index : -1, l ? l->diff_id : NULL, cur, total, msg};
	pthread_mutex_lock(&p->lock);
	p->opts->progress(p->opts->progress_opaque, &ev);
	pthread_mutex_unlock(&p->lock);
}

/* ---- known blobs: layer.json's original, blobs.json's pushed ------------------------ */

static int open_layer_dir(struct image_store *s, const char *chain_id)
{
	return openat(s->layers.layers_fd, digest_hex(chain_id),
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void candidates_load(struct pusher *p, struct push_layer *l, char *const *image_repos)
{
	int want = p->comp;
	if (l->li.digest[0] && media_type_compression(l->li.media_type) == want) {
		struct candidate *c = &l->cands[l->ncands++];
		memcpy(c->digest, l->li.digest, sizeof(c->digest));
		c->size = l->li.compressed_size;
		c->repos = strv_copy(image_repos);
	}
	_cleanup_close_ int dfd = open_layer_dir(p->s, l->chain_id);
	if (dfd < 0 || !fs_exists_at(dfd, BLOBS_JSON))
		return;
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_json_ json_t *j = json_load_at(dfd, BLOBS_JSON, BLOBS_JSON_MAX, &e);
	json_t *b = json_get_obj(j, comp_format_name(p->comp));
	const char *d = json_get_str(b, "digest");
	if (!d || !digest_is_valid(d) || (l->ncands && strcmp(d, l->cands[0].digest) == 0))
		return;
	struct candidate *c = &l->cands[l->ncands++];
	snprintf(c->digest, sizeof(c->digest), "%s", d);
	c->size = json_get_int(b, "size", -1);
	c->repos = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *r;
	json_array_foreach(json_get_arr(b, "repos"), i, r)
		if (json_is_string(r))
			strv_push(&c->repos, xstrdup(json_string_value(r)));
}

/* Remembers what this push made of the layer, for the next push. */
static void blobs_save(struct pusher *p, const struct push_layer *l)
{
	_cleanup_close_ int dfd = open_layer_dir(p->s, l->chain_id);
	if (dfd < 0)
		return;
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_json_ json_t *j = fs_exists_at(dfd, BLOBS_JSON)
					   ? json_load_at(dfd, BLOBS_JSON, BLOBS_JSON_MAX, &e)
					   : NULL;
	if (!j) {
		error_freep(&e);
		j = json_object();
	}
	const char *key = comp_format_name(p->comp);
	json_t *b = json_get_obj(j, key);
	json_t *repos = json_array();
	_cleanup_free_ char *here = xasprintf("%s/%s", p->domain, p->repo);
	json_array_append_new(repos, json_string(here));
	if (str_eq(json_get_str(b, "digest"), l->digest)) {
		size_t i;
		json_t *r;
		json_array_foreach(json_get_arr(b, "repos"), i, r)
			if (json_is_string(r) && !str_eq(json_string_value(r), here) &&
			    json_array_size(repos) < 16)
				json_array_append(repos, r);
	}
	json_object_set_new(j, key, json_pack("{s:s, s:I, s:o}", "digest", l->digest, "size",
					      (json_int_t)l->size, "repos", repos));
	if (json_save_at(dfd, BLOBS_JSON, j, &e) < 0)
		log_debug("layer %.19s: %s", l->chain_id, e->msg);
}

/* ---- requests ------------------------------------------------------------------- */

/* 1: the destination has the blob, 0: not, -1: error. */
static int blob_exists(struct pusher *p, CURL *curl, const char *digest, struct scow_error **err)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", p->repo, digest);
	struct registry_request req = {.method = "HEAD", .path = path};
	struct registry_response resp = {0};
	int r = registry_fetch(p->reg, curl, &req, &resp, err);
	registry_response_release(&resp);
	if (r == 0)
		return 1;
	if ((*err)->errnum == ENOENT) {
		error_freep(err);
		return 0;
	}
	return -1;
}

/* Starts an upload session (or mounts digest from `from`): 1 mounted,
 * 0 a session whose URL is in *ret_location, -1 error. */
static int upload_start(struct pusher *p, CURL *curl, const char *digest, const char *from,
			char **ret_location, struct scow_error **err)
{
	_cleanup_free_ char *path = from ? xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s",
						    p->repo, digest, from)
					 : xasprintf("/v2/%s/blobs/uploads/", p->repo);
	struct registry_request req = {.method = "POST", .path = path};
	struct registry_response resp = {0};
	if (registry_fetch(p->reg, curl, &req, &resp, err) < 0) {
		registry_response_release(&resp);
		return error_wrap(err, "start upload");
	}
	long status = resp.status;
	char *loc = steal_ptr(&resp.location);
	registry_response_release(&resp);
	if (status == 201 && from) {
		free(loc);
		return 1;
	}
	if (status != 202 || !loc) {
		free(loc);
		return error_set(err, EPROTO, "start upload: unexpected status %ld%s", status,
				 loc ? "" : " without a Location");
	}
	*ret_location = loc;
	return 0;
}

static char *with_query(const char *location, const char *digest)
{
	return xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest);
}

/* Closes an upload session (with the last bytes, if any). */
static int upload_finish(struct pusher *p, CURL *curl, const char *location, const char *digest,
			 const void *body, size_t len, struct scow_error **err)
{
	_cleanup_free_ char *path = with_query(location, digest);
	struct registry_request req = {.method = "PUT", .path = path, .body = body,
				       .body_len = len,
				       .content_type = "application/octet-stream"};
	struct registry_response resp = {0};
	int r = registry_fetch(p->reg, curl, &req, &resp, err);
	long status = resp.status;
	registry_response_release(&resp);
	if (r < 0)
		return error_wrap(err, "complete upload");
	if (status != 201 && status != 204)
		return error_set(err, EPROTO, "complete upload: unexpected status %ld", status);
	return 0;
}

/* A blob from memory (the config): HEAD, else POST + PUT with the body. */
static int push_blob_mem(struct pusher *p, CURL *curl, const char *digest, const void *data,
			 size_t len, struct scow_error **err)
{
	_cleanup_error_ struct scow_error *herr = NULL;
	int e = blob_exists(p, curl, digest, &herr);
	if (e > 0)
		return 0;
	if (e < 0)
		log_debug("HEAD %s: %s", digest, herr->msg);
	_cleanup_free_ char *loc = NULL;
	if (upload_start(p, curl, digest, NULL, &loc, err) < 0)
		return -1;
	return upload_finish(p, curl, loc, digest, data, len, err);
}

/* ---- streaming one layer ------------------------------------------------------------ */

struct producer {
	struct pusher *p;
	struct push_layer *l;
	bool no_replay;
	struct bytequeue *q;
	pthread_t thread;
	bool started;
	struct sha256 tar_hash, blob_hash;
	struct comp *c;
	int64_t tar_bytes, blob_bytes;
	bool replayed;
	bool failed;
	struct scow_error *err;
};

static int prod_out(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	struct producer *x = opaque;
	sha256_update(&x->blob_hash, buf, len);
	x->blob_bytes += (int64_t)len;
	if (bytequeue_write(x->q, buf, len) < 0)
		return error_set(err, ECANCELED, "upload stopped");
	return 0;
}

static int prod_tar(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	struct producer *x = opaque;
	if (atomic_load(&x->p->q.cancel))
		return error_set(err, ECANCELED, "push cancelled");
	sha256_update(&x->tar_hash, buf, len);
	x->tar_bytes += (int64_t)len;
	return comp_write(x->c, buf, len, err);
}

static void *producer_main(void *opaque)
{
	struct producer *x = opaque;
	int r = layers_tar_stored(&x->p->s->layers, x->l->chain_id, x->no_replay, prod_tar, x,
				  &x->replayed, &x->err);
	if (r == 0)
		r = comp_finish(x->c, &x->err);
	if (r < 0)
		x->failed = true;
	bytequeue_finish(x->q);
	return NULL;
}

static int producer_start(struct producer *x, struct pusher *p, struct push_layer *l,
			  bool no_replay, struct scow_error **err)
{
	*x = (struct producer){.p = p, .l = l, .no_replay = no_replay};
	sha256_init(&x->tar_hash);
	sha256_init(&x->blob_hash);
	x->q = bytequeue_new(QUEUE_SLOTS, SLOT_SIZE);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	x->c = comp_new(p->comp, p->opts->compression_level, cpus > 1 ? (int)cpus : 0, prod_out, x,
			err);
	if (!x->c)
		return -1;
	if (pthread_create(&x->thread, NULL, producer_main, x) != 0)
		return error_set(err, EAGAIN, "cannot start a thread");
	x->started = true;
	return 0;
}

/* Stops the producer (if the upload ended early) and waits for it. */
static void producer_stop(struct producer *x)
{
	if (x->started) {
		bytequeue_close(x->q);
		pthread_join(x->thread, NULL);
		x->started = false;
	}
}

static void producer_release(struct producer *x)
{
	producer_stop(x);
	if (x->tar_hash.md)
		sha256_release(&x->tar_hash);
	if (x->blob_hash.md)
		sha256_release(&x->blob_hash);
	comp_free(x->c);
	bytequeue_free(x->q);
	error_free(x->err);
	memset(x, 0, sizeof(*x));
}

/* The upload side: reads the queue, counts and reports progress. */
struct qreader {
	struct producer *x;
	const unsigned char *cur;
	size_t left;
	int64_t sent, reported, total;
	bool eof;
};

static ssize_t qreader_read(void *opaque, void *buf, size_t len)
{
	struct qreader *r = opaque;
	if (r->left == 0) {
		if (r->eof)
			return 0;
		const void *p;
		size_t n = bytequeue_read(r->x->q, &p);
		if (n == 0) {
			r->eof = true;
			return r->x->failed ? -1 : 0;
		}
		r->cur = p;
		r->left = n;
	}
	size_t k = r->left < len ? r->left : len;
	memcpy(buf, r->cur, k);
	r->cur += k;
	r->left -= k;
	r->sent += (int64_t)k;
	if (r->sent - r->reported >= PROGRESS_STEP) {
		r->reported = r->sent;
		emit(r->x->p, PUSH_EV_LAYER_PROGRESS, r->x->l, r->sent, r->total, NULL);
	}
	return (ssize_t)k;
}

/* Sends the queue as one PATCH with a chunked body. */
static int send_streamed(struct pusher *p, CURL *curl, struct qreader *r, char **location,
			 struct scow_error **err)
{
	struct registry_request req = {.method = "PATCH", .path = *location,
				       .content_type = "application/octet-stream",
				       .body_read = qreader_read, .body_opaque = r,
				       .body_size = -1};
	struct registry_response resp = {0};
	int ret = registry_request(p->reg, curl, &req, &resp, err);
	if (ret == 0 && resp.source_failed) {
		ret = -1; /* the producer's error is reported by the caller */
		error_set(err, EIO, "upload stopped");
	} else if (ret == 0 && (resp.status < 200 || resp.status >= 300)) {
		_cleanup_free_ char *m = registry_status_message(&resp);
		ret = error_set(err, resp.status == 401 ? EACCES : EIO, "upload: %s", m);
	} else if (ret == 0 && resp.location) {
		free(*location);
		*location = steal_ptr(&resp.location);
	}
	registry_response_release(&resp);
	return ret;
}

/* Sends the queue as PATCHes of chunk_size bytes with Content-Range. */
static int send_chunked(struct pusher *p, CURL *curl, struct qreader *r, char **location,
			struct scow_error **err)
{
	size_t cap = (size_t)p->opts->chunk_size;
	_cleanup_free_ unsigned char *buf = xmalloc(cap);
	int64_t off = 0;
	for (;;) {
		size_t n = 0;
		while (n < cap) {
			ssize_t k = qreader_read(r, buf + n, cap - n);
			if (k < 0)
				return error_set(err, EIO, "upload stopped");
			if (k == 0)
				break;
			n += (size_t)k;
		}
		if (n == 0)
			return 0;
		char range[64];
		snprintf(range, sizeof(range), "%lld-%lld", (long long)off, (long long)(off + (int64_t)n - 1));
		struct registry_request req = {.method = "PATCH", .path = *location,
					       .content_type = "application/octet-stream",
					       .content_range = range, .body = buf, .body_len = n};
		struct registry_response resp = {0};
		int ret = registry_request(p->reg, curl, &req, &resp, err);
		if (ret == 0 && (resp.status < 200 || resp.status >= 300)) {
			_cleanup_free_ char *m = registry_status_message(&resp);
			ret = error_set(err, resp.status == 401 ? EACCES : EIO, "upload chunk %s: %s",
					range, m);
		} else if (ret == 0 && resp.location) {
			free(*location);
			*location = steal_ptr(&resp.location);
		}
		registry_response_release(&resp);
		if (ret < 0)
			return -1;
		off += (int64_t)n;
		if (n < cap)
			return 0;
	}
}

/* One upload of the layer's tar. location: a session already started, or
 * NULL. On success the layer's digest, size and (if the tar changed)
 * new_diff_id are set. *ret_retry_generic: the replayed tar did not hash to
 * the diff_id (the layer changed): try again without replaying. */
static int upload_layer(struct pusher *p, CURL *curl, struct push_layer *l, char *location,
			bool no_replay, bool *ret_retry_generic, struct scow_error **err)
{
	_cleanup_free_ char *loc = location;
	if (!loc && upload_start(p, curl, NULL, NULL, &loc, err) < 0)
		return -1;
	/* The tar's size for the progress bar, when its record says it. */
	int64_t total = 0;
	_cleanup_close_ int sfd = no_replay ? -1 : layers_tarsplit_open(&p->s->layers, l->chain_id);
	_cleanup_error_ struct scow_error *ignored = NULL;
	if (sfd >= 0)
		layers_tarsplit_size(sfd, &total, &ignored);
	struct producer x;
	if (producer_start(&x, p, l, no_replay, err) < 0) {
		producer_release(&x);
		return -1;
	}
	struct qreader r = {.x = &x, .total = total};
	int ret = p->opts->chunk_size > 0 ? send_chunked(p, curl, &r, &loc, err)
					  : send_streamed(p, curl, &r, &loc, err);
	producer_stop(&x);
	if (x.failed) {
		error_freep(err);
		*err = steal_ptr(&x.err);
		ret = -1;
	}
	if (ret < 0) {
		producer_release(&x);
		return -1;
	}
	char tar_digest[DIGEST_STR_LEN + 1];
	sha256_final(&x.tar_hash, tar_digest);
	sha256_final(&x.blob_hash, l->digest);
	l->size = x.blob_bytes;
	bool replayed = x.replayed;
	producer_release(&x);
	if (strcmp(tar_digest, l->diff_id) != 0) {
		if (replayed) {
			*ret_retry_generic = true;
			return error_set(err, ESTALE,
					 "the layer's files no longer give its tar (%s instead of "
					 "%s)",
					 tar_digest, l->diff_id);
		}
		memcpy(l->new_diff_id, tar_digest, sizeof(l->new_diff_id));
	}
	if (upload_finish(p, curl, loc, l->digest, NULL, 0, err) < 0)
		return -1;
	return 0;
}

/* ---- one layer --------------------------------------------------------------------- */

/* Tries the known blobs: 1 found (exists or mounted), 0 not; a session a
 * failed mount opened is left in *ret_location for the upload. */
static int try_known_blobs(struct pusher *p, CURL *curl, struct push_layer *l,
			   char **ret_location, struct scow_error **err)
{
	for (size_t i = 0; i < l->ncands; i++) {
		struct candidate *c = &l->cands[i];
		_cleanup_error_ struct scow_error *herr = NULL;
		int e = blob_exists(p, curl, c->digest, &herr);
		if (e < 0) /* a registry that refuses HEAD still takes uploads */
			log_debug("HEAD %s: %s", c->digest, herr->msg);
		if (e > 0) {
			memcpy(l->digest, c->digest, sizeof(l->digest));
			l->size = c->size;
			l->original = i == 0 && str_eq(c->digest, l->li.digest);
			if (l->size < 0)
				return error_set(err, EINVAL, "unknown size of blob %s", c->digest);
			emit(p, PUSH_EV_LAYER_EXISTS, l, 0, 0, NULL);
			return 1;
		}
	}
	for (size_t i = 0; i < l->ncands; i++) {
		struct candidate *c = &l->cands[i];
		for (size_t k = 0; c->repos && c->repos[k]; k++) {
			const char *slash = strchr(c->repos[k], '/');
			if (!slash || strncmp(c->repos[k], p->domain, (size_t)(slash - c->repos[k])) ||
			    strlen(p->domain) != (size_t)(slash - c->repos[k]) ||
			    strcmp(slash + 1, p->repo) == 0 || c->size < 0)
				continue;
			_cleanup_free_ char *loc = NULL;
			_cleanup_error_ struct scow_error *e = NULL;
			int m = upload_start(p, curl, c->digest, slash + 1, &loc, &e);
			if (m < 0) {
				log_debug("mount %s from %s: %s", c->digest, slash + 1, e->msg);
				continue;
			}
			if (m > 0) {
				memcpy(l->digest, c->digest, sizeof(l->digest));
				l->size = c->size;
				l->original = i == 0 && str_eq(c->digest, l->li.digest);
				emit(p, PUSH_EV_LAYER_MOUNTED, l, 0, 0, slash + 1);
				return 1;
			}
			if (!*ret_location)
				*ret_location = steal_ptr(&loc);
		}
	}
	return 0;
}

static int push_one_layer(struct pusher *p, CURL *curl, struct push_layer *l,
			  struct scow_error **err)
{
	_cleanup_free_ char *location = NULL;
	if (!p->opts->force_compression) {
		int k = try_known_blobs(p, curl, l, &location, err);
		if (k != 0)
			return k < 0 ? -1 : 0;
	}
	bool no_replay = false;
	for (int attempt = 1;; attempt++) {
		bool retry_generic = false;
		_cleanup_error_ struct scow_error *e = NULL;
		if (upload_layer(p, curl, l, steal_ptr(&location), no_replay, &retry_generic, &e) ==
		    0) {
			l->uploaded = true;
			emit(p, PUSH_EV_LAYER_PUSHED, l, l->size, l->size, NULL);
			blobs_save(p, l);
			return 0;
		}
		if (atomic_load(&p->q.cancel) || attempt >= REGISTRY_TRIES ||
		    (e->errnum != EIO && e->errnum != EACCES && !retry_generic)) {
			*err = steal_ptr(&e);
			return -1;
		}
		if (retry_generic) {
			no_replay = true;
			log_warn("layer %.19s: %s; making a new tar", l->chain_id, e->msg);
		}
		emit(p, PUSH_EV_LAYER_RETRY, l, 0, 0, e->msg);
		if (!retry_generic)
			registry_backoff(attempt + 1, 0);
	}
}

static void *worker_main(void *opaque)
{
	struct pusher *p = opaque;
	CURL *curl = curl_easy_init();
	size_t i;
	while (work_queue_take(&p->q, &p->lock, p->n, &i)) {
		struct push_layer *l = &p->layers[i];
		if (!curl)
			error_set(&l->err, ENOMEM, "cannot create a transfer handle");
		else if (push_one_layer(p, curl, l, &l->err) == 0)
			continue;
		error_wrap(&l->err, "layer %.19s", l->diff_id);
		work_queue_fail(&p->q, &p->lock, i);
	}
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

static int push_layers(struct pusher *p, int parallel, struct scow_error **err)
{
	for (size_t i = p->n; i-- > 0;)
		emit(p, PUSH_EV_LAYER_PREPARING, &p->layers[i], 0, 0, NULL);
	size_t n = (size_t)parallel < p->n ? (size_t)parallel : p->n;
	for (size_t i = p->n; i-- > n;)
		emit(p, PUSH_EV_LAYER_WAITING, &p->layers[i], 0, 0, NULL);
	workers_run(n, worker_main, p);
	if (p->q.first_failure >= 0) {
		*err = steal_ptr(&p->layers[p->q.first_failure].err);
		return -1;
	}
	return 0;
}

/* ---- config and manifest ---------------------------------------------------------- */

/* The config to push: the stored bytes, or (when a layer's tar changed)
 * the config with the new diff_ids. */
static char *config_for_push(struct pusher *p, const char *orig, size_t len, size_t *ret_len,
			     bool *ret_changed, struct scow_error **err)
{
	bool changed = false;
	for (size_t i = 0; i < p->n; i++)
		changed |= p->layers[i].new_diff_id[0] != '\0';
	*ret_changed = changed;
	if (!changed) {
		*ret_len = len;
		return xstrndup(orig, len);
	}
	_cleanup_json_ json_t *c = json_parse_buf(orig, len, "image config", err);
	if (!c)
		return NULL;
	json_t *ids = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct push_layer *l = &p->layers[i];
		json_array_append_new(ids, json_string(l->new_diff_id[0] ? l->new_diff_id : l->diff_id));
	}
	json_object_set_new(json_get_obj(c, "rootfs"), "diff_ids", ids);
	char *s = json_dumps(c, JSON_COMPACT);
	*ret_len = strlen(s);
	return s;
}

static char *manifest_build(struct pusher *p, const char *config_digest, size_t config_len)
{
	json_t *layers = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct push_layer *l = &p->layers[i];
		json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType",
							layer_media_type(p->oci, p->comp), "size",
							(json_int_t)l->size, "digest", l->digest));
	}
	_cleanup_json_ json_t *m = json_pack(
		"{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
		p->oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST, "config", "mediaType",
		p->oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG, "size", (json_int_t)config_len, "digest",
		config_digest, "layers", layers);
	return json_dumps(m, JSON_COMPACT);
}

static int put_manifest(struct pusher *p, CURL *curl, const char *ref, const char *body,
			size_t len, const char *media_type, struct scow_error **err)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", p->repo, ref);
	struct registry_request req = {.method = "PUT", .path = path, .body = body,
				       .body_len = len, .content_type = media_type};
	struct registry_response resp = {0};
	int r = registry_fetch(p->reg, curl, &req, &resp, err);
	registry_response_release(&resp);
	return r < 0 ? error_wrap(err, "push manifest") : 0;
}

/* ---- the whole push ---------------------------------------------------------------- */

struct push_state {
	struct image_ref dest;
	char *id;
	struct image img;
	char *config;
	size_t config_len;
	char *manifest; /* as pulled, or NULL */
	size_t manifest_len;
	char **image_repos;
	CURL *curl;
	struct pusher p;
};

static void push_state_release(struct push_state *st)
{
	for (size_t i = 0; i < st->p.n; i++) {
		struct push_layer *l = &st->p.layers[i];
		for (size_t k = 0; k < l->ncands; k++)
			strv_free(l->cands[k].repos);
		error_free(l->err);
	}
	free(st->p.layers);
	pthread_mutex_destroy(&st->p.lock);
	registry_free(st->p.reg);
	free(st->p.domain);
	free(st->p.repo);
	if (st->curl)
		curl_easy_cleanup(st->curl);
	strv_free(st->image_repos);
	free(st->manifest);
	free(st->config);
	image_release(&st->img);
	free(st->id);
	image_ref_release(&st->dest);
}

static int parse_dest(const char *name, const char *dest, const char *resolved_ref,
		      struct image_ref *ret, struct scow_error **err)
{
	static const char *const transports[] = {"oci-archive:", "oci:", "docker-archive:", "dir:",
						  "containers-storage:", "docker-daemon:"};
	const char *d = dest;
	if (d && str_starts_with(d, "docker://"))
		d += 9;
	for (size_t i = 0; d && i < ARRAY_SIZE(transports); i++)
		if (str_starts_with(d, transports[i]))
			return error_set(err, EINVAL,
					 "destination \"%s\": only registries (docker://) are "
					 "supported; use scow save for archives",
					 dest);
	if (!d) {
		d = name;
		if (image_id_like(name) && !resolved_ref)
			return error_set(err, EINVAL,
					 "An image does not exist locally with the tag: %s", name);
	}
	if (image_ref_parse(d, true, ret, err) < 0)
		return -1;
	if (ret->digest && !ret->tag)
		return error_set(err, EINVAL, "cannot push to a digest reference: %s", d);
	return 0;
}

static int load_source(struct image_store *s, const char *name, struct push_state *st,
		       char **ret_ref, struct scow_error **err)
{
	if (image_store_resolve(s, name, &st->id, ret_ref, err) < 0) {
		if ((*err)->errnum == ENOENT) {
			error_freep(err);
			return error_set(err, ENOENT,
					 "An image does not exist locally with the tag: %s", name);
		}
		return -1;
	}
	if (image_store_load(s, st->id, NULL, &st->img, err) < 0)
		return -1;
	char fname[DIGEST_HEX_LEN + 32];
	snprintf(fname, sizeof(fname), "%s/config.json", digest_hex(st->id));
	if (fs_read_at(s->images_fd, fname, REGISTRY_MANIFEST_MAX, &st->config, &st->config_len,
		       err) < 0)
		return error_wrap(err, "image %.19s", st->id);
	snprintf(fname, sizeof(fname), "%s/manifest.json", digest_hex(st->id));
	if (fs_exists_at(s->images_fd, fname)) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (fs_read_at(s->images_fd, fname, REGISTRY_MANIFEST_MAX, &st->manifest,
			       &st->manifest_len, &e) < 0)
			log_debug("image %.19s: %s", st->id, e->msg);
	}
	st->image_repos = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *d;
	json_array_foreach(json_get_arr(st->img.meta, "repo_digests"), i, d) {
		const char *v = json_string_value(d);
		const char *at = v ? strchr(v, '@') : NULL;
		if (at)
			strv_push(&st->image_repos, xstrndup(v, (size_t)(at - v)));
	}
	return 0;
}

static int plan_layers(struct push_state *st, struct scow_error **err)
{
	struct pusher *p = &st->p;
	json_t *chains = json_get_arr(st->img.meta, "layers");
	json_t *ids = json_get_arr(json_get_obj(st->img.config, "rootfs"), "diff_ids");
	if (json_array_size(chains) != json_array_size(ids))
		return error_set(err, EINVAL, "image %.19s: %zu layers but %zu diff_ids", st->id,
				 json_array_size(chains), json_array_size(ids));
	p->n = json_array_size(chains);
	p->layers = xcalloc(p->n + 1, sizeof(*p->layers));
	for (size_t i = 0; i < p->n; i++) {
		struct push_layer *l = &p->layers[i];
		l->index = (int)i;
		const char *chain = json_string_value(json_array_get(chains, i));
		const char *diff = json_string_value(json_array_get(ids, i));
		if (digest_check(chain, "layer", err) < 0 || digest_check(diff, "diff_id", err) < 0)
			return -1;
		snprintf(l->chain_id, sizeof(l->chain_id), "%s", chain);
		snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff);
		if (layer_info_read(&st->p.s->layers, chain, &l->li, err) < 0)
			return -1;
		if (!str_eq(l->li.diff_id, diff))
			return error_set(err, EINVAL, "layer %.19s: diff_id %s, the config says %s",
					 chain, l->li.diff_id, diff);
		candidates_load(p, l, st->image_repos);
	}
	return 0;
}

static int ping(struct pusher *p, CURL *curl, struct scow_error **err)
{
	struct registry_request req = {.path = "/v2/"};
	struct registry_response resp = {0};
	int r = registry_fetch(p->reg, curl, &req, &resp, err);
	registry_response_release(&resp);
	return r;
}

/* Whether the pulled manifest can go out unchanged: every blob the
 * original, the config unchanged, the format the original's. */
static bool original_manifest_fits(const struct push_state *st, bool config_changed)
{
	const struct pusher *p = &st->p;
	if (!st->manifest || config_changed)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (!p->layers[i].original)
			return false;
	struct manifest m;
	_cleanup_error_ struct scow_error *e = NULL;
	if (manifest_parse(st->manifest, st->manifest_len, NULL, &m, &e) < 0)
		return false;
	bool oci = str_eq(m.media_type, MT_OCI_MANIFEST);
	bool ok = m.kind == MANIFEST_IMAGE && m.n_layers == p->n &&
		  (p->opts->format == PUSH_FORMAT_DEFAULT || oci == p->oci);
	char cdigest[DIGEST_STR_LEN + 1];
	sha256_digest(st->config, st->config_len, cdigest);
	ok = ok && str_eq(m.config.digest, cdigest);
	for (size_t i = 0; ok && i < p->n; i++)
		ok = str_eq(m.layers[i].digest, p->layers[i].digest);
	manifest_release(&m);
	return ok;
}

static void record_repo_digest(struct push_state *st, const char *digest)
{
	struct image_store *s = st->p.s;
	_cleanup_free_ char *repo = image_ref_repo(&st->dest);
	_cleanup_free_ char *rd = xasprintf("%s@%s", repo, digest);
	_cleanup_json_ json_t *meta = json_deep_copy(st->img.meta);
	json_t *arr = json_get_arr(meta, "repo_digests");
	if (!arr) {
		arr = json_array();
		json_object_set_new(meta, "repo_digests", arr);
	}
	json_array_append_new(arr, json_string(rd));
	_cleanup_error_ struct scow_error *e = NULL;
	if (image_store_lock(s, &e) < 0 ||
	    image_store_put(s, st->id, NULL, 0, NULL, 0, meta, &e) < 0)
		log_warn("record repo digest %s: %s", rd, e->msg);
	image_store_unlock(s);
}

static int push_run(struct push_state *st, const struct regconf *conf, const char *name,
		    const char *dest, struct push_result *ret, struct scow_error **err)
{
	struct pusher *p = &st->p;
	const struct push_opts *opts = p->opts;
	if (!st->curl)
		return error_set(err, ENOMEM, "cannot create a transfer handle");
	_cleanup_free_ char *src_ref = NULL;
	if (load_source(p->s, name, st, &src_ref, err) < 0)
		return -1;
	if (parse_dest(name, dest, src_ref, &st->dest, err) < 0)
		return -1;
	p->comp = opts->compression >= 0 ? (enum comp_format)opts->compression : COMP_GZIP;
	if (p->comp == COMP_ZSTD && opts->format == PUSH_FORMAT_V2S2)
		return error_set(err, EINVAL, "zstd layers need the OCI manifest format (--format oci)");
	p->oci = opts->format == PUSH_FORMAT_OCI || p->comp == COMP_ZSTD;
	p->domain = xstrdup(st->dest.domain);
	p->repo = xstrdup(st->dest.path);
	const char *host = strcmp(st->dest.domain, DOCKER_DOMAIN) == 0 ? "registry-1.docker.io"
									: st->dest.domain;
	if (registry_open(conf, &opts->reg, host, st->dest.path, "pull,push", &p->reg, err) < 0)
		return -1;
	for (size_t i = 0; st->image_repos[i]; i++) {
		const char *r = st->image_repos[i];
		size_t dl = strlen(p->domain);
		if (strncmp(r, p->domain, dl) == 0 && r[dl] == '/' && strcmp(r + dl + 1, p->repo)) {
			_cleanup_free_ char *scope = xasprintf("repository:%s:pull", r + dl + 1);
			registry_add_scope(p->reg, scope);
		}
	}
	if (plan_layers(st, err) < 0)
		return -1;
	if (ping(p, st->curl, err) < 0)
		return -1;
	int parallel = opts->max_parallel > 0 ? opts->max_parallel : conf->max_concurrent_downloads;
	if (push_layers(p, parallel, err) < 0)
		return -1;
	bool changed;
	size_t clen;
	_cleanup_free_ char *config = config_for_push(p, st->config, st->config_len, &clen, &changed,
						      err);
	if (!config)
		return -1;
	char cdigest[DIGEST_STR_LEN + 1];
	sha256_digest(config, clen, cdigest);
	if (push_blob_mem(p, st->curl, cdigest, config, clen, err) < 0)
		return error_wrap(err, "push config");
	_cleanup_free_ char *built = NULL;
	const char *body = st->manifest;
	size_t blen = st->manifest_len;
	const char *mt = NULL;
	if (original_manifest_fits(st, changed)) {
		struct manifest m;
		if (manifest_parse(st->manifest, st->manifest_len, NULL, &m, err) < 0)
			return -1;
		mt = str_eq(m.media_type, MT_OCI_MANIFEST) ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST;
		manifest_release(&m);
	} else {
		built = manifest_build(p, cdigest, clen);
		body = built;
		blen = strlen(built);
		mt = p->oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST;
	}
	if (put_manifest(p, st->curl, st->dest.tag, body, blen, mt, err) < 0)
		return -1;
	sha256_digest(body, blen, ret->digest);
	ret->size = (int64_t)blen;
	ret->ref = image_ref_string(&st->dest);
	ret->tag = xstrdup(st->dest.tag);
	ret->config_changed = changed;
	for (size_t i = 0; i < p->n; i++) {
		ret->uploaded += p->layers[i].uploaded;
		ret->reused += !p->layers[i].uploaded;
	}
	if (changed)
		emit(p, PUSH_EV_WARNING, NULL, 0, 0,
		     "some layers had no record of their original tar: the pushed image lists "
		     "new diff_ids and has another id than the local one");
	else if (!dest || str_eq(src_ref, ret->ref))
		record_repo_digest(st, ret->digest); /* Docker's RepoDigests after a push */
	return 0;
}

int image_push(struct image_store *s, const struct regconf *conf, const char *name,
	       const char *dest, const struct push_opts *opts, struct push_result *ret,
	       struct scow_error **err)
{
	if (lazy_curl_load(err) < 0 || lazy_crypto_load(err) < 0 || lazy_archive_load(err) < 0 ||
	    lazy_isal_load(err) < 0 || lazy_zstd_load(err) < 0)
		return error_wrap(err, "push %s", name);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct push_state st = {.p = {.s = s, .opts = opts, .q = WORK_QUEUE_INIT}};
	pthread_mutex_init(&st.p.lock, NULL);
	st.curl = curl_easy_init();
	int r = push_run(&st, conf, name, dest, ret, err);
	push_state_release(&st);
	return r;
}
