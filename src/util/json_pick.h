/* Picking a few members out of a large JSON object without parsing the
 * rest: `ps` over a thousand container records needs seven fields of
 * each 1.5 KB config.json, and building whole jansson trees was most of
 * its time. Only the picked values are parsed (with jansson); the rest is
 * scanned over. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

/* An object holding the members of the top-level object in buf named by
 * keys (NULL-terminated). A key "A.B" picks member B of object member A
 * (one level of nesting), giving {"A": {"B": ...}}. Missing members are
 * left out. Malformed JSON is an error (EINVAL). */
json_t *json_pick(const char *buf, size_t len, const char *const *keys, struct scow_error **err);
