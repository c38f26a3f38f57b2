/* scow images / image ls */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/common.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_images_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Show all images (default hides intermediate images)", NULL},
	{"digests", 0, OPT_BOOL, NULL, "Show digests", NULL},
	{"filter", 'f', OPT_LIST, "filter", "Filter output based on conditions provided", NULL},
	{"format", 0, OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"no-trunc", 0, OPT_BOOL, NULL, "Don't truncate output", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Only show image IDs", NULL},
	OPT_END,
};

#define TABLE_DEFAULT "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define TABLE_DIGESTS                                                                              \
	"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

struct image_filters {
	int dangling; /* -1 any, 0 false, 1 true */
	char **references;
	char **labels;
	struct timespec before, since;
	bool has_before, has_since;
};

static void filters_release(struct image_filters *f)
{
	strv_free(f->references);
	strv_free(f->labels);
}

static double created_of(json_t *config, struct timespec *ret)
{
	struct timespec ts = {0, 0};
	const char *c = json_get_str(config, "created");
	if (c)
		time_parse_rfc3339(c, &ts);
	if (ret)
		*ret = ts;
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int image_created(struct image_store *s, const char *name, struct timespec *ret,
			 struct scow_error **err)
{
	_cleanup_free_ char *id = NULL;
	if (image_store_resolve(s, name, &id, NULL, err) < 0)
		return -1;
	struct image img;
	if (image_store_load(s, id, NULL, &img, err) < 0)
		return -1;
	created_of(img.config, ret);
	image_release(&img);
	return 0;
}

static int parse_filters(struct image_store *s, const struct opts *o, struct image_filters *f,
			 struct scow_error **err)
{
	*f = (struct image_filters){.dangling = -1};
	f->references = xcalloc(1, sizeof(char *));
	f->labels = xcalloc(1, sizeof(char *));
	size_t n;
	const char *const *list = opt_list(o, "filter", &n);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(list[i], '=');
		if (!eq)
			return error_set(err, EINVAL, "bad format of filter (expected name=value)");
		_cleanup_free_ char *key = xstrndup(list[i], (size_t)(eq - list[i]));
		const char *val = eq + 1;
		if (strcmp(key, "dangling") == 0) {
			if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
				return error_set(err, EINVAL,
						 "invalid filter 'dangling=%s': expected true or false", val);
			f->dangling = strcmp(val, "true") == 0;
		} else if (strcmp(key, "reference") == 0) {
			strv_push(&f->references, xstrdup(val));
		} else if (strcmp(key, "label") == 0) {
			strv_push(&f->labels, xstrdup(val));
		} else if (strcmp(key, "before") == 0) {
			if (image_created(s, val, &f->before, err) < 0)
				return -1;
			f->has_before = true;
		} else if (strcmp(key, "since") == 0) {
			if (image_created(s, val, &f->since, err) < 0)
				return -1;
			f->has_since = true;
		} else {
			return error_set(err, EINVAL, "invalid filter '%s'", key);
		}
	}
	return 0;
}

