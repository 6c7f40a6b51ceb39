/* args.c — the "arguments, else stdin lines" loop */
#include <stdio.h>
#include <string.h>

#include "bt.h"

char bt_arg_where[64];

int bt_each_arg(int argc, char **argv,
                int (*fn)(const char *item, void *arg), void *arg)
{
	struct bt_lines l;
	size_t n;
	char *s;
	int i, r = 0;

	if (argc > 0) {
		for (i = 0; i < argc && !r; i++) {
			snprintf(bt_arg_where, sizeof bt_arg_where, "argument %d", i + 1);
			r = fn(argv[i], arg);
		}
		return r;
	}
	bt_lines_fd(&l, 0, "stdin");
	while (!r && (s = bt_lines_next(&l, &n))) {
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		snprintf(bt_arg_where, sizeof bt_arg_where, "stdin:%llu", l.lineno);
		if (*s)
			r = fn(s, arg);
	}
	bt_lines_close(&l);
	return r;
}
