/* scow pull: Docker's output, per-layer lines updated in place on a
 * terminal, one line per status change otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "image/pull.h"
#include "image/reference.h"
#include "image/tags.h"
#include "util/cleanup.h"
#include "util/progress.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_pull_opts[] = {
	{"all-tags", 'a', OPT_BOOL, NULL, "Download all tagged images in the repository", NULL},
	{"platform", 0, OPT_VALUE, "string", "Set platform if server is multi-platform capable",
	 NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress verbose output", NULL},
	{"tls-verify", 0, OPT_BOOL, NULL, "Require HTTPS and verify certificates", "true"},
	{"cert-dir", 0, OPT_VALUE, "string", "Use certificates (*.crt, *.cert, *.key) in this dir",
	 NULL},
	{"creds", 0, OPT_VALUE, "string", "Registry credentials as USERNAME:PASSWORD", NULL},
	{"authfile", 0, OPT_VALUE, "string", "Path of the authentication file", NULL},
	{"disable-content-trust", 0, OPT_BOOL, NULL, "Skip image verification (ignored)", "true"},
	OPT_END,
};

struct pull_ui {
	struct progress_lines lines;
	bool quiet;
};

static void short_id(const char *digest, char out[13])
{
	snprintf(out, 13, "%s", digest ? digest + 7 : "");
}

static const char *status_text(const struct pull_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case PULL_EV_LAYER_EXISTS: return "Already exists";
	case PULL_EV_LAYER_WAIT: return "Pulling fs layer";
	case PULL_EV_LAYER_DONE: return "Pull complete";
	case PULL_EV_LAYER_RETRY: snprintf(buf, len, "Retrying: %s", ev->msg); return buf;
	case PULL_EV_LAYER_PROGRESS:
		progress_bar_text("Downloading", ev->current, ev->total, buf, len);
		return buf;
	default: return NULL;
	}
}

static void ui_event(void *opaque, const struct pull_event *ev)
{
	struct pull_ui *ui = opaque;
	if (ui->quiet || ev->kind == PULL_EV_START)
		return;
	char idbuf[13], text[160];
	short_id(ev->digest, idbuf);
	const char *status = status_text(ev, text, sizeof(text));
	if (status)
		progress_lines_show(&ui->lines, ev->layer, idbuf, status,
				    ev->kind == PULL_EV_LAYER_PROGRESS);
}

/* Pulls name with Docker's output on out (stdout for pull, stderr for
 * run). quiet: nothing but errors. */
int cmd_pull_image(struct scow_ctx *ctx, const struct opts *o, const char *name, FILE *out,
		   bool quiet, char **ret_id, struct scow_error **err)
{
	struct image_ref ref = {0};
	if (image_ref_parse(name, false, &ref, err) < 0)
		return -1;
	bool default_tag = !ref.tag && !ref.digest;
	_cleanup_free_ char *path = xstrdup(ref.path);
	_cleanup_free_ char *what = xstrdup(ref.digest ? ref.digest : ref.tag ? ref.tag : "latest");
	image_ref_release(&ref);

	struct pull_ui ui = {.quiet = quiet};
	progress_lines_init(&ui.lines, out);
	struct pull_opts po = {.platform = opt_declared(o, "platform") ? opt_str(o, "platform") : NULL,
			       .progress = ui_event, .progress_opaque = &ui};
	cmd_registry_opts(o, &po.reg);
	struct regconf conf;
	if (regconf_load(&conf, err) < 0)
		return -1;
	struct image_store store;
	if (cmd_open_images(ctx, &store, err) < 0) {
		regconf_release(&conf);
		return -1;
	}
	if (!quiet) {
		if (default_tag && out == stdout) /* docker pull says so, docker run not */
			fprintf(out, "Using default tag: latest\n");
		fprintf(out, "%s: Pulling from %s\n", what, path);
		fflush(out);
	}
	struct pull_result res = {0};
	int r = image_pull(&store, &conf, name, &po, &res, err);
	image_store_close(&store);
	regconf_release(&conf);
	progress_lines_release(&ui.lines);
	if (r < 0)
		return -1;
	struct image_ref full = {0};
	image_ref_parse(res.ref, false, &full, NULL);
	_cleanup_free_ char *familiar = image_ref_familiar(&full);
	image_ref_release(&full);
	if (!quiet) {
		fprintf(out, "Digest: %s\n", res.digest);
		fprintf(out, "Status: %s for %s\n",
			res.changed ? "Downloaded newer image" : "Image is up to date", familiar);
	}
	if (ret_id)
		*ret_id = xstrdup(res.id);
	if (out == stdout) /* docker pull's last line, even with -q; not for run */
		printf("%s\n", res.ref);
	pull_result_release(&res);
	return 0;
}

/* pull --all-tags: every tag the registry lists for the repository. */
static int pull_all_tags(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_ref ref = {0};
	if (image_ref_parse(o->args[0], false, &ref, err) < 0)
		return cmd_fail(err);
	if (ref.tag || ref.digest) {
		image_ref_release(&ref);
		error_set(err, EINVAL, "tag can't be used with --all-tags/-a");
		return cmd_fail(err);
	}
	struct regconf conf;
	struct registry_opts ro;
	cmd_registry_opts(o, &ro);
	_cleanup_strv_ char **tags = NULL;
	int r = regconf_load(&conf, err);
	if (r == 0) {
		r = registry_list_tags(&conf, &ro, &ref, &tags, err);
		regconf_release(&conf);
	}
	_cleanup_free_ char *repo = xasprintf("%s/%s", ref.domain, ref.path);
	image_ref_release(&ref);
	if (r < 0)
		return cmd_fail(err);
	if (!tags[0]) {
		error_set(err, ENOENT, "%s: the registry lists no tags", repo);
		return cmd_fail(err);
	}
	for (size_t i = 0; tags[i]; i++) {
		_cleanup_free_ char *name = xasprintf("%s:%s", repo, tags[i]);
		if (cmd_pull_image(ctx, o, name, stdout, opt_bool(o, "quiet"), NULL, err) < 0)
			return cmd_fail(err);
	}
	return 0;
}

int cmd_pull(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	/* Progress lines must come out in order with errors on stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (opt_bool(o, "all-tags"))
		return pull_all_tags(ctx, o, err);
	if (cmd_pull_image(ctx, o, o->args[0], stdout, opt_bool(o, "quiet"), NULL, err) < 0)
		return cmd_fail(err);
	return 0;
}
