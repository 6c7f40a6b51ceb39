/* utf8.c — UTF-8, strictly: what the API will decode, and nothing else */
#include <string.h>

#include "bt.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The length of the character at p, or 0: Unicode's table 3-7 of
 * well-formed sequences (no overlong forms, no surrogates, nothing past
 * U+10FFFF, nothing cut short). */
static inline size_t char_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2)           /* a continuation byte, or an overlong lead */
		return 0;
	if (c < 0xe0)
		return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (left < 3 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0)
			return p[1] >= 0xa0 && p[1] <= 0xbf ? 3 : 0;
		if (c == 0xed)
			return p[1] >= 0x80 && p[1] <= 0x9f ? 3 : 0;
		return (p[1] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c > 0xf4 || left < 4 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
		return 0;
	if (c == 0xf0)
		return p[1] >= 0x90 && p[1] <= 0xbf ? 4 : 0;
	if (c == 0xf4)
		return p[1] >= 0x80 && p[1] <= 0x8f ? 4 : 0;
	return (p[1] & 0xc0) == 0x80 ? 4 : 0;
}

size_t bt_utf8_char(const char *s, size_t n)
{
	return n ? char_len((const unsigned char *)s, n) : 0;
}

/* The longest good prefix, a byte at a time but ASCII 8 at a time. */
static size_t valid_bytes(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	uint64_t w;
	size_t k;

	while (p < end) {
		/* ASCII 8 bytes at a time: most text is mostly ASCII */
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if ((w &= 0x8080808080808080ULL)) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				p += __builtin_ctzll(w) / 8;    /* to the high byte */
#endif
				break;
			}
			p += 8;
		}
		if (p == end)
			break;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(k = char_len(p, (size_t)(end - p))))
			break;
		p += k;
	}
	return (size_t)(p - (const unsigned char *)s);
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX2__)
#include <immintrin.h>

/* What a byte and the one before it can be wrong by, a bit each. */
enum {
	TOO_SHORT = 1 << 0,     /* 11______ 0_______, 11______ 11______ */
	TOO_LONG = 1 << 1,      /* 0_______ 10______ */
	OVERLONG_3 = 1 << 2,    /* 11100000 100_____ */
	TOO_LARGE = 1 << 3,     /* 11110100 1001____ or 101_____; 11110101+ 1___ */
	SURROGATE = 1 << 4,     /* 11101101 101_____ */
	OVERLONG_2 = 1 << 5,    /* 1100000_ 10______ */
	TOO_LARGE_1000 = 1 << 6,    /* 11110101+ 1000____ */
	OVERLONG_4 = 1 << 6,    /* 11110000 1000____ */
	TWO_CONTS = 1 << 7,     /* 10______ 10______ */
	CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS
};

/* 16 bytes twice; each cast, as _mm256_setr_epi8 takes char and some
 * of these are over 127 */
#define TABLE16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) \
	_mm256_setr_epi8(T16_(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p), \
	                 T16_(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p))
#define T16_(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) \
	(char)(a), (char)(b), (char)(c), (char)(d), (char)(e), (char)(f), \
	(char)(g), (char)(h), (char)(i), (char)(j), (char)(k), (char)(l), \
	(char)(m), (char)(n), (char)(o), (char)(p)

/* The UTF-8 errors of the 32 bytes v, prev the 32 before them: nonzero
 * bytes where a sequence is bad, or cut short by the byte there.  The
 * lookup algorithm of Keiser and Lemire ("Validating UTF-8 in less than
 * one instruction per byte", 2021): three table lookups on the nibbles of
 * each byte and the one before it, and a look at the bytes two and three
 * back.  The same rule as char_len. */
