# shellcheck shell=bash disable=SC2034,SC2054
# Functions shared by the boot tests (tests/boot/run.sh), the demo
# (scripts/demo.sh) and the benchmark (scripts/bench.sh).  Source it from
# bash; it changes no shell options.  Everything it makes lives under build/:
#
#   build/boot-cache/  the marker init, root disks (kept between runs, keyed
#                      by their recipe)
#   build/boot-logs/   one serial console log per boot, NAME.log
#
# The main entry points:
#   kb_kernels                      installed Debian kernels, oldest first
#   kb_marker                       path of the built marker init
#   kb_disk FSTYPE TABLE [VAR=VAL]  path of a cached root disk (see disk.sh)
#   kb_boot NAME KVER INITRD DISK BUS CMDLINE   boot once, log to NAME.log
#   kb_initrd_stage LOG             seconds from "Run /init" to the marker
#   kb_marker_value LOG KEY         a KINDLING-MARKER key's value
#   kb_measure KVER INITRD [NAME]   boot a virtio-blk ext4 root=UUID disk,
#                                   print the initrd stage (for the bench)

KB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KB_DIR=$KB_TOP/tests/boot
KB_CACHE=${KB_CACHE:-$KB_TOP/build/boot-cache}
KB_LOGS=${KB_LOGS:-$KB_TOP/build/boot-logs}
KB_MUSL_CC=${MUSL_CC:-musl-gcc}
# The Makefile's warning flags.
KB_WARN="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral"
# Every boot: TCG only (KVM hangs on these machines), serial console.
KB_QEMU=${KB_QEMU:-qemu-system-x86_64}
KB_QEMU_ARGS="-accel tcg -nographic -no-reboot -m 1024 -smp 1 -net none"
KB_KERNEL_ARGS="console=ttyS0 panic=-1 printk.time=1 no_timer_check"
KB_TIMEOUT=${KB_TIMEOUT:-120}

# The identities the test disks carry; scenarios refer to them.
KB_FS_UUID_ext4=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41
KB_FS_UUID_btrfs=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a42
KB_FS_UUID_xfs=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a43
KB_FS_LABEL=kd-root
KB_PART_UUID=9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c
KB_PART_LABEL=kd-rootpart
KB_MBR_ID=5eed1e55
KB_MISSING_UUID=deadbeef-0000-4000-8000-00000000beef

kb_log() { echo "boot: $*" >&2; }

# Installed Debian kernels with both an image and a module tree, oldest first.
kb_kernels() {
	local v k
	for v in /boot/vmlinuz-*; do
		k=${v#/boot/vmlinuz-}
		[ -f "/lib/modules/$k/modules.dep" ] && echo "$k"
	done | sort -V
}

# The marker init, rebuilt when its source changed.  Prints its path.
kb_marker() {
	local src=$KB_DIR/marker-init.c out=$KB_CACHE/marker-init
	mkdir -p "$KB_CACHE"
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		# shellcheck disable=SC2086
		$KB_MUSL_CC -std=c11 -D_GNU_SOURCE $KB_WARN -Os -static -s -o "$out.tmp" "$src" ||
			{ kb_log "cannot build the marker init from $src with $KB_MUSL_CC"; return 1; }
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# The real root's tree: the marker as /sbin/init and a copy as /sbin/init2
# (for init= tests), plus the directories an init mounts on.
kb_rootdir() {
	local marker dir=$KB_CACHE/rootdir
	marker=$(kb_marker) || return 1
	if [ ! -f "$dir/sbin/init" ] || ! cmp -s "$marker" "$dir/sbin/init"; then
		rm -rf "$dir"
		mkdir -p "$dir"/{sbin,dev,proc,sys,run,tmp,etc,root}
		cp "$marker" "$dir/sbin/init"
		cp "$marker" "$dir/sbin/init2"
		echo "kindling boot test root" >"$dir/etc/issue"
	fi
	echo "$dir"
}

# kb_disk FSTYPE TABLE [VAR=VALUE...]: a root disk from tests/boot/disk.sh,
# cached under build/boot-cache/disks by a hash of its recipe (the variables,
# disk.sh and the marker).  Defaults: the KB_* identities above; gpt gets
# PART_UUID and PART_LABEL, mbr the disk id KB_MBR_ID.  Prints the path.
kb_disk() {
	local fstype=$1 table=$2 root key out uuid_var
	shift 2
	root=$(kb_rootdir) || return 1
	uuid_var=KB_FS_UUID_$fstype
	local -a env=(FSTYPE="$fstype" TABLE="$table" FS_UUID="${!uuid_var:-}" FS_LABEL="$KB_FS_LABEL")
	case $table in
	gpt) env+=(PART_UUID="$KB_PART_UUID" PART_LABEL="$KB_PART_LABEL") ;;
	mbr) env+=(PART_UUID="$KB_MBR_ID") ;;
	esac
	env+=("$@")
	key=$({ printf '%s\n' "${env[@]}"; cat "$KB_DIR/disk.sh" "$root/sbin/init"; } |
		sha256sum | cut -c1-16)
	out=$KB_CACHE/disks/$fstype-$table-$key.img
	if [ ! -f "$out" ]; then
		mkdir -p "$KB_CACHE/disks"
		env "${env[@]}" OUTPUT="$out" ROOTDIR="$root" "$KB_DIR/disk.sh" || return 1
	fi
	echo "$out"
}