static bool labels_match(char **want, json_t *labels)
{
	for (size_t i = 0; want[i]; i++) {
		const char *eq = strchr(want[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(want[i], (size_t)(eq - want[i]))
					    : xstrdup(want[i]);
		const char *v = json_get_str(labels, k);
		if (!v || (eq && strcmp(v, eq + 1) != 0))
			return false;
	}
	return true;
}

/* Docker matches reference patterns against the familiar name, with and
 * without the tag. */
static bool reference_matches(char **patterns, const char *familiar_repo, const char *tag)
{
	if (!patterns[0])
		return true;
	_cleanup_free_ char *full = xasprintf("%s:%s", familiar_repo, tag);
	for (size_t i = 0; patterns[i]; i++)
		if (fnmatch(patterns[i], familiar_repo, FNM_PATHNAME) == 0 ||
		    fnmatch(patterns[i], full, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static json_t *make_row(const struct image *img, const char *repo, const char *tag,
			const char *digest, bool no_trunc)
{
	struct timespec created;
	created_of(img->config, &created);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char since[64] = "N/A", at[64] = "N/A", size[32];
	if (created.tv_sec > 0) {
		char d[48];
		time_human_duration(difftime(now.tv_sec, created.tv_sec), d, sizeof(d));
		snprintf(since, sizeof(since), "%s ago", d);
		struct tm tm;
		gmtime_r(&created.tv_sec, &tm);
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	}
	size_human((double)json_get_int(img->meta, "size", 0), size, sizeof(size));
	char id[DIGEST_STR_LEN + 1];
	snprintf(id, sizeof(id), "%s", no_trunc ? img->id : img->id + 7);
	if (!no_trunc)
		id[12] = '\0';
	return json_pack("{ss ss ss ss ss ss ss ss ss ss ss}", "Repository", repo, "Tag", tag,
			 "Digest", digest ? digest : "<none>", "ID", id, "CreatedSince", since,
			 "CreatedAt", at, "Size", size, "VirtualSize", size, "SharedSize", "N/A",
			 "UniqueSize", "N/A", "Containers", "N/A");
}

/* The digest recorded for repo, if any ("docker.io/library/x@sha256:..."). */
static const char *digest_for_repo(json_t *meta, const char *repo)
{
	size_t i;
	json_t *d;
	size_t n = strlen(repo);
	json_array_foreach(json_get_arr(meta, "repo_digests"), i, d) {
		const char *s = json_string_value(d);
		if (s && strncmp(s, repo, n) == 0 && s[n] == '@')
			return s + n + 1;
	}
	return NULL;
}

static void add_rows(json_t *rows, const struct image *img, const struct image_filters *f,
		     const char *only_repo, bool no_trunc)
{
	json_t *labels = json_get_obj(json_get_obj(img->config, "config"), "Labels");
	if (!labels_match(f->labels, labels))
		return;
	struct timespec c;
	created_of(img->config, &c);
	if (f->has_before && c.tv_sec >= f->before.tv_sec)
		return;
	if (f->has_since && c.tv_sec <= f->since.tv_sec)
		return;
	bool dangling = !img->tags[0];
	if (f->dangling >= 0 && f->dangling != dangling)
		return;
	json_t *digests = json_get_arr(img->meta, "repo_digests");
	if (dangling && json_array_size(digests) == 0) {
		if (!f->references[0] && !only_repo)
			json_array_append_new(rows, make_row(img, "<none>", "<none>", NULL, no_trunc));
		return;
	}
	_cleanup_json_ json_t *seen_repos = json_object();
	for (size_t i = 0; img->tags[i]; i++) {
		const char *colon = strrchr(img->tags[i], ':');
		_cleanup_free_ char *repo = xstrndup(img->tags[i], (size_t)(colon - img->tags[i]));
		_cleanup_free_ char *fam = image_repo_familiar(repo);
		json_object_set_new(seen_repos, repo, json_true());
		if (only_repo && strcmp(only_repo, fam) != 0 && strcmp(only_repo, repo) != 0 &&
		    fnmatch(only_repo, fam, FNM_PATHNAME) != 0)
			continue;
		if (!reference_matches(f->references, fam, colon + 1))
			continue;
		json_array_append_new(rows, make_row(img, fam, colon + 1,
						     digest_for_repo(img->meta, repo), no_trunc));
	}
	/* Repositories known only by digest: "<none>" tag, as Docker shows. */
	size_t i;
	json_t *d;
	json_array_foreach(digests, i, d) {
		const char *s = json_string_value(d);
		const char *at = s ? strchr(s, '@') : NULL;
		if (!at)
			continue;
		_cleanup_free_ char *repo = xstrndup(s, (size_t)(at - s));
		if (json_object_get(seen_repos, repo))
			continue;
		json_object_set_new(seen_repos, repo, json_true());
		_cleanup_free_ char *fam = image_repo_familiar(repo);
		if ((only_repo && strcmp(only_repo, fam) != 0) ||
		    !reference_matches(f->references, fam, "<none>"))
			continue;
		json_array_append_new(rows, make_row(img, fam, "<none>", at + 1, no_trunc));
	}
}

struct sorted_image {
	struct image img;
	double created;
};

static int by_created_desc(const void *a, const void *b)
{
	const struct sorted_image *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(x->img.id, y->img.id);
}

static void release_sorted(struct sorted_image *imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_release(&imgs[i].img);
	free(imgs);
}

/* The table rows for o's filters and arguments, newest image first. */
static int collect_rows(struct image_store *s, const struct opts *o, json_t *rows,
			struct scow_error **err)
{
	struct image_filters f = {0};
	_cleanup_strv_ char **ids = NULL;
	_cleanup_json_ json_t *tags = NULL;
	if (parse_filters(s, o, &f, err) < 0 || !(tags = image_store_tags(s, err)) ||
	    image_store_ids(s, &ids, err) < 0) {
		filters_release(&f);
		return -1;
	}
	struct sorted_image *imgs = xcalloc(strv_len(ids) + 1, sizeof(*imgs));
	size_t n = 0;
	for (size_t i = 0; ids[i]; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_load(s, ids[i], tags, &imgs[n].img, &e) < 0)
			continue; /* removed meanwhile */
		imgs[n].created = created_of(imgs[n].img.config, NULL);
		n++;
	}
	qsort(imgs, n, sizeof(*imgs), by_created_desc);
	_cleanup_free_ char *only_repo = NULL;
	if (o->nargs == 1) {
		/* "repo" or "repo:tag" */
		const char *a = o->args[0];
		const char *slash = strrchr(a, '/');
		const char *colon = strrchr(slash ? slash : a, ':');
		only_repo = colon ? xstrndup(a, (size_t)(colon - a)) : xstrdup(a);
		if (colon)
			strv_push(&f.references, xstrdup(a));
	}
	for (size_t i = 0; i < n; i++)
		add_rows(rows, &imgs[i].img, &f, only_repo, opt_bool(o, "no-trunc"));
	release_sorted(imgs, n);
	filters_release(&f);
	return 0;
}

int cmd_images(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return cmd_fail(err);
	_cleanup_json_ json_t *rows = json_array();
	int r = collect_rows(&s, o, rows, err);
	image_store_close(&s);
	if (r < 0)
		return cmd_fail(err);
	const char *format = opt_str(o, "format");
	if (opt_bool(o, "quiet"))
		format = "{{.ID}}";
	_cleanup_json_ json_t *headers =
		json_pack("{ss ss ss ss ss ss ss ss ss ss ss}", "Repository", "REPOSITORY", "Tag",
			  "TAG", "Digest", "DIGEST", "ID", "IMAGE ID", "CreatedSince", "CREATED",
			  "CreatedAt", "CREATED AT", "Size", "SIZE", "VirtualSize", "VIRTUAL SIZE",
			  "SharedSize", "SHARED SIZE", "UniqueSize", "UNIQUE SIZE", "Containers",
			  "CONTAINERS");
	if (format_rows(stdout, format, opt_bool(o, "digests") ? TABLE_DIGESTS : TABLE_DEFAULT,
			headers, rows, err) < 0)
		return cmd_fail(err);
	return 0;
}
