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

jv bt_result_response(jv line)
{
	jv msg, content, block, t, text = jv_null(), tool = jv_invalid();
	int i, n, tools = 0;
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
			tools++;
			jv_free(tool);
			tool = jv_object_get(jv_copy(block), jv_string("input"));
		}
		jv_free(t);
		jv_free(block);
	}
	jv_free(content);
	jv_free(msg);
	if (tools == 1 && jv_is_valid(tool)) {
		jv_free(text);
		bt_buf_free(&b);
		return tool;
	}
	jv_free(tool);
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
