#!/bin/sh
# Every program has a man page; every man page formats without a warning;
# every program takes -h and --help, and --verbose wherever it takes -v,
# and its man page says so.
. "${0%/*}/lib.sh"

for p in "$BT_ROOT"/bin/bt-*; do
	case $p in *.c) continue;; esac
	name=${p##*/}
	test_expect_success "$name has a man page" "
		test -f '$BT_ROOT/man/$name.1'
	"
done

for p in "$BT_ROOT"/bin/bt-*; do
	case $p in *.c) continue;; esac
	name=${p##*/}
	test_expect_success "$name: -h and --help print the same usage on stdout" "
		$name -h >h.out 2>h.err &&
		$name --help >help.out 2>help.err &&
		test_grep '^usage: $name' h.out &&
		test_cmp h.out help.out &&
		test_must_be_empty h.err &&
		test_must_be_empty help.err &&
		grep -q '^\\.It Fl h , Fl -help\$' '$BT_ROOT/man/$name.1'
	"
	if grep -q '^\.It Fl v' "$BT_ROOT/man/$name.1"; then
		test_expect_success "$name: -v is also --verbose" "
			$name --verbose --help >v.out &&
			test_cmp h.out v.out &&
			grep -q '^\\.It Fl v , Fl -verbose\$' '$BT_ROOT/man/$name.1'
		"
	fi
done

for m in "$BT_ROOT"/man/*.[17]; do
	test_expect_success "${m##*/} formats cleanly" "
		groff -mandoc -ww -z '$m' 2>err &&
		test_must_be_empty err
	"
done

test_done
