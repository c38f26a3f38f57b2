#include "cmd/common.h"

#include <stdio.h>
#include <string.h>

int cmd_open_images(struct scow_ctx *ctx, struct image_store *ret, struct scow_error **err)
{
	return image_store_open(ctx->root, ctx->rootless, ret, err);
}

void cmd_registry_opts(const struct opts *o, struct registry_opts *ret)
{
	*ret = (struct registry_opts){.tls_verify = -1};
	if (opt_declared(o, "tls-verify") && opt_set(o, "tls-verify"))
		ret->tls_verify = opt_bool(o, "tls-verify") ? 1 : 0;
	if (opt_declared(o, "cert-dir"))
		ret->cert_dir = opt_str(o, "cert-dir");
	if (opt_declared(o, "creds"))
		ret->creds = opt_str(o, "creds");
	if (opt_declared(o, "authfile"))
		ret->authfile = opt_str(o, "authfile");
}

int cmd_fail(struct scow_error **err)
{
	if (err && *err && (*err)->exit_code == 0)
		(*err)->exit_code = 1;
	return -1;
}

bool cmd_confirm(const char *what)
{
	fprintf(stdout, "WARNING! %s\nAre you sure you want to continue? [y/N] ", what);
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}