# kb_bus_args BUS DISK: QEMU options attaching DISK on BUS, into KB_BUS_ARGS.
# The options are the ones /work/shared/README.md verified.
kb_bus_args() {
	local bus=$1 d=$2 drv
	drv="file=$d,if=none,id=d0,format=raw,snapshot=on"
	case $bus in
	virtio-blk) KB_BUS_ARGS=(-drive "file=$d,if=virtio,format=raw,snapshot=on") ;;
	virtio-scsi) KB_BUS_ARGS=(-device virtio-scsi-pci,id=s0 -drive "$drv"
		-device scsi-hd,drive=d0,bus=s0.0) ;;
	ahci) KB_BUS_ARGS=(-device ahci,id=ahci -drive "$drv" -device ide-hd,drive=d0,bus=ahci.0) ;;
	nvme) KB_BUS_ARGS=(-drive "$drv" -device nvme,drive=d0,serial=kindling0) ;;
	usb-xhci) KB_BUS_ARGS=(-device qemu-xhci,id=xhci -drive "$drv"
		-device usb-storage,bus=xhci.0,drive=d0) ;;
	ide) KB_BUS_ARGS=(-drive "file=$d,if=ide,format=raw,snapshot=on") ;;
	none) KB_BUS_ARGS=() ;;
	*) kb_log "unknown bus '$bus' (virtio-blk virtio-scsi ahci nvme usb-xhci ide none)"
	   return 1 ;;
	esac
}

