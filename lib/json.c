/* json.c — JSON text to jv, quickly.
 *
 * A strict RFC 8259 parser that builds jv values directly: several times
 * faster than jq 1.6's jv_parser, which rebuilds every token through a
 * state machine.  Differences from jq's parser are on the strict side:
 * raw control characters in strings, NaN, and leading zeros are errors.
 * But one: a \ud800-\udbff escape with no low surrogate after it is
 * U+FFFD, as jq 1.7 reads it, where jq 1.6 refuses the text.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 10000

struct parser {
	const char *s, *p, *end;
	char *err;
	size_t errsz;
	int build;      /* 0: validate only */
	int depth;
	int failed;
	const char *at;     /* where the first failure was said to be */
	struct bt_buf tmp;  /* unescaped string text */
};

static void fail(struct parser *P, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct parser *P, const char *at, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (P->failed)
		return;
	P->failed = 1;
	P->at = at;
	if (!P->err || !P->errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(P->err, P->errsz, "%s at column %zu", what,
	         (size_t)(at - P->s) + 1);
}

static void unexpected(struct parser *P, const char *at, const char *wanted)
{
	unsigned char c;

	if (at >= P->end) {
		fail(P, at, "unexpected end of input%s%s", wanted ? ", expected " : "",
		     wanted ? wanted : "");
		return;
	}
	c = (unsigned char)*at;
	if (c >= 0x20 && c < 0x7f)
		fail(P, at, "unexpected '%c'%s%s", c, wanted ? ", expected " : "",
		     wanted ? wanted : "");
	else
		fail(P, at, "unexpected byte 0x%02x%s%s", c,
		     wanted ? ", expected " : "", wanted ? wanted : "");
}

static inline void ws(struct parser *P)
{
	while (P->p < P->end && (*P->p == ' ' || *P->p == '\n' ||
	                         *P->p == '\r' || *P->p == '\t'))
		P->p++;
}

static jv value(struct parser *P);

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct bt_buf *b, unsigned c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	bt_buf_add(b, u, n);
}

/* The first byte at or after p that ends a plain run of string text: a
 * quote, a backslash or a control character; end when there is none.
 * Strings are most of the bytes of a request, so 16 at a time. */
static inline const char *plain_run(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);
	__m128i v, hit;
	int mask;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)p);
		hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
		/* c <= 0x1f, unsigned: max(c, 0x1f) == 0x1f */
		hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
		mask = _mm_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

/* The same, 32 at a time, where the processor has AVX2: chosen at run
 * time, so one build serves every x86-64. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX2__)
#include <immintrin.h>

int bt_json_avx2;

__attribute__((constructor)) static void json_init(void)
{
	__builtin_cpu_init();
	bt_json_avx2 = __builtin_cpu_supports("avx2");
}

__attribute__((target("avx2")))
static const char *plain_run_avx2(const char *p, const char *end)
{
	const __m256i quote = _mm256_set1_epi8('"');
	const __m256i bslash = _mm256_set1_epi8('\\');
	const __m256i ctl = _mm256_set1_epi8(0x1f);
	__m256i v, hit;
	unsigned mask;

	while (end - p >= 32) {
		v = _mm256_loadu_si256((const __m256i *)p);
		hit = _mm256_or_si256(_mm256_cmpeq_epi8(v, quote),
		                      _mm256_cmpeq_epi8(v, bslash));
		hit = _mm256_or_si256(hit, _mm256_cmpeq_epi8(_mm256_max_epu8(v, ctl), ctl));
		mask = (unsigned)_mm256_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz(mask);
		p += 32;
	}
	return plain_run(p, end);
}
#define PLAIN_RUN(p, end) (bt_json_avx2 ? plain_run_avx2(p, end) : plain_run(p, end))

/* The bytes a quick scan of an object or array stops at, 32 at a time:
 * quotes, backslashes, control characters and brackets, as a bit each. */
