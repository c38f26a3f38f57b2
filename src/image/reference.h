/* Image references, parsed and normalised as Docker does:
 *   busybox               -> docker.io/library/busybox:latest
 *   user/app:1            -> docker.io/user/app:1
 *   host:5000/a/b:tag     -> host:5000/a/b:tag
 *   localhost/x           -> localhost/x:latest
 *   name@sha256:<hex>     -> digest reference (no default tag) */
#pragma once

#include <stdbool.h>

#include "util/error.h"

#define DOCKER_DOMAIN "docker.io"

struct image_ref {
	char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
	char *path;   /* "library/busybox" */
	char *tag;    /* NULL when only a digest was given */
	char *digest; /* NULL or "sha256:<hex>" */
};

/* Parses s. With default_tag, a reference with neither tag nor digest gets
 * "latest". Errors read like Docker's ("invalid reference format: ..."). */
int image_ref_parse(const char *s, bool default_tag, struct image_ref *ret,
		    struct scow_error **err);
void image_ref_release(struct image_ref *r);

/* "docker.io/library/busybox" */
char *image_ref_repo(const struct image_ref *r);
/* "docker.io/library/busybox:latest", "...@sha256:..", or both if both set */
char *image_ref_string(const struct image_ref *r);
/* The short form Docker prints: "busybox", "user/app", "host:5000/a/b". */
char *image_ref_familiar_repo(const struct image_ref *r);
/* "busybox:latest" */
char *image_ref_familiar(const struct image_ref *r);
/* Familiar form of a full repository string ("docker.io/library/x" -> "x"). */
char *image_repo_familiar(const char *repo);

/* True when s is a (possibly abbreviated) lower-case hex image id, with or
 * without "sha256:". */
bool image_id_like(const char *s);
