#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_level = LOG_LEVEL_WARN;

int log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{"error", LOG_LEVEL_ERROR}, {"fatal", LOG_LEVEL_ERROR}, {"panic", LOG_LEVEL_ERROR},
		{"warn", LOG_LEVEL_WARN},   {"warning", LOG_LEVEL_WARN}, {"info", LOG_LEVEL_INFO},
		{"debug", LOG_LEVEL_DEBUG}, {"trace", LOG_LEVEL_DEBUG},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return (int)names[i].level;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {"error", "warning", "info", "debug"};
	if (level > log_level)
		return;
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so that concurrent writers do not interleave. */
	fprintf(stderr, "scow: %s: %s\n", prefix[level], line);
}

void log_trace(const char *what)
{
	static int enabled = -1;
	static double t0;
	if (enabled < 0) {
		const char *e = getenv("SCOW_TRACE");
		enabled = e && *e && strcmp(e, "0") != 0;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
	}
	if (!enabled)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "scow-trace: %d %8.3f %s\n", (int)getpid(),
		ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 - t0, what);
}
