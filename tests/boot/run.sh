#!/bin/bash
# QEMU boot scenarios for every installed Debian kernel.  One line each:
#   PASS boot KVER SCENARIO (N.NN s initrd stage)
#   FAIL boot KVER SCENARIO: reason        (then the console log's last lines)
# and a non-zero exit when any failed.
#
# Usage: tests/boot/run.sh [PATTERN...]   (shell patterns on scenario names,
#                                          e.g. 'nvme-*' '*.min'; default all)
# Environment:
#   BUILD          where kindling is (default build); images: $BUILD/kindling
#                  build --init build/init
#   INITRD         kindling (default) or initramfs-tools: boot Debian's own
#                  /boot/initrd.img-KVER instead (checks the disks, buses and
#                  marker; scenarios with KINDLING_ONLY=1 and .min are skipped)
#   BOOT_KERNELS   shell pattern on kernel releases (default: all installed)
#   BOOT_JOBS      QEMUs in parallel (default 2)
#   BOOT_SCENARIO_DIR  where the scenario files are (default tests/boot/scenarios)
#   BOOT_SCENARIOS like the arguments (both passes of make check boot all)
#
# A scenario is tests/boot/scenarios/NAME.sh, sourced by bash, setting:
#   BUS            virtio-blk virtio-scsi ahci nvme usb-xhci ide (lib.sh)
#   FSTYPE TABLE   the root disk (disk.sh; identities KB_* in lib.sh)
#   DISK_VARS      more VAR=VALUE for disk.sh (optional)
#   CMDLINE        kernel arguments after KERNEL_ARGS
#   KERNEL_ARGS    default "console=ttyS0 panic=-1 printk.time=1" (KB_KERNEL_ARGS)
#   BUILD_ARGS     kindling build arguments (default --generic)
#   MIN_MODULES    also run NAME.min with an image of only --add these
#   KINDLING_ONLY  1: skip with INITRD=initramfs-tools
#   ONLY_KERNELS   shell pattern: run only for these kernel releases
#   IMAGE          boot this initrd instead of building one
# Scenario files are sourced with KVER set to the kernel release.
#   TIMEOUT        seconds before QEMU is killed (default 120)
#   UNTIL          ERE: stop QEMU 2 s after a console line matches it
#   SEND           array of ERE TEXT pairs typed on the serial console
#   EXPECT_MARKER  1 (default): the marker must run and report; 0: it must not
#   EXPECT_ARGV0 EXPECT_FSTYPE EXPECT_ROOTDEV EXPECT_OPTS EXPECT_MODULES
#   EXPECT_NO_MODULES EXPECT_PARAMS (mod.param=value) EXPECT_PREMOUNTED
#   EXPECT_LEFTOVERS EXPECT_KMSG (EREs, one a line)  -- see check.sh
#   EXPECT_DEVICE_MODULES  modules the main (generic) image must also load
#   EXPECT_LOG EXPECT_NO_LOG  EREs, one a line, on the whole console log
#   ROOT_TIMEOUT   with EXPECT_MARKER=0: the diagnostics must come within
#                  this many seconds (+10 s) of "Run /init"
#   prepare()      optional function run before the image is built, with
#                  KVER set and a fresh work directory $WORK (for hooks,
#                  configs); it may change BUILD_ARGS
#   cleanup()      optional function run once the image is built (or failed),
#                  to undo what prepare() did outside $WORK
#   check()        optional function: more checks, given the log path;
#                  prints a reason and returns 1 on failure
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/boot/lib.sh
. tests/boot/check.sh

BUILD=${BUILD:-build}
INITRD=${INITRD:-kindling}
JOBS=${BOOT_JOBS:-2}
case $BUILD in
build) pass= ;;
*) pass=$(basename "$BUILD") ;;
esac
KB_LOGS=$KB_LOGS${pass:+/$pass}
[ "$INITRD" = kindling ] || KB_LOGS=$KB_LOGS/$INITRD
work=build/boot-work/${pass:-plain}-$INITRD
patterns=${*:-${BOOT_SCENARIOS:-}}

# One run at a time: runs share the logs, and parallel QEMUs skew timings.
mkdir -p build/boot-work
exec {lock}>build/boot-work/.lock
if ! flock -n "$lock"; then
	echo "boot: another tests/boot/run.sh is running; waiting for it to end" >&2
	flock "$lock"
fi
rm -rf "$work"
mkdir -p "$work/jobs" "$KB_LOGS"

wanted() {
	local p
	[ -z "$patterns" ] && return 0
	for p in $patterns; do
		# shellcheck disable=SC2053
		[[ $1 == $p ]] && return 0
	done
	return 1
}

