# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The fsck hook on an xfs root: xfs_repair -n (it never repairs) checks the
# device before the mount and its result is logged.
BUS=virtio-blk FSTYPE=xfs TABLE=none
BUILD_ARGS="--generic --hook fsck"
CMDLINE="root=UUID=$KB_FS_UUID_xfs ro"
EXPECT_LOG="kindling: fsck: running /sbin/xfs_repair -n /dev/vda
kindling: fsck: xfs_repair on /dev/vda: exit 0: clean"
KINDLING_ONLY=1
TIMEOUT=180
