/* json.c — fuzz harness: the JSON scanner, parser and writer of lib/.
 *
 * For every input:
 *  - the SSE2 and the AVX2 string scanners (bt_json_avx2 switches them)
 *    agree on everything: value, error message, bytes used, members;
 *  - parsing the whole text, parsing a prefix and skipping agree: the same
 *    bytes used, the same error at the same column;
 *  - a value written and parsed again is the same value (an infinity comes
 *    back as the largest double, as jq prints it) and writes the same bytes;
 *  - jq's own parser (jv_parse_sized) reads what we write as an equal
 *    value, and jq's printer prints the bytes we print (both up to the
 *    depth jq 1.6 can read and print: 256);
 *  - what we accept, jq accepts too, as an equal value;
 *  - bt_json_members_quick accepts whatever bt_json_members accepts, with
 *    the same members, and members accepts whatever parses as an object;
 *  - bt_json_canon writes what bt_json_write_sorted writes of the parsed
 *    value, byte for byte, and fails where the parser fails, saying the
 *    same.
 */
#include "fuzz.h"

#define JQ_DEPTH 256    /* jq 1.6's parser refuses anything deeper */

struct scan {
	int valid, pvalid, mr, qr, mstop, qstop;
	size_t used, skipped;
	struct bt_buf value, prefix, members, quick;
	char err[256], perr[256], serr[256], merr[256], qerr[256];
};

static int record(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct bt_buf *b = arg;

	bt_buf_printf(b, "%zu:", kn);
	bt_buf_add(b, k, kn);
	bt_buf_printf(b, "=%zu:", vn);
	bt_buf_add(b, v, vn);
	return 0;
}

static int stop_first(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	(void)k, (void)kn, (void)v, (void)vn, (void)arg;
	return 42;
}

/* Everything the scanner says about s[0..n); the whole value in *v. */
static void scan(const char *s, size_t n, struct scan *c, jv *v)
{
	jv p;

	*v = bt_json_parse(s, n, c->err, sizeof c->err);
	c->valid = jv_is_valid(*v);
	c->value.len = 0;
	if (c->valid)
		bt_json_write(&c->value, *v);
	MUST(c->valid || c->err[0], "an error without a message");
	MUST(!c->valid || !c->err[0], "a value with an error: %s", c->err);

	p = bt_json_parse_prefix(s, n, &c->used, c->perr, sizeof c->perr);
	c->pvalid = jv_is_valid(p);
	c->prefix.len = 0;
	if (c->pvalid)
		bt_json_write(&c->prefix, p);
	jv_free(p);

	c->skipped = bt_json_skip(s, n, c->serr, sizeof c->serr);

	c->members.len = c->quick.len = 0;
	c->mr = bt_json_members(s, n, record, &c->members, c->merr, sizeof c->merr);
	c->qr = bt_json_members_quick(s, n, record, &c->quick, c->qerr, sizeof c->qerr);
	c->mstop = bt_json_members(s, n, stop_first, NULL, NULL, 0);
	c->qstop = bt_json_members_quick(s, n, stop_first, NULL, NULL, 0);
}

static void scan_free(struct scan *c)
{
	bt_buf_free(&c->value);
	bt_buf_free(&c->prefix);
	bt_buf_free(&c->members);
	bt_buf_free(&c->quick);
}

