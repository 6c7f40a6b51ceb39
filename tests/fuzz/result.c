/* result.c — fuzz harness: a line of the results stream
 * (bt_result_read and bt_result_response in lib/result.c).
 *
 * The input is a result line, and parsed as JSON.  For every input:
 *  - bt_result_read says what is wrong, or gives a valid custom_id equal
 *    to .custom_id (escapes undone), a kind that .result.type names, and
 *    for an errored result a type;
 *  - bt_result_peek, the shape check, gives the same verdict: what it
 *    refuses, bt_result_read refuses in the same words; what bt_result_read
 *    accepts, it accepts with the same id, kind and cut;
 *  - bt_result_response gives the input of the one tool_use block when
 *    there is exactly one with an input, the array of the inputs (null
 *    where a block has none) when there are several, else the text
 *    blocks' text joined, else null, and counts the tool_use blocks;
 *    checked here against the message's content;
 *  - an OpenAI line (no result, a response) by OpenAI's rule, spelled out
 *    again here: the kind by status_code or error.code, the answer by
 *    content, a function's arguments or an embedding;
 *  - both only borrow the line: it is the same value after them.
 */
#include "fuzz.h"

static jv get(jv o, const char *key)    /* o borrowed */
{
	return jv_get_kind(o) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(o), jv_string(key)) : jv_invalid();
}

static int is(jv v, const char *s)      /* v borrowed */
{
	return jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), s);
}

/* OpenAI's outcome rule, spelled out again (r read from line). */
static void openai_check(jv line, const struct bt_result *r)
{
	jv res = get(line, "response"), st = get(res, "status_code"), e = get(line, "error");
	jv code = get(e, "code"), x = get(line, "result");
	int want;

	MUST(!jv_is_valid(x), "a result object read as OpenAI's");
	if (jv_get_kind(res) == JV_KIND_OBJECT) {
		double d = jv_get_kind(st) == JV_KIND_NUMBER ? jv_number_value(st) : -1;
		MUST(d >= 100 && d <= 599 && d == (int)d, "status %g taken", d);
		want = d >= 200 && d < 300 ? BT_R_SUCCEEDED : BT_R_ERRORED;
		MUST(r->kind != BT_R_ERRORED ||
		     r->retryable == (d == 408 || d == 409 || d == 429 || d >= 500),
		     "status %g: retryable %d", d, r->retryable);
	} else {
		MUST(jv_get_kind(res) == JV_KIND_NULL && jv_get_kind(e) == JV_KIND_OBJECT,
		     "neither a response nor an error taken");
		want = is(code, "batch_expired") ? BT_R_EXPIRED :
		       is(code, "batch_cancelled") ? BT_R_CANCELED : BT_R_ERRORED;
		MUST(!r->retryable, "a request never run, retryable");
	}
	MUST(r->kind == want, "kind %d, by the rule %d", r->kind, want);
	MUST(r->kind != BT_R_ERRORED || r->type[0], "an errored result without a type");
	MUST(r->kind == BT_R_SUCCEEDED || !r->truncated, "truncated, not succeeded");
	jv_free(x);
	jv_free(code);
	jv_free(e);
	jv_free(st);
	jv_free(res);
}

static void read_check(const char *s, size_t n, jv line)
{
	struct bt_result r;
	struct bt_result_peek p;
	char err[256] = "", perr[256] = "";
	jv res, x, parsed;
	int rc, prc;

	memset(&r, 'x', sizeof r);
	rc = bt_result_read(s, n, &r, &parsed, err, sizeof err);
	prc = bt_result_peek(s, n, 1, &p, perr, sizeof perr);
	if (prc != 0) {
		MUST(prc == -1 && rc == -1 && !strcmp(err, perr),
		     "the shape check refused (%s), the reader said %d (%s)", perr, rc, err);
		MUST(!jv_is_valid(parsed), "a refused line was given parsed");
		jv_free(parsed);
		return;
	}
	if (rc != 0) {
		/* the shape check does not parse every number */
		MUST(rc == -1 && !strncmp(err, "invalid JSON: ", 14) && !jv_is_valid(line),
		     "the shape check took it, the reader refused: %s", err);
		jv_free(parsed);
		return;
	}
	MUST(!strcmp(p.id, r.id) && p.kind == r.kind && p.truncated == r.truncated,
	     "two verdicts: %s %d %d, %s %d %d", p.id, p.kind, p.truncated, r.id, r.kind,
	     r.truncated);
	MUST(jv_equal(jv_copy(parsed), jv_copy(line)), "the line parsed is not the line");
	jv_free(parsed);
	MUST(strlen(r.id) <= BT_ID_MAX && bt_custom_id_ok(r.id, strlen(r.id)), "id %s", r.id);
	x = get(line, "custom_id");
	MUST(is(x, r.id), "the id is not .custom_id");
	jv_free(x);
	MUST(r.kind >= BT_R_SUCCEEDED && r.kind < BT_R_MISSING, "kind %d", r.kind);
	if (r.dialect == BT_DIALECT_OPENAI) {
		openai_check(line, &r);
		return;
	}
	MUST(r.dialect == BT_DIALECT_ANTHROPIC, "dialect %d", r.dialect);
	res = get(line, "result");
	x = get(res, "type");
	MUST(is(x, bt_result_kind_name(r.kind)), "kind %s", bt_result_kind_name(r.kind));
	jv_free(x);
	jv_free(res);
	MUST(strlen(r.type) < sizeof r.type && strlen(r.message) < sizeof r.message,
	     "unterminated");
	if (r.kind == BT_R_ERRORED)
		MUST(r.type[0], "an errored result without a type");
	else
		MUST(!r.type[0] && !r.message[0], "a type for a %s result",
		     bt_result_kind_name(r.kind));
	MUST(r.kind == BT_R_SUCCEEDED || !r.truncated, "truncated, not succeeded");
	(void)bt_error_retryable(r.type);
}

