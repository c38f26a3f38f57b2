/* Go text/template, as Docker's --format uses it, evaluated over JSON data.
 *
 * Supported: {{.Field}}, {{.A.B}}, {{.}}, $ and $var, {{$x := ...}},
 * {{$x = ...}}, pipelines with |, {{if}}/{{else if}}/{{else}}/{{end}},
 * {{range}} (arrays, objects in key order, {{range $i, $e := ...}}),
 * {{with}}, {{/​* comments *​/}}, trim markers {{- and -}}, string, raw
 * string, char, number and bool literals, parenthesised pipelines, and
 * Docker's function set: json, join, split, title, lower, upper, pad,
 * truncate, print, printf, println, len, index, slice, not, and, or, eq, ne,
 * lt, le, gt, ge, html, js, urlquery.
 *
 * A missing field prints "<no value>" like Go's map lookups; a field access
 * on a non-object is an execution error, as in Go. */
#pragma once

#include <jansson.h>

#include "util/error.h"
#include "util/strutil.h"

struct tmpl;

/* Parses text; on error the message names the position as Go does
 * ("template: :1: unexpected \"}\" in operand"). */
struct tmpl *tmpl_parse(const char *text, struct scow_error **err);
/* Appends the output for data to out. */
int tmpl_execute(const struct tmpl *t, json_t *data, struct strbuf *out, struct scow_error **err);
void tmpl_free(struct tmpl *t);