__attribute__((target("avx2")))
static inline uint32_t stops_avx2(const char *p)
{
	const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\');
	const __m256i ctl = _mm256_set1_epi8(0x1f), fold = _mm256_set1_epi8((char)0xdf);
	const __m256i open = _mm256_set1_epi8('['), close = _mm256_set1_epi8(']');
	__m256i v = _mm256_loadu_si256((const __m256i *)p), f, hit;

	/* '{' and '[' are 0x7b and 0x5b, '}' and ']' 0x7d and 0x5d: one bit apart */
	f = _mm256_and_si256(v, fold);
	hit = _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, bslash));
	hit = _mm256_or_si256(hit, _mm256_cmpeq_epi8(_mm256_max_epu8(v, ctl), ctl));
	hit = _mm256_or_si256(hit, _mm256_or_si256(_mm256_cmpeq_epi8(f, open),
	                                           _mm256_cmpeq_epi8(f, close)));
	return (uint32_t)_mm256_movemask_epi8(hit);
}

/* The quick scan of the object or array at p (quick_value's), where the
 * processor has AVX2: 0 with *out just past its end, or -1 when it has
 * found anything wrong or unusual (an error, an escape cut by the end,
 * more than 64 levels), for the byte-at-a-time scan to decide and say.
 * Only its success counts, so it must succeed exactly where that scan
 * does, ending where it ends: tests/fuzz/json.c holds the two to it.
 * Longer than 80 lines: one loop, whose cases are JSON's. */
__attribute__((target("avx2")))
static int quick_avx2(const char *p, const char *end, const char **out)
{
	uint64_t stack = 0;
	uint32_t m;
	unsigned u;
	int depth = 0, in_string = 0, i, len;
	const char *blk = p, *e;
	char tail[32];

	while (blk < end) {
		if (end - blk >= 32)
			m = stops_avx2(blk);
		else {
			/* the last bytes, padded with spaces, which stop nothing */
			memset(tail, ' ', sizeof tail);
			memcpy(tail, blk, (size_t)(end - blk));
			m = stops_avx2(tail);
		}
		while (m) {
			i = __builtin_ctz(m);
			m &= m - 1;
			switch (blk[i]) {
			case '"':
				in_string = !in_string;
				break;
			case '\\':
				if (!in_string)
					break;          /* outside a string: not looked at */
				e = blk + i + 1;
				if (e >= end)
					return -1;
				switch (*e) {
				case '"': case '\\': case '/': case 'b': case 'f':
				case 'n': case 'r': case 't':
					len = 1;
					break;
				case 'u':
					if (end - e < 5 || hex4(e + 1, &u) < 0)
						return -1;
					len = 5;
					break;
				default:
					return -1;
				}
				if (i + len > 31) {     /* past this block: the next starts after it */
					blk = e + len - 32;     /* + 32 below */
					m = 0;
					break;
				}
				m &= ~((2u << (i + len)) - 1);
				break;
			case '{': case '[':
				if (in_string)
					break;
				if (++depth > 64)
					return -1;
				stack = stack << 1 | (blk[i] == '{');
				break;
			case '}': case ']':
				if (in_string)
					break;
				if (!depth || (stack & 1) != (blk[i] == '}'))
					return -1;
				stack >>= 1;
				if (--depth == 0) {
					*out = blk + i + 1;
					return 0;
				}
				break;
			default:                /* a control character */
				if (in_string)
					return -1;
			}
		}
		blk += 32;
	}
	return -1;
}
#define QUICK_AVX2(p, end, out) (bt_json_avx2 ? quick_avx2(p, end, out) : -1)
#else
int bt_json_avx2;
#define PLAIN_RUN(p, end) plain_run(p, end)
#define QUICK_AVX2(p, end, out) (-1)
#endif

/* The string that starts at P->p (after its quote): its text, escapes
 * undone (*out, *outlen: in the input, or in P->tmp when it had an
 * escape, built only when P->build).  0, or -1 when it failed.  Longer
 * than 80 lines: every escape is one case of the one hot loop. */
