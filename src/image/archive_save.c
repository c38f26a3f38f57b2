/* image_save(): docker-archive, oci-archive, oci-dir (see archive.h). */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/reference.h"
#include "layers/tar.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"

#define OUT_BLOCK (1u << 20)
#define CONFIG_MAX (4u << 20)

int archive_format_parse(const char *s)
{
	if (!s || strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)
		return ARCHIVE_DOCKER;
	if (strcmp(s, "oci-archive") == 0 || strcmp(s, "oci") == 0)
		return ARCHIVE_OCI;
	if (strcmp(s, "oci-dir") == 0)
		return ARCHIVE_OCI_DIR;
	return -1;
}

void load_result_release(struct load_result *r)
{
	strv_free(r->tags);
	strv_free(r->ids);
	r->tags = r->ids = NULL;
}

/* ---- what goes into the archive -------------------------------------------------- */

struct save_layer {
	char chain_id[DIGEST_STR_LEN + 1];
	char diff_id[DIGEST_STR_LEN + 1]; /* the config's */
	char digest[DIGEST_STR_LEN + 1];  /* of the tar we write */
	int64_t size;
	bool replay;
};

struct save_image {
	char id[DIGEST_STR_LEN + 1]; /* in the store */
	char **refs;		     /* full references to record */
	char *config;		     /* as saved (new diff_ids if a tar changed) */
	size_t config_len;
	char config_digest[DIGEST_STR_LEN + 1];
	size_t *layers; /* indexes into the layer table */
	size_t nlayers;
	char *manifest; /* OCI */
	char manifest_digest[DIGEST_STR_LEN + 1];
};

struct saver {
	struct image_store *s;
	const struct save_opts *opts;
	struct save_image *images;
	size_t nimages;
	struct save_layer *layers;
	size_t nlayers, layers_cap;
	/* output */
	struct archive *a;
	struct archive_entry *e;
	int dir_fd; /* oci-dir */
	struct scow_error *write_err;
};

static void saver_release(struct saver *sv)
{
	for (size_t i = 0; i < sv->nimages; i++) {
		strv_free(sv->images[i].refs);
		free(sv->images[i].config);
		free(sv->images[i].layers);
		free(sv->images[i].manifest);
	}
	free(sv->images);
	free(sv->layers);
	if (sv->e)
		archive_entry_free(sv->e);
	if (sv->a)
		archive_write_free(sv->a);
	closep(&sv->dir_fd);
	error_free(sv->write_err);
}

static struct save_image *image_add(struct saver *sv, const char *id)
{
	for (size_t i = 0; i < sv->nimages; i++)
		if (strcmp(sv->images[i].id, id) == 0)
			return &sv->images[i];
	sv->images = xrealloc(sv->images, (sv->nimages + 1) * sizeof(*sv->images));
	struct save_image *im = &sv->images[sv->nimages++];
	memset(im, 0, sizeof(*im));
	snprintf(im->id, sizeof(im->id), "%s", id);
	im->refs = xcalloc(1, sizeof(char *));
	return im;
}

static int hash_write(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	(void)err;
	sha256_update(opaque, buf, len);
	return 0;
}

/* The layer's entry in the table: size and digest of the tar to write. */
static int layer_add(struct saver *sv, const char *chain_id, const char *diff_id, size_t *ret,
		     struct scow_error **err)
{
	for (size_t i = 0; i < sv->nlayers; i++)
		if (strcmp(sv->layers[i].chain_id, chain_id) == 0) {
			*ret = i;
			return 0;
		}
	struct save_layer l = {0};
	snprintf(l.chain_id, sizeof(l.chain_id), "%s", chain_id);
	snprintf(l.diff_id, sizeof(l.diff_id), "%s", diff_id);
	if (layers_tar_stored_size(&sv->s->layers, chain_id, false, &l.size, &l.replay, err) < 0)
		return error_wrap(err, "layer %.19s", chain_id);
	if (l.replay) {
		memcpy(l.digest, diff_id, sizeof(l.digest)); /* checked while writing */
	} else {
		/* No record of the original tar: a new one, hashed beforehand
		 * because its digest names it and goes into the config. */
		struct sha256 h;
		sha256_init(&h);
		int r = layers_tar_stored(&sv->s->layers, chain_id, true, hash_write, &h, NULL, err);
		sha256_final(&h, l.digest);
		sha256_release(&h);
		if (r < 0)
			return error_wrap(err, "layer %.19s", chain_id);
		if (sv->opts->warn && strcmp(l.digest, diff_id) != 0) {
			_cleanup_free_ char *m = xasprintf(
				"layer %.19s has no record of its original tar: saved with the new "
				"diff_id %.19s, so the saved image gets another id",
				chain_id, l.digest);
			sv->opts->warn(sv->opts->warn_opaque, m);
		}
	}
	xgrow((void **)&sv->layers, &sv->layers_cap, sv->nlayers + 1, sizeof(*sv->layers));
	sv->layers[sv->nlayers] = l;
	*ret = sv->nlayers++;
	return 0;
}

