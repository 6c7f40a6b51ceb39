/* result.c — one line of the results stream, read by one rule */
#include <string.h>

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

int bt_result_read(jv line, struct bt_result *r, char *err, size_t errsz)
{
	char type[32];
	jv res, x, e;
	int i;

	memset(r, 0, sizeof *r);
	if (jv_get_kind(line) != JV_KIND_OBJECT) {
		snprintf(err, errsz, "not a result (a JSON object)");
		return -1;
	}
	x = jv_object_get(jv_copy(line), jv_string("custom_id"));
	if (jv_get_kind(x) != JV_KIND_STRING ||
	    !bt_custom_id_ok(jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)))) {
		jv_free(x);
		snprintf(err, errsz, "not a result: no valid custom_id");
		return -1;
	}
	strcpy(r->id, jv_string_value(x));     /* at most 64 bytes: checked */
	jv_free(x);
	res = jv_object_get(jv_copy(line), jv_string("result"));
	str(res, "type", type, sizeof type);
	for (i = 0; i < BT_R_MISSING; i++)
		if (!strcmp(type, kinds[i]))
			break;
	if (i == BT_R_MISSING) {
		jv_free(res);
		snprintf(err, errsz, "not a result: result.type is '%s'", type);
		return -1;
	}
	r->kind = i;
	if (r->kind == BT_R_ERRORED) {
		/* the whole error envelope is nested: .result.error.error */
		e = jv_object_get(jv_copy(res), jv_string("error"));
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
	} else if (r->kind == BT_R_SUCCEEDED) {
		x = jv_object_get(jv_copy(res), jv_string("message"));
		str(x, "stop_reason", type, sizeof type);
		r->truncated = !strcmp(type, "max_tokens");
		jv_free(x);
	}
	jv_free(res);
	return 0;
}

jv bt_result_response(jv line, int *ntools)
{
	jv msg, content, block, t, text = jv_null(), tools = jv_array(), first = jv_invalid();
	int i, n, ntool = 0;
	struct bt_buf b = { 0 };

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

int bt_result_wins(int kind, int truncated, int old_kind, int old_truncated)
{
	int rank = kind == BT_R_SUCCEEDED ? 2 - !!truncated : 0;
	int old = old_kind == BT_R_SUCCEEDED ? 2 - !!old_truncated : 0;

	return rank >= old;
}

/* ---- the shape check ---- */

struct peek {
	struct bt_result_peek *p;
	const char *id, *type, *msg, *stop;
	size_t idlen, typelen, msglen, stoplen;
	int deep;
};

static int top(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "custom_id") && *v == '"') {
		c->id = v + 1;
		c->idlen = vn - 2;
	} else if (bt_json_key_is(k, kn, "result") && *v == '{') {
		c->p->result = v;
		c->p->result_len = vn;
	}
	return 0;
}

static int inner(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "type") && *v == '"') {
		c->type = v + 1;
		c->typelen = vn - 2;
	} else if (bt_json_key_is(k, kn, "message") && *v == '{') {
		c->msg = v;
		c->msglen = vn;
	}
	/* the outer scan checked the shape: stop at what is wanted */
	return c->type && (!c->deep || c->msg);
}

static int in_message(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct peek *c = arg;

	if (bt_json_key_is(k, kn, "stop_reason") && *v == '"') {
		c->stop = v + 1;
		c->stoplen = vn - 2;
		return 1;   /* all we want */
	}
	return 0;
}

int bt_result_peek(const char *s, size_t n, int deep, struct bt_result_peek *p,
                   char *err, size_t errsz)
{
	struct peek c;
	char perr[200];
	int k;

	memset(&c, 0, sizeof c);
	memset(p, 0, sizeof *p);
	c.p = p;
	c.deep = deep;
	if (bt_json_members_quick(s, n, top, &c, perr, sizeof perr) < 0) {
		snprintf(err, errsz, "invalid JSON: %s", perr);
		return -1;
	}
	if (c.id && memchr(c.id, '\\', c.idlen)) {
		/* escaped ("a\u0062"): read as its value, as bt_result_read
		 * does, so that every program gives the line one verdict */
		jv v = bt_json_parse(c.id - 1, c.idlen + 2, NULL, 0);
		size_t vn = jv_get_kind(v) == JV_KIND_STRING ?
		            (size_t)jv_string_length_bytes(jv_copy(v)) : 0;
		if (vn && bt_custom_id_ok(jv_string_value(v), vn)) {
			memcpy(p->id, jv_string_value(v), vn);
			p->id[vn] = 0;
			c.idlen = vn;
		} else
			c.id = NULL;
		jv_free(v);
	} else if (c.id && bt_custom_id_ok(c.id, c.idlen)) {
		memcpy(p->id, c.id, c.idlen);
		p->id[c.idlen] = 0;
	} else
		c.id = NULL;
	if (!c.id || !p->result) {
		snprintf(err, errsz, "not a result (custom_id and result)");
		return -1;
	}
	bt_json_members_quick(p->result, p->result_len, inner, &c, NULL, 0);
	for (k = 0; k < BT_R_MISSING; k++)
		if (c.type && strlen(kinds[k]) == c.typelen && !memcmp(kinds[k], c.type, c.typelen))
			break;
	if (k == BT_R_MISSING) {
		snprintf(err, errsz, "not a result: no known result.type");
		return -1;
	}
	p->kind = k;
	if (deep && k == BT_R_SUCCEEDED && c.msg) {
		bt_json_members_quick(c.msg, c.msglen, in_message, &c, NULL, 0);
		p->truncated = c.stop && c.stoplen == 10 && !memcmp(c.stop, "max_tokens", 10);
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

void bt_error_envelope(struct bt_buf *b, const char *type, const char *message,
                       const char *request_id)
{
	bt_buf_adds(b, "{\"type\":\"error\",\"error\":{\"type\":");
	bt_json_write_str(b, type, strlen(type));
	bt_buf_adds(b, ",\"message\":");
	bt_json_write_str(b, message, strlen(message));
	bt_buf_adds(b, "},\"request_id\":");
	if (request_id && *request_id)
		bt_json_write_str(b, request_id, strlen(request_id));
	else
		bt_buf_adds(b, "null");
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
