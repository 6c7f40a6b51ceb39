#!/bin/sh
# bt-split: bad requests are named by file and line, exit 2; nothing is
# left half-written, and the chunks completed before stay whole.
. "${0%/*}/lib.sh"

# reqs FIRST LAST: good requests r<N>
reqs() {
	perl -e 'printf qq({"custom_id":"r%d","params":{"n":%d}}\n), $_, $_ for $ARGV[0] .. $ARGV[1]' "$1" "$2"
}

# bad NAME LINE MESSAGE [OPTION...]: three good requests, a blank line,
# then LINE as line 5 of NAME.jsonl; bt-split -n 2 -d NAME [OPTION...] must
# exit 2 saying exactly "bt-split: NAME.jsonl:5: MESSAGE", keep the first
# chunk whole, and remove the second, open when the bad line came.
bad() {
	_n=$1 _l=$2 _m=$3
	shift 3
	mkdir "$_n" &&
	{ reqs 1 3 && echo && printf "%s\n" "$_l" && reqs 4 4; } >"$_n.jsonl" &&
	test_expect_code 2 bt-split -n 2 "$@" -d "$_n" "$_n.jsonl" >"$_n.out" 2>"$_n.err" &&
	echo "bt-split: $_n.jsonl:5: $_m" >"$_n.expect" &&
	test_cmp "$_n.expect" "$_n.err" &&
	echo "$_n/chunk.0001.jsonl" >"$_n.expect" &&
	test_cmp "$_n.expect" "$_n.out" &&
	ls -A "$_n" >"$_n.ls" &&
	echo chunk.0001.jsonl >"$_n.expect" &&
	test_cmp "$_n.expect" "$_n.ls" &&
	reqs 1 2 >"$_n.expect" &&
	test_cmp "$_n.expect" "$_n/chunk.0001.jsonl"
}

test_expect_success 'not JSON' '
	bad junk "{\"custom_id\":\"x\",\"params\":{}" \
		"invalid JSON: unexpected end of input, expected '\'','\'' or '\''}'\'' at column 29" &&
	bad junk2 "{\"custom_id\":\"x\",\"params\":{}} {}" \
		"invalid JSON: trailing data after the value at column 31" &&
	bad junk3 "hello" \
		"invalid JSON: unexpected '\''h'\'', expected '\''{'\'' at column 1" &&
	bad ctl "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"a\tb\"}}")" \
		"invalid JSON: control character 0x09 in string at column 34"
'

test_expect_success 'invalid UTF-8: the column of its first byte, whatever the kind' '
	bad overlong "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"caf\300\251\"}}")" \
		"invalid UTF-8 at column 36" &&
	bad surrogate "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"\355\240\200\"}}")" \
		"invalid UTF-8 at column 33" &&
	bad past "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"\364\220\200\200\"}}")" \
		"invalid UTF-8 at column 33" &&
	bad cut "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"caf\303\"}}")" \
		"invalid UTF-8 at column 36" &&
	bad cutesc "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"caf\303\\\\n\"}}")" \
		"invalid UTF-8 at column 36" &&
	bad stray "$(printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"\200\"}}")" \
		"invalid UTF-8 at column 33" &&
	bad latin1 "$(printf "{\"custom_id\":\"x\",\"params\":{\"caf\351\":1}}")" \
		"invalid UTF-8 at column 32" &&
	bad idlatin1 "$(printf "{\"custom_id\":\"caf\351\",\"params\":{}}")" \
		"invalid UTF-8 at column 18" &&
	bad unklatin1 "$(printf "{\"custom_id\":\"x\",\"params\":{},\"caf\351\":1}")" \
		"invalid UTF-8 at column 34"
'

test_expect_success 'invalid UTF-8 on stdin: stdin:LINE, and nothing left' '
	mkdir u1 && { reqs 1 2 &&
		printf "{\"custom_id\":\"r3\",\"params\":{\"messages\":[{\"content\":\"x na\357ve\"}]}}\n" &&
		reqs 4 5; } >u1/in &&
	test_expect_code 2 bt-split -d u1/d <u1/in >u1/out 2>u1/err &&
	echo "bt-split: stdin:3: invalid UTF-8 at column 57" >expect &&
	test_cmp expect u1/err &&
	test_must_be_empty u1/out &&
	ls -A u1/d >files && test_must_be_empty files
'

test_expect_success 'good UTF-8 of every length passes byte for byte' '
	printf "{\"custom_id\":\"u\",\"params\":{\"t\":\"\177 \302\200 \337\277 \340\240\200 \355\237\277 \356\200\200 \357\277\277 \360\220\200\200 \364\217\277\277 \360\237\230\200\"}}\n" >u.jsonl &&
	bt-split u.jsonl >out &&
	test_cmp u.jsonl chunk.0001.jsonl
