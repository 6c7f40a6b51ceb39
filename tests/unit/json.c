/* json.c — the JSON parser and the JSONL reader */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bt.h"
#include "tap.h"

static char err[256];

/* parse s and write it back compact; or "ERR: message" */
static const char *rt(const char *s)
{
	static struct bt_buf b;
	jv v = bt_json_parse(s, strlen(s), err, sizeof err);

	b.len = 0;
	if (!jv_is_valid(v)) {
		jv_free(v);
		bt_buf_printf(&b, "ERR: %s", err);
		return bt_buf_str(&b);
	}
	bt_json_write(&b, v);
	jv_free(v);
	return bt_buf_str(&b);
}

static int member(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct bt_buf *b = arg;

	bt_buf_printf(b, "%.*s=%.*s;", (int)kn, k, (int)vn, v);
	return kn == 4 && !memcmp(k, "stop", 4) ? 7 : 0;
}

static const char *members(const char *s)
{
	static struct bt_buf b;
	int r;

	b.len = 0;
	r = bt_json_members(s, strlen(s), member, &b, err, sizeof err);
	if (r)
		bt_buf_printf(&b, "r=%d %s", r, r < 0 ? err : "");
	return bt_buf_str(&b);
}

static const char *quick(const char *s)
{
	static struct bt_buf b;
	int r;

	b.len = 0;
	r = bt_json_members_quick(s, strlen(s), member, &b, err, sizeof err);
	if (r)
		bt_buf_printf(&b, "r=%d %s", r, r < 0 ? err : "");
	return bt_buf_str(&b);
}

static const char *members_utf8(const char *s, size_t n)
{
	static struct bt_buf b;
	int r;

	b.len = 0;
	r = bt_json_members_utf8(s, n, member, &b, err, sizeof err);
	if (r)
		bt_buf_printf(&b, "r=%d %s", r, r < 0 ? err : "");
	return bt_buf_str(&b);
}

static const char *strict(const char *s)
{
	return members_utf8(s, strlen(s));
}

/* UTF-8 that is well-formed, and that is not, with why */
static const struct {
	const char *s;
	int good;
	const char *what;
} utf8[] = {
	{ "\x7f", 1, "U+007F" },
	{ "\xc2\x80", 1, "U+0080" },
	{ "\xdf\xbf", 1, "U+07FF" },
	{ "\xe0\xa0\x80", 1, "U+0800" },
	{ "\xed\x9f\xbf", 1, "U+D7FF" },
	{ "\xee\x80\x80", 1, "U+E000" },
	{ "\xef\xbf\xbf", 1, "U+FFFF" },
	{ "\xf0\x90\x80\x80", 1, "U+10000" },
	{ "\xf3\xbf\xbf\xbf", 1, "U+FFFFF" },
	{ "\xf4\x8f\xbf\xbf", 1, "U+10FFFF" },
	{ "\xc3\xa9\xe4\xb8\xad", 1, "two characters" },
	{ "\x80", 0, "a stray continuation byte" },
	{ "\xbf", 0, "a stray continuation byte" },
	{ "\xc0\x80", 0, "an overlong NUL" },
	{ "\xc1\xbf", 0, "an overlong 2-byte form" },
	{ "\xe0\x80\x80", 0, "an overlong 3-byte form" },
	{ "\xe0\x9f\xbf", 0, "an overlong 3-byte form" },
	{ "\xed\xa0\x80", 0, "a surrogate, U+D800" },
	{ "\xed\xbf\xbf", 0, "a surrogate, U+DFFF" },
	{ "\xf0\x80\x80\x80", 0, "an overlong 4-byte form" },
	{ "\xf0\x8f\xbf\xbf", 0, "an overlong 4-byte form" },
	{ "\xf4\x90\x80\x80", 0, "past U+10FFFF" },
	{ "\xf5\x80\x80\x80", 0, "a lead byte past F4" },
	{ "\xf8\x88\x80\x80\x80", 0, "a 5-byte form" },
	{ "\xfe", 0, "FE" },
	{ "\xff", 0, "FF" },
	{ "\xc2", 0, "a 2-byte form cut short" },
	{ "\xe1\x80", 0, "a 3-byte form cut short" },
	{ "\xf1\x80\x80", 0, "a 4-byte form cut short" },
	{ "\xc2\x41", 0, "a lead byte, then ASCII" },
	{ "\xe1\x80\x41", 0, "a 3-byte form, then ASCII" },
	{ "\xf1\x80\x80\xc0", 0, "a 4-byte form, then a lead byte" },
};

