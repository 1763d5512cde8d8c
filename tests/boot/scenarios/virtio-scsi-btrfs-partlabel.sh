# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# virtio-scsi, GPT, btrfs, root=PARTLABEL= (the GPT partition name).
BUS=virtio-scsi FSTYPE=btrfs TABLE=gpt
CMDLINE="root=PARTLABEL=$KB_PART_LABEL rw"
EXPECT_ROOTDEV=sda1
EXPECT_OPTS=rw
EXPECT_MODULES="virtio_scsi sd_mod btrfs"
MIN_MODULES="virtio_pci virtio_scsi sd_mod btrfs"
