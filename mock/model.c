/* model.c — the fake model: a reply that echoes the last user message,
 * tokens by the library's bytes / 4 rule, a prompt cache of system
 * prompts, forced tools, and the Message that carries it all */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* What a request's input counts. */
struct tokens {
	size_t total;           /* bytes of all input text */
	size_t sys;             /* bytes of the system prompt */
	int cached;             /* the system prompt has cache_control */
	int hour;               /* and the last one says "ttl":"1h" */
	uint64_t prefix;        /* hash of the system prompt */
};

/* What a Message's usage says. */
struct usage {
	long long in, out, created, read;
	int hour;               /* the cache write lives an hour, not 5 minutes */
};

static long long ceil4(size_t n)
{
	return (long long)((n + 3) / 4);
}

int pset_add(struct pset *s, uint64_t h)
{
	size_t i, j, oc;
	uint64_t *o;

	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap) {
		oc = s->cap;
		o = s->v;
		s->cap = oc ? 2 * oc : 64;
		s->v = bt_calloc(s->cap, sizeof *s->v);
		for (i = 0; i < oc; i++) {
			if (!o[i])
				continue;
			for (j = o[i] % s->cap; s->v[j]; j = (j + 1) % s->cap)
				;
			s->v[j] = o[i];
		}
		free(o);
	}
	for (j = h % s->cap; s->v[j]; j = (j + 1) % s->cap)
		if (s->v[j] == h)
			return 0;
	s->v[j] = h;
	s->n++;
	return 1;
}

void pset_free(struct pset *s)
{
	free(s->v);
	s->v = NULL;
	s->cap = s->n = 0;
}

/* Input bytes by the library's rule (bt-cost estimates by the same one),
 * and the cached prefix: the system prompt's text, and whether one of its
 * blocks asks to be cached (for an hour, when the last one that asks says
 * so). */
static void count_tokens(jv params, struct tokens *t)
{
	jv sys, blk, v, ttl;
	int i, n;

	memset(t, 0, sizeof *t);
	t->total = bt_input_bytes(params, &t->sys);
	t->prefix = FNV_START;
	sys = bt_jv_get(params, "system");
	if (jv_get_kind(sys) == JV_KIND_STRING)
		t->prefix = hash_fnv(t->prefix, jv_string_value(sys),
		                     (size_t)jv_string_length_bytes(jv_copy(sys)));
	n = jv_get_kind(sys) == JV_KIND_ARRAY ? jv_array_length(jv_copy(sys)) : 0;
	for (i = 0; i < n; i++) {
		blk = jv_array_get(jv_copy(sys), i);
		v = bt_jv_get(blk, "type");
		if (bt_jv_is(v, "text")) {
			jv_free(v);
			v = bt_jv_get(blk, "text");
			if (jv_get_kind(v) == JV_KIND_STRING)
				t->prefix = hash_fnv(hash_fnv(t->prefix, jv_string_value(v),
				                              (size_t)jv_string_length_bytes(jv_copy(v))),
				                     "", 1);
		}
		jv_free(v);
		v = bt_jv_get(blk, "cache_control");
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
			ttl = bt_jv_get(v, "ttl");
			t->cached = 1;
			t->hour = bt_jv_is(ttl, "1h");
			jv_free(ttl);
		}
		jv_free(v);
		jv_free(blk);
	}
	jv_free(sys);
}

/* The text blocks of content c joined by newlines, into r. */
static void blocks_text(jv c, struct bt_buf *r)
{
	jv blk, v;
	int j, n = jv_array_length(jv_copy(c)), first = 1;

	for (j = 0; j < n; j++) {
		blk = jv_array_get(jv_copy(c), j);
		v = bt_jv_get(blk, "type");
		if (bt_jv_is(v, "text")) {
			jv_free(v);
			v = bt_jv_get(blk, "text");
			if (jv_get_kind(v) == JV_KIND_STRING) {
				if (!first)
					bt_buf_addc(r, '\n');
				first = 0;
				bt_buf_add(r, jv_string_value(v),
				           (size_t)jv_string_length_bytes(jv_copy(v)));
			}
		}
		jv_free(v);
		jv_free(blk);
	}
}

