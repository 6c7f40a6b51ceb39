/* schema.c — answers that follow a JSON Schema: the input of a forced
 * tool, the text of output_config's json_schema format.  Strings are made
 * from the property's name and the words of the last user message, so
 * each answer shows which request it belongs to (bt-mock(1), Structured
 * answers, says what is followed and what is not). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define SOFT_DEPTH      8       /* deeper, only required members and minItems */
#define HARD_DEPTH      32      /* deeper is refused: a schema that never ends */
#define SHORT_WORDS     8       /* words of the prompt in later strings, */
#define SHORT_BYTES     80      /* and their bytes, about */
#define SLUG_MAX        40      /* bytes of a slug in an email, uri, hostname */
#define MAX_ITEMS       1000    /* minItems and minProperties met, at most */
#define MAX_LENGTH      100000  /* minLength met, at most */
#define MAX_VALUES      100000  /* values in one answer, at most */

struct gen {
	struct bt_buf *o;
	jv root;                /* the whole schema, for $ref (borrowed) */
	const char *text;       /* the last user message */
	size_t n;
	struct bt_buf few;      /* its first SHORT_WORDS words */
	long words;             /* how many words it has */
	int echoed;             /* the whole text went into a string already */
	int depth;
	long values;            /* made so far */
	char path[200];         /* where in the schema, for messages */
	size_t plen;
	char *msg;
	size_t sz;
	const char *where;      /* where the schema is in the params */
	size_t base;            /* where the answer starts in o */
	size_t *ends;           /* the root object: where each member ends */
	size_t nends, cap;
};

static int gen_value(struct gen *g, jv s, const char *name, int idx);

/* The message of what cannot be followed: -1. */
static int fail(struct gen *g, const char *why, const char *arg)
{
	snprintf(g->msg, g->sz, "%s: bt-mock cannot follow the schema at #%.100s: %s%.60s",
	         g->where, g->path, why, arg ? arg : "");
	return -1;
}

/* Append /seg to the path; returns the old length, for pop. */
static size_t push(struct gen *g, const char *a, const char *b)
{
	size_t old = g->plen;
	int k = snprintf(g->path + g->plen, sizeof g->path - g->plen, "/%s%s%s",
	                 a, b ? "/" : "", b ? b : "");

	if (k > 0)
		g->plen = g->plen + (size_t)k < sizeof g->path ? g->plen + (size_t)k
		                                               : sizeof g->path - 1;
	return old;
}

static void pop(struct gen *g, size_t old)
{
	g->plen = old;
	g->path[old] = 0;
}

/* The keywords that choose what to make, as bits: one pass over the
 * schema's keys instead of a lookup for each. */
enum {
	K_REF = 1 << 0, K_CONST = 1 << 1, K_ENUM = 1 << 2, K_ALLOF = 1 << 3,
	K_ANYOF = 1 << 4, K_ONEOF = 1 << 5, K_OBJECT = 1 << 6, K_ARRAY = 1 << 7,
	K_NUMBER = 1 << 8
};
static const struct { const char *name; unsigned bit; } keyword[] = {
	{ "$ref", K_REF }, { "const", K_CONST }, { "enum", K_ENUM },
	{ "allOf", K_ALLOF }, { "anyOf", K_ANYOF }, { "oneOf", K_ONEOF },
	{ "properties", K_OBJECT }, { "required", K_OBJECT },
	{ "additionalProperties", K_OBJECT }, { "minProperties", K_OBJECT },
	{ "items", K_ARRAY }, { "prefixItems", K_ARRAY }, { "minItems", K_ARRAY },
	{ "minimum", K_NUMBER }, { "maximum", K_NUMBER }, { "multipleOf", K_NUMBER },
	{ "exclusiveMinimum", K_NUMBER }, { "exclusiveMaximum", K_NUMBER },
};

