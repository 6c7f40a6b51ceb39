/* result.c — one line of the results stream, read by one rule */
#include <string.h>
#include <unistd.h>

#include "bt.h"

static const char *kinds[] = { "succeeded", "errored", "canceled", "expired", "missing" };

const char *bt_result_kind_name(int kind)
{
	return kind >= 0 && kind <= BT_R_MISSING ? kinds[kind] : "unknown";
}

static void str(jv v, const char *key, char *out, size_t outsz)
{
	jv x = jv_get_kind(v) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(v), jv_string(key)) : jv_invalid();

	snprintf(out, outsz, "%s", jv_get_kind(x) == JV_KIND_STRING ? jv_string_value(x) : "");
	jv_free(x);
}

/* An OpenAI line's error (line borrowed): a refused request's
 * response.body.error, or a request never run's error. */
static void openai_error(jv line, const struct bt_result_peek *p, struct bt_result *r)
{
	jv resp = bt_jv_get(line, "response"), body = bt_jv_get(resp, "body"), e;

	if (r->kind != BT_R_ERRORED) {
		jv_free(body);
		jv_free(resp);
		return;
	}
	e = p->status ? bt_jv_get(body, "error") : bt_jv_get(line, "error");
	/* the code says most ("rate_limit_exceeded" where the type is
	 * "requests"); many errors have none, and their type says */
	str(e, "code", r->type, sizeof r->type);
	if (!r->type[0])
		str(e, "type", r->type, sizeof r->type);
	if (!r->type[0] && p->status)
		snprintf(r->type, sizeof r->type, "http_%d", p->status);
	if (!r->type[0])
		snprintf(r->type, sizeof r->type, "unknown_error");
	str(e, "message", r->message, sizeof r->message);
	/* no response at all (bt-send gave up on the transport): as its
	 * code says */
	r->retryable = p->status ? bt_status_retryable(p->status) : bt_error_retryable(r->type);
	jv_free(e);
	jv_free(body);
	jv_free(resp);
}

int bt_result_read(const char *s, size_t n, struct bt_result *r, jv *linep,
                   char *err, size_t errsz)
{
	struct bt_result_peek p;
	char perr[200];
	jv line, res, x, e;

	memset(r, 0, sizeof *r);
	if (linep)
		*linep = jv_invalid();
	/* the verdict is the shape check's, the one every reader gives */
	if (bt_result_peek(s, n, 1, &p, err, errsz) < 0)
		return -1;
	line = bt_json_parse(s, n, perr, sizeof perr);
	if (!jv_is_valid(line)) {
		jv_free(line);
		snprintf(err, errsz, "invalid JSON: %s", perr);
		return -1;
	}
	memcpy(r->id, p.id, sizeof r->id);
	r->kind = p.kind;
	r->truncated = p.truncated;
	r->dialect = p.dialect;
	r->cached = p.cached;
	if (p.dialect == BT_DIALECT_OPENAI)
		openai_error(line, &p, r);
	else if (r->kind == BT_R_ERRORED) {
		/* the whole error envelope is nested: .result.error.error */
		res = jv_object_get(jv_copy(line), jv_string("result"));
		e = jv_get_kind(res) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(res), jv_string("error")) : jv_invalid();
		x = jv_get_kind(e) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(e), jv_string("error")) : jv_invalid();
		if (jv_get_kind(x) != JV_KIND_OBJECT) {     /* tolerate a flat one */
			jv_free(x);
			x = jv_copy(e);
		}
		str(x, "type", r->type, sizeof r->type);
		str(x, "message", r->message, sizeof r->message);
		if (!r->type[0])
			snprintf(r->type, sizeof r->type, "unknown_error");
		jv_free(x);
		jv_free(e);
		jv_free(res);
		r->retryable = bt_error_retryable(r->type);
	}
	if (linep)
		*linep = line;
	else
		jv_free(line);
	return 0;
}

/* The parsed arguments of a tool call (borrowed), or an invalid jv with
 * the parser's message. */
