/* scow cp / container cp: Docker's `docker cp`, with its path rules
 * (github.com/docker/docker/pkg/archive/copy.go):
 *  - a directory copied to an existing directory goes inside it; SRC/.
 *    copies what is inside SRC;
 *  - a file onto an existing file overwrites it; onto a missing DEST
 *    creates it; DEST ending in "/" must then be an existing directory;
 *  - a directory onto an existing file is an error;
 *  - symlinks in DEST are followed (inside the container for a container
 *    path); SRC's last component is followed only with -L or when SRC ends
 *    in "/" or "/.", and the copy keeps SRC's name.
 * Copies into a container are owned by its root, copies out by the caller,
 * unless -a keeps the source's uid/gid. See cp.h for how the container side
 * is kept from redirecting anything onto the host. */
#include "cmd/cp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cmd/common.h"
#include "cmd/containers.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fscopy.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_cp_opts[] = {
	{"archive", 'a', OPT_BOOL, NULL, "Archive mode (copy all uid/gid information)", NULL},
	{"follow-link", 'L', OPT_BOOL, NULL, "Always follow symbol link in SRC_PATH", NULL},
	{"quiet", 'q', OPT_BOOL, NULL,
	 "Suppress progress output during copy. Progress output is automatically suppressed if no "
	 "terminal is attached",
	 NULL},
	OPT_END,
};

/* Errors Docker's daemon reports get its prefix (and no "scow: "). */
#define DAEMON "Error response from daemon: "

/* Docker follows at most this many symlinks in a destination path. */
#define MAX_LINKS 10

/* One side of the copy: the host (root < 0: paths used as the user gave
 * them) or the container (paths resolved below root, inside it). */
struct side {
	int root;
	const char *ctr; /* the container as the user named it, for messages */
};

/* A file found on one side: the directory holding it and its name there
 * ("." when dfd is the file itself, a directory). */
struct loc {
	int dfd;
	char *name;
	char *path; /* where it was found, after following symlinks */
	bool exists;
	struct stat st;
};

static void loc_release(struct loc *l)
{
	closep(&l->dfd);
	l->dfd = -1;
	free(l->name);
	free(l->path);
	l->name = l->path = NULL;
}

static bool asserts_dir(const char *path)
{
	return str_ends_with(path, "/") || str_ends_with(path, "/.") || strcmp(path, ".") == 0;
}

static bool current_dir(const char *path)
{
	return str_ends_with(path, "/.") || strcmp(path, ".") == 0;
}

/* A container path, relative to its root ("." for "/"): Docker takes
 * "etc/x" as "/etc/x" and cleans ".." lexically. */
static char *in_root(const char *path)
{
	_cleanup_free_ char *abs = xasprintf("/%s", path);
	_cleanup_free_ char *clean = fs_path_clean(abs);
	return xstrdup(clean[1] ? clean + 1 : ".");
}

static int side_open(const struct side *s, const char *path, int flags)
{
	if (s->root < 0)
		return openat(AT_FDCWD, path, flags | O_CLOEXEC);
	_cleanup_free_ char *rel = in_root(path);
	return fs_openat2(s->root, rel, flags, CP_IN_ROOT);
}

/* Docker's SplitPathDirEntry on the cleaned path: "/a/b" -> "/a" "b",
 * "b" -> "." "b", "/" -> "/" "/". */
static void split_path(const char *path, char **ret_dir, char **ret_base)
{
	_cleanup_free_ char *clean = fs_path_clean(*path ? path : ".");
	char *slash = strrchr(clean, '/');
	if (!slash) {
		*ret_dir = xstrdup(".");
		*ret_base = xstrdup(clean);
	} else if (slash == clean) {
		*ret_dir = xstrdup("/");
		*ret_base = xstrdup(clean[1] ? clean + 1 : "/");
	} else {
		*ret_dir = xstrndup(clean, (size_t)(slash - clean));
		*ret_base = xstrdup(slash + 1);
	}
}