/* One scan is consistent with itself. */
static void consistent(const char *s, size_t n, const struct scan *c)
{
	size_t i;
	int rest_blank;

	/* building and skipping */
	MUST(c->skipped == c->used, "skip used %zu, prefix %zu", c->skipped, c->used);
	MUST(c->pvalid == (c->used > 0), "prefix valid %d, used %zu", c->pvalid, c->used);
	MUST(c->pvalid || !strcmp(c->perr, c->serr), "prefix says '%s', skip '%s'",
	     c->perr, c->serr);
	/* a whole value is a prefix with only white space after it */
	if (!c->pvalid) {
		MUST(!c->valid, "whole valid, prefix not");
		MUST(!strcmp(c->err, c->perr), "whole says '%s', prefix '%s'", c->err, c->perr);
	} else {
		for (i = c->used, rest_blank = 1; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
				rest_blank = 0;
		MUST(c->valid == rest_blank, "whole valid %d, prefix + blank %d",
		     c->valid, rest_blank);
		MUST(!c->valid || fuzz_same_bytes(&c->value, &c->prefix),
		     "whole and prefix differ");
	}
	/* the member walkers */
	MUST(c->mr == 0 || c->mr == -1, "members returned %d", c->mr);
	MUST(c->qr == 0 || c->qr == -1, "quick returned %d", c->qr);
	MUST(c->mr == 0 || c->merr[0], "members failed without a message");
	MUST(c->qr == 0 || c->qerr[0], "quick failed without a message");
	if (c->mr == 0) {
		MUST(c->qr == 0, "members accepts, quick says %s", c->qerr);
		MUST(fuzz_same_bytes(&c->members, &c->quick),
		     "members and quick saw different members");
		MUST(c->valid && c->value.p[0] == '{',
		     "members accepts what does not parse as an object: %s", c->err);
	}
	if (c->valid && c->value.p[0] == '{')
		MUST(c->mr == 0, "an object that members refuses: %s", c->merr);
	MUST(c->mstop == 42 || c->mstop == 0 || c->mstop == -1, "stop: %d", c->mstop);
	MUST(c->mstop != 42 || c->qstop == 42, "members stops, quick says %d", c->qstop);
	MUST(c->mstop != 0 || c->mr == 0, "an empty object only members accepts");
	MUST(c->mr != 0 || c->mstop == (c->members.len ? 42 : 0), "stop: %d", c->mstop);
}

static void agree(const struct scan *a, const struct scan *b)
{
	MUST(a->valid == b->valid && fuzz_same_bytes(&a->value, &b->value) &&
	     !strcmp(a->err, b->err), "parse: SSE2 '%s', AVX2 '%s'", a->err, b->err);
	MUST(a->pvalid == b->pvalid && a->used == b->used &&
	     fuzz_same_bytes(&a->prefix, &b->prefix) && !strcmp(a->perr, b->perr),
	     "prefix: SSE2 %zu '%s', AVX2 %zu '%s'", a->used, a->perr, b->used, b->perr);
	MUST(a->skipped == b->skipped && !strcmp(a->serr, b->serr),
	     "skip: SSE2 %zu '%s', AVX2 %zu '%s'", a->skipped, a->serr, b->skipped, b->serr);
	MUST(a->mr == b->mr && fuzz_same_bytes(&a->members, &b->members) &&
	     !strcmp(a->merr, b->merr), "members: SSE2 '%s', AVX2 '%s'", a->merr, b->merr);
	MUST(a->qr == b->qr && fuzz_same_bytes(&a->quick, &b->quick) &&
	     !strcmp(a->qerr, b->qerr), "quick: SSE2 '%s', AVX2 '%s'", a->qerr, b->qerr);
	MUST(a->mstop == b->mstop && a->qstop == b->qstop, "stop: SSE2 %d %d, AVX2 %d %d",
	     a->mstop, a->qstop, b->mstop, b->qstop);
}

/* Nesting depth of v (borrowed): 0 for a scalar. */
static int depth(jv v)
{
	int d = 0, k, i, n, it;
	jv x;

	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			x = jv_array_get(jv_copy(v), i);
			if ((k = depth(x)) > d)
				d = k;
			jv_free(x);
		}
		return d + 1;
	}
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		     it = jv_object_iter_next(v, it)) {
			x = jv_object_iter_value(v, it);
			if ((k = depth(x)) > d)
				d = k;
			jv_free(x);
		}
		return d + 1;
	}
	return 0;
}

static double clamp(double d)
{
	return d > 1.7976931348623157e308 ? 1.7976931348623157e308 :
	       d < -1.7976931348623157e308 ? -1.7976931348623157e308 : d;
}

/* a and b (borrowed) are the same value, an infinity being the largest
 * double (jq prints it so). */
static int same(jv a, jv b)
{
	int i, n, it, r = 1;
	jv x, y, k;

	if (jv_get_kind(a) != jv_get_kind(b))
		return 0;
	switch (jv_get_kind(a)) {
	case JV_KIND_NUMBER:
		return clamp(jv_number_value(a)) == clamp(jv_number_value(b));
	case JV_KIND_STRING:
		return jv_equal(jv_copy(a), jv_copy(b));
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(a));
		if (n != jv_array_length(jv_copy(b)))
			return 0;
		for (i = 0; i < n && r; i++) {
			x = jv_array_get(jv_copy(a), i);
			y = jv_array_get(jv_copy(b), i);
			r = same(x, y);
			jv_free(x);
			jv_free(y);
		}
		return r;
	case JV_KIND_OBJECT:
		if (jv_object_length(jv_copy(a)) != jv_object_length(jv_copy(b)))
			return 0;
		for (it = jv_object_iter(a); r && jv_object_iter_valid(a, it);
		     it = jv_object_iter_next(a, it)) {
			k = jv_object_iter_key(a, it);
			x = jv_object_iter_value(a, it);
			y = jv_object_get(jv_copy(b), k);
			r = jv_is_valid(y) && same(x, y);
			jv_free(x);
			jv_free(y);
		}
		return r;
	default:
		return 1;
	}
}

