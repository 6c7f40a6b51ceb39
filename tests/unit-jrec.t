#!/bin/sh
# The journal record of lib/journal.c (tests/unit/jrec.c), under valgrind with BT_VALGRIND=1.
d=${0%/*}
if [ "${BT_VALGRIND:-}" = 1 ]; then
	exec valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$d/unit/jrec"
fi
exec "$d/unit/jrec"
