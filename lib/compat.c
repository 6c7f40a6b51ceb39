/* compat.c — the one home of what differs between systems.
 *
 * bt is written to POSIX.1-2008 and C99; `make check-build` compiles it
 * with -std=c99 -D_POSIX_C_SOURCE=200809L and no _GNU_SOURCE, so that a
 * GNU-only call fails here before it fails on a Mac.  What POSIX leaves
 * out, or leaves to the X/Open extension, is wrapped below.
 *
 * This file alone asks for the X/Open (XSI) interfaces, realpath and
 * strptime: every system bt aims at has them (glibc, musl, the BSDs,
 * macOS), but glibc declares them only on request.
 */
#if !defined _XOPEN_SOURCE || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"

/* Days from 1970-01-01 to the proleptic Gregorian date Y-M-D (M 1..12). */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

time_t bt_timegm(const struct tm *tm)
{
	long long y = tm->tm_year + 1900LL, mon = tm->tm_mon, days;

	/* months out of range carry into the year, as timegm's do */
	y += mon / 12;
	mon %= 12;
	if (mon < 0) {
		mon += 12;
		y--;
	}
	days = days_from_civil(y, (int)mon + 1, 1) + tm->tm_mday - 1;
	return (time_t)(days * 86400 + tm->tm_hour * 3600LL +
	                tm->tm_min * 60LL + tm->tm_sec);
}

char *bt_strptime(const char *s, const char *fmt, struct tm *tm)
{
	return strptime(s, fmt, tm);
}

char *bt_realpath(const char *path)
{
	return realpath(path, NULL);
}

void *bt_memmem(const void *hay, size_t n, const void *needle, size_t m)
{
	const unsigned char *h = hay, *end;

	if (m == 0)
		return (void *)h;
	if (m > n)
		return NULL;
	end = h + (n - m);
	while (h <= end) {
		h = memchr(h, *(const unsigned char *)needle, (size_t)(end - h) + 1);
		if (!h)
			return NULL;
		if (!memcmp(h, needle, m))
			return (void *)h;
		h++;
	}
	return NULL;
}

int bt_fdatasync(int fd)
{
#if defined __APPLE__ && defined F_FULLFSYNC
	/* macOS: fsync leaves the data in the drive's cache; F_FULLFSYNC
	 * flushes it, where the file system supports it */
	if (fcntl(fd, F_FULLFSYNC) == 0)
		return 0;
	return fsync(fd);
#elif defined _POSIX_SYNCHRONIZED_IO && _POSIX_SYNCHRONIZED_IO > 0
	return fdatasync(fd);
#else
	return fsync(fd);
#endif
}

/* A memset through a volatile pointer: the compiler cannot prove the
 * store dead, so it stays (C99 has no memset_s; explicit_bzero is not
 * POSIX). */
static void *(*const volatile wipe)(void *, int, size_t) = memset;

void bt_explicit_bzero(void *p, size_t n)
{
	wipe(p, 0, n);
}
