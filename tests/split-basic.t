#!/bin/sh
# bt-split: how requests are cut into chunks, and what is printed.
. "${0%/*}/lib.sh"

# reqs FIRST LAST: requests r<N> with a small params object, one a line
reqs() {
	perl -e 'printf qq({"custom_id":"r%d","params":{"n":%d}}\n), $_, $_ for $ARGV[0] .. $ARGV[1]' "$1" "$2"
}

# sized ID BYTES: one request of exactly BYTES bytes, newline included
sized() {
	perl -e 'my $s = qq({"custom_id":"$ARGV[0]","params":{"t":""}}); my $pad = $ARGV[1] - 1 - length $s;
		die "too small\n" if $pad < 0; substr($s, -3, 0) = "x" x $pad; print "$s\n"' "$1" "$2"
}

test_expect_success '10 requests with -n 3 make chunks of 3, 3, 3 and 1' '
	mkdir three && cd three &&
	reqs 1 10 >in.jsonl &&
	bt-split -n 3 in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 0003 0004 >expect &&
	test_cmp expect out &&
	sed -n 1,3p in.jsonl >expect.1 && test_cmp expect.1 chunk.0001.jsonl &&
	sed -n 4,6p in.jsonl >expect.2 && test_cmp expect.2 chunk.0002.jsonl &&
	sed -n 7,9p in.jsonl >expect.3 && test_cmp expect.3 chunk.0003.jsonl &&
	sed -n 10p in.jsonl >expect.4 && test_cmp expect.4 chunk.0004.jsonl &&
	ls -A >files &&
	printf "%s\n" chunk.0001.jsonl chunk.0002.jsonl chunk.0003.jsonl \
		chunk.0004.jsonl expect expect.1 expect.2 expect.3 expect.4 \
		files in.jsonl out >expect.files &&
	test_cmp expect.files files
'

test_expect_success 'stdin by default and by "-"; one chunk when all fit' '
	mkdir stdin && cd stdin &&
	reqs 1 5 >in.jsonl &&
	bt-split <in.jsonl >out &&
	echo chunk.0001.jsonl >expect &&
	test_cmp expect out &&
	test_cmp in.jsonl chunk.0001.jsonl &&
	rm chunk.0001.jsonl &&
	bt-split - <in.jsonl >out &&
	test_cmp expect out &&
	test_cmp in.jsonl chunk.0001.jsonl
'

test_expect_success 'names are zero-padded and sort with ls in chunk order' '
	mkdir pad && cd pad &&
	reqs 1 12 | bt-split -n 1 >out &&
	test_lines 12 out &&
	echo chunk.0012.jsonl >expect.last &&
	tail -n 1 out >last && test_cmp expect.last last &&
	ls chunk.* >ls.out &&
	test_cmp out ls.out &&
	echo "{\"custom_id\":\"r10\",\"params\":{\"n\":10}}" >expect.10 &&
	test_cmp expect.10 chunk.0010.jsonl
'

test_expect_success '-a sets the width of the number' '
	mkdir width && cd width &&
	reqs 1 3 | bt-split -n 1 -a 2 >out &&
	printf "chunk.%s.jsonl\n" 01 02 03 >expect &&
	test_cmp expect out &&
	reqs 1 1 | bt-split -a 7 - x. >out &&
	echo x.0000001.jsonl >expect &&
	test_cmp expect out
'

test_expect_success 'more chunks than -a digits allow: exit 2 after the last that fits' '
	mkdir many && cd many &&
	reqs 1 11 >in.jsonl &&
	test_expect_code 2 bt-split -n 1 -a 1 in.jsonl >out 2>err &&
	echo "bt-split: chunk 10 does not fit in 1 digits: use a larger -a" >expect.err &&
	test_cmp expect.err err &&
	test_lines 9 out &&
	ls -A >files &&
	printf "%s\n" chunk.1.jsonl chunk.2.jsonl chunk.3.jsonl chunk.4.jsonl \
		chunk.5.jsonl chunk.6.jsonl chunk.7.jsonl chunk.8.jsonl \
		chunk.9.jsonl err expect.err files in.jsonl out >expect.files &&
	test_cmp expect.files files
'