static unsigned keywords(jv s)          /* s borrowed, an object */
{
	unsigned bits = 0;
	size_t i;
	int it;
	jv k;

	for (it = jv_object_iter(s); jv_object_iter_valid(s, it); it = jv_object_iter_next(s, it)) {
		k = jv_object_iter_key(s, it);
		for (i = 0; i < sizeof keyword / sizeof keyword[0]; i++)
			if (!strcmp(jv_string_value(k), keyword[i].name)) {
				bits |= keyword[i].bit;
				break;
			}
		jv_free(k);
	}
	return bits;
}

/* ---- strings ------------------------------------------------------------- */

/* Code points in p[0..n). */
static size_t cps(const char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)p[i] & 0xC0) != 0x80;
	return c;
}

/* Bytes of the first k code points of p[0..n). */
static size_t cut_cps(const char *p, size_t n, size_t k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xC0) != 0x80 && k-- == 0)
			break;
	return i;
}

/* name and the words, lower case letters and digits joined by '-'. */
static void slug(struct gen *g, const char *name, struct bt_buf *b)
{
	const char *src[2] = { name, bt_buf_str(&g->few) };
	size_t start = b->len;
	int i, dash = 0;
	const char *p;

	for (i = 0; i < 2; i++)
		for (p = src[i]; *p && b->len - start < SLUG_MAX; p++) {
			unsigned char c = (unsigned char)*p;
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				if (dash && b->len > start)
					bt_buf_addc(b, '-');
				bt_buf_addc(b, c);
				dash = 0;
			} else if (c >= 'A' && c <= 'Z') {
				if (dash && b->len > start)
					bt_buf_addc(b, '-');
				bt_buf_addc(b, c - 'A' + 'a');
				dash = 0;
			} else
				dash = 1;
			if (!p[1])
				dash = 1;
		}
	if (b->len == start)
		bt_buf_addc(b, 'x');
}

