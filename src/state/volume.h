/* Named and anonymous volumes (Docker's "local" driver).
 *
 *   ROOT/volumes/<name>/_data        the content (plain directory volumes)
 *   ROOT/volumes/<name>/volume.json  {Name, Driver, Mountpoint, CreatedAt,
 *                                     Labels, Options, Scope, Anonymous}
 *
 * A volume with driver options (type=tmpfs, type=none,o=bind,device=/x,
 * type=ext4,device=/dev/sdb1) is mounted with them inside the container's
 * mount namespace at start; there is never a mount on the host to clean
 * up. Creation is atomic (mkdir of the volume's directory); which
 * containers use a volume comes from their records. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "state/container.h"
#include "util/error.h"

/* Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
int volume_name_check(const char *name, struct scow_error **err);
/* Creates the volume (or returns the existing one of that name, as Docker
 * does); name NULL makes an anonymous volume with a random name.
 * *ret_name gets the name. */
int volume_create(const char *root, const char *name, json_t *labels, json_t *options,
		  bool anonymous, char **ret_name, struct scow_error **err);
/* volume.json, or NULL (ENOENT: "no such volume"). */
json_t *volume_load(const char *root, const char *name, struct scow_error **err);
int volume_list(const char *root, char ***ret, struct scow_error **err);
/* Containers (ids) whose records mount the volume. */
char **volume_users(struct container_store *cs, const char *name);
/* Removes it; refused while a container uses it ("volume is in use"). */
int volume_remove(struct container_store *cs, const char *root, const char *name,
		  struct scow_error **err);
/* The host directory a plain volume's content lives in. */
char *volume_data_path(const char *root, const char *name);
/* The anonymous volumes a container's record mounts (Docker removes
 * them with the container for rm -v and --rm). */
char **volume_anonymous_of(json_t *config);
/* Removes each volume no container uses any more; failures are logged. */
void volume_remove_unused(struct container_store *cs, char **names);
