/* cost.c — prices, the estimate rule, and what a job costs, exactly
 *
 * Money is kept exact: a price is whole micro-dollars per million tokens,
 * so tokens × price is in 10^-12 dollars, and the batch and cache factors
 * (0.5, 1.25, 0.1 and their products) are all multiples of 1/40.  A cost
 * is therefore micro-dollars plus a remainder in 1/BT_USD_DEN of one
 * (BT_USD_DEN = 40 × 10^6), and rounding happens only when it is printed.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

/* ---- money ---- */

static void norm(struct bt_usd *a)
{
	while (a->rem >= BT_USD_DEN) {
		a->rem -= BT_USD_DEN;
		a->micro++;
	}
	while (a->rem < 0) {
		a->rem += BT_USD_DEN;
		a->micro--;
	}
}

void bt_usd_add(struct bt_usd *a, struct bt_usd b)
{
	if (b.micro > LLONG_MAX - 1 - a->micro)
		bt_die(BT_EXIT_USAGE, "a cost too large to count");
	a->micro += b.micro;
	a->rem += b.rem;
	norm(a);
}

struct bt_usd bt_usd_sub(struct bt_usd a, struct bt_usd b)
{
	a.micro -= b.micro;
	a.rem -= b.rem;
	norm(&a);
	return a;
}

long long bt_usd_micro(struct bt_usd a)
{
	return a.micro + (2 * a.rem >= BT_USD_DEN);
}

int bt_usd_cmp_micro(struct bt_usd a, long long micro)
{
	if (a.micro != micro)
		return a.micro < micro ? -1 : 1;
	return a.rem > 0;
}

void bt_usd_json(struct bt_buf *b, struct bt_usd a)
{
	long long m = bt_usd_micro(a);

	bt_buf_printf(b, "%lld.%06lld", m / 1000000, m % 1000000);
}

void bt_usd_cents(char out[32], struct bt_usd a)
{
	/* half up: the remainder below a micro-dollar cannot carry a
	 * micro-dollar count across a half cent */
	long long c = (a.micro + 5000) / 10000;

	snprintf(out, 32, "$%lld.%02lld", c / 100, c % 100);
}

int bt_usd_parse(const char *s, long long *micro)
{
	long long whole = 0, frac = 0;
	int digits = 0, places = 0;

	if (*s == '$')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (whole > (LLONG_MAX / 1000000 - 9) / 10)
			return -1;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, places++) {
			if (places == 6)
				return -1;
			frac = frac * 10 + (*s - '0');
			digits++;
		}
	if (*s || !digits)
		return -1;
	while (places++ < 6)
		frac *= 10;
	*micro = whole * 1000000 + frac;
	return 0;
}

/* tokens × price × f/40, in micro-dollars: exactly */
static struct bt_usd cost_of(long long tokens, long long price, int f)
{
	long long k = price * f, q = tokens / BT_USD_DEN, r = tokens % BT_USD_DEN;
	struct bt_usd u;

	if (q && k > LLONG_MAX / 2 / q)
		bt_die(BT_EXIT_USAGE, "a cost too large to count");
	u.micro = q * k + r * k / BT_USD_DEN;   /* r·k < 4e7 · 5e10 */
	u.rem = r * k % BT_USD_DEN;
	return u;
}

/* ---- prices ---- */

struct bt_price_entry {
	char *model;
	long long input, output;    /* micro-dollars per million tokens, standard */
	long long cached;           /* cache reads, the same; -1: 0.1× input */
	long px;                    /* images: scaled to fit px on the long edge, */
	long long image_tokens;     /* and at most so many tokens */
};

struct bt_prices {
	struct bt_price_entry *e;
	size_t n, cap;
};