static char *tmpfile_with(const char *data, size_t n)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/bt-unit-json.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || bt_write_all(fd, data, n) < 0)
		bt_die(1, "tmp:");
	close(fd);
	return path;
}

int main(void)
{
	struct bt_lines l;
	char *s, *path, *big;
	size_t n, used;
	jv v, m;
	int k;

	is_str(rt("{\"a\" : [1, 2.5, -0, true, false, null, \"x\"]}"),
	       "{\"a\":[1,2.5,-0,true,false,null,\"x\"]}", "a round trip");
	is_str(rt("\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\""),
	       "\"\xc3\xa9\xf0\x9f\x98\x80\\n\\t\\\"\\\\/\"", "escapes and a surrogate pair");
	is_str(rt("\"\\ud800x\""), "\"\xef\xbf\xbdx\"", "a lone surrogate becomes U+FFFD");
	is_str(rt("\"\xff\""), "\"\xef\xbf\xbd\"", "bad UTF-8 becomes U+FFFD");
	is_str(rt("\"\x7f\\u0001\""), "\"\\u007f\\u0001\"", "DEL and controls escaped as jq does");
	is_str(rt("{\"b\":1,\"a\":2,\"b\":3}"), "{\"b\":3,\"a\":2}", "duplicate keys: last value, first place");
	is_str(rt("[1.0, 1e2, 1E-2, 123456789012345678, 1e16, 1e1000]"),
	       "[1,100,0.01,123456789012345680,1e+16,1.7976931348623157e+308]", "numbers as jq prints them");
	is_str(rt("  7  "), "7", "white space around a value");

	is_str(rt(""), "ERR: unexpected end of input, expected a value at column 1", "empty text");
	is_str(rt("{\"a\":1} x"), "ERR: trailing data after the value at column 9", "trailing garbage");
	is_str(rt("{\"a\":1}{}"), "ERR: trailing data after the value at column 8", "two values on a line");
	is_str(rt("{\"a\" 1}"), "ERR: unexpected '1', expected ':' at column 6", "missing colon");
	is_str(rt("[1,]"), "ERR: unexpected ']', expected a value at column 4", "trailing comma");
	is_str(rt("{'a':1}"), "ERR: unexpected ''', expected a string key at column 2", "single quotes");
	is_str(rt("\"abc"), "ERR: unterminated string at column 1", "unterminated string");
	is_str(rt("\"a\tb\""), "ERR: control character 0x09 in string at column 3", "raw tab in a string");
	is_str(rt("\"\\x\""), "ERR: invalid escape '\\x' in string at column 2", "bad escape");
	is_str(rt("\"\\u12g4\""), "ERR: invalid \\u escape at column 2", "bad \\u escape");
	is_str(rt("01"), "ERR: leading zero in number at column 1", "leading zero");
	is_str(rt("-"), "ERR: unexpected end of input, expected a digit at column 2", "a lone minus");
	is_str(rt("1."), "ERR: unexpected end of input, expected a digit after '.' at column 3", "1.");
	is_str(rt("NaN"), "ERR: unexpected 'N', expected a value at column 1", "NaN");
	is_str(rt("tru"), "ERR: invalid literal (expected true) at column 1", "a cut literal");
	is_str(rt("\x01"), "ERR: unexpected byte 0x01, expected a value at column 1", "a control byte");

	big = bt_malloc(20001 * 2 + 10);
	for (k = 0, n = 0; k < 20001; k++)
		big[n++] = '[';
	for (k = 0; k < 20001; k++)
		big[n++] = ']';
	big[n] = 0;
	ok(!strncmp(rt(big), "ERR: nested deeper than 10000 levels", 36), "depth is bounded");
	free(big);

	v = bt_json_parse_prefix("{\"a\":1} ,[2]", 12, &used, err, sizeof err);
	ok(jv_is_valid(v) && used == 7, "prefix: one value and the bytes it used");
	jv_free(v);
	used = bt_json_skip(" [1,{\"x\":\"y\"}] rest", 20, err, sizeof err);
	is_int(used, 14, "skip: the bytes of one value, not built");
	used = bt_json_skip("[1,", 3, err, sizeof err);
	is_int(used, 0, "skip: 0 for bad JSON");

	is_str(members(" {\"custom_id\" : \"a\", \"params\":{\"x\":[1,\"}\"]}} "),
	       "custom_id=\"a\";params={\"x\":[1,\"}\"]};", "members: keys and value texts");
	is_str(members("{\"a\\\"b\":1}"), "a\\\"b=1;", "members: a key is given as written");
	is_str(members("{}"), "", "members: an empty object");
	is_str(members("[1]"), "r=-1 not a JSON object at column 1", "members: not an object");
	is_str(members("{\"a\":1} x"), "a=1;r=-1 trailing data after the value at column 9", "members: trailing data");
	is_str(members("{\"a\":[1,}"), "r=-1 unexpected '}', expected a value at column 9", "members: a bad value");
	is_str(members("{\"stop\":1,\"b\":2}"), "stop=1;r=7 ", "members: fn's result stops the walk");

	is_str(quick("{\"custom_id\":\"a\",\"params\":{\"m\":[1,{\"x\":\"}]\\\"\"}],\"n\":null}}"),
	       "custom_id=\"a\";params={\"m\":[1,{\"x\":\"}]\\\"\"}],\"n\":null};",
	       "quick: brackets inside strings and escaped quotes are text");
	is_str(quick("{\"p\":{\"a\":[1,2}}"), "r=-1 unexpected '}' at column 15", "quick: a bracket that does not match");
	is_str(quick("{\"p\":{\"a\":[1,2]"), "r=-1 unexpected end of input, expected '}' or ']' at column 16",
	       "quick: a bracket left open");
	is_str(quick("{\"p\":{\"a\":\"x}}"), "r=-1 unterminated string at column 11", "quick: a string left open");
	is_str(quick("{\"p\":{\"a\":\"\\q\"}}"), "r=-1 invalid escape '\\q' in string at column 12", "quick: a bad escape");
	is_str(quick("{\"p\":{\"a\":01e}}"), "p={\"a\":01e};", "quick: numbers are not checked (the full check is later)");
	is_str(quick("{\"p\":tru,\"q\":1}"), "p=tru;q=1;", "quick: nor literals");
	is_str(quick("{\"p\":}"), "r=-1 unexpected '}', expected a value at column 6", "quick: a missing value");
	big = bt_malloc(200);
	strcpy(big, "{\"p\":");
	for (k = 0; k < 70; k++)
		strcat(big, "[");
	strcat(big, "1");
	for (k = 0; k < 70; k++)
		strcat(big, "]");
	strcat(big, "}");
	ok(!strncmp(quick(big), "p=[[[", 5), "quick: deeper than 64 falls back to the full check");
	big[strlen(big) - 2] = '}';
	ok(!strncmp(quick(big), "r=-1 unexpected '}', expected ',' or ']'", 40),
	   "quick: and the full check still finds what is wrong (%s)", quick(big));
	free(big);

	/* The object whose members are walked is a level of nesting, as it
	 * is to the parser: an object 10000 deep in all is JSON to both, one
	 * 10001 deep to neither (and no request to bt_request_check). */
	big = bt_malloc(2 * 10001 + 64);
	for (k = 9999; k <= 10000; k++) {
		char id[BT_ID_MAX + 1], e2[256] = "";
		int i;

		/* params of k levels: an object, k - 2 arrays, an object */
		n = (size_t)sprintf(big, "{\"custom_id\":\"a\",\"params\":{\"x\":");
		for (i = 0; i < k - 2; i++)
			big[n++] = '[';
		big[n++] = '{';
		big[n++] = '}';
		for (i = 0; i < k - 2; i++)
			big[n++] = ']';
		big[n++] = '}';
		big[n++] = '}';
		big[n] = 0;
		v = bt_json_parse(big, n, err, sizeof err);
		ok(jv_is_valid(v) == (k == 9999), "%d levels in all: %s by the parser",
		   k + 1, k == 9999 ? "accepted" : "refused");
		jv_free(v);
		ok(bt_json_members(big, n, NULL, NULL, err, sizeof err) == (k == 9999 ? 0 : -1),
		   "%d levels in all: the same by members (%s)", k + 1, err);
		ok(bt_json_members_quick(big, n, NULL, NULL, err, sizeof err) == (k == 9999 ? 0 : -1),
		   "%d levels in all: the same by members_quick (%s)", k + 1, err);
		ok(bt_request_check(big, n, id, e2, sizeof e2) == (k == 9999 ? 0 : -1),
		   "%d levels in all: the same by bt_request_check (%s)", k + 1, e2);
	}
	free(big);

	/* the JSONL reader: CRLF, blank lines, no final newline, line numbers */
	s = "{\"a\":1}\r\n\n   \n[2]\r\n{bad}\n\"last\"";
	path = tmpfile_with(s, strlen(s));
	bt_lines_open(&l, path);
	v = bt_jsonl_next(&l);
	is_str(rt("{\"a\":1}"), "{\"a\":1}", "sanity");
	ok(jv_get_kind(v) == JV_KIND_OBJECT && l.lineno == 1, "CRLF line 1 parsed");
	jv_free(v);
	v = bt_jsonl_next(&l);
	ok(jv_get_kind(v) == JV_KIND_ARRAY && l.lineno == 4, "blank lines skipped, still counted (line %llu)", l.lineno);
	jv_free(v);
	v = bt_jsonl_next(&l);
	ok(!jv_is_valid(v) && jv_invalid_has_msg(jv_copy(v)), "a bad line is an error");
	m = jv_invalid_get_msg(v);
	s = bt_asprintf("%s:5: invalid JSON: unexpected 'b', expected a string key at column 2", path);
	is_str(jv_string_value(m), s, "it names file, line and what is wrong");
	free(s);
	jv_free(m);
	v = bt_jsonl_next(&l);
	ok(jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), "last"),
	   "a last line without a newline counts");
	jv_free(v);
	v = bt_jsonl_next(&l);
	ok(!jv_is_valid(v) && !jv_invalid_has_msg(jv_copy(v)), "then the end, without a message");
	jv_free(v);
	bt_lines_close(&l);
	unlink(path);

	/* a 30 MB line, bigger than any buffer, between two small ones */
	n = 30u * 1000 * 1000;
	big = bt_malloc(n + 64);
	memcpy(big, "1\n\"", 3);
	memset(big + 3, 'x', n);
	memcpy(big + 3 + n, "\"\n2\n", 4);
	path = tmpfile_with(big, n + 7);
	bt_lines_open(&l, path);
	s = bt_lines_next(&l, &used);
	ok(s && used == 1 && s[0] == '1', "line before the huge one");
	s = bt_lines_next(&l, &used);
	is_int(used, n + 2, "a 30 MB line in one piece");
	v = bt_json_parse(s, used, err, sizeof err);
	ok(jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) == (int)n,
	   "and it parses");
	jv_free(v);
	s = bt_lines_next(&l, &used);
	ok(s && used == 1 && s[0] == '2' && l.lineno == 3, "the line after it");
	ok(!bt_lines_next(&l, &used), "end");
	bt_lines_close(&l);
	unlink(path);
	free(big);

	ok(bt_blank(" \t\r", 3) && bt_blank("", 0) && !bt_blank(" x", 2), "blank lines");

	/* UTF-8, strictly */
	for (k = 0; k < (int)(sizeof utf8 / sizeof utf8[0]); k++) {
		n = strlen(utf8[k].s);
		ok(utf8[k].good ? bt_utf8_valid(utf8[k].s, n) == n :
		   bt_utf8_valid(utf8[k].s, n) == 0 && bt_utf8_char(utf8[k].s, n) == 0,
		   "UTF-8: %s is %s", utf8[k].what, utf8[k].good ? "good" : "bad");
	}
	is_int(bt_utf8_valid("ab\0c", 4), 4, "UTF-8: a NUL is a character (the JSON rules refuse it)");
	is_int(bt_utf8_valid("abcdefghij\xc3\xa9klmnopq\xe9", 20), 19,
	       "UTF-8: the offset of the first bad byte, past ASCII words");
	is_int(bt_utf8_char("\xf0\x9f\x98\x80", 4), 4, "UTF-8: the length of a character");
	is_int(bt_utf8_char("\xf0\x9f\x98\x80", 3), 0, "UTF-8: none when it is cut by the end");
	is_str(strict("{\"a\":\"caf\xc3\xa9\"}"), "a=\"caf\xc3\xa9\";",
	       "strict: good UTF-8 passes");
	is_str(strict("{\"a\":\"caf\xe9\"}"), "r=-1 invalid UTF-8 at column 10",
	       "strict: bad UTF-8 in a value, its column");
	is_str(strict("{\"\xe9\":1}"), "r=-1 invalid UTF-8 at column 3",
	       "strict: in a key");
	is_str(strict("{\"a\":[{\"b\":\"\xc3\"}]}"), "r=-1 invalid UTF-8 at column 13",
	       "strict: deep in a value, cut by the quote");
	is_str(strict("{\"a\":\"\xc3\\n\xa9\"}"), "r=-1 invalid UTF-8 at column 7",
	       "strict: a character cut by an escape");
	is_str(strict("{\"a\":\"x\xff\ty\"}"), "r=-1 invalid UTF-8 at column 8",
	       "strict: the first error in the line wins (UTF-8 before a control)");
	is_str(strict("{\"a\":\"x\ty\xff\"}"), "r=-1 control character 0x09 in string at column 8",
	       "strict: the first error in the line wins (a control before UTF-8)");
	is_str(strict("{\"a\":\"x\xff"), "r=-1 unterminated string at column 6",
	       "strict: a string left open is said so");
	is_str(strict("{\"a\":\xff}"), "r=-1 unexpected byte 0xff, expected a value at column 6",
	       "strict: outside strings, a byte JSON does not take");
	is_str(members("{\"a\":\"caf\xe9\"}"), "a=\"caf\xe9\";",
	       "members: bad UTF-8 passes (user data: replaced later, as jq does)");
	is_str(quick("{\"a\":\"caf\xe9\"}"), "a=\"caf\xe9\";", "quick: and here");
	is_str(rt("\"\xed\xa0\x80\xc0\x80\""), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	       "parse: bad UTF-8 still becomes U+FFFD, as jq does");

	/* quoting bad input for a message */
	{
		char q[BT_QUOTE_SIZE];

		is_str(bt_quote(q, "ab\0c\x01\x7f\xff", 7), "ab\\x00c\\x01\\x7f\\xff",
		       "quote: controls, NUL, DEL and bad UTF-8 as \\xHH");
		is_str(bt_quote(q, "caf\xc3\xa9", 5), "caf\xc3\xa9", "quote: good UTF-8 as it is");
		big = bt_malloc(100000);
		memset(big, 'x', 100000);
		is_str(bt_quote(q, big, 100000), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...",
		       "quote: 100 kB cut to 40 bytes and ...");
		is_str(bt_quote(q, big, 40), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		       "quote: 40 bytes whole");
		memcpy(big + 38, "\xc3\xa9", 2);
		is_int((int)strlen(bt_quote(q, big, 41)), 43,
		       "quote: a character that would cross 40 is left out whole");
		memcpy(big + 37, "\x01", 1);
		is_int((int)strlen(bt_quote(q, big, 100)), 40,
		       "quote: and so is an escape (37 and ...)");
		free(big);
	}

	/* String scanning, 32, 16 and 1 bytes at a time: every length to 100
	 * (bytes of 0x80 and up, and letters that are no escape) and a stop
	 * at every place, read from a buffer of exactly its size
	 * (valgrind sees a read past it), with AVX2 if the CPU has it and
	 * without. */
	for (k = bt_json_avx2 ? 2 : 1; k > 0; k--) {
		int avx2 = bt_json_avx2, bad = 0;
		size_t len, i, c;
		static const char stop[] = { '"', '\\', 0x01, 0x1f };

		bt_json_avx2 = k == 2;
		for (len = 0; len <= 100; len++) {
			char *p = bt_malloc(len + 2);

			p[0] = p[len + 1] = '"';
			memset(p + 1, 'a', len);
			for (i = 0; i < len; i++)
				p[1 + i] = (char)(i % 3 ? 0x80 + i : 'A' + i % 26);
			if (bt_json_skip(p, len + 2, err, sizeof err) != len + 2)
				bad++;
			for (i = 0; i < len; i++) {
				char keep = p[1 + i];

				for (c = 0; c < sizeof stop; c++) {
					p[1 + i] = stop[c];
					/* an error, or a string that ends early */
					if (bt_json_skip(p, len + 2, err, sizeof err) == len + 2)
						bad++;
				}
				p[1 + i] = keep;
			}
			free(p);
		}
		bt_json_avx2 = avx2;
		ok(!bad, "strings of 0 to 100 bytes, a stop at each place (%s)",
		   k == 2 ? "AVX2" : "SSE2");
	}

	/* bt_utf8_valid the same way: every sequence above at every place of
	 * texts to 100 bytes, read from a buffer of exactly their size; and
	 * every good character cut short, by the end of the text or by an
	 * 'a', which is bad at its lead byte */
	for (k = bt_json_avx2 ? 2 : 1; k > 0; k--) {
		int avx2 = bt_json_avx2, bad = 0, tries = 0;
		size_t len, i, u, sl, cut, want, got;

		bt_json_avx2 = k == 2;
		for (len = 0; len <= 100; len++) {
			for (u = 0; u < sizeof utf8 / sizeof utf8[0]; u++) {
				sl = strlen(utf8[u].s);
				for (cut = utf8[u].good && bt_utf8_char(utf8[u].s, sl) == sl ? 1 : sl;
				     cut <= sl; cut++) {
					for (i = 0; i + cut <= len; i++) {
						char *p = bt_malloc(len ? len : 1);

						memset(p, 'a', len);
						memcpy(p + i, utf8[u].s, cut);
						if (cut < sl)
							want = i;
						else
							want = utf8[u].good ? len : i + bt_utf8_valid(utf8[u].s, sl);
						got = bt_utf8_valid(p, len);
						tries++;
						if (got != want && bad++ < 5)
							printf("# %s (%zu of %zu bytes) at %zu of %zu: %zu, want %zu\n",
							       utf8[u].what, cut, sl, i, len, got, want);
						free(p);
					}
				}
			}
		}
		bt_json_avx2 = avx2;
		ok(!bad && tries > 100000, "bt_utf8_valid on texts of 0 to 100 bytes, %d cases (%s)",
		   tries, k == 2 ? "AVX2" : "SSE2");
	}

	/* And in request-like lines, through bt_json_members_utf8: every
	 * sequence above at every place of every string to 100 bytes,
	 * followed by the rest of the string or by an escape at once; the
	 * error's column, or none, wherever 16 and 32 fall. */
	for (k = bt_json_avx2 ? 2 : 1; k > 0; k--) {
		int avx2 = bt_json_avx2, bad = 0, tries = 0;
		size_t len, i, j, u, sl;
		char want[64];
		const char *got;

		bt_json_avx2 = k == 2;
		for (len = 0; len <= 100; len++) {
			char *p = bt_malloc(len + 16);

			for (u = 0; u < sizeof utf8 / sizeof utf8[0]; u++) {
				sl = strlen(utf8[u].s);
				for (i = 0; i + sl <= len; i++) {
					/* {"k":"aaa<seq>aaa"} and {"k":"aaa<seq>\naaa"} */
					for (j = i + sl; j <= len; j = j < len ? len : len + 1) {
						size_t m = 0;

						memcpy(p, "{\"k\":\"", 6);
						m = 6;
						memset(p + m, 'a', len);
						memcpy(p + m + i, utf8[u].s, sl);
						m += j;
						if (j < len) {      /* an escape at j */
							memmove(p + m + 2, p + m, len - j);
							memcpy(p + m, "\\n", 2);
							m += 2 + (len - j);
						}
						memcpy(p + m, "\"}", 2);
						m += 2;
						got = members_utf8(p, m);
						if (utf8[u].good)
							want[0] = 0;
						else
							snprintf(want, sizeof want, "r=-1 invalid UTF-8 at column %zu",
							         7 + i + bt_utf8_valid(utf8[u].s, sl));
						tries++;
						if (utf8[u].good ? strncmp(got, "k=", 2) != 0 : strcmp(got, want) != 0) {
							if (bad++ < 5)
								printf("# %s at %zu of %zu, stop at %zu: %s\n",
								       utf8[u].what, i, len, j, got);
						}
					}
				}
			}
			free(p);
		}
		bt_json_avx2 = avx2;
		ok(!bad && tries > 100000, "UTF-8 in strings of 0 to 100 bytes, %d cases (%s)",
		   tries, k == 2 ? "AVX2" : "SSE2");
	}

	/* The quick scan of objects and arrays 32 bytes at a time (AVX2)
	 * against a byte at a time: each piece at every place of a value of
	 * up to 110 bytes, inside a string and between items, and every
	 * prefix of those; the same members, the same error and message. */
	if (bt_json_avx2) {
		static const char *const piece[] = {
			"\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\u12",
			"\\x", "\\", "\\u", "]", "}", "[", "{", "\x01", "\x1f", "\"", "\",\"",
			"[]", "{}", "[[{}]]", "\n", "[}", "{]", "\"]\"", "\\\\\"",
		};
		int bad = 0, tries = 0;
		size_t pc, i, cut;
		char line[256], want[512];

		for (pc = 0; pc < sizeof piece / sizeof piece[0]; pc++) {
			for (i = 0; i <= 70; i++) {
				for (int inside = 0; inside < 2; inside++) {
					size_t n = (size_t)snprintf(line, sizeof line, inside ?
					                            "{\"a\":1,\"k\":[\"%.*s%s%.*s\"],\"z\":2}" :
					                            "{\"a\":1,\"k\":[\"%.*s\",%s,\"%.*s\"],\"z\":2}",
					                            (int)i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
					                            piece[pc], (int)(70 - i),
					                            "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
					for (cut = (i % 7 == 0 ? 0 : n); cut <= n; cut++) {
						char c = line[cut];

						line[cut] = 0;
						bt_json_avx2 = 0;
						snprintf(want, sizeof want, "%s", quick(line));
						bt_json_avx2 = 1;
						tries++;
						if (strcmp(want, quick(line)) && bad++ < 5)
							printf("# %s: a byte at a time %s, AVX2 %s\n", line, want, quick(line));
						line[cut] = c;
					}
				}
			}
		}
		ok(!bad && tries > 10000, "quick scan, AVX2 against a byte at a time: %d cases", tries);
	}
	return done_testing();
}