static int image_prepare(struct saver *sv, struct save_image *im, struct scow_error **err)
{
	struct image img;
	if (image_store_load(sv->s, im->id, NULL, &img, err) < 0)
		return -1;
	char fname[DIGEST_HEX_LEN + 32];
	snprintf(fname, sizeof(fname), "%s/config.json", digest_hex(im->id));
	int r = fs_read_at(sv->s->images_fd, fname, CONFIG_MAX, &im->config,
			   &im->config_len, err);
	json_t *chains = json_get_arr(img.meta, "layers");
	json_t *ids = json_get_arr(json_get_obj(img.config, "rootfs"), "diff_ids");
	if (r == 0 && json_array_size(chains) != json_array_size(ids))
		r = error_set(err, EINVAL, "image %.19s: %zu layers but %zu diff_ids", im->id,
			      json_array_size(chains), json_array_size(ids));
	im->nlayers = r == 0 ? json_array_size(chains) : 0;
	im->layers = xcalloc(im->nlayers + 1, sizeof(size_t));
	bool changed = false;
	for (size_t i = 0; r == 0 && i < im->nlayers; i++) {
		const char *chain = json_string_value(json_array_get(chains, i));
		const char *diff = json_string_value(json_array_get(ids, i));
		if (digest_check(chain, "layer", err) < 0 || digest_check(diff, "diff_id", err) < 0 ||
		    layer_add(sv, chain, diff, &im->layers[i], err) < 0)
			r = -1;
		else
			changed |= strcmp(sv->layers[im->layers[i]].digest, diff) != 0;
	}
	if (r == 0 && changed) {
		json_t *nids = json_array();
		for (size_t i = 0; i < im->nlayers; i++)
			json_array_append_new(nids, json_string(sv->layers[im->layers[i]].digest));
		json_object_set_new(json_get_obj(img.config, "rootfs"), "diff_ids", nids);
		free(im->config);
		im->config = json_dumps(img.config, JSON_COMPACT);
		im->config_len = strlen(im->config);
	}
	image_release(&img);
	if (r == 0)
		sha256_digest(im->config, im->config_len, im->config_digest);
	return r;
}

/* ---- output: a tar or a directory ----------------------------------------------------- */

static la_ssize_t out_write(struct archive *a, void *opaque, const void *buf, size_t n)
{
	struct saver *sv = opaque;
	if (fs_write_all(sv->opts->out_fd, buf, n) < 0) {
		if (!sv->write_err)
			error_errno(&sv->write_err, "write the archive");
		archive_set_error(a, errno, "%s", sv->write_err->msg);
		return -1;
	}
	return (la_ssize_t)n;
}

static int out_err(struct saver *sv, struct scow_error **err)
{
	if (sv->write_err) {
		*err = steal_ptr(&sv->write_err);
		return -1;
	}
	return error_set(err, EIO, "write the archive: %s", archive_error_string(sv->a));
}

