/* scow build (image build, builder build) and builder prune.
 *
 * The executor is src/build/exec.h; this file is the command line, the
 * context (a directory read in place, a tar on stdin or from a URL, or a
 * Dockerfile alone on stdin), the output Docker's CLI prints at the end,
 * and the runner that gives RUN steps scow's real containers: each is
 * made with `create`'s option parser and container_create_from_opts (no
 * entrypoint, the step's env and mounts, json-file log off), started in
 * the foreground with its output on the build's, and removed with its
 * anonymous volumes once its upper dir became a layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/exec.h"
#include "cmd/containers.h"
#include "cmd/run.h"
#include "image/create.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "state/volume.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_build_opts[] = {
	{"build-arg", 0, OPT_LIST, "list", "Set build-time variables", NULL},
	{"file", 'f', OPT_VALUE, "string", "Name of the Dockerfile (Default is 'PATH/Dockerfile')",
	 NULL},
	{"force-rm", 0, OPT_BOOL, NULL, "Always remove intermediate containers", NULL},
	{"iidfile", 0, OPT_VALUE, "string", "Write the image ID to the file", NULL},
	{"label", 0, OPT_LIST, "list", "Set metadata for an image", NULL},
	{"network", 0, OPT_VALUE, "string",
	 "Set the networking mode for the RUN instructions during build", "\"default\""},
	{"no-cache", 0, OPT_BOOL, NULL, "Do not use cache when building the image", NULL},
	{"platform", 0, OPT_VALUE, "string", "Set platform if server is multi-platform capable", NULL},
	{"progress", 0, OPT_VALUE, "string",
	 "Set type of progress output (auto, plain, tty). Use plain to show container output",
	 "\"auto\""},
	{"pull", 0, OPT_BOOL, NULL, "Always attempt to pull a newer version of the image", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress the build output and print image ID on success",
	 NULL},
	{"rm", 0, OPT_BOOL, NULL, "Remove intermediate containers after a successful build", "true"},
	{"squash", 0, OPT_BOOL, NULL, "Squash newly built layers into a single new layer", NULL},
	{"tag", 't', OPT_LIST, "list", "Name and optionally a tag in the 'name:tag' format", NULL},
	{"target", 0, OPT_VALUE, "string", "Set the target build stage to build.", NULL},
	OPT_END,
};

/* ---- the runner: RUN steps as scow containers ------------------------------------------- */

struct runner {
	struct scow_ctx *ctx;
	const struct opts *o;
	struct container_store cs;
	struct image_store *is;
	bool quiet;
};

static int runner_create(void *opaque, const struct build_run_req *req,
			 char ret_id[BUILD_CONTAINER_ID_LEN + 1], struct scow_error **err)
{
	struct runner *rn = opaque;
	_cleanup_strv_ char **argv = xcalloc(1, sizeof(char *));
	strv_push(&argv, xstrdup("--entrypoint="));
	strv_push(&argv, xasprintf("--network=%s", req->network));
	strv_push(&argv, xstrdup("--log-driver=none"));
	strv_push(&argv, xstrdup("--pull=never"));
	/* scow's init as pid 1: a Ctrl-C of the build reaches the command
	 * (a pid 1 ignores signals it has no handler for) */
	strv_push(&argv, xstrdup("--init"));
	for (size_t i = 0; req->env && req->env[i]; i++)
		strv_push(&argv, xasprintf("--env=%s", req->env[i]));
	for (size_t i = 0; req->mounts && req->mounts[i]; i++)
		strv_push(&argv, xasprintf("--mount=%s", req->mounts[i]));
	for (size_t i = 0; req->tmpfs && req->tmpfs[i]; i++)
		strv_push(&argv, xasprintf("--tmpfs=%s", req->tmpfs[i]));
	strv_push(&argv, xstrdup(req->image_id));
	for (size_t i = 0; req->argv[i]; i++)
		strv_push(&argv, xstrdup(req->argv[i]));
	struct opts co;
	if (opts_parse(cmd_create_opts, false, (int)strv_len(argv), argv, &co, err) < 0)
		return -1;
	char id[CONTAINER_ID_LEN + 1];
	int r = container_create_from_opts(rn->ctx, &co, &rn->cs, id, err);
	opts_release(&co);
	if (r == 0)
		snprintf(ret_id, BUILD_CONTAINER_ID_LEN + 1, "%s", id);
	return r;
}

