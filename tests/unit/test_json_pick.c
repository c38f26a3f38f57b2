/* json_pick: members picked out of a large object, the rest only scanned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_pick.h"

static json_t *pick(const char *text, const char *const *keys)
{
	struct scow_error *e = NULL;
	json_t *j = json_pick(text, strlen(text), keys, &e);
	error_freep(&e);
	return j;
}

static void test_picks_members_and_nested(void **state)
{
	(void)state;
	const char *text =
		"{\"Args\": [\"a b\", \"c\"], \"Config\": {\"Env\": [\"X=}\"], \"Image\": \"busy\\\"box\","
		" \"Labels\": {\"k\": \"v\"}, \"Tty\": false}, \"HostConfig\": {\"Binds\": [\"]{\"]},"
		" \"Name\": \"/c1\", \"Num\": -1.5e3, \"Null\": null, \"T\": true}";
	const char *const keys[] = {"Args", "Config.Image", "Config.Labels", "Name", "Num",
				    "Null", "T", "Missing", "HostConfig.Nothing", NULL};
	_cleanup_json_ json_t *j = pick(text, keys);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "Args")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "Args"), 0)), "a b");
	json_t *cfg = json_object_get(j, "Config");
	assert_string_equal(json_string_value(json_object_get(cfg, "Image")), "busy\"box");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(cfg, "Labels"), "k")), "v");
	assert_null(json_object_get(cfg, "Env")); /* not asked for */
	assert_int_equal(json_object_size(cfg), 2);
	assert_string_equal(json_string_value(json_object_get(j, "Name")), "/c1");
	assert_true(json_real_value(json_object_get(j, "Num")) == -1500.0);
	assert_true(json_is_null(json_object_get(j, "Null")));
	assert_true(json_is_true(json_object_get(j, "T")));
	assert_null(json_object_get(j, "Missing"));
	assert_int_equal(json_object_size(json_object_get(j, "HostConfig")), 0);
}

static void test_malformed_is_an_error(void **state)
{
	(void)state;
	const char *const keys[] = {"A", "B.C", NULL};
	const char *bad[] = {"", "[]", "{", "{\"A\"", "{\"A\": }", "{\"A\": [1, }",
			     "{\"A\": \"unterminated}", "{\"B\": {\"C\": }}", "{\"A\": 1 \"B\": 2}",
			     "{\"A\": tru}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scow_error *e = NULL;
		json_t *j = json_pick(bad[i], strlen(bad[i]), keys, &e);
		if (j)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(e);
		assert_int_equal(e->errnum, EINVAL);
		error_freep(&e);
	}
	/* an unpicked malformed member is only scanned: not our business */
	_cleanup_json_ json_t *ok = pick("{\"Z\": [1,, 2], \"A\": 1}", keys);
	assert_non_null(ok);
	assert_int_equal(json_integer_value(json_object_get(ok, "A")), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_picks_members_and_nested),
		cmocka_unit_test(test_malformed_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
