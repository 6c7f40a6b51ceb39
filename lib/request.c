/* request.c — one line of the requests stream, checked without building
 * it.  Either provider's batch input line: Anthropic's, a JSON object
 * with exactly custom_id (a valid id) and params (an object), as the
 * API's additionalProperties: false wants; or OpenAI's, with exactly
 * custom_id, method ("POST"), url (an endpoint) and body (an object
 * with a model).  The line itself says which. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

/* ---- providers, by name ---- */

int bt_provider_from_name(const char *name)
{
	if (name && !strcmp(name, "anthropic"))
		return BT_PROVIDER_ANTHROPIC;
	if (name && !strcmp(name, "openai"))
		return BT_PROVIDER_OPENAI;
	return -1;
}

const char *bt_provider_name(int provider)
{
	return provider == BT_PROVIDER_OPENAI ? "openai" : "anthropic";
}

int bt_provider_choose(const char *option, const char *what)
{
	const char *env = getenv("BT_PROVIDER");
	int p;

	if (!option && env && *env) {
		option = env;
		what = "BT_PROVIDER";
	}
	if (!option)
		return BT_PROVIDER_ANTHROPIC;
	if ((p = bt_provider_from_name(option)) < 0)
		bt_die(BT_EXIT_USAGE, "%s: unknown provider \"%s\": give anthropic "
		       "or openai", what, option);
	return p;
}

/* ---- request lines ---- */

/* The endpoints an OpenAI batch may name (openai-batch.md, "Create"). */
static const char *const endpoints[] = {
	BT_OPENAI_CHAT, BT_OPENAI_EMBEDDINGS, "/v1/responses",
	"/v1/completions", "/v1/moderations", NULL
};

enum { M_ID, M_PARAMS, M_METHOD, M_URL, M_BODY, M_N };
static const char *const names[M_N] = { "custom_id", "params", "method", "url", "body" };

struct req {
	const char *at[M_N], *dup;
	size_t len[M_N], duplen;
	/* the first key that is not an Anthropic request's, an OpenAI's */
	const char *unknown[2];
	size_t unknownlen[2];
};

/* The JSON type of a value, from its first byte. */
static const char *kind(const char *v)
{
	switch (*v) {
	case '{': return "an object";
	case '[': return "an array";
	case '"': return "a string";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	default: return "a number";
	}
}

static void note_unknown(struct req *r, int provider, const char *k, size_t kn)
{
	if (!r->unknown[provider]) {
		r->unknown[provider] = k;
		r->unknownlen[provider] = kn;
	}
}

static int member(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct req *r = arg;
	int i;

	for (i = 0; i < M_N; i++)
		if (bt_json_key_is(k, kn, names[i]))
			break;
	if (i != M_ID && i != M_PARAMS)
		note_unknown(r, BT_PROVIDER_ANTHROPIC, k, kn);
	if (i == M_PARAMS || i == M_N)
		note_unknown(r, BT_PROVIDER_OPENAI, k, kn);
	if (i == M_N)
		return 0;
	if (r->at[i] && !r->dup) {
		r->dup = k;
		r->duplen = kn;
	}
	r->at[i] = v;
	r->len[i] = vn;
	return 0;
}

/* The shape by the members present: params says Anthropic; else any of
 * method, url or body says OpenAI; else Anthropic (whose message then
 * says what is missing, as it always has). */
static int shape(const struct req *r)
{
	if (r->at[M_PARAMS])
		return BT_PROVIDER_ANTHROPIC;
	if (r->at[M_METHOD] || r->at[M_URL] || r->at[M_BODY])
		return BT_PROVIDER_OPENAI;
	return BT_PROVIDER_ANTHROPIC;
}

/* The JSON string v[0..n) undone into out[0..size): 0, or -1 when it is
 * not a string or does not fit. */
static int string_value(const char *v, size_t n, char *out, size_t size)
{
	char e[64];
	jv s;
	int rc = -1;

	if (!v || !n || *v != '"')
		return -1;
	if (!memchr(v, '\\', n)) {
		if (n - 2 >= size)
			return -1;
		memcpy(out, v + 1, n - 2);
		out[n - 2] = 0;
		return 0;
	}
	s = bt_json_parse(v, n, e, sizeof e);
	if (jv_get_kind(s) == JV_KIND_STRING &&
	    (size_t)jv_string_length_bytes(jv_copy(s)) < size &&
	    !memchr(jv_string_value(s), 0, (size_t)jv_string_length_bytes(jv_copy(s)))) {
		strcpy(out, jv_string_value(s));
		rc = 0;
	}
	jv_free(s);
	return rc;
}

