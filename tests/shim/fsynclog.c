/* fsynclog.so — log fsync, fdatasync and rename, for tests.
 *
 *   LD_PRELOAD=tests/shim/fsynclog.so BT_FSYNCLOG=FILE prog ...
 *
 * appends a line to FILE for each call, then makes the real one:
 *   fsync dir PATH | fsync file PATH     (fdatasync says "fdatasync")
 *   rename FROM TO                      (both made absolute)
 * PATH from /proc/self/fd (Linux).  Whether a directory was synced after
 * a rename in it cannot be seen from outside any other way, short of a
 * power cut. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void logline(const char *a, const char *b, const char *c)
{
	const char *path = getenv("BT_FSYNCLOG");
	char line[8300];
	int fd, n;

	if (!path)
		return;
	n = snprintf(line, sizeof line, "%s %s %s\n", a, b, c);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

static void log_fd(const char *call, int fd)
{
	char proc[64], path[4096];
	struct stat st;
	ssize_t n;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof path - 1);
	if (n < 0 || fstat(fd, &st) < 0)
		return;
	path[n] = 0;
	logline(call, S_ISDIR(st.st_mode) ? "dir" : "file", path);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	log_fd("fsync", fd);
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	log_fd("fdatasync", fd);
	return real(fd);
}

/* PATH made absolute, as /proc/self/fd gives the directories */
static void absolute(const char *path, char *out, size_t outsz)
{
	char cwd[4096];

	if (path[0] != '/' && getcwd(cwd, sizeof cwd))
		snprintf(out, outsz, "%s/%s", cwd, path);
	else
		snprintf(out, outsz, "%s", path);
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	char a[4100], b[4100];

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "rename");
	absolute(from, a, sizeof a);
	absolute(to, b, sizeof b);
	logline("rename", a, b);
	return real(from, to);
}
