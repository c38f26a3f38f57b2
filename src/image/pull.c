#include "image/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/reference.h"
#include "layers/decompress.h"
#include "layers/extract.h"
#include "layers/tarsplit.h"
#include "util/bytequeue.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/workers.h"
#include "util/xalloc.h"
#include "util/lazy_curl.h"

#define QUEUE_SLOTS 4
#define SLOT_SIZE (256u << 10)
#define PROGRESS_STEP (512 << 10)

void pull_result_release(struct pull_result *r)
{
	free(r->ref);
	r->ref = NULL;
}

/* ---- manifests and config ------------------------------------------------ */

/* GET path; the body's SHA-256 is computed here and compared with what
 * the caller expects: digests are never taken from headers. */
static int fetch_verified(struct registry *r, CURL *curl, const char *path, const char *accept,
			  const char *want_digest, int64_t want_size, struct registry_response *resp,
			  char digest[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	struct registry_request req = {.path = path, .accept = accept,
				       .max_body = REGISTRY_MANIFEST_MAX};
	if (registry_fetch(r, curl, &req, resp, err) < 0)
		return -1;
	sha256_digest(resp->body.buf ? resp->body.buf : "", resp->body.len, digest);
	if (want_digest && strcmp(digest, want_digest) != 0)
		return error_set(err, EBADMSG, "digest mismatch: expected %s, got %s", want_digest,
				 digest);
	if (want_size >= 0 && (int64_t)resp->body.len != want_size)
		return error_set(err, EBADMSG, "size mismatch: expected %lld bytes, got %zu",
				 (long long)want_size, resp->body.len);
	return 0;
}

struct resolved {
	struct registry_response resp; /* the image manifest's body */
	struct manifest m;
	char top_digest[DIGEST_STR_LEN + 1]; /* what the tag points at */
	char digest[DIGEST_STR_LEN + 1];     /* the image manifest's */
};

static void resolved_release(struct resolved *res)
{
	registry_response_release(&res->resp);
	manifest_release(&res->m);
}

static int resolve_manifest(struct registry *r, CURL *curl, const struct image_ref *ref,
			    const struct platform *plat, struct resolved *res,
			    struct scow_error **err)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", ref->path,
					      ref->digest ? ref->digest : ref->tag);
	if (fetch_verified(r, curl, path, MANIFEST_ACCEPT, ref->digest, -1, &res->resp,
			   res->top_digest, err) < 0)
		return error_wrap(err, "fetch manifest");
	if (manifest_parse(res->resp.body.buf, res->resp.body.len, res->resp.content_type, &res->m,
			   err) < 0)
		return -1;
	memcpy(res->digest, res->top_digest, sizeof(res->digest));
	if (res->m.kind == MANIFEST_IMAGE)
		return 0;
	const struct descriptor *d = manifest_select(&res->m, plat, err);
	if (!d)
		return -1;
	char want[DIGEST_STR_LEN + 1];
	memcpy(want, d->digest, sizeof(want));
	int64_t size = d->size;
	manifest_release(&res->m);
	free(path);
	path = xasprintf("/v2/%s/manifests/%s", ref->path, want);
	if (fetch_verified(r, curl, path, MANIFEST_ACCEPT, want, size, &res->resp, res->digest,
			   err) < 0)
		return error_wrap(err, "fetch manifest %.19s", want);
	if (manifest_parse(res->resp.body.buf, res->resp.body.len, res->resp.content_type, &res->m,
			   err) < 0)
		return -1;
	if (res->m.kind != MANIFEST_IMAGE)
		return error_set(err, EINVAL, "manifest list entry %.19s is not an image manifest",
				 want);
	return 0;
}

/* ---- one layer: download, verify, extract --------------------------------- */

struct puller;

struct layer_job {
	struct puller *p;
	int index;
	const struct descriptor *desc;
	char diff_id[DIGEST_STR_LEN + 1];
	char chain_id[DIGEST_STR_LEN + 1];
	char parent[DIGEST_STR_LEN + 1];
	bool existed;
	int64_t size;
	struct scow_error *err;
};

