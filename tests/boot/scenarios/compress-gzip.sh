# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The generic image compressed with --compress gzip, gzip: the kernel's inflate.
BUS=virtio-scsi FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
BUILD_ARGS="--generic --compress gzip"
KINDLING_ONLY=1
EXPECT_ROOTDEV=sda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_scsi sd_mod ext4"
# the image booted really is one gzip segment
check() {
	local segs
	segs=$("$BUILD/kindling" ls "$JOB_INITRD" | awk '/^segment +offset/ { t = 1; next } t && NF == 6 { print $3 } /^$/ { t = 0 }')
	[ "$segs" = gzip ] || echo "kindling ls shows segments '$segs', not one gzip"
}
