/* RUN: a container of the current image runs the command (the caller's
 * runner: scow's real create/start), its upper dir becomes the layer.
 *
 * The container gets the image's Env, WorkingDir and User, the step's
 * build ARGs in its environment (not in the image), no entrypoint, and the
 * step's mounts: --mount=type=cache is a directory under
 * ROOT/build-cache/mounts/ that outlives the build (bind-mounted), tmpfs a
 * tmpfs, bind a read-only bind of a path inside the context. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

char **bx_shell(const struct bstate *st)
{
	json_t *sh = json_get_arr(json_get_obj(st->img, "config"), "Shell");
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *s;
	json_array_foreach(sh, i, s)
		if (json_is_string(s))
			strv_push(&v, xstrdup(json_string_value(s)));
	if (!v[0]) {
		strv_push(&v, xstrdup("/bin/sh"));
		strv_push(&v, xstrdup("-c"));
	}
	return v;
}

char *bx_join(char *const *v, const char *sep)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	for (size_t i = 0; v && v[i]; i++)
		sb_printf(&sb, "%s%s", i ? sep : "", v[i]);
	return sb_steal(&sb);
}

/* What a RUN step's container is given, and what to undo after it. */
struct run_prep {
	char **mounts, **tmpfs;
	int *locks; /* sharing=locked cache mounts */
	size_t nlocks;
	char *pipes_dir; /* the #! heredoc's file, under build-cache/tmp */
};

static void run_prep_release(struct bx *b, struct run_prep *p)
{
	strv_free(p->mounts);
	strv_free(p->tmpfs);
	for (size_t i = 0; i < p->nlocks; i++)
		lock_release(p->locks[i]);
	free(p->locks);
	if (p->pipes_dir) {
		_cleanup_error_ struct scow_error *e = NULL;
		fs_rm_rf_at(b->cache_fd, p->pipes_dir, &e);
		free(p->pipes_dir);
	}
}

static int check_mount_path(const char *p, struct scow_error **err)
{
	if (strchr(p, ','))
		return error_set(err, EINVAL, "mount path %s: a ',' cannot be passed on", p);
	return 0;
}

