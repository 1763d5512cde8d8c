# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# A user's hook, from the real /etc/kindling/hooks.d (where users put theirs;
# removed again once the image is built), adding a dynamically linked program (built
# here, linked with libz so its closure is more than libc) and scripts at
# three stages; with the busybox hook for their /bin/sh.  The console must
# show each script's output with the stage's environment, the program's
# output (its libraries came along), and the failing script must not stop
# the boot.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro kbvar=from-cmdline"
KINDLING_ONLY=1
prepare() {
	mkdir -p /etc/kindling/hooks.d "$WORK/bin"
	WORK=$(cd "$WORK" && pwd) # hook lines want absolute host paths
	cat >"$WORK/kbhello.c" <<-'C'
	#include <stdio.h>
	#include <zlib.h>
	int main(int argc, char **argv)
	{
		printf("kb-hello %s zlib=%s\n", argc > 1 ? argv[1] : "", zlibVersion());
		return 0;
	}
	C
	gcc -O2 -o "$WORK/bin/kbhello" "$WORK/kbhello.c" -lz
	cat >/etc/kindling/hooks.d/kbtest-boot.modules.sh <<-'S'
	#!/bin/sh
	echo "kb-modules stage=$KINDLING_STAGE root=${KINDLING_ROOT:-unset} loop=$(test -d /sys/module/loop && echo loaded)"
	S
	cat >/etc/kindling/hooks.d/kbtest-boot.pre-mount.sh <<-'S'
	#!/bin/sh
	echo "kb-pre-mount stage=$KINDLING_STAGE root=$KINDLING_ROOT fstype=$KINDLING_ROOTFSTYPE spec=$KINDLING_ROOTSPEC"
	exit 1
	S
	cat >/etc/kindling/hooks.d/kbtest-boot.pre-switch.sh <<-S
	#!/bin/sh
	$WORK/bin/kbhello "\$KINDLING_STAGE"
	echo "kb-env newroot=\$KINDLING_NEWROOT kver=\$KINDLING_KVER path=\$PATH kbvar=\$kbvar"
	echo "kb-issue \$(cat "\$KINDLING_NEWROOT/etc/issue")"
	S
	cat >/etc/kindling/hooks.d/kbtest-boot.hook <<-H
	# kindling boot test: a program with its libraries, scripts at every stage
	binary $WORK/bin/kbhello
	script modules kbtest-boot.modules.sh
	script pre-mount kbtest-boot.pre-mount.sh
	script pre-switch kbtest-boot.pre-switch.sh
	H
	# loop: a module of the plan loaded at every boot, there by the modules stage
	BUILD_ARGS="--generic --add loop --hook busybox --hook kbtest-boot"
}
cleanup() {
	rm -f /etc/kindling/hooks.d/kbtest-boot.hook /etc/kindling/hooks.d/kbtest-boot.*.sh
	rmdir --ignore-fail-on-non-empty /etc/kindling/hooks.d /etc/kindling 2>/dev/null || true
}
EXPECT_LOG="kindling: stage modules: running 01-kbtest-boot
kindling: stage pre-mount: /etc/kindling/stages/pre-mount/01-kbtest-boot failed: exit status 1; the boot goes on
kindling: stage pre-switch: 01-kbtest-boot exited 0"
# The scripts' own output (on the tty, so kernel lines may cut into it).
check() {
	kb_console_has "$1" \
		"^kb-modules stage=modules root=unset loop=loaded$" \
		"^kb-pre-mount stage=pre-mount root=/dev/vda fstype=ext4 spec=UUID=$KB_FS_UUID_ext4$" \
		"^kb-hello pre-switch zlib=[0-9]" \
		"^kb-env newroot=/sysroot kver=${KVER//+/\\+} path=/usr/sbin:/usr/bin:/sbin:/bin kbvar=from-cmdline$" \
		"^kb-issue kindling boot test root$"
}
