#!/bin/bash
# Oracle: `kindling depmod` (builder/depgen.c) against kmod's depmod.
#
# 1. For each installed Debian kernel: its module tree is copied (kernel/,
#    modules.order, modules.builtin*) into a temporary directory without any
#    depmod output, kindling computes the indexes from the modules, and
#    modules.dep, modules.alias, modules.softdep and modules.symbols must be
#    byte-identical to the ones Debian's depmod wrote in /lib/modules/KVER.
# 2. A made-up tree built from real modules of a plain-.ko kernel exercises
#    what the Debian trees never do: modules missing from modules.order (they
#    follow in kmod's hash order), duplicate module names (updates/ wins,
#    otherwise the first found), xz and zstd modules, symlinks, "build" and
#    "source" directories, a modules.order with duplicate and unknown lines,
#    and no modules.order at all.  There the reference is depmod itself, run
#    with -b on the same tree (it walks the same directories in the same
#    readdir order), and all four files must again be byte-identical.
#
# Normalisation: none; every compared file must be byte-identical.
# modules.weakdep is not compared with depmod: Debian 12's kmod 30 does not
# write it.  kindling writes it as kmod 33 and later do; since no module of
# these kernels has a weakdep= field, it must hold exactly kmod's header line,
# which is checked.  .ko.gz modules are not used in the made-up tree because
# Debian's kmod is built without zlib (kmod --version: -ZLIB) and skips them,
# while kindling reads them like a zlib-enabled kmod.
set -u
PATH=$PATH:/usr/sbin:/sbin # depmod
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
kd="$BUILD/kindling"
work=$(mktemp -d /tmp/kd-depgen.XXXXXX)
trap 'rm -rf "$work"' EXIT
files="modules.dep modules.alias modules.softdep modules.symbols"
weak_header="# Weak dependencies extracted from modules themselves."
fail=0

# compare LABEL REFDIR OURDIR: prints the first differences, 1 when any
compare() {
	local label=$1 ref=$2 ours=$3 f bad=0
	for f in $files; do
		if ! cmp -s "$ref/$f" "$ours/$f"; then
			echo "FAIL depgen $label: $f differs from depmod's"
			diff "$ref/$f" "$ours/$f" | head -10 | sed 's/^/    /'
			bad=1
		fi
	done
	if [ "$(cat "$ours/modules.weakdep" 2>/dev/null)" != "$weak_header" ]; then
		echo "FAIL depgen $label: modules.weakdep is not just kmod's header line"
		head -5 "$ours/modules.weakdep" 2>/dev/null | sed 's/^/    /'
		bad=1
	fi
	return $bad
}

# run_kindling LABEL MODDIR OUTDIR: kindling depmod, timed; 1 on failure
run_kindling() {
	local label=$1 moddir=$2 out=$3 t0 t1
	t0=$(date +%s.%N)
	if ! "$kd" depmod --moddir "$moddir" -o "$out" 2>"$work/err"; then
		echo "FAIL depgen $label: kindling depmod failed:"
		head -10 "$work/err" | sed 's/^/    /'
		return 1
	fi
	t1=$(date +%s.%N)
	if grep -q 'Sanitizer\|runtime error' "$work/err"; then
		echo "FAIL depgen $label: sanitizer report:"
		grep -m5 'Sanitizer\|runtime error' "$work/err" | sed 's/^/    /'
		return 1
	fi
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	return 0
}

installed_kernel() {
	local kver=$1 src=/lib/modules/$1 mod out n
	mod=$work/$kver/lib/modules/$kver
	out=$work/$kver/out
	mkdir -p "$mod"
	cp -a "$src/kernel" "$src/modules.order" "$mod/"
	cp -a "$src"/modules.builtin* "$mod/" 2>/dev/null
	if ! run_kindling "$kver" "$mod" "$out"; then
		fail=1
	elif compare "$kver" "$src" "$out"; then
		n=$(wc -l <"$out/modules.dep")
		printf 'PASS depgen %s: %d modules, modules.dep identical (also alias, softdep, symbols; %.2f s)\n' \
			"$kver" "$n" "$secs"
	else
		fail=1
	fi
	rm -rf "${work:?}/$kver"
}

