/* request.c — fuzz harness: a line of the requests stream
 * (bt_request_check in lib/request.c, and what bt-cost reads of it in
 * lib/cost.c).
 *
 * For every input:
 *  - bt_request_check accepts exactly the lines that parse as an object
 *    of two members, custom_id (a valid id, written without escapes) and
 *    params (an object), and gives that id; else it says what is wrong;
 *  - bt_cost_request accepts only what bt_request_check accepts, and then
 *    gives params with a model name and max_tokens >= 1;
 *  - params with a "source" key written plainly (image and document
 *    blocks have one) must pass bt_content_check too;
 *  - the estimate rule is ceil(bytes / 4) over bt_input_bytes plus the
 *    media tokens, at least 1, and the system prompt's share is part of
 *    the bytes; split into input and cache writes it is no less, and at
 *    most one token more (two roundings);
 *  - a request line costs something at a known model's prices;
 *  - bt_request_read accepts what bt_request_check accepts, as
 *    Anthropic's with the same id; and as OpenAI's exactly the objects of
 *    four members, custom_id (a valid id, written without escapes),
 *    method "POST", url (an endpoint of the Batch API) and body (an object
 *    with a model, a non-empty string of at most BT_MODEL_MAX bytes),
 *    with that model and url; bt_request_peek tells the same.
 */
#include "fuzz.h"

struct members {
	int n;
	int plain_id;   /* a member's value is "ID" exactly, as written */
	const char *id;
};

static int count(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct members *m = arg;
	size_t idn = strlen(m->id);

	(void)k, (void)kn;
	m->n++;
	if (vn == idn + 2 && v[0] == '"' && !memcmp(v + 1, m->id, idn) && v[vn - 1] == '"')
		m->plain_id = 1;
	return 0;
}

/* What the check must say of s[0..n), from the parsed value. */
static int expected(const char *s, size_t n, char id[BT_ID_MAX + 1])
{
	struct members m = { 0, 0, "" };
	jv v = bt_json_parse(s, n, NULL, 0), x = jv_invalid(), p = jv_invalid();
	int good = 0;

	id[0] = 0;
	/* bad UTF-8 is refused (the API decodes the body strictly), though
	 * the parser takes it, replaced */
	if (jv_get_kind(v) != JV_KIND_OBJECT || jv_object_length(jv_copy(v)) != 2 ||
	    bt_utf8_valid(s, n) != n)
		goto out;
	x = jv_object_get(jv_copy(v), jv_string("custom_id"));
	p = jv_object_get(jv_copy(v), jv_string("params"));
	if (jv_get_kind(x) != JV_KIND_STRING || jv_get_kind(p) != JV_KIND_OBJECT ||
	    !bt_custom_id_ok(jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x))))
		goto out;
	strcpy(id, jv_string_value(x));
	m.id = id;
	/* two members written, not three with one twice; the id unescaped */
	if (bt_json_members(s, n, count, &m, NULL, 0) == 0 && m.n == 2 && m.plain_id)
		good = 1;
	/* media blocks as the API takes them, when they may be there */
	if (good && bt_memmem(s, n, "\"source\"", 8)) {
		char e[300];
		good = bt_content_check(p, e, sizeof e) == 0;
	}
out:
	jv_free(x);
	jv_free(p);
	jv_free(v);
	return good;
}

/* Whether s[0..n) is an OpenAI request line, from the parsed value. */
static int expected_openai(const char *s, size_t n, const char *model, const char *url)
{
	static const char *const urls[] = { "/v1/chat/completions", "/v1/embeddings",
		"/v1/responses", "/v1/completions", "/v1/moderations", NULL };
	struct members m = { 0, 0, "" };
	jv v = bt_json_parse(s, n, NULL, 0), id, me, u, b, mo;
	int good = 0, i;

	if (jv_get_kind(v) != JV_KIND_OBJECT || jv_object_length(jv_copy(v)) != 4 ||
	    bt_utf8_valid(s, n) != n) {
		jv_free(v);
		return 0;
	}
	id = bt_jv_get(v, "custom_id");
	me = bt_jv_get(v, "method");
	u = bt_jv_get(v, "url");
	b = bt_jv_get(v, "body");
	mo = bt_jv_get(b, "model");
	if (jv_get_kind(id) == JV_KIND_STRING && bt_jv_is(me, "POST") &&
	    jv_get_kind(u) == JV_KIND_STRING && jv_get_kind(b) == JV_KIND_OBJECT &&
	    jv_get_kind(mo) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(mo)) > 0 &&
	    jv_string_length_bytes(jv_copy(mo)) <= BT_MODEL_MAX &&
	    !memchr(jv_string_value(mo), 0, (size_t)jv_string_length_bytes(jv_copy(mo))) &&
	    bt_custom_id_ok(jv_string_value(id), (size_t)jv_string_length_bytes(jv_copy(id)))) {
		for (i = 0; urls[i] && !bt_jv_is(u, urls[i]); i++)
			;
		m.id = jv_string_value(id);
		good = urls[i] && !strcmp(model, jv_string_value(mo)) &&
		       !strcmp(url, urls[i]) &&
		       bt_json_members(s, n, count, &m, NULL, 0) == 0 && m.n == 4 && m.plain_id;
	}
	jv_free(id);
	jv_free(me);
	jv_free(u);
	jv_free(b);
	jv_free(mo);
	jv_free(v);
	return good;
}

