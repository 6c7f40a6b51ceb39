#!/bin/sh
# Every program has a man page; every man page formats without a warning.
. "${0%/*}/lib.sh"

for p in "$BT_ROOT"/bin/bt-*; do
	case $p in *.c) continue;; esac
	name=${p##*/}
	test_expect_success "$name has a man page" "
		test -f '$BT_ROOT/man/$name.1'
	"
done

for m in "$BT_ROOT"/man/*.[17]; do
	test_expect_success "${m##*/} formats cleanly" "
		groff -mandoc -ww -z '$m' 2>err &&
		test_must_fail test -s err
	"
done

test_done
