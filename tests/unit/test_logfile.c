/* The json-file log: writer (escaping exactly as dockerd's jsonlog, line
 * splitting, 16 KiB pieces, rotation) and reader (tail, since/until,
 * timestamps, stream separation, following across rotation), and the
 * --log-opt / --since parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervise/logfile.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* ---- fixture and helpers ---- */

struct fx {
	char *dir;
	int dfd;
};

static int fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	f->dir = xstrdup("/tmp/scow-unit-logfile.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->dfd < 0 ? -1 : 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	close(f->dfd);
	fs_rm_rf_at(AT_FDCWD, f->dir, NULL);
	free(f->dir);
	free(f);
	return 0;
}

#define FX ((struct fx *)*state)

static void check(int r, struct scow_error *err)
{
	if (r < 0)
		fail_msg("unexpected error: %s", err ? err->msg : "?");
}

static char *slurp(int dfd, const char *name)
{
	char *buf = NULL;
	size_t len;
	_cleanup_error_ struct scow_error *err = NULL;
	check(fs_read_at(dfd, name, 64 << 20, &buf, &len, &err), err);
	return buf;
}

static off_t file_size(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, 0) < 0)
		return -1;
	return st.st_size;
}

static struct logfile *open_log(int dfd, const char *name, uint64_t max_size, unsigned max_file)
{
	struct logfile *lf = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	check(logfile_open(dfd, name, max_size, max_file, &lf, &err), err);
	return lf;
}

static void lwrite(struct logfile *lf, const char *stream, const char *buf, size_t len)
{
	_cleanup_error_ struct scow_error *err = NULL;
	check(logfile_write(lf, stream, buf, len, &err), err);
}

static void lputs(struct logfile *lf, const char *stream, const char *s)
{
	lwrite(lf, stream, s, strlen(s));
}

static void lflush(struct logfile *lf)
{
	_cleanup_error_ struct scow_error *err = NULL;
	check(logfile_flush(lf, &err), err);
}

/* A decoded record. */
struct rec {
	char *raw;   /* the line as written, without its newline */
	char *log;   /* decoded text */
	size_t len;  /* of log */
	char stream[8];
	char time[40];
};

struct recs {
	struct rec *r;
	size_t n;
};

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].raw);
		free(rs->r[i].log);
	}
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

/* Every line of the file must be a record with exactly the keys log,
 * stream and time, in that order, and a fixed-width RFC 3339 time. */
static void parse_records(const char *text, struct recs *out)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		size_t n = (size_t)(nl - p);
		json_error_t jerr;
		json_t *j = json_loadb(p, n, JSON_ALLOW_NUL, &jerr);
		if (!j)
			fail_msg("bad record %.*s: %s", (int)n, p, jerr.text);
		assert_true(str_starts_with(p, "{\"log\":\""));
		assert_non_null(strstr(p, "\",\"stream\":\"std"));
		assert_int_equal(json_object_size(j), 3);
		const char *t = json_string_value(json_object_get(j, "time"));
		const char *s = json_string_value(json_object_get(j, "stream"));
		json_t *log = json_object_get(j, "log");
		assert_non_null(t);
		assert_non_null(s);
		assert_true(json_is_string(log));
		assert_int_equal(strlen(t), 30);
		assert_int_equal(t[29], 'Z');
		struct timespec ts;
		assert_true(time_parse_rfc3339(t, &ts));
		out->r = xrealloc(out->r, (out->n + 1) * sizeof(*out->r));
		struct rec *r = &out->r[out->n++];
		r->raw = xstrndup(p, n);
		r->len = json_string_length(log);
		r->log = xmalloc(r->len + 1);
		memcpy(r->log, json_string_value(log), r->len + 1);
		snprintf(r->stream, sizeof(r->stream), "%s", s);
		snprintf(r->time, sizeof(r->time), "%s", t);
		json_decref(j);
		p = nl + 1;
	}
}

static void read_records(int dfd, const char *name, struct recs *out)
{
	_cleanup_free_ char *text = slurp(dfd, name);
	parse_records(text, out);
}

/* The raw escaped "log" value of a single-record file. */
static char *raw_log_field(const char *rec)
{
	const char *start = rec + strlen("{\"log\":\"");
	const char *end = strstr(rec, "\",\"stream\":\"");
	assert_non_null(end);
	return xstrndup(start, (size_t)(end - start));
}

/* Compares texts line by line, reporting the first difference briefly. */
static void assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return;
	size_t line = 1;
	const char *g = got, *w = want;
	while (*g && *g == *w) {
		if (*g == '\n') {
			line++;
			got = g + 1;
			want = w + 1;
		}
		g++;
		w++;
	}
	fail_msg("line %zu: got \"%.40s\", want \"%.40s\"", line, got, want);
}

/* ---- writer: escaping ---- */

struct esc_case {
	const char *in;
	size_t len; /* 0: strlen */
	const char *want;
};