static int string_text(struct parser *P, const char **out, size_t *outlen)
{
	const char *start = P->p, *p = P->p, *end = P->end;
	unsigned char c;
	int escaped = 0;
	unsigned u, lo;

	/* the common case: no escapes */
	for (;;) {
		p = PLAIN_RUN(p, end);
		if (p >= end) {
			fail(P, start - 1, "unterminated string");
			return -1;
		}
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20) {
			fail(P, p, "control character 0x%02x in string", c);
			return -1;
		}
		/* a backslash: unescape from here on into tmp */
		if (!escaped) {
			escaped = 1;
			P->tmp.len = 0;
		}
		if (P->build)
			bt_buf_add(&P->tmp, start, (size_t)(p - start));
		if (p + 1 >= end) {
			fail(P, p, "unterminated string");
			return -1;
		}
		switch (p[1]) {
		case '"': case '\\': case '/':
			c = (unsigned char)p[1]; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (end - p < 6 || hex4(p + 2, &u) < 0) {
				fail(P, p, "invalid \\u escape");
				return -1;
			}
			p += 6;
			if (u >= 0xd800 && u < 0xdc00) {
				if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
				    hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				} else
					u = 0xfffd;     /* a lone surrogate, as jq 1.7 */
			} else if (u >= 0xdc00 && u < 0xe000)
				u = 0xfffd;
			if (P->build)
				put_utf8(&P->tmp, u);
			start = p;
			continue;
		default:
			fail(P, p, "invalid escape '\\%c' in string",
			     p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
			return -1;
		}
		if (P->build)
			bt_buf_addc(&P->tmp, c);
		p += 2;
		start = p;
	}
	P->p = p + 1;
	if (!P->build)
		return 0;
	if (!escaped) {
		*out = start;
		*outlen = (size_t)(p - start);
		return 0;
	}
	bt_buf_add(&P->tmp, start, (size_t)(p - start));
	*out = P->tmp.p;
	*outlen = P->tmp.len;
	return 0;
}

static jv string(struct parser *P)
{
	const char *t;
	size_t n;

	if (string_text(P, &t, &n) < 0)
		return jv_invalid();
	return P->build ? jv_string_sized(t, (int)n) : jv_null();
}

/* The number that starts at P->p, as a double (when P->build).  0, or
 * -1 when it failed. */
