/* Growable strings, string vectors and small string helpers. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT {NULL, 0, 0}

void sb_append(struct strbuf *sb, const char *s);
void sb_appendn(struct strbuf *sb, const char *s, size_t n);
void sb_appendc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Returns the buffer (never NULL) and resets sb. */
char *sb_steal(struct strbuf *sb);
const char *sb_str(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_release(struct strbuf *sb);
static inline void sb_releasep(struct strbuf *sb)
{
	sb_release(sb);
}
#define _cleanup_sb_ __attribute__((cleanup(sb_releasep)))

/* NULL-terminated string vectors. strv_free() lives in cleanup.h's family. */
size_t strv_len(char *const *v);
void strv_push(char ***v, char *owned);
char **strv_copy(char *const *v);
bool strv_contains(char *const *v, const char *s);
/* Docker's rule for container, volume and network names:
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, between min and max characters. */
bool str_is_object_name(const char *s, size_t min, size_t max);
/* Sorts in place, bytewise (strcmp). */
void strv_sort(char **v);
/* Splits s at each sep; empty fields kept. */
char **strv_split(const char *s, char sep);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
bool str_eq(const char *a, const char *b); /* NULL-safe */
/* Parses a whole decimal string into [min, max]; false on junk or range. */
bool str_to_ll(const char *s, long long min, long long max, long long *ret);
/* A size as Docker's go-units RAMInBytes reads it: "512", "64k", "1.5g",
 * "10MiB" (binary multiples; the suffix's case does not matter), at most
 * max bytes. */
bool str_to_ram_bytes(const char *s, int64_t max, int64_t *ret);
bool str_to_ull(const char *s, unsigned long long max, unsigned long long *ret);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void str_hex(const unsigned char *in, size_t n, char *out);
bool str_is_hex(const char *s, size_t len);
