/* Times as Docker prints and stores them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* RFC 3339 with nanoseconds in UTC: "2026-11-22T15:10:48.123456789Z". */
void time_format_rfc3339(const struct timespec *ts, char *buf, size_t len);
void time_now_rfc3339(char *buf, size_t len);
/* Parses RFC 3339 (any fraction, Z or +hh:mm offset). */
bool time_parse_rfc3339(const char *s, struct timespec *ret);
/* Docker's "About an hour", "3 days", "Less than a second" (go-units). */
void time_human_duration(double seconds, char *buf, size_t len);
/* Docker's 3-significant-digit decimal size: "4.26MB", "123B", "1.5GB". */
void size_human(double bytes, char *buf, size_t len);
/* Binary units for memory (go-units BytesSize): "64MiB", "1.953GiB". */
void size_human_binary(double bytes, char *buf, size_t len);