static int number_value(struct parser *P, double *out)
{
	const char *p = P->p, *start = P->p, *end = P->end;
	int frac = 0;
	char tmp[64], *copy;
	double d;
	long long v = 0;
	int digits = 0;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9') {
			fail(P, p - 1, "leading zero in number");
			return -1;
		}
		digits = 1;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9') {
			if (digits < 18)
				v = v * 10 + (*p - '0');
			digits++;
			p++;
		}
	} else {
		unexpected(P, p, "a digit");
		return -1;
	}
	if (p < end && *p == '.') {
		frac = 1;
		p++;
		if (p >= end || *p < '0' || *p > '9') {
			unexpected(P, p, "a digit after '.'");
			return -1;
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		frac = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9') {
			unexpected(P, p, "a digit in the exponent");
			return -1;
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	P->p = p;
	if (!P->build)
		return 0;
	if (!frac && digits <= 15) {
		*out = *start == '-' ? -(double)v : (double)v;
		return 0;
	}
	/* strtod needs a terminated copy: the text may run on in the buffer */
	if ((size_t)(p - start) < sizeof tmp) {
		memcpy(tmp, start, (size_t)(p - start));
		tmp[p - start] = 0;
		d = strtod(tmp, NULL);
	} else {
		copy = bt_strndup(start, (size_t)(p - start));
		d = strtod(copy, NULL);
		free(copy);
	}
	*out = d;
	return 0;
}

static jv number(struct parser *P)
{
	double d = 0;

	if (number_value(P, &d) < 0)
		return jv_invalid();
	return P->build ? jv_number(d) : jv_null();
}

/* After a member or an element: 1 at a ',' (another follows), 0 at
 * close (the end), -1 at anything else (said as not want). */
static int after_item(struct parser *P, char close, const char *want)
{
	ws(P);
	if (P->p < P->end && *P->p == ',') {
		P->p++;
		return 1;
	}
	if (P->p < P->end && *P->p == close) {
		P->p++;
		return 0;
	}
	unexpected(P, P->p, want);
	return -1;
}

static int literal(struct parser *P, const char *word, size_t n)
{
	if ((size_t)(P->end - P->p) >= n && memcmp(P->p, word, n) == 0) {
		P->p += n;
		return 1;
	}
	fail(P, P->p, "invalid literal (expected %s)", word);
	return 0;
}

static jv object(struct parser *P)
{
	jv obj = P->build ? jv_object() : jv_null(), key, val;

	ws(P);
	if (P->p < P->end && *P->p == '}') {
		P->p++;
		return obj;
	}
	for (;;) {
		ws(P);
		if (P->p >= P->end || *P->p != '"') {
			unexpected(P, P->p, "a string key");
			goto bad;
		}
		P->p++;
		key = string(P);
		if (P->failed)
			goto bad;
		ws(P);
		if (P->p >= P->end || *P->p != ':') {
			jv_free(key);
			unexpected(P, P->p, "':'");
			goto bad;
		}
		P->p++;
		val = value(P);
		if (P->failed) {
			jv_free(key);
			jv_free(val);
			goto bad;
		}
		if (P->build)
			obj = jv_object_set(obj, key, val);
		switch (after_item(P, '}', "',' or '}'")) {
		case 1: continue;
		case 0: return obj;
		default: goto bad;
		}
	}
bad:
	jv_free(obj);
	return jv_invalid();
}

static jv array(struct parser *P)
{
	jv arr = P->build ? jv_array() : jv_null(), val;

	ws(P);
	if (P->p < P->end && *P->p == ']') {
		P->p++;
		return arr;
	}
	for (;;) {
		val = value(P);
		if (P->failed) {
			jv_free(val);
			goto bad;
		}
		if (P->build)
			arr = jv_array_append(arr, val);
		switch (after_item(P, ']', "',' or ']'")) {
		case 1: continue;
		case 0: return arr;
		default: goto bad;
		}
	}
bad:
	jv_free(arr);
	return jv_invalid();
}

static jv value(struct parser *P)
{
	jv v;

	ws(P);
	if (P->p >= P->end) {
		unexpected(P, P->p, "a value");
		return jv_invalid();
	}
	switch (*P->p) {
	case '{':
	case '[':
		if (++P->depth > MAX_DEPTH) {
			fail(P, P->p, "nested deeper than %d levels", MAX_DEPTH);
			return jv_invalid();
		}
		P->p++;
		v = P->p[-1] == '{' ? object(P) : array(P);
		P->depth--;
		return v;
	case '"':
		P->p++;
		return string(P);
	case 't':
		return literal(P, "true", 4) ? (P->build ? jv_true() : jv_null()) : jv_invalid();
	case 'f':
		return literal(P, "false", 5) ? (P->build ? jv_false() : jv_null()) : jv_invalid();
	case 'n':
		return literal(P, "null", 4) ? jv_null() : jv_invalid();
	default:
		if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9'))
			return number(P);
		unexpected(P, P->p, "a value");
		return jv_invalid();
	}
}

static jv run(const char *s, size_t n, size_t *used, int whole, int build,
              char *err, size_t errsz)
{
	struct parser P;
	jv v;

	memset(&P, 0, sizeof P);
	P.s = P.p = s;
	P.end = s + n;
	P.err = err;
	P.errsz = errsz;
	P.build = build;
	if (err && errsz)
		err[0] = 0;
	v = value(&P);
	if (!P.failed && whole) {
		ws(&P);
		if (P.p < P.end)
			fail(&P, P.p, "trailing data after the value");
	}
	bt_buf_free(&P.tmp);
	if (P.failed) {
		jv_free(v);
		if (used)
			*used = 0;
		return jv_invalid();
	}
	if (used)
		*used = (size_t)(P.p - s);
	return v;
}

/* ---- canonical text: keys sorted, written as bt_json_write writes ----
 *
 * For the response store's key (cachekey.c): the text of
 * bt_json_write_sorted(bt_json_parse(s)), byte for byte, without building
 * values.  Each value's text is made in an arena, an object's members
 * sorted there by key (as jv_keys sorts: bytes, then length; of a key
 * given twice, the last), then written again after them. */

struct cpair {
	size_t koff, klen, voff, vlen, at;
};
struct canon {
	struct bt_buf a;        /* the values' texts and the keys */
	struct cpair *pv, *tmp;
	size_t np, cap, tcap;
	struct bt_buf key;      /* one key, out of the arena */
	int fallback;           /* a key that is not UTF-8: the jv way */
};

static int cvalue(struct parser *P, struct canon *C, size_t *off, size_t *len);

static void cpush(struct canon *C, struct cpair pr)
{
	if (C->np == C->cap) {
		C->cap = C->cap ? 2 * C->cap : 64;
		C->pv = bt_realloc(C->pv, C->cap * sizeof *C->pv);
	}
	C->pv[C->np++] = pr;
}

/* Append a[off..off+len) to a itself. */
static void cself(struct bt_buf *a, size_t off, size_t len)
{
	bt_buf_grow(a, len);
	memcpy(a->p + a->len, a->p + off, len);
	a->len += len;
}

static int ckey_cmp(const struct canon *C, const struct cpair *x, const struct cpair *y)
{
	size_t m = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(C->a.p + x->koff, C->a.p + y->koff, m);

	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Sort pv[lo..hi) by key, then place: a bottom-up merge sort (n log n;
 * an object may have many keys). */
static void csort(struct canon *C, size_t lo, size_t hi)
{
	size_t n = hi - lo, w, i, l, mid, m, r, k;
	struct cpair *src;

	if (n < 2)
		return;         /* and pv may be NULL: no pointer made from it */
	src = C->pv + lo;
	if (C->tcap < n) {
		C->tcap = n;
		C->tmp = bt_realloc(C->tmp, n * sizeof *C->tmp);
	}
	for (w = 1; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			l = i;
			mid = m = i + w < n ? i + w : n;
			r = i + 2 * w < n ? i + 2 * w : n;
			k = i;
			while (l < mid && m < r)
				C->tmp[k++] = ckey_cmp(C, &src[m], &src[l]) < 0 ? src[m++] : src[l++];
			while (l < mid)
				C->tmp[k++] = src[l++];
			while (m < r)
				C->tmp[k++] = src[m++];
		}
		memcpy(src, C->tmp, n * sizeof *src);
	}
}

static int cobject(struct parser *P, struct canon *C, size_t *off, size_t *len)
{
	size_t base = C->np, i, koff, vo, vl, at = 0;
	const char *t;
	size_t n;
	int first = 1, r = 0;

	ws(P);
	if (P->p < P->end && *P->p == '}')
		P->p++;
	else
		for (;;) {
			ws(P);
			if (P->p >= P->end || *P->p != '"') {
				unexpected(P, P->p, "a string key");
				return -1;
			}
			P->p++;
			if (string_text(P, &t, &n) < 0)
				return -1;
			if (bt_utf8_valid(t, n) != n) {
				C->fallback = 1;
				return -1;
			}
			koff = C->a.len;
			bt_buf_add(&C->a, t, n);
			ws(P);
			if (P->p >= P->end || *P->p != ':') {
				unexpected(P, P->p, "':'");
				return -1;
			}
			P->p++;
			if (cvalue(P, C, &vo, &vl) < 0)
				return -1;
			cpush(C, (struct cpair){ koff, n, vo, vl, at++ });
			if ((r = after_item(P, '}', "',' or '}'")) <= 0)
				break;
		}
	if (r < 0)
		return -1;
	csort(C, base, C->np);
	*off = C->a.len;
	bt_buf_addc(&C->a, '{');
	for (i = base; i < C->np; i++) {
		/* of a key given twice, the last */
		if (i + 1 < C->np && C->pv[i].klen == C->pv[i + 1].klen &&
		    !memcmp(C->a.p + C->pv[i].koff, C->a.p + C->pv[i + 1].koff, C->pv[i].klen))
			continue;
		if (!first)
			bt_buf_addc(&C->a, ',');
		first = 0;
		C->key.len = 0;
		bt_buf_add(&C->key, C->a.p + C->pv[i].koff, C->pv[i].klen);
		bt_json_write_str(&C->a, C->key.p, C->key.len);
		bt_buf_addc(&C->a, ':');
		cself(&C->a, C->pv[i].voff, C->pv[i].vlen);
	}
	bt_buf_addc(&C->a, '}');
	*len = C->a.len - *off;
	C->np = base;
	return 0;
}

static int carray(struct parser *P, struct canon *C, size_t *off, size_t *len)
{
	size_t base = C->np, i, vo, vl;
	int r = 0;

	ws(P);
	if (P->p < P->end && *P->p == ']')
		P->p++;
	else
		for (;;) {
			if (cvalue(P, C, &vo, &vl) < 0)
				return -1;
			cpush(C, (struct cpair){ 0, 0, vo, vl, 0 });
			if ((r = after_item(P, ']', "',' or ']'")) <= 0)
				break;
		}
	if (r < 0)
		return -1;
	*off = C->a.len;
	bt_buf_addc(&C->a, '[');
	for (i = base; i < C->np; i++) {
		if (i > base)
			bt_buf_addc(&C->a, ',');
		cself(&C->a, C->pv[i].voff, C->pv[i].vlen);
	}
	bt_buf_addc(&C->a, ']');
	*len = C->a.len - *off;
	C->np = base;
	return 0;
}

static int cvalue(struct parser *P, struct canon *C, size_t *off, size_t *len)
{
	const char *t;
	size_t n;
	double d = 0;
	int r;

	ws(P);
	if (P->p >= P->end) {
		unexpected(P, P->p, "a value");
		return -1;
	}
	*off = C->a.len;
	switch (*P->p) {
	case '{':
	case '[':
		if (++P->depth > MAX_DEPTH) {
			fail(P, P->p, "nested deeper than %d levels", MAX_DEPTH);
			return -1;
		}
		P->p++;
		r = P->p[-1] == '{' ? cobject(P, C, off, len) : carray(P, C, off, len);
		P->depth--;
		return r;
	case '"':
		P->p++;
		if (string_text(P, &t, &n) < 0)
			return -1;
		bt_json_write_str(&C->a, t, n);
		break;
	case 't':
	case 'f':
	case 'n':
		t = *P->p == 't' ? "true" : *P->p == 'f' ? "false" : "null";
		if (!literal(P, t, strlen(t)))
			return -1;
		bt_buf_adds(&C->a, t);
		break;
	default:
		if (*P->p != '-' && (*P->p < '0' || *P->p > '9')) {
			unexpected(P, P->p, "a value");
			return -1;
		}
		if (number_value(P, &d) < 0)
			return -1;
		bt_json_write_num(&C->a, d);
	}
	*len = C->a.len - *off;
	return 0;
}

int bt_json_canon(const char *s, size_t n, struct bt_buf *out, char *err, size_t errsz)
{
	struct parser P;
	struct canon C;
	size_t off = 0, len = 0;
	int r;
	jv v;

	memset(&P, 0, sizeof P);
	memset(&C, 0, sizeof C);
	P.s = P.p = s;
	P.end = s + n;
	P.err = err;
	P.errsz = errsz;
	P.build = 1;
	if (err && errsz)
		err[0] = 0;
	r = cvalue(&P, &C, &off, &len);
	if (r == 0) {
		ws(&P);
		if (P.p < P.end) {
			fail(&P, P.p, "trailing data after the value");
			r = -1;
		}
	}
	if (r == 0)
		bt_buf_add(out, C.a.p + off, len);
	bt_buf_free(&P.tmp);
	bt_buf_free(&C.a);
	bt_buf_free(&C.key);
	free(C.pv);
	free(C.tmp);
	if (r == 0 || !C.fallback)
		return r;
	/* a key that is not UTF-8: sorted as jv sorts it once mended */
	v = bt_json_parse(s, n, err, errsz);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return -1;
	}
	bt_json_write_sorted(out, v);
	jv_free(v);
	return 0;
}

