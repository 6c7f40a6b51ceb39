/* util.c — diagnostics, memory, strict numbers, time, stdout */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "bt.h"

const char *bt_prog = "bt";
int bt_verbose;
void (*bt_before_warn)(void);

void bt_init(char **argv)
{
	const char *s;

	if (argv && argv[0] && *argv[0]) {
		s = strrchr(argv[0], '/');
		bt_prog = s ? s + 1 : argv[0];
		argv[0] = (char *)bt_prog;     /* getopt's messages say it too */
	}
	signal(SIGPIPE, SIG_DFL);
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(BT_EXIT_FAIL);
}

void bt_vwarn(const char *fmt, va_list ap)
{
	int e = errno;
	size_t n = strlen(fmt);

	if (bt_before_warn)
		bt_before_warn();
	fflush(stdout);
	fprintf(stderr, "%s: ", bt_prog);
	vfprintf(stderr, fmt, ap);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
}

void bt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bt_vwarn(fmt, ap);
	va_end(ap);
}

/* Where this run's output began in a regular file on standard output,
 * or -1: see bt_stdout_all_or_nothing. */
static off_t stdout_start = -1;

static int stdout_append;

void bt_stdout_all_or_nothing(void)
{
	struct stat st, er;
	off_t at;
	int fl;

	if (fstat(1, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	/* stderr into the same file (>out 2>&1): the cut would take this
	 * run's messages, the reason for the exit with them */
	if (fstat(2, &er) == 0 && er.st_dev == st.st_dev && er.st_ino == st.st_ino)
		return;
	fl = fcntl(1, F_GETFL);
	stdout_append = fl >= 0 && (fl & O_APPEND);
	/* with O_APPEND (>>) the offset is 0 until the first write; without
	 * it, only a file written at its end (>) is cut: 1<>file at its
	 * start would lose the bytes after what this run wrote */
	at = stdout_append ? st.st_size : lseek(1, 0, SEEK_CUR);
	if (at == st.st_size)
		stdout_start = at;
}

void bt_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bt_vwarn(fmt, ap);
	va_end(ap);
	if (status == BT_EXIT_USAGE && stdout_start >= 0) {
		fflush(stdout);
		if (ftruncate(1, stdout_start) < 0)
			bt_warn("cannot take back the output on standard output:");
		/* the offset is shared with whoever writes next ({ …; } >out):
		 * past the cut, it would leave a hole of NULs */
		else if (!stdout_append)
			lseek(1, stdout_start, SEEK_SET);
	}
	exit(status);
}

void bt_usage(FILE *f, int status, const char *synopsis, const char *options)
{
	fputs(synopsis, f);
	if (f == stdout && options)
		fprintf(f, "options:\n%s", options);
	exit(status);
}

void *bt_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		bt_die(BT_EXIT_FAIL, "out of memory");
	return p;
}

void *bt_calloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		bt_die(BT_EXIT_FAIL, "out of memory");
	return p;
}

void *bt_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		bt_die(BT_EXIT_FAIL, "out of memory");
	return p;
}

char *bt_strndup(const char *s, size_t n)
{
	char *p = bt_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *bt_strdup(const char *s)
{
	return bt_strndup(s, strlen(s));
}

char *bt_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		bt_die(BT_EXIT_FAIL, "bad format");
	p = bt_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

long long bt_num(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE || (*s == ' ' || *s == '\t'))
		bt_die(BT_EXIT_USAGE, "%s: not a whole number: '%s'", what, s);
	if (v < min || v > max)
		bt_die(BT_EXIT_USAGE, "%s: %s is out of range (%lld to %lld)",
		       what, s, min, max);
	return v;
}

double bt_real(const char *s, double min, double max, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || isnan(v) || isspace((unsigned char)*s))
		bt_die(BT_EXIT_USAGE, "%s: not a number: '%s'", what, s);
	if (v < min || v > max)
		bt_die(BT_EXIT_USAGE, "%s: %s is out of range (%g to %g)",
		       what, s, min, max);
	return v;
}

