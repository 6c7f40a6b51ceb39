#!/bin/sh
# tests/unit/tjq, the tests' jq for one field (lib.sh makes it their jq):
# what it prints must be what jq prints, byte for byte and exit code for
# exit code, or every test that reads a field through it proves nothing.
# And it must not run jq for the filters it is there for, or it saves
# nothing: those are run with no jq on the PATH.
. "${0%/*}/lib.sh"

# both ARGS...: jq and tjq with the same arguments and stdin .in; each
# one's stdout, stderr and exit code in FILE.jq and FILE.tjq, compared
both() {
	for _c in jq tjq; do
		_st=0
		command "$_c" "$@" <.in >"out.$_c" 2>"err.$_c" || _st=$?
		echo "$_st" >>"out.$_c"
	done
	test_cmp out.jq out.tjq && test_cmp err.jq err.tjq
}
# alone ARGS...: after both, tjq again with no jq to run: the same
alone() {
	_st=0
	PATH=/nonexistent "$TESTS/unit/tjq" "$@" <.in >out.alone 2>err.alone || _st=$?
	echo "$_st" >>out.alone
	test_cmp out.jq out.alone && test_cmp err.jq err.alone
}

cat >corpus.jsonl <<-\EOF
	{"id":"a1","custom_id":"x","n":{"b":[1,{"c":"é\u00e9\ud83d\ude00\"\\\n\t"}],"e":{}}}
	{"id":2.5e300,"custom_id":null,"n":{"b":[],"c":[[]]},"big":100000000000000000000001,"f":-0.0}
	{"id":"dup","id":"last"}
	  {"id":true}  {"id":false}
	{"result":{"type":"succeeded","message":{"content":[{"type":"text","text":"hi\u0000there"}]}}}
	{"id":"x\u2028y","data":[{"id":"d0"},{"id":"d1"}],"o":{"k":[1,2,{"z":null}]}}
EOF
printf '{"id":"crlf"}\r\n\r\n{"id":"bad \377 byte"}\n' >>corpus.jsonl

test_expect_success 'one field, a path, and the value whole: as jq prints them, and without jq' '
	cp corpus.jsonl .in &&
	for f in . .id .n.b .n.b[1].c .n.b[7] .nope.deeper \
	         .result.message.content[0].text .data[1].id .o.k[2].z .big .f .n.c[0]
	do
		for o in "" -r -c
		do
			both $o "$f" || { echo "differs: jq $o $f" && return 1; }
			alone $o "$f" || { echo "ran jq: $o $f" && return 1; }
		done
	done
'

test_expect_success 'files named, one or several, and stdin empty or blank' '
	: >.in &&
	printf "{\"id\":\"f1\"}\n" >f1 && printf "{\"id\":\"f2\"} {\"id\":3}" >f2 &&
	both -r .id f1 f2 && alone -r .id f1 f2 &&
	both -rc .custom_id f1 && alone -rc .custom_id f1 &&
	both -cr . f1 && alone -cr . f1 &&
	both -r -c .id f2 && alone -r -c .id f2 &&
	both -c . f2 && alone -c . f2 &&
	both -r .id && alone -r .id &&
	printf "\n \n" >.in && both .id && alone .id
'

test_expect_success 'what it does not do is jq'"'"'s: its errors, exit codes and output' '
	cp corpus.jsonl .in &&
	both -r .n.b.c &&
	grep -q "Cannot index array" err.jq &&
	both -r ".data[].id" &&
	both -r "select(.id == \"a1\") | .custom_id" &&
	both -e .nope &&
	both .[-1] &&
	both -s length &&
	both -r .id missing-file &&
	printf "{\"id\":1}\n{\"id\":\n" >.in && both -r .id &&
	printf "{\"id\":1} [1,2]\n" >.in && both -r .id &&
	tail -n 1 out.tjq >code && echo 5 >want && test_cmp want code
'

test_expect_success 'stdin that tjq read before it found jq was needed reaches jq whole' '
	perl -e "print qq({\"id\":[\"r\$_\"]}\n) for 1..20000" >.in &&
	printf "{\"id\":\"s\"}\n" >>.in &&
	both -r .id[0] &&
	test "$(wc -l <out.tjq)" = 20001 &&
	tail -n 1 out.tjq >code && echo 5 >want && test_cmp want code
'

test_expect_success 'lib.sh makes it the tests'"'"' jq: a plain field does not run jq' '
	echo "{\"id\":\"via-function\"}" >.in &&
	(PATH=/nonexistent && jq -r .id <.in >got) &&
	echo via-function >want && test_cmp want got
'

test_done
