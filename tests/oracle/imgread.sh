#!/bin/bash
# Oracle: `kindling ls`, `cat` and `extract` against cpio(1) and the system's
# decompressors, on
#   - an image made by `kindling build` (whose load plan ls must print);
#   - images built here from a directory with cpio and each of gzip, zstd,
#     xz --check=crc32, lzma, lz4 -l and bzip2, alone and concatenated after
#     an early (microcode) cpio with zero padding between segments: the
#     segments' offsets are known by construction;
#   - every /boot/initrd.img-* (initramfs-tools);
#   - a dracut image built from Debian's dracut packages, unpacked in
#     build/oracle (apt-get download; cached there between runs).
# For the last two, an independent splitter finds the segments the way
# unmkinitramfs does: `cpio -t` on an uncompressed archive, whose length is
# its block count, zero bytes skipped, then the rest through the system
# decompressor.  Each segment's sorted path list from kindling must equal
# cpio -t's, and `kindling extract` must give the tree cpio -i gives (paths,
# types, modes, symlink targets, contents).  Prints PASS/FAIL lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
kd="$BUILD/kindling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

fail() {
	echo "FAIL imgread $1"
	shift
	for l in "$@"; do echo "  $l"; done
}

sanitizer_report() {
	grep -q 'Sanitizer\|runtime error' "$1"
}

# kd_lists IMAGE DIR: DIR/segs ("offset comp" per segment), DIR/seg.N (sorted paths)
kd_lists() {
	rm -rf "$2" && mkdir -p "$2"
	if ! "$kd" ls "$1" >"$2/ls.out" 2>"$2/ls.err" || sanitizer_report "$2/ls.err"; then
		return 1
	fi
	awk -v dir="$2" '
		/^segment +offset/ { table = 1; next }
		table && /^[0-9]+ +[0-9]+ +[a-z0-9]+ / { print $2, $3 > (dir "/segs"); next }
		/^segment [0-9]+ \(/ { table = 0; seg = $2; f = dir "/seg." seg; printf "" > f; next }
		/^$/ || /^load plan/ { seg = 0; next }
		seg {
			line = $0
			sub(/^[^ ]+ +[^ ]+ /, "", line)
			if (substr($0, 1, 1) == "l")
				sub(/ -> .*$/, "", line)
			print line > (dir "/seg." seg)
		}' "$2/ls.out"
	for f in "$2"/seg.*; do
		[ -e "$f" ] && sort -o "$f" "$f"
	done
	return 0
}

decompress_cmd() {
	case $(od -An -tx1 -N6 | tr -d ' \n') in
	1f8b*) echo "gzip gzip -dc" ;;
	28b52ffd*) echo "zstd zstd -dcq" ;;
	fd377a585a00) echo "xz xz -dcq" ;;
	5d0000*) echo "lzma xz --format=lzma -dcq" ;;
	02214c18*) echo "lz4 lz4 -dcq" ;;
	425a68*) echo "bzip2 bzip2 -dcq" ;;
	*) echo "" ;;
	esac
}

