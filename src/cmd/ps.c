/* scow ps / container ls */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "image/reference.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_ps_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Show all containers (default shows just running)", NULL},
	{"filter", 'f', OPT_LIST, "filter", "Filter output based on conditions provided", NULL},
	{"format", 0, OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"last", 'n', OPT_VALUE, "int", "Show n last created containers (includes all states)",
	 "-1"},
	{"latest", 'l', OPT_BOOL, NULL, "Show the latest created container (includes all states)",
	 NULL},
	{"no-trunc", 0, OPT_BOOL, NULL, "Don't truncate output", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Only display container IDs", NULL},
	{"size", 's', OPT_BOOL, NULL, "Display total file sizes", NULL},
	OPT_END,
};

#define PS_TABLE                                                                                   \
	"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
#define PS_TABLE_SIZE PS_TABLE "\t{{.Size}}"

struct ps_filters {
	char **ids, **names, **labels, **statuses, **ancestors;
	long long exited;
	bool has_exited;
};

static void filters_release(struct ps_filters *f)
{
	strv_free(f->ids), strv_free(f->names), strv_free(f->labels);
	strv_free(f->statuses), strv_free(f->ancestors);
}

static int parse_filters(const struct opts *o, struct ps_filters *f, struct scow_error **err)
{
	*f = (struct ps_filters){0};
	char ***lists[] = {&f->ids, &f->names, &f->labels, &f->statuses, &f->ancestors};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		*lists[i] = xcalloc(1, sizeof(char *));
	size_t n;
	const char *const *v = opt_list(o, "filter", &n);
	static const char *const statuses[] = {"created", "restarting", "running", "removing",
					       "paused",  "exited",	"dead"};
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		if (!eq)
			return error_set(err, EINVAL, "bad format of filter (expected name=value)");
		_cleanup_free_ char *k = xstrndup(v[i], (size_t)(eq - v[i]));
		const char *val = eq + 1;
		if (!strcmp(k, "id"))
			strv_push(&f->ids, xstrdup(val));
		else if (!strcmp(k, "name"))
			strv_push(&f->names, xstrdup(val));
		else if (!strcmp(k, "label"))
			strv_push(&f->labels, xstrdup(val));
		else if (!strcmp(k, "ancestor"))
			strv_push(&f->ancestors, xstrdup(val));
		else if (!strcmp(k, "status")) {
			bool ok = false;
			for (size_t s = 0; s < ARRAY_SIZE(statuses); s++)
				ok |= !strcmp(val, statuses[s]);
			if (!ok)
				return error_set(err, EINVAL, "invalid filter 'status=%s'", val);
			strv_push(&f->statuses, xstrdup(val));
		} else if (!strcmp(k, "exited")) {
			if (!str_to_ll(val, INT32_MIN, INT32_MAX, &f->exited))
				return error_set(err, EINVAL, "invalid filter 'exited=%s'", val);
			f->has_exited = true;
		} else
			return error_set(err, EINVAL, "invalid filter '%s'", k);
	}
	return 0;
}

