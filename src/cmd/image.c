/* scow rmi, tag, image inspect, history, image prune */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/common.h"
#include "image/reference.h"
#include "state/container.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* ---- rmi -------------------------------------------------------------------- */

const struct opt_def cmd_rmi_opts[] = {
	{"force", 'f', OPT_BOOL, NULL, "Force removal of the image", NULL},
	{"no-prune", 0, OPT_BOOL, NULL, "Do not delete untagged parents", NULL},
	OPT_END,
};

static void print_familiar(const char *prefix, const char *full)
{
	struct image_ref r = {0};
	if (image_ref_parse(full, false, &r, NULL) == 0) {
		_cleanup_free_ char *f = image_ref_familiar(&r);
		printf("%s: %s\n", prefix, f);
		image_ref_release(&r);
	} else {
		printf("%s: %s\n", prefix, full);
	}
}

static int tags_of(json_t *tags, const char *id, char ***ret)
{
	char **v = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *val;
	json_object_foreach(tags, k, val)
		if (str_eq(json_string_value(val), id))
			strv_push(&v, xstrdup(k));
	*ret = v;
	return 0;
}

/* Removes the image and says so the way Docker does: "Untagged:" and
 * "Deleted:" for rmi, lower-case for prune. Store lock held. */
static int delete_image(struct image_store *s, json_t *tags, const char *id, bool lower,
			struct scow_error **err)
{
	const char *untagged = lower ? "untagged" : "Untagged";
	_cleanup_strv_ char **mine = NULL;
	tags_of(tags, id, &mine);
	for (size_t i = 0; mine[i]; i++) {
		json_object_del(tags, mine[i]);
		print_familiar(untagged, mine[i]);
	}
	if (mine[0] && image_store_save_tags(s, tags, err) < 0)
		return -1;
	struct image img;
	if (image_store_load(s, id, NULL, &img, err) < 0)
		return -1;
	size_t i;
	json_t *d;
	json_array_foreach(json_get_arr(img.meta, "repo_digests"), i, d)
		print_familiar(untagged, json_string_value(d));
	image_release(&img);
	if (image_store_delete(s, id, err) < 0)
		return -1;
	printf("%s: %s\n", lower ? "deleted" : "Deleted", id);
	return 0;
}

/* A container whose image is id: 1 (its id in cid, and whether it runs),
 * 0 none. A container never points at missing layers (SECURITY.md 33). */
static int image_user(struct container_store *cs, const char *id, char cid[CONTAINER_ID_LEN + 1],
		      bool *running)
{
	_cleanup_strv_ char **ids = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (!cs || container_list(cs, &ids, &e) < 0)
		return 0;
	int found = 0;
	for (size_t i = 0; ids[i]; i++) {
		struct container c;
		if (container_load(cs, ids[i], false, &c, &e) < 0) {
			error_freep(&e);
			continue;
		}
		if (str_eq(json_get_str(c.config, "Image"), id)) {
			bool r = c.status == CTR_RUNNING || c.status == CTR_PAUSED;
			if (!found || r) {
				snprintf(cid, CONTAINER_ID_LEN + 1, "%s", c.id);
				*running = r;
			}
			found = 1;
		}
		container_release(&c);
	}
	return found;
}

