#include "image/registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/lazy_crypto.h"
#include "util/lazy_curl.h"

#define USER_AGENT "scow/" SCOW_VERSION
#define ERROR_BODY_MAX (64u << 10)
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct registry {
	char *host;
	char *repo;
	char *scope; /* "repository:<repo>:<actions>", or NULL */
	char **extra_scopes;
	bool allow_http;
	bool verify;
	struct credentials creds;
	struct strbuf ca_blob; /* system CAs + certs.d CAs, empty for curl's default */
	char *client_cert, *client_key;

	pthread_mutex_t lock; /* guards everything below */
	char *scheme;	      /* decided on first contact */
	enum auth_kind kind;
	char *realm, *service, *challenge_scope;
	char *token;
	unsigned token_gen;
};

const char *registry_host(const struct registry *r)
{
	return r->host;
}

const char *registry_scheme(struct registry *r)
{
	pthread_mutex_lock(&r->lock);
	bool http = str_eq(r->scheme, "http");
	pthread_mutex_unlock(&r->lock);
	return http ? "http" : "https";
}

static bool host_is_loopback(const char *host)
{
	size_t n = strcspn(host, ":");
	if (host[0] == '[')
		return str_starts_with(host, "[::1]");
	if (n == 9 && strncmp(host, "localhost", 9) == 0)
		return true;
	return strncmp(host, "127.", 4) == 0;
}

/* Extra CAs are added to the system bundle, as Docker does with certs.d. */
static int load_cert_dir(struct registry *r, const char *dir, struct scow_error **err)
{
	glob_t g;
	_cleanup_free_ char *pat = xasprintf("%s/*.crt", dir);
	if (glob(pat, 0, NULL, &g) == 0) {
		_cleanup_free_ char *sys = NULL;
		size_t len;
		_cleanup_error_ struct scow_error *ignored = NULL;
		if (fs_read_at(AT_FDCWD, SYSTEM_CA_BUNDLE, 64u << 20, &sys, &len, &ignored) == 0)
			sb_appendn(&r->ca_blob, sys, len);
		for (size_t i = 0; i < g.gl_pathc; i++) {
			_cleanup_free_ char *pem = NULL;
			if (fs_read_at(AT_FDCWD, g.gl_pathv[i], 1u << 20, &pem, &len, err) < 0) {
				globfree(&g);
				return error_wrap(err, "CA certificate");
			}
			sb_append(&r->ca_blob, "\n");
			sb_appendn(&r->ca_blob, pem, len);
		}
		globfree(&g);
	}
	free(pat);
	pat = xasprintf("%s/*.cert", dir);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		const char *cert = g.gl_pathv[0];
		size_t n = strlen(cert);
		_cleanup_free_ char *key = xasprintf("%.*s.key", (int)(n - 5), cert);
		if (access(key, R_OK) < 0) {
			globfree(&g);
			return error_set(err, ENOENT, "client certificate %s has no key %s", cert,
					 key);
		}
		r->client_cert = xstrdup(cert);
		r->client_key = steal_ptr(&key);
	}
	globfree(&g);
	return 0;
}

int registry_open(const struct regconf *conf, const struct registry_opts *opts, const char *host,
		  const char *repo, const char *actions, struct registry **ret,
		  struct scow_error **err)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->host = xstrdup(host);
	r->repo = xstrdup(repo ? repo : "");
	r->scope = repo ? xasprintf("repository:%s:%s", repo, actions) : NULL;
	r->extra_scopes = xcalloc(1, sizeof(char *));
	bool insecure = regconf_is_insecure(conf, host);
	r->allow_http = insecure || host_is_loopback(host) || opts->tls_verify == 0;
	r->verify = opts->tls_verify == 1 || (opts->tls_verify == -1 && !insecure);
	_cleanup_free_ char *cert_dir = opts->cert_dir ? xstrdup(opts->cert_dir)
						       : regconf_cert_dir(conf, host);
	if (cert_dir && load_cert_dir(r, cert_dir, err) < 0)
		goto fail;
	if (opts->creds) {
		if (credentials_parse(opts->creds, &r->creds, err) < 0)
			goto fail;
	} else if (regconf_credentials(opts->authfile, host, &r->creds, err) < 0) {
		goto fail;
	}
	*ret = r;
	return 0;
