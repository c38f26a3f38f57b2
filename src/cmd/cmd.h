/* Command handlers. Each command family lives in its own file and exports
 * its handler and option table; src/main.c holds the one command table. */
#pragma once

#include <stdbool.h>

#include "util/error.h"
#include "util/opts.h"

/* What every command gets: the global options, resolved. */
struct scow_ctx {
	const char *root;    /* persistent store */
	const char *runroot; /* tmpfs state: pids, sockets, locks */
	bool rootless;
	const char *argv0;
	const char *cmd_name; /* "pull", "image ls", ... for messages */
};

/* Returns the process exit status (>= 0), or -1 with *err set (exit 125
 * unless the error carries another status). */
typedef int (*cmd_fn)(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err);

#define CMD_DECL(name)                                                                             \
	extern const struct opt_def name##_opts[];                                                 \
	int name(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)

CMD_DECL(cmd_version);
CMD_DECL(cmd_pull);
CMD_DECL(cmd_push);
CMD_DECL(cmd_login);
CMD_DECL(cmd_logout);
CMD_DECL(cmd_search);
CMD_DECL(cmd_save);
CMD_DECL(cmd_load);
CMD_DECL(cmd_images);
CMD_DECL(cmd_rmi);
CMD_DECL(cmd_tag);
CMD_DECL(cmd_image_inspect);
CMD_DECL(cmd_inspect);
CMD_DECL(cmd_history);
CMD_DECL(cmd_image_prune);
CMD_DECL(cmd_run);
CMD_DECL(cmd_create);
CMD_DECL(cmd_start);
CMD_DECL(cmd_stop);
CMD_DECL(cmd_kill);
CMD_DECL(cmd_rm);
CMD_DECL(cmd_wait);
CMD_DECL(cmd_rename);
CMD_DECL(cmd_container_prune);
CMD_DECL(cmd_ps);
CMD_DECL(cmd_logs);
CMD_DECL(cmd_container_inspect);
CMD_DECL(cmd_exec);
CMD_DECL(cmd_attach);
CMD_DECL(cmd_cp);
CMD_DECL(cmd_volume_create);
CMD_DECL(cmd_volume_ls);
CMD_DECL(cmd_volume_inspect);
CMD_DECL(cmd_volume_rm);
CMD_DECL(cmd_volume_prune);
CMD_DECL(cmd_network_create);
CMD_DECL(cmd_network_ls);
CMD_DECL(cmd_network_inspect);
CMD_DECL(cmd_network_rm);
CMD_DECL(cmd_network_prune);
CMD_DECL(cmd_network_connect);
CMD_DECL(cmd_network_disconnect);
CMD_DECL(cmd_top);
CMD_DECL(cmd_diff);
CMD_DECL(cmd_port);
CMD_DECL(cmd_export);
CMD_DECL(cmd_import);
CMD_DECL(cmd_commit);
CMD_DECL(cmd_stats);
CMD_DECL(cmd_pause);
CMD_DECL(cmd_unpause);
CMD_DECL(cmd_update);
CMD_DECL(cmd_build);
CMD_DECL(cmd_builder_prune);
/* restart takes stop's options */
int cmd_restart(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err);
