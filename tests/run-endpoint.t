#!/bin/sh
# bt-run: a work directory is tied to its server and key (issue 17 §3).
. "${0%/*}/lib.sh"

for i in 1 2 3; do echo "{\"text\":\"say a$i\"}"; done >a.jsonl
for i in 1 2 3; do echo "{\"text\":\"say b$i\"}"; done >b.jsonl
for i in 1 2 3; do echo "{\"text\":\"say c$i\"}"; done >c.jsonl
for i in 1 2 3; do echo "{\"text\":\"say d$i\"}"; done >d.jsonl
run() { bt-run --detach --sync-below 0 -m claude-haiku-4-5 -p .text "$@"; }

test_expect_success 'bt-wait --endpoint: the base URL as bt uses it, the key fingerprint, never the key' '
	ANTHROPIC_BASE_URL=http://127.0.0.1:9/ ANTHROPIC_API_KEY=sk-secret bt-wait --endpoint >out &&
	fp=$(printf "bt-endpoint\nhttp://127.0.0.1:9\nsk-secret" | sha256sum | cut -c1-16) &&
	echo "{\"base_url\":\"http://127.0.0.1:9\",\"key_fp\":\"$fp\"}" >expect &&
	test_cmp expect out &&
	bt-wait --endpoint >out &&
	echo "{\"base_url\":\"https://api.anthropic.com\",\"key_fp\":null}" >expect &&
	test_cmp expect out &&
	test_expect_code 2 bt-wait --endpoint msgbatch_x 2>err &&
	echo "bt-wait: --endpoint takes no batches" >expect && test_cmp expect err
'

mock_start --processing-time 3
URL1=$MOCK_URL

test_expect_success 'bt-run keeps the endpoint of its job: the base URL and the key fingerprint bt-submit keys its journal by, never the key' '
	run -w A.work a.jsonl 2>err &&
	test -f A.work/round.01/batches.jsonl &&
	fp=$(printf "bt-endpoint\n%s\n%s" "$MOCK_URL" "$ANTHROPIC_API_KEY" | sha256sum | cut -c1-16) &&
	printf "{\"base_url\":\"%s\",\"key_fp\":\"%s\"}\n" "$MOCK_URL" "$fp" >expect &&
	test_cmp expect A.work/endpoint &&
	jq -r ".key_fp // empty" A.work/state/journal/*.json | sort -u >jfp &&
	echo "$fp" >expect && test_cmp expect jfp &&
	! grep -r -q -F "$ANTHROPIC_API_KEY" A.work
'

mock_start --processing-time 3
URL2=$MOCK_URL

test_expect_success 'the issue'"'"'s reproduction: A begun on one bt-mock, B on a restarted one; A run again is refused, naming both servers' '
	test "$URL1" != "$URL2" &&
	run -w B.work b.jsonl 2>err &&
	test_expect_code 2 run -w A.work -o A.out a.jsonl 2>err &&
	echo "bt-run: A.work was begun against $URL1, not $URL2: its batches are that server'"'"'s; run it against $URL1 (ANTHROPIC_BASE_URL, and the key it was begun with), or use another -w for a job here" >expect &&
	test_cmp expect err &&
	! test -e A.out &&
	! test -e A.work/round.01/results.jsonl &&
	test_expect_code 2 bt-run --status -w A.work >out 2>err &&
	test_grep "^bt-run: A.work was begun against $URL1, not $URL2" err &&
	test_expect_code 3 bt-run --status --offline -w A.work >out
'

test_expect_success 'another key on the same server is refused too, and the key is never said' '
	test_expect_code 2 env ANTHROPIC_API_KEY=sk-another-secret bt-run --detach --sync-below 0 -m claude-haiku-4-5 -p .text -w B.work b.jsonl 2>err &&
	echo "bt-run: B.work was begun against $URL2 with another key: its batches are that account'"'"'s; run it with the key it was begun with, or use another -w for a job with this key" >expect &&
	test_cmp expect err &&
	! grep -q -e sk-another-secret -e "$ANTHROPIC_API_KEY" err &&
	echo sk-another-secret >keyfile && chmod 600 keyfile &&
	test_expect_code 2 bt-run --detach --api-key-file keyfile -m claude-haiku-4-5 -p .text -w B.work b.jsonl 2>err &&
	test_cmp expect err
'

test_expect_success 'on its own server, B finishes with its own answers' '
	i=0 && st=0 &&
	while [ $i -lt 100 ]; do
		st=0; run -w B.work -o B.out b.jsonl 2>err || st=$?
		[ -e B.work/done ] && break
		sleep 0.1; i=$((i + 1))
	done &&
	test $st = 0 &&
	jq -r "[.text, .response, .status] | @tsv" B.out >actual &&
	printf "say b%s\tsay b%s\tsucceeded\n" 1 1 2 2 3 3 >expect &&
	test_cmp expect actual
'

test_expect_success 'a job begun before bt-run kept its endpoint adopts this one, said once' '
	run -w C.work c.jsonl 2>/dev/null &&
	rm C.work/endpoint &&
	run -w C.work c.jsonl 2>err &&
	test_grep "^bt-run: C.work: a job begun before work directories kept their endpoint: it is tied to $URL2 and this key from now on$" err &&
	test -f C.work/endpoint &&
	run -w C.work c.jsonl 2>err &&
	! grep -q "begun before" err
'

# The same server restarted on the same port: the same base URL and key.
# Its batch ids are new, so A can never be given B's batch (a refusal, or
# a failure: never B's answers).
port=${URL1##*:}
mock_start --processing-time 0.2 -p "$port"

test_expect_success 'a bt-mock restarted on the same port: A'"'"'s batch is not found there (its ids never repeat), and A never gets the answers of a job made on it since' '
	test "$MOCK_URL" = "$URL1" &&
	run -w D.work d.jsonl 2>err &&
	test_must_fail bt-run --sync-below 0 -m claude-haiku-4-5 -p .text -w A.work -o A.out a.jsonl >/dev/null 2>err &&
	! test -e A.out &&
	test_grep "not_found_error" err
'

test_done
