#!/bin/sh
# The seed corpus of every fuzz harness (tests/fuzz/corpus/NAME/) replayed
# through it (tests/fuzz/replay-NAME, built by make check as the tests are):
# no crash, no disagreement (an abort), nothing ASan or valgrind sees.
# make fuzz runs the same harnesses under libFuzzer (tests/fuzz/README).
. "${0%/*}/lib.sh"
FUZZ=$TESTS/fuzz

replay() {
	if [ "${BT_VALGRIND:-}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			"$FUZZ/replay-$1" -v "$FUZZ/corpus/$1"
	else
		"$FUZZ/replay-$1" -v "$FUZZ/corpus/$1"
	fi
}

names=
for c in "$FUZZ"/*.c; do
	name=${c##*/}
	name=${name%.c}
	[ "$name" = replay ] && continue
	names="$names $name"
	test_expect_success "$name: every seed input replays cleanly" "
		{ replay $name 2>$name.err; st=\$?; cat $name.err; } &&
		[ \$st = 0 ] && test_grep '^replay-$name: [0-9]+ inputs' $name.err
	"
done

test_expect_success 'every harness has a seed corpus of a handful of small files, and no corpus is without one' '
	for name in $names; do
		n=$(ls "$FUZZ/corpus/$name" | wc -l) &&
		[ "$n" -ge 5 ] || { echo "$name: $n seeds"; exit 1; }
	done &&
	for d in "$FUZZ"/corpus/*; do
		[ -e "$FUZZ/${d##*/}.c" ] || { echo "$d: no harness"; exit 1; }
	done &&
	big=$(find "$FUZZ/corpus" -type f -size +8k) &&
	{ test -z "$big" || { echo "too big: $big"; exit 1; }; }
'

test_done
