# bench/lib.sh — what the benchmarks share; sourced, not run.

# best OUT IN CMD...: the best of 3 wall-clock seconds of CMD, its
# standard input IN (/dev/null for none), its output to OUT, its standard
# error dropped.
best() {
	_f=$1 _in=$2
	shift 2
	_b=
	for _ in 1 2 3; do
		_s=$(date +%s.%N)
		"$@" <"$_in" >"$_f" 2>/dev/null
		_e=$(date +%s.%N)
		_t=$(echo "$_e - $_s" | bc)
		if [ -z "$_b" ] || [ "$(echo "$_t < $_b" | bc)" = 1 ]; then _b=$_t; fi
	done
	echo "$_b"
}

# ---- transfers against curl (submit-fetch.sh, openai-upload-fetch.sh) ----

# measure OUT CMD...: run CMD with stdout to OUT; "SECONDS PEAK_RSS_KB" in
# the file m.  A failed CMD stops the bench.  Each run starts after a
# sync(1), untimed: bt-mock writes each upload to disk, and a run that
# comes after a gigabyte of dirty pages is throttled by the kernel's
# writeback (seen here: curl's upload of 194 MB took 0.11 s first and
# 0.46 s after six others), so the order of the runs, not the programs,
# decided the ratio.
measure() {
	_out=$1
	shift
	sync
	perl -MTime::HiRes=time -e '
		my ($out, @cmd) = @ARGV;
		open STDOUT, ">", $out or die "$out: $!\n";
		my $t = time;
		my $st = system("/usr/bin/time", "-f", "%M", "-o", "rss", @cmd);
		my $d = time - $t;
		if ($st) { print STDERR "bench: failed ($st): @cmd\n"; exit 1 }
		open my $f, "<", "rss" or die "rss: $!\n";
		my @l = <$f>;
		chomp(my $rss = $l[-1]);
		open my $m, ">", "m" or die "m: $!\n";
		printf $m "%.3f %d\n", $d, $rss;' "$_out" "$@"
}

# best3 OUT CMD...: best time and highest peak RSS of 3 runs, in T and RSS
best3() {
	T= RSS=0
	for _i in 1 2 3; do
		measure "$@"
		read _t _r <m
		if [ -z "$T" ] || perl -e 'exit !($ARGV[0] < $ARGV[1])' "$_t" "$T"; then T=$_t; fi
		[ "$_r" -le "$RSS" ] || RSS=$_r
	done
}

rows=
# row LABEL SECS RSS_KB [VS_SECS TARGET_RATIO TARGET_MB]
row() {
	rows="$rows$(perl -e '
		my ($l, $t, $r, $vs, $tr, $tm) = @ARGV;
		my $mb = $r / 1024;
		my $ratio = defined $vs ? $t / $vs : undef;
		my $v = "";
		if (defined $vs) {
			$v = ($ratio <= $tr && $mb <= $tm) ? "ok" : "MISSED";
			$v .= sprintf(" (targets <= %.1fx, <= %d MB)", $tr, $tm);
		}
		printf "%-30s %8.3f %9.1f %8s   %s\n", $l, $t, $mb,
		       defined $ratio ? sprintf("%.2fx", $ratio) : "-", $v;' "$@")
"
}

# ---- requests per second (send.sh, send-openai.sh) ----

now() { date +%s.%N; }
# run NAME COUNT CMD...: best of 3 (wall seconds, peak RSS in MB)
run() {
	name=$1 count=$2; shift 2
	best= rss=
	for k in 1 2 3; do
		t0=$(now)
		/usr/bin/time -f %M -o rss.txt "$@" >/dev/null 2>run.err || { cat run.err >&2; exit 1; }
		t=$(perl -e "print $(now) - $t0")
		if [ -z "$best" ] || perl -e "exit !($t < $best)"; then best=$t; rss=$(cat rss.txt); fi
		[ "${ONCE:-}" ] && break
	done
	rps=$(perl -e "printf '%.0f', $count / $best")
	printf '%-34s %8.3f %8.1f %10s\n' "$name" "$best" "$(perl -e "print $rss / 1024")" "$rps"
	eval "rps_$3=$rps" 2>/dev/null || true
	last_rps=$rps
}
