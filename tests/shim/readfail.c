/* readfail.so — make one read(2) of standard input fail, for tests.
 *
 *   LD_PRELOAD=tests/shim/readfail.so BT_READFAIL=N prog <file
 *
 * fails the Nth read of fd 0 with EIO; every other read is the real one.
 * No pipe or file can be made to fail a read half-way on demand, and a
 * program's answer to that (its message, its exit status, what it leaves
 * behind) is worth a test. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	static long calls;
	const char *at = getenv("BT_READFAIL");

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	if (fd == 0 && at && ++calls == atol(at)) {
		errno = EIO;
		return -1;
	}
	return real(fd, buf, n);
}