struct puller {
	struct image_store *s;
	struct registry *reg;
	const char *repo;
	const struct pull_opts *opts;
	struct layer_job *jobs;
	size_t n_jobs;
	pthread_mutex_t lock; /* guards q and progress calls */
	struct work_queue q;
};

static void emit(struct puller *p, enum pull_event_kind kind, const struct layer_job *job,
		 int64_t cur, int64_t total, const char *msg)
{
	if (!p->opts->progress)
		return;
	struct pull_event ev = {kind, job ? job->index : -1, job ? job->desc->digest : NULL,
				cur, total, msg};
	pthread_mutex_lock(&p->lock);
	p->opts->progress(p->opts->progress_opaque, &ev);
	pthread_mutex_unlock(&p->lock);
}

struct extractor {
	pthread_t thread;
	bool started;
	struct bytequeue *q;
	int diff_fd;
	struct layers_extract_opts opts;
	struct layers_extract_stats stats;
	struct scow_error *err;
	int ret;
};

static ssize_t extractor_read(void *opaque, const void **ret_buf, struct scow_error **err)
{
	(void)err;
	struct extractor *x = opaque;
	return (ssize_t)bytequeue_read(x->q, ret_buf);
}

static void *extractor_main(void *opaque)
{
	struct extractor *x = opaque;
	x->ret = layers_extract(x->diff_fd, extractor_read, x, &x->opts, &x->stats, &x->err);
	/* A producer still feeding us now fails: the extractor's error wins. */
	bytequeue_close(x->q);
	return NULL;
}

/* One pass over the blob: state shared by the HTTP sink and the inflater. */
struct stream {
	struct layer_job *job;
	struct sha256 blob_hash, tar_hash;
	struct decomp *dec;
	int64_t received;
	int64_t reported;
	struct scow_error *err; /* why the sink stopped, if it did */
	struct extractor x;
};

static int stream_write_tar(void *opaque, const void *buf, size_t len)
{
	struct stream *st = opaque;
	sha256_update(&st->tar_hash, buf, len);
	return bytequeue_write(st->x.q, buf, len); /* -1: the extractor gave up */
}

static int stream_sink(void *opaque, const void *buf, size_t len)
{
	struct stream *st = opaque;
	struct layer_job *job = st->job;
	if (atomic_load(&job->p->q.cancel))
		return -1;
	if (st->received + (int64_t)len > job->desc->size) {
		error_set(&st->err, EBADMSG, "more data than the declared %lld bytes",
			  (long long)job->desc->size);
		return -1;
	}
	sha256_update(&st->blob_hash, buf, len);
	st->received += (int64_t)len;
	int r = decomp_feed(st->dec, buf, len, &st->err);
	if (r < 0)
		return -1;
	if (st->received - st->reported >= PROGRESS_STEP || st->received == job->desc->size) {
		st->reported = st->received;
		emit(job->p, PULL_EV_LAYER_PROGRESS, job, st->received, job->desc->size, NULL);
	}
	return 0;
}

static int stream_start(struct stream *st, struct layer_job *job, const struct layer_tx *tx,
			struct scow_error **err)
{
	*st = (struct stream){.job = job};
	st->x.q = bytequeue_new(QUEUE_SLOTS, SLOT_SIZE);
	st->x.diff_fd = tx->diff_fd;
	st->x.opts.rootless = job->p->s->layers.rootless;
	st->x.opts.overlay_xattr_prefix = st->x.opts.rootless ? "user" : "trusted";
	/* What push and save need to give back the layer's exact tar. */
	st->x.opts.tarsplit = layers_tarsplit_new(openat(tx->tmp_fd, LAYERS_TARSPLIT_FILE,
							 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
							 0600));
	sha256_init(&st->blob_hash);
	sha256_init(&st->tar_hash);
	st->dec = decomp_new(stream_write_tar, st);
	if (pthread_create(&st->x.thread, NULL, extractor_main, &st->x) != 0)
		return error_set(err, EAGAIN, "cannot start the extraction thread");
	st->x.started = true;
	return 0;
}

