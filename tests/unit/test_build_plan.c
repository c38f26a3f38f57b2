/* Build plan (src/build/plan.c): stages and --target closure, global and
 * stage ARGs, --build-arg, ENV over ARG, per-step expansion, ONBUILD
 * splicing, WORKDIR, the unused build-arg warning. */
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "build/dockerfile.h"
#include "build/expand.h"
#include "build/plan.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

struct fixture {
	struct df_file *df;
	struct build_plan *plan;
	struct build_step *steps;
	size_t nsteps;
};

static void fixture_release(struct fixture *fx)
{
	build_steps_free(fx->steps, fx->nsteps);
	build_plan_free(fx->plan);
	df_file_free(fx->df);
	memset(fx, 0, sizeof(*fx));
}

static struct build_plan *plan(struct fixture *fx, const char *text, char *const *build_args,
			       const char *target)
{
	_cleanup_error_ struct scow_error *err = NULL;
	if (df_parse(text, strlen(text), &fx->df, &err) < 0)
		fail_msg("parse: %s", err->msg);
	struct build_plan_opts o = {.build_args = build_args, .target = target};
	if (build_plan_new(fx->df, &o, &fx->plan, &err) < 0)
		fail_msg("plan: %s", err->msg);
	return fx->plan;
}

static void plan_fails(const char *text, char *const *build_args, const char *target,
		       const char *msg)
{
	struct df_file *df = NULL;
	struct build_plan *p = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (df_parse(text, strlen(text), &df, &err) < 0)
		fail_msg("parse: %s", err->msg);
	struct build_plan_opts o = {.build_args = build_args, .target = target};
	int r = build_plan_new(df, &o, &p, &err);
	build_plan_free(p);
	df_file_free(df);
	if (r == 0)
		fail_msg("planned:\n%s", text);
	if (!strstr(err->msg, msg))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg);
}

static struct build_step *steps(struct fixture *fx, size_t stage, const struct build_base *base)
{
	_cleanup_error_ struct scow_error *err = NULL;
	build_steps_free(fx->steps, fx->nsteps);
	fx->steps = NULL;
	fx->nsteps = 0;
	if (build_stage_steps(fx->plan, stage, base, &fx->steps, &fx->nsteps, &err) < 0)
		fail_msg("steps: %s", err->msg);
	return fx->steps;
}

static const char *env_of(const struct build_step *s, const char *k)
{
	return expand_env_get(s->env, k);
}

static void expect_args(char *const *args, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	for (size_t i = 0; args && args[i]; i++) {
		if (i)
			sb_appendc(&sb, '|');
		sb_append(&sb, args[i]);
	}
	if (strcmp(sb.buf, want) != 0)
		fail_msg("[%s], want [%s]", sb.buf, want);
	sb_release(&sb);
}

