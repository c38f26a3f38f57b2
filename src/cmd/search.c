/* scow search [OPTIONS] [REGISTRY/]TERM
 *
 * Asks the registry's v1 search API (GET /v1/search?q=TERM&n=LIMIT, what
 * Docker Hub and some mirrors answer); a registry without it (distribution
 * returns 404) is searched through its catalog (GET /v2/_catalog, paged
 * with n= and last=): repositories whose name contains TERM. A registry
 * with neither gets a clear error. Output as Docker's: NAME, DESCRIPTION,
 * STARS, OFFICIAL, AUTOMATED; --filter stars=N / is-official=BOOL /
 * is-automated=BOOL, --limit, --format, --no-trunc. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_curl.h"

#define SEARCH_BODY_MAX (8u << 20)
#define CATALOG_PAGE 1000
#define CATALOG_PAGES_MAX 100
#define DESCRIPTION_WIDTH 45

const struct opt_def cmd_search_opts[] = {
	{"filter", 'f', OPT_LIST, "filter", "Filter output based on conditions provided", NULL},
	{"format", 0, OPT_VALUE, "string", "Pretty-print search using a Go template", NULL},
	{"limit", 0, OPT_VALUE, "int", "Max number of search results", "25"},
	{"no-trunc", 0, OPT_BOOL, NULL, "Don't truncate output", NULL},
	{"tls-verify", 0, OPT_BOOL, NULL, "Require HTTPS and verify certificates", "true"},
	{"cert-dir", 0, OPT_VALUE, "string", "Use certificates (*.crt, *.cert, *.key) in this dir",
	 NULL},
	{"creds", 0, OPT_VALUE, "string", "Registry credentials as USERNAME:PASSWORD", NULL},
	{"authfile", 0, OPT_VALUE, "string", "Path of the authentication file", NULL},
	OPT_END,
};

#define TABLE_DEFAULT                                                                              \
	"table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}"

struct search_filters {
	long long stars;
	int official, automated; /* -1 any */
};

static int parse_bool(const char *v, int *ret)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*ret = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*ret = 0;
	else
		return -1;
	return 0;
}

static int filters_parse(const struct opts *o, struct search_filters *f, struct scow_error **err)
{
	*f = (struct search_filters){0, -1, -1};
	size_t n;
	const char *const *list = opt_list(o, "filter", &n);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(list[i], '=');
		if (!eq)
			return error_set(err, EINVAL, "bad format of filter (expected name=value)");
		_cleanup_free_ char *key = xstrndup(list[i], (size_t)(eq - list[i]));
		const char *v = eq + 1;
		if (strcmp(key, "stars") == 0) {
			if (!str_to_ll(v, 0, INT64_MAX, &f->stars))
				return error_set(err, EINVAL, "invalid filter 'stars=%s'", v);
		} else if (strcmp(key, "is-official") == 0) {
			if (parse_bool(v, &f->official) < 0)
				return error_set(err, EINVAL, "invalid filter 'is-official=%s'", v);
		} else if (strcmp(key, "is-automated") == 0) {
			if (parse_bool(v, &f->automated) < 0)
				return error_set(err, EINVAL, "invalid filter 'is-automated=%s'", v);
		} else {
			return error_set(err, EINVAL, "invalid filter '%s'", key);
		}
	}
	return 0;
}

