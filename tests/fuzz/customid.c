/* customid.c — fuzz harness: the custom_id rule (lib/customid.c).
 *
 * For every input:
 *  - bt_custom_id_ok agrees with ^[A-Za-z0-9_-]{1,64}$, checked here byte
 *    by byte;
 *  - the input as a string id gives a valid custom_id, made by the rule of
 *    design.md: the text itself when it is valid, else its first 47 bytes
 *    with every other byte made '_', '-', and 16 hex digits of its SHA-256;
 *  - its two halves (cut where the first byte says) give different ids
 *    when they differ, unless one is kept as it is and the other hashed
 *    (a kept id may look like a hashed one: see tests/fuzz/README);
 *  - its first 8 bytes as a double give a valid id, from the number as
 *    jq prints it, and that text reads back as the same number;
 *  - the input parsed as JSON gives an id when it is a string or number,
 *    else an error message;
 *  - bt_custom_id_num is the decimal number, '-', and 8 hex digits of the
 *    SHA-256 of the input, never an old (bare) numbered id.
 */
#include <math.h>

#include "fuzz.h"

#define KEEP 47

static int ok_here(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > BT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* The id of string s (consumed) by the rule, checked; into out. */
static int string_id(jv s, char out[BT_ID_MAX + 1])
{
	char err[128] = "", hash[65];
	const char *t = jv_string_value(s);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s)), i, keep;
	int r = bt_custom_id(s, out, err, sizeof err);

	if (n == 0) {
		MUST(r == -1 && err[0], "an empty id gave %d '%s'", r, err);
		jv_free(s);
		return -1;
	}
	MUST(r == 0, "a string id of %zu bytes refused: %s", n, err);
	MUST(strlen(out) <= BT_ID_MAX && ok_here(out, strlen(out)), "a bad id made: %s", out);
	if (ok_here(t, n)) {
		MUST(strlen(out) == n && !memcmp(out, t, n), "a valid id changed: %s", out);
	} else {
		keep = n < KEEP ? n : KEEP;
		MUST(strlen(out) == keep + 17 && out[keep] == '-', "the shape of %s", out);
		for (i = 0; i < keep; i++)
			MUST(out[i] == (ok_here(t + i, 1) ? t[i] : '_'), "byte %zu of %s", i, out);
		bt_sha256_hex(t, n, hash);
		MUST(!memcmp(out + keep + 1, hash, 16), "the hash in %s", out);
	}
	jv_free(s);
	return 0;
}

static void number_id(double d)
{
	struct bt_buf b = { 0 };
	char out[BT_ID_MAX + 1], err[128] = "", perr[256];
	jv back, dump;
	int r = bt_custom_id(jv_number(d), out, err, sizeof err);

	MUST(r == 0 && ok_here(out, strlen(out)), "the number %.17g: %d '%s' '%s'",
	     d, r, out, err);
	bt_json_write_num(&b, d);
	MUST(b.len > 0, "a number written as nothing");
	dump = jv_dump_string(jv_number(d), 0);
	MUST(!strcmp(bt_buf_str(&b), jv_string_value(dump)), "%.17g: jq prints %s, we %s",
	     d, jv_string_value(dump), b.p);
	jv_free(dump);
	back = bt_json_parse(b.p, b.len, perr, sizeof perr);
	if (d != d)
		MUST(jv_get_kind(back) == JV_KIND_NULL, "NaN written as %s", b.p);
	else
		MUST(jv_get_kind(back) == JV_KIND_NUMBER &&
		     jv_number_value(back) == (isinf(d) ? copysign(1.7976931348623157e308, d) : d),
		     "%.17g written as %s (%s)", d, b.p, perr);
	jv_free(back);
	bt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char a[BT_ID_MAX + 1], b[BT_ID_MAX + 1], err[128], hash[65];
	size_t cut;
	unsigned long long u = 0;
	double d;
	jv x, y, v;
	int ra, rb, same;

	MUST(bt_custom_id_ok(s, size) == ok_here(s, size), "bt_custom_id_ok");
	string_id(jv_string_sized(s, (int)size), a);

	/* two halves: different texts, different ids */
	cut = size ? data[0] % (size + 1) : 0;
	x = jv_string_sized(s, (int)cut);
	y = jv_string_sized(s + cut, (int)(size - cut));
	same = jv_equal(jv_copy(x), jv_copy(y));
	ra = ok_here(jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)));
	rb = ok_here(jv_string_value(y), (size_t)jv_string_length_bytes(jv_copy(y)));
	ra = string_id(x, a) == 0 ? ra : -1;
	rb = string_id(y, b) == 0 ? rb : -2;
	if (ra == rb)
		MUST(same == !strcmp(a, b), "two texts, one id (or the reverse): %s %s", a, b);

	if (size >= sizeof d) {
		memcpy(&d, data, sizeof d);
		number_id(d);
		memcpy(&u, data, sizeof u);
	}
	bt_custom_id_num(u, s, size, a);
	bt_sha256_hex(s, size, hash);
	snprintf(b, sizeof b, "%llu-%.8s", u, hash);
	MUST(!strcmp(a, b) && bt_custom_id_ok(a, strlen(a)), "record %llu: %s", u, a);
	MUST(bt_custom_id_old(a) == 0, "record %llu: %s reads as an old id", u, a);

	/* the input as a JSON value */
	v = bt_json_parse(s, size, NULL, 0);
	if (jv_is_valid(v)) {
		int kind = jv_get_kind(v), r;

		err[0] = 0;
		r = bt_custom_id(v, a, err, sizeof err);     /* borrowed */
		if (kind == JV_KIND_NUMBER ||
		    (kind == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) > 0))
			MUST(r == 0 && bt_custom_id_ok(a, strlen(a)), "%d '%s'", r, err);
		else
			MUST(r == -1 && err[0], "a %s gave an id", jv_kind_name(kind));
	}
	jv_free(v);
	return 0;
}