/* Standard (synchronous API) prices, dollars per million tokens. */
static const struct { const char *model; double input, output; } builtin[] = {
	{ "claude-opus-4-5", 5, 25 },
	{ "claude-opus-4-1", 15, 75 },
	{ "claude-opus-4", 15, 75 },
	{ "claude-opus-4-0", 15, 75 },
	{ "claude-sonnet-4-5", 3, 15 },
	{ "claude-sonnet-4", 3, 15 },
	{ "claude-sonnet-4-0", 3, 15 },
	{ "claude-3-7-sonnet", 3, 15 },
	{ "claude-haiku-4-5", 1, 5 },
	{ "claude-3-5-haiku", 0.80, 4 },
	{ "claude-3-haiku", 0.25, 1.25 },
};

/* OpenAI's standard prices, dollars per million tokens: input, cached
 * input, output.  From https://openai.com/api/pricing (standard tier, as
 * published in August 2025); prices change: --prices or BT_PRICES
 * override them.  Batch is half of each, cached input included.
 * Embeddings have no output and no cached rate. */
static const struct { const char *model; double input, cached, output; } builtin_openai[] = {
	{ "gpt-5", 1.25, 0.125, 10 },
	{ "gpt-5-mini", 0.25, 0.025, 2 },
	{ "gpt-5-nano", 0.05, 0.005, 0.40 },
	{ "gpt-4.1", 2, 0.50, 8 },
	{ "gpt-4.1-mini", 0.40, 0.10, 1.60 },
	{ "gpt-4.1-nano", 0.10, 0.025, 0.40 },
	{ "gpt-4o", 2.50, 1.25, 10 },
	{ "gpt-4o-mini", 0.15, 0.075, 0.60 },
	{ "o3", 2, 0.50, 8 },
	{ "o4-mini", 1.10, 0.275, 4.40 },
	{ "text-embedding-3-small", 0.02, 0.02, 0 },
	{ "text-embedding-3-large", 0.13, 0.13, 0 },
};

static void price_set(struct bt_prices *p, const char *model, long long in, long long out)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->e = bt_realloc(p->e, p->cap * sizeof *p->e);
	}
	p->e[p->n].model = bt_strdup(model);
	p->e[p->n].input = in;
	p->e[p->n].output = out;
	p->e[p->n].cached = -1;
	p->e[p->n].px = BT_IMAGE_PX;
	p->e[p->n].image_tokens = BT_IMAGE_TOKENS;
	p->n++;
}

static long long price_num(const char *name, const char *model, jv entry,
                           const char *key)
{
	jv x = jv_object_get(jv_copy(entry), jv_string(key));
	double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;

	jv_free(x);
	if (!(d >= 0 && d <= BT_PRICE_MAX))
		bt_die(BT_EXIT_USAGE, "%s: \"%s\": .%s must be a number of dollars per "
		       "million tokens, 0 to %d", name, model, key, BT_PRICE_MAX);
	return llround(d * 1e6);
}

/* An entry's optional image rule: a whole number 1 to 1000000. */
static long long image_num(const char *name, const char *model, jv entry,
                           const char *key, long long dflt)
{
	jv x = jv_object_get(jv_copy(entry), jv_string(key));
	int none = !jv_is_valid(x);
	double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;

	jv_free(x);
	if (none)
		return dflt;
	if (!(d >= 1 && d <= 1000000 && d == floor(d)))
		bt_die(BT_EXIT_USAGE, "%s: \"%s\": .%s must be a whole number, 1 to 1000000",
		       name, model, key);
	return (long long)d;
}

