#!/bin/sh
# The C unit tests of lib/media.c (tests/unit/media.c), under valgrind with BT_VALGRIND=1.
d=${0%/*}
if [ "${BT_VALGRIND:-}" = 1 ]; then
	exec valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$d/unit/media"
fi
exec "$d/unit/media"