static int out_open(struct saver *sv, struct scow_error **err)
{
	if (sv->opts->format == ARCHIVE_OCI_DIR) {
		const char *dir = sv->opts->dir;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create %s", dir);
		sv->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sv->dir_fd < 0)
			return error_errno(err, "open %s", dir);
		_cleanup_closedir_ DIR *d = fdopendir(dup(sv->dir_fd));
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				return error_set(err, EEXIST, "%s is not empty", dir);
		if (mkdirat(sv->dir_fd, "blobs", 0755) < 0 ||
		    mkdirat(sv->dir_fd, "blobs/sha256", 0755) < 0)
			return error_errno(err, "create %s/blobs/sha256", dir);
		return 0;
	}
	sv->a = archive_write_new();
	sv->e = archive_entry_new();
	if (!sv->a || !sv->e)
		return error_set(err, ENOMEM, "libarchive: cannot allocate a writer");
	if (archive_write_set_format_pax_restricted(sv->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(sv->a, OUT_BLOCK) != ARCHIVE_OK ||
	    archive_write_open(sv->a, sv, NULL, out_write, NULL) != ARCHIVE_OK)
		return out_err(sv, err);
	return 0;
}

static int out_dir_entry(struct saver *sv, const char *name, struct scow_error **err)
{
	if (!sv->a)
		return 0;
	archive_entry_clear(sv->e);
	archive_entry_set_pathname(sv->e, name);
	archive_entry_set_filetype(sv->e, AE_IFDIR);
	archive_entry_set_perm(sv->e, 0755);
	archive_entry_set_mtime(sv->e, 0, 0);
	if (archive_write_header(sv->a, sv->e) != ARCHIVE_OK)
		return out_err(sv, err);
	return 0;
}

/* Starts a file of size bytes: a tar entry, or a new file (fd returned). */
static int out_file_start(struct saver *sv, const char *name, int64_t size, int *ret_fd,
			  struct scow_error **err)
{
	*ret_fd = -1;
	if (!sv->a) {
		*ret_fd = openat(sv->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				 0644);
		return *ret_fd < 0 ? error_errno(err, "create %s/%s", sv->opts->dir, name) : 0;
	}
	archive_entry_clear(sv->e);
	archive_entry_set_pathname(sv->e, name);
	archive_entry_set_filetype(sv->e, AE_IFREG);
	archive_entry_set_perm(sv->e, 0644);
	archive_entry_set_mtime(sv->e, 0, 0);
	archive_entry_set_size(sv->e, size);
	if (archive_write_header(sv->a, sv->e) != ARCHIVE_OK)
		return out_err(sv, err);
	return 0;
}

static int out_data(struct saver *sv, int fd, const void *buf, size_t len,
		    struct scow_error **err)
{
	if (fd >= 0)
		return fs_write_all(fd, buf, len) < 0 ? error_errno(err, "write") : 0;
	if (archive_write_data(sv->a, buf, len) != (la_ssize_t)len)
		return out_err(sv, err);
	return 0;
}

static int out_file_end(int fd, struct scow_error **err)
{
	if (fd >= 0 && close(fd) < 0)
		return error_errno(err, "close");
	return 0;
}

static int out_small(struct saver *sv, const char *name, const char *data, size_t len,
		     struct scow_error **err)
{
	int fd;
	if (out_file_start(sv, name, (int64_t)len, &fd, err) < 0)
		return -1;
	if (out_data(sv, fd, data, len, err) < 0) {
		closep(&fd);
		return -1;
	}
	return out_file_end(fd, err);
}

struct layer_writer {
	struct saver *sv;
	int fd;
	struct sha256 h;
	int64_t n;
};

static int layer_write(void *opaque, const void *buf, size_t len, struct scow_error **err)
{
	struct layer_writer *w = opaque;
	sha256_update(&w->h, buf, len);
	w->n += (int64_t)len;
	return out_data(w->sv, w->fd, buf, len, err);
}

static int out_layer(struct saver *sv, const struct save_layer *l, const char *name,
		     struct scow_error **err)
{
	struct layer_writer w = {.sv = sv};
	if (out_file_start(sv, name, l->size, &w.fd, err) < 0)
		return -1;
	sha256_init(&w.h);
	int r = layers_tar_stored(&sv->s->layers, l->chain_id, !l->replay, layer_write, &w, NULL,
				  err);
	char got[DIGEST_STR_LEN + 1];
	sha256_final(&w.h, got);
	sha256_release(&w.h);
	if (r == 0 && (w.n != l->size || strcmp(got, l->digest) != 0))
		r = error_set(err, ESTALE,
			      "layer %.19s: its files no longer give the tar expected (%s, %lld "
			      "bytes, instead of %s, %lld bytes)",
			      l->chain_id, got, (long long)w.n, l->digest, (long long)l->size);
	if (r < 0) {
		closep(&w.fd);
		return error_wrap(err, "layer %.19s", l->chain_id);
	}
	return out_file_end(w.fd, err);
}