jv bt_json_parse(const char *s, size_t n, char *err, size_t errsz)
{
	return run(s, n, NULL, 1, 1, err, errsz);
}

jv bt_json_parse_prefix(const char *s, size_t n, size_t *used,
                        char *err, size_t errsz)
{
	return run(s, n, used, 0, 1, err, errsz);
}

size_t bt_json_skip(const char *s, size_t n, char *err, size_t errsz)
{
	size_t used = 0;
	jv v = run(s, n, &used, 0, 0, err, errsz);

	jv_free(v);
	return used;
}

jv bt_jsonl_next(struct bt_lines *l)
{
	char err[256];
	size_t n;
	char *s;
	jv v;

	do
		if (!(s = bt_lines_next(l, &n)))
			return jv_invalid();
	while (bt_blank(s, n));
	v = bt_json_parse(s, n, err, sizeof err);
	if (jv_is_valid(v))
		return v;
	return jv_invalid_with_msg(jv_string_fmt("%s:%llu: invalid JSON: %s",
	                                         l->name, l->lineno, err));
}

/* Skip one value checking only its shape: strings whole (escapes too),
 * brackets balanced and matched.  Numbers and literals are not checked;
 * for lines whose full check comes later, or from a trusted source. */
static void quick_value(struct parser *P)
{
	const char *start = P->p, *p = P->p, *end = P->end;
	uint64_t stack = 0;     /* 1: inside an object, 0: an array */
	int depth = 0;
	const char *t;          /* a string's text: not made, P->build is 0 */
	size_t n;

	if (p < end && *p == '"') {
		P->p++;
		string_text(P, &t, &n);
		return;
	}
	if (p >= end || (*p != '{' && *p != '[')) {
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
		       *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (p == P->p)
			unexpected(P, p, "a value");
		P->p = p;
		return;
	}
	if (QUICK_AVX2(p, end, &t) == 0) {
		P->p = t;
		return;
	}
	for (; p < end; p++) {
		switch (*p) {
		case '"':
			P->p = p + 1;
			if (string_text(P, &t, &n) < 0)
				return;
			p = P->p - 1;
			break;
		case '{':
		case '[':
			if (++depth > 64) {     /* deeper than the bit stack: check it all */
				P->p = start;
				value(P);
				return;
			}
			stack = stack << 1 | (*p == '{');
			break;
		case '}':
		case ']':
			if (!depth || (stack & 1) != (*p == '}')) {
				unexpected(P, p, NULL);
				return;
			}
			stack >>= 1;
			if (--depth == 0) {
				P->p = p + 1;
				return;
			}
			break;
		}
	}
	P->p = p;
	unexpected(P, p, depth ? "'}' or ']'" : "a value");
}

