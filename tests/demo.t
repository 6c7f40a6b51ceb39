#!/bin/sh
# make demo keeps working: the bundled job, through bt-mock with faults.
. "${0%/*}/lib.sh"

test_expect_success 'the demo classifies every ticket, each answer its own, with a retry round' '
	mkdir tmp && TMPDIR=$TRASH/tmp sh "$BT_ROOT/contrib/demo.sh" >out 2>err &&
	test_grep "^ *300 succeeded$" out &&
	test_grep "answers that do not belong to their ticket: 0" out &&
	test_grep "round 2: retrying [0-9]+ requests" err &&
	test_grep "^total +300 " out &&
	{ ls tmp | grep "^bt-demo\\." >left || true; } &&
	test_must_be_empty left
'

test_done
