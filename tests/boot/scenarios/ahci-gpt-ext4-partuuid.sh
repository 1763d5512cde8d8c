# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# AHCI (SATA), GPT, ext4, root=PARTUUID= of the GPT partition, read-write.
BUS=ahci FSTYPE=ext4 TABLE=gpt
CMDLINE="root=PARTUUID=$KB_PART_UUID rw"
EXPECT_ROOTDEV=sda1
EXPECT_OPTS=rw
EXPECT_MODULES="ahci sd_mod ext4"
MIN_MODULES="ahci sd_mod ext4"
