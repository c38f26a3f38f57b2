/* The json-file log writer (see logfile.h for the format). It runs inside the
 * supervisor, whose memory should stay near a megabyte: records are escaped
 * straight from the caller's buffer through a 4 KiB stack buffer into
 * write(2), and the only heap kept per log is the struct and the unfinished
 * line of each stream, grown on demand up to LOGFILE_LINE_MAX. */
#include "supervise/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

enum { LF_STDOUT, LF_STDERR, LF_NSTREAMS };
static const char *const lf_stream_names[LF_NSTREAMS] = {"stdout", "stderr"};

/* Room for "name.NNNN"; logfile_open refuses longer names. */
#define LF_NAME_MAX 400
#define LF_NUMBERED_MAX (LF_NAME_MAX + 16)

struct lf_partial {
	char *buf; /* NULL until the first unfinished line */
	size_t len, cap;
	bool split;	    /* a piece of this line was already written */
	struct timespec ts; /* time of its first piece, shared by the rest */
};

struct logfile {
	int dirfd;
	int fd;
	char *name;
	uint64_t max_size;
	uint64_t size;
	unsigned max_file;
	unsigned rotated; /* PATH.1 ... PATH.rotated exist (as far as we know) */
	bool torn;	  /* the file ends inside a record: terminate it first */
	struct lf_partial part[LF_NSTREAMS];
};

/* ---- output: counting or writing through a small buffer ---- */

struct lf_out {
	int fd;		/* -1: only count */
	int error;	/* errno of the first failed write */
	uint64_t total; /* bytes produced */
	uint64_t done;	/* bytes that reached the file */
	size_t len;
	char buf[4096];
};

static void out_init(struct lf_out *o, int fd)
{
	o->fd = fd;
	o->error = 0;
	o->total = o->done = 0;
	o->len = 0;
}

static void out_flush(struct lf_out *o)
{
	if (o->fd < 0 || o->len == 0 || o->error)
		return;
	const char *p = o->buf;
	size_t left = o->len;
	while (left > 0) {
		ssize_t n = write(o->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->error = n < 0 ? errno : EIO;
			break;
		}
		p += n;
		left -= (size_t)n;
		o->done += (uint64_t)n;
	}
	o->len = 0;
}

static void out_put(struct lf_out *o, const char *s, size_t n)
{
	o->total += n;
	if (o->fd < 0)
		return;
	while (n > 0 && !o->error) {
		size_t room = sizeof(o->buf) - o->len;
		size_t k = n < room ? n : room;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			out_flush(o);
	}
}

static void out_str(struct lf_out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* ---- JSON string escaping, as Docker's jsonlog does it ---- */

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	v = (v << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	*cp = v;
	return need;
}

static void json_escape(struct lf_out *o, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	while (i < n) {
		unsigned char b = s[i];
		char esc[8];
		size_t elen, adv = 1;
		uint32_t cp = 0;
		if (b < 0x80) {
			if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
				i++;
				continue;
			}
			esc[0] = '\\';
			elen = 2;
			if (b == '\\' || b == '"') {
				esc[1] = (char)b;
			} else if (b == '\n') {
				esc[1] = 'n';
			} else if (b == '\r') {
				esc[1] = 'r';
			} else {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[b >> 4];
				esc[5] = hex[b & 0xF];
				elen = 6;
			}
		} else {
			size_t k = utf8_seq(s + i, n - i, &cp);
			if (k > 0 && cp != 0x2028 && cp != 0x2029) {
				i += k;
				continue;
			}
			if (k == 0) {
				memcpy(esc, "\\ufffd", 6);
			} else {
				memcpy(esc, "\\u202", 5);
				esc[5] = hex[cp & 0xF];
				adv = k;
			}
			elen = 6;
		}
		out_put(o, str + start, i - start);
		out_put(o, esc, elen);
		i += adv;
		start = i;
	}
	out_put(o, str + start, n - start);
}

