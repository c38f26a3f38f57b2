/* Allocation that cannot fail: running out of memory aborts, as git does.
 * A CLI process has no better way to recover, and it removes a failure path
 * from every caller. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (an array of elemsize items with capacity *cap) to hold need items. */
void xgrow(void **p, size_t *cap, size_t need, size_t elemsize);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);
