#include "ns/user.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define DB_MAX (4u << 20)
#define ID_MAX 2147483647LL
#define GROUPS_MAX 1024

/* The file's content, or "" when it does not exist. Only regular files
 * are read (a FIFO or /dev/zero planted as /etc/passwd cannot hang us). */
static int read_db(int root, const char *rel, char **ret, struct scow_error **err)
{
	_cleanup_close_ int fd = fs_openat2(root, rel, O_RDONLY | O_NONBLOCK,
					    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*ret = xstrdup("");
			return 0;
		}
		return error_errno(err, "open /%s", rel);
	}
	char what[32];
	snprintf(what, sizeof(what), "/%s", rel);
	return fs_read_fd(fd, what, DB_MAX, ret, NULL, err);
}

static bool parse_id(const char *s, long long *ret)
{
	return str_to_ll(s, 0, LLONG_MAX, ret);
}

static int check_id(const char *s, const char *what, long long *ret, struct scow_error **err)
{
	if (!parse_id(s, ret))
		return 1; /* not numeric: a name */
	if (*ret > ID_MAX)
		return error_set(err, EINVAL, "%s %s is out of range (0-%lld)", what, s, ID_MAX);
	return 0;
}

int user_spec_check(const char *spec, struct scow_error **err)
{
	if (!spec || !*spec)
		return 0;
	_cleanup_free_ char *u = xstrdup(spec);
	char *colon = strchr(u, ':');
	if (colon)
		*colon = '\0';
	long long v;
	if ((*u && check_id(u, "uid", &v, err) < 0) ||
	    (colon && check_id(colon + 1, "gid", &v, err) < 0))
		return -1;
	if (colon && !colon[1])
		return error_set(err, EINVAL, "invalid user \"%s\": empty group", spec);
	return 0;
}

/* Finds the line whose first field is key (or whose id field is key when
 * by_id) and splits it into fields. */
static char **db_find(const char *db, const char *key, size_t id_field, bool by_id,
		      size_t nfields)
{
	const char *p = db;
	while (*p) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		p += len + (p[len] == '\n');
		if (!*line || line[0] == '#')
			continue;
		char **f = strv_split(line, ':');
		if (strv_len(f) >= nfields && strcmp(f[by_id ? id_field : 0], key) == 0)
			return f;
		strv_free(f);
	}
	return NULL;
}

static void add_group(struct user_ids *u, gid_t g)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == g)
			return;
	if (u->n_groups >= GROUPS_MAX)
		return;
	u->groups = xrealloc(u->groups, (u->n_groups + 1) * sizeof(gid_t));
	u->groups[u->n_groups++] = g;
}

static int resolve_group(const char *groupdb, const char *g, gid_t *ret, struct scow_error **err)
{
	long long v;
	int r = check_id(g, "gid", &v, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		*ret = (gid_t)v;
		return 0;
	}
	_cleanup_strv_ char **f = db_find(groupdb, g, 0, false, 3);
	if (!f || check_id(f[2], "gid", &v, err) != 0)
		return *err ? -1
			    : error_set(err, ENOENT,
					"unable to find group %s: no matching entries in group file", g);
	*ret = (gid_t)v;
	return 0;
}

/* Groups whose member list names user. */
static void member_groups(const char *groupdb, const char *user, struct user_ids *u)
{
	const char *p = groupdb;
	while (*p) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		p += len + (p[len] == '\n');
		_cleanup_strv_ char **f = strv_split(line, ':');
		if (strv_len(f) < 4)
			continue;
		_cleanup_strv_ char **members = strv_split(f[3], ',');
		long long v;
		if (strv_contains(members, user) && parse_id(f[2], &v) && v <= ID_MAX)
			add_group(u, (gid_t)v);
	}
}

int user_resolve(int root_fd, const char *spec, char *const *group_add, struct user_ids *ret,
		 struct scow_error **err)
{
	if (user_spec_check(spec, err) < 0)
		return -1;
	_cleanup_free_ char *passwd = NULL, *groupdb = NULL;
	if (read_db(root_fd, "etc/passwd", &passwd, err) < 0 ||
	    read_db(root_fd, "etc/group", &groupdb, err) < 0)
		return -1;
	_cleanup_free_ char *u = xstrdup(spec && *spec ? spec : "0");
	char *colon = strchr(u, ':');
	if (colon)
		*colon++ = '\0';
	struct user_ids ids = {0};
	long long v;
	bool numeric = check_id(u, "uid", &v, err) == 0;
	_cleanup_strv_ char **pw = db_find(passwd, u, 2, numeric, 7);
	if (!pw && !numeric)
		return error_set(err, ENOENT, "unable to find user %s: no matching entries in passwd file",
				 u);
	if (pw) {
		long long uid, gid;
		if (check_id(pw[2], "uid", &uid, err) != 0 || check_id(pw[3], "gid", &gid, err) != 0)
			return *err ? -1 : error_set(err, EINVAL, "invalid passwd entry for %s", u);
		ids.uid = (uid_t)uid;
		ids.gid = (gid_t)gid;
		ids.home = xstrdup(*pw[5] ? pw[5] : "/");
		/* An explicit group replaces the supplementary ones, as in Docker. */
		if (!colon)
			member_groups(groupdb, pw[0], &ids);
	} else {
		ids.uid = (uid_t)v;
		ids.gid = 0;
		ids.home = xstrdup("/");
	}
	if (colon && resolve_group(groupdb, colon, &ids.gid, err) < 0) {
		user_ids_release(&ids);
		return -1;
	}
	/* The primary group is a supplementary group too, as Docker does since
	 * CVE-2022-36109 (a group denied by file modes stays denied). */
	gid_t *member = ids.groups;
	size_t n_member = ids.n_groups;
	ids.groups = NULL;
	ids.n_groups = 0;
	add_group(&ids, ids.gid);
	for (size_t i = 0; i < n_member; i++)
		add_group(&ids, member[i]);
	free(member);
	for (size_t i = 0; group_add && group_add[i]; i++) {
		gid_t g;
		if (resolve_group(groupdb, group_add[i], &g, err) < 0) {
			user_ids_release(&ids);
			return -1;
		}
		add_group(&ids, g);
	}
	*ret = ids;
	return 0;
}

void user_ids_release(struct user_ids *u)
{
	free(u->groups);
	free(u->home);
	u->groups = NULL;
	u->home = NULL;
	u->n_groups = 0;
}
