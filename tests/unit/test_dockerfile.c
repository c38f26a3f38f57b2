/* Dockerfile parser (src/build/dockerfile.c): directives, comments,
 * continuations, every instruction's forms and flags, heredocs, JSON vs
 * shell form, errors with line numbers, and the fixtures in
 * tests/fixtures/dockerfiles. */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "build/dockerfile.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static struct df_file *parse(const char *text)
{
	struct df_file *f = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (df_parse(text, strlen(text), &f, &err) < 0)
		fail_msg("parse failed: %s\n--- input:\n%s", err->msg, text);
	return f;
}

static void expect_error(const char *text, const char *msg)
{
	struct df_file *f = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (df_parse(text, strlen(text), &f, &err) == 0) {
		df_file_free(f);
		fail_msg("accepted:\n%s", text);
	}
	if (!strstr(err->msg, msg))
		fail_msg("message \"%s\" lacks \"%s\"\n--- input:\n%s", err->msg, msg, text);
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
		fail_msg("args [%s], want [%s]", sb.buf, want);
	sb_release(&sb);
}

/* The instruction after "FROM busybox\n" + text. */
#define WITH_FROM(text) "FROM busybox\n" text

static void test_basic_structure(void **state)
{
	(void)state;
	struct df_file *f = parse("FROM busybox\nRUN echo hi\n\n# comment\n  # indented\nCMD [\"sh\"]\n");
	assert_int_equal(f->nins, 3);
	assert_int_equal(f->ins[0].kind, DF_FROM);
	assert_int_equal(f->ins[0].line, 1);
	assert_int_equal(f->ins[1].kind, DF_RUN);
	assert_int_equal(f->ins[1].line, 2);
	assert_string_equal(f->ins[1].original, "RUN echo hi");
	expect_args(f->ins[1].args, "echo hi");
	assert_false(f->ins[1].json);
	assert_int_equal(f->ins[2].line, 6);
	assert_true(f->ins[2].json);
	assert_int_equal(f->escape, '\\');
	assert_null(f->syntax);
	df_file_free(f);

	/* keywords are case-insensitive; the text as written is kept */
	f = parse("from busybox\nRun echo\ncOpY a b\n");
	assert_int_equal(f->ins[0].kind, DF_FROM);
	assert_int_equal(f->ins[1].kind, DF_RUN);
	assert_string_equal(f->ins[1].cmd, "Run");
	assert_int_equal(f->ins[2].kind, DF_COPY);
	assert_string_equal(df_kind_name(f->ins[2].kind), "COPY");
	df_file_free(f);

	/* '#' inside a line is no comment; CRLF endings; a BOM */
	f = parse("\xef\xbb\xbf" "FROM busybox\r\nRUN echo # not a comment\r\n");
	assert_int_equal(f->nins, 2);
	expect_args(f->ins[1].args, "echo # not a comment");
	df_file_free(f);

	/* leading white space before an instruction */
	f = parse("   FROM busybox\n\t RUN x\n");
	assert_string_equal(f->ins[1].original, "RUN x");
	df_file_free(f);
}

static void test_directives(void **state)
{
	(void)state;
	struct df_file *f = parse("# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\n"
				  "FROM busybox\nRUN echo a `\n  b\nRUN dir C:\\x\\\n");
	assert_int_equal(f->escape, '`');
	assert_string_equal(f->syntax, "docker/dockerfile:1");
	assert_int_equal(f->nins, 3);
	expect_args(f->ins[1].args, "echo a   b");
	assert_int_equal(f->ins[1].line, 5);
	assert_int_equal(f->ins[1].end_line, 6);
	/* with ` as escape a trailing backslash is ordinary */
	expect_args(f->ins[2].args, "dir C:\\x\\");
	df_file_free(f);

	/* case-insensitive names, spaces around '=' */
	f = parse("#  ESCAPE = `\nFROM busybox\n");
	assert_int_equal(f->escape, '`');
	df_file_free(f);

	/* a directive after a comment, an empty line, an unknown directive or an
	 * instruction is just a comment */
	f = parse("# comment\n# escape=`\nFROM busybox\n");
	assert_int_equal(f->escape, '\\');
	df_file_free(f);
	f = parse("\n# escape=`\nFROM busybox\n");
	assert_int_equal(f->escape, '\\');
	df_file_free(f);
	f = parse("# foo=bar\n# escape=`\nFROM busybox\n");
	assert_int_equal(f->escape, '\\');
	df_file_free(f);
	f = parse("FROM busybox\n# escape=`\nRUN a \\\n b\n");
	assert_int_equal(f->escape, '\\');
	expect_args(f->ins[1].args, "a  b");
	df_file_free(f);

	expect_error("# escape=`\n# escape=\\\nFROM busybox\n",
		     "Dockerfile parse error on line 2: only one escape parser directive can be used");
	expect_error("# escape=x\nFROM busybox\n", "invalid escape token 'x' does not match ` or \\");
}

