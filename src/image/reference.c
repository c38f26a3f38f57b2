#include "image/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/digest.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define NAME_TOTAL_MAX 255
#define TAG_MAX 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*
 * separator := [_.] | "__" | "-"+ */
static bool path_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n;) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !is_lower_alnum(s[j]))
			j++;
		size_t len = j - i;
		const char *sep = s + i;
		bool ok = (len == 1 && (*sep == '.' || *sep == '_' || *sep == '-')) ||
			  (len == 2 && sep[0] == '_' && sep[1] == '_');
		for (size_t k = 0; !ok && k < len && sep[k] == '-'; k++)
			ok = k == len - 1;
		if (!ok)
			return false;
		i = j;
	}
	return true;
}

/* domain := host (":" port)?; host := label ("." label)* or "[" ipv6 "]" */
static bool domain_ok(const char *s, size_t n)
{
	size_t hostlen = n;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		hostlen = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon)
			hostlen = (size_t)(colon - s);
		size_t lab = 0;
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (lab == 0 || s[i - 1] == '-' || s[i - lab] == '-')
					return false;
				lab = 0;
				continue;
			}
			if (!isalnum((unsigned char)s[i]) && s[i] != '-')
				return false;
			lab++;
		}
	}
	if (hostlen == n)
		return true;
	if (s[hostlen] != ':' || hostlen + 1 == n)
		return false;
	for (size_t i = hostlen + 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX)
		return false;
	if (!isalnum((unsigned char)t[0]) && t[0] != '_')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

static int bad(struct scow_error **err, const char *why)
{
	return error_set(err, EINVAL, "invalid reference format%s%s", why ? ": " : "",
			 why ? why : "");
}

int image_ref_parse(const char *s, bool default_tag, struct image_ref *ret,
		    struct scow_error **err)
{
	if (!s || !*s)
		return bad(err, NULL);
	if (strlen(s) == DIGEST_HEX_LEN && str_is_hex(s, DIGEST_HEX_LEN))
		return error_set(err, EINVAL,
				 "invalid repository name (%s), cannot specify 64-byte hexadecimal "
				 "strings",
				 s);
	_cleanup_free_ char *name = xstrdup(s);
	_cleanup_free_ char *digest = NULL, *tag = NULL;
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		digest = xstrdup(at + 1);
		if (!digest_is_valid(digest)) {
			const char *c = strchr(digest, ':');
			if (c && c != digest && strlen(c + 1) >= 32 && str_is_hex(c + 1, strlen(c + 1)))
				return error_set(err, ENOTSUP, "unsupported digest algorithm: %s",
						 digest);
			return bad(err, NULL);
		}
	}
	/* A tag follows the last ':' after the last '/'. */
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		tag = xstrdup(colon + 1);
		if (!tag_ok(tag))
			return bad(err, NULL);
	}
	if (!*name)
		return bad(err, NULL);
	if (strlen(name) > NAME_TOTAL_MAX)
		return bad(err, "repository name must not be more than 255 characters");

	/* Split off a domain: the first component is one when it has a '.' or
	 * a ':', is "localhost", or has upper-case letters (Docker's rule). */
	char *first_slash = strchr(name, '/');
	_cleanup_free_ char *domain = NULL, *path = NULL;
	if (first_slash) {
		size_t n = (size_t)(first_slash - name);
		bool is_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
				 (n == 9 && strncmp(name, "localhost", 9) == 0);
		for (size_t i = 0; i < n && !is_domain; i++)
			is_domain = isupper((unsigned char)name[i]);
		if (is_domain) {
			if (!domain_ok(name, n))
				return bad(err, NULL);
			domain = xstrndup(name, n);
			path = xstrdup(first_slash + 1);
		}
	}
	if (!domain) {
		domain = xstrdup(DOCKER_DOMAIN);
		path = xstrdup(name);
	}
	if (strcmp(domain, "index.docker.io") == 0) {
		free(domain);
		domain = xstrdup(DOCKER_DOMAIN);
	}
	for (const char *p = path; *p; p++)
		if (isupper((unsigned char)*p))
			return bad(err, "repository name must be lowercase");
	const char *comp = path;
	for (;;) {
		const char *e = strchr(comp, '/');
		size_t n = e ? (size_t)(e - comp) : strlen(comp);
		if (!path_component_ok(comp, n))
			return bad(err, NULL);
		if (!e)
			break;
		comp = e + 1;
	}
	if (strcmp(domain, DOCKER_DOMAIN) == 0 && !strchr(path, '/')) {
		char *p = xasprintf("library/%s", path);
		free(path);
		path = p;
	}
	if (!tag && !digest && default_tag)
		tag = xstrdup("latest");
	ret->domain = steal_ptr(&domain);
	ret->path = steal_ptr(&path);
	ret->tag = steal_ptr(&tag);
	ret->digest = steal_ptr(&digest);
	return 0;
}

void image_ref_release(struct image_ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	r->domain = r->path = r->tag = r->digest = NULL;
}

char *image_ref_repo(const struct image_ref *r)
{
	return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_string(const struct image_ref *r)
{
	return xasprintf("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "",
			 r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *image_repo_familiar(const char *repo)
{
	static const char docker_prefix[] = DOCKER_DOMAIN "/";
	static const char library_prefix[] = DOCKER_DOMAIN "/library/";
	if (str_starts_with(repo, library_prefix) && !strchr(repo + strlen(library_prefix), '/'))
		return xstrdup(repo + strlen(library_prefix));
	if (str_starts_with(repo, docker_prefix))
		return xstrdup(repo + strlen(docker_prefix));
	return xstrdup(repo);
}

char *image_ref_familiar_repo(const struct image_ref *r)
{
	_cleanup_free_ char *repo = image_ref_repo(r);
	return image_repo_familiar(repo);
}

char *image_ref_familiar(const struct image_ref *r)
{
	_cleanup_free_ char *repo = image_ref_familiar_repo(r);
	return xasprintf("%s%s%s%s%s", repo, r->tag ? ":" : "", r->tag ? r->tag : "",
			 r->digest ? "@" : "", r->digest ? r->digest : "");
}

bool image_id_like(const char *s)
{
	if (str_starts_with(s, "sha256:"))
		s += 7;
	size_t n = strlen(s);
	return n >= 1 && n <= DIGEST_HEX_LEN && str_is_hex(s, n);
}