# ref_lists IMAGE DIR: the independent split into DIR/segs and DIR/seg.N, and
# every segment unpacked by cpio -i into DIR/tree
ref_lists() {
	local img=$1 dir=$2 size off=0 n=0 r magic blocks cmd
	rm -rf "$dir" && mkdir -p "$dir/tree"
	: >"$dir/segs"
	size=$(stat -c %s "$img")
	while [ "$off" -lt "$size" ]; do
		r=$(tail -c +$((off + 1)) "$img" | cmp - /dev/zero 2>&1)
		case $r in
		*differ*) off=$((off + $(sed 's/.*differ: [a-z]* \([0-9]*\).*/\1/' <<<"$r") - 1)) ;;
		*) break ;;
		esac
		n=$((n + 1))
		magic=$(tail -c +$((off + 1)) "$img" | od -An -tx1 -N6 | tr -d ' \n')
		if [ "$magic" = 303730373031 ] || [ "$magic" = 303730373032 ]; then
			echo "$off cpio" >>"$dir/segs"
			tail -c +$((off + 1)) "$img" | cpio -t 2>"$dir/cpio.err" | grep -v '^TRAILER!!!$' |
				sort >"$dir/seg.$n"
			tail -c +$((off + 1)) "$img" | (cd "$dir/tree" && cpio -idm --quiet \
				--no-absolute-filenames 2>/dev/null)
			blocks=$(sed -n 's/^\([0-9]*\) blocks*$/\1/p' "$dir/cpio.err")
			[ -n "$blocks" ] || return 1
			off=$((off + blocks * 512))
			continue
		fi
		cmd=$(tail -c +$((off + 1)) "$img" | decompress_cmd)
		[ -n "$cmd" ] || return 1
		echo "$off ${cmd%% *}" >>"$dir/segs"
		# a compressed segment is the last, as unmkinitramfs assumes too
		tail -c +$((off + 1)) "$img" | ${cmd#* } 2>/dev/null | cpio -t 2>/dev/null |
			grep -v '^TRAILER!!!$' | sort >"$dir/seg.$n"
		tail -c +$((off + 1)) "$img" | ${cmd#* } 2>/dev/null | (cd "$dir/tree" &&
			cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
		break
	done
}

# compare NAME IMAGE REFDIR: kindling's lists against REFDIR's
compare() {
	local name=$1 img=$2 ref=$3 got=$work/got n
	if ! kd_lists "$img" "$got"; then
		fail "$name: kindling ls failed:" "$(head -5 "$got/ls.err")"
		return
	fi
	if ! cmp -s "$ref/segs" "$got/segs"; then
		fail "$name: segments differ (offset compression; expected, then kindling's):" \
			"$(tr '\n' ';' <"$ref/segs")" "$(tr '\n' ';' <"$got/segs")"
		return
	fi
	for f in "$ref"/seg.*; do
		if ! cmp -s "$f" "$got/$(basename "$f")"; then
			fail "$name: paths of $(basename "$f") differ from cpio -t:" \
				"$(diff "$f" "$got/$(basename "$f")" | head -6)"
			return
		fi
	done
	n=$(cat "$ref"/seg.* | wc -l)
	echo "PASS imgread $name: $n entries identical"
}

# ---- images made here ----------------------------------------------------
make_tree() {
	local r=$work/tree
	mkdir -p "$r/bin" "$r/etc/kindling" "$r/lib/modules" "$r/dev" "$r/empty dir"
	printf 'hello\n' >"$r/etc/motd"
	: >"$r/etc/empty"
	printf '#!/bin/sh\necho hi\n' >"$r/bin/tool"
	chmod 0755 "$r/bin/tool"
	ln "$r/bin/tool" "$r/bin/tool-hardlink"
	ln -s tool "$r/bin/sh"
	ln -s /nonexistent/abs "$r/etc/dangling"
	printf 'spaces\n' >"$r/etc/file with spaces"
	# two lz4 legacy chunks (8 MiB each) and some work for every codec
	seq 1 1500000 >"$r/lib/modules/big.txt"
	mknod "$r/dev/console" c 5 1 2>/dev/null
	mkdir -p "$work/ucode/kernel/x86/microcode"
	printf 'ucode' >"$work/ucode/kernel/x86/microcode/GenuineIntel.bin"
	(cd "$r" && find . | sort | cpio --quiet -o -H newc -R 0:0) >"$work/main.cpio"
	(cd "$work/ucode" && find . | sort | cpio --quiet -o -H newc -R 0:0) >"$work/early.cpio"
	cpio -t --quiet <"$work/main.cpio" | sort >"$work/main.list"
	cpio -t --quiet <"$work/early.cpio" | sort >"$work/early.list"
	gzip -n -6 <"$work/main.cpio" >"$work/main.gzip"
	zstd -q -3 <"$work/main.cpio" >"$work/main.zstd"
	xz -1 --check=crc32 <"$work/main.cpio" >"$work/main.xz"
	xz -1 --format=lzma <"$work/main.cpio" >"$work/main.lzma"
	lz4 -q -l <"$work/main.cpio" >"$work/main.lz4"
	bzip2 -1 <"$work/main.cpio" >"$work/main.bzip2"
}

# build_image NAME PART...: PART is a file under $work or "zN" (N zero
# bytes) or "a4" (zeros up to a 4-byte boundary); writes $work/NAME.img and
# the expected lists in $work/NAME.ref.
build_image() {
	local name=$1 img=$work/$1.img ref=$work/$1.ref n=0 off part
	shift
	rm -rf "$ref" && mkdir -p "$ref"
	: >"$img"
	: >"$ref/segs"
	for part in "$@"; do
		off=$(stat -c %s "$img")
		case $part in
		z*) head -c "${part#z}" /dev/zero >>"$img"; continue ;;
		a4) head -c $(((4 - off % 4) % 4)) /dev/zero >>"$img"; continue ;;
		esac
		n=$((n + 1))
		echo "$off ${part#*.}" >>"$ref/segs"
		cat "$work/$part" >>"$img"
		cp "$work/${part%%.*}.list" "$ref/seg.$n"
	done
}

constructed() {
	local c
	make_tree
	for c in gzip zstd xz lzma lz4 bzip2; do
		build_image "$c" "main.$c"
		compare "$c" "$work/$c.img" "$work/$c.ref"
		build_image "early-$c" early.cpio z512 "main.$c" z4
		compare "early+$c (padded)" "$work/early-$c.img" "$work/early-$c.ref"
	done
	build_image all early.cpio z3 a4 main.gzip main.zstd z1 main.xz main.lz4 z4 \
		main.bzip2 z17 main.lzma a4 main.cpio z100
	compare "all codecs concatenated" "$work/all.img" "$work/all.ref"
	check_cat_extract "$work/all.img" "all codecs concatenated"
}

