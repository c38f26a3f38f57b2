/* USER lookup in the container's own /etc/passwd and /etc/group (never
 * NSS), with size limits: those files come from the image. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary */
	size_t n_groups;
	char *home;
};

/* spec: "" (root), "name", "uid", "name:group", "uid:gid", ... resolved
 * against root_fd/etc/{passwd,group}; group_add: extra names or gids. Ids
 * above 2147483647 are refused: they never wrap to 0 (SECURITY.md 16). */
int user_resolve(int root_fd, const char *spec, char *const *group_add, struct user_ids *ret,
		 struct scow_error **err);
void user_ids_release(struct user_ids *u);
/* Checks the syntax and numeric ranges without any files (for create). */
int user_spec_check(const char *spec, struct scow_error **err);
