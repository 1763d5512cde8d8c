# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# modprobe.blacklist= keeps a device's driver out: ata_piix matches the
# PIIX IDE controller (virtio-blk-ext4-uuid checks that it loads otherwise).
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro modprobe.blacklist=ata_piix"
EXPECT_MODULES="virtio_blk ext4"
EXPECT_NO_MODULES=ata_piix