'

test_expect_success 'a long bad line: named, not quoted whole' '
	mkdir u2 && { reqs 1 1 &&
		printf "{\"custom_id\":\"x\",\"params\":{\"t\":\"%s\351\"}}\n" "$(head -c 100000 /dev/zero | tr "\0" a)"; } >u2/in &&
	test_expect_code 2 bt-split -d u2/d <u2/in >u2/out 2>u2/err &&
	echo "bt-split: stdin:2: invalid UTF-8 at column 100033" >expect &&
	test_cmp expect u2/err
'

test_expect_success 'JSON that is not an object' '
	bad array "[{\"custom_id\":\"x\",\"params\":{}}]" "not a JSON object" &&
	bad string "\"x\"" "not a JSON object" &&
	bad null "null" "not a JSON object"
'

test_expect_success 'a missing custom_id or params' '
	bad noid "{\"params\":{}}" "missing custom_id" &&
	bad empty "{}" "missing custom_id" &&
	bad noparams "{\"custom_id\":\"x\"}" "missing params"
'

test_expect_success 'an unknown member, or a member given twice' '
	bad unknown "{\"custom_id\":\"x\",\"params\":{},\"model\":\"m\"}" \
		"unknown member \"model\" (a request has only custom_id and params)" &&
	bad unknown2 "{\"custom_id\":\"x\",\"params\":{},\"Custom_id\":\"y\"}" \
		"unknown member \"Custom_id\" (a request has only custom_id and params)" &&
	bad twice "{\"custom_id\":\"x\",\"params\":{},\"custom_id\":\"y\"}" \
		"duplicate member \"custom_id\""
'

test_expect_success 'a member named at length: quoted cut to 40 bytes, at a character' '
	k=$(head -c 100000 /dev/zero | tr "\0" k) &&
	bad longunk "{\"custom_id\":\"x\",\"params\":{},\"$k\":1}" \
		"unknown member \"$(printf "k%.0s" $(seq 1 40))...\" (a request has only custom_id and params)" &&
	k=$(printf "k%.0s" $(seq 1 39)) && e=$(printf "\303\251") &&
	bad utfunk "{\"custom_id\":\"x\",\"params\":{},\"$k$e\":1}" \
		"unknown member \"$k...\" (a request has only custom_id and params)"
'

test_expect_success 'custom_id not a string' '
	bad idnum "{\"custom_id\":7,\"params\":{}}" "custom_id is a number, not a string" &&
	bad idnull "{\"custom_id\":null,\"params\":{}}" "custom_id is null, not a string" &&
	bad idobj "{\"custom_id\":{},\"params\":{}}" "custom_id is an object, not a string"
'

test_expect_success 'custom_id not matching ^[a-zA-Z0-9_-]{1,64}$' '
	m="it must match ^[a-zA-Z0-9_-]{1,64}\$" &&
	bad idspace "{\"custom_id\":\"a b\",\"params\":{}}" "invalid custom_id \"a b\": $m" &&
	bad idempty "{\"custom_id\":\"\",\"params\":{}}" "invalid custom_id \"\": $m" &&
	bad idesc "{\"custom_id\":\"a\\u0062\",\"params\":{}}" "invalid custom_id \"a\\u0062\": $m" &&
	bad iddot "{\"custom_id\":\"a.b\",\"params\":{}}" "invalid custom_id \"a.b\": $m" &&
	bad idutf "{\"custom_id\":\"café\",\"params\":{}}" "invalid custom_id \"café\": $m" &&
	id65=$(printf "%065d" 0) &&
	bad idlong "{\"custom_id\":\"$id65\",\"params\":{}}" \
		"invalid custom_id \"$(printf "%039d" 0)...: $m"
'

test_expect_success 'a custom_id of 64 characters is fine' '
	id64=$(printf "%064d" 0) &&
	echo "{\"custom_id\":\"$id64\",\"params\":{}}" >in.jsonl &&
	bt-split in.jsonl >out &&
	test_cmp in.jsonl chunk.0001.jsonl
'

test_expect_success 'params not an object' '
	bad parr "{\"custom_id\":\"x\",\"params\":[]}" "params is an array, not an object" &&
	bad pstr "{\"custom_id\":\"x\",\"params\":\"p\"}" "params is a string, not an object" &&
	bad pbool "{\"custom_id\":\"x\",\"params\":true}" "params is a boolean, not an object"
'

test_expect_success 'a duplicate custom_id, across chunks: both lines named' '
	bad dup "{\"custom_id\":\"r1\",\"params\":{}}" \
		"duplicate custom_id \"r1\" (first on line 1)"
'

