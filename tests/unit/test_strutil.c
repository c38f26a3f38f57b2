/* strutil: the number and size parsers that options share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/strutil.h"

#define MAX (1LL << 62)

static int64_t ram(const char *s)
{
	int64_t v = -42;
	return str_to_ram_bytes(s, MAX, &v) ? v : -1;
}

static void test_ram_bytes_units(void **state)
{
	(void)state;
	assert_int_equal(ram("0"), 0);
	assert_int_equal(ram("512"), 512);
	assert_int_equal(ram("64k"), 64 * 1024);
	assert_int_equal(ram("64K"), 64 * 1024);
	assert_int_equal(ram("16m"), 16 << 20);
	assert_int_equal(ram("10MiB"), 10 << 20);
	assert_int_equal(ram("10mb"), 10 << 20);
	assert_int_equal(ram("1.5g"), 3LL << 29);
	assert_int_equal(ram("2 t"), 2LL << 40);
	assert_int_equal(ram("1p"), 1LL << 50);
	assert_int_equal(ram("7b"), 7);
	assert_int_equal(ram("1 "), 1); /* go-units allows the space alone */
	assert_int_equal(ram("4096p"), MAX);
}

static void test_ram_bytes_refused(void **state)
{
	(void)state;
	const char *bad[] = {"", "k", "-1", "+5", "1.", ".5", "1x", "1kk", "1  k", "1.2.3",
			     "1kib2", "0x10", "1e3", "4097p"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int64_t v = -42;
		if (str_to_ram_bytes(bad[i], MAX, &v))
			fail_msg("\"%s\" was accepted as %lld", bad[i], (long long)v);
		assert_int_equal(v, -42);
	}
	int64_t v;
	assert_true(str_to_ram_bytes("1t", 1LL << 40, &v));
	assert_false(str_to_ram_bytes("1025g", 1LL << 40, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_bytes_units),
		cmocka_unit_test(test_ram_bytes_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