/* Params that may hold an image or a document (the key "source", which
 * both need, appears) are built and their blocks checked; the rest pass
 * at the cost of one scan. */
static int media_problem(const char *p, size_t n, char *err, size_t errsz)
{
	char e[256], m[300];
	jv v;
	int rc;

	if (!bt_memmem(p, n, "\"source\"", 8))
		return 0;
	v = bt_json_parse(p, n, e, sizeof e);
	rc = bt_content_check(v, m, sizeof m);
	jv_free(v);
	if (rc < 0)
		snprintf(err, errsz, "params.%s", m);
	return rc;
}

/* The model of an object's text o[0..n) into out: 0; 1 when it has no
 * model, or one that is not a non-empty string of at most BT_MODEL_MAX
 * bytes. */
static int model_of(const char *o, size_t n, char out[BT_MODEL_MAX + 1])
{
	const char *at;
	size_t len;

	bt_json_member_raw(o, n, "model", &at, &len);
	if (string_value(at, len, out, BT_MODEL_MAX + 1) < 0 || !*out) {
		*out = 0;
		return 1;
	}
	return 0;
}

/* Whether url is an endpoint of the Batch API. */
static int endpoint_ok(const char *url)
{
	int i;

	for (i = 0; endpoints[i]; i++)
		if (!strcmp(url, endpoints[i]))
			return 1;
	return 0;
}

static int check_openai(const struct req *r, struct bt_request *out, char *err,
                        size_t errsz)
{
	char q[BT_QUOTE_SIZE], method[8];

	if (!r->at[M_METHOD])
		snprintf(err, errsz, "missing method");
	else if (string_value(r->at[M_METHOD], r->len[M_METHOD], method, sizeof method) < 0 ||
	         strcmp(method, "POST"))
		snprintf(err, errsz, "method is %s, not \"POST\"",
		         bt_quote(q, r->at[M_METHOD], r->len[M_METHOD]));
	else if (!r->at[M_URL])
		snprintf(err, errsz, "missing url");
	else if (string_value(r->at[M_URL], r->len[M_URL], out->url, sizeof out->url) < 0 ||
	         !endpoint_ok(out->url))
		snprintf(err, errsz, "url %s is not an endpoint of the Batch API "
		         "(/v1/chat/completions, /v1/embeddings, /v1/responses, "
		         "/v1/completions, /v1/moderations)",
		         bt_quote(q, r->at[M_URL], r->len[M_URL]));
	else if (!r->at[M_BODY])
		snprintf(err, errsz, "missing body");
	else if (*r->at[M_BODY] != '{')
		snprintf(err, errsz, "body is %s, not an object", kind(r->at[M_BODY]));
	else if (model_of(r->at[M_BODY], r->len[M_BODY], out->model))
		snprintf(err, errsz, "body.model: a non-empty string of at most "
		         "%d bytes is required", BT_MODEL_MAX);
	else
		return 0;
	return -1;
}

/* The one reader of request lines; want_model: find an Anthropic
 * line's params.model too (OpenAI's is always found: it is checked). */
static int read_line(const char *s, size_t n, struct bt_request *out, int want_model,
                     char *err, size_t errsz)
{
	struct req r;
	char perr[256], q[BT_QUOTE_SIZE];
	const char *p = s, *unknown;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	out->provider = -1;
	while (p < s + n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < s + n && *p != '{' && bt_json_skip(p, n - (size_t)(p - s), NULL, 0)) {
		snprintf(err, errsz, "not a JSON object");
		return -1;
	}
	if (bt_json_members_utf8(s, n, member, &r, perr, sizeof perr) != 0) {
		/* bad UTF-8 is no JSON syntax error: jq takes it, replaced */
		snprintf(err, errsz, "%s%s", strncmp(perr, "invalid UTF-8", 13) ?
		         "invalid JSON: " : "", perr);
		return -1;
	}
	out->provider = shape(&r);
	unknown = r.unknown[out->provider];
	if (r.dup)
		snprintf(err, errsz, "duplicate member \"%s\"", bt_quote(q, r.dup, r.duplen));
	else if (unknown)
		snprintf(err, errsz, "unknown member \"%s\" %s",
		         bt_quote(q, unknown, r.unknownlen[out->provider]),
		         out->provider == BT_PROVIDER_OPENAI ?
		         "(an OpenAI request has only custom_id, method, url and body)" :
		         "(a request has only custom_id and params)");
	else if (!r.at[M_ID])
		snprintf(err, errsz, "missing custom_id");
	else if (*r.at[M_ID] != '"')
		snprintf(err, errsz, "custom_id is %s, not a string", kind(r.at[M_ID]));
	else if (!bt_custom_id_ok(r.at[M_ID] + 1, r.len[M_ID] - 2))
		snprintf(err, errsz, "invalid custom_id %s: it must "
		         "match ^[a-zA-Z0-9_-]{1,64}$", bt_quote(q, r.at[M_ID], r.len[M_ID]));
	else if (out->provider == BT_PROVIDER_OPENAI) {
		if (check_openai(&r, out, err, errsz) < 0)
			return -1;
		out->body = r.at[M_BODY];
		out->body_len = r.len[M_BODY];
	} else if (!r.at[M_PARAMS])
		snprintf(err, errsz, "missing params");
	else if (*r.at[M_PARAMS] != '{')
		snprintf(err, errsz, "params is %s, not an object", kind(r.at[M_PARAMS]));
	else if (media_problem(r.at[M_PARAMS], r.len[M_PARAMS], err, errsz) < 0)
		return -1;
	else {
		out->body = r.at[M_PARAMS];
		out->body_len = r.len[M_PARAMS];
		if (want_model)
			model_of(out->body, out->body_len, out->model);
	}
	if (!out->body)
		return -1;
	memcpy(out->id, r.at[M_ID] + 1, r.len[M_ID] - 2);
	out->id[r.len[M_ID] - 2] = 0;
	return 0;
}