/* A string of a known format, into b; 0 when the format is not one. */
static int format_string(struct gen *g, const char *f, const char *name, struct bt_buf *b)
{
	uint64_t h;

	if (!strcmp(f, "date-time"))
		bt_buf_adds(b, "2026-01-01T00:00:00Z");
	else if (!strcmp(f, "date"))
		bt_buf_adds(b, "2026-01-01");
	else if (!strcmp(f, "time"))
		bt_buf_adds(b, "00:00:00Z");
	else if (!strcmp(f, "duration"))
		bt_buf_adds(b, "P1D");
	else if (!strcmp(f, "email") || !strcmp(f, "idn-email")) {
		slug(g, name, b);
		bt_buf_adds(b, "@example.com");
	} else if (!strcmp(f, "hostname") || !strcmp(f, "idn-hostname")) {
		slug(g, name, b);
		bt_buf_adds(b, ".example.com");
	} else if (!strcmp(f, "uri") || !strcmp(f, "iri") || !strcmp(f, "uri-reference") ||
	           !strcmp(f, "iri-reference") || !strcmp(f, "url") ||
	           !strcmp(f, "uri-template")) {
		bt_buf_adds(b, "https://example.com/");
		slug(g, name, b);
	} else if (!strcmp(f, "ipv4"))
		bt_buf_adds(b, "192.0.2.1");
	else if (!strcmp(f, "ipv6"))
		bt_buf_adds(b, "2001:db8::1");
	else if (!strcmp(f, "uuid")) {
		h = hash_mix(hash_fnv(hash_fnv(FNV_START, g->text, g->n), name, strlen(name)));
		bt_buf_printf(b, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(h >> 32),
		              (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
		              (unsigned)(h >> 20) & 0xfff,
		              (unsigned long long)(hash_mix(h) & 0xffffffffffffULL));
	} else if (!strcmp(f, "json-pointer")) {
		bt_buf_addc(b, '/');
		slug(g, name, b);
	} else if (!strcmp(f, "relative-json-pointer"))
		bt_buf_addc(b, '0');
	else if (!strcmp(f, "regex"))
		bt_buf_adds(b, ".*");
	else
		return 0;
	return 1;
}

static double num_of(jv s, const char *key, int *ok)
{
	jv v = bt_jv_get(s, key);
	double d = 0;

	*ok = jv_get_kind(v) == JV_KIND_NUMBER;
	if (*ok)
		d = jv_number_value(v);
	jv_free(v);
	return d;
}

static int gen_string(struct gen *g, jv s, const char *name, int idx)
{
	struct bt_buf b = { 0 };
	double mn, mx;
	int hmn, hmx;
	size_t c, k;
	jv f = bt_jv_get(s, "format");

	mn = num_of(s, "minLength", &hmn);
	mx = num_of(s, "maxLength", &hmx);
	if ((hmn && hmx && mn > mx) || (hmn && mn > MAX_LENGTH)) {
		jv_free(f);
		return fail(g, mn > MAX_LENGTH ? "minLength is above 100000"
		                               : "minLength is above maxLength", NULL);
	}
	if (jv_get_kind(f) == JV_KIND_STRING && format_string(g, jv_string_value(f), name, &b))
		;
	else {
		bt_buf_adds(&b, name);
		if (!g->echoed && !hmx && g->n) {
			g->echoed = 1;              /* the first free string: all of it */
			bt_buf_adds(&b, ": ");
			bt_buf_add(&b, g->text, g->n);
		} else if (g->few.len) {
			bt_buf_adds(&b, ": ");
			bt_buf_add(&b, g->few.p, g->few.len);
		}
		if (idx > 0)
			bt_buf_printf(&b, " #%d", idx + 1);
	}
	jv_free(f);
	c = cps(b.p ? b.p : "", b.len);
	if (hmx && (double)c > mx) {
		k = cut_cps(b.p, b.len, mx > 0 ? (size_t)mx : 0);
		b.len = k;
		c = (size_t)(mx > 0 ? mx : 0);
	}
	for (; hmn && (double)c < mn; c++)
		bt_buf_addc(&b, '.');
	bt_json_write_str(g->o, b.p ? b.p : "", b.len);
	bt_buf_free(&b);
	return 0;
}

/* ---- numbers ---------------------------------------------------------------- */

/* A bound: minimum or maximum, and its exclusive form (a number, or true
 * as in draft 4). */
static void bound(jv s, const char *key, const char *xkey, double *v, int *x)
{
	int ok;
	double d = num_of(s, key, &ok);
	jv e;

	if (ok)
		*v = d;
	e = bt_jv_get(s, xkey);
	if (jv_get_kind(e) == JV_KIND_TRUE && ok)
		*x = 1;
	else if (jv_get_kind(e) == JV_KIND_NUMBER) {
		d = jv_number_value(e);
		if (!strcmp(key, "minimum") ? d >= *v : d <= *v) {
			*v = d;
			*x = 1;
		}
	}
	jv_free(e);
}

static int gen_number(struct gen *g, jv s, int integer, int idx)
{
	double lo = -INFINITY, hi = INFINITY, v = (double)(g->words + idx), m, w;
	int lox = 0, hix = 0, ok;

	bound(s, "minimum", "exclusiveMinimum", &lo, &lox);
	bound(s, "maximum", "exclusiveMaximum", &hi, &hix);
	if (integer) {
		lo = lox ? floor(lo) + 1 : ceil(lo);
		hi = hix ? ceil(hi) - 1 : floor(hi);
		lox = hix = 0;
	}
	if (lo > hi || (lo == hi && (lox || hix)))
		return fail(g, "no number lies between minimum and maximum", NULL);
	if (v < lo || (lox && v <= lo))
		v = !lox ? lo : isfinite(hi) ? (lo + hi) / 2 : lo + 1;
	if (v > hi || (hix && v >= hi))
		v = !hix ? hi : isfinite(lo) ? (lo + hi) / 2 : hi - 1;
	m = num_of(s, "multipleOf", &ok);
	if (ok && m > 0) {
		w = ceil(v / m) * m;
		if (w > hi || (hix && w >= hi))
			w = floor(v / m) * m;
		if (isfinite(w))
			v = w;                  /* best effort when none fits */
	}
	bt_json_write_num(g->o, v);
	return 0;
}

/* ---- objects and arrays ------------------------------------------------------ */

/* 1 when name is among the first n items of list (both borrowed). */
static int in_first(jv list, int n, jv name)
{
	int i;
	jv x;

	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(list), i);
		if (jv_equal(x, jv_copy(name)))
			return 1;
	}
	return 0;
}

