#!/bin/sh
# bench/send-openai.sh — bt-send on OpenAI's /v1/chat/completions against
# the official openai SDK (npm) and curl -Z, on bt-mock.  Run by hand, not
# by make check.
#
#   sh bench/send-openai.sh     (BENCH_N=requests, default 10000; BENCH_DIR=scratch)
#
# BENCH_N requests, no latency, no limits, 64 at once, each way, best of 3:
#   bt-send -c 64
#   the official openai SDK (from tests/npm after make npm-deps, else
#     installed into the scratch directory), 64 concurrent promises
#   curl -Z --parallel-max 64
# Goal (issue 19): >= 2x the SDK's requests/s, at most a tenth of its
# peak RSS.  Needs perl, curl, node and npm, GNU time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=$root/bin:$PATH
n=${BENCH_N:-10000}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bt-bench-send-openai.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
cd "$work"
export XDG_STATE_HOME=$work/state OPENAI_API_KEY=bench-key
unset ANTHROPIC_API_KEY BT_PROVIDER

. "$root/bench/lib.sh"

bt-mock -p 0 --lifetime 1800 --model gpt-4.1-mini >url 2>mock.log &
pid=$!
i=0; until [ -s url ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
OPENAI_BASE_URL=$(head -n 1 url)/v1; export OPENAI_BASE_URL

echo "preparing $n requests and the SDK..." >&2
perl -e 'print qq({"custom_id":"r$_","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","max_completion_tokens":20,"messages":[{"role":"user","content":"say $_"}]}}\n) for 1..'"$n" >req.jsonl
mkdir p
perl -ne 'm/"body":(.*)\}$/ or die; open F, ">", "p/$.json"; print F $1; close F' req.jsonl
if [ -d "$root/tests/npm/node_modules/openai" ]; then
	ln -s "$root/tests/npm/node_modules" node_modules
else
	(npm init -y >/dev/null 2>&1 && npm install --silent openai >/dev/null 2>&1) ||
		{ echo "bench/send-openai.sh: npm install openai failed" >&2; exit 1; }
fi
cat >sdk.mjs <<'JS'
import OpenAI from 'openai';
import { readFileSync } from 'fs';
const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL,
	apiKey: process.env.OPENAI_API_KEY, maxRetries: 2 });
let next = 0;
async function worker() {
	while (next < lines.length) {
		const r = lines[next++];
		const m = await client.chat.completions.create(r.body);
		if (m.object !== 'chat.completion') throw new Error('not a chat.completion');
	}
}
await Promise.all(Array.from({ length: +process.argv[3] }, worker));
JS
u=$OPENAI_BASE_URL/chat/completions
h1="Authorization: Bearer $OPENAI_API_KEY" h3="content-type: application/json"
perl -e 'for (1..'"$n"') { print qq(url = "'"$u"'"\nheader = "'"$h1"'"\nheader = "'"$h3"'"\ndata-binary = "\@p/$_.json"\noutput = "/dev/null"\n); print "next\n" if $_ < '"$n"' }' >curl.cfg

printf '\n%d requests, 64 at once          seconds  peak MB  requests/s\n' "$n"
run "bt-send -c 64" "$n" bt-send -c 64 req.jsonl; send=$last_rps; send_rss=$rss
run "openai SDK, 64 promises" "$n" node sdk.mjs req.jsonl 64; sdk=$last_rps; sdk_rss=$rss
run "curl -Z --parallel-max 64" "$n" curl -s -Z --parallel-max 64 -K curl.cfg; curlz=$last_rps
perl -e "printf qq(bt-send: %.2fx the SDK's requests/s (goal >= 2), %.2fx its peak RSS (goal <= 0.1), %.2fx curl -Z's requests/s\n), $send / $sdk, $send_rss / $sdk_rss, $send / $curlz"