# The scenario's variables, reset to their defaults, then its file.
load_scenario() {
	BUS=virtio-blk FSTYPE=ext4 TABLE=none DISK_VARS='' CMDLINE='' BUILD_ARGS=--generic
	KERNEL_ARGS=$KB_KERNEL_ARGS MIN_MODULES='' KINDLING_ONLY=0 ONLY_KERNELS='*' IMAGE=''
	TIMEOUT=120 UNTIL='' SEND=() EXPECT_MARKER=1
	EXPECT_ARGV0=/sbin/init EXPECT_FSTYPE='' EXPECT_ROOTDEV='' EXPECT_OPTS='' EXPECT_MODULES=''
	EXPECT_NO_MODULES='' EXPECT_PARAMS='' EXPECT_LEFTOVERS='' EXPECT_KMSG='' EXPECT_DEVICE_MODULES=''
	EXPECT_LOG='' EXPECT_NO_LOG='' ROOT_TIMEOUT=''
	EXPECT_PREMOUNTED=dev,proc,sys,run
	unset -f prepare check cleanup
	# shellcheck disable=SC1090
	. "$1"
	# What proves kindling's init ran and cleaned up: its own line in the
	# kernel log (init/switchroot.c).
	if [ "$INITRD" = kindling ]; then
		EXPECT_KMSG=${EXPECT_KMSG:-kindling: freed initramfs}
	fi
}

# image KVER ARGS...: the kindling image built with these arguments, once per
# run (cached by a hash of them).  Prints its path; on failure prints the
# reason and returns 1.
image() {
	local kver=$1 key img log t0 t1
	shift
	key=$(printf '%s\n' "$kver" "$@" | sha256sum | cut -c1-12)
	img=$work/$kver/img-$key.img
	log=$work/$kver/img-$key.log
	if [ -f "$img.err" ]; then
		cat "$img.err"
		return 1
	fi
	if [ ! -f "$img" ]; then
		mkdir -p "$work/$kver"
		if [ ! -x "$BUILD/kindling" ]; then
			echo "no $BUILD/kindling (run make)" | tee "$img.err"
			return 1
		fi
		if [ ! -x build/init ]; then
			echo "no build/init (run make)" | tee "$img.err"
			return 1
		fi
		t0=$(date +%s%N)
		if ! "$BUILD/kindling" build -k "$kver" -o "$img" --init build/init "$@" >"$log" 2>&1 ||
		   [ ! -s "$img" ]; then
			{ echo "kindling build -k $kver $* failed:"
			  tail -n 5 "$log" | sed 's/^/  | /'; } | tee "$img.err"
			rm -f "$img"
			return 1
		fi
		t1=$(date +%s%N)
		echo "kindling build -k $kver $*: $(((t1 - t0) / 1000000)) ms, $(stat -c %s "$img") bytes" \
			>>"$work/builds.txt"
	fi
	echo "$img"
}

# prepare_job N KVER SCENARIO-FILE VARIANT: make the disk and the image,
# write the job's variables to $work/jobs/N.
prepare_job() {
	local n=$1 kver=$2 file=$3 variant=$4 name disk initrd err='' m
	local -a args
	name=$(basename "$file" .sh)${variant:+.$variant}
	KVER=$kver
	load_scenario "$file"
	WORK=$work/$kver/$name
	mkdir -p "$WORK"
	if declare -F prepare >/dev/null && ! prepare >"$WORK/prepare.log" 2>&1; then
		err="prepare() failed: $(tail -n 3 "$WORK/prepare.log" | tr '\n' ' ')"
	fi
	if [ -z "$err" ]; then
		# shellcheck disable=SC2086
		disk=$(kb_disk "$FSTYPE" "$TABLE" $DISK_VARS 2>&1) || err="cannot make the disk: $disk"
	fi
	if [ -z "$err" ]; then
		if [ "$INITRD" = initramfs-tools ]; then
			initrd=/boot/initrd.img-$kver
		elif [ -n "$IMAGE" ]; then
			initrd=$IMAGE
		elif [ "$variant" = min ]; then
			args=()
			for m in $MIN_MODULES; do args+=(--add "$m"); done
			initrd=$(image "$kver" "${args[@]}") || err=$initrd
		else
			# shellcheck disable=SC2086
			initrd=$(image "$kver" $BUILD_ARGS) || err=$initrd
		fi
	fi
	if declare -F cleanup >/dev/null; then
		cleanup >>"$WORK/prepare.log" 2>&1 || err=${err:-cleanup() failed}
	fi
	{
		printf 'JOB_KVER=%q JOB_FILE=%q JOB_VARIANT=%q JOB_NAME=%q\n' "$kver" "$file" "$variant" "$name"
		printf 'JOB_DISK=%q JOB_INITRD=%q JOB_ERROR=%q WORK=%q\n' "${disk:-}" "${initrd:-}" "$err" "$WORK"
	} >"$work/jobs/$n"
}