static int in_list(jv list, jv name)    /* both borrowed */
{
	return jv_get_kind(list) == JV_KIND_ARRAY &&
	       in_first(list, jv_array_length(jv_copy(list)), name);
}

static int member(struct gen *g, jv key, jv s, int *first, int root)
{
	size_t old;
	int rc;

	if (!*first)
		bt_buf_addc(g->o, ',');
	*first = 0;
	bt_json_write(g->o, key);
	bt_buf_addc(g->o, ':');
	old = push(g, "properties", jv_string_value(key));
	rc = gen_value(g, s, jv_string_value(key), 0);
	pop(g, old);
	if (rc == 0 && root) {
		if (g->nends == g->cap) {
			g->cap = g->cap ? 2 * g->cap : 16;
			g->ends = bt_realloc(g->ends, g->cap * sizeof *g->ends);
		}
		g->ends[g->nends++] = g->o->len - g->base;
	}
	return rc;
}

static int gen_object(struct gen *g, jv s)
{
	jv props = bt_jv_get(s, "properties"), req = bt_jv_get(s, "required");
	jv extra = bt_jv_get(s, "additionalProperties"), k, v;
	int it, i, n, first = 1, rc = 0, count = 0, root = g->o->len == g->base, ok;
	double minp = num_of(s, "minProperties", &ok);
	char name[32];

	bt_buf_addc(g->o, '{');
	if (jv_get_kind(props) == JV_KIND_OBJECT)
		for (it = jv_object_iter(props); rc == 0 && jv_object_iter_valid(props, it);
		     it = jv_object_iter_next(props, it)) {
			k = jv_object_iter_key(props, it);
			if (g->depth <= SOFT_DEPTH || in_list(req, k)) {
				v = jv_object_iter_value(props, it);
				rc = member(g, k, v, &first, root);
				jv_free(v);
				count++;
			}
			jv_free(k);
		}
	n = jv_get_kind(req) == JV_KIND_ARRAY ? jv_array_length(jv_copy(req)) : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		k = jv_array_get(jv_copy(req), i);
		if (jv_get_kind(k) != JV_KIND_STRING)
			rc = fail(g, "required holds a name that is not a string", NULL);
		else if (!(jv_get_kind(props) == JV_KIND_OBJECT &&
		           jv_object_has(jv_copy(props), jv_copy(k))) && !in_first(req, i, k)) {
			rc = member(g, k, jv_get_kind(extra) == JV_KIND_OBJECT ? extra : jv_true(),
			            &first, root);
			count++;
		}
		jv_free(k);
	}
	if (rc == 0 && ok && minp > MAX_ITEMS)
		rc = fail(g, "minProperties is above 1000", NULL);
	for (i = 0; rc == 0 && ok && count < minp; i++) {
		if (jv_get_kind(extra) == JV_KIND_FALSE) {
			rc = fail(g, "minProperties needs more than additionalProperties allows", NULL);
			break;
		}
		snprintf(name, sizeof name, "extra_%d", i + 1);
		k = jv_string(name);
		if (!(jv_get_kind(props) == JV_KIND_OBJECT && jv_object_has(jv_copy(props), jv_copy(k))) &&
		    !in_list(req, k)) {
			rc = member(g, k, jv_get_kind(extra) == JV_KIND_OBJECT ? extra : jv_true(),
			            &first, root);
			count++;
		}
		jv_free(k);
	}
	bt_buf_addc(g->o, '}');
	jv_free(props);
	jv_free(req);
	jv_free(extra);
	return rc;
}