test_expect_success 'a duplicate far apart, in the same chunk, from stdin' '
	mkdir dupin && cd dupin &&
	{ reqs 1 6 && echo "{\"custom_id\":\"r4\",\"params\":{}}"; } >in.jsonl &&
	test_expect_code 2 bt-split <in.jsonl >out 2>err &&
	echo "bt-split: stdin:7: duplicate custom_id \"r4\" (first on line 4)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	ls -A >files &&
	printf "%s\n" err expect files in.jsonl out >expect.files &&
	test_cmp expect.files files
'

test_expect_success 'a request too big for -b: its line, its size and the limit' '
	bad toobig "{\"custom_id\":\"x\",\"params\":{\"t\":\"$(printf "%0100d" 0)\"}}" \
		"request is 136 bytes with its newline, more than the chunk limit of 100 bytes" \
		-b 100 &&
	mkdir fits && cd fits &&
	echo "{\"custom_id\":\"x\",\"params\":{\"t\":\"$(printf "%064d" 0)\"}}" >in.jsonl &&
	test $(wc -c <in.jsonl) = 100 &&
	bt-split -b 100 in.jsonl >out &&
	test_cmp in.jsonl chunk.0001.jsonl &&
	test_expect_code 2 bt-split -b 99 in.jsonl >out 2>err &&
	echo "bt-split: in.jsonl:1: request is 100 bytes with its newline, more than the chunk limit of 99 bytes" >expect &&
	test_cmp expect err
'

# Checking runs on a second thread, a block of lines (1 MB) behind the
# writing: these pin the first bad line as the one reported wherever the
# lines fall.  fixed FIRST LAST: requests of exactly 64 bytes with their
# newline, so that a block holds lines 1-16384, the next 16385-32768.
fixed() {
	perl -e 'printf qq({"custom_id":"f%08d","params":{"pad":"%s"}}\n), $_, "x" x 18 for $ARGV[0] .. $ARGV[1]' "$1" "$2"
}

test_expect_success 'the fixed lines are 64 bytes' '
	fixed 1 1 >one && test $(wc -c <one) = 64
'

# only_err NAME MESSAGE: the run in NAME left exactly MESSAGE on stderr,
# nothing on stdout, and no file in its chunk directory d.
only_err() {
	echo "$2" >"$1/expect" &&
	test_cmp "$1/expect" "$1/err" &&
	test_must_be_empty "$1/out" &&
	ls -A "$1/d" >"$1/files" &&
	test_must_be_empty "$1/files"
}

# fails NAME MESSAGE [OPTION...]: bt-split [OPTION...] -d NAME/d, on NAME/in
# as stdin, exits 2 with MESSAGE alone on stderr, and leaves nothing.
fails() {
	_n=$1 _m=$2
	shift 2
	test_expect_code 2 bt-split "$@" -d "$_n/d" <"$_n/in" >"$_n/out" 2>"$_n/err" &&
	only_err "$_n" "$_m"
}

test_expect_success 'a duplicate on the first line of the next block: found' '
	mkdir b1 && fixed 1 16384 >b1/in && fixed 16384 20000 >>b1/in &&
	fails b1 "bt-split: stdin:16385: duplicate custom_id \"f00016384\" (first on line 16384)"
'

test_expect_success 'a duplicate on the last line of all: found' '
	mkdir b2 && fixed 1 40000 >b2/in && fixed 40000 40000 >>b2/in &&
	fails b2 "bt-split: stdin:40001: duplicate custom_id \"f00040000\" (first on line 40000)"
'

test_expect_success 'a duplicate just before a bad line: the duplicate is named' '
	mkdir b3 && { fixed 1 20000 && fixed 7 7 && echo "{}" && fixed 20001 40000; } >b3/in &&
	fails b3 "bt-split: stdin:20001: duplicate custom_id \"f00000007\" (first on line 7)"
'

test_expect_success 'a bad line not yet checked comes before a -b too big after it' '
	mkdir b4 && { fixed 1 1 && echo "{}" &&
		echo "{\"custom_id\":\"big\",\"params\":{\"t\":\"$(printf "%0200d" 0)\"}}"; } >b4/in &&
	fails b4 "bt-split: stdin:2: missing custom_id" -b 150
'

test_expect_success 'a bad line and a too-big one, on the same line: the bad JSON is named' '
	mkdir b5 && { fixed 1 1 && echo "{\"custom_id\":\"big\",\"params\":{\"t\":\"$(printf "%0200d" 0)\"}"; } >b5/in &&
	fails b5 "bt-split: stdin:2: invalid JSON: unexpected end of input, expected '\'','\'' or '\''}'\'' at column 237" -b 150
'