/* The container's output goes where the supervisor finds our fds 1 and 2. */
static int runner_start(void *opaque, const char *id, int out_fd, int err_fd,
			struct scow_error **err)
{
	struct runner *rn = opaque;
	fflush(stdout);
	fflush(stderr);
	int save_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	int save_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (save_out < 0 || save_err < 0) {
		closep(&save_out);
		closep(&save_err);
		return error_errno(err, "dup");
	}
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	struct start_opts so = {.foreground = true, .attach_stdout = true, .attach_stderr = true,
				.sig_proxy = true};
	int r = container_start(rn->ctx, &rn->cs, id, &so, err);
	dup2(save_out, STDOUT_FILENO);
	dup2(save_err, STDERR_FILENO);
	close(save_out);
	close(save_err);
	return r;
}

static int runner_upper(void *opaque, const char *id, struct scow_error **err)
{
	struct runner *rn = opaque;
	_cleanup_close_ int dfd = container_dir_fd(&rn->cs, id, err);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open the container's upper dir");
	return fd;
}

/* As rm -v: once its supervisor is gone (it lingers a moment after the
 * exit it reported). */
static int runner_remove(void *opaque, const char *id, struct scow_error **err)
{
	struct runner *rn = opaque;
	struct timespec step = {0, 2 * 1000 * 1000};
	for (int attempt = 0;; attempt++) {
		struct container c;
		if (container_load(&rn->cs, id, true, &c, err) < 0) {
			if ((*err)->errnum == ENOENT) {
				error_freep(err);
				return 0;
			}
			return -1;
		}
		_cleanup_close_ int dfd = container_dir_fd(&rn->cs, id, err);
		int l = dfd < 0 ? -1
				: lock_acquire(dfd, "supervisor.lock", LOCK_MODE_EXCLUSIVE, true, err);
		if (l == -2 && attempt < 5000) {
			container_release(&c);
			nanosleep(&step, NULL);
			continue;
		}
		if (l >= 0)
			lock_release(l);
		error_freep(err);
		_cleanup_strv_ char **volumes = volume_anonymous_of(c.config);
		int r = container_delete(&rn->cs, &c, err);
		container_release(&c);
		if (r == 0)
			volume_remove_unused(&rn->cs, volumes);
		return r;
	}
}

static int runner_image(void *opaque, const char *name, bool pull, FILE *out, char **ret_id,
			struct scow_error **err)
{
	struct runner *rn = opaque;
	if (!pull || image_id_like(name)) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_resolve(rn->is, name, ret_id, NULL, &e) == 0)
			return 0;
		if (e->errnum != ENOENT || image_id_like(name)) {
			*err = steal_ptr(&e);
			return -1;
		}
	}
	return cmd_pull_image(rn->ctx, rn->o, name, out ? out : stdout, rn->quiet || !out, ret_id,
			      err);
}

/* ---- the context and the Dockerfile ------------------------------------------------------- */

struct source {
	char *context;	   /* directory */
	char *stream_dir;  /* context unpacked from a stream (removed at the end) */
	int stream_lock;
	char *dockerfile;  /* bytes */
	size_t dockerfile_len;
	char *dockerfile_rel; /* inside the context */
};

static void source_release(struct scow_ctx *ctx, struct source *s)
{
	build_context_remove(ctx->root, s->stream_dir, s->stream_lock);
	free(s->stream_dir);
	free(s->context);
	free(s->dockerfile);
	free(s->dockerfile_rel);
}

static bool is_url(const char *s)
{
	return str_starts_with(s, "http://") || str_starts_with(s, "https://");
}

static int stream_context(struct scow_ctx *ctx, int fd, struct source *s, struct scow_error **err)
{
	_cleanup_free_ char *df = NULL;
	size_t len = 0;
	if (build_stream_context(ctx->root, fd, &s->stream_dir, &s->stream_lock, &df, &len, err) < 0)
		return -1;
	if (!s->stream_dir) {
		s->dockerfile = steal_ptr(&df);
		s->dockerfile_len = len;
	} else {
		s->context = xstrdup(s->stream_dir);
	}
	return 0;
}

