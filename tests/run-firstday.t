#!/bin/sh
# bt-run on a first day (issue 18 §2): exit 3 when a record did not
# succeed, the standard price of a small job said once, --detach quiet on
# a finished job, records on stdin refused with a reason, -c and --rpm to
# bt-send, --help a line an option.
. "${0%/*}/lib.sh"

mock_start --processing-time 1 || exit 1
for i in 1 2 3 4; do echo "{\"id\":\"r$i\",\"text\":\"record $i\"}"; done >r.jsonl
# an effort the API refuses (invalid_request_error: never retried)
bad='$params + {output_config: {effort: "huge"}}'

test_expect_success 'every record errored: exit 3, each record out as errored' '
	test_expect_code 3 bt-run -w e.work -m claude-haiku-4-5 --id .id -p .text --params "$bad" r.jsonl >out 2>err &&
	jq -r .status out >got &&
	printf "errored\nerrored\nerrored\nerrored\n" >want && test_cmp want got &&
	test_grep "^bt-join: 4 records: 0 succeeded, 4 errored" err &&
	bt-run --status -w e.work >st &&
	test_grep "^e.work: done" st
'

test_expect_success 'some records errored, in a batch: exit 3 too (as --strict was)' '
	test_expect_code 3 bt-run --sync-below 0 -w s.work -m claude-haiku-4-5 --id .id -p .text \
		--params "if .id == \"r2\" then $bad else \$params end" r.jsonl >out 2>err &&
	jq -r .status out >got &&
	printf "succeeded\nerrored\nsucceeded\nsucceeded\n" >want && test_cmp want got &&
	bt-run --status -w s.work >st &&
	test_grep "^s.work: done" st
'

test_expect_success 'a job below --sync-below: the standard price said once, on the run that sends it' '
	bt-run -w b.work --sync-below 100 -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_lines 4 out &&
	echo "bt-run: 4 requests, below --sync-below 100: sent synchronously at the standard price (about 2x the batch price)" >want &&
	test_cmp want err &&
	bt-run -w b.work --sync-below 100 -m claude-haiku-4-5 --id .id -p .text r.jsonl >out2 2>err &&
	test_cmp out out2 &&
	test_must_be_empty err &&
	bt-run -w a.work --sync -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_must_be_empty err
'

test_expect_success '--detach on a finished job without -o: the output once, then nothing, exit 0' '
	bt-run --detach --sync-below 0 -w d.work -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_must_be_empty out &&
	wait_for mock_ended $(jq -r .id d.work/round.01/batches.jsonl) &&
	bt-run --detach --sync-below 0 -w d.work -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_lines 4 out &&
	bt-run --detach --sync-below 0 -w d.work -m claude-haiku-4-5 --id .id -p .text r.jsonl >out2 2>err &&
	test_must_be_empty out2 &&
	test_must_be_empty err &&
	bt-run --sync-below 0 -w d.work -m claude-haiku-4-5 --id .id -p .text r.jsonl >out3 2>err &&
	test_cmp out out3 &&
	test_expect_code 3 bt-run --detach -w e.work -m claude-haiku-4-5 --id .id -p .text --params "$bad" r.jsonl >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'

test_expect_success '--detach on a finished job with -o: the file is not written again, unless it is gone' '
	bt-run --detach --sync -w o.work -o o.jsonl -m claude-haiku-4-5 --id .id -p .text r.jsonl &&
	test_lines 4 o.jsonl &&
	echo edited >o.jsonl &&
	bt-run --detach --sync -w o.work -o o.jsonl -m claude-haiku-4-5 --id .id -p .text r.jsonl >out &&
	test_must_be_empty out &&
	echo edited >want && test_cmp want o.jsonl &&
	rm o.jsonl &&
	bt-run --detach --sync -w o.work -o o.jsonl -m claude-haiku-4-5 --id .id -p .text r.jsonl &&
	test_lines 4 o.jsonl
'

test_expect_success 'records on stdin: "records must be a file", exit 2, nothing made' '
	test_expect_code 2 bt-run -w i.work -m claude-haiku-4-5 -p .text <r.jsonl >out 2>err &&
	echo "bt-run: records must be a file (bt-run resumes from it)" >want &&
	test_cmp want err &&
	cat r.jsonl | test_expect_code 2 bt-run -w i.work -m claude-haiku-4-5 -p .text >out 2>err &&
	test_cmp want err &&
	test_expect_code 2 bt-run -w i.work -m claude-haiku-4-5 -p .text - <r.jsonl >out 2>err &&
	test_cmp want err &&
	test_must_be_empty out &&
	! test -e i.work &&
	test_expect_code 2 bt-run -w i.work -m claude-haiku-4-5 -p .text 2>err &&
	test_grep "^usage: bt-run" err
'

# bt-run runs the programs beside it: a bt-send beside a link to it logs
# its arguments, then runs the real one
mkdir shim
ln -s "$BT_ROOT/bin/bt-run" shim/bt-run
cat >shim/bt-send <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TRASH/send.argv"
exec "$BT_ROOT/bin/bt-send" "\$@"
EOF
chmod +x shim/bt-send

test_expect_success '-c and --rpm go to bt-send, for every synchronous round' '
	shim/bt-run -w c.work --sync -c 3 --rpm 600 -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_lines 4 out &&
	sed "s/ -o .*//" send.argv >got &&
	echo "-c 3 --rpm 600" >want && test_cmp want got &&
	rm send.argv &&
	shim/bt-run -w c2.work --sync --concurrency 2 -m claude-haiku-4-5 --id .id -p .text r.jsonl >out 2>err &&
	sed "s/ -o .*//" send.argv >got &&
	echo "-c 2" >want && test_cmp want got &&
	test_expect_code 2 bt-run -c 0 r.jsonl 2>err &&
	echo "bt-run: -c: 0 is out of range (1 to 1024)" >want && test_cmp want err &&
	test_expect_code 2 bt-run --rpm 99999999999999999999 r.jsonl 2>err &&
	echo "bt-run: --rpm: 99999999999999999999 is out of range (1 to 1000000000)" >want && test_cmp want err &&
	test_expect_code 2 bt-run --rpm x r.jsonl 2>err &&
	echo "bt-run: --rpm: not a whole number: '"'x'"'" >want && test_cmp want err
'

test_expect_success '--help: the usage, then a line for each option it names' '
	bt-run --help >out 2>err &&
	test_must_be_empty err &&
	sed -n "/^usage/,/^ *bt-run --status/p" out | grep -o "\[-[-a-zA-Z]*" | tr -d "[" | sort -u >opts &&
	test $(wc -l <opts) -gt 20 &&
	while read -r o; do
		grep -q -E -e "^  (-[a-z], )?$o( |,|$)" out || { echo "no line for $o"; return 1; }
	done <opts &&
	for o in --status --offline --json --reject; do
		grep -q -E -e "^  $o " out || { echo "no line for $o"; return 1; }
	done
'

test_done