static void test_continuations(void **state)
{
	(void)state;
	/* continuation lines keep their leading white space; comment lines and
	 * empty lines inside a continuation vanish (the latter with a warning) */
	struct df_file *f = parse("FROM busybox\n"
				  "RUN apt-get update && \\\n"
				  "    # a comment inside\n"
				  "\n"
				  "    apt-get install -y x \\  \n"
				  "\ty\n"
				  "RUN next\n");
	assert_int_equal(f->nins, 3);
	expect_args(f->ins[1].args, "apt-get update &&     apt-get install -y x \ty");
	assert_int_equal(f->ins[1].line, 2);
	assert_int_equal(f->ins[1].end_line, 6);
	assert_int_equal(f->ins[2].line, 7);
	assert_int_equal(strv_len(f->warnings), 1);
	assert_non_null(strstr(f->warnings[0], "Empty continuation line found in: RUN apt-get"));
	df_file_free(f);

	/* an escaped escape at the end is no continuation */
	f = parse("FROM busybox\nRUN echo \\\\\nRUN b\n");
	assert_int_equal(f->nins, 3);
	expect_args(f->ins[1].args, "echo \\\\");
	df_file_free(f);

	/* a line holding only the escape char continues; EOF ends a continuation */
	f = parse("FROM busybox\nRUN a \\\n\\\n b \\\n");
	assert_int_equal(f->nins, 2);
	expect_args(f->ins[1].args, "a  b");
	df_file_free(f);

	/* the instruction keyword itself may be continued */
	f = parse("FROM \\\n busybox\n");
	expect_args(f->ins[0].args, "busybox");
	df_file_free(f);
}

static void test_from(void **state)
{
	(void)state;
	struct df_file *f = parse("FROM --platform=linux/amd64 busybox:1.36 AS Build\n"
				  "FROM build as final\nFROM scratch\n");
	assert_string_equal(f->ins[0].from.image, "busybox:1.36");
	assert_string_equal(f->ins[0].from.stage, "build");
	assert_string_equal(f->ins[0].from.platform, "linux/amd64");
	assert_string_equal(f->ins[1].from.stage, "final");
	assert_null(f->ins[2].from.stage);
	assert_null(f->ins[2].from.platform);
	df_file_free(f);

	expect_error("FROM a b\n", "FROM requires either one or three arguments");
	expect_error("FROM\n", "FROM requires either one or three arguments");
	expect_error("FROM a AS 1x\n", "invalid name for build stage: \"1x\", name can't start with "
				       "a number or contain symbols");
	expect_error("FROM a AS b$c\n", "invalid name for build stage");
	expect_error("FROM --platform busybox\n", "Missing a value on flag: platform");
	expect_error("FROM --foo=1 busybox\n", "Unknown flag: foo");
	expect_error("FROM --platform=a --platform=b busybox\n", "Duplicate flag specified: platform");
}

static void test_run(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM(
		"RUN [\"echo\", \"a b\"]\n"
		"RUN [ \"sh\" , \"-c\" ]  \n"
		"RUN [echo]\n"
		"RUN [\"a\"] trailing\n"
		"RUN --mount=type=cache,target=/root/.cache,id=pip --network=none "
		"--security=insecure pip install x\n"
		"RUN --mount=type=bind,from=builder,source=/out,target=/in --mount=type=tmpfs,"
		"target=/t,size=64m cp /in/x /t\n"
		"RUN\n"
		"RUN []\n"
		"RUN --network=host -- --weird\n"));
	struct df_instruction *r = &f->ins[1];
	assert_true(r->json);
	expect_args(r->args, "echo|a b");
	assert_true(f->ins[2].json);
	expect_args(f->ins[2].args, "sh|-c");
	/* invalid JSON is shell form */
	assert_false(f->ins[3].json);
	expect_args(f->ins[3].args, "[echo]");
	assert_false(f->ins[4].json);
	expect_args(f->ins[4].args, "[\"a\"] trailing");
	r = &f->ins[5];
	expect_args(r->run.mount_specs, "type=cache,target=/root/.cache,id=pip");
	assert_string_equal(r->run.network, "none");
	assert_string_equal(r->run.security, "insecure");
	expect_args(r->args, "pip install x");
	expect_args(r->flags, "--mount=type=cache,target=/root/.cache,id=pip|--network=none|"
			      "--security=insecure");
	r = &f->ins[6];
	assert_int_equal(strv_len(r->run.mount_specs), 2);
	assert_null(r->run.network);
	expect_args(f->ins[7].args, "");
	assert_false(f->ins[7].json);
	expect_args(f->ins[8].args, "");
	assert_true(f->ins[8].json);
	expect_args(f->ins[9].args, "--weird");
	df_file_free(f);

	expect_error(WITH_FROM("RUN [\"echo\", 1]\n"),
		     "when using JSON array syntax, arrays must be comprised of strings only");
	expect_error(WITH_FROM("RUN --mount=type=bind,from=$STAGE,target=/x true\n"),
		     "'from' doesn't support variable expansion, define alias stage instead");
	expect_error(WITH_FROM("RUN --network=bogus true\n"), "unsupported network mode \"bogus\"");
	expect_error(WITH_FROM("RUN --security=x true\n"), "unsupported security mode \"x\"");
	/* flag words lose their quotes; an escaped one reaches the CSV */
	expect_error(WITH_FROM("RUN --mount=target=/x,a\\\"b true\n"),
		     "Dockerfile parse error on line 2: failed to parse csv mounts: bare \"");
	expect_error(WITH_FROM("RUN --frobnicate true\n"),
		     "Dockerfile parse error on line 2: Unknown flag: frobnicate");
	expect_error(WITH_FROM("CMD --help\n"), "Unknown flag: help");
}