fail:
	registry_free(r);
	return -1;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->repo);
	free(r->scope);
	strv_free(r->extra_scopes);
	credentials_release(&r->creds);
	sb_release(&r->ca_blob);
	free(r->client_cert);
	free(r->client_key);
	free(r->scheme);
	free(r->realm);
	free(r->service);
	free(r->challenge_scope);
	if (r->token)
		explicit_bzero(r->token, strlen(r->token));
	free(r->token);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void registry_add_scope(struct registry *r, const char *scope)
{
	if (!strv_contains(r->extra_scopes, scope) && !str_eq(r->scope, scope))
		strv_push(&r->extra_scopes, xstrdup(scope));
}

void registry_response_release(struct registry_response *resp)
{
	free(resp->content_type);
	free(resp->docker_digest);
	free(resp->location);
	free(resp->content_range);
	free(resp->www_authenticate);
	sb_release(&resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- one HTTP exchange ------------------------------------------------ */

struct transfer {
	const struct registry_request *req;
	struct registry_response *resp;
	CURL *curl;
	size_t max_body;
	bool too_large;
	bool checked_range;
	bool bad_range;
};

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);
	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static void set_header(char **slot, char *value)
{
	if (!value)
		return;
	free(*slot);
	*slot = value;
}

static void response_reset_headers(struct registry_response *resp)
{
	char **slots[] = {&resp->content_type, &resp->docker_digest, &resp->location,
			  &resp->content_range, &resp->www_authenticate};
	for (size_t i = 0; i < ARRAY_SIZE(slots); i++) {
		free(*slots[i]);
		*slots[i] = NULL;
	}
	resp->content_length = -1;
	resp->retry_after = 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *opaque)
{
	struct transfer *t = opaque;
	struct registry_response *resp = t->resp;
	n *= size;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget the last one's. */
		response_reset_headers(resp);
		return n;
	}
	set_header(&resp->content_type, header_value(line, n, "Content-Type"));
	set_header(&resp->docker_digest, header_value(line, n, "Docker-Content-Digest"));
	set_header(&resp->location, header_value(line, n, "Location"));
	set_header(&resp->content_range, header_value(line, n, "Content-Range"));
	set_header(&resp->www_authenticate, header_value(line, n, "WWW-Authenticate"));
	_cleanup_free_ char *cl = header_value(line, n, "Content-Length");
	long long v;
	if (cl)
		resp->content_length = str_to_ll(cl, 0, INT64_MAX, &v) ? v : -1;
	_cleanup_free_ char *ra = header_value(line, n, "Retry-After");
	if (ra && str_to_ll(ra, 0, 3600, &v))
		resp->retry_after = (int)v;
	return n;
}

