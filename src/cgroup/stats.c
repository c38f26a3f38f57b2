/* Reading usage figures out of cgroup files, for `stats`. The drivers pick
 * the files (v1.c, v2.c); the parsing they share lives here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

/* v1 reports "no limit" as the largest page-aligned counter value
 * (9223372036854771712): anything this large is no limit. */
#define CG_V1_UNLIMITED (1ULL << 62)

int cg_read_u64(int dirfd, const char *file, uint64_t *ret, struct scow_error **err)
{
	char buf[64];
	if (cg_read(dirfd, file, buf, sizeof(buf), err) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*ret = 0;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return error_set(err, EINVAL, "%s: not a number", file);
	*ret = v >= CG_V1_UNLIMITED ? 0 : (uint64_t)v;
	return 0;
}

/* The decimal number at p (strtoull alone would skip a newline and read
 * the next line's device). */
static uint64_t number_at(const char *p)
{
	if (*p < '0' || *p > '9')
		return 0;
	return (uint64_t)strtoull(p, NULL, 10);
}

void cg_sum_blkio_v1(const char *text, uint64_t *read, uint64_t *write)
{
	*read = *write = 0;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		/* "8:0 Read 4096": skip the device, then the operation. */
		const char *op = strchr(p, ' ');
		if (op && (!nl || op < nl)) {
			op++;
			if (strncmp(op, "Read ", 5) == 0)
				*read += number_at(op + 5);
			else if (strncmp(op, "Write ", 6) == 0)
				*write += number_at(op + 6);
		}
		p = nl ? nl + 1 : NULL;
	}
}

void cg_sum_io_stat_v2(const char *text, uint64_t *read, uint64_t *write)
{
	*read = *write = 0;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		/* "8:0 rbytes=1 wbytes=2 rios=3 ...": keys after the device. */
		for (const char *q = p; q < p + len;) {
			const char *sp = memchr(q, ' ', (size_t)(p + len - q));
			const char *tok = sp ? sp + 1 : p + len;
			if (tok >= p + len)
				break;
			if (strncmp(tok, "rbytes=", 7) == 0)
				*read += number_at(tok + 7);
			else if (strncmp(tok, "wbytes=", 7) == 0)
				*write += number_at(tok + 7);
			q = tok;
		}
		p = nl ? nl + 1 : NULL;
	}
}
