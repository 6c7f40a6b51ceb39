#!/bin/sh
# contrib/: bt.mk (the job as make rules) against bt-mock, the bash
# completion, Makefile.example.
. "${0%/*}/lib.sh"

MAKE=${MAKE:-make}
unset MAKEFLAGS MFLAGS MAKELEVEL
export BT_ROOT

# 60 tickets, in an order that is not the order of their ids
perl -e 'for (1..60) { my $n = ($_ * 37) % 61; print qq({"id":"T-$n","text":"ticket number $_"}\n) }' >records.jsonl

# mkjob DIR [MORE-MAKEFILE-LINES]: a job directory with a Makefile using bt.mk
mkjob() {
	mkdir -p "$1" && cp records.jsonl "$1/" &&
	cat >"$1/Makefile" <<-EOF
	RECORDS = records.jsonl
	MODEL = claude-haiku-4-5
	ID = .id
	PROMPT = "Classify: \\(.text)"
	SPLIT_FLAGS = -n 25
	WAIT_FLAGS = --interval 100ms
	${2:-}
	include $BT_ROOT/contrib/bt.mk
	all: \$(WORK)/joined.jsonl
	EOF
}
# every file and directory under DIR, with its size and mtime to the ns
snapshot() { ls -lR --time-style=+%s.%N "$1"; }
# the distinct batches recorded in DIR's journals
journal_batches() {
	cat "$1"/state/journal/*.json |
		jq -r 'select(.state == "created") | .batch.id' | sort -u | wc -l
}

mock_start --processing-time 0.5 --error-rate 0.2 --seed 5

test_expect_success 'bt.mk: the whole job, with retry rounds, joined in input order' '
	mkjob job &&
	$MAKE -C job >out 2>err &&
	test_lines 60 job/bt-work/joined.jsonl &&
	jq -r .id records.jsonl >expect &&
	jq -r .id job/bt-work/joined.jsonl >actual &&
	test_cmp expect actual &&
	jq -c "del(.response, .stop_reason, .status, .error)" job/bt-work/joined.jsonl >actual &&
	test_cmp records.jsonl actual &&
	test -s job/bt-work/round.02/requests.jsonl &&
	n=$(wc -l <job/bt-work/results.jsonl) && test "$n" -gt 60 &&
	ok=$(jq -r "select(.status == \"succeeded\") | .id" job/bt-work/joined.jsonl | wc -l) &&
	test "$ok" -ge 57 &&
	test "$(mock_stat creates)" = "$(journal_batches job/bt-work)" &&
	cp job/bt-work/joined.jsonl joined.first
'

test_expect_success 'bt.mk: run again, nothing is done: no API call, no file touched' '
	snapshot job >before &&
	http=$(mock_stat http) &&
	$MAKE -C job >out 2>&1 &&
	test_grep "Nothing to be done" out &&
	snapshot job >after &&
	test_cmp before after &&
	test "$(mock_stat http)" = "$http"
'

test_expect_success 'bt.mk: joined.jsonl removed: made again, the same bytes, no API call' '
	http=$(mock_stat http) &&
	rm job/bt-work/joined.jsonl &&
	$MAKE -C job >out 2>&1 &&
	test_cmp joined.first job/bt-work/joined.jsonl &&
	test "$(mock_stat http)" = "$http"
'

test_expect_success 'bt.mk: stages run again (records touched, a round redone): nothing paid twice' '
	creates=$(mock_stat creates) &&
	rm job/bt-work/round.01/ended.jsonl &&
	touch job/records.jsonl &&
	$MAKE -C job >out 2>&1 &&
	test_grep "bt-work/round.01/batches.jsonl" out &&
	test_grep "bt-work/round.02/batches.jsonl" out &&
	test_cmp joined.first job/bt-work/joined.jsonl &&
	test "$(mock_stat creates)" = "$creates"
'

test_expect_success 'bt.mk: a new prompt makes new requests; the same one does not' '
	$MAKE -C job -n >out &&
	test_must_fail grep -q bt-format out &&
	$MAKE -C job -n PROMPT=.text >out &&
	test_grep "bt-format .* -p .\.text" out
'

test_expect_success 'bt.mk: new JOIN_FLAGS join again, and nothing more' '
	$MAKE -C job -n JOIN_FLAGS="--as label" >out &&
	test_grep "bt-join --id .\.id. .*--as label" out &&
	test_must_fail grep -q -e bt-format -e bt-submit -e bt-wait out
'

test_expect_success 'bt.mk: PROMPT as written, a jq \$variable as \$\$variable' '
	mkdir vars && cp records.jsonl vars/ &&
	cat >vars/Makefile <<-\EOF &&
	RECORDS = records.jsonl
	MODEL = m
	PROMPT = "\($$verb), don'"'"'t guess: \(.text)"
	FORMAT_FLAGS = --arg verb '"'"'Sort it'"'"'
	EOF
	echo "include $BT_ROOT/contrib/bt.mk" >>vars/Makefile &&
	$MAKE -s -C vars bt-work/requests.jsonl &&
	head -n 1 vars/bt-work/requests.jsonl | jq -r ".params.messages[0].content" >actual &&
	echo "Sort it, don'"'"'t guess: ticket number 1" >expect &&
	test_cmp expect actual
'

test_expect_success 'bt.mk: bt-status says every batch ended' '
	$MAKE -s -C job bt-status >out 2>err &&
	n=$(journal_batches job/bt-work) &&
	test_grep "^bt.mk: $n of $n batches ended\$" out &&
	test_lines $((n + 1)) out
'

test_expect_success 'bt.mk: a failing stage fails make and leaves no target for it' '
	mkjob bad &&
	cp records.jsonl bad/records.jsonl && echo "{\"id\":" >>bad/records.jsonl &&
	creates=$(mock_stat creates) &&
	test_expect_code 2 $MAKE -C bad >out 2>err &&
	test_grep "records.jsonl:61:" err &&
	test_must_fail test -e bad/bt-work/requests.jsonl &&
	test_must_fail test -e bad/bt-work/requests.jsonl.tmp &&
	test_must_fail test -e bad/bt-work/round.01 &&
	test "$(mock_stat creates)" = "$creates"
'

test_expect_success 'bt.mk: a stage failing half way (bt-fetch) leaves no results; make again ends the job' '
	mkjob fetch &&
	$MAKE -C fetch bt-work/round.01/ended.jsonl >out 2>&1 &&
	mock_fault results:404 &&
	test_must_fail $MAKE -C fetch >out 2>&1 &&
	test_grep "bt-fetch" out &&
	test -s fetch/bt-work/round.01/ended.jsonl &&
	test_must_fail test -e fetch/bt-work/round.01/results.jsonl &&
	test_must_fail test -e fetch/bt-work/round.01/results.jsonl.tmp &&
	$MAKE -C fetch >out 2>&1 &&
	test_lines 60 fetch/bt-work/joined.jsonl
'

test_expect_success 'bt.mk: a command failing in a pipe fails the target' '
	mkdir pipe &&
	printf "%s\n" "RECORDS = x" "include $BT_ROOT/contrib/bt.mk" \
		"out: ; false | cat >\$@" >pipe/Makefile &&
	test_must_fail $MAKE -C pipe out >out 2>&1 &&
	test_must_fail test -e pipe/out
'

test_expect_success 'bt.mk: ROUNDS bounds the rounds; a bad ROUNDS is an error' '
	mkjob rounds &&
	$MAKE -C rounds -n ROUNDS=0 >out &&
	test_grep "round.01/results.jsonl" out &&
	test_must_fail grep -q round.02 out &&
	$MAKE -C rounds -n ROUNDS=4 >out &&
	test_grep "round.05/results.jsonl" out &&
	test_must_fail grep -q round.06 out &&
	test_must_fail $MAKE -C rounds -n ROUNDS=two >out 2>&1 &&
	test_grep "ROUNDS must be a whole number" out
'

# A slower emulator, with the same seed: the job is killed while its
# batches run.
mock_start --processing-time 2 --error-rate 0.2 --seed 5

test_expect_success 'bt.mk: killed after bt-submit, run again: the same output, no batch twice' '
	mkjob kill &&
	{ perl -e "setpgrp(0, 0); exec @ARGV" $MAKE -C kill >out 2>&1 & } &&
	pid=$! &&
	i=0 && while [ ! -e kill/bt-work/round.01/batches.jsonl ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1)); done &&
	test -e kill/bt-work/round.01/batches.jsonl &&
	kill -KILL -$pid && { wait $pid; :; } &&
	test_must_fail test -e kill/bt-work/round.01/ended.jsonl &&
	test "$(mock_stat creates)" = 3 &&
	$MAKE -C kill >out 2>&1 &&
	test_cmp joined.first kill/bt-work/joined.jsonl &&
	test "$(mock_stat creates)" = "$(journal_batches kill/bt-work)"
'

# A fresh one again: bt-submit settles a create that got no answer by the
# batches made since with as many requests, so no other job may have any.
mock_start --processing-time 2 --error-rate 0.2 --seed 7

test_expect_success 'bt.mk: killed while a create waits for its answer: the batch is adopted, not paid twice' '
	mkjob kill2 &&
	creates=$(mock_stat creates) &&
	mock_fault create:slow:4 &&
	{ perl -e "setpgrp(0, 0); exec @ARGV" $MAKE -C kill2 >out 2>&1 & } &&
	pid=$! &&
	i=0 && until grep -qs "\"state\":\"sending\"" kill2/bt-work/state/journal/*.json; do
		[ $i -lt 200 ] || exit 1; sleep 0.05; i=$((i + 1)); done &&
	wait_for mock_stat_is creates $((creates + 1)) &&
	kill -KILL -$pid && { wait $pid; :; } &&
	test_must_fail test -e kill2/bt-work/round.01/batches.jsonl &&
	test "$(mock_stat creates)" = $((creates + 1)) &&
	$MAKE -C kill2 >out 2>&1 &&
	test_lines 60 kill2/bt-work/joined.jsonl &&
	test "$(mock_stat creates)" = $((creates + $(journal_batches kill2/bt-work)))
'

if [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'bt.mk: bt-status, bt-clean and bt-cancel while batches run' 'timing, distorted by valgrind'
else
# batches that run a minute unless canceled: "0 of 3 ended" must hold
# however slow the machine (with 2 s they had ended under load)
mock_start --processing-time 60
test_expect_success 'bt.mk: bt-status, bt-clean and bt-cancel while batches run' '
	mkjob run &&
	$MAKE -C run -s bt-work/round.01/batches.jsonl &&
	test_must_fail $MAKE -C run -s bt-status >out 2>err &&
	test_grep "^bt.mk: 0 of 3 batches ended" out &&
	test_must_fail $MAKE -C run -s bt-clean >out 2>err &&
	test_grep "batches have not ended" err &&
	test -d run/bt-work &&
	$MAKE -C run -s bt-cancel >out &&
	test_lines 3 out &&
	test_grep "canceling\$" out &&
	i=0 && until $MAKE -C run -s bt-status >/dev/null 2>&1; do
		[ $i -lt 300 ] || exit 1; sleep 0.1; i=$((i + 1)); done &&
	$MAKE -C run -s bt-cancel >out &&
	test_grep "nothing to cancel" out &&
	$MAKE -C run -s bt-clean &&
	test_must_fail test -e run/bt-work
'
fi

test_expect_success 'bt.mk: FORCE=1 cleans a job whose batches run on' '
	mkjob force &&
	$MAKE -C force -s bt-work/round.01/batches.jsonl &&
	test_must_fail $MAKE -C force -s bt-clean >/dev/null 2>&1 &&
	$MAKE -C force -s bt-clean FORCE=1 &&
	test_must_fail test -e force/bt-work
'

mock_start --processing-time 0.5
test_expect_success 'Makefile.example: parses, and runs a tiny job' '
	printf "%s\n" "{\"id\":\"T-1\",\"subject\":\"Refund\",\"body\":\"Charged twice\"}" \
		"{\"id\":\"T-2\",\"subject\":\"Crash\",\"body\":\"It crashes\"}" >tickets.jsonl &&
	$MAKE -n -f "$BT_ROOT/contrib/Makefile.example" >out &&
	test_grep "bt-format .*--max-tokens 10" out &&
	$MAKE -s -f "$BT_ROOT/contrib/Makefile.example" WAIT_FLAGS="--interval 100ms" summary >out &&
	test_lines 2 tickets-work/joined.jsonl &&
	jq -r "select(.status == \"succeeded\") | .label | type" tickets-work/joined.jsonl >actual &&
	printf "string\nstring\n" >expect && test_cmp expect actual &&
	test_lines 1 out &&
	test_grep "^ *2 [a-z_]+\$" out
'

# complete WORD...: what the completion offers for the last word
complete_words() {
	bash -c '. "$BT_ROOT/contrib/bt.bash-completion" &&
		COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _bt &&
		{ [ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}"; }' bt "$@" | sort
}

test_expect_success 'completion: loads in bash, and registers every program' '
	bash -c ". \"$BT_ROOT/contrib/bt.bash-completion\" && complete -p" >out &&
	for p in format split submit wait fetch retry join list cancel cost cache run mock; do
		test_grep "^complete -F _bt .*bt-$p( |\$)" out || exit 1
	done
'

test_expect_success 'completion: every option of every usage line is offered' '
	for p in format split submit wait fetch retry join list cancel cost cache run mock; do
		bt-$p -h 2>&1 | perl -ne "
			while (/(?:^|[\\[| ])(--?[A-Za-z][-A-Za-z]*)/g) {
				my \$o = \$1;
				if (\$o =~ /^-([A-Za-z]{2,})\$/) { print qq(-\$_\\n) for split //, \$1 }
				else { print qq(\$o\\n) }
			}" | sort -u >usage.$p &&
		test -s usage.$p &&
		bash -c ". \"\$BT_ROOT/contrib/bt.bash-completion\" && _bt_opts bt-$p" |
			tr -s " \\t" "\\n\\n" | sort -u >offered.$p &&
		comm -23 usage.$p offered.$p >missing.$p &&
		{ test_must_be_empty missing.$p || { echo "bt-$p:"; cat missing.$p; exit 1; }; } || exit 1
	done
'

test_expect_success 'completion: options by prefix, per program' '
	complete_words bt-format --sys >actual &&
	printf "%s\n" --system --system-file >expect && test_cmp expect actual &&
	complete_words bt-retry --s >actual &&
	printf "%s\n" --set --strict >expect && test_cmp expect actual &&
	complete_words /usr/local/bin/bt-wait --t >actual &&
	echo --timeout >expect && test_cmp expect actual &&
	complete_words bt-split -d dir -n 5 - >actual &&
	printf "%s\n" --bytes --directory --fsync --help --requests --suffix-length --verbose -a -b -d -h -n -v >expect && test_cmp expect actual
'

test_expect_success 'completion: bt-cache: its commands, then files' '
	complete_words bt-cache --cache s.db "" >actual &&
	printf "%s\n" get prune put stats >expect && test_cmp expect actual &&
	complete_words bt-cache p >actual &&
	printf "%s\n" prune put >expect && test_cmp expect actual &&
	complete_words bt-cache stats "" >actual &&
	test_must_be_empty actual
'

test_expect_success 'completion: values: statuses, files, directories, nothing' '
	complete_words bt-list --status "" >actual &&
	printf "%s\n" canceling ended in_progress >expect && test_cmp expect actual &&
	complete_words bt-list -v --status c >actual &&
	echo canceling >expect && test_cmp expect actual &&
	mkdir -p cdir/sub && : >cdir/file1 && : >cdir/file2 &&
	complete_words bt-format --system-file cdir/f >actual &&
	printf "%s\n" cdir/file1 cdir/file2 >expect && test_cmp expect actual &&
	complete_words bt-format --rawfile name cdir/file >actual && test_cmp expect actual &&
	complete_words bt-cost --prices cdir/file2 >actual &&
	echo cdir/file2 >expect && test_cmp expect actual &&
	complete_words bt-split -d cdir/ >actual &&
	echo cdir/sub >expect && test_cmp expect actual &&
	complete_words bt-split --directory cdir/ >actual && test_cmp expect actual &&
	complete_words bt-run -w cdir/ >actual && test_cmp expect actual &&
	complete_words bt-format --rawfile cdir/f >actual &&
	test_must_be_empty actual &&
	complete_words bt-format -m cdir/f >actual &&
	test_must_be_empty actual
'

test_done
