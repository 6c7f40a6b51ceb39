#!/bin/sh
# bench/join.sh — bt-join against a python3 dict join producing the same
# bytes, on N records and their N results (default 200,000; shuffled, as
# the API returns them).  Best of 3 wall-clock seconds and the ratio.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_DIR:-bench/out}
mkdir -p "$out"
n=${N:-200000}
if [ ! -s "$out/join-records.jsonl" ]; then
	perl -e '
		srand(7);
		my @w = qw(order refund late broken invoice account café 東京 "q" back\\slash);
		open R, ">", $ARGV[1] or die; open S, ">", $ARGV[2] or die;
		my @res;
		for my $i (1..$ARGV[0]) {
			my $t = join(" ", map { $w[int(rand(@w))] } 1..60);
			$t =~ s/\\/\\\\/g; $t =~ s/"/\\"/g;
			print R qq({"id":"t$i","text":"$t","n":$i}\n);
			my $r = int(rand(20)) ? qq({"type":"succeeded","message":{"id":"msg_$i","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"label $i: $t","citations":null}],"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null,"usage":{"input_tokens":90,"output_tokens":80,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"service_tier":"batch"}}})
			                      : qq({"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_$i"}});
			push @res, qq({"custom_id":"t$i","result":$r}\n);
		}
		for (my $i = @res - 1; $i > 0; $i--) { my $j = int(rand($i + 1)); @res[$i, $j] = @res[$j, $i]; }
		print S @res;' "$n" "$out/join-records.jsonl" "$out/join-results.jsonl"
fi
cat >"$out/join.py" <<'PY'
import json, sys
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
res = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    old = res.get(r["custom_id"])
    if old is None or old["result"]["type"] != "succeeded" or r["result"]["type"] == "succeeded":
        res[r["custom_id"]] = r
out = sys.stdout.write
for line in open(sys.argv[2], encoding="utf-8"):
    rec = json.loads(line)
    r = res.get(str(rec["id"]))
    if r is None:
        rec.update(response=None, status="missing", error="missing: no result came back for this record")
    elif r["result"]["type"] == "succeeded":
        rec.update(response="".join(b["text"] for b in r["result"]["message"]["content"] if b["type"] == "text"),
                   stop_reason=r["result"]["message"]["stop_reason"], status="succeeded")
    else:
        e = r["result"]["error"]["error"]
        rec.update(response=None, status="errored", error=e["type"] + ": " + e["message"])
    out(dumps(rec) + "\n")
PY
. bench/lib.sh
bt=$(best "$out/join-bt.out" /dev/null bin/bt-join --id .id --results "$out/join-results.jsonl" "$out/join-records.jsonl")
py=$(best "$out/join-py.out" /dev/null python3 "$out/join.py" "$out/join-results.jsonl" "$out/join-records.jsonl")
cmp "$out/join-bt.out" "$out/join-py.out"
/usr/bin/time -f %M -o "$out/rss" bin/bt-join --id .id --results "$out/join-results.jsonl" "$out/join-records.jsonl" >/dev/null 2>&1
rss=$(tail -n 1 "$out/rss")
printf 'bt-join: %d records, %d results (%d MB)\n' "$n" "$n" $(( $(wc -c <"$out/join-results.jsonl") / 1000000 ))
printf '  bt-join   %6.2fs  %6d KB peak\n  python3   %6.2fs   ratio %.1fx (target >= 2)\n' "$bt" "$rss" "$py" "$(echo "$py / $bt" | bc -l)"
