#!/bin/sh
# bt-run: a job's identity is what its options and files mean, not how
# they were written (issue 18 §2), and its fingerprint never leaves the
# records out (issue 18 §5).
. "${0%/*}/lib.sh"

mock_start --processing-time 2 || exit 1
for i in 1 2 3 4 5 6; do echo "{\"id\":\"r$i\",\"text\":\"record $i\"}"; done >r.jsonl
echo "Answer in one word." >sys.txt
run() { bt-run --sync-below 0 "$@"; }

test_expect_success 'a job: written with options in one order and relative paths' '
	run -w A.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text r.jsonl >a.out 2>err &&
	test_lines 6 a.out &&
	test $(mock_stat creates) -eq 1
'

test_expect_success 'the same job with its options reordered, ./r.jsonl, and absolute paths from another directory: resumed, nothing sent' '
	run -w A.work -p .text --system-file ./sys.txt --id .id -m claude-haiku-4-5 ./r.jsonl >b.out 2>err &&
	test_cmp a.out b.out &&
	mkdir elsewhere &&
	(cd elsewhere && bt-run --sync-below 0 -w "$TRASH/A.work" --model claude-haiku-4-5 \
		--system-file "$TRASH/sys.txt" --prompt .text --id .id "$TRASH/r.jsonl") >c.out 2>err &&
	test_cmp a.out c.out &&
	test $(mock_stat creates) -eq 1
'

test_expect_success 'another model, options and records: refused (exit 2), saying what differs' '
	echo "{\"id\":\"r7\",\"text\":\"record 7\"}" >>r.jsonl &&
	test_expect_code 2 run -w A.work -m claude-sonnet-4-5 --id .id --max-tokens 10 --system-file sys.txt -p .text r.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-run: A.work holds another job: --max-tokens 10 here, not there; -m claude-haiku-4-5 there, -m claude-sonnet-4-5 here; records r.jsonl changed since; use another -w, or remove A.work" >expect &&
	test_cmp expect err &&
	echo "Answer in two words." >sys.txt &&
	test_expect_code 2 run -w A.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text r.jsonl 2>err &&
	test_grep "^bt-run: A.work holds another job: --system-file sys.txt changed since; records r.jsonl changed since; use another -w, or remove A.work$" err &&
	cp r.jsonl s.jsonl &&
	test_expect_code 2 run -w A.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text s.jsonl 2>err &&
	test_grep "holds another job: records $TRASH/r.jsonl there, $TRASH/s.jsonl here; --system-file sys.txt changed since; use another" err &&
	test $(mock_stat creates) -eq 1
'

test_expect_success 'a refused work directory with batches paid for and not fetched: how to fetch them, never "remove it"' '
	run --detach -w B.work -m claude-haiku-4-5 --id .id -p .text r.jsonl 2>/dev/null &&
	test -s B.work/round.01/batches.jsonl &&
	test_expect_code 2 run --detach -w B.work -m claude-sonnet-4-5 --id .id -p .text r.jsonl >out 2>err &&
	test_must_be_empty out &&
	echo "bt-run: B.work holds another job: -m claude-haiku-4-5 there, -m claude-sonnet-4-5 here; use another -w (B.work holds batches paid for and not fetched: to keep their answers, fetch them first: bt-wait <B.work/round.01/batches.jsonl | bt-fetch >round.01.results.jsonl)" >expect &&
	test_cmp expect err &&
	bt-wait <B.work/round.01/batches.jsonl | bt-fetch >round.01.results.jsonl &&
	test_lines 7 round.01.results.jsonl
'

# the job file as bt-run wrote it before: its options' text, and
# sha256sum's lines for the records and the files options named
old_job() {
	printf "%s\n" "bt-format $1" "bt-split " && sha256sum r.jsonl sys.txt
}

