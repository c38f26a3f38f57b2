/* scow push: Docker's output ("The push refers to repository [...]", a line
 * per layer updated in place on a terminal, "TAG: digest: D size: N"),
 * podman's options (DESTINATION, --format, --compression-format,
 * --digestfile, --authfile, ...). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "image/push.h"
#include "image/reference.h"
#include "layers/compress.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/progress.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_push_opts[] = {
	{"all-tags", 'a', OPT_BOOL, NULL, "Push all tags of an image to the repository", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress verbose output", NULL},
	{"format", 'f', OPT_VALUE, "string",
	 "Manifest format: v2s2 (Docker schema 2) or oci", "\"v2s2\""},
	{"compression-format", 0, OPT_VALUE, "string", "Layer compression: gzip or zstd",
	 "\"gzip\""},
	{"compression-level", 0, OPT_VALUE, "int", "Compression level (gzip 1-3, zstd 1-19)", NULL},
	{"force-compression", 0, OPT_BOOL, NULL,
	 "Compress every layer anew, even if the registry has a copy", NULL},
	{"chunk-size", 0, OPT_VALUE, "bytes", "Upload layers in chunks of this size (e.g. 16m)",
	 NULL},
	{"digestfile", 0, OPT_VALUE, "string", "Write the digest of the pushed image to this file",
	 NULL},
	{"tls-verify", 0, OPT_BOOL, NULL, "Require HTTPS and verify certificates", "true"},
	{"cert-dir", 0, OPT_VALUE, "string", "Use certificates (*.crt, *.cert, *.key) in this dir",
	 NULL},
	{"creds", 0, OPT_VALUE, "string", "Registry credentials as USERNAME:PASSWORD", NULL},
	{"authfile", 0, OPT_VALUE, "string", "Path of the authentication file", NULL},
	{"remove-signatures", 0, OPT_BOOL, NULL, "Discard signatures (there are none)", NULL},
	{"disable-content-trust", 0, OPT_BOOL, NULL, "Skip image signing (ignored)", "true"},
	OPT_END,
};

struct push_ui {
	struct progress_lines lines;
	bool quiet;
};

static const char *status_of(const struct push_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case PUSH_EV_LAYER_PREPARING: return "Preparing";
	case PUSH_EV_LAYER_WAITING: return "Waiting";
	case PUSH_EV_LAYER_EXISTS: return "Layer already exists";
	case PUSH_EV_LAYER_PUSHED: return "Pushed";
	case PUSH_EV_LAYER_MOUNTED: snprintf(buf, len, "Mounted from %s", ev->msg); return buf;
	case PUSH_EV_LAYER_RETRY: snprintf(buf, len, "Retrying: %s", ev->msg); return buf;
	case PUSH_EV_LAYER_PROGRESS:
		/* compressed bytes sent against the tar's size, as Docker does */
		progress_bar_text("Pushing", ev->current, ev->total, buf, len);
		return buf;
	default: return NULL;
	}
}

static void ui_event(void *opaque, const struct push_event *ev)
{
	struct push_ui *ui = opaque;
	if (ui->quiet)
		return;
	if (ev->kind == PUSH_EV_WARNING) {
		fflush(ui->lines.out);
		fprintf(stderr, "WARNING: %s\n", ev->msg);
		return;
	}
	char id[13], text[200];
	snprintf(id, sizeof(id), "%s", ev->diff_id ? ev->diff_id + 7 : "");
	const char *status = status_of(ev, text, sizeof(text));
	if (status)
		progress_lines_show(&ui->lines, ev->layer, id, status,
				    ev->kind == PUSH_EV_LAYER_PROGRESS ||
					    ev->kind == PUSH_EV_LAYER_WAITING);
}

static int push_opts_from(const struct opts *o, struct push_opts *po, struct scow_error **err)
{
	*po = (struct push_opts){.compression = -1};
	cmd_registry_opts(o, &po->reg);
	const char *f = opt_str(o, "format");
	if (f) {
		if (strcmp(f, "v2s2") == 0 || strcmp(f, "docker") == 0)
			po->format = PUSH_FORMAT_V2S2;
		else if (strcmp(f, "oci") == 0)
			po->format = PUSH_FORMAT_OCI;
		else
			return error_set(err, EINVAL, "unknown manifest format \"%s\" (v2s2 or oci)",
					 f);
	}
	const char *c = opt_str(o, "compression-format");
	if (c) {
		po->compression = comp_format_parse(c);
		if (po->compression < 0)
			return error_set(err, EINVAL, "unknown compression format \"%s\" (gzip or zstd)",
					 c);
	}
	const char *lvl = opt_str(o, "compression-level");
	long long v;
	if (lvl) {
		if (!str_to_ll(lvl, 0, 19, &v))
			return error_set(err, EINVAL, "invalid compression level \"%s\"", lvl);
		po->compression_level = (int)v;
	}
	po->force_compression = opt_bool(o, "force-compression");
	const char *cs = opt_str(o, "chunk-size");
	if (cs && (!str_to_ram_bytes(cs, 1LL << 40, &po->chunk_size) || po->chunk_size <= 0))
		return error_set(err, EINVAL, "--chunk-size: invalid size \"%s\"", cs);
	return 0;
}

