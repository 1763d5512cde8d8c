#!/bin/bash
# Oracle: the image as written, against the system's tools, for every
# installed Debian kernel (6.1: .ko; 6.12: .ko.xz):
#   - each --compress (zstd xz gzip lz4 none): zstd -t, xz -t (and its check
#     is CRC32), gzip -t, lz4 -t, cpio -t accept it, and the sorted path list
#     of `kindling ls` equals cpio -t's of what the system tool decompresses;
#   - reproducible: builds from two copies of the module tree made in
#     opposite orders on tmpfs (ls -U must really differ) are byte-identical
#     (cmp), for each compression;
#   - --format cpio is accepted by cpio -t and lists the image's paths;
#     --format list is checked against gen_init_cpio's syntax (dir, file,
#     slink, nod with their field counts) and every entry and file content
#     against the cpio; built from the copied tree (a cross-built tree);
#   - safe output: a build that fills a small tmpfs fails naming the file,
#     one killed with SIGKILL while writing (its fd open in the directory),
#     both leave the old image byte-identical and no other file; two
#     concurrent --force builds of one output: the second waits for the lock,
#     both succeed and the result is a valid image;
#   - without O_TMPFILE (no /proc in a private mount namespace): the named
#     temporary file goes on SIGTERM, stays on SIGKILL and the next build
#     removes it;
#   - on a filesystem without O_TMPFILE (vfat, as an ESP, when the kernel
#     has it, else ext2 through FUSE): a build killed with SIGKILL half-way
#     leaves .NAME.kindling-tmp, which `kindling update --remove` (what the
#     postrm.d hook runs) deletes, and so does the next build.
# Prints one PASS/FAIL line per check.  ORACLE_KERNELS: a shell pattern on
# the kernel releases (default all).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
kd="$top/$BUILD/kindling"
init="$top/build/init"
[ -x "$init" ] || init="$top/$BUILD/init"
work=$(mktemp -d /tmp/kd-compress.XXXXXX)
mkdir -p "$work/errs"
mounts=
cleanup() {
	for m in $mounts; do umount "$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
export LC_ALL=C SOURCE_DATE_EPOCH=1700000000
codecs="zstd xz gzip lz4 none"
failed=0

pass() { echo "PASS compress $1"; }
fail() {
	echo "FAIL compress $1"
	shift
	for l in "$@"; do echo "  $l"; done
	failed=1
}

sanitizer_report() { grep -q 'Sanitizer\|runtime error' "$1"; }

# build KVER OUT ARGS...: kindling build, stderr in $work/errs/OUT's name.err
build() {
	local kver=$1 out=$2
	shift 2
	err=$work/errs/$(basename "$out").err
	"$kd" build -q -k "$kver" --init "$init" -o "$out" "$@" 2>"$err" &&
		! sanitizer_report "$err"
}
errs() { cat "$work/errs/$1.err"; }

# the sorted paths `kindling ls` prints for segment N of IMAGE
kd_paths() {
	"$kd" ls "$1" 2>/dev/null | awk -v want="${2:-1}" '
		/^segment [0-9]+ \(/ { seg = $2; next }
		/^$/ || /^load plan/ { seg = 0; next }
		seg == want { line = $0; sub(/^[^ ]+ +[^ ]+ /, "", line); sub(/ -> .*/, "", line); print line }' |
		sed 's|^/||' | sort
}

systool_test() {
	case $1 in
	zstd) zstd -q -t "$2" ;;
	xz) xz -t "$2" && xz --robot --list "$2" | awk -F'\t' '$1 == "totals" { exit $7 != "CRC32" }' ;;
	gzip) gzip -t "$2" ;;
	lz4) lz4 -q -t "$2" ;;
	none) cpio -t --quiet <"$2" >/dev/null ;;
	esac
}

decompress() {
	case $1 in
	zstd) zstd -q -dc "$2" ;;
	xz) xz -dc "$2" ;;
	gzip) gzip -dc "$2" ;;
	lz4) lz4 -q -dc "$2" ;;
	none) cat "$2" ;;
	esac
}

