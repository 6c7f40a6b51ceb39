#!/bin/sh
# bench/split.sh — bt-split against split -l on the same requests.
#
# Makes a ~170 MB file of 200,000 requests (perl), then cuts it into
# chunks of 100,000 requests with `split -l 100000` and with
# `bt-split -n 100000`, best of 5 each, and prints both times and the
# throughput ratio: bt-split checks every request (JSON, members, custom_id,
# duplicates) on a second thread while the first copies, split -l only
# looks for newlines; bt-split --fsync (each chunk
# synced to disk before its rename) is timed too, for information.  The
# goal is a ratio of at least 0.5.  Peak RSS of bt-split is printed when
# GNU time is installed.
#
#   sh bench/split.sh           (BENCH_DIR=/some/dir to choose the disk)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bt_split=$root/bin/bt-split
[ -x "$bt_split" ] || { echo "bench/split.sh: build first: make" >&2; exit 1; }
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bt-bench-split.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

# 200,000 requests of ~850 bytes as bt-format writes them (jq -c: raw
# UTF-8; escapes only for quotes, backslashes and control characters): a
# system prompt and a user message of prose in paragraphs.
perl -e '
	my @w = qw(the of and to in a is that for it as was with be by on not he
	           this are or his from at which but have an they you were her she
	           there been one all we their has would when if so no will said
	           document report classify summary customer order shipping delay);
	push @w, "caf\xc3\xa9", "r\xc3\xa9sum\xc3\xa9", "na\xc3\xafve",
	         "\xe4\xb8\xad\xe6\x96\x87", "\\\"quoted\\\"", "C:\\\\path";
	srand(42);
	for my $i (1 .. 200000) {
		my $t = join(" ", map { $w[int(rand(@w))] . ($_ % 30 ? "" : ".\\n\\n") } 1 .. 132);
		print qq({"custom_id":"doc-$i","params":{"model":"claude-haiku-4-5",),
		      qq("max_tokens":256,"system":"You are a careful classifier.",),
		      qq("messages":[{"role":"user","content":"Classify:\\n$t"}]}}\n);
	}' >requests.jsonl
size=$(wc -c <requests.jsonl)

# best TIME of 5 runs of "$@", in seconds: the disk and the other tenants
# of a shared machine make single runs vary by up to 2×
best() {
	b=
	for _ in 1 2 3 4 5; do
		rm -rf out && mkdir out
		t0=$(date +%s.%N)
		"$@" >/dev/null
		t1=$(date +%s.%N)
		b=$(echo "$t0 $t1 ${b:-}" | awk '{ t = $2 - $1; if ($3 == "" || t < $3) print t; else print $3 }')
	done
	echo "$b"
}

cat requests.jsonl >/dev/null   # warm the page cache
t_split=$(best split -l 100000 requests.jsonl out/x)
t_bt=$(best "$bt_split" -n 100000 -d out requests.jsonl)
t_sync=$(best "$bt_split" --fsync -n 100000 -d out requests.jsonl)

awk -v s="$size" -v a="$t_split" -v b="$t_bt" -v c="$t_sync" 'BEGIN {
	printf "input: %.1f MB, 200000 requests\n", s / 1e6
	printf "split -l 100000:     %.3f s  (%.0f MB/s)\n", a, s / a / 1e6
	printf "bt-split -n 100000:  %.3f s  (%.0f MB/s)\n", b, s / b / 1e6
	printf "bt-split --fsync -n 100000:  %.3f s  (%.0f MB/s)\n", c, s / c / 1e6
	printf "throughput ratio bt-split / split -l: %.2f (goal >= 0.5)\n", a / b
}'
if [ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null; then
	rm -rf out && mkdir out
	/usr/bin/time -v "$bt_split" -n 100000 -d out requests.jsonl 2>&1 >/dev/null |
		sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): /bt-split peak RSS: /p' |
		sed 's/$/ KB/'
fi