static void test_mount_parse(void **state)
{
	(void)state;
	_cleanup_error_ struct scow_error *err = NULL;
	struct df_mount m;
	assert_int_equal(df_mount_parse("type=cache,target=/c,id=x,sharing=locked,mode=0700,uid=1,"
					"gid=2",
					&m, &err),
			 0);
	assert_int_equal(m.type, DF_MOUNT_CACHE);
	assert_string_equal(m.target, "/c");
	assert_string_equal(m.id, "x");
	assert_int_equal(m.sharing, DF_SHARING_LOCKED);
	assert_true(m.has_mode);
	assert_int_equal(m.mode, 0700);
	assert_int_equal(m.uid, 1);
	assert_int_equal(m.gid, 2);
	assert_false(m.readonly);
	df_mount_release(&m);

	assert_int_equal(df_mount_parse("target=/src", &m, &err), 0);
	assert_int_equal(m.type, DF_MOUNT_BIND);
	assert_true(m.readonly); /* bind mounts default to read-only */
	df_mount_release(&m);
	assert_int_equal(df_mount_parse("type=bind,target=/src,rw", &m, &err), 0);
	assert_false(m.readonly);
	df_mount_release(&m);
	assert_int_equal(df_mount_parse("type=tmpfs,dst=/t,size=1g", &m, &err), 0);
	assert_int_equal(m.size, 1024LL * 1024 * 1024);
	df_mount_release(&m);
	assert_int_equal(df_mount_parse("type=secret,id=tok,required,env=TOKEN", &m, &err), 0);
	assert_true(m.required);
	assert_string_equal(m.env, "TOKEN");
	df_mount_release(&m);
	assert_int_equal(df_mount_parse("type=ssh", &m, &err), 0);
	df_mount_release(&m);
	assert_int_equal(df_mount_parse("\"type=bind\",\"target=/a,b\"", &m, &err), 0);
	assert_string_equal(m.target, "/a,b");
	df_mount_release(&m);

	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{"type=nfs", "unsupported mount type \"nfs\""},
		{"type=bind,mode=0755", "mode not allowed for \"bind\" type mounts"},
		{"type=tmpfs,uid=1", "uid not allowed for \"tmpfs\" type mounts"},
		{"type=bind,size=1", "unexpected key 'size' for mount type 'bind'"},
		{"type=cache,required", "unexpected key 'required' for mount type 'cache'"},
		{"type=secret,from=x,id=a", "secret mount should not have a from"},
		{"type=secret", "invalid secret mount. one of source, target required"},
		{"type=secret,id=a,source=b", "both source and id can't be set"},
		{"type=bind,sharing=shared", "invalid cache sharing set for bind mount"},
		{"type=cache,sharing=odd", "unsupported sharing value \"odd\""},
		{"bogus=1", "unexpected key 'bogus' in 'bogus=1'"},
		{"target", "invalid field 'target' must be a key=value pair"},
		{"ro=maybe", "invalid value for ro: maybe"},
		{"type=cache,mode=9", "invalid value 9 for mode"},
		{"a\"b", "bare \" in non-quoted-field"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		error_free(err);
		err = NULL;
		if (df_mount_parse(bad[i].spec, &m, &err) == 0)
			fail_msg("%s: accepted", bad[i].spec);
		if (!strstr(err->msg, bad[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].spec, err->msg, bad[i].msg);
	}
}

static void test_cmd_entrypoint_shell(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM("CMD [\"nginx\", \"-g\", \"daemon off;\"]\nCMD echo $HOME\n"
					    "CMD\nENTRYPOINT [\"/entry.sh\"]\nENTRYPOINT exec top -b\n"
					    "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"));
	expect_args(f->ins[1].args, "nginx|-g|daemon off;");
	assert_true(f->ins[1].json);
	expect_args(f->ins[2].args, "echo $HOME"); /* never expanded by the parser */
	expect_args(f->ins[3].args, "");
	assert_true(f->ins[4].json);
	expect_args(f->ins[5].args, "exec top -b");
	expect_args(f->ins[6].args, "/bin/bash|-o|pipefail|-c");
	df_file_free(f);
	expect_error(WITH_FROM("SHELL /bin/bash -c\n"), "SHELL requires the arguments to be in JSON form");
	expect_error(WITH_FROM("SHELL []\n"), "SHELL requires at least one argument");
	expect_error(WITH_FROM("ENTRYPOINT [\"a\", null]\n"), "arrays must be comprised of strings");
}

