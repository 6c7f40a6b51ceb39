#!/bin/sh
# bench/mock-create.sh — how fast bt-mock takes a full-size batch and
# serves its results.  Not run by make check.
#
#   sh bench/mock-create.sh [N-requests [bytes-per-prompt]]
#
# Makes a create body of N (default 100,000) requests of about 256 MB in
# all (just under the API's 256,000,000-byte limit), then times with curl:
# the create (upload, spool and validation), the first GET after the end
# (which writes the results file), and the results download, against the
# raw size of the files.  The alternative it is measured against is cat(1)
# of the same body: the speed of the disk and page cache.
set -eu
n=${1:-100000}
len=${2:-2400}
root=$(cd "${0%/*}/.." && pwd)
mock=$root/bin/bt-mock
[ -x "$mock" ] || { echo "bench: build first: make" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/bt-bench.XXXXXX")
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
pid=

perl -e '
	my ($n, $len) = @ARGV;
	my $text = join("", map { chr(97 + $_ % 26) } 1..$len);
	print "{\"requests\":[";
	for my $i (1..$n) {
		print "," if $i > 1;
		print "{\"custom_id\":\"req-$i\",\"params\":{\"model\":\"claude-haiku-4-5\",",
		    "\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"$i $text\"}]}}";
	}
	print "]}";
' "$n" "$len" >"$dir/body.json"
size=$(wc -c <"$dir/body.json")

"$mock" -p 0 --processing-time 0 --lifetime 900 >"$dir/url" 2>"$dir/log" &
pid=$!
i=0
while ! [ -s "$dir/url" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(head -n 1 "$dir/url")
H1='x-api-key: bench'
H2='anthropic-version: 2023-06-01'

# secs CMD...: wall seconds of CMD, its stdout thrown away
secs() {
	perl -MTime::HiRes=time -e '
		open STDOUT, ">", "/dev/null" or die;
		$t = time; system(@ARGV) == 0 or exit 1;
		printf STDERR "%.3f", time - $t' "$@" 2>&1
}
mbs() { perl -e 'printf "%.3f s, %.0f MB/s", $ARGV[1], $ARGV[0] / 1e6 / ($ARGV[1] || 1e-9)' "$1" "$2"; }

t=$(secs cat "$dir/body.json")
echo "body: $n requests, $size bytes; cat: $(mbs "$size" "$t")"

curl -sS -o "$dir/batch" -w '%{http_code} %{time_total}\n' -H "$H1" -H "$H2" \
	--data-binary @"$dir/body.json" "$url/v1/messages/batches" >"$dir/t"
read code t <"$dir/t"
[ "$code" = 200 ] || { echo "bench: create answered $code:" >&2; cat "$dir/batch" >&2; exit 1; }
echo "create: $(mbs "$size" "$t")"
id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$dir/batch")

t=$(curl -sS -o "$dir/got" -w '%{time_total}' -H "$H1" -H "$H2" "$url/v1/messages/batches/$id")
grep -q '"processing_status":"ended"' "$dir/got" || { echo "bench: not ended" >&2; exit 1; }
echo "first GET after the end (writes the results): $t s"

curl -sS -o "$dir/results" -w '%{time_total}\n' -H "$H1" -H "$H2" \
	"$url/v1/messages/batches/$id/results" >"$dir/t"
t=$(cat "$dir/t")
rsize=$(wc -c <"$dir/results")
echo "results: $(wc -l <"$dir/results") lines, $rsize bytes: $(mbs "$rsize" "$t")"
t=$(secs cat "$dir/results")
echo "results, cat of the same file: $(mbs "$rsize" "$t")"
