/* scow volume create | ls | inspect | rm | prune */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cmd/containers.h"
#include "state/volume.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* "k=v" items of a list option into an object. */
static json_t *kv_object(const struct opts *o, const char *name, struct scow_error **err)
{
	json_t *obj = json_object();
	size_t n;
	const char *const *v = opt_list(o, name, &n);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(v[i], (size_t)(eq - v[i])) : xstrdup(v[i]);
		if (!*k) {
			json_decref(obj);
			error_set(err, EINVAL, "invalid --%s value: %s", name, v[i]);
			return NULL;
		}
		json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	}
	return obj;
}

const struct opt_def cmd_volume_create_opts[] = {
	{"driver", 'd', OPT_VALUE, "string", "Specify volume driver name", "\"local\""},
	{"label", 0, OPT_LIST, "list", "Set metadata for a volume", NULL},
	{"name", 0, OPT_VALUE, "string", "Specify volume name", NULL},
	{"opt", 'o', OPT_LIST, "map", "Set driver specific options", NULL},
	OPT_END,
};

int cmd_volume_create(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *driver = opt_str(o, "driver");
	if (driver && strcmp(driver, "local") != 0) {
		error_set(err, EINVAL, "create %s: volume driver \"%s\" is not available: only "
				       "\"local\" is",
			  o->nargs ? o->args[0] : "", driver);
		return cmd_fail(err);
	}
	const char *name = o->nargs ? o->args[0] : opt_str(o, "name");
	if (o->nargs && opt_str(o, "name") && strcmp(o->args[0], opt_str(o, "name")) != 0)
		return error_set(err, EINVAL, "conflicting options: either specify --name or provide "
					      "positional arg, not both");
	_cleanup_json_ json_t *labels = kv_object(o, "label", err);
	_cleanup_json_ json_t *options = labels ? kv_object(o, "opt", err) : NULL;
	if (!options)
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(options, k, v)
		if (strcmp(k, "type") && strcmp(k, "device") && strcmp(k, "o")) {
			error_set(err, EINVAL, "invalid option key: \"%s\"", k);
			return cmd_fail(err);
		}
	_cleanup_free_ char *made = NULL;
	if (volume_create(ctx->root, name, labels, options, false, &made, err) < 0)
		return cmd_fail(err);
	printf("%s\n", made);
	return 0;
}

static json_t *inspect_json(json_t *v)
{
	json_t *j = json_object();
	static const char *const keys[] = {"CreatedAt", "Driver", "Labels", "Mountpoint",
					   "Name", "Options", "Scope"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		json_object_set(j, keys[i], json_object_get(v, keys[i]) ? json_object_get(v, keys[i])
									: json_null());
	return j;
}

const struct opt_def cmd_volume_inspect_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format output using a custom template", NULL},
	OPT_END,
};

int cmd_volume_inspect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_json_ json_t *items = json_array();
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		_cleanup_json_ json_t *v = volume_load(ctx->root, o->args[i], &e);
		if (!v) {
			fprintf(stderr, "Error: No such volume: %s\n", o->args[i]);
			status = 1;
			continue;
		}
		json_array_append_new(items, inspect_json(v));
	}
	if (format_inspect(stdout, opt_str(o, "format"), items, err) < 0)
		return cmd_fail(err);
	return status;
}

const struct opt_def cmd_volume_ls_opts[] = {
	{"filter", 'f', OPT_LIST, "filter", "Provide filter values (e.g. \"dangling=true\")", NULL},
	{"format", 0, OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Only display volume names", NULL},
	OPT_END,
};

static bool labels_match(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	_cleanup_free_ char *k = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	const char *v = json_get_str(labels, k);
	return v && (!eq || strcmp(v, eq + 1) == 0);
}

/* "k=v,k2=v2", sorted, as `docker volume ls --format {{.Labels}}` shows. */
static json_t *labels_text(json_t *labels)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v)
		sb_printf(&sb, "%s%s=%s", sb.len ? "," : "", k, json_string_value(v));
	return json_string(sb_str(&sb));
}