# kb_boot NAME KVER INITRD DISK BUS CMDLINE
# Boots /boot/vmlinuz-KVER with INITRD and DISK on BUS under TCG, the serial
# console going to $KB_LOGS/NAME.log.  Kernel arguments: KB_KERNEL_ARGS then
# CMDLINE.  Optional, as variables of the caller:
#   KB_TIMEOUT    seconds before QEMU is killed (default 120)
#   KB_UNTIL      ERE: once a log line matches, wait KB_GRACE s (default 2),
#                 then stop QEMU (for boots that end without a power-off)
#   KB_SEND       array of ERE TEXT pairs, in order: once the console shows
#                 a line matching ERE (after the previous TEXT was typed),
#                 TEXT plus a newline is typed on the serial console.  The
#                 console's input is QEMU's stdin (-nographic: the serial
#                 port), a FIFO this function holds open for writing
#   KB_EXTRA_ARGS array of more QEMU options
#   KB_KERNEL     the kernel image to boot instead of /boot/vmlinuz-KVER
#                 (tests/distro boots a chroot's kernel)
# Returns 0 when QEMU exited by itself, 124 on timeout, 125 when stopped
# after KB_UNTIL, otherwise QEMU's status.  Sets KB_LOG and KB_WALL (seconds).
kb_boot() {
	local name=$1 kver=$2 initrd=$3 disk=$4 bus=$5 cmdline=$6
	local kernel=${KB_KERNEL:-/boot/vmlinuz-$kver} run pid wfd start now status=0 until_at='' send_i=0 send_at=0
	KB_LOG=$KB_LOGS/$name.log
	mkdir -p "$(dirname "$KB_LOG")"
	rm -f "$KB_LOG"
	[ -r "$kernel" ] || { kb_log "no kernel $kernel"; return 2; }
	[ -r "$initrd" ] || { kb_log "no initrd $initrd"; return 2; }
	kb_bus_args "$bus" "$disk" || return 2
	run=$(mktemp -d "${TMPDIR:-/tmp}/kb-boot.XXXXXX")
	mkfifo "$run/console-in"
	# shellcheck disable=SC2086
	$KB_QEMU $KB_QEMU_ARGS -kernel "$kernel" -initrd "$initrd" \
		-append "$KB_KERNEL_ARGS $cmdline" "${KB_BUS_ARGS[@]}" \
		"${KB_EXTRA_ARGS[@]}" <"$run/console-in" >"$KB_LOG" 2>&1 &
	pid=$!
	exec {wfd}>"$run/console-in"
	start=$(date +%s%N)
	while kill -0 "$pid" 2>/dev/null; do
		now=$(date +%s%N)
		if [ $(((now - start) / 1000000000)) -ge "${KB_TIMEOUT:-120}" ]; then
			status=124
			break
		fi
		if [ -n "${KB_UNTIL:-}" ]; then
			if [ -n "$until_at" ]; then
				[ $(((now - until_at) / 1000000)) -ge $((${KB_GRACE:-2} * 1000)) ] &&
					{ status=125; break; }
			elif tr -d '\r' <"$KB_LOG" | grep -qE "$KB_UNTIL"; then
				until_at=$now
			fi
		fi
		# The pairs in order, each ERE looked for only in what came after
		# the previous TEXT was typed (a prompt that repeats matches anew).
		if [ $((send_i + 1)) -lt ${#KB_SEND[@]} ] &&
		   tail -c +$((send_at + 1)) "$KB_LOG" | tr -d '\r' | grep -qE "${KB_SEND[send_i]}"; then
			send_at=$(stat -c %s "$KB_LOG")
			printf '%s\n' "${KB_SEND[send_i + 1]}" >&"$wfd"
			send_i=$((send_i + 2))
		fi
		sleep 0.2
	done
	if [ "$status" -ne 0 ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	else
		wait "$pid"
		status=$?
	fi
	exec {wfd}>&-
	rm -rf "$run"
	KB_WALL=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	return "$status"
}
KB_SEND=()
KB_EXTRA_ARGS=()

# kb_log_time LOG ERE: the kernel timestamp (seconds) of the first console
# line matching ERE; for a line printed without one (plain console output),
# the last timestamp before it.
kb_log_time() {
	tr -d '\r' <"$1" | KB_RE=$2 awk '
		match($0, /\[ *[0-9]+\.[0-9]+\] /) {
			t = substr($0, RSTART + 1, RLENGTH - 3); sub(/^ +/, "", t)
		}
		$0 ~ ENVIRON["KB_RE"] { if (t != "") print t; exit }'
}

# Seconds from the kernel's "Run /init" to the marker's start, both stamped
# by the kernel's clock (the marker writes "KINDLING-MARKER start" to
# /dev/kmsg first thing).  Prints nothing when either is missing.
kb_initrd_stage() {
	local t0 t1
	t0=$(kb_log_time "$1" 'Run /init as init process')
	t1=$(kb_log_time "$1" 'KINDLING-MARKER start')
	[ -n "$t0" ] && [ -n "$t1" ] || return 1
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

# The value of "KINDLING-MARKER KEY=VALUE" (the first one) in LOG.
kb_marker_value() {
	tr -d '\r' <"$1" | sed -n "s/^.*KINDLING-MARKER $2=//p" | head -1
}

# All values of a repeated key (mount=, kmsg=), one per line.
kb_marker_values() {
	tr -d '\r' <"$1" | sed -n "s/^.*KINDLING-MARKER $2=//p"
}

# Did the marker run to its end?
kb_marker_done() {
	tr -d '\r' <"$1" | grep -q 'KINDLING-MARKER done'
}

# kb_console LOG: the console log without carriage returns, and with the
# kernel's stamped lines that cut into a line of a program's own output
# (a stage script, the shell: they write to the tty, not the kernel log)
# spliced out, so that line reads whole again.
kb_console() {
	tr -d '\r' <"$1" | perl -0pe 's/(?<=[^\n])\[ *\d+\.\d+\] [^\n]*\n//g'
}

# kb_console_has LOG ERE...: every ERE matches a line of kb_console LOG;
# else prints the first that does not and returns 1.
kb_console_has() {
	local log=$1 text re
	shift
	text=$(kb_console "$log")
	for re in "$@"; do
		grep -qE -- "$re" <<<"$text" || { echo "no console line matches /$re/"; return 1; }
	done
}

# The last N lines of a console log, without carriage returns, indented.
kb_tail() {
	tr -d '\r' <"$1" 2>/dev/null | grep -v '^\s*$' | tail -n "${2:-12}" | sed 's/^/  | /'
}

# kb_measure KVER INITRD [NAME]: one boot of INITRD with a virtio-blk ext4
# root=UUID disk; prints the initrd stage in seconds, or fails with the log's
# tail on stderr.  The bench calls it repeatedly and takes the median.
kb_measure() {
	local kver=$1 initrd=$2 name=${3:-measure-$1} disk t
	disk=$(kb_disk ext4 none) || return 1
	KB_UNTIL='' kb_boot "$name" "$kver" "$initrd" "$disk" virtio-blk \
		"root=UUID=$KB_FS_UUID_ext4 ro" || true
	if ! t=$(kb_initrd_stage "$KB_LOG"); then
		kb_log "$name: no initrd stage in $KB_LOG (no 'Run /init' or no marker):"
		kb_tail "$KB_LOG" >&2
		return 1
	fi
	echo "$t"
}

# Median of numbers given as arguments.
kb_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
