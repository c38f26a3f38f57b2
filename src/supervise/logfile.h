/* Docker's json-file log driver: the writer the supervisor feeds with the
 * container's output, and the reader behind `scow logs`.
 *
 * On disk (root/containers/<id>/ctr.log, as Docker's <id>-json.log): one JSON
 * object per line, byte for byte what dockerd writes,
 *
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-22T15:10:48.123456789Z"}
 *
 * "log" is one line of output with its newline, escaped as Docker's
 * jsonlog.ffjsonWriteJSONBytesAsString does (\" \\ \n \r; other control
 * characters, \t included, as \u00XX; < > & as \u003c \u003e \u0026; U+2028
 * and U+2029 escaped; each byte of invalid UTF-8 as \ufffd). A line longer
 * than 16 KiB is cut into 16 KiB records without a newline, the last piece
 * carrying it; all pieces share the time of the first (Docker's copier).
 * "time" always has nine fraction digits (Docker's RFC3339NanoFixed).
 *
 * Rotation: before a record that would take the current file past max_size,
 * PATH.(n-2) -> PATH.(n-1), ..., PATH -> PATH.1 (each rename replacing the
 * older file) and a new PATH is created; so at most max_file files exist and
 * no file exceeds max_size unless a single record is larger. With max_file 1
 * the old PATH is unlinked and recreated (Docker truncates it in place; a new
 * inode lets a follower finish the old content first). A record is never
 * split across files, so rotated files end with a complete line.
 *
 * Readers run in other processes while the writer appends: they wait for a
 * line's newline before using it and detect rotation by PATH's inode. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

/* Docker's copier buffer: a line is cut into records of this many bytes. */
#define LOGFILE_LINE_MAX 16384

/* ---- writer (supervisor) ---- */

/* An open container log. Not thread-safe; one writer per log. */
struct logfile;

/* Opens (creating, mode 0640) dirfd/name for appending. max_size: bytes per
 * file before rotation, 0 for unlimited; max_file: files kept (>= 1; Docker's
 * default is 1). A file left ending in a torn record (a crash mid-write) gets
 * its line terminated before the next record, so the torn record alone is
 * lost. dirfd is duplicated; the caller keeps its own. */
int logfile_open(int dirfd, const char *name, uint64_t max_size, unsigned max_file,
		 struct logfile **ret, struct scow_error **err);

/* Appends output of stream "stdout" or "stderr": one record per line; an
 * unfinished line is held (per stream) until its newline arrives, or written
 * as its own record without a newline once it reaches LOGFILE_LINE_MAX bytes
 * or on logfile_flush(). Plain write(2) appends, no fsync. On error the bytes
 * not yet written are dropped; the log stays well-formed. */
int logfile_write(struct logfile *lf, const char *stream, const char *buf, size_t len,
		  struct scow_error **err);

/* Writes held partial lines as records without a newline (container exit). */
int logfile_flush(struct logfile *lf, struct scow_error **err);

/* Flushes partial lines (best effort; call logfile_flush() to see errors)
 * and frees. NULL is fine. */
void logfile_close(struct logfile *lf);

/* --log-opt max-size: Docker's units.FromHumanSize as its json-file driver
 * uses it: a decimal number, an optional space, an optional unit k/m/g/t/p
 * (decimal multiples: 1k = 1000), optionally followed by "b" or "ib", case
 * insensitive ("10m", "1.5MB", "512", "100 kb"). Zero is refused, as by
 * Docker ("max-size must be a positive number"). */
int logfile_parse_size(const char *s, uint64_t *ret, struct scow_error **err);
/* --log-opt max-file: a decimal integer >= 1. */
int logfile_parse_max_file(const char *s, unsigned *ret, struct scow_error **err);

/* ---- reader (scow logs) ---- */

struct logread_opts {
	bool follow;	 /* keep reading new records (across rotation) until stop() */
	bool timestamps; /* prefix each record with its RFC3339Nano time and a space */
	long tail;	 /* -1 all, else the last N lines across all files */
	struct timespec since, until; /* {0, 0} = unset; since inclusive, until inclusive */
	bool (*stop)(void *opaque);   /* polled while following; NULL: follow forever */
	void *opaque;
};

/* Writes the text of each record to out_fd (stdout records) or err_fd
 * (stderr records), oldest first: PATH.(n-1) ... PATH.1, PATH. Memory stays
 * bounded whatever the files' size: --tail scans backwards from the end, and
 * a line longer than 256 KiB (more than any record the writer makes) is
 * skipped, as are lines that are not log records. A missing log is empty.
 * Following: waits (inotify on the directory, else polling) for new records,
 * never prints a torn record, and after a rotation finishes the old file
 * before going on with the newer ones. stop() is polled about four times a
 * second; once it returns true the files are drained a last time and logread
 * returns. It also returns once a record after `until` is seen, or when
 * `until` has passed. */
int logread(int dirfd, const char *name, const struct logread_opts *o, int out_fd, int err_fd,
	    struct scow_error **err);

/* --since / --until as `docker logs` takes them (timetypes.GetTimestamp):
 * a Go duration before now ("10m", "1h30m", "1.5h", "-5s"; whole seconds, as
 * Docker), an RFC 3339 time with or without fraction or zone and possibly
 * cut after the hour or minute ("2006-01-02T15:04:05.5Z",
 * "2006-01-02T15:04+01:00", "2006-01-02T15"), a date ("2006-01-02"), or a
 * Unix time with an optional fraction ("1700000000.5"). Times without a zone
 * are taken in the local zone's current offset. "0" is the Unix epoch, which
 * the reader treats as unset. */
int logread_parse_time(const char *s, struct timespec *ret, struct scow_error **err);
