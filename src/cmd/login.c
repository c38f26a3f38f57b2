/* scow login / logout.
 *
 * login checks the credentials against the registry's /v2/ (a registry that
 * asks for none accepts any) and stores them in scow's auth file
 * (regconf_auth_file_path(): --authfile, $SCOW_AUTH_FILE,
 * $REGISTRY_AUTH_FILE, else ~/.config/scow/auth.json, rootless too) in
 * Docker's format, written atomically with mode 0600. Docker's
 * ~/.docker/config.json is read by pulls and pushes but never written.
 * Prompts only when stdin is a terminal, the password without echo. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/common.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazy_crypto.h"
#include "util/lazy_curl.h"

#define AUTH_FILE_MAX (1u << 20)
#define SECRET_MAX 4096

const struct opt_def cmd_login_opts[] = {
	{"username", 'u', OPT_VALUE, "string", "Username", NULL},
	{"password", 'p', OPT_VALUE, "string", "Password", NULL},
	{"password-stdin", 0, OPT_BOOL, NULL, "Take the password from stdin", NULL},
	{"authfile", 0, OPT_VALUE, "string", "Path of the authentication file", NULL},
	{"tls-verify", 0, OPT_BOOL, NULL, "Require HTTPS and verify certificates", "true"},
	{"cert-dir", 0, OPT_VALUE, "string", "Use certificates (*.crt, *.cert, *.key) in this dir",
	 NULL},
	OPT_END,
};

const struct opt_def cmd_logout_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Remove the credentials of every registry", NULL},
	{"authfile", 0, OPT_VALUE, "string", "Path of the authentication file", NULL},
	OPT_END,
};

/* "https://host:5000/v1/" -> "host:5000"; no server: Docker Hub. */
static char *server_host(const char *server)
{
	if (!server || !*server)
		return xstrdup(DOCKER_DOMAIN);
	const char *s = server;
	if (str_starts_with(s, "https://"))
		s += 8;
	else if (str_starts_with(s, "http://"))
		s += 7;
	char *h = xstrndup(s, strcspn(s, "/"));
	if (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0) {
		free(h);
		h = xstrdup(DOCKER_DOMAIN);
	}
	return h;
}

/* ---- the auth file --------------------------------------------------------------- */

static json_t *auth_load(const char *path, struct scow_error **err)
{
	if (access(path, F_OK) < 0)
		return json_pack("{s:{}}", "auths");
	json_t *j = json_load_at(AT_FDCWD, path, AUTH_FILE_MAX, err);
	if (!j)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		error_set(err, EINVAL, "%s: not a JSON object", path);
		return NULL;
	}
	if (!json_get_obj(j, "auths"))
		json_object_set_new(j, "auths", json_object());
	return j;
}

static int auth_save(const char *path, json_t *j, struct scow_error **err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = path;
	int dfd = AT_FDCWD;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		if (*dir && fs_mkdir_p(dir, 0700, err) < 0)
			return -1;
		dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return error_errno(err, "open %s", dir);
	}
	_cleanup_free_ char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	int r = fs_write_atomic_at(dfd, name, text, len, 0600, err);
	if (dfd != AT_FDCWD)
		close(dfd);
	return r;
}

/* The keys of auths that name host (as written by Docker or us). */
static char **auth_keys_for(json_t *auths, const char *host)
{
	char **v = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *val;
	json_object_foreach(auths, k, val) {
		_cleanup_free_ char *h = server_host(k);
		if (strcmp(h, host) == 0)
			strv_push(&v, xstrdup(k));
	}
	return v;
}

/* ---- reading secrets ----------------------------------------------------------------- */

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static char *prompt(const char *what, bool echo, struct scow_error **err)
{
	if (!isatty(STDIN_FILENO)) {
		error_set(err, EINVAL, "Cannot perform an interactive login from a non TTY device");
		return NULL;
	}
	printf("%s", what);
	fflush(stdout);
	struct termios old, noecho;
	bool restore = false;
	if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &noecho) == 0;
	}
	char buf[SECRET_MAX];
	char *got = fgets(buf, sizeof(buf), stdin);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	if (!got) {
		error_set(err, EINVAL, "no input");
		return NULL;
	}
	chomp(buf);
	char *s = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return s;
}