# run_job JOBFILE: boot, check, print the one result line (plus log tail).
run_job() {
	local status reason='' t log
	# shellcheck disable=SC1090
	. "$1"
	KVER=$JOB_KVER
	load_scenario "$JOB_FILE"
	local head="boot $JOB_KVER $JOB_NAME"
	if [ -n "$JOB_ERROR" ]; then
		printf 'FAIL %s: %s\n' "$head" "$JOB_ERROR"
		return
	fi
	KB_SEND=("${SEND[@]}")
	KB_KERNEL_ARGS=$KERNEL_ARGS KB_TIMEOUT=$TIMEOUT KB_UNTIL=$UNTIL kb_boot "$JOB_KVER/$JOB_NAME" "$JOB_KVER" "$JOB_INITRD" \
		"$JOB_DISK" "$BUS" "$CMDLINE" 2>"$WORK/boot.err"
	status=$?
	log=$KB_LOG
	if [ ! -s "$log" ]; then
		printf 'FAIL %s: cannot boot: %s\n' "$head" "$(tr '\n' ' ' <"$WORK/boot.err")"
		return
	fi
	[ "$JOB_VARIANT" = min ] && EXPECT_DEVICE_MODULES=
	EXPECT_MODULES="$EXPECT_MODULES $EXPECT_DEVICE_MODULES"
	if [ "$status" -eq 124 ] && [ "$EXPECT_MARKER" = 1 ] && ! kb_marker_done "$log"; then
		reason="no power-off within ${TIMEOUT} s"
		check_marker "$log" >/dev/null || reason="$reason: $(check_marker "$log")"
	elif [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ "$status" -ne 125 ]; then
		reason="QEMU failed (status $status)"
	fi
	[ -n "$reason" ] || reason=$(check_common "$log") || true
	if [ -z "$reason" ] && [ "$EXPECT_MARKER" = 1 ]; then
		reason=$(check_marker "$log") && reason=$(check_log "$log")
	elif [ -z "$reason" ]; then
		if tr -d '\r' <"$log" | grep -q 'KINDLING-MARKER '; then
			reason="the real root's init ran but must not have"
		elif [ "$status" -eq 124 ]; then
			reason="QEMU still running after ${TIMEOUT} s; $(check_log "$log")"
		else
			reason=$(check_log "$log")
		fi
	fi
	if [ -z "$reason" ] && declare -F check >/dev/null; then
		reason=$(check "$log")
	fi
	if [ -n "$reason" ]; then
		printf 'FAIL %s: %s (log %s)\n%s\n' "$head" "$reason" "$log" "$(kb_tail "$log" 12)"
		return
	fi
	if [ "$EXPECT_MARKER" = 1 ]; then
		t=$(kb_initrd_stage "$log") || t="?"
		printf 'PASS %s (%s s initrd stage)\n' "$head" "$t"
	else
		t=$(diag_time "$log")
		if [ -n "$ROOT_TIMEOUT" ] && [ -n "$t" ] &&
		   awk -v t="$t" -v m="$ROOT_TIMEOUT" 'BEGIN { exit !(t > m + 10) }'; then
			printf 'FAIL %s: diagnostics came %s s after "Run /init", timeout was %s s (log %s)\n' \
				"$head" "$t" "$ROOT_TIMEOUT" "$log"
			return
		fi
		printf 'PASS %s (%s s to diagnostics)\n' "$head" "${t:-?}"
	fi
}

# Seconds from "Run /init" to the last EXPECT_LOG line's first match.
diag_time() {
	local t0 t1 re
	re=$(tail -n 1 <<<"$EXPECT_LOG")
	t0=$(kb_log_time "$1" 'Run /init as init process')
	t1=$(kb_log_time "$1" "$re")
	[ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# Phase 1: disks and images, one at a time (the builds are quick).
kernels=$(kb_kernels)
[ -n "$kernels" ] || { echo "FAIL boot: no Debian kernel (/boot/vmlinuz-* with /lib/modules/*/modules.dep)"; exit 1; }
kb_marker >/dev/null || { echo "FAIL boot: cannot build the marker init (tests/boot/marker-init.c)"; exit 1; }
n=0
for kver in $kernels; do
	# shellcheck disable=SC2053
	[[ $kver == ${BOOT_KERNELS:-*} ]] || continue
	for file in "${BOOT_SCENARIO_DIR:-tests/boot/scenarios}"/*.sh; do
		for variant in "" min; do
			name=$(basename "$file" .sh)${variant:+.$variant}
			wanted "$name" || continue
			(
				# shellcheck disable=SC2034 # the scenario may use it
				KVER=$kver
				load_scenario "$file"
				[ -z "$variant" ] || { [ -n "$MIN_MODULES" ] && [ "$INITRD" = kindling ]; } || exit 3
				[ "$INITRD" = kindling ] || [ "$KINDLING_ONLY" != 1 ] || exit 3
				# shellcheck disable=SC2053
				[[ $kver == $ONLY_KERNELS ]] || exit 3
				exit 0
			) || continue
			n=$((n + 1))
			(prepare_job "$(printf '%03d' $n)" "$kver" "$file" "$variant")
		done
	done
done
[ "$n" -gt 0 ] || { echo "FAIL boot: no scenario matches '$patterns'"; exit 1; }

# Phase 2: the boots, JOBS at a time; each job prints its lines at its end.
for job in "$work"/jobs/*; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	(out=$(run_job "$job"); printf '%s\n' "$out" | tee "$job.result") &
done
wait
cat "$work"/jobs/*.result | grep -q '^FAIL' && exit 1
exit 0