__attribute__((target("avx2")))
static inline __m256i utf8_errors(__m256i v, __m256i prev)
{
	const __m256i nib = _mm256_set1_epi8(0x0f);
	const __m256i byte_1_high = TABLE16(
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
		TOO_SHORT | OVERLONG_2,
		TOO_SHORT,
		TOO_SHORT | OVERLONG_3 | SURROGATE,
		TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
	const __m256i byte_1_low = TABLE16(
		CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
		CARRY | OVERLONG_2,
		CARRY, CARRY,
		CARRY | TOO_LARGE,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000);
	const __m256i byte_2_high = TABLE16(
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
	/* the bytes 1, 2 and 3 before each, across the 128-bit halves */
	__m256i x = _mm256_permute2x128_si256(prev, v, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(v, x, 15);
	__m256i prev2 = _mm256_alignr_epi8(v, x, 14);
	__m256i prev3 = _mm256_alignr_epi8(v, x, 13);
	__m256i sc, must23;

	sc = _mm256_and_si256(
		_mm256_and_si256(
			_mm256_shuffle_epi8(byte_1_high,
			                    _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib)),
			_mm256_shuffle_epi8(byte_1_low, _mm256_and_si256(prev1, nib))),
		_mm256_shuffle_epi8(byte_2_high,
		                    _mm256_and_si256(_mm256_srli_epi16(v, 4), nib)));
	/* the third byte after 111_____, the fourth after 11110___ */
	must23 = _mm256_or_si256(_mm256_subs_epu8(prev2, _mm256_set1_epi8(0xe0 - 0x80)),
	                         _mm256_subs_epu8(prev3, _mm256_set1_epi8(0xf0 - 0x80)));
	return _mm256_xor_si256(_mm256_and_si256(must23, _mm256_set1_epi8((char)0x80)), sc);
}

/* Whether p[0..end) is all good UTF-8, 32 bytes at a time, the bytes
 * from s to p being ASCII.  The last, fewer than 32, are checked in the 32
 * that end the text (those before them as context) where the text has 64,
 * else in a copy with NULs after them; then the end itself, against NULs,
 * where a character cut short shows. */
__attribute__((target("avx2"), noinline))
static int good_lookup(const char *s, const char *p, const char *end)
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i v = zero, prev = zero, err = zero;
	char tail[32];

	for (; end - p >= 32; p += 32) {
		v = _mm256_loadu_si256((const __m256i *)p);
		err = _mm256_or_si256(err, utf8_errors(v, prev));
		prev = v;
	}
	if (p < end) {
		if (end - s >= 64) {
			prev = _mm256_loadu_si256((const __m256i *)(end - 64));
			v = _mm256_loadu_si256((const __m256i *)(end - 32));
		} else {
			memset(tail, 0, sizeof tail);
			memcpy(tail, p, (size_t)(end - p));
			v = _mm256_loadu_si256((const __m256i *)tail);
		}
		err = _mm256_or_si256(err, utf8_errors(v, prev));
	}
	err = _mm256_or_si256(err, utf8_errors(zero, v));
	return _mm256_testz_si256(err, err);
}

/* The same, but ASCII first, 128 bytes at a time (most text is), and the
 * check from the first 128 bytes that are not. */
__attribute__((target("avx2")))
static int good_avx2(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	__m256i v;

	for (; end - p >= 128; p += 128) {
		v = _mm256_or_si256(
			_mm256_or_si256(_mm256_loadu_si256((const __m256i *)p),
			                _mm256_loadu_si256((const __m256i *)(p + 32))),
			_mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + 64)),
			                _mm256_loadu_si256((const __m256i *)(p + 96))));
		if (_mm256_movemask_epi8(v))
			return good_lookup(s, p, end);
	}
	for (; end - p >= 32; p += 32)
		if (_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)p)))
			return good_lookup(s, p, end);
	/* the last bytes: the 32 that end the text, if it has so many */
	if (n >= 32) {
		if (!_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)(end - 32))))
			return 1;
	} else {
		unsigned char hi = 0;
		const char *q;

		for (q = p; q < end; q++)
			hi |= (unsigned char)*q;
		if (hi < 0x80)
			return 1;
	}
	return good_lookup(s, p, end);
}
#endif

/* The bytes of ASCII that start s[0..n), or about so many: a multiple of
 * 16 where SSE2 scans them. */
static size_t ascii_prefix(const char *s, size_t n)
{
	const char *p = s;
#ifdef __SSE2__
	const char *end = s + n;
	__m128i v;

	for (; end - p >= 64; p += 64) {
		v = _mm_or_si128(
			_mm_or_si128(_mm_loadu_si128((const __m128i *)p),
			             _mm_loadu_si128((const __m128i *)(p + 16))),
			_mm_or_si128(_mm_loadu_si128((const __m128i *)(p + 32)),
			             _mm_loadu_si128((const __m128i *)(p + 48))));
		if (_mm_movemask_epi8(v))
			break;
	}
	for (; end - p >= 16; p += 16)
		if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)p)))
			break;
#else
	(void)n;
#endif
	return (size_t)(p - s);
}

size_t bt_utf8_valid(const char *s, size_t n)
{
	size_t a;

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX2__)
	/* all of it checked at once; byte by byte only to find where */
	if (bt_json_avx2)
		return good_avx2(s, n) ? n : valid_bytes(s, n);
#endif
	a = ascii_prefix(s, n);
	return a + valid_bytes(s + a, n - a);
}

const char *bt_quote(char out[BT_QUOTE_SIZE], const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0, k, w;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		k = c >= 0x20 && c != 0x7f ? char_len((const unsigned char *)s + i, n - i) : 0;
		w = k ? k : 4;      /* what it takes in out: itself, or \xHH */
		if (o + w > BT_QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (k) {
			memcpy(out + o, s + i, k);
			i += k;
		} else {
			out[o] = '\\';
			out[o + 1] = 'x';
			out[o + 2] = hex[c >> 4];
			out[o + 3] = hex[c & 15];
			i++;
		}
		o += w;
	}
	out[o] = 0;
	return out;
}