static char *read_stdin_secret(struct scow_error **err)
{
	char buf[SECRET_MAX + 1];
	size_t n = 0;
	for (;;) {
		ssize_t k = read(STDIN_FILENO, buf + n, sizeof(buf) - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			error_errno(err, "read the password from stdin");
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == sizeof(buf) - 1) {
			explicit_bzero(buf, sizeof(buf));
			error_set(err, E2BIG, "password longer than %d bytes", SECRET_MAX);
			return NULL;
		}
	}
	buf[n] = '\0';
	chomp(buf);
	char *s = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return s;
}

/* ---- login -------------------------------------------------------------------------- */

/* 0 accepted, 1 refused (message in *ret_msg), -1 error. */
static int verify(const char *host, const struct opts *o, const char *user, const char *pass,
		  char **ret_msg, struct scow_error **err)
{
	struct regconf conf;
	if (regconf_load(&conf, err) < 0)
		return -1;
	struct registry_opts ro;
	cmd_registry_opts(o, &ro);
	_cleanup_free_ char *creds = xasprintf("%s:%s", user, pass);
	ro.creds = creds;
	const char *endpoint = strcmp(host, DOCKER_DOMAIN) == 0 ? "registry-1.docker.io" : host;
	struct registry *r = NULL;
	int ret = registry_open(&conf, &ro, endpoint, NULL, NULL, &r, err);
	regconf_release(&conf);
	explicit_bzero(creds, strlen(creds));
	if (ret < 0)
		return -1;
	CURL *curl = curl_easy_init();
	struct registry_request req = {.path = "/v2/"};
	struct registry_response resp = {0};
	_cleanup_error_ struct scow_error *e = NULL;
	ret = curl ? registry_request(r, curl, &req, &resp, &e) : -1;
	_cleanup_free_ char *url = xasprintf("%s://%s/v2/", registry_scheme(r), endpoint);
	if (ret < 0 && e && e->errnum == EACCES) {
		/* the token server refused the credentials */
		*ret_msg = xasprintf("Get \"%s\": unauthorized: %s", url, e->msg);
		ret = 1;
	} else if (ret < 0) {
		if (e)
			*err = steal_ptr(&e);
		else
			error_set(err, ENOMEM, "cannot create a transfer handle");
	} else if (resp.status == 401 || resp.status == 403) {
		_cleanup_free_ char *m = registry_status_message(&resp);
		const char *colon = strchr(m, ':'); /* "401 Unauthorized: why" */
		*ret_msg = xasprintf("Get \"%s\": unauthorized: %s", url,
				     colon ? colon + 2 : "authentication required");
		ret = 1;
	} else if (resp.status < 200 || resp.status >= 300) {
		_cleanup_free_ char *m = registry_status_message(&resp);
		ret = error_set(err, EIO, "Get \"%s\": %s", url, m);
	}
	registry_response_release(&resp);
	if (curl)
		curl_easy_cleanup(curl);
	registry_free(r);
	return ret;
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static int store_credentials(const char *path, const char *host, const char *user,
			     const char *pass, struct scow_error **err)
{
	_cleanup_json_ json_t *j = auth_load(path, err);
	if (!j)
		return error_wrap(err, "auth file");
	json_t *auths = json_get_obj(j, "auths");
	_cleanup_strv_ char **old = auth_keys_for(auths, host);
	for (size_t i = 0; old[i]; i++)
		json_object_del(auths, old[i]);
	_cleanup_free_ char *up = xasprintf("%s:%s", user, pass);
	_cleanup_free_ char *enc = b64(up);
	explicit_bzero(up, strlen(up));
	json_object_set_new(auths, host, json_pack("{s:s}", "auth", enc));
	explicit_bzero(enc, strlen(enc));
	return auth_save(path, j, err);
}

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void secret_freep(char **s)
{
	secret_free(*s);
}

int cmd_login(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	(void)ctx;
	if (lazy_curl_load(err) < 0 || lazy_crypto_load(err) < 0)
		return -1;
	_cleanup_free_ char *host = server_host(o->nargs ? o->args[0] : NULL);
	const char *u = opt_str(o, "username");
	const char *p = opt_str(o, "password");
	bool from_stdin = opt_bool(o, "password-stdin");
	if (p && from_stdin)
		return error_set(err, EINVAL, "--password and --password-stdin are mutually exclusive");
	if (from_stdin && !u)
		return error_set(err, EINVAL, "Must provide --username with --password-stdin");
	if (p)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
				"--password-stdin.\n");
	_cleanup_free_ char *path = regconf_auth_file_path(opt_str(o, "authfile"));
	__attribute__((cleanup(secret_freep))) char *user = u ? xstrdup(u) : NULL;
	__attribute__((cleanup(secret_freep))) char *pass = NULL;
	if (!u && !p && !from_stdin) {
		/* Docker: stored credentials are tried first. */
		struct credentials c = {0};
		_cleanup_error_ struct scow_error *e = NULL;
		if (regconf_credentials(opt_str(o, "authfile"), host, &c, &e) == 0 && c.user) {
			_cleanup_free_ char *msg = NULL;
			if (verify(host, o, c.user, c.pass, &msg, &e) == 0) {
				credentials_release(&c);
				printf("Authenticating with existing credentials...\nLogin Succeeded\n");
				return 0;
			}
		}
		credentials_release(&c);
	}
	if (!user && !(user = prompt("Username: ", true, err)))
		return -1;
	if (!*user)
		return error_set(err, EINVAL, "Error: Non-null Username Required");
	if (p)
		pass = xstrdup(p);
	else if (from_stdin)
		pass = read_stdin_secret(err);
	else
		pass = prompt("Password: ", false, err);
	if (!pass)
		return -1;
	if (!*pass)
		return error_set(err, EINVAL, "Error: Password Required");
	_cleanup_free_ char *msg = NULL;
	int v = verify(host, o, user, pass, &msg, err);
	if (v < 0)
		return cmd_fail(err);
	if (v > 0) {
		fprintf(stderr, "Error response from daemon: %s\n", msg);
		return 1;
	}
	if (store_credentials(path, host, user, pass, err) < 0)
		return cmd_fail(err);
	printf("Login Succeeded\n");
	return 0;
}