test_expect_success '-b: a chunk of exactly -b bytes; one byte more starts a new chunk' '
	mkdir bytes && cd bytes &&
	sized a 50 >in.jsonl && sized b 50 >>in.jsonl && sized c 50 >>in.jsonl &&
	test $(wc -c <in.jsonl) = 150 &&
	bt-split -b 100 in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	test $(wc -c <chunk.0001.jsonl) = 100 &&
	head -n 2 in.jsonl >expect.1 && test_cmp expect.1 chunk.0001.jsonl &&
	tail -n 1 in.jsonl >expect.2 && test_cmp expect.2 chunk.0002.jsonl &&
	rm chunk.* &&
	bt-split -b 99 in.jsonl >out &&
	printf "chunk.%s.jsonl\n" 0001 0002 0003 >expect &&
	test_cmp expect out &&
	test $(wc -c <chunk.0001.jsonl) = 50 &&
	rm chunk.* &&
	bt-split -b 150 in.jsonl >out &&
	echo chunk.0001.jsonl >expect &&
	test_cmp expect out &&
	test_cmp in.jsonl chunk.0001.jsonl
'

test_expect_success '-b takes K and M suffixes; -n and -b together: whichever comes first' '
	mkdir both && cd both &&
	perl -e "printf qq({\"custom_id\":\"i%02d\",\"params\":{\"t\":\"%s\"}}\n), \$_, q(x) x 462 for 1..10" >in.jsonl &&
	test $(sed -n 1p in.jsonl | wc -c) = 500 &&
	bt-split -b 2K in.jsonl >out &&
	test_lines 3 out &&
	test $(wc -l <chunk.0001.jsonl) = 4 &&
	rm chunk.* &&
	bt-split -b 1M -n 3 in.jsonl >out &&
	test_lines 4 out &&
	test $(wc -l <chunk.0003.jsonl) = 3 &&
	test $(wc -l <chunk.0004.jsonl) = 1
'

test_expect_success '-d DIR is made like mkdir -p; paths come out as open(2) takes them' '
	mkdir dir && cd dir &&
	reqs 1 4 >in.jsonl &&
	bt-split -n 2 -d out/a/b in.jsonl >paths &&
	printf "out/a/b/chunk.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect paths &&
	cat out/a/b/chunk.0001.jsonl out/a/b/chunk.0002.jsonl >all &&
	test_cmp in.jsonl all &&
	bt-split -n 2 -d out/a/b/ in.jsonl >paths &&
	test_cmp expect paths &&
	ls -A out/a/b >files &&
	printf "chunk.%s.jsonl\n" 0001 0002 >expect.files &&
	test_cmp expect.files files
'

test_expect_success 'PREFIX names the chunks, with -d or alone' '
	mkdir prefix && cd prefix &&
	reqs 1 3 >in.jsonl &&
	bt-split -n 2 -d parts in.jsonl job7- >out &&
	printf "parts/job7-%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	bt-split -n 2 in.jsonl parts/again. >out &&
	printf "parts/again.%s.jsonl\n" 0001 0002 >expect &&
	test_cmp expect out &&
	test_cmp parts/job7-0002.jsonl parts/again.0002.jsonl
'

test_expect_success 'CRLF lines are written with LF only, blank lines are skipped' '
	mkdir crlf && cd crlf &&
	printf "{\"custom_id\":\"a\",\"params\":{}}\r\n\r\n  \n\t\n{\"custom_id\":\"b\",\"params\":{}}\r\n\n{\"custom_id\":\"c\",\"params\":{}}" >in.jsonl &&
	bt-split -n 2 in.jsonl >out &&
	printf "{\"custom_id\":\"a\",\"params\":{}}\n{\"custom_id\":\"b\",\"params\":{}}\n" >expect.1 &&
	test_cmp expect.1 chunk.0001.jsonl &&
	printf "{\"custom_id\":\"c\",\"params\":{}}\n" >expect.2 &&
	test_cmp expect.2 chunk.0002.jsonl
'

test_expect_success 'unicode, escapes and spacing survive byte for byte' '
	mkdir text && cd text &&
	cat >in.jsonl <<-\EOF &&
	{"custom_id":"u1","params":{"messages":[{"role":"user","content":"café 中文 😀 \u00e9\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t \u0000"}]}}
	 { "custom_id" : "u2" , "params" : { "a" : [ 1.5e3 , -0 , true , null ] } } 
	{"params":{},"custom_id":"u3"}
	{"custom\u005fid":"u4","params":{"nested":{"deep":[[[{}]]]}}}
	EOF
	bt-split in.jsonl >out &&
	test_cmp in.jsonl chunk.0001.jsonl
