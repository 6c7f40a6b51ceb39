#!/bin/sh
# Every example in README.md and in the man pages (the .Bd -literal blocks
# of .Sh EXAMPLES) runs, as written, against bt-mock.
#
# tests/examples.py finds the examples (so that new ones are run too) and
# classifies them by rule: a transcript ("$ " lines, then the output shown),
# commands (the first word is a program, a builtin, an assignment or a
# crontab line), or a table/output format (no line starts with a command:
# reported, not run).  A block it cannot classify fails the first test,
# naming its file and line.
#
# The examples of one page run in order, each with "timeout 60 sh -e" in
# the page's own scratch directory, which holds small fixture files made by
# make_fixtures below (docs.jsonl, tickets.jsonl, ..., and requests.jsonl,
# chunks.txt, batches.jsonl, results.jsonl, round1.jsonl made by the
# pipeline on the page's bt-mock), with the built programs first on PATH
# and ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY set to that bt-mock.  Proxy
# variables point at a closed port, so that nothing can leave 127.0.0.1.
# What an example starts in the background (a bt-mock) is killed at the
# end of its page, and the test checks that nothing is left.
#
# Each example must exit 0 (or the status an "expect ... status=N" rule
# below gives); what it prints on standard output, when that is not
# redirected, must not be empty; no line it prints or writes with ">" may
# be "null"; a file it writes with ">" must not be empty (but for the
# may-be-empty= files of a rule).  A transcript's output must match the
# output shown (or, by a rule, its first line only).
#
# The substitutions made to the text of the examples, the whole list (in
# tests/examples.py):
#   1. "unset ANTHROPIC_BASE_URL;" is removed: "real API" examples run on
#      bt-mock (their key, sk-ant-..., is accepted by bt-mock as any key);
#   2. a crontab line "*/10 * * * * cd DIR && CMD" runs CMD;
#   3. a literal batch id msgbatch_... becomes
#      $(bt-list --status ended -n 1 | jq -r .id);
#   4. a reader's own key, ANTHROPIC_API_KEY=sk-ant-..., becomes the page's
#      ($ANTHROPIC_API_KEY): bt-run ties a work directory to its key.
. "${0%/*}/lib.sh"

http_proxy=http://127.0.0.1:9
https_proxy=$http_proxy HTTPS_PROXY=$http_proxy ALL_PROXY=$http_proxy
no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
export http_proxy https_proxy HTTPS_PROXY ALL_PROXY no_proxy NO_PROXY

# Rules, tab-separated: skip PAGE REGEX REASON, or expect PAGE REGEX WORDS
# with WORDS one of status=N, may-be-empty=FILE,FILE..., stdout=any (may be
# empty), transcript=status|first-line (blanks squeezed: column widths
# follow the data), check=SHELL (run in the page's
# directory after the example, with $out its standard output and $err its
# standard error; bt-mock's tool_use input is {"text":...}, whatever the
# schema).  REGEX is a python regular expression searched in the
# example's text.  A rule that matches nothing is an error.
cat >rules <<'EOF'
skip	README.md	^make demo	make demo is tests/demo.t, and make check runs this test itself
skip	README.md	sudo make install	installs into the system; tests/install.t installs into a DESTDIR, tests/man.t checks the pages
skip	README.md	^make check-valgrind	make check runs this test itself; the others rebuild or run for minutes (CI runs them)
expect	README.md	--max-cost 10	transcript=status	check=bt-submit --max-cost 0.0001 <requests.jsonl >/dev/null 2>refusal; test $? = 2 && sed "s/[0-9][0-9.]*/N/g" refusal >a && sed "s/[0-9][0-9.]*/N/g" "$exp" >b && cmp a b
expect	README.md	^\$ bt-cost -H results.jsonl	transcript=first-line
expect	README.md	receipt.schema.json	check=test "$(wc -l <receipts.tsv)" = 3 && awk -F "\t" "NF != 5 || /\t\t/ { exit 1 }" receipts.tsv && cut -f1 receipts.tsv | tr "\n" " " | grep -qx "r1 r2 r3 "
expect	bt-cancel.1	tail -n \+101	stdout=any
expect	bt-cancel.1	status in_progress \| bt-cancel	stdout=any
expect	bt-list.1	status in_progress \| bt-cancel	stdout=any
expect	bt-wait.1	status in_progress \| bt-wait	stdout=any
expect	bt-join.1	--map	check=jq -s -e "length > 0 and all(.[]; .answer != null and .usage != null)" "$out"
expect	bt-join.1	@tsv	check=! grep -q "[[:blank:]]$" "$out"
expect	bt-fetch.1	uniq -c	check=grep -Eq "^ *[0-9]+ succeeded$" "$out"
expect	bt-retry.1	^bt-format	may-be-empty=again.jsonl,round2.jsonl
expect	bt-retry.1	--truncated	may-be-empty=round3.jsonl
expect	bt-retry.1	--strict	may-be-empty=again.jsonl
expect	bt-retry.1	--all-errors	may-be-empty=again.jsonl
expect	bt-split.1	record	check=jq -s -e "length > 0 and all(.[]; type == \"object\")" fields.jsonl
expect	bt-mock.1	--fault	stdout=any
expect	bt-mock.1	_mock/faults	stdout=any
expect	bt-run.1	--detach	stdout=any
expect	bt-send.1	-o results.jsonl	stdout=any
expect	bt-run.1	^bt-mock	check=grep -q "^{" "$out"
expect	bt-cache.1	bt-retry requests.jsonl	may-be-empty=todo.jsonl,new.jsonl
expect	README.md	tee new.jsonl	may-be-empty=todo.jsonl,new.jsonl	stdout=any
EOF

