/* Capabilities by name, and the sets a container process gets. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* CAP_LAST_CAP of the running kernel (/proc/sys/kernel/cap_last_cap). */
int caps_last(void);
uint64_t caps_all(void);
/* "CAP_NET_ADMIN", "net_admin", "NET_ADMIN" -> bit number, or -1. */
int caps_from_name(const char *name);
const char *caps_name(int cap);
/* Docker's combination: default set, or all with privileged; drops (ALL
 * clears) then adds (ALL sets). Unknown names are errors. */
int caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *ret,
		 struct scow_error **err);
/* In the child: drop from the bounding set everything not in mask. */
int caps_drop_bounding(uint64_t mask, struct scow_error **err);
/* In the child, after setuid: effective = permitted = mask (root) or
 * nothing (other users); inheritable and ambient empty. */
int caps_apply(uint64_t mask, bool root, struct scow_error **err);