static const struct esc_case esc_cases[] = {
	{"plain text 123 ~!@#$%^*()_+", 0, "plain text 123 ~!@#$%^*()_+"},
	{"q\"b\\s/", 0, "q\\\"b\\\\s/"},
	{"\r", 0, "\\r"},
	{"tab\there", 0, "tab\\u0009here"},
	{"\b\f\v", 0, "\\u0008\\u000c\\u000b"},
	{"\x01\x1f\x1b[31mred\x1b[0m", 0, "\\u0001\\u001f\\u001b[31mred\\u001b[0m"},
	{"del\x7f", 0, "del\x7f"},
	{"a\0b", 3, "a\\u0000b"},
	{"<a href=\"x\">&amp;</a>", 0,
	 "\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e"},
	{"\xe2\x80\xa8|\xe2\x80\xa9", 0, "\\u2028|\\u2029"},
	{"\xe2\x80\xa7\xe2\x80\xaa", 0, "\xe2\x80\xa7\xe2\x80\xaa"}, /* U+2027, U+202A: raw */
	{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\xc2\x80", 0,
	 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\xc2\x80"},
	{"\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
	{"\xff\xfe", 0, "\\ufffd\\ufffd"},
	{"\x80", 0, "\\ufffd"},
	{"a\xc3(b", 0, "a\\ufffd(b"},
	{"\xe2\x82x", 0, "\\ufffd\\ufffdx"},		/* truncated 3-byte */
	{"\xf0\x9f\x98!", 0, "\\ufffd\\ufffd\\ufffd!"},	/* truncated 4-byte */
	{"\xed\xa0\x80", 0, "\\ufffd\\ufffd\\ufffd"},	/* UTF-16 surrogate */
	{"\xc0\xaf\xc1\xbf", 0, "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* overlong 2-byte */
	{"\xe0\x80\xaf", 0, "\\ufffd\\ufffd\\ufffd"},	/* overlong 3-byte */
	{"\xf0\x80\x80\xaf", 0, "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* overlong 4-byte */
	{"\xf4\x90\x80\x80", 0, "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* above U+10FFFF */
	{"\xf5\xf8\xfc", 0, "\\ufffd\\ufffd\\ufffd"},
	{"\xe2\x80<", 0, "\\ufffd\\ufffd\\u003c"},
};

static void test_escape_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(esc_cases); i++) {
		const struct esc_case *c = &esc_cases[i];
		char name[32];
		snprintf(name, sizeof(name), "esc%zu.log", i);
		struct logfile *lf = open_log(FX->dfd, name, 0, 1);
		size_t len = c->len ? c->len : strlen(c->in);
		lwrite(lf, "stdout", c->in, len);
		lwrite(lf, "stdout", "\n", 1);
		logfile_close(lf);
		_cleanup_free_ char *text = slurp(FX->dfd, name);
		_cleanup_free_ char *got = raw_log_field(text);
		_cleanup_free_ char *want = xasprintf("%s\\n", c->want);
		if (strcmp(got, want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, want);
		/* the whole record, byte for byte as dockerd writes it */
		_cleanup_free_ char *rec = xasprintf("{\"log\":\"%s\",\"stream\":\"stdout\",\"time\":\"",
						     want);
		assert_true(str_starts_with(text, rec));
		assert_true(str_ends_with(text, "Z\"}\n"));
		assert_int_equal(strlen(text), strlen(rec) + 30 + 3);
	}
	/* a sequence cut by the end of a flushed partial line */
	struct logfile *lf = open_log(FX->dfd, "cut.log", 0, 1);
	lputs(lf, "stderr", "x\xe2\x82");
	lflush(lf);
	logfile_close(lf);
	_cleanup_free_ char *text = slurp(FX->dfd, "cut.log");
	_cleanup_free_ char *got = raw_log_field(text);
	assert_string_equal(got, "x\\ufffd\\ufffd");
}

/* ---- writer: lines ---- */

static void test_lines_and_partials(void **state)
{
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 0, 1);
	struct timespec before, after;
	clock_gettime(CLOCK_REALTIME, &before);
	lputs(lf, "stdout", "one\ntwo\nthr");
	assert_int_equal(file_size(FX->dfd, "ctr.log") > 0, 1);
	off_t two = file_size(FX->dfd, "ctr.log");
	lputs(lf, "stdout", "");
	lputs(lf, "stdout", "e");
	assert_int_equal(file_size(FX->dfd, "ctr.log"), two); /* held, not written */
	lputs(lf, "stdout", "e\n\n");
	lputs(lf, "stdout", "no newline");
	lflush(lf);
	lflush(lf); /* nothing left */
	lputs(lf, "stdout", "after\n");
	clock_gettime(CLOCK_REALTIME, &after);
	logfile_close(lf);

	struct recs rs = {0};
	read_records(FX->dfd, "ctr.log", &rs);
	const char *want[] = {"one\n", "two\n", "three\n", "\n", "no newline", "after\n"};
	assert_int_equal(rs.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < rs.n; i++) {
		assert_string_equal(rs.r[i].log, want[i]);
		assert_string_equal(rs.r[i].stream, "stdout");
		struct timespec ts;
		assert_true(time_parse_rfc3339(rs.r[i].time, &ts));
		assert_true(ts.tv_sec >= before.tv_sec && ts.tv_sec <= after.tv_sec);
	}
	recs_free(&rs);

	/* unknown stream */
	lf = open_log(FX->dfd, "ctr.log", 0, 1);
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(logfile_write(lf, "stdin", "x\n", 2, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	logfile_close(lf);
	/* close flushes a held partial line */
	lf = open_log(FX->dfd, "close.log", 0, 1);
	lputs(lf, "stderr", "bye");
	logfile_close(lf);
	_cleanup_free_ char *text = slurp(FX->dfd, "close.log");
	assert_true(str_starts_with(text, "{\"log\":\"bye\",\"stream\":\"stderr\",\"time\":\""));
}

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void check_long_line(struct fx *f, const char *name)
{
	struct recs rs = {0};
	read_records(f->dfd, name, &rs);
	assert_int_equal(rs.n, 4);
	_cleanup_free_ char *piece = repeat('a', LOGFILE_LINE_MAX);
	_cleanup_free_ char *last = repeat('a', 40000 - 2 * LOGFILE_LINE_MAX);
	assert_string_equal(rs.r[0].log, piece);
	assert_string_equal(rs.r[1].log, piece);
	assert_int_equal(rs.r[2].len, strlen(last) + 1);
	assert_memory_equal(rs.r[2].log, last, strlen(last));
	assert_int_equal(rs.r[2].log[strlen(last)], '\n');
	/* the pieces of one line share its time, as Docker's copier does */
	assert_string_equal(rs.r[0].time, rs.r[1].time);
	assert_string_equal(rs.r[1].time, rs.r[2].time);
	assert_string_equal(rs.r[3].log, "next\n");
	recs_free(&rs);
}

static void test_long_lines(void **state)
{
	_cleanup_free_ char *line = repeat('a', 40000);
	/* in one write */
	struct logfile *lf = open_log(FX->dfd, "one.log", 0, 1);
	lwrite(lf, "stdout", line, 40000);
	lputs(lf, "stdout", "\nnext\n");
	logfile_close(lf);
	check_long_line(FX, "one.log");
	/* in 1000-byte writes */
	lf = open_log(FX->dfd, "many.log", 0, 1);
	for (size_t off = 0; off < 40000; off += 1000) {
		lwrite(lf, "stdout", line + off, 1000);
		if (off == 20000) /* the first piece is out, the second is not */
			assert_int_equal(file_size(FX->dfd, "many.log"),
					 (off_t)(LOGFILE_LINE_MAX + 69));
	}
	lputs(lf, "stdout", "\nnext\n");
	logfile_close(lf);
	check_long_line(FX, "many.log");
	/* exactly 16 KiB and then the newline: Docker writes the newline alone */
	lf = open_log(FX->dfd, "exact.log", 0, 1);
	lwrite(lf, "stderr", line, LOGFILE_LINE_MAX);
	lputs(lf, "stderr", "\nx\n");
	logfile_close(lf);
	struct recs rs = {0};
	read_records(FX->dfd, "exact.log", &rs);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.r[0].len, LOGFILE_LINE_MAX);
	assert_string_equal(rs.r[1].log, "\n");
	assert_string_equal(rs.r[2].log, "x\n");
	assert_string_equal(rs.r[0].time, rs.r[1].time);
	recs_free(&rs);
}

static void test_streams_interleaved(void **state)
{
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 0, 1);
	lputs(lf, "stdout", "a");
	lputs(lf, "stderr", "b\n");
	lputs(lf, "stdout", "c\nd");
	lputs(lf, "stderr", "partial");
	lputs(lf, "stdout", "e\n");
	lputs(lf, "stderr", " line\nerr2");
	lputs(lf, "stdout", "out3");
	lflush(lf);
	logfile_close(lf);
	struct recs rs = {0};
	read_records(FX->dfd, "ctr.log", &rs);
	const char *want[][2] = {{"stderr", "b\n"},	     {"stdout", "ac\n"},
				 {"stdout", "de\n"},	     {"stderr", "partial line\n"},
				 {"stdout", "out3"},	     {"stderr", "err2"}};
	assert_int_equal(rs.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < rs.n; i++) {
		assert_string_equal(rs.r[i].stream, want[i][0]);
		assert_string_equal(rs.r[i].log, want[i][1]);
	}
	recs_free(&rs);
}

/* ---- writer: rotation ---- */

/* Writes lines "line-NNNN" from..to-1. */
static void write_numbered(struct logfile *lf, int from, int to)
{
	for (int i = from; i < to; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "line-%04d\n", i);
		lputs(lf, i % 3 == 2 ? "stderr" : "stdout", buf);
	}
}

/* Checks that files name.(n-1) ... name hold consecutive numbered lines
 * ending with last-1; returns the first number. */
static int check_chain(struct fx *f, const char *name, unsigned nfiles, uint64_t max_size,
		       int last)
{
	int next = -1, first = -1;
	for (unsigned k = nfiles; k-- > 0;) {
		char fname[64];
		if (k)
			snprintf(fname, sizeof(fname), "%s.%u", name, k);
		else
			snprintf(fname, sizeof(fname), "%s", name);
		off_t size = file_size(f->dfd, fname);
		if (size < 0)
			fail_msg("%s missing", fname);
		assert_true((uint64_t)size <= max_size);
		struct recs rs = {0};
		read_records(f->dfd, fname, &rs);
		assert_true(rs.n > 0);
		for (size_t i = 0; i < rs.n; i++) {
			int v;
			assert_int_equal(sscanf(rs.r[i].log, "line-%d", &v), 1);
			if (next >= 0)
				assert_int_equal(v, next);
			else
				first = v;
			assert_string_equal(rs.r[i].stream, v % 3 == 2 ? "stderr" : "stdout");
			next = v + 1;
		}
		recs_free(&rs);
	}
	char over[64];
	snprintf(over, sizeof(over), "%s.%u", name, nfiles);
	assert_int_equal(file_size(f->dfd, over), -1);
	assert_int_equal(next, last);
	return first;
}

static void test_rotation(void **state)
{
	/* each record is 80 bytes: 12 fit in 1000 */
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 1000, 3);
	write_numbered(lf, 0, 200);
	logfile_close(lf);
	int first = check_chain(FX, "ctr.log", 3, 1000, 200);
	assert_true(first > 150 && first < 180);
	/* reopening keeps the size: the file fills up to the limit, not past it */
	off_t before = file_size(FX->dfd, "ctr.log");
	lf = open_log(FX->dfd, "ctr.log", 1000, 3);
	write_numbered(lf, 200, 201);
	logfile_close(lf);
	if (before + 80 > 1000)
		assert_int_equal(file_size(FX->dfd, "ctr.log"), 80);
	else
		assert_int_equal(file_size(FX->dfd, "ctr.log"), before + 80);
	check_chain(FX, "ctr.log", 3, 1000, 201);

	/* max-file 1: only the file itself */
	lf = open_log(FX->dfd, "one.log", 1000, 1);
	write_numbered(lf, 0, 100);
	logfile_close(lf);
	first = check_chain(FX, "one.log", 1, 1000, 100);
	assert_true(first >= 88);

	/* unlimited: never rotates */
	lf = open_log(FX->dfd, "big.log", 0, 5);
	write_numbered(lf, 0, 500);
	logfile_close(lf);
	assert_int_equal(check_chain(FX, "big.log", 1, UINT64_MAX, 500), 0);

	/* a record larger than max_size still goes out, alone in its file */
	lf = open_log(FX->dfd, "tiny.log", 50, 2);
	write_numbered(lf, 0, 1);
	assert_int_equal(file_size(FX->dfd, "tiny.log.1"), -1); /* an empty file never rotates */
	write_numbered(lf, 1, 3);
	logfile_close(lf);
	assert_int_equal(file_size(FX->dfd, "tiny.log"), 80);
	assert_int_equal(file_size(FX->dfd, "tiny.log.1"), 80);
	assert_int_equal(file_size(FX->dfd, "tiny.log.2"), -1);

	_cleanup_error_ struct scow_error *err = NULL;
	struct logfile *bad = NULL;
	assert_int_equal(logfile_open(FX->dfd, "x.log", 0, 0, &bad, &err), -1);
	assert_null(bad);
}

static void test_reopen_torn(void **state)
{
	static const char pre[] = "{\"log\":\"ok\\n\",\"stream\":\"stdout\",\"time\":"
				  "\"2026-01-01T00:00:00.000000000Z\"}\n{\"log\":\"tor";
	assert_int_equal(fs_write_atomic_at(FX->dfd, "ctr.log", pre, strlen(pre), 0640, NULL), 0);
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 0, 1);
	lputs(lf, "stdout", "fresh\n");
	logfile_close(lf);
	_cleanup_free_ char *text = slurp(FX->dfd, "ctr.log");
	assert_true(str_starts_with(text, pre));
	assert_true(str_starts_with(text + strlen(pre), "\n{\"log\":\"fresh\\n\""));
	/* the reader shows the two records, not the torn one */
	int out = openat(FX->dfd, "out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct logread_opts o = {.tail = -1};
	_cleanup_error_ struct scow_error *err = NULL;
	check(logread(FX->dfd, "ctr.log", &o, out, out, &err), err);
	close(out);
	_cleanup_free_ char *got = slurp(FX->dfd, "out");
	assert_string_equal(got, "ok\nfresh\n");
}

/* ---- reader ---- */

static char *run_read(struct fx *f, const char *name, const struct logread_opts *o,
		      char **ret_err)
{
	int out = openat(f->dfd, "out.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int errfd = ret_err ? openat(f->dfd, "err.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
			    : out;
	_cleanup_error_ struct scow_error *err = NULL;
	check(logread(f->dfd, name, o, out, errfd, &err), err);
	close(out);
	if (ret_err) {
		close(errfd);
		*ret_err = slurp(f->dfd, "err.txt");
	}
	return slurp(f->dfd, "out.txt");
}

static char *numbered_text(int from, int to, int stream)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = from; i < to; i++)
		if (stream < 0 || (i % 3 == 2) == (stream == 2))
			sb_printf(&sb, "line-%04d\n", i);
	return sb_steal(&sb);
}

