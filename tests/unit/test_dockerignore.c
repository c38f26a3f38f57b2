/* .dockerignore reading and matching (src/build/dockerignore.c) with
 * Docker's rules: cleaning, '*', '?', '[...]', '\', '**', exceptions where
 * the last match wins, parents, the walker helpers, build files kept. */
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "build/dockerignore.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static struct dockerignore *load(const char *text)
{
	struct dockerignore *di = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (dockerignore_load(text, strlen(text), NULL, &di, &err) < 0)
		fail_msg("load: %s\n%s", err->msg, text);
	return di;
}

/* paths: "path" (must be excluded) or "+path" (must be included), ';'-separated */
static void expect(const char *patterns, const char *paths)
{
	_cleanup_dockerignore_ struct dockerignore *di = load(patterns);
	_cleanup_strv_ char **list = strv_split(paths, ';');
	for (size_t i = 0; list[i]; i++) {
		const char *p = list[i];
		bool want_included = p[0] == '+';
		if (want_included)
			p++;
		bool ex = dockerignore_excluded(di, p);
		if (ex == want_included)
			fail_msg("patterns [%s]: %s should be %s", patterns, p,
				 want_included ? "included" : "excluded");
	}
}

static void test_read(void **state)
{
	(void)state;
	const char *text = "\xef\xbb\xbf# comment\n"
			   "  *.md  \n"
			   "\n"
			   " # not a comment (not in column 1)\n"
			   "!  README.md\n"
			   "/abs/path/\n"
			   "a/./b/../c//\n"
			   "!/x/\n"
			   "./rel\n"
			   "/\n";
	_cleanup_strv_ char **p = dockerignore_read(text, strlen(text));
	const char *want[] = {"*.md", "# not a comment (not in column 1)", "!README.md", "abs/path",
			      "a/c", "!x", "rel", "/"};
	assert_int_equal(strv_len(p), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(p[i], want[i]);
}

static void test_wildcards(void **state)
{
	(void)state;
	expect("*.md", "README.md;+docs/README.md;+README.mdx;.md");
	expect("docs/*.md", "docs/a.md;+docs/sub/a.md;+a.md");
	expect("a?c", "abc;a.c;+a/c;+abbc;+ac");
	expect("[a-c]x", "ax;cx;+dx;+x");
	expect("[^a-c]x", "dx;+ax");
	expect("[abc]?", "ab;+da");
	expect("\\*.txt", "*.txt;+a.txt");
	expect("a\\?", "a?;+ab");
	expect("file.(1)+$", "file.(1)+$;+fileX(1)+$");
	expect("*", "a;b.c;dir/sub/file");
	expect("dir", "dir;dir/a;dir/a/b;+dirx;+x/dir");
	expect("dir/", "dir;dir/a");
	expect("/dir", "dir;dir/a");
	expect("*/tmp", "a/tmp;a/tmp/x;+tmp;+a/b/tmp");
}

static void test_double_star(void **state)
{
	(void)state;
	expect("**/*.go", "a.go;x/a.go;x/y/a.go;+a.goo");
	expect("**/foo", "foo;a/foo;a/b/foo;foo/x;+afoo");
	expect("**foo", "foo;xfoo;a/xfoo"); /* Docker's suffix shortcut */
	expect("foo/**", "foo/a;foo/a/b;+foo;+foobar");
	expect("foo**", "foo;foobar;foo/x");
	expect("a/**/b", "a/b;a/x/b;a/x/y/b;a/b/c;+a/xb;+b");
	expect("a/**/*.c", "a/x.c;a/b/x.c;+x.c");
	expect("**", "a;a/b;.hidden");
	expect("**/", "a;a/b");
	expect("a/**/b/**", "a/b/c;a/x/b/c/d;+a/b");
}

static void test_exceptions(void **state)
{
	(void)state;
	expect("*.md\n!README.md", "a.md;+README.md;x.md/y;+docs/x.md/y;+x.md2");
	/* the last matching pattern wins */
	expect("!README.md\n*.md", "README.md;a.md");
	expect("*.md\n!README*.md\nREADME-secret.md",
	       "+README.md;+README-x.md;README-secret.md;a.md");
	/* an exception below an excluded directory */
	expect("node_modules\n!node_modules/keep",
	       "node_modules;node_modules/x;+node_modules/keep;+node_modules/keep/a/b");
	expect("docs\n!docs/README.md", "docs;docs/guide.md;+docs/README.md");
	expect("*\n!src\nsrc/*.tmp", "+src;+src/a.c;src/a.tmp;Dockerfile;+src/sub/a.tmp");
	expect("**/*.tmp\n!keep/**", "a.tmp;x/a.tmp;+keep/a.tmp");
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *msg;
	} bad[] = {
		{"!", "illegal exclusion pattern: \"!\""},
		{"! ", "illegal exclusion pattern: \"!\""},
		{"[abc", "syntax error in pattern"},
		{"abc\\", "syntax error in pattern"},
		{"[-a]", "syntax error in pattern"},
		{"[a-]", "syntax error in pattern"},
		{"[]", "syntax error in pattern"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dockerignore *di = NULL;
		_cleanup_error_ struct scow_error *err = NULL;
		if (dockerignore_load(bad[i].pattern, strlen(bad[i].pattern), NULL, &di, &err) == 0) {
			dockerignore_free(di);
			fail_msg("%s: accepted", bad[i].pattern);
		}
		if (!strstr(err->msg, bad[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].pattern, err->msg,
				 bad[i].msg);
	}
	/* an empty file or only comments excludes nothing */
	expect("", "+a;+b/c");
	expect("# x\n\n", "+a");
}

/* Walking with parent state gives the same answers as full matching. */
static void test_walker_bits(void **state)
{
	(void)state;
	const char *pats[] = {
		"docs\n!docs/README.md",
		"*\n!src\nsrc/*.tmp\n!src/keep.tmp",
		"**/*.o\n!lib/**\nlib/private",
		"a/b\n!a/b/c\na/b/c/d",
		"!x\nx/y",
	};
	const char *paths[] = {
		"docs",	 "docs/README.md", "docs/a",	 "docs/a/README.md", "src",
		"src/a.tmp", "src/keep.tmp",  "src/sub",	 "src/sub/a.tmp",    "lib",
		"lib/x.o",   "lib/private",   "lib/private/p.o", "x.o",		     "a",
		"a/b",	     "a/b/c",	      "a/b/c/d",	 "a/b/c/d/e",	     "a/b/c/e",
		"x",	     "x/y",	      "x/y/z",		 "x/z",
	};
	for (size_t k = 0; k < ARRAY_SIZE(pats); k++) {
		_cleanup_dockerignore_ struct dockerignore *di = load(pats[k]);
		size_t np = dockerignore_npatterns(di);
		for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
			/* compute the bits down the chain of parents */
			_cleanup_free_ char *path = xstrdup(paths[i]);
			unsigned char *prev = NULL;
			bool ex = false;
			for (char *s = path;; s++) {
				if (*s == '/' || !*s) {
					char c = *s;
					*s = '\0';
					unsigned char *bits = xcalloc(np + 1, 1);
					ex = dockerignore_excluded_child(di, path, prev, bits);
					free(prev);
					prev = bits;
					*s = c;
					if (!c)
						break;
				}
			}
			free(prev);
			if (ex != dockerignore_excluded(di, paths[i]))
				fail_msg("[%s] %s: walker says %d", pats[k], paths[i], ex);
		}
	}
}

static void test_may_reinclude(void **state)
{
	(void)state;
	struct dockerignore *di = load("vendor\n!vendor/keep.go\n");
	assert_true(dockerignore_has_exceptions(di));
	assert_true(dockerignore_may_reinclude_below(di, "vendor"));
	assert_false(dockerignore_may_reinclude_below(di, "other"));
	assert_false(dockerignore_may_reinclude_below(di, "vendor/keep.go")); /* nothing below */
	dockerignore_free(di);

	di = load("vendor\n!docs/x\n");
	assert_false(dockerignore_may_reinclude_below(di, "vendor"));
	dockerignore_free(di);

	di = load("a\n!a/*/c\n");
	assert_true(dockerignore_may_reinclude_below(di, "a"));
	assert_true(dockerignore_may_reinclude_below(di, "a/b"));
	assert_false(dockerignore_may_reinclude_below(di, "a/b/c")); /* only a/b/c itself */
	assert_false(dockerignore_may_reinclude_below(di, "b"));
	dockerignore_free(di);

	di = load("a\n!a\n");
	assert_false(dockerignore_may_reinclude_below(di, "a")); /* matches a, not below */
	dockerignore_free(di);

	di = load("*\n!**/*.go\n");
	assert_true(dockerignore_may_reinclude_below(di, "anything/deep"));
	dockerignore_free(di);

	di = load("vendor\n");
	assert_false(dockerignore_has_exceptions(di));
	assert_false(dockerignore_may_reinclude_below(di, "vendor"));
	dockerignore_free(di);
}

static void test_build_files_kept(void **state)
{
	(void)state;
	struct dockerignore *di = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	const char *text = "*\n";
	assert_int_equal(dockerignore_load(text, strlen(text), "Dockerfile", &di, &err), 0);
	assert_false(dockerignore_excluded(di, "Dockerfile"));
	assert_false(dockerignore_excluded(di, ".dockerignore"));
	assert_true(dockerignore_excluded(di, "other"));
	char *const *p = dockerignore_patterns(di);
	assert_string_equal(p[0], "*");
	assert_string_equal(p[1], "!.dockerignore");
	assert_string_equal(p[2], "!Dockerfile");
	dockerignore_free(di);

	text = "build\nDockerfile*\n";
	assert_int_equal(dockerignore_load(text, strlen(text), "./build/app.Dockerfile", &di, &err), 0);
	assert_false(dockerignore_excluded(di, "build/app.Dockerfile"));
	assert_true(dockerignore_excluded(di, "build/other"));
	assert_false(dockerignore_excluded(di, ".dockerignore")); /* not excluded: no pattern added */
	assert_int_equal(strv_len((char **)dockerignore_patterns(di)), 3);
	dockerignore_free(di);

	/* a Dockerfile from stdin is not in the context */
	assert_int_equal(dockerignore_load(text, strlen(text), NULL, &di, &err), 0);
	assert_true(dockerignore_excluded(di, "Dockerfile"));
	dockerignore_free(di);
}

/* Patterns that would make a backtracking matcher explode stay linear. */
static void test_pathological(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 40; i++)
		sb_append(&sb, "*a");
	sb_append(&sb, "*b\n");
	for (int i = 0; i < 40; i++)
		sb_append(&sb, "**/a");
	sb_append(&sb, "/c\n");
	_cleanup_free_ char *pats = sb_steal(&sb);
	for (int i = 0; i < 4000; i++)
		sb_append(&sb, i % 2 ? "a" : "a/");
	_cleanup_free_ char *path = sb_steal(&sb);
	_cleanup_dockerignore_ struct dockerignore *di = load(pats);
	assert_false(dockerignore_excluded(di, path));
	expect("**/a/**/a/**/a/c", "a/a/a/c;x/a/y/a/z/a/c;+a/a/c");
}

