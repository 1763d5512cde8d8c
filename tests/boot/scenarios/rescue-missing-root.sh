# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# A root that never appears, with the busybox hook: after the diagnostics
# the init starts /bin/sh on the console's tty (job control: no "can't
# access tty"), and it answers a command typed on the serial console.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS="--generic --hook busybox"
CMDLINE="root=UUID=$KB_MISSING_UUID rd.timeout=5"
EXPECT_MARKER=0
ROOT_TIMEOUT=5
# shellcheck disable=SC2016 # $((...)) is for the guest's shell
SEND=('no root file system; exit the shell to look for the root again: starting a shell' 'echo kb-$((6*7)) $KINDLING_STAGE'
      'kb-42 ' 'exit')
EXPECT_LOG="kindling:.*$KB_MISSING_UUID
kindling:.*vda
kindling:.*starting a shell \(/bin/sh on /dev/ttyS0\)
kindling: the shell exited; going on with the boot"
check() { kb_console_has "$1" '^kb-42 pre-mount$'; }
EXPECT_NO_LOG="can't access tty
job control turned off"
# Once the shell exited, the init looks for the root again: stop there.
UNTIL="kindling: the shell exited"
TIMEOUT=90
KINDLING_ONLY=1
