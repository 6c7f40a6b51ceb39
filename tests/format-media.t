#!/bin/sh
# bt-format --image and --document: files and URLs as content blocks; the
# content checks the API makes; the estimate's media rule, and bt-mock's.
. "${0%/*}/lib.sh"

# Tiny media files, made here: a 30x20 PNG, a 40x10 JPEG, a 16x8 GIF, a
# 100x50 WebP (VP8X), a 2-page PDF; a PNG header that says 9000x10; a PNG
# of 4 MB (over 5 MiB as base64).
python3 - <<\PY || exit 1
import struct, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(w, h, pad=b''):
    raw = b''.join(b'\x00' + b'\x00' * w * 3 for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + pad + chunk(b'IEND', b''))
open('a.png', 'wb').write(png(30, 20))
open('wide.png', 'wb').write(png(9000, 10))
open('huge.png', 'wb').write(png(2, 2, chunk(b'tEXt', b'x' * 4000000)))
open('a.jpg', 'wb').write(b'\xff\xd8\xff\xe0' + struct.pack('>H', 16) + b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00' +
    b'\xff\xc0' + struct.pack('>HBHHB', 11, 8, 10, 40, 1) + b'\x01\x11\x00\xff\xd9')
open('a.gif', 'wb').write(b'GIF89a' + struct.pack('<HH', 16, 8) + b'\x00\x00\x00;')
open('a.webp', 'wb').write(b'RIFF' + struct.pack('<I', 22) + b'WEBPVP8X' + struct.pack('<I', 10) +
    b'\x00\x00\x00\x00' + (99).to_bytes(3, 'little') + (49).to_bytes(3, 'little'))
open('a.pdf', 'wb').write(b'%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n'
    b'2 0 obj <</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>> endobj\n'
    b'3 0 obj <</Type /Page>> endobj\n4 0 obj <</Type/Page>> endobj\n%%EOF\n')
PY
echo "plain text" >a.txt
b64() { base64 -w0 "$1"; }

test_expect_success '--image PATH: a base64 block before the prompt text, byte for byte' '
	echo "{\"t\":\"describe\",\"i\":\"a.png\"}" >one.jsonl &&
	echo "{\"custom_id\":\"1-53591763\",\"params\":{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"$(b64 a.png)\"}},{\"type\":\"text\",\"text\":\"describe\"}]}]}}" >expect &&
	bt-format -m m -p .t --image .i one.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'the media type comes from the bytes: JPEG, GIF, WebP; an array of paths, in order' '
	echo "{\"t\":\"x\",\"i\":[\"a.jpg\",\"a.gif\",null,\"\",\"a.webp\"]}" >many.jsonl &&
	bt-format -m m -p .t --image .i many.jsonl >out &&
	jq -c "[.params.messages[0].content[] | .source.media_type // .type]" out >actual &&
	echo "[\"image/jpeg\",\"image/gif\",\"image/webp\",\"text\"]" >expect &&
	test_cmp expect actual &&
	jq -r ".params.messages[0].content[1].source.data" out >data &&
	b64 a.gif >expect && echo >>expect &&
	test_cmp expect data
'

# A JPEG whose frame comes after 200 KB of APP1 segments (read past the
# first 64 KiB to find its size), and a 1 MB PNG: both come out whole.
test_expect_success 'files larger than one read: the size found, the bytes whole' '
	python3 -c "
