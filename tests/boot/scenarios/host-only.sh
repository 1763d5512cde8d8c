# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# A host-only image (kindling build --host-only) of the build machine as
# captured in tests/fixtures/sysroot/vm-virtio (root /dev/vda, ext4, on
# virtio-blk over virtio-pci), pointed at the test disk's identity: a udev
# link dev/disk/by-uuid/UUID -> vda is added, so detection names the root
# UUID=$KB_FS_UUID_ext4 and the image's default root= is the test disk's.
# The command line has no root=: the default root must boot.  The image holds
# exactly the root chain's modules and their dependencies for each kernel
# (6.1: virtio_pci is a module; 6.12: built in).
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="ro"
EXPECT_ROOTDEV=vda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_blk ext4"
KINDLING_ONLY=1   # initramfs-tools' image is not host-only
prepare() {
	rm -rf "$WORK/sysroot"
	cp -a tests/fixtures/sysroot/vm-virtio "$WORK/sysroot" || return 1
	mkdir -p "$WORK/sysroot/dev/disk/by-uuid" || return 1
	ln -s ../../vda "$WORK/sysroot/dev/disk/by-uuid/$KB_FS_UUID_ext4" || return 1
	BUILD_ARGS="--host-only --sysroot $WORK/sysroot"
}
check() {
	local ls mods want detected
	ls=$("$BUILD/kindling" ls "$JOB_INITRD" 2>&1) || { echo "kindling ls failed: $ls"; return 1; }
	grep -q '^  host-only: *yes$' <<<"$ls" || { echo "the plan is not marked host-only"; return 1; }
	grep -q "^  default root: UUID=$KB_FS_UUID_ext4\$" <<<"$ls" ||
		{ echo "default root is not UUID=$KB_FS_UUID_ext4: $(grep 'default root' <<<"$ls")"; return 1; }
	mods=$(sed -n 's/^ *[0-9][0-9]* \([^ ]*\) \/usr\/lib\/modules\/.*/\1/p' <<<"$ls" | sort | tr '\n' ' ')
	case $KVER in
	6.1.*) want="crc16 crc32c_generic crc32c_intel ext4 jbd2 mbcache virtio virtio_blk virtio_pci virtio_pci_legacy_dev virtio_pci_modern_dev virtio_ring " ;;
	*) want="crc16 crc32c_generic crc32c_intel ext4 jbd2 mbcache virtio_blk " ;;
	esac
	[ "$mods" = "$want" ] || { echo "image modules '$mods', expected '$want'"; return 1; }
	detected=$("$BUILD/kindling" cat "$JOB_INITRD" etc/kindling/detect.txt 2>&1) ||
		{ echo "no etc/kindling/detect.txt in the image: $detected"; return 1; }
	grep -q "^root /dev/vda ext4 UUID=$KB_FS_UUID_ext4\$" <<<"$detected" ||
		{ echo "detect.txt has no root line for the test disk"; return 1; }
	grep -q '^skip /sys/devices/pci0000:00/0000:00:03.0/virtio2: ' <<<"$detected" ||
		{ echo "detect.txt does not report the network card left out"; return 1; }
	return 0
}