test_expect_success 'a work directory written by an older bt-run (the text of its options) resumes, and is kept in the new form' '
	run -w O.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text r.jsonl >o.out 2>err &&
	test_lines 7 o.out &&
	before=$(mock_stat creates) &&
	old_job "-m '"'claude-haiku-4-5'"' --id '"'.id'"' --system-file '"'sys.txt'"' -p '"'.text'"' '"'r.jsonl'"'" >O.work/job &&
	run -w O.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text r.jsonl >o2.out 2>err &&
	test_cmp o.out o2.out &&
	jq -r ".options[0][0], .options[1][0], .sha256[\"$TRASH/r.jsonl\"], .sha256[\"$TRASH/sys.txt\"]" O.work/job >got &&
	{ echo --id && echo --system-file && sha256sum <r.jsonl | cut -c1-64 && sha256sum <sys.txt | cut -c1-64; } >want &&
	test_cmp want got &&
	run -w O.work -m claude-haiku-4-5 -p .text --id .id --system-file ./sys.txt r.jsonl >o3.out 2>err &&
	test_cmp o.out o3.out &&
	test $(mock_stat creates) -eq $before &&
	old_job "-m '"'other'"' '"'r.jsonl'"'" >O.work/job &&
	test_expect_code 2 run -w O.work -m claude-haiku-4-5 --id .id --system-file sys.txt -p .text r.jsonl 2>err &&
	test_grep "^bt-run: O.work holds another job: begun by an older bt-run as: bt-format -m .other. .r.jsonl. bt-split  \(and its records. SHA-256\); use another -w, or remove O.work$" err
'

# shims: sha256sum, shasum and openssl broken in three ways, first in PATH
break_tools() {
	mkdir -p shim &&
	printf '#!/bin/sh\nexit 127\n' >shim/sha256sum &&
	printf '#!/bin/sh\necho "not a hash  -"\n' >shim/shasum &&
	printf '#!/bin/sh\necho "openssl: unknown digest" >&2; exit 1\n' >shim/openssl &&
	chmod +x shim/*
}

test_expect_success 'without a working sha256sum, shasum or openssl makes the fingerprint: the same job' '
	break_tools && rm shim/shasum &&
	(PATH=$TRASH/shim:$PATH && ! sha256sum <r.jsonl &&
	 run -w S.work -m claude-haiku-4-5 --id .id -p .text r.jsonl) >s.out 2>err &&
	test_lines 7 s.out &&
	jq -r ".sha256[\"$TRASH/r.jsonl\"]" S.work/job >got &&
	sha256sum <r.jsonl | cut -c1-64 >want && test_cmp want got &&
	echo "{\"id\":\"r8\",\"text\":\"record 8\"}" >>r.jsonl &&
	(PATH=$TRASH/shim:$PATH && test_expect_code 2 run -w S.work -m claude-haiku-4-5 --id .id -p .text r.jsonl) 2>err &&
	test_grep "records r.jsonl changed since" err
'

test_expect_success 'without sha256sum and shasum, openssl makes it: the same' '
	break_tools && rm shim/openssl &&
	(PATH=$TRASH/shim:$PATH && run -w T.work -m claude-haiku-4-5 --id .id -p .text r.jsonl) >t.out 2>err &&
	test_lines 8 t.out &&
	jq -r ".sha256[\"$TRASH/r.jsonl\"]" T.work/job >got &&
	sha256sum <r.jsonl | cut -c1-64 >want && test_cmp want got
'

test_expect_success 'no tool makes a SHA-256: exit 1, naming them; nothing written, nothing sent' '
	break_tools &&
	before=$(mock_stat creates) &&
	(PATH=$TRASH/shim:$PATH && test_expect_code 1 run -w N.work -m claude-haiku-4-5 --id .id -p .text r.jsonl) >out 2>err &&
	test_must_be_empty out &&
	echo "bt-run: r.jsonl: cannot make its SHA-256: none of sha256sum, shasum -a 256, openssl dgst -sha256 works" >expect &&
	test_cmp expect err &&
	! test -e N.work &&
	test $(mock_stat creates) -eq $before
'

test_done