import struct, os
app = b\"\".join(b\"\\xff\\xe1\" + struct.pack(\">H\", 65002) + os.urandom(65000) for _ in range(3))
open(\"exif.jpg\", \"wb\").write(b\"\\xff\\xd8\" + app + b\"\\xff\\xc0\" + struct.pack(\">HBHHB\", 11, 8, 300, 500, 1) + b\"\\x01\\x11\\x00\\xff\\xd9\")
open(\"blob.png\", \"wb\").write(open(\"a.png\", \"rb\").read()[:33] + os.urandom(1000001))
" &&
	echo "{\"t\":\"x\",\"i\":[\"exif.jpg\",\"blob.png\"]}" >large.jsonl &&
	bt-format -m claude-haiku-4-5 -p .t --image .i large.jsonl >out &&
	jq -r ".params.messages[0].content[0].source.data" out | base64 -d >got.jpg &&
	cmp exif.jpg got.jpg &&
	jq -r ".params.messages[0].content[1].source.data" out | base64 -d >got.png &&
	cmp blob.png got.png &&
	bt-cost out | jq .total.input_tokens >actual &&
	echo $(( (500 * 300 + 749) / 750 + (30 * 20 + 749) / 750 + 1 )) >expect &&
	test_cmp expect actual
'

test_expect_success 'null or no path: the request is as without --image; a URL is a url source' '
	printf "%s\n" "{\"t\":\"x\",\"i\":null}" "{\"t\":\"y\",\"i\":\"https://example.com/p.png\"}" >mixed.jsonl &&
	bt-format -m m -p .t --image .i mixed.jsonl >actual &&
	cat >expect <<-\EXP &&
	{"custom_id":"1-c64b0881","params":{"model":"m","max_tokens":1024,"messages":[{"role":"user","content":"x"}]}}
	{"custom_id":"2-45c5fa0d","params":{"model":"m","max_tokens":1024,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/p.png"}},{"type":"text","text":"y"}]}]}}
	EXP
	test_cmp expect actual
'

test_expect_success '--document PDF: documents first, then images; content blocks from -p follow' '
	echo "{\"i\":\"a.png\",\"d\":\"a.pdf\"}" >doc.jsonl &&
	bt-format -m m -p "[{type:\"text\",text:\"a\"},{type:\"text\",text:\"b\"}]" \
		--image .i --document .d doc.jsonl >out &&
	jq -c "[.params.messages[0].content[] | [.type, .source.media_type // .text]]" out >actual &&
	echo "[[\"document\",\"application/pdf\"],[\"image\",\"image/png\"],[\"text\",\"a\"],[\"text\",\"b\"]]" >expect &&
	test_cmp expect actual
'

test_expect_success '--cache-attachments marks the last block; --cache-ttl 1h says so' '
	bt-format -m m -p "\"q\"" --image .i --document .d --cache-attachments doc.jsonl >out &&
	jq -c "[.params.messages[0].content[] | .cache_control]" out >actual &&
	echo "[null,{\"type\":\"ephemeral\"},null]" >expect &&
	test_cmp expect actual &&
	bt-format -m m -p "\"q\"" --document .d --cache-attachments --cache-ttl 1h doc.jsonl >out &&
	jq -c "[.params.messages[0].content[] | .cache_control]" out >actual &&
	echo "[{\"type\":\"ephemeral\",\"ttl\":\"1h\"},null]" >expect &&
	test_cmp expect actual &&
	test_expect_code 2 bt-format -m m -p .t --cache-attachments one.jsonl 2>err &&
	test_grep "cache-attachments: there are no attachments" err
'

test_expect_success 'with --params, $params holds the blocks' '
	bt-format -m m -p .t --image .i --params "\$params | .metadata = {n: (.messages[0].content | length)}" one.jsonl >out &&
	jq -c ".params.metadata" out >actual &&
	echo "{\"n\":2}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a FIFO or a directory named by a record is a bad record, at once (no hang)' '
	mkfifo pipe && mkdir adir &&
	printf "%s\n" "{\"t\":\"x\",\"i\":\"pipe\"}" "{\"t\":\"y\",\"i\":\"adir\"}" >odd.jsonl &&
	test_expect_code 3 timeout 10 bt-format -m m -p .t --image .i --reject odd.rej odd.jsonl >out 2>/dev/null &&
	test_must_be_empty out &&
	jq -r .error odd.rej >got &&
	printf "%s\n" "--image: pipe: not a regular file" "--image: adir: Is a directory" >want &&
	test_cmp want got
'

test_expect_success 'a missing file, a file of the wrong type: exit 2 naming file, line and path' '
	printf "%s\n" "{\"t\":\"ok\",\"i\":\"a.png\"}" "{\"t\":\"x\",\"i\":\"nosuch.png\"}" >miss.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i miss.jsonl >out 2>err &&
	echo "bt-format: miss.jsonl:2: --image: nosuch.png: No such file or directory" >expect &&
	test_cmp expect err &&
	# a regular file: the line before the bad one is taken back
	test_must_be_empty out &&
	echo "{\"t\":\"x\",\"i\":\"a.txt\"}" >txt.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i txt.jsonl >out 2>err &&
	echo "bt-format: txt.jsonl:1: --image: a.txt: not a JPEG, PNG, GIF or WebP image (unknown type)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test_expect_code 2 bt-format -m m -p .t --document .i one.jsonl >out 2>err &&
	echo "bt-format: one.jsonl:1: --document: a.png: not a PDF (image/png)" >expect &&
	test_cmp expect err &&
	echo "{\"t\":\"x\",\"i\":{\"path\":\"a.png\"}}" >obj.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i obj.jsonl 2>err &&
	test_grep "obj.jsonl:1: --image: gave neither a path, a URL, an array of them nor null" err
'

test_expect_success 'over the API limits: 5 MiB of base64, 8000 pixels a side, 100 images' '
	echo "{\"t\":\"x\",\"i\":\"huge.png\"}" >huge.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i huge.jsonl 2>err &&
	echo "bt-format: huge.jsonl:1: --image: huge.png: 5333440 bytes as base64, more than the API takes in an image (5242880)" >expect &&
	test_cmp expect err &&
	echo "{\"t\":\"x\",\"i\":\"wide.png\"}" >wide.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i wide.jsonl 2>err &&
	echo "bt-format: wide.jsonl:1: --image: wide.png: 9000x10 pixels, more than the API takes (8000 a side)" >expect &&
	test_cmp expect err &&
	jq -nc "{t: \"x\", i: [range(101) | \"https://example.com/\(.).png\"]}" >101.jsonl &&
	test_expect_code 2 bt-format -m m -p .t --image .i 101.jsonl 2>err &&
	echo "bt-format: 101.jsonl:1: 101 images, more than a request may have (100)" >expect &&
	test_cmp expect err
'

test_expect_success '--reject takes a bad attachment like any bad record: exit 3' '
	test_expect_code 3 bt-format -m m -p .t --image .i --reject rej.jsonl miss.jsonl >out 2>err &&
	test $(wc -l <out) -eq 1 &&
	jq -c "[.file, .line, .error]" rej.jsonl >actual &&
	echo "[\"miss.jsonl\",2,\"--image: nosuch.png: No such file or directory\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'blocks from -p or --params: media types, base64 and data checked as the API does' '
	test_expect_code 2 bt-format -m m -p "[{type:\"image\",source:{type:\"base64\",media_type:\"image/bmp\",data:\"AAAA\"}}]" one.jsonl 2>err &&
	echo "bt-format: one.jsonl:1: -p: content.0: source.media_type: must be image/jpeg, image/png, image/gif or image/webp" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p "[{type:\"image\",source:{type:\"base64\",media_type:\"image/png\",data:\"not base64!\"}}]" one.jsonl 2>err &&
	echo "bt-format: one.jsonl:1: -p: content.0: source.data: invalid base64 data" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p "[{type:\"image\",source:{type:\"base64\",media_type:\"image/jpeg\",data:\"$(b64 a.png)\"}}]" one.jsonl 2>err &&
	echo "bt-format: one.jsonl:1: -p: content.0: the image data is not image/jpeg (image/png)" >expect &&
	test_cmp expect err &&
	test_expect_code 2 bt-format -m m -p .t --params "\$params | .messages[0].content = [{type:\"document\",source:{type:\"base64\",media_type:\"application/msword\",data:\"AAAA\"}}]" one.jsonl 2>err &&
	echo "bt-format: one.jsonl:1: params: messages.0.content.0: source.media_type: must be application/pdf" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-split refuses a request line with a bad image, naming the line' '
	bt-format -m m -p .t --image .i one.jsonl >good.jsonl &&
	sed "s/image\/png/image\/bmp/" good.jsonl >badimg.jsonl &&
	cat good.jsonl badimg.jsonl >two.jsonl &&
	test_expect_code 2 bt-split -d chunks two.jsonl 2>err &&
	test_grep "two.jsonl:2: .*params.messages.0.content.0: source.media_type: must be" err
'

# The estimate: 30x20 PNG 600/750 -> 1; 40x10 JPEG -> 1; 16x8 GIF -> 1;
# 100x50 WebP 5000/750 -> 7; a 2-page PDF 2 x (3000 + 1600) = 9200; a URL
# image, of unknown size, 1600; the text "x" 1 token a request.
test_expect_success 'bt-cost counts images and PDFs by the documented rule, not as 0' '
	printf "%s\n" "{\"t\":\"x\",\"i\":\"a.png\"}" "{\"t\":\"x\",\"i\":[\"a.jpg\",\"a.gif\",\"a.webp\"]}" \
		"{\"t\":\"x\",\"d\":\"a.pdf\"}" "{\"t\":\"x\",\"i\":\"https://example.com/p.png\"}" >est.jsonl &&
	bt-format -m claude-haiku-4-5 -p .t --image .i --document .d est.jsonl >req.jsonl &&
	for i in 1 2 3 4; do
		sed -n ${i}p req.jsonl | bt-cost | jq .total.input_tokens
	done >actual &&
	printf "%s\n" 2 10 9201 1601 >expect &&
	test_cmp expect actual
'

# 3000x600 scaled to 1568x313.6: 491725 / 750 -> 656, + 1 of text; with
# image_px 1000: 1000x200 -> 267, + 1.
test_expect_success 'a big image scales to 1568 px and counts at most 1600; the table may say otherwise' '
	python3 -c "
import struct, zlib
def chunk(t, d): return struct.pack(\">I\", len(d)) + t + d + struct.pack(\">I\", zlib.crc32(t + d) & 0xffffffff)
open(\"big.png\", \"wb\").write(b\"\\x89PNG\\r\\n\\x1a\\n\" + chunk(b\"IHDR\", struct.pack(\">IIBBBBB\", 3000, 600, 8, 2, 0, 0, 0)) + chunk(b\"IEND\", b\"\"))
" &&
	echo "{\"t\":\"x\",\"i\":\"big.png\"}" >big.jsonl &&
	bt-format -m claude-haiku-4-5 -p .t --image .i big.jsonl >big-req.jsonl &&
	bt-cost big-req.jsonl | jq .total.input_tokens >actual &&
	BT_PRICES="{\"claude-haiku-4-5\":{\"input\":1,\"output\":5,\"image_px\":1000,\"image_tokens\":100000}}" \
		bt-cost big-req.jsonl | jq .total.input_tokens >>actual &&
	printf "%s\n" 657 268 >expect &&
	test_cmp expect actual
'

mock_start --processing-time 0.1


test_expect_success 'bt-mock counts media by the same rule: the estimate is its count exactly' '
	run_batch req.jsonl &&
	jq -s "map(.result.message.usage.input_tokens) | add" results >actual &&
	bt-cost req.jsonl | jq .total.input_tokens >expect &&
	test_cmp expect actual &&
	bt-cost results >cost.json &&
	jq .total.input_tokens cost.json >actual2 &&
	test_cmp expect actual2
'

# Each request: a system prompt of 500 bytes (125), the PDF (9200) and the
# WebP (7) are the marked prefix, 9332 written for an hour; "a" 1 input.
test_expect_success 'with cache marks (1h), the estimate stays an upper bound of what bt-mock bills' '
	printf "%s\n" "{\"t\":\"a\"}" "{\"t\":\"b\"}" "{\"t\":\"c\"}" >c.jsonl &&
	bt-format -m claude-haiku-4-5 --max-tokens 5 -s "$(printf "%0500d" 0)" -p .t \
		--document "\"a.pdf\"" --image "\"a.webp\"" \
		--cache-system --cache-attachments --cache-ttl 1h c.jsonl >creq.jsonl &&
	bt-cost creq.jsonl >est.json &&
	jq -c "[.total.input_tokens, .total.cache_write_tokens, .total.cache_write_1h_tokens]" est.json >actual &&
	echo "[3,27996,27996]" >expect &&
	test_cmp expect actual &&
	run_batch creq.jsonl &&
	bt-cost results >billed.json &&
	jq -c "[.total.cache_write_1h_tokens > 0, .total.cache_read_tokens > 0]" billed.json >actual &&
	echo "[true,true]" >expect &&
	test_cmp expect actual &&
	jq -s -e ".[0].total.upper_bound_usd >= .[1].total.cost_usd" est.json billed.json
'

test_expect_success 'bt-mock refuses bad base64 and media types: errored, invalid_request_error' '
	sed "s/image\/png/image\/bmp/" good.jsonl | sed "s/\"custom_id\":\"[^\"]*\"/\"custom_id\":\"bmp\"/" >bad.jsonl &&
	jq -c ".custom_id = \"b64\" | .params.messages[0].content[0].source.data = \"@@@@\"" good.jsonl >>bad.jsonl &&
	run_batch bad.jsonl &&
	jq -c "[.custom_id, .result.type, .result.error.error.type, .result.error.error.message]" results | sort >actual &&
	cat >expect <<-\EXP &&
	["b64","errored","invalid_request_error","messages.0.content.0: source.data: invalid base64 data"]
	["bmp","errored","invalid_request_error","messages.0.content.0: source.media_type: must be image/jpeg, image/png, image/gif or image/webp"]
	EXP
	test_cmp expect actual
'

test_done