/* ---- logout -------------------------------------------------------------------------- */

int cmd_logout(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	(void)ctx;
	_cleanup_free_ char *path = regconf_auth_file_path(opt_str(o, "authfile"));
	if (opt_bool(o, "all")) {
		if (o->nargs)
			return error_set(err, EINVAL, "--all takes no SERVER");
		if (access(path, F_OK) == 0) {
			_cleanup_json_ json_t *j = auth_load(path, err);
			if (!j)
				return cmd_fail(err);
			json_object_set_new(j, "auths", json_object());
			if (auth_save(path, j, err) < 0)
				return cmd_fail(err);
		}
		printf("Removed login credentials for all registries\n");
		return 0;
	}
	_cleanup_free_ char *host = server_host(o->nargs ? o->args[0] : NULL);
	_cleanup_json_ json_t *j = auth_load(path, err);
	if (!j)
		return cmd_fail(err);
	json_t *auths = json_get_obj(j, "auths");
	_cleanup_strv_ char **keys = auth_keys_for(auths, host);
	if (!keys[0]) {
		struct credentials c = {0};
		_cleanup_error_ struct scow_error *e = NULL;
		bool docker = regconf_credentials(NULL, host, &c, &e) == 0 && c.user;
		credentials_release(&c);
		if (docker) {
			error_set(err, ENOENT,
				  "Not logged into %s with scow. Existing credentials were "
				  "established via docker login. Please use docker logout instead.",
				  host);
			return cmd_fail(err);
		}
		printf("Not logged in to %s\n", host);
		return 0;
	}
	for (size_t i = 0; keys[i]; i++)
		json_object_del(auths, keys[i]);
	if (auth_save(path, j, err) < 0)
		return cmd_fail(err);
	printf("Removing login credentials for %s\n", host);
	return 0;
}