static int rmi_one(struct image_store *s, struct container_store *cs, const char *name, bool force,
		   struct scow_error **err)
{
	_cleanup_free_ char *id = NULL, *ref = NULL;
	if (image_store_resolve(s, name, &id, &ref, err) < 0)
		return -1;
	_cleanup_json_ json_t *tags = image_store_tags(s, err);
	if (!tags)
		return -1;
	_cleanup_strv_ char **mine = NULL;
	tags_of(tags, id, &mine);
	char cid[CONTAINER_ID_LEN + 1];
	bool running = false;
	bool by_ref = ref && !strchr(ref, '@');
	if ((!by_ref || strv_len(mine) <= 1) && image_user(cs, id, cid, &running)) {
		if (running && !by_ref)
			return error_set(err, EBUSY,
					 "conflict: unable to delete %.12s (cannot be forced) - image "
					 "is being used by running container %.12s",
					 digest_hex(id), cid);
		if (!force)
			return by_ref ? error_set(err, EBUSY,
						  "conflict: unable to remove repository reference "
						  "\"%s\" (must force) - container %.12s is using its "
						  "referenced image %.12s",
						  name, cid, digest_hex(id))
				      : error_set(err, EBUSY,
						  "conflict: unable to delete %.12s (must be forced) - "
						  "image is being used by stopped container %.12s",
						  digest_hex(id), cid);
		/* Forced: the names go, the image stays for its container. */
		for (size_t i = 0; mine[i]; i++) {
			json_object_del(tags, mine[i]);
			print_familiar("Untagged", mine[i]);
		}
		return mine[0] ? image_store_save_tags(s, tags, err) : 0;
	}
	if (ref && !str_starts_with(ref, "sha256:") && strchr(ref, '@') == NULL &&
	    strv_len(mine) > 1) {
		/* One of several tags: only untag. */
		json_object_del(tags, ref);
		if (image_store_save_tags(s, tags, err) < 0)
			return -1;
		print_familiar("Untagged", ref);
		return 0;
	}
	if (!ref && strv_len(mine) > 1 && !force) {
		char shortid[13];
		snprintf(shortid, sizeof(shortid), "%.12s", digest_hex(id));
		return error_set(err, EBUSY,
				 "conflict: unable to delete %s (must be forced) - image is "
				 "referenced in multiple repositories",
				 shortid);
	}
	return delete_image(s, tags, id, false, err);
}

int cmd_rmi(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0 || image_store_lock(&s, err) < 0)
		return cmd_fail(err);
	_cleanup_close_ int users = image_store_users_lock(&s, true, err);
	if (users < 0) {
		image_store_close(&s);
		return cmd_fail(err);
	}
	struct container_store cs;
	bool have_cs = container_store_open(ctx->root, ctx->runroot, &cs, NULL) == 0;
	int failed = 0;
	for (int i = 0; i < o->nargs; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (rmi_one(&s, have_cs ? &cs : NULL, o->args[i], opt_bool(o, "force"), &e) < 0) {
			fflush(stdout);
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			failed = 1;
		}
	}
	_cleanup_error_ struct scow_error *gc = NULL;
	if (image_store_gc_layers(&s, &gc) < 0)
		fprintf(stderr, "scow: warning: layer cleanup: %s\n", gc->msg);
	if (have_cs)
		container_store_close(&cs);
	image_store_close(&s);
	return failed;
}

/* ---- tag ---------------------------------------------------------------------- */

const struct opt_def cmd_tag_opts[] = {OPT_END};

int cmd_tag(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_ref target = {0};
	if (image_ref_parse(o->args[1], true, &target, err) < 0) {
		error_wrap(err, "Error parsing reference: \"%s\" is not a valid repository/tag",
			   o->args[1]);
		return cmd_fail(err);
	}
	if (target.digest) {
		image_ref_release(&target);
		error_set(err, EINVAL, "refusing to create a tag with a digest reference");
		return cmd_fail(err);
	}
	_cleanup_free_ char *full = image_ref_string(&target);
	image_ref_release(&target);
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0 || image_store_lock(&s, err) < 0)
		return cmd_fail(err);
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_t *tags = NULL;
	int r = -1;
	if (image_store_resolve(&s, o->args[0], &id, NULL, err) == 0 &&
	    (tags = image_store_tags(&s, err))) {
		json_object_set_new(tags, full, json_string(id));
		r = image_store_save_tags(&s, tags, err);
	}
	image_store_close(&s);
	return r < 0 ? cmd_fail(err) : 0;
}

/* ---- inspect ------------------------------------------------------------------- */

const struct opt_def cmd_image_inspect_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format output using a custom template", NULL},
	OPT_END,
};

