/* request.c — one line of the requests stream, checked without building
 * it: a JSON object with exactly custom_id (a valid id) and params (an
 * object), as the API's additionalProperties: false wants. */
#include <stdarg.h>
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

/* Params that may hold an image or a document (the key "source", which
 * both need, appears) are built and their blocks checked; the rest pass
 * at the cost of one scan. */
static int media_problem(const char *p, size_t n, char *err, size_t errsz)
{
	char e[256], m[300];
	jv v;
	int rc;

	if (!bt_memmem(p, n, "\"source\"", 8))
		return 0;
	v = bt_json_parse(p, n, e, sizeof e);
	rc = bt_content_check(v, m, sizeof m);
	jv_free(v);
	if (rc < 0)
		snprintf(err, errsz, "params.%s", m);
	return rc;
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
	else if (media_problem(r.params, r.paramslen, err, errsz) < 0)
		return -1;
	else {
		memcpy(id, r.id + 1, r.idlen - 2);
		id[r.idlen - 2] = 0;
		return 0;
	}
	return -1;
}

/* ---- the content blocks of params, as the API checks them ---- */

struct chk {
	struct bt_buf raw;      /* decoded data, reused */
	int images;
	char *err;
	size_t errsz;
};

static int fail(struct chk *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct chk *c, const char *path, const char *fmt, ...)
{
	char m[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errsz, "%s%s%s", path, *path ? ": " : "", m);
	return -1;
}

/* base64 source data: decoded into c->raw; its length, or -1 (reported). */
static long long data(struct chk *c, jv src, const char *path, long long max,
                      const char *what)
{
	jv d = bt_jv_get(src, "data");
	long long n, got;

	if (jv_get_kind(d) != JV_KIND_STRING) {
		jv_free(d);
		return fail(c, path, "source.data: a string of base64 is required");
	}
	n = jv_string_length_bytes(jv_copy(d));
	if (n > max) {
		jv_free(d);
		return fail(c, path, "the %s is %lld bytes of base64, more than the "
		            "API takes (%lld)", what, n, max);
	}
	c->raw.len = 0;
	got = bt_b64_decode(jv_string_value(d), (size_t)n, &c->raw);
	jv_free(d);
	if (got < 0)
		return fail(c, path, "source.data: invalid base64 data");
	return got;
}

static int image(struct chk *c, jv src, const char *path)
{
	jv st = bt_jv_get(src, "type"), mt = bt_jv_get(src, "media_type"), u;
	const char *t, *is;
	long w, h;
	int rc = -1;

	if (bt_jv_is(st, "url")) {
		u = bt_jv_get(src, "url");
		rc = jv_get_kind(u) == JV_KIND_STRING ? 0 :
		     fail(c, path, "source.url: a string is required");
		jv_free(u);
	} else if (!bt_jv_is(st, "base64"))
		fail(c, path, "source.type: must be \"base64\" or \"url\"");
	else if (jv_get_kind(mt) != JV_KIND_STRING || !bt_media_image_type(jv_string_value(mt)))
		fail(c, path, "source.media_type: must be image/jpeg, image/png, "
		     "image/gif or image/webp");
	else if (data(c, src, path, BT_IMAGE_MAX_B64, "image") >= 0) {
		t = jv_string_value(mt);
		is = bt_media_sniff(c->raw.p, c->raw.len);
		if (!is || strcmp(is, t))
			fail(c, path, "the image data is not %s (%s)", t,
			     is ? is : "not an image type the API takes");
		else if (bt_image_size(c->raw.p, c->raw.len, &w, &h) < 0)
			fail(c, path, "the %s image is damaged: no size in its header", t);
		else if (w > BT_IMAGE_MAX_PX || h > BT_IMAGE_MAX_PX)
			fail(c, path, "the image is %ldx%ld pixels, more than the API "
			     "takes (%d a side)", w, h, BT_IMAGE_MAX_PX);
		else
			rc = 0;
	}
	jv_free(st);
	jv_free(mt);
	return rc;
}