/* Ends the pass: marks the end of the tar stream, waits for the extractor. */
static void stream_stop(struct stream *st)
{
	if (st->x.q)
		bytequeue_finish(st->x.q);
	if (st->x.started) {
		pthread_join(st->x.thread, NULL);
		st->x.started = false;
	}
}

static void stream_release(struct stream *st)
{
	stream_stop(st);
	if (st->blob_hash.md)
		sha256_release(&st->blob_hash);
	if (st->tar_hash.md)
		sha256_release(&st->tar_hash);
	decomp_free(st->dec);
	layers_tarsplit_free(st->x.opts.tarsplit);
	st->x.opts.tarsplit = NULL;
	bytequeue_free(st->x.q);
	error_free(st->x.err);
	error_free(st->err);
	st->dec = NULL;
	st->x.q = NULL;
	st->x.err = st->err = NULL;
}

/* The error that explains a failed pass best: the stream's (corrupt data,
 * too many bytes: the extractor then only saw a cut tar), then the
 * extractor's (a hostile tar), then the transfer's. */
static int stream_error(struct stream *st, struct scow_error **transfer_err,
			struct scow_error **err)
{
	stream_stop(st);
	if (st->err) {
		*err = steal_ptr(&st->err);
		return -1;
	}
	if (st->x.ret < 0 && st->x.err) {
		*err = steal_ptr(&st->x.err);
		return -1;
	}
	if (transfer_err && *transfer_err) {
		*err = steal_ptr(transfer_err);
		return -1;
	}
	return error_set(err, EIO, "transfer failed");
}

enum attempt_result { ATTEMPT_DONE, ATTEMPT_FATAL, ATTEMPT_RESTART };

/* Downloads through st, resuming with Range after a dropped connection and
 * backing off on 429/5xx. *tries counts every request. */
static enum attempt_result download(struct layer_job *job, CURL *curl, struct stream *st,
				    int *tries, struct scow_error **err)
{
	struct puller *p = job->p;
	_cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", p->repo, job->desc->digest);
	for (;;) {
		(*tries)++;
		struct registry_request req = {.path = path, .range_from = st->received,
					       .sink = stream_sink, .sink_opaque = st};
		struct registry_response resp = {0};
		_cleanup_error_ struct scow_error *terr = NULL;
		int r = registry_request(p->reg, curl, &req, &resp, &terr);
		bool ok = r == 0 && resp.curl_code == CURLE_OK && resp.status >= 200 &&
			  resp.status < 300;
		long status = resp.status;
		int retry_after = resp.retry_after;
		bool sink_failed = resp.sink_failed;
		_cleanup_free_ char *msg = r == 0 && !ok && resp.curl_code == CURLE_OK
						   ? registry_status_message(&resp)
						   : NULL;
		registry_response_release(&resp);
		if (ok && st->received != job->desc->size) {
			error_set(err, EBADMSG, "size mismatch: expected %lld bytes, got %lld",
				  (long long)job->desc->size, (long long)st->received);
			return ATTEMPT_FATAL;
		}
		if (ok)
			return ATTEMPT_DONE;
		if (sink_failed || atomic_load(&p->q.cancel)) {
			stream_error(st, NULL, err);
			return ATTEMPT_FATAL;
		}
		bool last = *tries >= REGISTRY_TRIES;
		bool dropped = r < 0 && terr->errnum == EIO; /* the connection broke */
		if (r < 0 && !dropped) {
			/* A server that ignores Range cannot continue this pass;
			 * other refusals (redirect rules, sizes) are final. */
			bool restart = terr->errnum == EPROTO && st->received > 0 && !last;
			if (!restart)
				*err = steal_ptr(&terr);
			return restart ? ATTEMPT_RESTART : ATTEMPT_FATAL;
		}
		if (dropped || !msg) { /* connection dropped or stalled */
			if (last) {
				error_set(err, EIO, "download interrupted %d times",
					  REGISTRY_TRIES);
				return ATTEMPT_FATAL;
			}
			emit(p, PULL_EV_LAYER_RETRY, job, st->received, job->desc->size,
			     "connection lost, resuming");
			registry_backoff(*tries + 1, 0);
			continue;
		}
		if (!registry_status_retryable(status) || last) {
			error_set(err, status == 404 ? ENOENT : EIO, "%s", msg);
			return ATTEMPT_FATAL;
		}
		emit(p, PULL_EV_LAYER_RETRY, job, st->received, job->desc->size, msg);
		registry_backoff(*tries + 1, retry_after);
	}
}

