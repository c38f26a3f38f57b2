/* --change instructions (image/changes.h), checked against what Docker's
 * BuildFromConfig makes of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/changes.h"
#include "util/cleanup.h"
#include "util/json.h"

/* Applies the changes to a config made from start (JSON) and compares the
 * result with want (JSON). */
static void expect(const char *start, const char *want, size_t n, ...)
{
	const char *changes[16];
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		changes[i] = va_arg(ap, const char *);
	va_end(ap);
	_cleanup_json_ json_t *cfg = json_loads(start, 0, NULL);
	_cleanup_json_ json_t *w = json_loads(want, 0, NULL);
	assert_non_null(cfg);
	assert_non_null(w);
	_cleanup_error_ struct scow_error *err = NULL;
	if (image_config_apply_changes(cfg, changes, n, &err) < 0)
		fail_msg("%s: %s", changes[0], err->msg);
	if (!json_equal(cfg, w)) {
		_cleanup_free_ char *got = json_dump_compact(cfg);
		fail_msg("%s: got %s, want %s", changes[0], got, want);
	}
}

static void expect_bad(const char *change, const char *msg)
{
	_cleanup_json_ json_t *cfg = json_object();
	_cleanup_error_ struct scow_error *err = NULL;
	const char *changes[] = {change};
	if (image_config_apply_changes(cfg, changes, 1, &err) == 0)
		fail_msg("%s: accepted", change);
	if (!strstr(err->msg, msg))
		fail_msg("%s: message \"%s\" lacks \"%s\"", change, err->msg, msg);
}

static void test_cmd_entrypoint(void **state)
{
	(void)state;
	expect("{}", "{\"Cmd\":[\"cat\",\"/x\"]}", 1, "CMD [\"cat\",\"/x\"]");
	expect("{}", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"cat /x\"]}", 1, "cmd cat /x");
	/* not a JSON array of strings: the shell form */
	expect("{}", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"[1, 2]\"]}", 1, "CMD [1, 2]");
	expect("{\"Shell\":[\"/bin/bash\",\"-xc\"]}",
	       "{\"Shell\":[\"/bin/bash\",\"-xc\"],\"Cmd\":[\"/bin/bash\",\"-xc\",\"echo\"]}", 1,
	       "CMD echo");
	/* ENTRYPOINT clears a Cmd that was not given in the same changes */
	expect("{\"Cmd\":[\"sh\"]}", "{\"Cmd\":null,\"Entrypoint\":[\"top\"]}", 1,
	       "ENTRYPOINT [\"top\"]");
	expect("{\"Cmd\":[\"sh\"]}", "{\"Cmd\":[\"-b\"],\"Entrypoint\":[\"top\"]}", 2,
	       "CMD [\"-b\"]", "ENTRYPOINT [\"top\"]");
}

static void test_env_label(void **state)
{
	(void)state;
	expect("{\"Env\":[\"PATH=/bin\",\"A=old\"]}",
	       "{\"Env\":[\"PATH=/bin\",\"A=new\",\"B=/bin:x\",\"C=a b\",\"D=it's\"]}", 1,
	       "ENV A=new B=$PATH:x C=\"a b\" D=\"it's\"");
	expect("{}", "{\"Env\":[\"K=v with spaces\"]}", 1, "ENV K v with spaces");
	expect("{\"Env\":[\"A=1\"]}", "{\"Env\":[\"A=1\",\"B=1-d-\",\"C=$A\"]}", 1,
	       "ENV B=${A:-x}-${U:-d}-${U:+y} C='$A'");
	expect("{}", "{\"Labels\":{\"a\":\"1\",\"b c\":\"d e\"}}", 1, "LABEL a=1 \"b c\"=\"d e\"");
	expect_bad("ENV", "ENV requires at least one argument");
	expect_bad("ENV A", "ENV must have two arguments");
	expect_bad("ENV a=b c", "can't find = in \"c\"");
	expect_bad("LABEL", "LABEL requires at least one argument");
	expect_bad("ENV A=\"open", "matching double-quote");
	expect_bad("ENV A=${U:?must be set}x", "can't find =");
	expect_bad("ENV A=${U:?must}", "U: must");
}

static void test_others(void **state)
{
	(void)state;
	expect("{}", "{\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}}",
	       1, "EXPOSE 80 53/UDP 8000-8001");
	expect("{\"WorkingDir\":\"/a\"}", "{\"WorkingDir\":\"/a/b/c\"}", 2, "WORKDIR b", "WORKDIR ./c/");
	expect("{\"Env\":[\"D=/x\"]}", "{\"Env\":[\"D=/x\"],\"WorkingDir\":\"/x/y\"}", 1,
	       "WORKDIR $D/y");
	expect("{}", "{\"User\":\"1000:1000\"}", 1, "USER 1000:1000");
	expect("{}", "{\"Volumes\":{\"/a\":{},\"/b\":{}}}", 1, "VOLUME [\"/a\", \"/b\"]");
	expect("{}", "{\"Volumes\":{\"/a\":{},\"/b\":{}}}", 1, "VOLUME /a /b");
	expect("{}", "{\"StopSignal\":\"SIGUSR1\"}", 1, "STOPSIGNAL SIGUSR1");
	expect("{}", "{\"OnBuild\":[\"RUN echo hi\"]}", 1, "ONBUILD RUN echo hi");
	expect("{}", "{\"Healthcheck\":{\"Test\":[\"NONE\"]}}", 1, "HEALTHCHECK NONE");
	expect("{}",
	       "{\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":90000000000,"
	       "\"Timeout\":500000000,\"Retries\":3}}",
	       1, "HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD [\"true\"]");
	/* several instructions in one change, comments and blank lines */
	expect("{}", "{\"User\":\"a\",\"WorkingDir\":\"/w\"}", 1, "USER a\n# c\n\nWORKDIR /w");
	expect_bad("RUN true", "run is not a valid change command");
	expect_bad("FROM x", "from is not a valid change command");
	expect_bad("EXPOSE x", "invalid containerPort: x");
	expect_bad("EXPOSE 80/foo", "invalid proto");
	expect_bad("EXPOSE 9-8", "invalid range");
	expect_bad("USER", "USER requires exactly one argument");
	expect_bad("WORKDIR", "WORKDIR requires exactly one argument");
	expect_bad("VOLUME \"\"", "can not be an empty string");
	expect_bad("STOPSIGNAL NOPE", "invalid signal");
	expect_bad("ONBUILD ONBUILD RUN x", "Chaining ONBUILD");
	expect_bad("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger");
	expect_bad("HEALTHCHECK RUN x", "Unknown type \"RUN\" in HEALTHCHECK (try CMD)");
	expect_bad("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD");
	expect_bad("HEALTHCHECK --interval=1x CMD true", "unknown unit");
	expect_bad("HEALTHCHECK --interval=1us CMD true", "cannot be less than 1ms");
	expect_bad("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative");
	expect_bad("HEALTHCHECK --nope=1 CMD true", "Unknown flag: nope");
	expect_bad("CMD --nope x", "Unknown flag: nope");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_entrypoint),
		cmocka_unit_test(test_env_label),
		cmocka_unit_test(test_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
