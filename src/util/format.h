/* Output of list and inspect commands, as Docker prints it:
 *   - no --format or "table": the command's default table;
 *   - "table TEMPLATE": a table with headers from TEMPLATE;
 *   - "json": each row as one line of JSON;
 *   - TEMPLATE: each row rendered, one per line.
 * Tables are aligned like Go's tabwriter with Docker's settings (minimum
 * cell width 10, padding 3). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"

/* rows: array of objects; headers: object mapping each field name to its
 * column header ("ID" -> "IMAGE ID"). */
int format_rows(FILE *out, const char *format, const char *default_table, json_t *headers,
		json_t *rows, struct scow_error **err);
/* Aligns tab-separated lines. */
void format_tabwriter(FILE *out, char **lines, size_t n);
/* inspect: the array as Docker prints it (4-space indent, HTML-safe
 * escapes), or each element through format. */
int format_inspect(FILE *out, const char *format, json_t *items, struct scow_error **err);
/* Compact JSON with Go's HTML escaping (<, >, & as \u003c ...). */
char *format_json_go(const json_t *j, size_t flags);
/* First n characters (runes) then "…" when longer (Docker's Ellipsis). */
char *format_ellipsis(const char *s, size_t n);