test_expect_success 'an example that cannot be classified fails, naming its file and line' '
	mkdir bad && : >norules &&
	printf "%s\n" ".Sh EXAMPLES" ".Bd -literal" "bt-nosuch <x" ".Ed" >bad/a.1 &&
	test_expect_code 1 python3 "$TESTS/examples.py" norules bad bad/a.1 2>err &&
	test_grep "^examples.py: bad/a.1:3: bt-nosuch: no such program$" err &&
	printf "%s\n" "text" "" "    Frobnicate the input:" "    bt-format -p .x" >bad/R.md &&
	test_expect_code 1 python3 "$TESTS/examples.py" norules bad bad/R.md 2>err &&
	test_grep "^examples.py: bad/R.md:3: starts with .Frobnicate., not a command, but has commands in it" err &&
	printf "%s\n" ".Sh EXAMPLES" ".Bd -literal" "echo \\*(Tx" ".Ed" >bad/b.1 &&
	test_expect_code 1 python3 "$TESTS/examples.py" norules bad bad/b.1 2>err &&
	test_grep "^examples.py: bad/b.1:3: mdoc escape" err &&
	printf "skip\tR.md\tnothing-like-this\tgone\n" >stale &&
	printf "%s\n" "text" "" "    ls" >bad/R.md &&
	test_expect_code 1 python3 "$TESTS/examples.py" stale bad bad/R.md 2>err &&
	test_grep "^examples.py: stale:1: this rule matches no example" err
'