/* One record, with its trailing newline. */
static void lf_record(struct lf_out *o, const char *data, size_t n, bool newline,
		      const char *stream, const char *tstr)
{
	out_str(o, "{\"log\":\"");
	json_escape(o, data, n);
	if (newline)
		out_str(o, "\\n");
	out_str(o, "\",\"stream\":\"");
	out_str(o, stream);
	out_str(o, "\",\"time\":\"");
	out_str(o, tstr);
	out_str(o, "\"}\n");
}

/* ---- files and rotation ---- */

static void lf_numbered(char *buf, const char *name, unsigned i)
{
	if (i == 0)
		snprintf(buf, LF_NUMBERED_MAX, "%s", name);
	else
		snprintf(buf, LF_NUMBERED_MAX, "%s.%u", name, i);
}

static int lf_open_file(int dirfd, const char *name, int flags, uint64_t *ret_size,
			struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name,
					O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags,
					0640);
	if (fd < 0)
		return error_errno(err, "open %s", name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", name);
	if (!S_ISREG(st.st_mode))
		return error_set(err, EINVAL, "%s: not a regular file", name);
	*ret_size = (uint64_t)st.st_size;
	return steal_fd(&fd);
}

static int lf_rotate(struct logfile *lf, struct scow_error **err)
{
	char from[LF_NUMBERED_MAX], to[LF_NUMBERED_MAX];
	if (lf->max_file >= 2) {
		/* renaming only what exists keeps this cheap for a large max_file */
		unsigned top = lf->rotated + 1 < lf->max_file ? lf->rotated + 1 : lf->max_file - 1;
		for (unsigned i = top; i >= 1; i--) {
			lf_numbered(from, lf->name, i - 1);
			lf_numbered(to, lf->name, i);
			if (renameat(lf->dirfd, from, lf->dirfd, to) < 0 && errno != ENOENT)
				return error_errno(err, "rotate %s to %s", from, to);
		}
	} else if (unlinkat(lf->dirfd, lf->name, 0) < 0 && errno != ENOENT) {
		return error_errno(err, "rotate %s", lf->name);
	}
	uint64_t size;
	int fd = lf_open_file(lf->dirfd, lf->name, O_TRUNC, &size, err);
	if (fd < 0)
		return error_wrap(err, "rotate");
	close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
	lf->torn = false;
	if (lf->max_file >= 2 && lf->rotated + 1 < lf->max_file)
		lf->rotated++;
	return 0;
}

/* How many of PATH.1 ... PATH.(max_file-1) exist, counting up to the first
 * missing one. */