static void test_env_label(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM("ENV MY_NAME=\"John Doe\" MY_DOG=Rex\\ The\\ Dog \\\n"
					    "    MY_CAT=fluffy\n"
					    "ENV OLD value with  spaces\n"
					    "ENV EMPTY= A='single'\n"
					    "LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0\n"
					    "LABEL description=\"multi \\\nline\"\n"
					    "LABEL old style label\n"));
	struct df_instruction *e = &f->ins[1];
	assert_int_equal(e->nkvs, 3);
	assert_string_equal(e->kvs[0].key, "MY_NAME");
	assert_string_equal(e->kvs[0].value, "\"John Doe\""); /* raw until expanded */
	assert_string_equal(e->kvs[1].value, "Rex\\ The\\ Dog");
	assert_string_equal(e->kvs[2].key, "MY_CAT");
	e = &f->ins[2];
	assert_int_equal(e->nkvs, 1);
	assert_string_equal(e->kvs[0].key, "OLD");
	assert_string_equal(e->kvs[0].value, "value with  spaces");
	e = &f->ins[3];
	assert_string_equal(e->kvs[0].key, "EMPTY");
	assert_string_equal(e->kvs[0].value, "");
	assert_string_equal(e->kvs[1].value, "'single'");
	e = &f->ins[4];
	assert_int_equal(e->kind, DF_LABEL);
	assert_string_equal(e->kvs[0].key, "\"com.example.vendor\"");
	assert_string_equal(e->kvs[1].key, "version");
	assert_string_equal(f->ins[5].kvs[0].value, "\"multi line\"");
	assert_string_equal(f->ins[6].kvs[0].key, "old");
	assert_string_equal(f->ins[6].kvs[0].value, "style label");

	/* expansion removes quotes and escapes */
	char *const env[] = {"X=1", NULL};
	_cleanup_error_ struct scow_error *err = NULL;
	struct df_instruction *d = df_instruction_dup(&f->ins[1]);
	assert_int_equal(df_instruction_expand(d, '\\', env, &err), 0);
	assert_string_equal(d->kvs[0].value, "John Doe");
	assert_string_equal(d->kvs[1].value, "Rex The Dog");
	df_instruction_free(d);
	df_file_free(f);

	expect_error(WITH_FROM("ENV ONLYKEY\n"), "ENV must have two arguments");
	expect_error(WITH_FROM("ENV\n"), "ENV requires at least one argument");
	expect_error(WITH_FROM("ENV a=1 b\n"),
		     "Syntax error - can't find = in \"b\". Must be of the form: name=value");
	expect_error(WITH_FROM("ENV =x\n"), "ENV names can not be blank");
	expect_error(WITH_FROM("LABEL\n"), "LABEL requires at least one argument");
	expect_error(WITH_FROM("LABEL single\n"), "LABEL must have two arguments");
}

static void test_copy_add(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM(
		"COPY --from=build --chown=1000:1000 --chmod=0644 --link --parents "
		"--exclude=*.md --exclude=tmp/ a b /dst/\n"
		"COPY [\"src with space\", \"/dst dir/\"]\n"
		"ADD --chown=app --chmod=755 --keep-git-dir=true --checksum=sha256:abc "
		"https://example.com/x.tar.gz /x/\n"
		"ADD --link=false a /b\n"
		"ADD --unpack=true x.tar /y\n"
		"COPY \"a b\" /c\n"));
	struct df_instruction *c = &f->ins[1];
	assert_string_equal(c->copy.from, "build");
	assert_string_equal(c->copy.chown, "1000:1000");
	assert_string_equal(c->copy.chmod, "0644");
	assert_true(c->copy.link);
	assert_true(c->copy.parents);
	expect_args(c->copy.excludes, "*.md|tmp/");
	expect_args(c->copy.srcs, "a|b");
	assert_string_equal(c->copy.dest, "/dst/");
	c = &f->ins[2];
	assert_true(c->json);
	expect_args(c->copy.srcs, "src with space");
	assert_string_equal(c->copy.dest, "/dst dir/");
	c = &f->ins[3];
	assert_int_equal(c->kind, DF_ADD);
	assert_true(c->copy.keep_git_dir);
	assert_string_equal(c->copy.checksum, "sha256:abc");
	assert_false(c->copy.link);
	expect_args(c->copy.srcs, "https://example.com/x.tar.gz");
	assert_false(f->ins[4].copy.link);
	assert_int_equal(f->ins[4].copy.unpack, -1);
	assert_int_equal(f->ins[5].copy.unpack, 1);
	/* shell form splits on white space only: quotes stay for expansion */
	expect_args(f->ins[6].copy.srcs, "\"a|b\"");
	df_file_free(f);

	expect_error(WITH_FROM("COPY onlyone\n"),
		     "COPY requires at least two arguments, but only one was provided. Destination "
		     "could not be determined");
	expect_error(WITH_FROM("ADD x\n"), "ADD requires at least two arguments");
	expect_error(WITH_FROM("ADD --from=x a b\n"), "Unknown flag: from");
	expect_error(WITH_FROM("COPY --keep-git-dir a b\n"), "Unknown flag: keep-git-dir");
	expect_error(WITH_FROM("COPY --unpack a b\n"), "Unknown flag: unpack");
	expect_error(WITH_FROM("COPY --link=maybe a b\n"),
		     "Expecting boolean value for flag link, not: maybe");
	expect_error(WITH_FROM("COPY --link= a b\n"), "Missing a value on flag: link");
	expect_error(WITH_FROM("COPY --chown a b\n"), "Missing a value on flag: chown");
	expect_error(WITH_FROM("COPY a <<EOF\nx\nEOF\n"), "COPY cannot accept a heredoc as a destination");
}