/* Finds path without following its last component. -1 with errno when
 * its directory cannot be opened or the stat fails otherwise than ENOENT. */
static int loc_at(const struct side *s, const char *path, struct loc *l)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	split_path(path, &dir, &base);
	bool self = strcmp(base, "/") == 0 || strcmp(base, ".") == 0;
	*l = (struct loc){.dfd = side_open(s, self ? path : dir, O_PATH | O_DIRECTORY),
			  .name = xstrdup(self ? "." : base),
			  .path = xstrdup(path)};
	if (l->dfd < 0)
		return -1;
	l->exists = fstatat(l->dfd, l->name, &l->st, AT_SYMLINK_NOFOLLOW) == 0;
	return l->exists || errno == ENOENT ? 0 : -1;
}

/* Finds path following symlinks in its last component too, as Docker's
 * CopyInfoDestinationPath does (a dangling link names what to create).
 * On failure l->path is the path (a link's target) that was not found. */
static int loc_follow(const struct side *s, const char *path, struct loc *l)
{
	_cleanup_free_ char *cur = xstrdup(path);
	for (int n = 0;; n++) {
		if (loc_at(s, cur, l) < 0)
			return -1;
		if (!l->exists || !S_ISLNK(l->st.st_mode))
			return 0;
		char target[PATH_MAX];
		ssize_t len = n < MAX_LINKS ? readlinkat(l->dfd, l->name, target, sizeof(target) - 1)
					    : (errno = ELOOP, -1);
		if (len < 0) {
			loc_release(l);
			return -1;
		}
		target[len] = '\0';
		_cleanup_free_ char *dir = NULL, *base = NULL;
		split_path(cur, &dir, &base);
		free(cur);
		cur = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dir, target);
		loc_release(l);
	}
}

/* What to copy. */
struct src {
	struct loc l;
	char *base;    /* the name it gets at the destination */
	bool contents; /* SRC/. (or "/"): what is inside the directory */
};

static void src_release(struct src *s)
{
	loc_release(&s->l);
	free(s->base);
	s->base = NULL;
}

