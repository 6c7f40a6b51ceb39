#!/bin/sh
# bench/send.sh — bt-send against named alternatives, on bt-mock.  Run by
# hand (make bench), not by make check.
#
#   sh bench/send.sh     (BENCH_N=requests, default 10000; BENCH_DIR=scratch;
#                         BENCH_PART=1, 2 or 3 for one part)
#
# 1. Throughput: BENCH_N requests to POST /v1/messages, no latency, no
#    limits, 64 at once, each way, best of 3 (xargs: once, on a fifth):
#      bt-send -c 64
#      the official TypeScript SDK (@anthropic-ai/sdk from npm, installed
#        into the scratch directory), 64 concurrent promises
#      curl -Z --parallel-max 64 (libcurl's own multi loop)
#      xargs -P 64 curl, one process a request
#    Goal: >= 2x the SDK's requests/s, >= 0.5x curl -Z's, peak RSS <= 32 MB.
# 3. Under a limit: bt-mock --latency 300ms --rpm 3000, bt-send -c 64 on
#    6,000 requests: the first ~3,700 empty the full bucket, the rest
#    come at the refill rate.  Goal: the rate over the last 30 s >= 95%
#    of the limit (50/s), and at most 1% of requests answered 429.
# 2. Tail: bt-run over 1,000 records on bt-mock --processing-time 10s
#    --error-rate 0.1, with --sync-below 200 against --sync-below 0
#    (every retry round a batch).  Goal: the whole job in <= 1.3x one
#    batch's processing time, polling lag included.
#
# Needs perl, curl, node and npm (for the SDK), GNU time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=$root/bin:$PATH
n=${BENCH_N:-10000}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bt-bench-send.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
cd "$work"
export XDG_STATE_HOME=$work/state ANTHROPIC_API_KEY=bench-key

mock() {
	[ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
	bt-mock -p 0 --lifetime 1800 "$@" >url 2>mock.log &
	pid=$!
	i=0; until [ -s url ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
	ANTHROPIC_BASE_URL=$(head -n 1 url); export ANTHROPIC_BASE_URL
}
. "$root/bench/lib.sh"

part=${BENCH_PART:-all}
if [ "$part" != 2 ] && [ "$part" != 3 ]; then
echo "preparing $n requests and the SDK (npm install)..." >&2
perl -e 'print qq({"custom_id":"r$_","params":{"model":"claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"say $_"}]}}\n) for 1..'"$n" >req.jsonl
mkdir p
perl -ne 'm/"params":(.*)\}$/ or die; open F, ">", "p/$.json"; print F $1; close F' req.jsonl
(npm init -y >/dev/null 2>&1 && npm install --silent @anthropic-ai/sdk >/dev/null 2>&1) ||
	{ echo "bench/send.sh: npm install @anthropic-ai/sdk failed" >&2; exit 1; }
cat >sdk.mjs <<'EOF'
import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'fs';
const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const client = new Anthropic({ baseURL: process.env.ANTHROPIC_BASE_URL,
	apiKey: process.env.ANTHROPIC_API_KEY, maxRetries: 2 });
let next = 0;
async function worker() {
	while (next < lines.length) {
		const r = lines[next++];
		const m = await client.messages.create(r.params);
		if (m.type !== 'message') throw new Error('not a message');
	}
}
await Promise.all(Array.from({ length: +process.argv[3] }, worker));
EOF
mock
u=$ANTHROPIC_BASE_URL/v1/messages
h1="x-api-key: $ANTHROPIC_API_KEY" h2="anthropic-version: 2023-06-01" h3="content-type: application/json"
perl -e 'for (1..'"$n"') { print qq(url = "'"$u"'"\nheader = "'"$h1"'"\nheader = "'"$h2"'"\nheader = "'"$h3"'"\ndata-binary = "\@p/$_.json"\noutput = "/dev/null"\n); print "next\n" if $_ < '"$n"' }' >curl.cfg
nx=$((n / 5))

printf '\n1. %d requests, 64 at once    seconds  peak MB  requests/s\n' "$n"
run "bt-send -c 64" "$n" bt-send -c 64 req.jsonl; send=$last_rps
run "SDK, 64 promises" "$n" node sdk.mjs req.jsonl 64; sdk=$last_rps
run "curl -Z --parallel-max 64" "$n" curl -s -Z --parallel-max 64 -K curl.cfg; curlz=$last_rps
ONCE=1 run "xargs -P 64 curl (n/5)" "$nx" sh -c "seq 1 $nx | xargs -P 64 -I{} curl -s -o /dev/null -H '$h1' -H '$h2' -H '$h3' --data-binary @p/{}.json $u"
perl -e "printf qq(bt-send: %.2fx the SDK (goal >= 2), %.2fx curl -Z (goal >= 0.5)\n), $send / $sdk, $send / $curlz"
fi
[ "$part" = 1 ] && exit 0

if [ "$part" != 2 ]; then
printf '\n3. under a limit: --latency 300ms --rpm 3000, 6000 requests, -c 64\n'
perl -e 'print qq({"custom_id":"l$_","params":{"model":"claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"say $_"}]}}\n) for 1..6000' >lim.jsonl
mock --latency 300ms --rpm 3000
bt-send -v -c 64 lim.jsonl 2>lim.err | perl -MTime::HiRes=time -ne 'print time, "\n"' >lim.times
perl -e '
	open F, "lim.times"; my @t = <F>; chomp @t;
	my $n = grep { $_ >= $t[-1] - 30 } @t;
	my $rate = $n / 30;
	printf "  the last 30 s (the bucket long empty): %.1f requests/s = %.1f%% of the limit (goal >= 95%%)\n", $rate, $rate / 50 * 100;'
waits=$(tail -n 1 lim.err | sed -n "s/.* \([0-9]*\) waits.*/\1/p")
perl -e "printf qq(  answered 429: %d of 6000 = %.2f%% (goal <= 1%%)\n), $waits, $waits / 60"
fi
[ "$part" = 3 ] && exit 0

printf '\n2. the tail: 1,000 records, batches of 10 s, 10%% errors\n'
perl -e 'print qq({"id":$_,"text":"record $_"}\n) for 1..1000' >recs.jsonl
for below in 200 0; do
	mock --processing-time 10 --error-rate 0.1
	t0=$(now)
	bt-run -w "w$below" --sync-below $below -m claude-haiku-4-5 --id .id -p .text recs.jsonl >out.$below
	t=$(perl -e "print $(now) - $t0")
	ok=$(grep -c '"status":"succeeded"' out.$below || true)
	rounds=$(ls -d w$below/round.* | wc -l)
	printf '  --sync-below %-4s %6.1f s = %.2fx one batch, %d rounds, %d/1000 succeeded\n' \
		"$below" "$t" "$(perl -e "print $t / 10")" "$rounds" "$ok"
done
