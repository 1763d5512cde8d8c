# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# rd.modules-load= loads a module nothing else asks for, with its
# MOD.param= from the command line (loop is added to the image for this).
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS="--generic --add loop"
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro rd.modules-load=loop loop.max_loop=4"
EXPECT_MODULES="loop virtio_blk"
EXPECT_PARAMS="loop.max_loop=4"
KINDLING_ONLY=1   # initramfs-tools has no rd.modules-load=
