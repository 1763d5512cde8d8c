# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# An ext4 root with errors: a test hook's pre-mount script frees blocks in
# use and sets the superblock's error state with debugfs (on QEMU's
# snapshot of the test disk), so the fsck hook's e2fsck -p must do a full
# check and correct the block bitmap (preen mode does it without a word;
# exit 1), and the boot goes on to the real root.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
KINDLING_ONLY=1
prepare() {
	mkdir -p "$WORK/hooks"
	cat >"$WORK/hooks/dirty.sh" <<-'S'
	#!/bin/sh
	# free 8 blocks /sbin/init uses, and say the file system has errors
	b=$(debugfs -R "bmap /sbin/init 0" "$KINDLING_ROOT" 2>/dev/null)
	debugfs -w -R "freeb $b 8" "$KINDLING_ROOT" &&
		debugfs -w -R "ssv state 2" "$KINDLING_ROOT" && echo "kb-dirty $KINDLING_ROOT block $b"
	S
	cat >"$WORK/hooks/kbdirty.hook" <<-'H'
	# kindling boot test: mark the root as having errors before fsck
	binary debugfs
	script pre-mount dirty.sh
	H
	BUILD_ARGS="--generic --hook busybox --hook fsck --hooks-dir $WORK/hooks --hook kbdirty"
}
EXPECT_LOG="kindling: fsck: running /sbin/e2fsck -p /dev/vda
kindling: fsck: e2fsck on /dev/vda: exit 1: errors corrected"
check() {
	kb_console_has "$1" '^kb-dirty /dev/vda block [0-9]+$' \
		'^kd-root contains a file system with errors, check forced\.$'
}
