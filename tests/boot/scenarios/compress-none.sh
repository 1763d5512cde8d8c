# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The generic image compressed with --compress none, no compression: the kernel unpacks the cpio as it is.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
BUILD_ARGS="--generic --compress none"
KINDLING_ONLY=1
EXPECT_ROOTDEV=vda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_blk ext4"
# the image booted really is one none segment
check() {
	local segs
	segs=$("$BUILD/kindling" ls "$JOB_INITRD" | awk '/^segment +offset/ { t = 1; next } t && NF == 6 { print $3 } /^$/ { t = 0 }')
	[ "$segs" = cpio ] || echo "kindling ls shows segments '$segs', not one cpio"
}