/* Docker shows every field of the container config, with zero values. */
static json_t *docker_config(json_t *c)
{
	json_t *out = json_object();
	static const char *const strs[] = {"Hostname", "Domainname", "User"};
	static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr", "Tty",
					    "OpenStdin", "StdinOnce"};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		json_set_str(out, strs[i], json_get_str(c, strs[i]) ? json_get_str(c, strs[i]) : "");
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		json_object_set_new(out, bools[i], json_boolean(json_get_bool(c, bools[i], false)));
	static const char *const rest[] = {"ExposedPorts", "Env", "Cmd", "Healthcheck",
					   "ArgsEscaped", "Image", "Volumes", "WorkingDir",
					   "Entrypoint", "OnBuild", "Labels", "StopSignal",
					   "Shell"};
	for (size_t i = 0; i < ARRAY_SIZE(rest); i++) {
		json_t *v = json_object_get(c, rest[i]);
		bool optional = strcmp(rest[i], "ExposedPorts") == 0 ||
				strcmp(rest[i], "Healthcheck") == 0 ||
				strcmp(rest[i], "ArgsEscaped") == 0 ||
				strcmp(rest[i], "StopSignal") == 0 || strcmp(rest[i], "Shell") == 0;
		if (v)
			json_object_set(out, rest[i], v);
		else if (strcmp(rest[i], "Image") == 0 || strcmp(rest[i], "WorkingDir") == 0)
			json_set_str(out, rest[i], "");
		else if (!optional)
			json_object_set_new(out, rest[i], json_null());
	}
	return out;
}

static json_t *familiar_list(json_t *list_or_null, char **strv)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(list_or_null, i, v) {
		struct image_ref r = {0};
		if (image_ref_parse(json_string_value(v), false, &r, NULL) == 0) {
			_cleanup_free_ char *f = image_ref_familiar(&r);
			json_array_append_new(out, json_string(f));
			image_ref_release(&r);
		}
	}
	for (size_t k = 0; strv && strv[k]; k++) {
		struct image_ref r = {0};
		if (image_ref_parse(strv[k], false, &r, NULL) == 0) {
			_cleanup_free_ char *f = image_ref_familiar(&r);
			json_array_append_new(out, json_string(f));
			image_ref_release(&r);
		}
	}
	return out;
}

json_t *image_inspect_json(struct image_store *s, const struct image *img);

json_t *image_inspect_json(struct image_store *s, const struct image *img)
{
	json_t *c = img->config;
	json_t *j = json_object();
	json_set_str(j, "Id", img->id);
	json_object_set_new(j, "RepoTags", familiar_list(NULL, img->tags));
	json_object_set_new(j, "RepoDigests",
			    familiar_list(json_get_arr(img->meta, "repo_digests"), NULL));
	json_set_str(j, "Parent", "");
	json_set_str(j, "Comment", json_get_str(c, "comment") ? json_get_str(c, "comment") : "");
	json_set_str(j, "Created", json_get_str(c, "created") ? json_get_str(c, "created") : "");
	json_set_str(j, "DockerVersion",
		     json_get_str(c, "docker_version") ? json_get_str(c, "docker_version") : "");
	json_set_str(j, "Author", json_get_str(c, "author") ? json_get_str(c, "author") : "");
	json_object_set_new(j, "Config", docker_config(json_get_obj(c, "config")));
	json_set_str(j, "Architecture",
		     json_get_str(c, "architecture") ? json_get_str(c, "architecture") : "");
	if (json_get_str(c, "variant"))
		json_set_str(j, "Variant", json_get_str(c, "variant"));
	json_set_str(j, "Os", json_get_str(c, "os") ? json_get_str(c, "os") : "");
	json_set_int(j, "Size", json_get_int(img->meta, "size", 0));
	json_t *layers = json_get_arr(img->meta, "layers");
	size_t n = json_array_size(layers);
	json_t *data = json_object();
	if (n > 0) {
		_cleanup_free_ char *top =
			layer_diff_path(&s->layers, json_string_value(json_array_get(layers, n - 1)));
		_cleanup_sb_ struct strbuf lower = STRBUF_INIT;
		for (size_t i = n - 1; i-- > 0;) {
			_cleanup_free_ char *p =
				layer_diff_path(&s->layers, json_string_value(json_array_get(layers, i)));
			sb_printf(&lower, "%s%s", lower.len ? ":" : "", p);
		}
		if (lower.len)
			json_set_str(data, "LowerDir", sb_str(&lower));
		json_set_str(data, "UpperDir", top);
	}
	json_object_set_new(j, "GraphDriver", json_pack("{so ss}", "Data", data, "Name", "overlay"));
	json_t *rootfs = json_get_obj(c, "rootfs");
	json_object_set_new(j, "RootFS",
			    json_pack("{ss sO}", "Type", "layers", "Layers",
				      json_get_arr(rootfs, "diff_ids") ? json_get_arr(rootfs, "diff_ids")
								       : json_array()));
	json_object_set_new(j, "Metadata",
			    json_pack("{ss}", "LastTagTime",
				      json_get_str(img->meta, "pulled") ? json_get_str(img->meta, "pulled")
									: "0001-01-01T00:00:00Z"));
	return j;
}

