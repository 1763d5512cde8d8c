#!/bin/bash
# `kindling check` and `kindling explain` on images built here, for every
# installed Debian kernel (both series: 6.1 with plain .ko, 6.12 with .ko.xz):
#   - check passes on a generic image (root /dev/vda, ext4: this machine's
#     root) and on a host-only image (its own default root=);
#   - check fails naming virtio_blk on an image built with --omit virtio_blk
#     (the machine's root disk is virtio-blk: the root chain needs it);
#   - with --sysroot, the captured server (md RAID1) and laptop (LUKS on
#     NVMe) fixtures: a generic image passes, one without raid1 and nvme
#     fails naming each;
#   - check fails naming the symbol and the module on an image whose module
#     has an unresolved symbol: built from a module tree whose modules.dep
#     lies (ext4 without its dependencies), so the dependency check against
#     that tree passes and only the symbol check can see jbd2 missing; the
#     same image checked against the real tree fails on the dependency;
#   - symbols are read from the image's own module bytes: a host-only image
#     repacked without jbd2.ko (its plan record kept) fails naming the file
#     and ext4's symbols that jbd2 exports;
#   - check fails for a kernel that is not installed and for a missing fs-TYPE
#     module, and refuses what is not a kindling image (exit 2), such as
#     initramfs-tools' /boot/initrd.img-*;
#   - explain prints the reasons of a module added by --add, one from a set,
#     a dependency (with its chain), a soft dependency (with its chain), an
#     alias, a built-in, and a missing module (exit 1).
# Prints PASS/FAIL lines.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
kd="$BUILD/kindling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
init=build/init
[ -x "$init" ] || { echo "FAIL check: no $init (run make)"; exit 1; }

pass() { echo "PASS check $1"; }
fail() {
	echo "FAIL check $1"
	[ -f "${2:-}" ] && sed 's/^/  | /' "$2" | head -20
	return 0
}
sanitizer_report() { grep -q 'Sanitizer\|runtime error' "$1"; }

# expect NAME RC FILE PATTERN...: the last run's status and every pattern in FILE
expect() {
	local name=$1 want=$2 got=$3 file=$4 p
	shift 4
	if [ "$got" != "$want" ]; then
		fail "$name (exit $got, expected $want)" "$file"
		return
	fi
	if sanitizer_report "$file"; then
		fail "$name (sanitizer report)" "$file"
		return
	fi
	for p in "$@"; do
		if ! grep -qE -- "$p" "$file"; then
			fail "$name (no line matching '$p')" "$file"
			return
		fi
	done
	pass "$name"
}

build() { # build OUT ARGS...: a kindling image, quietly
	local out=$1
	shift
	"$kd" build "$@" --init "$init" --force -o "$out" -q >"$work/build.log" 2>&1
}

run() { # run OUT CMD...: output (stdout+stderr) to OUT, sets rc
	local out=$1
	shift
	"$@" >"$out" 2>&1
	rc=$?
}