mkdir ex
test_expect_success 'every example is found and classified' '
	python3 "$TESTS/examples.py" rules ex "$BT_ROOT/README.md" \
		"$BT_ROOT"/man/*.1 "$BT_ROOT"/man/*.7 &&
	test -s ex/manifest
'
[ -s ex/manifest ] || test_done

# make_fixtures: the files the examples name, a handful of records each,
# and the streams of jobs on the page's bt-mock: requests.jsonl, chunks.txt
# and batches.jsonl of docs.jsonl, its results in round1.jsonl; the results
# of tickets.jsonl (cut at 5 tokens) in results.jsonl, its requests in
# tickets.requests.jsonl.
make_fixtures() {
	for i in 1 2 3 4 5; do
		printf '{"id":"d%s","text":"Document %s: the cat sat on mat number %s."}\n' $i $i $i
	done >docs.jsonl &&
	cat >tickets.jsonl <<-\EOF &&
	{"id":"t1","subject":"Charged twice","body":"My card was charged twice for order 1001."}
	{"id":"t2","subject":"Where is my parcel","body":"Order 1002 has not arrived after two weeks."}
	{"id":"t3","subject":"Password","body":"I cannot log in since yesterday."}
	EOF
	cat >contracts.jsonl <<-\EOF &&
	{"id":"c1","text":"The supplier delivers 100 chairs by 1 March."}
	{"id":"c2","text":"The tenant pays the rent on the first of each month."}
	EOF
	printf '# Review guide\n\nFlag every clause without a date.\n' >guide.md &&
	cat >letters.jsonl <<-\EOF &&
	{"id":"l1","text":"Dear Ann Smith, thank you for your letter of 2 May 2026."}
	{"id":"l2","text":"To Bob Jones: your order shipped on 3 June 2026."}
	EOF
	printf 'The weather is fine.\nWhere is the station?\n' >sentences.txt &&
	for i in 1 2 3; do
		printf '{"custom_id":"q%s","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Question %s?"}]}}\n' $i $i
	done >openai-batch.jsonl &&
	# extraction: schemas, invoices and their answers, receipts with scans
	echo '{"type":"object","properties":{"name":{"type":"string"},"date":{"type":"string","format":"date"}},"required":["name"]}' >fields.json &&
	echo '{"type":"object","properties":{"total":{"type":"number"}},"required":["total"]}' >total.json &&
	echo '{"type":"object","properties":{"name":{"type":"string"},"total":{"type":"number"}},"required":["name","total"],"additionalProperties":false}' >invoice.schema.json &&
	cat >invoices.jsonl <<-\EOF &&
	{"id":"i1","text":"Invoice from Acme Ltd, total 120.50 EUR."}
	{"id":"i2","text":"Invoice from Globex, total 99 USD."}
	EOF
	bt-format -m claude-haiku-4-5 --id .id --schema invoice.schema.json -p .text invoices.jsonl |
		bt-send >invoices.results.jsonl &&
	mkdir -p scans &&
	python3 -c '
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
for i, (w, h) in enumerate([(40, 60), (30, 30), (64, 48)], 1):
    raw = b"".join(b"\0" + b"\377" * w * 3 for _ in range(h))
    open("scans/r%d.png" % i, "wb").write(b"\211PNG\r\n\032\n" +
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
' &&
	cat >receipts.jsonl <<-\EOF &&
	{"id":"r1","note":"lunch with a client","scan":"scans/r1.png"}
	{"id":"r2","note":"taxi to the airport","scan":"scans/r2.png"}
	{"id":"r3","note":"printer paper","scan":"scans/r3.png"}
	EOF
	printf 'Translate into French: ' >prompt.txt &&
	cp docs.jsonl big.jsonl &&
	bt-format -m claude-haiku-4-5 --id .id -p .text <docs.jsonl >requests.jsonl &&
	bt-split -d chunks <requests.jsonl >chunks.txt &&
	bt-submit <chunks.txt >batches.jsonl &&
	if [ "$page" = bt-cancel.1 ]; then
		return 0	# its batches are still running, to be canceled
	fi &&
	bt-wait <batches.jsonl | bt-fetch >round1.jsonl &&
	bt-format -m claude-haiku-4-5 --id .id --max-tokens 5 \
		-p '.subject + "\n\n" + .body' <tickets.jsonl | tee tickets.requests.jsonl \
		| bt-submit | bt-wait | bt-fetch >results.jsonl
}

# rule_words N KEY: the values of KEY= in example N's rules, one a line.
# (read by the shell: this runs five times an example, and the suite is
# bound by the CPU that starting processes costs)
rule_words() {
	while IFS= read -r _rw_rest || [ -n "$_rw_rest" ]; do
		while [ -n "$_rw_rest" ]; do
			_rw_w=${_rw_rest%%'	'*}
			case $_rw_rest in *'	'*) _rw_rest=${_rw_rest#*'	'} ;; *) _rw_rest= ;; esac
			case $_rw_w in "$2="*) printf '%s\n' "${_rw_w#"$2"=}" ;; esac
		done
	done <"$TRASH/ex/$1.rules"
}

# quiet_last N: example N's last command is redirected, or a builtin that
# prints nothing (kill, export...)
quiet_last() {
	_last=$(grep -v '^$' "$TRASH/ex/$1.sh" | tail -n 1 | sed 's/^[ |]*//')
	printf '%s\n' "$_last" | grep -q '>' ||
		printf '%s\n' "$_last" | grep -Eq '^(kill|export|wait|cd|unset|sleep|until)( |$)'
}

# run_example N: run example N in the current directory and check it.
run_example() {
	_n=$1
	out=$TRASH/ex/$_n.out err=$TRASH/ex/$_n.err exp=$TRASH/ex/$_n.expect
	export out err exp
	cat "$TRASH/ex/$_n.sh"
	echo "----"
	timeout 60 sh -e "$TRASH/ex/$_n.sh" >"$out" 2>"$err" &
	_pg=$!
	echo "$_pg" >>.pgids
	wait "$_pg"
	_st=$?
	echo "exit $_st; stdout:"; head -n 20 "$out"
	echo "stderr:"; head -n 20 "$err"
	_want=$(rule_words "$_n" status)
	if [ "$_st" != "${_want:-0}" ]; then
		echo "exit status $_st, wanted ${_want:-0}"
		return 1
	fi
	if grep -qx null "$out"; then
		echo "it printed null"
		return 1
	fi
	# a transcript shows its output; an example whose last command is a
	# builtin (kill, export) or is redirected prints nothing
	if [ -z "$(rule_words "$_n" stdout)" ] && ! [ -f "$exp" ] &&
	   ! [ -s "$out" ] && ! quiet_last "$_n"; then
		echo "it printed nothing"
		return 1
	fi
	_empty=,$(rule_words "$_n" may-be-empty),
	while read -r _f; do
		if ! [ -e "$_f" ]; then
			echo "$_f was not written"
			return 1
		fi
		case $_empty in *,"$_f",*) continue ;; esac
		if ! [ -s "$_f" ]; then
			echo "$_f is empty"
			return 1
		fi
		if grep -qx null "$_f"; then
			echo "$_f has a null line"
			return 1
		fi
	done <"$TRASH/ex/$_n.outs"
	if [ -f "$exp" ]; then
		case $(rule_words "$_n" transcript) in
		status) ;;
		first-line)
			head -n 1 "$exp" | tr -s " " >.exp1 &&
			cat "$out" "$err" | head -n 1 | tr -s " " >.act1 &&
			test_cmp .exp1 .act1 || return 1 ;;
		*)
			cat "$out" "$err" >.act && test_cmp "$exp" .act || return 1 ;;
		esac
	fi
	_check=$(rule_words "$_n" check)
	if [ -n "$_check" ] && ! sh -c "$_check"; then
		echo "check failed: $_check"
		return 1
	fi
	return 0
}

