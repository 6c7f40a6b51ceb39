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

/* bt_result_response's rule, spelled out again. */
static jv response_here(jv line, int *ntools)
{
	jv res = get(line, "result"), msg = get(res, "message");
	jv content = get(msg, "content"), block, t, x, tool = jv_invalid(), all = jv_array();
	struct bt_buf text = { 0 };
	int i, n, tools = 0, texts = 0;

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
