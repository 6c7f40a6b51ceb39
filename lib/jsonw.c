/* jsonw.c — jv to compact JSON, byte for byte what jq 1.6 -c prints.
 *
 * jq escapes '"', '\\', the control characters (\b \t \n \f \r by name,
 * the others and DEL as \u00xx) and nothing else; it prints integers below
 * 1e16 in full, -0 as "-0", NaN as null, infinities as +-DBL_MAX, and
 * other numbers by its own shortest round-trip format, which we borrow
 * through jv_dump_string for those rare cases.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"

/* 0: copy as is; 1: \uXXXX; other: the letter after the backslash */
static const unsigned char esc[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 'b', 't', 'n', 1, 'f', 'r', 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

/* s is valid UTF-8 (jv guarantees it for its strings). */
static void put_string(struct bt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	unsigned char e;
	char *o;

	bt_buf_grow(b, n + 2);
	b->p[b->len++] = '"';
	while (p < end) {
		run = p;
		while (p < end && !esc[*p])
			p++;
		if (p > run)
			bt_buf_add(b, run, (size_t)(p - run));
		if (p == end)
			break;
		e = esc[*p];
		bt_buf_grow(b, 6);
		o = b->p + b->len;
		o[0] = '\\';
		if (e == 1) {
			o[1] = 'u';
			o[2] = '0';
			o[3] = '0';
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			b->len += 6;
		} else {
			o[1] = (char)e;
			b->len += 2;
		}
		p++;
	}
	bt_buf_addc(b, '"');
}

static int utf8_valid(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	unsigned c;
	int k;

	while (p < end) {
		c = *p++;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0;
		if (end - p < k)
			return 0;
		if ((c == 0xe0 && p[0] < 0xa0) || (c == 0xed && p[0] > 0x9f) ||
		    (c == 0xf0 && p[0] < 0x90) || (c == 0xf4 && p[0] > 0x8f))
			return 0;
		while (k--)
			if ((*p++ & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

void bt_json_write_str(struct bt_buf *b, const char *s, size_t n)
{
	jv v;

	if (utf8_valid((const unsigned char *)s, n)) {
		put_string(b, s, n);
		return;
	}
	v = jv_string_sized(s, (int)n);     /* replaces bad bytes by U+FFFD */
	put_string(b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
}

void bt_json_write_cstr(struct bt_buf *b, const char *s)
{
	if (s)
		bt_json_write_str(b, s, strlen(s));
	else
		bt_buf_add(b, "null", 4);
}

void bt_json_write_num(struct bt_buf *b, double d)
{
	char tmp[32];
	jv s;
	int n;

	if (d != d) {
		bt_buf_add(b, "null", 4);
		return;
	}
	if (d == 0) {
		if (signbit(d))
			bt_buf_add(b, "-0", 2);
		else
			bt_buf_addc(b, '0');
		return;
	}
	if (d > -1e16 && d < 1e16 && d == (double)(long long)d) {
		n = snprintf(tmp, sizeof tmp, "%lld", (long long)d);
		bt_buf_add(b, tmp, (size_t)n);
		return;
	}
	s = jv_dump_string(jv_number(d), 0);
	bt_buf_adds(b, jv_string_value(s));
	jv_free(s);
}

/* v as compact JSON; sorted: every object's keys in byte order (jv_keys's
 * order: UTF-8 byte order is code point order). */
static void write_value(struct bt_buf *b, jv v, int sorted)
{
	int i, n, it, first;
	jv keys, k, x;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		bt_buf_add(b, "null", 4);
		break;
	case JV_KIND_TRUE:
		bt_buf_add(b, "true", 4);
		break;
	case JV_KIND_FALSE:
		bt_buf_add(b, "false", 5);
		break;
	case JV_KIND_NUMBER:
		bt_json_write_num(b, jv_number_value(v));
		break;
	case JV_KIND_STRING:
		put_string(b, jv_string_value(v),
		           (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY:
		bt_buf_addc(b, '[');
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			if (i)
				bt_buf_addc(b, ',');
			x = jv_array_get(jv_copy(v), i);
			write_value(b, x, sorted);
			jv_free(x);
		}
		bt_buf_addc(b, ']');
		break;
	case JV_KIND_OBJECT:
		bt_buf_addc(b, '{');
		if (sorted) {
			keys = jv_keys(jv_copy(v));
			n = jv_array_length(jv_copy(keys));
			for (i = 0; i < n; i++) {
				if (i)
					bt_buf_addc(b, ',');
				k = jv_array_get(jv_copy(keys), i);
				put_string(b, jv_string_value(k),
				           (size_t)jv_string_length_bytes(jv_copy(k)));
				bt_buf_addc(b, ':');
				x = jv_object_get(jv_copy(v), k);
				write_value(b, x, sorted);
				jv_free(x);
			}
			jv_free(keys);
			bt_buf_addc(b, '}');
			break;
		}
		first = 1;
		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		     it = jv_object_iter_next(v, it)) {
			if (!first)
				bt_buf_addc(b, ',');
			first = 0;
			k = jv_object_iter_key(v, it);
			x = jv_object_iter_value(v, it);
			put_string(b, jv_string_value(k),
			           (size_t)jv_string_length_bytes(jv_copy(k)));
			bt_buf_addc(b, ':');
			write_value(b, x, sorted);
			jv_free(k);
			jv_free(x);
		}
		bt_buf_addc(b, '}');
		break;
	default:    /* invalid: nothing to print */
		break;
	}
}

void bt_json_write(struct bt_buf *b, jv v)
{
	write_value(b, v, 0);
}

/* The canonical text the response store's key hashes (cachekey.c). */
void bt_json_write_sorted(struct bt_buf *b, jv v)
{
	write_value(b, v, 1);
}

int bt_json_mend_utf8(const char *s, size_t n, struct bt_buf *out)
{
	jv v;

	if (bt_utf8_valid(s, n) == n)
		return 0;
	v = bt_json_parse(s, n, NULL, 0);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return -1;
	}
	out->len = 0;
	bt_json_write(out, v);
	jv_free(v);
	return 1;
}
