/* scow import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]: a tar of a file
 * system becomes a one-layer image, as `docker import` makes it:
 *  - the source is a file, stdin ("-") or an http(s) URL; the tar may be
 *    plain or gzip, zstd, bzip2 or xz compressed (sniffed);
 *  - the layer goes through the same verified extraction as a pulled one
 *    (SECURITY.md cases 1-10); its diff_id is the SHA-256 of the tar;
 *  - the config: this host's os and architecture, "created", the comment
 *    (-m, else "Imported from -" or "Imported from URL", a file counting
 *    as "-" as with Docker's CLI, which uploads it), one history entry with
 *    the same comment, rootfs.diff_ids, and a container config made by
 *    the --change instructions alone (image/changes.h);
 *  - prints the image id ("sha256:..."); tags it when a name is given.
 * The changes and the name are checked before anything is read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "image/changes.h"
#include "image/create.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_import_opts[] = {
	{"change", 'c', OPT_LIST, "list", "Apply Dockerfile instruction to the created image", NULL},
	{"message", 'm', OPT_VALUE, "string", "Set commit message for imported image", NULL},
	{"platform", 0, OPT_VALUE, "string",
	 "Set platform if server is multi-platform capable (this host's only)", NULL},
	OPT_END,
};

static bool is_url(const char *s)
{
	return str_starts_with(s, "http://") || str_starts_with(s, "https://");
}

static int check_platform(const char *s, struct platform *ret, struct scow_error **err)
{
	struct platform host;
	platform_parse(NULL, &host, NULL);
	*ret = host;
	if (!s || !*s)
		return 0;
	struct platform want;
	if (platform_parse(s, &want, err) < 0)
		return -1;
	if (strcmp(want.os, host.os) != 0 || strcmp(want.arch, host.arch) != 0)
		return error_set(err, EINVAL,
				 "--platform %s: only this host's platform (%s/%s) can be imported", s,
				 host.os, host.arch);
	*ret = want;
	return 0;
}

static json_t *import_config(const struct platform *p, json_t *cfg, const char *msg,
			     const char *diff_id)
{
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	json_t *c = json_object();
	json_set_str(c, "architecture", p->arch);
	if (p->variant[0])
		json_set_str(c, "variant", p->variant);
	json_set_str(c, "os", p->os);
	json_set_str(c, "comment", msg);
	json_object_set(c, "config", cfg);
	json_set_str(c, "created", now);
	json_object_set_new(c, "history",
			    json_pack("[{ss ss}]", "created", now, "comment", msg));
	json_object_set_new(c, "rootfs",
			    json_pack("{ss s[s]}", "type", "layers", "diff_ids", diff_id));
	return c;
}

/* Reads the source into a layer and stores the image. */
static int import_run(struct scow_ctx *ctx, const char *src, int fd, json_t *cfg,
		      const struct platform *plat, const char *msg, char **tags,
		      char id[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return -1;
	layer_store_clean_stale(&s.layers);
	/* From the layer's staging to the image's commit, no gc may take it. */
	int gc = image_store_gc_guard(&s, err);
	if (gc < 0) {
		image_store_close(&s);
		return -1;
	}
	struct image_fetch *fetch = NULL;
	_cleanup_close_ int url_fd = -1;
	int r = 0;
	if (is_url(src)) {
		r = image_fetch_start(src, &fetch, &url_fd, err);
		fd = url_fd;
	}
	struct layer_info li;
	if (r == 0)
		r = image_import_layer(&s, fd, &li, err);
	if (fetch) {
		closep(&url_fd);
		url_fd = -1;
		_cleanup_error_ struct scow_error *ferr = NULL;
		/* A failed download explains a bad layer better than the layer. */
		if (image_fetch_finish(fetch, &ferr) < 0) {
			if (r == 0) {
				/* the layer may be committed: it is unused, gc takes it */
				r = -1;
			} else {
				error_freep(err);
			}
			*err = steal_ptr(&ferr);
		}
	}
	if (r == 0) {
		_cleanup_json_ json_t *config = import_config(plat, cfg, msg, li.diff_id);
		_cleanup_json_ json_t *layers = json_pack("[s]", li.chain_id);
		r = image_store_create(&s, config, layers, NULL, tags, id, err);
	}
	lock_release(gc);
	if (r < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_lock(&s, &e) == 0) {
			image_store_gc_layers(&s, &e);
			image_store_unlock(&s);
		}
	}
	image_store_close(&s);
	return r;
}

int cmd_import(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *src = o->args[0];
	struct platform plat;
	if (check_platform(opt_str(o, "platform"), &plat, err) < 0)
		return cmd_fail(err);
	_cleanup_strv_ char **tags = xcalloc(2, sizeof(char *));
	if (o->nargs > 1 && image_tag_arg(o->args[1], &tags[0], err) < 0)
		return cmd_fail(err);
	size_t nchanges;
	const char *const *changes = opt_list(o, "change", &nchanges);
	_cleanup_json_ json_t *cfg = json_object();
	if (image_config_apply_changes(cfg, changes, nchanges, err) < 0)
		return cmd_fail(err);
	_cleanup_close_ int fd = -1;
	if (strcmp(src, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			error_set(err, EINVAL, "refusing to read a tar from a terminal: redirect or pipe "
					       "it to stdin");
			return cmd_fail(err);
		}
	} else if (!is_url(src)) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			error_errno(err, "open %s", src);
			return cmd_fail(err);
		}
	}
	_cleanup_free_ char *dflt = xasprintf("Imported from %s", is_url(src) ? src : "-");
	const char *msg = opt_str(o, "message") && *opt_str(o, "message") ? opt_str(o, "message")
									  : dflt;
	char id[DIGEST_STR_LEN + 1];
	if (import_run(ctx, src, fd >= 0 ? fd : STDIN_FILENO, cfg, &plat, msg, tags, id, err) < 0) {
		error_wrap(err, "import");
		return cmd_fail(err);
	}
	printf("%s\n", id);
	return 0;
}