/* The text of the last user message, into r. */
static void reply_text(jv params, struct bt_buf *r)
{
	jv msgs, m, c, role;
	int i;

	msgs = bt_jv_get(params, "messages");
	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		return;
	}
	for (i = jv_array_length(jv_copy(msgs)) - 1; i >= 0; i--) {
		m = jv_array_get(jv_copy(msgs), i);
		role = bt_jv_get(m, "role");
		if (!bt_jv_is(role, "user")) {
			jv_free(role);
			jv_free(m);
			continue;
		}
		jv_free(role);
		c = bt_jv_get(m, "content");
		if (jv_get_kind(c) == JV_KIND_STRING)
			bt_buf_add(r, jv_string_value(c),
			           (size_t)jv_string_length_bytes(jv_copy(c)));
		else if (jv_get_kind(c) == JV_KIND_ARRAY)
			blocks_text(c, r);
		jv_free(c);
		jv_free(m);
		break;
	}
	jv_free(msgs);
}

/* 1 when s says nothing but that the value is an object (or nothing at
 * all): the old answer {"text":REPLY} follows it and shows the most. */
int schema_open(jv s)
{
	static const char *const kw[] = { "properties", "required", "$ref", "allOf",
	                                  "anyOf", "oneOf", "enum", "const", "not",
	                                  "minProperties", "maxProperties",
	                                  "patternProperties", "propertyNames", NULL };
	const char *const *k;
	jv v;
	int open;

	if (!jv_is_valid(s) || jv_get_kind(s) == JV_KIND_TRUE)
		return 1;
	if (jv_get_kind(s) != JV_KIND_OBJECT)
		return 0;
	for (k = kw; *k; k++) {
		v = bt_jv_get(s, *k);
		open = !jv_is_valid(v);
		jv_free(v);
		if (!open)
			return 0;
	}
	v = bt_jv_get(s, "type");
	open = !jv_is_valid(v) || bt_jv_is(v, "object");
	jv_free(v);
	v = bt_jv_get(s, "additionalProperties");
	open = open && jv_get_kind(v) != JV_KIND_FALSE && jv_get_kind(v) != JV_KIND_OBJECT;
	jv_free(v);
	return open;
}

/* The shape of the answer: a forced tool (tool_choice "tool" naming one of
 * the tools, or "any": the first), else output_config.format's schema,
 * else plain text.  Free with shape_free. */
static void shape_of(jv params, struct shape *sh)
{
	jv tc, tools, t, x, f;
	int i, n;

	memset(sh, 0, sizeof *sh);
	sh->name = jv_invalid();
	sh->schema = jv_invalid();
	tc = bt_jv_get(params, "tool_choice");
	tools = bt_jv_get(params, "tools");
	n = jv_get_kind(tools) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tools)) : 0;
	t = bt_jv_get(tc, "type");
	if (n > 0 && bt_jv_is(t, "tool"))
		sh->name = bt_jv_get(tc, "name");
	else if (n > 0 && bt_jv_is(t, "any")) {
		x = jv_array_get(jv_copy(tools), 0);
		sh->name = bt_jv_get(x, "name");
		jv_free(x);
	}
	jv_free(t);
	if (jv_get_kind(sh->name) == JV_KIND_STRING) {
		sh->kind = SHAPE_TOOL;
		for (i = 0; i < n && !jv_is_valid(sh->schema); i++) {
			t = jv_array_get(jv_copy(tools), i);
			x = bt_jv_get(t, "name");
			if (jv_equal(x, jv_copy(sh->name))) {
				sh->schema = bt_jv_get(t, "input_schema");
				snprintf(sh->where, sizeof sh->where, "tools.%d.input_schema", i);
			}
			jv_free(t);
		}
	} else {
		jv_free(sh->name);
		sh->name = jv_invalid();
		x = bt_jv_get(params, "output_config");
		f = bt_jv_get(x, "format");
		t = bt_jv_get(f, "type");
		if (bt_jv_is(t, "json_schema")) {
			sh->kind = SHAPE_FORMAT;
			sh->schema = bt_jv_get(f, "schema");
			snprintf(sh->where, sizeof sh->where, "output_config.format.schema");
		}
		jv_free(t);
		jv_free(f);
		jv_free(x);
	}
	sh->open = sh->kind != SHAPE_PLAIN && schema_open(sh->schema);
	jv_free(tc);
	jv_free(tools);
}

void shape_free(struct shape *sh)
{
	jv_free(sh->name);
	jv_free(sh->schema);
}

