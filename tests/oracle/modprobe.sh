#!/bin/bash
# Oracle: kindling deps/resolve against kmod's modprobe for every module of
# every installed Debian kernel, and for aliases: this machine's modaliases
# plus concrete aliases made from modules.alias patterns.  A second pass uses
# tests/oracle/modprobe.d (options, alias, blacklist, softdep, install).
#
# Normalisation: none on stdout, which must be byte-identical.  On stderr
# only the names reported "not found" are compared, since the wording of
# the messages is each tool's own.  Both tools read /proc/cmdline for
# MOD.param= options (modprobe always does; kindling deps does by default).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
kd="$BUILD/kindling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

kernels() {
	for d in /lib/modules/*/modules.dep; do
		basename "$(dirname "$d")"
	done
}

# compare NAME KVER LISTFILE MODE(deps|resolve) [CONFIG-ARGS...]
compare() {
	local label=$1 kver=$2 list=$3 mode=$4
	shift 4
	local n diffs=0 chunk mrc krc
	n=$(wc -l <"$list")
	rm -f "$work"/chunk.*
	split -l 400 "$list" "$work/chunk."
	for chunk in "$work"/chunk.*; do
		if [ "$mode" = deps ]; then
			modprobe -a -S "$kver" "$@" --show-depends $(cat "$chunk") \
				>"$work/m.out" 2>"$work/m.err"
			mrc=$?
			"$kd" deps -k "$kver" "$@" $(cat "$chunk") >"$work/k.out" 2>"$work/k.err"
			krc=$?
		else
			modprobe -a -S "$kver" "$@" --resolve-alias $(cat "$chunk") \
				>"$work/m.out" 2>"$work/m.err"
			mrc=$?
			"$kd" resolve -k "$kver" "$@" $(cat "$chunk") >"$work/k.out" 2>"$work/k.err"
			krc=$?
		fi
		# exit status: both 0, or both non-zero (some name not found)
		if [ $((mrc == 0)) -ne $((krc == 0)) ] || grep -q 'Sanitizer\|runtime error' "$work/k.err"; then
			echo "  exit status differs in $label ($kver): modprobe $mrc, kindling $krc"
			grep -m5 'Sanitizer\|runtime error\|ERROR' "$work/k.err" | sed 's/^/    /'
			diffs=$((diffs + 1))
			continue
		fi
		sed -n 's/.*Module \(.*\) not found in directory.*/\1/p' "$work/m.err" >"$work/m.nf"
		sed -n 's/.*module \(.*\) not found in directory.*/\1/p' "$work/k.err" >"$work/k.nf"
		if ! cmp -s "$work/m.out" "$work/k.out" || ! cmp -s "$work/m.nf" "$work/k.nf"; then
			diffs=$((diffs + 1))
			if [ $diffs -le 3 ]; then
				echo "  difference in $label ($kver), names: $(head -c 300 "$chunk" | tr '\n' ' ')"
				diff "$work/m.out" "$work/k.out" | head -8 | sed 's/^/    /'
				diff "$work/m.nf" "$work/k.nf" | head -4 | sed 's/^/    nf /'
			fi
		fi
	done
	if [ $diffs -eq 0 ]; then
		echo "PASS oracle $label $kver: $n names compared, no difference"
	else
		echo "FAIL oracle $label $kver: $diffs of $(ls "$work"/chunk.* | wc -l) chunks differ ($n names)"
		fail=1
	fi
}

for kver in $(kernels); do
	md=/lib/modules/$kver
	# every module (by normalised name), plus the built-in ones
	sed 's/:.*//; s|.*/||; s/\.ko.*//; s/-/_/g' "$md/modules.dep" >"$work/mods"
	sed 's|.*/||; s/\.ko.*//' "$md/modules.builtin" >>"$work/mods"
	echo crypto-crc32c >>"$work/mods"
	echo fs-ext4 >>"$work/mods"
	echo no_such_module_xyz >>"$work/mods"
	compare deps "$kver" "$work/mods" deps
	compare deps+modprobe.d "$kver" "$work/mods" deps -C "$here/modprobe.d"

	# aliases: this machine's modaliases, then concrete ones from patterns
	find /sys/devices /sys/bus -name modalias -type f 2>/dev/null | xargs cat 2>/dev/null |
		sort -u >"$work/aliases"
	awk 'NR % 4 == 1 && $2 !~ /\[[!^]/ { print $2 }' "$md/modules.alias" >"$work/pat"
	sed 's/\*//g; s/?/0/g; s/\[\(.\)[^]]*\]/\1/g' "$work/pat" >>"$work/aliases"
	sed 's/\*/9Z/g; s/?/A/g; s/\[[^]]*\(.\)\]/\1/g' "$work/pat" >>"$work/aliases"
	awk '{ print $2 }' "$md/modules.symbols" | awk 'NR % 20 == 1' >>"$work/aliases"
	grep -a -o 'alias=[^[:cntrl:]]*' "$md/modules.builtin.modinfo" 2>/dev/null |
		sed 's/^alias=//; s/\*//g; s/?/0/g' | awk 'NR % 2 == 1' >>"$work/aliases"
	printf '%s\n' mydisk my-fs-test fs-btrfs crypto-sha256 'bad]alias' >>"$work/aliases"
	grep -v '[[:space:]]' "$work/aliases" | awk '!seen[$0]++' >"$work/aliases.u"
	compare resolve "$kver" "$work/aliases.u" resolve
	compare resolve+modprobe.d "$kver" "$work/aliases.u" resolve -C "$here/modprobe.d"
done
exit $fail