/* The fixture's .dockerignore against its expected listing. */
static void test_fixture(void **state)
{
	(void)state;
	_cleanup_free_ char *src = xstrdup(__FILE__);
	_cleanup_free_ char *path =
		xasprintf("%s/../fixtures/dockerfiles/dockerignore/.dockerignore", dirname(src));
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	struct dockerignore *di = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(dockerignore_load(buf, n, "Dockerfile", &di, &err), 0);
	const char *included[] = {"Dockerfile",	      ".dockerignore", "keep.log",
				  "docs/README.md",   "dist",	       "dist/keep",
				  "dist/keep/artifact", "src/main.c",	  "src/nested",
				  "expected.txt"};
	const char *excluded[] = {"app.log",	   "secret",	       "secret/key",
				  "docs",	   "docs/deep/guide.md", "dist/drop",
				  "dist/drop/artifact", "src/nested/scratch.tmp", "top.tmp",
				  ".git"};
	for (size_t i = 0; i < ARRAY_SIZE(included); i++)
		if (dockerignore_excluded(di, included[i]))
			fail_msg("%s excluded", included[i]);
	for (size_t i = 0; i < ARRAY_SIZE(excluded); i++)
		if (!dockerignore_excluded(di, excluded[i]))
			fail_msg("%s included", excluded[i]);
	/* docs is excluded but an exception lies below; secret has none */
	assert_true(dockerignore_may_reinclude_below(di, "docs"));
	assert_false(dockerignore_may_reinclude_below(di, "secret"));
	dockerignore_free(di);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),	       cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_double_star),    cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_errors),	       cmocka_unit_test(test_walker_bits),
		cmocka_unit_test(test_may_reinclude),  cmocka_unit_test(test_build_files_kept),
		cmocka_unit_test(test_fixture),	       cmocka_unit_test(test_pathological),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
