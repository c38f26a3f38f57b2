/* Registry configuration and credentials.
 *
 * Configuration: JSON at $SCOW_REGISTRIES_CONF, else (rootless)
 * ~/.config/scow/registries.json, else /etc/scow/registries.json:
 *   {
 *     "insecure_registries": ["myhost:5000"],   plain HTTP allowed, TLS unverified
 *     "mirrors": { "docker.io": ["127.0.0.1:5000"] },  tried first, in order
 *     "cert_dirs": ["/etc/scow/certs.d"],          replaces the default list
 *     "max_concurrent_downloads": 3
 *   }
 * Per-registry TLS material lives in CERT_DIR/HOST:PORT/: *.crt are extra CAs,
 * NAME.cert + NAME.key a client certificate (Docker's certs.d layout). The
 * default cert dirs are /etc/scow/certs.d (rootless: ~/.config/scow/certs.d
 * first) and /etc/docker/certs.d.
 *
 * Credentials: $SCOW_AUTH_FILE or --authfile, else ~/.config/scow/auth.json,
 * then $DOCKER_CONFIG/config.json or ~/.docker/config.json; both in Docker's
 * {"auths": {"host": {"auth": base64("user:pass")}}} format. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

struct regconf {
	char **insecure;   /* host[:port] */
	char **cert_dirs;  /* searched in order */
	char **mirror_src; /* parallel arrays: domain -> one mirror endpoint */
	char **mirror_dst;
	int max_concurrent_downloads;
};

int regconf_load(struct regconf *ret, struct scow_error **err);
void regconf_release(struct regconf *c);
bool regconf_is_insecure(const struct regconf *c, const char *host);
/* The directory with TLS material for host ("127.0.0.1:5000"), or NULL. */
char *regconf_cert_dir(const struct regconf *c, const char *host);

struct credentials {
	char *user;
	char *pass;
};

/* Looks host up in the auth files. Missing files and entries are not
 * errors (ret stays empty); an unreadable or malformed file is. */
int regconf_credentials(const char *authfile, const char *host, struct credentials *ret,
			struct scow_error **err);
/* The auth file `login` writes: the explicit one, else scow's own. */
char *regconf_auth_file_path(const char *authfile);
void credentials_release(struct credentials *c);
/* "user:pass" as given to --creds. */
int credentials_parse(const char *s, struct credentials *ret, struct scow_error **err);
