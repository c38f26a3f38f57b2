/* A client for one repository on one registry endpoint (OCI distribution
 * API over libcurl). Handles scheme selection, anonymous / basic / bearer
 * auth (re-authenticating on a 401 mid-pull), and redirects, which it
 * follows itself: at most 10 hops, never https -> http, and the
 * Authorization header only to the origin it was meant for.
 *
 * One struct registry may serve several threads at once; each thread passes
 * its own CURL handle. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "image/regconf.h"
#include "util/error.h"
#include "util/strutil.h"

#define REGISTRY_MANIFEST_MAX (4u << 20) /* manifests and configs */
#define REGISTRY_TOKEN_MAX (1u << 20)
#define REGISTRY_MAX_REDIRECTS 10
#define REGISTRY_TRIES 5

struct registry_opts {
	int tls_verify;	      /* -1: default, 0: off, 1: on */
	const char *cert_dir; /* --cert-dir: overrides certs.d lookup */
	const char *authfile;
	const char *creds; /* --creds USER:PASS */
};

struct registry;

/* host is the endpoint to contact ("registry-1.docker.io" for docker.io,
 * or a mirror); repo the repository path; actions "pull" or "pull,push".
 * repo NULL: no repository scope (login, catalog: see registry_add_scope). */
int registry_open(const struct regconf *conf, const struct registry_opts *opts, const char *host,
		  const char *repo, const char *actions, struct registry **ret,
		  struct scow_error **err);
void registry_free(struct registry *r);
const char *registry_host(const struct registry *r);
/* "https" or "http" once the first request decided it, else "https". */
const char *registry_scheme(struct registry *r);
/* Another scope to ask token servers for ("repository:other/repo:pull" for
 * a cross-repository mount, "registry:catalog:*"). Before any request. */
void registry_add_scope(struct registry *r, const char *scope);

/* Receives a 2xx body as it streams; returns <0 to abort (with its own
 * error kept by the caller). */
typedef int (*registry_sink_fn)(void *opaque, const void *buf, size_t len);
/* Supplies a streamed request body: up to len bytes into buf; 0 at the end,
 * <0 to abort the transfer (with its own error kept by the caller). */
typedef ssize_t (*registry_source_fn)(void *opaque, void *buf, size_t len);

struct registry_request {
	const char *method; /* GET (default), HEAD, PUT, POST, PATCH, DELETE */
	const char *path;   /* "/v2/..." or an absolute URL (upload locations) */
	const char *accept;
	const char *content_type;
	const char *content_range; /* sent as is: "0-1023" for chunked uploads */
	const void *body; /* request body from memory */
	size_t body_len;
	/* A streamed body instead (PUT, PATCH, POST): body_size bytes, or -1
	 * to send it chunked. It cannot be sent twice, so such a request is
	 * never repeated here: a 401 comes back to the caller (after
	 * authenticating anew, so that the caller's next attempt has a token),
	 * a redirect is an error. Use registry_request, not registry_fetch. */
	registry_source_fn body_read;
	void *body_opaque;
	long long body_size;
	long long range_from;	 /* > 0: ask for bytes from here; only 206 accepted */
	size_t max_body;	 /* limit for a buffered body; 0 = REGISTRY_MANIFEST_MAX */
	registry_sink_fn sink;	 /* 2xx bodies go here instead of the buffer */
	void *sink_opaque;
};

struct registry_response {
	long status;
	char *content_type;
	char *docker_digest; /* Docker-Content-Digest: never trusted, only compared */
	char *location;
	char *content_range;
	char *www_authenticate;
	int retry_after;	  /* seconds from Retry-After, 0 if none */
	long long content_length; /* -1 if unknown */
	struct strbuf body;	  /* buffered body (error bodies too, truncated) */
	int curl_code;		  /* CURLcode of the transfer */
	bool sink_failed;	  /* the sink asked to stop */
	bool source_failed;	  /* the body source asked to stop */
};

void registry_response_release(struct registry_response *resp);

/* One request (following redirects, authenticating as needed). A transfer
 * error returns -1; an HTTP error status returns 0 with resp->status set so
 * that callers decide (404 vs retry). */
int registry_request(struct registry *r, CURL *curl, const struct registry_request *req,
		     struct registry_response *resp, struct scow_error **err);

/* registry_request for buffered bodies, retried with backoff on connection
 * errors, 429 and 5xx (REGISTRY_TRIES in all). Non-2xx results become
 * errors whose message carries the registry's own words. */
int registry_fetch(struct registry *r, CURL *curl, const struct registry_request *req,
		   struct registry_response *resp, struct scow_error **err);

/* "404 Not Found: manifest unknown" from a response. */
char *registry_status_message(const struct registry_response *resp);
/* True for statuses worth another try: 408, 425, 429, 500, 502, 503, 504. */
bool registry_status_retryable(long status);
/* Sleeps before try number `attempt` (2-based: the first retry): 250 ms
 * doubling, or the server's Retry-After when given (capped at 10 s). */
void registry_backoff(int attempt, int retry_after);