int shape_answer(const struct shape *sh, const struct bt_buf *r, struct bt_buf *a,
                 struct schema_cut *cut, char *msg, size_t sz)
{
	if (sh->kind == SHAPE_PLAIN) {
		bt_buf_add(a, r->p ? r->p : "", r->len);
		return 0;
	}
	if (sh->open) {
		bt_buf_adds(a, "{\"text\":");
		bt_json_write_str(a, r->p ? r->p : "", r->len);
		if (cut) {
			cut->ends = bt_malloc(sizeof *cut->ends);
			cut->ends[0] = a->len;
			cut->n = 1;
		}
		bt_buf_addc(a, '}');
		return 0;
	}
	return schema_answer(a, sh->schema, r->p ? r->p : "", r->len, cut, sh->where, msg, sz);
}

/* Schemas found followable lately, each as where it is and its compact
 * JSON: a batch asks every request for the same schema, so that most
 * checks are a comparison instead of an answer made and thrown away. */
#define OK_SCHEMAS      4
static struct bt_buf ok_schemas[OK_SCHEMAS];
static unsigned ok_next;
static pthread_mutex_t ok_mu = PTHREAD_MUTEX_INITIALIZER;

/* 1 when key is among them; else 0, and then with add, it is added. */
static int ok_schema(const struct bt_buf *key, int add)
{
	int i, found = 0;

	pthread_mutex_lock(&ok_mu);
	for (i = 0; i < OK_SCHEMAS && !found; i++)
		found = ok_schemas[i].len == key->len &&
		        !memcmp(ok_schemas[i].p, key->p, key->len);
	if (!found && add) {
		ok_schemas[ok_next].len = 0;
		bt_buf_add(&ok_schemas[ok_next], key->p, key->len);
		ok_next = (ok_next + 1) % OK_SCHEMAS;
	}
	pthread_mutex_unlock(&ok_mu);
	return found;
}

int check_answer_schema(jv params, char *msg, size_t sz)
{
	struct shape sh;
	struct schema_cut cut = { 0 };
	struct bt_buf r = { 0 }, a = { 0 }, key = { 0 };
	int rc = 0;

	shape_of(params, &sh);
	if (sh.kind != SHAPE_PLAIN && !sh.open) {
		bt_buf_add(&key, sh.where, strlen(sh.where) + 1);
		bt_json_write(&key, sh.schema);
		if (!ok_schema(&key, 0)) {
			rc = shape_answer(&sh, &r, &a, &cut, msg, sz);
			if (rc == 0 && sh.kind == SHAPE_TOOL && (!a.len || a.p[0] != '{')) {
				snprintf(msg, sz, "%s: a tool's input is an object: give it "
				         "\"type\": \"object\"", sh.where);
				rc = -1;
			}
			if (rc == 0)
				ok_schema(&key, 1);
		}
	}
	free(cut.ends);
	bt_buf_free(&key);
	bt_buf_free(&a);
	shape_free(&sh);
	return rc;
}

/* Input tokens of params, the system prompt as a cached prefix when it
 * asks to be: written the first time cache sees it, read after. */
static void input_usage(jv params, struct usage *u, struct pset *cache,
                        pthread_mutex_t *cache_mu)
{
	struct tokens t;
	int fresh;

	count_tokens(params, &t);
	if (t.cached && t.sys > 0) {
		if (cache_mu)
			pthread_mutex_lock(cache_mu);
		fresh = pset_add(cache, t.prefix);
		if (cache_mu)
			pthread_mutex_unlock(cache_mu);
		if (fresh) {
			u->created = ceil4(t.sys);
			u->hour = t.hour;
		} else
			u->read = ceil4(t.sys);
		u->in = ceil4(t.total - t.sys);
	} else {
		u->in = ceil4(t.total);
	}
	u->in += bt_media_tokens(params);       /* images and PDFs: the same rule */
	if (u->in < 1 && !u->created && !u->read)
		u->in = 1;
}

/* Append ,"content":[...]: the answer a (cut to its first len bytes) as
 * text, or as the input of the forced tool, called by the model itself
 * (then *stop becomes tool_use, unless it is max_tokens); a cut input
 * keeps the members it finished. */
static void content_json(struct bt_buf *o, const struct shape *sh, uint64_t h,
                         const struct bt_buf *a, size_t len,
                         const struct schema_cut *cut, const char **stop)
{
	char id[40];
	size_t i, keep = 1;

	if (sh->kind == SHAPE_TOOL) {
		make_id(id, sizeof id, "toolu_", h ^ 0x746f6f6cULL);
		bt_buf_printf(o, ",\"content\":[{\"type\":\"tool_use\",\"id\":\"%s\",\"name\":", id);
		bt_json_write(o, sh->name);
		bt_buf_adds(o, ",\"input\":");
		if (len == a->len)
			bt_buf_add(o, a->p, a->len);
		else {
			for (i = 0; i < cut->n && cut->ends[i] <= len; i++)
				keep = cut->ends[i];
			bt_buf_add(o, a->p, keep);
			bt_buf_addc(o, '}');
		}
		bt_buf_adds(o, ",\"caller\":{\"type\":\"direct\"}}]");
		if (strcmp(*stop, "max_tokens"))
			*stop = "tool_use";
	} else {
		bt_buf_adds(o, ",\"content\":[{\"type\":\"text\",\"text\":");
		bt_json_write_str(o, a->p ? a->p : "", len);
		bt_buf_adds(o, ",\"citations\":null}]");
	}
}

