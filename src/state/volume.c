#include "state/volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define VOLUME_JSON_MAX (1u << 20)

int volume_name_check(const char *name, struct scow_error **err)
{
	/* Docker's pattern wants two characters at least. */
	if (!str_is_object_name(name, 2, 255))
		return error_set(err, EINVAL,
				 "create %.300s: \"%.300s\" includes invalid characters for a local "
				 "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
				 "intended to pass a host directory, use absolute path",
				 name, name);
	return 0;
}

char *volume_data_path(const char *root, const char *name)
{
	return xasprintf("%s/volumes/%s/_data", root, name);
}

static int volumes_dir(const char *root, struct scow_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/volumes", root);
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? error_errno(err, "open %s", dir) : fd;
}

json_t *volume_load(const char *root, const char *name, struct scow_error **err)
{
	_cleanup_close_ int dfd = volumes_dir(root, err);
	if (dfd < 0)
		return NULL;
	char rel[300];
	snprintf(rel, sizeof(rel), "%s/volume.json", name);
	if (strchr(name, '/') || !fs_exists_at(dfd, rel)) {
		error_set(err, ENOENT, "get %s: no such volume", name);
		return NULL;
	}
	return json_load_at(dfd, rel, VOLUME_JSON_MAX, err);
}

int volume_create(const char *root, const char *name, json_t *labels, json_t *options,
		  bool anonymous, char **ret_name, struct scow_error **err)
{
	char generated[65];
	if (!name) {
		fs_random_hex(generated, 32);
		name = generated;
	} else if (volume_name_check(name, err) < 0) {
		return -1;
	}
	_cleanup_close_ int dfd = volumes_dir(root, err);
	if (dfd < 0)
		return -1;
	if (mkdirat(dfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return error_errno(err, "create volume %s", name);
		/* Exists: Docker hands back the same volume. A directory
		 * without volume.json is a creation killed halfway: finish it. */
		char rel[300];
		snprintf(rel, sizeof(rel), "%s/volume.json", name);
		if (fs_exists_at(dfd, rel)) {
			*ret_name = xstrdup(name);
			return 0;
		}
	}
	_cleanup_close_ int vfd = fs_open_dir_at(dfd, name, false, 0, err);
	if (vfd < 0 || (mkdirat(vfd, "_data", 0755) < 0 && errno != EEXIST))
		return vfd < 0 ? -1 : error_errno(err, "create volume %s", name);
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	_cleanup_free_ char *mp = volume_data_path(root, name);
	_cleanup_json_ json_t *j = json_pack(
		"{ss ss ss ss so so ss sb}", "Name", name, "Driver", "local", "Mountpoint", mp,
		"CreatedAt", now, "Labels", labels ? json_incref(labels) : json_object(), "Options",
		options ? json_incref(options) : json_object(), "Scope", "local", "Anonymous",
		anonymous);
	if (json_save_at(vfd, "volume.json", j, err) < 0)
		return -1;
	*ret_name = xstrdup(name);
	return 0;
}

int volume_list(const char *root, char ***ret, struct scow_error **err)
{
	int dfd = volumes_dir(root, err);
	if (dfd < 0)
		return -1;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "read volumes");
	}
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d))) {
		char rel[300];
		snprintf(rel, sizeof(rel), "%s/volume.json", de->d_name);
		if (de->d_name[0] != '.' && fs_exists_at(dirfd(d), rel))
			strv_push(&v, xstrdup(de->d_name));
	}
	strv_sort(v);
	*ret = v;
	return 0;
}

static bool mounts_volume(json_t *config, const char *name)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_get_arr(json_get_obj(config, "Scow"), "Mounts"), i, m)
		if (str_eq(json_get_str(m, "Kind"), "volume") && str_eq(json_get_str(m, "Source"), name))
			return true;
	return false;
}

char **volume_users(struct container_store *cs, const char *name)
{
	char **users = xcalloc(1, sizeof(char *));
	_cleanup_strv_ char **ids = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_list(cs, &ids, &e) < 0)
		return users;
	for (size_t i = 0; ids[i]; i++) {
		struct container c;
		if (container_load(cs, ids[i], false, &c, &e) < 0) {
			error_freep(&e);
			continue;
		}
		if (mounts_volume(c.config, name))
			strv_push(&users, xstrdup(c.id));
		container_release(&c);
	}
	return users;
}

int volume_remove(struct container_store *cs, const char *root, const char *name,
		  struct scow_error **err)
{
	_cleanup_json_ json_t *v = volume_load(root, name, err);
	if (!v)
		return -1;
	_cleanup_strv_ char **users = volume_users(cs, name);
	if (users[0])
		return error_set(err, EBUSY, "remove %s: volume is in use - [%s]", name, users[0]);
	_cleanup_close_ int dfd = volumes_dir(root, err);
	if (dfd < 0)
		return -1;
	/* Renamed away first: a half-removed volume is never seen. */
	char del[300];
	snprintf(del, sizeof(del), ".del-%s", name);
	if (renameat(dfd, name, dfd, del) < 0)
		return error_errno(err, "remove volume %s", name);
	return fs_rm_rf_at(dfd, del, err);
}

char **volume_anonymous_of(json_t *config)
{
	char **names = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *m;
	json_array_foreach(json_get_arr(json_get_obj(config, "Scow"), "Mounts"), i, m)
		if (str_eq(json_get_str(m, "Kind"), "volume") && json_get_bool(m, "Anonymous", false) &&
		    json_get_str(m, "Source"))
			strv_push(&names, xstrdup(json_get_str(m, "Source")));
	return names;
}

void volume_remove_unused(struct container_store *cs, char **names)
{
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (volume_remove(cs, cs->root, names[i], &e) < 0 && e->errnum != ENOENT &&
		    e->errnum != EBUSY)
			log_warn("remove volume %s: %s", names[i], e->msg);
	}
}
