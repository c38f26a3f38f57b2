#include "image/tags.h"

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json.h"
#include "util/lazylib.h"
#include "util/lazy_curl.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define TAGS_PAGE 1000
#define TAGS_PAGES_MAX 100 /* 100000 tags: more is a registry gone wrong */
#define TAGS_BODY_MAX (8u << 20)

static int list_pages(struct registry *r, CURL *curl, const char *repo, char ***tags,
		      struct scow_error **err)
{
	_cleanup_free_ char *last = NULL;
	for (int page = 0; page < TAGS_PAGES_MAX; page++) {
		_cleanup_free_ char *path = NULL;
		if (last) {
			char *l = curl_easy_escape(curl, last, 0);
			path = xasprintf("/v2/%s/tags/list?n=%d&last=%s", repo, TAGS_PAGE, l);
			curl_free(l);
		} else {
			path = xasprintf("/v2/%s/tags/list?n=%d", repo, TAGS_PAGE);
		}
		struct registry_request req = {.path = path, .accept = "application/json",
					       .max_body = TAGS_BODY_MAX};
		struct registry_response resp = {0};
		if (registry_fetch(r, curl, &req, &resp, err) < 0) {
			registry_response_release(&resp);
			return -1;
		}
		if (resp.status != 200) {
			_cleanup_free_ char *m = registry_status_message(&resp);
			registry_response_release(&resp);
			return error_set(err, resp.status == 404 ? ENOENT : EIO, "list tags of %s: %s",
					 repo, m);
		}
		_cleanup_json_ json_t *j = json_parse_buf(resp.body.buf, resp.body.len, "tags", err);
		registry_response_release(&resp);
		if (!j)
			return -1;
		json_t *page_tags = json_get_arr(j, "tags");
		size_t i, n = 0;
		json_t *t;
		json_array_foreach(page_tags, i, t) {
			const char *s = json_string_value(t);
			if (!s || !*s || strlen(s) > 128 || strchr(s, '/') || strchr(s, ':'))
				continue; /* not a tag anyone could pull */
			strv_push(tags, xstrdup(s));
			n++;
		}
		if (json_array_size(page_tags) < TAGS_PAGE || n == 0)
			return 0;
		free(last);
		last = xstrdup((*tags)[strv_len(*tags) - 1]);
	}
	return 0;
}

int registry_list_tags(const struct regconf *conf, const struct registry_opts *opts,
		       const struct image_ref *ref, char ***ret, struct scow_error **err)
{
	if (lazy_curl_load(err) < 0 || lazy_crypto_load(err) < 0)
		return -1;
	const char *endpoint =
		strcmp(ref->domain, "docker.io") == 0 ? "registry-1.docker.io" : ref->domain;
	struct registry *r = NULL;
	if (registry_open(conf, opts, endpoint, ref->path, "pull", &r, err) < 0)
		return -1;
	CURL *curl = curl_easy_init();
	char **tags = xcalloc(1, sizeof(char *));
	int rc = curl ? list_pages(r, curl, ref->path, &tags, err) : error_set(err, ENOMEM, "curl");
	if (curl)
		curl_easy_cleanup(curl);
	registry_free(r);
	if (rc < 0) {
		strv_free(tags);
		return -1;
	}
	strv_sort(tags);
	*ret = tags;
	return 0;
}
