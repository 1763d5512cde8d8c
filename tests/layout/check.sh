#!/bin/bash
# The builder's layering: each folder of builder/ may use only the folders
# below it.  Two checks, both against LAYERS below:
#   includes  every '#include "DIR/..."' of builder/DIR2/* names an allowed DIR
#   symbols   every symbol an object of builder/DIR2/ takes from another
#             folder's object is defined in an allowed folder (nm), so there
#             is no call from a lower folder into a higher one and no call
#             cycle between files of different folders
# Usage: tests/layout/check.sh [TREE [OBJDIR]]   (default: . and $BUILD/obj)
# Prints one PASS or FAIL line per check; FAIL lines name the file and what
# it uses.  tests/layout/run.sh runs it on the tree and on a planted breach.
set -u
tree=${1:-.}
obj=${2:-${BUILD:-build}/obj}

# folder: the folders it may use (besides itself and common/)
declare -A LAYERS=(
	[base]=""
	[codec]="base"
	[moddb]="base codec"
	[detect]="base codec moddb"
	[plan]="base codec moddb"
	[inspect]="base codec"
	[verify]="base codec moddb detect inspect"
	[image]="base codec moddb plan"
	[build]="base codec moddb detect plan image"
	[cmd]="base codec moddb detect plan inspect verify image build"
)

allowed() { # allowed FROM TO
	[ "$1" = "$2" ] && return 0
	[[ " ${LAYERS[$1]-} " == *" $2 "* ]]
}

rc=0
bad=$(
	for f in "$tree"/builder/*/*.[ch]; do
		[ -f "$f" ] || continue
		from=$(basename "$(dirname "$f")")
		if [ -z "${LAYERS[$from]+x}" ]; then
			echo "  $f: folder '$from' is not in tests/layout/check.sh's LAYERS"
			continue
		fi
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
			inc=$(sed 's/.*"\(.*\)".*/\1/' <<<"$line")
			case $inc in
			common/*) continue ;;
			*/*) to=${inc%%/*} ;;
			*) echo "  $f:${line%%:*}: include \"$inc\" is not spelled by path (DIR/FILE.h)"; continue ;;
			esac
			if [ -z "${LAYERS[$to]+x}" ]; then
				echo "  $f:${line%%:*}: include \"$inc\": no folder builder/$to"
			elif ! allowed "$from" "$to"; then
				echo "  $f:${line%%:*}: $from/ includes \"$inc\" from a folder above it (may use: ${LAYERS[$from]:-nothing})"
			fi
		done
	done
	for f in "$tree"/builder/*.[ch]; do
		[ "$(basename "$f")" = main.c ] || echo "  $f: a file outside a folder (only main.c may be)"
	done
)
if [ -n "$bad" ]; then
	echo "FAIL layout includes:"
	echo "$bad"
	rc=1
else
	echo "PASS layout includes ($(ls "$tree"/builder/*/*.[ch] | wc -l) files)"
fi

# Symbols: who defines what, then who takes what from whom.
if ! ls "$obj"/builder/*/*.o >/dev/null 2>&1; then
	echo "FAIL layout symbols: no objects under $obj/builder (run make first)"
	exit 1
fi
bad=$(
	declare -A def
	while read -r o sym; do
		def[$sym]=$o
	done < <(for o in "$obj"/builder/*/*.o; do
			nm --defined-only -g "$o" | awk -v o="$o" '{ print o, $3 }'
		done)
	for o in "$obj"/builder/*/*.o; do
		from=$(basename "$(dirname "$o")")
		nm -u "$o" | awk '{ print $2 }' | while read -r sym; do
			d=${def[$sym]-}
			[ -n "$d" ] || continue # libc, libarchive, ...
			to=$(basename "$(dirname "$d")")
			allowed "$from" "$to" ||
				echo "  ${o#"$obj"/}: $from/ calls $sym from ${d#"$obj"/} ($to/ is above it)"
		done
	done
)
if [ -n "$bad" ]; then
	echo "FAIL layout symbols:"
	echo "$bad"
	rc=1
else
	echo "PASS layout symbols ($(ls "$obj"/builder/*/*.o | wc -l) objects)"
fi
exit $rc
