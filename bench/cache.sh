#!/bin/sh
# bench/cache.sh — the response store (bt-cache, issue 20).
#
#   put    N results (default 1,000,000) into a new store, one transaction;
#          and 100,000 into another
#   get    N requests, half of them in the store, against the same lookup
#          written with python3's sqlite3 module (the same key rule, the
#          same marked lines: the two outputs are compared byte for byte)
#   size   the store's bytes per answer against the results file's
#   memory peak RSS of each
#
# Best of 3 wall-clock seconds for get (put once: a second put of the same
# answers is another workload).  Requests are ~330 bytes, answers ~600.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_DIR:-bench/out}
mkdir -p "$out"
n=${N:-1000000}
half=$((n / 2))
. bench/lib.sh

# N requests (s1..sN) and their results; the lookup asks for s(N/2+1)..
# s(N+N/2): half stored, half not, under other custom_ids (q...)
if [ ! -s "$out/cache-$n.res" ]; then
	perl -e '
		my ($n, $req, $res, $ask) = @ARGV;
		open Q, ">", $req or die; open S, ">", $res or die; open A, ">", $ask or die;
		my $h = int($n / 2);
		for my $i (1 .. $n + $h) {
			my $p = qq({"model":"claude-haiku-4-5","max_tokens":256,"system":"Classify the ticket: billing, delivery, account or other.","messages":[{"role":"user","content":"Ticket $i: my order arrived late and the invoice shows a charge I do not recognise. Please look into it."}]});
			print Q qq({"custom_id":"s$i","params":$p}\n) if $i <= $n;
			print A qq({"custom_id":"q$i","params":$p}\n) if $i > $h;
			next if $i > $n;
			print S qq({"custom_id":"s$i","result":{"type":"succeeded","message":{"id":"msg_01bench$i","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"billing: the ticket $i reports an unrecognised charge on the invoice, and a late delivery; the charge is the main concern.","citations":null}],"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null,"usage":{"input_tokens":52,"output_tokens":31,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"service_tier":"batch"}}}}\n);
		}' "$n" "$out/cache-$n.req" "$out/cache-$n.res" "$out/cache-$n.ask"
	head -n 100000 "$out/cache-$n.req" >"$out/cache-100k.req"
	head -n 100000 "$out/cache-$n.res" >"$out/cache-100k.res"
fi

cat >"$out/cache-get.py" <<'PY'
# bt-cache get, in python3: the key rule of bt-cache(1), the same lines out
import hashlib, json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("BEGIN")
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
sel = "SELECT answer, line_id, stored_at FROM answers WHERE key = ?"
out = sys.stdout.write
for line in sys.stdin:
    r = json.loads(line)
    pre = "bt-cache-key 1\nanthropic\n/v1/messages\n0\n" + dumps(r["params"])
    key = hashlib.sha256(pre.encode()).digest()
    row = db.execute(sel, (key,)).fetchone()
    if row:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row[2]))
        out('{"custom_id":' + json.dumps(r["custom_id"]) + ',"result":' + row[0] +
            ',"bt_cached":{"key":"' + key.hex() + '","stored_at":"' + at + '"}}\n')
db.execute("COMMIT")
PY

rm -f "$out/cache.db" "$out/cache.db-wal" "$out/cache.db-shm" "$out/cache-100k.db"*
echo "bt-cache, $n stored answers, a lookup of $n requests of which $half are stored"
printf '%-34s %8s %9s %8s\n' "" seconds "RSS MB" ratio
measure /dev/null bin/bt-cache --cache "$out/cache-100k.db" put "$out/cache-100k.req" "$out/cache-100k.res"
read t r <m
row "put 100,000 (one transaction)" "$t" "$r"
measure /dev/null bin/bt-cache --cache "$out/cache.db" put "$out/cache-$n.req" "$out/cache-$n.res"
read t r <m
row "put $n (one transaction)" "$t" "$r"
best3 "$out/cache-bt.hits" bin/bt-cache --cache "$out/cache.db" get "$out/cache-$n.ask"
bt=$T btrss=$RSS
best3 "$out/cache-py.hits" sh -c "python3 '$out/cache-get.py' '$out/cache.db' <'$out/cache-$n.ask'"
py=$T pyrss=$RSS
row "python3 sqlite3 get" "$py" "$pyrss"
row "bt-cache get" "$bt" "$btrss" "$py" 0.5 64
printf '%s' "$rows"
cmp "$out/cache-bt.hits" "$out/cache-py.hits" >/dev/null &&
	echo "the two gets wrote the same $(wc -l <"$out/cache-bt.hits") lines, byte for byte" ||
	{ echo "bench: the two gets differ" >&2; exit 1; }
perl -e 'printf "bt-cache get: %.2fx the speed of python3 sqlite3 (target >= 2x)\n", $ARGV[1] / $ARGV[0]' "$bt" "$py"
db=$(( $(stat -c %s "$out/cache.db") + $(stat -c %s "$out/cache.db-wal" 2>/dev/null || echo 0) ))
rs=$(stat -c %s "$out/cache-$n.res")
perl -e 'printf "store: %d bytes, %.0f bytes an answer (request and answer kept); the results file: %.0f bytes a line; %.2fx\n", $ARGV[0], $ARGV[0] / $ARGV[2], $ARGV[1] / $ARGV[2], $ARGV[0] / $ARGV[1]' "$db" "$rs" "$n"
