/* jqprog.c — user jq programs (1.6 syntax): compiled once, run per value.
 * A plain path (.a.b) is walked directly, without the interpreter. */
#include <stdlib.h>
#include <string.h>
#include <jq.h>

#include "bt.h"

struct bt_jq {
	jq_state *jq;
	char *what;         /* the option, for messages: "-p", "--id" */
	char **path;        /* a plain path: its keys; NULL otherwise */
	int npath;
	struct bt_buf msgs; /* compile errors */
};

static void err_cb(void *arg, jv msg)
{
	struct bt_jq *q = arg;

	if (jv_get_kind(msg) == JV_KIND_STRING)
		bt_buf_printf(&q->msgs, "%s%s", q->msgs.len ? "; " : "",
		              jv_string_value(msg));
	jv_free(msg);
}

/* ".a.b_c" → {"a","b_c"} */
static int plain_path(struct bt_jq *q, const char *s)
{
	const char *p = s, *k;

	if (!strcmp(s, "."))
		return 1;
	while (*p == '.') {
		k = ++p;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			goto no;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '_')
			p++;
		q->path = bt_realloc(q->path, (size_t)(q->npath + 1) * sizeof *q->path);
		q->path[q->npath++] = bt_strndup(k, (size_t)(p - k));
	}
	if (!*p && q->npath)
		return 1;
no:
	while (q->npath)
		free(q->path[--q->npath]);
	free(q->path);
	q->path = NULL;
	return 0;
}

struct bt_jq *bt_jq_compile(const char *what, const char *program, jv args)
{
	struct bt_jq *q = bt_calloc(1, sizeof *q);

	q->what = bt_strdup(what);
	if (plain_path(q, program)) {
		jv_free(args);
		return q;
	}
	q->jq = jq_init();
	if (!q->jq)
		bt_die(BT_EXIT_FAIL, "cannot start jq");
	jq_set_error_cb(q->jq, err_cb, q);
	if (!jq_compile_args(q->jq, program, args))
		bt_die(BT_EXIT_USAGE, "%s: %s", what,
		       q->msgs.len ? bt_buf_str(&q->msgs) : "jq program does not compile");
	return q;
}

jv bt_jq_one(struct bt_jq *q, jv in)
{
	jv v, more;
	int i;

	if (!q->jq) {
		for (i = 0; i < q->npath; i++) {
			if (jv_get_kind(in) == JV_KIND_NULL)
				return in;
			if (jv_get_kind(in) != JV_KIND_OBJECT) {
				v = jv_invalid_with_msg(jv_string_fmt("%s: Cannot index %s with \"%s\"",
				                        q->what, jv_kind_name(jv_get_kind(in)), q->path[i]));
				jv_free(in);
				return v;
			}
			in = jv_object_get(in, jv_string(q->path[i]));
			if (!jv_is_valid(in))
				in = jv_null();
		}
		return in;
	}
	jq_start(q->jq, in, 0);
	v = jq_next(q->jq);
	if (!jv_is_valid(v)) {
		if (jv_invalid_has_msg(jv_copy(v))) {
			jv m = jv_invalid_get_msg(v);
			if (jv_get_kind(m) == JV_KIND_STRING)
				v = jv_invalid_with_msg(jv_string_fmt("%s: %s", q->what, jv_string_value(m)));
			else {
				jv d = jv_dump_string(jv_copy(m), 0);
				v = jv_invalid_with_msg(jv_string_fmt("%s: %s (not a string)", q->what,
				                                      jv_string_value(d)));
				jv_free(d);
			}
			jv_free(m);
			return v;
		}
		jv_free(v);
		return jv_invalid_with_msg(jv_string_fmt("%s: gave no value", q->what));
	}
	more = jq_next(q->jq);
	if (jv_is_valid(more)) {
		jv_free(more);
		jv_free(v);
		return jv_invalid_with_msg(jv_string_fmt("%s: gave more than one value", q->what));
	}
	if (jv_invalid_has_msg(jv_copy(more))) {
		jv_free(v);
		v = jv_invalid_get_msg(more);
		more = jv_invalid_with_msg(jv_string_fmt("%s: %s", q->what,
		        jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "error"));
		jv_free(v);
		return more;
	}
	jv_free(more);
	return v;
}

void bt_jq_free(struct bt_jq *q)
{
	if (!q)
		return;
	if (q->jq)
		jq_teardown(&q->jq);
	while (q->npath)
		free(q->path[--q->npath]);
	free(q->path);
	free(q->what);
	bt_buf_free(&q->msgs);
	free(q);
}

jv bt_jq_argjson(const char *name, const char *text)
{
	char err[200];
	jv v = bt_json_parse(text, strlen(text), err, sizeof err);

	if (!jv_is_valid(v))
		bt_die(BT_EXIT_USAGE, "--argjson %s: invalid JSON: %s", name, err);
	return v;
}

jv bt_jq_rawfile(const char *name, const char *path)
{
	struct bt_buf b = { 0 };
	jv v;

	if (bt_slurp(path, &b) < 0)
		bt_die(BT_EXIT_USAGE, "--rawfile %s: %s:", name, path);
	v = jv_string_sized(b.p ? b.p : "", (int)b.len);
	bt_buf_free(&b);
	return v;
}
