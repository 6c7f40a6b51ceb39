/* ochat.c — the OpenAI side's fake model: chat completions that echo the
 * last user message as model.c's Messages do (JSON by a schema from
 * schema.c when one is asked for), deterministic embeddings, and the two
 * synchronous endpoints */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define EMBED_DIMS      8       /* dimensions of a vector, unless asked */
#define EMBED_MAX_DIMS  4096

static long long ceil4(size_t n)
{
	return (long long)((n + 3) / 4);
}

void oerror_body(struct bt_buf *o, const char *msg, const char *type,
                 const char *param, const char *code)
{
	bt_buf_adds(o, "{\"error\":{\"message\":");
	bt_json_write_str(o, msg, strlen(msg));
	bt_buf_adds(o, ",\"type\":");
	bt_json_write_str(o, type, strlen(type));
	bt_buf_adds(o, ",\"param\":");
	bt_json_write_cstr(o, param);
	bt_buf_adds(o, ",\"code\":");
	bt_json_write_cstr(o, code);
	bt_buf_adds(o, "}}");
}

/* ---- the text of a request ------------------------------------------------ */

/* The text of content c (a string, or parts of type text joined by
 * newlines) appended to r. */
static void content_text(jv c, struct bt_buf *r)
{
	jv part, v;
	int j, n, first = 1;

	if (jv_get_kind(c) == JV_KIND_STRING) {
		bt_buf_add(r, jv_string_value(c), (size_t)jv_string_length_bytes(jv_copy(c)));
		return;
	}
	if (jv_get_kind(c) != JV_KIND_ARRAY)
		return;
	n = jv_array_length(jv_copy(c));
	for (j = 0; j < n; j++) {
		part = jv_array_get(jv_copy(c), j);
		v = bt_jv_get(part, "text");
		if (jv_get_kind(v) == JV_KIND_STRING) {
			if (!first)
				bt_buf_addc(r, '\n');
			first = 0;
			bt_buf_add(r, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		}
		jv_free(v);
		jv_free(part);
	}
}

/* The last user message's text into r (last), and the bytes of all
 * messages' text (the prompt, for its tokens). */
static size_t messages_text(jv body, struct bt_buf *last)
{
	struct bt_buf all = { 0 };
	jv msgs, m, role, c;
	int i, n, found = 0;
	size_t total;

	msgs = bt_jv_get(body, "messages");
	n = jv_get_kind(msgs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(msgs)) : 0;
	for (i = n - 1; i >= 0; i--) {
		m = jv_array_get(jv_copy(msgs), i);
		role = bt_jv_get(m, "role");
		c = bt_jv_get(m, "content");
		content_text(c, &all);
		if (!found && bt_jv_is(role, "user")) {
			content_text(c, last);
			found = 1;
		}
		jv_free(c);
		jv_free(role);
		jv_free(m);
	}
	jv_free(msgs);
	total = all.len;
	bt_buf_free(&all);
	return total;
}

/* ---- the shape of an answer -------------------------------------------------- */


/* The shape: a forced function (tool_choice naming one, or "required":
 * the first), else response_format json_schema (or json_object), else
 * text.  Free with shape_free. */
static void oshape_of(jv body, struct shape *sh)
{
	jv tc, tools, t, f, x;
	int i, n;

	memset(sh, 0, sizeof *sh);
	sh->name = jv_invalid();
	sh->schema = jv_invalid();
	tc = bt_jv_get(body, "tool_choice");
	tools = bt_jv_get(body, "tools");
	n = jv_get_kind(tools) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tools)) : 0;
	t = bt_jv_get(tc, "type");
	if (n > 0 && bt_jv_is(t, "function")) {
		f = bt_jv_get(tc, "function");
		sh->name = bt_jv_get(f, "name");
		jv_free(f);
	} else if (n > 0 && bt_jv_is(tc, "required")) {
		x = jv_array_get(jv_copy(tools), 0);
		f = bt_jv_get(x, "function");
		sh->name = bt_jv_get(f, "name");
		jv_free(f);
		jv_free(x);
	}
	jv_free(t);
	if (jv_get_kind(sh->name) == JV_KIND_STRING) {
		sh->kind = SHAPE_TOOL;
		for (i = 0; i < n && !jv_is_valid(sh->schema); i++) {
			x = jv_array_get(jv_copy(tools), i);
			f = bt_jv_get(x, "function");
			t = bt_jv_get(f, "name");
			if (jv_equal(t, jv_copy(sh->name))) {
				sh->schema = bt_jv_get(f, "parameters");
				snprintf(sh->where, sizeof sh->where, "tools.%d.function.parameters", i);
			}
			jv_free(f);
			jv_free(x);
		}
	} else {
		jv_free(sh->name);
		sh->name = jv_invalid();
		f = bt_jv_get(body, "response_format");
		t = bt_jv_get(f, "type");
		if (bt_jv_is(t, "json_schema")) {
			sh->kind = SHAPE_FORMAT;
			x = bt_jv_get(f, "json_schema");
			sh->schema = bt_jv_get(x, "schema");
			jv_free(x);
			snprintf(sh->where, sizeof sh->where, "response_format.json_schema.schema");
		} else if (bt_jv_is(t, "json_object"))
			sh->kind = SHAPE_FORMAT;
		jv_free(t);
		jv_free(f);
	}
	sh->open = sh->kind != SHAPE_PLAIN && schema_open(sh->schema);
	jv_free(tc);
	jv_free(tools);
}


