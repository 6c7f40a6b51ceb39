/* validate.c — what the API checks: a create body, walked item by item
 * without building it whole, and the params of one request */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mock.h"

/* A walk through a create body. */
struct walk {
	const char *body, *p, *e;   /* the body, where the walk is, its end */
	int fd;                     /* the request lines go to fd, */
	const char *path;           /* named path */
	struct bt_idset ids;        /* custom_ids seen */
	struct bt_buf w;            /* request lines not yet written */
	long i;                     /* items seen */
	int seen;                   /* the requests member was seen */
	char *msg;                  /* what is wrong, for the API's message */
	size_t sz;
};

/* The message of a syntax error at at; returns -1. */
static int bad_json(struct walk *v, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad_json(struct walk *v, const char *at, const char *fmt, ...)
{
	char m[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(v->msg, v->sz, "There was an error parsing the body of your request: "
	         "invalid JSON at byte %zu: %s", (size_t)(at - v->body), m);
	return -1;
}

static void skip_ws(struct walk *v)
{
	while (v->p < v->e && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' ||
	                       *v->p == '\r'))
		v->p++;
}

/* 1 when the walk is at the byte c (and then past it). */
static int take(struct walk *v, char c)
{
	if (v->p < v->e && *v->p == c) {
		v->p++;
		return 1;
	}
	return 0;
}

/* Check request item i (it); add its line to w.  0, or -1 with the message. */
static int check_item(jv it, long i, struct bt_idset *ids, struct bt_buf *w,
                      char *msg, size_t sz)
{
	jv cid, params, k;
	unsigned long long first;
	int iter, rc = -1;

	if (jv_get_kind(it) != JV_KIND_OBJECT) {
		snprintf(msg, sz, "requests.%ld: Input should be a valid dictionary", i);
		return -1;
	}
	cid = bt_jv_get(it, "custom_id");
	params = bt_jv_get(it, "params");
	if (!jv_is_valid(cid))
		snprintf(msg, sz, "requests.%ld.custom_id: Field required", i);
	else if (jv_get_kind(cid) != JV_KIND_STRING)
		snprintf(msg, sz, "requests.%ld.custom_id: Input should be a valid string", i);
	else if (!bt_custom_id_ok(jv_string_value(cid),
	                          (size_t)jv_string_length_bytes(jv_copy(cid))))
		snprintf(msg, sz, "requests.%ld.custom_id: String should match pattern "
		         "'^[a-zA-Z0-9_-]{1,64}$'", i);
	else if (!jv_is_valid(params))
		snprintf(msg, sz, "requests.%ld.params: Field required", i);
	else if (jv_get_kind(params) != JV_KIND_OBJECT)
		snprintf(msg, sz, "requests.%ld.params: Input should be a valid dictionary", i);
	else
		rc = 0;
	for (iter = jv_object_iter(it); rc == 0 && jv_object_iter_valid(it, iter);
	     iter = jv_object_iter_next(it, iter)) {
		k = jv_object_iter_key(it, iter);
		if (!bt_jv_is(k, "custom_id") && !bt_jv_is(k, "params")) {
			snprintf(msg, sz, "requests.%ld.%.100s: Extra inputs are not permitted",
			         i, jv_string_value(k));
			rc = -1;
		}
		jv_free(k);
	}
	if (rc == 0 && (first = bt_idset_add(ids, jv_string_value(cid),
	                                     (unsigned long long)i + 1))) {
		snprintf(msg, sz, "requests.%ld.custom_id: Duplicate custom_id: %s "
		         "(also requests.%llu)", i, jv_string_value(cid), first - 1);
		rc = -1;
	}
	if (rc == 0) {
		bt_buf_adds(w, "{\"custom_id\":\"");
		bt_buf_adds(w, jv_string_value(cid));
		bt_buf_adds(w, "\",\"params\":");
		bt_json_write(w, params);
		bt_buf_adds(w, "}\n");
	}
	jv_free(cid);
	jv_free(params);
	return rc;
}

/* One item of the requests list: checked and written while there may be
 * more, only skipped past --max-requests (the count is reported). */
static int walk_item(struct walk *v)
{
	char err[256];
	size_t used;
	jv it;

	if (v->i < opt_max_requests) {
		it = bt_json_parse_prefix(v->p, (size_t)(v->e - v->p), &used, err, sizeof err);
		if (!jv_is_valid(it)) {
			jv_free(it);
			return bad_json(v, v->p, "%s", err);
		}
		if (check_item(it, v->i, &v->ids, &v->w, v->msg, v->sz) < 0) {
			jv_free(it);
			return -1;
		}
		jv_free(it);
		if (v->w.len >= WBUF && flush_buf(v->fd, &v->w, v->path) < 0) {
			snprintf(v->msg, v->sz, "cannot write the batch");
			return -1;
		}
	} else if (!(used = bt_json_skip(v->p, (size_t)(v->e - v->p), err, sizeof err)))
		return bad_json(v, v->p, "%s", err);
	v->i++;
	v->p += used;
	return 0;
}

/* The value of requests: a list of items. */
static int walk_requests(struct walk *v)
{
	char err[256];

	if (v->p == v->e || *v->p != '[') {
		if (!bt_json_skip(v->p, (size_t)(v->e - v->p), err, sizeof err))
			return bad_json(v, v->p, "%s", err);
		snprintf(v->msg, v->sz, "requests: Input should be a valid list");
		return -1;
	}
	v->p++;
	skip_ws(v);
	if (take(v, ']'))
		return 0;
	for (;;) {
		if (walk_item(v) < 0)
			return -1;
		skip_ws(v);
		if (take(v, ',')) {
			skip_ws(v);
			continue;
		}
		if (take(v, ']'))
			return 0;
		return bad_json(v, v->p, "expected ',' or ']'");
	}
}

/* One member of the body: "requests", once. */
static int walk_member(struct walk *v)
{
	char err[256];
	size_t used;
	jv key;

	key = bt_json_parse_prefix(v->p, (size_t)(v->e - v->p), &used, err, sizeof err);
	if (!jv_is_valid(key)) {
		jv_free(key);
		return bad_json(v, v->p, "%s", err);
	}
	if (jv_get_kind(key) != JV_KIND_STRING) {
		jv_free(key);
		return bad_json(v, v->p, "expected a string");
	}
	v->p += used;
	skip_ws(v);
	if (!take(v, ':')) {
		jv_free(key);
		return bad_json(v, v->p, "expected ':'");
	}
	skip_ws(v);
	if (!bt_jv_is(key, "requests") || v->seen) {
		snprintf(v->msg, v->sz, "%.100s: %s", jv_string_value(key),
		         v->seen && bt_jv_is(key, "requests") ? "duplicate key"
		                                               : "Extra inputs are not permitted");
		jv_free(key);
		return -1;
	}
	jv_free(key);
	v->seen = 1;
	return walk_requests(v);
}

/* The whole body: one object, nothing after it. */
static int walk_body(struct walk *v)
{
	char err[256];

	skip_ws(v);
	if (v->p == v->e)
		return bad_json(v, v->p, "empty body");
	if (*v->p != '{') {
		if (!bt_json_skip(v->p, (size_t)(v->e - v->p), err, sizeof err))
			return bad_json(v, v->p, "%s", err);
		snprintf(v->msg, v->sz, "Input should be a valid dictionary");
		return -1;
	}
	v->p++;
	skip_ws(v);
	if (!take(v, '}'))
		for (;;) {
			if (walk_member(v) < 0)
				return -1;
			skip_ws(v);
			if (take(v, ',')) {
				skip_ws(v);
				continue;
			}
			if (take(v, '}'))
				break;
			return bad_json(v, v->p, "expected ',' or '}'");
		}
	skip_ws(v);
	if (v->p != v->e)
		return bad_json(v, v->p, "unexpected data after the JSON value");
	return 0;
}

long validate_create(const char *body, size_t size, int fd, const char *path,
                     char *msg, size_t sz)
{
	struct walk v = { .body = body, .p = body, .e = body + size, .fd = fd,
	                  .path = path, .msg = msg, .sz = sz };
	long n = -1;

	if (walk_body(&v) < 0)
		;
	else if (!v.seen)
		snprintf(msg, sz, "requests: Field required");
	else if (v.i == 0)
		snprintf(msg, sz, "requests: List should have at least 1 item after validation, not 0");
	else if (v.i > opt_max_requests)
		snprintf(msg, sz, "requests: List should have at most %ld items after validation, not %ld",
		         opt_max_requests, v.i);
	else if (flush_buf(fd, &v.w, path) < 0)
		snprintf(msg, sz, "cannot write the batch");
	else
		n = v.i;
	bt_idset_free(&v.ids);
	bt_buf_free(&v.w);
	return n;
}

/* ---- params ---------------------------------------------------------------- */

static int check_model(jv p, char *msg, size_t sz)
{
	jv v = bt_jv_get(p, "model");
	int rc = -1;

	if (!jv_is_valid(v))
		snprintf(msg, sz, "model: Field required");
	else if (jv_get_kind(v) != JV_KIND_STRING)
		snprintf(msg, sz, "model: Input should be a valid string");
	else
		rc = 0;
	jv_free(v);
	return rc;
}

static struct bt_prices *prices;       /* read only once serving */
static char **extra;                    /* --model NAME */
static size_t nextra;

void models_load(void)
{
	prices = bt_prices_load(NULL);
}

void model_add(const char *name)
{
	extra = bt_realloc(extra, (nextra + 1) * sizeof *extra);
	extra[nextra++] = bt_strdup(name);
}

int check_model_known(jv p, char *msg, size_t sz)
{
	jv v = bt_jv_get(p, "model");
	const char *m = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
	long long in, out;
	size_t i;
	int rc = prices && bt_price(prices, m, &in, &out) == 0 ? 0 : -1;

	for (i = 0; rc < 0 && i < nextra; i++)
		if (!strcmp(extra[i], m))
			rc = 0;
	if (rc < 0)
		snprintf(msg, sz, "model: %.200s", m);
	jv_free(v);
	return rc;
}

/* messages: a list of at least one (its items are not looked at). */
static int check_list(jv v, char *msg, size_t sz)
{
	if (!jv_is_valid(v))
		snprintf(msg, sz, "messages: Field required");
	else if (jv_get_kind(v) != JV_KIND_ARRAY)
		snprintf(msg, sz, "messages: Input should be a valid list");
	else if (jv_array_length(jv_copy(v)) == 0)
		snprintf(msg, sz, "messages: List should have at least 1 item after validation, not 0");
	else
		return 0;
	return -1;
}

/* Message i: an object with a role and a content of the right kinds. */
static int check_message(jv m, int i, char *msg, size_t sz)
{
	jv r = bt_jv_get(m, "role");
	int rc = -1;

	if (jv_get_kind(m) != JV_KIND_OBJECT)
		snprintf(msg, sz, "messages.%d: Input should be a valid dictionary", i);
	else if (!jv_is_valid(r))
		snprintf(msg, sz, "messages.%d.role: Field required", i);
	else if (!bt_jv_is(r, "user") && !bt_jv_is(r, "assistant"))
		snprintf(msg, sz, "messages.%d.role: Input should be 'user' or 'assistant'", i);
	else {
		jv_free(r);
		r = bt_jv_get(m, "content");
		if (!jv_is_valid(r))
			snprintf(msg, sz, "messages.%d.content: Field required", i);
		else if (jv_get_kind(r) != JV_KIND_STRING && jv_get_kind(r) != JV_KIND_ARRAY)
			snprintf(msg, sz, "messages.%d.content: Input should be a valid string or list", i);
		else
			rc = 0;
	}
	jv_free(r);
	return rc;
}

static int check_messages(jv p, char *msg, size_t sz)
{
	jv v = bt_jv_get(p, "messages");
	int i, n, rc = check_list(v, msg, sz);

	jv m;

	n = rc == 0 ? jv_array_length(jv_copy(v)) : 0;
	for (i = 0; i < n && rc == 0; i++) {
		m = jv_array_get(jv_copy(v), i);
		rc = check_message(m, i, msg, sz);
		jv_free(m);
	}
	jv_free(v);
	return rc;
}

static int check_max_tokens(jv p, char *msg, size_t sz)
{
	jv v = bt_jv_get(p, "max_tokens");
	int rc = -1;

	if (!jv_is_valid(v))
		snprintf(msg, sz, "max_tokens: Field required");
	else if (jv_get_kind(v) != JV_KIND_NUMBER)
		snprintf(msg, sz, "max_tokens: Input should be a valid integer");
	else if (jv_number_value(v) != floor(jv_number_value(v)))
		snprintf(msg, sz, "max_tokens: Input should be a valid integer, got a number with a fractional part");
	else if (jv_number_value(v) < 1)
		snprintf(msg, sz, "max_tokens: Input should be greater than or equal to 1");
	else
		rc = 0;
	jv_free(v);
	return rc;
}

/* system, tools and stream, which may be absent. */
static int check_optional(jv p, int batch, char *msg, size_t sz)
{
	jv v = bt_jv_get(p, "system");
	jv_kind k = jv_get_kind(v);
	int rc = 0;

	if (jv_is_valid(v) && k != JV_KIND_STRING && k != JV_KIND_ARRAY && k != JV_KIND_NULL) {
		snprintf(msg, sz, "system: Input should be a valid string or list");
		rc = -1;
	}
	jv_free(v);
	if (rc < 0)
		return -1;
	v = bt_jv_get(p, "tools");
	k = jv_get_kind(v);
	if (jv_is_valid(v) && k != JV_KIND_ARRAY && k != JV_KIND_NULL) {
		snprintf(msg, sz, "tools: Input should be a valid list");
		rc = -1;
	}
	jv_free(v);
	if (rc < 0)
		return -1;
	v = bt_jv_get(p, "stream");
	if (jv_get_kind(v) == JV_KIND_TRUE) {
		snprintf(msg, sz, batch ? "stream: Streaming is not supported in batch requests"
		                        : "stream: bt-mock does not stream; leave stream unset or false");
		rc = -1;
	}
	jv_free(v);
	return rc;
}

/* output_config, which may be absent: an object of effort and format,
 * each null or absent; format {"type":"json_schema","schema":{...}}. */
static int check_output_config(jv p, char *msg, size_t sz)
{
	jv c = bt_jv_get(p, "output_config"), f = bt_jv_get(c, "format"), k, v;
	jv e = bt_jv_get(c, "effort");
	int it, rc = -1;

	if (jv_is_valid(c) && jv_get_kind(c) != JV_KIND_OBJECT)
		snprintf(msg, sz, "output_config: Input should be a valid dictionary");
	else if (jv_is_valid(e) && jv_get_kind(e) != JV_KIND_NULL &&
	         !bt_jv_is(e, "low") && !bt_jv_is(e, "medium") && !bt_jv_is(e, "high") &&
	         !bt_jv_is(e, "xhigh") && !bt_jv_is(e, "max"))
		snprintf(msg, sz, "output_config.effort: Input should be 'low', 'medium', "
		         "'high', 'xhigh' or 'max'");
	else if (jv_is_valid(f) && jv_get_kind(f) != JV_KIND_NULL &&
	         jv_get_kind(f) != JV_KIND_OBJECT)
		snprintf(msg, sz, "output_config.format: Input should be a valid dictionary");
	else
		rc = 0;
	for (it = rc == 0 && jv_is_valid(c) ? jv_object_iter(c) : -1;
	     it != -1 && rc == 0 && jv_object_iter_valid(c, it); it = jv_object_iter_next(c, it)) {
		k = jv_object_iter_key(c, it);
		if (!bt_jv_is(k, "effort") && !bt_jv_is(k, "format")) {
			snprintf(msg, sz, "output_config.%.100s: Extra inputs are not permitted",
			         jv_string_value(k));
			rc = -1;
		}
		jv_free(k);
	}
	if (rc == 0 && jv_get_kind(f) == JV_KIND_OBJECT) {
		v = bt_jv_get(f, "type");
		k = bt_jv_get(f, "schema");
		rc = -1;
		if (!jv_is_valid(v))
			snprintf(msg, sz, "output_config.format.type: Field required");
		else if (!bt_jv_is(v, "json_schema"))
			snprintf(msg, sz, "output_config.format.type: Input should be 'json_schema'");
		else if (!jv_is_valid(k))
			snprintf(msg, sz, "output_config.format.schema: Field required");
		else if (jv_get_kind(k) != JV_KIND_OBJECT)
			snprintf(msg, sz, "output_config.format.schema: Input should be a valid dictionary");
		else
			rc = 0;
		jv_free(k);
		jv_free(v);
		for (it = jv_object_iter(f); rc == 0 && jv_object_iter_valid(f, it);
		     it = jv_object_iter_next(f, it)) {
			k = jv_object_iter_key(f, it);
			if (!bt_jv_is(k, "type") && !bt_jv_is(k, "schema")) {
				snprintf(msg, sz, "output_config.format.%.100s: Extra inputs are not permitted",
				         jv_string_value(k));
				rc = -1;
			}
			jv_free(k);
		}
	}
	jv_free(e);
	jv_free(f);
	jv_free(c);
	return rc;
}

int check_params(jv p, int batch, char *msg, size_t sz)
{
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		snprintf(msg, sz, "Input should be a valid dictionary");
		return -1;
	}
	if (check_model(p, msg, sz) < 0 || check_messages(p, msg, sz) < 0 ||
	    check_max_tokens(p, msg, sz) < 0 || check_optional(p, batch, msg, sz) < 0 ||
	    check_output_config(p, msg, sz) < 0 || check_answer_schema(p, msg, sz) < 0 ||
	    bt_content_check(p, msg, sz) < 0)   /* media types, base64, sizes */
		return -1;
	return 0;
}

int check_count_params(jv p, char *msg, size_t sz)
{
	jv v;
	int rc;

	if (check_model(p, msg, sz) < 0)
		return -1;
	v = bt_jv_get(p, "messages");
	rc = check_list(v, msg, sz);
	jv_free(v);
	return rc;
}