static int gen_array(struct gen *g, jv s, const char *name)
{
	jv pre = bt_jv_get(s, "prefixItems"), items = bt_jv_get(s, "items"), x;
	double mn, mx;
	int hmn, hmx, np, i, want, rc = 0;
	size_t old;
	char seg[16];

	if (jv_get_kind(items) == JV_KIND_ARRAY) {  /* draft 7's tuples */
		jv_free(pre);
		pre = items;
		items = bt_jv_get(s, "additionalItems");
	}
	np = jv_get_kind(pre) == JV_KIND_ARRAY ? jv_array_length(jv_copy(pre)) : 0;
	mn = num_of(s, "minItems", &hmn);
	mx = num_of(s, "maxItems", &hmx);
	want = g->depth > SOFT_DEPTH ? 0 : 1;
	if (hmn && mn > want)
		want = mn > MAX_ITEMS ? MAX_ITEMS : (int)mn;
	if (want < np && g->depth <= SOFT_DEPTH)
		want = np;
	if (hmx && want > mx)
		want = mx < 0 ? 0 : (int)mx;
	if (jv_get_kind(items) == JV_KIND_FALSE && want > np)
		want = np;
	if (hmn && mn > MAX_ITEMS)
		rc = fail(g, "minItems is above 1000", NULL);
	else if (hmn && want < mn)
		rc = fail(g, "minItems cannot be met", NULL);
	bt_buf_addc(g->o, '[');
	for (i = 0; rc == 0 && i < want; i++) {
		if (i)
			bt_buf_addc(g->o, ',');
		snprintf(seg, sizeof seg, "%d", i);
		if (i < np) {
			old = push(g, "prefixItems", seg);
			x = jv_array_get(jv_copy(pre), i);
		} else {
			old = push(g, "items", NULL);
			x = jv_is_valid(items) ? jv_copy(items) : jv_true();
		}
		rc = gen_value(g, x, name, i);
		jv_free(x);
		pop(g, old);
	}
	bt_buf_addc(g->o, ']');
	jv_free(pre);
	jv_free(items);
	return rc;
}

/* ---- the keywords that choose ------------------------------------------------- */

/* The schema a local $ref names (a JSON pointer from the root), or an
 * invalid jv. */
static jv resolve(jv root, const char *ref)
{
	jv cur = jv_copy(root);
	char tok[256];
	const char *p = ref + 1;
	size_t n;
	char *end;
	long i;

	while (*p == '/') {
		p++;
		for (n = 0; *p && *p != '/' && n < sizeof tok - 1; p++) {
			if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p++;
			} else
				tok[n++] = *p;
		}
		tok[n] = 0;
		if (jv_get_kind(cur) == JV_KIND_OBJECT)
			cur = jv_object_get(cur, jv_string(tok));
		else if (jv_get_kind(cur) == JV_KIND_ARRAY) {
			i = strtol(tok, &end, 10);
			if (*end || !*tok || i < 0 || i >= jv_array_length(jv_copy(cur))) {
				jv_free(cur);
				return jv_invalid();
			}
			cur = jv_array_get(cur, (int)i);
		} else {
			jv_free(cur);
			return jv_invalid();
		}
		if (!jv_is_valid(cur))
			return cur;
	}
	if (*p) {
		jv_free(cur);
		return jv_invalid();
	}
	return cur;
}

/* s (an object) with its allOf merged in: properties joined, required
 * joined, other keywords taken where s has none. */
static int merge_all(struct gen *g, jv s, jv *out)
{
	jv all = bt_jv_get(s, "allOf"), m, b, ref, k, v, have;
	int i, n, it;

	m = jv_object_delete(jv_copy(s), jv_string("allOf"));
	n = jv_get_kind(all) == JV_KIND_ARRAY ? jv_array_length(jv_copy(all)) : 0;
	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(all), i);
		ref = bt_jv_get(b, "$ref");
		if (jv_get_kind(ref) == JV_KIND_STRING && jv_string_value(ref)[0] == '#') {
			jv r = resolve(g->root, jv_string_value(ref));
			jv_free(b);
			b = r;
		}
		jv_free(ref);
		if (jv_get_kind(b) == JV_KIND_FALSE || !jv_is_valid(b)) {
			jv_free(b);
			jv_free(m);
			jv_free(all);
			return fail(g, "an allOf branch admits nothing or does not resolve", NULL);
		}
		if (jv_get_kind(b) == JV_KIND_OBJECT)
			for (it = jv_object_iter(b); jv_object_iter_valid(b, it);
			     it = jv_object_iter_next(b, it)) {
				k = jv_object_iter_key(b, it);
				v = jv_object_iter_value(b, it);
				have = jv_object_get(jv_copy(m), jv_copy(k));
				if (bt_jv_is(k, "properties") && jv_get_kind(have) == JV_KIND_OBJECT &&
				    jv_get_kind(v) == JV_KIND_OBJECT)
					v = jv_object_merge(jv_copy(have), v);
				else if (bt_jv_is(k, "required") && jv_get_kind(have) == JV_KIND_ARRAY &&
				         jv_get_kind(v) == JV_KIND_ARRAY)
					v = jv_array_concat(jv_copy(have), v);
				else if (jv_is_valid(have)) {
					jv_free(v);
					v = jv_copy(have);
				}
				if (!bt_jv_is(k, "$ref"))
					m = jv_object_set(m, jv_copy(k), v);
				else
					jv_free(v);
				jv_free(have);
				jv_free(k);
			}
		jv_free(b);
	}
	jv_free(all);
	*out = m;
	return 0;
}

