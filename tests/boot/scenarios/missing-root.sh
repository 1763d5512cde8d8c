# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# A root that never appears: within the timeout the init must say what it
# was asked for and list the block devices it saw (with the real disk's
# UUID), and never panic.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_MISSING_UUID rd.timeout=5"
EXPECT_MARKER=0
ROOT_TIMEOUT=5
EXPECT_LOG="kindling:.*$KB_MISSING_UUID
kindling:.*(not found|waiting for|timed out|gave up|never appeared)
kindling:.*vda
kindling:.*$KB_FS_UUID_ext4"
# Stop once the device list (with the real disk's UUID) is out.
UNTIL="kindling:.*$KB_FS_UUID_ext4"
TIMEOUT=90
KINDLING_ONLY=1   # initramfs-tools words its diagnostics differently