static unsigned lf_count_rotated(int dirfd, const char *name, unsigned max_file)
{
	char fname[LF_NUMBERED_MAX];
	unsigned n = 0;
	while (n + 1 < max_file) {
		struct stat st;
		lf_numbered(fname, name, n + 1);
		if (fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		n++;
	}
	return n;
}

/* Writes one record (data[0..n) plus a newline if asked), rotating first
 * when it would take the file past max_size. */
static int lf_emit(struct logfile *lf, int stream, const char *data, size_t n, bool newline,
		   const struct timespec *ts, struct scow_error **err)
{
	char tbuf[64];
	time_format_rfc3339(ts, tbuf, sizeof(tbuf));
	const char *sname = lf_stream_names[stream];

	struct lf_out out, *o = &out;
	out_init(o, -1);
	lf_record(o, data, n, newline, sname, tbuf);
	uint64_t need = o->total + (lf->torn ? 1 : 0);
	if (lf->max_size && lf->size > 0 && lf->size + need > lf->max_size &&
	    lf_rotate(lf, err) < 0)
		return -1;

	out_init(o, lf->fd);
	if (lf->torn)
		out_put(o, "\n", 1);
	lf_record(o, data, n, newline, sname, tbuf);
	out_flush(o);
	lf->size += o->done;
	if (o->error) {
		if (o->done > 0)
			lf->torn = true;
		errno = o->error;
		return error_errno(err, "write %s", lf->name);
	}
	lf->torn = false;
	return 0;
}

static void clock_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Writes a piece of a line: `final` when it ends with the line's newline. */
static int lf_emit_piece(struct logfile *lf, int stream, const char *data, size_t n, bool final,
			 struct scow_error **err)
{
	struct lf_partial *p = &lf->part[stream];
	struct timespec ts;
	if (p->split) {
		ts = p->ts;
	} else {
		clock_now(&ts);
		if (!final) {
			p->ts = ts;
			p->split = true;
		}
	}
	if (final)
		p->split = false;
	return lf_emit(lf, stream, data, n, final, &ts, err);
}

static void lf_partial_append(struct lf_partial *p, const char *s, size_t n)
{
	size_t need = p->len + n;
	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		while (cap < need)
			cap *= 2;
		if (cap > LOGFILE_LINE_MAX)
			cap = LOGFILE_LINE_MAX;
		p->buf = xrealloc(p->buf, cap);
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
}

static int lf_stream_index(const char *stream)
{
	for (int i = 0; i < LF_NSTREAMS; i++)
		if (strcmp(stream, lf_stream_names[i]) == 0)
			return i;
	return -1;
}

/* ---- public API ---- */

int logfile_open(int dirfd, const char *name, uint64_t max_size, unsigned max_file,
		 struct logfile **ret, struct scow_error **err)
{
	if (max_file < 1)
		return error_set(err, EINVAL, "log %s: max-file must be at least 1", name);
	if (!*name || strlen(name) > LF_NAME_MAX)
		return error_set(err, EINVAL, "log name \"%s\": empty or too long", name);
	_cleanup_close_ int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return error_errno(err, "log %s: dup directory fd", name);
	uint64_t size;
	_cleanup_close_ int fd = lf_open_file(dirfd, name, 0, &size, err);
	if (fd < 0)
		return error_wrap(err, "log");
	bool torn = false;
	if (size > 0) {
		char last;
		ssize_t n = pread(fd, &last, 1, (off_t)size - 1);
		if (n < 0)
			return error_errno(err, "read %s", name);
		torn = n == 1 && last != '\n';
	}
	struct logfile *lf = xcalloc(1, sizeof(*lf));
	lf->dirfd = steal_fd(&dfd);
	lf->fd = steal_fd(&fd);
	lf->name = xstrdup(name);
	lf->max_size = max_size;
	lf->max_file = max_file;
	lf->size = size;
	lf->torn = torn;
	lf->rotated = lf_count_rotated(dirfd, name, max_file);
	*ret = lf;
	return 0;
}

int logfile_write(struct logfile *lf, const char *stream, const char *buf, size_t len,
		  struct scow_error **err)
{
	int si = lf_stream_index(stream);
	if (si < 0)
		return error_set(err, EINVAL, "log %s: unknown stream \"%s\"", lf->name, stream);
	struct lf_partial *p = &lf->part[si];
	while (len > 0) {
		size_t room = LOGFILE_LINE_MAX - p->len;
		size_t scan = len < room ? len : room;
		const char *nl = memchr(buf, '\n', scan);
		size_t take;
		bool final;
		if (nl) {
			take = (size_t)(nl - buf);
			final = true;
		} else if (scan == room) {
			take = scan; /* fills the line buffer: a piece of its own */
			final = false;
		} else {
			lf_partial_append(p, buf, len);
			return 0;
		}
		int r;
		if (p->len == 0) {
			r = lf_emit_piece(lf, si, buf, take, final, err);
		} else {
			lf_partial_append(p, buf, take);
			r = lf_emit_piece(lf, si, p->buf, p->len, final, err);
			p->len = 0;
		}
		if (r < 0)
			return -1;
		take += final ? 1 : 0;
		buf += take;
		len -= take;
	}
	return 0;
}

int logfile_flush(struct logfile *lf, struct scow_error **err)
{
	int ret = 0;
	for (int si = 0; si < LF_NSTREAMS; si++) {
		struct lf_partial *p = &lf->part[si];
		if (p->len == 0)
			continue;
		if (lf_emit_piece(lf, si, p->buf, p->len, false, err) < 0)
			ret = -1;
		p->len = 0;
		p->split = false; /* the stream ended: the next line is a new one */
	}
	return ret;
}

void logfile_close(struct logfile *lf)
{
	if (!lf)
		return;
	logfile_flush(lf, NULL);
	for (int si = 0; si < LF_NSTREAMS; si++)
		free(lf->part[si].buf);
	close(lf->fd);
	close(lf->dirfd);
	free(lf->name);
	free(lf);
}

/* ---- option parsing ---- */

/* go-units parseSize() with its decimal unit map (FromHumanSize): number,
 * optional space, suffix. */
static int parse_human_size(const char *s, double *ret)
{
	const char *sep = NULL;
	for (const char *p = s; *p; p++)
		if ((*p >= '0' && *p <= '9') || *p == '.' || *p == ' ')
			sep = p;
	if (!sep)
		return -1;
	size_t numlen = (size_t)(sep - s) + (*sep == ' ' ? 0 : 1);
	const char *sfx = sep + 1;
	/* strconv.ParseFloat on the number: plain decimal (with an exponent) */
	if (numlen == 0 || numlen > 64)
		return -1;
	char num[65];
	memcpy(num, s, numlen);
	num[numlen] = '\0';
	for (size_t i = 0; i < numlen; i++)
		if (!strchr("0123456789.eE+-", num[i]))
			return -1;
	char *end;
	errno = 0;
	double v = strtod(num, &end);
	if (*end || errno || !isfinite(v) || v < 0)
		return -1;
	size_t sl = strlen(sfx);
	if (sl > 3)
		return -1;
	if (sl > 0) {
		char c = (char)(sfx[0] | 0x20);
		static const char units[] = "kmgtp";
		const char *u = strchr(units, c);
		if (c == 'b') {
			if (sl > 1)
				return -1;
		} else if (!u || !*u) {
			return -1;
		} else {
			for (const char *k = units; k <= u; k++)
				v *= 1000.0;
			if (sl == 2 && (sfx[1] | 0x20) != 'b')
				return -1;
			if (sl == 3 && ((sfx[1] | 0x20) != 'i' || (sfx[2] | 0x20) != 'b'))
				return -1;
		}
	}
	*ret = v;
	return 0;
}

int logfile_parse_size(const char *s, uint64_t *ret, struct scow_error **err)
{
	double v;
	if (parse_human_size(s, &v) < 0)
		return error_set(err, EINVAL, "invalid size: '%s'", s);
	if (v >= 9223372036854775807.0)
		return error_set(err, ERANGE, "invalid size: '%s': too large", s);
	uint64_t n = (uint64_t)v;
	if (n == 0)
		return error_set(err, EINVAL, "max-size must be a positive number");
	*ret = n;
	return 0;
}

int logfile_parse_max_file(const char *s, unsigned *ret, struct scow_error **err)
{
	/* strconv.Atoi: an optional sign, then digits only */
	const char *digits = (s[0] == '+' || s[0] == '-') ? s + 1 : s;
	long long v;
	if (*digits < '0' || *digits > '9' || !str_to_ll(s, LLONG_MIN, LLONG_MAX, &v))
		return error_set(err, EINVAL, "invalid max-file: '%s'", s);
	if (v < 1)
		return error_set(err, EINVAL, "max-file cannot be less than 1");
	if (v > 100000)
		return error_set(err, ERANGE, "max-file %lld: too many files", v);
	*ret = (unsigned)v;
	return 0;
}