static void test_misc_instructions(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM("MAINTAINER Jane Doe <jane@example.com>\n"
					    "EXPOSE 80 443/tcp   53/udp\n"
					    "VOLUME /data /logs\n"
					    "VOLUME [\"/var/lib/x\"]\n"
					    "USER app:app\n"
					    "WORKDIR /path with space\n"
					    "STOPSIGNAL SIGKILL\n"
					    "ARG A B=2 C=\"x y\" D=\n"));
	expect_args(f->ins[1].args, "Jane Doe <jane@example.com>");
	expect_args(f->ins[2].args, "80|443/tcp|53/udp");
	expect_args(f->ins[3].args, "/data|/logs");
	assert_true(f->ins[4].json);
	expect_args(f->ins[4].args, "/var/lib/x");
	expect_args(f->ins[5].args, "app:app");
	expect_args(f->ins[6].args, "/path with space");
	expect_args(f->ins[7].args, "SIGKILL");
	struct df_instruction *a = &f->ins[8];
	assert_int_equal(a->nkvs, 4);
	assert_string_equal(a->kvs[0].key, "A");
	assert_null(a->kvs[0].value);
	assert_string_equal(a->kvs[1].value, "2");
	assert_string_equal(a->kvs[2].value, "\"x y\"");
	assert_string_equal(a->kvs[3].value, "");
	df_file_free(f);

	expect_error(WITH_FROM("MAINTAINER\n"), "MAINTAINER requires exactly one argument");
	expect_error(WITH_FROM("EXPOSE\n"), "EXPOSE requires at least one argument");
	expect_error(WITH_FROM("VOLUME\n"), "VOLUME requires at least one argument");
	expect_error(WITH_FROM("VOLUME []\n"), "VOLUME requires at least one argument");
	expect_error(WITH_FROM("VOLUME [\"\"]\n"), "VOLUME specified can not be an empty string");
	expect_error(WITH_FROM("USER\n"), "USER requires exactly one argument");
	expect_error(WITH_FROM("WORKDIR\n"), "WORKDIR requires exactly one argument");
	expect_error(WITH_FROM("STOPSIGNAL\n"), "STOPSIGNAL requires exactly one argument");
	expect_error(WITH_FROM("ARG\n"), "ARG requires at least one argument");
	expect_error(WITH_FROM("ARG =x\n"), "ARG names can not be blank");
	expect_error(WITH_FROM("USER --x=1 root\n"), "Unknown flag: x");
}

