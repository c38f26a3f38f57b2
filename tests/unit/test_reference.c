/* Reference parsing and normalisation, checked against Docker's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/reference.h"
#include "util/cleanup.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_ref(const char *in, const char *full, const char *familiar)
{
	struct image_ref r = {0};
	_cleanup_error_ struct scow_error *err = NULL;
	if (image_ref_parse(in, true, &r, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	_cleanup_free_ char *s = image_ref_string(&r);
	_cleanup_free_ char *f = image_ref_familiar(&r);
	if (strcmp(s, full) != 0)
		fail_msg("%s: got %s, want %s", in, s, full);
	if (strcmp(f, familiar) != 0)
		fail_msg("%s: familiar %s, want %s", in, f, familiar);
	image_ref_release(&r);
}

static void expect_bad(const char *in, const char *msg_part)
{
	struct image_ref r = {0};
	_cleanup_error_ struct scow_error *err = NULL;
	if (image_ref_parse(in, true, &r, &err) == 0)
		fail_msg("%s: accepted", in);
	if (!strstr(err->msg, msg_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", in, err->msg, msg_part);
}

static void test_normalise(void **state)
{
	(void)state;
	expect_ref("busybox", "docker.io/library/busybox:latest", "busybox:latest");
	expect_ref("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
	expect_ref("library/busybox", "docker.io/library/busybox:latest", "busybox:latest");
	expect_ref("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest");
	expect_ref("index.docker.io/busybox", "docker.io/library/busybox:latest",
		   "busybox:latest");
	expect_ref("user/app", "docker.io/user/app:latest", "user/app:latest");
	expect_ref("user/app/sub:v1", "docker.io/user/app/sub:v1", "user/app/sub:v1");
	expect_ref("localhost/x", "localhost/x:latest", "localhost/x:latest");
	expect_ref("localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag");
	expect_ref("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest",
		   "127.0.0.1:5000/busybox:latest");
	expect_ref("quay.io/org/img:1.0-rc_1", "quay.io/org/img:1.0-rc_1",
		   "quay.io/org/img:1.0-rc_1");
	expect_ref("Registry/app", "Registry/app:latest", "Registry/app:latest");
	expect_ref("a__b/c--d/e.f_g", "docker.io/a__b/c--d/e.f_g:latest", "a__b/c--d/e.f_g:latest");
	expect_ref("busybox@sha256:" H64, "docker.io/library/busybox@sha256:" H64,
		   "busybox@sha256:" H64);
	expect_ref("host:1/x:t@sha256:" H64, "host:1/x:t@sha256:" H64, "host:1/x:t@sha256:" H64);
	expect_ref("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest");
}

static void test_no_default_tag(void **state)
{
	(void)state;
	struct image_ref r = {0};
	assert_int_equal(image_ref_parse("busybox", false, &r, NULL), 0);
	assert_null(r.tag);
	assert_string_equal(r.path, "library/busybox");
	image_ref_release(&r);
}

static void test_bad(void **state)
{
	(void)state;
	expect_bad("", "invalid reference format");
	expect_bad("Busybox", "must be lowercase");
	expect_bad("user/App", "must be lowercase");
	expect_bad("busybox:", "invalid reference format");
	expect_bad("busybox:-x", "invalid reference format");
	expect_bad("busybox::x", "invalid reference format");
	expect_bad("bu sybox", "invalid reference format");
	expect_bad("busybox@sha256:abc", "invalid reference format");
	expect_bad("busybox@sha256:../../x", "invalid reference format");
	expect_bad("busybox@sha512:" H64 H64, "unsupported digest algorithm");
	expect_bad("a//b", "invalid reference format");
	expect_bad("-a/b", "invalid reference format");
	expect_bad("a-/b", "invalid reference format");
	expect_bad("a/b_", "invalid reference format");
	expect_bad("a/b___c", "invalid reference format");
	expect_bad("host:port/x", "invalid reference format");
	expect_bad("-host.com/x", "invalid reference format");
	expect_bad(H64, "cannot specify 64-byte hexadecimal strings");
	char tag[200] = "busybox:";
	memset(tag + 8, 'a', 129);
	expect_bad(tag, "invalid reference format");
	char name[300];
	memset(name, 'a', 299);
	name[299] = '\0';
	expect_bad(name, "255 characters");
}

static void test_familiar_repo(void **state)
{
	(void)state;
	_cleanup_free_ char *a = image_repo_familiar("docker.io/library/busybox");
	_cleanup_free_ char *b = image_repo_familiar("docker.io/user/app");
	_cleanup_free_ char *c = image_repo_familiar("127.0.0.1:5000/library/busybox");
	_cleanup_free_ char *d = image_repo_familiar("docker.io/library/a/b");
	assert_string_equal(a, "busybox");
	assert_string_equal(b, "user/app");
	assert_string_equal(c, "127.0.0.1:5000/library/busybox");
	assert_string_equal(d, "library/a/b");
}

static void test_id_like(void **state)
{
	(void)state;
	assert_true(image_id_like("abc123"));
	assert_true(image_id_like("sha256:" H64));
	assert_false(image_id_like("busybox"));
	assert_false(image_id_like(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),     cmocka_unit_test(test_no_default_tag),
		cmocka_unit_test(test_bad),	      cmocka_unit_test(test_familiar_repo),
		cmocka_unit_test(test_id_like),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
