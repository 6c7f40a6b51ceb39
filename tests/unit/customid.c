/* customid.c — the custom_id rule of the design */
#include <string.h>
#include "bt.h"
#include "tap.h"

static const char *id_of(jv v)
{
	static char out[BT_ID_MAX + 1 + 128];
	char err[100];

	if (bt_custom_id(v, out, err, sizeof err) < 0) {
		jv_free(v);
		snprintf(out, sizeof out, "ERR:%.99s", err);
		return out;
	}
	jv_free(v);
	return out;
}

int main(void)
{
	char want[BT_ID_MAX + 1], hash[65], s64[65], s65[66];
	struct bt_idset set = { 0 };

	memset(s64, 'a', 64);
	s64[64] = 0;
	memset(s65, 'b', 65);
	s65[65] = 0;

	ok(bt_custom_id_ok("a", 1), "one letter is an id");
	ok(bt_custom_id_ok("A-z_09", 6), "letters, digits, - and _");
	ok(!bt_custom_id_ok("", 0), "empty is not an id");
	ok(bt_custom_id_ok(s64, 64), "64 bytes is an id");
	ok(!bt_custom_id_ok(s65, 65), "65 bytes is not");
	ok(!bt_custom_id_ok("a b", 3), "a space is not allowed");
	ok(!bt_custom_id_ok("a.b", 3), "a dot is not allowed");

	is_str(id_of(jv_string("ticket-42")), "ticket-42", "a valid string is kept");
	is_str(id_of(jv_string(s64)), s64, "exactly 64 valid bytes are kept");

	bt_sha256_hex(s65, 65, hash);
	snprintf(want, sizeof want, "%.47s-%.16s", s65, hash);
	is_str(id_of(jv_string(s65)), want, "65 bytes: cut to 47, '-', 16 hex of SHA-256");
	is_int(strlen(id_of(jv_string(s65))), 64, "and that is 64 bytes");

	bt_sha256_hex("a b", 3, hash);
	snprintf(want, sizeof want, "a_b-%.16s", hash);
	is_str(id_of(jv_string("a b")), want, "bad bytes become _ and the hash is added");

	bt_sha256_hex("caf\xc3\xa9", 5, hash);
	snprintf(want, sizeof want, "caf__-%.16s", hash);
	is_str(id_of(jv_string("caf\xc3\xa9")), want,
	       "UTF-8: every byte of a multibyte character becomes _");
	snprintf(want, sizeof want, "%s", id_of(jv_string("a b")));
	ok(strcmp(want, id_of(jv_string("a_b"))) != 0, "'a b' and 'a_b' do not collide");

	is_str(id_of(jv_number(42)), "42", "an integer number is its digits");
	is_str(id_of(jv_number(-7)), "-7", "a negative integer keeps its '-'");
	bt_sha256_hex("1.5", 3, hash);
	snprintf(want, sizeof want, "1_5-%.16s", hash);
	is_str(id_of(jv_number(1.5)), want, "1.5: the text jq prints, made safe");
	bt_sha256_hex("1e+16", 5, hash);
	snprintf(want, sizeof want, "1e_16-%.16s", hash);
	is_str(id_of(jv_number(1e16)), want, "1e16 prints as jq does (1e+16)");

	is_str(id_of(jv_string("")), "ERR:the id is an empty string", "empty string is an error");
	is_str(id_of(jv_null()), "ERR:the id is null", "null is an error");
	is_str(id_of(jv_true()), "ERR:the id is a boolean, not a string or number", "true is an error");
	is_str(id_of(jv_object()), "ERR:the id is an object, not a string or number", "object is an error");
	is_str(id_of(jv_array()), "ERR:the id is an array, not a string or number", "array is an error");

	/* printf '{"text":"t1"}' | sha256sum: dff15570... */
	bt_custom_id_num(1, "{\"text\":\"t1\"}", 13, want);
	is_str(want, "1-dff15570", "record number 1: the number and 8 hex digits of its SHA-256");
	bt_custom_id_num(200000, "{\"text\":\"t1\"}", 13, want);
	is_str(want, "200000-dff15570", "record number 200000");
	bt_custom_id_num(18446744073709551615ULL, "", 0, want);
	is_str(want, "18446744073709551615-e3b0c442", "the largest number, an empty line: 29 bytes");
	is_int(bt_custom_id_old("12"), 12, "an old numbered id");
	is_int(bt_custom_id_old("12-3fa9c0d1"), 0, "a new one is not old");
	is_int(bt_custom_id_old("012"), 0, "a leading 0 is no record number");
	is_int(bt_custom_id_old("0"), 0, "nor is 0");
	is_int(bt_custom_id_old("99999999999999999999"), 0, "a number past 64 bits is not one");

	is_int(bt_idset_add(&set, "a", 1), 0, "idset: a new id");
	is_int(bt_idset_add(&set, "b", 2), 0, "idset: another");
	is_int(bt_idset_add(&set, "a", 7), 1, "idset: a duplicate names the first line");
	is_int(bt_idset_get(&set, "b"), 2, "idset: get");
	is_int(bt_idset_get(&set, "c"), 0, "idset: get of an unknown id");
	for (int i = 0; i < 100000; i++) {
		snprintf(want, sizeof want, "id%d", i);
		bt_idset_add(&set, want, (unsigned long long)i + 10);
	}
	is_int(bt_idset_get(&set, "id99999"), 100009, "idset: 100,000 ids, after growing");
	is_int((long long)set.count, 100002, "idset: count");
	bt_idset_free(&set);

	/* reserve: made once at its size, and what it held before stays */
	bt_idset_add(&set, "x", 3);
	bt_idset_reserve(&set, 50000);
	is_int((long long)set.cap, 131072, "idset: reserve 50,000 (and 1 held): 131,072 slots");
	is_int(bt_idset_get(&set, "x"), 3, "idset: reserve keeps what was there");
	for (int i = 0; i < 50000; i++) {
		snprintf(want, sizeof want, "r%d", i);
		bt_idset_add(&set, want, (unsigned long long)i + 1);
	}
	is_int((long long)set.cap, 131072, "idset: no growing within the reserve");
	is_int(bt_idset_get(&set, "r49999"), 50000, "idset: get after a reserve");
	is_int(bt_idset_add(&set, "r7", 9), 8, "idset: a duplicate after a reserve");
	bt_idset_reserve(&set, 0);
	is_int((long long)set.cap, 131072, "idset: a reserve of what fits changes nothing");
	bt_idset_free(&set);
	return done_testing();
}
