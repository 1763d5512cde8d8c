#!/bin/sh
# Total the PASS/FAIL lines of every suite log under DIR; non-zero on any FAIL.
dir=${1:-build/results}
p=$(cat "$dir"/*.log 2>/dev/null | grep -c '^PASS')
f=$(cat "$dir"/*.log 2>/dev/null | grep -c '^FAIL')
if [ "$f" -gt 0 ]; then
	echo "failures:"
	cat "$dir"/*.log | grep '^FAIL' | sed 's/^/  /'
fi
echo "check: $p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