/* Append name (the text before the number: a key, its quotes and colon)
 * and the count n.  The hot path of a results file: no printf. */
static void add_count(struct bt_buf *o, const char *name, long long n)
{
	char d[24];
	size_t i = sizeof d;
	unsigned long long v = n > 0 ? (unsigned long long)n : 0;

	do
		d[--i] = (char)('0' + v % 10);
	while (v /= 10);
	bt_buf_adds(o, name);
	bt_buf_add(o, d + i, sizeof d - i);
}

/* Append ,"usage":{...}: all nine members of the API's Usage, those that
 * do not apply (no region, no thinking, no server tools) null. */
static void usage_json(struct bt_buf *o, const struct usage *u, const char *tier)
{
	add_count(o, ",\"usage\":{\"input_tokens\":", u->in);
	add_count(o, ",\"output_tokens\":", u->out);
	add_count(o, ",\"cache_creation_input_tokens\":", u->created);
	add_count(o, ",\"cache_read_input_tokens\":", u->read);
	add_count(o, ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":", u->hour ? 0 : u->created);
	add_count(o, ",\"ephemeral_1h_input_tokens\":", u->hour ? u->created : 0);
	bt_buf_adds(o, "},\"inference_geo\":null,\"output_tokens_details\":null,"
	            "\"server_tool_use\":null,\"service_tier\":\"");
	bt_buf_adds(o, tier);
	bt_buf_adds(o, "\"}");
}

/* n, or less so that p[0..n) never ends inside a UTF-8 sequence. */
static size_t utf8_cut(const char *p, size_t n)
{
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

void message_json(struct bt_buf *o, jv params, uint64_t h, const char *tier,
                  struct pset *cache, pthread_mutex_t *cache_mu)
{
	struct bt_buf r = { 0 }, a = { 0 };
	struct usage u = { 0 };
	struct shape sh;
	struct schema_cut cut = { 0 };
	const char *stop = "end_turn";
	char id[40], msg[256];
	double maxb;
	size_t len;
	int echo;
	jv x;

	reply_text(params, &r);
	shape_of(params, &sh);
	x = bt_jv_get(params, "max_tokens");
	maxb = jv_number_value(x) * 4;
	jv_free(x);
	/* text, and the open tool's {"text":...}, are cut in the reply; an
	 * answer that follows a schema is cut in its JSON */
	echo = sh.kind == SHAPE_PLAIN || (sh.kind == SHAPE_TOOL && sh.open);
	if (echo && (double)r.len > maxb) {
		r.len = utf8_cut(r.p, (size_t)maxb);
		stop = "max_tokens";
	}
	if (shape_answer(&sh, &r, &a, &cut, msg, sizeof msg) < 0) {
		a.len = 0;              /* check_params refuses it first */
		sh.kind = SHAPE_PLAIN;
		bt_buf_add(&a, r.p ? r.p : "", r.len);
	}
	len = a.len;
	if (!echo && (double)len > maxb) {
		len = utf8_cut(a.p, (size_t)maxb);
		stop = "max_tokens";
	}
	input_usage(params, &u, cache, cache_mu);
	u.out = ceil4(echo ? r.len : len);
	make_id(id, sizeof id, "msg_", h ^ 0x6d7367ULL);
	bt_buf_adds(o, "{\"id\":\"");
	bt_buf_adds(o, id);
	bt_buf_adds(o, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
	x = bt_jv_get(params, "model");
	bt_json_write(o, x);
	jv_free(x);
	content_json(o, &sh, h, &a, len, &cut, &stop);
	bt_buf_adds(o, ",\"stop_reason\":\"");
	bt_buf_adds(o, stop);
	bt_buf_adds(o, "\",\"stop_sequence\":null,\"stop_details\":null,\"container\":null");
	usage_json(o, &u, tier);
	bt_buf_addc(o, '}');
	free(cut.ends);
	shape_free(&sh);
	bt_buf_free(&a);
	bt_buf_free(&r);
}
