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
