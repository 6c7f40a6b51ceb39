/* bt-retry — the requests worth another try, from their results */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

/* What is kept of each custom_id of the results: the deciding result,
 * by the one precedence rule (bt_result_wins). */
#define MATCHED     4       /* some request has this id */

struct outcome {
	unsigned char kind;     /* BT_R_* of the deciding result */
	unsigned char truncated;
	unsigned char flags;
	uint32_t type;          /* errored: the error type, an index in reasons.names */
	char *message;          /* errored with an error that needs a person */
};

/* Reasons for a decision, interned: error types, kind names, "truncated". */
static struct {
	struct bt_idset set;
	char **names;
	unsigned long long *count;
	size_t n, cap;
} reasons;

static struct {
	struct outcome *o;
	size_t n, cap;
	struct bt_idset ids;        /* custom_id → index in o, + 1 */
	struct bt_idset reqs;       /* request ids → file << 40 | line */
	struct bt_jq *set;
	struct bt_buf out, tmp;
	struct bt_lines l;          /* the file being read */
	char **files;
} outcomes;

/* Requests held back, grouped by what was said of them (type and message):
 * the first of a group is named, the rest counted (each named with -v). */
static struct {
	struct bt_idset set;        /* "type: message" → index in more, + 1 */
	char **said;
	unsigned long long *more;
	size_t n, cap;
} held;

/* Whose lines: the results' dialect (BT_DIALECT_*, -1 before the first)
 * and where it was first seen; the requests' likewise. */
static struct {
	int dialect;
	char where[300];
} res_shape = { -1, "" }, req_shape = { -1, "" };

/* A line of dialect d at name:line must be of the shape seen before. */
static void same_shape(int *seen, char *where, size_t wsz, int d, const char *what,
                       const char *name, unsigned long long line)
{
	if (*seen < 0) {
		*seen = d;
		snprintf(where, wsz, "%s:%llu", name, line);
	} else if (*seen != d) {
		bt_flush(&outcomes.out);
		bt_die(BT_EXIT_USAGE, "%s:%llu: an %s %s among %s ones (%s is %s's): "
		       "give the lines of one provider", name, line, bt_dialect_name(d), what,
		       bt_dialect_name(*seen), where, bt_dialect_name(*seen));
	}
}

/* Which outcomes are taken. */
static int want[BT_R_MISSING + 1], truncated, all_errors;

static void usage(FILE *f, int status)
{
	bt_usage(f, status,
"usage: bt-retry [-v] [--errored] [--expired] [--canceled] [--missing] [--truncated]\n"
"                [--all-errors] [--set EXPR] [--strict] [--results FILE] REQUESTS...\n",
	"  --errored                  take errored requests (retryable ones)\n"
	"  --expired                  take expired requests\n"
	"  --canceled                 take canceled requests\n"
	"  --missing                  take requests with no result\n"
	"  --truncated                take answers cut at max_tokens too\n"
	"  --all-errors               take errors that need a person too\n"
	"  --set EXPR                 jq: amend each request taken\n"
	"  --strict                   exit 3 when some were held back\n"
	"  --results FILE             read the results from FILE, not stdin\n"
	"  -v, --verbose              name each held back; always the summary\n"
	"  -h, --help                 this help\n");
}

static void cleanup(void)
{
	size_t i;

	for (i = 0; i < outcomes.n; i++)
		free(outcomes.o[i].message);
	free(outcomes.o);
	bt_idset_free(&outcomes.ids);
	bt_idset_free(&outcomes.reqs);
	bt_jq_free(outcomes.set);
	outcomes.set = NULL;
	bt_buf_free(&outcomes.out);
	bt_buf_free(&outcomes.tmp);
	bt_lines_close(&outcomes.l);
	for (i = 0; i < reasons.n; i++)
		free(reasons.names[i]);
	free(reasons.names);
	free(reasons.count);
	bt_idset_free(&reasons.set);
	for (i = 0; i < held.n; i++)
		free(held.said[i]);
	free(held.said);
	free(held.more);
	bt_idset_free(&held.set);
	memset(&held, 0, sizeof held);
	memset(&outcomes, 0, sizeof outcomes);
	memset(&reasons, 0, sizeof reasons);
}