/* The type to make: the first of a list that is not "null" (else null),
 * or what the keywords suggest, or a string. */
static const char *pick_type(jv t, unsigned kw)
{
	static const char *const names[] = { "string", "integer", "number", "boolean",
	                                     "object", "array", "null" };
	const char *want = NULL;
	int i, j, n;
	jv x;

	if (jv_get_kind(t) == JV_KIND_STRING)
		want = jv_string_value(t);
	else if (jv_get_kind(t) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(t));
		for (i = 0; i < n && !want; i++) {
			x = jv_array_get(jv_copy(t), i);
			for (j = 0; j < 6; j++)
				if (bt_jv_is(x, names[j]))
					want = names[j];
			jv_free(x);
		}
		if (!want)
			want = n ? "null" : "";
	} else if (kw & K_OBJECT)
		want = "object";
	else if (kw & K_ARRAY)
		want = "array";
	else if (kw & K_NUMBER)
		want = "number";
	else
		want = "string";
	for (j = 0; j < 7; j++)
		if (!strcmp(want, names[j]))
			return names[j];
	return NULL;
}

static int gen_typed(struct gen *g, jv s, unsigned kw, const char *name, int idx)
{
	jv t = bt_jv_get(s, "type");
	const char *k = pick_type(t, kw);
	int rc;

	if (!k)
		rc = fail(g, "an unknown type: ", jv_get_kind(t) == JV_KIND_STRING ?
		          jv_string_value(t) : "(a list of none)");
	else if (!strcmp(k, "string"))
		rc = gen_string(g, s, name, idx);
	else if (!strcmp(k, "integer") || !strcmp(k, "number"))
		rc = gen_number(g, s, !strcmp(k, "integer"), idx);
	else if (!strcmp(k, "boolean")) {
		bt_buf_adds(g->o, idx % 2 ? "false" : "true");
		rc = 0;
	} else if (!strcmp(k, "null")) {
		bt_buf_adds(g->o, "null");
		rc = 0;
	} else if (!strcmp(k, "object"))
		rc = gen_object(g, s);
	else
		rc = gen_array(g, s, name);
	jv_free(t);
	return rc;
}

/* The first branch of anyOf or oneOf that is not just {"type":"null"}
 * (else the first), made. */
static int gen_branch(struct gen *g, jv list, const char *kw, const char *name, int idx)
{
	int i, n = jv_get_kind(list) == JV_KIND_ARRAY ? jv_array_length(jv_copy(list)) : 0;
	int pick = 0, rc;
	size_t old;
	char seg[16];
	jv b, t;

	if (!n)
		return fail(g, kw, " is not a list of one or more schemas");
	for (i = n - 1; i >= 0; i--) {
		b = jv_array_get(jv_copy(list), i);
		t = bt_jv_get(b, "type");
		if (!bt_jv_is(t, "null"))
			pick = i;
		jv_free(t);
		jv_free(b);
	}
	snprintf(seg, sizeof seg, "%d", pick);
	old = push(g, kw, seg);
	b = jv_array_get(jv_copy(list), pick);
	rc = gen_value(g, b, name, idx);
	jv_free(b);
	pop(g, old);
	return rc;
}

