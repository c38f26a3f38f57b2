/* The json-file log reader behind `scow logs` (format: logfile.h).
 *
 * It runs in its own process while the supervisor appends and rotates, so it
 * never trusts a file set for long: the first pass opens all files (checking
 * that no rotation happened meanwhile, else trying again), and while
 * following it only ever asks "which file was written after the one I hold?",
 * answered by inode. Memory is bounded: files are read in 64 KiB blocks, a
 * line is assembled only up to 256 KiB, --tail counts newlines backwards from
 * the end. Records are decoded with jansson, one line at a time. */
#include "supervise/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define LR_LINE_MAX (256 * 1024)
#define LR_BLOCK (64 * 1024)
#define LR_OBUF (16 * 1024)
#define LR_MAX_FILES 100000u
#define LR_NAME_MAX 480
#define LR_SNAPSHOT_TRIES 200
#define LR_WAIT_MS 250
#define LR_POLL_MS 100

struct lr_file {
	int fd; /* -1: none */
	dev_t dev;
	ino_t ino;
	off_t pos; /* next byte to read */
};

struct lr_ctx {
	const struct logread_opts *o;
	int dirfd;
	const char *name;
	int out_fd, err_fd;
	bool done;		/* a record after `until` was seen */
	unsigned long skipped;	/* lines that were not records */
	char *line;		/* a line being assembled across reads */
	size_t llen, lcap;
	bool overlong;		/* dropping the rest of a too long line */
	char *block;		/* LR_BLOCK read buffer */
	int ofd;		/* fd the buffered output goes to */
	size_t olen;
	char *obuf;		/* LR_OBUF */
};

