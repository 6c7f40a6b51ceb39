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
	if (r->kind == BT_R_ERRORED) {
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
	}
	if (linep)
		*linep = line;
	else
		jv_free(line);
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
