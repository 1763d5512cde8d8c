#!/bin/bash
# Run the image reader's fuzz target: tests/fuzz/run.sh BINARY SECONDS.
# The seeds in tests/fuzz/corpus/ are read, new inputs go to build/fuzz/corpus
# (kept between runs), crashes to build/fuzz/crash-*.  Prints one PASS/FAIL
# line with the number of executions.
set -u
bin=$1
secs=${2:-600}
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz/corpus
log=build/fuzz/fuzz_imgread.log
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
	-dict=tests/fuzz/imgread.dict \
	-artifact_prefix=build/fuzz/ build/fuzz/corpus tests/fuzz/corpus >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ $rc -eq 0 ]; then
	echo "PASS fuzz imgread: ${execs:-?} executions in $secs s, no crash" \
		"(corpus $(ls build/fuzz/corpus | wc -l) inputs)"
	exit 0
fi
echo "FAIL fuzz imgread: exit $rc after ${execs:-?} executions; see $log:"
grep -m1 -A12 -E '==ERROR|runtime error|deadly signal|out-of-memory|timeout' "$log" | sed 's/^/  /'
ls build/fuzz/crash-* build/fuzz/oom-* build/fuzz/timeout-* 2>/dev/null | sed 's/^/  /'
exit 1
