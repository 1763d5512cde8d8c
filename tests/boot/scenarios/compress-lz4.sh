# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The generic image compressed with --compress lz4, lz4 legacy frame (8 MiB blocks): the kernel's unlz4.
BUS=ahci FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
BUILD_ARGS="--generic --compress lz4"
KINDLING_ONLY=1
EXPECT_ROOTDEV=sda
EXPECT_OPTS=ro
EXPECT_MODULES="ahci sd_mod ext4"
# the image booted really is one lz4 segment
check() {
	local segs
	segs=$("$BUILD/kindling" ls "$JOB_INITRD" | awk '/^segment +offset/ { t = 1; next } t && NF == 6 { print $3 } /^$/ { t = 0 }')
	[ "$segs" = lz4 ] || echo "kindling ls shows segments '$segs', not one lz4"
}