static bool range_matches(const char *content_range, long long from)
{
	/* "bytes FROM-END/TOTAL" */
	if (!content_range || strncmp(content_range, "bytes ", 6) != 0)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(content_range + 6, &end, 10);
	return errno == 0 && *end == '-' && v == from;
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct transfer *t = opaque;
	struct registry_response *resp = t->resp;
	n *= size;
	long status = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	bool ok = status >= 200 && status < 300;
	if (ok && t->req->sink) {
		if (t->req->range_from > 0 && !t->checked_range) {
			t->checked_range = true;
			if (status != 206 || !range_matches(resp->content_range, t->req->range_from)) {
				t->bad_range = true;
				return 0;
			}
		}
		if (t->req->sink(t->req->sink_opaque, data, n) < 0) {
			resp->sink_failed = true;
			return 0;
		}
		return n;
	}
	size_t limit = ok ? t->max_body : ERROR_BODY_MAX;
	if (ok && ((resp->content_length > 0 && (size_t)resp->content_length > limit) ||
		   resp->body.len + n > limit)) {
		t->too_large = true;
		return 0;
	}
	/* Error bodies only feed messages: keep the start, swallow the rest. */
	size_t keep = resp->body.len >= limit ? 0 : limit - resp->body.len;
	sb_appendn(&resp->body, data, n < keep ? n : keep);
	return n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *opaque)
{
	struct transfer *t = opaque;
	ssize_t got = t->req->body_read(t->req->body_opaque, buf, size * n);
	if (got < 0) {
		t->resp->source_failed = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

static void curl_setup_tls(struct registry *r, CURL *curl)
{
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
	if (r->ca_blob.len) {
		struct curl_blob blob = {r->ca_blob.buf, r->ca_blob.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (r->client_cert) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, r->client_key);
	}
}

/* One exchange with url, no redirects followed. auth may be NULL. */
static int transfer_once(struct registry *r, CURL *curl, const char *url,
			 const struct registry_request *req, const char *method, const char *auth,
			 struct registry_response *resp, struct transfer *t)
{
	curl_easy_reset(curl);
	registry_response_release(resp);
	resp->content_length = -1;
	*t = (struct transfer){.req = req, .resp = resp, .curl = curl,
			       .max_body = req->max_body ? req->max_body : REGISTRY_MANIFEST_MAX};
	struct curl_slist *hdrs = NULL;
	char line[512];
	if (req->accept) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (req->range_from > 0) {
		snprintf(line, sizeof(line), "Range: bytes=%lld-", req->range_from);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (req->content_range) {
		snprintf(line, sizeof(line), "Content-Range: %s", req->content_range);
		hdrs = curl_slist_append(hdrs, line);
	}
	_cleanup_free_ char *authline = auth ? xasprintf("Authorization: %s", auth) : NULL;
	if (authline)
		hdrs = curl_slist_append(hdrs, authline);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 byte/s for 60 s) is a dropped one. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (req->body_read) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, t);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
		curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	curl_setup_tls(r, curl);
	log_debug("%s %s%s", method, url, auth ? " (authorized)" : "");
	resp->curl_code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hdrs);
	log_debug("%s %s -> %ld (curl %d)", method, url, resp->status, resp->curl_code);
	return 0;
}

/* "scheme://host:port" of url, lower-cased, with the default port filled in. */
static char *url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *res = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		res = xasprintf("%s://%s:%s", scheme, host, port);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return res;
}

