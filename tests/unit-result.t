#!/bin/sh
# The C unit tests of lib/ (tests/unit/result.c): the dialect, under valgrind with BT_VALGRIND=1.
d=${0%/*}
if [ "${BT_VALGRIND:-}" = 1 ]; then
	exec valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$d/unit/result"
fi
exec "$d/unit/result"