test_expect_success 'a bad line before a request larger than a block: the bad line' '
	mkdir b6 && { fixed 1 3 && echo "[]" &&
		echo "{\"custom_id\":\"huge\",\"params\":{\"t\":\"$(head -c 3000000 /dev/zero | tr "\0" a)\"}}"; } >b6/in &&
	fails b6 "bt-split: stdin:4: not a JSON object"
'

test_expect_success 'a bad request larger than a block, after good ones: named, nothing left' '
	mkdir b7 && { fixed 1 3 &&
		echo "{\"custom_id\":\"huge\",\"params\":{\"t\":\"$(head -c 3000000 /dev/zero | tr "\0" a)\"}},"; } >b7/in &&
	fails b7 "bt-split: stdin:4: invalid JSON: trailing data after the value at column 3000039"
'

test_expect_success 'a bad line where -a runs out of digits: the bad line is named' '
	mkdir b8 && { fixed 1 9 && echo "{\"params\":{}}"; } >b8/in &&
	test_expect_code 2 bt-split -a 1 -n 1 -d b8/d <b8/in >b8/out 2>b8/err &&
	echo "bt-split: stdin:10: missing custom_id" >b8/expect &&
	test_cmp b8/expect b8/err &&
	test $(wc -l <b8/out) = 9 && test $(ls b8/d | wc -l) = 9
'

test_expect_success 'a bad line after many full blocks of one chunk: no chunk left' '
	mkdir b9 && { fixed 1 90000 && echo "{\"custom_id\":\"a\",\"params\":{}" && fixed 90001 99000; } >b9/in &&
	fails b9 "bt-split: stdin:90001: invalid JSON: unexpected end of input, expected '\'','\'' or '\''}'\'' at column 29"
'

test_expect_success 'too big for -b and a duplicate too: too big, as one pass sees it' '
	mkdir c1 && { fixed 1 1 && echo "{\"custom_id\":\"f00000001\",\"params\":{\"x\":\"$(printf "%0100d" 0)\"}}"; } >c1/in &&
	fails c1 "bt-split: stdin:2: request is 144 bytes with its newline, more than the chunk limit of 100 bytes" -b 100
'

test_expect_success 'a bad line that does not fit: the chunk before it is not completed' '
	mkdir c2 && { fixed 1 1 && echo "{\"custom_id\":\"b\",\"params\":{\"x\":1},}"; } >c2/in &&
	test_expect_code 2 bt-split -b 100 -d c2/d <c2/in >c2/out 2>c2/err &&
	only_err c2 "bt-split: stdin:2: invalid JSON: unexpected '\''}'\'', expected a string key at column 35" &&
	{ fixed 1 1 && fixed 1 1; } >c2/in2 &&
	test_expect_code 2 bt-split -b 100 -d c2/d <c2/in2 >c2/out 2>c2/err &&
	only_err c2 "bt-split: stdin:2: duplicate custom_id \"f00000001\" (first on line 1)"
'

test_expect_success 'a write error after a bad line: the bad line, exit 2' '
	mkdir c3 && { fixed 1 10000 && echo "{}" && fixed 10001 50000; } >c3/in &&
	(trap "" XFSZ; ulimit -f 600; test_expect_code 2 bt-split -d c3/d c3/in >c3/out 2>c3/err) &&
	echo "bt-split: c3/in:10001: missing custom_id" >c3/expect &&
	test_cmp c3/expect c3/err &&
	test_must_be_empty c3/out &&
	ls -A c3/d >c3/files && test_must_be_empty c3/files
'

test_expect_success 'a message with a long file name is whole' '
	long=$(printf "%0200d" 0) &&
	mkdir -p "$long/$long/$long" &&
	echo "{\"custom_id\":\"x\",\"params\":{},\"$long\":1}" >"$long/$long/$long/in" &&
	test_expect_code 2 bt-split -d c4 "$long/$long/$long/in" >out 2>err &&
	echo "bt-split: $long/$long/$long/in:1: unknown member \"$(printf "%040d" 0)...\" (a request has only custom_id and params)" >expect &&
	test_cmp expect err
'

test_expect_success 'good lines over many blocks and chunks come out byte for byte' '
	mkdir b10 && cd b10 && fixed 1 50000 >in && fixed 1 50000 | sed "s/^{\"custom_id\":\"f/{\"custom_id\":\"g/" >>in &&
	bt-split -n 7000 -d d <in >out &&
	test $(wc -l <out) = 15 &&
	cat $(cat out) >all &&
	test_cmp in all
'

test_expect_success 'an input file that cannot be opened: exit 2, naming it' '
	test_expect_code 2 bt-split no-such.jsonl >out 2>err &&
	echo "bt-split: no-such.jsonl: No such file or directory" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_done
