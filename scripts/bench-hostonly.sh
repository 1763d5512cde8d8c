#!/bin/bash
# bench section "hostonly": kindling --host-only next to the host-only modes
# of its peers, for the same kernel (Debian's 6.1 series), in one run:
#   - build time (median of BENCH_RUNS, default 5) and image size of
#     kindling build --host-only, tiny-initramfs (mktirfs, automatic
#     modules), initramfs-tools MODULES=dep (mkinitramfs -d CONFDIR) and
#     dracut --hostonly;
#   - the initrd stage in QEMU (kernel "Run /init" to the real root's init,
#     median of BENCH_BOOTS boots, default 3, virtio-blk ext4 root=UUID) of
#     kindling's image and tiny-initramfs'.  dracut's image is not booted:
#     it is checked for virtio_blk, which dracut leaves out here (the running
#     kernel has it built in), so it cannot find its root.
# tiny-initramfs and dracut are Debian's packages, apt-get downloaded and
# unpacked into build/bench/peers (never installed: they conflict with
# initramfs-tools); initramfs-tools is the installed one.  Prints a Markdown
# table, with ratios and whether each target is met:
#   build >= 10x faster than mktirfs, image no larger than tiny-initramfs's,
#   initrd stage no slower than tiny-initramfs's.
set -eu
cd "$(dirname "$0")/.."
. tests/boot/lib.sh
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
BOOTS=${BENCH_BOOTS:-3}
out=build/bench/hostonly
peers=$PWD/build/bench/peers
mkdir -p "$out" "$peers"
kver=$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -1)
[ -n "$kver" ] || { echo "bench: no 6.1 kernel installed" >&2; exit 1; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
say() { echo "bench hostonly: $*" >&2; }

# unpack PKG...: Debian's packages into $peers/root (cached)
unpack() {
	local p
	for p in "$@"; do
		[ -f "$peers/$p.unpacked" ] && continue
		(cd "$peers" && rm -f "${p}"_*.deb &&
			{ apt-get download "$p" >/dev/null 2>&1 ||
			  { apt-get update -q >/dev/null 2>&1 && apt-get download "$p" >/dev/null 2>&1; }; } &&
			dpkg -x "${p}"_*.deb root && touch "$p.unpacked") ||
			{ say "cannot download and unpack Debian's $p"; return 1; }
	done
}
unpack tiny-initramfs tiny-initramfs-core dracut dracut-core

# mktirfs with its paths moved into the unpacked tree; no configuration file
tiny_lib=$peers/root/usr/lib/x86_64-linux-gnu/tiny-initramfs
sed -e "s@^CFGFILE=.*@CFGFILE=$peers/no-tiny-initramfs.conf@" \
	-e "s@^PKGLIBEXECDIR=.*@PKGLIBEXECDIR=$tiny_lib@" \
	-e "s@^\. /usr/share/tiny-initramfs/functions@. $peers/root/usr/share/tiny-initramfs/functions@" \
	"$peers/root/usr/sbin/mktirfs" >"$peers/mktirfs"
grep -q "^PKGLIBEXECDIR=$tiny_lib" "$peers/mktirfs" ||
	{ say "mktirfs: its paths could not be rewritten"; exit 1; }

# initramfs-tools with MODULES=dep, from a copy of /etc/initramfs-tools
conf=$out/itools-conf
rm -rf "$conf"
cp -a /etc/initramfs-tools "$conf"
sed -i 's/^MODULES=.*/MODULES=dep/; s/^COMPRESS=.*/COMPRESS=zstd/' "$conf/initramfs.conf"

dracut_run() {
	dracutbasedir=$peers/root/usr/lib/dracut bash "$peers/root/usr/bin/dracut" \
		--conf "$peers/root/etc/dracut.conf" --confdir "$peers/root/etc/dracut.conf.d" \
		--hostonly --force --kver "$kver" "$1" >"$out/dracut.log" 2>&1
}

# time_runs NAME CMD...: RUNS timed runs; the times into T_NAME (an array)
time_runs() {
	local name=$1 i a
	shift
	local -a t=()
	for i in $(seq "$RUNS"); do
		a=$(now)
		"$@" || { say "$name failed (run $i): $*"; return 1; }
		t+=("$(secs "$a" "$(now)")")
	done
	eval "T_$name=(\"\${t[@]}\")"
}

time_runs kd "$BUILD/kindling" build -k "$kver" --host-only --force -q \
	-o "$out/kindling.img" --init build/init
# zstd's default level 3 is tuned for big generic images; a host-only image
# is small enough that level 9 costs little time: measured too
time_runs kd9 "$BUILD/kindling" build -k "$kver" --host-only --level 9 --force -q \
	-o "$out/kindling-9.img" --init build/init
time_runs tiny sh "$peers/mktirfs" -o "$out/tiny.img" "$kver"
time_runs it mkinitramfs -d "$conf" -o "$out/itools.img" "$kver"
time_runs dr dracut_run "$out/dracut.img"

b_kd=$(kb_median "${T_kd[@]}")
b_kd9=$(kb_median "${T_kd9[@]}")
b_tiny=$(kb_median "${T_tiny[@]}")
b_it=$(kb_median "${T_it[@]}")
b_dr=$(kb_median "${T_dr[@]}")
s_kd=$(stat -c %s "$out/kindling.img")
s_kd9=$(stat -c %s "$out/kindling-9.img")
s_tiny=$(stat -c %s "$out/tiny.img")
s_it=$(stat -c %s "$out/itools.img")
s_dr=$(stat -c %s "$out/dracut.img")

# does each image hold the root disk's driver?
# (kindling ls prints "MODE SIZE PATH"; tiny-initramfs keeps modules at the top)
has_virtio_blk() { "$BUILD/kindling" ls "$1" 2>/dev/null | grep -qE '[ /]virtio_blk\.ko(\.[a-z]+)?$'; }
vb() {
	if ! "$BUILD/kindling" ls "$1" >/dev/null 2>&1; then echo "(unreadable)"
	elif has_virtio_blk "$1"; then echo yes; else echo "**no**"; fi
}

st_kd=() st_kd9=() st_tiny=()
for i in $(seq "$BOOTS"); do
	st_kd+=("$(kb_measure "$kver" "$out/kindling.img" "bench-hostonly-kindling-$i")")
	st_kd9+=("$(kb_measure "$kver" "$out/kindling-9.img" "bench-hostonly-kindling9-$i")")
	st_tiny+=("$(kb_measure "$kver" "$out/tiny.img" "bench-hostonly-tiny-$i")")
done
m_kd=$(kb_median "${st_kd[@]}")
m_kd9=$(kb_median "${st_kd9[@]}")
m_tiny=$(kb_median "${st_tiny[@]}")

r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
kb() { awk -v a="$1" 'BEGIN { printf "%.0f KB", a / 1000 }'; }
# met EXPR: EXPR (numbers and operators only) evaluated by awk
met() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "**not met**"; fi; }
dr_boot="not booted: no virtio_blk"
has_virtio_blk "$out/dracut.img" && dr_boot="not booted (has virtio_blk)"