/* r, with *stop (when given) where the walk stopped: at the failure,
 * after the member fn stopped at, or at the end. */
static int done(const struct parser *P, const char **stop, int r)
{
	if (stop)
		*stop = P->failed ? P->at : P->p;
	return r;
}

static int members(const char *s, size_t n,
                   int (*fn)(const char *key, size_t klen, const char *val,
                             size_t vlen, void *arg),
                   void *arg, char *err, size_t errsz, int quick,
                   const char **stop)
{
	struct parser P;
	const char *k, *v, *t;
	size_t klen, tn;
	int r = 0;

	memset(&P, 0, sizeof P);
	P.s = P.p = s;
	P.end = s + n;
	P.err = err;
	P.errsz = errsz;
	if (err && errsz)
		err[0] = 0;
	ws(&P);
	if (P.p >= P.end || *P.p != '{') {
		if (P.p < P.end && (*P.p == '[' || *P.p == '"' || *P.p == '-' ||
		    (*P.p >= '0' && *P.p <= '9') || *P.p == 't' || *P.p == 'f' || *P.p == 'n'))
			fail(&P, P.p, "not a JSON object");
		else
			unexpected(&P, P.p, "'{'");
		return done(&P, stop, -1);
	}
	P.p++;
	P.depth = 1;    /* the object is a level of nesting, as to the parser */
	ws(&P);
	if (P.p < P.end && *P.p == '}') {
		P.p++;
		goto end;
	}
	for (;;) {
		ws(&P);
		if (P.p >= P.end || *P.p != '"') {
			unexpected(&P, P.p, "a string key");
			return done(&P, stop, -1);
		}
		k = ++P.p;
		if (string_text(&P, &t, &tn) < 0)
			return done(&P, stop, -1);
		klen = (size_t)(P.p - 1 - k);
		ws(&P);
		if (P.p >= P.end || *P.p != ':') {
			unexpected(&P, P.p, "':'");
			return done(&P, stop, -1);
		}
		P.p++;
		ws(&P);
		v = P.p;
		if (quick)
			quick_value(&P);
		else
			value(&P);
		if (P.failed)
			return done(&P, stop, -1);
		if (fn && (r = fn(k, klen, v, (size_t)(P.p - v), arg)) != 0)
			return done(&P, stop, r);
		ws(&P);
		if (P.p < P.end && *P.p == ',') {
			P.p++;
			continue;
		}
		if (P.p < P.end && *P.p == '}') {
			P.p++;
			break;
		}
		unexpected(&P, P.p, "',' or '}'");
		return done(&P, stop, -1);
	}
end:
	ws(&P);
	if (P.p < P.end) {
		fail(&P, P.p, "trailing data after the value");
		return done(&P, stop, -1);
	}
	return done(&P, stop, 0);
}