int bt_request_read(const char *s, size_t n, struct bt_request *r, char *err,
                    size_t errsz)
{
	return read_line(s, n, r, 1, err, errsz);
}

int bt_request_check(const char *s, size_t n, char id[BT_ID_MAX + 1],
                     char *err, size_t errsz)
{
	struct bt_request r;

	if (read_line(s, n, &r, 0, err, errsz) < 0)
		return -1;
	if (r.provider != BT_PROVIDER_ANTHROPIC) {
		snprintf(err, errsz, "an OpenAI request (custom_id, method, url, "
		         "body), where an Anthropic one (custom_id, params) is read");
		return -1;
	}
	memcpy(id, r.id, sizeof r.id);
	return 0;
}

int bt_request_peek(const char *s, size_t n, struct bt_request *out)
{
	struct req r;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	out->provider = -1;
	if (bt_json_members_quick(s, n, member, &r, NULL, 0) != 0)
		return -1;
	out->provider = shape(&r);
	if (out->provider == BT_PROVIDER_OPENAI) {
		if (string_value(r.at[M_URL], r.len[M_URL], out->url, sizeof out->url) < 0)
			*out->url = 0;
		if (r.at[M_BODY] && *r.at[M_BODY] == '{')
			model_of(r.at[M_BODY], r.len[M_BODY], out->model);
	}
	return 0;
}

/* ---- the content blocks of params, as the API checks them ---- */

struct chk {
	struct bt_buf raw;      /* decoded data, reused */
	int images;
	char *err;
	size_t errsz;
};

static int fail(struct chk *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct chk *c, const char *path, const char *fmt, ...)
{
	char m[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errsz, "%s%s%s", path, *path ? ": " : "", m);
	return -1;
}

/* base64 source data: decoded into c->raw; its length, or -1 (reported). */
static long long data(struct chk *c, jv src, const char *path, long long max,
                      const char *what)
{
	jv d = bt_jv_get(src, "data");
	long long n, got;

	if (jv_get_kind(d) != JV_KIND_STRING) {
		jv_free(d);
		return fail(c, path, "source.data: a string of base64 is required");
	}
	n = jv_string_length_bytes(jv_copy(d));
	if (n > max) {
		jv_free(d);
		return fail(c, path, "the %s is %lld bytes of base64, more than the "
		            "API takes (%lld)", what, n, max);
	}
	c->raw.len = 0;
	got = bt_b64_decode(jv_string_value(d), (size_t)n, &c->raw);
	jv_free(d);
	if (got < 0)
		return fail(c, path, "source.data: invalid base64 data");
	return got;
}

static int image(struct chk *c, jv src, const char *path)
{
	jv st = bt_jv_get(src, "type"), mt = bt_jv_get(src, "media_type"), u;
	const char *t, *is;
	long w, h;
	int rc = -1;

	if (bt_jv_is(st, "url")) {
		u = bt_jv_get(src, "url");
		rc = jv_get_kind(u) == JV_KIND_STRING ? 0 :
		     fail(c, path, "source.url: a string is required");
		jv_free(u);
	} else if (!bt_jv_is(st, "base64"))
		fail(c, path, "source.type: must be \"base64\" or \"url\"");
	else if (jv_get_kind(mt) != JV_KIND_STRING || !bt_media_image_type(jv_string_value(mt)))
		fail(c, path, "source.media_type: must be image/jpeg, image/png, "
		     "image/gif or image/webp");
	else if (data(c, src, path, BT_IMAGE_MAX_B64, "image") >= 0) {
		t = jv_string_value(mt);
		is = bt_media_sniff(c->raw.p, c->raw.len);
		if (!is || strcmp(is, t))
			fail(c, path, "the image data is not %s (%s)", t,
			     is ? is : "not an image type the API takes");
		else if (bt_image_size(c->raw.p, c->raw.len, &w, &h) < 0)
			fail(c, path, "the %s image is damaged: no size in its header", t);
		else if (w > BT_IMAGE_MAX_PX || h > BT_IMAGE_MAX_PX)
			fail(c, path, "the image is %ldx%ld pixels, more than the API "
			     "takes (%d a side)", w, h, BT_IMAGE_MAX_PX);
		else
			rc = 0;
	}
	jv_free(st);
	jv_free(mt);
	return rc;
}