# same_tree A B: same paths, types, modes, owners, symlink targets, device
# numbers and file contents
tree_listing() {
	(cd "$1" && find . -printf '%p %y %m %U:%G %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r md5sum &&
		find . \( -type c -o -type b \) -exec stat -c '%n %t:%T' {} + | sort)
}
same_tree() {
	diff <(tree_listing "$1") <(tree_listing "$2")
}

# cat and extract against cpio -i on the same data
check_cat_extract() {
	local img=$1 name=$2 x=$work/x ref=$work/xref
	if ! "$kd" cat "$img" etc/motd >"$work/cat.out" 2>"$work/cat.err" ||
	   ! printf 'hello\n' | cmp -s - "$work/cat.out" ||
	   ! "$kd" cat "$img" lib/modules/big.txt | cmp -s - "$work/tree/lib/modules/big.txt"; then
		fail "$name: kindling cat differs from the file" "$(head -3 "$work/cat.err")"
		return
	fi
	rm -rf "$x" "$ref" && mkdir -p "$ref"
	(cd "$ref" && cpio -idm --quiet <"$work/main.cpio" && cpio -idm --quiet <"$work/early.cpio")
	if ! "$kd" extract "$img" "$x" 2>"$work/x.err" || sanitizer_report "$work/x.err"; then
		fail "$name: kindling extract failed" "$(head -3 "$work/x.err")"
	elif ! same_tree "$ref" "$x" >"$work/x.diff" 2>&1; then
		fail "$name: extracted tree differs from cpio -i's" "$(head -5 "$work/x.diff")"
	else
		echo "PASS imgread $name: cat and extract match cpio -i"
	fi
}

# ---- images made by other tools -------------------------------------------
foreign() {
	local name=$1 img=$2
	if ! ref_lists "$img" "$work/ref"; then
		fail "$name: the reference splitter could not read $img"
		return
	fi
	compare "$name" "$img" "$work/ref"
	rm -rf "$work/k"
	if ! "$kd" extract "$img" "$work/k" 2>"$work/k.err" || sanitizer_report "$work/k.err"; then
		fail "$name: kindling extract failed" "$(head -3 "$work/k.err")"
	elif ! same_tree "$work/ref/tree" "$work/k" >"$work/k.diff" 2>&1; then
		fail "$name: extract differs from cpio -i's" "$(head -5 "$work/k.diff")"
	else
		echo "PASS imgread $name: extract identical to cpio -i ($(find "$work/k" | wc -l) paths)"
	fi
	rm -rf "$work/k" "$work/ref"
}

# Debian's dracut, unpacked (not installed) into build/oracle/dracut.
dracut_image() {
	local kver=$1 d=$top/build/oracle/dracut img
	img=$top/build/oracle/dracut-$kver.img
	[ -s "$img" ] && { echo "$img"; return 0; }
	mkdir -p "$d"
	if [ ! -x "$d/root/usr/bin/dracut" ]; then
		# a fresh machine may have no package lists yet
		(cd "$d" && { apt-get download dracut dracut-core >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 &&
			  apt-get download dracut dracut-core >/dev/null 2>&1; }; } &&
			for p in dracut*.deb; do dpkg -x "$p" root; done) || return 1
	fi
	dracutbasedir=$d/root/usr/lib/dracut bash "$d/root/usr/bin/dracut" \
		--conf "$d/root/etc/dracut.conf" --confdir "$d/root/etc/dracut.conf.d" \
		--hostonly --force --kver "$kver" "$img.tmp" >"$d/build-$kver.log" 2>&1 || return 1
	mv "$img.tmp" "$img" && echo "$img"
}

# an image made by kindling build: the same lists, and its load plan printed
kindling_image() {
	local kver=$1 img=$work/kindling.img n
	if ! "$kd" build -k "$kver" --init /bin/true -o "$img" >"$work/kb.log" 2>&1; then
		fail "kindling $kver: kindling build failed" "$(head -3 "$work/kb.log")"
		return
	fi
	foreign "kindling $kver" "$img"
	n=$(sed -n 's/^  modules: \([0-9]*\),.*/\1/p' "$work/got/ls.out")
	if [ "${n:-0}" -gt 0 ] && grep -q '^modules in load order:' "$work/got/ls.out"; then
		echo "PASS imgread kindling $kver: load plan printed ($n modules)"
	else
		fail "kindling $kver: kindling ls printed no load plan"
	fi
}

constructed
# one per installed kernel (not the .new of an update-initramfs at work)
for kver in $(ls /lib/modules); do
	img=/boot/initrd.img-$kver
	[ -f "$img" ] || continue
	foreign "initramfs-tools $(basename "$img")" "$img"
done
kver=$(ls /lib/modules | sort -V | head -1)
if [ -n "$kver" ]; then
	kindling_image "$kver"
	if img=$(dracut_image "$kver"); then
		foreign "dracut $kver" "$img"
	else
		fail "dracut $kver: could not build a dracut image (see build/oracle/dracut/)"
	fi
fi
exit 0