int bt_json_members(const char *s, size_t n,
                    int (*fn)(const char *key, size_t klen, const char *val,
                              size_t vlen, void *arg),
                    void *arg, char *err, size_t errsz)
{
	return members(s, n, fn, arg, err, errsz, 0, NULL);
}

int bt_json_members_utf8(const char *s, size_t n,
                         int (*fn)(const char *key, size_t klen, const char *val,
                                   size_t vlen, void *arg),
                         void *arg, char *err, size_t errsz)
{
	size_t bad = bt_utf8_valid(s, n);
	const char *stop;
	int r;

	if (bad == n)
		return members(s, n, fn, arg, err, errsz, 0, NULL);
	/* the first error in the text is said: the JSON's if it comes before
	 * (or at the same byte, which JSON does not take either) */
	r = members(s, n, NULL, NULL, err, errsz, 0, &stop);
	if (r && stop <= s + bad)
		return r;
	if (err && errsz)
		snprintf(err, errsz, "invalid UTF-8 at column %zu", bad + 1);
	return -1;
}

int bt_json_members_quick(const char *s, size_t n,
                          int (*fn)(const char *key, size_t klen, const char *val,
                                    size_t vlen, void *arg),
                          void *arg, char *err, size_t errsz)
{
	return members(s, n, fn, arg, err, errsz, 1, NULL);
}

