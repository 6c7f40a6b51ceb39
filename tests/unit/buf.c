/* buf.c — lib/buf.c: a buffer that cannot hold what is asked fails cleanly */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "bt.h"
#include "tap.h"

/* Run bt_buf_grow(b holding have bytes, extra) in a child; its exit
 * status (-1: killed, or hung past 10 s) and its stderr into err. */
static int grow_in_child(size_t have, size_t extra, char *err, size_t errsz)
{
	FILE *f = tmpfile();
	pid_t pid;
	int st;
	size_t n;

	if (!f)
		return -2;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct bt_buf b = { 0 };

		alarm(5);      /* a doubling that wraps to 0 loops forever */
		dup2(fileno(f), 2);
		bt_prog = "unit-buf";
		bt_buf_add(&b, "abc", have < 3 ? have : 3);
		bt_buf_grow(&b, extra);
		bt_buf_free(&b);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -2;
	rewind(f);
	n = fread(err, 1, errsz - 1, f);
	err[n] = 0;
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	struct bt_buf b = { 0 };
	char err[300];
	int rc;

	bt_buf_add(&b, "hello", 5);
	bt_buf_grow(&b, 1000);
	ok(b.cap >= 1006 && b.len == 5 && !memcmp(b.p, "hello", 5), "grow keeps the bytes and makes room");
	bt_buf_free(&b);

	rc = grow_in_child(3, SIZE_MAX, err, sizeof err);
	is_int(rc, BT_EXIT_FAIL, "a size that wraps past SIZE_MAX: exit 1, not a write past the end");
	is_str(err, "unit-buf: out of memory: a buffer of more than SIZE_MAX bytes asked for\n",
	       "and it says so");
	rc = grow_in_child(3, SIZE_MAX - 3, err, sizeof err);
	is_int(rc, BT_EXIT_FAIL, "len + extra + 1 one past SIZE_MAX: exit 1");
	rc = grow_in_child(0, SIZE_MAX - 100, err, sizeof err);
	is_int(rc, BT_EXIT_FAIL, "a doubling that would wrap to 0: exit 1, not a loop");
	/* the last line: under ASan, a warning of its own comes first */
	is_str(strrchr(err, '\n') && strstr(err, "unit-buf: ") ? strstr(err, "unit-buf: ") : err,
	       "unit-buf: out of memory\n", "realloc's refusal is said");
	return done_testing();
}