static void test_onbuild(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM("ONBUILD ADD . /app/src\n"
					    "onbuild RUN --mount=type=cache,target=/c make\n"
					    "ONBUILD COPY <<EOF /greeting\nhello\nEOF\n"));
	struct df_instruction *o = &f->ins[1];
	assert_int_equal(o->kind, DF_ONBUILD);
	assert_non_null(o->trigger);
	assert_int_equal(o->trigger->kind, DF_ADD);
	assert_string_equal(o->onbuild_expr, "ADD . /app/src");
	o = &f->ins[2];
	assert_int_equal(o->trigger->kind, DF_RUN);
	expect_args(o->trigger->run.mount_specs, "type=cache,target=/c");
	assert_string_equal(o->onbuild_expr, "RUN --mount=type=cache,target=/c make");
	o = &f->ins[3];
	assert_int_equal(o->nheredocs, 1);
	assert_string_equal(o->onbuild_expr, "COPY <<EOF /greeting\nhello\nEOF");
	assert_int_equal(o->trigger->copy.ninline, 1);
	assert_string_equal(o->trigger->copy.inline_srcs[0].data, "hello\n");
	assert_int_equal(o->end_line, 6);

	/* the stored triggers parse back in a child build */
	char *triggers[] = {f->ins[1].onbuild_expr, f->ins[3].onbuild_expr, NULL};
	struct df_file *t = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(df_parse_triggers(triggers, &t, &err), 0);
	assert_int_equal(t->nins, 2);
	assert_int_equal(t->ins[0].kind, DF_ADD);
	assert_string_equal(t->ins[1].copy.inline_srcs[0].data, "hello\n");
	df_file_free(t);
	df_file_free(f);

	expect_error(WITH_FROM("ONBUILD ONBUILD RUN x\n"),
		     "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	expect_error(WITH_FROM("ONBUILD FROM x\n"), "FROM isn't allowed as an ONBUILD trigger");
	expect_error(WITH_FROM("ONBUILD MAINTAINER x\n"), "MAINTAINER isn't allowed as an ONBUILD trigger");
	expect_error(WITH_FROM("ONBUILD\n"), "ONBUILD requires at least one argument");
	expect_error(WITH_FROM("ONBUILD FOO x\n"), "unknown instruction: FOO");
	expect_error(WITH_FROM("ONBUILD COPY a\n"), "COPY requires at least two arguments");

	/* a long chain is refused without nesting as deep as the line */
	struct strbuf chain = STRBUF_INIT;
	sb_append(&chain, "FROM busybox\n");
	for (int i = 0; i < 50000; i++)
		sb_append(&chain, "ONBUILD ");
	sb_append(&chain, "RUN x\n");
	expect_error(chain.buf, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	sb_release(&chain);

	char *bad[] = {"FROM x", NULL};
	char *bad2[] = {"RUN a\nRUN b", NULL};
	assert_int_equal(df_parse_triggers(bad, &t, &err), -1);
	assert_non_null(strstr(err->msg, "FROM isn't allowed as an ONBUILD trigger"));
	error_free(err);
	err = NULL;
	assert_int_equal(df_parse_triggers(bad2, &t, &err), -1);
	assert_non_null(strstr(err->msg, "onbuild trigger should be a single expression"));
}

static void test_healthcheck(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM(
		"HEALTHCHECK NONE\n"
		"HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=500ms "
		"--retries=3 CMD curl -f http://localhost/ || exit 1\n"
		"HEALTHCHECK cmd [\"/bin/check\", \"-q\"]\n"
		"HEALTHCHECK --interval=0 CMD true\n"));
	expect_args(f->ins[1].health.test, "NONE");
	struct df_healthcheck *h = &f->ins[2].health;
	expect_args(h->test, "CMD-SHELL|curl -f http://localhost/ || exit 1");
	assert_int_equal(h->interval, 30LL * 1000000000);
	assert_int_equal(h->timeout, 90LL * 1000000000);
	assert_int_equal(h->start_period, 5LL * 1000000000);
	assert_int_equal(h->start_interval, 500LL * 1000000);
	assert_int_equal(h->retries, 3);
	expect_args(f->ins[3].health.test, "CMD|/bin/check|-q");
	assert_int_equal(f->ins[4].health.interval, 0);
	df_file_free(f);

	expect_error(WITH_FROM("HEALTHCHECK\n"), "HEALTHCHECK requires at least one argument");
	expect_error(WITH_FROM("HEALTHCHECK NONE x\n"), "HEALTHCHECK NONE takes no arguments");
	expect_error(WITH_FROM("HEALTHCHECK CMD\n"), "Missing command after HEALTHCHECK CMD");
	expect_error(WITH_FROM("HEALTHCHECK PING x\n"), "Unknown type \"PING\" in HEALTHCHECK (try CMD)");
	expect_error(WITH_FROM("HEALTHCHECK --interval=1ns CMD x\n"),
		     "Interval \"interval\" cannot be less than 1ms");
	expect_error(WITH_FROM("HEALTHCHECK --timeout=5 CMD x\n"),
		     "time: missing unit in duration \"5\"");
	expect_error(WITH_FROM("HEALTHCHECK --timeout=5y CMD x\n"),
		     "time: unknown unit \"y\" in duration \"5y\"");
	expect_error(WITH_FROM("HEALTHCHECK --retries=-1 CMD x\n"), "--retries cannot be negative (-1)");
	expect_error(WITH_FROM("HEALTHCHECK --retries=x CMD x\n"), "invalid syntax");
	expect_error(WITH_FROM("HEALTHCHECK --bogus=1 CMD x\n"), "Unknown flag: bogus");

	long long d;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(df_parse_duration("1h2m3.5s", &d, &err), 0);
	assert_int_equal(d, 3723500000000LL);
	assert_int_equal(df_parse_duration("1.5us", &d, &err), 0);
	assert_int_equal(d, 1500);
	assert_int_equal(df_parse_duration("-2ms", &d, &err), 0);
	assert_int_equal(d, -2000000);
	assert_int_equal(df_parse_duration(".5s", &d, &err), 0);
	assert_int_equal(d, 500000000);
	assert_int_equal(df_parse_duration("", &d, &err), -1);
}

