/* jansson helpers: cleanup, atomic save, bounded load, typed getters. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* _cleanup_json_ (cleanup.h) uses jansson's own json_decrefp(). */

/* Parses at most max bytes from dirfd/name. */
json_t *json_load_at(int dirfd, const char *name, size_t max, struct scow_error **err);
json_t *json_parse_buf(const char *buf, size_t len, const char *what, struct scow_error **err);
/* Atomic (temp + fsync + rename + fsync dir), sorted keys, indented. */
int json_save_at(int dirfd, const char *name, json_t *j, struct scow_error **err);
/* Compact serialisation with sorted keys; caller frees. */
char *json_dump_compact(const json_t *j);

/* NULL (or the given default) when the member is missing or of another type. */
const char *json_get_str(const json_t *obj, const char *key);
long long json_get_int(const json_t *obj, const char *key, long long dflt);
bool json_get_bool(const json_t *obj, const char *key, bool dflt);
json_t *json_get_obj(const json_t *obj, const char *key);
json_t *json_get_arr(const json_t *obj, const char *key);
/* Sets key to a new string / int, stealing nothing. NULL s stores null. */
void json_set_str(json_t *obj, const char *key, const char *s);
void json_set_int(json_t *obj, const char *key, long long v);