static bool match_name(char **patterns, const char *name)
{
	if (!patterns[0])
		return true;
	for (size_t i = 0; patterns[i]; i++) {
		regex_t re;
		if (regcomp(&re, patterns[i], REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		bool m = regexec(&re, name, 0, NULL, 0) == 0;
		regfree(&re);
		if (m)
			return true;
	}
	return false;
}

static bool match_any_prefix(char **ids, const char *id)
{
	if (!ids[0])
		return true;
	for (size_t i = 0; ids[i]; i++)
		if (str_starts_with(id, ids[i]))
			return true;
	return false;
}

static bool match_labels(char **want, json_t *labels)
{
	for (size_t i = 0; want[i]; i++) {
		const char *eq = strchr(want[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(want[i], (size_t)(eq - want[i]))
					    : xstrdup(want[i]);
		const char *v = json_get_str(labels, k);
		if (!v || (eq && strcmp(v, eq + 1)))
			return false;
	}
	return true;
}

static bool match_ancestor(struct image_store *is, char **anc, const struct container *c)
{
	if (!anc[0])
		return true;
	const char *image_id = json_get_str(c->config, "Image");
	for (size_t i = 0; anc[i]; i++) {
		_cleanup_free_ char *id = NULL;
		_cleanup_error_ struct scow_error *e = NULL;
		if (is && image_store_resolve(is, anc[i], &id, NULL, &e) == 0 && str_eq(id, image_id))
			return true;
	}
	return false;
}

static bool matches(const struct ps_filters *f, struct image_store *is, const struct container *c)
{
	const char *status = container_status_name(c->status);
	if (f->statuses[0] && !strv_contains(f->statuses, status))
		return false;
	if (f->has_exited && (c->status != CTR_EXITED ||
			      json_get_int(c->state, "ExitCode", 0) != f->exited))
		return false;
	return match_any_prefix(f->ids, c->id) && match_name(f->names, c->name) &&
	       match_labels(f->labels, json_get_obj(json_get_obj(c->config, "Config"), "Labels")) &&
	       match_ancestor(is, f->ancestors, c);
}

/* Docker's COMMAND: arguments with spaces get single quotes. */
static char *command_text(json_t *config, bool no_trunc)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, json_get_str(config, "Path") ? json_get_str(config, "Path") : "");
	size_t i;
	json_t *a;
	json_array_foreach(json_get_arr(config, "Args"), i, a) {
		const char *s = json_string_value(a);
		sb_printf(&sb, strchr(s, ' ') ? " '%s'" : " %s", s);
	}
	_cleanup_json_ json_t *str = json_string(sb_str(&sb));
	_cleanup_free_ char *quoted = json_dumps(str, JSON_ENCODE_ANY);
	return no_trunc ? steal_ptr(&quoted) : format_ellipsis(quoted, 20);
}

static json_t *ps_row(struct container_store *cs, struct image_store *is,
		      const struct container *c, bool no_trunc, bool size)
{
	char created_since[64] = "", status[96];
	struct timespec created = {0, 0};
	time_parse_rfc3339(json_get_str(c->config, "Created") ? json_get_str(c->config, "Created") : "",
			   &created);
	time_human_duration(difftime(time(NULL), created.tv_sec), created_since,
			    sizeof(created_since));
	strncat(created_since, " ago", sizeof(created_since) - strlen(created_since) - 1);
	container_status_text(c, status, sizeof(status));
	char id[CONTAINER_ID_LEN + 1];
	snprintf(id, sizeof(id), "%.*s", no_trunc ? CONTAINER_ID_LEN : 12, c->id);
	_cleanup_free_ char *cmd = command_text(c->config, no_trunc);
	const char *image = json_get_str(json_get_obj(c->config, "Config"), "Image");
	char sz[96] = "";
	if (size) {
		_cleanup_close_ int dfd = container_dir_fd(cs, c->id, NULL);
		char rw[32], virt[32];
		size_human((double)fs_tree_size_at(dfd, "upper"), rw, sizeof(rw));
		struct image img;
		_cleanup_error_ struct scow_error *e = NULL;
		int64_t isz = 0;
		if (is && image_store_load(is, json_get_str(c->config, "Image"), NULL, &img, &e) == 0) {
			isz = json_get_int(img.meta, "size", 0);
			image_release(&img);
		}
		size_human((double)isz, virt, sizeof(virt));
		snprintf(sz, sizeof(sz), "%s (virtual %s)", rw, virt);
	}
	json_t *labels = json_get_obj(json_get_obj(c->config, "Config"), "Labels");
	_cleanup_sb_ struct strbuf lab = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v)
		sb_printf(&lab, "%s%s=%s", lab.len ? "," : "", k, json_string_value(v));
	/* Ports and networks of a running container, as its start set them. */
	bool up = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
	json_t *ns = up ? json_get_obj(c->runtime, "NetworkSettings") : NULL;
	_cleanup_free_ char *ports = ns ? net_ports_ps_text(json_get_obj(ns, "Ports")) : NULL;
	_cleanup_sb_ struct strbuf nets = STRBUF_INIT;
	json_object_foreach(json_get_obj(ns, "Networks"), k, v)
		sb_printf(&nets, "%s%s", nets.len ? "," : "", k);
	return json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss}", "ID", id, "Image",
			 image ? image : "", "Command", cmd, "CreatedAt",
			 json_get_str(c->config, "Created") ? json_get_str(c->config, "Created") : "",
			 "RunningFor", created_since, "Status", status, "State",
			 container_status_name(c->status), "Ports", ports ? ports : "", "Names",
			 c->name, "Labels", sb_str(&lab), "Size", sz, "Mounts", "", "Networks",
			 sb_str(&nets));
}

/* A row and when its container was created (rows are sorted newest first). */
struct ps_item {
	json_t *row;
	double created;
};