static char *url_resolve(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *out = NULL, *res = NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		res = xstrdup(out);
	curl_free(out);
	curl_url_cleanup(u);
	return res;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Follows redirects itself: the Authorization header goes only to
 * auth_origin, https never redirects to http, at most 10 hops. */
static int transfer_follow(struct registry *r, CURL *curl, const char *start_url,
			   const struct registry_request *req, const char *auth,
			   const char *auth_origin, struct registry_response *resp,
			   struct scow_error **err)
{
	_cleanup_free_ char *url = xstrdup(start_url);
	const char *method = req->method ? req->method : "GET";
	for (int hop = 0;; hop++) {
		_cleanup_free_ char *origin = url_origin(url);
		if (!origin)
			return error_set(err, EINVAL, "invalid URL %s", url);
		bool same = auth_origin && strcmp(origin, auth_origin) == 0;
		struct transfer t;
		transfer_once(r, curl, url, req, method, same ? auth : NULL, resp, &t);
		if (t.too_large)
			return error_set(err, EFBIG, "%s: response larger than %zu bytes", url,
					 t.max_body);
		if (t.bad_range)
			return error_set(err, EPROTO,
					 "%s: asked for bytes from %lld, got status %ld with "
					 "Content-Range \"%s\"",
					 url, req->range_from, resp->status,
					 resp->content_range ? resp->content_range : "");
		if (resp->curl_code != CURLE_OK)
			return 0; /* the caller looks at curl_code (retry, fallback) */
		if (!is_redirect(resp->status))
			return 0;
		if (req->body_read)
			return error_set(err, EPROTO, "%s: cannot follow a redirect of an upload", url);
		if (hop + 1 > REGISTRY_MAX_REDIRECTS)
			return error_set(err, ELOOP, "%s: stopped after %d redirects", start_url,
					 REGISTRY_MAX_REDIRECTS);
		if (!resp->location)
			return error_set(err, EPROTO, "%s: redirect without a Location", url);
		_cleanup_free_ char *next = url_resolve(url, resp->location);
		if (!next)
			return error_set(err, EPROTO, "%s: invalid redirect to %s", url,
					 resp->location);
		if (str_starts_with(url, "https:") && !str_starts_with(next, "https:"))
			return error_set(err, EPERM, "%s: refusing redirect from https to %s", url,
					 next);
		if (resp->status == 303)
			method = "GET";
		free(url);
		url = steal_ptr(&next);
	}
}

/* ---- authentication ----------------------------------------------------- */

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *basic_auth(const struct credentials *c)
{
	_cleanup_free_ char *up = xasprintf("%s:%s", c->user, c->pass);
	_cleanup_free_ char *enc = b64(up);
	explicit_bzero(up, strlen(up));
	return xasprintf("Basic %s", enc);
}

/* Parses `Bearer realm="...",service="...",scope="..."`. */
static void parse_challenge(const char *s, char **ret_scheme, char **realm, char **service,
			    char **scope)
{
	while (*s == ' ')
		s++;
	size_t n = strcspn(s, " ");
	*ret_scheme = xstrndup(s, n);
	s += n;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t kn = strcspn(s, "=");
		if (!s[kn])
			break;
		_cleanup_free_ char *key = xstrndup(s, kn);
		s += kn + 1;
		struct strbuf v = STRBUF_INIT;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				sb_appendc(&v, *s);
			}
			if (*s == '"')
				s++;
		} else {
			size_t vn = strcspn(s, ",");
			sb_appendn(&v, s, vn);
			s += vn;
		}
		char **slot = strcasecmp(key, "realm") == 0     ? realm
			      : strcasecmp(key, "service") == 0 ? service
			      : strcasecmp(key, "scope") == 0   ? scope
								: NULL;
		if (slot) {
			free(*slot);
			*slot = sb_steal(&v);
		}
		sb_release(&v);
	}
}

