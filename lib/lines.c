/* lines.c — lines of any length, read in large blocks */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

#define LINES_BLOCK (256 * 1024)

size_t bt_line_max(void)
{
	static size_t max;
	const char *s;

	if (max)
		return max;
	max = (size_t)BT_LINE_MAX;
	if ((s = getenv("BT_LINE_MAX")) && *s) {
		long long n = bt_num(s, 1, BT_LINE_MAX, "BT_LINE_MAX");

		max = (size_t)n;
	}
	return max;
}

static int not_regular;

int bt_open_regular(const char *path)
{
	struct stat st;
	int fd, fl;

	not_regular = 0;
	/* O_NONBLOCK: a FIFO with no writer would block open() itself */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		not_regular = 1;
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *bt_open_regular_why(void)
{
	return not_regular ? "not a regular file" : strerror(errno);
}

void bt_lines_fd(struct bt_lines *l, int fd, const char *name)
{
	memset(l, 0, sizeof *l);
	l->fd = fd;
	l->name = name;
	l->cap = LINES_BLOCK;
	l->buf = bt_malloc(l->cap + 1);
}

int bt_lines_open(struct bt_lines *l, const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-")) {
		bt_lines_fd(l, 0, "stdin");
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	bt_lines_fd(l, fd, path);
	l->own_fd = 1;
	return 0;
}

int bt_lines_open_regular(struct bt_lines *l, const char *path)
{
	int fd = bt_open_regular(path);

	if (fd < 0)
		return -1;
	bt_lines_fd(l, fd, path);
	l->own_fd = 1;
	return 0;
}

void bt_lines_close(struct bt_lines *l)
{
	if (l->own_fd && l->fd >= 0)
		close(l->fd);
	free(l->buf);
	l->buf = NULL;
	l->fd = -1;
}

/* Read more input after buf[end]; 0 at end of input. */
static ssize_t fill(struct bt_lines *l)
{
	ssize_t r;

	if (l->start > 0 && (l->end == l->cap || l->start > l->cap / 2)) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->base += l->start;
		l->start = 0;
	}
	if (l->end == l->cap) {
		/* the caller died before a line grew past the cap */
		size_t room = bt_line_max() + 2;

		l->cap = l->cap < room / 2 ? l->cap * 2 : room;
		l->buf = bt_realloc(l->buf, l->cap + 1);
	}
	do
		r = read(l->fd, l->buf + l->end, l->cap - l->end);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		if (l->on_error)
			l->on_error();
		errno = e;
		bt_die(BT_EXIT_FAIL, "%s: read error:", l->name);
	}
	l->end += (size_t)r;
	return r;
}

/* A line past the cap: exit 2 naming it, before it is held whole. */
static void too_long(struct bt_lines *l)
{
	if (l->on_error)
		l->on_error();
	bt_die(BT_EXIT_USAGE, "%s:%llu: line longer than %zu bytes", l->name,
	       l->lineno + 1, bt_line_max());
}

char *bt_lines_next(struct bt_lines *l, size_t *len)
{
	size_t scanned = 0, n;
	char *nl;

	for (;;) {
		nl = memchr(l->buf + l->start + scanned, '\n',
		            l->end - l->start - scanned);
		if (nl)
			break;
		scanned = l->end - l->start;
		if (scanned > bt_line_max())
			too_long(l);
		if (l->eof || fill(l) == 0) {
			l->eof = 1;
			if (l->start == l->end)
				return NULL;
			/* a last line without its newline */
			nl = l->buf + l->end;
			break;
		}
	}
	l->line = l->buf + l->start;
	l->off = l->base + l->start;
	n = (size_t)(nl - l->line);
	if (n > bt_line_max())
		too_long(l);
	l->start += n + (nl < l->buf + l->end);
	if (n > 0 && l->line[n - 1] == '\r')
		n--;
	l->line[n] = 0;
	l->len = n;
	l->lineno++;
	if (len)
		*len = n;
	return l->line;
}

int bt_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int bt_each_line(const char *path,
                 int (*fn)(const struct bt_lines *l, const char *where, const char *s,
                           size_t n, void *arg),
                 void *arg)
{
	struct bt_lines l;
	char where[300];
	size_t n;
	char *s;
	int r = 0;

	if (bt_lines_open(&l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	while (!r && (s = bt_lines_next(&l, &n))) {
		if (bt_blank(s, n))
			continue;
		snprintf(where, sizeof where, "%s:%llu", l.name, l.lineno);
		r = fn(&l, where, s, n, arg);
	}
	bt_lines_close(&l);
	return r;
}
