/* The volumes of a container being created: --volumes-from, and every
 * volume it mounts made to exist. */
#include <errno.h>
#include <string.h>

#include "cmd/containers.h"
#include "cmd/run.h"
#include "state/volume.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static bool target_taken(json_t *mounts, const char *target)
{
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m)
		if (str_eq(json_get_str(m, "Target"), target))
			return true;
	return false;
}

/* --volumes-from CONTAINER[:ro|rw]: its volume and bind mounts, on the same
 * targets, unless this container mounts something there itself. */
static int volumes_from(struct container_store *cs, const char *spec, json_t *mounts,
			struct scow_error **err)
{
	const char *colon = strrchr(spec, ':');
	_cleanup_free_ char *ref = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	const char *mode = colon ? colon + 1 : NULL;
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))
		return error_set(err, EINVAL, "invalid mode for volumes-from: %s", mode);
	struct container c;
	if (cmd_load_container(cs, ref, false, &c, err) < 0)
		return -1;
	size_t i;
	json_t *m;
	json_array_foreach(json_get_arr(json_get_obj(c.config, "Scow"), "Mounts"), i, m) {
		const char *kind = json_get_str(m, "Kind");
		if ((!str_eq(kind, "volume") && !str_eq(kind, "bind")) ||
		    target_taken(mounts, json_get_str(m, "Target")))
			continue;
		json_t *copy = json_deep_copy(m);
		if (mode)
			json_object_set_new(copy, "ReadOnly", json_boolean(strcmp(mode, "ro") == 0));
		/* The volume belongs to the other container: never removed
		 * with this one, never seeded again. */
		json_object_set_new(copy, "Anonymous", json_false());
		json_object_set_new(copy, "CopyUp", json_false());
		json_array_append_new(mounts, copy);
	}
	container_release(&c);
	return 0;
}

int container_volumes_prepare(struct container_store *cs, const struct opts *o, json_t *config,
			      char ***ret_created, struct scow_error **err)
{
	json_t *mounts = json_get_arr(json_get_obj(config, "Scow"), "Mounts");
	*ret_created = xcalloc(1, sizeof(char *));
	size_t n;
	const char *const *from = opt_list(o, "volumes-from", &n);
	for (size_t i = 0; i < n; i++)
		if (volumes_from(cs, from[i], mounts, err) < 0)
			return -1;
	json_t *recorded = n ? json_array() : json_null();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(recorded, json_string(from[i]));
	json_object_set_new(json_get_obj(config, "HostConfig"), "VolumesFrom", recorded);
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		if (!str_eq(json_get_str(m, "Kind"), "volume"))
			continue;
		const char *name = json_get_str(m, "Source");
		bool anonymous = !name;
		char *made = NULL;
		if (volume_create(cs->root, name, json_get_obj(m, "VolumeLabels"),
				  json_get_obj(m, "VolumeOptions"), anonymous, &made, err) < 0)
			return -1;
		json_set_str(m, "Source", made);
		json_object_del(m, "VolumeLabels");
		json_object_del(m, "VolumeOptions");
		if (anonymous)
			strv_push(ret_created, made);
		else
			free(made);
	}
	return 0;
}
