#!/bin/sh
# bench/submit-fetch.sh — bt-submit and bt-fetch against curl(1) doing the
# same transfers, on a full-size batch.  Run by hand, not by make check.
#
#   sh bench/submit-fetch.sh        (BENCH_DIR=/some/dir to choose the disk;
#                                    BENCH_N=requests, default 100000)
#
# Makes one chunk of 100,000 requests (~250 MB, just under the API's
# 256,000,000-byte body limit) as bt-format writes them, and the create
# body built from it ({"requests":[ + the lines joined by commas + ]}).
# Starts bt-mock, then, best of 3 each (wall time; peak RSS by GNU time):
#
#   1. bt-submit --force CHUNK (a fresh BT_STATE_DIR each time, so that it really
#      creates)  vs  curl --data-binary @body to the same endpoint.
#   2. once that batch has ended: bt-fetch ID >/dev/null and bt-fetch ID
#      >file  vs  curl -o /dev/null and curl -o file of its results URL.
#
# Targets: bt-submit and bt-fetch within 1.5x curl's time, peak RSS at most
# 32 MB whatever the size of the job.  Needs perl, curl and /usr/bin/time
# (GNU time).  Takes about a minute and ~2 GB of disk under BENCH_DIR.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
for p in bt-submit bt-fetch bt-wait bt-mock; do
	[ -x "$root/bin/$p" ] || { echo "bench/submit-fetch.sh: build first: make" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/submit-fetch.sh: needs GNU time in /usr/bin/time" >&2; exit 1; }
n=${BENCH_N:-100000}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bt-bench-submit-fetch.XXXXXX")
# a registry of its own: the machine's is not filled with bench batches
XDG_STATE_HOME=$work/xdg; export XDG_STATE_HOME
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

# The chunk: requests as bt-format -m m --max-tokens 64 writes them, with
# ~2400 bytes of prose each (ASCII words, some \n and \" escapes), every
# prompt different.
perl -e '
	my ($n) = @ARGV;
	my @w = qw(the of and to in a is that for it as was with be by on not he
	           this are or his from at which but have an they you were her she
	           there been one all we their has would when if so no will said
	           document report classify summary customer order shipping delay);
	push @w, "\\\"quoted\\\"", "end.\\n\\n";
	srand(42);
	my $pool = join(" ", map { $w[int(rand(@w))] } 1 .. 2000);
	$pool .= " $pool";
	for my $i (1 .. $n) {
		my $t = substr($pool, ($i * 37) % 4000, 2400);
		$t =~ s/\\+$//;   # never end on half an escape
		$t =~ s/^[^ ]* //;
		print qq({"custom_id":"r$i","params":{"model":"m","max_tokens":64,),
		      qq("messages":[{"role":"user","content":"$i: $t"}]}}\n);
	}' "$n" >chunk.jsonl
perl -ne 'chomp; print $. > 1 ? ",$_" : "{\"requests\":[$_"; END { print "]}" }' \
	chunk.jsonl >body.json
csize=$(wc -c <chunk.jsonl)
bsize=$(wc -c <body.json)
[ "$bsize" -le 256000000 ] || { echo "bench: body of $bsize bytes is over the limit" >&2; exit 1; }

"$root/bin/bt-mock" -p 0 --processing-time 0.5 --lifetime 3600 --model m \
	--state-dir "$work/mock" >url 2>mock.log &
pid=$!
i=0
while ! grep -q '^http' url 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "bench: bt-mock did not start:" >&2; cat mock.log >&2; exit 1; }
	sleep 0.05
done
url=$(head -n 1 url)
ANTHROPIC_BASE_URL=$url
ANTHROPIC_API_KEY=sk-bench
export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY
unset BT_STATE_DIR BT_RETRY_BUDGET ANTHROPIC_VERSION
H1="x-api-key: $ANTHROPIC_API_KEY"
H2='anthropic-version: 2023-06-01'

. "$root/bench/lib.sh"

echo "chunk: $n requests, $csize bytes; create body: $bsize bytes"

# 1. create
best3 curl.batch curl -sS -f -H "$H1" -H "$H2" -H 'content-type: application/json' \
	--data-binary @body.json "$url/v1/messages/batches"
curl_t=$T curl_r=$RSS
grep -q '"processing_status":"in_progress"' curl.batch || { echo "bench: curl create failed" >&2; exit 1; }
best3 submit.out sh -c 'BT_STATE_DIR=$0/state.$$; export BT_STATE_DIR; exec "$@"' \
	"$work" "$root/bin/bt-submit" --force chunk.jsonl
row "curl --data-binary @body" "$curl_t" "$curl_r"
row "bt-submit CHUNK" "$T" "$RSS" "$curl_t" 1.5 32
[ "$(wc -l <submit.out)" = 1 ] || { echo "bench: bt-submit printed:" >&2; cat submit.out >&2; exit 1; }
id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' submit.out)
grep -q "\"processing\":$n" submit.out || { echo "bench: the batch is not of $n requests" >&2; exit 1; }

# 2. results (the first look at an ended batch writes its results file:
# not timed)
"$root/bin/bt-wait" --interval 0.2 "$id" >/dev/null
rurl="$url/v1/messages/batches/$id/results"
best3 /dev/null curl -sS -f -H "$H1" -H "$H2" -o /dev/null "$rurl"
curl_t=$T curl_r=$RSS
best3 /dev/null "$root/bin/bt-fetch" "$id"
row "curl -o /dev/null URL/results" "$curl_t" "$curl_r"
row "bt-fetch ID >/dev/null" "$T" "$RSS" "$curl_t" 1.5 32
best3 /dev/null curl -sS -f -H "$H1" -H "$H2" -o curl.results "$rurl"
curl_t=$T curl_r=$RSS
best3 bt.results "$root/bin/bt-fetch" "$id"
row "curl -o file URL/results" "$curl_t" "$curl_r"
row "bt-fetch ID >file" "$T" "$RSS" "$curl_t" 1.5 32
rsize=$(wc -c <bt.results)
lines=$(wc -l <bt.results)
# bt-submit sent the first request under a per-attempt tag (bt(7),
# RECONCILIATION) and bt-fetch writes it back under its own id: curl's
# copy has the tag
sed 's/"custom_id":"r1-bt[0-9a-f]\{16\}"/"custom_id":"r1"/' curl.results >curl.untagged
same=no
cmp -s curl.untagged bt.results && same=yes
echo "results: $lines lines, $rsize bytes; bt-fetch's output = curl's (the tag taken off), byte for byte: $same"
echo
printf '%-30s %8s %9s %8s   %s\n' "best of 3" "seconds" "peak MB" "vs curl" ""
printf '%s' "$rows"