static int verify_pass(struct layer_job *job, struct stream *st, struct scow_error **err)
{
	if (decomp_finish(st->dec, &st->err) < 0)
		return stream_error(st, NULL, err);
	char blob[DIGEST_STR_LEN + 1], tar[DIGEST_STR_LEN + 1];
	sha256_final(&st->blob_hash, blob);
	stream_stop(st); /* the extractor reads to EOF, then we hash the rest */
	if (st->x.ret < 0)
		return stream_error(st, NULL, err);
	sha256_final(&st->tar_hash, tar);
	if (strcmp(blob, job->desc->digest) != 0)
		return error_set(err, EBADMSG, "digest mismatch: expected %s, got %s",
				 job->desc->digest, blob);
	if (strcmp(tar, job->diff_id) != 0)
		return error_set(err, EBADMSG, "diff_id mismatch: expected %s, got %s",
				 job->diff_id, tar);
	job->size = (int64_t)st->x.stats.bytes;
	return 0;
}

static int reset_diff(struct layer_tx *tx, struct scow_error **err)
{
	closep(&tx->diff_fd);
	tx->diff_fd = -1;
	if (fs_rm_rf_at(tx->tmp_fd, "diff", err) < 0)
		return -1;
	tx->diff_fd = fs_open_dir_at(tx->tmp_fd, "diff", true, 0755, err);
	return tx->diff_fd < 0 ? -1 : 0;
}

static int fetch_layer(struct layer_job *job, CURL *curl, struct scow_error **err)
{
	struct puller *p = job->p;
	struct layer_tx tx;
	bool exists;
	if (layer_tx_begin(&p->s->layers, job->chain_id, &tx, &exists, err) < 0)
		return -1;
	if (exists) {
		job->existed = true;
		emit(p, PULL_EV_LAYER_EXISTS, job, 0, 0, NULL);
		return 0;
	}
	int tries = 0;
	for (;;) {
		struct stream st;
		if (stream_start(&st, job, &tx, err) < 0) {
			stream_release(&st);
			break;
		}
		enum attempt_result a = download(job, curl, &st, &tries, err);
		int r = a == ATTEMPT_DONE ? verify_pass(job, &st, err) : -1;
		if (r == 0 && !layers_tarsplit_finish(st.x.opts.tarsplit))
			unlinkat(tx.tmp_fd, LAYERS_TARSPLIT_FILE, 0);
		stream_release(&st);
		if (r == 0) {
			struct layer_info li = {.compressed_size = job->desc->size,
						.size = job->size};
			memcpy(li.diff_id, job->diff_id, sizeof(li.diff_id));
			memcpy(li.digest, job->desc->digest, sizeof(li.digest));
			memcpy(li.parent, job->parent, sizeof(li.parent));
			snprintf(li.media_type, sizeof(li.media_type), "%s",
				 job->desc->media_type);
			if (layer_tx_commit(&p->s->layers, &tx, &li, err) < 0)
				return -1;
			emit(p, PULL_EV_LAYER_DONE, job, job->desc->size, job->desc->size, NULL);
			return 0;
		}
		if (a != ATTEMPT_RESTART || reset_diff(&tx, err) < 0)
			break;
		emit(p, PULL_EV_LAYER_RETRY, job, 0, job->desc->size,
		     "server ignored the range request, starting over");
	}
	layer_tx_abort(&p->s->layers, &tx);
	return -1;
}

