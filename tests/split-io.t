#!/bin/sh
# bt-split: signals, write errors and closed pipes leave no temporary file
# and no short chunk under a final name.
. "${0%/*}/lib.sh"

# reqs FIRST LAST: good requests r<N>
reqs() {
	perl -e 'printf qq({"custom_id":"r%d","params":{"n":%d}}\n), $_, $_ for $ARGV[0] .. $ARGV[1]' "$1" "$2"
}

has_tmp() {
	ls -A "$1" | grep -q "\.tmp\."
}

# killed SIGNAL STATUS: a run fed slowly from a FIFO, killed by SIGNAL while
# its second chunk is being written, ends with STATUS and leaves only the
# first chunk, whole.
killed() {
	mkdir "$1" && cd "$1" &&
	mkfifo fifo &&
	{ bt-split -n 2 -d d fifo >out 2>err & } &&
	pid=$! &&
	exec 3>fifo &&
	reqs 1 3 >&3 &&
	wait_for test -s out &&     # chunk 1 renamed, then printed,
	wait_for has_tmp d &&       # then chunk 2 begun
	echo d/chunk.0001.jsonl >expect &&
	test_cmp expect out &&
	kill -"$1" $pid &&
	{ wait $pid; echo $? >status; } &&
	exec 3>&- &&
	echo "$2" >expect.status &&
	test_cmp expect.status status &&
	ls -A d >files &&
	echo chunk.0001.jsonl >expect.files &&
	test_cmp expect.files files &&
	reqs 1 2 >expect.1 &&
	test_cmp expect.1 d/chunk.0001.jsonl &&
	test_must_be_empty err
}

test_expect_success 'killed by TERM mid-chunk: no .tmp file, no partial chunk' '
	killed TERM 143
'

test_expect_success 'killed by HUP mid-chunk: the same' '
	killed HUP 129
'

test_expect_success 'killed before any chunk is whole: nothing at all' '
	mkdir early && cd early &&
	mkfifo fifo &&
	{ bt-split -d d fifo >out 2>err & } &&
	pid=$! &&
	exec 3>fifo &&
	reqs 1 1 >&3 &&
	wait_for has_tmp d &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >status; } &&
	exec 3>&- &&
	echo 143 >expect && test_cmp expect status &&
	ls -A d >files &&
	test_must_be_empty files &&
	test_must_be_empty out
'

test_expect_success 'a write error (file size limit): exit 1 naming the chunk, no temp file' '
	mkdir fsize && cd fsize &&
	reqs 1 3000 >in.jsonl &&
	mkdir d &&
	{ (trap "" XFSZ && ulimit -f 8 && exec bt-split -d d in.jsonl >out 2>err); echo $? >status; } &&
	echo 1 >expect && test_cmp expect status &&
	echo "bt-split: d/chunk.0001.jsonl: write error: File too large" >expect.err &&
	test_cmp expect.err err &&
	ls -A d >files &&
	test_must_be_empty files
'

test_expect_success 'a path through a regular file: exit 1 naming it' '
	mkdir notdir && cd notdir &&
	reqs 1 2 >in.jsonl &&
	: >file &&
	test_expect_code 1 bt-split -d file/sub in.jsonl >out 2>err.1 &&
	test_expect_code 1 bt-split -d file in.jsonl >out 2>err.2 &&
	test_expect_code 1 bt-split in.jsonl file/x. >out 2>err.3 &&
	cat >expect <<-\EOF &&
	bt-split: cannot create directory file/sub: Not a directory
	bt-split: file: Not a directory
	bt-split: cannot create a temporary file for file/x.0001.jsonl: Not a directory
	EOF
	cat err.1 err.2 err.3 >err &&
	test_cmp expect err &&
	test_must_be_empty out
'

# readfail N CMD...: run CMD with the Nth read of its stdin failing (EIO)
readfail() {
	test -f "$BT_ROOT/tests/shim/readfail.so" ||
		{ echo "readfail: no shim: make tests/shim/readfail.so"; return 1; }
	(
		LD_PRELOAD=$BT_ROOT/tests/shim/readfail.so BT_READFAIL=$1
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD BT_READFAIL ASAN_OPTIONS
		shift
		"$@"
	)
}

# nothing_left: no path printed (out), no file in d
nothing_left() {
	test_must_be_empty out &&
	ls -A d >files &&
	test_must_be_empty files
}

test_expect_success 'a read error: exit 1 naming stdin, no chunk, no temporary file' '
	mkdir rd && cd rd &&
	reqs 1 20000 >in.jsonl &&
	test $(wc -c <in.jsonl) -gt 600000 &&
	readfail 2 test_expect_code 1 bt-split -d d <in.jsonl >out 2>err &&
	echo "bt-split: stdin: read error: Input/output error" >expect &&
	test_cmp expect err &&
	nothing_left
'

test_expect_success 'a read error after a bad line not yet checked: the bad line, exit 2' '
	mkdir rd2 && cd rd2 &&
	{ reqs 1 10 && echo "{\"custom_id\":\"r3\",\"params\":{}}" && reqs 11 20000; } >in.jsonl &&
	readfail 2 test_expect_code 2 bt-split -d d <in.jsonl >out 2>err &&
	echo "bt-split: stdin:11: duplicate custom_id \"r3\" (first on line 3)" >expect &&
	test_cmp expect err &&
	nothing_left
'

# A directory in the way of the temporary file (its name has the pid,
# which sh -c hands to bt-split by exec) makes the file impossible to create.
test_expect_success 'a temporary file that cannot be made: exit 1 naming the chunk' '
	mkdir tf && cd tf &&
	reqs 1 3 >in.jsonl &&
	test_expect_code 1 sh -c "mkdir -p d/.chunk.0001.jsonl.tmp.\$\$ && exec bt-split -d d in.jsonl" >out 2>err &&
	echo "bt-split: cannot create a temporary file for d/chunk.0001.jsonl: File exists" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success 'the same, when the first line is bad: the bad line, exit 2' '
	mkdir tf2 && cd tf2 &&
	{ echo "{\"custom_id\":\"a b\",\"params\":{}}" && reqs 1 3; } >in.jsonl &&
	test_expect_code 2 sh -c "mkdir -p d/.chunk.0001.jsonl.tmp.\$\$ && exec bt-split -d d in.jsonl" >out 2>err &&
	echo "bt-split: in.jsonl:1: invalid custom_id \"a b\": it must match ^[a-zA-Z0-9_-]{1,64}\$" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success 'a closed pipe on stdout ends it quietly; completed chunks are whole' '
	mkdir pipe && cd pipe &&
	reqs 1 8000 >in.jsonl &&
	{ bt-split -n 1 -d d in.jsonl 2>err; echo $? >status; } | head -n 1 >out &&
	echo d/chunk.0001.jsonl >expect &&
	test_cmp expect out &&
	echo 141 >expect.status &&
	test_cmp expect.status status &&
	test_must_be_empty err &&
	test_must_fail has_tmp d &&
	n=$(ls d | wc -l) &&
	test "$n" -lt 8000 &&
	last=$(ls d | tail -n 1) &&
	reqs "$n" "$n" >expect.last &&
	test_cmp expect.last "d/$last"
'

test_done