static void test_read_all_and_streams(void **state)
{
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 1000, 4);
	write_numbered(lf, 0, 40);
	logfile_close(lf);
	assert_true(file_size(FX->dfd, "ctr.log.3") > 0);
	struct logread_opts o = {.tail = -1};
	_cleanup_free_ char *err_text = NULL;
	_cleanup_free_ char *out_text = run_read(FX, "ctr.log", &o, &err_text);
	_cleanup_free_ char *want_out = numbered_text(0, 40, 1);
	_cleanup_free_ char *want_err = numbered_text(0, 40, 2);
	assert_text(out_text, want_out);
	assert_text(err_text, want_err);
	/* one fd for both: interleaved in order */
	_cleanup_free_ char *both = run_read(FX, "ctr.log", &o, NULL);
	_cleanup_free_ char *want = numbered_text(0, 40, -1);
	assert_text(both, want);
	/* no log yet: nothing, no error */
	_cleanup_free_ char *none = run_read(FX, "missing.log", &o, NULL);
	assert_string_equal(none, "");
}

static void test_read_tail(void **state)
{
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 1000, 50);
	write_numbered(lf, 0, 200);
	logfile_close(lf);
	assert_true(file_size(FX->dfd, "ctr.log.10") > 0); /* ~12 lines per file */
	struct {
		long tail;
		int from;
	} cases[] = {{5, 195}, {12, 188}, {30, 170}, {199, 1}, {200, 0}, {1000, 0}, {0, 200}, {LONG_MAX, 0}};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct logread_opts o = {.tail = cases[i].tail};
		_cleanup_free_ char *got = run_read(FX, "ctr.log", &o, NULL);
		_cleanup_free_ char *want = numbered_text(cases[i].from, 200, -1);
		if (strcmp(got, want) != 0)
			fail_msg("tail %ld: got\n%s", cases[i].tail, got);
	}
	/* a torn record at the end (the writer mid-write) is not a line */
	int fd = openat(FX->dfd, "ctr.log", O_WRONLY | O_APPEND);
	assert_int_equal(fs_write_all(fd, "{\"log\":\"half", 12), 0);
	close(fd);
	struct logread_opts o = {.tail = 2};
	_cleanup_free_ char *got = run_read(FX, "ctr.log", &o, NULL);
	assert_string_equal(got, "line-0198\nline-0199\n");
	/* tail larger than the 64 KiB scan block, within one file */
	lf = open_log(FX->dfd, "big.log", 0, 1);
	write_numbered(lf, 0, 3000);
	logfile_close(lf);
	o.tail = 2500;
	_cleanup_free_ char *big = run_read(FX, "big.log", &o, NULL);
	_cleanup_free_ char *want = numbered_text(500, 3000, -1);
	assert_text(big, want);
}