static void *worker_main(void *opaque)
{
	struct puller *p = opaque;
	CURL *curl = curl_easy_init();
	size_t i;
	while (work_queue_take(&p->q, &p->lock, p->n_jobs, &i)) {
		struct layer_job *job = &p->jobs[i];
		if (job->existed)
			continue;
		if (!curl) {
			error_set(&job->err, ENOMEM, "cannot create a transfer handle");
		} else if (fetch_layer(job, curl, &job->err) == 0) {
			continue;
		}
		error_wrap(&job->err, "layer %.19s", job->desc->digest);
		work_queue_fail(&p->q, &p->lock, i);
	}
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

static int fetch_layers(struct puller *p, int parallel, struct scow_error **err)
{
	layer_store_clean_stale(&p->s->layers);
	for (size_t i = 0; i < p->n_jobs; i++) {
		struct layer_job *j = &p->jobs[i];
		j->existed = layer_exists(&p->s->layers, j->chain_id);
		emit(p, j->existed ? PULL_EV_LAYER_EXISTS : PULL_EV_LAYER_WAIT, j, 0,
		     j->desc->size, NULL);
	}
	size_t n = (size_t)parallel < p->n_jobs ? (size_t)parallel : p->n_jobs;
	workers_run(n, worker_main, p);
	/* The others' errors only say they were stopped. */
	if (p->q.first_failure >= 0) {
		*err = steal_ptr(&p->jobs[p->q.first_failure].err);
		return -1;
	}
	return 0;
}

/* ---- the whole pull --------------------------------------------------------- */

static int check_config(const char *body, size_t len, const struct manifest *m,
			json_t **ret_config, struct scow_error **err)
{
	_cleanup_json_ json_t *c = json_parse_buf(body, len, "image config", err);
	if (!c)
		return -1;
	json_t *rootfs = json_get_obj(c, "rootfs");
	json_t *ids = json_get_arr(rootfs, "diff_ids");
	if (!rootfs || !str_eq(json_get_str(rootfs, "type"), "layers") || !ids)
		return error_set(err, EINVAL, "image config: invalid rootfs");
	if (json_array_size(ids) != m->n_layers)
		return error_set(err, EINVAL,
				 "image config lists %zu layers but the manifest has %zu",
				 json_array_size(ids), m->n_layers);
	size_t i;
	json_t *d;
	json_array_foreach(ids, i, d)
		if (digest_check(json_string_value(d), "image config: diff_id", err) < 0)
			return -1;
	*ret_config = steal_ptr(&c);
	return 0;
}

/* Mirrors first (in order), then the registry itself. */
static char **endpoints_for(const struct regconf *conf, const char *domain)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; conf->mirror_src[i]; i++)
		if (strcmp(conf->mirror_src[i], domain) == 0) {
			const char *m = conf->mirror_dst[i];
			if (str_starts_with(m, "http://"))
				m += 7;
			else if (str_starts_with(m, "https://"))
				m += 8;
			strv_push(&v, xstrndup(m, strcspn(m, "/")));
		}
	strv_push(&v, xstrdup(strcmp(domain, DOCKER_DOMAIN) == 0 ? "registry-1.docker.io"
								  : domain));
	return v;
}

