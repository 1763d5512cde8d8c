# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# rw and rootflags=: a mount flag (noatime) and a filesystem option (commit=).
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 rw rootflags=noatime,commit=7"
EXPECT_OPTS="rw noatime commit=7"
EXPECT_MODULES="virtio_blk ext4"
