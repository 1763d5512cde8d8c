# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# rd.break=pre-mount with the busybox hook: a shell once the root device is
# found, before it is mounted (/sysroot is empty, KINDLING_ROOT names the
# device); it answers a command typed on the serial console, and after
# "exit" the boot goes on to the real root's init.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS="--generic --hook busybox"
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro rd.break=pre-mount"
# shellcheck disable=SC2016 # for the guest's shell
SEND=('rd.break=pre-mount: exit the shell to go on with the boot: starting a shell'
      'echo kb-$((6*7)) root=$KINDLING_ROOT; ls /sysroot | wc -l | sed s/^/kb-sysroot-entries=/'
      'kb-sysroot-entries=[0-9]' 'exit')
EXPECT_LOG="starting a shell \(/bin/sh on /dev/ttyS0\)
kindling: the shell exited; going on with the boot"
check() { kb_console_has "$1" '^kb-42 root=/dev/vda$' '^kb-sysroot-entries=0$'; }
EXPECT_NO_LOG="can't access tty"
TIMEOUT=150
KINDLING_ONLY=1