/* The index of reason s, added when new. */
static uint32_t reason(const char *s)
{
	unsigned long long i = bt_idset_get(&reasons.set, s);

	if (i)
		return (uint32_t)(i - 1);
	if (reasons.n == reasons.cap) {
		reasons.cap = reasons.cap ? reasons.cap * 2 : 16;
		reasons.names = bt_realloc(reasons.names, reasons.cap * sizeof *reasons.names);
		reasons.count = bt_realloc(reasons.count, reasons.cap * sizeof *reasons.count);
	}
	reasons.names[reasons.n] = bt_strdup(s);
	reasons.count[reasons.n] = 0;
	bt_idset_add(&reasons.set, s, ++reasons.n);
	return (uint32_t)(reasons.n - 1);
}

/* Read every result; keep per custom_id what decides. */
static void read_results(const char *path)
{
	struct bt_lines *l = &outcomes.l;
	struct bt_result r;
	struct outcome *o;
	unsigned long long i;
	char err[300], *s;
	size_t n;

	if (bt_lines_open(l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	while ((s = bt_lines_next(l, &n))) {
		if (bt_blank(s, n))
			continue;
		if (bt_result_read(s, n, &r, NULL, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l->name, l->lineno, err);
		same_shape(&res_shape.dialect, res_shape.where, sizeof res_shape.where,
		           r.dialect, "result", l->name, l->lineno);
		if ((i = bt_idset_get(&outcomes.ids, r.id))) {
			o = &outcomes.o[i - 1];
		} else {
			if (outcomes.n == outcomes.cap) {
				outcomes.cap = outcomes.cap ? outcomes.cap * 2 : 1024;
				outcomes.o = bt_realloc(outcomes.o, outcomes.cap * sizeof *outcomes.o);
			}
			o = &outcomes.o[outcomes.n];
			memset(o, 0, sizeof *o);
			o->kind = BT_R_MISSING;
			bt_idset_add(&outcomes.ids, r.id, ++outcomes.n);
		}
		if (o->kind != BT_R_MISSING &&
		    !bt_result_wins(r.kind, r.truncated, o->kind, o->truncated))
			continue;
		o->kind = (unsigned char)r.kind;
		o->truncated = (unsigned char)r.truncated;
		free(o->message);
		o->message = NULL;
		if (r.kind == BT_R_ERRORED) {
			o->type = reason(r.type);
			if (!r.retryable)
				o->message = bt_strdup(r.message);
		}
	}
	bt_lines_close(l);
}

/* A message for one line of stderr: control characters become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* Write a request taken: as it is, or amended by --set. */
static void put(const char *name, unsigned long long line, const char *id,
                const char *s, size_t n)
{
	char err[300], id2[BT_ID_MAX + 1];
	jv v, m;

	if (!outcomes.set) {
		bt_buf_add(&outcomes.out, s, n);
		bt_buf_addc(&outcomes.out, '\n');
		return;
	}
	v = bt_json_parse(s, n, err, sizeof err);   /* checked already */
	v = bt_jq_one(outcomes.set, v);
	if (!jv_is_valid(v)) {
		m = jv_invalid_get_msg(v);
		snprintf(err, sizeof err, "%s", jv_get_kind(m) == JV_KIND_STRING ?
		         jv_string_value(m) : "--set: error");
		jv_free(m);
		bt_flush(&outcomes.out);
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", name, line, err);
	}
	outcomes.tmp.len = 0;
	bt_json_write(&outcomes.tmp, v);
	jv_free(v);
	if (bt_request_dialect(outcomes.tmp.p, outcomes.tmp.len, id2, err, sizeof err) < 0) {
		bt_flush(&outcomes.out);
		bt_die(BT_EXIT_USAGE, "%s:%llu: --set: did not give a request: %s",
		       name, line, err);
	}
	if (strcmp(id, id2)) {
		bt_flush(&outcomes.out);
		bt_die(BT_EXIT_USAGE, "%s:%llu: --set: changed the custom_id from \"%s\" to \"%s\"",
		       name, line, id, id2);
	}
	bt_buf_add(&outcomes.out, outcomes.tmp.p, outcomes.tmp.len);
	bt_buf_addc(&outcomes.out, '\n');
}

/* Say that request id was held back, unless its like was said before. */
static void hold(const char *name, unsigned long long line, const char *id,
                 const char *why, const char *message)
{
	char *said = bt_asprintf("%s%s%s", why, *message ? ": " : "", message);
	unsigned long long i = bt_idset_get(&held.set, said);

	if (!i || bt_verbose)
		bt_warn("%s:%llu: %s: held back: %s", name, line, id, said);
	if (i) {
		held.more[i - 1]++;
		free(said);
		return;
	}
	if (held.n == held.cap) {
		held.cap = held.cap ? held.cap * 2 : 16;
		held.said = bt_realloc(held.said, held.cap * sizeof *held.said);
		held.more = bt_realloc(held.more, held.cap * sizeof *held.more);
	}
	held.said[held.n] = said;
	held.more[held.n] = 0;
	bt_idset_add(&held.set, said, ++held.n);
}

/* The count of those held back and not named, a line per group. */
static void held_more(void)
{
	size_t i;

	if (bt_verbose)
		return;
	for (i = 0; i < held.n; i++)
		if (held.more[i])
			bt_warn("%llu more held back: %s (-v names each)", held.more[i],
			        held.said[i]);
}

struct tally {
	unsigned long long requests, taken, held, done, skipped;
};

/* Decide for one request line. */
static void decide(struct tally *t, const char *name, unsigned long long line,
                   const char *id, const char *s, size_t n)
{
	unsigned long long i = bt_idset_get(&outcomes.ids, id);
	struct outcome *o = i ? &outcomes.o[i - 1] : NULL;
	int kind = o ? o->kind : BT_R_MISSING;
	const char *why;
	uint32_t r;

	t->requests++;
	if (o)
		o->flags |= MATCHED;
	if (o && kind == BT_R_SUCCEEDED && !o->truncated) {
		t->done++;
		return;
	}
	if (o && kind == BT_R_SUCCEEDED) {
		if (!truncated) {
			t->done++;
			return;
		}
		r = reason("truncated");
	} else if (!want[kind]) {
		t->skipped++;
		return;
	} else if (kind == BT_R_ERRORED) {
		r = o->type;
		if (o->message && !all_errors) {
			one_line(o->message);
			why = reasons.names[r];
			hold(name, line, id, why, o->message);
			t->held++;
			return;
		}
	} else
		r = reason(bt_result_kind_name(kind));
	reasons.count[r]++;
	t->taken++;
	put(name, line, id, s, n);
	if (outcomes.out.len >= 1 << 20)
		bt_flush(&outcomes.out);
}

static void read_requests(struct tally *t, int nfiles)
{
	struct bt_lines *l = &outcomes.l;
	char id[BT_ID_MAX + 1], err[300];
	unsigned long long first;
	size_t n;
	char *s;
	int f, d;

	for (f = 0; f < nfiles; f++) {
		if (bt_lines_open(l, outcomes.files[f]) < 0) {
			bt_flush(&outcomes.out);
			bt_die(BT_EXIT_USAGE, "%s:", outcomes.files[f]);
		}
		while ((s = bt_lines_next(l, &n))) {
			if (bt_blank(s, n))
				continue;
			if ((d = bt_request_dialect(s, n, id, err, sizeof err)) < 0) {
				bt_flush(&outcomes.out);
				bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l->name, l->lineno, err);
			}
			same_shape(&req_shape.dialect, req_shape.where, sizeof req_shape.where,
			           d, "request", l->name, l->lineno);
			if (res_shape.dialect >= 0 && d != res_shape.dialect) {
				bt_flush(&outcomes.out);
				bt_die(BT_EXIT_USAGE, "%s:%llu: an %s request, but the results are "
				       "%s's (%s): give the results of these requests", l->name,
				       l->lineno, bt_dialect_name(d), bt_dialect_name(res_shape.dialect),
				       res_shape.where);
			}
			first = bt_idset_add(&outcomes.reqs, id, (unsigned long long)f << 40 | l->lineno);
			if (first) {
				bt_flush(&outcomes.out);
				bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" (first at %s:%llu)",
				       l->name, l->lineno, id,
				       !strcmp(outcomes.files[first >> 40], "-") ? "stdin" : outcomes.files[first >> 40],
				       first & ((1ULL << 40) - 1));
			}
			decide(t, l->name, l->lineno, id, s, n);
		}
		bt_lines_close(l);
	}
	bt_flush(&outcomes.out);
}

static int by_count(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (reasons.count[x] != reasons.count[y])
		return reasons.count[x] > reasons.count[y] ? -1 : 1;
	return strcmp(reasons.names[x], reasons.names[y]);
}

static void summary(const struct tally *t)
{
	struct bt_buf b = { 0 };
	uint32_t *order = bt_malloc((reasons.n ? reasons.n : 1) * sizeof *order);
	size_t i, k = 0;

	for (i = 0; i < reasons.n; i++)
		if (reasons.count[i])
			order[k++] = (uint32_t)i;
	qsort(order, k, sizeof *order, by_count);
	bt_buf_printf(&b, "%llu request%s: %llu to retry", t->requests,
	              t->requests == 1 ? "" : "s", t->taken);
	for (i = 0; i < k; i++)
		bt_buf_printf(&b, "%s%llu %s", i ? ", " : " (", reasons.count[order[i]],
		              reasons.names[order[i]]);
	if (k)
		bt_buf_addc(&b, ')');
	bt_buf_printf(&b, ", %llu held back, %llu done", t->held, t->done);
	if (t->skipped)
		bt_buf_printf(&b, ", %llu not selected", t->skipped);
	bt_warn("%s", bt_buf_str(&b));
	bt_buf_free(&b);
	free(order);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "errored", no_argument, 0, 'E' },
		{ "expired", no_argument, 0, 'X' },
		{ "canceled", no_argument, 0, 'C' },
		{ "missing", no_argument, 0, 'M' },
		{ "truncated", no_argument, 0, 'T' },
		{ "all-errors", no_argument, 0, 'A' },
		{ "set", required_argument, 0, 's' },
		{ "results", required_argument, 0, 'r' },
		{ "strict", no_argument, 0, 'S' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *results = NULL, *set = NULL;
	struct tally t = { 0 };
	unsigned long long unmatched = 0;
	int c, i, kinds = 0, dash = 0, strict = 0;
	size_t j;

	bt_init(argv);
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1)
		switch (c) {
		case 'E': want[BT_R_ERRORED] = 1; kinds = 1; break;
		case 'X': want[BT_R_EXPIRED] = 1; kinds = 1; break;
		case 'C': want[BT_R_CANCELED] = 1; kinds = 1; break;
		case 'M': want[BT_R_MISSING] = 1; kinds = 1; break;
		case 'T': truncated = 1; break;
		case 'A': all_errors = 1; break;
		case 's': set = optarg; break;
		case 'r': results = optarg; break;
		case 'S': strict = 1; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (!kinds)
		want[BT_R_ERRORED] = want[BT_R_EXPIRED] = want[BT_R_CANCELED] =
			want[BT_R_MISSING] = 1;
	if (all_errors && !want[BT_R_ERRORED])
		bt_die(BT_EXIT_USAGE, "--all-errors: errored results are not selected (add --errored)");
	if (!argc)
		bt_die(BT_EXIT_USAGE, "no REQUESTS file given");
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-")) {
			if (!results)
				bt_die(BT_EXIT_USAGE, "-: standard input holds the results "
				       "(give them with --results FILE)");
			if (dash++)
				bt_die(BT_EXIT_USAGE, "-: standard input given twice");
		}
	if (results && !strcmp(results, "-") && dash)
		bt_die(BT_EXIT_USAGE, "--results -: standard input given twice");

	atexit(cleanup);
	bt_stdout_all_or_nothing();
	if (set)
		outcomes.set = bt_jq_compile("--set", set, jv_object());
	outcomes.files = argv;
	read_results(results);
	read_requests(&t, argc);

	for (j = 0; j < outcomes.n; j++)
		if (!(outcomes.o[j].flags & MATCHED))
			unmatched++;
	if (unmatched)
		bt_warn("%llu result%s match%s no request", unmatched,
		        unmatched == 1 ? "" : "s", unmatched == 1 ? "es" : "");
	held_more();
	if (t.held || bt_verbose)
		summary(&t);
	bt_close_stdout();
	return strict && t.held ? BT_EXIT_INCOMPLETE : 0;
}