static int url_context(struct scow_ctx *ctx, const char *url, struct source *s,
		       struct scow_error **err)
{
	struct image_fetch *f;
	int fd;
	if (image_fetch_start(url, &f, &fd, err) < 0)
		return -1;
	int r = stream_context(ctx, fd, s, err);
	close(fd);
	_cleanup_error_ struct scow_error *e = NULL;
	if (image_fetch_finish(f, &e) < 0 && r == 0) {
		*err = steal_ptr(&e);
		r = -1;
	}
	return r < 0 ? error_wrap(err, "unable to prepare context") : 0;
}

/* The Dockerfile's path relative to the context, when it is inside it. */
static char *rel_in_context(const char *context, const char *path)
{
	char rc[PATH_MAX], rp[PATH_MAX];
	if (!realpath(context, rc) || !realpath(path, rp))
		return NULL;
	size_t n = strlen(rc);
	if (strcmp(rc, "/") == 0)
		return xstrdup(rp + 1);
	if (strncmp(rp, rc, n) == 0 && rp[n] == '/')
		return xstrdup(rp + n + 1);
	return NULL;
}

static int read_dockerfile(const char *path, struct source *s, struct scow_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return error_set(err, ENOENT,
				 "unable to prepare context: unable to evaluate symlinks in "
				 "Dockerfile path: lstat %s: no such file or directory",
				 path);
	if (fs_read_stream(path, 16u << 20, &s->dockerfile, &s->dockerfile_len, err) < 0)
		return error_wrap(err, "unable to read the Dockerfile");
	return 0;
}

static int load_source(struct scow_ctx *ctx, const struct opts *o, struct source *s,
		       struct scow_error **err)
{
	const char *arg = o->args[0];
	const char *file = opt_str(o, "file");
	if (strcmp(arg, "-") == 0 && str_eq(file, "-"))
		return error_set(err, EINVAL, "invalid argument: can't use stdin for both build "
					      "context and dockerfile");
	if (strcmp(arg, "-") == 0) {
		if (stream_context(ctx, STDIN_FILENO, s, err) < 0)
			return -1;
	} else if (is_url(arg)) {
		if (url_context(ctx, arg, s, err) < 0)
			return -1;
	} else if (str_starts_with(arg, "git://") || str_starts_with(arg, "git@") ||
		   str_starts_with(arg, "github.com/")) {
		return error_set(err, ENOTSUP, "unable to prepare context: git contexts are not "
					       "supported");
	} else {
		struct stat st;
		if (stat(arg, &st) < 0)
			return error_set(err, ENOENT,
					 "unable to prepare context: path \"%s\" not found", arg);
		if (!S_ISDIR(st.st_mode))
			return error_set(err, ENOTDIR,
					 "unable to prepare context: context must be a directory: %s",
					 arg);
		s->context = xstrdup(arg);
	}
	if (s->dockerfile) /* a Dockerfile alone on stdin */
		return file ? error_set(err, EINVAL, "a Dockerfile came on stdin: no -f") : 0;
	if (str_eq(file, "-"))
		return fs_read_stream("/dev/stdin", 16u << 20, &s->dockerfile, &s->dockerfile_len,
				      err);
	_cleanup_free_ char *path = NULL;
	if (file && s->stream_dir)
		path = xasprintf("%s/%s", s->context, file); /* inside the archive */
	else if (file)
		path = xstrdup(file);
	else {
		path = xasprintf("%s/Dockerfile", s->context);
		if (access(path, F_OK) < 0) {
			_cleanup_free_ char *lower = xasprintf("%s/dockerfile", s->context);
			if (access(lower, F_OK) == 0) {
				free(path);
				path = steal_ptr(&lower);
			}
		}
	}
	if (read_dockerfile(path, s, err) < 0)
		return -1;
	s->dockerfile_rel = rel_in_context(s->context, path);
	return 0;
}

/* ---- options ----------------------------------------------------------------------------- */