/* Appends inspect JSON for name; 0 found, 1 not an image, -1 error. */
int image_inspect_one(struct image_store *s, const char *name, json_t *out,
		      struct scow_error **err);

int image_inspect_one(struct image_store *s, const char *name, json_t *out,
		      struct scow_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (image_store_resolve(s, name, &id, NULL, &e) < 0) {
		if (e->errnum == ENOENT)
			return 1;
		*err = steal_ptr(&e);
		return -1;
	}
	_cleanup_json_ json_t *tags = image_store_tags(s, err);
	if (!tags)
		return -1;
	struct image img;
	if (image_store_load(s, id, tags, &img, err) < 0)
		return -1;
	json_array_append_new(out, image_inspect_json(s, &img));
	image_release(&img);
	return 0;
}

int cmd_image_inspect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return cmd_fail(err);
	_cleanup_json_ json_t *items = json_array();
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		int r = image_inspect_one(&s, o->args[i], items, err);
		if (r < 0) {
			image_store_close(&s);
			return cmd_fail(err);
		}
		if (r > 0) {
			fprintf(stderr, "Error: No such image: %s\n", o->args[i]);
			status = 1;
		}
	}
	image_store_close(&s);
	if (format_inspect(stdout, opt_str(o, "format"), items, err) < 0)
		return cmd_fail(err);
	return status;
}

/* inspect: containers come first once they exist; images for now. */
const struct opt_def cmd_inspect_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"type", 0, OPT_VALUE, "string", "Return JSON for specified type", NULL},
	{"size", 's', OPT_BOOL, NULL, "Display total file sizes if the type is container", NULL},
	OPT_END,
};

int container_inspect_one(struct container_store *cs, struct image_store *is, const char *ref,
			  json_t *out, struct scow_error **err);

/* Docker's order: a container of that name or id, else an image. */
int cmd_inspect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *type = opt_str(o, "type");
	if (type && strcmp(type, "image") && strcmp(type, "container"))
		return error_set(err, EINVAL, "\"%s\" is not a valid value for --type", type);
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (container_store_open(ctx->root, ctx->runroot, &cs, err) < 0) {
		image_store_close(&is);
		return cmd_fail(err);
	}
	_cleanup_json_ json_t *items = json_array();
	int status = 0, r = 0;
	for (int i = 0; r >= 0 && i < o->nargs; i++) {
		r = 1;
		if (!type || strcmp(type, "container") == 0)
			r = container_inspect_one(&cs, &is, o->args[i], items, err);
		if (r > 0 && (!type || strcmp(type, "image") == 0))
			r = image_inspect_one(&is, o->args[i], items, err);
		if (r > 0) {
			fprintf(stderr, "Error: No such object: %s\n", o->args[i]);
			status = 1;
		}
	}
	container_store_close(&cs);
	image_store_close(&is);
	if (r < 0 || format_inspect(stdout, opt_str(o, "format"), items, err) < 0)
		return cmd_fail(err);
	return status;
}

/* ---- history -------------------------------------------------------------------- */

