#!/bin/bash
# bench section "compress": the generic image in each --compress, for each
# installed Debian kernel series (6.1 .ko, 6.12 .ko.xz): image size, build
# time (median of BENCH_BUILDS builds, the whole `kindling build`), and
# decompression time, what the kernel pays at boot for unpacking (median of
# BENCH_DECODES runs of the system decompressor, zstd/xz/gzip/lz4 -dc to
# /dev/null; none: cat), each with its ratio against zstd, the default.
# Prints a Markdown table per kernel.
set -eu
cd "$(dirname "$0")/.."
. tests/boot/lib.sh
BUILD=${BUILD:-build}
BUILDS=${BENCH_BUILDS:-3}
DECODES=${BENCH_DECODES:-5}
out=build/bench/compress
mkdir -p "$out"
codecs="zstd xz gzip lz4 none"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f MB", a / 1e6 }'; }

decompress() {
	case $1 in
	zstd) zstd -q -dc "$2" ;;
	xz) xz -dc "$2" ;;
	gzip) gzip -dc "$2" ;;
	lz4) lz4 -q -dc "$2" ;;
	none) cat "$2" ;;
	esac >/dev/null
}

for series in '6\.1\.' '6\.12\.'; do
	kver=$(ls /lib/modules | grep -E "^$series" | sort -V | tail -1)
	[ -n "$kver" ] || continue
	declare -A size build dec
	for c in $codecs; do
		img=$out/$kver.$c
		t=()
		for _ in $(seq "$BUILDS"); do
			a=$(now)
			"$BUILD/kindling" build -q -k "$kver" --generic --compress "$c" --force \
				-o "$img" --init build/init
			t+=("$(secs "$a" "$(now)")")
		done
		build[$c]=$(kb_median "${t[@]}")
		size[$c]=$(stat -c %s "$img")
		t=()
		for _ in $(seq "$DECODES"); do
			a=$(now)
			decompress "$c" "$img"
			t+=("$(secs "$a" "$(now)")")
		done
		dec[$c]=$(kb_median "${t[@]}")
	done
	echo "### Compression of the generic image ($kver, $(nproc) CPUs)"
	echo
	echo "| --compress | size | size / zstd | build (median of $BUILDS) | build / zstd | decompress (median of $DECODES) | decompress / zstd |"
	echo "|---|---|---|---|---|---|---|"
	for c in $codecs; do
		echo "| $c | $(mb "${size[$c]}") | $(r "${size[$c]}" "${size[zstd]}")x | ${build[$c]} s | $(r "${build[$c]}" "${build[zstd]}")x | ${dec[$c]} s | $(r "${dec[$c]}" "${dec[zstd]}")x |"
	done
	echo
	unset size build dec
done
