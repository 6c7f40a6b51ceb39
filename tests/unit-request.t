#!/bin/sh
# The C unit tests of lib/request.c (tests/unit/request.c), under valgrind with BT_VALGRIND=1.
d=${0%/*}
if [ "${BT_VALGRIND:-}" = 1 ]; then
	exec valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$d/unit/request"
fi
exec "$d/unit/request"
