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
	test_must_fail test -s out &&
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

test_expect_success 'an input file that cannot be opened: exit 2, naming it' '
	test_expect_code 2 bt-split no-such.jsonl >out 2>err &&
	echo "bt-split: no-such.jsonl: No such file or directory" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out
'

test_done