static int cache_mount(struct bx *b, const struct df_mount *m, struct run_prep *p,
		       struct scow_error **err)
{
	const char *id = m->id && *m->id ? m->id : m->target;
	char d[DIGEST_STR_LEN + 1];
	sha256_digest(id, strlen(id), d);
	char name[40];
	snprintf(name, sizeof(name), "%.32s", digest_hex(d));
	_cleanup_close_ int mounts = fs_open_dir_at(b->cache_fd, "mounts", true, 0700, err);
	if (mounts < 0)
		return -1;
	if (mkdirat(mounts, name, m->has_mode ? m->mode : 0755) == 0) {
		/* new: its owner and mode as asked (mkdir's mode has the umask) */
		if (fchownat(mounts, name, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0,
			     AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(mounts, name, m->has_mode ? m->mode : 0755, 0) < 0)
			return error_errno(err, "cache mount %s", id);
	} else if (errno != EEXIST) {
		return error_errno(err, "create the cache mount %s", id);
	}
	if (m->sharing == DF_SHARING_LOCKED) {
		_cleanup_free_ char *lk = xasprintf("%s.lock", name);
		int fd = lock_acquire(mounts, lk, LOCK_MODE_EXCLUSIVE, false, err);
		if (fd < 0)
			return -1;
		p->locks = xrealloc(p->locks, (p->nlocks + 1) * sizeof(int));
		p->locks[p->nlocks++] = fd;
	}
	_cleanup_free_ char *src = xasprintf("%s/mounts/%s", b->cache_path, name);
	if (check_mount_path(src, err) < 0 || check_mount_path(m->target, err) < 0)
		return -1;
	strv_push(&p->mounts, xasprintf("type=bind,source=%s,target=%s%s", src, m->target,
					m->readonly ? ",readonly" : ""));
	return 0;
}

static int bind_mount(struct bx *b, const struct df_mount *m, int from_stage, struct run_prep *p,
		      struct scow_error **err)
{
	if (m->from || from_stage >= 0)
		return error_set(err, ENOTSUP,
				 "RUN --mount=type=bind,from=%s: binds from a stage or an image are "
				 "not supported yet",
				 m->from ? m->from : "?");
	if (!m->readonly)
		return error_set(err, ENOTSUP, "RUN --mount=type=bind,rw: writable binds of the "
					       "context are not supported");
	if (b->ctx_fd < 0)
		return error_set(err, ENOENT, "RUN --mount=type=bind: there is no build context");
	_cleanup_free_ char *real = NULL;
	bool exists;
	if (bx_resolve(b->ctx_fd, m->source ? m->source : ".", true, &real, &exists, NULL, err) < 0)
		return -1;
	if (!exists || dockerignore_excluded(b->di, real))
		return error_set(err, ENOENT, "RUN --mount=type=bind: %s: not found in the build "
					      "context",
				 m->source ? m->source : ".");
	_cleanup_free_ char *src = *real ? xasprintf("%s/%s", b->o->context, real)
					 : xstrdup(b->o->context);
	if (check_mount_path(src, err) < 0 || check_mount_path(m->target, err) < 0)
		return -1;
	strv_push(&p->mounts, xasprintf("type=bind,source=%s,target=%s,readonly", src, m->target));
	return 0;
}

static int prepare_mounts(struct bx *b, const struct build_step *step, struct run_prep *p,
			  struct scow_error **err)
{
	p->mounts = xcalloc(1, sizeof(char *));
	p->tmpfs = xcalloc(1, sizeof(char *));
	const struct df_instruction *in = step->ins;
	for (size_t i = 0; i < in->run.nmounts; i++) {
		const struct df_mount *m = &in->run.mounts[i];
		if (!m->target && m->type != DF_MOUNT_SECRET && m->type != DF_MOUNT_SSH)
			return error_set(err, EINVAL, "RUN --mount: a target is required");
		switch (m->type) {
		case DF_MOUNT_CACHE:
			if (cache_mount(b, m, p, err) < 0)
				return -1;
			break;
		case DF_MOUNT_TMPFS:
			if (m->size)
				strv_push(&p->tmpfs, xasprintf("%s:size=%lld", m->target, m->size));
			else
				strv_push(&p->tmpfs, xstrdup(m->target));
			break;
		case DF_MOUNT_BIND:
			if (bind_mount(b, m, step->mount_stages ? step->mount_stages[i] : -1, p,
				       err) < 0)
				return -1;
			break;
		case DF_MOUNT_SECRET:
		case DF_MOUNT_SSH:
			if (m->required)
				return error_set(err, ENOTSUP, "RUN --mount=type=%s: secrets and ssh "
							       "agents are not supported",
						 m->type == DF_MOUNT_SECRET ? "secret" : "ssh");
			log_warn("RUN --mount=type=%s: not supported, left out",
				 m->type == DF_MOUNT_SECRET ? "secret" : "ssh");
			break;
		}
	}
	/* A "#!" heredoc: the script as an executable file. */
	if (step->run.inline_path) {
		char rnd[9];
		fs_random_hex(rnd, 4);
		_cleanup_close_ int tmp = fs_open_dir_at(b->cache_fd, "tmp", true, 0700, err);
		if (tmp < 0)
			return -1;
		p->pipes_dir = xasprintf("tmp/pipes-%s", rnd);
		_cleanup_close_ int dfd = fs_open_dir_at(b->cache_fd, p->pipes_dir, true, 0755, err);
		if (dfd < 0)
			return -1;
		const char *path = step->run.inline_path;
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		_cleanup_free_ char *dir = xstrndup(path, (size_t)(base - path));
		_cleanup_close_ int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
		const char *data = step->run.inline_data ? step->run.inline_data : "";
		if (fd < 0 || fs_write_all(fd, data, strlen(data)) < 0 || fchmod(fd, 0755) < 0)
			return error_errno(err, "write the heredoc script");
		_cleanup_free_ char *src = xasprintf("%s/%s", b->cache_path, p->pipes_dir);
		if (check_mount_path(src, err) < 0)
			return -1;
		strv_push(&p->mounts, xasprintf("type=bind,source=%s,target=%s,readonly", src,
						*dir ? dir : "/"));
	}
	return 0;
}

static char **run_argv(const struct bstate *st, const struct build_step *step)
{
	if (step->run.inline_path) {
		char **v = xcalloc(2, sizeof(char *));
		v[0] = xstrdup(step->run.inline_path);
		return v;
	}
	if (!step->run.prepend_shell)
		return strv_copy(step->run.argv);
	char **v = bx_shell(st);
	if (step->run.argv && step->run.argv[0])
		strv_push(&v, xstrdup(step->run.argv[0]));
	return v;
}

/* Docker's history text: "|N K=V ... " before the command when the step
 * sees build args. */
static char *run_created_by(const struct build_step *step, char *const *argv)
{
	_cleanup_free_ char *cmd = bx_join(argv, " ");
	size_t n = strv_len(step->run_args);
	if (!n)
		return steal_ptr(&cmd);
	_cleanup_free_ char *args = bx_join(step->run_args, " ");
	return xasprintf("|%zu %s %s", n, args, cmd);
}

static int devnull(void)
{
	return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Runs the container; 0 when the command succeeded. */
static int run_container(struct bx *b, const char *cid, char *const *argv,
			 struct scow_error **err)
{
	const struct build_runner *r = &b->o->runner;
	if (bx_interrupted(b, err))
		return -1;
	fflush(b->out);
	_cleanup_close_ int null = b->o->quiet ? devnull() : -1;
	int out = b->o->quiet ? null : fileno(b->out);
	int code = r->start(r->opaque, cid, out, out, err);
	if (code < 0)
		return -1;
	if (code != 0) {
		_cleanup_free_ char *cmd = bx_join(argv, " ");
		error_set(err, EIO, "The command '%s' returned a non-zero code: %d", cmd, code);
		return error_set_exit(err, 1);
	}
	return 0;
}

static void remove_container(struct bx *b, const char *cid)
{
	const struct build_runner *r = &b->o->runner;
	_cleanup_error_ struct scow_error *e = NULL;
	if (!b->o->quiet)
		fprintf(b->out, "Removing intermediate container %.12s\n", cid);
	if (r->remove(r->opaque, cid, &e) < 0)
		log_warn("remove the intermediate container %.12s: %s", cid, e->msg);
}

int bx_step_run(struct bx *b, struct bstate *st, const struct build_step *step, bool *ret_cached,
		struct scow_error **err)
{
	const struct df_instruction *in = step->ins;
	if (in->run.security && strcmp(in->run.security, "sandbox") != 0)
		return error_set(err, ENOTSUP, "RUN --security=%s is not supported", in->run.security);
	_cleanup_strv_ char **argv = run_argv(st, step);
	if (!argv[0])
		return error_set(err, EINVAL, "RUN: no command given");
	_cleanup_free_ char *created_by = run_created_by(step, argv);
	const char *net = in->run.network ? in->run.network : b->o->network;
	_cleanup_free_ char *source = df_instruction_source(in);
	_cleanup_free_ char *envs = bx_join(step->env, "\n");
	const char *parts[] = {"RUN", source, created_by, net, envs, NULL};
	_cleanup_free_ char *key = bx_cache_key(b, st, parts);
	char cached[DIGEST_STR_LEN + 1];
	if (bx_cache_get(b, key, cached) == 1) {
		*ret_cached = true;
		return bstate_load(b, cached, st, err);
	}
	struct run_prep prep = {0};
	if (prepare_mounts(b, step, &prep, err) < 0) {
		run_prep_release(b, &prep);
		return -1;
	}
	const struct build_runner *r = &b->o->runner;
	struct build_run_req req = {.image_id = st->id, .argv = argv, .env = step->env,
				    .network = net, .mounts = prep.mounts, .tmpfs = prep.tmpfs};
	char cid[BUILD_CONTAINER_ID_LEN + 1];
	if (r->create(r->opaque, &req, cid, err) < 0) {
		run_prep_release(b, &prep);
		return -1;
	}
	if (!b->o->quiet)
		fprintf(b->out, " ---> Running in %.12s\n", cid);
	int rc = run_container(b, cid, argv, err);
	run_prep_release(b, &prep);
	if (rc < 0) {
		if (b->o->force_rm)
			remove_container(b, cid);
		return -1;
	}
	struct layer_info li;
	bool empty = false;
	_cleanup_close_ int upper = r->upper_fd(r->opaque, cid, err);
	int res = upper < 0 ? -1 : bx_layer_from_upper(b, upper, st, &li, &empty, err);
	closep(&upper);
	if (b->o->rm || b->o->force_rm)
		remove_container(b, cid);
	if (res < 0)
		return -1;
	if (bx_commit(b, st, bx_config_copy(st), empty ? NULL : &li, created_by, err) < 0)
		return -1;
	bx_cache_put(b, key, st->id);
	return 0;
}
