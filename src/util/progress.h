/* Docker's per-layer progress lines (pull, push): one line per layer,
 * rewritten in place on a terminal; elsewhere one line per status change,
 * progress updates left out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress_lines {
	FILE *out;
	bool tty;
	int nlines;   /* lines printed so far (tty) */
	int *line_of; /* item index -> its line, -1 if none yet */
	int nitems;
};

void progress_lines_init(struct progress_lines *p, FILE *out);
void progress_lines_release(struct progress_lines *p);
/* Shows "ID: STATUS" for item index; transient statuses (progress bars)
 * are shown on a terminal only. */
void progress_lines_show(struct progress_lines *p, int index, const char *id, const char *status,
			 bool transient);
/* "VERB [=====>    ]  1.2MB/3.4MB" (Docker's 50-column bar); without a
 * known total, "VERB  1.2MB". */
void progress_bar_text(const char *verb, int64_t current, int64_t total, char *buf, size_t len);
