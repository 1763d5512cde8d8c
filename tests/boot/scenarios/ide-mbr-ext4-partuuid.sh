# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# IDE (PIIX), MBR, ext4, root=PARTUUID=SSSSSSSS-PP (MBR disk id, partition 1).
BUS=ide FSTYPE=ext4 TABLE=mbr
CMDLINE="root=PARTUUID=$KB_MBR_ID-01 rw"
EXPECT_ROOTDEV=sda1
EXPECT_OPTS=rw
EXPECT_MODULES="ata_piix sd_mod ext4"
MIN_MODULES="ata_piix sd_mod ext4"
