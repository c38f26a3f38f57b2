#include "util/format.h"

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/template.h"
#include "util/xalloc.h"

#define TAB_MINWIDTH 10
#define TAB_PADDING 3

static size_t utf8_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

void format_tabwriter(FILE *out, char **lines, size_t n)
{
	size_t *widths = NULL, ncols = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = lines[i];
		size_t col = 0;
		for (const char *tab; (tab = strchr(p, '\t')); p = tab + 1, col++) {
			void *w = widths;
			xgrow(&w, &cap, col + 1, sizeof(size_t));
			widths = w;
			if (col >= ncols) {
				widths[col] = TAB_MINWIDTH;
				ncols = col + 1;
			}
			size_t cw = utf8_width(p, (size_t)(tab - p)) + TAB_PADDING;
			if (cw > widths[col])
				widths[col] = cw;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = lines[i];
		size_t col = 0;
		for (const char *tab; (tab = strchr(p, '\t')); p = tab + 1, col++) {
			size_t len = (size_t)(tab - p);
			fwrite(p, 1, len, out);
			for (size_t k = utf8_width(p, len); k < widths[col]; k++)
				fputc(' ', out);
		}
		fputs(p, out);
		fputc('\n', out);
	}
	free(widths);
}

/* Go's encoder escapes these even inside strings; they cannot occur
 * outside strings in JSON, so a plain replacement is exact. */
static char *go_html_escape(const char *s)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		if (*s == '<')
			sb_append(&sb, "\\u003c");
		else if (*s == '>')
			sb_append(&sb, "\\u003e");
		else if (*s == '&')
			sb_append(&sb, "\\u0026");
		else
			sb_appendc(&sb, *s);
	}
	return sb_steal(&sb);
}

char *format_json_go(const json_t *j, size_t flags)
{
	_cleanup_free_ char *s = json_dumps(j, flags | JSON_ENCODE_ANY);
	if (!s)
		return xstrdup("null");
	return go_html_escape(s);
}

char *format_ellipsis(const char *s, size_t n)
{
	if (utf8_width(s, strlen(s)) <= n)
		return xstrdup(s);
	size_t bytes = 0, runes = 0;
	while (s[bytes] && runes < n - 1) {
		bytes++;
		while (((unsigned char)s[bytes] & 0xc0) == 0x80)
			bytes++;
		runes++;
	}
	return xasprintf("%.*s…", (int)bytes, s);
}

static int render_lines(const struct tmpl *t, json_t *rows, char ***lines,
			struct scow_error **err)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
		if (tmpl_execute(t, row, &sb, err) < 0)
			return -1;
		strv_push(lines, sb_steal(&sb));
	}
	return 0;
}

int format_rows(FILE *out, const char *format, const char *default_table, json_t *headers,
		json_t *rows, struct scow_error **err)
{
	if (!format || !*format || strcmp(format, "table") == 0)
		format = default_table;
	if (strcmp(format, "json") == 0) {
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			_cleanup_free_ char *s = format_json_go(row, JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, "%s\n", s);
		}
		return 0;
	}
	bool table = str_starts_with(format, "table ") || str_starts_with(format, "table\t");
	const char *body = table ? format + 6 : format;
	_cleanup_sb_ struct strbuf text = STRBUF_INIT;
	/* Docker lets users type "\t" for a tab in --format. */
	for (const char *p = body; *p; p++) {
		if (p[0] == '\\' && p[1] == 't') {
			sb_appendc(&text, '\t');
			p++;
		} else if (p[0] == '\\' && p[1] == 'n') {
			sb_appendc(&text, '\n');
			p++;
		} else {
			sb_appendc(&text, *p);
		}
	}
	struct tmpl *t = tmpl_parse(sb_str(&text), err);
	if (!t)
		return error_wrap(err, "template parsing error");
	_cleanup_strv_ char **lines = xcalloc(1, sizeof(char *));
	int r = 0;
	if (table) {
		_cleanup_sb_ struct strbuf h = STRBUF_INIT;
		r = tmpl_execute_header(t, headers, &h, err);
		if (r == 0)
			strv_push(&lines, sb_steal(&h));
	}
	if (r == 0)
		r = render_lines(t, rows, &lines, err);
	tmpl_free(t);
	if (r < 0)
		return error_wrap(err, "template");
	if (table) {
		format_tabwriter(out, lines, strv_len(lines));
	} else {
		for (size_t i = 0; lines[i]; i++)
			fprintf(out, "%s\n", lines[i]);
	}
	return 0;
}

int format_inspect(FILE *out, const char *format, json_t *items, struct scow_error **err)
{
	if (!format || !*format) {
		_cleanup_free_ char *s = format_json_go(items, JSON_INDENT(4));
		fprintf(out, "%s\n", s);
		return 0;
	}
	if (strcmp(format, "json") == 0)
		format = "{{json .}}";
	struct tmpl *t = tmpl_parse(format, err);
	if (!t)
		return error_wrap(err, "template parsing error");
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item) {
		_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
		if (tmpl_execute(t, item, &sb, err) < 0) {
			tmpl_free(t);
			return error_wrap(err, "template");
		}
		fprintf(out, "%s\n", sb_str(&sb));
	}
	tmpl_free(t);
	return 0;
}
