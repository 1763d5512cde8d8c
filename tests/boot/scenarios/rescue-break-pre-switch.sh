# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# rd.break alone (dracut's meaning: pre-switch) with the busybox hook: a
# shell with the root mounted on /sysroot, before switch_root; after "exit"
# the real root's init runs.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS="--generic --hook busybox"
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro rd.break"
# shellcheck disable=SC2016 # for the guest's shell
SEND=('rd.break=pre-switch: exit the shell to go on with the boot: starting a shell'
      'echo kb-$KINDLING_STAGE-$KINDLING_ROOTFSTYPE; cat $KINDLING_NEWROOT/etc/issue | sed s/^/kb-issue:/'
      'kb-issue:[a-z]' 'exit')
EXPECT_LOG="starting a shell \(/bin/sh on /dev/ttyS0\)
kindling: the shell exited; going on with the boot"
check() { kb_console_has "$1" '^kb-pre-switch-ext4$' '^kb-issue:kindling boot test root$'; }
TIMEOUT=150
KINDLING_ONLY=1
