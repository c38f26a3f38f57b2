#include "image/regconf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_crypto.h"

#define CONF_MAX (1 << 20)

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	return xasprintf("%s/%s", home && *home ? home : "/root", rel);
}

static char *config_home_path(const char *rel)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/%s", xdg, rel);
	_cleanup_free_ char *r = xasprintf(".config/%s", rel);
	return home_path(r);
}

static char **json_strv(json_t *arr)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (json_is_string(e))
			strv_push(&v, xstrdup(json_string_value(e)));
	return v;
}

/* Strips "http://", "https://" and any path from a registry key. */
static char *host_of(const char *s)
{
	if (str_starts_with(s, "https://"))
		s += 8;
	else if (str_starts_with(s, "http://"))
		s += 7;
	size_t n = strcspn(s, "/");
	return xstrndup(s, n);
}

int regconf_load(struct regconf *ret, struct scow_error **err)
{
	struct regconf c = {.max_concurrent_downloads = 3};
	c.insecure = xcalloc(1, sizeof(char *));
	c.mirror_src = xcalloc(1, sizeof(char *));
	c.mirror_dst = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *path = NULL;
	const char *env = getenv("SCOW_REGISTRIES_CONF");
	if (env && *env) {
		path = xstrdup(env);
	} else {
		if (geteuid() != 0) {
			path = config_home_path("scow/registries.json");
			if (access(path, F_OK) < 0) {
				free(path);
				path = NULL;
			}
		}
		if (!path)
			path = xstrdup("/etc/scow/registries.json");
	}
	_cleanup_json_ json_t *j = NULL;
	if (access(path, F_OK) == 0) {
		j = json_load_at(AT_FDCWD, path, CONF_MAX, err);
		if (!j) {
			regconf_release(&c);
			return error_wrap(err, "registries configuration");
		}
	}
	json_t *v;
	if ((v = json_get_arr(j, "insecure_registries")))
		strv_free(c.insecure), c.insecure = json_strv(v);
	if ((v = json_get_arr(j, "cert_dirs"))) {
		c.cert_dirs = json_strv(v);
	} else {
		c.cert_dirs = xcalloc(1, sizeof(char *));
		if (geteuid() != 0)
			strv_push(&c.cert_dirs, config_home_path("scow/certs.d"));
		strv_push(&c.cert_dirs, xstrdup("/etc/scow/certs.d"));
		strv_push(&c.cert_dirs, xstrdup("/etc/docker/certs.d"));
	}
	json_t *mirrors = json_get_obj(j, "mirrors");
	const char *domain;
	json_object_foreach(mirrors, domain, v) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				continue;
			strv_push(&c.mirror_src, xstrdup(domain));
			strv_push(&c.mirror_dst, xstrdup(json_string_value(e)));
		}
	}
	long long n = json_get_int(j, "max_concurrent_downloads", 3);
	c.max_concurrent_downloads = n < 1 ? 1 : n > 32 ? 32 : (int)n;
	*ret = c;
	return 0;
}

void regconf_release(struct regconf *c)
{
	strv_free(c->insecure);
	strv_free(c->cert_dirs);
	strv_free(c->mirror_src);
	strv_free(c->mirror_dst);
	memset(c, 0, sizeof(*c));
}

bool regconf_is_insecure(const struct regconf *c, const char *host)
{
	for (size_t i = 0; c->insecure && c->insecure[i]; i++) {
		_cleanup_free_ char *h = host_of(c->insecure[i]);
		if (strcmp(h, host) == 0)
			return true;
	}
	return false;
}

char *regconf_cert_dir(const struct regconf *c, const char *host)
{
	for (size_t i = 0; c->cert_dirs && c->cert_dirs[i]; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", c->cert_dirs[i], host);
		struct stat st;
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
			return steal_ptr(&d);
	}
	return NULL;
}

void credentials_release(struct credentials *c)
{
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	c->user = c->pass = NULL;
}

int credentials_parse(const char *s, struct credentials *ret, struct scow_error **err)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s)
		return error_set(err, EINVAL, "credentials must be USERNAME:PASSWORD");
	ret->user = xstrndup(s, (size_t)(colon - s));
	ret->pass = xstrdup(colon + 1);
	return 0;
}

/* Docker Hub's credentials are stored under several historical keys. */
static bool key_matches(const char *key, const char *host)
{
	_cleanup_free_ char *k = host_of(key);
	if (strcmp(k, host) == 0)
		return true;
	static const char *const hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
	bool k_hub = false, h_hub = false;
	for (size_t i = 0; i < ARRAY_SIZE(hub); i++) {
		k_hub |= strcmp(k, hub[i]) == 0;
		h_hub |= strcmp(host, hub[i]) == 0;
	}
	return k_hub && h_hub;
}

static int decode_auth(const char *b64, struct credentials *ret, struct scow_error **err)
{
	size_t len = strlen(b64);
	if (len > 64 * 1024)
		return error_set(err, EINVAL, "auth entry too long");
	_cleanup_free_ unsigned char *out = xmalloc(len + 4);
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return error_set(err, EINVAL, "auth entry is not valid base64");
	/* EVP_DecodeBlock counts padding bytes as output zeros. */
	while (len > 0 && b64[len - 1] == '=' && n > 0)
		len--, n--;
	out[n] = '\0';
	if (memchr(out, '\0', (size_t)n))
		return error_set(err, EINVAL, "auth entry holds a NUL byte");
	struct credentials c = {0};
	if (credentials_parse((char *)out, &c, err) < 0)
		return -1;
	explicit_bzero(out, (size_t)n);
	*ret = c;
	return 0;
}

static int lookup_file(const char *path, const char *host, struct credentials *ret, bool *found,
		       struct scow_error **err)
{
	*found = false;
	if (access(path, F_OK) < 0)
		return 0;
	_cleanup_json_ json_t *j = json_load_at(AT_FDCWD, path, CONF_MAX, err);
	if (!j)
		return error_wrap(err, "auth file");
	const char *key;
	json_t *v;
	json_object_foreach(json_get_obj(j, "auths"), key, v) {
		if (!key_matches(key, host))
			continue;
		const char *auth = json_get_str(v, "auth");
		if (!auth || !*auth)
			continue;
		if (decode_auth(auth, ret, err) < 0)
			return error_wrap(err, "auth file %s, entry %s", path, key);
		*found = true;
		return 0;
	}
	return 0;
}

char *regconf_auth_file_path(const char *authfile)
{
	if (authfile && *authfile)
		return xstrdup(authfile);
	const char *env = getenv("SCOW_AUTH_FILE");
	if (env && *env)
		return xstrdup(env);
	env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env)
		return xstrdup(env);
	return config_home_path("scow/auth.json");
}

int regconf_credentials(const char *authfile, const char *host, struct credentials *ret,
			struct scow_error **err)
{
	bool found;
	_cleanup_free_ char *own = regconf_auth_file_path(authfile);
	if (lookup_file(own, host, ret, &found, err) < 0 || found)
		return found ? 0 : -1;
	if (authfile && *authfile)
		return 0;
	const char *dc = getenv("DOCKER_CONFIG");
	_cleanup_free_ char *docker =
		dc && *dc ? xasprintf("%s/config.json", dc) : home_path(".docker/config.json");
	if (lookup_file(docker, host, ret, &found, err) < 0)
		return -1;
	if (!found)
		log_debug("no credentials for %s", host);
	return 0;
}