static void test_single_stage(void **state)
{
	(void)state;
	struct fixture fx = {0};
	struct build_plan *p = plan(&fx,
				    "FROM busybox\n"
				    "ENV APP=/srv/app PATH=$PATH:/srv/bin\n"
				    "WORKDIR $APP\n"
				    "WORKDIR sub/../data\n"
				    "COPY --chown=${UID:-1000} src/ ./\n"
				    "ENV A=1\n"
				    "ENV A=2 B=$A\n"
				    "RUN echo $APP\n"
				    "EXPOSE 80 ${PORT:-443}/tcp\n"
				    "CMD [\"run\"]\n",
				    NULL, NULL);
	assert_int_equal(p->nstages, 1);
	assert_int_equal(p->norder, 1);
	assert_int_equal(p->target, 0);
	assert_string_equal(p->stages[0].base, "busybox");
	assert_int_equal(p->stages[0].base_stage, -1);
	assert_false(p->stages[0].scratch);
	assert_int_equal(build_plan_step_count(p), 10);

	char *const base_env[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
	struct build_base base = {.env = base_env, .workdir = "/"};
	struct build_step *s = steps(&fx, 0, &base);
	assert_int_equal(fx.nsteps, 9);
	assert_string_equal(s[0].ins->kvs[1].value, "/usr/bin:/bin:/srv/bin");
	assert_string_equal(expand_env_get(s[0].config_env, "PATH"), "/usr/bin:/bin:/srv/bin");
	expect_args(s[1].ins->args, "/srv/app");
	assert_string_equal(s[1].workdir, "/srv/app");
	assert_string_equal(s[2].workdir, "/srv/app/data");
	assert_string_equal(s[3].ins->copy.chown, "1000");
	assert_string_equal(s[3].workdir, "/srv/app/data");
	/* ENV a=2 b=$a sees the value from before the instruction */
	assert_string_equal(s[5].ins->kvs[1].value, "1");
	assert_string_equal(expand_env_get(s[5].config_env, "A"), "2");
	assert_int_equal(s[6].ins->kind, DF_RUN);
	expect_args(s[6].ins->args, "echo $APP");
	expect_args(s[6].run.argv, "echo $APP");
	assert_true(s[6].run.prepend_shell);
	assert_string_equal(env_of(&s[6], "APP"), "/srv/app");
	assert_string_equal(env_of(&s[6], "HOME"), "/root");
	expect_args(s[7].ins->args, "80/tcp|443/tcp");
	assert_true(s[8].ins->json);
	/* the plan's instructions stay unexpanded */
	assert_string_equal(p->stages[0].ins[1]->args[0], "$APP");
	char *w = build_plan_unused_warning(p);
	assert_null(w);
	fixture_release(&fx);
}

static void test_global_args(void **state)
{
	(void)state;
	struct fixture fx = {0};
	const char *df = "ARG VERSION=1.36\n"
			 "ARG IMG=busybox\n"
			 "ARG FULL=${IMG}:${VERSION}\n"
			 "ARG NODEFAULT\n"
			 "FROM $FULL AS base\n"
			 "RUN echo $VERSION\n"
			 "ARG VERSION\n"
			 "ARG NODEFAULT\n"
			 "RUN echo $VERSION\n";
	struct build_plan *p = plan(&fx, df, NULL, NULL);
	assert_int_equal(p->nmeta, 4);
	assert_string_equal(p->stages[0].base, "busybox:1.36");
	assert_string_equal(expand_env_get(p->global_env, "FULL"), "busybox:1.36");
	assert_null(expand_env_get(p->global_env, "NODEFAULT"));
	assert_int_equal(build_plan_step_count(p), 4 + 1 + 4);
	struct build_step *s = steps(&fx, 0, NULL);
	/* global ARGs are not visible in the stage until declared again */
	assert_null(env_of(&s[0], "VERSION"));
	assert_string_equal(s[1].ins->kvs[0].value, "1.36");
	assert_string_equal(env_of(&s[3], "VERSION"), "1.36");
	expect_args(s[3].run_args, "VERSION=1.36");
	assert_null(s[2].ins->kvs[0].value); /* declared, never set */
	assert_null(env_of(&s[3], "NODEFAULT"));
	fixture_release(&fx);

	/* --build-arg overrides a global default and the stage sees it */
	char *const ba[] = {"VERSION=1.35", "NODEFAULT=given", NULL};
	p = plan(&fx, df, ba, NULL);
	assert_string_equal(p->stages[0].base, "busybox:1.35");
	s = steps(&fx, 0, NULL);
	assert_string_equal(env_of(&s[3], "VERSION"), "1.35");
	assert_string_equal(env_of(&s[3], "NODEFAULT"), "given");
	assert_null(build_plan_unused_warning(p));
	fixture_release(&fx);

	plan_fails("ARG IMG\nFROM $IMG\n", NULL, NULL,
		   "Dockerfile parse error on line 2: base name ($IMG) should not be blank");
	plan_fails("ARG X=${\nFROM busybox\n", NULL, NULL,
		   "Dockerfile parse error on line 1: failed to process \"${\"");
}

static void test_stage_args_and_env(void **state)
{
	(void)state;
	struct fixture fx = {0};
	const char *df = "FROM busybox\n"
			 "ARG A=default B=${A}-b\n"
			 "ARG C\n"
			 "ENV OVER=env\n"
			 "ARG OVER=arg\n"
			 "RUN x\n"
			 "ENV FROM_ARG=$A\n"
			 "ARG PATH=/arg/path\n"
			 "RUN y\n";
	plan(&fx, df, NULL, NULL);
	char *const base_env[] = {"PATH=/bin", NULL};
	struct build_base base = {.env = base_env};
	struct build_step *s = steps(&fx, 0, &base);
	assert_string_equal(s[0].ins->kvs[0].value, "default");
	assert_string_equal(s[0].ins->kvs[1].value, "default-b"); /* sees A of the same line */
	assert_null(s[1].ins->kvs[0].value);
	/* ENV wins over an ARG of the same name, also the base image's */
	assert_string_equal(env_of(&s[4], "OVER"), "env");
	expect_args(s[4].run_args, "A=default|B=default-b");
	assert_string_equal(expand_env_get(s[5].config_env, "FROM_ARG"), "default");
	assert_string_equal(env_of(&s[7], "PATH"), "/bin");
	/* ARGs never reach the image config */
	assert_null(expand_env_get(s[7].config_env, "A"));
	fixture_release(&fx);

	char *const ba[] = {"A=cli", "C=c", "UNUSED=1", "ALSO_UNUSED", "http_proxy=http://p:3128",
			    NULL};
	struct build_plan *p = plan(&fx, df, ba, NULL);
	s = steps(&fx, 0, &base);
	assert_string_equal(s[0].ins->kvs[0].value, "cli");
	assert_string_equal(s[0].ins->kvs[1].value, "cli-b");
	assert_string_equal(s[1].ins->kvs[0].value, "c");
	/* proxy ARGs reach RUN without a declaration */
	assert_string_equal(env_of(&s[4], "http_proxy"), "http://p:3128");
	expect_args(s[4].run_args, "A=cli|B=cli-b|C=c|http_proxy=http://p:3128");
	_cleanup_strv_ char **unused = build_plan_unused_args(p);
	expect_args(unused, "ALSO_UNUSED|UNUSED");
	_cleanup_free_ char *w = build_plan_unused_warning(p);
	assert_string_equal(w, "[Warning] One or more build-args [ALSO_UNUSED UNUSED] were not consumed");
	fixture_release(&fx);
}

static const char MULTI[] = "ARG BASE=busybox\n"
			    "FROM $BASE AS builder\n"
			    "ARG ONLY_BUILDER\n"
			    "RUN make\n"
			    "FROM builder AS test\n"
			    "RUN make test\n"
			    "FROM $BASE AS unused\n"
			    "ARG ONLY_UNUSED\n"
			    "RUN exit 1\n"
			    "FROM $BASE AS assets\n"
			    "RUN --mount=type=bind,from=builder,target=/b cp /b/x /x\n"
			    "FROM $BASE\n"
			    "COPY --from=builder /out /app\n"
			    "COPY --from=3 /x /x\n"
			    "COPY --from=busybox:1.36 /bin/sh /sh\n";

static void test_multistage_closure(void **state)
{
	(void)state;
	struct fixture fx = {0};
	struct build_plan *p = plan(&fx, MULTI, NULL, NULL);
	assert_int_equal(p->nstages, 5);
	assert_int_equal(p->target, 4);
	assert_int_equal(p->stages[1].base_stage, 0);
	assert_string_equal(p->stages[1].base, "builder");
	/* builder, assets, final: test and unused are skipped */
	assert_int_equal(p->norder, 3);
	assert_int_equal(p->order[0], 0);
	assert_int_equal(p->order[1], 3);
	assert_int_equal(p->order[2], 4);
	assert_false(p->stages[1].needed);
	assert_false(p->stages[2].needed);
	assert_int_equal(p->stages[4].ndeps, 2);
	assert_int_equal(p->stages[3].ndeps, 1);
	assert_int_equal(build_plan_step_count(p), 1 + 3 + 2 + 4);

	struct build_step *s = steps(&fx, 4, NULL);
	assert_int_equal(s[0].from_stage, 0);
	assert_int_equal(s[1].from_stage, 3);
	assert_int_equal(s[2].from_stage, -1);
	assert_string_equal(s[2].ins->copy.from, "busybox:1.36");
	s = steps(&fx, 3, NULL);
	assert_int_equal(s[0].ins->run.nmounts, 1);
	assert_int_equal(s[0].mount_stages[0], 0);
	/* ARGs of stages that do not run are not consumed */
	fixture_release(&fx);

	char *const ba[] = {"ONLY_BUILDER=1", "ONLY_UNUSED=1", NULL};
	p = plan(&fx, MULTI, ba, "TEST");
	assert_int_equal(p->target, 1);
	assert_int_equal(p->norder, 2);
	assert_int_equal(p->order[0], 0);
	assert_int_equal(p->order[1], 1);
	_cleanup_strv_ char **unused = build_plan_unused_args(p);
	expect_args(unused, "ONLY_UNUSED");
	assert_int_equal(build_plan_stage_ref(p, "Builder", p->nstages), 0);
	assert_int_equal(build_plan_stage_ref(p, "2", 3), 2);
	assert_int_equal(build_plan_stage_ref(p, "2", 2), -1);
	assert_int_equal(build_plan_stage_ref(p, "alpine", p->nstages), -1);
	fixture_release(&fx);

	plan_fails(MULTI, NULL, "nosuch", "target stage \"nosuch\" could not be found");
}

static void test_stage_errors(void **state)
{
	(void)state;
	plan_fails("FROM busybox\nCOPY --from=1 /a /b\nFROM busybox\n", NULL, NULL,
		   "Dockerfile parse error on line 2: invalid from flag value 1: refers to current "
		   "or future build stage");
	plan_fails("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n",
		   NULL, "b", "circular dependency detected on stage: b");
	plan_fails("FROM busybox AS a\nFROM busybox AS A\n", NULL, NULL, "duplicate stage name \"a\"");

	/* FROM names an earlier stage only: "FROM alpine AS alpine" is the image */
	struct fixture fx = {0};
	struct build_plan *p = plan(&fx, "FROM alpine AS alpine\nFROM alpine\nFROM scratch\n", NULL,
				    "alpine");
	assert_int_equal(p->stages[0].base_stage, -1);
	assert_int_equal(p->stages[1].base_stage, 0);
	assert_true(p->stages[2].scratch);
	fixture_release(&fx);

	/* a forward reference by name is allowed (BuildKit) */
	p = plan(&fx, "FROM busybox\nCOPY --from=later /x /x\nFROM busybox AS later\n", NULL, NULL);
	assert_int_equal(p->target, 1);
	fixture_release(&fx);
	p = plan(&fx, "FROM busybox AS first\nCOPY --from=later /x /x\nFROM busybox AS later\n", NULL,
		 "first");
	assert_int_equal(p->norder, 2);
	assert_int_equal(p->order[0], 1);
	assert_int_equal(p->order[1], 0);
	fixture_release(&fx);
}

static void test_platform_args(void **state)
{
	(void)state;
	struct fixture fx = {0};
	_cleanup_error_ struct scow_error *err = NULL;
	const char *text = "FROM --platform=$BUILDPLATFORM busybox AS b\n"
			   "ARG TARGETARCH TARGETPLATFORM\n"
			   "RUN echo $TARGETARCH\n";
	assert_int_equal(df_parse(text, strlen(text), &fx.df, &err), 0);
	char *const ba[] = {"TARGETOS=ignored", NULL};
	struct build_plan_opts o = {.build_args = ba, .platform = {"linux", "arm64", "v8"}};
	assert_int_equal(build_plan_new(fx.df, &o, &fx.plan, &err), 0);
	assert_string_equal(fx.plan->stages[0].platform, "linux/arm64/v8");
	struct build_step *s = steps(&fx, 0, NULL);
	assert_string_equal(env_of(&s[1], "TARGETARCH"), "arm64");
	assert_string_equal(env_of(&s[1], "TARGETPLATFORM"), "linux/arm64/v8");
	assert_null(env_of(&s[1], "BUILDOS")); /* not declared in the stage */
	_cleanup_strv_ char **unused = build_plan_unused_args(fx.plan);
	expect_args(unused, "");
	fixture_release(&fx);
}

static void test_onbuild_splice(void **state)
{
	(void)state;
	struct fixture fx = {0};
	plan(&fx, "FROM parent\nARG LATE=1\nRUN echo own\n", NULL, NULL);
	char *const trig[] = {"ARG CHILD=child-default",
			      "RUN echo $CHILD",
			      "COPY <<EOF /f\nv=$CHILD\nEOF",
			      "WORKDIR app",
			      NULL};
	char *const base_env[] = {"PATH=/bin", NULL};
	struct build_base base = {.env = base_env, .onbuild = trig, .workdir = "/srv"};
	struct build_step *s = steps(&fx, 0, &base);
	assert_int_equal(fx.nsteps, 6);
	assert_true(s[0].trigger);
	assert_true(s[3].trigger);
	assert_false(s[4].trigger);
	assert_string_equal(s[0].ins->kvs[0].value, "child-default");
	assert_string_equal(env_of(&s[1], "CHILD"), "child-default");
	assert_string_equal(s[2].ins->copy.inline_srcs[0].data, "v=child-default\n");
	assert_string_equal(s[3].workdir, "/srv/app");
	assert_string_equal(s[5].workdir, "/srv/app");
	/* trigger ARGs count as consumed */
	assert_int_equal(strv_len(fx.plan->consumed), 2);
	fixture_release(&fx);

	plan(&fx, "FROM parent\nRUN x\n", NULL, NULL);
	char *const bad[] = {"ONBUILD RUN x", NULL};
	struct build_base bb = {.onbuild = bad};
	struct build_step *out = NULL;
	size_t n = 0;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(build_stage_steps(fx.plan, 0, &bb, &out, &n, &err), -1);
	assert_non_null(strstr(err->msg, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"));
	fixture_release(&fx);
}

static void test_step_errors(void **state)
{
	(void)state;
	static const struct {
		const char *df, *msg;
	} bad[] = {
		{"FROM busybox\nENV A=1\nWORKDIR ${A:?need A}x\nUSER ${B:?need B}\n",
		 "Dockerfile parse error on line 4: failed to process \"${B:?need B}\": B: need B"},
		{"FROM busybox\nVOLUME $NOPE\n",
		 "Dockerfile parse error on line 2: VOLUME specified can not be an empty string"},
		{"FROM busybox\nWORKDIR $NOPE\n", "cannot normalize nothing"},
		{"FROM busybox\nRUN --mount=type=$T,target=/x true\n", "unsupported mount type \"\""},
		{"FROM busybox AS me\nCOPY --from=me /a /b\n", "circular dependency"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct fixture fx = {0};
		_cleanup_error_ struct scow_error *err = NULL;
		if (df_parse(bad[i].df, strlen(bad[i].df), &fx.df, &err) < 0)
			fail_msg("parse: %s", err->msg);
		int r = build_plan_new(fx.df, NULL, &fx.plan, &err);
		if (r == 0)
			r = build_stage_steps(fx.plan, 0, NULL, &fx.steps, &fx.nsteps, &err);
		if (r == 0)
			fail_msg("accepted:\n%s", bad[i].df);
		if (!strstr(err->msg, bad[i].msg))
			fail_msg("message \"%s\" lacks \"%s\"", err->msg, bad[i].msg);
		fixture_release(&fx);
	}
}

static void test_heredoc_steps(void **state)
{
	(void)state;
	struct fixture fx = {0};
	plan(&fx,
	     "FROM busybox\nENV NAME=scow\n"
	     "COPY <<EOF <<'RAW' /etc/\nhello $NAME\nEOF\nhello $NAME\nRAW\n"
	     "RUN <<EOF\necho $NAME\nEOF\n",
	     NULL, NULL);
	struct build_step *s = steps(&fx, 0, NULL);
	assert_string_equal(s[1].ins->copy.inline_srcs[0].data, "hello scow\n");
	assert_string_equal(s[1].ins->copy.inline_srcs[1].data, "hello $NAME\n");
	expect_args(s[2].run.argv, "echo $NAME\n"); /* the shell expands RUN */
	assert_string_equal(s[2].ins->original, "RUN <<EOF");
	assert_int_equal(s[2].ins->line, 8);
	fixture_release(&fx);
}

static void test_expose_signal(void **state)
{
	(void)state;
	_cleanup_error_ struct scow_error *err = NULL;
	char *const ports[] = {"80", "53/UDP", "8000-8002", "127.0.0.1:8080:80/tcp", "9/sctp",
			       "80/tcp", NULL};
	_cleanup_strv_ char **out = NULL;
	assert_int_equal(build_expose_normalize(ports, &out, &err), 0);
	expect_args(out, "80/tcp|53/udp|8000/tcp|8001/tcp|8002/tcp|9/sctp");
	static const struct {
		const char *port, *msg;
	} bad[] = {
		{"80/xyz", "invalid proto: xyz"},
		{"http", "invalid containerPort: http"},
		{"70000", "invalid containerPort: 70000"},
		{"90-80", "invalid containerPort: 90-80"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *const one[] = {(char *)bad[i].port, NULL};
		char **o = NULL;
		error_free(err);
		err = NULL;
		assert_int_equal(build_expose_normalize(one, &o, &err), -1);
		if (!strstr(err->msg, bad[i].msg))
			fail_msg("%s: %s", bad[i].port, err->msg);
	}
	assert_int_equal(build_signal_check("SIGKILL", &err), 0);
	assert_int_equal(build_signal_check("term", &err), 0);
	assert_int_equal(build_signal_check("9", &err), 0);
	assert_int_equal(build_signal_check("SIGRTMIN+3", &err), 0);
	assert_int_equal(build_signal_check("SIGFOO", &err), -1);
	assert_string_equal(err->msg, "invalid signal: SIGFOO");
	error_free(err);
	err = NULL;
	assert_int_equal(build_signal_check("0", &err), -1);

	/* both are applied to the steps */
	struct fixture fx = {0};
	plan(&fx, "FROM busybox\nENV P=\"80 81\" S=SIGQUIT\nEXPOSE $P\nSTOPSIGNAL $S\n", NULL, NULL);
	struct build_step *s = steps(&fx, 0, NULL);
	expect_args(s[1].ins->args, "80/tcp|81/tcp");
	expect_args(s[2].ins->args, "SIGQUIT");
	fixture_release(&fx);
	struct fixture fx2 = {0};
	plan(&fx2, "FROM busybox\nSTOPSIGNAL NOPE\n", NULL, NULL);
	struct build_step *o = NULL;
	size_t n = 0;
	assert_int_equal(build_stage_steps(fx2.plan, 0, NULL, &o, &n, &err), -1);
	assert_non_null(strstr(err->msg, "Dockerfile parse error on line 2: invalid signal: NOPE"));
	fixture_release(&fx2);
}

/* The args fixture gives what its README promises. */
static void test_args_fixture(void **state)
{
	(void)state;
	_cleanup_free_ char *src = xstrdup(__FILE__);
	_cleanup_free_ char *path =
		xasprintf("%s/../fixtures/dockerfiles/args/Dockerfile", dirname(src));
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	struct fixture fx = {0};
	plan(&fx, buf, NULL, NULL);
	struct build_step *s = steps(&fx, 0, NULL);
	const struct build_step *run = NULL;
	for (size_t i = 0; i < fx.nsteps; i++)
		if (s[i].ins->kind == DF_RUN)
			run = &s[i];
	assert_non_null(run);
	assert_string_equal(env_of(run, "GLOBAL"), "global-default");
	assert_string_equal(env_of(run, "LOCAL"), "local-default");
	assert_string_equal(env_of(run, "FROM_LOCAL"), "local-default-derived");
	assert_string_equal(env_of(run, "OVERRIDDEN"), "from-env");
	assert_string_equal(expand_env_get(s[fx.nsteps - 1].config_env, "SAVED"), "local-default");
	fixture_release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_stage),	   cmocka_unit_test(test_global_args),
		cmocka_unit_test(test_stage_args_and_env), cmocka_unit_test(test_multistage_closure),
		cmocka_unit_test(test_stage_errors),	   cmocka_unit_test(test_platform_args),
		cmocka_unit_test(test_onbuild_splice),	   cmocka_unit_test(test_step_errors),
		cmocka_unit_test(test_heredoc_steps),	   cmocka_unit_test(test_args_fixture),
		cmocka_unit_test(test_expose_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