static int fetch_token(struct registry *r, CURL *curl, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf url = STRBUF_INIT;
	sb_append(&url, r->realm);
	char sep = strchr(r->realm, '?') ? '&' : '?';
	if (r->service) {
		char *e = curl_easy_escape(curl, r->service, 0);
		sb_printf(&url, "%cservice=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	char *e;
	if (r->scope) {
		e = curl_easy_escape(curl, r->scope, 0);
		sb_printf(&url, "%cscope=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	for (size_t i = 0; r->extra_scopes[i]; i++) {
		e = curl_easy_escape(curl, r->extra_scopes[i], 0);
		sb_printf(&url, "%cscope=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	if (r->challenge_scope && !str_eq(r->challenge_scope, r->scope) &&
	    !strv_contains(r->extra_scopes, r->challenge_scope)) {
		e = curl_easy_escape(curl, r->challenge_scope, 0);
		sb_printf(&url, "%cscope=%s", sep, e);
		curl_free(e);
	}
	_cleanup_free_ char *origin = url_origin(sb_str(&url));
	if (!origin)
		return error_set(err, EINVAL, "invalid token realm \"%s\"", r->realm);
	if (str_starts_with(r->realm, "http:") && r->verify && !r->allow_http)
		return error_set(err, EPERM, "refusing a token realm over plain http: %s",
				 r->realm);
	_cleanup_free_ char *auth = r->creds.user ? basic_auth(&r->creds) : NULL;
	struct registry_request req = {.max_body = REGISTRY_TOKEN_MAX};
	struct registry_response resp = {0};
	int ret = transfer_follow(r, curl, sb_str(&url), &req, auth, origin, &resp, err);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	if (ret < 0) {
		registry_response_release(&resp);
		return error_wrap(err, "get token");
	}
	if (resp.curl_code != CURLE_OK) {
		error_set(err, EIO, "get token from %s: %s", r->realm,
			  curl_easy_strerror(resp.curl_code));
		registry_response_release(&resp);
		return -1;
	}
	if (resp.status != 200) {
		_cleanup_free_ char *m = registry_status_message(&resp);
		registry_response_release(&resp);
		return error_set(err, EACCES, "get token: %s", m);
	}
	_cleanup_json_ json_t *j = json_parse_buf(resp.body.buf, resp.body.len, "token", err);
	registry_response_release(&resp);
	if (!j)
		return error_wrap(err, "get token");
	const char *tok = json_get_str(j, "token");
	if (!tok || !*tok)
		tok = json_get_str(j, "access_token");
	if (!tok || !*tok)
		return error_set(err, EPROTO, "get token: the response holds no token");
	if (strpbrk(tok, "\r\n"))
		return error_set(err, EPROTO, "get token: malformed token");
	free(r->token);
	r->token = xstrdup(tok);
	return 0;
}

/* Called after a 401. Returns 1 when a new try makes sense, 0 when not
 * (no credentials for Basic), -1 on error. */
static int authenticate_locked(struct registry *r, CURL *curl, const char *challenge,
			       struct scow_error **err)
{
	_cleanup_free_ char *scheme = NULL;
	parse_challenge(challenge, &scheme, &r->realm, &r->service, &r->challenge_scope);
	if (strcasecmp(scheme, "Basic") == 0) {
		int again = r->creds.user && r->kind != AUTH_BASIC;
		r->kind = AUTH_BASIC;
		return again;
	}
	if (strcasecmp(scheme, "Bearer") == 0 && r->realm) {
		r->kind = AUTH_BEARER;
		return fetch_token(r, curl, err) < 0 ? -1 : 1;
	}
	return error_set(err, ENOTSUP, "unsupported authentication scheme \"%s\"", scheme);
}

/* Called after a 401. Returns 1 when we authenticated anew, 2 when another
 * thread already had (try again with its token), 0 when a new try makes no
 * sense (no credentials for Basic), -1 on error. */
static int authenticate(struct registry *r, CURL *curl, const char *challenge, unsigned gen,
			struct scow_error **err)
{
	pthread_mutex_lock(&r->lock);
	int ret = 2;
	if (r->token_gen == gen) {
		ret = authenticate_locked(r, curl, challenge, err);
		if (ret > 0)
			r->token_gen++;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static char *current_auth(struct registry *r, unsigned *ret_gen)
{
	pthread_mutex_lock(&r->lock);
	char *a = NULL;
	if (r->kind == AUTH_BEARER && r->token)
		a = xasprintf("Bearer %s", r->token);
	else if (r->kind == AUTH_BASIC && r->creds.user)
		a = basic_auth(&r->creds);
	*ret_gen = r->token_gen;
	pthread_mutex_unlock(&r->lock);
	return a;
}

/* ---- requests ----------------------------------------------------------- */

static bool tls_handshake_failed(int code)
{
	return code == CURLE_SSL_CONNECT_ERROR;
}

static char *request_url(const char *scheme, const struct registry *r, const char *path)
{
	if (str_starts_with(path, "http://") || str_starts_with(path, "https://"))
		return xstrdup(path);
	return xasprintf("%s://%s%s", scheme, r->host, path);
}

int registry_request(struct registry *r, CURL *curl, const struct registry_request *req,
		     struct registry_response *resp, struct scow_error **err)
{
	int authentications = 0;
	for (;;) {
		unsigned gen;
		_cleanup_free_ char *auth = current_auth(r, &gen);
		pthread_mutex_lock(&r->lock);
		_cleanup_free_ char *scheme = r->scheme ? xstrdup(r->scheme) : NULL;
		pthread_mutex_unlock(&r->lock);
		bool probing = !scheme;
		if (probing)
			scheme = xstrdup("https");
		_cleanup_free_ char *url = request_url(scheme, r, req->path);
		_cleanup_free_ char *base = xasprintf("%s://%s/", scheme, r->host);
		_cleanup_free_ char *origin = url_origin(base);
		int ret = transfer_follow(r, curl, url, req, auth, origin, resp, err);
		if (auth)
			explicit_bzero(auth, strlen(auth));
		if (ret < 0)
			return -1;
		if (probing) {
			/* Plain HTTP only for registries that may use it, and only
			 * when the server does not speak TLS at all: a certificate
			 * error is never a reason to fall back. */
			if (r->allow_http && tls_handshake_failed(resp->curl_code)) {
				log_debug("%s does not speak TLS, using http", r->host);
				free(scheme);
				scheme = xstrdup("http");
			}
			if (resp->curl_code == CURLE_OK || tls_handshake_failed(resp->curl_code)) {
				pthread_mutex_lock(&r->lock);
				if (!r->scheme)
					r->scheme = xstrdup(scheme);
				pthread_mutex_unlock(&r->lock);
				if (strcmp(scheme, "http") == 0)
					continue;
			}
		}
		if (resp->curl_code != CURLE_OK) {
			if (resp->sink_failed || resp->source_failed)
				return 0;
			const char *hint = resp->curl_code == CURLE_PEER_FAILED_VERIFICATION
						   ? " (use --tls-verify=false or add its CA to "
						     "certs.d)"
						   : "";
			return error_set(err, EIO, "%s: %s%s", url,
					 curl_easy_strerror(resp->curl_code), hint);
		}
		/* A first challenge, then a token that expired mid-pull: a
		 * request authenticates anew at most twice itself; tokens that
		 * other threads fetched meanwhile are simply tried. */
		if (resp->status == 401 && authentications < 2 && resp->www_authenticate) {
			_cleanup_free_ char *challenge = xstrdup(resp->www_authenticate);
			int a = authenticate(r, curl, challenge, gen, err);
			if (a < 0)
				return -1;
			authentications += a == 1;
			if (a > 0 && !req->body_read)
				continue;
		}
		return 0;
	}
}

bool registry_status_retryable(long status)
{
	return status == 408 || status == 425 || status == 429 || status == 500 ||
	       status == 502 || status == 503 || status == 504;
}

void registry_backoff(int attempt, int retry_after)
{
	long ms = 250L << (attempt > 2 ? (attempt - 2 > 6 ? 6 : attempt - 2) : 0);
	if (retry_after > 0)
		ms = (retry_after > 10 ? 10 : retry_after) * 1000L;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

char *registry_status_message(const struct registry_response *resp)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "%ld %s", resp->status, status_text(resp->status));
	if (resp->body.len) {
		_cleanup_error_ struct scow_error *ignored = NULL;
		_cleanup_json_ json_t *j =
			json_parse_buf(resp->body.buf, resp->body.len, "error", &ignored);
		json_t *errs = json_get_arr(j, "errors");
		size_t i;
		json_t *e;
		json_array_foreach(errs, i, e) {
			const char *m = json_get_str(e, "message");
			const char *c = json_get_str(e, "code");
			if (m || c)
				sb_printf(&sb, "%s%s", i ? "; " : ": ", m ? m : c);
		}
	}
	while (sb.len && sb.buf[sb.len - 1] == ' ')
		sb.buf[--sb.len] = '\0';
	return sb_steal(&sb);
}

int registry_fetch(struct registry *r, CURL *curl, const struct registry_request *req,
		   struct registry_response *resp, struct scow_error **err)
{
	for (int attempt = 1;; attempt++) {
		if (attempt > 1)
			registry_backoff(attempt, resp->retry_after);
		_cleanup_error_ struct scow_error *e = NULL;
		int ret = registry_request(r, curl, req, resp, &e);
		bool last = attempt == REGISTRY_TRIES;
		if (ret < 0) {
			bool transient = e->errnum == EIO;
			if (!transient || last) {
				*err = steal_ptr(&e);
				return -1;
			}
			log_debug("retrying after: %s", e->msg);
			continue;
		}
		if (resp->status >= 200 && resp->status < 300)
			return 0;
		if (registry_status_retryable(resp->status) && !last) {
			log_debug("retrying after status %ld", resp->status);
			continue;
		}
		_cleanup_free_ char *m = registry_status_message(resp);
		int errnum = resp->status == 404 ? ENOENT
			     : resp->status == 401 || resp->status == 403 ? EACCES
									  : EIO;
		return error_set(err, errnum, "%s", m);
	}
}