/* A tool call's arguments parsed, or null when they do not parse. */
static jv args_here(jv call)
{
	jv f = get(call, "function"), a = get(f, "arguments"), v = jv_null();

	if (jv_get_kind(a) == JV_KIND_STRING) {
		jv_free(v);
		v = bt_json_parse(jv_string_value(a), (size_t)jv_string_length_bytes(jv_copy(a)),
		                  NULL, 0);
		if (!jv_is_valid(v)) {
			jv_free(v);
			v = jv_null();
		}
	}
	jv_free(a);
	jv_free(f);
	return v;
}

/* OpenAI's answer rule, spelled out again. */
static jv openai_here(jv line, int *ntools)
{
	jv res = get(line, "response"), body = get(res, "body"), data = get(body, "data");
	jv ch = get(body, "choices"), c0, msg, calls, x;
	int i, n;

	*ntools = 0;
	if (jv_get_kind(data) == JV_KIND_ARRAY && jv_array_length(jv_copy(data)) > 0) {
		c0 = jv_array_get(jv_copy(data), 0);
		x = get(c0, "embedding");
		jv_free(c0);
		if (!jv_is_valid(x))
			x = jv_null();
		goto out;
	}
	c0 = jv_get_kind(ch) == JV_KIND_ARRAY && jv_array_length(jv_copy(ch)) > 0 ?
	     jv_array_get(jv_copy(ch), 0) : jv_invalid();
	msg = get(c0, "message");
	calls = get(msg, "tool_calls");
	n = jv_get_kind(calls) == JV_KIND_ARRAY ? jv_array_length(jv_copy(calls)) : 0;
	*ntools = n;
	if (n == 1) {
		jv c = jv_array_get(jv_copy(calls), 0);
		x = args_here(c);
		jv_free(c);
	} else if (n > 1) {
		x = jv_array();
		for (i = 0; i < n; i++) {
			jv c = jv_array_get(jv_copy(calls), i), a = args_here(c);
			x = jv_array_append(x, jv_is_valid(a) ? a : (jv_free(a), jv_null()));
			jv_free(c);
		}
	} else {
		x = get(msg, "content");
		if (jv_get_kind(x) != JV_KIND_STRING) {
			jv_free(x);
			x = jv_null();
		}
	}
	jv_free(calls);
	jv_free(msg);
	jv_free(c0);
out:
	jv_free(ch);
	jv_free(data);
	jv_free(body);
	jv_free(res);
	return x;
}

/* bt_result_response's rule, spelled out again. */
static jv response_here(jv line, int *ntools)
{
	jv res = get(line, "result"), msg = get(res, "message");
	jv content = get(msg, "content"), block, t, x, tool = jv_invalid(), all = jv_array();
	struct bt_buf text = { 0 };
	int i, n, tools = 0, texts = 0;

	if (jv_get_kind(line) == JV_KIND_OBJECT && !jv_is_valid(res) &&
	    jv_object_has(jv_copy(line), jv_string("response"))) {
		jv_free(content);
		jv_free(msg);
		jv_free(all);
		return openai_here(line, ntools);
	}
	n = jv_get_kind(content) == JV_KIND_ARRAY ? jv_array_length(jv_copy(content)) : 0;
	for (i = 0; i < n; i++) {
		block = jv_array_get(jv_copy(content), i);
		t = get(block, "type");
		if (is(t, "text")) {
			x = get(block, "text");
			if (jv_get_kind(x) == JV_KIND_STRING) {
				bt_buf_add(&text, jv_string_value(x),
				           (size_t)jv_string_length_bytes(jv_copy(x)));
				texts++;
			}
			jv_free(x);
		} else if (is(t, "tool_use")) {
			tools++;
			jv_free(tool);
			tool = get(block, "input");
			all = jv_array_append(all, jv_is_valid(tool) ? jv_copy(tool) : jv_null());
		}
		jv_free(t);
		jv_free(block);
	}
	jv_free(content);
	jv_free(msg);
	jv_free(res);
	*ntools = tools;
	if (tools > 1) {
		jv_free(tool);
		x = all;
		all = jv_null();
	} else if (tools == 1 && jv_is_valid(tool))
		x = tool;
	else {
		jv_free(tool);
		x = texts ? jv_string_sized(text.p ? text.p : "", (int)text.len) : jv_null();
	}
	jv_free(all);
	bt_buf_free(&text);
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_buf before = { 0 }, after = { 0 };
	jv line = bt_json_parse((const char *)data, size, NULL, 0), got, want;
	int ntools = -1, want_ntools = -2;

	fuzz_json(&before, line);
	read_check((const char *)data, size, line);
	got = bt_result_response(line, &ntools);
	want = response_here(line, &want_ntools);
	MUST(ntools == want_ntools, "%d tool_use blocks, counted %d", want_ntools, ntools);
	if (!jv_is_valid(got) && ntools == 1) {
		/* one function's arguments that do not parse: said, as null here */
		jv_free(got);
		got = jv_null();
	}
	MUST(jv_is_valid(got), "an invalid response");
	MUST(jv_equal(jv_copy(got), jv_copy(want)), "the response differs from the rule");
	fuzz_json(&after, line);
	MUST(fuzz_same_bytes(&before, &after), "the line changed");
	jv_free(got);
	jv_free(want);
	jv_free(line);
	bt_buf_free(&before);
	bt_buf_free(&after);
	return 0;
}
