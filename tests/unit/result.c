/* result.c — the dialect: OpenAI's result lines read by the one reader */
#include <stdlib.h>
#include <string.h>
#include "bt.h"
#include "tap.h"

static int peek(const char *s, int deep, struct bt_result_peek *p, char *err)
{
	return bt_result_peek(s, strlen(s), deep, p, err, 200);
}

#define OK200(fin) "{\"id\":\"batch_req_1\",\"custom_id\":\"a\\u0062\",\"response\":" \
	"{\"status_code\":200,\"request_id\":\"req_1\",\"body\":{\"id\":\"c\",\"object\":" \
	"\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\"," \
	"\"content\":\"hi\"},\"finish_reason\":" fin "},{\"index\":1,\"finish_reason\":\"length\"}]}}," \
	"\"error\":null}"

static void peek_tests(void)
{
	struct bt_result_peek p;
	char err[200];

	is_int(peek(OK200("\"stop\""), 1, &p, err), 0, "a chat line is a result");
	is_str(p.id, "ab", "its custom_id as a JSON reader takes it");
	is_int(p.dialect, BT_DIALECT_OPENAI, "OpenAI's");
	is_int(p.kind, BT_R_SUCCEEDED, "2xx: succeeded");
	is_int(p.status, 200, "the status kept");
	is_int(p.truncated, 0, "stop: not cut (the second choice does not count)");
	peek(OK200("\"leng\\u0074h\""), 1, &p, err);
	is_int(p.truncated, 1, "length, escaped: cut");
	peek(OK200("\"length\""), 0, &p, err);
	is_int(p.truncated, 0, "not deep: not looked at");
	is_int(peek("{\"custom_id\":\"a\",\"response\":{\"status_code\":599,\"body\":{}},\"error\":null}",
	            1, &p, err), 0, "599 is a status");
	is_int(p.kind, BT_R_ERRORED, "599: errored");
	is_int(peek("{\"custom_id\":\"a\",\"response\":{\"status_code\":600},\"error\":null}",
	            1, &p, err), -1, "600 is not");
	is_str(err, "not a result: response.status_code is not an HTTP status", "said");
	is_int(peek("{\"custom_id\":\"a\",\"response\":{\"status_code\":2e2},\"error\":null}",
	            1, &p, err), -1, "2e2 is not written as a status");
	is_int(peek("{\"custom_id\":\"a\",\"response\":null,\"error\":{\"code\":\"batch_expired\"}}",
	            1, &p, err), 0, "a request never run");
	is_int(p.kind, BT_R_EXPIRED, "batch_expired: expired");
	peek("{\"custom_id\":\"a\",\"response\":null,\"error\":{\"code\":\"batch_cancelled\"}}", 1, &p, err);
	is_int(p.kind, BT_R_CANCELED, "batch_cancelled: canceled");
	peek("{\"custom_id\":\"a\",\"response\":null,\"error\":{\"code\":\"other\"}}", 1, &p, err);
	is_int(p.kind, BT_R_ERRORED, "another code: errored");
	is_int(peek("{\"custom_id\":\"a\",\"response\":[],\"error\":null}", 1, &p, err), -1,
	       "a response that is an array");
	is_int(peek("{\"custom_id\":\"a\",\"result\":{\"type\":\"expired\"},\"response\":null}",
	            1, &p, err), 0, "a result object decides: Anthropic's");
	is_int(p.dialect, BT_DIALECT_ANTHROPIC, "whatever else the line has");
}

static void read_tests(void)
{
	struct bt_result r;
	char err[200];
	const char *s;

	s = "{\"custom_id\":\"a\",\"response\":{\"status_code\":429,\"body\":{\"error\":{\"message\":"
	    "\"slow down\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}},"
	    "\"error\":null}";
	is_int(bt_result_read(s, strlen(s), &r, NULL, err, sizeof err), 0, "a 429 read");
	is_str(r.type, "rate_limit_exceeded", "its code first");
	is_str(r.message, "slow down", "its message");
	is_int(r.retryable, 1, "worth a retry");
	s = "{\"custom_id\":\"a\",\"response\":{\"status_code\":400,\"body\":{\"error\":{\"message\":"
	    "\"no\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}},\"error\":null}";
	bt_result_read(s, strlen(s), &r, NULL, err, sizeof err);
	is_str(r.type, "invalid_request_error", "no code: its type");
	is_int(r.retryable, 0, "a 400 is not worth a retry");
	s = "{\"custom_id\":\"a\",\"response\":{\"status_code\":503,\"body\":{}},\"error\":null}";
	bt_result_read(s, strlen(s), &r, NULL, err, sizeof err);
	is_str(r.type, "http_503", "neither: the status");
	is_int(r.retryable, 1, "a 503 is");
	s = "{\"custom_id\":\"a\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\","
	    "\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}}}";
	bt_result_read(s, strlen(s), &r, NULL, err, sizeof err);
	is_int(r.retryable, 1, "Anthropic's overloaded_error is, by bt_error_retryable");
}

static void status_tests(void)
{
	static const long again[] = { 408, 409, 429, 500, 502, 503, 504 };
	static const long never[] = { 400, 401, 403, 404, 413, 422 };
	size_t i;
	int bad;

	for (i = 0, bad = 0; i < sizeof again / sizeof again[0]; i++)
		bad += !bt_status_retryable(again[i]);
	is_int(bad, 0, "408 409 429 5xx are worth a retry");
	for (i = 0, bad = 0; i < sizeof never / sizeof never[0]; i++)
		bad += bt_status_retryable(never[i]);
	is_int(bad, 0, "400 401 403 404 413 422 are not");
}

static void price_tests(void)
{
	struct bt_prices *p;
	long long in = 0, out = 0, cached = 0;

	unsetenv("BT_PRICES");
	p = bt_prices_load(NULL);
	is_int(bt_price(p, "gpt-4o-2024-08-06", &in, &out), 0, "-YYYY-MM-DD: the model's prices");
	is_int(in, 2500000, "gpt-4o input");
	is_int(bt_price_cached(p, "gpt-4o-2024-08-06", &cached), 0, "and its cached rate");
	is_int(cached, 1250000, "gpt-4o cached input");
	is_int(bt_price(p, "gpt-4o-2024-8-06", &in, &out), -1, "a date not so written is no date");
	is_int(bt_price_cached(p, "claude-haiku-4-5", &cached), -1, "Anthropic's: 0.1x input");
	bt_prices_free(p);
}

int main(void)
{
	peek_tests();
	read_tests();
	status_tests();
	price_tests();
	return done_testing();
}