/* Add the entries of the JSON text s[0..n); name is for messages. */
static void prices_parse(struct bt_prices *p, const char *name, const char *s, size_t n)
{
	char err[200];
	jv v = bt_json_parse(s, n, err, sizeof err), keys, k, entry, kk;
	int i, j, m, mm;

	if (!jv_is_valid(v))
		bt_die(BT_EXIT_USAGE, "%s: invalid JSON: %s", name, err);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		bt_die(BT_EXIT_USAGE, "%s: prices must be a JSON object "
		       "{\"MODEL\":{\"input\":USD,\"output\":USD},...}", name);
	keys = jv_keys(jv_copy(v));
	m = jv_array_length(jv_copy(keys));
	for (i = 0; i < m; i++) {
		k = jv_array_get(jv_copy(keys), i);
		entry = jv_object_get(jv_copy(v), jv_copy(k));
		if (jv_get_kind(entry) != JV_KIND_OBJECT)
			bt_die(BT_EXIT_USAGE, "%s: \"%s\": not an object "
			       "{\"input\":USD,\"output\":USD}", name, jv_string_value(k));
		kk = jv_keys(jv_copy(entry));
		mm = jv_array_length(jv_copy(kk));
		for (j = 0; j < mm; j++) {
			jv x = jv_array_get(jv_copy(kk), j);
			if (strcmp(jv_string_value(x), "input") && strcmp(jv_string_value(x), "output") &&
			    strcmp(jv_string_value(x), "image_px") &&
			    strcmp(jv_string_value(x), "image_tokens") &&
			    strcmp(jv_string_value(x), "cached"))
				bt_die(BT_EXIT_USAGE, "%s: \"%s\": unknown field \"%s\" "
				       "(only input, output, cached, image_px, image_tokens)", name,
				       jv_string_value(k), jv_string_value(x));
			jv_free(x);
		}
		jv_free(kk);
		price_set(p, jv_string_value(k),
		          price_num(name, jv_string_value(k), entry, "input"),
		          price_num(name, jv_string_value(k), entry, "output"));
		p->e[p->n - 1].px = (long)image_num(name, jv_string_value(k), entry,
		                                    "image_px", BT_IMAGE_PX);
		p->e[p->n - 1].image_tokens = image_num(name, jv_string_value(k), entry,
		                                        "image_tokens", BT_IMAGE_TOKENS);
		if (jv_object_has(jv_copy(entry), jv_string("cached")))
			p->e[p->n - 1].cached = price_num(name, jv_string_value(k), entry, "cached");
		jv_free(entry);
		jv_free(k);
	}
	jv_free(keys);
	jv_free(v);
}

static void prices_file(struct bt_prices *p, const char *path)
{
	struct bt_buf b = { 0 };

	if (bt_slurp(path, &b) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	prices_parse(p, path, b.p ? b.p : "", b.len);
	bt_buf_free(&b);
}

struct bt_prices *bt_prices_load(const char *file)
{
	struct bt_prices *p = bt_calloc(1, sizeof *p);
	const char *env = getenv("BT_PRICES");
	size_t i;

	for (i = 0; i < sizeof builtin / sizeof *builtin; i++)
		price_set(p, builtin[i].model, llround(builtin[i].input * 1e6),
		          llround(builtin[i].output * 1e6));
	for (i = 0; i < sizeof builtin_openai / sizeof *builtin_openai; i++) {
		price_set(p, builtin_openai[i].model, llround(builtin_openai[i].input * 1e6),
		          llround(builtin_openai[i].output * 1e6));
		p->e[p->n - 1].cached = llround(builtin_openai[i].cached * 1e6);
	}
	if (file)
		prices_file(p, file);
	else if (env && *env == '{')
		prices_parse(p, "BT_PRICES", env, strlen(env));
	else if (env && *env)
		prices_file(p, env);
	return p;
}

void bt_prices_free(struct bt_prices *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->e[i].model);
	free(p->e);
	free(p);
}

/* The last entry named exactly s[0..n) (later entries override). */
static const struct bt_price_entry *find(const struct bt_prices *p, const char *s, size_t n)
{
	size_t i;

	for (i = p->n; i-- > 0;)
		if (strlen(p->e[i].model) == n && !memcmp(p->e[i].model, s, n))
			return &p->e[i];
	return NULL;
}

static const struct bt_price_entry *lookup(const struct bt_prices *p, const char *model)
{
	const struct bt_price_entry *e;
	size_t n = strlen(model), i;

	e = find(p, model, n);
	if (!e && n > 9 && model[n - 9] == '-') {       /* -YYYYMMDD */
		for (i = n - 8; i < n && model[i] >= '0' && model[i] <= '9'; i++)
			;
		if (i == n)
			e = find(p, model, n - 9);
	}
	if (!e && n > 11 && model[n - 11] == '-' && model[n - 6] == '-' &&
	    model[n - 3] == '-') {                      /* OpenAI's -YYYY-MM-DD */
		for (i = n - 10; i < n && ((model[i] >= '0' && model[i] <= '9') ||
		                           i == n - 6 || i == n - 3); i++)
			;
		if (i == n)
			e = find(p, model, n - 11);
	}
	if (!e && n > 7 && !strcmp(model + n - 7, "-latest"))
		e = find(p, model, n - 7);
	return e;
}