/* Hand-made log with known times: records i = 0..9 at 2026-01-01T00:00:0i.5Z,
 * split over two files, with lines a reader must skip. */
static void write_timed_log(struct fx *f)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	for (int i = 0; i < 10; i++) {
		struct strbuf *sb = i < 4 ? &a : &b;
		if (i == 2) /* Docker writes attrs with --log-opt labels/tag */
			sb_printf(sb,
				  "{\"log\":\"msg %d\\n\",\"stream\":\"stderr\",\"attrs\":"
				  "{\"tag\":\"web\"},\"time\":\"2026-01-01T00:00:0%d.500000000Z\"}\n",
				  i, i);
		else
			sb_printf(sb,
				  "{\"log\":\"msg %d\\n\",\"stream\":\"%s\",\"time\":"
				  "\"2026-01-01T00:00:0%d.500000000Z\"}\n",
				  i, i % 2 ? "stderr" : "stdout", i);
		if (i == 5) {
			sb_append(sb, "not json\n\n{\"stream\":\"stdout\"}\n");
			sb_append(sb, "{\"log\":\"no time\\n\",\"stream\":\"stdout\"}\n");
		}
	}
	assert_int_equal(fs_write_atomic_at(f->dfd, "t.log.1", a.buf, a.len, 0640, NULL), 0);
	assert_int_equal(fs_write_atomic_at(f->dfd, "t.log", b.buf, b.len, 0640, NULL), 0);
	sb_release(&a);
	sb_release(&b);
}

