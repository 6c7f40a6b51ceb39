#!/bin/sh
# contrib/demo.sh — `make demo`: a whole job against the local emulator.
# No key, no network: bt-mock plays the API on 127.0.0.1, with faults on
# (some requests fail or expire, the first create is refused with 529) so
# that a retry round shows.  bt-mock answers each request by echoing its
# prompt, so every answer can be checked against its record.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=$root/bin:$PATH
export PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt-demo.XXXXXX")
mock=
cleanup() {
	[ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tickets=$root/contrib/demo/tickets.jsonl
echo "== bt demo: classify $(wc -l <"$tickets" | tr -d ' ') support tickets against bt-mock (no key, no network)"
bt-mock -p 0 --processing-time 2 --error-rate 0.1 --expire-rate 0.03 --seed 42 \
	--fault create:529*1 --lifetime 600 >"$tmp/url" 2>"$tmp/mock.log" &
mock=$!
i=0
until [ -s "$tmp/url" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: bt-mock did not start:" >&2; cat "$tmp/mock.log" >&2; exit 1; }
	sleep 0.05
done
ANTHROPIC_BASE_URL=$(head -n 1 "$tmp/url")
ANTHROPIC_API_KEY=demo-key-not-secret
export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY
echo "== bt-mock is at $ANTHROPIC_BASE_URL (10% of requests fail, 3% expire)"
echo

cat <<'CMD'
$ bt-run -v -w WORK -n 100 --rounds 4 -m claude-haiku-4-5 --id .id --max-tokens 200 \
      -s 'Classify the ticket: billing, shipping, account, technical or other.' \
      -p '"Subject: \(.subject)\n\n\(.body)"' contrib/demo/tickets.jsonl >joined.jsonl
CMD
bt-run -v -w "$tmp/work" -n 100 --rounds 4 -m claude-haiku-4-5 --id .id --max-tokens 200 \
	-s 'Classify the ticket: billing, shipping, account, technical or other.' \
	-p '"Subject: \(.subject)\n\n\(.body)"' "$tickets" >"$tmp/joined.jsonl"

echo
echo "== the outcome, one line per ticket, in input order:"
jq -r .status "$tmp/joined.jsonl" | sort | uniq -c
echo "   rounds: $(ls -d "$tmp"/work/round.* | wc -l | tr -d ' '), batches: $(cat "$tmp"/work/round.*/batches.jsonl | wc -l | tr -d ' ')"
echo
echo "== the first joined lines (bt-mock's answer echoes the prompt):"
head -n 3 "$tmp/joined.jsonl" | jq -c '{id, subject, status, response: (.response // "" | .[0:60] + "...")}'
echo
wrong=$(jq -r 'select(.status == "succeeded" and .response != "Subject: \(.subject)\n\n\(.body)") | .id' "$tmp/joined.jsonl" | wc -l)
echo "== answers that do not belong to their ticket: $wrong"
echo
echo "== what it cost (bt-mock's usage at batch prices, beside the synchronous API):"
cat "$tmp"/work/round.*/results.jsonl | bt-cost -H