void bt_price_image(const struct bt_prices *p, const char *model, long *px,
                    long long *cap)
{
	const struct bt_price_entry *e = lookup(p, model);

	*px = e ? e->px : BT_IMAGE_PX;
	*cap = e ? e->image_tokens : BT_IMAGE_TOKENS;
}

int bt_price_cached(const struct bt_prices *p, const char *model, long long *cached)
{
	const struct bt_price_entry *e = lookup(p, model);

	if (!e || e->cached < 0)
		return -1;
	*cached = e->cached;
	return 0;
}

int bt_price(const struct bt_prices *p, const char *model,
             long long *input, long long *output)
{
	const struct bt_price_entry *e = lookup(p, model);

	if (!e)
		return -1;
	*input = e->input;
	*output = e->output;
	return 0;
}

/* ---- the estimate rule (bt-mock's count_tokens counts the same way) ---- */

static int is(jv v, const char *s)       /* v borrowed */
{
	return jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), s);
}

static size_t compact_len(jv v)         /* v borrowed */
{
	struct bt_buf b = { 0 };
	size_t n;

	bt_json_write(&b, v);
	n = b.len;
	bt_buf_free(&b);
	return n;
}

static size_t slen(jv s)                /* s borrowed */
{
	return (size_t)jv_string_length_bytes(jv_copy(s));
}

/* The estimate's walk over params, in the API's cache order: tools,
 * system, messages.  Text as bytes, media as tokens; the prefix is what
 * comes up to the last block marked cache_control. */
struct est {
	size_t bytes, pbytes;       /* text bytes, all and in the prefix */
	long long media, pmedia;    /* media tokens, all and in the prefix */
	int hour;                   /* a mark says "ttl":"1h" */
	long px;                    /* the model's image rule */
	long long cap;
	struct bt_buf raw;
};

/* The block (borrowed) asks to be cached: the prefix runs to here. */
static void mark(struct est *e, jv blk)
{
	jv cc = bt_jv_get(blk, "cache_control"), ttl;

	if (jv_get_kind(cc) == JV_KIND_OBJECT) {
		ttl = bt_jv_get(cc, "ttl");
		if (bt_jv_is(ttl, "1h"))
			e->hour = 1;
		jv_free(ttl);
		e->pbytes = e->bytes;
		e->pmedia = e->media;
	}
	jv_free(cc);
}

/* The tokens of an image or document block's source (borrowed). */
static long long media_tokens(struct est *e, jv t, jv src)
{
	jv st = bt_jv_get(src, "type"), d = bt_jv_get(src, "data");
	long long n = 0, pages = 0;
	long w = 0, h = 0;

	if (bt_jv_is(st, "base64") && jv_get_kind(d) == JV_KIND_STRING) {
		e->raw.len = 0;
		if (bt_b64_decode(jv_string_value(d), (size_t)jv_string_length_bytes(jv_copy(d)),
		                  &e->raw) < 0)
			e->raw.len = 0;
		if (is(t, "image"))
			bt_image_size(e->raw.p, e->raw.len, &w, &h);
		else
			pages = bt_pdf_pages(e->raw.p, e->raw.len);
	}
	if (is(t, "image"))
		n = bt_image_tokens(w, h, e->px, e->cap);
	else if (!bt_jv_is(st, "text") && !bt_jv_is(st, "content"))
		n = bt_pdf_tokens(pages, e->cap);
	jv_free(st);
	jv_free(d);
	return n;
}

static void content_walk(struct est *e, jv c);

