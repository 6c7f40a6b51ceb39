/* bt-cost — what a job cost (results), or will cost at most (requests)
 *
 * The input tells which: a line with "params" is a request, a line with
 * "result" a result; a stream of both is an error.  Results are priced
 * from their usage, model by model; requests by the estimate rule of
 * lib/cost.c (or the API's count_tokens with --exact) for input and
 * max_tokens for output, an upper bound.  Money is exact until printed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

enum { NONE, REQUESTS, RESULTS };

static struct bt_config cfg;
static struct bt_http *http;
static struct bt_prices *prices;
static struct bt_cost cost;
static int exact, human, sync, kind = NONE;
static char kind_where[300];            /* the line that set the kind */
static long long not_billed[3];         /* errored, canceled, expired */
static struct bt_idset billed;          /* "CUSTOM_ID MESSAGE_ID" of each success */
/* Answers the response store gave: billed at 0 in cost, and counted here
 * at the tier they were bought at, for what the store saved. */
static struct bt_cost saved;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-cost [-H] [--exact] [--sync] [--prices FILE] "
	        "[--api-key-file FILE] [FILE...]\n",
	"  -H                         a table for people, not JSON\n"
	"  --exact                    count the input of requests with the API\n"
	"  --sync                     estimate requests at standard (synchronous) prices\n"
	"  --prices FILE              prices from FILE, over the built-in ones\n"
	"  --api-key-file FILE        the API key from FILE's first line (--exact)\n"
	"  -h, --help                 this help\n");
}

/* ---- what a line is ---- */

struct keys {
	int params, result, url;
};

static int member(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct keys *c = arg;

	(void)v;
	(void)vn;
	if (bt_json_key_is(k, kn, "params"))
		c->params = 1;
	else if (bt_json_key_is(k, kn, "result") || bt_json_key_is(k, kn, "response"))
		c->result = 1;         /* Anthropic's, or OpenAI's */
	else if (bt_json_key_is(k, kn, "url"))
		c->url = 1;
	return 0;
}

static int line_kind(const char *where, const char *s, size_t n)
{
	struct keys c = { 0, 0, 0 };
	char err[200];
	int k;

	if (bt_json_members(s, n, member, &c, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: invalid JSON: %s", where, err);
	if (!c.params && !c.result && !c.url)
		bt_die(BT_EXIT_USAGE, "%s: neither a request (no \"params\") nor a "
		       "result (no \"result\")", where);
	k = c.params || (c.url && !c.result) ? REQUESTS : RESULTS;      /* url: OpenAI's */
	if (k == REQUESTS && !c.params && exact)
		bt_die(BT_EXIT_USAGE, "%s: --exact counts the input of Anthropic requests "
		       "with its API; OpenAI has no such count: leave --exact out", where);
	if (kind == NONE) {
		kind = k;
		snprintf(kind_where, sizeof kind_where, "%s", where);
	} else if (k != kind)
		bt_die(BT_EXIT_USAGE, "%s: a %s among %s (%s was a %s): give requests "
		       "or results, not both", where,
		       k == REQUESTS ? "request" : "result",
		       kind == REQUESTS ? "requests" : "results", kind_where,
		       kind == REQUESTS ? "request" : "result");
	return k;
}

static void unknown(const char *where, const char *model)
{
	char q[BT_QUOTE_SIZE];

	bt_die(BT_EXIT_USAGE, "%s: unknown model \"%s\": no price known for it "
	       "(give its prices with --prices FILE or BT_PRICES)", where,
	       bt_quote(q, model, strlen(model)));
}

/* ---- requests ---- */

/* Input tokens as the API counts them: the provider's count_tokens. */
static long long count_tokens(const char *where, jv params)
{
	struct bt_buf b = { 0 };
	struct bt_req req;
	struct bt_resp resp;
	char err[200];
	jv body, x, ans;
	double d;

	body = JV_OBJECT(jv_string("model"), bt_jv_get(params, "model"),
	                 jv_string("messages"), bt_jv_get(params, "messages"));
	x = bt_jv_get(params, "system");
	if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL)
		body = jv_object_set(body, jv_string("system"), x);
	else
		jv_free(x);
	x = bt_jv_get(params, "tools");
	if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL)
		body = jv_object_set(body, jv_string("tools"), x);
	else
		jv_free(x);
	bt_json_write(&b, body);
	jv_free(body);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = bt_provider()->count_tokens_path;
	req.body = b.p;
	req.body_len = b.len;
	req.body_fd = -1;
	req.may_repeat = 1;     /* free and idempotent */
	if (bt_http(http, &req, &resp) < 0)
		bt_die(BT_EXIT_FAIL, "%s: count_tokens: %s", where, resp.err);
	bt_buf_free(&b);
	ans = bt_json_parse(resp.body.p ? resp.body.p : "", resp.body.len, err, sizeof err);
	x = bt_jv_get(ans, "input_tokens");
	d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;
	jv_free(x);
	jv_free(ans);
	if (!(d >= 0 && d <= 9007199254740992.0 && (long long)d == d))
		bt_die(BT_EXIT_FAIL, "%s: count_tokens: an answer without input_tokens", where);
	bt_resp_free(&resp);
	return (long long)d;
}

