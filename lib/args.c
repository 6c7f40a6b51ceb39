/* args.c — the "arguments, else stdin lines" loop, and the batches
 * stream's rule for a bad line */
#include <stdio.h>
#include <string.h>

#include "bt.h"

char bt_arg_where[64];

int bt_each_arg(int argc, char **argv,
                int (*fn)(const char *item, size_t len, void *arg), void *arg)
{
	struct bt_lines l;
	size_t n;
	char *s;
	int i, r = 0;

	if (argc > 0) {
		for (i = 0; i < argc && !r; i++) {
			snprintf(bt_arg_where, sizeof bt_arg_where, "argument %d", i + 1);
			r = fn(argv[i], strlen(argv[i]), arg);
		}
		return r;
	}
	bt_lines_fd(&l, 0, "stdin");
	while (!r && (s = bt_lines_next(&l, &n))) {
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = 0;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		snprintf(bt_arg_where, sizeof bt_arg_where, "stdin:%llu", l.lineno);
		if (n)
			r = fn(s, n, arg);
	}
	bt_lines_close(&l);
	return r;
}

void bt_batch_args(int argc, char **argv)
{
	char id[BT_BATCH_ID_MAX], err[300];
	int i;
	jv b;

	for (i = 0; i < argc; i++) {
		if (bt_batch_ref(argv[i], strlen(argv[i]), id, &b, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "argument %d: %s", i + 1, err);
		jv_free(b);
	}
}

struct each_batch {
	int (*fn)(const char *id, jv batch, void *arg);
	void *arg;
	int bad;
};

static int one_batch(const char *s, size_t n, void *arg)
{
	struct each_batch *e = arg;
	char id[BT_BATCH_ID_MAX], err[300];
	jv b;
	int r;

	if (bt_batch_ref(s, n, id, &b, err, sizeof err) < 0) {
		bt_warn("%s: %s", bt_arg_where, err);
		e->bad = 1;
		return 1;   /* the input ends here */
	}
	r = e->fn(id, b, e->arg);
	jv_free(b);
	return r;
}

int bt_each_batch(int argc, char **argv,
                  int (*fn)(const char *id, jv batch, void *arg), void *arg)
{
	struct each_batch e = { fn, arg, 0 };
	int r;

	bt_batch_args(argc, argv);
	r = bt_each_arg(argc, argv, one_batch, &e);
	return e.bad ? BT_EXIT_USAGE : r;
}
