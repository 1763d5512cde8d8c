#!/bin/bash
# bench section "generic": kindling's generic image next to initramfs-tools
# with MODULES=most for the same kernel (Debian's 6.1 series, as measured in
# shared/README.md): build time (median of runs), image size, and the initrd
# stage in QEMU (kernel "Run /init" to the real root's init, median of
# BENCH_BOOTS boots, virtio-blk ext4 root=UUID).  Prints a Markdown table.
set -eu
cd "$(dirname "$0")/.."
. tests/boot/lib.sh
BUILD=${BUILD:-build}
BOOTS=${BENCH_BOOTS:-3}
out=build/bench/generic
mkdir -p "$out"
kver=$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -1)
[ -n "$kver" ] || { echo "bench: no 6.1 kernel installed" >&2; exit 1; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# initramfs-tools with MODULES=most, from a copy of /etc/initramfs-tools
conf=$out/itools-conf
rm -rf "$conf"
cp -a /etc/initramfs-tools "$conf"
sed -i 's/^MODULES=.*/MODULES=most/; s/^COMPRESS=.*/COMPRESS=zstd/' "$conf/initramfs.conf"

t_it=()
for i in 1 2 3; do
	a=$(now)
	mkinitramfs -d "$conf" -o "$out/itools.img" "$kver" 2>/dev/null
	t_it+=("$(secs "$a" "$(now)")")
done
t_kd=()
for i in 1 2 3 4 5; do
	a=$(now)
	"$BUILD/kindling" build -k "$kver" --generic --force -o "$out/kindling.img" --init build/init
	t_kd+=("$(secs "$a" "$(now)")")
done
b_it=$(kb_median "${t_it[@]}")
b_kd=$(kb_median "${t_kd[@]}")
s_it=$(stat -c %s "$out/itools.img")
s_kd=$(stat -c %s "$out/kindling.img")

st_it=() st_kd=()
for i in $(seq "$BOOTS"); do
	st_kd+=("$(kb_measure "$kver" "$out/kindling.img" "bench-kindling-$i")")
	st_it+=("$(kb_measure "$kver" "$out/itools.img" "bench-itools-$i")")
done
m_it=$(kb_median "${st_it[@]}")
m_kd=$(kb_median "${st_kd[@]}")

r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f MB", a / 1e6 }'; }
echo "### Generic image ($kver), kindling vs initramfs-tools MODULES=most"
echo
echo "| what | kindling | initramfs-tools | ratio | target |"
echo "|---|---|---|---|---|"
echo "| build time (median) | ${b_kd} s | ${b_it} s | $(r "$b_it" "$b_kd")x faster | >= 10x faster |"
echo "| image size (zstd) | $(mb "$s_kd") | $(mb "$s_it") | $(r "$s_kd" "$s_it")x | <= 0.7x |"
echo "| initrd stage (median of $BOOTS) | ${m_kd} s | ${m_it} s | $(r "$m_kd" "$m_it")x | <= 0.35x |"
echo
echo "initrd stages, kindling: ${st_kd[*]}; initramfs-tools: ${st_it[*]}"
echo