static jv arguments(jv call)
{
	char perr[200];
	jv f = bt_jv_get(call, "function"), a = bt_jv_get(f, "arguments"), v;

	if (jv_get_kind(a) == JV_KIND_STRING)
		v = bt_json_parse(jv_string_value(a), (size_t)jv_string_length_bytes(jv_copy(a)),
		                  perr, sizeof perr);
	else
		v = jv_invalid_with_msg(jv_string("function.arguments is not a string"));
	if (!jv_is_valid(v) && !jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		v = jv_invalid_with_msg(jv_string(perr));
	}
	jv_free(a);
	jv_free(f);
	return v;
}

/* OpenAI's answer: bt_result_response's, for a body. */
static jv openai_response(jv line, int *ntools)
{
	jv resp = bt_jv_get(line, "response"), body = bt_jv_get(resp, "body");
	jv data = bt_jv_get(body, "data"), x, msg, calls, out = jv_null();
	int i, n;

	jv_free(resp);
	if (ntools)
		*ntools = 0;
	if (jv_get_kind(data) == JV_KIND_ARRAY && jv_array_length(jv_copy(data)) > 0) {
		x = jv_array_get(jv_copy(data), 0);     /* an embedding */
		out = bt_jv_get(x, "embedding");
		jv_free(x);
		if (!jv_is_valid(out))
			out = jv_null();
		jv_free(data);
		jv_free(body);
		return out;
	}
	jv_free(data);
	x = bt_jv_get(body, "choices");
	msg = jv_get_kind(x) == JV_KIND_ARRAY && jv_array_length(jv_copy(x)) > 0 ?
	      jv_array_get(jv_copy(x), 0) : jv_invalid();
	jv_free(x);
	x = bt_jv_get(msg, "message");
	jv_free(msg);
	calls = bt_jv_get(x, "tool_calls");
	n = jv_get_kind(calls) == JV_KIND_ARRAY ? jv_array_length(jv_copy(calls)) : 0;
	if (n == 1) {
		jv c = jv_array_get(jv_copy(calls), 0);
		jv_free(out);
		out = arguments(c);
		jv_free(c);
	} else if (n > 1) {
		jv_free(out);
		out = jv_array();
		for (i = 0; i < n; i++) {
			jv c = jv_array_get(jv_copy(calls), i), a = arguments(c);
			out = jv_array_append(out, jv_is_valid(a) ? a : (jv_free(a), jv_null()));
			jv_free(c);
		}
	} else {
		jv_free(out);
		out = bt_jv_get(x, "content");
		if (jv_get_kind(out) != JV_KIND_STRING) {
			jv_free(out);
			out = jv_null();
		}
	}
	if (ntools)
		*ntools = n;
	jv_free(calls);
	jv_free(x);
	jv_free(body);
	return out;
}

jv bt_result_response(jv line, int *ntools)
{
	jv msg, content, block, t, text = jv_null(), tools = jv_array(), first = jv_invalid();
	int i, n, ntool = 0;
	struct bt_buf b = { 0 };

	if (jv_get_kind(line) == JV_KIND_OBJECT && jv_object_has(jv_copy(line), jv_string("response")) &&
	    !jv_object_has(jv_copy(line), jv_string("result"))) {
		jv_free(text);
		jv_free(tools);
		return openai_response(line, ntools);
	}
	msg = jv_get_kind(line) == JV_KIND_OBJECT ?
	      jv_object_get(jv_copy(line), jv_string("result")) : jv_invalid();
	msg = jv_get_kind(msg) == JV_KIND_OBJECT ?
	      jv_object_get(msg, jv_string("message")) : (jv_free(msg), jv_invalid());
	content = jv_get_kind(msg) == JV_KIND_OBJECT ?
	          jv_object_get(jv_copy(msg), jv_string("content")) : jv_invalid();
	n = jv_get_kind(content) == JV_KIND_ARRAY ? jv_array_length(jv_copy(content)) : 0;
	for (i = 0; i < n; i++) {
		block = jv_array_get(jv_copy(content), i);
		t = jv_get_kind(block) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(block), jv_string("type")) : jv_invalid();
		if (jv_get_kind(t) == JV_KIND_STRING && !strcmp(jv_string_value(t), "text")) {
			jv x = jv_object_get(jv_copy(block), jv_string("text"));
			if (jv_get_kind(x) == JV_KIND_STRING) {
				bt_buf_add(&b, jv_string_value(x),
				           (size_t)jv_string_length_bytes(jv_copy(x)));
				if (jv_get_kind(text) == JV_KIND_NULL)
					text = jv_true();   /* there is text, maybe empty */
			}
			jv_free(x);
		} else if (jv_get_kind(t) == JV_KIND_STRING &&
		           !strcmp(jv_string_value(t), "tool_use")) {
			jv x = jv_object_get(jv_copy(block), jv_string("input"));
			if (!ntool++)
				first = jv_copy(x);
			/* a block without an input: null in its place */
			tools = jv_array_append(tools, jv_is_valid(x) ? x : (jv_free(x), jv_null()));
		}
		jv_free(t);
		jv_free(block);
	}
	jv_free(content);
	jv_free(msg);
	if (ntools)
		*ntools = ntool;
	if (ntool > 1 || (ntool == 1 && jv_is_valid(first))) {
		jv_free(text);
		bt_buf_free(&b);
		if (ntool > 1) {
			jv_free(first);
			return tools;
		}
		jv_free(tools);
		return first;
	}
	jv_free(first);
	jv_free(tools);
	if (jv_get_kind(text) == JV_KIND_TRUE) {
		text = jv_string_sized(b.p ? b.p : "", (int)b.len);
		bt_buf_free(&b);
		return text;
	}
	bt_buf_free(&b);
	return text;
}

