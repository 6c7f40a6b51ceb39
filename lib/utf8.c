/* utf8.c — UTF-8, strictly: what the API will decode, and nothing else */
#include <string.h>

#include "bt.h"

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

size_t bt_utf8_valid(const char *s, size_t n)
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
