#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void time_format_rfc3339(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts->tv_nsec);
}

void time_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339(&ts, buf, len);
}

static bool digits(const char *s, int n, int *ret)
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

bool time_parse_rfc3339(const char *s, struct timespec *ret)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	const char *p = s + 19;
	long nsec = 0;
	if (*p == '.') {
		long scale = 100000000;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return false;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	ret->tv_sec = timegm(&tm) - off;
	ret->tv_nsec = nsec;
	return true;
}

void time_human_duration(double seconds, char *buf, size_t len)
{
	long s = (long)seconds;
	double hours_f = seconds / 3600.0;
	long minutes = s / 60;
	long hours = (long)(hours_f + 0.5);
	if (s < 1)
		snprintf(buf, len, "Less than a second");
	else if (s == 1)
		snprintf(buf, len, "1 second");
	else if (s < 60)
		snprintf(buf, len, "%ld seconds", s);
	else if (minutes == 1)
		snprintf(buf, len, "About a minute");
	else if (minutes < 60)
		snprintf(buf, len, "%ld minutes", minutes);
	else if (hours == 1)
		snprintf(buf, len, "About an hour");
	else if (hours < 48)
		snprintf(buf, len, "%ld hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, len, "%ld days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(buf, len, "%ld weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%ld months", hours / 24 / 30);
	else
		snprintf(buf, len, "%ld years", (long)hours_f / 24 / 365);
}

static void size_units(double v, double base, const char *const *units, size_t n, char *buf,
		       size_t len, int precision)
{
	size_t i = 0;
	while (v >= base && i + 1 < n) {
		v /= base;
		i++;
	}
	snprintf(buf, len, "%.*g%s", precision, v, units[i]);
}

void size_human(double bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	size_units(bytes, 1000.0, units, 9, buf, len, 3);
}

void size_human_binary(double bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB", "ZiB", "YiB"};
	size_units(bytes, 1024.0, units, 9, buf, len, 4);
}