static struct timespec at(int sec, long nsec)
{
	struct timespec ts;
	char buf[64];
	snprintf(buf, sizeof(buf), "2026-01-01T00:00:%02d.%09ldZ", sec, nsec);
	assert_true(time_parse_rfc3339(buf, &ts));
	return ts;
}

static void test_read_since_until_timestamps(void **state)
{
	write_timed_log(FX);
	struct logread_opts o = {.tail = -1};
	_cleanup_free_ char *all = run_read(FX, "t.log", &o, NULL);
	assert_string_equal(all, "msg 0\nmsg 1\nmsg 2\nmsg 3\nmsg 4\nmsg 5\nmsg 6\nmsg 7\nmsg "
				 "8\nmsg 9\n");
	/* since and until are inclusive */
	o.since = at(3, 500000000);
	o.until = at(6, 500000000);
	_cleanup_free_ char *mid = run_read(FX, "t.log", &o, NULL);
	assert_string_equal(mid, "msg 3\nmsg 4\nmsg 5\nmsg 6\n");
	o.since = at(3, 500000001);
	o.until = at(6, 499999999);
	_cleanup_free_ char *mid2 = run_read(FX, "t.log", &o, NULL);
	assert_string_equal(mid2, "msg 4\nmsg 5\n");
	/* tail counts lines first, then since filters (Docker's order) */
	o = (struct logread_opts){.tail = 3, .since = at(8, 0)};
	_cleanup_free_ char *ts = run_read(FX, "t.log", &o, NULL);
	assert_string_equal(ts, "msg 8\nmsg 9\n");
	/* timestamps, and stderr records to their own fd */
	o = (struct logread_opts){.tail = -1, .timestamps = true, .until = at(2, 600000000)};
	_cleanup_free_ char *err_text = NULL;
	_cleanup_free_ char *out_text = run_read(FX, "t.log", &o, &err_text);
	assert_string_equal(out_text, "2026-01-01T00:00:00.500000000Z msg 0\n");
	assert_string_equal(err_text, "2026-01-01T00:00:01.500000000Z msg 1\n"
				      "2026-01-01T00:00:02.500000000Z msg 2\n");
	/* following stops at once when until is past */
	o = (struct logread_opts){.tail = -1, .follow = true, .until = at(5, 0)};
	_cleanup_free_ char *f = run_read(FX, "t.log", &o, NULL);
	assert_string_equal(f, "msg 0\nmsg 1\nmsg 2\nmsg 3\nmsg 4\n");
}