echo "### Host-only image ($kver), kindling vs tiny-initramfs, initramfs-tools MODULES=dep, dracut --hostonly"
echo
echo "| what | kindling --host-only | kindling --host-only --level 9 | tiny-initramfs | initramfs-tools dep | dracut --hostonly |"
echo "|---|---|---|---|---|---|"
echo "| build time (median of $RUNS) | ${b_kd} s | ${b_kd9} s | ${b_tiny} s | ${b_it} s | ${b_dr} s |"
echo "| build: times kindling's (default level) | 1 | $(r "$b_kd9" "$b_kd")x | $(r "$b_tiny" "$b_kd")x | $(r "$b_it" "$b_kd")x | $(r "$b_dr" "$b_kd")x |"
echo "| image size | $(kb "$s_kd") (zstd -6, the default under 16 MiB) | $(kb "$s_kd9") (zstd -9) | $(kb "$s_tiny") (gzip -9) | $(kb "$s_it") (zstd) | $(kb "$s_dr") (gzip) |"
echo "| holds virtio_blk (the root disk's driver) | $(vb "$out/kindling.img") | $(vb "$out/kindling-9.img") | $(vb "$out/tiny.img") | $(vb "$out/itools.img") | $(vb "$out/dracut.img") |"
echo "| initrd stage (median of $BOOTS) | ${m_kd} s | ${m_kd9} s | ${m_tiny} s | not measured | $dr_boot |"
echo
echo "| target (vs tiny-initramfs) | kindling --host-only | | with --level 9 | |"
echo "|---|---|---|---|---|"
echo "| build >= 10x faster than mktirfs | $(r "$b_tiny" "$b_kd")x | $(met "$b_tiny >= 10 * $b_kd") | $(r "$b_tiny" "$b_kd9")x | $(met "$b_tiny >= 10 * $b_kd9") |"
echo "| image no larger | $(r "$s_kd" "$s_tiny")x | $(met "$s_kd <= $s_tiny") | $(r "$s_kd9" "$s_tiny")x | $(met "$s_kd9 <= $s_tiny") |"
echo "| initrd stage no slower | $(r "$m_kd" "$m_tiny")x | $(met "$m_kd <= $m_tiny") | $(r "$m_kd9" "$m_tiny")x | $(met "$m_kd9 <= $m_tiny") |"
echo
echo "build times, kindling: ${T_kd[*]}; --level 9: ${T_kd9[*]}; mktirfs: ${T_tiny[*]}; mkinitramfs: ${T_it[*]}; dracut: ${T_dr[*]}"
echo "initrd stages, kindling: ${st_kd[*]}; --level 9: ${st_kd9[*]}; tiny-initramfs: ${st_tiny[*]}"
echo
