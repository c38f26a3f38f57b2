/* Tests of layers/compress: gzip made in pieces (pigz-style) must be one
 * valid gzip stream, the same bytes whatever the number of threads, and
 * inflate (ISA-L, as pull does) back to the input; zstd likewise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/compress.h"
#include "layers/decompress.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/xalloc.h"
#include "util/lazylib.h"

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void add(struct buf *b, const void *p, size_t n)
{
	xgrow((void **)&b->p, &b->cap, b->len + n + 1, 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static int out_cb(void *opaque, const void *p, size_t n, struct scow_error **err)
{
	(void)err;
	add(opaque, p, n);
	return 0;
}

static int dec_cb(void *opaque, const void *p, size_t n)
{
	add(opaque, p, n);
	return 0;
}

/* Half text-like, half random: both compressible and not. */
static unsigned char *make_input(size_t n)
{
	unsigned char *p = xmalloc(n + 1);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (i / 4096) % 2 ? (unsigned char)(x >> 16) : (unsigned char)("scow layer "[i % 11]);
	}
	return p;
}

static void compress_all(enum comp_format f, int threads, const unsigned char *in, size_t n,
			 size_t step, struct buf *out)
{
	struct scow_error *err = NULL;
	struct comp *c = comp_new(f, 0, threads, out_cb, out, &err);
	if (!c)
		fail_msg("comp_new: %s", err->msg);
	for (size_t off = 0; off < n; off += step)
		assert_int_equal(comp_write(c, in + off, n - off < step ? n - off : step, &err), 0);
	assert_int_equal(comp_finish(c, &err), 0);
	comp_free(c);
}

static void roundtrip(enum comp_format f, size_t n)
{
	unsigned char *in = make_input(n);
	struct buf one = {0}, many = {0}, back = {0};
	compress_all(f, 0, in, n, 77777, &one);
	compress_all(f, 4, in, n, 1 << 20, &many);
	if (f == COMP_GZIP) {
		assert_int_equal(one.len, many.len);
		assert_memory_equal(one.p, many.p, one.len);
		assert_int_equal(one.p[0], 0x1f);
		assert_int_equal(one.p[1], 0x8b);
	}
	struct scow_error *err = NULL;
	struct decomp *d = decomp_new(dec_cb, &back);
	assert_int_equal(decomp_feed(d, many.p, many.len, &err), 0);
	if (decomp_finish(d, &err) < 0)
		fail_msg("size %zu: %s", n, err->msg);
	assert_int_equal(decomp_format(d), f == COMP_GZIP ? DECOMP_GZIP : DECOMP_ZSTD);
	decomp_free(d);
	assert_int_equal(back.len, n);
	if (n)
		assert_memory_equal(back.p, in, n);
	free(in);
	free(one.p);
	free(many.p);
	free(back.p);
}

static void test_gzip_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 1000, 32768, 32769, 1 << 20, (1 << 20) + 1,
				       (7 << 20) / 2, 5 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		roundtrip(COMP_GZIP, sizes[i]);
}

static void test_zstd(void **state)
{
	(void)state;
	roundtrip(COMP_ZSTD, 0);
	roundtrip(COMP_ZSTD, 3 << 20);
}

static void test_levels(void **state)
{
	(void)state;
	struct scow_error *err = NULL;
	struct buf b = {0};
	assert_null(comp_new(COMP_GZIP, 9, 0, out_cb, &b, &err));
	error_freep(&err);
	assert_int_equal(comp_format_parse("zstd"), COMP_ZSTD);
	assert_int_equal(comp_format_parse("gzip"), COMP_GZIP);
	assert_int_equal(comp_format_parse("lz4"), -1);
}

int main(void)
{
	struct scow_error *err = NULL;
	if (lazy_isal_load(&err) < 0 || lazy_zstd_load(&err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_sizes),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
