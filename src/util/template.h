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
 * on a non-object is an execution error, as in Go.
 *
 * Also: {{break}}/{{continue}}, {{range $i, $e = ...}}, {{range N}} and
 * {{else with}} (newer Go), {{range}} over an object in sorted key order,
 * printf with Go's verbs, flags, width, precision, '*' and [n] indexes.
 * Values follow json.Unmarshal into interface{}, with these differences:
 * JSON integers stay integers (Go has float64: 1000000 prints as 1000000,
 * not 1e+06), null prints "<nil>" as Docker's typed nil pointers do, numbers
 * compare across integer and real, float verbs take integers and %d takes
 * integral reals, join takes any JSON array and truncate counts runes.
 * Not supported: {{define}}, {{template}}, {{block}}, complex numbers,
 * methods and the "call" function (JSON has no functions).
 *
 * Messages are Go's: parse errors "template: :LINE: ...", execution errors
 * "template: :LINE:COL: executing \"\" at <NODE>: ...". All are EINVAL; none
 * is printed. A parsed template is not changed by execution and can render
 * any number of rows. */
#pragma once

#include <jansson.h>

#include "util/error.h"
#include "util/strutil.h"

struct tmpl;

/* Parses text; on error the message names the position as Go does
 * ("template: :1: unexpected \"}\" in operand"). */
struct tmpl *tmpl_parse(const char *text, struct scow_error **err);
/* Appends the output for data to out (data NULL: no value). On error out
 * is left as it was: partial output is dropped. */
int tmpl_execute(const struct tmpl *t, json_t *data, struct strbuf *out, struct scow_error **err);
/* A table's header row: headers maps field names to column titles, and
 * json, join, lower, pad, split, title, truncate and upper pass their
 * first argument through, as Docker's header functions do. */
int tmpl_execute_header(const struct tmpl *t, json_t *headers, struct strbuf *out,
			struct scow_error **err);
void tmpl_free(struct tmpl *t);