static int write_digestfile(const char *path, const char *digest, struct scow_error **err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, digest, strlen(digest)) < 0)
		return error_errno(err, "write digest file %s", path);
	return 0;
}

static int push_one(struct image_store *s, const struct regconf *conf, const struct opts *o,
		    const struct push_opts *base, const char *name, const char *dest,
		    struct scow_error **err)
{
	bool quiet = opt_bool(o, "quiet");
	const char *target = dest ? dest : name;
	if (str_starts_with(target, "docker://"))
		target += 9;
	struct image_ref r = {0};
	if ((!image_id_like(target) || dest) && image_ref_parse(target, false, &r, NULL) == 0) {
		if (!r.tag && !r.digest && !quiet)
			printf("Using default tag: latest\n");
		_cleanup_free_ char *repo = image_ref_repo(&r); /* Docker: the full name */
		if (!quiet)
			printf("The push refers to repository [%s]\n", repo);
		image_ref_release(&r);
	}
	fflush(stdout);
	struct push_ui ui = {.quiet = quiet};
	progress_lines_init(&ui.lines, stdout);
	struct push_opts po = *base;
	po.progress = ui_event;
	po.progress_opaque = &ui;
	struct push_result res = {0};
	int ret = image_push(s, conf, name, dest, &po, &res, err);
	progress_lines_release(&ui.lines);
	if (ret < 0)
		return -1;
	if (quiet)
		printf("%s\n", res.ref);
	else
		printf("%s: digest: %s size: %lld\n", res.tag, res.digest, (long long)res.size);
	const char *df = opt_str(o, "digestfile");
	if (df && write_digestfile(df, res.digest, err) < 0) {
		push_result_release(&res);
		return -1;
	}
	push_result_release(&res);
	return 0;
}

/* push -a: every tag of the repository. */
static int push_all_tags(struct image_store *s, const struct regconf *conf, const struct opts *o,
			 const struct push_opts *po, const char *name, struct scow_error **err)
{
	struct image_ref r = {0};
	if (image_ref_parse(name, false, &r, err) < 0)
		return -1;
	bool tagged = r.tag || r.digest;
	_cleanup_free_ char *repo = image_ref_repo(&r);
	image_ref_release(&r);
	if (tagged)
		return error_set(err, EINVAL, "tag can't be used with --all-tags/-a");
	_cleanup_json_ json_t *tags = image_store_tags(s, err);
	if (!tags)
		return -1;
	_cleanup_strv_ char **refs = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach(tags, k, v)
		if (str_starts_with(k, repo) && k[strlen(repo)] == ':')
			strv_push(&refs, xstrdup(k));
	if (!refs[0])
		return error_set(err, ENOENT, "An image does not exist locally with the tag: %s",
				 name);
	for (size_t i = 0; refs[i]; i++)
		if (push_one(s, conf, o, po, refs[i], NULL, err) < 0)
			return -1;
	return 0;
}

int cmd_push(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	if (opt_bool(o, "all-tags") && o->nargs > 1)
		return error_set(err, EINVAL, "--all-tags takes no DESTINATION");
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct push_opts po;
	if (push_opts_from(o, &po, err) < 0)
		return -1;
	struct regconf conf;
	if (regconf_load(&conf, err) < 0)
		return cmd_fail(err);
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0) {
		regconf_release(&conf);
		return cmd_fail(err);
	}
	int r = opt_bool(o, "all-tags")
			? push_all_tags(&s, &conf, o, &po, o->args[0], err)
			: push_one(&s, &conf, o, &po, o->args[0], o->nargs > 1 ? o->args[1] : NULL, err);
	image_store_close(&s);
	regconf_release(&conf);
	return r < 0 ? cmd_fail(err) : 0;
}
