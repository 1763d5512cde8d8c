#!/bin/bash
# make demo: a kindling generic image for the newest installed kernel, booted
# in QEMU (TCG) from a virtio-blk ext4 root whose /sbin/init reports what it
# sees.  Prints the real init's first line and the initrd stage (kernel's
# "Run /init" to that line).  Usage: scripts/demo.sh  (env: BUILD, INITRD=PATH
# to boot another image instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/boot/lib.sh
BUILD=${BUILD:-build}

kver=$(kb_kernels | tail -n 1)
[ -n "$kver" ] || { echo "demo: no kernel with /boot/vmlinuz-KVER and /lib/modules/KVER/modules.dep" >&2; exit 1; }

img=${INITRD:-}
if [ -z "$img" ]; then
	img=build/demo/initrd-$kver.img
	mkdir -p build/demo
	echo "demo: building a generic image for $kver"
	t0=$(date +%s%N)
	"$BUILD/kindling" build -k "$kver" -o "$img" --generic --init build/init ||
		{ echo "demo: kindling build failed" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "demo: $img, $(stat -c %s "$img") bytes, built in $(((t1 - t0) / 1000000)) ms"
fi

disk=$(kb_disk ext4 none)
echo "demo: booting $kver in QEMU (TCG, virtio-blk, ext4 root=UUID=$KB_FS_UUID_ext4)"
status=0
kb_boot "demo-$kver" "$kver" "$img" "$disk" virtio-blk "root=UUID=$KB_FS_UUID_ext4 ro" || status=$?
line=$(tr -d '\r' <"$KB_LOG" | grep -m1 'KINDLING-MARKER ' || true)
if [ -z "$line" ] || ! t=$(kb_initrd_stage "$KB_LOG"); then
	echo "demo: the real root's init never reported (QEMU status $status, log $KB_LOG):" >&2
	kb_tail "$KB_LOG" 20 >&2
	exit 1
fi
echo "demo: the real root's init printed: $line"
for k in argv0 rootsrc rootfstype rootopts modules; do
	echo "demo:   $k=$(kb_marker_value "$KB_LOG" "$k")"
done
echo "demo: initrd stage (kernel \"Run /init\" to that line): $t s; whole boot ${KB_WALL} s wall (log $KB_LOG)"
