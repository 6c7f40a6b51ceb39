#!/bin/sh
# bench/format.sh — bt-format against python3 (json.loads/json.dumps) and
# jq -c, on a generated 200,000-record, ~170 MB file, same output bytes.
# Prints the best of 3 wall-clock seconds for each and the ratios.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_DIR:-bench/out}
mkdir -p "$out"
data=$out/records.jsonl
n=${N:-200000}
if [ ! -s "$data" ]; then
	perl -e '
		srand(42);
		my @w = qw(order refund delivery broken late invoice account password
		           shipping café naïve 東京 "quoted" back\\slash tab\t newline\n);
		for my $i (1..$ARGV[0]) {
			my $t = join(" ", map { $w[int(rand(@w))] } 1..110);
			$t =~ s/\\/\\\\/g; $t =~ s/"/\\"/g; $t =~ s/\t/\\t/g; $t =~ s/\n/\\n/g;
			print qq({"id":"t$i","customer":{"name":"c$i","tier":"gold"},"text":"$t","n":$i}\n);
		}' "$n" >"$data"
fi
cat >"$out/format.py" <<'PY'
import json, sys
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
out = sys.stdout.write
for line in sys.stdin:
    if not line.strip():
        continue
    r = json.loads(line)
    out(dumps({"custom_id": r["id"], "params": {"model": "claude-haiku-4-5",
        "max_tokens": 1024, "messages": [{"role": "user",
        "content": "Summarize:\n" + r["text"]}]}}) + "\n")
PY
jqprog='{custom_id: .id, params: {model: "claude-haiku-4-5", max_tokens: 1024,
  messages: [{role: "user", content: "Summarize:\n\(.text)"}]}}'

. bench/lib.sh
bt=$(best "$out/bt.out" "$data" bin/bt-format -m claude-haiku-4-5 --id .id -p '"Summarize:\n\(.text)"')
py=$(best "$out/py.out" "$data" python3 "$out/format.py")
jq=$(best "$out/jq.out" "$data" jq -c "$jqprog")
cmp "$out/bt.out" "$out/py.out" && cmp "$out/bt.out" "$out/jq.out"
size=$(wc -c <"$data")
printf 'bt-format: %d records, %d MB in\n' "$n" $((size / 1000000))
printf '  bt-format %6.2fs\n  python3   %6.2fs   ratio %.1fx (target >= 2)\n  jq -c     %6.2fs   ratio %.1fx (target >= 3)\n' \
	"$bt" "$py" "$(echo "$py / $bt" | bc -l)" "$jq" "$(echo "$jq / $bt" | bc -l)"
