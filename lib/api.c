/* api.c — a provider's batches, call by call, and the batches stream
 * (paths and field names are the provider's: provider.c) */
#include <string.h>

#include "bt.h"

int bt_batch_id_ok(const char *s, size_t n)
{
	const char *pre = bt_provider()->id_prefix;
	size_t i, p = strlen(pre);

	if (n <= p || n >= BT_BATCH_ID_MAX || memcmp(s, pre, p))
		return 0;
	for (i = p; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Which provider's a batch id is, by its prefix; -1: neither. */
static int id_provider(const char *s, size_t n)
{
	static const char *const names[] = { "anthropic", "openai" };
	size_t i, p;

	for (i = 0; i < 2; i++) {
		const struct bt_provider *pv = bt_provider_find(names[i]);
		p = strlen(pv->id_prefix);
		if (n > p && !memcmp(s, pv->id_prefix, p))
			return bt_provider_from_name(names[i]);
	}
	return -1;
}

static int has(jv o, const char *key)
{
	jv x = bt_jv_get(o, key);
	int r = jv_is_valid(x);

	jv_free(x);
	return r;
}

/* The batch line's provider (an id, or an object by its "type" or
 * "object", else its id) is the one in use, or becomes it: 0, or -1 with
 * err. */
static int follow(int provider, char *err, size_t errsz)
{
	return provider < 0 ? 0 : bt_config_input(provider, "batch", err, errsz);
}

int bt_batch_ref(const char *s, size_t n, char id[BT_BATCH_ID_MAX], jv *batch,
                 char *err, size_t errsz)
{
	char perr[200], q[BT_QUOTE_SIZE];
	size_t good;
	jv v, x;

	*batch = jv_invalid();
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (!n || *s != '{') {
		if (follow(id_provider(s, n), err, errsz) < 0)
			return -1;
		if (!bt_batch_id_ok(s, n)) {
			snprintf(err, errsz, "not a batch id or a batch object: '%s'",
			         bt_quote(q, s, n));
			return -1;
		}
		memcpy(id, s, n);
		id[n] = 0;
		return 0;
	}
	/* the parser would take bad UTF-8, replaced */
	if ((good = bt_utf8_valid(s, n)) < n) {
		snprintf(err, errsz, "invalid UTF-8 at column %zu", good + 1);
		return -1;
	}
	v = bt_json_parse(s, n, perr, sizeof perr);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		if (jv_is_valid(v))
			snprintf(err, errsz, "not a batch object");
		else
			snprintf(err, errsz, "invalid JSON: %s", perr);
		jv_free(v);
		return -1;
	}
	x = jv_object_get(jv_copy(v), jv_string("id"));
	{
		int pr = has(v, "type") ? BT_PROVIDER_ANTHROPIC :
		         has(v, "object") ? BT_PROVIDER_OPENAI :
		         jv_get_kind(x) == JV_KIND_STRING ?
		         id_provider(jv_string_value(x), strlen(jv_string_value(x))) : -1;
		if (follow(pr, err, errsz) < 0) {
			jv_free(x);
			jv_free(v);
			return -1;
		}
	}
	jv_free(x);
	x = jv_object_get(jv_copy(v), jv_string(bt_provider()->object_field));
	if (jv_is_valid(x) && (jv_get_kind(x) != JV_KIND_STRING ||
	                       strcmp(jv_string_value(x), bt_provider()->object_type))) {
		snprintf(err, errsz, "not a batch object: its \"%s\" is not \"%s\"",
		         bt_provider()->object_field, bt_provider()->object_type);
		jv_free(x);
		jv_free(v);
		return -1;
	}
	jv_free(x);
	x = jv_object_get(jv_copy(v), jv_string("id"));
	if (jv_get_kind(x) != JV_KIND_STRING ||
	    !bt_batch_id_ok(jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)))) {
		snprintf(err, errsz, "a batch object without a valid \"id\"");
		jv_free(x);
		jv_free(v);
		return -1;
	}
	strcpy(id, jv_string_value(x));
	jv_free(x);
	*batch = v;
	return 0;
}

static jv call(struct bt_http *h, const char *method, const char *fmt,
               const char *id, struct bt_resp *resp)
{
	char path[BT_PATH_MAX];

	bt_batch_path(path, fmt, id);
	return bt_http_json(h, method, path, resp);
}

jv bt_batch_get(struct bt_http *h, const char *id, struct bt_resp *resp)
{
	return call(h, "GET", bt_provider()->batch_path, id, resp);
}

jv bt_batch_cancel(struct bt_http *h, const char *id, struct bt_resp *resp)
{
	return call(h, "POST", bt_provider()->cancel_path, id, resp);
}