/* ---- docker-archive -------------------------------------------------------------------- */

static char *familiar(const char *ref)
{
	struct image_ref r = {0};
	if (image_ref_parse(ref, false, &r, NULL) < 0)
		return xstrdup(ref);
	char *f = image_ref_familiar(&r);
	image_ref_release(&r);
	return f;
}

static int save_docker(struct saver *sv, struct scow_error **err)
{
	_cleanup_json_ json_t *manifest = json_array();
	_cleanup_json_ json_t *repos = json_object();
	for (size_t i = 0; i < sv->nimages; i++) {
		struct save_image *im = &sv->images[i];
		_cleanup_free_ char *cname = xasprintf("%s.json", digest_hex(im->config_digest));
		if (out_small(sv, cname, im->config, im->config_len, err) < 0)
			return -1;
		json_t *tags = json_array(), *layers = json_array();
		for (size_t k = 0; k < im->nlayers; k++) {
			_cleanup_free_ char *ln =
				xasprintf("%s.tar", digest_hex(sv->layers[im->layers[k]].digest));
			json_array_append_new(layers, json_string(ln));
		}
		for (size_t k = 0; im->refs[k]; k++) {
			_cleanup_free_ char *f = familiar(im->refs[k]);
			json_array_append_new(tags, json_string(f));
			struct image_ref r = {0};
			if (im->nlayers && image_ref_parse(f, false, &r, NULL) == 0 && r.tag) {
				_cleanup_free_ char *repo = image_ref_familiar_repo(&r);
				json_t *tagmap = json_object_get(repos, repo);
				if (!tagmap) {
					tagmap = json_object();
					json_object_set_new(repos, repo, tagmap);
				}
				json_object_set_new(
					tagmap, r.tag,
					json_string(digest_hex(sv->layers[im->layers[im->nlayers - 1]].digest)));
			}
			image_ref_release(&r);
		}
		if (json_array_size(tags) == 0) { /* Docker writes null for untagged images */
			json_decref(tags);
			tags = json_null();
		}
		json_array_append_new(manifest, json_pack("{s:s, s:o, s:o}", "Config", cname,
							  "RepoTags", tags, "Layers", layers));
	}
	_cleanup_free_ char *m = json_dumps(manifest, JSON_COMPACT);
	_cleanup_free_ char *r = json_dumps(repos, JSON_COMPACT);
	if (out_small(sv, "manifest.json", m, strlen(m), err) < 0)
		return -1;
	if (json_object_size(repos) && out_small(sv, "repositories", r, strlen(r), err) < 0)
		return -1;
	for (size_t i = 0; i < sv->nlayers; i++) {
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(sv->layers[k].digest, sv->layers[i].digest) == 0;
		if (dup)
			continue;
		_cleanup_free_ char *ln = xasprintf("%s.tar", digest_hex(sv->layers[i].digest));
		if (out_layer(sv, &sv->layers[i], ln, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- OCI ------------------------------------------------------------------------------- */

static void oci_manifest(struct saver *sv, struct save_image *im)
{
	json_t *layers = json_array();
	for (size_t k = 0; k < im->nlayers; k++) {
		const struct save_layer *l = &sv->layers[im->layers[k]];
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_LAYER,
							"digest", l->digest, "size", (json_int_t)l->size));
	}
	_cleanup_json_ json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion",
					     2, "mediaType", MT_OCI_MANIFEST, "config", "mediaType",
					     MT_OCI_CONFIG, "digest", im->config_digest, "size",
					     (json_int_t)im->config_len, "layers", layers);
	im->manifest = json_dumps(m, JSON_COMPACT);
	sha256_digest(im->manifest, strlen(im->manifest), im->manifest_digest);
}

static int out_blob(struct saver *sv, const char *digest, const char *data, size_t len,
		    struct scow_error **err)
{
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
	return out_small(sv, name, data, len, err);
}

static int save_oci(struct saver *sv, struct scow_error **err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	_cleanup_json_ json_t *manifests = json_array();
	for (size_t i = 0; i < sv->nimages; i++) {
		struct save_image *im = &sv->images[i];
		oci_manifest(sv, im);
		size_t mlen = strlen(im->manifest);
		for (size_t k = 0; im->refs[k] || k == 0; k++) {
			json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_MANIFEST, "digest",
					      im->manifest_digest, "size", (json_int_t)mlen);
			if (im->refs[k])
				json_object_set_new(d, "annotations",
						    json_pack("{s:s, s:s}",
							      "org.opencontainers.image.ref.name",
							      im->refs[k], "io.containerd.image.name",
							      im->refs[k]));
			json_array_append_new(manifests, d);
			if (!im->refs[k])
				break;
		}
	}
	_cleanup_json_ json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
						 MT_OCI_INDEX, "manifests", manifests);
	_cleanup_free_ char *idx = json_dumps(index, JSON_COMPACT);
	bool dir = sv->opts->format == ARCHIVE_OCI_DIR;
	if (!dir && (out_small(sv, "oci-layout", layout, strlen(layout), err) < 0 ||
		     out_small(sv, "index.json", idx, strlen(idx), err) < 0 ||
		     out_dir_entry(sv, "blobs", err) < 0 || out_dir_entry(sv, "blobs/sha256", err) < 0))
		return -1;
	char **written = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; r == 0 && i < sv->nimages; i++) {
		struct save_image *im = &sv->images[i];
		if (!strv_contains(written, im->config_digest)) {
			strv_push(&written, xstrdup(im->config_digest));
			r = out_blob(sv, im->config_digest, im->config, im->config_len, err);
		}
		if (r == 0 && !strv_contains(written, im->manifest_digest)) {
			strv_push(&written, xstrdup(im->manifest_digest));
			r = out_blob(sv, im->manifest_digest, im->manifest, strlen(im->manifest), err);
		}
	}
	for (size_t i = 0; r == 0 && i < sv->nlayers; i++) {
		if (strv_contains(written, sv->layers[i].digest))
			continue;
		strv_push(&written, xstrdup(sv->layers[i].digest));
		_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(sv->layers[i].digest));
		r = out_layer(sv, &sv->layers[i], name, err);
	}
	strv_free(written);
	if (r < 0)
		return -1;
	if (dir && (fs_write_atomic_at(sv->dir_fd, "index.json", idx, strlen(idx), 0644, err) < 0 ||
		    fs_write_atomic_at(sv->dir_fd, "oci-layout", layout, strlen(layout), 0644, err) < 0))
		return -1;
	return 0;
}

