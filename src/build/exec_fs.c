/* Paths inside a root (the context, an image's file system) and the
 * read-only merged view of an image's layers. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "layers/view.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define MAX_LINKS 40

/* Drops the last component of a relative path ("a/b" -> "a", "a" -> ""). */
static void pop_component(struct strbuf *real)
{
	if (!real->len)
		return;
	char *slash = strrchr(real->buf, '/');
	real->len = slash ? (size_t)(slash - real->buf) : 0;
	real->buf[real->len] = '\0';
}

/* Whether rest holds another component after its first one. */
static bool more_components(const char *p)
{
	for (; *p; p++)
		if (*p != '/')
			return true;
	return false;
}

int bx_resolve(int root_fd, const char *path, bool follow_last, char **ret_real, bool *ret_exists,
	       struct stat *ret_st, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf real = STRBUF_INIT;
	sb_append(&real, "");
	_cleanup_free_ char *rest = xstrdup(path);
	size_t pos = 0;
	int links = 0;
	bool exists = true;
	struct stat st;
	if (fstat(root_fd, &st) < 0)
		return error_errno(err, "stat the root");
	for (;;) {
		while (rest[pos] == '/')
			pos++;
		if (!rest[pos])
			break;
		size_t end = pos;
		while (rest[end] && rest[end] != '/')
			end++;
		_cleanup_free_ char *comp = xstrndup(rest + pos, end - pos);
		pos = end;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			pop_component(&real);
			if (exists && fstatat(root_fd, real.len ? real.buf : ".", &st,
					      AT_SYMLINK_NOFOLLOW) < 0)
				return error_errno(err, "stat /%s", real.buf);
			continue;
		}
		if (!exists) {
			sb_printf(&real, "%s%s", real.len ? "/" : "", comp);
			continue;
		}
		_cleanup_free_ char *cand = real.len ? xasprintf("%s/%s", real.buf, comp) : xstrdup(comp);
		if (fstatat(root_fd, cand, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return error_errno(err, "stat /%s", cand);
			exists = false;
			sb_printf(&real, "%s%s", real.len ? "/" : "", comp);
			continue;
		}
		bool last = !more_components(rest + pos);
		if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
			if (++links > MAX_LINKS)
				return error_set(err, ELOOP, "/%s: too many levels of symbolic links", cand);
			char target[PATH_MAX];
			ssize_t n = readlinkat(root_fd, cand, target, sizeof(target) - 1);
			if (n < 0)
				return error_errno(err, "readlink /%s", cand);
			target[n] = '\0';
			char *next = xasprintf("%s%s", target, rest + pos);
			free(rest);
			rest = next;
			pos = 0;
			if (target[0] == '/')
				sb_reset(&real), sb_append(&real, "");
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode))
			return error_set(err, ENOTDIR, "/%s: not a directory", cand);
		sb_printf(&real, "%s%s", real.len ? "/" : "", comp);
	}
	*ret_real = sb_steal(&real);
	if (ret_exists)
		*ret_exists = exists;
	if (ret_st)
		*ret_st = st;
	return 0;
}

static int empty_dir(struct bx *b, struct scow_error **err)
{
	if (mkdirat(b->cache_fd, "empty", 0755) < 0 && errno != EEXIST)
		return error_errno(err, "create %s/empty", b->cache_path);
	return 0;
}

static void view_close(struct bx *b, int slot)
{
	closep(&b->view_fd[slot]);
	b->view_fd[slot] = -1;
	b->view_id[slot][0] = '\0';
}

void bx_view_close(struct bx *b)
{
	view_close(b, 0);
	view_close(b, 1);
}

int bx_view(struct bx *b, const struct bstate *st, int slot, struct scow_error **err)
{
	size_t n = json_array_size(st->layers);
	const char *top = n ? json_string_value(json_array_get(st->layers, n - 1)) : "";
	if (b->view_fd[slot] >= 0 && strcmp(b->view_id[slot], top) == 0)
		return b->view_fd[slot];
	view_close(b, slot);
	if (empty_dir(b, err) < 0)
		return -1;
	if (n == 0) {
		b->view_fd[slot] = openat(b->cache_fd, "empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (b->view_fd[slot] < 0)
			return error_errno(err, "open %s/empty", b->cache_path);
		return b->view_fd[slot];
	}
	char **lowers = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		lowers[i] = layer_diff_path(&b->is->layers,
					    json_string_value(json_array_get(st->layers, n - 1 - i)));
	if (n == 1)
		lowers[1] = xasprintf("%s/empty", b->cache_path);
	int fd = layers_view_mount(lowers, b->o->rootless, err);
	strv_free(lowers);
	if (fd < 0)
		return error_wrap(err, "the image's file system");
	b->view_fd[slot] = fd;
	snprintf(b->view_id[slot], sizeof(b->view_id[slot]), "%s", top);
	return fd;
}

bool bx_has_wildcard(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* fnmatch(3) reads Go's "[^...]" as "[!...]" only with this rewrite. */
bool bx_match(const char *pattern, const char *name)
{
	_cleanup_free_ char *p = xstrdup(pattern);
	for (char *c = p; *c; c++) {
		if (*c == '\\' && c[1]) {
			c++;
			continue;
		}
		if (*c == '[' && c[1] == '^')
			c[1] = '!';
	}
	return fnmatch(p, name, 0) == 0;
}