const struct opt_def cmd_history_opts[] = {
	{"format", 0, OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"human", 'H', OPT_BOOL, NULL, "Print sizes and dates in human readable format", "true"},
	{"no-trunc", 0, OPT_BOOL, NULL, "Don't truncate output", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Only show image IDs", NULL},
	OPT_END,
};

static json_t *history_row(const char *id, json_t *h, int64_t size, bool human, bool no_trunc)
{
	struct timespec ts = {0, 0}, now;
	clock_gettime(CLOCK_REALTIME, &now);
	const char *created = json_get_str(h, "created");
	char since[64] = "N/A", sz[32];
	if (created && time_parse_rfc3339(created, &ts)) {
		if (human) {
			char d[48];
			time_human_duration(difftime(now.tv_sec, ts.tv_sec), d, sizeof(d));
			snprintf(since, sizeof(since), "%s ago", d);
		} else {
			snprintf(since, sizeof(since), "%s", created);
		}
	}
	if (human)
		size_human((double)size, sz, sizeof(sz));
	else
		snprintf(sz, sizeof(sz), "%lld", (long long)size);
	const char *by = json_get_str(h, "created_by");
	_cleanup_free_ char *flat = xstrdup(by ? by : "");
	for (char *p = flat; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	_cleanup_free_ char *shown = no_trunc ? xstrdup(flat) : format_ellipsis(flat, 45);
	const char *comment = json_get_str(h, "comment");
	return json_pack("{ss ss ss ss ss ss}", "ID", id, "CreatedSince", since, "CreatedAt",
			 created ? created : "", "CreatedBy", shown, "Size", sz, "Comment",
			 comment ? comment : "");
}

static int history_rows(struct image_store *s, const struct image *img, bool human,
			bool no_trunc, json_t *rows)
{
	json_t *hist = json_get_arr(img->config, "history");
	json_t *layers = json_get_arr(img->meta, "layers");
	char shortid[DIGEST_STR_LEN + 1];
	snprintf(shortid, sizeof(shortid), "%s", no_trunc ? img->id : digest_hex(img->id));
	if (!no_trunc)
		shortid[12] = '\0';
	/* Walk oldest first to pair entries with layers, print newest first. */
	size_t li = 0, n = json_array_size(hist);
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(hist, i);
		int64_t size = 0;
		if (!json_get_bool(h, "empty_layer", false)) {
			struct layer_info info;
			_cleanup_error_ struct scow_error *e = NULL;
			const char *chain = json_string_value(json_array_get(layers, li++));
			if (chain && layer_info_read(&s->layers, chain, &info, &e) == 0)
				size = info.size;
		}
		json_array_insert_new(rows, 0,
				      history_row(i == n - 1 ? shortid : "<missing>", h, size, human,
						  no_trunc));
	}
	return 0;
}

int cmd_history(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return cmd_fail(err);
	_cleanup_free_ char *id = NULL;
	struct image img = {0};
	int r = image_store_resolve(&s, o->args[0], &id, NULL, err);
	if (r == 0)
		r = image_store_load(&s, id, NULL, &img, err);
	_cleanup_json_ json_t *rows = json_array();
	if (r == 0)
		r = history_rows(&s, &img, !opt_set(o, "human") || opt_bool(o, "human"),
				 opt_bool(o, "no-trunc"), rows);
	image_release(&img);
	image_store_close(&s);
	if (r < 0)
		return cmd_fail(err);
	const char *format = opt_bool(o, "quiet") ? "{{.ID}}" : opt_str(o, "format");
	_cleanup_json_ json_t *headers =
		json_pack("{ss ss ss ss ss ss}", "ID", "IMAGE", "CreatedSince", "CREATED",
			  "CreatedAt", "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE",
			  "Comment", "COMMENT");
	if (format_rows(stdout, format,
			"table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
			headers, rows, err) < 0)
		return cmd_fail(err);
	return 0;
}

/* ---- image prune ------------------------------------------------------------------- */

const struct opt_def cmd_image_prune_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Remove all unused images, not just dangling ones", NULL},
	{"filter", 0, OPT_LIST, "filter", "Provide filter values (e.g. \"until=<timestamp>\")",
	 NULL},
	{"force", 'f', OPT_BOOL, NULL, "Do not prompt for confirmation", NULL},
	OPT_END,
};