# copy_tree SRC DST reverse|forward: a copy made in that order of paths
copy_tree() {
	local order=-u
	[ "$3" = reverse ] && order=-ru
	mkdir -p "$2"
	(cd "$1" && find . -mindepth 1 | sort $order | cpio -pdm --quiet "$2")
}

# some directory whose ls -U listing differs between the two copies
listing_differs() {
	local d
	for d in . kernel kernel/drivers kernel/fs kernel/drivers/ata; do
		[ -d "$1/$d" ] || continue
		if [ "$(ls -U "$1/$d")" != "$(ls -U "$2/$d")" ] &&
		   [ "$(ls "$1/$d")" = "$(ls "$2/$d")" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# check_list LIST CPIO: LIST is gen_init_cpio syntax and holds what CPIO holds
check_list() {
	local list=$1 cpio=$2 x=$work/x.$$
	rm -rf "$x" && mkdir -p "$x/tree"
	(cd "$x/tree" && cpio -idm --quiet --no-absolute-filenames <"$cpio") || return 1
	# the syntax, field counts and modes of usr/gen_init_cpio.c
	awk '
		/^#/ || /^$/ { next }
		$1 == "dir" && NF == 5 && $3 ~ /^0[0-7]+$/ { print $2; next }
		$1 == "file" && NF >= 6 && $4 ~ /^0[0-7]+$/ { print $2; next }
		$1 == "slink" && NF == 6 && $4 ~ /^0[0-7]+$/ { print $2; next }
		$1 == "nod" && NF == 8 && $3 ~ /^0[0-7]+$/ && $6 ~ /^[bc]$/ { print $2; next }
		{ print "BAD LINE: " $0 > "/dev/stderr"; bad = 1 }
		END { exit bad }' "$list" | sed 's|^/||' | sort >"$x/list.paths" || return 1
	cpio -t --quiet <"$cpio" | sed 's|^\./||; s|^/||' | sort >"$x/cpio.paths"
	if ! cmp -s "$x/list.paths" "$x/cpio.paths"; then
		diff "$x/list.paths" "$x/cpio.paths" | head -5 >&2
		return 1
	fi
	# every file exists and holds the cpio's bytes; links point the same way
	while read -r type name a b _; do
		case $type in
		file) cmp -s "$a" "$x/tree$name" || { echo "differs: $name ($a)" >&2; return 1; } ;;
		slink) [ "$(readlink "$x/tree$name")" = "$a" ] || { echo "link: $name" >&2; return 1; } ;;
		esac
	done <"$list"
}