/* Docker's volume filters: dangling, name (substring), label, driver. */
static int volume_matches(struct container_store *cs, json_t *v, const struct opts *o,
			  bool *ret, struct scow_error **err)
{
	size_t n;
	const char *const *f = opt_list(o, "filter", &n);
	*ret = true;
	for (size_t i = 0; i < n && *ret; i++) {
		const char *eq = strchr(f[i], '=');
		if (!eq)
			return error_set(err, EINVAL, "bad format of filter (expected name=value)");
		_cleanup_free_ char *key = xstrndup(f[i], (size_t)(eq - f[i]));
		const char *val = eq + 1;
		if (strcmp(key, "dangling") == 0) {
			_cleanup_strv_ char **users = volume_users(cs, json_get_str(v, "Name"));
			bool dangling = !users[0];
			*ret = dangling == (strcmp(val, "true") == 0 || strcmp(val, "1") == 0);
		} else if (strcmp(key, "name") == 0) {
			*ret = strstr(json_get_str(v, "Name"), val) != NULL;
		} else if (strcmp(key, "label") == 0) {
			*ret = labels_match(json_get_obj(v, "Labels"), val);
		} else if (strcmp(key, "driver") == 0) {
			*ret = str_eq(json_get_str(v, "Driver"), val);
		} else {
			return error_set(err, EINVAL, "invalid filter '%s'", key);
		}
	}
	return 0;
}

int cmd_volume_ls(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	_cleanup_strv_ char **names = NULL;
	_cleanup_json_ json_t *rows = json_array();
	int r = volume_list(ctx->root, &names, err);
	for (size_t i = 0; r == 0 && names[i]; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		_cleanup_json_ json_t *v = volume_load(ctx->root, names[i], &e);
		bool match;
		if (!v)
			continue;
		r = volume_matches(&cs, v, o, &match, err);
		if (r == 0 && match)
			json_array_append_new(rows, json_pack("{ss ss ss ss so}", "Driver", "local", "Name",
							      names[i], "Mountpoint",
							      json_get_str(v, "Mountpoint"), "Scope",
							      "local", "Labels",
							      labels_text(json_get_obj(v, "Labels"))));
	}
	container_store_close(&cs);
	if (r < 0)
		return -1;
	const char *format = opt_bool(o, "quiet") ? "{{.Name}}" : opt_str(o, "format");
	_cleanup_json_ json_t *headers = json_pack("{ss ss ss ss ss}", "Driver", "DRIVER", "Name",
						   "VOLUME NAME", "Mountpoint", "MOUNTPOINT", "Scope",
						   "SCOPE", "Labels", "LABELS");
	if (format_rows(stdout, format, "table {{.Driver}}\t{{.Name}}", headers, rows, err) < 0)
		return cmd_fail(err);
	return 0;
}

const struct opt_def cmd_volume_rm_opts[] = {
	{"force", 'f', OPT_BOOL, NULL, "Force the removal of one or more volumes", NULL},
	OPT_END,
};

int cmd_volume_rm(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (volume_remove(&cs, ctx->root, o->args[i], &e) < 0) {
			/* -f only forgives a missing volume, never one in use. */
			if (opt_bool(o, "force") && e->errnum == ENOENT)
				continue;
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		printf("%s\n", o->args[i]);
	}
	container_store_close(&cs);
	return status;
}

const struct opt_def cmd_volume_prune_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Remove all unused volumes, not just anonymous ones", NULL},
	{"filter", 0, OPT_LIST, "filter", "Provide filter values (e.g. \"label=<label>\")", NULL},
	{"force", 'f', OPT_BOOL, NULL, "Do not prompt for confirmation", NULL},
	OPT_END,
};

int cmd_volume_prune(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	if (!opt_bool(o, "force") &&
	    !cmd_confirm(opt_bool(o, "all") ? "This will remove all local volumes not used by at "
					      "least one container."
					    : "This will remove anonymous local volumes not used by "
					      "at least one container."))
		return 0;
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	_cleanup_strv_ char **names = NULL;
	int r = volume_list(ctx->root, &names, err);
	bool header = false;
	uint64_t reclaimed = 0;
	for (size_t i = 0; r == 0 && names[i]; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		_cleanup_json_ json_t *v = volume_load(ctx->root, names[i], &e);
		bool match;
		if (!v || (!opt_bool(o, "all") && !json_get_bool(v, "Anonymous", false)))
			continue;
		if ((r = volume_matches(&cs, v, o, &match, err)) < 0 || !match)
			continue;
		_cleanup_free_ char *data = volume_data_path(ctx->root, names[i]);
		_cleanup_close_ int vfd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		uint64_t size = vfd >= 0 ? fs_tree_size_at(vfd, ".") : 0;
		if (volume_remove(&cs, ctx->root, names[i], &e) < 0)
			continue; /* in use */
		reclaimed += size;
		if (!header)
			printf("Deleted Volumes:\n");
		header = true;
		printf("%s\n", names[i]);
	}
	container_store_close(&cs);
	if (r < 0)
		return cmd_fail(err);
	char human[32];
	size_human((double)reclaimed, human, sizeof(human));
	printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", human);
	return 0;
}