long long bt_size(const char *s, long long min, long long max, const char *what)
{
	static const struct { const char *suf; long long mul; } units[] = {
		{ "", 1 }, { "K", 1000LL }, { "M", 1000000LL }, { "G", 1000000000LL },
		{ "KB", 1000LL }, { "MB", 1000000LL }, { "GB", 1000000000LL },
		{ "KiB", 1024LL }, { "MiB", 1048576LL }, { "GiB", 1073741824LL },
	};
	char *end;
	long long v;
	size_t i;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || end == s || errno == ERANGE || v < 0 || !isdigit((unsigned char)*s))
		bt_die(BT_EXIT_USAGE, "%s: not a size: '%s'", what, s);
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].suf) == 0)
			break;
	if (i == sizeof units / sizeof units[0])
		bt_die(BT_EXIT_USAGE, "%s: not a size: '%s' (use K, M, G, KiB, MiB, GiB)",
		       what, s);
	if (v > max / units[i].mul)
		bt_die(BT_EXIT_USAGE, "%s: %s is out of range (%lld to %lld)",
		       what, s, min, max);
	v *= units[i].mul;
	if (v < min || v > max)
		bt_die(BT_EXIT_USAGE, "%s: %s is out of range (%lld to %lld)",
		       what, s, min, max);
	return v;
}

double bt_duration(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || end == s || errno == ERANGE || !(v >= 0) || isinf(v) ||
	    !(isdigit((unsigned char)*s) || *s == '.'))
		goto bad;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "ms"))
		return v / 1000;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
bad:
	bt_die(BT_EXIT_USAGE, "%s: not a duration: '%s' (e.g. 90, 1.5s, 500ms, 5m, 2h, 1d)",
	       what, s);
}

double bt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double bt_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void bt_sleep(double seconds)
{
	struct timespec ts;

	if (!(seconds > 0))
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int bt_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void bt_epipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
	_exit(BT_EXIT_FAIL);
}

void bt_out(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, stdout) != n) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
}

void bt_close_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
	if (fclose(stdout) == EOF) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
}

void bt_flush(struct bt_buf *b)
{
	if (bt_write_all(1, b->p, b->len) < 0) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
	b->len = 0;
}

double bt_rfc3339_parse(const char *s)
{
	struct tm tm;
	const char *rest;
	double frac = 0;

	memset(&tm, 0, sizeof tm);
	if (!s || !(rest = bt_strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*rest == '.') {
		char *end;
		frac = strtod(rest, &end);
		rest = end;
	}
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00"))
		return -1;
	return (double)bt_timegm(&tm) + frac;
}

void bt_rfc3339(double t, char out[32])
{
	time_t sec = (time_t)t;
	struct tm tm;
	/* to the nearest microsecond: a double holds t only to a fraction of
	 * one, so truncating would print ...455Z for a time parsed from
	 * ...456Z about half the time */
	long us = lround((t - (double)sec) * 1e6);

	if (us < 0)
		us = 0;
	if (us > 999999) {
		sec++;
		us = 0;
	}
	char tmp[64];

	gmtime_r(&sec, &tm);
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
	         tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, us);
	memcpy(out, tmp, 28);
	out[27] = 0;
}

int bt_mkdirs(const char *path)
{
	char *p = bt_strdup(path), *s;
	struct stat st;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			goto bad;
		*s = '/';
	}
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		goto bad;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto bad;
	}
	free(p);
	return 0;
bad:
	free(p);
	return -1;
}

int bt_write_file(const char *path, const void *p, size_t n)
{
	char *tmp = bt_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), e;

	if (fd < 0)
		goto bad;
	if (bt_write_all(fd, p, n) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto bad;
	}
	/* fd is closed once, whatever close says: after a failed close the
	 * number may already belong to a file another thread opened */
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto bad;
	}
	free(tmp);
	/* the rename is only an entry in the directory, in its cache */
	if ((fd = bt_dir_open(path)) < 0)
		return -1;
	if (bt_dir_sync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
bad:
	free(tmp);
	return -1;
}

int bt_dir_open(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d = !slash ? bt_strdup(".") : slash == path ? bt_strdup("/") :
	          bt_strndup(path, (size_t)(slash - path));
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = errno;

	free(d);
	errno = e;
	return fd;
}

int bt_dir_sync(int dirfd)
{
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return -1;
	return 0;
}

int bt_slurp(const char *path, struct bt_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	size_t start = b->len, cap = bt_line_max();
	ssize_t r;

	if (fd < 0)
		return -1;
	for (;;) {
		bt_buf_grow(b, 65536);
		do
			r = read(fd, b->p + b->len, 65536);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		b->len += (size_t)r;
		if (b->len - start > cap) {     /* /dev/zero, or no file of ours */
			b->len = start;
			r = -1;
			errno = EFBIG;
			break;
		}
	}
	e = errno;
	close(fd);
	errno = e;
	return r < 0 ? -1 : 0;
}