int bt_json_key_is(const char *k, size_t n, const char *want)
{
	char tmp[32];
	size_t i, j, m = 0;
	unsigned u;
	int c;

	if (!memchr(k, '\\', n))
		return n == strlen(want) && !memcmp(k, want, n);
	/* the keys we look for are short and plain: a longer one, or one
	 * with an escape of something else, comes out unequal */
	for (i = 0; i < n && m < sizeof tmp; i++) {
		if (k[i] != '\\') {
			tmp[m++] = k[i];
			continue;
		}
		if (++i >= n)
			return 0;
		switch (k[i]) {
		case 'u':
			/* four hex digits; no sscanf: the key need not be
			 * followed by a NUL */
			if (i + 4 >= n)
				return 0;
			for (u = 0, j = 1; j <= 4; j++) {
				c = k[i + j];
				if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')))
					return 0;
				u = u << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
			}
			if (u == 0 || u > 0x7f)
				return 0;
			tmp[m++] = (char)u;
			i += 4;
			break;
		case '"': case '\\': case '/':
			tmp[m++] = k[i];
			break;
		default:
			return 0;   /* \b \f \n \r \t: in no key we know */
		}
	}
	return i == n && m == strlen(want) && !memcmp(tmp, want, m);
}

struct member_raw {
	const char *key, *at;
	size_t len;
};

static int member_raw(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	struct member_raw *m = arg;

	if (bt_json_key_is(k, kn, m->key)) {
		m->at = v;
		m->len = vn;
	}
	return 0;
}

void bt_json_member_raw(const char *s, size_t n, const char *key,
                        const char **at, size_t *len)
{
	struct member_raw m = { key, NULL, 0 };

	bt_json_members_quick(s, n, member_raw, &m, NULL, 0);
	*at = m.at;
	*len = m.at ? m.len : 0;
}

jv bt_jv_get(jv o, const char *key)
{
	return jv_get_kind(o) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(o), jv_string(key)) : jv_invalid();
}

int bt_jv_is(jv v, const char *s)
{
	return jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), s);
}