/* One content block (borrowed). */
static void block_walk(struct est *e, jv blk)
{
	jv t = bt_jv_get(blk, "type"), x, y;

	if (is(t, "text")) {
		x = bt_jv_get(blk, "text");
		e->bytes += jv_get_kind(x) == JV_KIND_STRING ? slen(x) : 0;
		jv_free(x);
	} else if (is(t, "tool_use")) {
		x = bt_jv_get(blk, "input");
		if (jv_is_valid(x))
			e->bytes += compact_len(x);
		jv_free(x);
	} else if (is(t, "tool_result")) {
		x = bt_jv_get(blk, "content");  /* as JSON, images and all */
		if (jv_is_valid(x))
			e->bytes += compact_len(x);
		jv_free(x);
	} else if (is(t, "image") || is(t, "document")) {
		x = bt_jv_get(blk, "source");
		y = bt_jv_get(x, "type");
		if (is(t, "document") && is(y, "text")) {     /* plain text: its bytes */
			jv_free(y);
			y = bt_jv_get(x, "data");
			e->bytes += jv_get_kind(y) == JV_KIND_STRING ? slen(y) : 0;
		} else if (is(t, "document") && is(y, "content")) {
			jv_free(y);
			y = bt_jv_get(x, "content");
			if (jv_get_kind(y) == JV_KIND_ARRAY)
				content_walk(e, y);
			else if (jv_get_kind(y) == JV_KIND_STRING)
				e->bytes += slen(y);
		} else if (jv_get_kind(x) == JV_KIND_OBJECT)
			e->media += media_tokens(e, t, x);
		jv_free(y);
		jv_free(x);
	} else if (is(t, "image_url") || is(t, "file")) {
		/* OpenAI's image or file part: the model's cap on an image,
		 * a rough figure (OpenAI counts by tiles or patches) */
		e->media += e->cap;
	}
	jv_free(t);
	mark(e, blk);
}

/* A content value (borrowed): a string, or blocks. */
static void content_walk(struct est *e, jv c)
{
	int i, n;
	jv blk;

	if (jv_get_kind(c) == JV_KIND_STRING) {
		e->bytes += slen(c);
		return;
	}
	if (jv_get_kind(c) != JV_KIND_ARRAY)
		return;
	n = jv_array_length(jv_copy(c));
	for (i = 0; i < n; i++) {
		blk = jv_array_get(jv_copy(c), i);
		block_walk(e, blk);
		jv_free(blk);
	}
}

static void walk(struct est *e, jv params, size_t *system)
{
	size_t before;
	int i, m;
	jv x, msg, c;

	x = bt_jv_get(params, "tools");
	if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL) {
		e->bytes += compact_len(x);
		m = jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
		for (i = 0; i < m; i++) {   /* a marked tool: all the tools */
			msg = jv_array_get(jv_copy(x), i);
			mark(e, msg);
			jv_free(msg);
		}
	}
	jv_free(x);
	x = bt_jv_get(params, "input");        /* OpenAI's embeddings: text(s) */
	if (jv_get_kind(x) == JV_KIND_STRING)
		e->bytes += slen(x);
	m = jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
	for (i = 0; i < m; i++) {
		msg = jv_array_get(jv_copy(x), i);
		if (jv_get_kind(msg) == JV_KIND_STRING)
			e->bytes += slen(msg);
		jv_free(msg);
	}
	jv_free(x);
	x = bt_jv_get(params, "response_format");      /* OpenAI's schema */
	if (jv_get_kind(x) == JV_KIND_OBJECT)
		e->bytes += compact_len(x);
	jv_free(x);
	x = bt_jv_get(params, "system");
	before = e->bytes;
	content_walk(e, x);
	if (system)
		*system = e->bytes - before;
	jv_free(x);
	x = bt_jv_get(params, "messages");
	m = jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
	for (i = 0; i < m; i++) {
		msg = jv_array_get(jv_copy(x), i);
		c = bt_jv_get(msg, "content");
		content_walk(e, c);
		jv_free(c);
		jv_free(msg);
	}
	jv_free(x);
	bt_buf_free(&e->raw);
}