/* v (borrowed), which bt_json_write wrote as w: written and read again. */
static void round_trip(jv v, struct bt_buf *w)
{
	struct bt_buf again = { 0 };
	char err[256];
	jv v2, j, dump;
	int deep = depth(v) > JQ_DEPTH;

	bt_buf_str(w);  /* terminated, for the messages */
	v2 = bt_json_parse(w->p, w->len, err, sizeof err);
	MUST(jv_is_valid(v2), "what we wrote does not parse: %s", err);
	MUST(same(v, v2), "written and parsed again, a different value: %s", w->p);
	bt_json_write(&again, v2);
	MUST(fuzz_same_bytes(w, &again), "written twice, different bytes: %s / %s",
	     w->p, bt_buf_str(&again));
	MUST(bt_json_skip(w->p, w->len, err, sizeof err) == w->len, "skip: %s", err);

	/* jq reads what we write as the same value ... */
	j = jv_parse_sized(w->p, (int)w->len);
	if (!deep) {
		if (!jv_is_valid(j)) {
			jv m = jv_invalid_get_msg(jv_copy(j));
			MUST(0, "jq does not read what we wrote: %s: %s", w->p,
			     jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
		}
		MUST(jv_equal(jv_copy(v2), jv_copy(j)), "jq reads another value: %s", w->p);
	}
	jv_free(j);
	/* ... and prints it with the same bytes (deeper, jq prints
	 * "<stripped: exceeds max depth>" where we print the value) */
	dump = jv_dump_string(jv_copy(v), 0);
	if (deep) {
		jv_free(dump);
		dump = jv_string_sized(w->p, (int)w->len);
	}
	MUST(jv_get_kind(dump) == JV_KIND_STRING &&
	     (size_t)jv_string_length_bytes(jv_copy(dump)) == w->len &&
	     !memcmp(jv_string_value(dump), w->p, w->len),
	     "jq prints %s, we print %s",
	     jv_get_kind(dump) == JV_KIND_STRING ? jv_string_value(dump) : "?", w->p);
	jv_free(dump);
	jv_free(v2);
	bt_buf_free(&again);
}

/* What we accept, jq accepts as an equal value.  One difference is
 * meant: a \ud800-\udbff escape not followed by a low surrogate is U+FFFD
 * to us (and to jq 1.7), an error to jq 1.6. */
static void jq_accepts(const char *s, size_t n, jv v)
{
	jv j, m;

	if (n > (size_t)INT32_MAX || depth(v) > JQ_DEPTH)
		return;
	j = jv_parse_sized(s, (int)n);
	if (!jv_is_valid(j)) {
		m = jv_invalid_get_msg(j);
		MUST(jv_get_kind(m) == JV_KIND_STRING &&
		     strstr(jv_string_value(m), "surrogate pair"),
		     "jq refuses what we accept: %s",
		     jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
		jv_free(m);
		return;
	}
	MUST(same(v, j), "jq reads another value than we do");
	jv_free(j);
}

/* The canonical text made from the text agrees with the value's. */
static void canon_agrees(const char *s, size_t n, jv v, const char *err)
{
	struct bt_buf a = { 0 }, b = { 0 };
	char cerr[256];
	int r = bt_json_canon(s, n, &a, cerr, sizeof cerr);

	MUST((r == 0) == jv_is_valid(v), "canon says %d, the parser %d", r, jv_is_valid(v));
	if (jv_is_valid(v)) {
		bt_json_write_sorted(&b, v);
		MUST(fuzz_same_bytes(&a, &b), "canon and write_sorted differ");
	} else
		MUST(!strcmp(cerr, err), "canon says '%s', the parser '%s'", cerr, err);
	bt_buf_free(&a);
	bt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int avx2 = -1;
	const char *s = (const char *)data;
	struct scan sse = { 0 }, wide = { 0 };
	jv v, v2;

	if (avx2 < 0)
		avx2 = bt_json_avx2;    /* what the CPU has */

	bt_json_avx2 = 0;
	scan(s, size, &sse, &v);
	consistent(s, size, &sse);
	if (avx2) {
		bt_json_avx2 = 1;
		scan(s, size, &wide, &v2);
		jv_free(v2);
		agree(&sse, &wide);
	}
	bt_json_avx2 = avx2;

	canon_agrees(s, size, v, sse.err);
	if (jv_is_valid(v)) {
		round_trip(v, &sse.value);
		jq_accepts(s, size, v);
	}
	jv_free(v);
	scan_free(&sse);
	scan_free(&wide);
	return 0;
}
