# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# fsck.repair=no on an ext4 root with errors (made by a test hook with
# debugfs, as in fsck-ext4-dirty): e2fsck -n leaves them (exit 4), so the
# init starts the rescue shell; the repair typed there (e2fsck -y) works,
# and after "exit" the root is mounted and its init runs.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro fsck.repair=no"
KINDLING_ONLY=1
TIMEOUT=150
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
	binary debugfs
	script pre-mount dirty.sh
	H
	BUILD_ARGS="--generic --hook busybox --hook fsck --hooks-dir $WORK/hooks --hook kbdirty"
}
# shellcheck disable=SC2016 # for the guest's shell
SEND=('fsck left errors on the root: .*starting a shell'
      'e2fsck -y $KINDLING_ROOT; echo kb-repair-status=$?'
      'kb-repair-status=[0-9]' 'exit')
EXPECT_LOG="kindling: fsck: running /sbin/e2fsck -n /dev/vda
kindling: fsck: e2fsck on /dev/vda: exit 4: errors left uncorrected
starting a shell \(/bin/sh on /dev/ttyS0\)
kindling: the shell exited; going on with the boot"
check() { kb_console_has "$1" '^kb-dirty /dev/vda block [0-9]+$' '^kb-repair-status=1$'; }
