/* Helpers shared by command implementations. */
#pragma once

#include <stdio.h>

#include "cmd/cmd.h"
#include "image/regconf.h"
#include "image/registry.h"
#include "image/store.h"

/* Opens the image store under ctx->root. */
int cmd_open_images(struct scow_ctx *ctx, struct image_store *ret, struct scow_error **err);
/* --tls-verify, --cert-dir, --creds, --authfile from o (each optional). */
void cmd_registry_opts(const struct opts *o, struct registry_opts *ret);
/* Marks an error as an operational failure: Docker exits 1 for those in
 * every command but run/create/start (which use 125). */
int cmd_fail(struct scow_error **err);
/* Pulls name with Docker's progress output on out; the id pulled in
 * *ret_id (may be NULL). */
int cmd_pull_image(struct scow_ctx *ctx, const struct opts *o, const char *name, FILE *out,
		   bool quiet, char **ret_id, struct scow_error **err);
/* Prints "WARNING! <what>\nAre you sure you want to continue? [y/N] " and
 * reads the answer from stdin, as Docker's prune commands do. */
bool cmd_confirm(const char *what);