/* "host:5000/busy" -> host "host:5000", term "busy"; "busy" -> docker.io. */
static void split_term(const char *arg, char **ret_host, char **ret_term)
{
	const char *slash = strchr(arg, '/');
	if (slash) {
		_cleanup_free_ char *first = xstrndup(arg, (size_t)(slash - arg));
		if (strchr(first, '.') || strchr(first, ':') || strcmp(first, "localhost") == 0) {
			*ret_host = steal_ptr(&first);
			*ret_term = xstrdup(slash + 1);
			return;
		}
	}
	*ret_host = xstrdup(DOCKER_DOMAIN);
	*ret_term = xstrdup(arg);
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

/* 1: answered (rows added), 0: the API is not there, -1 error. */
static int search_v1(struct registry *r, CURL *curl, const char *term, long long limit,
		     json_t *rows, struct scow_error **err)
{
	char *q = curl_easy_escape(curl, term, 0);
	_cleanup_free_ char *path = xasprintf("/v1/search?q=%s&n=%lld", q, limit);
	curl_free(q);
	struct registry_request req = {.path = path, .accept = "application/json",
				       .max_body = SEARCH_BODY_MAX};
	struct registry_response resp = {0};
	_cleanup_error_ struct scow_error *e = NULL;
	int ret = registry_request(r, curl, &req, &resp, &e);
	if (ret < 0 || resp.status == 404 || resp.status == 405 || resp.status == 401 ||
	    resp.status == 403) {
		log_debug("v1 search: %s", ret < 0 ? e->msg : "not available");
		registry_response_release(&resp);
		return 0;
	}
	if (resp.status != 200) {
		_cleanup_free_ char *m = registry_status_message(&resp);
		registry_response_release(&resp);
		return error_set(err, EIO, "search: %s", m);
	}
	_cleanup_json_ json_t *j = json_parse_buf(resp.body.buf, resp.body.len, "search results",
						  &e);
	registry_response_release(&resp);
	json_t *results = json_get_arr(j, "results");
	if (!results) {
		log_debug("v1 search: not a search response");
		return 0;
	}
	size_t i;
	json_t *it;
	json_array_foreach(results, i, it) {
		const char *name = json_get_str(it, "name");
		if (!name)
			continue;
		const char *d = json_get_str(it, "description");
		json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:b, s:b}", "Name", name,
						      "Description", d ? d : "", "StarCount",
						      (json_int_t)json_get_int(it, "star_count", 0),
						      "official", json_get_bool(it, "is_official", false),
						      "automated",
						      json_get_bool(it, "is_automated", false)));
	}
	return 1;
}

/* 1: answered, 0: no catalog, -1 error. */
static int search_catalog(struct registry *r, CURL *curl, const char *host, const char *term,
			  json_t *rows, struct scow_error **err)
{
	_cleanup_free_ char *last = NULL;
	for (int page = 0; page < CATALOG_PAGES_MAX; page++) {
		_cleanup_free_ char *path = NULL;
		if (last) {
			char *l = curl_easy_escape(curl, last, 0);
			path = xasprintf("/v2/_catalog?n=%d&last=%s", CATALOG_PAGE, l);
			curl_free(l);
		} else {
			path = xasprintf("/v2/_catalog?n=%d", CATALOG_PAGE);
		}
		struct registry_request req = {.path = path, .accept = "application/json",
					       .max_body = SEARCH_BODY_MAX};
		struct registry_response resp = {0};
		_cleanup_error_ struct scow_error *e = NULL;
		int ret = registry_request(r, curl, &req, &resp, &e);
		if (ret < 0) {
			registry_response_release(&resp);
			*err = steal_ptr(&e);
			return -1;
		}
		if (resp.status == 404 || resp.status == 405 || (resp.status == 401 && page == 0) ||
		    (resp.status == 403 && page == 0)) {
			_cleanup_free_ char *m = registry_status_message(&resp);
			log_debug("catalog: %s", m);
			registry_response_release(&resp);
			return 0;
		}
		if (resp.status != 200) {
			_cleanup_free_ char *m = registry_status_message(&resp);
			registry_response_release(&resp);
			return error_set(err, EIO, "catalog: %s", m);
		}
		_cleanup_json_ json_t *j = json_parse_buf(resp.body.buf, resp.body.len, "catalog", err);
		registry_response_release(&resp);
		json_t *repos = json_get_arr(j, "repositories");
		if (!repos)
			return j ? error_set(err, EPROTO, "catalog: no repository list") : -1;
		size_t i;
		json_t *it;
		json_array_foreach(repos, i, it) {
			const char *name = json_string_value(it);
			if (!name || !contains_ci(name, term))
				continue;
			_cleanup_free_ char *full = xasprintf("%s/%s", host, name);
			json_array_append_new(rows, json_pack("{s:s, s:s, s:i, s:b, s:b}", "Name", full,
							      "Description", "", "StarCount", 0,
							      "official", 0, "automated", 0));
		}
		if (json_array_size(repos) < CATALOG_PAGE)
			return 1;
		free(last);
		last = xstrdup(json_string_value(json_array_get(repos, json_array_size(repos) - 1)));
	}
	return 1;
}

