/* Diagnostics to stderr, filtered by --log-level. The level is the only
 * global the design allows. Library code uses these for warnings and debug
 * traces; errors travel as struct scow_error instead. */
#pragma once

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

extern enum log_level log_level;

/* Parses "error", "warn"/"warning", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_level >= LOG_LEVEL_DEBUG)                                                  \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

/* SCOW_TRACE=1: "scow-trace: PID 12.345 what" on stderr, milliseconds since
 * the first mark of the process tree, for finding where a run spends its
 * time without a tracer's distortion. */
void log_trace(const char *what);
