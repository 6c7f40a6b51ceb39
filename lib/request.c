/* request.c — one line of the requests stream, checked without building
 * it: a JSON object with exactly custom_id (a valid id) and params (an
 * object), as the API's additionalProperties: false wants. */
#include <stdio.h>
#include <string.h>

#include "bt.h"

struct req {
	const char *id, *params, *unknown, *dup;
	size_t idlen, paramslen, unknownlen, duplen;
};

/* The JSON type of a value, from its first byte. */
static const char *kind(const char *v)
{
	switch (*v) {
	case '{': return "an object";
	case '[': return "an array";
	case '"': return "a string";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	default: return "a number";
	}
}

static int member(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct req *r = arg;
	const char **at;
	size_t *atn;

	if (bt_json_key_is(k, kn, "custom_id")) {
		at = &r->id;
		atn = &r->idlen;
	} else if (bt_json_key_is(k, kn, "params")) {
		at = &r->params;
		atn = &r->paramslen;
	} else {
		if (!r->unknown) {
			r->unknown = k;
			r->unknownlen = kn;
		}
		return 0;
	}
	if (*at && !r->dup) {
		r->dup = k;
		r->duplen = kn;
	}
	*at = v;
	*atn = vn;
	return 0;
}

int bt_request_check(const char *s, size_t n, char id[BT_ID_MAX + 1],
                     char *err, size_t errsz)
{
	struct req r = { 0 };
	char perr[256], q[BT_QUOTE_SIZE];
	const char *p = s;

	while (p < s + n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < s + n && *p != '{' && bt_json_skip(p, n - (size_t)(p - s), NULL, 0)) {
		snprintf(err, errsz, "not a JSON object");
		return -1;
	}
	if (bt_json_members_utf8(s, n, member, &r, perr, sizeof perr) != 0) {
		/* bad UTF-8 is no JSON syntax error: jq takes it, replaced */
		snprintf(err, errsz, "%s%s", strncmp(perr, "invalid UTF-8", 13) ?
		         "invalid JSON: " : "", perr);
		return -1;
	}
	if (r.dup)
		snprintf(err, errsz, "duplicate member \"%s\"", bt_quote(q, r.dup, r.duplen));
	else if (r.unknown)
		snprintf(err, errsz, "unknown member \"%s\" "
		         "(a request has only custom_id and params)",
		         bt_quote(q, r.unknown, r.unknownlen));
	else if (!r.id)
		snprintf(err, errsz, "missing custom_id");
	else if (*r.id != '"')
		snprintf(err, errsz, "custom_id is %s, not a string", kind(r.id));
	else if (!bt_custom_id_ok(r.id + 1, r.idlen - 2))
		snprintf(err, errsz, "invalid custom_id %s: it must "
		         "match ^[a-zA-Z0-9_-]{1,64}$", bt_quote(q, r.id, r.idlen));
	else if (!r.params)
		snprintf(err, errsz, "missing params");
	else if (*r.params != '{')
		snprintf(err, errsz, "params is %s, not an object", kind(r.params));
	else {
		memcpy(id, r.id + 1, r.idlen - 2);
		id[r.idlen - 2] = 0;
		return 0;
	}
	return -1;
}