int bt_error_retryable(const char *type)
{
	return !strcmp(type, "api_error") || !strcmp(type, "overloaded_error") ||
	       !strcmp(type, "rate_limit_error") || !strcmp(type, "timeout_error");
}

int bt_status_retryable(long status)
{
	return status == 408 || status == 409 || status == 429 || status >= 500;
}

const char *bt_dialect_name(int dialect)
{
	return dialect == BT_DIALECT_OPENAI ? "OpenAI" : "Anthropic";
}

const char *bt_result_limit(int dialect)
{
	return dialect == BT_DIALECT_OPENAI ? "max_completion_tokens" : "max_tokens";
}

jv bt_result_stop(jv line)
{
	jv x, m, stop;

	if (jv_get_kind(line) == JV_KIND_OBJECT && jv_object_has(jv_copy(line), jv_string("response")) &&
	    !jv_object_has(jv_copy(line), jv_string("result"))) {
		x = bt_jv_get(line, "response");
		m = bt_jv_get(x, "body");
		jv_free(x);
		x = bt_jv_get(m, "choices");
		jv_free(m);
		m = jv_get_kind(x) == JV_KIND_ARRAY && jv_array_length(jv_copy(x)) > 0 ?
		    jv_array_get(jv_copy(x), 0) : jv_invalid();
		stop = bt_jv_get(m, "finish_reason");
	} else {
		x = bt_jv_get(line, "result");
		m = bt_jv_get(x, "message");
		stop = bt_jv_get(m, "stop_reason");
	}
	jv_free(x);
	jv_free(m);
	if (jv_get_kind(stop) == JV_KIND_STRING)
		return stop;
	jv_free(stop);
	return jv_null();
}

int bt_result_wins(int kind, int truncated, int old_kind, int old_truncated)
{
	int rank = kind == BT_R_SUCCEEDED ? 2 - !!truncated : 0;
	int old = old_kind == BT_R_SUCCEEDED ? 2 - !!old_truncated : 0;

	return rank >= old;
}

/* ---- the shape check ----
 *
 * One verdict for every reader: members are taken as a JSON reader takes
 * them (a key or a string value with its escapes undone, the last of a
 * repeated key), so that "a\u0062" is the custom_id "ab" here as it is
 * to jq. */

struct peek {
	struct bt_result_peek *p;
	const char *id, *type, *msg, *stop;     /* string values, quotes and all */
	size_t idlen, typelen, msglen, stoplen;
	int deep;
	const char *resp, *error;               /* OpenAI: their values' text */
	size_t resplen, errorlen;
	int has_resp;
};