/* The answer into a: the reply r, {"text":r} for a schema that leaves the
 * object open, or a value that follows the schema.  0, or -1 with msg. */
static int oanswer(const struct shape *sh, const struct bt_buf *r, struct bt_buf *a,
                   char *msg, size_t sz)
{
	if (shape_answer(sh, r, a, NULL, msg, sz) < 0)
		return -1;
	if (sh->kind == SHAPE_TOOL && (!a->len || a->p[0] != '{')) {
		snprintf(msg, sz, "%s: a function's parameters are an object: give it "
		         "\"type\": \"object\"", sh->where);
		return -1;
	}
	return 0;
}

/* ---- checks --------------------------------------------------------------------- */

/* The most bytes an answer may have: max_completion_tokens (or
 * max_tokens) x 4; -1 when neither is given. */
static double max_bytes(jv body)
{
	jv m = bt_jv_get(body, "max_completion_tokens");
	double v = -1;

	if (jv_get_kind(m) != JV_KIND_NUMBER) {
		jv_free(m);
		m = bt_jv_get(body, "max_tokens");
	}
	if (jv_get_kind(m) == JV_KIND_NUMBER)
		v = jv_number_value(m) * 4;
	jv_free(m);
	return v;
}

/* 0 when body[key] is a string (non-empty), else -1 with the message. */
static int need_string(jv body, const char *key, char *msg, size_t sz, const char **param)
{
	jv v = bt_jv_get(body, key);
	int ok = jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) > 0;

	jv_free(v);
	if (ok)
		return 0;
	snprintf(msg, sz, "Missing required parameter: '%s'.", key);
	*param = key;
	return -1;
}

/* 0 when body[key] is absent or a whole number at least 1. */
static int positive(jv body, const char *key, char *msg, size_t sz, const char **param)
{
	jv v = bt_jv_get(body, key);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;
	int ok = !jv_is_valid(v) || (jv_get_kind(v) == JV_KIND_NUMBER && d >= 1 &&
	                             d == floor(d) && d < 1e9);

	jv_free(v);
	if (ok)
		return 0;
	snprintf(msg, sz, "Invalid '%s': expected an integer at least 1.", key);
	*param = key;
	return -1;
}