/* bt_request_read against bt_request_check (r, id) and the value. */
static void read_either(const char *s, size_t n, int r, const char *id)
{
	struct bt_request q, p;
	char err[300] = "";
	int rr = bt_request_read(s, n, &q, err, sizeof err);

	if (r == 0)
		MUST(rr == 0 && q.provider == BT_PROVIDER_ANTHROPIC && !strcmp(q.id, id),
		     "bt_request_read refuses what bt_request_check takes: %s", err);
	if (rr < 0) {
		MUST(rr == -1 && err[0], "refused without a message");
		MUST(!expected_openai(s, n, "", "") || memchr(s, '\n', n),
		     "refused an OpenAI request: %s", err);
		return;
	}
	MUST(q.body && q.body >= s && q.body + q.body_len <= s + n, "the body lies in the line");
	if (q.provider == BT_PROVIDER_OPENAI) {
		MUST(expected_openai(s, n, q.model, q.url), "took a line that is not "
		     "an OpenAI request, or read it wrong (%s, %s)", q.model, q.url);
		MUST(bt_request_peek(s, n, &p) == 0 && p.provider == BT_PROVIDER_OPENAI &&
		     !strcmp(p.model, q.model) && !strcmp(p.url, q.url), "the peek differs");
	} else
		MUST(q.provider == BT_PROVIDER_ANTHROPIC && r == 0,
		     "bt_request_read takes an Anthropic line bt_request_check refuses");
}

static struct bt_prices *prices;

static void cost(const char *s, size_t n, int checked)
{
	struct bt_cost c = { 0 };
	struct bt_usd batch, standard, input;
	char err[256] = "";
	long long max_tokens = 0, est, media, sum;
	size_t bytes, sys;
	jv params, x;
	int r;

	r = bt_cost_request(s, n, &params, &max_tokens, err, sizeof err);
	if (r < 0) {
		MUST(err[0] && !jv_is_valid(params), "refused without a message");
		jv_free(params);
		return;
	}
	MUST(r == 0 && checked, "bt_cost_request accepts what bt_request_check refuses");
	MUST(jv_get_kind(params) == JV_KIND_OBJECT && max_tokens >= 1, "params");
	x = jv_object_get(jv_copy(params), jv_string("model"));
	MUST(jv_get_kind(x) == JV_KIND_STRING, "no model");
	jv_free(x);

	bytes = bt_input_bytes(params, &sys);
	MUST(sys <= bytes, "system %zu of %zu bytes", sys, bytes);
	est = bt_cost_estimate_input(params);
	media = bt_media_tokens(params);
	MUST(media >= 0, "media tokens %lld", media);
	MUST(est == (bytes || media ? (long long)((bytes + 3) / 4) + media : 1),
	     "estimate %lld for %zu bytes and %lld of media", est, bytes, media);
	jv_free(params);

	/* priced at a known model's prices, when the figures cannot overflow
	 * (bt-cost says "too large to count" and exits before that) */
	if (max_tokens > 1000000000)
		return;
	if (!prices)
		prices = bt_prices_load(NULL);
	c.prices = prices;
	if (bt_cost_add_request(&c, s, n, err, sizeof err) == 0) {
		sum = c.rows[0].tokens[BT_TOK_IN] + c.rows[0].tokens[BT_TOK_WRITE] +
		      c.rows[0].tokens[BT_TOK_WRITE_1H];
		MUST(c.n == 1 && c.rows[0].requests == 1 && sum >= est && sum <= est + 1 &&
		     c.rows[0].tokens[BT_TOK_READ] == 0 &&
		     c.rows[0].tokens[1] == max_tokens, "one row, the estimate");
		bt_cost_price_row(&c.rows[0], &batch, &standard, &input);
		MUST(bt_usd_cmp_micro(batch, 0) > 0 && bt_usd_cmp_micro(standard, 0) > 0,
		     "a request that costs nothing");
		MUST(bt_usd_micro(batch) <= bt_usd_micro(standard), "batch dearer than standard");
		MUST(bt_usd_micro(input) <= bt_usd_micro(batch), "input dearer than the whole");
	} else
		MUST(strstr(err, "unknown model"), "a checked request refused: %s", err);
	bt_cost_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char id[BT_ID_MAX + 1], want[BT_ID_MAX + 1], err[256];
	int r, good;

	memset(id, 'x', sizeof id);
	err[0] = 0;
	r = bt_request_check(s, size, id, err, sizeof err);
	good = expected(s, size, want);
	if (r == 0) {
		MUST(good, "accepted a line that is not a request (id %s)", want);
		MUST(!strcmp(id, want), "the id is %s, not %s", id, want);
	} else {
		MUST(r == -1 && err[0], "refused without a message (%d)", r);
		MUST(strlen(err) < sizeof err, "the message is not terminated");
		/* a line has no "\n": bt_request_check does not skip one
		 * before the object, as it skips other white space */
		MUST(!good || memchr(s, '\n', size), "refused a request: %s", err);
	}
	cost(s, size, r == 0);
	read_either(s, size, r, id);
	return 0;
}