static void image_rule(const struct bt_prices *p, jv params, struct est *e)
{
	jv model = bt_jv_get(params, "model");

	e->px = BT_IMAGE_PX;
	e->cap = BT_IMAGE_TOKENS;
	if (p && jv_get_kind(model) == JV_KIND_STRING)
		bt_price_image(p, jv_string_value(model), &e->px, &e->cap);
	jv_free(model);
}

size_t bt_input_bytes(jv params, size_t *system)
{
	struct est e = { 0 };

	walk(&e, params, system);
	return e.bytes;
}

long long bt_media_tokens(jv params)
{
	struct est e = { 0 };

	image_rule(NULL, params, &e);
	walk(&e, params, NULL);
	return e.media;
}

void bt_cost_estimate(const struct bt_prices *p, jv params, long long t[BT_TOKENS])
{
	struct est e = { 0 };
	long long w;

	image_rule(p, params, &e);
	walk(&e, params, NULL);
	w = (long long)((e.pbytes + 3) / 4) + e.pmedia;
	t[BT_TOK_IN] = (long long)((e.bytes - e.pbytes + 3) / 4) + e.media - e.pmedia;
	t[BT_TOK_WRITE] = e.hour ? 0 : w;
	t[BT_TOK_WRITE_1H] = e.hour ? w : 0;
	if (t[BT_TOK_IN] + w < 1)
		t[BT_TOK_IN] = 1;
}

long long bt_cost_estimate_input(jv params)
{
	struct est e = { 0 };
	long long n;

	image_rule(NULL, params, &e);
	walk(&e, params, NULL);
	n = (long long)((e.bytes + 3) / 4) + e.media;
	return n < 1 ? 1 : n;
}

int bt_cost_request(const char *s, size_t n, jv *params, long long *max_tokens,
                    char *err, size_t errsz)
{
	char id[BT_ID_MAX + 1], e[200];
	const char *name = "params", *max = "max_tokens";
	jv line, x;
	double d;
	int dialect;

	*params = jv_invalid();
	if ((dialect = bt_request_dialect(s, n, id, err, errsz)) < 0)
		return -1;
	line = bt_json_parse(s, n, e, sizeof e);
	if (dialect == BT_DIALECT_OPENAI) {
		/* the body, read as params are: its output bounded by
		 * max_completion_tokens (or the older max_tokens); an
		 * embedding has no output */
		name = "body";
		*params = bt_jv_get(line, "body");
		x = bt_jv_get(*params, "max_completion_tokens");
		max = jv_is_valid(x) || !jv_object_has(jv_copy(*params), jv_string("max_tokens")) ?
		      "max_completion_tokens" : "max_tokens";
		jv_free(x);
	} else
		*params = bt_jv_get(line, "params");
	jv_free(line);
	x = bt_jv_get(*params, "model");
	/* a NUL would cut it short: priced as another model */
	if (jv_get_kind(x) != JV_KIND_STRING || !jv_string_length_bytes(jv_copy(x)) ||
	    strlen(jv_string_value(x)) != (size_t)jv_string_length_bytes(jv_copy(x))) {
		jv_free(x);
		snprintf(err, errsz, "%s.model: not a model name", name);
		goto fail;
	}
	jv_free(x);
	if (dialect == BT_DIALECT_OPENAI && jv_object_has(jv_copy(*params), jv_string("input")) &&
	    !jv_object_has(jv_copy(*params), jv_string("messages"))) {
		*max_tokens = 0;
		return 0;
	}
	x = bt_jv_get(*params, max);
	d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : 0;
	if (dialect == BT_DIALECT_OPENAI && !jv_is_valid(x)) {
		/* optional on OpenAI: without it nothing bounds the answer */
		jv_free(x);
		snprintf(err, errsz, "body.max_completion_tokens: none, so nothing bounds "
		         "the output (give bt-format --max-tokens N)");
		goto fail;
	}
	jv_free(x);
	if (!(d >= 1 && d <= 9007199254740992.0 && d == floor(d))) {
		snprintf(err, errsz, "%s.%s: not a whole number 1 or more%s", name, max,
		         dialect == BT_DIALECT_OPENAI ? " (the estimate's bound on the output)" : "");
		goto fail;
	}
	*max_tokens = (long long)d;
	return 0;
fail:
	jv_free(*params);
	*params = jv_invalid();
	return -1;
}