static char *abs_path(const char *path)
{
	if (path[0] == '/')
		return fs_path_clean(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return fs_path_clean(path);
	_cleanup_free_ char *joined = xasprintf("%s/%s", cwd, path);
	return fs_path_clean(joined);
}

/* Docker's resolveLocalPath for the host (absolute, cleaned) and "/" + the
 * path for the container, keeping a trailing "/" or "/." (they mean
 * something). A ".." never remains to be taken as a name. */
static char *normalize(const char *path, bool host)
{
	_cleanup_free_ char *rooted = host ? NULL : xasprintf("/%s", path);
	_cleanup_free_ char *clean = host ? abs_path(path) : fs_path_clean(rooted);
	const char *suffix = current_dir(path) ? "/." : str_ends_with(path, "/") ? "/" : "";
	if (strcmp(clean, "/") == 0)
		return xstrdup(strcmp(suffix, "/.") == 0 ? "/." : "/");
	return xasprintf("%s%s", clean, suffix);
}

static int side_error(const struct side *s, const char *path, int e, struct scow_error **err)
{
	if (s->root < 0) {
		_cleanup_free_ char *abs = abs_path(path);
		return error_set(err, e, "lstat %s: %s", abs, strerror(e));
	}
	if (e == ENOENT)
		return error_set(err, e, DAEMON "Could not find the file %s in container %s", path,
				 s->ctr);
	return error_set(err, e, DAEMON "%s in container %s: %s", path, s->ctr, strerror(e));
}

static int resolve_src(const struct side *s, const char *path, bool follow, struct src *ret,
		       struct scow_error **err)
{
	_cleanup_free_ char *dir = NULL;
	*ret = (struct src){.l = {.dfd = -1}};
	split_path(path, &dir, &ret->base);
	bool is_root = strcmp(ret->base, "/") == 0;
	int r;
	if (asserts_dir(path) || is_root) {
		/* "DIR/" and "DIR/.": the directory, symlinks followed (the
		 * daemon resolves a path ending in "/" entirely). */
		int fd = side_open(s, path, O_PATH | O_DIRECTORY);
		ret->l = (struct loc){.dfd = fd, .name = xstrdup("."), .path = xstrdup(path)};
		r = fd < 0 || fstat(fd, &ret->l.st) < 0 ? -1 : 0;
		ret->l.exists = r == 0;
		ret->contents = current_dir(path) || is_root;
	} else {
		r = follow ? loc_follow(s, path, &ret->l) : loc_at(s, path, &ret->l);
		if (r == 0 && !ret->l.exists)
			r = (errno = ENOENT, -1);
	}
	if (r < 0) {
		int e = errno;
		src_release(ret);
		return side_error(s, path, e, err);
	}
	return 0;
}

/* Docker's PrepareArchiveCopy: where the source goes, given what the
 * destination is. */
static int place(const struct src *s, const struct loc *d, bool dst_dir_asserted,
		 const struct fs_copy *how, struct scow_error **err)
{
	bool src_dir = S_ISDIR(s->l.st.st_mode);
	if (d->exists && S_ISDIR(d->st.st_mode)) {
		_cleanup_close_ int dir =
			openat(d->dfd, d->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir < 0)
			return error_errno(err, "open %s", d->path);
		if (s->contents)
			return fs_copy_contents(s->l.dfd, dir, how, err);
		return fs_copy_at(s->l.dfd, s->l.name, dir, s->base, how, err);
	}
	if (d->exists && src_dir)
		return error_set(err, EISDIR, "cannot copy directory");
	if (d->exists && !S_ISREG(d->st.st_mode))
		return error_set(err, EINVAL, "destination \"%s\" must be a directory or a regular file",
				 d->path);
	if (!d->exists && !src_dir && dst_dir_asserted)
		return error_set(err, ENOENT, "no such directory");
	return fs_copy_at(s->l.dfd, s->l.name, d->dfd, d->name, how, err);
}

/* Docker's ValidateOutputPath, before anything is copied. */
static int check_output_path(const char *path, struct scow_error **err)
{
	_cleanup_free_ char *abs = abs_path(path);
	_cleanup_free_ char *dir = NULL, *base = NULL;
	split_path(abs, &dir, &base);
	struct stat st;
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return error_set(err, ENOENT, "invalid output path: directory \"%s\" does not exist",
				 dir);
	if (stat(abs, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return error_set(err, EINVAL,
				 "invalid output path: \"%s\" must be a directory or a regular file",
				 abs);
	return 0;
}

/* What Docker's progress line counts, near enough: the bytes of the
 * regular files copied. */
static uint64_t src_size(const struct opts *o, const struct src *s)
{
	if (opt_bool(o, "quiet") || !isatty(STDERR_FILENO))
		return 0;
	if (S_ISDIR(s->l.st.st_mode))
		return fs_tree_size_at(s->l.dfd, s->l.name);
	return S_ISREG(s->l.st.st_mode) ? (uint64_t)s->l.st.st_size : 0;
}

static void report(const struct opts *o, uint64_t bytes, const char *to)
{
	if (opt_bool(o, "quiet") || !isatty(STDERR_FILENO))
		return;
	char size[32];
	size_human((double)bytes, size, sizeof(size));
	fprintf(stderr, "Successfully copied %s to %s\n", size, to);
}

static int copy_out(const struct side *ctr, const char *src, const char *dst, const struct opts *o,
		    struct scow_error **err)
{
	struct src s;
	if (resolve_src(ctr, src, opt_bool(o, "follow-link"), &s, err) < 0)
		return -1;
	int r;
	if (strcmp(dst, "-") == 0) {
		r = cp_tar_write(s.l.dfd, s.l.name, s.contents ? "." : s.base, STDOUT_FILENO, NULL,
				 err);
		src_release(&s);
		return r;
	}
	const struct side host = {.root = -1};
	struct loc d;
	if (loc_follow(&host, dst, &d) < 0) {
		int e = errno;
		src_release(&s);
		return side_error(&host, dst, e, err);
	}
	uint64_t bytes = src_size(o, &s);
	/* The container's files are read by fd, each checked to be what was
	 * stat'ed; its /proc, /sys and such come out empty, as from Docker;
	 * without -a the copies belong to the caller. */
	struct fs_copy how = {.flags = FS_COPY_TIMES | FS_COPY_SAME_FILE | FS_COPY_SKIP_KERNEL_FS};
	if (opt_bool(o, "archive"))
		how.flags |= FS_COPY_OWNER;
	r = place(&s, &d, asserts_dir(dst), &how, err);
	if (r == 0) {
		_cleanup_free_ char *abs = abs_path(dst);
		report(o, bytes, abs);
	}
	loc_release(&d);
	src_release(&s);
	return r;
}

/* Where a copy into the container writes must not be read-only: Docker
 * refuses a ReadonlyRootfs container (but for its volumes). */
static int check_writable(const struct loc *d, json_t *config, struct scow_error **err)
{
	struct statvfs sv;
	int fd = d->exists && S_ISDIR(d->st.st_mode)
			 ? openat(d->dfd, d->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			 : fcntl(d->dfd, F_DUPFD_CLOEXEC, 3);
	bool ro = fd >= 0 && fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
	if (fd >= 0)
		close(fd);
	if (!ro)
		return 0;
	if (json_get_bool(json_get_obj(config, "HostConfig"), "ReadonlyRootfs", false))
		return error_set(err, EROFS, DAEMON "container rootfs is marked read-only");
	return error_set(err, EROFS, DAEMON "%s: %s", d->path, strerror(EROFS));
}

static int copy_in_tar(struct scow_ctx *ctx, const struct side *ctr, const struct loc *d,
		       const char *shown, const struct opts *o, json_t *config,
		       struct scow_error **err)
{
	if (!d->exists || !S_ISDIR(d->st.st_mode))
		return error_set(err, ENOTDIR, "destination \"%s:%s\" must be a directory", ctr->ctr,
				 shown);
	if (check_writable(d, config, err) < 0)
		return -1;
	struct cp_untar_opts uo = {.keep_owner = opt_bool(o, "archive"), .chown = !ctx->rootless};
	return cp_tar_extract(ctr->root, d->path, STDIN_FILENO, &uo, err);
}

/* The destination's directory is missing: Docker's client says so for a
 * file that was to go into DEST/, its daemon names the directory. */
static int missing_parent(const struct side *ctr, const struct src *s, const struct loc *d,
			  const char *dst, struct scow_error **err)
{
	if (!S_ISDIR(s->l.st.st_mode) && asserts_dir(dst))
		return error_set(err, ENOENT, "no such directory");
	_cleanup_free_ char *dir = NULL, *base = NULL;
	split_path(d->path ? d->path : dst, &dir, &base);
	return side_error(ctr, dir, ENOENT, err);
}

/* dst: normalized; shown: as the user wrote it, for messages. */
static int copy_in(struct scow_ctx *ctx, const struct side *ctr, const char *src, const char *dst,
		   const char *shown, const struct opts *o, json_t *config, struct scow_error **err)
{
	struct loc d;
	bool found = loc_follow(ctr, dst, &d) == 0;
	if (!found && (errno != ENOENT || strcmp(src, "-") == 0)) {
		int e = errno;
		loc_release(&d);
		return strcmp(src, "-") == 0
			       ? error_set(err, e, "destination \"%s:%s\" must be a directory",
					   ctr->ctr, shown)
			       : side_error(ctr, dst, e, err);
	}
	int r;
	if (strcmp(src, "-") == 0) {
		r = copy_in_tar(ctx, ctr, &d, shown, o, config, err);
		loc_release(&d);
		return r;
	}
	const struct side host = {.root = -1};
	struct src s;
	r = resolve_src(&host, src, opt_bool(o, "follow-link"), &s, err);
	if (r == 0 && !found)
		r = missing_parent(ctr, &s, &d, dst, err);
	if (r < 0) {
		src_release(&s);
		loc_release(&d);
		return -1;
	}
	struct fs_copy how = {.flags = FS_COPY_TIMES};
	if (opt_bool(o, "archive"))
		how.flags |= FS_COPY_OWNER;
	else if (!ctx->rootless)
		how.chown_to = true; /* the container's root: uid and gid 0 */
	r = check_writable(&d, config, err);
	uint64_t bytes = src_size(o, &s);
	if (r == 0)
		r = place(&s, &d, asserts_dir(dst), &how, err);
	if (r == 0) {
		_cleanup_free_ char *to = xasprintf("%s:%s", ctr->ctr, d.path);
		report(o, bytes, to);
	}
	src_release(&s);
	loc_release(&d);
	return r;
}

/* Docker's splitCpArg: CONTAINER:PATH unless the argument is an absolute
 * path, has no ":", or starts with "." ("./file:name"). */
static char *split_arg(const char *arg, const char **ret_path)
{
	const char *colon = strchr(arg, ':');
	*ret_path = arg;
	if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg)
		return NULL;
	*ret_path = colon + 1;
	return xstrndup(arg, (size_t)(colon - arg));
}

static int fail(struct scow_error **err)
{
	if (*err && str_starts_with((*err)->msg, DAEMON)) {
		fflush(stdout);
		fprintf(stderr, "%s\n", (*err)->msg);
		error_freep(err);
		return 1;
	}
	return cmd_fail(err);
}

int cmd_cp(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *src, *dst;
	_cleanup_free_ char *src_ctr = split_arg(o->args[0], &src);
	_cleanup_free_ char *dst_ctr = split_arg(o->args[1], &dst);
	if (!*o->args[0])
		return error_set(err, EINVAL, "source can not be empty"), cmd_fail(err);
	if (!*o->args[1])
		return error_set(err, EINVAL, "destination can not be empty"), cmd_fail(err);
	if (src_ctr && dst_ctr)
		return error_set(err, EINVAL, "copying between containers is not supported"),
		       cmd_fail(err);
	if (!src_ctr && !dst_ctr)
		return error_set(err, EINVAL, "must specify at least one container source"),
		       cmd_fail(err);
	const char *ref = src_ctr ? src_ctr : dst_ctr;
	bool write = dst_ctr != NULL;
	/* "-" is stdin or stdout only on the host's side. */
	bool from_stdin = write && strcmp(src, "-") == 0;
	bool to_stdout = !write && strcmp(dst, "-") == 0;
	_cleanup_free_ char *src_n = from_stdin ? xstrdup("-") : normalize(src, write);
	_cleanup_free_ char *dst_n = to_stdout ? xstrdup("-") : normalize(dst, !write);
	if (!write && !to_stdout && check_output_path(dst_n, err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c;
	if (cmd_load_container(&cs, ref, false, &c, err) < 0) {
		container_store_close(&cs);
		if ((*err)->errnum == ENOENT) {
			_cleanup_free_ char *msg = xstrdup((*err)->msg);
			error_freep(err);
			error_set(err, ENOENT, DAEMON "%s", msg);
		}
		return fail(err);
	}
	struct cp_root root = {.fd = -1, .lock_fd = -1, .write_lock_fd = -1};
	int r = cp_root_open(ctx, &cs, &c, write, &root, err);
	if (r == 0 && write && !root.running &&
	    json_get_bool(json_get_obj(c.config, "HostConfig"), "ReadonlyRootfs", false))
		r = error_set(err, EROFS, DAEMON "container rootfs is marked read-only");
	if (r == 0) {
		const struct side ctr = {.root = root.fd, .ctr = ref};
		r = write ? copy_in(ctx, &ctr, src_n, dst_n, dst, o, c.config, err)
			  : copy_out(&ctr, src_n, dst_n, o, err);
	}
	cp_root_release(&root);
	container_release(&c);
	container_store_close(&cs);
	return r < 0 ? fail(err) : 0;
}