kernels=$(for v in /boot/vmlinuz-*; do k=${v#/boot/vmlinuz-}; [ -f "/lib/modules/$k/modules.dep" ] && echo "$k"; done | sort -V)
[ -n "$kernels" ] || { echo "FAIL check: no Debian kernel installed (scripts/deps.sh)"; exit 1; }

for k in $kernels; do
	kre=$(printf '%s' "$k" | sed 's/[.+]/\\&/g') # k as an ERE
	img=$work/generic-$k.img
	if ! build "$img" -k "$k" --generic; then
		fail "$k: kindling build --generic" "$work/build.log"
		continue
	fi
	run "$work/out" "$kd" check "$img" --root /dev/vda --rootfstype ext4
	expect "$k: generic image is ready (root /dev/vda ext4)" 0 "$rc" "$work/out" \
		"^ok: kernel $kre: /lib/modules/$kre and /boot/vmlinuz-$kre" \
		"^ok: dependencies: " "^ok: symbols: [0-9]+ undefined symbols .*vmlinuz-$kre" \
		"^ok: root /dev/vda: filesystem ext4" "ready to boot"
	if grep -q '^problem' "$work/out"; then fail "$k: generic image: a problem line" "$work/out"; fi

	# host-only: its own default root= (this machine's /dev/vda)
	if build "$work/host.img" -k "$k" --host-only; then
		run "$work/out" "$kd" check "$work/host.img"
		expect "$k: host-only image is ready (its default root)" 0 "$rc" "$work/out" \
			"host-only$" "^ok: root /dev/vda: filesystem ext4" \
			"^ok: root /dev/vda: device /dev/vda, its chain needs [1-9]" \
			"^ok: symbols: " "ready to boot"
		run "$work/out" "$kd" explain "$work/host.img" virtio_blk
		expect "$k: explain a root-chain module of a host-only image" 0 "$rc" "$work/out" \
			"^  reason: +root chain: vda: .*modalias virtio:d00000002v00001AF4" "^  flags: +load$"
		run "$work/out" "$kd" explain "$work/host.img" virtio_net
		expect "$k: explain a module detection left out" 1 "$rc" "$work/out" \
			"^virtio_net: not in the image" "^  host-only detection \(/etc/kindling/detect.txt\):" \
			"^    skip /sys/devices/.*not needed to boot.*would be virtio_net"
	else
		fail "$k: kindling build --host-only" "$work/build.log"
	fi
	# the symbols come from the image's own module bytes: the same image
	# repacked without jbd2's file (its plan record kept)
	rm -rf "$work/x" && mkdir "$work/x"
	if "$kd" extract "$work/host.img" "$work/x" >/dev/null 2>&1 &&
		rm "$work/x"/usr/lib/modules/"$k"/kernel/fs/jbd2/jbd2.ko &&
		(cd "$work/x" && find . ! -name . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		zstd -q -c >"$work/nojbd2.img"; then
		run "$work/out" "$kd" check "$work/nojbd2.img"
		expect "$k: a module file missing from the image: named, and its exports missing" 1 \
			"$rc" "$work/out" \
			"^problem: module jbd2: its file /usr/lib/modules/$kre/kernel/fs/jbd2/jbd2\.ko is not in the image" \
			"^problem: module ext4 needs symbol jbd2_[a-z_0-9]+, exported by module jbd2, which is not in the image"
	else
		fail "$k: could not repack the host-only image without jbd2"
	fi
	if build "$work/novirtio.img" -k "$k" --generic --omit virtio_blk; then
		run "$work/out" "$kd" check "$work/novirtio.img" --root /dev/vda
		expect "$k: image built with --omit virtio_blk fails naming virtio_blk" 1 "$rc" \
			"$work/out" "^problem: root /dev/vda: module virtio_blk is not in the image; the root chain needs it: root chain: vda: " \
			"1 problem: not ready to boot"
	else
		fail "$k: kindling build --omit virtio_blk" "$work/build.log"
	fi

	# captured machines (tests/fixtures/sysroot): RAID1 root with an xfs /usr,
	# LUKS on NVMe; the same generic image without raid1 and nvme
	fx=tests/fixtures/sysroot
	md_uuid=UUID=6f3a1c4e-2b7d-4e90-a8c5-3d1f0e9b2a74
	run "$work/out" "$kd" check "$img" --sysroot "$fx/server-md" --root "$md_uuid"
	expect "$k: generic image is ready for the md RAID1 server fixture" 0 "$rc" "$work/out" \
		"^ok: root $md_uuid: device /dev/md0, its chain needs [4-9] modules" "ready to boot"
	run "$work/out" "$kd" check "$img" --sysroot "$fx/laptop-nvme" --root /dev/mapper/nvme0n1p3_crypt
	expect "$k: generic image is ready for the LUKS-on-NVMe laptop fixture" 0 "$rc" "$work/out" \
		"^ok: root /dev/mapper/nvme0n1p3_crypt: device /dev/dm-0, its chain needs" "ready to boot"
	if build "$work/noraid.img" -k "$k" --generic --omit raid1 --omit nvme; then
		run "$work/out" "$kd" check "$work/noraid.img" --sysroot "$fx/server-md" --root "$md_uuid"
		expect "$k: server fixture without raid1 fails naming it" 1 "$rc" "$work/out" \
			"^problem: root $md_uuid: module raid1 is not in the image; the root chain needs it: root chain: md0: md level raid1" \
			"1 problem: not ready to boot"
		run "$work/out" "$kd" check "$work/noraid.img" --sysroot "$fx/laptop-nvme" \
			--root /dev/mapper/nvme0n1p3_crypt
		expect "$k: laptop fixture without nvme fails naming it" 1 "$rc" "$work/out" \
			"^problem: root /dev/mapper/nvme0n1p3_crypt: module nvme is not in the image; the root chain needs it: root chain: nvme0n1: " \
			"1 problem: not ready to boot"
	else
		fail "$k: kindling build --omit raid1 --omit nvme" "$work/build.log"
	fi

	# a kernel that is not there; fs-TYPE of a root whose device is unknown here
	run "$work/out" "$kd" check "$img" -k 0.0.0-none --root UUID=0000 --rootfstype ext4
	expect "$k: check -k for a missing kernel fails naming it" 1 "$rc" "$work/out" \
		"^problem: the image is for kernel $kre, not 0.0.0-none" \
		"^problem: kernel 0.0.0-none: no module tree /lib/modules/0.0.0-none" \
		"^problem: kernel 0.0.0-none: no kernel image /boot/vmlinuz-0.0.0-none" \
		"1?[0-9] problems: not ready to boot"
	if build "$work/noext4.img" -k "$k" --generic --omit ext4; then
		run "$work/out" "$kd" check "$work/noext4.img" --root UUID=0000 --rootfstype ext4
		expect "$k: image without ext4 fails for an ext4 root that is not on this machine" 1 \
			"$rc" "$work/out" \
			"^warning: root UUID=0000: not a block device of this machine" \
			"^problem: root UUID=0000: filesystem ext4 needs module ext4 \(fs-ext4\), which is not in the image" \
			"1 problem: not ready to boot"
	else
		fail "$k: kindling build --omit ext4" "$work/build.log"
	fi

	# an unresolved symbol: a module tree whose modules.dep says ext4 needs nothing
	lie=$work/lying/$k
	mkdir -p "$lie"
	ln -s "/lib/modules/$k/kernel" "$lie/kernel"
	for f in /lib/modules/"$k"/modules.*; do
		case $f in *.bin) ;; *) cp "$f" "$lie/" ;; esac
	done
	sed -i -E 's@^(kernel/fs/ext4/ext4\.ko[^:]*):.*@\1:@' "$lie/modules.dep"
	touch "$lie/modules.dep"
	if build "$work/lie.img" -k "$k" --moddir "$lie" --add ext4; then
		run "$work/out" "$kd" check "$work/lie.img" --moddir "$lie"
		expect "$k: unresolved symbol named with its module (lying modules.dep)" 1 "$rc" \
			"$work/out" "^ok: dependencies: " \
			"^problem: module ext4 needs symbol jbd2_[a-z_0-9]+, exported by module jbd2, which is not in the image" \
			"not ready to boot"
		if grep -q '^problem: module ext4 needs module' "$work/out"; then
			fail "$k: lying modules.dep: the dependency check should pass" "$work/out"
		fi
		run "$work/out" "$kd" check "$work/lie.img"
		expect "$k: the same image against the real modules.dep fails on the dependency" 1 \
			"$rc" "$work/out" \
			"^problem: module ext4 needs module jbd2 \(modules.dep of $kre\), which is not in the image"
	else
		fail "$k: kindling build --moddir (lying modules.dep)" "$work/build.log"
	fi

	# explain
	img=$work/explain-$k.img
	if ! build "$img" -k "$k" --set filesystems --add dm_crypt; then
		fail "$k: kindling build for explain" "$work/build.log"
		continue
	fi
	run "$work/out" "$kd" explain "$img" dm-crypt
	expect "$k: explain --add module" 0 "$rc" "$work/out" \
		"^dm_crypt: in the image \(kernel $kre\)" "^  reason: +--add$" "^  needs: .*dm_mod" \
		"^  flags: +load$" "^  path: +/usr/lib/modules/$kre/kernel/drivers/md/dm-crypt\.ko$"
	run "$work/out" "$kd" explain "$img" ext4
	expect "$k: explain set module" 0 "$rc" "$work/out" \
		"^ext4: in the image" "^  reason: +set filesystems$" "^  flags: +filesystem$" \
		"^  needs: .*jbd2"
	run "$work/out" "$kd" explain "$img" jbd2
	expect "$k: explain dependency (chain)" 0 "$rc" "$work/out" \
		"^  reason: +dependency of ext4$" "^  why:$" "^    jbd2: dependency of ext4$" \
		"^    ext4: set filesystems$" "^  needed by: .*ext4"
	run "$work/out" "$kd" explain "$img" fs-ext4
	expect "$k: explain an alias" 0 "$rc" "$work/out" "^fs-ext4: alias fs_ext4 of module ext4$" \
		"^ext4: in the image"
	builtin=$(awk 'NR == 1 { sub(/.*\//, ""); sub(/\.ko$/, ""); print }' "/lib/modules/$k/modules.builtin" | tr - _)
	run "$work/out" "$kd" explain "$img" "$builtin"
	expect "$k: explain a built-in ($builtin)" 0 "$rc" "$work/out" \
		"^$builtin: not in the image: built into kernel $kre"
	run "$work/out" "$kd" explain "$img" virtio_blk
	expect "$k: explain a module not in the image" 1 "$rc" "$work/out" \
		"^virtio_blk: not in the image .* \(kernel $kre\)$" "no /etc/kindling/detect.txt"
	if build "$work/soft.img" -k "$k" --add ext4; then
		run "$work/out" "$kd" explain "$work/soft.img" crc32c_generic
		expect "$k: explain soft dependency (chain)" 0 "$rc" "$work/out" \
			"^  reason: +soft dependency of ext4$" "^    crc32c_generic: soft dependency of ext4$" \
			"^    ext4: --add$" "^  needed by: .*ext4"
	else
		fail "$k: kindling build --add ext4" "$work/build.log"
	fi
done

# bad input; an image made by another builder has no load plan
for f in /boot/initrd.img-*; do
	[ -f "$f" ] || continue
	run "$work/out" "$kd" check "$f"
	expect "check refuses $f: no load plan (exit 2)" 2 "$rc" "$work/out" \
		"no load plan \(/etc/kindling/plan\): not an image made by kindling build"
	break
done
printf 'not an image' >"$work/junk"
run "$work/out" "$kd" check "$work/junk"
expect "check refuses what is not an initramfs (exit 2)" 2 "$rc" "$work/out" "junk"
run "$work/out" "$kd" explain "$work/junk" ext4
expect "explain refuses what is not an initramfs (exit 2)" 2 "$rc" "$work/out" "junk"
run "$work/out" "$kd" explain
expect "explain without arguments is a usage error" 2 "$rc" "$work/out" "usage: kindling explain"
run "$work/out" "$kd" check
expect "check without arguments is a usage error" 2 "$rc" "$work/out" "usage: kindling check"
