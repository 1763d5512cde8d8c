# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# virtio-blk, ext4 on the whole disk, root=UUID=, read-only.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
EXPECT_ROOTDEV=vda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_blk ext4"
# The PIIX IDE controller every QEMU pc has: a generic image loads its driver
# (the positive control of the blacklist scenario).
EXPECT_DEVICE_MODULES=ata_piix
MIN_MODULES="virtio_pci virtio_blk ext4"
