#!/bin/sh
# bench/media.sh — bt-format --image against python3 doing the same work
# (read each file, tell PNG by its magic bytes, base64 it, write the
# request as JSON), on N records each naming one of 20 PNG scans of about
# 1 MB (default N 2,000: about 2.7 GB of base64 out).  The outputs are
# compared byte for byte.  Best of 3 wall-clock seconds, the ratio, and
# each one's peak memory (bt-format streams a file a piece at a time).
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_DIR:-bench/out}
mkdir -p "$out/scans"
n=${N:-2000}
if [ ! -s "$out/scans/s20.png" ]; then
	python3 - "$out/scans" <<'PY'
import os, struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
for i in range(1, 21):
    w, h = 600, 560       # noise compresses badly: about 1 MB a file
    raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
    open("%s/s%d.png" % (sys.argv[1], i), "wb").write(b"\x89PNG\r\n\x1a\n" +
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
        chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
PY
fi
perl -e 'print qq({"id":"r$_","scan":"'"$out"'/scans/s@{[1 + $_ % 20]}.png"}\n) for 1..$ARGV[0]' "$n" >"$out/media-records.jsonl"
cat >"$out/media.py" <<'PY'
import base64, json, sys
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
out = sys.stdout.write
for line in sys.stdin:
    r = json.loads(line)
    data = open(r["scan"], "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    out(dumps({"custom_id": r["id"], "params": {"model": "claude-haiku-4-5",
        "max_tokens": 1024, "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(data).decode()}},
            {"type": "text", "text": "Total?"}]}]}}) + "\n")
PY
. bench/lib.sh
bt=$(best "$out/media-bt.out" "$out/media-records.jsonl" bin/bt-format -m claude-haiku-4-5 --id .id --image .scan -p '"Total?"')
py=$(best "$out/media-py.out" "$out/media-records.jsonl" python3 "$out/media.py")
cmp "$out/media-bt.out" "$out/media-py.out"
rss() { /usr/bin/time -f %M -o "$out/rss" "$@" <"$out/media-records.jsonl" >/dev/null 2>&1; tail -n 1 "$out/rss"; }
btm=$(rss bin/bt-format -m claude-haiku-4-5 --id .id --image .scan -p '"Total?"')
pym=$(rss python3 "$out/media.py")
printf 'bt-format --image: %d records, %d MB of requests\n' "$n" $(( $(wc -c <"$out/media-bt.out") / 1000000 ))
printf '  bt-format %6.2fs  %6d KB\n  python3   %6.2fs  %6d KB   ratio %.1fx\n' \
	"$bt" "$btm" "$py" "$pym" "$(echo "$py / $bt" | bc -l)"
rm -f "$out/media-bt.out" "$out/media-py.out"