static int by_created_desc(const void *a, const void *b)
{
	const struct ps_item *x = a, *y = b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

struct ps_query {
	const struct ps_filters *f;
	struct image_store *is;
	bool all, no_trunc, size;
};

struct ps_worker {
	struct container_store *cs;
	const struct ps_query *q;
	char **ids;
	size_t from, to, step;
	struct ps_item *items; /* indexed like ids; row NULL: not shown */
};

/* Loads each container once and keeps only its row: a thousand records'
 * JSON trees are never held at once. */
static void *collect_part(void *arg)
{
	struct ps_worker *w = arg;
	const struct ps_query *q = w->q;
	for (size_t i = w->from; i < w->to; i += w->step) {
		if (!q->all && !container_maybe_running(w->cs, w->ids[i]))
			continue;
		_cleanup_error_ struct scow_error *e = NULL;
		struct container c;
		int r = container_load_summary(w->cs, w->ids[i], &c, &e);
		if (r == 0 && c.orphaned) {
			/* Its supervisor is gone: reconciled on the way. */
			container_release(&c);
			r = cmd_load_container(w->cs, w->ids[i], false, &c, &e);
		}
		if (r < 0) {
			/* Removed meanwhile (fine), or a corrupt record: it breaks
			 * only its own line, and says so. */
			if (e->errnum != ENOENT)
				fprintf(stderr, "scow: warning: container %.12s: %s\n", w->ids[i],
					e->msg);
			continue;
		}
		bool up = c.status == CTR_RUNNING || c.status == CTR_PAUSED ||
			  c.status == CTR_RESTARTING;
		if ((q->all || up) && matches(q->f, q->is, &c)) {
			struct timespec ts = {0, 0};
			time_parse_rfc3339(json_get_str(c.config, "Created"), &ts);
			w->items[i].created = (double)ts.tv_sec + ts.tv_nsec / 1e9;
			w->items[i].row = ps_row(w->cs, q->is, &c, q->no_trunc, q->size);
		}
		container_release(&c);
	}
	return NULL;
}

/* Reading the records is most of ps's time with many containers: spread
 * over the CPUs (each record is independent; the stores are only read,
 * apart from reconciling an orphan, which takes that container's lock). */
static int collect(struct container_store *cs, const struct ps_query *q, struct ps_item **ret,
		   size_t *ret_n, struct scow_error **err)
{
	_cleanup_strv_ char **ids = NULL;
	if (container_list(cs, &ids, err) < 0)
		return -1;
	size_t total = strv_len(ids);
	struct ps_item *items = xcalloc(total + 1, sizeof(*items));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = total < 128 ? 1 : cpus < 1 ? 1 : cpus > 4 ? 4 : (size_t)cpus;
	struct ps_worker w[4];
	pthread_t tid[4];
	size_t started = 1;
	for (size_t t = 0; t < nthreads; t++)
		w[t] = (struct ps_worker){cs, q, ids, t, total, nthreads, items};
	for (size_t t = 1; t < nthreads; t++, started++)
		if (pthread_create(&tid[t], NULL, collect_part, &w[t]) != 0)
			break;
	/* This thread takes part 0 and any part whose thread did not start. */
	collect_part(&w[0]);
	for (size_t t = started; t < nthreads; t++)
		collect_part(&w[t]);
	for (size_t t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	size_t n = 0;
	for (size_t i = 0; i < total; i++)
		if (items[i].row)
			items[n++] = items[i];
	qsort(items, n, sizeof(*items), by_created_desc);
	*ret = items;
	*ret_n = n;
	return 0;
}

int cmd_ps(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct ps_filters f;
	long long last = -1;
	if (opt_str(o, "last") && !str_to_ll(opt_str(o, "last"), -1, INT32_MAX, &last))
		return error_set(err, EINVAL, "invalid --last: %s", opt_str(o, "last"));
	if (opt_bool(o, "latest"))
		last = 1;
	if (parse_filters(o, &f, err) < 0) {
		filters_release(&f);
		return -1;
	}
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0) {
		filters_release(&f);
		return cmd_fail(err);
	}
	struct image_store is;
	bool have_is = (f.ancestors[0] || opt_bool(o, "size")) && cmd_open_images(ctx, &is, NULL) == 0;
	bool all = opt_bool(o, "all") || last > 0 || f.statuses[0] || f.has_exited;
	const struct ps_query q = {&f, have_is ? &is : NULL, all, opt_bool(o, "no-trunc"),
				   opt_bool(o, "size")};
	struct ps_item *items = NULL;
	size_t n = 0;
	int r = collect(&cs, &q, &items, &n, err);
	_cleanup_json_ json_t *rows = json_array();
	for (size_t i = 0; r == 0 && i < n; i++)
		if (last < 0 || (long long)i < last)
			json_array_append(rows, items[i].row);
	for (size_t i = 0; i < n; i++)
		json_decref(items[i].row);
	free(items);
	if (have_is)
		image_store_close(&is);
	container_store_close(&cs);
	filters_release(&f);
	if (r < 0)
		return cmd_fail(err);
	const char *format = opt_bool(o, "quiet") ? "{{.ID}}" : opt_str(o, "format");
	_cleanup_json_ json_t *headers = json_pack(
		"{ss ss ss ss ss ss ss ss ss ss ss ss ss}", "ID", "CONTAINER ID", "Image", "IMAGE",
		"Command", "COMMAND", "CreatedAt", "CREATED AT", "RunningFor", "CREATED", "Status",
		"STATUS", "State", "STATE", "Ports", "PORTS", "Names", "NAMES", "Labels", "LABELS",
		"Size", "SIZE", "Mounts", "MOUNTS", "Networks", "NETWORKS");
	if (format_rows(stdout, format, opt_bool(o, "size") ? PS_TABLE_SIZE : PS_TABLE, headers,
			rows, err) < 0)
		return cmd_fail(err);
	return 0;
}
