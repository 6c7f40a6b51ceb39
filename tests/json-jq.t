#!/bin/sh
# The library's JSONL reader and writer against jq -c, byte for byte.
. "${0%/*}/lib.sh"
echo_=jsonl-echo

test_expect_success 'a corpus of tricky values prints as jq -c prints it' '
	cat >in.jsonl <<-\IN &&
	{"a":1,"b":[1,2,{"c":null}],"d":"x"}
	[1.0, 2.50, -0, 0.1, 1e2, 1E-5, 1e16, 1e15, 123456789012345678, 1e400, -1e400, 3.14159, 5e-324]
	"\u00e9\u4e2d\ud83d\ude00 caf\u00e9 \u007f \u0000 \u001f \/ \\ \" \b\f\n\r\t"
	"raw utf-8: é 中文 😀 and a mark ́"
	{"dup":1,"other":2,"dup":3}
	{"nested":{"deep":{"deeper":[[[[]]],{}]}}}
	true
	false
	null
	   {"spaces"   :   [ 1 , 2 ]   }
	""
	{"":""}
	-12345678901234
	0.30000000000000004
	[1e-7,1.5e300,100000000000000000000,9007199254740993]
	IN
	command jq -c . <in.jsonl >expect &&
	"$echo_" in.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'CRLF lines and blank lines: same values as jq' '
	printf "{\"a\":1}\r\n\r\n\n[2]\r\n  \n\"x\"" >crlf.jsonl &&
	printf "{\"a\":1}\n[2]\n\"x\"\n" >expect &&
	"$echo_" crlf.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'invalid UTF-8 is replaced as jq replaces it' '
	printf "\"ab\\377\\376cd\"\n[\"\\300\\200\"]\n" >bad.jsonl &&
	command jq -c . <bad.jsonl >expect &&
	"$echo_" bad.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'a bad line names file and line, the others still come through' '
	printf "{\"a\":1}\n{\"a\":2} junk\n[3]\n{\"b\":\n" >mixed.jsonl &&
	test_expect_code 2 "$echo_" mixed.jsonl >actual 2>err &&
	printf "{\"a\":1}\n[3]\n" >expect &&
	test_cmp expect actual &&
	cat >expect.err <<-\EXP &&
	jsonl-echo: mixed.jsonl:2: invalid JSON: trailing data after the value at column 9
	jsonl-echo: mixed.jsonl:4: invalid JSON: unexpected end of input, expected a value at column 6
	EXP
	test_cmp expect.err err
'

test_expect_success 'a 10 MB record with escapes comes through whole' '
	cat >gen.pl <<-\PL &&
	print q({"id":1,"text":"), q(a\"b\\\\c\n\u00e9 ) x 800000, qq("}\n);
	PL
	perl gen.pl >big.jsonl &&
	test $(wc -c <big.jsonl) -gt 10000000 &&
	command jq -c . <big.jsonl >expect &&
	"$echo_" <big.jsonl >actual &&
	test_cmp expect actual
'

test_expect_success 'a closed pipe ends it quietly' '
	perl -e "print qq({\"n\":\$_}\n) for 1..300000" >many.jsonl &&
	{ "$echo_" many.jsonl 2>err; echo $? >status; } | head -n 1 >actual &&
	echo "{\"n\":1}" >expect &&
	test_cmp expect actual &&
	echo 141 >expect.status &&
	test_cmp expect.status status &&
	test_must_be_empty err
'

test_done