static int top(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "custom_id")) {
		c->id = *v == '"' ? v : NULL;
		c->idlen = vn;
	} else if (bt_json_key_is(k, kn, "result")) {
		c->p->result = *v == '{' ? v : NULL;
		c->p->result_len = vn;
	} else if (bt_json_key_is(k, kn, "response")) {
		c->has_resp = 1;
		c->resp = v;
		c->resplen = vn;
	} else if (bt_json_key_is(k, kn, "error")) {
		c->error = v;
		c->errorlen = vn;
	} else if (bt_json_key_is(k, kn, "bt_cached"))
		c->p->cached = *v == '{';
	else if (bt_json_key_is(k, kn, "id")) {
		c->p->line_id = *v == '"' ? v : NULL;
		c->p->line_id_len = vn;
	}
	return 0;
}

static int inner(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "type")) {
		c->type = *v == '"' ? v : NULL;
		c->typelen = vn;
	} else if (bt_json_key_is(k, kn, "message")) {
		c->msg = *v == '{' ? v : NULL;
		c->msglen = vn;
	}
	return 0;
}

static int in_message(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "stop_reason")) {
		c->stop = *v == '"' ? v : NULL;
		c->stoplen = vn;
	}
	return 0;
}

/* The JSON string v[0..vn) (quotes and all) as text in out[0..outsz):
 * its length, or -1 when it is longer than outsz - 1 bytes or not a
 * string.  Escapes undone, bad UTF-8 made U+FFFD: as jq reads it. */
static long string_value(const char *v, size_t vn, char *out, size_t outsz)
{
	size_t len;
	jv x;

	if (!v || vn < 2)
		return -1;
	if (!memchr(v, '\\', vn)) {
		/* plain: the bytes are the text, but for bad UTF-8 */
		len = vn - 2;
		if (len >= outsz || bt_utf8_valid(v + 1, len) != len)
			goto parse;
		memcpy(out, v + 1, len);
		out[len] = 0;
		return (long)len;
	}
parse:
	x = bt_json_parse(v, vn, NULL, 0);
	if (jv_get_kind(x) != JV_KIND_STRING ||
	    (size_t)jv_string_length_bytes(jv_copy(x)) >= outsz) {
		jv_free(x);
		return -1;
	}
	len = (size_t)jv_string_length_bytes(jv_copy(x));
	memcpy(out, jv_string_value(x), len);
	out[len] = 0;
	jv_free(x);
	return (long)len;
}

/* ---- OpenAI's lines (the dialect) ---- */

struct oa {
	const char *status, *body, *code, *choices, *finish;
	size_t statuslen, bodylen, codelen, choiceslen, finishlen;
	int deep;               /* the body is wanted too */
};

static int in_response(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct oa *o = arg;

	if (bt_json_key_is(k, kn, "status_code")) {
		o->status = v;
		o->statuslen = vn;
		/* the line's shape was checked whole before: no need to
		 * read on for a status alone */
		return !o->deep;
	} else if (bt_json_key_is(k, kn, "body")) {
		o->body = *v == '{' ? v : NULL;
		o->bodylen = vn;
	}
	return 0;
}

static int in_oa_error(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct oa *o = arg;

	if (bt_json_key_is(k, kn, "code")) {
		o->code = *v == '"' ? v : NULL;
		o->codelen = vn;
	}
	return 0;
}

static int in_body(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct oa *o = arg;

	if (bt_json_key_is(k, kn, "choices")) {
		o->choices = *v == '[' ? v : NULL;
		o->choiceslen = vn;
	}
	return 0;
}

static int in_choice(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct oa *o = arg;

	if (bt_json_key_is(k, kn, "finish_reason")) {
		o->finish = *v == '"' ? v : NULL;
		o->finishlen = vn;
	}
	return 0;
}

/* Whether the chat.completion body[0..n) was cut: choices[0].finish_reason
 * is "length". */
static int cut_short(struct oa *o, const char *body, size_t n)
{
	char why[16];
	size_t i, len;

	bt_json_members_quick(body, n, in_body, o, NULL, 0);
	if (!o->choices)
		return 0;
	for (i = 1; i < o->choiceslen && strchr(" \t\r\n", o->choices[i]); i++)
		;
	if (i >= o->choiceslen || o->choices[i] != '{')
		return 0;
	len = bt_json_skip(o->choices + i, o->choiceslen - i, NULL, 0);
	bt_json_members_quick(o->choices + i, len, in_choice, o, NULL, 0);
	return string_value(o->finish, o->finishlen, why, sizeof why) == 6 &&
	       !strcmp(why, "length");
}

