/* model.c — the fake model: a reply that echoes the last user message,
 * tokens by the library's bytes / 4 rule, a prompt cache of system
 * prompts, forced tools, and the Message that carries it all */
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

/* The name of the tool the request forces, or jv_invalid(). */
static jv forced_tool(jv params)
{
	jv tc, tools, t, name = jv_invalid();

	tc = bt_jv_get(params, "tool_choice");
	tools = bt_jv_get(params, "tools");
	if (jv_get_kind(tools) == JV_KIND_ARRAY && jv_array_length(jv_copy(tools)) > 0) {
		t = bt_jv_get(tc, "type");
		if (bt_jv_is(t, "tool")) {
			name = bt_jv_get(tc, "name");
		} else if (bt_jv_is(t, "any")) {
			jv_free(t);
			t = jv_array_get(jv_copy(tools), 0);
			name = bt_jv_get(t, "name");
		}
		jv_free(t);
		if (jv_get_kind(name) != JV_KIND_STRING) {
			jv_free(name);
			name = jv_invalid();
		}
	}
	jv_free(tc);
	jv_free(tools);
	return name;
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

/* Append ,"content":[...]: the reply as text, or as the input of the
 * forced tool, called by the model itself (then *stop becomes tool_use,
 * unless it is max_tokens). */
static void content_json(struct bt_buf *o, jv params, uint64_t h,
                         const struct bt_buf *r, const char **stop)
{
	char id[40];
	jv tool = forced_tool(params);

	if (jv_is_valid(tool)) {
		make_id(id, sizeof id, "toolu_", h ^ 0x746f6f6cULL);
		bt_buf_printf(o, ",\"content\":[{\"type\":\"tool_use\",\"id\":\"%s\",\"name\":", id);
		bt_json_write(o, tool);
		bt_buf_adds(o, ",\"input\":{\"text\":");
		bt_json_write_str(o, r->p ? r->p : "", r->len);
		bt_buf_adds(o, "},\"caller\":{\"type\":\"direct\"}}]");
		if (strcmp(*stop, "max_tokens"))
			*stop = "tool_use";
	} else {
		bt_buf_adds(o, ",\"content\":[{\"type\":\"text\",\"text\":");
		bt_json_write_str(o, r->p ? r->p : "", r->len);
		bt_buf_adds(o, ",\"citations\":null}]");
	}
	jv_free(tool);
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

void message_json(struct bt_buf *o, jv params, uint64_t h, const char *tier,
                  struct pset *cache, pthread_mutex_t *cache_mu)
{
	struct bt_buf r = { 0 };
	struct usage u = { 0 };
	const char *stop = "end_turn";
	char id[40];
	double maxb;
	size_t cut;
	jv x;

	reply_text(params, &r);
	x = bt_jv_get(params, "max_tokens");
	maxb = jv_number_value(x) * 4;
	jv_free(x);
	if ((double)r.len > maxb) {
		cut = (size_t)maxb;
		while (cut > 0 && ((unsigned char)r.p[cut] & 0xC0) == 0x80)
			cut--;      /* never inside a UTF-8 sequence */
		r.len = cut;
		stop = "max_tokens";
	}
	input_usage(params, &u, cache, cache_mu);
	u.out = ceil4(r.len);
	make_id(id, sizeof id, "msg_", h ^ 0x6d7367ULL);
	bt_buf_adds(o, "{\"id\":\"");
	bt_buf_adds(o, id);
	bt_buf_adds(o, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
	x = bt_jv_get(params, "model");
	bt_json_write(o, x);
	jv_free(x);
	content_json(o, params, h, &r, &stop);
	bt_buf_adds(o, ",\"stop_reason\":\"");
	bt_buf_adds(o, stop);
	bt_buf_adds(o, "\",\"stop_sequence\":null,\"stop_details\":null,\"container\":null");
	usage_json(o, &u, tier);
	bt_buf_addc(o, '}');
	bt_buf_free(&r);
}
