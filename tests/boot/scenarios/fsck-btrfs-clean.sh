# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The fsck hook on a btrfs root: btrfs check --readonly checks the device
# before the mount and its result is logged.
BUS=virtio-blk FSTYPE=btrfs TABLE=none
BUILD_ARGS="--generic --hook fsck"
CMDLINE="root=UUID=$KB_FS_UUID_btrfs ro"
EXPECT_LOG="kindling: fsck: running /sbin/btrfs check --readonly /dev/vda
kindling: fsck: btrfs on /dev/vda: exit 0: clean"
KINDLING_ONLY=1
TIMEOUT=180
