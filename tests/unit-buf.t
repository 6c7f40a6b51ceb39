#!/bin/sh
# The C unit tests of lib/ (tests/unit/buf.c), under valgrind with BT_VALGRIND=1.
d=${0%/*}
if [ "${BT_VALGRIND:-}" = 1 ]; then
	exec valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$d/unit/buf"
fi
# under ASan (make check-asan) a refused allocation must come back NULL,
# as from malloc, for the test of what bt says then
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1
export ASAN_OPTIONS
exec "$d/unit/buf"