# the bt-mock options of each page's own emulator
mock_options() {
	case $1 in
	bt-retry.1) echo --processing-time 0.3 --error-rate 0.3 --seed 7 ;;
	bt-cancel.1) echo --processing-time 120 ;;
	*) echo --processing-time 0.3 --model gpt-4.1-mini --model text-embedding-3-small ;;
	esac
}

# kill_leftovers: end what the page's examples left running (each example
# ran in its own process group, timeout's), and check that nothing is left.
kill_leftovers() {
	[ -f .pgids ] || return 0
	for _pg in $(cat .pgids); do
		kill -TERM "-$_pg" 2>/dev/null
	done
	for _pg in $(cat .pgids); do
		# most groups are empty already (no process to signal); the
		# others are given 10 s to end after the SIGTERM
		kill -0 "-$_pg" 2>/dev/null || continue
		if ! wait_for -t 10 group_over "$_pg"; then
			echo "process group $_pg still has processes"
			kill -KILL "-$_pg" 2>/dev/null
			return 1
		fi
	done
	rm -f .pgids
}

# group_over PGID: no process of the group runs (zombies aside: what init
# has not reaped yet is over)
group_over() {
	! ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

# The pages whose bt-mock has the common options share one, and one set
# of fixtures, made once in $TRASH/fix and copied into each page's
# directory (the chunks' journals with them: a copied chunk is the same
# chunk); the others come after them, each with its own bt-mock.  Making the
# fixtures is a few seconds of bt-wait and bt-send a time.
common=$(mock_options common)
pages=$(cut -f 2 ex/manifest | uniq)
ordered=
for page in $pages; do
	[ "$(mock_options "$page")" = "$common" ] && ordered="$ordered $page"
done
for page in $pages; do
	[ "$(mock_options "$page")" = "$common" ] || ordered="$ordered $page"
done
shared=

# BT_EXAMPLES=PAGE... runs only those pages (while editing them)
for page in $ordered; do
	case " ${BT_EXAMPLES:-$page} " in *" $page "*) ;; *) continue ;; esac
	mkdir -p "$TRASH/p/$page" && cd "$TRASH/p/$page" || exit 1
	if [ "$(mock_options "$page")" != "$common" ]; then
		# shellcheck disable=SC2046
		mock_start $(mock_options "$page") || exit 1
		OPENAI_BASE_URL=$MOCK_URL/v1 OPENAI_API_KEY=$ANTHROPIC_API_KEY
		export OPENAI_BASE_URL OPENAI_API_KEY
		test_expect_success "$page: fixtures" 'make_fixtures'
	else
		if [ -z "$shared" ]; then
			mock_start $common || exit 1
			OPENAI_BASE_URL=$MOCK_URL/v1 OPENAI_API_KEY=$ANTHROPIC_API_KEY
			export OPENAI_BASE_URL OPENAI_API_KEY
			mkdir "$TRASH/fix" && cd "$TRASH/fix" || exit 1
			test_expect_success "fixtures of the pages that share a bt-mock" \
				'page=shared make_fixtures'
			shared=$TRASH/fix
			cd "$TRASH/p/$page" || exit 1
		fi
		test_expect_success "$page: fixtures" 'test -n "$shared" && cp -R "$shared"/. .'
		# a key of the page's own: a chunk that two pages make alike is
		# then not "the same chunk, to the same server and key"
		ANTHROPIC_API_KEY=sk-test-key-$page OPENAI_API_KEY=sk-test-key-$page
	fi
	while IFS='	' read -r n pg where kind detail; do
		[ "$pg" = "$page" ] || continue
		case $kind in
		skip) test_skip "$where: example not run" "$detail" ;;
		format) test_expect_success "$where: a table or output format, not a command: $detail" true ;;
		*) test_expect_success "$where: $detail" "run_example $n" ;;
		esac
	done <"$TRASH/ex/manifest"
	test_expect_success "$page: nothing left running" 'kill_leftovers'
	cd "$TRASH" || exit 1
done

test_done
