# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The generic image compressed with --compress xz, xz (CRC32 check, LZMA2): the kernel's xz-embedded decoder.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
BUILD_ARGS="--generic --compress xz"
KINDLING_ONLY=1
EXPECT_ROOTDEV=vda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_blk ext4"
# the image booted really is one xz segment
check() {
	local segs
	segs=$("$BUILD/kindling" ls "$JOB_INITRD" | awk '/^segment +offset/ { t = 1; next } t && NF == 6 { print $3 } /^$/ { t = 0 }')
	[ "$segs" = xz ] || echo "kindling ls shows segments '$segs', not one xz"
}
