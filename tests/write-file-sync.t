#!/bin/sh
# A file replaced by bt_write_file (lib/util.c: the journal's records, the
# adoption marks) is synced, renamed into place, and then its directory is
# synced, so that the rename survives a power cut; bt-split -s does the
# same with the same lib function (issue 18 §3).  Seen through
# tests/shim/fsynclog.so, which logs fsync, fdatasync and rename (Linux).
. "${0%/*}/lib.sh"
shim=$BT_ROOT/tests/shim/fsynclog.so

# synced_after_rename LOG: "N N": of the N renames of a NAME.tmp.PID file
# into place, how many are followed at once by an fsync of the directory
# that holds it
synced_after_rename() {
	awk '$1 == "rename" && $2 ~ /\.tmp\.[0-9]+$/ {
		n++; want = $3; sub("/[^/]*$", "", want); next
	}
	want != "" { if ($1 == "fsync" && $2 == "dir" && $3 == want) ok++; want = "" }
	END { print n + 0, ok + 0 }' "$1"
}

if [ ! -f "$shim" ] || [ ! -e /proc/self/fd/0 ] || [ "${BT_VALGRIND:-}" = 1 ]; then
	test_skip 'bt_write_file syncs the directory after the rename' \
		'needs tests/shim/fsynclog.so, /proc/self/fd, no valgrind'
	test_done
fi

mock_start || exit 1
req='{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}'

test_expect_success 'bt-submit: each journal record renamed into place, then its directory synced' '
	echo "$req" >c.jsonl &&
	LD_PRELOAD=$shim BT_FSYNCLOG=$PWD/log bt-submit c.jsonl >out 2>err &&
	test_lines 1 out &&
	test_must_be_empty err &&
	synced_after_rename log >actual &&
	read n ok <actual &&
	test "$n" -ge 2 &&
	echo "$n $n" >expect &&
	test_cmp expect actual
'

test_expect_success 'bt-split -s: each chunk renamed into place, then its directory synced' '
	{ echo "$req"; echo "$req" | sed "s/\"a\"/\"b\"/"; } >r.jsonl &&
	mkdir chunks &&
	LD_PRELOAD=$shim BT_FSYNCLOG=$PWD/log2 bt-split -s -n 1 -d chunks <r.jsonl >list &&
	test_lines 2 list &&
	grep -c "^rename .*/chunks/\.[^/]*\.tmp\.[0-9]* " log2 >n &&
	echo 2 >expect && test_cmp expect n &&
	synced_after_rename log2 >actual &&
	echo "2 2" >expect &&
	test_cmp expect actual
'

test_done