static json_t *present(json_t *rows, const struct search_filters *f, long long limit,
		       bool no_trunc)
{
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		if ((long long)json_array_size(out) >= limit)
			break;
		bool official = json_get_bool(r, "official", false);
		bool automated = json_get_bool(r, "automated", false);
		long long stars = json_get_int(r, "StarCount", 0);
		if (stars < f->stars || (f->official >= 0 && official != (f->official == 1)) ||
		    (f->automated >= 0 && automated != (f->automated == 1)))
			continue;
		const char *d = json_get_str(r, "Description");
		_cleanup_free_ char *desc = no_trunc ? xstrdup(d) : format_ellipsis(d, DESCRIPTION_WIDTH);
		for (char *p = desc; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:s, s:s}", "Name",
						     json_get_str(r, "Name"), "Description", desc,
						     "StarCount", (json_int_t)stars, "IsOfficial",
						     official ? "[OK]" : "", "IsAutomated",
						     automated ? "[OK]" : ""));
	}
	return out;
}

int cmd_search(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	(void)ctx;
	if (lazy_curl_load(err) < 0 || lazy_crypto_load(err) < 0)
		return -1;
	struct search_filters f;
	if (filters_parse(o, &f, err) < 0)
		return -1;
	long long limit = 25;
	const char *ls = opt_str(o, "limit");
	if (ls && !str_to_ll(ls, 1, 100, &limit))
		return error_set(err, EINVAL, "limit %s is outside the range of [1, 100]", ls);
	_cleanup_free_ char *host = NULL, *term = NULL;
	split_term(o->args[0], &host, &term);
	struct regconf conf;
	if (regconf_load(&conf, err) < 0)
		return cmd_fail(err);
	struct registry_opts ro;
	cmd_registry_opts(o, &ro);
	const char *endpoint = strcmp(host, DOCKER_DOMAIN) == 0 ? "index.docker.io" : host;
	struct registry *r = NULL;
	int ret = registry_open(&conf, &ro, endpoint, NULL, NULL, &r, err);
	regconf_release(&conf);
	if (ret < 0)
		return cmd_fail(err);
	registry_add_scope(r, "registry:catalog:*");
	CURL *curl = curl_easy_init();
	_cleanup_json_ json_t *rows = json_array();
	ret = curl ? search_v1(r, curl, term, limit, rows, err) : error_set(err, ENOMEM, "curl");
	if (ret == 0)
		ret = search_catalog(r, curl, host, term, rows, err);
	if (ret == 0)
		ret = error_set(err, ENOTSUP,
				"%s supports neither the search API (/v1/search) nor the catalog "
				"(/v2/_catalog): it cannot be searched",
				host);
	if (curl)
		curl_easy_cleanup(curl);
	registry_free(r);
	if (ret < 0) {
		error_wrap(err, "search %s", o->args[0]);
		return cmd_fail(err);
	}
	_cleanup_json_ json_t *shown = present(rows, &f, limit, opt_bool(o, "no-trunc"));
	_cleanup_json_ json_t *headers =
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", "NAME", "Description", "DESCRIPTION",
			  "StarCount", "STARS", "IsOfficial", "OFFICIAL", "IsAutomated", "AUTOMATED");
	if (format_rows(stdout, opt_str(o, "format"), TABLE_DEFAULT, headers, shown, err) < 0)
		return cmd_fail(err);
	return 0;
}