/* An HTTP status as JSON writes it: 100 to 599; else -1. */
static long status_of(const char *v, size_t vn)
{
	long st = 0;
	size_t i;

	if (!v || vn != 3)
		return -1;
	for (i = 0; i < 3; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		st = st * 10 + (v[i] - '0');
	}
	return st >= 100 && st <= 599 ? st : -1;
}

static int openai_peek(struct peek *c, struct bt_result_peek *p, int deep,
                       char *err, size_t errsz)
{
	struct oa o;
	char code[BT_QUOTE_MAX + 1];
	long len;

	memset(&o, 0, sizeof o);
	o.deep = deep;
	p->dialect = BT_DIALECT_OPENAI;
	if (*c->resp == '{') {
		bt_json_members_quick(c->resp, c->resplen, in_response, &o, NULL, 0);
		if ((p->status = (int)status_of(o.status, o.statuslen)) < 0) {
			snprintf(err, errsz, "not a result: response.status_code is not an HTTP status");
			return -1;
		}
		p->result = c->resp;
		p->result_len = c->resplen;
		p->kind = p->status >= 200 && p->status < 300 ? BT_R_SUCCEEDED : BT_R_ERRORED;
		if (deep && p->kind == BT_R_SUCCEEDED && o.body)
			p->truncated = cut_short(&o, o.body, o.bodylen);
		return 0;
	}
	if (*c->resp != 'n' || !c->error || *c->error != '{') {
		snprintf(err, errsz, "not a result: response is not an object, "
		         "nor null with an error object");
		return -1;
	}
	bt_json_members_quick(c->error, c->errorlen, in_oa_error, &o, NULL, 0);
	len = string_value(o.code, o.codelen, code, sizeof code);
	p->result = c->error;
	p->result_len = c->errorlen;
	p->kind = len < 0 ? BT_R_ERRORED : !strcmp(code, "batch_expired") ? BT_R_EXPIRED :
	          !strcmp(code, "batch_cancelled") ? BT_R_CANCELED : BT_R_ERRORED;
	return 0;
}

int bt_result_peek(const char *s, size_t n, int deep, struct bt_result_peek *p,
                   char *err, size_t errsz)
{
	struct peek c;
	char perr[200], type[BT_QUOTE_MAX + 1], q[BT_QUOTE_SIZE];
	size_t i;
	long len;
	int k;

	memset(&c, 0, sizeof c);
	memset(p, 0, sizeof *p);
	c.p = p;
	c.deep = deep;
	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i < n && s[i] != '{' && bt_json_skip(s, n, NULL, 0) == n) {
		snprintf(err, errsz, "not a result (a JSON object)");
		return -1;
	}
	if (bt_json_members_quick(s, n, top, &c, perr, sizeof perr) < 0) {
		snprintf(err, errsz, "invalid JSON: %s", perr);
		return -1;
	}
	len = string_value(c.id, c.idlen, p->id, sizeof p->id);
	if (len < 0 || !bt_custom_id_ok(p->id, (size_t)len)) {
		snprintf(err, errsz, "not a result: no valid custom_id");
		return -1;
	}
	if (!p->result && c.has_resp)
		return openai_peek(&c, p, deep, err, errsz);
	if (!p->result) {
		snprintf(err, errsz, "not a result: no result object");
		return -1;
	}
	bt_json_members_quick(p->result, p->result_len, inner, &c, NULL, 0);
	len = string_value(c.type, c.typelen, type, sizeof type);
	for (k = 0; k < BT_R_MISSING; k++)
		if (len >= 0 && !strcmp(kinds[k], type))
			break;
	if (k == BT_R_MISSING) {
		if (len >= 0)
			snprintf(err, errsz, "not a result: result.type is '%s'",
			         bt_quote(q, type, (size_t)len));
		else
			snprintf(err, errsz, "not a result: no known result.type");
		return -1;
	}
	p->kind = k;
	if (deep && k == BT_R_SUCCEEDED && c.msg) {
		bt_json_members_quick(c.msg, c.msglen, in_message, &c, NULL, 0);
		p->truncated = string_value(c.stop, c.stoplen, type, sizeof type) == 10 &&
		               !strcmp(type, "max_tokens");
	}
	return 0;
}