'

test_expect_success 'a 10 MB request goes through whole' '
	mkdir big && cd big &&
	perl -e "print q({\"custom_id\":\"big\",\"params\":{\"t\":\"), q(ab\\\\n\\u00e9 é ) x 800000, qq(\"}}\n)" >in.jsonl &&
	test $(wc -c <in.jsonl) -gt 10000000 &&
	reqs 1 2 >>in.jsonl &&
	bt-split -n 2 in.jsonl >out &&
	test_lines 2 out &&
	head -n 2 in.jsonl >expect.1 &&
	test_cmp expect.1 chunk.0001.jsonl &&
	tail -n 1 in.jsonl >expect.2 &&
	test_cmp expect.2 chunk.0002.jsonl
'

test_expect_success 'the same input gives the same chunks, byte for byte' '
	mkdir det && cd det &&
	perl -e "print qq({\"custom_id\":\"d\$_\",\"params\":{\"t\":\"), q(y) x (\$_ * 7 % 300), qq(\"}}\n) for 1..500" >in.jsonl &&
	bt-split -b 10K -n 70 -d one in.jsonl >out.1 &&
	bt-split -b 10K -n 70 -d two in.jsonl >out.2 &&
	sed s/^one/two/ out.1 >expect &&
	test_cmp expect out.2 &&
	test $(wc -l <out.1) -gt 5 &&
	for f in one/*; do test_cmp "$f" "two/${f#one/}" || exit 1; done &&
	cat one/* >all &&
	test_cmp in.jsonl all
'

test_expect_success 'empty input, or only blank lines: no chunks, no output, said on stderr, exit 0' '
	mkdir empty && cd empty &&
	bt-split </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "bt-split: no requests in stdin" >expect &&
	test_cmp expect err &&
	printf "\n \r\n\n" | bt-split -d sub >out 2>err &&
	test_must_be_empty out &&
	test_cmp expect err &&
	rm expect err &&
	ls -A >files &&
	printf "%s\n" files out sub >expect &&
	test_cmp expect files &&
	ls -A sub >files.sub &&
	test_must_be_empty files.sub
'

test_expect_success '--fsync syncs each chunk and gives the same chunks; the old -s and --sync still do' '
	mkdir sync && cd sync &&
	reqs 1 5 >in.jsonl &&
	bt-split --fsync -n 2 -d d in.jsonl >out &&
	printf "d/chunk.%s.jsonl\n" 0001 0002 0003 >expect &&
	test_cmp expect out &&
	cat d/* >all &&
	test_cmp in.jsonl all &&
	bt-split -s -n 2 -d s in.jsonl >out.s &&
	bt-split --sync -n 2 -d l in.jsonl >out.l &&
	sed "s|^d/|s/|" expect >expect.s && test_cmp expect.s out.s &&
	sed "s|^d/|l/|" expect >expect.l && test_cmp expect.l out.l
'

test_expect_success '-v sums up on stderr' '
	mkdir verbose && cd verbose &&
	reqs 1 5 >in.jsonl &&
	bt-split -v -n 2 in.jsonl >out 2>err &&
	echo "bt-split: 3 chunks, 5 requests, $(wc -c <in.jsonl) bytes" >expect &&
	test_cmp expect err
'

test_expect_success '-h prints usage and options on stdout; a bad option prints the usage on stderr, exit 2' '
	mkdir usage && cd usage &&
	echo "usage: bt-split [-v] [--fsync] [-n N] [-b SIZE] [-d DIR] [-a SUFFIXLEN] [FILE [PREFIX]]" >expect &&
	bt-split -h >out 2>err &&
	cat expect - >expect.h <<-\EOF &&
	options:
	  -n, --requests N           at most N requests a chunk (default 100000)
	  -b, --bytes SIZE           at most SIZE bytes a chunk (default 255999986)
	  -d, --directory DIR        write the chunks in DIR
	  -a, --suffix-length N      digits in a chunk'"'"'s number (default 4)
	  --fsync                    sync each chunk to disk before its rename
	  -v, --verbose              sum up chunks, requests and bytes on stderr
	  -h, --help                 this help
	EOF
	test_cmp expect.h out &&
	test_must_be_empty err &&
	test_expect_code 2 bt-split -x >out 2>err &&
	test_must_be_empty out &&
	echo "bt-split: invalid option -- '\''x'\''" >expect.err &&
	cat expect >>expect.err &&
	test_cmp expect.err err &&
	test_expect_code 2 bt-split -n 2>err &&
	echo "bt-split: option requires an argument -- '\''n'\''" >expect.err &&
	cat expect >>expect.err &&
	test_cmp expect.err err &&
	test_expect_code 2 bt-split a b c 2>err &&
	test_cmp expect err
'

test_expect_success 'out-of-range option values: exit 2 naming the option and value' '
	mkdir range && cd range &&
	test_expect_code 2 bt-split -n 0 </dev/null 2>err.1 &&
	test_expect_code 2 bt-split -n 100001 </dev/null 2>err.2 &&
	test_expect_code 2 bt-split -n 5x </dev/null 2>err.3 &&
	test_expect_code 2 bt-split -b 0 </dev/null 2>err.4 &&
	test_expect_code 2 bt-split -b 256M </dev/null 2>err.5 &&
	test_expect_code 2 bt-split -b 10Q </dev/null 2>err.6 &&
	test_expect_code 2 bt-split -a 0 </dev/null 2>err.7 &&
	test_expect_code 2 bt-split -a 19 </dev/null 2>err.8 &&
	test_expect_code 2 bt-split -d "" </dev/null 2>err.9 &&
	cat err.1 err.2 err.3 err.4 err.5 err.6 err.7 err.8 err.9 >err &&
	cat >expect <<-\EOF &&
	bt-split: -n: 0 is out of range (1 to 100000)
	bt-split: -n: 100001 is out of range (1 to 100000)
	bt-split: -n: not a whole number: '\''5x'\''
	bt-split: -b: 0 is out of range (1 to 255999986)
	bt-split: -b: 256M is out of range (1 to 255999986)
	bt-split: -b: not a size: '\''10Q'\'' (use K, M, G, KiB, MiB, GiB)
	bt-split: -a: 0 is out of range (1 to 18)
	bt-split: -a: 19 is out of range (1 to 18)
	bt-split: -d: an empty directory name
	EOF
	test_cmp expect err &&
	ls -A >files &&
	printf "%s\n" err err.1 err.2 err.3 err.4 err.5 err.6 err.7 err.8 err.9 expect files >expect.files &&
	test_cmp expect.files files
'

test_expect_success 'the largest -b: 255999986 bytes, so the create body is 256 MB' '
	mkdir max && cd max &&
	reqs 1 2 | bt-split -b 255999986 >out &&
	echo chunk.0001.jsonl >expect &&
	test_cmp expect out
'

test_expect_success 'long options: the same chunks as the short ones; bad ones named' '
	mkdir long && cd long &&
	reqs 1 10 >in.jsonl &&
	bt-split -n 3 -b 1K -a 2 -s -v -d short in.jsonl x. >short.out 2>short.err &&
	bt-split --requests 3 --bytes=1K --suffix-length 2 --sync --verbose \
		--directory=long in.jsonl x. >long.out 2>long.err &&
	sed s/short/long/ short.out >expect && test_cmp expect long.out &&
	test_cmp short.err long.err &&
	echo "bt-split: 4 chunks, 10 requests, 362 bytes" >expect.err &&
	test_cmp expect.err long.err &&
	for f in 01 02 03 04; do test_cmp short/x.$f.jsonl long/x.$f.jsonl || return 1; done &&
	test_expect_code 2 bt-split --frob <in.jsonl >out 2>err &&
	test_grep "^bt-split: unrecognized option '\''--frob'\''\$" err &&
	test_expect_code 2 bt-split --requests 2>err &&
	test_grep "^bt-split: option '\''--requests'\'' requires an argument\$" err &&
	test_must_be_empty out
'

test_expect_success '--help prints the usage on stdout and succeeds' '
	bt-split --help >out 2>err &&
	test_grep "^usage: bt-split" out &&
	test_must_be_empty err
'

test_done
