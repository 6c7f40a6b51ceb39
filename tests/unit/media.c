/* media.c — magic bytes, image sizes, base64 both ways, the token rule */
#include <string.h>
#include "bt.h"
#include "tap.h"

static void size_is(const void *p, size_t n, long w, long h, const char *name)
{
	long gw = -1, gh = -1;
	int rc = bt_image_size(p, n, &gw, &gh);

	ok(rc == 0 && gw == w && gh == h, "%s: %ldx%ld (got %d, %ldx%ld)", name, w, h,
	   rc, gw, gh);
}

int main(void)
{
	static const unsigned char png[24] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
		0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x0c, 0x40, 0, 0, 0x02, 0x58 };
	static const unsigned char gif[10] = { 'G', 'I', 'F', '8', '7', 'a', 0x20, 0x03, 0x10, 0 };
	/* WebP lossy: VP8 frame header, 14-bit sizes after the start code */
	static const unsigned char vp8[30] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', ' ', 0, 0, 0, 0, 0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00 };
	/* WebP lossless: 0x2f, then 14 bits of width-1 and of height-1 */
	static const unsigned char vp8l[25] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', 'L', 0, 0, 0, 0, 0x2f, 0x63, 0xc0, 0x31, 0x00 };
	/* JPEG: SOI, DHT (skipped: 0xc4 is no frame), SOF2 */
	static const unsigned char jpg[] = { 0xff, 0xd8, 0xff, 0xc4, 0, 3, 0, 0xff, 0xff,
		0xc2, 0, 11, 8, 0x01, 0x00, 0x02, 0x00, 1, 1, 0x11, 0 };
	static const char *vec[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" } };
	static const char *badb64[] = { "Zg=", "Zm9v\n", "Z===", "Zm=v", "Zm9v!A==", "=Zm9",
		"Zm 9" };
	struct bt_buf b = { 0 };
	const char *pdf = "%PDF-1.7\n<< /Type /Pages /Count 3 >>\n<< /Type /Page >>\n"
		"<</Type/Page/Parent 2 0 R>>\n<< /Type\n/Page >>\n<< /Type /PageLabel >>";
	size_t i;
	unsigned char all[256];

	is_str(bt_media_sniff(png, sizeof png), "image/png", "sniff PNG");
	is_str(bt_media_sniff(gif, sizeof gif), "image/gif", "sniff GIF");
	is_str(bt_media_sniff(vp8, sizeof vp8), "image/webp", "sniff WebP");
	is_str(bt_media_sniff(jpg, sizeof jpg), "image/jpeg", "sniff JPEG");
	is_str(bt_media_sniff(pdf, strlen(pdf)), "application/pdf", "sniff PDF");
	ok(!bt_media_sniff("BM\x36\0\0\0", 6), "a BMP is no type the API takes");
	ok(!bt_media_sniff(png, 7), "a PNG signature cut short is nothing");
	ok(bt_media_image_type("image/webp") && !bt_media_image_type("application/pdf") &&
	   !bt_media_image_type("image/bmp") && !bt_media_image_type(NULL), "image types");

	size_is(png, sizeof png, 3136, 600, "PNG IHDR");
	size_is(gif, sizeof gif, 800, 16, "GIF screen");
	size_is(vp8, sizeof vp8, 320, 240, "WebP VP8");
	size_is(vp8l, sizeof vp8l, 100, 200, "WebP VP8L");
	size_is(jpg, sizeof jpg, 512, 256, "JPEG SOF2 after a DHT");
	{
		long w, h;
		ok(bt_image_size(jpg, 12, &w, &h) < 0, "a JPEG cut before its frame: unknown");
		ok(bt_image_size(pdf, strlen(pdf), &w, &h) < 0, "a PDF has no image size");
	}

	for (i = 0; i < sizeof vec / sizeof *vec; i++) {
		b.len = 0;
		bt_b64_encode(&b, vec[i][0], strlen(vec[i][0]));
		is_mem(b.p ? b.p : "", b.len, vec[i][1], strlen(vec[i][1]), "encode (RFC 4648)");
		b.len = 0;
		is_int(bt_b64_decode(vec[i][1], strlen(vec[i][1]), &b), (long long)strlen(vec[i][0]),
		       "decoded length");
		is_mem(b.p ? b.p : "", b.len, vec[i][0], strlen(vec[i][0]), "decode (RFC 4648)");
	}
	for (i = 0; i < sizeof badb64 / sizeof *badb64; i++)
		ok(bt_b64_decode(badb64[i], strlen(badb64[i]), NULL) < 0, "not base64: case %zu",
		   i);
	for (i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	b.len = 0;
	bt_b64_encode(&b, all, 255);    /* in pieces of 3, then the rest */
	{
		struct bt_buf one = { 0 }, back = { 0 };
		for (i = 0; i + 3 <= 255; i += 3)
			bt_b64_encode(&one, all + i, 3);
		is_mem(one.p, one.len, b.p, b.len, "encoding by pieces of 3 is encoding whole");
		ok(bt_b64_decode(b.p, b.len, &back) == 255 && !memcmp(back.p, all, 255),
		   "every byte value round-trips");
		bt_buf_free(&one);
		bt_buf_free(&back);
	}
	bt_buf_free(&b);

	is_int(bt_image_tokens(1000, 1000, 1568, 1600), 1334, "1000x1000: 1e6/750 rounded up");
	is_int(bt_image_tokens(200, 200, 1568, 1600), 54, "200x200: 54");
	is_int(bt_image_tokens(1568, 1568, 1568, 1600), 1600, "capped at the model's most");
	is_int(bt_image_tokens(3136, 600, 1568, 100000), 628, "scaled to 1568x300 first");
	is_int(bt_image_tokens(0, 0, 1568, 1600), 1600, "unknown size: the most");
	is_int(bt_image_tokens(1, 1, 1568, 1600), 1, "at least 1");
	is_int(bt_pdf_pages(pdf, strlen(pdf)), 3, "/Type /Page objects, not /Pages or /PageLabel");
	{
		const char *upd = "%PDF-1.7\n1 0 obj <</Type /Pages /Count 50 /Kids [9 0 R]>> endobj\n"
		                  "9 0 obj <</Type /Page>> endobj\n";
		const char *objstm = "%PDF-1.7\n2 0 obj <</Type /ObjStm /N 40>> stream\nx\nendstream\n"
		                     "3 0 obj <</Type /Page>> endobj\n";
		is_int(bt_pdf_pages(upd, strlen(upd)), 50, "a page tree's /Count beats the page objects seen");
		is_int(bt_pdf_pages(objstm, strlen(objstm)), 0, "object streams: pages unknown");
	}
	is_int(bt_pdf_tokens(3, 1600), 3 * (BT_PDF_PAGE_TEXT_TOKENS + 1600), "pages x (text + image)");
	is_int(bt_pdf_tokens(0, 1600), BT_PDF_MAX_PAGES * (BT_PDF_PAGE_TEXT_TOKENS + 1600),
	       "pages unknown: the most a request may have");
	return done_testing();
}
