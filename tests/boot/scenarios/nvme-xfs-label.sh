# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# NVMe, xfs on the whole namespace, root=LABEL=.
BUS=nvme FSTYPE=xfs TABLE=none
CMDLINE="root=LABEL=$KB_FS_LABEL ro"
EXPECT_ROOTDEV=nvme0n1
EXPECT_OPTS=ro
EXPECT_MODULES="nvme xfs"
MIN_MODULES="nvme xfs"