int chat_check(jv body, int batch, char *msg, size_t sz, const char **param)
{
	struct shape sh;
	struct bt_buf r = { 0 }, a = { 0 };
	jv v;
	int rc = 0;

	*param = NULL;
	if (need_string(body, "model", msg, sz, param) < 0)
		return -1;
	v = bt_jv_get(body, "messages");
	if (jv_get_kind(v) != JV_KIND_ARRAY || jv_array_length(jv_copy(v)) == 0) {
		snprintf(msg, sz, jv_is_valid(v) ? "Invalid 'messages': empty array. Expected "
		         "an array with minimum length 1." : "Missing required parameter: "
		         "'messages'.");
		*param = "messages";
		jv_free(v);
		return -1;
	}
	jv_free(v);
	if (positive(body, "max_completion_tokens", msg, sz, param) < 0 ||
	    positive(body, "max_tokens", msg, sz, param) < 0)
		return -1;
	v = bt_jv_get(body, "stream");
	if (batch && jv_get_kind(v) == JV_KIND_TRUE) {
		snprintf(msg, sz, "Streaming is not supported in a batch.");
		*param = "stream";
		rc = -1;
	}
	jv_free(v);
	if (rc < 0)
		return -1;
	oshape_of(body, &sh);
	if (sh.kind == SHAPE_TOOL && !jv_is_valid(sh.schema) && !jv_is_valid(sh.name))
		sh.kind = SHAPE_PLAIN;
	if (oanswer(&sh, &r, &a, msg, sz) < 0) {
		*param = sh.kind == SHAPE_TOOL ? "tools" : "response_format";
		rc = -1;
	}
	shape_free(&sh);
	bt_buf_free(&r);
	bt_buf_free(&a);
	return rc;
}

int embed_check(jv body, char *msg, size_t sz, const char **param)
{
	jv v, x;
	int i, n, ok;

	*param = NULL;
	if (need_string(body, "model", msg, sz, param) < 0)
		return -1;
	v = bt_jv_get(body, "input");
	ok = jv_get_kind(v) == JV_KIND_STRING;
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		ok = n > 0 && n <= 2048;
		for (i = 0; ok && i < n; i++) {
			x = jv_array_get(jv_copy(v), i);
			ok = jv_get_kind(x) == JV_KIND_STRING;
			jv_free(x);
		}
	}
	jv_free(v);
	if (!ok) {
		snprintf(msg, sz, "Invalid 'input': a string or an array of 1 to 2048 strings "
		         "(bt-mock takes no token arrays).");
		*param = "input";
		return -1;
	}
	v = bt_jv_get(body, "dimensions");
	ok = !jv_is_valid(v) || (jv_get_kind(v) == JV_KIND_NUMBER &&
	                         jv_number_value(v) >= 1 && jv_number_value(v) <= EMBED_MAX_DIMS &&
	                         jv_number_value(v) == floor(jv_number_value(v)));
	jv_free(v);
	if (!ok) {
		snprintf(msg, sz, "Invalid 'dimensions': an integer from 1 to %d.", EMBED_MAX_DIMS);
		*param = "dimensions";
		return -1;
	}
	v = bt_jv_get(body, "encoding_format");
	ok = !jv_is_valid(v) || bt_jv_is(v, "float") || bt_jv_is(v, "base64");
	jv_free(v);
	if (!ok) {
		snprintf(msg, sz, "Invalid 'encoding_format': 'float' or 'base64'.");
		*param = "encoding_format";
		return -1;
	}
	return 0;
}

