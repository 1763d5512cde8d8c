# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# MOD.param=value on the command line reaches a module loaded for a device.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro virtio_blk.queue_depth=64"
EXPECT_MODULES=virtio_blk
EXPECT_PARAMS="virtio_blk.queue_depth=64"