static int open_and_resolve(const struct regconf *conf, const struct pull_opts *opts,
			    const struct image_ref *ref, const struct platform *plat, CURL *curl,
			    struct registry **ret_reg, struct resolved *res, struct scow_error **err)
{
	_cleanup_strv_ char **eps = endpoints_for(conf, ref->domain);
	for (size_t i = 0; eps[i]; i++) {
		struct registry *r = NULL;
		bool last = !eps[i + 1];
		_cleanup_error_ struct scow_error *e = NULL;
		if (registry_open(conf, &opts->reg, eps[i], ref->path, "pull", &r, &e) == 0 &&
		    resolve_manifest(r, curl, ref, plat, res, &e) == 0) {
			*ret_reg = r;
			return 0;
		}
		registry_free(r);
		resolved_release(res);
		memset(res, 0, sizeof(*res));
		if (last) {
			*err = steal_ptr(&e);
			return -1;
		}
		log_info("mirror %s: %s; trying the next endpoint", eps[i], e->msg);
	}
	return -1;
}

static int commit_image(struct image_store *s, const struct image_ref *ref,
			const struct resolved *res, const char *config, size_t config_len,
			const struct puller *p, struct pull_result *ret, struct scow_error **err)
{
	char id[DIGEST_STR_LEN + 1];
	sha256_digest(config, config_len, id);
	_cleanup_json_ json_t *meta = json_object();
	_cleanup_free_ char *repo = image_ref_repo(ref);
	json_t *layers = json_array();
	int64_t size = 0;
	for (size_t i = 0; i < p->n_jobs; i++) {
		json_array_append_new(layers, json_string(p->jobs[i].chain_id));
		struct layer_info li;
		if (layer_info_read(&s->layers, p->jobs[i].chain_id, &li, err) < 0)
			return -1;
		size += li.size;
	}
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	json_set_str(meta, "id", id);
	json_set_str(meta, "manifest_digest", res->digest);
	json_set_str(meta, "manifest_media_type", res->m.media_type);
	_cleanup_free_ char *repo_digest = xasprintf("%s@%s", repo, res->top_digest);
	json_object_set_new(meta, "repo_digests", json_pack("[s]", repo_digest));
	json_object_set_new(meta, "layers", layers);
	json_set_int(meta, "size", size);
	json_set_str(meta, "pulled", now);
	if (image_store_lock(s, err) < 0)
		return -1;
	image_store_clean_stale(s);
	bool existed = image_store_has(s, id);
	int r = image_store_put(s, id, config, config_len, res->resp.body.buf, res->resp.body.len,
				meta, err);
	bool moved = false;
	if (r == 0 && ref->tag && !ref->digest) {
		_cleanup_json_ json_t *tags = image_store_tags(s, err);
		_cleanup_free_ char *full = image_ref_string(ref);
		if (!tags) {
			r = -1;
		} else {
			moved = !str_eq(json_string_value(json_object_get(tags, full)), id);
			json_object_set_new(tags, full, json_string(id));
			if (moved)
				r = image_store_save_tags(s, tags, err);
		}
	}
	image_store_unlock(s);
	if (r < 0)
		return -1;
	memcpy(ret->id, id, sizeof(ret->id));
	memcpy(ret->digest, res->top_digest, sizeof(ret->digest));
	ret->changed = !existed || moved;
	return 0;
}

/* Everything one pull holds, released in one place. */
struct pull_state {
	struct image_ref ref;
	struct platform plat;
	CURL *curl;
	struct registry *reg;
	struct resolved res;
	struct registry_response cfg;
	json_t *config;
	int gc_fd;
	struct puller p;
};

static void pull_state_release(struct pull_state *st)
{
	lock_release(st->gc_fd);
	for (size_t i = 0; i < st->p.n_jobs; i++)
		error_free(st->p.jobs[i].err);
	free(st->p.jobs);
	pthread_mutex_destroy(&st->p.lock);
	json_decref(st->config);
	registry_response_release(&st->cfg);
	resolved_release(&st->res);
	registry_free(st->reg);
	if (st->curl)
		curl_easy_cleanup(st->curl);
	image_ref_release(&st->ref);
}