static void test_read_bad_lines(void **state)
{
	/* an over-long line is skipped without holding it, the next one is read */
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "{\"log\":\"");
	for (int i = 0; i < 300 * 1024 / 64; i++)
		sb_append(&sb, "0123456789012345678901234567890123456789012345678901234567890123");
	sb_append(&sb, "\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00.000000000Z\"}\n");
	sb_append(&sb, "{\"log\":\"after\\n\",\"stream\":\"stdout\",\"time\":"
		       "\"2026-01-01T00:00:01.000000000Z\"}\n");
	sb_append(&sb, "{\"log\":\"nul\\u0000 \\u00e9\\ud83d\\ude00\",\"stream\":\"stdout\","
		       "\"time\":\"2026-01-01T00:00:01.000000000Z\"}\n");
	assert_int_equal(fs_write_atomic_at(FX->dfd, "b.log", sb.buf, sb.len, 0640, NULL), 0);
	sb_release(&sb);
	struct logread_opts o = {.tail = -1};
	int out = openat(FX->dfd, "out.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_error_ struct scow_error *err = NULL;
	check(logread(FX->dfd, "b.log", &o, out, out, &err), err);
	close(out);
	char *text = NULL;
	size_t len;
	check(fs_read_at(FX->dfd, "out.txt", 1 << 20, &text, &len, &err), err);
	static const char want[] = "after\nnul\0 \xc3\xa9\xf0\x9f\x98\x80";
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(text, want, len);
	free(text);
	/* a line of exactly 256 KiB is still read */
	sb_append(&sb, "{\"log\":\"");
	size_t pad = 256 * 1024 - strlen("{\"log\":\"\",\"stream\":\"stdout\",\"time\":"
					 "\"2026-01-01T00:00:00.000000000Z\"}");
	for (size_t i = 0; i < pad; i++)
		sb_appendc(&sb, 'x');
	sb_append(&sb, "\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00.000000000Z\"}\n");
	assert_int_equal(fs_write_atomic_at(FX->dfd, "c.log", sb.buf, sb.len, 0640, NULL), 0);
	sb_release(&sb);
	_cleanup_free_ char *got = run_read(FX, "c.log", &o, NULL);
	assert_int_equal(strlen(got), pad);
	/* a name that is not a regular file */
	assert_int_equal(mkdirat(FX->dfd, "d.log", 0700), 0);
	assert_int_equal(logread(FX->dfd, "d.log", &o, 1, 2, &err), -1);
}

/* ---- reader: following ---- */

struct follower {
	int dfd;
	const char *name;
	int out;
	long tail;
	atomic_bool stop;
	int ret;
	char *msg;
	pthread_t th;
};

static bool follower_stop(void *opaque)
{
	return atomic_load(&((struct follower *)opaque)->stop);
}

static void *follower_main(void *p)
{
	struct follower *f = p;
	struct logread_opts o = {
		.follow = true, .tail = f->tail, .stop = follower_stop, .opaque = f};
	struct scow_error *err = NULL;
	f->ret = logread(f->dfd, f->name, &o, f->out, f->out, &err);
	if (err)
		f->msg = xstrdup(err->msg);
	error_free(err);
	return NULL;
}

static void follower_start(struct follower *f, struct fx *fx, const char *name, long tail)
{
	f->dfd = fx->dfd;
	f->name = name;
	f->tail = tail;
	f->out = openat(fx->dfd, "follow.out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->out >= 0);
	atomic_store(&f->stop, false);
	f->msg = NULL;
	assert_int_equal(pthread_create(&f->th, NULL, follower_main, f), 0);
}

static char *follower_finish(struct follower *f, struct fx *fx)
{
	atomic_store(&f->stop, true);
	pthread_join(f->th, NULL);
	close(f->out);
	if (f->ret < 0)
		fail_msg("follow: %s", f->msg ? f->msg : "?");
	return slurp(fx->dfd, "follow.out");
}

/* Waits until the follower has printed `bytes` bytes. */
static void wait_output(struct fx *fx, off_t bytes)
{
	for (int i = 0; i < 10000; i++) {
		off_t n = file_size(fx->dfd, "follow.out");
		if (n >= bytes) {
			assert_int_equal(n, bytes);
			return;
		}
		struct timespec t = {0, 1000000};
		nanosleep(&t, NULL);
	}
	fail_msg("follower printed %lld bytes, want %lld",
		 (long long)file_size(fx->dfd, "follow.out"), (long long)bytes);
}

static void test_follow_rotation_stress(void **state)
{
	/* started before the log exists; the writer rotates every ~50 lines
	 * as fast as it can; every line must come out once, in order */
	struct follower f;
	follower_start(&f, FX, "ctr.log", -1);
	struct timespec t = {0, 20000000};
	nanosleep(&t, NULL);
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 4000, 100000);
	for (int i = 0; i < 5000; i += 250) {
		write_numbered(lf, i, i + 250);
		struct timespec pause = {0, 1000000};
		nanosleep(&pause, NULL);
	}
	logfile_close(lf);
	_cleanup_free_ char *got = follower_finish(&f, FX);
	_cleanup_free_ char *want = numbered_text(0, 5000, -1);
	assert_text(got, want);
	assert_true(file_size(FX->dfd, "ctr.log.90") > 0);

	/* started mid-stream with a tail */
	lf = open_log(FX->dfd, "b.log", 4000, 100000);
	write_numbered(lf, 0, 1000);
	follower_start(&f, FX, "b.log", 10);
	wait_output(FX, 10 * 10);
	write_numbered(lf, 1000, 4000);
	logfile_close(lf);
	_cleanup_free_ char *got2 = follower_finish(&f, FX);
	_cleanup_free_ char *want2 = numbered_text(990, 4000, -1);
	assert_text(got2, want2);
}

static void test_follow_lossy_rotation(void **state)
{
	/* max-file 2 and a writer faster than the reader: files may be gone
	 * before they are read, but nothing is printed twice or out of order,
	 * and the end is always there */
	struct logfile *lf = open_log(FX->dfd, "ctr.log", 2000, 2);
	write_numbered(lf, 0, 10);
	struct follower f;
	follower_start(&f, FX, "ctr.log", -1);
	write_numbered(lf, 10, 20000);
	logfile_close(lf);
	_cleanup_free_ char *got = follower_finish(&f, FX);
	int prev = -1, n = 0;
	for (char *p = got; *p; p = strchr(p, '\n') + 1) {
		int v;
		assert_int_equal(sscanf(p, "line-%d", &v), 1);
		assert_true(v > prev);
		prev = v;
		n++;
	}
	assert_int_equal(prev, 19999);
	assert_true(n >= 25); /* at least the two files left at the end */
}

