#!/bin/sh
# make install and uninstall honour PREFIX and DESTDIR.
. "${0%/*}/lib.sh"

test_expect_success 'install puts programs and man pages under DESTDIR/PREFIX' '
	make -s -C "$BT_ROOT" install DESTDIR="$TRASH/root" PREFIX=/opt/bt >out 2>&1 &&
	test -x root/opt/bt/bin/bt-format &&
	test -x root/opt/bt/bin/bt-mock &&
	test -f root/opt/bt/share/man/man1/bt-format.1 &&
	test -f root/opt/bt/share/man/man7/bt.7 &&
	(cd root/opt/bt/bin && ls) >progs &&
	(cd "$BT_ROOT/bin" && ls | grep -v "\.c$") >expect &&
	test_cmp expect progs
'

test_expect_success 'the installed program runs' '
	echo "{\"t\":\"x\"}" | root/opt/bt/bin/bt-format -m m -p .t >out &&
	test_grep "\"content\":\"x\"" out
'

test_expect_success 'uninstall removes exactly what install put there' '
	make -s -C "$BT_ROOT" uninstall DESTDIR="$TRASH/root" PREFIX=/opt/bt >out 2>&1 &&
	find root -type f >left &&
	test_must_be_empty left
'

test_done
