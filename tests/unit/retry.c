/* retry.c — backoff bounds, status classes, the error envelope */
#include <string.h>
#include "bt.h"
#include "tap.h"

/* bt_retry_decide on one attempt: an answer (transport 0) or not. */
static int decide(int transport, int before_send, long status, int sent,
                  int may_repeat, int should_retry)
{
	struct bt_attempt a;

	memset(&a, 0, sizeof a);
	a.transport = transport;
	a.before_send = before_send;
	a.status = status;
	a.sent = sent;
	a.may_repeat = may_repeat;
	a.should_retry = should_retry;
	return bt_retry_decide(&a);
}

static void decide_tests(void)
{
	static const long again[] = { 408, 429, 500, 502, 503, 504, 529 };
	static const long never[] = { 400, 401, 403, 404, 413 };
	size_t i;
	int bad;

	/* a read (may_repeat): the status decides, x-should-retry overrides */
	for (i = 0, bad = 0; i < sizeof again / sizeof again[0]; i++)
		bad += decide(0, 0, again[i], 0, 1, -1) != BT_RETRY;
	is_int(bad, 0, "a read: 408 429 5xx 529 are retried");
	for (i = 0, bad = 0; i < sizeof never / sizeof never[0]; i++)
		bad += decide(0, 0, never[i], 0, 1, -1) != BT_GIVE_UP;
	is_int(bad, 0, "a read: 400 401 403 404 413 are not");
	is_int(decide(0, 0, 529, 0, 1, 0), BT_GIVE_UP, "x-should-retry: false overrides a 529");
	is_int(decide(0, 0, 500, 0, 1, 0), BT_GIVE_UP, "x-should-retry: false overrides a 500");
	is_int(decide(0, 0, 429, 0, 1, 0), BT_GIVE_UP, "x-should-retry: false overrides a 429");
	is_int(decide(0, 0, 409, 0, 1, 1), BT_RETRY, "x-should-retry: true makes a 409 retried");
	is_int(decide(0, 0, 400, 0, 1, 1), BT_RETRY, "x-should-retry: true makes a 400 retried");
	is_int(decide(0, 0, 500, 0, 1, -1), BT_RETRY, "x-should-retry unsaid: the status rules");

	/* a create (not may_repeat) whose body went out */
	is_int(decide(0, 0, 529, 1, 0, -1), BT_RETRY, "a create answered 529: not taken, retried");
	is_int(decide(0, 0, 429, 1, 0, -1), BT_RETRY, "a create answered 429: not taken, retried");
	is_int(decide(0, 0, 408, 1, 0, -1), BT_RETRY, "a create answered 408: not taken, retried");
	is_int(decide(0, 0, 500, 1, 0, -1), BT_AMBIGUOUS, "a create answered 500: ambiguous");
	is_int(decide(0, 0, 503, 1, 0, -1), BT_AMBIGUOUS, "a create answered 503: ambiguous");
	is_int(decide(0, 0, 500, 1, 0, 1), BT_AMBIGUOUS,
	       "x-should-retry: true on a create's 500 is still ambiguous");
	is_int(decide(0, 0, 500, 0, 0, -1), BT_RETRY, "a create's 500 before any body byte went: retried");
	is_int(decide(0, 0, 400, 1, 0, -1), BT_GIVE_UP, "a create answered 400: given up");

	/* no answer at all */
	is_int(decide(1, 0, 0, 1, 1, -1), BT_RETRY, "a read that dropped: retried");
	is_int(decide(1, 1, 0, 1, 0, -1), BT_RETRY, "a create refused before sending: retried");
	is_int(decide(1, 0, 0, 0, 0, -1), BT_RETRY, "a create that dropped before its body: retried");
	is_int(decide(1, 0, 0, 1, 0, -1), BT_AMBIGUOUS, "a create that dropped after its body: ambiguous");
	is_int(decide(1, 0, 0, 1, 0, 0), BT_AMBIGUOUS, "x-should-retry has no say without an answer");
}

int main(void)
{
	char out[512];
	double d;
	int a, bad;
	static const char env[] =
		"{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
		"\"message\":\"No such batch\"},\"request_id\":\"req_body\"}";

	for (a = 1, bad = 0; a <= 40; a++) {
		double lo = bt_backoff(a, -1, 0), hi = bt_backoff(a, -1, 0.999999);
		double want = BT_BACKOFF_BASE * (1 << (a < 20 ? a - 1 : 19));
		if (want > BT_BACKOFF_MAX)
			want = BT_BACKOFF_MAX;
		if (lo < want / 2 - 1e-9 || hi > want + 1e-9 || lo > hi)
			bad++;
	}
	is_int(bad, 0, "backoff stays in [d/2, d], d doubling from 0.5s to 60s");
	d = bt_backoff(1, -1, 0);
	ok(d >= 0.25 && d <= 0.5, "first retry waits 0.25..0.5 s (%g)", d);
	d = bt_backoff(30, -1, 0.5);
	ok(d >= 30 && d <= 60, "late retries are capped at 60 s (%g)", d);
	ok(bt_backoff(1, 7, 0.3) == 7, "retry-after is honoured");
	ok(bt_backoff(1, 0, 0.3) == 0, "retry-after 0 is honoured");
	ok(bt_backoff(1, 86400, 0.3) == BT_RETRY_AFTER_MAX, "a huge retry-after is clamped");
	ok(bt_backoff(5, 2.5, 0.9) == 2.5, "retry-after replaces the backoff, late retries too");
	ok(bt_backoff(1, 0.25, 0.9) == 0.25, "retry-after-ms (as seconds) is honoured below a second");
	ok(bt_backoff(0, -1, 2) <= BT_BACKOFF_BASE, "bad inputs stay bounded");

	ok(bt_retryable_status(429) && bt_retryable_status(529) &&
	   bt_retryable_status(500) && bt_retryable_status(502) &&
	   bt_retryable_status(503) && bt_retryable_status(504) &&
	   bt_retryable_status(408), "408 429 5xx 529 are retried");
	ok(!bt_retryable_status(400) && !bt_retryable_status(401) &&
	   !bt_retryable_status(404) && !bt_retryable_status(413) &&
	   !bt_retryable_status(200), "4xx other than 408/429 are not");
	ok(bt_status_not_taken(429) && bt_status_not_taken(529), "429 and 529 prove a create was not taken");
	ok(!bt_status_not_taken(500) && !bt_status_not_taken(503), "a 5xx does not");

	decide_tests();

	bt_api_error(404, env, strlen(env), "req_hdr", out, sizeof out);
	is_str(out, "not_found_error: No such batch (request-id req_hdr)", "envelope, header request-id");
	bt_api_error(404, env, strlen(env), "", out, sizeof out);
	is_str(out, "not_found_error: No such batch (request-id req_body)", "envelope, body request-id");
	bt_api_error(502, "<html>Bad gateway</html>\nmore", 30, "", out, sizeof out);
	is_str(out, "HTTP 502: <html>Bad gateway</html>", "not an envelope: the first line");
	bt_api_error(503, "", 0, "", out, sizeof out);
	is_str(out, "HTTP 503", "no body at all");
	bt_api_error(400, "{\"error\":{\"type\":5}}", 20, "req_x", out, sizeof out);
	is_str(out, "HTTP 400: {\"error\":{\"type\":5}} (request-id req_x)", "a malformed envelope");
	return done_testing();
}
