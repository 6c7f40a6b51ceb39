/* limits.c — the synchronous API's rate limits, as the API keeps them:
 * requests, input tokens and output tokens per minute, three buckets
 * refilled continuously, output counted at max_tokens when a request
 * arrives.  Every answer of POST /v1/messages says where they stand in
 * the anthropic-ratelimit-* headers; past a limit, a 429 says when to
 * come back. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "mock.h"

double opt_rpm, opt_itpm, opt_otpm;
int64_t opt_latency;

/* A limit not set is a very large one: the headers are still there. */
#define UNLIMITED 1e9

static pthread_mutex_t lim_mu = PTHREAD_MUTEX_INITIALIZER;
static double level[3], at;     /* at: seconds, by our clock */
static int started;

static double limit_of(int i)
{
	double l = i == 0 ? opt_rpm : i == 1 ? opt_itpm : opt_otpm;

	return l > 0 ? l : UNLIMITED;
}

static void header(struct out *o, const char *name, const char *fmt, double v)
{
	if (o->nhdr >= OUT_HEADERS)
		return;
	snprintf(o->hdr[o->nhdr].name, sizeof o->hdr[0].name, "%s", name);
	snprintf(o->hdr[o->nhdr].value, sizeof o->hdr[0].value, fmt, v);
	o->nhdr++;
}

static void reset_header(struct out *o, const char *name, double when)
{
	char at3339[32];

	if (o->nhdr >= OUT_HEADERS)
		return;
	bt_rfc3339(when, at3339);
	at3339[19] = 'Z';       /* to the second, as the API writes it */
	at3339[20] = 0;
	snprintf(o->hdr[o->nhdr].name, sizeof o->hdr[0].name, "%s", name);
	snprintf(o->hdr[o->nhdr].value, sizeof o->hdr[0].value, "%s", at3339);
	o->nhdr++;
}

/* The buckets as of now, taking need when all have it: 0, or the
 * seconds to wait.  Under lim_mu. */
static double take(const double need[3], double now)
{
	double wait = 0, l, w;
	int i;

	if (!started) {
		for (i = 0; i < 3; i++)
			level[i] = limit_of(i);
		at = now;
		started = 1;
	}
	for (i = 0; i < 3; i++) {
		l = limit_of(i);
		level[i] = fmin(l, level[i] + l / 60 * (now - at));
		if (level[i] < fmin(need[i], l)) {
			w = (fmin(need[i], l) - level[i]) / (l / 60);
			wait = fmax(wait, w);
		}
	}
	at = now;
	if (wait == 0)
		for (i = 0; i < 3; i++)
			level[i] -= need[i];
	return wait;
}

/* A duration as OpenAI's headers write it (Go's): 500ms, 1.5s, 6m0s, 1h0m0s. */
static void go_duration(char *out, size_t sz, double s)
{
	long h, m;

	if (s < 0.0005) {
		snprintf(out, sz, "0s");
		return;
	}
	if (s < 1) {
		snprintf(out, sz, "%.0fms", s * 1000);
		return;
	}
	s = floor(s * 1000 + 0.5) / 1000;
	h = (long)(s / 3600);
	m = (long)((s - 3600.0 * (double)h) / 60);
	s -= 3600.0 * (double)h + 60.0 * (double)m;
	if (h)
		snprintf(out, sz, "%ldh%ldm%gs", h, m, s);
	else if (m)
		snprintf(out, sz, "%ldm%gs", m, s);
	else
		snprintf(out, sz, "%gs", s);
}

double limits_take_oai(double tokens, struct out *o)
{
	static const char *names[2] = { "requests", "tokens" };
	double need[3] = { 1, tokens, 0 }, now = (double)now_us() / 1e6, wait, l;
	char name[64], d[48];
	int i;

	pthread_mutex_lock(&lim_mu);
	wait = take(need, now);
	for (i = 0; i < 2; i++) {
		l = limit_of(i);
		snprintf(name, sizeof name, "x-ratelimit-limit-%s", names[i]);
		header(o, name, "%.0f", l);
		snprintf(name, sizeof name, "x-ratelimit-remaining-%s", names[i]);
		header(o, name, "%.0f", floor(fmax(level[i], 0)));
		go_duration(d, sizeof d, (l - fmax(level[i], 0)) / (l / 60));
		if (o->nhdr < OUT_HEADERS) {
			snprintf(o->hdr[o->nhdr].name, sizeof o->hdr[0].name,
			         "x-ratelimit-reset-%s", names[i]);
			snprintf(o->hdr[o->nhdr].value, sizeof o->hdr[0].value, "%s", d);
			o->nhdr++;
		}
	}
	pthread_mutex_unlock(&lim_mu);
	return wait;
}

double limits_take(double input, double output, struct out *o)
{
	static const char *names[3] = { "requests", "input-tokens", "output-tokens" };
	double need[3] = { 1, input, output }, now = (double)now_us() / 1e6;
	double wait, l, full;
	char name[64];
	int i;

	pthread_mutex_lock(&lim_mu);
	wait = take(need, now);
	for (i = 0; i < 3; i++) {
		l = limit_of(i);
		full = now + (l - fmax(level[i], 0)) / (l / 60);
		snprintf(name, sizeof name, "anthropic-ratelimit-%s-limit", names[i]);
		header(o, name, "%.0f", l);
		snprintf(name, sizeof name, "anthropic-ratelimit-%s-remaining", names[i]);
		header(o, name, "%.0f", floor(fmax(level[i], 0)));
		snprintf(name, sizeof name, "anthropic-ratelimit-%s-reset", names[i]);
		reset_header(o, name, full);
	}
	header(o, "anthropic-ratelimit-tokens-limit", "%.0f", limit_of(1) + limit_of(2));
	header(o, "anthropic-ratelimit-tokens-remaining", "%.0f",
	       floor(fmax(level[1], 0) + fmax(level[2], 0)));
	pthread_mutex_unlock(&lim_mu);
	return wait;
}