# fd_in_dir PID DIR: PID has a file of DIR open (an O_TMPFILE shows as "DIR/#ino (deleted)")
fd_in_dir() {
	local l
	for l in /proc/"$1"/fd/*; do
		case $(readlink "$l" 2>/dev/null) in "$2"/*) return 0 ;; esac
	done
	return 1
}

only_file() { # DIR NAME: DIR holds NAME and nothing else (ls -A)
	[ "$(ls -A "$1")" = "$2" ]
}

# Without O_TMPFILE (here: no /proc, over-mounted in a private mount
# namespace) kindling writes .NAME.kindling-tmp: SIGTERM removes it, SIGKILL
# cannot, and the next build into the directory removes that leftover.
named_temp_fallback() {
	local kver=$1 k=$2 pid tmp=$2/.initrd.img.kindling-tmp
	# The sanitizers need /proc (their options come from /proc/self/environ,
	# LeakSanitizer stops the threads through /proc at exit): the ASan pass
	# runs this part with the plain build
	local kd=$kd
	case $kd in */asan/*) kd=$top/build/kindling ;; esac
	[ -x "$kd" ] || { fail "$kver no O_TMPFILE: no $kd (make first)"; return; }
	nop() { unshare -m sh -c 'mount -t tmpfs none /proc && exec "$@"' sh "$@"; }
	cp "$work/$kver/img.zstd" "$k/initrd.img"
	for sig in TERM KILL; do
		# a simple command: $! is unshare's pid, which becomes sh's, then kindling's
		unshare -m sh -c 'mount -t tmpfs none /proc && exec "$@"' sh \
			"$kd" build -q -k "$kver" --init "$init" --sets-dir "$top/modules-sets" \
			--generic --compress xz --level 9 --force -o "$k/initrd.img" 2>/dev/null &
		pid=$!
		for _ in $(seq 600); do [ -s "$tmp" ] && break; sleep 0.05; done
		if [ ! -s "$tmp" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			fail "$kver no O_TMPFILE: no $tmp appeared"
			return
		fi
		sleep 0.3
		kill -"$sig" "$pid"
		wait "$pid" 2>/dev/null
		sleep 0.2 # SIGKILL: let the kernel finish the process before ls
		if [ $sig = TERM ] && cmp -s "$k/initrd.img" "$work/$kver/img.zstd" &&
		   only_file "$k" initrd.img; then
			pass "$kver no O_TMPFILE: SIGTERM while writing $(basename "$tmp"): removed, old image intact"
		elif [ $sig = KILL ] && cmp -s "$k/initrd.img" "$work/$kver/img.zstd" && [ -e "$tmp" ] &&
		     nop "$kd" build -q -k "$kver" --init "$init" --sets-dir "$top/modules-sets" \
			--generic --force -o "$k/initrd.img" 2>/dev/null &&
		     only_file "$k" initrd.img && cmp -s "$k/initrd.img" "$work/$kver/img.zstd"; then
			pass "$kver no O_TMPFILE: SIGKILL leaves $(basename "$tmp"), old image intact; the next build removes it and writes the image"
		else
			fail "$kver no O_TMPFILE: SIG$sig while writing" "$(ls -A "$k")"
		fi
	done
}

# no_tmpfile_mount DIR: a small filesystem without O_TMPFILE at DIR, as a
# vfat ESP is: vfat when the kernel has it, else ext2 through FUSE (fuse2fs;
# FUSE has no O_TMPFILE).  Prints which.
no_tmpfile_mount() {
	local img=$work/notmpfile.img
	rm -f "$img" && truncate -s 64M "$img" || return 1
	if grep -qw vfat /proc/filesystems || modprobe -q vfat 2>/dev/null; then
		mkfs.vfat "$img" >/dev/null && mount -o loop "$img" "$1" && echo vfat
	else
		mkfs.ext2 -q -F "$img" && fuse2fs -o fakeroot "$img" "$1" >/dev/null &&
			echo "ext2 (fuse2fs)"
	fi
}

# kill_while_named KVER OUT: start a slow --force build of OUT, SIGKILL it
# once its named temporary file has data; 0 if it was killed so
kill_while_named() {
	local pid tmp=$(dirname "$2")/.$(basename "$2").kindling-tmp
	"$kd" build -q -k "$1" --init "$init" --sets-dir "$top/modules-sets" --generic \
		--compress xz --level 9 --force -o "$2" 2>/dev/null &
	pid=$!
	for _ in $(seq 600); do [ -s "$tmp" ] && break; sleep 0.05; done
	sleep 0.3
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $? = 137 ] && [ -s "$tmp" ]
}

# A build killed on a filesystem without O_TMPFILE leaves .NAME.kindling-tmp:
# kindling update --remove deletes it with the image, the next build too.
no_tmpfile_fs() {
	local kver=$1 m=$work/notmpfile fs b out tmp
	mkdir -p "$m"
	if ! fs=$(no_tmpfile_mount "$m"); then
		fail "$kver no O_TMPFILE fs: cannot mount vfat or fuse2fs at $m"
		return
	fi
	mounts="$m $mounts"
	b=$m/boot out=$m/boot/initrd.img-$kver tmp=$m/boot/.initrd.img-$kver.kindling-tmp
	mkdir -p "$b"
	cp "$work/$kver/img.zstd" "$out"
	if ! kill_while_named "$kver" "$out"; then
		fail "$kver $fs: no $(basename "$tmp") left by a build killed while writing" "$(ls -A "$b")"
	elif ! cmp -s "$out" "$work/$kver/img.zstd"; then
		fail "$kver $fs: the killed build changed the old image"
	elif "$kd" update --remove "$kver" -o "$out" -q && [ -z "$(ls -A "$b")" ]; then
		pass "$kver $fs: SIGKILL while writing leaves $(basename "$tmp"), old image intact; kindling update --remove deletes both"
	else
		fail "$kver $fs: kindling update --remove left" "$(ls -A "$b")"
	fi
	if ! kill_while_named "$kver" "$out"; then
		fail "$kver $fs: no $(basename "$tmp") left by a second killed build" "$(ls -A "$b")"
	elif "$kd" update -q -k "$kver" -o "$out" && only_file "$b" "$(basename "$out")" &&
	     zstd -q -t "$out" && kd_paths "$out" | cmp -s - "$work/$kver/img.zstd.kd-ls"; then
		pass "$kver $fs: the next build (kindling update -k KVER -o) removes the leftover and writes the image"
	else
		fail "$kver $fs: the next build" "$(ls -A "$b")"
	fi
	umount "$m" && mounts=${mounts#"$m "}
}

kernels=
for d in /lib/modules/*/modules.dep; do
	k=$(basename "$(dirname "$d")")
	# shellcheck disable=SC2254
	case $k in ${ORACLE_KERNELS:-*}) ;; *) continue ;; esac
	[ -e "/boot/vmlinuz-$k" ] && kernels="$kernels $k"
