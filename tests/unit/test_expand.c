/* Docker's shell-word processing (src/build/expand.c): substitutions,
 * quotes, escapes, word splitting, errors. Expected values follow the
 * Dockerfile reference and BuildKit's lexer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "build/expand.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static char *const ENV[] = {
	"PWD=/home",
	"SHELL=bash",
	"EMPTY=",
	"SPACED=x y",
	"FILE=archive.tar.gz",
	"FRUIT=banana",
	"KOREAN=\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
	"DUP=first",
	"DUP=second",
	NULL,
};

static void expect_word_esc(const char *in, char esc, const char *want)
{
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ char *got = NULL;
	if (expand_word(in, esc, ENV, &got, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got [%s], want [%s]", in, got, want);
}

static void expect_word(const char *in, const char *want)
{
	expect_word_esc(in, '\\', want);
}

static void expect_fail(const char *in, const char *msg_part)
{
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ char *got = NULL;
	if (expand_word(in, '\\', ENV, &got, &err) == 0)
		fail_msg("%s: accepted as [%s]", in, got);
	if (!strstr(err->msg, msg_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", in, err->msg, msg_part);
}

/* want: words separated by '|' */
static void expect_words(const char *in, const char *want)
{
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_strv_ char **w = NULL;
	if (expand_words(in, '\\', ENV, &w, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	for (size_t i = 0; w[i]; i++) {
		if (i)
			sb_appendc(&sb, '|');
		sb_append(&sb, w[i]);
	}
	if (strcmp(sb.buf, want) != 0)
		fail_msg("%s: got [%s], want [%s]", in, sb.buf, want);
	sb_release(&sb);
}

static void test_plain_and_quotes(void **state)
{
	(void)state;
	expect_word("hello", "hello");
	expect_word("he'll'o", "hello");
	expect_word("he\"ll\"o", "hello");
	expect_word("'hel\"lo'", "hel\"lo");
	expect_word("\"hel'lo\"", "hel'lo");
	expect_word("\"hel\\\"lo\"", "hel\"lo");
	expect_word("\"hel\\lo\"", "hel\\lo");	  /* \l is no escape inside "" */
	expect_word("\"hel\\\\lo\"", "hel\\lo");   /* \\ is */
	expect_word("'a\\b'", "a\\b");		   /* nothing escapes in '' */
	expect_word("he\\'llo", "he'llo");
	expect_word("a\\ b", "a b");
	expect_word("abc\\", "abc"); /* an escape at the end vanishes */
	expect_word("  keep  spaces  ", "  keep  spaces  ");
	expect_word("", "");
	expect_word("\"\"", "");
}

static void test_variables(void **state)
{
	(void)state;
	expect_word("$PWD", "/home");
	expect_word("${PWD}", "/home");
	expect_word("$PWD/x", "/home/x");
	expect_word("${PWD}x", "/homex");
	expect_word("$PWDx", ""); /* the name runs on */
	expect_word("'$PWD'", "$PWD");
	expect_word("\"$PWD\"", "/home");
	expect_word("\\$PWD", "$PWD");
	expect_word("\"\\$PWD\"", "$PWD");
	expect_word("$UNSET", "");
	expect_word("a$", "a$");
	expect_word("$", "$");
	expect_word("$ x", "$ x");
	expect_word("$1", "");	/* positional: unset */
	expect_word("$$", "");	/* special: unset */
	expect_word("x$@y", "xy");
	expect_word("$KOREAN!", "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4!");
	expect_word("$DUP", "second"); /* the last definition wins */
	expect_word("${SPACED}", "x y");
}

static void test_modifiers(void **state)
{
	(void)state;
	expect_word("${UNSET:-def}", "def");
	expect_word("${EMPTY:-def}", "def");
	expect_word("${EMPTY-def}", "");
	expect_word("${UNSET-def}", "def");
	expect_word("${PWD:-def}", "/home");
	expect_word("${PWD:+alt}", "alt");
	expect_word("${EMPTY:+alt}", "");
	expect_word("${EMPTY+alt}", "alt");
	expect_word("${UNSET+alt}", "");
	expect_word("${UNSET:-${PWD}}", "/home");
	expect_word("${UNSET:-'a b'}", "a b");
	expect_word("${UNSET:-\"x$PWD\"}", "x/home");
	expect_word("${UNSET:-a\\}b}", "a}b");
	expect_word("${UNSET:-}", "");
	expect_word("pre${UNSET:-mid}post", "premidpost");
	expect_word("${EMPTY?}", "");
	expect_word("${PWD:?}", "/home");
}

static void test_patterns(void **state)
{
	(void)state;
	expect_word("${FILE#*.}", "tar.gz");
	expect_word("${FILE##*.}", "gz");
	expect_word("${FILE%.*}", "archive.tar");
	expect_word("${FILE%%.*}", "archive");
	expect_word("${FILE#nomatch}", "archive.tar.gz");
	expect_word("${FILE#arch}", "ive.tar.gz");
	expect_word("${FILE%.g?}", "archive.tar");
	expect_word("${FILE#\\*}", "archive.tar.gz"); /* a literal star: no match */
	expect_word("${UNSET#x}", "");
	expect_word("${FILE/tar/zip}", "archive.zip.gz");
	expect_word("${FRUIT//a/o}", "bonono");
	expect_word("${FRUIT/a/}", "bnana");
	expect_word("${FRUIT/?n/X}", "bXana");
	expect_word("${FRUIT/n*/X}", "baX"); /* longest match */
	expect_word("${FRUIT/x/y}", "banana");
	expect_word("${PWD/\\/home/root}", "root");
}

static void test_errors(void **state)
{
	(void)state;
	expect_fail("he'llo", "unexpected end of statement while looking for matching single-quote");
	expect_fail("\"abc", "unexpected end of statement while looking for matching double-quote");
	expect_fail("${PWD", "syntax error: missing '}'");
	expect_fail("${PWD:-x", "syntax error: missing '}'");
	expect_fail("${", "syntax error: missing '}'");
	expect_fail("${}", "syntax error: bad substitution");
	expect_fail("${:x}", "syntax error: bad substitution");
	expect_fail("${{x}}", "syntax error: bad substitution");
	expect_fail("${PWD:x}", "unsupported modifier (:x) in substitution");
	expect_fail("${PWD!}", "unsupported modifier (!) in substitution");
	expect_fail("${UNSET:?}", "UNSET: is not allowed to be unset");
	expect_fail("${UNSET?}", "UNSET: is not allowed to be unset");
	expect_fail("${EMPTY:?}", "EMPTY: is not allowed to be empty");
	expect_fail("${UNSET?need it}", "UNSET: need it");
	expect_fail("${FILE#\\q}", "invalid pattern (\\q) in substitution: invalid escape '\\q'");
	expect_fail("${FILE/x", "syntax error: missing '/' in ${}");
	expect_fail("${PWD", "failed to process \"${PWD\": ");
}

static void test_backtick_escape(void **state)
{
	(void)state;
	expect_word_esc("C:\\path\\dir", '`', "C:\\path\\dir");
	expect_word_esc("a`$PWD", '`', "a$PWD");
	expect_word_esc("\"a`\"b\"", '`', "a\"b");
	expect_word_esc("`", '`', "");
}

static void test_words(void **state)
{
	(void)state;
	expect_words("a b  c", "a|b|c");
	expect_words("  lead trail  ", "lead|trail");
	expect_words("\"a b\" c", "a b|c");
	expect_words("$SPACED", "x|y");
	expect_words("\"$SPACED\"", "x y");
	expect_words("pre$SPACED", "prex|y");
	expect_words("'' a", "a");
	expect_words("a\"\"b", "ab");
	expect_words("a\\ b c", "a b|c");
	expect_words("80 ${UNSET:-443}/tcp", "80|443/tcp");
	expect_words("", "");
}

static void test_lexer_options(void **state)
{
	(void)state;
	_cleanup_error_ struct scow_error *err = NULL;
	struct shlex lx = SHLEX_INIT('\\');
	lx.skip_unset = true;
	char *out = NULL;
	assert_int_equal(shlex_word(&lx, "$UNSET ${UNSET} ${UNSET:-x} $PWD", ENV, &out, &err), 0);
	assert_string_equal(out, "$UNSET ${UNSET} ${UNSET:-x} /home");
	free(out);

	lx = SHLEX_INIT('\\');
	lx.raw_quotes = true;
	assert_int_equal(shlex_word(&lx, "\"a\" 'b'", ENV, &out, &err), 0);
	assert_string_equal(out, "\"a\" 'b'");
	free(out);

	lx = SHLEX_INIT('\\');
	lx.raw_escapes = true;
	assert_int_equal(shlex_word(&lx, "a\\ b", ENV, &out, &err), 0);
	assert_string_equal(out, "a\\ b");
	free(out);

	/* heredoc bodies: quotes are plain text, variables still expand */
	lx = SHLEX_INIT('\\');
	lx.skip_process_quotes = true;
	assert_int_equal(shlex_word(&lx, "echo '$PWD' \"x\"\n", ENV, &out, &err), 0);
	assert_string_equal(out, "echo '/home' \"x\"\n");
	free(out);
}

/* Hostile input stays bounded: nesting is limited, patterns are linear. */
static void test_limits(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 100; i++)
		sb_append(&sb, "${U:-");
	sb_append(&sb, "deep");
	for (int i = 0; i < 100; i++)
		sb_appendc(&sb, '}');
	_cleanup_free_ char *w100 = sb_steal(&sb);
	expect_word(w100, "deep");
	for (int i = 0; i < 20000; i++)
		sb_append(&sb, "${U:-");
	_cleanup_free_ char *deep = sb_steal(&sb);
	expect_fail(deep, "substitutions nested too deep");

	/* ${X//a*b/x} over a long value of a's: no match, quickly */
	for (int i = 0; i < 3000; i++)
		sb_appendc(&sb, 'a');
	_cleanup_free_ char *long_a = sb_steal(&sb);
	_cleanup_free_ char *kv = xasprintf("L=%s", long_a);
	char *const env[] = {kv, NULL};
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ char *out = NULL;
	assert_int_equal(expand_word("${L//a*b/x}${L%%a*a*a*a*a*a*a*b}", '\\', env, &out, &err), 0);
	assert_int_equal(strlen(out), 6000);
	free(out);
	out = NULL;
	assert_int_equal(expand_word("${L##*a}|${L/a*a/x}", '\\', env, &out, &err), 0);
	assert_string_equal(out, "|x");
}

static void test_env_helpers(void **state)
{
	(void)state;
	_cleanup_strv_ char **env = NULL;
	expand_env_set(&env, "A", "1");
	expand_env_set(&env, "B", "2");
	expand_env_set(&env, "A", "3");
	assert_int_equal(strv_len(env), 2);
	assert_string_equal(env[0], "A=3");
	assert_string_equal(expand_env_get(env, "B"), "2");
	assert_null(expand_env_get(env, "C"));
	assert_null(expand_env_get(NULL, "A"));
	_cleanup_free_ char *q = expand_quote("a\"b\\c\n\x01");
	assert_string_equal(q, "\"a\\\"b\\\\c\\n\\x01\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_quotes), cmocka_unit_test(test_variables),
		cmocka_unit_test(test_modifiers),	 cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_errors),		 cmocka_unit_test(test_backtick_escape),
		cmocka_unit_test(test_words),		 cmocka_unit_test(test_lexer_options),
		cmocka_unit_test(test_env_helpers),	 cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