static int gen_value(struct gen *g, jv s, const char *name, int idx)
{
	unsigned kw;
	jv x;
	int rc, n;
	size_t old;

	if (++g->depth > HARD_DEPTH) {
		g->depth--;
		return fail(g, "it nests deeper than 32 levels (a $ref that never ends?)", NULL);
	}
	if (++g->values > MAX_VALUES) {
		g->depth--;
		return fail(g, "the answer would hold more than 100000 values", NULL);
	}
	if (jv_get_kind(s) == JV_KIND_TRUE) {
		x = jv_object();
		rc = gen_string(g, x, name, idx);
		jv_free(x);
	}
	else if (jv_get_kind(s) == JV_KIND_FALSE)
		rc = fail(g, "false admits no value", NULL);
	else if (jv_get_kind(s) != JV_KIND_OBJECT)
		rc = fail(g, "a schema must be an object or a boolean", NULL);
	else if ((kw = keywords(s)) & K_REF) {
		x = bt_jv_get(s, "$ref");
		if (jv_get_kind(x) != JV_KIND_STRING || jv_string_value(x)[0] != '#')
			rc = fail(g, "only local $ref (\"#/...\") are followed", NULL);
		else {
			jv r = resolve(g->root, jv_string_value(x));
			if (!jv_is_valid(r))
				rc = fail(g, "$ref does not resolve: ", jv_string_value(x));
			else {
				old = push(g, "$ref", NULL);
				rc = gen_value(g, r, name, idx);
				pop(g, old);
			}
			jv_free(r);
		}
		jv_free(x);
	} else if (kw & K_CONST) {
		x = bt_jv_get(s, "const");
		bt_json_write(g->o, x);
		jv_free(x);
		rc = 0;
	} else if (kw & K_ENUM) {
		x = bt_jv_get(s, "enum");
		n = jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
		if (!n)
			rc = fail(g, "enum is not a list of one or more values", NULL);
		else {
			x = jv_array_get(x, idx % n);
			bt_json_write(g->o, x);
			rc = 0;
		}
		jv_free(x);
	} else if (kw & K_ALLOF) {
		if ((rc = merge_all(g, s, &x)) == 0) {
			old = push(g, "allOf", NULL);
			rc = gen_value(g, x, name, idx);
			pop(g, old);
			jv_free(x);
		}
	} else if (kw & (K_ANYOF | K_ONEOF)) {
		const char *which = kw & K_ANYOF ? "anyOf" : "oneOf";
		x = bt_jv_get(s, which);
		rc = gen_branch(g, x, which, name, idx);
		jv_free(x);
	} else
		rc = gen_typed(g, s, kw, name, idx);
	g->depth--;
	return rc;
}

int schema_answer(struct bt_buf *o, jv schema, const char *text, size_t n,
                  struct schema_cut *cut, const char *where, char *msg, size_t sz)
{
	struct gen g = { .o = o, .root = schema, .text = text, .n = n, .where = where,
	                 .base = o->len, .msg = msg, .sz = sz };
	size_t i;
	int rc, in = 0, full = 0;

	for (i = 0; i < n; i++) {           /* count the words, keep the first */
		if (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r') {
			in = 0;
			continue;
		}
		if (!in && ++g.words <= SHORT_WORDS && g.few.len && !full)
			bt_buf_addc(&g.few, ' ');
		in = 1;
		if (g.words > SHORT_WORDS || full)
			continue;
		if (g.few.len >= SHORT_BYTES && ((unsigned char)text[i] & 0xC0) != 0x80)
			full = 1;               /* never inside a UTF-8 sequence */
		else
			bt_buf_addc(&g.few, text[i]);
	}
	bt_buf_str(&g.few);
	rc = gen_value(&g, schema, "value", 0);
	if (cut) {
		cut->ends = g.ends;
		cut->n = g.nends;
	} else
		free(g.ends);
	bt_buf_free(&g.few);
	return rc;
}
