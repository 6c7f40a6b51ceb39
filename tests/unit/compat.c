/* compat.c — lib/compat.c: what bt does where systems differ */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bt.h"
#include "tap.h"

static time_t utc(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return bt_timegm(&tm);
}

static void timegm_tests(void)
{
	struct tm tm;
	long long t;
	int bad = 0;

	ok(utc(1970, 1, 1, 0, 0, 0) == 0, "timegm: the epoch is 0");
	ok(utc(1969, 12, 31, 23, 59, 59) == -1, "timegm: a second before it is -1");
	ok(utc(2000, 2, 29, 12, 34, 56) == 951827696, "timegm: 2000-02-29, a leap day");
	ok(utc(2100, 3, 1, 0, 0, 0) == 4107542400LL, "timegm: 2100 is no leap year");
	ok(utc(2023, 13, 1, 0, 0, 0) == 1704067200, "timegm: month 13 is January of the next year");
	ok(utc(2024, 0, 1, 0, 0, 0) == 1701388800, "timegm: month 0 is December of the year before");
	/* every 10007 s from 1901 to 2100 (gmtime is POSIX), back and forth */
	for (t = -2145916800LL; t < 4102444800LL && bad < 5; t += 10007) {
		time_t tt = (time_t)t;
		if (!gmtime_r(&tt, &tm) || bt_timegm(&tm) != tt) {
			printf("# timegm(gmtime(%lld)) = %lld\n", t, (long long)bt_timegm(&tm));
			bad++;
		}
	}
	is_int(bad, 0, "timegm: the inverse of gmtime, 1901 to 2100");
}

static void memmem_tests(void)
{
	static const char hay[] = "abcab\0cabcd";
	size_t n = sizeof hay - 1;

	ok(bt_memmem(hay, n, "abc", 3) == hay, "memmem: at the start");
	ok(bt_memmem(hay, n, "b\0c", 3) == hay + 4, "memmem: across a NUL");
	ok(bt_memmem(hay, n, "abcd", 4) == hay + 7, "memmem: at the very end");
	ok(bt_memmem(hay, n, "cde", 3) == NULL, "memmem: not there, cut by the end");
	ok(bt_memmem(hay, 2, "abc", 3) == NULL, "memmem: needle longer than the hay");
	ok(bt_memmem(hay, n, "", 0) == hay, "memmem: the empty needle is at the start");
	ok(bt_memmem(hay, 0, "a", 1) == NULL, "memmem: nothing in nothing");
}

int main(void)
{
	char tmpl[] = "/tmp/bt-compat.XXXXXX", *cwd, *real;
	char buf[4096], key[8] = "sk-1234";
	struct tm tm;
	const char *rest;
	int fd;

	timegm_tests();
	memmem_tests();

	memset(&tm, 0, sizeof tm);
	rest = bt_strptime("Sun, 06 Nov 1994 08:49:37 GMT", "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ok(rest && !*rest && bt_timegm(&tm) == 784111777, "strptime: an HTTP date");

	fd = mkstemp(tmpl);
	ok(fd >= 0 && write(fd, "x", 1) == 1 && bt_fdatasync(fd) == 0, "fdatasync: a file");
	close(fd);
	unlink(tmpl);
	errno = 0;
	ok(bt_fdatasync(-1) < 0 && errno == EBADF, "fdatasync: a bad descriptor is EBADF");

	cwd = getcwd(buf, sizeof buf) ? buf : NULL;
	real = bt_realpath(".");
	ok(cwd && real, "realpath: of .");
	is_str(real ? real : "", cwd ? cwd : "", "realpath: . is the working directory");
	free(real);
	errno = 0;
	ok(!bt_realpath("/no/such/place/x") && errno == ENOENT, "realpath: ENOENT");

	bt_explicit_bzero(key, sizeof key);
	ok(!memcmp(key, "\0\0\0\0\0\0\0\0", sizeof key), "explicit_bzero: zeros");
	return done_testing();
}