static int check_opts(const struct opts *o, struct scow_error **err)
{
	const char *p = opt_str(o, "progress");
	if (p && strcmp(p, "auto") && strcmp(p, "plain") && strcmp(p, "tty"))
		return error_set(err, EINVAL, "invalid value for --progress: %s (auto, plain, tty)", p);
	const char *net = opt_str(o, "network");
	if (net && strcmp(net, "default") && strcmp(net, "none") && strcmp(net, "host") &&
	    strcmp(net, "bridge"))
		return error_set(err, EINVAL,
				 "network mode \"%s\" not supported by buildkit: default, none, "
				 "host",
				 net);
	const char *plat = opt_str(o, "platform");
	_cleanup_free_ char *host = xasprintf("linux/%s", platform_host_arch());
	if (plat && *plat && strcmp(plat, host) && strcmp(plat, "linux"))
		return error_set(err, ENOTSUP, "--platform %s: only the host platform (%s) can be built",
				 plat, host);
	return 0;
}

static int source_date_epoch(const struct opts *o, bool *has, time_t *ret,
			     struct scow_error **err)
{
	const char *v = getenv("SOURCE_DATE_EPOCH");
	size_t n;
	const char *const *args = opt_list(o, "build-arg", &n);
	for (size_t i = 0; i < n; i++)
		if (str_starts_with(args[i], "SOURCE_DATE_EPOCH="))
			v = args[i] + 18;
	*has = false;
	if (!v || !*v)
		return 0;
	long long t;
	if (!str_to_ll(v, 0, 253402300799LL, &t))
		return error_set(err, EINVAL, "invalid SOURCE_DATE_EPOCH: %s", v);
	*has = true;
	*ret = (time_t)t;
	return 0;
}

/* --build-arg KEY without a value: the docker CLI takes it from the
 * environment. */
static char **build_args(const struct opts *o)
{
	size_t n;
	const char *const *a = opt_list(o, "build-arg", &n);
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *env = strchr(a[i], '=') ? NULL : getenv(a[i]);
		strv_push(&v, env ? xasprintf("%s=%s", a[i], env) : xstrdup(a[i]));
	}
	return v;
}

static char **list_copy(const struct opts *o, const char *name)
{
	size_t n;
	const char *const *a = opt_list(o, name, &n);
	char **v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(a[i]);
	return v;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void print_result(const struct opts *o, const char *id, char *const *tags)
{
	if (opt_bool(o, "quiet")) {
		printf("%s\n", id);
		return;
	}
	printf("Successfully built %.12s\n", digest_hex(id));
	for (size_t i = 0; tags[i]; i++) {
		struct image_ref r = {0};
		if (image_ref_parse(tags[i], true, &r, NULL) < 0) {
			printf("Successfully tagged %s\n", tags[i]);
			continue;
		}
		_cleanup_free_ char *fam = image_ref_familiar(&r);
		image_ref_release(&r);
		printf("Successfully tagged %s\n", fam);
	}
}

static int write_iidfile(const char *path, const char *id, struct scow_error **err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, id, strlen(id)) < 0)
		return error_errno(err, "write the image ID file %s", path);
	return 0;
}