static bool ts_set(const struct timespec *t)
{
	return t->tv_sec != 0 || t->tv_nsec != 0;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static void lr_numbered(char *buf, size_t len, const char *name, unsigned i)
{
	if (i == 0)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s.%u", name, i);
}

static void lr_file_close(struct lr_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* ---- output ---- */

static int out_flush(struct lr_ctx *c, struct scow_error **err)
{
	if (c->olen == 0)
		return 0;
	size_t n = c->olen;
	c->olen = 0;
	if (fs_write_all(c->ofd, c->obuf, n) < 0)
		return error_errno(err, "write log output");
	return 0;
}

static int out_write(struct lr_ctx *c, int fd, const char *s, size_t n, struct scow_error **err)
{
	if (fd != c->ofd || c->olen + n > LR_OBUF) {
		if (out_flush(c, err) < 0)
			return -1;
		c->ofd = fd;
	}
	if (n > LR_OBUF) {
		if (fs_write_all(fd, s, n) < 0)
			return error_errno(err, "write log output");
		return 0;
	}
	memcpy(c->obuf + c->olen, s, n);
	c->olen += n;
	return 0;
}

/* ---- records ---- */

/* One line (without its newline): decode, filter, print. */
static int lr_record(struct lr_ctx *c, const char *line, size_t len, struct scow_error **err)
{
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	json_t *log = json_object_get(j, "log");
	const char *stream = json_get_str(j, "stream");
	const char *tstr = json_get_str(j, "time");
	struct timespec ts;
	if (!json_is_object(j) || (log && !json_is_string(log)) || !tstr ||
	    !time_parse_rfc3339(tstr, &ts)) {
		c->skipped++;
		return 0;
	}
	const struct logread_opts *o = c->o;
	if (ts_set(&o->since) && ts_cmp(&ts, &o->since) < 0)
		return 0;
	if (ts_set(&o->until) && ts_cmp(&ts, &o->until) > 0) {
		c->done = true;
		return 0;
	}
	int fd = stream && strcmp(stream, "stderr") == 0 ? c->err_fd : c->out_fd;
	if (o->timestamps) {
		char tbuf[64];
		time_format_rfc3339(&ts, tbuf, sizeof(tbuf) - 1);
		size_t tl = strlen(tbuf);
		tbuf[tl++] = ' ';
		if (out_write(c, fd, tbuf, tl, err) < 0)
			return -1;
	}
	if (log && out_write(c, fd, json_string_value(log), json_string_length(log), err) < 0)
		return -1;
	return 0;
}

static void lr_line_reset(struct lr_ctx *c)
{
	c->llen = 0;
	c->overlong = false;
}

static void lr_line_append(struct lr_ctx *c, const char *s, size_t n)
{
	xgrow((void **)&c->line, &c->lcap, c->llen + n, 1);
	memcpy(c->line + c->llen, s, n);
	c->llen += n;
}

/* Splits data into lines; an unfinished last line is kept for the next call. */
static int lr_feed(struct lr_ctx *c, const char *p, size_t n, struct scow_error **err)
{
	while (n > 0 && !c->done) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (c->overlong) {
			/* still inside a line that was too long */
		} else if (c->llen + k > LR_LINE_MAX) {
			c->overlong = true;
			c->llen = 0;
			c->skipped++;
		} else if (nl && c->llen == 0) {
			if (lr_record(c, p, k, err) < 0)
				return -1;
		} else {
			lr_line_append(c, p, k);
			if (nl) {
				size_t ll = c->llen;
				c->llen = 0;
				if (lr_record(c, c->line, ll, err) < 0)
					return -1;
			}
		}
		if (!nl)
			break;
		c->overlong = false;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

/* Reads f from f->pos to its end, handing complete lines on. */
static int lr_drain(struct lr_ctx *c, struct lr_file *f, struct scow_error **err)
{
	if (f->fd < 0)
		return 0;
	while (!c->done) {
		ssize_t n = pread(f->fd, c->block, LR_BLOCK, f->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read log %s", c->name);
		if (n == 0)
			break;
		f->pos += n;
		if (lr_feed(c, c->block, (size_t)n, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the file set ---- */

/* 1 opened, 0 missing, -1 error. */
static int lr_open(int dirfd, const char *fname, struct lr_file *f, struct scow_error **err)
{
	int fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno(err, "open log %s", fname);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return error_errno(err, "stat log %s", fname);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, EINVAL, "log %s: not a regular file", fname);
	}
	*f = (struct lr_file){.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .pos = 0};
	return 1;
}

/* Whether dirfd/fname is (still) the file f. */
static bool lr_name_is(int dirfd, const char *fname, const struct lr_file *f)
{
	struct stat st;
	return fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == f->dev &&
	       st.st_ino == f->ino;
}

static bool lr_name_exists(int dirfd, const char *fname)
{
	struct stat st;
	return fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

struct lr_set {
	struct lr_file *f; /* oldest first */
	size_t n;
};

static void lr_set_release(struct lr_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		lr_file_close(&s->f[i]);
	free(s->f);
	s->f = NULL;
	s->n = 0;
}

static bool lr_set_has(const struct lr_set *s, const struct lr_file *f)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].dev == f->dev && s->f[i].ino == f->ino)
			return true;
	return false;
}

/* Opens PATH, PATH.1, ... (up to two missing numbers in a row: a rotation
 * leaves one gap while it runs), newest first into s, then reverses.
 * *steady is false when a rotation was caught in progress: a number missing
 * below an existing one, a name moved since it was opened, or one file seen
 * under two names. Duplicates are dropped either way. */
static int lr_snapshot_try(struct lr_ctx *c, struct lr_set *s, bool *steady,
			   struct scow_error **err)
{
	char fname[LR_NAME_MAX + 16];
	size_t cap = 0, ncap = 0;
	unsigned *nums = NULL; /* the number of each file in s */
	unsigned missing_run = 0;
	bool missing = false;
	*steady = true;
	for (unsigned i = 0; i < LR_MAX_FILES; i++) {
		lr_numbered(fname, sizeof(fname), c->name, i);
		struct lr_file f;
		int r = lr_open(c->dirfd, fname, &f, err);
		if (r < 0) {
			free(nums);
			return -1;
		}
		if (r == 0) {
			missing = true;
			if (i > 0 && ++missing_run >= 2)
				break;
			continue;
		}
		missing_run = 0;
		if (missing)
			*steady = false;
		if (lr_set_has(s, &f)) {
			*steady = false;
			lr_file_close(&f);
			continue;
		}
		xgrow((void **)&s->f, &cap, s->n + 1, sizeof(*s->f));
		xgrow((void **)&nums, &ncap, s->n + 1, sizeof(*nums));
		s->f[s->n] = f;
		nums[s->n++] = i;
	}
	for (size_t i = 0; i < s->n && *steady; i++) {
		lr_numbered(fname, sizeof(fname), c->name, nums[i]);
		if (!lr_name_is(c->dirfd, fname, &s->f[i]))
			*steady = false;
	}
	free(nums);
	for (size_t i = 0; i < s->n / 2; i++) {
		struct lr_file t = s->f[i];
		s->f[i] = s->f[s->n - 1 - i];
		s->f[s->n - 1 - i] = t;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static int lr_snapshot(struct lr_ctx *c, struct lr_set *s, struct scow_error **err)
{
	for (int tries = 0;; tries++) {
		bool steady;
		if (lr_snapshot_try(c, s, &steady, err) < 0) {
			lr_set_release(s);
			return error_wrap(err, "log %s", c->name);
		}
		if (steady || tries >= LR_SNAPSHOT_TRIES)
			return 0;
		lr_set_release(s);
		sleep_ms(1);
	}
}

/* Sets each file's start so that the last `tail` complete lines are read. */
static int lr_tail(struct lr_ctx *c, struct lr_set *s, long tail, struct scow_error **err)
{
	long need = tail;
	bool found = false;
	for (size_t i = s->n; i-- > 0;) {
		struct lr_file *f = &s->f[i];
		struct stat st;
		if (fstat(f->fd, &st) < 0)
			return error_errno(err, "stat log %s", c->name);
		if (found) {
			f->pos = st.st_size;
			continue;
		}
		off_t end = st.st_size;
		long count = 0;
		while (end > 0 && !found) {
			size_t blk = end < LR_BLOCK ? (size_t)end : LR_BLOCK;
			off_t off = end - (off_t)blk;
			ssize_t n = pread(f->fd, c->block, blk, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return error_errno(err, "read log %s", c->name);
			if ((size_t)n != blk)
				return error_set(err, EIO, "log %s: file shrank while reading", c->name);
			for (size_t j = blk; j-- > 0;) {
				if (c->block[j] == '\n' && ++count > need) {
					f->pos = off + (off_t)j + 1;
					found = true;
					break;
				}
			}
			end = off;
		}
		if (!found) {
			f->pos = 0;
			need -= count;
			found = need == 0;
		}
	}
	return 0;
}

/* The file written after cur (cur->fd < 0: the oldest there is). 1: opened
 * into *next; 0: none (cur is the newest), *busy when a rotation was caught
 * in progress or the current file is missing for now; -1: error.
 *
 * Why this is safe against a concurrent rotation: a rotation renames from
 * the highest number down, so the successor PATH.(k-1) is only moved after
 * cur left PATH.k; seeing cur still at PATH.k after opening PATH.(k-1)
 * proves the opened file is the successor. */
static int lr_successor(struct lr_ctx *c, const struct lr_file *cur, struct lr_file *next,
			bool *busy, struct scow_error **err)
{
	char fname[LR_NAME_MAX + 16];
	long k = -1, oldest = -1;
	unsigned missing_run = 0;
	*busy = false;
	for (unsigned i = 0; i < LR_MAX_FILES; i++) {
		lr_numbered(fname, sizeof(fname), c->name, i);
		struct stat st;
		if (fstatat(c->dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return error_errno(err, "stat log %s", fname);
			if (i > 0 && ++missing_run >= 2)
				break;
			continue;
		}
		missing_run = 0;
		oldest = i;
		if (cur->fd >= 0 && st.st_dev == cur->dev && st.st_ino == cur->ino) {
			k = i;
			break;
		}
	}
	if (k == 0)
		return 0;
	if (k < 0 && oldest < 0) {
		*busy = cur->fd >= 0; /* between unlink and create (max_file 1) */
		return 0;
	}
	/* cur gone (rotated away) or never had: every file left is newer */
	unsigned want = (unsigned)(k > 0 ? k - 1 : oldest);
	lr_numbered(fname, sizeof(fname), c->name, want);
	int r = lr_open(c->dirfd, fname, next, err);
	if (r <= 0) {
		*busy = r == 0;
		return r;
	}
	bool ok;
	if (k > 0) {
		lr_numbered(fname, sizeof(fname), c->name, (unsigned)k);
		ok = lr_name_is(c->dirfd, fname, cur);
	} else {
		ok = lr_name_is(c->dirfd, fname, next);
		lr_numbered(fname, sizeof(fname), c->name, want + 1);
		ok = ok && !lr_name_exists(c->dirfd, fname);
	}
	if (!ok) {
		lr_file_close(next);
		*busy = true;
		return 0;
	}
	return 1;
}

/* ---- following ---- */

static int lr_inotify(int dirfd)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	if (inotify_add_watch(fd, path,
			      IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE) <
	    0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void lr_wait(int ino, int ms)
{
	if (ino < 0) {
		sleep_ms(ms < LR_POLL_MS ? ms : LR_POLL_MS);
		return;
	}
	struct pollfd p = {.fd = ino, .events = POLLIN};
	if (poll(&p, 1, ms) > 0) {
		char buf[4096];
		while (read(ino, buf, sizeof(buf)) > 0) {
		}
	}
}

static bool lr_until_passed(const struct logread_opts *o)
{
	if (!ts_set(&o->until))
		return false;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return ts_cmp(&now, &o->until) > 0;
}

/* Reads cur and whatever was written after it; *busy as lr_successor. */
static int lr_catch_up(struct lr_ctx *c, struct lr_file *cur, bool *busy,
		       struct scow_error **err)
{
	for (;;) {
		if (lr_drain(c, cur, err) < 0)
			return -1;
		if (c->done)
			return 0;
		struct lr_file next;
		int r = lr_successor(c, cur, &next, busy, err);
		if (r <= 0)
			return r;
		/* cur was rotated: what was written to it came before the rename */
		if (lr_drain(c, cur, err) < 0) {
			lr_file_close(&next);
			return -1;
		}
		lr_line_reset(c); /* a torn record at its end stays torn */
		lr_file_close(cur);
		*cur = next;
	}
}

static int lr_follow(struct lr_ctx *c, struct lr_file *cur, struct scow_error **err)
{
	_cleanup_close_ int ino = lr_inotify(c->dirfd);
	const struct logread_opts *o = c->o;
	for (;;) {
		/* asked before reading: what was written before the answer is shown */
		bool stopping = (o->stop && o->stop(o->opaque)) || lr_until_passed(o);
		bool busy = false;
		if (lr_catch_up(c, cur, &busy, err) < 0)
			return -1;
		if (c->done || stopping)
			return 0;
		if (out_flush(c, err) < 0)
			return -1;
		lr_wait(ino, busy ? 2 : LR_WAIT_MS);
	}
}

/* ---- entry points ---- */

static void lr_ctx_release(struct lr_ctx *c)
{
	free(c->line);
	free(c->block);
	free(c->obuf);
}

static int lr_run(struct lr_ctx *c, struct scow_error **err)
{
	const struct logread_opts *o = c->o;
	struct lr_set s = {0};
	if (lr_snapshot(c, &s, err) < 0)
		return -1;
	if (o->tail >= 0 && lr_tail(c, &s, o->tail, err) < 0) {
		lr_set_release(&s);
		return error_wrap(err, "log %s", c->name);
	}
	for (size_t i = 0; i < s.n && !c->done; i++) {
		if (lr_drain(c, &s.f[i], err) < 0) {
			lr_set_release(&s);
			return -1;
		}
		if (i + 1 < s.n)
			lr_line_reset(c);
	}
	struct lr_file cur = {.fd = -1};
	if (s.n > 0) {
		cur = s.f[s.n - 1];
		s.f[s.n - 1].fd = -1;
	}
	lr_set_release(&s);
	int r = 0;
	if (o->follow && !c->done && !lr_until_passed(o))
		r = lr_follow(c, &cur, err);
	lr_file_close(&cur);
	if (r == 0)
		r = out_flush(c, err);
	if (c->skipped)
		log_warn("log %s: skipped %lu lines that are not log records", c->name, c->skipped);
	return r;
}

int logread(int dirfd, const char *name, const struct logread_opts *o, int out_fd, int err_fd,
	    struct scow_error **err)
{
	if (!*name || strlen(name) > LR_NAME_MAX)
		return error_set(err, EINVAL, "log name \"%s\": empty or too long", name);
	struct lr_ctx c = {
		.o = o,
		.dirfd = dirfd,
		.name = name,
		.out_fd = out_fd,
		.err_fd = err_fd,
		.ofd = out_fd,
		.block = xmalloc(LR_BLOCK),
		.obuf = xmalloc(LR_OBUF),
	};
	int r = lr_run(&c, err);
	lr_ctx_release(&c);
	return r;
}

/* ---- --since / --until ---- */

/* Go's time.ParseDuration; 0 on success, -1 if s is not a duration. */
static int go_parse_duration(const char *s, int64_t *ret)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", 1000},
		{"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
		{"\xce\xbcs", 1000}, /* U+03BC Greek mu */
		{"ms", 1000000},
		{"s", 1000000000ULL},
		{"m", 60ULL * 1000000000ULL},
		{"h", 3600ULL * 1000000000ULL},
	};
	const uint64_t lim = 1ULL << 63;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret = 0;
		return 0;
	}
	if (!*s)
		return -1;
	uint64_t d = 0;
	while (*s) {
		if (*s != '.' && (*s < '0' || *s > '9'))
			return -1;
		uint64_t v = 0, f = 0;
		double scale = 1;
		bool pre = false, post = false, fover = false;
		for (; *s >= '0' && *s <= '9'; s++, pre = true) {
			if (v > lim / 10)
				return -1;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				return -1;
		}
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++, post = true) {
				if (fover)
					continue;
				if (f > lim / 10) {
					fover = true;
					continue;
				}
				uint64_t y = f * 10 + (uint64_t)(*s - '0');
				if (y > lim) {
					fover = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
		}
		if (!pre && !post)
			return -1;
		size_t ul = 0;
		while (s[ul] && s[ul] != '.' && (s[ul] < '0' || s[ul] > '9'))
			ul++;
		uint64_t unit = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units) && ul; i++)
			if (strlen(units[i].name) == ul && memcmp(units[i].name, s, ul) == 0)
				unit = units[i].ns;
		if (!unit)
			return -1;
		s += ul;
		if (v > lim / unit)
			return -1;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return -1;
		}
		d += v;
		if (d > lim)
			return -1;
	}
	if (!neg && d > lim - 1)
		return -1;
	*ret = neg ? (int64_t)(0 - d) : (int64_t)d;
	return 0;
}

static bool ndigits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* The layouts timetypes.GetTimestamp tries: a date, optionally "T" and an
 * hour, minute, second and fraction, each optional from the right, and an
 * optional zone; no zone means the local zone's current offset. */
static int parse_datetime(const char *s, struct timespec *ret)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	long nsec = 0;
	if (!ndigits(s, 4, &y) || s[4] != '-' || !ndigits(s + 5, 2, &mo) || s[7] != '-' ||
	    !ndigits(s + 8, 2, &d))
		return -1;
	const char *p = s + 10;
	if (*p == 'T') {
		if (!ndigits(p + 1, 2, &h))
			return -1;
		p += 3;
		if (*p == ':') {
			if (!ndigits(p + 1, 2, &mi))
				return -1;
			p += 3;
			if (*p == ':') {
				if (!ndigits(p + 1, 2, &sec))
					return -1;
				p += 3;
				if (*p == '.') {
					long scale = 100000000;
					int nd = 0;
					/* Go takes any number of digits, keeps nine */
					for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
						nsec += (*p - '0') * scale;
						scale /= 10;
					}
					if (nd == 0)
						return -1;
				}
			}
		}
	}
	bool local = true;
	long off = 0;
	if (*p == 'Z') {
		local = false;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!ndigits(p + 1, 2, &oh) || p[3] != ':' || !ndigits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		local = false;
		p += 6;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = mi, .tm_sec = sec};
	time_t t = timegm(&tm);
	if (local) {
		time_t now = time(NULL);
		struct tm lt;
		localtime_r(&now, &lt);
		off = lt.tm_gmtoff;
	}
	ret->tv_sec = t - off;
	ret->tv_nsec = nsec;
	return 0;
}

/* "seconds[.fraction]" as timetypes.ParseTimestamps reads it. */
static int parse_unix(const char *s, struct timespec *ret)
{
	const char *p = *s == '+' ? s + 1 : s;
	long long sec = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > (LLONG_MAX - 9) / 10)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	long nsec = 0;
	if (*p == '.') {
		long scale = 100000000;
		int nd = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd >= 18)
				return -1;
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
		if (nd == 0)
			return -1;
	}
	if (*p)
		return -1;
	ret->tv_sec = (time_t)sec;
	ret->tv_nsec = nsec;
	return 0;
}

int logread_parse_time(const char *s, struct timespec *ret, struct scow_error **err)
{
	int64_t d;
	if (strcmp(s, "0") != 0 && go_parse_duration(s, &d) == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		/* Docker sends reference.Add(-d).Unix(): whole seconds */
		long long ns = (long long)now.tv_nsec - (long long)(d % 1000000000LL);
		long long sec = (long long)now.tv_sec - d / 1000000000LL;
		if (ns < 0)
			sec--;
		else if (ns >= 1000000000LL)
			sec++;
		ret->tv_sec = (time_t)sec;
		ret->tv_nsec = 0;
		return 0;
	}
	struct timespec ts;
	if (strchr(s, '-') ? parse_datetime(s, &ts) < 0 : parse_unix(s, &ts) < 0)
		return error_set(err, EINVAL, "failed to parse value as time or duration: \"%s\"", s);
	*ret = ts;
	return 0;
}
