#include "util/progress.h"

#include <stdlib.h>
#include <unistd.h>

#include "util/timefmt.h"
#include "util/xalloc.h"

#define BAR_WIDTH 50

void progress_lines_init(struct progress_lines *p, FILE *out)
{
	*p = (struct progress_lines){.out = out, .tty = isatty(fileno(out))};
}

void progress_lines_release(struct progress_lines *p)
{
	free(p->line_of);
	p->line_of = NULL;
	p->nitems = 0;
}

void progress_lines_show(struct progress_lines *p, int index, const char *id, const char *status,
			 bool transient)
{
	if (index < 0)
		return;
	if (index >= p->nitems) {
		p->line_of = xrealloc(p->line_of, (size_t)(index + 1) * sizeof(int));
		for (int i = p->nitems; i <= index; i++)
			p->line_of[i] = -1;
		p->nitems = index + 1;
	}
	if (!p->tty) {
		if (!transient)
			fprintf(p->out, "%s: %s\n", id, status);
		fflush(p->out);
		return;
	}
	int line = p->line_of[index];
	if (line < 0) {
		p->line_of[index] = p->nlines++;
		fprintf(p->out, "%s: %s\n", id, status);
	} else {
		/* Up to the item's line, rewrite it, back down. */
		int up = p->nlines - line;
		fprintf(p->out, "\033[%dA\r\033[2K%s: %s\r\033[%dB", up, id, status, up);
	}
	fflush(p->out);
}

void progress_bar_text(const char *verb, int64_t current, int64_t total, char *buf, size_t len)
{
	char cur[16], tot[16];
	size_human((double)current, cur, sizeof(cur));
	if (total <= 0) {
		snprintf(buf, len, "%s  %s", verb, cur);
		return;
	}
	size_human((double)total, tot, sizeof(tot));
	int64_t c = current > total ? total : current;
	int filled = (int)(BAR_WIDTH * c / total);
	char bar[BAR_WIDTH + 1];
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled - 1 ? '=' : i == filled - 1 ? '>' : ' ';
	bar[BAR_WIDTH] = '\0';
	snprintf(buf, len, "%s [%s]  %s/%s", verb, bar, cur, tot);
}
