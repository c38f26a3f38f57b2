/* scow: global options, the command table, exit codes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* Docker's exit statuses: 125 for scow's own errors. */
enum { EXIT_SCOW_ERROR = 125 };

enum cmd_flags {
	CMD_STOP_AT_ARG = 1 << 0, /* options end at the first positional (run, exec) */
	CMD_GROUP = 1 << 1,	  /* a management command: "image", "container", ... */
	CMD_HIDDEN = 1 << 2,	  /* an alias not listed in scow --help */
};

struct cmd_desc {
	const char *name; /* "pull", or "image pull" for a sub-command */
	cmd_fn fn;
	const struct opt_def *opts;
	const char *usage;
	const char *summary;
	unsigned flags;
	int min_args, max_args; /* -1: no upper bound */
};

static const struct cmd_desc commands[] = {
	{"image", NULL, NULL, "COMMAND", "Manage images", CMD_GROUP, 0, 0},
	{"container", NULL, NULL, "COMMAND", "Manage containers", CMD_GROUP, 0, 0},
	{"network", NULL, NULL, "COMMAND", "Manage networks", CMD_GROUP, 0, 0},
	{"network create", cmd_network_create, cmd_network_create_opts, "[OPTIONS] NETWORK",
	 "Create a network", 0, 1, 1},
	{"network ls", cmd_network_ls, cmd_network_ls_opts, "[OPTIONS]", "List networks", 0, 0, 0},
	{"network list", cmd_network_ls, cmd_network_ls_opts, "[OPTIONS]", "List networks",
	 CMD_HIDDEN, 0, 0},
	{"network inspect", cmd_network_inspect, cmd_network_inspect_opts,
	 "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks", 0,
	 1, -1},
	{"network rm", cmd_network_rm, cmd_network_rm_opts, "NETWORK [NETWORK...]",
	 "Remove one or more networks", 0, 1, -1},
	{"network remove", cmd_network_rm, cmd_network_rm_opts, "NETWORK [NETWORK...]",
	 "Remove one or more networks", CMD_HIDDEN, 1, -1},
	{"network prune", cmd_network_prune, cmd_network_prune_opts, "[OPTIONS]",
	 "Remove all unused networks", 0, 0, 0},
	{"network connect", cmd_network_connect, cmd_network_connect_opts,
	 "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", 0, 2, 2},
	{"network disconnect", cmd_network_disconnect, cmd_network_disconnect_opts,
	 "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network", 0, 2, 2},
	{"volume", NULL, NULL, "COMMAND", "Manage volumes", CMD_GROUP, 0, 0},
	{"volume create", cmd_volume_create, cmd_volume_create_opts, "[OPTIONS] [VOLUME]",
	 "Create a volume", 0, 0, 1},
	{"volume ls", cmd_volume_ls, cmd_volume_ls_opts, "[OPTIONS]", "List volumes", 0, 0, 0},
	{"volume list", cmd_volume_ls, cmd_volume_ls_opts, "[OPTIONS]", "List volumes", CMD_HIDDEN, 0,
	 0},
	{"volume inspect", cmd_volume_inspect, cmd_volume_inspect_opts, "[OPTIONS] VOLUME [VOLUME...]",
	 "Display detailed information on one or more volumes", 0, 1, -1},
	{"volume rm", cmd_volume_rm, cmd_volume_rm_opts, "[OPTIONS] VOLUME [VOLUME...]",
	 "Remove one or more volumes", 0, 1, -1},
	{"volume remove", cmd_volume_rm, cmd_volume_rm_opts, "[OPTIONS] VOLUME [VOLUME...]",
	 "Remove one or more volumes", CMD_HIDDEN, 1, -1},
	{"volume prune", cmd_volume_prune, cmd_volume_prune_opts, "[OPTIONS]",
	 "Remove unused local volumes", 0, 0, 0},

	{"run", cmd_run, cmd_run_opts, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	 "Create and run a new container from an image", CMD_STOP_AT_ARG, 1, -1},
	{"create", cmd_create, cmd_create_opts, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	 "Create a new container", CMD_STOP_AT_ARG, 1, -1},
	{"start", cmd_start, cmd_start_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Start one or more stopped containers", 0, 1, -1},
	{"stop", cmd_stop, cmd_stop_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Stop one or more running containers", 0, 1, -1},
	{"kill", cmd_kill, cmd_kill_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Kill one or more running containers", 0, 1, -1},
	{"restart", cmd_restart, cmd_stop_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Restart one or more containers", 0, 1, -1},
	{"rm", cmd_rm, cmd_rm_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Remove one or more containers", 0, 1, -1},
	{"wait", cmd_wait, cmd_wait_opts, "CONTAINER [CONTAINER...]",
	 "Block until one or more containers stop, then print their exit codes", 0, 1, -1},
	{"rename", cmd_rename, cmd_rename_opts, "CONTAINER NEW_NAME", "Rename a container", 0, 2, 2},
	{"ps", cmd_ps, cmd_ps_opts, "[OPTIONS]", "List containers", 0, 0, 0},
	{"stats", cmd_stats, cmd_stats_opts, "[OPTIONS] [CONTAINER...]",
	 "Display a live stream of container(s) resource usage statistics", 0, 0, -1},
	{"pause", cmd_pause, cmd_pause_opts, "CONTAINER [CONTAINER...]",
	 "Pause all processes within one or more containers", 0, 1, -1},
	{"unpause", cmd_unpause, cmd_unpause_opts, "CONTAINER [CONTAINER...]",
	 "Unpause all processes within one or more containers", 0, 1, -1},
	{"update", cmd_update, cmd_update_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Update configuration of one or more containers", 0, 1, -1},
	{"container stats", cmd_stats, cmd_stats_opts, "[OPTIONS] [CONTAINER...]",
	 "Display a live stream of container(s) resource usage statistics", 0, 0, -1},
	{"container pause", cmd_pause, cmd_pause_opts, "CONTAINER [CONTAINER...]",
	 "Pause all processes within one or more containers", 0, 1, -1},
	{"container unpause", cmd_unpause, cmd_unpause_opts, "CONTAINER [CONTAINER...]",
	 "Unpause all processes within one or more containers", 0, 1, -1},
	{"container update", cmd_update, cmd_update_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Update configuration of one or more containers", 0, 1, -1},
	{"logs", cmd_logs, cmd_logs_opts, "[OPTIONS] CONTAINER", "Fetch the logs of a container", 0,
	 1, 1},
	{"exec", cmd_exec, cmd_exec_opts, "[OPTIONS] CONTAINER COMMAND [ARG...]",
	 "Execute a command in a running container", CMD_STOP_AT_ARG, 2, -1},
	{"attach", cmd_attach, cmd_attach_opts, "[OPTIONS] CONTAINER",
	 "Attach local standard input, output, and error streams to a running container", 0, 1, 1},
	{"container attach", cmd_attach, cmd_attach_opts, "[OPTIONS] CONTAINER",
	 "Attach local standard input, output, and error streams to a running container", 0, 1, 1},
	{"container exec", cmd_exec, cmd_exec_opts, "[OPTIONS] CONTAINER COMMAND [ARG...]",
	 "Execute a command in a running container", CMD_STOP_AT_ARG, 2, -1},
	{"container stop", cmd_stop, cmd_stop_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Stop one or more running containers", 0, 1, -1},
	{"container kill", cmd_kill, cmd_kill_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Kill one or more running containers", 0, 1, -1},
	{"container restart", cmd_restart, cmd_stop_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Restart one or more containers", 0, 1, -1},
	{"container rm", cmd_rm, cmd_rm_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Remove one or more containers", 0, 1, -1},
	{"container remove", cmd_rm, cmd_rm_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Remove one or more containers", CMD_HIDDEN, 1, -1},
	{"container wait", cmd_wait, cmd_wait_opts, "CONTAINER [CONTAINER...]",
	 "Block until one or more containers stop, then print their exit codes", 0, 1, -1},
	{"container rename", cmd_rename, cmd_rename_opts, "CONTAINER NEW_NAME", "Rename a container",
	 0, 2, 2},
	{"container ls", cmd_ps, cmd_ps_opts, "[OPTIONS]", "List containers", 0, 0, 0},
	{"container list", cmd_ps, cmd_ps_opts, "[OPTIONS]", "List containers", CMD_HIDDEN, 0, 0},
	{"container ps", cmd_ps, cmd_ps_opts, "[OPTIONS]", "List containers", CMD_HIDDEN, 0, 0},
	{"container logs", cmd_logs, cmd_logs_opts, "[OPTIONS] CONTAINER",
	 "Fetch the logs of a container", 0, 1, 1},
	{"container inspect", cmd_container_inspect, cmd_container_inspect_opts,
	 "[OPTIONS] CONTAINER [CONTAINER...]", "Display detailed information on one or more containers",
	 0, 1, -1},
	{"container prune", cmd_container_prune, cmd_container_prune_opts, "[OPTIONS]",
	 "Remove all stopped containers", 0, 0, 0},
	{"container run", cmd_run, cmd_run_opts, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	 "Create and run a new container from an image", CMD_STOP_AT_ARG, 1, -1},
	{"container create", cmd_create, cmd_create_opts, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	 "Create a new container", CMD_STOP_AT_ARG, 1, -1},
	{"container start", cmd_start, cmd_start_opts, "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Start one or more stopped containers", 0, 1, -1},
	{"cp", cmd_cp, cmd_cp_opts,
	 "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  scow cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
	 "Copy files/folders between a container and the local filesystem", 0, 2, 2},
	{"container cp", cmd_cp, cmd_cp_opts,
	 "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  scow cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
	 "Copy files/folders between a container and the local filesystem", 0, 2, 2},
	{"top", cmd_top, cmd_top_opts, "CONTAINER [ps OPTIONS]",
	 "Display the running processes of a container", CMD_STOP_AT_ARG, 1, -1},
	{"container top", cmd_top, cmd_top_opts, "CONTAINER [ps OPTIONS]",
	 "Display the running processes of a container", CMD_STOP_AT_ARG, 1, -1},
	{"port", cmd_port, cmd_port_opts, "CONTAINER [PRIVATE_PORT[/PROTO]]",
	 "List port mappings or a specific mapping for the container", 0, 1, 2},
	{"container port", cmd_port, cmd_port_opts, "CONTAINER [PRIVATE_PORT[/PROTO]]",
	 "List port mappings or a specific mapping for the container", 0, 1, 2},
	{"diff", cmd_diff, cmd_diff_opts, "CONTAINER",
	 "Inspect changes to files or directories on a container's filesystem", 0, 1, 1},
	{"container diff", cmd_diff, cmd_diff_opts, "CONTAINER",
	 "Inspect changes to files or directories on a container's filesystem", 0, 1, 1},
	{"export", cmd_export, cmd_export_opts, "[OPTIONS] CONTAINER",
	 "Export a container's filesystem as a tar archive", 0, 1, 1},
	{"container export", cmd_export, cmd_export_opts, "[OPTIONS] CONTAINER",
	 "Export a container's filesystem as a tar archive", 0, 1, 1},
	{"commit", cmd_commit, cmd_commit_opts, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
	 "Create a new image from a container's changes", 0, 1, 2},
	{"container commit", cmd_commit, cmd_commit_opts, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
	 "Create a new image from a container's changes", 0, 1, 2},
	{"import", cmd_import, cmd_import_opts, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	 "Import the contents from a tarball to create a filesystem image", 0, 1, 2},
	{"image import", cmd_import, cmd_import_opts, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	 "Import the contents from a tarball to create a filesystem image", 0, 1, 2},

	{"pull", cmd_pull, cmd_pull_opts, "[OPTIONS] NAME[:TAG|@DIGEST]",
	 "Download an image from a registry", 0, 1, 1},
	{"images", cmd_images, cmd_images_opts, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", 0, 0,
	 1},
	{"rmi", cmd_rmi, cmd_rmi_opts, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", 0,
	 1, -1},
	{"tag", cmd_tag, cmd_tag_opts, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", 0, 2, 2},
	{"history", cmd_history, cmd_history_opts, "[OPTIONS] IMAGE", "Show the history of an image",
	 0, 1, 1},
	{"inspect", cmd_inspect, cmd_inspect_opts, "[OPTIONS] NAME|ID [NAME|ID...]",
	 "Return low-level information on scow objects", 0, 1, -1},

	{"image pull", cmd_pull, cmd_pull_opts, "[OPTIONS] NAME[:TAG|@DIGEST]",
	 "Download an image from a registry", 0, 1, 1},
	{"image ls", cmd_images, cmd_images_opts, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", 0,
	 0, 1},
	{"image list", cmd_images, cmd_images_opts, "[OPTIONS] [REPOSITORY[:TAG]]", "List images",
	 CMD_HIDDEN, 0, 1},
	{"image rm", cmd_rmi, cmd_rmi_opts, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
	 0, 1, -1},
	{"image remove", cmd_rmi, cmd_rmi_opts, "[OPTIONS] IMAGE [IMAGE...]",
	 "Remove one or more images", CMD_HIDDEN, 1, -1},
	{"image tag", cmd_tag, cmd_tag_opts, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", 0, 2, 2},
	{"image inspect", cmd_image_inspect, cmd_image_inspect_opts, "[OPTIONS] IMAGE [IMAGE...]",
	 "Display detailed information on one or more images", 0, 1, -1},
	{"image history", cmd_history, cmd_history_opts, "[OPTIONS] IMAGE",
	 "Show the history of an image", 0, 1, 1},
	{"image prune", cmd_image_prune, cmd_image_prune_opts, "[OPTIONS]", "Remove unused images",
	 0, 0, 0},

	{"push", cmd_push, cmd_push_opts, "[OPTIONS] NAME[:TAG] [DESTINATION]",
	 "Upload an image to a registry", 0, 1, 2},
	{"image push", cmd_push, cmd_push_opts, "[OPTIONS] NAME[:TAG] [DESTINATION]",
	 "Upload an image to a registry", 0, 1, 2},
	{"login", cmd_login, cmd_login_opts, "[OPTIONS] [SERVER]", "Log in to a registry", 0, 0, 1},
	{"logout", cmd_logout, cmd_logout_opts, "[OPTIONS] [SERVER]", "Log out from a registry", 0, 0,
	 1},
	{"search", cmd_search, cmd_search_opts, "[OPTIONS] TERM", "Search registries for images", 0,
	 1, 1},
	{"save", cmd_save, cmd_save_opts, "[OPTIONS] IMAGE [IMAGE...]",
	 "Save one or more images to a tar archive (streamed to STDOUT by default)", 0, 1, -1},
	{"load", cmd_load, cmd_load_opts, "[OPTIONS]", "Load an image from a tar archive or STDIN", 0,
	 0, 0},
	{"image save", cmd_save, cmd_save_opts, "[OPTIONS] IMAGE [IMAGE...]",
	 "Save one or more images to a tar archive (streamed to STDOUT by default)", 0, 1, -1},
	{"image load", cmd_load, cmd_load_opts, "[OPTIONS]", "Load an image from a tar archive or STDIN",
	 0, 0, 0},
	{"build", cmd_build, cmd_build_opts, "[OPTIONS] PATH | URL | -",
	 "Build an image from a Dockerfile", 0, 1, 1},
	{"image build", cmd_build, cmd_build_opts, "[OPTIONS] PATH | URL | -",
	 "Build an image from a Dockerfile", 0, 1, 1},
	{"builder", NULL, NULL, "COMMAND", "Manage builds", CMD_GROUP, 0, 0},
	{"builder build", cmd_build, cmd_build_opts, "[OPTIONS] PATH | URL | -",
	 "Build an image from a Dockerfile", 0, 1, 1},
	{"builder prune", cmd_builder_prune, cmd_builder_prune_opts, "[OPTIONS]",
	 "Remove build cache", 0, 0, 0},
	{"version", cmd_version, cmd_version_opts, "[OPTIONS]", "Show the scow version information",
	 0, 0, 0},
};

struct global_opts {
	const char *root, *runroot, *log_level;
	bool help, version;
};

static const struct opt_def global_opt_defs[] = {
	{"root", 0, OPT_VALUE, "string", "Persistent storage directory", NULL},
	{"runroot", 0, OPT_VALUE, "string", "Runtime state directory (tmpfs)", NULL},
	{"log-level", 'l', OPT_VALUE, "string",
	 "Set the logging level (\"debug\", \"info\", \"warn\", \"error\")", "\"warn\""},
	{"debug", 'D', OPT_BOOL, NULL, "Enable debug output", NULL},
	{"help", 0, OPT_BOOL, NULL, "Print usage", NULL},
	{"version", 'v', OPT_BOOL, NULL, "Print version information and quit", NULL},
	OPT_END,
};

static void print_main_help(FILE *f)
{
	fprintf(f, "\nUsage:  scow [OPTIONS] COMMAND\n\n"
		   "A daemonless container tool that speaks Docker's command line\n");
	opts_print_help(f, global_opt_defs);
	for (int pass = 0; pass < 2; pass++) {
		fprintf(f, pass == 0 ? "\nManagement Commands:\n" : "\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
			const struct cmd_desc *c = &commands[i];
			bool group = c->flags & CMD_GROUP;
			if (strchr(c->name, ' ') || (c->flags & CMD_HIDDEN) || group != (pass == 0))
				continue;
			fprintf(f, "  %-10s  %s\n", c->name, c->summary);
		}
	}
	fprintf(f, "\nRun 'scow COMMAND --help' for more information on a command.\n");
}

static void print_group_help(FILE *f, const char *group)
{
	const struct cmd_desc *g = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, group) == 0)
			g = &commands[i];
	fprintf(f, "\nUsage:  scow %s COMMAND\n\n%s\n\nCommands:\n", group, g ? g->summary : "");
	size_t glen = strlen(group);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct cmd_desc *c = &commands[i];
		if (strncmp(c->name, group, glen) == 0 && c->name[glen] == ' ' &&
		    !(c->flags & CMD_HIDDEN))
			fprintf(f, "  %-10s  %s\n", c->name + glen + 1, c->summary);
	}
	fprintf(f, "\nRun 'scow %s COMMAND --help' for more information on a command.\n", group);
}

static void print_cmd_help(FILE *f, const struct cmd_desc *c)
{
	fprintf(f, "\nUsage:  scow %s %s\n\n%s\n", c->name, c->usage, c->summary);
	/* Aliases: every other entry with the same handler. */
	_cleanup_sb_ struct strbuf aliases = STRBUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].fn == c->fn && !(commands[i].flags & CMD_HIDDEN))
			sb_printf(&aliases, "%sscow %s", aliases.len ? ", " : "", commands[i].name);
	if (strchr(sb_str(&aliases), ','))
		fprintf(f, "\nAliases:\n  %s\n", sb_str(&aliases));
	opts_print_help(f, c->opts);
}

static const struct opt_def help_only[] = {OPT_END};

static int usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "scow: %s\nSee 'scow %s--help'.\n", msg, cmd);
	return EXIT_SCOW_ERROR;
}

static int arg_count_error(const struct cmd_desc *c, int nargs)
{
	char msg[256];
	const char *what = c->min_args == c->max_args ? "exactly" : nargs < c->min_args ? "at least"
											 : "at most";
	int want = nargs < c->min_args ? c->min_args : c->max_args;
	snprintf(msg, sizeof(msg), "\"scow %s\" requires %s %d argument%s.", c->name, what, want,
		 want == 1 ? "" : "s");
	fprintf(stderr, "%s\nSee 'scow %s --help'.\n\nUsage:  scow %s %s\n\n%s\n", msg, c->name,
		c->name, c->usage, c->summary);
	return EXIT_SCOW_ERROR;
}

static const struct cmd_desc *find_command(int argc, char **argv, int *consumed)
{
	if (argc >= 2) {
		char two[128];
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (commands[i].fn && strcmp(commands[i].name, two) == 0)
				return *consumed = 2, &commands[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, argv[0]) == 0)
			return *consumed = 1, &commands[i];
	return NULL;
}

static char *default_dir(bool rootless, bool runtime)
{
	if (!rootless)
		return xstrdup(runtime ? "/run/scow" : "/var/lib/scow");
	const char *home = getenv("HOME");
	if (runtime) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg && *xdg)
			return xasprintf("%s/scow", xdg);
		return xasprintf("/tmp/scow-run-%u", (unsigned)getuid());
	}
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/scow", xdg);
	return xasprintf("%s/.local/share/scow", home && *home ? home : "/tmp");
}

static int run_command(struct scow_ctx *ctx, const struct cmd_desc *c, int argc, char **argv)
{
	struct opts o;
	_cleanup_error_ struct scow_error *err = NULL;
	const struct opt_def *defs = c->opts ? c->opts : help_only;
	/* --help is accepted by every command, whatever its table says. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			bool takes_h = false;
			for (size_t j = 0; defs[j].name; j++)
				takes_h |= defs[j].short_name == 'h';
			if (argv[i][1] == 'h' && takes_h)
				continue;
			print_cmd_help(stdout, c);
			return 0;
		}
		if ((c->flags & CMD_STOP_AT_ARG) && argv[i][0] != '-')
			break;
	}
	if (opts_parse(defs, !(c->flags & CMD_STOP_AT_ARG), argc, argv, &o, &err) < 0) {
		char cmdname[128];
		snprintf(cmdname, sizeof(cmdname), "%s ", c->name);
		return usage_error(cmdname, err->msg);
	}
	if (o.nargs < c->min_args || (c->max_args >= 0 && o.nargs > c->max_args)) {
		opts_release(&o);
		return arg_count_error(c, o.nargs);
	}
	ctx->cmd_name = c->name;
	int r = c->fn(ctx, &o, &err);
	opts_release(&o);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "scow: %s\n", err ? err->msg : "unknown error");
		return err && err->exit_code ? err->exit_code : EXIT_SCOW_ERROR;
	}
	return r;
}

int main(int argc, char **argv)
{
	log_trace("main");
	_cleanup_error_ struct scow_error *err = NULL;
	struct opts g;
	/* Global options stop at the command name. */
	if (opts_parse(global_opt_defs, false, argc - 1, argv + 1, &g, &err) < 0)
		return usage_error("", err->msg);
	const char *lvl = opt_str(&g, "log-level");
	if (opt_bool(&g, "debug"))
		lvl = "debug";
	if (lvl) {
		int l = log_level_parse(lvl);
		if (l < 0) {
			opts_release(&g);
			fprintf(stderr, "scow: unable to parse logging level: %s\n", lvl);
			return EXIT_SCOW_ERROR;
		}
		log_level = (enum log_level)l;
	}
	struct scow_ctx ctx = {.argv0 = argv[0], .rootless = geteuid() != 0};
	_cleanup_free_ char *root = NULL, *runroot = NULL;
	const char *r = opt_str(&g, "root") ? opt_str(&g, "root") : getenv("SCOW_ROOT");
	const char *rr = opt_str(&g, "runroot") ? opt_str(&g, "runroot") : getenv("SCOW_RUNROOT");
	root = r && *r ? xstrdup(r) : default_dir(ctx.rootless, false);
	runroot = rr && *rr ? xstrdup(rr) : default_dir(ctx.rootless, true);
	ctx.root = root;
	ctx.runroot = runroot;

	int nargs = g.nargs;
	char **args = g.args;
	int status;
	if (opt_bool(&g, "version")) {
		status = run_command(&ctx, find_command(1, (char *[]){"version", NULL}, &(int){0}), 0,
				     NULL);
	} else if (nargs == 0 || opt_bool(&g, "help")) {
		print_main_help(nargs == 0 && !opt_bool(&g, "help") ? stderr : stdout);
		status = opt_bool(&g, "help") ? 0 : EXIT_SCOW_ERROR;
	} else {
		int consumed = 0;
		const struct cmd_desc *c = find_command(nargs, args, &consumed);
		if (!c) {
			fprintf(stderr,
				"scow: '%s' is not a scow command.\nSee 'scow --help'\n",
				args[0]);
			status = EXIT_SCOW_ERROR;
		} else if (c->flags & CMD_GROUP) {
			bool help = nargs == 1 || strcmp(args[1], "--help") == 0;
			if (help) {
				print_group_help(stdout, c->name);
				status = 0;
			} else {
				fprintf(stderr, "scow: unknown command \"%s\" for \"scow %s\"\n",
					args[1], c->name);
				status = EXIT_SCOW_ERROR;
			}
		} else {
			signal(SIGPIPE, SIG_IGN);
			status = run_command(&ctx, c, nargs - consumed, args + consumed);
		}
	}
	opts_release(&g);
	return status;
}