static int run_build(struct scow_ctx *ctx, const struct opts *o, struct source *src, char **tags,
		     char id[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	struct runner rn = {.ctx = ctx, .o = o, .is = &is, .quiet = opt_bool(o, "quiet")};
	if (cmd_open_containers(ctx, &rn.cs, err) < 0) {
		image_store_close(&is);
		return -1;
	}
	_cleanup_strv_ char **args = build_args(o);
	_cleanup_strv_ char **labels = list_copy(o, "label");
	_cleanup_fclose_ FILE *devnull = rn.quiet ? fopen("/dev/null", "w") : NULL;
	struct build_opts bo = {
		.root = ctx->root,
		.rootless = ctx->rootless,
		.is = &is,
		.dockerfile = src->dockerfile,
		.dockerfile_len = src->dockerfile_len,
		.dockerfile_rel = src->dockerfile_rel,
		.context = src->context,
		.build_args = args,
		.labels = labels,
		.tags = tags,
		.target = opt_str(o, "target"),
		.network = opt_str(o, "network") && strcmp(opt_str(o, "network"), "bridge")
				   ? opt_str(o, "network")
				   : "default",
		.no_cache = opt_bool(o, "no-cache"),
		.pull = opt_bool(o, "pull"),
		.quiet = rn.quiet,
		.rm = !opt_set(o, "rm") || opt_bool(o, "rm"),
		.force_rm = opt_bool(o, "force-rm"),
		.squash = opt_bool(o, "squash"),
		.out = devnull ? devnull : stdout,
		.interrupted = &stop_requested,
		.runner = {.opaque = &rn, .create = runner_create, .start = runner_start,
			   .upper_fd = runner_upper, .remove = runner_remove, .image = runner_image},
	};
	int r = source_date_epoch(o, &bo.has_sde, &bo.sde, err);
	if (r == 0)
		r = build_execute(&bo, id, err);
	container_store_close(&rn.cs);
	image_store_close(&is);
	return r;
}

int cmd_build(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (check_opts(o, err) < 0)
		return -1;
	size_t nt;
	const char *const *t = opt_list(o, "tag", &nt);
	_cleanup_strv_ char **tags = xcalloc(nt + 1, sizeof(char *));
	for (size_t i = 0; i < nt; i++)
		if (image_tag_arg(t[i], &tags[i], err) < 0)
			return error_wrap(err, "invalid argument \"%s\" for \"-t, --tag\" flag", t[i]);
	struct source src = {.stream_lock = -1};
	catch_signals();
	char id[DIGEST_STR_LEN + 1];
	int r = load_source(ctx, o, &src, err);
	if (r == 0)
		r = run_build(ctx, o, &src, tags, id, err);
	source_release(ctx, &src);
	if (r < 0)
		return cmd_fail(err);
	const char *iid = opt_str(o, "iidfile");
	if (iid && write_iidfile(iid, id, err) < 0)
		return cmd_fail(err);
	print_result(o, id, tags);
	return 0;
}

/* ---- builder prune --------------------------------------------------------------------------- */

const struct opt_def cmd_builder_prune_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Remove all unused build cache, not just dangling ones", NULL},
	{"filter", 0, OPT_LIST, "filter", "Provide filter values (e.g. \"until=24h\")", NULL},
	{"force", 'f', OPT_BOOL, NULL, "Do not prompt for confirmation", NULL},
	{"keep-storage", 0, OPT_VALUE, "bytes", "Amount of disk space to keep for cache", NULL},
	OPT_END,
};

static bool image_in_use(void *opaque, const char *id)
{
	return strv_contains(opaque, id);
}

/* The images containers use. */
static char **used_images(struct container_store *cs)
{
	char **used = xcalloc(1, sizeof(char *));
	_cleanup_strv_ char **ids = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_list(cs, &ids, &e) < 0)
		return used;
	for (size_t i = 0; ids[i]; i++) {
		struct container c;
		if (container_load_summary(cs, ids[i], &c, &e) < 0) {
			error_freep(&e);
			continue;
		}
		const char *img = json_get_str(c.config, "Image");
		if (img && !strv_contains(used, img))
			strv_push(&used, xstrdup(img));
		container_release(&c);
	}
	return used;
}

int cmd_builder_prune(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	if (!opt_bool(o, "force") &&
	    !cmd_confirm(opt_bool(o, "all") ? "This will remove all build cache."
					    : "This will remove all dangling build cache."))
		return 0;
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0) {
		image_store_close(&is);
		return cmd_fail(err);
	}
	/* no container may take an image up while the unused ones go */
	_cleanup_close_ int users = image_store_users_lock(&is, true, err);
	_cleanup_strv_ char **used = users < 0 ? NULL : used_images(&cs);
	_cleanup_strv_ char **removed = NULL;
	long long bytes = 0;
	int r = users < 0 ? -1
			  : build_cache_prune(&is, ctx->root, image_in_use, used, &removed, &bytes,
					      err);
	container_store_close(&cs);
	image_store_close(&is);
	if (r < 0)
		return cmd_fail(err);
	if (removed[0]) {
		printf("Deleted build cache objects:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("%s\n", digest_hex(removed[i]));
		printf("\n");
	}
	char sz[32];
	size_human((double)bytes, sz, sizeof(sz));
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}