jv bt_batch_delete(struct bt_http *h, const char *id, struct bt_resp *resp)
{
	if (!bt_provider()->delete_path) {
		memset(resp, 0, sizeof *resp);
		snprintf(resp->err, sizeof resp->err, "provider %s: a batch cannot be "
		         "deleted (its files expire: see bt-submit(1))", bt_provider()->name);
		return jv_invalid();
	}
	return call(h, "DELETE", bt_provider()->delete_path, id, resp);
}

int bt_batch_field(jv b, const char *field, char *out, size_t outsz)
{
	jv x = jv_get_kind(b) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(b), jv_string(field)) : jv_invalid();
	int ok = jv_get_kind(x) == JV_KIND_STRING;

	snprintf(out, outsz, "%s", ok ? jv_string_value(x) : "");
	jv_free(x);
	return ok ? 0 : -1;
}

long long bt_batch_count(jv b, const char *which)
{
	static const char *names[BT_COUNTS] = { "processing", "succeeded", "errored",
	                                        "canceled", "expired" };
	long long c[BT_COUNTS], sum = 0;
	int i, r = bt_batch_counts(b, c);

	if (r == -1)
		return -1;
	/* a bad count matters only where it is read */
	for (i = 0; i < BT_COUNTS && sum >= 0; i++)
		if (!strcmp(which, "total") || !strcmp(which, names[i]))
			sum = c[i] < 0 ? -2 : sum + c[i];
	return sum;
}

void bt_print_json(jv v)
{
	struct bt_buf b = { 0 };

	bt_json_write(&b, v);
	bt_buf_addc(&b, '\n');
	bt_flush(&b);
	bt_buf_free(&b);
}

/* ---- the batch list, a page at a time ---- */

void bt_pages_init(struct bt_pages *p, struct bt_http *h)
{
	memset(p, 0, sizeof *p);
	p->http = h;
	p->more = 1;
}

void bt_pages_free(struct bt_pages *p)
{
	bt_idset_free(&p->seen);
}

/* The page's data, checked: an array of objects, has_more a boolean,
 * last_id a string when there is more, a cursor that moves and never
 * comes back.  NULL, or what is wrong. */
static const char *page_check(struct bt_pages *p, jv page, jv *data)
{
	jv hm = jv_object_get(jv_copy(page), jv_string("has_more")), b;
	char last[BT_BATCH_ID_MAX] = "";
	int i, n;

	*data = jv_object_get(jv_copy(page), jv_string("data"));
	if (jv_get_kind(*data) != JV_KIND_ARRAY) {
		jv_free(hm);
		return "no \"data\" array";
	}
	n = jv_array_length(jv_copy(*data));
	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(*data), i);
		if (jv_get_kind(b) != JV_KIND_OBJECT) {
			jv_free(b);
			jv_free(hm);
			return "an element of \"data\" is not a batch";
		}
		jv_free(b);
	}
	if (jv_get_kind(hm) != JV_KIND_TRUE && jv_get_kind(hm) != JV_KIND_FALSE) {
		jv_free(hm);
		return "no \"has_more\" boolean";
	}
	p->more = jv_get_kind(hm) == JV_KIND_TRUE;
	jv_free(hm);
	if (!p->more)
		return NULL;
	if (n == 0)
		return "an empty page that says it has more";
	if (bt_batch_field(page, "last_id", last, sizeof last) < 0 || !last[0])
		return "\"has_more\" without a \"last_id\"";
	if (!bt_batch_id_ok(last, strlen(last)))
		return "a \"last_id\" that is not a batch id";
	if (bt_idset_add(&p->seen, last, 1))
		return "the cursor came back to a page it gave before";
	if (++p->pages >= BT_PAGES_MAX)
		return "more pages than " BT_STR(BT_PAGES_MAX) ": the server may not follow after_id";
	strcpy(p->after, last);
	return NULL;
}

int bt_pages_next(struct bt_pages *p, long long limit, jv *data, struct bt_resp *resp,
                  char *err, size_t errsz)
{
	const struct bt_provider *pv = bt_provider();
	char path[BT_PATH_MAX];
	const char *why;
	jv page;

	*data = jv_invalid();
	if (!p->more)
		return 0;
	if (p->after[0])
		snprintf(path, sizeof path, "%s?limit=%lld&%s=%s", pv->list_path, limit,
		         pv->list_after, p->after);
	else
		snprintf(path, sizeof path, "%s?limit=%lld", pv->list_path, limit);
	page = bt_http_json(p->http, "GET", path, resp);
	if (!jv_is_valid(page)) {
		snprintf(err, errsz, "%s", resp->err);
		return -1;
	}
	why = page_check(p, page, data);
	jv_free(page);
	if (why) {
		snprintf(err, errsz, "GET %s: bad answer: %s%s%s", path, why,
		         resp->request_id[0] ? " request-id " : "", resp->request_id);
		jv_free(*data);
		*data = jv_invalid();
		p->more = 0;
		return -1;
	}
	return 1;
}
