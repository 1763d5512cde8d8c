#!/bin/bash
# Run kindling's test suites against the binaries in $BUILD (build, or
# build/asan for the sanitizer pass).  Every test prints one line starting
# with PASS or FAIL; the lines also go to build/results/<pass>-<suite>.log,
# which tests/summary.sh totals.  Usage: tests/run-suite.sh [SUITE...]
# Suites: unit, valgrind (plain build only), layout (builder/'s folders use
# only the folders below them), oracle, boot, distro (plain build only: the
# .deb in a Debian chroot, tests/distro/run.sh).  Default: all.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
case "$BUILD" in *asan*) pass=asan ;; *) pass=plain ;; esac
results=build/results
mkdir -p "$results"
suites=${*:-unit valgrind layout oracle boot distro}
rc=0

run_unit() {
	local t out rc
	for t in "$BUILD"/tests/builder_* "$BUILD"/tests/init_* "$BUILD"/tests/common_*; do
		[ -x "$t" ] || continue
		out=$(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$t" 2>&1)
		rc=$?
		# a skipped test (a kernel or a privilege missing) is no pass
		if [ $rc -eq 0 ] && grep -q '^\[  SKIPPED \]' <<<"$out"; then
			echo "FAIL unit $(basename "$t"): skipped tests (install what they need:" \
				"scripts/deps.sh check; run as root):"
			grep '^\[  SKIPPED \]' <<<"$out" | head -10 | sed 's/^/  /'
		elif [ $rc -eq 0 ]; then
			echo "PASS unit $(basename "$t") ($(grep -c '^\[       OK \]' <<<"$out") tests)"
		else
			echo "FAIL unit $(basename "$t"):"
			grep -E 'FAIL|ERROR|error|Sanitizer|leak' <<<"$out" | head -20 | sed 's/^/  /'
		fi
	done
}

run_valgrind() {
	local t kver vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
	[ "$pass" = plain ] || return 0
	for t in "$BUILD"/tests/builder_* "$BUILD"/tests/init_* "$BUILD"/tests/common_*; do
		[ -x "$t" ] || continue
		if $vg "$t" >/dev/null 2>"$results/vg.err"; then
			echo "PASS valgrind $(basename "$t")"
		else
			echo "FAIL valgrind $(basename "$t"):"; head -20 "$results/vg.err" | sed 's/^/  /'
		fi
	done
	for kver in $(ls /lib/modules); do
		[ -f "/lib/modules/$kver/modules.dep" ] || continue
		if $vg "$BUILD/kindling" deps -k "$kver" -C tests/oracle/modprobe.d ext4 btrfs \
			usb_storage mydisk crypto-crc32c >/dev/null 2>"$results/vg.err"; then
			echo "PASS valgrind kindling deps $kver"
		else
			echo "FAIL valgrind kindling deps $kver:"; grep -v warning "$results/vg.err" | head -20
		fi
	done
}

# Each script prints its own PASS/FAIL lines; a non-zero exit without a
# FAIL line (a crash, a missing tool) is a failure of its own.
run_scripts() {
	local s rc out
	for s in "$@"; do
		[ -x "$s" ] || continue
		out=$(mktemp)
		"$s" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$out"; then
			echo "FAIL $(basename "$s") exited with status $rc"
		fi
		rm -f "$out"
	done
}

for suite in $suites; do
	log="$results/$pass-$suite.log"
	case $suite in
	unit) run_unit ;;
	valgrind) run_valgrind ;;
	layout) run_scripts tests/layout/run.sh ;;
	oracle) run_scripts tests/oracle/*.sh ;;
	boot) run_scripts tests/boot/run.sh ;;
	distro) if [ "$pass" = plain ]; then run_scripts tests/distro/run.sh; fi ;;
	*) echo "FAIL unknown suite '$suite'" ;;
	esac 2>&1 | tee "$log"
	grep -q '^FAIL' "$log" && rc=1
done
exit $rc