/* ---- a job's cost, model by model ---- */

struct bt_cost_row *bt_cost_add(struct bt_cost *c, const char *model, int tier,
                                const long long tokens[BT_TOKENS])
{
	struct bt_cost_row *r = NULL;
	size_t i;
	int k;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->rows[i].model, model) && c->rows[i].tier == tier) {
			r = &c->rows[i];
			break;
		}
	if (!r) {
		long long in, out;
		if (bt_price(c->prices, model, &in, &out) < 0)
			return NULL;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 8;
			c->rows = bt_realloc(c->rows, c->cap * sizeof *c->rows);
		}
		r = &c->rows[c->n++];
		memset(r, 0, sizeof *r);
		r->model = bt_strdup(model);
		r->tier = tier;
		r->in_price = in;
		r->out_price = out;
		if (bt_price_cached(c->prices, model, &r->read_price) < 0)
			r->read_price = -1;
	}
	r->requests++;
	for (k = 0; k < BT_TOKENS; k++) {
		if (tokens[k] < 0 || tokens[k] > LLONG_MAX / 4 - r->tokens[k])
			bt_die(BT_EXIT_USAGE, "token counts too large to count");
		r->tokens[k] += tokens[k];
	}
	return r;
}

int bt_cost_add_request(struct bt_cost *c, const char *s, size_t n,
                        char *err, size_t errsz)
{
	long long t[BT_TOKENS] = { 0 }, out;
	char q[BT_QUOTE_SIZE];
	jv params, model;
	int r = 0;

	if (bt_cost_request(s, n, &params, &out, err, errsz) < 0)
		return -1;
	bt_cost_estimate(c->prices, params, t);
	t[BT_TOK_OUT] = out;
	model = bt_jv_get(params, "model");
	if (!bt_cost_add(c, jv_string_value(model), BT_TIER_BATCH, t)) {
		snprintf(err, errsz, "unknown model \"%s\": no price known for it "
		         "(give its prices in BT_PRICES)", bt_quote(q, jv_string_value(model),
		         strlen(jv_string_value(model))));
		r = -1;
	}
	jv_free(model);
	jv_free(params);
	return r;
}

static int by_model(const void *a, const void *b)
{
	const struct bt_cost_row *x = a, *y = b;
	int r = strcmp(x->model, y->model);

	return r ? r : x->tier - y->tier;
}

void bt_cost_sort(struct bt_cost *c)
{
	if (c->n)
		qsort(c->rows, c->n, sizeof *c->rows, by_model);
}

void bt_cost_price_row(const struct bt_cost_row *r, struct bt_usd *batch,
                       struct bt_usd *standard, struct bt_usd *input_only)
{
	/* factors in 1/40: standard input 40, output 40, cache write 50 (1.25×),
	 * cache read 4 (0.1×), 1-hour cache write 80 (2×); batch is half of each */
	static const int f[BT_TOKENS] = { 40, 40, 50, 4, 80 };
	struct bt_usd s = { 0, 0 }, b = { 0, 0 }, in = { 0, 0 };
	long long price;
	int k, fk;

	for (k = 0; k < BT_TOKENS; k++) {
		price = k == 1 ? r->out_price : r->in_price;
		fk = f[k];
		if (k == BT_TOK_READ && r->read_price >= 0) {
			price = r->read_price;  /* a model's own cached rate (OpenAI's) */
			fk = 40;
		}
		bt_usd_add(&s, cost_of(r->tokens[k], price, fk));
		bt_usd_add(&b, cost_of(r->tokens[k], price, fk / 2));
		if (k != 1)
			bt_usd_add(&in, cost_of(r->tokens[k], price, fk / 2));
	}
	if (standard)
		*standard = s;
	if (batch)
		*batch = b;
	if (input_only)
		*input_only = in;
}

void bt_cost_free(struct bt_cost *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->rows[i].model);
	free(c->rows);
	c->rows = NULL;
	c->n = c->cap = 0;
}