int omodel_known(jv body, char *msg, size_t sz)
{
	char m[256];
	jv v;

	if (check_model_known(body, m, sizeof m) == 0)
		return 0;
	v = bt_jv_get(body, "model");
	snprintf(msg, sz, "The model `%.200s` does not exist or you do not have access to it.",
	         jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
	jv_free(v);
	return -1;
}

/* ---- answers -------------------------------------------------------------------- */

/* n, or less so that p[0..n) never ends inside a UTF-8 sequence. */
static size_t utf8_cut(const char *p, size_t n)
{
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

double chat_tokens(jv body)
{
	struct bt_buf r = { 0 };
	double in = (double)ceil4(messages_text(body, &r)), max = max_bytes(body);

	bt_buf_free(&r);
	return (in < 1 ? 1 : in) + (max > 0 ? max / 4 : 0);
}

/* Append the message {role, content, refusal[, tool_calls]} of answer
 * a[0..len). */
static void message_obj(struct bt_buf *o, const struct shape *sh, uint64_t h,
                        const struct bt_buf *a, size_t len)
{
	char id[40];

	bt_buf_adds(o, "{\"role\":\"assistant\",\"content\":");
	if (sh->kind == SHAPE_TOOL) {
		make_id(id, sizeof id, "call_", h ^ 0x63616c6cULL);
		bt_buf_adds(o, "null,\"refusal\":null,\"tool_calls\":[{\"id\":\"");
		bt_buf_adds(o, id);
		bt_buf_adds(o, "\",\"type\":\"function\",\"function\":{\"name\":");
		bt_json_write(o, sh->name);
		bt_buf_adds(o, ",\"arguments\":");
		bt_json_write_str(o, a->p ? a->p : "", len);
		bt_buf_adds(o, "}}]");
	} else {
		bt_json_write_str(o, a->p ? a->p : "", len);
		bt_buf_adds(o, ",\"refusal\":null");
	}
	bt_buf_adds(o, ",\"annotations\":[]}");
}

void chat_json(struct bt_buf *o, jv body, uint64_t h)
{
	struct bt_buf r = { 0 }, a = { 0 };
	struct shape sh;
	char id[48], msg[256];
	const char *finish;
	long long in, out;
	double maxb = max_bytes(body);
	size_t len;
	jv x;

	in = ceil4(messages_text(body, &r));
	if (in < 1)
		in = 1;
	oshape_of(body, &sh);
	if (oanswer(&sh, &r, &a, msg, sizeof msg) < 0) {
		sh.kind = SHAPE_PLAIN;  /* chat_check refuses it first */
		a.len = 0;
		bt_buf_add(&a, r.p ? r.p : "", r.len);
	}
	finish = sh.kind == SHAPE_TOOL ? "tool_calls" : "stop";
	len = a.len;
	if (maxb >= 0 && (double)len > maxb) {
		len = utf8_cut(a.p, (size_t)maxb);
		finish = "length";
	}
	out = ceil4(len);
	make_id(id, sizeof id, "chatcmpl-", h ^ 0x6d7367ULL);
	bt_buf_printf(o, "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%lld,"
	              "\"model\":", id, (long long)(now_us() / US));
	x = bt_jv_get(body, "model");
	bt_json_write(o, x);
	jv_free(x);
	bt_buf_adds(o, ",\"choices\":[{\"index\":0,\"message\":");
	message_obj(o, &sh, h, &a, len);
	bt_buf_printf(o, ",\"logprobs\":null,\"finish_reason\":\"%s\"}],\"usage\":{"
	              "\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld,"
	              "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
	              "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
	              "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
	              "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_btmock\"}",
	              finish, in, out, in + out);
	shape_free(&sh);
	bt_buf_free(&a);
	bt_buf_free(&r);
}

/* Append the vector of text t[0..n), dims numbers of unit length, as a
 * JSON list of floats or as base64 of little-endian float32s. */
static void vector(struct bt_buf *o, const char *t, size_t n, int dims, int b64)
{
	uint64_t base = hash_fnv(FNV_START, t, n);
	double *v = bt_malloc((size_t)dims * sizeof *v), norm = 0;
	unsigned char *bytes = NULL;
	uint32_t u;
	float f;
	int j;

	for (j = 0; j < dims; j++) {
		v[j] = 2 * hash_unit(hash_mix(base ^ hash_mix((uint64_t)j + 1))) - 1;
		norm += v[j] * v[j];
	}
	norm = norm > 0 ? sqrt(norm) : 1;
	if (b64)
		bytes = bt_malloc((size_t)dims * 4);
	else
		bt_buf_addc(o, '[');
	for (j = 0; j < dims; j++) {
		f = (float)(v[j] / norm);
		if (b64) {
			memcpy(&u, &f, 4);
			bytes[4 * j] = (unsigned char)u;
			bytes[4 * j + 1] = (unsigned char)(u >> 8);
			bytes[4 * j + 2] = (unsigned char)(u >> 16);
			bytes[4 * j + 3] = (unsigned char)(u >> 24);
		} else
			bt_buf_printf(o, "%s%.9g", j ? "," : "", (double)f);
	}
	if (b64) {
		bt_buf_addc(o, '"');
		bt_b64_encode(o, bytes, (size_t)dims * 4);
		bt_buf_addc(o, '"');
	} else
		bt_buf_addc(o, ']');
	free(bytes);
	free(v);
}

void embed_json(struct bt_buf *o, jv body)
{
	jv in, d, fmt, x;
	int dims = EMBED_DIMS, b64, i, n;
	long long tokens = 0, t;

	d = bt_jv_get(body, "dimensions");
	if (jv_get_kind(d) == JV_KIND_NUMBER)
		dims = (int)jv_number_value(d);
	jv_free(d);
	fmt = bt_jv_get(body, "encoding_format");
	b64 = bt_jv_is(fmt, "base64");
	jv_free(fmt);
	in = bt_jv_get(body, "input");
	if (jv_get_kind(in) == JV_KIND_STRING)
		in = jv_array_append(jv_array(), in);
	n = jv_array_length(jv_copy(in));
	bt_buf_adds(o, "{\"object\":\"list\",\"data\":[");
	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(in), i);
		bt_buf_printf(o, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":",
		              i ? "," : "", i);
		vector(o, jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)), dims, b64);
		bt_buf_addc(o, '}');
		t = ceil4((size_t)jv_string_length_bytes(jv_copy(x)));
		tokens += t < 1 ? 1 : t;
		jv_free(x);
	}
	jv_free(in);
	bt_buf_adds(o, "],\"model\":");
	x = bt_jv_get(body, "model");
	bt_json_write(o, x);
	jv_free(x);
	bt_buf_printf(o, ",\"usage\":{\"prompt_tokens\":%lld,\"total_tokens\":%lld}}",
	              tokens, tokens);
}