static int parse_until(const char *v, time_t *ret)
{
	struct timespec ts;
	if (time_parse_rfc3339(v, &ts)) {
		*ret = ts.tv_sec;
		return 0;
	}
	long long n;
	if (str_to_ll(v, 0, INT64_MAX, &n)) {
		*ret = (time_t)n;
		return 0;
	}
	/* Go durations: "24h", "30m", "10s". */
	char *end;
	double d = strtod(v, &end);
	double mult = strcmp(end, "h") == 0 ? 3600 : strcmp(end, "m") == 0 ? 60
						     : strcmp(end, "s") == 0 ? 1
									     : -1;
	if (end == v || mult < 0)
		return -1;
	*ret = time(NULL) - (time_t)(d * mult);
	return 0;
}

int cmd_image_prune(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	bool all = opt_bool(o, "all");
	size_t nf;
	const char *const *filters = opt_list(o, "filter", &nf);
	time_t until = 0;
	char **labels = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < nf; i++) {
		if (str_starts_with(filters[i], "until=") &&
		    parse_until(filters[i] + 6, &until) == 0)
			continue;
		if (str_starts_with(filters[i], "label=")) {
			strv_push(&labels, xstrdup(filters[i] + 6));
			continue;
		}
		strv_free(labels);
		return error_set(err, EINVAL, "invalid filter '%s'", filters[i]);
	}
	if (!opt_bool(o, "force") &&
	    !cmd_confirm(all ? "This will remove all images without at least one container "
			       "associated to them."
			     : "This will remove all dangling images.")) {
		strv_free(labels);
		return 0;
	}
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0 || image_store_lock(&s, err) < 0) {
		strv_free(labels);
		return cmd_fail(err);
	}
	_cleanup_close_ int users = image_store_users_lock(&s, true, err);
	if (users < 0) {
		strv_free(labels);
		image_store_close(&s);
		return cmd_fail(err);
	}
	struct container_store cs;
	bool have_cs = container_store_open(ctx->root, ctx->runroot, &cs, NULL) == 0;
	int r = -1;
	int64_t reclaimed = 0;
	bool header = false;
	_cleanup_strv_ char **ids = NULL;
	_cleanup_json_ json_t *tags = image_store_tags(&s, err);
	if (!tags || image_store_ids(&s, &ids, err) < 0)
		goto out;
	for (size_t i = 0; ids[i]; i++) {
		struct image img;
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_load(&s, ids[i], tags, &img, &e) < 0)
			continue;
		bool dangling = !img.tags[0];
		struct timespec c = {0, 0};
		const char *created = json_get_str(img.config, "created");
		if (created)
			time_parse_rfc3339(created, &c);
		json_t *lab = json_get_obj(json_get_obj(img.config, "config"), "Labels");
		bool label_ok = true;
		for (size_t k = 0; labels[k] && label_ok; k++) {
			const char *eq = strchr(labels[k], '=');
			_cleanup_free_ char *key = eq ? xstrndup(labels[k], (size_t)(eq - labels[k]))
						      : xstrdup(labels[k]);
			const char *v = json_get_str(lab, key);
			label_ok = v && (!eq || strcmp(v, eq + 1) == 0);
		}
		char cid[CONTAINER_ID_LEN + 1];
		bool running;
		bool prune = (all || dangling) && (!until || c.tv_sec < until) && label_ok &&
			     !image_user(have_cs ? &cs : NULL, ids[i], cid, &running);
		int64_t size = json_get_int(img.meta, "size", 0);
		image_release(&img);
		if (!prune)
			continue;
		if (!header) {
			printf("Deleted Images:\n");
			header = true;
		}
		if (delete_image(&s, tags, ids[i], true, err) < 0)
			goto out;
		reclaimed += size;
	}
	if (image_store_gc_layers(&s, err) < 0)
		goto out;
	char sz[32];
	size_human((double)reclaimed, sz, sizeof(sz));
	printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", sz);
	r = 0;
out:
	strv_free(labels);
	if (have_cs)
		container_store_close(&cs);
	image_store_close(&s);
	return r < 0 ? cmd_fail(err) : 0;
}
