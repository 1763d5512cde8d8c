# shellcheck shell=bash
# A scenario's expectations checked against its serial console log.
# Sourced by tests/boot/run.sh after lib.sh and the scenario file; every
# check_* function prints why it failed and returns 1, or returns 0.

# Is WORD in the comma separated LIST?
in_list() {
	case ",$2," in *",$1,"*) return 0 ;; esac
	return 1
}

# Expectations of every boot: PID 1 never exits, the kernel never panics.
check_common() {
	local log=$1 line
	line=$(tr -d '\r' <"$log" | grep -m1 -E 'Kernel panic|Attempted to kill init|BUG: |Oops: ')
	if [ -n "$line" ]; then
		echo "the kernel panicked or oopsed: '${line#*] }'"
		return 1
	fi
	local re
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		if tr -d '\r' <"$log" | grep -qE -- "$re"; then
			echo "the console shows what must not appear: /$re/"
			return 1
		fi
	done <<<"${EXPECT_NO_LOG:-}"
}

# Every ERE line of EXPECT_LOG must match some console line.
check_log() {
	local log=$1 re
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		if ! tr -d '\r' <"$log" | grep -qE -- "$re"; then
			echo "no console line matches /$re/"
			return 1
		fi
	done <<<"${EXPECT_LOG:-}"
}

# The marker's report against the EXPECT_* variables (see run.sh).
check_marker() {
	local log=$1 v dev m p want got re
	if ! tr -d '\r' <"$log" | grep -q 'KINDLING-MARKER '; then
		echo "the real root's init never ran (no KINDLING-MARKER line)"
		return 1
	fi
	kb_marker_done "$log" || { echo "the marker init did not finish (no 'KINDLING-MARKER done')"; return 1; }

	v=$(kb_marker_value "$log" argv0)
	[ "$v" = "${EXPECT_ARGV0:-/sbin/init}" ] ||
		{ echo "the real init ran as argv0='$v', expected '${EXPECT_ARGV0:-/sbin/init}'"; return 1; }

	v=$(kb_marker_value "$log" rootfstype)
	[ "$v" = "${EXPECT_FSTYPE:-$FSTYPE}" ] ||
		{ echo "root filesystem type is '$v', expected '${EXPECT_FSTYPE:-$FSTYPE}'"; return 1; }

	if [ -n "${EXPECT_ROOTDEV:-}" ]; then
		dev=$(kb_marker_value "$log" rootdev)
		v=$(kb_marker_value "$log" rootsrc)
		[ "$dev" = "$EXPECT_ROOTDEV" ] || [ "${v##*/}" = "$EXPECT_ROOTDEV" ] ||
			{ echo "root is mounted from '$v' (device $dev), expected $EXPECT_ROOTDEV"; return 1; }
	fi

	v=$(kb_marker_value "$log" rootopts)
	for want in ${EXPECT_OPTS:-}; do
		in_list "$want" "$v" || { echo "root mount options '$v' lack '$want'"; return 1; }
	done

	v=$(kb_marker_value "$log" modules)
	for m in ${EXPECT_MODULES:-}; do
		in_list "$m" "$v" || { echo "module $m is not loaded (loaded: ${v:-none})"; return 1; }
	done
	for m in ${EXPECT_NO_MODULES:-}; do
		in_list "$m" "$v" && { echo "module $m is loaded but must not be (loaded: $v)"; return 1; }
	done

	for p in ${EXPECT_PARAMS:-}; do
		want=${p#*=} p=${p%%=*}
		got=$(kb_marker_value "$log" "param\\.$p")
		[ "$got" = "$want" ] || {
			echo "/sys/module/${p%%.*}/parameters/${p#*.} is '${got:-<not reported>}', expected '$want'"
			return 1
		}
	done

	v=$(kb_marker_value "$log" leftovers)
	[ "$v" = "${EXPECT_LEFTOVERS:-}" ] ||
		{ echo "initramfs files show in the real root: $v"; return 1; }

	v=$(kb_marker_value "$log" premounted)
	want=${EXPECT_PREMOUNTED-dev,proc,sys,run}
	[ "$v" = "$want" ] ||
		{ echo "mounts handed to the real init: '$v', expected '$want' (moved by the initramfs)"; return 1; }

	while IFS= read -r re; do
		[ -n "$re" ] || continue
		kb_marker_values "$log" kmsg | grep -qE -- "$re" ||
			{ echo "no kernel log line seen by the real init matches /$re/"; return 1; }
	done <<<"${EXPECT_KMSG:-}"
	return 0
}