static void test_heredocs(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM("RUN <<EOF\n"
					    "echo hi\n"
					    "  indented\n"
					    "EOF\n"
					    "RUN <<-EOT bash\n"
					    "\techo tabs\n"
					    "\tEOT\n"
					    "RUN cat <<\"A\" > /a && 3<<'B' cat\n"
					    "$x\n"
					    "A\n"
					    "y\n"
					    "B\n"
					    "COPY <<one <<two /dst/\n"
					    "1\n"
					    "one\n"
					    "2 $X\n"
					    "two\n"
					    "RUN echo \"<<EOF\" '<<X' <<<str\n"
					    "RUN [\"cat\", \"<<EOF\"]\n"
					    "CMD echo after\n"));
	struct df_instruction *r = &f->ins[1];
	assert_int_equal(r->nheredocs, 1);
	assert_string_equal(r->heredocs[0].name, "EOF");
	assert_string_equal(r->heredocs[0].content, "echo hi\n  indented\n");
	assert_true(r->heredocs[0].expand);
	assert_false(r->heredocs[0].chomp);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->end_line, 5);
	assert_string_equal(r->original, "RUN <<EOF");
	_cleanup_free_ char *src = df_instruction_source(r);
	assert_string_equal(src, "RUN <<EOF\necho hi\n  indented\nEOF");
	r = &f->ins[2];
	assert_true(r->heredocs[0].chomp);
	assert_string_equal(r->heredocs[0].name, "EOT");
	assert_string_equal(r->heredocs[0].content, "\techo tabs\n"); /* stripped when used */
	r = &f->ins[3];
	assert_int_equal(r->nheredocs, 2);
	assert_string_equal(r->heredocs[0].name, "A");
	assert_false(r->heredocs[0].expand);
	assert_string_equal(r->heredocs[0].content, "$x\n");
	assert_string_equal(r->heredocs[1].name, "B");
	assert_int_equal(r->heredocs[1].fd, 3);
	assert_false(r->heredocs[1].expand);
	r = &f->ins[4];
	assert_int_equal(r->kind, DF_COPY);
	assert_int_equal(r->copy.ninline, 2);
	assert_string_equal(r->copy.inline_srcs[0].path, "one");
	assert_string_equal(r->copy.inline_srcs[0].data, "1\n");
	assert_string_equal(r->copy.inline_srcs[1].data, "2 $X\n");
	assert_true(r->copy.inline_srcs[1].expand);
	expect_args(r->copy.srcs, "");
	assert_string_equal(r->copy.dest, "/dst/");
	/* quoted "<<EOF", here-strings and JSON form have no heredoc */
	assert_int_equal(f->ins[5].nheredocs, 0);
	assert_int_equal(f->ins[6].nheredocs, 0);
	assert_int_equal(f->ins[7].kind, DF_CMD);
	assert_int_equal(f->ins[7].line, 21);

	/* how the RUN steps run */
	_cleanup_error_ struct scow_error *err = NULL;
	struct df_run_cmd c;
	assert_int_equal(df_run_cmd_resolve(&f->ins[1], &c, &err), 0);
	assert_true(c.prepend_shell);
	expect_args(c.argv, "echo hi\n  indented\n");
	assert_null(c.inline_path);
	df_run_cmd_release(&c);
	assert_int_equal(df_run_cmd_resolve(&f->ins[2], &c, &err), 0);
	expect_args(c.argv, "<<-EOT bash\n\techo tabs\nEOT"); /* the shell strips the tabs */
	df_run_cmd_release(&c);
	assert_int_equal(df_run_cmd_resolve(&f->ins[3], &c, &err), 0);
	expect_args(c.argv, "cat <<\"A\" > /a && 3<<'B' cat\n$x\nA\ny\nB");
	df_run_cmd_release(&c);
	assert_int_equal(df_run_cmd_resolve(&f->ins[6], &c, &err), 0);
	assert_false(c.prepend_shell);
	expect_args(c.argv, "cat|<<EOF");
	df_run_cmd_release(&c);
	df_file_free(f);

	/* <<- strips tabs from a script heredoc; #! makes a file to run */
	f = parse(WITH_FROM("RUN <<-EOF\n\t\techo a\n\tEOF\nRUN <<EOF\n#!/usr/bin/env python3\n"
			    "print(1)\nEOF\n"));
	assert_int_equal(df_run_cmd_resolve(&f->ins[1], &c, &err), 0);
	expect_args(c.argv, "echo a\n");
	df_run_cmd_release(&c);
	assert_int_equal(df_run_cmd_resolve(&f->ins[2], &c, &err), 0);
	assert_string_equal(c.inline_path, "/dev/pipes/EOF");
	assert_string_equal(c.inline_data, "#!/usr/bin/env python3\nprint(1)\n");
	expect_args(c.argv, "/dev/pipes/EOF");
	assert_true(c.prepend_shell);
	df_run_cmd_release(&c);
	df_file_free(f);

	/* a heredoc also works with the backtick escape directive */
	f = parse("# escape=`\nFROM busybox\nRUN <<EOF\ndir C:\\\nEOF\n");
	assert_string_equal(f->ins[1].heredocs[0].content, "dir C:\\\n");
	df_file_free(f);

	expect_error(WITH_FROM("RUN <<EOF\necho never ends\n"),
		     "Dockerfile parse error on line 2: unterminated heredoc");
	expect_error(WITH_FROM("RUN <<A <<B\nx\nA\n"), "unterminated heredoc");

	struct df_heredoc h = {0};
	assert_int_equal(df_heredoc_word("<<EOF", &h, &err), 1);
	df_heredoc_release(&h);
	assert_int_equal(df_heredoc_word("<<", &h, &err), 0);
	assert_int_equal(df_heredoc_word("<<a b", &h, &err), 0);
	assert_int_equal(df_heredoc_word("x<<EOF", &h, &err), 0);
	assert_int_equal(df_heredoc_word("<<E\"O\"F", &h, &err), 1);
	assert_string_equal(h.name, "EOF");
	assert_false(h.expand);
	df_heredoc_release(&h);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("", "the Dockerfile cannot be empty");
	expect_error("# only a comment\n\n", "Dockerfile parse error on line 2: file with no instructions");
	expect_error("FROM busybox\nRUN x\nFORM y\n",
		     "Dockerfile parse error on line 3: unknown instruction: FORM");
	expect_error("FROM busybox\nRUN a \\\n  b\nBOGUS\n",
		     "Dockerfile parse error on line 4: unknown instruction: BOGUS");
	expect_error("RUN echo\nFROM busybox\n",
		     "Dockerfile parse error on line 1: no build stage in current context");
	expect_error("ARG X=1\nENV A=b\nFROM busybox\n",
		     "Dockerfile parse error on line 2: no build stage in current context");
	/* ARGs may come first */
	struct df_file *f = parse("ARG A=1\nARG B\nFROM busybox:$A\n");
	assert_int_equal(f->nins, 3);
	df_file_free(f);
}

