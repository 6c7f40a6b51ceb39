/* api.c — lib/api.c: a batch's request_counts, read with a range check */
#include <math.h>
#include "bt.h"
#include "tap.h"

/* A batch whose request_counts.succeeded is n, the others 1. */
static jv batch_with(jv n)
{
	jv c = jv_object();

	c = jv_object_set(c, jv_string("processing"), jv_number(1));
	c = jv_object_set(c, jv_string("succeeded"), n);
	c = jv_object_set(c, jv_string("errored"), jv_number(1));
	c = jv_object_set(c, jv_string("canceled"), jv_number(1));
	c = jv_object_set(c, jv_string("expired"), jv_number(1));
	return jv_object_set(jv_object(), jv_string("request_counts"), c);
}

static long long count_of(jv n, const char *which)
{
	jv b = batch_with(n);
	long long r = bt_batch_count(b, which);

	jv_free(b);
	return r;
}

int main(void)
{
	jv b;

	is_int((int)count_of(jv_number(7), "total"), 11, "total: the five summed");
	is_int((int)count_of(jv_number(7), "succeeded"), 7, "one count");
	is_int((int)count_of(jv_number(0), "total"), 4, "zero is a count");
	ok(count_of(jv_number(9007199254740992.0), "succeeded") == 9007199254740992LL,
	   "2^53, the largest count, is read");
	is_int((int)count_of(jv_number(1e300), "total"), -2, "1e300: out of range");
	is_int((int)count_of(jv_number(1e300), "processing"), 1, "...but only where it is read");
	is_int((int)count_of(jv_number(-1e300), "succeeded"), -2, "-1e300: out of range");
	is_int((int)count_of(jv_number(-1), "succeeded"), -2, "a negative count");
	is_int((int)count_of(jv_number(NAN), "total"), -2, "NaN");
	is_int((int)count_of(jv_number(INFINITY), "total"), -2, "infinity");
	is_int((int)count_of(jv_number(2.5), "succeeded"), -2, "a count that is not whole");
	is_int((int)count_of(jv_number(9007199254740994.0), "succeeded"), -2, "past 2^53");
	is_int((int)count_of(jv_string("7"), "total"), -2, "a string where a count goes");
	is_int((int)count_of(jv_null(), "total"), 4, "null: a count not given, read as 0");
	b = jv_object();
	is_int((int)bt_batch_count(b, "total"), -1, "no request_counts at all");
	jv_free(b);
	return done_testing();
}