static void plan_layers(struct pull_state *st)
{
	struct puller *p = &st->p;
	p->n_jobs = st->res.m.n_layers;
	p->jobs = xcalloc(p->n_jobs + 1, sizeof(*p->jobs));
	json_t *ids = json_get_arr(json_get_obj(st->config, "rootfs"), "diff_ids");
	for (size_t i = 0; i < p->n_jobs; i++) {
		struct layer_job *j = &p->jobs[i];
		j->p = p;
		j->index = (int)i;
		j->desc = &st->res.m.layers[i];
		snprintf(j->diff_id, sizeof(j->diff_id), "%s",
			 json_string_value(json_array_get(ids, i)));
		if (i > 0)
			memcpy(j->parent, p->jobs[i - 1].chain_id, sizeof(j->parent));
		layer_chain_id(j->parent, j->diff_id, j->chain_id);
	}
}

static int pull_run(struct pull_state *st, const struct regconf *conf,
		    const struct pull_opts *opts, struct pull_result *ret, struct scow_error **err)
{
	if (!st->curl)
		return error_set(err, ENOMEM, "cannot create a transfer handle");
	if (platform_parse(opts->platform, &st->plat, err) < 0)
		return -1;
	emit(&st->p, PULL_EV_START, NULL, 0, 0, NULL);
	if (open_and_resolve(conf, opts, &st->ref, &st->plat, st->curl, &st->reg, &st->res, err) <
	    0)
		return -1;
	st->p.reg = st->reg;
	const struct descriptor *c = &st->res.m.config;
	_cleanup_free_ char *cpath = xasprintf("/v2/%s/blobs/%s", st->ref.path, c->digest);
	char cdigest[DIGEST_STR_LEN + 1];
	if (fetch_verified(st->reg, st->curl, cpath, NULL, c->digest, c->size, &st->cfg, cdigest,
			   err) < 0)
		return error_wrap(err, "fetch image config");
	if (check_config(st->cfg.body.buf, st->cfg.body.len, &st->res.m, &st->config, err) < 0)
		return -1;
	/* From here to the commit, layers we rely on must not be collected. */
	st->gc_fd = image_store_gc_guard(st->p.s, err);
	if (st->gc_fd < 0)
		return -1;
	plan_layers(st);
	int parallel = opts->max_parallel > 0 ? opts->max_parallel : conf->max_concurrent_downloads;
	if (fetch_layers(&st->p, parallel, err) < 0)
		return -1;
	for (size_t i = 0; i < st->p.n_jobs; i++)
		ret->layers_fetched += !st->p.jobs[i].existed;
	if (commit_image(st->p.s, &st->ref, &st->res, st->cfg.body.buf, st->cfg.body.len, &st->p,
			 ret, err) < 0)
		return -1;
	ret->ref = image_ref_string(&st->ref);
	return 0;
}

int image_pull(struct image_store *s, const struct regconf *conf, const char *name,
	       const struct pull_opts *opts, struct pull_result *ret, struct scow_error **err)
{
	struct pull_state st = {.gc_fd = -1,
				.p = {.s = s, .opts = opts, .q = WORK_QUEUE_INIT}};
	if (lazy_curl_load(err) < 0 || lazy_crypto_load(err) < 0 || lazy_archive_load(err) < 0 ||
	    lazy_isal_load(err) < 0 || lazy_zstd_load(err) < 0)
		return error_wrap(err, "pull %s", name);
	/* Once, before any thread: curl_easy_init would do it racily. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (image_ref_parse(name, true, &st.ref, err) < 0)
		return -1;
	st.p.repo = st.ref.path;
	pthread_mutex_init(&st.p.lock, NULL);
	st.curl = curl_easy_init();
	int r = pull_run(&st, conf, opts, ret, err);
	if (r < 0)
		error_wrap(err, "pull %s", name);
	pull_state_release(&st);
	if (r < 0) {
		/* Layers this pull completed before another failed belong to
		 * no image: remove them (skipped while other pulls run). */
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_lock(s, &e) == 0) {
			image_store_gc_layers(s, &e);
			image_store_unlock(s);
		}
	}
	return r;
}
