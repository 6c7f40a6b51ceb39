/* media.c — images and PDFs: what a file is by its magic bytes, base64
 * both ways, an image's size from its header, and the token rule for
 * images and PDFs that bt-cost estimates by and bt-mock counts by.
 */
#include <string.h>

#include "bt.h"

/* ---- magic bytes ---- */

const char *bt_media_sniff(const void *p, size_t n)
{
	const unsigned char *b = p;

	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
		return "image/gif";
	if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return "image/webp";
	if (n >= 5 && !memcmp(b, "%PDF-", 5))
		return "application/pdf";
	return NULL;
}

int bt_media_image_type(const char *t)
{
	return t && (!strcmp(t, "image/jpeg") || !strcmp(t, "image/png") ||
	             !strcmp(t, "image/gif") || !strcmp(t, "image/webp"));
}

/* ---- image size from the header ---- */

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static unsigned long le24(const unsigned char *p)
{
	return (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

int bt_image_size(const void *p, size_t n, long *w, long *h)
{
	const unsigned char *b = p;
	const char *t = bt_media_sniff(p, n);
	size_t i;

	*w = *h = 0;
	if (!t)
		return -1;
	if (!strcmp(t, "image/png")) {
		if (n < 24 || memcmp(b + 12, "IHDR", 4))
			return -1;
		*w = (long)((unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 |
		            (unsigned long)b[18] << 8 | b[19]);
		*h = (long)((unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 |
		            (unsigned long)b[22] << 8 | b[23]);
	} else if (!strcmp(t, "image/gif")) {
		if (n < 10)
			return -1;
		*w = le16(b + 6);
		*h = le16(b + 8);
	} else if (!strcmp(t, "image/webp")) {
		if (n >= 30 && !memcmp(b + 12, "VP8 ", 4)) {
			*w = le16(b + 26) & 0x3fff;
			*h = le16(b + 28) & 0x3fff;
		} else if (n >= 25 && !memcmp(b + 12, "VP8L", 4) && b[20] == 0x2f) {
			*w = 1 + (long)(b[21] | (b[22] & 0x3f) << 8);
			*h = 1 + (long)(b[22] >> 6 | b[23] << 2 | (b[24] & 0xf) << 10);
		} else if (n >= 30 && !memcmp(b + 12, "VP8X", 4)) {
			*w = 1 + (long)le24(b + 24);
			*h = 1 + (long)le24(b + 27);
		} else
			return -1;
	} else if (!strcmp(t, "image/jpeg")) {
		/* segments after SOI, to the first start of frame */
		for (i = 2; i + 4 <= n;) {
			unsigned m;
			if (b[i] != 0xff)
				return -1;
			while (i < n && b[i] == 0xff)
				i++;
			if (i >= n)
				return -1;
			m = b[i++];
			if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7))
				continue;       /* no length */
			if (m == 0xd9 || m == 0xda || i + 2 > n)
				return -1;      /* no frame before the scan */
			if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
				if (i + 7 > n)
					return -1;
				*h = be16(b + i + 3);
				*w = be16(b + i + 5);
				break;
			}
			i += be16(b + i);
		}
		if (!*w)
			return -1;
	} else
		return -1;
	return *w > 0 && *h > 0 ? 0 : -1;
}

/* ---- base64 ---- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void bt_b64_encode(struct bt_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char *o;
	size_t i;

	bt_buf_grow(b, (n + 2) / 3 * 4);
	o = b->p + b->len;
	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		*o++ = b64[v & 63];
	}
	if (i < n) {
		unsigned long v = (unsigned long)s[i] << 16 |
		                  (i + 1 < n ? (unsigned long)s[i + 1] << 8 : 0);
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t)(o - b->p);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

long long bt_b64_decode(const char *s, size_t n, struct bt_buf *out)
{
	size_t i, pad = 0;
	int k, v[4];

	if (n % 4)
		return -1;
	if (n && s[n - 1] == '=')
		pad = n >= 2 && s[n - 2] == '=' ? 2 : 1;
	if (out)
		bt_buf_grow(out, n / 4 * 3);
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + 4 == n && k >= 4 - (int)pad)
				v[k] = 0;
			else if ((v[k] = b64val((unsigned char)s[i + k])) < 0)
				return -1;
		}
		if (out) {
			unsigned long x = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
			                  (unsigned long)v[2] << 6 | (unsigned long)v[3];
			out->p[out->len++] = (char)(x >> 16);
			if (i + 4 < n || pad < 2)
				out->p[out->len++] = (char)(x >> 8 & 255);
			if (i + 4 < n || pad < 1)
				out->p[out->len++] = (char)(x & 255);
		}
	}
	return (long long)(n / 4 * 3 - pad);
}

/* ---- the token rule ---- */

long long bt_image_tokens(long w, long h, long max_px, long long cap)
{
	double W = (double)w, H = (double)h, s;
	long long t;

	if (w <= 0 || h <= 0)
		return cap;             /* size unknown (a URL): the most */
	if (max_px > 0 && (W > max_px || H > max_px)) {
		s = (double)max_px / (W > H ? W : H);
		W *= s;
		H *= s;
	}
	t = (long long)((W * H + 749) / 750);
	if (t < 1)
		t = 1;
	return cap > 0 && t > cap ? cap : t;
}

long long bt_pdf_pages(const void *p, size_t n)
{
	const char *s = p, *e = s + n, *q;
	long long pages = 0, count = 0, c;

	/* page objects compressed into object streams cannot be seen: then
	 * no count is trusted (0: the caller's upper bound) */
	if (bt_memmem(s, n, "/ObjStm", 7))
		return 0;
	while (s < e && (q = bt_memmem(s, (size_t)(e - s), "/Type", 5))) {
		q += 5;
		while (q < e && (*q == ' ' || *q == '\r' || *q == '\n' || *q == '\t'))
			q++;
		if (e - q >= 5 && !memcmp(q, "/Page", 5) &&
		    (e - q == 5 || !((q[5] >= 'A' && q[5] <= 'Z') || (q[5] >= 'a' && q[5] <= 'z'))))
			pages++;
		s = q;
	}
	/* and the page trees' own counts, the largest: an incremental update
	 * may show fewer page objects than the document has */
	for (s = p; s < e && (q = bt_memmem(s, (size_t)(e - s), "/Count", 6)); s = q) {
		q += 6;
		while (q < e && (*q == ' ' || *q == '\r' || *q == '\n' || *q == '\t'))
			q++;
		for (c = 0; q < e && *q >= '0' && *q <= '9' && c < 1000000; q++)
			c = c * 10 + (*q - '0');
		if (c > count)
			count = c;
	}
	return pages > count ? pages : count;
}

long long bt_pdf_tokens(long long pages, long long image_cap)
{
	if (pages <= 0)         /* none seen (compressed object streams) */
		pages = BT_PDF_MAX_PAGES;
	return pages * (BT_PDF_PAGE_TEXT_TOKENS + image_cap);
}