static void request(const char *where, const char *s, size_t n)
{
	int k;
	long long t[BT_TOKENS] = { 0 }, in, out, x, w;
	char err[300];
	jv params, model;

	if (bt_cost_request(s, n, &params, &out, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	model = bt_jv_get(params, "model");
	if (bt_price(prices, jv_string_value(model), &in, &x) < 0)
		unknown(where, jv_string_value(model));
	bt_cost_estimate(prices, params, t);
	t[BT_TOK_OUT] = out;
	if (exact) {
		/* the API's count, the cache writes the rule's share of it */
		x = count_tokens(where, params);
		k = t[BT_TOK_WRITE] ? BT_TOK_WRITE : BT_TOK_WRITE_1H;
		w = t[k] < x ? t[k] : x;
		t[k] = w;
		t[BT_TOK_IN] = x - w;
	}
	bt_cost_add(&cost, jv_string_value(model), sync ? BT_TIER_STANDARD : BT_TIER_BATCH, t);
	jv_free(model);
	jv_free(params);
}

/* ---- results ---- */

/* A token count of usage: a whole number >= 0; absent or null is 0 unless
 * it is required. */
static long long tokens(const char *where, jv usage, const char *key, int required)
{
	long long n;
	char err[200];

	if (bt_usage_count(usage, "result.message.usage", key, required, &n, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	return n;
}

/* Whether a success was seen before: the same custom_id and message id
 * (msg borrowed) is one answer written twice, as a batch fetched twice
 * writes it; it was billed once. */
static int repeated(const char *id, jv msg)
{
	jv mid = bt_jv_get(msg, "id");
	char *key;
	int seen = 0;

	/* the API's ids are ~30 bytes; a longer one than 200 is not compared */
	if (jv_get_kind(mid) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(mid)) <= 200) {
		key = bt_asprintf("%s %s", id, jv_string_value(mid));
		seen = bt_idset_add(&billed, key, 1) != 0;
		free(key);
	}
	jv_free(mid);
	return seen;
}

/* Count a success: at its tier, or, cached, at none (and in saved, at
 * the tier it was bought at).  NULL when model has no price. */
static struct bt_cost_row *add(const char *model, int tier, int cached,
                               const long long t[BT_TOKENS])
{
	if (!cached)
		return bt_cost_add(&cost, model, tier, t);
	return bt_cost_add(&saved, model, tier, t) ? bt_cost_add(&cost, model, BT_TIER_CACHED, t)
	                                           : NULL;
}

/* A succeeded OpenAI result line (borrowed), billed. */
static void result_openai(const char *where, const char *id, jv line, int cached)
{
	long long t[BT_TOKENS];
	char err[300], *key;
	int tier, seen = 0;
	jv model, aid;

	if (bt_result_usage_openai(line, &model, t, &tier, &aid, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	/* one answer written twice (a batch fetched twice) was billed once */
	if (jv_get_kind(aid) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(aid)) <= 200) {
		key = bt_asprintf("%s %s", id, jv_string_value(aid));
		seen = bt_idset_add(&billed, key, 1) != 0;
		free(key);
	}
	if (!seen && !add(jv_string_value(model), tier, cached, t))
		unknown(where, jv_string_value(model));
	jv_free(aid);
	jv_free(model);
}

static void result(const char *where, const char *s, size_t n)
{
	struct bt_result r;
	long long t[BT_TOKENS] = { 0 };
	char err[300];
	int st;
	jv line, msg, model, usage, tier, cc;

	if (bt_result_read(s, n, &r, &line, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	if (r.kind != BT_R_SUCCEEDED) {
		not_billed[r.kind == BT_R_ERRORED ? 0 : r.kind == BT_R_CANCELED ? 1 : 2]++;
		jv_free(line);
		return;
	}
	if (r.dialect == BT_DIALECT_OPENAI) {
		result_openai(where, r.id, line, r.cached);
		jv_free(line);
		return;
	}
	msg = bt_jv_get(line, "result");
	msg = jv_get_kind(msg) == JV_KIND_OBJECT ? jv_object_get(msg, jv_string("message"))
	                                         : (jv_free(msg), jv_invalid());
	if (repeated(r.id, msg)) {
		jv_free(msg);
		jv_free(line);
		return;
	}
	model = bt_jv_get(msg, "model");
	if (jv_get_kind(model) != JV_KIND_STRING)
		bt_die(BT_EXIT_USAGE, "%s: a succeeded result without result.message.model", where);
	usage = bt_jv_get(msg, "usage");
	if (jv_get_kind(usage) != JV_KIND_OBJECT)
		bt_die(BT_EXIT_USAGE, "%s: a succeeded result without result.message.usage", where);
	t[0] = tokens(where, usage, "input_tokens", 1);
	t[1] = tokens(where, usage, "output_tokens", 1);
	t[2] = tokens(where, usage, "cache_creation_input_tokens", 0);
	t[3] = tokens(where, usage, "cache_read_input_tokens", 0);
	/* the writes by lifetime when usage says (5 minutes 1.25×, an hour
	 * 2×); else all at 1.25× */
	cc = bt_jv_get(usage, "cache_creation");
	if (jv_get_kind(cc) == JV_KIND_OBJECT) {
		char w[400];
		snprintf(w, sizeof w, "%.300s: result.message.usage.cache_creation", where);
		t[2] = tokens(w, cc, "ephemeral_5m_input_tokens", 0);
		t[4] = tokens(w, cc, "ephemeral_1h_input_tokens", 0);
	}
	jv_free(cc);
	/* priced as it was served: the synchronous API says "standard" (or
	 * "priority"), a batch "batch"; results from before the field, batch */
	tier = bt_jv_get(usage, "service_tier");
	st = jv_get_kind(tier) == JV_KIND_STRING &&
	     (!strcmp(jv_string_value(tier), "standard") ||
	      !strcmp(jv_string_value(tier), "priority")) ? BT_TIER_STANDARD : BT_TIER_BATCH;
	jv_free(tier);
	if (!add(jv_string_value(model), st, r.cached, t))
		unknown(where, jv_string_value(model));
	jv_free(usage);
	jv_free(model);
	jv_free(msg);
	jv_free(line);
}

static int input_line(const struct bt_lines *l, const char *where, const char *s, size_t n,
                      void *arg)
{
	(void)l;
	(void)arg;
	if (line_kind(where, s, n) == REQUESTS) {
		if (!http && exact)
			http = bt_http_new(&cfg);
		request(where, s, n);
	} else {
		if (exact)
			bt_die(BT_EXIT_USAGE, "%s: --exact counts the input of "
			       "requests; this is a result", where);
		result(where, s, n);
	}
	return 0;
}

/* ---- output ---- */

struct fig {
	const char *model;          /* NULL: the total */
	int tier;
	long long requests, tokens[BT_TOKENS];
	struct bt_usd batch, standard, input, cost;
};

static const char *tier_name(int tier)
{
	return tier == BT_TIER_STANDARD ? "standard" : tier == BT_TIER_CACHED ? "cached" : "batch";
}

/* What a row cost: nothing when the store answered. */
static struct bt_usd row_cost(int tier, struct bt_usd batch, struct bt_usd standard)
{
	struct bt_usd zero = { 0, 0 };

	return tier == BT_TIER_STANDARD ? standard : tier == BT_TIER_CACHED ? zero : batch;
}

/* What the answers the store gave cost when they were bought, and how
 * many they were. */
static struct bt_usd cache_saved(long long *requests)
{
	struct bt_usd sum = { 0, 0 }, b, s;
	size_t i;

	*requests = 0;
	for (i = 0; i < saved.n; i++) {
		bt_cost_price_row(&saved.rows[i], &b, &s, NULL);
		bt_usd_add(&sum, row_cost(saved.rows[i].tier, b, s));
		*requests += saved.rows[i].requests;
	}
	return sum;
}

/* What batching saved: the standard price less what was paid, so nothing
 * on a row served at the standard price.  An estimate's saving is that of
 * the batch over the standard price. */
static struct bt_usd saving(const struct fig *f)
{
	return bt_usd_sub(f->standard, kind == REQUESTS ? f->batch : f->cost);
}

static void fig_json(struct bt_buf *b, const struct fig *f)
{
	bt_buf_adds(b, "{");
	if (f->model) {
		bt_buf_adds(b, "\"model\":");
		bt_json_write_str(b, f->model, strlen(f->model));
		if (kind != REQUESTS)
			bt_buf_printf(b, ",\"tier\":\"%s\"", tier_name(f->tier));
		bt_buf_adds(b, ",");
	}
	bt_buf_printf(b, "\"requests\":%lld,\"input_tokens\":%lld,\"output_tokens\":%lld,"
	              "\"cache_write_tokens\":%lld,\"cache_read_tokens\":%lld,"
	              "\"cache_write_1h_tokens\":%lld,\"batch_usd\":",
	              f->requests, f->tokens[0], f->tokens[1], f->tokens[2] + f->tokens[4],
	              f->tokens[3], f->tokens[4]);
	bt_usd_json(b, f->batch);
	bt_buf_adds(b, ",\"standard_usd\":");
	bt_usd_json(b, f->standard);
	bt_buf_adds(b, ",\"saving_usd\":");
	bt_usd_json(b, saving(f));
	if (kind == REQUESTS) {
		bt_buf_adds(b, ",\"input_usd\":");
		bt_usd_json(b, f->input);
		bt_buf_adds(b, ",\"upper_bound_usd\":");
		bt_usd_json(b, sync ? f->standard : f->batch);
	} else {
		bt_buf_adds(b, ",\"cost_usd\":");
		bt_usd_json(b, f->cost);
	}
	bt_buf_adds(b, "}");
}

/* A table: the first column left-aligned, the others right-aligned. */
#define COLS 11
static void table(struct bt_buf *b, char *cell[][COLS], int rows, int cols)
{
	size_t w[COLS] = { 0 }, len;
	int i, j;

	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			if ((len = strlen(cell[i][j])) > w[j])
				w[j] = len;
	for (i = 0; i < rows; i++) {
		for (j = 0; j < cols; j++) {
			if (j == 0 || (j == 1 && kind != REQUESTS))    /* words */
				bt_buf_printf(b, "%s%-*s", j ? "  " : "", (int)w[j], cell[i][j]);
			else
				bt_buf_printf(b, "  %*s", (int)w[j], cell[i][j]);
		}
		bt_buf_addc(b, '\n');
	}
}

static void fig_cells(char **c, const struct fig *f)
{
	char usd[4][32];
	int k = 0;

	bt_usd_cents(usd[0], f->batch);
	bt_usd_cents(usd[1], f->standard);
	if (f->model && kind != REQUESTS && f->tier == BT_TIER_STANDARD)
		strcpy(usd[2], "-");    /* billed at the standard price: no saving */
	else
		bt_usd_cents(usd[2], saving(f));
	bt_usd_cents(usd[3], f->cost);
	c[k++] = bt_strdup(f->model ? f->model : "total");
	if (kind != REQUESTS)
		c[k++] = bt_strdup(f->model ? tier_name(f->tier) : "");
	c[k++] = bt_asprintf("%lld", f->requests);
	/* an estimate's input counts its cache writes too */
	c[k++] = bt_asprintf("%lld", f->tokens[0] + (kind == REQUESTS ?
	                     f->tokens[2] + f->tokens[4] : 0));
	c[k++] = bt_asprintf("%lld", f->tokens[1]);
	if (kind != REQUESTS) {
		c[k++] = bt_asprintf("%lld", f->tokens[2] + f->tokens[4]);
		c[k++] = bt_asprintf("%lld", f->tokens[3]);
		c[k++] = bt_strdup(usd[3]);
	}
	c[k++] = bt_strdup(usd[0]);
	c[k++] = bt_strdup(usd[1]);
	c[k++] = bt_strdup(usd[2]);
}

/* The figures, as JSON or as a table: one function, so that both are
 * made of the same sums (longer than 80 lines for that). */
static void print(void)
{
	static const char *head_results[] = { "model", "tier", "requests", "input",
		"output", "cache write", "cache read", "cost", "at batch", "at standard",
		"saving" };
	static const char *head_estimate[] = { "model", "requests", "input",
		"max output", "batch", "standard", "saving" };
	struct fig *f = bt_calloc(cost.n + 1, sizeof *f), *total = &f[cost.n];
	struct bt_buf b = { 0 };
	size_t i;
	int j, k, cols = kind == REQUESTS ? 7 : 11;
	char *(*cell)[COLS];
	char usd[32];
	long long nsaved;

	bt_cost_sort(&cost);
	for (i = 0; i < cost.n; i++) {
		f[i].model = cost.rows[i].model;
		f[i].tier = cost.rows[i].tier;
		f[i].requests = cost.rows[i].requests;
		total->requests += f[i].requests;
		for (k = 0; k < BT_TOKENS; k++) {
			f[i].tokens[k] = cost.rows[i].tokens[k];
			total->tokens[k] += f[i].tokens[k];
		}
		bt_cost_price_row(&cost.rows[i], &f[i].batch, &f[i].standard, &f[i].input);
		bt_usd_add(&total->batch, f[i].batch);
		bt_usd_add(&total->standard, f[i].standard);
		bt_usd_add(&total->input, f[i].input);
		f[i].cost = row_cost(f[i].tier, f[i].batch, f[i].standard);
		bt_usd_add(&total->cost, f[i].cost);
	}
	if (human) {
		if (kind == REQUESTS)
			bt_buf_printf(&b, "estimate: input %s, output at most max_tokens; "
			              "the costs are upper bounds%s%s\n", exact ?
			              "counted by the API" : "estimated as ceil(bytes/4) of the text, "
			              "images and PDFs at their most, cached prefixes as cache writes",
			              exact ? "" : ", but for the text (a rough count)",
			              sync ? " (--sync: the standard one)" : "");
		cell = bt_calloc(cost.n + 2, sizeof *cell);
		for (j = 0; j < cols; j++)
			cell[0][j] = bt_strdup(kind == REQUESTS ? head_estimate[j] : head_results[j]);
		for (i = 0; i <= cost.n; i++)
			fig_cells(cell[i + 1], &f[i]);
		table(&b, cell, (int)cost.n + 2, cols);
		for (i = 0; i < cost.n + 2; i++)
			for (j = 0; j < cols; j++)
				free(cell[i][j]);
		free(cell);
		if (kind == REQUESTS) {
			bt_usd_cents(usd, total->input);
			bt_buf_printf(&b, "the input alone: %s at batch prices\n", usd);
		} else {
			bt_buf_printf(&b, "not billed: %lld errored, %lld canceled, %lld expired\n",
			              not_billed[0], not_billed[1], not_billed[2]);
			if (saved.n) {
				bt_usd_cents(usd, cache_saved(&nsaved));
				bt_buf_printf(&b, "from the response store: %lld answer(s), not "
				              "billed; bought before for %s\n", nsaved, usd);
			}
		}
	} else {
		bt_buf_printf(&b, "{\"kind\":\"%s\",", kind == REQUESTS ? "estimate" : "results");
		if (kind == REQUESTS)
			bt_buf_printf(&b, "\"estimate\":true,\"exact_input\":%s,\"tier\":\"%s\",",
			              exact ? "true" : "false", sync ? "standard" : "batch");
		bt_buf_adds(&b, "\"models\":[");
		for (i = 0; i < cost.n; i++) {
			if (i)
				bt_buf_addc(&b, ',');
			fig_json(&b, &f[i]);
		}
		bt_buf_adds(&b, "],\"total\":");
		fig_json(&b, total);
		if (kind != REQUESTS)
			bt_buf_printf(&b, ",\"not_billed\":{\"errored\":%lld,\"canceled\":%lld,"
			              "\"expired\":%lld}", not_billed[0], not_billed[1],
			              not_billed[2]);
		if (kind != REQUESTS) {
			struct bt_usd sv = cache_saved(&nsaved);

			bt_buf_printf(&b, ",\"cached\":{\"requests\":%lld,\"saved_usd\":", nsaved);
			bt_usd_json(&b, sv);
			bt_buf_adds(&b, "}");
		}
		bt_buf_adds(&b, "}\n");
	}
	bt_flush(&b);
	bt_buf_free(&b);
	free(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-key-file", required_argument, 0, 'k' },
		{ "exact", no_argument, 0, 'x' },
		{ "sync", no_argument, 0, 's' },
		{ "prices", required_argument, 0, 'p' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *prices_file = NULL;
	int c, i;

	bt_init(argv);
	bt_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "hH", opts, NULL)) != -1)
		switch (c) {
		case 'k': bt_config_key_file(&cfg, optarg); break;
		case 'x': exact = 1; break;
		case 's': sync = 1; break;
		case 'p': prices_file = optarg; break;
		case 'H': human = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (exact)
		bt_config_need_key(&cfg);
	prices = bt_prices_load(prices_file);
	cost.prices = prices;
	saved.prices = prices;
	if (argc)
		for (i = 0; i < argc; i++)
			bt_each_line(argv[i], input_line, NULL);
	else
		bt_each_line("-", input_line, NULL);
	print();
	bt_cost_free(&cost);
	bt_cost_free(&saved);
	bt_prices_free(prices);
	bt_idset_free(&billed);
	bt_http_free(http);
	bt_config_free(&cfg);
	bt_close_stdout();
	return 0;
}