done
[ -n "$kernels" ] || { fail "kernels: no installed kernel with modules"; exit 1; }
[ -x "$kd" ] || { fail "setup: no $kd (make first)"; exit 1; }

for kver in $kernels; do
	w=$work/$kver
	mkdir -p "$w"

	# ---- every compression: the system tool, then kindling ls -------------
	for c in $codecs; do
		img=$w/img.$c
		if ! build "$kver" "$img" --generic --compress "$c"; then
			fail "$kver $c: build failed" "$(errs "img.$c" | tail -3)"
			continue
		fi
		if ! systool_test "$c" "$img" 2>"$img.tool"; then
			fail "$kver $c: the system tool rejects the image" "$(head -3 "$img.tool")"
			continue
		fi
		decompress "$c" "$img" | cpio -t --quiet 2>/dev/null | sed 's|^\./||; s|^/||' |
			sort >"$img.cpio-t"
		kd_paths "$img" >"$img.kd-ls"
		if [ -s "$img.kd-ls" ] && cmp -s "$img.cpio-t" "$img.kd-ls"; then
			pass "$kver $c: $(stat -c %s "$img") bytes, $( [ $c = none ] && echo "cpio -t" || echo "$c -t") accepts it, kindling ls lists cpio -t's $(wc -l <"$img.kd-ls") paths"
		else
			fail "$kver $c: kindling ls and cpio -t differ" \
				"$(diff "$img.cpio-t" "$img.kd-ls" | head -5)"
		fi
	done

	# ---- reproducible from trees listed in different orders ---------------
	t=$w/trees
	mkdir -p "$t"
	mount -t tmpfs -o size=2g tmpfs "$t" && mounts="$t $mounts"
	copy_tree "/lib/modules/$kver" "$t/a" forward
	copy_tree "/lib/modules/$kver" "$t/b" reverse
	if d=$(listing_differs "$t/a" "$t/b"); then
		pass "$kver reproducible: copies whose ls -U order of $d differs (same names)"
	else
		fail "$kver reproducible: the two copies list in the same order: the test proves nothing"
	fi
	for c in $codecs; do
		a=$w/repro-a.$c b=$w/repro-b.$c
		if ! build "$kver" "$a" --generic --compress "$c" --moddir "$t/a" ||
		   ! (cd "$t" && build "$kver" "$b" --generic --compress "$c" --moddir "$t/b"); then
			fail "$kver reproducible $c: build failed" "$(errs "repro-a.$c"; errs "repro-b.$c")"
		elif cmp -s "$a" "$b" && cmp -s "$a" "$w/img.$c"; then
			pass "$kver reproducible $c: both copies and /lib/modules give the same bytes"
		else
			fail "$kver reproducible $c: the images differ" "$(cmp "$a" "$b"; cmp "$a" "$w/img.$c")"
		fi
	done

	# ---- --format cpio and list, from the copied tree -----------------------
	if build "$kver" "$w/built-in.cpio" --generic --format cpio --moddir "$t/a" &&
	   cpio -t --quiet <"$w/built-in.cpio" | sed 's|^\./||; s|^/||' | sort >"$w/cpio.paths" &&
	   cmp -s "$w/cpio.paths" "$w/img.zstd.kd-ls"; then
		pass "$kver --format cpio: cpio -t accepts it, the image's $(wc -l <"$w/cpio.paths") paths"
	else
		fail "$kver --format cpio" "$(errs built-in.cpio)"
	fi
	if build "$kver" "$w/initramfs.list" --generic --format list --moddir "$t/a" &&
	   check_list "$w/initramfs.list" "$w/built-in.cpio" 2>"$w/list.why" &&
	   [ -e "$w/initramfs.list.d/.kindling-list" ]; then
		pass "$kver --format list: gen_init_cpio syntax, every entry and file as in the cpio, files in initramfs.list.d/"
	else
		fail "$kver --format list" "$(head -3 "$w/list.why"; errs initramfs.list)"
	fi
	umount "$t" && mounts=${mounts#"$t "}

	# ---- safe output ---------------------------------------------------------
	s=$w/small
	mkdir -p "$s"
	mount -t tmpfs -o size=8m tmpfs "$s" && mounts="$s $mounts"
	if build "$kver" "$s/initrd.img" --add ext4; then
		cp "$s/initrd.img" "$w/old.img"
		if build "$kver" "$s/initrd.img" --generic --compress none --force; then
			fail "$kver ENOSPC: a 40 MB image fitted in 8 MB?"
		elif msg=$(grep -o "$s/initrd.img: .*No space left on device.*" "$err") &&
		     cmp -s "$s/initrd.img" "$w/old.img" && only_file "$s" "initrd.img"; then
			pass "$kver ENOSPC: \"${msg#"$s/"}\", old image intact, no temporary file"
		else
			fail "$kver ENOSPC" "$(cat "$err")" "$(ls -A "$s")"
		fi
	else
		fail "$kver ENOSPC: the first, small build failed" "$(tail -2 "$err")"
	fi
	umount "$s" && mounts=${mounts#"$s "}

	k=$w/kill
	mkdir -p "$k"
	cp "$w/img.zstd" "$k/initrd.img"
	"$kd" build -q -k "$kver" --init "$init" --generic --compress xz --level 9 --force \
		-o "$k/initrd.img" 2>/dev/null &
	pid=$!
	for _ in $(seq 600); do fd_in_dir "$pid" "$k" && break; sleep 0.05; done
	if fd_in_dir "$pid" "$k"; then
		sleep 0.5
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		if cmp -s "$k/initrd.img" "$w/img.zstd" && only_file "$k" initrd.img; then
			pass "$kver SIGKILL while writing: old image intact, no temporary file"
		else
			fail "$kver SIGKILL while writing" "$(ls -A "$k")"
		fi
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "$kver SIGKILL: the build never opened its file in $k"
	fi

	# two builds of one output: the second waits for the first's lock
	rm -f "$k/initrd.img"
	"$kd" build -v -k "$kver" --init "$init" --generic --compress xz --level 1 --force \
		-o "$k/initrd.img" >/dev/null 2>"$k.1.err" &
	p1=$!
	for _ in $(seq 600); do fd_in_dir "$p1" "$k" && break; sleep 0.05; done
	"$kd" build -v -k "$kver" --init "$init" --generic --compress xz --level 1 --force \
		-o "$k/initrd.img" >/dev/null 2>"$k.2.err" &
	p2=$!
	wait "$p1"; r1=$?
	wait "$p2"; r2=$?
	if [ $r1 = 0 ] && [ $r2 = 0 ] && grep -q "another build is writing into $k: waiting" "$k.2.err" &&
	   xz -t "$k/initrd.img" && kd_paths "$k/initrd.img" | cmp -s - "$w/img.xz.kd-ls" &&
	   only_file "$k" initrd.img; then
		pass "$kver concurrent builds: the second waited for the lock, both succeeded, the image is valid"
	else
		fail "$kver concurrent builds (exit $r1 $r2)" "$(cat "$k.1.err" "$k.2.err" | tail -4)" "$(ls -A "$k")"
	fi
	if [ -z "${fallback_done:-}" ]; then # one kernel is enough
		named_temp_fallback "$kver" "$k"
		no_tmpfile_fs "$kver"
		fallback_done=1
	fi
	rm -rf "$w"
done
exit $failed
