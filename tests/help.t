#!/bin/sh
# --help: one line an option, each option that the man page's SYNOPSIS
# names among them (bt-run, a sh program, has its own; issue 18 §2).
. "${0%/*}/lib.sh"

# synopsis NAME: the options of man/NAME.1's SYNOPSIS, one a line
synopsis() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$BT_ROOT/man/$1.1" | perl -ne '
		while (/\bFl (\S+)/g) {
			my $o = $1;
			if ($o =~ /^-/) { print "-$o\n" } else { print "-$_\n" for split //, $o }
		}' | sort -u
}

# listed FILE: the options that begin the option lines of a --help, one a line
listed() {
	perl -ne 'if (/^  ((?:--?[A-Za-z][-A-Za-z]*(?:, )?)+)/) {
		print "$_\n" for grep { length } split /, /, $1 }' "$1" | sort -u
}

for p in format split submit wait fetch send retry join list cancel cost mock; do
	test_expect_success "bt-$p --help: a line for each option of its SYNOPSIS" "
		bt-$p --help >help 2>err &&
		test_must_be_empty err &&
		synopsis bt-$p >want &&
		test -s want &&
		listed help >got &&
		comm -23 want got >missing &&
		test_must_be_empty missing
	"
done

test_expect_success 'a bad option: the usage line alone on stderr, exit 2' '
	test_expect_code 2 bt-send --bogus </dev/null >out 2>err &&
	test_must_be_empty out &&
	printf "%s\n" "bt-send: unrecognized option '"'"'--bogus'"'"'" \
		"usage: bt-send [-v] [-c N] [-o FILE] [--rpm N] [--itpm N] [--otpm N]" \
		"               [--attempt-timeout DURATION] [--api-key-file FILE] [REQUESTS...]" >expect &&
	test_cmp expect err
'

test_expect_success 'bt-send --help, byte for byte' '
	bt-send --help >out &&
	cat >expect <<-\EOF &&
	usage: bt-send [-v] [-c N] [-o FILE] [--rpm N] [--itpm N] [--otpm N]
	               [--attempt-timeout DURATION] [--api-key-file FILE] [REQUESTS...]
	options:
	  -c, --concurrency N        requests in flight at once, 1 to 1024 (default 8)
	  -o, --output FILE          append the results to FILE, skipping those in it
	  --rpm N                    at most N requests a minute
	  --itpm N                   at most N input tokens a minute
	  --otpm N                   at most N output tokens a minute
	  --attempt-timeout DURATION limit of one attempt (default 10m)
	  --api-key-file FILE        the API key from FILE'"'"'s first line
	  -v, --verbose              say what happens on stderr
	  -h, --help                 this help
	EOF
	test_cmp expect out
'

test_done