# The modules.dep closure of some real modules, copied with their paths.
made_up_tree() {
	local src=$1 mod=$2 line
	mkdir -p "$mod"
	for m in ext4 btrfs xfs virtio_blk virtio_scsi virtio_net nvme usb-storage uas \
		xhci-pci e1000e dm-crypt raid456 snd-hda-intel loop; do
		grep -E "/$m\.ko(\.[a-z]+)?:" "$src/modules.dep"
	done | tr -d ':' | tr ' ' '\n' | sort -u >"$work/closure"
	while read -r line; do
		mkdir -p "$mod/$(dirname "$line")"
		cp "$src/$line" "$mod/$line"
	done <"$work/closure"
	# half of the modules listed, an unknown line, a duplicate line
	grep -F -f "$work/closure" "$src/modules.order" | awk 'NR % 2 == 0' >"$mod/modules.order"
	echo "kernel/not/there.ko" >>"$mod/modules.order"
	head -3 "$mod/modules.order" >>"$mod/modules.order"
	# duplicates: updates/ wins over kernel/, two under updates/, extra/ vs kernel/
	mkdir -p "$mod/updates/a" "$mod/updates/b" "$mod/extra" "$mod/build" "$mod/kernel/x/source"
	cp "$(find "$mod/kernel" -name 'crc16.ko')" "$mod/updates/"
	cp "$(find "$mod/kernel" -name 'jbd2.ko')" "$mod/updates/a/"
	cp "$(find "$mod/kernel" -name 'jbd2.ko')" "$mod/updates/b/"
	cp "$(find "$mod/kernel" -name 'mbcache.ko')" "$mod/extra/"
	# ignored: anything under build/ or source/
	cp "$(find "$mod/kernel" -name 'loop.ko')" "$mod/build/ignored1.ko"
	cp "$(find "$mod/kernel" -name 'loop.ko')" "$mod/kernel/x/source/ignored2.ko"
	# compressed modules, and one reached through a symlink
	xz --check=crc32 "$(find "$mod/kernel" -name 'libcrc32c.ko')"
	zstd -q --rm "$(find "$mod/kernel" -name 'xor.ko')"
	line=$(find "$mod/kernel" -name 'virtio_blk.ko')
	mv "$line" "$mod/virtio_blk.stored"
	ln -s "$(realpath --relative-to="$(dirname "$line")" "$mod/virtio_blk.stored")" "$line"
}

# made_up LABEL MODDIR: kindling, then depmod -b on the same tree, compared
made_up_check() {
	local label=$1 mod=$2 kver=$3 root=$4 n
	if ! run_kindling "$label" "$mod" "$work/made-up-out"; then
		fail=1
		return
	fi
	if ! depmod -b "$root" "$kver" 2>"$work/depmod.err"; then
		echo "FAIL depgen $label: depmod itself failed:"
		head -5 "$work/depmod.err" | sed 's/^/    /'
		fail=1
		return
	fi
	if compare "$label" "$mod" "$work/made-up-out"; then
		n=$(wc -l <"$mod/modules.dep")
		echo "PASS depgen $label: $n modules, identical to depmod -b on the same tree"
	else
		fail=1
	fi
	rm -f "$mod"/modules.{dep,alias,softdep,symbols,devname}* "$mod"/modules.*.bin
}

made_up() {
	local kver=$1 root=$work/made-up mod
	mod=$root/lib/modules/$kver
	made_up_tree "/lib/modules/$kver" "$mod"
	made_up_check "made-up tree ($kver)" "$mod" "$kver" "$root"
	printf 'kernel/fs/ext4/ext4.ko' >>"$mod/modules.order" # no final newline: ignored
	made_up_check "made-up tree, modules.order without final newline" "$mod" "$kver" "$root"
	rm "$mod/modules.order"
	made_up_check "made-up tree without modules.order" "$mod" "$kver" "$root"
	rm -rf "$root"
}

if [ ! -x "$kd" ]; then
	echo "FAIL depgen: $kd is not built"
	exit 1
fi
plain=
for d in /lib/modules/*/; do
	kver=$(basename "$d")
	[ -f "$d/modules.dep" ] && [ -d "$d/kernel" ] || continue
	installed_kernel "$kver"
	if [ -z "$plain" ] && [ -n "$(find "$d/kernel/fs/ext4" -name 'ext4.ko' 2>/dev/null)" ]; then
		plain=$kver
	fi
done
if [ -n "$plain" ]; then
	made_up "$plain"
else
	echo "FAIL depgen: no installed kernel with plain .ko modules for the made-up tree"
	fail=1
fi
exit $fail
