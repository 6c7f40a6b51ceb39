/* retry.c — the retry policy of the design, and API error messages */
#include <math.h>
#include <string.h>

#include "bt.h"

int bt_retryable_status(long status)
{
	switch (status) {
	case 408: case 429: case 500: case 502: case 503: case 504: case 529:
		return 1;
	}
	return 0;
}

int bt_status_not_taken(long status)
{
	/* 408: the server gave up reading the request; 429 and 529 refuse it
	 * before doing anything.  A 5xx may come after the work was done. */
	return status == 408 || status == 429 || status == 529;
}

int bt_retry_decide(const struct bt_attempt *a)
{
	int retry;

	if (a->transport) {
		/* a body that may have been taken cannot simply go again */
		if (a->may_repeat || a->before_send || !a->sent)
			return BT_RETRY;
		return BT_AMBIGUOUS;
	}
	retry = bt_retryable_status(a->status);
	if (a->should_retry >= 0)
		retry = a->should_retry;
	if (!retry)
		return BT_GIVE_UP;
	if (!a->may_repeat && a->sent && !bt_status_not_taken(a->status))
		return BT_AMBIGUOUS;
	return BT_RETRY;
}

double bt_backoff(int attempt, double retry_after, double rnd)
{
	double d;

	if (retry_after >= 0)
		return retry_after > BT_RETRY_AFTER_MAX ? BT_RETRY_AFTER_MAX : retry_after;
	if (attempt < 1)
		attempt = 1;
	d = attempt > 30 ? BT_BACKOFF_MAX : BT_BACKOFF_BASE * ldexp(1.0, attempt - 1);
	if (d > BT_BACKOFF_MAX)
		d = BT_BACKOFF_MAX;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return d / 2 + d / 2 * rnd;
}

void bt_api_error(long status, const char *body, size_t n,
                  const char *request_id, char *out, size_t outsz)
{
	char rid[100] = "";
	jv v, e, t, m, r;
	size_t k;

	v = body && n ? bt_json_parse(body, n, NULL, 0) : jv_invalid();
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		e = jv_object_get(jv_copy(v), jv_string("error"));
		r = jv_object_get(jv_copy(v), jv_string("request_id"));
		if (request_id && *request_id)
			snprintf(rid, sizeof rid, " (request-id %s)", request_id);
		else if (jv_get_kind(r) == JV_KIND_STRING)
			snprintf(rid, sizeof rid, " (request-id %.80s)", jv_string_value(r));
		jv_free(r);
		if (jv_get_kind(e) == JV_KIND_OBJECT) {
			t = jv_object_get(jv_copy(e), jv_string("type"));
			m = jv_object_get(jv_copy(e), jv_string("message"));
			if (jv_get_kind(t) == JV_KIND_STRING && jv_get_kind(m) == JV_KIND_STRING) {
				snprintf(out, outsz, "%s: %s%s", jv_string_value(t),
				         jv_string_value(m), rid);
				jv_free(t);
				jv_free(m);
				jv_free(e);
				jv_free(v);
				return;
			}
			jv_free(t);
			jv_free(m);
		}
		jv_free(e);
	}
	jv_free(v);
	if (!rid[0] && request_id && *request_id)
		snprintf(rid, sizeof rid, " (request-id %s)", request_id);
	/* not the envelope: the first line of whatever came */
	for (k = 0; body && k < n && k < 200 && body[k] != '\n' && body[k] != '\r'; k++)
		;
	if (k)
		snprintf(out, outsz, "HTTP %ld: %.*s%s", status, (int)k, body, rid);
	else
		snprintf(out, outsz, "HTTP %ld%s", status, rid);
}