static int document(struct chk *c, jv src, const char *path)
{
	jv st = bt_jv_get(src, "type"), mt = bt_jv_get(src, "media_type"), u;
	const char *is;
	int rc = -1;

	if (bt_jv_is(st, "url") || bt_jv_is(st, "text")) {
		u = bt_jv_get(src, bt_jv_is(st, "url") ? "url" : "data");
		rc = jv_get_kind(u) == JV_KIND_STRING ? 0 :
		     fail(c, path, "source.%s: a string is required",
		          bt_jv_is(st, "url") ? "url" : "data");
		jv_free(u);
		if (rc == 0 && bt_jv_is(st, "text") && !bt_jv_is(mt, "text/plain"))
			rc = fail(c, path, "source.media_type: must be text/plain");
	} else if (bt_jv_is(st, "content"))
		rc = 0;
	else if (!bt_jv_is(st, "base64"))
		fail(c, path, "source.type: must be \"base64\", \"text\", "
		     "\"content\" or \"url\"");
	else if (!bt_jv_is(mt, "application/pdf"))
		fail(c, path, "source.media_type: must be application/pdf");
	else if (data(c, src, path, BT_PDF_MAX_B64, "PDF") >= 0) {
		is = bt_media_sniff(c->raw.p, c->raw.len);
		if (!is || strcmp(is, "application/pdf"))
			fail(c, path, "the document data is not a PDF");
		else
			rc = 0;
	}
	jv_free(st);
	jv_free(mt);
	return rc;
}

static int blocks(struct chk *c, jv content, const char *path);

static int block(struct chk *c, jv blk, const char *path)
{
	jv t = bt_jv_get(blk, "type"), x;
	int rc = 0;

	if (bt_jv_is(t, "image") || bt_jv_is(t, "document")) {
		x = bt_jv_get(blk, "source");
		if (bt_jv_is(t, "image") && ++c->images > BT_MAX_IMAGES)
			rc = fail(c, path, "more than %d images in one request",
			          BT_MAX_IMAGES);
		else if (jv_get_kind(x) != JV_KIND_OBJECT)
			rc = fail(c, path, "source: an object is required");
		else
			rc = bt_jv_is(t, "image") ? image(c, x, path) : document(c, x, path);
		jv_free(x);
	} else if (bt_jv_is(t, "tool_result")) {
		x = bt_jv_get(blk, "content");
		char sub[200];
		snprintf(sub, sizeof sub, "%.180s.content", path);
		rc = blocks(c, x, sub);
		jv_free(x);
	}
	jv_free(t);
	return rc;
}

static int blocks(struct chk *c, jv content, const char *path)
{
	char sub[200];
	int i, n, rc = 0;
	jv blk;

	if (jv_get_kind(content) != JV_KIND_ARRAY)
		return 0;
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n && rc == 0; i++) {
		blk = jv_array_get(jv_copy(content), i);
		snprintf(sub, sizeof sub, "%.180s.%d", path, i);
		rc = block(c, blk, sub);
		jv_free(blk);
	}
	return rc;
}

int bt_content_check(jv params, char *err, size_t errsz)
{
	struct chk c = { .err = err, .errsz = errsz };
	char path[64];
	int i, n, rc;
	jv x, m, cont;

	x = bt_jv_get(params, "system");
	rc = blocks(&c, x, "system");
	jv_free(x);
	x = bt_jv_get(params, "messages");
	n = rc == 0 && jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
	for (i = 0; i < n && rc == 0; i++) {
		m = jv_array_get(jv_copy(x), i);
		cont = bt_jv_get(m, "content");
		snprintf(path, sizeof path, "messages.%d.content", i);
		rc = blocks(&c, cont, path);
		jv_free(cont);
		jv_free(m);
	}
	jv_free(x);
	bt_buf_free(&c.raw);
	return rc;
}