/* ---- the synchronous endpoints ------------------------------------------------ */

/* Answer x by body: checked by check, its model known, within the rate
 * limits (tokens), then made by make after --latency. */
static void sync_answer(struct conn *x, struct out *o, int chat)
{
	char msg[512];
	const char *param;
	uint64_t h;
	double wait;
	jv p;

	p = body_object(x, o);
	if (!jv_is_valid(p))
		return;
	if ((chat ? chat_check(p, 0, msg, sizeof msg, &param) :
	            embed_check(p, msg, sizeof msg, &param)) < 0)
		out_oerror(o, x, 400, NULL, param, NULL, "%s", msg);
	else if (omodel_known(p, msg, sizeof msg) < 0)
		out_oerror(o, x, 404, NULL, "model", "model_not_found", "%s", msg);
	else if ((wait = limits_take_oai(chat ? chat_tokens(p) : 1, o)) > 0) {
		out_oerror(o, x, 429, "requests", NULL, "rate_limit_exceeded",
		           "Rate limit reached; please try again in %.0fs.", ceil(wait));
		snprintf(o->retry_after, sizeof o->retry_after, "%.0f", ceil(wait));
	} else {
		if (opt_latency > 0)
			nap((double)opt_latency / 1e6);
		pthread_mutex_lock(&mu);
		h = hash_mix(opt_seed ^ 0x6f6169ULL) ^ hash_mix(++msg_counter);
		pthread_mutex_unlock(&mu);
		o->status = 200;
		if (chat)
			chat_json(&o->body, p, h);
		else
			embed_json(&o->body, p);
	}
	jv_free(p);
}

void do_chat(struct conn *x, struct out *o)
{
	sync_answer(x, o, 1);
}

void do_embed(struct conn *x, struct out *o)
{
	sync_answer(x, o, 0);
}
