/* tjq — jq(1) for the filters the tests use most, without jq's start-up:
 * jq compiles its library of builtins at every start (23 ms of CPU here),
 * and the tests ran it about 1,600 times, most often to read one field.
 * The input is parsed and the output printed by libjq, jq's own library,
 * so what tjq prints is what jq prints, byte for byte (tests/tjq.t holds
 * it to that).
 *
 *   tjq [-r] [-c] FILTER [FILE...]
 *
 * FILTER is "." or a path of steps .NAME and .[N] (N a whole number),
 * as in .id, .error.type, .data[0].id, .[2].  Anything else runs jq
 * itself, with the same arguments and the same input: another option or
 * filter, a step into a value of the wrong kind (jq's error), input that
 * does not parse, a file that cannot be read, a terminal on stdout. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jv.h>

struct buf { char *p; size_t len, cap; };

static char **all_args;
static struct buf in;           /* the input read so far */
static int read_stdin;          /* and it came from stdin */

static void add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 65536;
		if (!(b->p = realloc(b->p, b->cap))) {
			perror("tjq");
			exit(2);
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Run jq itself on what was asked, with stdin as it was: what tjq read
 * of it goes to jq through a pipe, then the rest, by a child. */
static void real_jq(void)
{
	int fd[2];
	char chunk[65536];
	ssize_t r;
	size_t off;

	if (read_stdin) {
		if (pipe(fd) < 0) {
			perror("tjq: pipe");
			exit(2);
		}
		switch (fork()) {
		case -1:
			perror("tjq: fork");
			exit(2);
		case 0:
			close(fd[0]);
			for (off = 0; off < in.len; off += (size_t)r)
				if ((r = write(fd[1], in.p + off, in.len - off)) < 0)
					_exit(0);       /* jq stopped reading */
			while ((r = read(0, chunk, sizeof chunk)) > 0)
				if (write(fd[1], chunk, (size_t)r) != r)
					_exit(0);
			_exit(0);
		}
		close(fd[1]);
		if (dup2(fd[0], 0) < 0) {
			perror("tjq: dup2");
			exit(2);
		}
		close(fd[0]);
	}
	all_args[0] = "jq";
	execvp("jq", all_args);
	perror("tjq: jq");
	exit(127);
}

/* All of fd into in; -1 on a read error. */
static int slurp(int fd)
{
	char chunk[65536];
	ssize_t r;

	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		add(&in, chunk, (size_t)r);
	}
	return 0;
}

struct step { const char *name; size_t len; long index; };     /* name NULL: .[index] */

/* FILTER into steps; -1 when it is not "." or a plain path. */
static int parse_filter(const char *f, struct step *st, int max)
{
	int n = 0;
	const char *p = f;
	char *end;

	if (!strcmp(f, "."))
		return 0;
	while (*p) {
		if (n == max || *p != '.')
			return -1;
		p++;
		if (*p == '[') {
			if (p[1] < '0' || p[1] > '9')
				return -1;
			st[n].name = NULL;
			st[n].index = strtol(p + 1, &end, 10);
			if (*end != ']' || st[n].index > 1000000)
				return -1;
			p = end + 1;
		} else {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
				return -1;
			st[n].name = p;
			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			       (*p >= '0' && *p <= '9') || *p == '_')
				p++;
			st[n].len = (size_t)(p - st[n].name);
		}
		/* .a[0]: an index right after a name is a step of its own */
		if (*p == '[') {
			if (n + 1 == max || p[1] < '0' || p[1] > '9')
				return -1;
			n++;
			st[n].name = NULL;
			st[n].index = strtol(p + 1, &end, 10);
			if (*end != ']' || st[n].index > 1000000)
				return -1;
			p = end + 1;
		}
		n++;
	}
	return n;
}

/* v with the steps taken, as jq takes them (a missing member or index,
 * or a step into null, is null); invalid where jq would fail. */
static jv walk(jv v, const struct step *st, int n)
{
	jv k;
	int i;

	for (i = 0; i < n; i++) {
		if (jv_get_kind(v) == JV_KIND_NULL)
			continue;
		if (st[i].name && jv_get_kind(v) == JV_KIND_OBJECT) {
			k = jv_string_sized(st[i].name, (int)st[i].len);
			v = jv_object_get(v, k);
		} else if (!st[i].name && jv_get_kind(v) == JV_KIND_ARRAY) {
			v = jv_array_get(v, (int)st[i].index);
		} else {
			jv_free(v);
			return jv_invalid();
		}
		if (!jv_is_valid(v)) {          /* not there: null, as jq */
			jv_free(v);
			v = jv_null();
		}
	}
	return v;
}

int main(int argc, char **argv)
{
	struct step st[16];
	struct buf out = { 0 };
	int raw = 0, compact = 0, i = 1, n, fd;
	const char *filter;
	jv_parser *parser;
	jv v, s;

	all_args = argv;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-r"))
			raw = 1;
		else if (!strcmp(argv[i], "-c"))
			compact = 1;
		else if (!strcmp(argv[i], "-rc") || !strcmp(argv[i], "-cr"))
			raw = compact = 1;
		else
			real_jq();
	}
	if (i >= argc || isatty(1))
		real_jq();
	filter = argv[i++];
	if ((n = parse_filter(filter, st, 16)) < 0)
		real_jq();
	if (i == argc) {
		read_stdin = 1;
		if (slurp(0) < 0)
			real_jq();
	}
	for (; i < argc; i++) {
		if (argv[i][0] == '-' || (fd = open(argv[i], O_RDONLY)) < 0)
			real_jq();
		if (slurp(fd) < 0)
			real_jq();
		close(fd);
	}
	parser = jv_parser_new(0);
	jv_parser_set_buf(parser, in.p ? in.p : "", (int)in.len, 0);
	for (;;) {
		v = jv_parser_next(parser);
		if (!jv_is_valid(v)) {
			if (jv_invalid_has_msg(jv_copy(v)))
				real_jq();      /* jq says where, and how */
			jv_free(v);
			break;
		}
		v = walk(v, st, n);
		if (!jv_is_valid(v))
			real_jq();
		if (raw && jv_get_kind(v) == JV_KIND_STRING) {
			add(&out, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
			jv_free(v);
		} else {
			s = jv_dump_string(v, compact ? 0 : JV_PRINT_INDENT_FLAGS(2));
			add(&out, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
			jv_free(s);
		}
		add(&out, "\n", 1);
	}
	jv_parser_free(parser);
	for (size_t off = 0; off < out.len;) {
		ssize_t r = write(1, out.p + off, out.len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "tjq: write error: %s\n", strerror(errno));
			return 2;
		}
		off += (size_t)r;
	}
	free(out.p);
	free(in.p);
	return 0;
}
