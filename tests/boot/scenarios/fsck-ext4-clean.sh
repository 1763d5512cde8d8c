# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The fsck hook on an ext4 root: the init runs e2fsck -p on the device
# before mounting it and logs the result, then boots the real root.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS="--generic --hook fsck"
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
EXPECT_LOG="kindling: fsck: running /sbin/e2fsck -p /dev/vda
kindling: fsck: e2fsck on /dev/vda: exit 0: clean"
KINDLING_ONLY=1
# e2fsck's own word (on the tty), and the check comes before the mount.
check() {
	local f m
	kb_console_has "$1" '^kd-root: clean, [0-9]+/[0-9]+ files' || return 1
	f=$(tr -d '\r' <"$1" | grep -n 'kindling: fsck: e2fsck on /dev/vda' | head -1 | cut -d: -f1)
	m=$(tr -d '\r' <"$1" | grep -n 'EXT4-fs (vda): mounted' | head -1 | cut -d: -f1)
	if [ -z "$f" ] || [ -z "$m" ] || [ "$f" -ge "$m" ]; then
		echo "e2fsck's result (line ${f:-none}) is not before the ext4 mount (line ${m:-none})"
		return 1
	fi
}