/* ---- writing result lines ---- */

void bt_result_write(struct bt_buf *b, const char *id, size_t idlen, int kind,
                     const char *json, size_t n)
{
	bt_buf_adds(b, "{\"custom_id\":");
	bt_json_write_str(b, id, idlen);
	bt_buf_adds(b, ",\"result\":{\"type\":\"");
	bt_buf_adds(b, kinds[kind]);
	bt_buf_addc(b, '"');
	if (kind == BT_R_SUCCEEDED || kind == BT_R_ERRORED) {
		bt_buf_adds(b, kind == BT_R_SUCCEEDED ? ",\"message\":" : ",\"error\":");
		bt_buf_add(b, json, n);
	}
	bt_buf_adds(b, "}}\n");
}

void bt_answer_write(struct bt_buf *b, int dialect, const char *id, size_t idlen,
                     int kind, long status, const char *request_id,
                     const char *json, size_t n)
{
	static unsigned long long seq;

	if (dialect != BT_DIALECT_OPENAI) {
		bt_result_write(b, id, idlen, kind, json, n);
		return;
	}
	/* not "batch_req_": bt-cost prices it at the standard rate */
	bt_buf_printf(b, "{\"id\":\"sync_req_%llu_%ld\",\"custom_id\":", ++seq, (long)getpid());
	bt_json_write_str(b, id, idlen);
	if (status > 0) {
		bt_buf_printf(b, ",\"response\":{\"status_code\":%ld,\"request_id\":", status);
		bt_json_write_cstr(b, request_id && *request_id ? request_id : NULL);
		bt_buf_adds(b, ",\"body\":");
		bt_buf_add(b, json, n);
		bt_buf_adds(b, "},\"error\":null}\n");
	} else {
		bt_buf_adds(b, ",\"response\":null,\"error\":");
		bt_buf_add(b, json, n);
		bt_buf_adds(b, "}\n");
	}
}

void bt_result_write_cached(struct bt_buf *b, int dialect, const char *id, size_t idlen,
                            const char *line_id, const char *answer, size_t n,
                            const char *key_hex, const char *stored_at)
{
	bt_buf_addc(b, '{');
	if (dialect == BT_DIALECT_OPENAI) {
		bt_buf_adds(b, "\"id\":");
		bt_json_write_cstr(b, line_id);
		bt_buf_addc(b, ',');
	}
	bt_buf_adds(b, "\"custom_id\":");
	bt_json_write_str(b, id, idlen);
	bt_buf_adds(b, dialect == BT_DIALECT_OPENAI ? ",\"response\":" : ",\"result\":");
	bt_buf_add(b, answer, n);
	if (dialect == BT_DIALECT_OPENAI)
		bt_buf_adds(b, ",\"error\":null");
	bt_buf_adds(b, ",\"bt_cached\":{\"key\":");
	bt_json_write_str(b, key_hex, strlen(key_hex));
	bt_buf_adds(b, ",\"stored_at\":");
	bt_json_write_str(b, stored_at, strlen(stored_at));
	bt_buf_adds(b, "}}\n");
}

void bt_error_envelope_of(struct bt_buf *b, int dialect, int with_status, const char *type,
                          const char *message, const char *request_id)
{
	if (dialect != BT_DIALECT_OPENAI) {
		bt_error_envelope(b, type, message, request_id);
		return;
	}
	if (!with_status) {     /* a line's error: {code, message} */
		bt_buf_adds(b, "{\"code\":");
		bt_json_write_str(b, type, strlen(type));
		bt_buf_adds(b, ",\"message\":");
		bt_json_write_str(b, message, strlen(message));
		bt_buf_addc(b, '}');
		return;
	}
	bt_buf_adds(b, "{\"error\":{\"message\":");
	bt_json_write_str(b, message, strlen(message));
	bt_buf_adds(b, ",\"type\":");
	bt_json_write_str(b, type, strlen(type));
	bt_buf_adds(b, ",\"param\":null,\"code\":null}}");
}

