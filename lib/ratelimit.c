/* ratelimit.c — the synchronous API's rate limits, on our side.
 *
 * Three token buckets (requests, input tokens, output tokens per minute),
 * continuously refilled as the API's own are.  Each holds the tighter of
 * two ceilings: the user's (--rpm, --itpm, --otpm), and the server's, as
 * its anthropic-ratelimit-*-limit headers give it; and each answer's
 * -remaining and -reset headers bring the level down to what the server
 * says is left, so that a job slows down before a 429 rather than after
 * many.  A request takes, when it starts, one request, its estimated
 * input tokens and its max_tokens of output (the API counts output at
 * max_tokens on arrival).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt.h"

static void bucket_init(struct bt_bucket *b, double user)
{
	memset(b, 0, sizeof b[0]);
	b->remaining = -1;
	b->user = user;
	b->limit = user;
	b->level = user;
}

void bt_limits_init(struct bt_limits *l, double rpm, double itpm, double otpm)
{
	memset(l, 0, sizeof *l);
	bucket_init(&l->b[BT_LIM_REQUESTS], rpm);
	bucket_init(&l->b[BT_LIM_INPUT], itpm);
	bucket_init(&l->b[BT_LIM_OUTPUT], otpm);
	l->at = bt_mono();
}

/* Bring every bucket to now. */
static void refill(struct bt_limits *l, double now)
{
	double dt = now - l->at;
	int i;

	if (dt <= 0)
		return;
	for (i = 0; i < 3; i++) {
		struct bt_bucket *b = &l->b[i];
		if (b->limit > 0) {
			b->level += b->limit / 60 * dt;
			if (b->level > b->limit)
				b->level = b->limit;
		}
	}
	l->at = now;
}

double bt_limits_wait(struct bt_limits *l, const double need[3])
{
	double now = bt_mono(), wait = 0, w, want;
	int i;

	refill(l, now);
	for (i = 0; i < 3; i++) {
		struct bt_bucket *b = &l->b[i];
		if (b->limit <= 0)
			continue;
		/* a request bigger than the bucket waits for a full one */
		want = need[i] < b->limit ? need[i] : b->limit;
		if (b->level >= want)
			continue;
		w = (want - b->level) / (b->limit / 60);
		if (w > wait)
			wait = w;
	}
	return wait;
}

void bt_limits_take(struct bt_limits *l, const double need[3])
{
	int i;

	refill(l, bt_mono());
	for (i = 0; i < 3; i++)
		if (l->b[i].limit > 0)
			l->b[i].level -= need[i];
		else
			l->b[i].untracked += need[i];
}

/* The provider's rate-limit header name[0..n): its bucket, and its field
 * ("limit", "remaining", "reset") in *field.  Anthropic names the kind
 * first ("anthropic-ratelimit-requests-remaining"), OpenAI the field first
 * ("x-ratelimit-remaining-requests"; its "tokens" count input and output
 * alike, and go to the input bucket, which its requests take both into). */
static int which(const char *name, size_t n, const char **field, size_t *flen)
{
	const char *prefix = bt_provider()->ratelimit_prefix;
	static const struct { const char *s; int i; } kinds[] = {
		{ "requests", BT_LIM_REQUESTS },
		{ "input-tokens", BT_LIM_INPUT },
		{ "output-tokens", BT_LIM_OUTPUT },
		{ "tokens", BT_LIM_INPUT },
	};
	static const char *const fields[] = { "limit-", "remaining-", "reset-" };
	size_t p, k, f, kl, fl;

	if (!prefix || n <= (p = strlen(prefix)) || strncasecmp(name, prefix, p))
		return -1;
	for (k = 0; k < 4; k++) {
		kl = strlen(kinds[k].s);
		/* KIND-FIELD */
		if (k < 3 && n > p + kl + 1 && !strncasecmp(name + p, kinds[k].s, kl) &&
		    name[p + kl] == '-') {
			*field = name + p + kl + 1;
			*flen = n - p - kl - 1;
			return kinds[k].i;
		}
		/* FIELD-KIND */
		for (f = 0; f < 3; f++) {
			fl = strlen(fields[f]);
			if (n == p + fl + kl && !strncasecmp(name + p, fields[f], fl) &&
			    !strncasecmp(name + p + fl, kinds[k].s, kl)) {
				*field = name + p;
				*flen = fl - 1;
				return kinds[k].i;
			}
		}
	}
	return -1;
}

void bt_limits_header(struct bt_limits *l, const char *name, size_t nlen,
                      const char *val, size_t vlen)
{
	char v[64], *end;
	const char *field;
	size_t flen;
	struct bt_bucket *b;
	double d, now;
	int i = which(name, nlen, &field, &flen);

	if (i < 0 || vlen == 0 || vlen >= sizeof v)
		return;
	memcpy(v, val, vlen);
	v[vlen] = 0;
	b = &l->b[i];
	now = bt_mono();
	refill(l, now);
	if (flen == 5 && !strncasecmp(field, "limit", 5)) {
		d = strtod(v, &end);
		if (end == v || *end || d <= 0)
			return;
		/* first word of it: as full as it says, less what we started
		 * before we knew (the server may not have counted it yet) */
		if (b->limit <= 0)
			b->level = (b->remaining >= 0 ? b->remaining : d) - b->untracked;
		b->server = d;
		b->limit = b->user > 0 && b->user < d ? b->user : d;
		if (b->level > b->limit)
			b->level = b->limit;
	} else if (flen == 9 && !strncasecmp(field, "remaining", 9)) {
		d = strtod(v, &end);
		if (end == v || *end || d < 0)
			return;
		/* the server counts what we started before this answer; what
		 * we started since, it will count: take the lower */
		b->remaining = d;
		if (b->limit > 0 && d < b->level)
			b->level = d;
	}
	/* -reset: the refill rate of a continuous bucket says as much */
}

void bt_limits_backoff(struct bt_limits *l, double seconds)
{
	int i;

	(void)seconds;
	/* a 429: the server's bucket is empty, whatever ours thought */
	refill(l, bt_mono());
	for (i = 0; i < 3; i++)
		if (l->b[i].limit > 0 && l->b[i].level > 0)
			l->b[i].level = 0;
}
