# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# init= picks the real root's init (a copy of the marker at /sbin/init2).
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro init=/sbin/init2"
EXPECT_ARGV0=/sbin/init2