void bt_error_envelope(struct bt_buf *b, const char *type, const char *message,
                       const char *request_id)
{
	bt_buf_adds(b, "{\"type\":\"error\",\"error\":{\"type\":");
	bt_json_write_str(b, type, strlen(type));
	bt_buf_adds(b, ",\"message\":");
	bt_json_write_str(b, message, strlen(message));
	bt_buf_adds(b, "},\"request_id\":");
	bt_json_write_cstr(b, request_id && *request_id ? request_id : NULL);
	bt_buf_addc(b, '}');
}

const char *bt_error_type_of(long status)
{
	switch (status) {
	case 400: return "invalid_request_error";
	case 401: return "authentication_error";
	case 402: return "billing_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 408: case 504: return "timeout_error";
	case 413: return "request_too_large";
	case 429: return "rate_limit_error";
	case 529: return "overloaded_error";
	}
	return "api_error";
}

/* ---- OpenAI's usage, for bt-cost ---- */

int bt_usage_count(jv usage, const char *path, const char *key, int required,
                    long long *out, char *err, size_t errsz)
{
	jv x = bt_jv_get(usage, key);
	double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;
	int none = !jv_is_valid(x) || jv_get_kind(x) == JV_KIND_NULL;

	jv_free(x);
	*out = 0;
	if (none && !required)
		return 0;
	if (!(d >= 0 && d <= 9007199254740992.0 && (long long)d == d)) {
		snprintf(err, errsz, "%s.%s: %s", path, key,
		         none ? "missing" : "not a whole number 0 or more");
		return -1;
	}
	*out = (long long)d;
	return 0;
}

int bt_result_usage_openai(jv line, jv *model, long long t[5], int *tier,
                           jv *answer_id, char *err, size_t errsz)
{
	jv resp = bt_jv_get(line, "response"), body = bt_jv_get(resp, "body");
	jv usage = bt_jv_get(body, "usage"), det = bt_jv_get(usage, "prompt_tokens_details");
	jv id = bt_jv_get(line, "id");
	long long cached = 0;
	int rc = -1, i;

	for (i = 0; i < BT_TOKENS; i++)
		t[i] = 0;
	*model = bt_jv_get(body, "model");
	*answer_id = bt_jv_get(body, "id");
	*tier = jv_get_kind(id) == JV_KIND_STRING &&
	        !strncmp(jv_string_value(id), "batch_req_", 10) ? BT_TIER_BATCH : BT_TIER_STANDARD;
	if (jv_get_kind(*answer_id) != JV_KIND_STRING) {
		jv_free(*answer_id);
		*answer_id = jv_get_kind(id) == JV_KIND_STRING ? jv_copy(id) : jv_null();
	}
	if (jv_get_kind(*model) != JV_KIND_STRING)
		snprintf(err, errsz, "a succeeded result without response.body.model");
	else if (jv_get_kind(usage) != JV_KIND_OBJECT)
		snprintf(err, errsz, "a succeeded result without response.body.usage");
	else if (bt_usage_count(usage, "response.body.usage", "prompt_tokens", 1, &t[BT_TOK_IN], err, errsz) ||
	         bt_usage_count(usage, "response.body.usage", "completion_tokens", 0, &t[BT_TOK_OUT], err, errsz) ||
	         bt_usage_count(det, "response.body.usage.prompt_tokens_details", "cached_tokens", 0,
	                  &cached, err, errsz))
		;
	else if (cached > t[BT_TOK_IN])
		snprintf(err, errsz, "response.body.usage.prompt_tokens_details.cached_tokens: "
		         "more than prompt_tokens");
	else {
		/* prompt_tokens counts the cached ones: they are billed at their own rate */
		t[BT_TOK_IN] -= cached;
		t[BT_TOK_READ] = cached;
		rc = 0;
	}
	jv_free(id);
	jv_free(det);
	jv_free(usage);
	jv_free(body);
	jv_free(resp);
	return rc;
}

/* ---- a request line's shape: the request side's reader ---------------- */

int bt_request_dialect(const char *s, size_t n, char id[BT_ID_MAX + 1],
                       char *err, size_t errsz)
{
	struct bt_request r;

	if (bt_request_read(s, n, &r, err, errsz) < 0)
		return -1;
	memcpy(id, r.id, BT_ID_MAX + 1);
	return r.provider == BT_PROVIDER_OPENAI ? BT_DIALECT_OPENAI : BT_DIALECT_ANTHROPIC;
}