/* ---- the whole save ------------------------------------------------------------------------ */

static int resolve_names(struct saver *sv, char *const *names, size_t n, struct scow_error **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *id = NULL, *ref = NULL;
		if (image_store_resolve(sv->s, names[i], &id, &ref, err) < 0)
			return -1;
		struct save_image *im = image_add(sv, id);
		if (ref && !strchr(ref, '@') && !strv_contains(im->refs, ref))
			strv_push(&im->refs, steal_ptr(&ref));
	}
	return 0;
}

int image_save(struct image_store *s, char *const *names, size_t n, const struct save_opts *opts,
	       struct scow_error **err)
{
	if (lazy_archive_load(err) < 0 || lazy_crypto_load(err) < 0 || lazy_zstd_load(err) < 0)
		return -1;
	struct saver sv = {.s = s, .opts = opts, .dir_fd = -1};
	int r = resolve_names(&sv, names, n, err);
	for (size_t i = 0; r == 0 && i < sv.nimages; i++)
		r = image_prepare(&sv, &sv.images[i], err);
	if (r == 0)
		r = out_open(&sv, err);
	if (r == 0)
		r = opts->format == ARCHIVE_DOCKER ? save_docker(&sv, err) : save_oci(&sv, err);
	if (r == 0 && sv.a && archive_write_close(sv.a) != ARCHIVE_OK)
		r = out_err(&sv, err);
	saver_release(&sv);
	return r;
}