static void test_follow_torn_and_max_file_1(void **state)
{
	/* raw appends: a record arriving in pieces is printed once, whole */
	static const char rec1[] = "{\"log\":\"first\\n\",\"stream\":\"stdout\",\"time\":"
				   "\"2026-01-01T00:00:00.000000000Z\"}\n";
	static const char rec2[] = "{\"log\":\"second\\n\",\"stream\":\"stdout\",\"time\":"
				   "\"2026-01-01T00:00:01.000000000Z\"}\n";
	int fd = openat(FX->dfd, "raw.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_int_equal(fs_write_all(fd, rec1, strlen(rec1)), 0);
	assert_int_equal(fs_write_all(fd, rec2, 20), 0);
	struct follower f;
	follower_start(&f, FX, "raw.log", -1);
	wait_output(FX, 6);
	struct timespec t = {0, 50000000};
	nanosleep(&t, NULL);
	assert_int_equal(file_size(FX->dfd, "follow.out"), 6); /* "second" waits */
	assert_int_equal(fs_write_all(fd, rec2 + 20, strlen(rec2) - 20), 0);
	wait_output(FX, 13);
	/* a rotation by hand: the old file gets a last record after the rename */
	assert_int_equal(renameat(FX->dfd, "raw.log", FX->dfd, "raw.log.1"), 0);
	assert_int_equal(fs_write_all(fd, rec1, strlen(rec1)), 0);
	assert_int_equal(fs_write_all(fd, "{\"log\":\"torn", 11), 0); /* a crash */
	close(fd);
	fd = openat(FX->dfd, "raw.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_int_equal(fs_write_all(fd, rec2, strlen(rec2)), 0);
	close(fd);
	wait_output(FX, 26);
	_cleanup_free_ char *got = follower_finish(&f, FX);
	assert_string_equal(got, "first\nsecond\nfirst\nsecond\n");

	/* max-file 1 (unlink and recreate) in lock step with the reader: each
	 * batch of 5 records (400 bytes) rotates at most once */
	struct logfile *lf = open_log(FX->dfd, "one.log", 600, 1);
	follower_start(&f, FX, "one.log", -1);
	for (int b = 0; b < 30; b++) {
		write_numbered(lf, b * 5, b * 5 + 5);
		wait_output(FX, (off_t)(b + 1) * 5 * 10);
	}
	logfile_close(lf);
	_cleanup_free_ char *got1 = follower_finish(&f, FX);
	_cleanup_free_ char *want1 = numbered_text(0, 150, -1);
	assert_text(got1, want1);
	assert_int_equal(file_size(FX->dfd, "one.log.1"), -1);
}

/* ---- option parsers ---- */

static void test_parse_size(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t want;
	} ok[] = {
		{"512", 512},		{"1", 1},		{"100k", 100000},
		{"10m", 10000000},	{"10M", 10000000},	{"10mb", 10000000},
		{"10MB", 10000000},	{"10MiB", 10000000},	{"10 m", 10000000},
		{"1.5m", 1500000},	{"1g", 1000000000},	{"2T", 2000000000000ULL},
		{"1p", 1000000000000000ULL}, {"1kb", 1000},	{"7b", 7},
		{"0.5k", 500},		{"1.", 1},		{".5k", 500},
		{"1.9", 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 0;
		_cleanup_error_ struct scow_error *err = NULL;
		if (logfile_parse_size(ok[i].in, &v, &err) < 0)
			fail_msg("%s: %s", ok[i].in, err->msg);
		if (v != ok[i].want)
			fail_msg("%s: got %llu", ok[i].in, (unsigned long long)v);
	}
	static const char *const bad[] = {"",	 "m",	"abc",	  "-1",	  "10x", "10kbb",
					  "10bb", "0",	"0.4",	  "1..5m", "k10", "10 m b",
					  "1e400", "10mi", "99999999999999999999p"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 42;
		_cleanup_error_ struct scow_error *err = NULL;
		if (logfile_parse_size(bad[i], &v, &err) == 0)
			fail_msg("\"%s\" accepted as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42);
		assert_non_null(err);
	}
	unsigned n = 0;
	_cleanup_error_ struct scow_error *err = NULL;
	check(logfile_parse_max_file("3", &n, &err), err);
	assert_int_equal(n, 3);
	check(logfile_parse_max_file("+7", &n, &err), err);
	assert_int_equal(n, 7);
	static const char *const badn[] = {"0", "-1", "", "x", " 3", "3 ", "1.5", "+", "99999999999"};
	for (size_t i = 0; i < ARRAY_SIZE(badn); i++) {
		n = 42;
		if (logfile_parse_max_file(badn[i], &n, &err) == 0)
			fail_msg("max-file \"%s\" accepted", badn[i]);
		assert_int_equal(n, 42);
	}
	assert_int_equal(logfile_parse_max_file("0", &n, &err), -1);
	assert_string_equal(err->msg, "max-file cannot be less than 1");
}

static void test_parse_time(void **state)
{
	(void)state;
	_cleanup_free_ char *old_tz = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	setenv("TZ", "EST5", 1); /* a fixed UTC-5 zone for the zone-less forms */
	tzset();
	static const struct {
		const char *in;
		long long sec;
		long nsec;
	} ok[] = {
		{"2026-11-22T15:10:48.123456789Z", 1795360248, 123456789},
		{"2026-11-22T15:10:48.5Z", 1795360248, 500000000},
		{"2026-11-22T15:10:48Z", 1795360248, 0},
		{"2026-11-22T15:10:48+01:00", 1795360248 - 3600, 0},
		{"2026-11-22T15:10:48.25-02:30", 1795360248 + 9000, 250000000},
		{"2026-11-22T15:10Z", 1795360200, 0},
		{"2026-11-22T15Z", 1795359600, 0},
		{"2026-11-22Z", 1795305600, 0},
		{"2026-11-22+01:00", 1795305600 - 3600, 0},
		{"2026-11-22", 1795305600 + 5 * 3600, 0},
		{"2026-11-22T15:10:48", 1795360248 + 5 * 3600, 0},
		{"2026-11-22T15:10:48.000000001", 1795360248 + 5 * 3600, 1},
		{"2026-11-22T15:10:48.1234567891Z", 1795360248, 123456789}, /* Go reads more */
		{"2026-11-22T15:10", 1795360200 + 5 * 3600, 0},
		{"2026-11-22T15", 1795359600 + 5 * 3600, 0},
		{"2024-02-29T00:00:00Z", 1709164800, 0},
		{"1700000000", 1700000000, 0},
		{"1700000000.5", 1700000000, 500000000},
		{"1700000000.000000001", 1700000000, 1},
		{"1700000000.123456789123", 1700000000, 123456789},
		{"10", 10, 0},
		{"0", 0, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct timespec ts = {-1, -1};
		_cleanup_error_ struct scow_error *err = NULL;
		if (logread_parse_time(ok[i].in, &ts, &err) < 0)
			fail_msg("%s: %s", ok[i].in, err->msg);
		if ((long long)ts.tv_sec != ok[i].sec || ts.tv_nsec != ok[i].nsec)
			fail_msg("%s: got %lld.%09ld, want %lld.%09ld", ok[i].in,
				 (long long)ts.tv_sec, ts.tv_nsec, ok[i].sec, ok[i].nsec);
	}
	/* durations: now minus the duration, cut to whole seconds (Docker's
	 * reference.Add(-d).Unix()) */
	static const struct {
		const char *in;
		long long ago_ms;
	} dur[] = {
		{"10m", 600000},     {"1h30m", 5400000},   {"1.5h", 5400000},	  {"42s", 42000},
		{"-5s", -5000},	     {"+2m", 120000},	   {"1500ms", 1500},	  {".5m", 30000},
		{"2h0m0.5s", 7200500}, {"1000000us", 1000}, {"1\xc2\xb5s", 0},	  {"3000000000ns", 3000},
		{"0.3s", 300},	     {"0.6s", 600},	   {"0.9s", 900},	  {"2.7s", 2700},
		{"-0.4s", -400},     {"1h1m1s1ms", 3661001},
	};
	for (size_t i = 0; i < ARRAY_SIZE(dur); i++) {
		struct timespec ts, before, after;
		_cleanup_error_ struct scow_error *err = NULL;
		clock_gettime(CLOCK_REALTIME, &before);
		int r = logread_parse_time(dur[i].in, &ts, &err);
		clock_gettime(CLOCK_REALTIME, &after);
		if (r < 0)
			fail_msg("%s: %s", dur[i].in, err->msg);
		long long ms0 = before.tv_sec * 1000LL + before.tv_nsec / 1000000 - dur[i].ago_ms;
		long long ms1 = after.tv_sec * 1000LL + after.tv_nsec / 1000000 - dur[i].ago_ms;
		long long lo = ms0 >= 0 ? ms0 / 1000 : -((-ms0 + 999) / 1000);
		long long hi = ms1 >= 0 ? ms1 / 1000 : -((-ms1 + 999) / 1000);
		if ((long long)ts.tv_sec < lo || (long long)ts.tv_sec > hi)
			fail_msg("%s: got %lld, want %lld..%lld", dur[i].in, (long long)ts.tv_sec,
				 lo, hi);
		assert_int_equal(ts.tv_nsec, 0);
	}
	static const char *const bad[] = {
		"",		"abc",		   "10x",	      "1h-5m",
		"2026-13-01",	"2026-02-30",	   "2025-02-29",      "2026-11-22T25:00",
		"2026-11-22T15:60", "2026-11-22T15:10:61", "2026-11-22T15:10:48.Z",
		"2026-11-22T15:10.5", "2026-11-22X",
		"-1700000000",	"1700000000.",	   ".",		      "1.5.5",
		"2026-11-22T15:10:48+1:00", "2026-1-22",  "h",	      "5 m",
		"99999999999999999999h", "2562048h", "6000000h", "9223372036854775808ns",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct timespec ts = {7, 7};
		_cleanup_error_ struct scow_error *err = NULL;
		if (logread_parse_time(bad[i], &ts, &err) == 0)
			fail_msg("\"%s\" accepted as %lld.%09ld", bad[i], (long long)ts.tv_sec,
				 ts.tv_nsec);
		assert_int_equal(ts.tv_sec, 7);
		assert_non_null(strstr(err->msg, bad[i]));
	}
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_escape_table, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lines_and_partials, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_streams_interleaved, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rotation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_torn, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_all_and_streams, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_tail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_since_until_timestamps, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_bad_lines, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_follow_rotation_stress, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_follow_lossy_rotation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_follow_torn_and_max_file_1, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