static int document(struct chk *c, jv src, const char *path)
{
	jv st = bt_jv_get(src, "type"), mt = bt_jv_get(src, "media_type"), u;
	const char *is;
	int rc = -1;

	if (bt_jv_is(st, "url") || bt_jv_is(st, "text")) {
		u = bt_jv_get(src, bt_jv_is(st, "url") ? "url" : "data");
		rc = jv_get_kind(u) == JV_KIND_STRING ? 0 :
		     fail(c, path, "source.%s: a string is required",
		          bt_jv_is(st, "url") ? "url" : "data");
		jv_free(u);
		if (rc == 0 && bt_jv_is(st, "text") && !bt_jv_is(mt, "text/plain"))
			rc = fail(c, path, "source.media_type: must be text/plain");
	} else if (bt_jv_is(st, "content"))
		rc = 0;
	else if (!bt_jv_is(st, "base64"))
		fail(c, path, "source.type: must be \"base64\", \"text\", "
		     "\"content\" or \"url\"");
	else if (!bt_jv_is(mt, "application/pdf"))
		fail(c, path, "source.media_type: must be application/pdf");
	else if (data(c, src, path, BT_PDF_MAX_B64, "PDF") >= 0) {
		is = bt_media_sniff(c->raw.p, c->raw.len);
		if (!is || strcmp(is, "application/pdf"))
			fail(c, path, "the document data is not a PDF");
		else
			rc = 0;
	}
	jv_free(st);
	jv_free(mt);
	return rc;
}

static int blocks(struct chk *c, jv content, const char *path);

static int block(struct chk *c, jv blk, const char *path)
{
	jv t = bt_jv_get(blk, "type"), x;
	int rc = 0;

	if (bt_jv_is(t, "image") || bt_jv_is(t, "document")) {
		x = bt_jv_get(blk, "source");
		if (bt_jv_is(t, "image") && ++c->images > BT_MAX_IMAGES)
			rc = fail(c, path, "more than %d images in one request",
			          BT_MAX_IMAGES);
		else if (jv_get_kind(x) != JV_KIND_OBJECT)
			rc = fail(c, path, "source: an object is required");
		else
			rc = bt_jv_is(t, "image") ? image(c, x, path) : document(c, x, path);
		jv_free(x);
	} else if (bt_jv_is(t, "tool_result")) {
		x = bt_jv_get(blk, "content");
		char sub[200];
		snprintf(sub, sizeof sub, "%.180s.content", path);
		rc = blocks(c, x, sub);
		jv_free(x);
	}
	jv_free(t);
	return rc;
}

static int blocks(struct chk *c, jv content, const char *path)
{
	char sub[200];
	int i, n, rc = 0;
	jv blk;

	if (jv_get_kind(content) != JV_KIND_ARRAY)
		return 0;
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n && rc == 0; i++) {
		blk = jv_array_get(jv_copy(content), i);
		snprintf(sub, sizeof sub, "%.180s.%d", path, i);
		rc = block(c, blk, sub);
		jv_free(blk);
	}
	return rc;
}

int bt_content_check(jv params, char *err, size_t errsz)
{
	struct chk c = { .err = err, .errsz = errsz };
	char path[64];
	int i, n, rc;
	jv x, m, cont;

	x = bt_jv_get(params, "system");
	rc = blocks(&c, x, "system");
	jv_free(x);
	x = bt_jv_get(params, "messages");
	n = rc == 0 && jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
	for (i = 0; i < n && rc == 0; i++) {
		m = jv_array_get(jv_copy(x), i);
		cont = bt_jv_get(m, "content");
		snprintf(path, sizeof path, "messages.%d.content", i);
		rc = blocks(&c, cont, path);
		jv_free(cont);
		jv_free(m);
	}
	jv_free(x);
	bt_buf_free(&c.raw);
	return rc;
}