static void test_dup_expand(void **state)
{
	(void)state;
	struct df_file *f = parse(WITH_FROM(
		"COPY --chown=$U:$G --from=$STAGE src/$NAME* \"${DEST:-/opt}/\"\n"
		"EXPOSE $PORTS 9000/udp\n"
		"WORKDIR ${HOME}/app\n"
		"USER ${U}\n"
		"VOLUME $V\n"
		"RUN --mount=type=cache,target=$CACHE echo $NOT_EXPANDED\n"
		"COPY <<EOF <<'LIT' /etc/\nname=$NAME\nEOF\nname=$NAME\nLIT\n"
		"CMD echo $NOT_EXPANDED\n"
		"STOPSIGNAL $SIG\n"
		"LABEL $NAME.key=\"v $U\"\n"));
	char *const env[] = {"U=app",	    "G=grp",	     "NAME=x",	      "PORTS=80 443",
			     "HOME=/home/app", "V=",	     "CACHE=/c",      "SIG=SIGTERM",
			     "STAGE=builder", NULL};
	_cleanup_error_ struct scow_error *err = NULL;
	struct df_instruction *d[10];
	for (size_t i = 0; i < 10; i++)
		d[i] = df_instruction_dup(&f->ins[i + 1]);
	assert_int_equal(df_instruction_expand(d[0], '\\', env, &err), 0);
	assert_string_equal(d[0]->copy.chown, "app:grp");
	assert_string_equal(d[0]->copy.from, "$STAGE"); /* the plan resolves --from */
	expect_args(d[0]->copy.srcs, "src/x*");
	assert_string_equal(d[0]->copy.dest, "/opt/");
	assert_int_equal(df_instruction_expand(d[1], '\\', env, &err), 0);
	expect_args(d[1]->args, "80|443|9000/udp");
	assert_int_equal(df_instruction_expand(d[2], '\\', env, &err), 0);
	expect_args(d[2]->args, "/home/app/app");
	assert_int_equal(df_instruction_expand(d[3], '\\', env, &err), 0);
	expect_args(d[3]->args, "app");
	assert_int_equal(df_instruction_expand(d[4], '\\', env, &err), -1);
	assert_non_null(strstr(err->msg, "VOLUME specified can not be an empty string"));
	error_free(err);
	err = NULL;
	assert_int_equal(df_instruction_expand(d[5], '\\', env, &err), 0);
	assert_int_equal(d[5]->run.nmounts, 1);
	assert_string_equal(d[5]->run.mounts[0].target, "/c");
	expect_args(d[5]->args, "echo $NOT_EXPANDED");
	assert_int_equal(df_instruction_expand(d[6], '\\', env, &err), 0);
	assert_string_equal(d[6]->copy.inline_srcs[0].data, "name=x\n");
	assert_string_equal(d[6]->copy.inline_srcs[1].data, "name=$NAME\n");
	assert_int_equal(df_instruction_expand(d[7], '\\', env, &err), 0);
	expect_args(d[7]->args, "echo $NOT_EXPANDED");
	assert_int_equal(df_instruction_expand(d[8], '\\', env, &err), 0);
	expect_args(d[8]->args, "SIGTERM");
	assert_int_equal(df_instruction_expand(d[9], '\\', env, &err), 0);
	assert_string_equal(d[9]->kvs[0].key, "x.key");
	assert_string_equal(d[9]->kvs[0].value, "v app");
	for (size_t i = 0; i < 10; i++) {
		/* the copy is deep: the original is untouched */
		df_instruction_free(d[i]);
	}
	assert_string_equal(f->ins[1].copy.chown, "$U:$G");
	df_file_free(f);
}

/* Every Dockerfile under tests/fixtures/dockerfiles parses. */
static void test_fixtures(void **state)
{
	(void)state;
	_cleanup_free_ char *src = xstrdup(__FILE__);
	_cleanup_free_ char *root = xasprintf("%s/../fixtures/dockerfiles", dirname(src));
	DIR *d = opendir(root);
	assert_non_null(d);
	size_t parsed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = xasprintf("%s/%s", root, de->d_name);
		DIR *sub = opendir(dir);
		if (!sub)
			continue;
		struct dirent *fe;
		while ((fe = readdir(sub))) {
			if (strcmp(fe->d_name, "Dockerfile") != 0 &&
			    !str_ends_with(fe->d_name, ".Dockerfile"))
				continue;
			_cleanup_free_ char *path = xasprintf("%s/%s", dir, fe->d_name);
			FILE *fp = fopen(path, "r");
			assert_non_null(fp);
			char buf[65536];
			size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
			buf[n] = '\0';
			struct df_file *f = NULL;
			_cleanup_error_ struct scow_error *err = NULL;
			if (df_parse(buf, n, &f, &err) < 0)
				fail_msg("%s: %s", path, err->msg);
			assert_true(f->nins > 1);
			df_file_free(f);
			parsed++;
		}
		closedir(sub);
	}
	closedir(d);
	assert_true(parsed >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_structure),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_mount_parse),
		cmocka_unit_test(test_cmd_entrypoint_shell),
		cmocka_unit_test(test_env_label),
		cmocka_unit_test(test_copy_add),
		cmocka_unit_test(test_misc_instructions),
		cmocka_unit_test(test_onbuild),
		cmocka_unit_test(test_healthcheck),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dup_expand),
		cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
