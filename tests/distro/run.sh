#!/bin/bash
# shellcheck disable=SC2034,SC2154 # check.sh reads the EXPECT_* variables, lib.sh sets KB_*
# The distro integration end to end, with Debian's real package manager and
# kernel package, inside a Debian 12 chroot this script makes with
# debootstrap (the host's own kernels and /boot are never touched):
#   make deb; apt-get install the .deb (it replaces initramfs-tools);
#   apt-get install linux-image-6.12-amd64: the postinst.d hook writes a
#   kindling image; --reinstall rebuilds it; both boot in QEMU (the chroot's
#   kernel with the chroot's initrd) to the test root; systemd's
#   kernel-install with a BLS layout in a scratch BOOT_ROOT and with
#   Debian's default layout; a failed build (a configured module that does
#   not exist) fails the hook, apt-get and kernel-install and leaves the
#   previous image byte-identical; kindling update -r ROOT; apt-get remove
#   deletes the image; the man pages render without warnings.
# One PASS/FAIL line per check; exit 1 when any failed.
#
# Cache (build/distro/): bookworm-minbase.tar (debootstrap --make-tarball),
# base.tar (the bootstrapped chroot with apt lists, initramfs-tools and
# systemd), apt-archives/ (downloaded packages, bind-mounted into the
# chroot).  The chroot itself (build/distro/chroot) is made afresh from
# base.tar on every run.  The mirror is the host's Debian archive, read from
# /etc/apt/sources.list(.d).  Environment: BUILD (default build), DISTRO_KEEP=1
# keeps the chroot and its mounts for debugging (the next run unmounts them).
# The outputs of the failed builds are kept in build/distro/failed-*.log.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/boot/lib.sh
. tests/boot/check.sh

BUILD=${BUILD:-build}
top=$PWD/build/distro
chroot=$top/chroot
minbase=$top/bookworm-minbase.tar
base=$top/base.tar
archives=$top/apt-archives
log=$top/log
KB_LOGS=$KB_LOGS/distro
failed=0
mounts=()

pass() { echo "PASS distro $*"; }
fail() {
	echo "FAIL distro $*"
	failed=1
}
# fail with the last lines of a log file
fail_log() {
	local file=$1
	shift
	fail "$*"
	tail -n 15 "$file" | sed 's/^/  | /'
}
in_chroot() { chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
apt_in() { in_chroot apt-get -o DPkg::Lock::Timeout=300 -y -q "$@"; }

umount_all() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null
	done
	mounts=()
}
# A mount left by an interrupted run would make rm -rf reach the host.
leftover_mounts() { awk -v c="$chroot" 'index($2, c "/") == 1 || $2 == c { print $2 }' /proc/mounts; }
# rm -rf of the chroot only with nothing mounted below it (a bind mount of
# /dev or /sys would take the host's with it).
remove_chroot() {
	umount_all
	if [ -n "$(leftover_mounts)" ]; then
		echo "distro: refusing to remove $chroot: $(leftover_mounts | tr '\n' ' ')is mounted" >&2
		return 1
	fi
	rm -rf "$chroot"
}

cleanup() {
	# the chroot is made afresh by every run: keep it only when asked to
	[ "${locked:-0}" = 1 ] || return 0 # another run's chroot is not ours
	[ "${DISTRO_KEEP:-0}" = 1 ] || remove_chroot
	flock -u "$lock"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$top" "$archives/partial" "$KB_LOGS"
exec {lock}>"$top/.lock"
if ! flock -n "$lock"; then
	echo "distro: another tests/distro/run.sh is running; waiting for it to end" >&2
	flock "$lock"
fi
locked=1

for m in $(leftover_mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
if [ -n "$(leftover_mounts)" ]; then
	fail "setup: cannot unmount $(leftover_mounts | tr '\n' ' ')"
	exit 1
fi

# The archive the host uses for SUITE: deb822 .sources stanzas, then
# one-line sources.list entries; Debian's default when none names it.
mirror_for() {
	local suite=$1 uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
		/^[ \t]*$/ { if (u != "" && ok && deb) { print u; exit } u = ""; ok = 0; deb = 0; next }
		/^URIs:/ { u = $2 }
		/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
		END { if (u != "" && ok && deb) print u }' | head -n 1)
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v s="$suite" '$1 == "deb" && $0 !~ /\[/ && $3 == s { print $2; exit }')
	if [ -z "$uri" ]; then
		case $suite in
		*-security) uri=http://deb.debian.org/debian-security ;;
		*) uri=http://deb.debian.org/debian ;;
		esac
	fi
	echo "$uri"
}
mirror=$(mirror_for bookworm)
security=$(mirror_for bookworm-security)

# ---- the package ---------------------------------------------------------
if deb=$(scripts/mkdeb.sh 2>"$top/mkdeb.err") && [ -f "$deb" ]; then
	info=$(dpkg-deb --field "$deb" Package Provides Conflicts Replaces Depends)
	files=$(dpkg -c "$deb")
	conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
	if grep -q '^Provides: linux-initramfs-tool$' <<<"$info" &&
	   grep -q '^Conflicts: .*initramfs-tools' <<<"$info" &&
	   grep -q '^Depends: .*libc6' <<<"$info" &&
	   grep -q ' \./usr/bin/kindling$' <<<"$files" &&
	   grep -q ' \./usr/lib/kindling/init$' <<<"$files" &&
	   grep -q ' \./etc/kernel/postinst.d/kindling$' <<<"$files" &&
	   grep -q ' \./usr/lib/kernel/install.d/50-kindling.install$' <<<"$files" &&
	   grep -q ' \./usr/share/man/man5/kindling.conf.5.gz$' <<<"$files" &&
	   grep -qx /etc/kernel/postrm.d/kindling <<<"$conffiles" &&
	   ! grep -v ' root/root ' <<<"$files" | grep -q .; then
		pass "make deb: $(basename "$deb") (Provides linux-initramfs-tool, conffiles, root-owned)"
	else
		fail "make deb: $deb lacks a field or file: $(tr '\n' ' ' <<<"$info")"
	fi
else
	fail_log "$top/mkdeb.err" "make deb failed"
	exit 1
fi

# ---- the man pages ---------------------------------------------------------
for page in man/kindling.8 man/kindling.conf.5; do
	warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
	text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
	if [ -z "$warn" ] && grep -q 'kindling' <<<"$text" && [ "$(wc -l <<<"$text")" -gt 40 ]; then
		pass "man $page renders without warnings ($(wc -l <<<"$text") lines)"
	else
		fail "man $page: ${warn:-renders to only $(wc -l <<<"$text") lines}"
	fi
done
text=$(MANWIDTH=80 man -l man/kindling.8 2>/dev/null)
missing=
for c in build update deps resolve modinfo depmod ls cat extract detect explain check; do
	grep -q "kindling $c" <<<"$text" || missing="$missing $c"
done
if [ -z "$missing" ]; then pass "man kindling.8 documents every command"
else fail "man kindling.8 does not document:$missing"; fi

# ---- the chroot ------------------------------------------------------------
setup_base() {
	if [ ! -f "$minbase" ]; then
		rm -rf "$top/mk"
		debootstrap --variant=minbase --make-tarball="$minbase.tmp" bookworm "$top/mk" "$mirror" \
			>"$log" 2>&1 || return 1
		mv "$minbase.tmp" "$minbase"
		rm -rf "$top/mk"
	fi
	remove_chroot || return 1
	debootstrap --variant=minbase --unpack-tarball="$minbase" bookworm "$chroot" "$mirror" \
		>"$log" 2>&1 || return 1
	cat >"$chroot/etc/apt/sources.list" <<-EOF
		deb $mirror bookworm main
		deb $mirror bookworm-updates main
		deb $security bookworm-security main
	EOF
	# no daemons from package scripts in a chroot
	printf '#!/bin/sh\nexit 101\n' >"$chroot/usr/sbin/policy-rc.d"
	chmod 0755 "$chroot/usr/sbin/policy-rc.d"
	mount_chroot || return 1
	apt_in update >>"$log" 2>&1 &&
		apt_in install --no-install-recommends initramfs-tools systemd >>"$log" 2>&1 &&
		apt_in clean >>"$log" 2>&1 || return 1
	umount_all
	tar -C "$chroot" -cf "$base.tmp" . && mv "$base.tmp" "$base"
}

mount_chroot() {
	local d
	for d in proc sys dev; do
		mount --bind "/$d" "$chroot/$d" || return 1
		mounts+=("$chroot/$d")
	done
	mount --bind "$archives" "$chroot/var/cache/apt/archives" || return 1
	mounts+=("$chroot/var/cache/apt/archives")
}

t0=$(date +%s)
if [ ! -f "$base" ] && ! setup_base; then
	umount_all
	fail_log "$log" "setup: cannot bootstrap a Debian 12 chroot from $mirror"
	exit 1
fi
remove_chroot || { fail "setup: cannot remove the old chroot"; exit 1; }
mkdir -p "$chroot"
if ! tar -C "$chroot" -xf "$base" || ! mount_chroot; then
	fail "setup: cannot unpack $base into $chroot"
	exit 1
fi
# a fixed machine id: kernel-install names the BLS entry directory after it
echo 6b696e646c696e67746573746d616368 >"$chroot/etc/machine-id"
# the host's apt cache may already hold the kernel package (same archive)
cp -n /var/cache/apt/archives/linux-image-6.12*.deb "$archives/" 2>/dev/null
if ! apt_in update >"$log" 2>&1; then
	fail_log "$log" "setup: apt-get update in the chroot failed"
	exit 1
fi
pass "setup: Debian 12 chroot from $(basename "$base") in $(($(date +%s) - t0)) s"

# ---- install the .deb --------------------------------------------------------
cp "$deb" "$chroot/tmp/"
if apt_in install "/tmp/$(basename "$deb")" >"$log" 2>&1 &&
   in_chroot dpkg-query -W -f='${db:Status-Status}' kindling | grep -qx installed; then
	st=$(in_chroot dpkg-query -W -f='${db:Status-Status}' initramfs-tools 2>/dev/null)
	if [ "$st" != installed ] && [ ! -e "$chroot/usr/sbin/update-initramfs" ]; then
		pass "apt-get install ./$(basename "$deb"): installed, initramfs-tools replaced (${st:-gone})"
	else
		fail "apt-get install of the .deb left initramfs-tools installed ($st)"
	fi
else
	fail_log "$log" "apt-get install of $(basename "$deb") in the chroot failed"
	exit 1
fi

# ---- the kernel package: postinst.d ------------------------------------------------
if ! apt_in install --no-install-recommends linux-image-6.12-amd64 >"$log" 2>&1; then
	fail_log "$log" "apt-get install linux-image-6.12-amd64 failed"
	exit 1
fi
kpkg=$(in_chroot sh -c 'dpkg -S /lib/modules/6.12* 2>/dev/null' | cut -d: -f1 | head -n 1)
kver=$(basename "$(ls -d "$chroot"/lib/modules/6.12* | head -n 1)")
img=$chroot/boot/initrd.img-$kver
kernel=$chroot/boot/vmlinuz-$kver

# is_kindling IMAGE [ROOT]: the image carries a generic load plan for $kver
# (read by the chroot's kindling, or the host's when the image is elsewhere)
is_kindling() {
	local out
	if [ -n "${2:-}" ]; then
		out=$("$BUILD/kindling" ls "$1" 2>&1) || { echo "kindling ls failed: $out"; return 1; }
	else
		out=$(in_chroot kindling ls "${1#"$chroot"}" 2>&1) ||
			{ echo "kindling ls failed: $out"; return 1; }
	fi
	grep -q 'load plan (etc/kindling/plan' <<<"$out" || { echo "no load plan in it"; return 1; }
	# basic regular expressions: the '+' of Debian's releases is literal
	grep -q "^ *kernel: *$kver\$" <<<"$out" || { echo "its plan is not for $kver"; return 1; }
	grep -q '^ *host-only: *no$' <<<"$out" || { echo "its plan is not generic"; return 1; }
	grep -q ' virtio_blk ' <<<"$out" || { echo "it has no virtio_blk"; return 1; }
}

if [ -n "$kpkg" ] && [ -f "$img" ] && why=$(is_kindling "$img"); then
	pass "apt-get install $kpkg: /boot/initrd.img-$kver is a kindling image (kindling ls shows its plan)"
else
	fail_log "$log" "apt-get install ${kpkg:-the kernel}: /boot/initrd.img-$kver: ${why:-missing}"
fi

# boot NAME KERNEL INITRD: the test root (virtio-blk, ext4, root=UUID=) must
# be reached through kindling's init.
boot() {
	local name=$1 disk status reason
	disk=$(kb_disk ext4 none) || { fail "boot $name: cannot make the root disk: $disk"; return; }
	FSTYPE=ext4 EXPECT_ROOTDEV=vda EXPECT_OPTS=ro EXPECT_MODULES="virtio_blk ext4"
	KB_KERNEL=$2 kb_boot "$name" "$kver" "$3" "$disk" virtio-blk "root=UUID=$KB_FS_UUID_ext4 ro" \
		2>"$top/boot.err"
	status=$?
	if [ ! -s "$KB_LOG" ]; then
		fail "boot $name: QEMU did not start: $(tr '\n' ' ' <"$top/boot.err")"
		return
	fi
	reason=$(check_common "$KB_LOG") && reason=$(check_marker "$KB_LOG") &&
		{ tr -d '\r' <"$KB_LOG" | grep -q 'kindling: freed initramfs' ||
			reason="no 'kindling: freed initramfs' line: not kindling's init"; }
	[ "$status" -eq 0 ] || [ -n "$reason" ] || reason="QEMU status $status"
	if [ -z "$reason" ]; then
		pass "boot $name: the chroot's $kver kernel and image reach the real root" \
			"($(kb_initrd_stage "$KB_LOG") s initrd stage)"
	else
		fail "boot $name: $reason (log $KB_LOG)"
		kb_tail "$KB_LOG" 12
	fi
}
[ -f "$img" ] && boot postinst "$kernel" "$img"

# --reinstall runs the hook again: a new file (rename) with the same plan
ino=$(stat -c %i "$img" 2>/dev/null)
if apt_in install --reinstall "$kpkg" >"$log" 2>&1 && [ -f "$img" ] &&
   [ "$(stat -c %i "$img")" != "$ino" ] && why=$(is_kindling "$img"); then
	pass "apt-get install --reinstall $kpkg: the hook rebuilt /boot/initrd.img-$kver"
else
	fail_log "$log" "apt-get install --reinstall $kpkg: ${why:-the image was not rebuilt}"
fi
ls "$chroot"/boot/.initrd.img-* >/dev/null 2>&1 && fail "a temporary file is left in /boot"

# ---- kindling update, in the chroot and with -r ROOT from the host --------------------
ino=$(stat -c %i "$img")
if out=$(in_chroot kindling update 2>&1) && [ "$(stat -c %i "$img")" != "$ino" ] &&
   grep -q "generating /boot/initrd.img-$kver for kernel $kver (generic)" <<<"$out"; then
	pass "kindling update (the newest kernel) rebuilt /boot/initrd.img-$kver"
else
	fail "kindling update: $out"
fi
ino=$(stat -c %i "$img")
if out=$("$BUILD/kindling" update -r "$chroot" -k all -q 2>&1) && [ -z "$out" ] &&
   [ "$(stat -c %i "$img")" != "$ino" ] && why=$(is_kindling "$img"); then
	pass "kindling update -r CHROOT -k all rebuilt CHROOT/boot/initrd.img-$kver, quietly"
else
	fail "kindling update -r $chroot -k all: ${why:-$out}"
fi
# -k all goes on past a kernel whose build fails, and names it: a scratch
# root with the chroot's kernel and a broken one that sorts first.
fake=$top/fakeroot
rm -rf "$fake"
mkdir -p "$fake/lib/modules/0.1-broken" "$fake/boot" "$fake/etc/kindling.conf.d"
ln -s "$chroot/lib/modules/$kver" "$fake/lib/modules/$kver"
echo 'kernel/x.ko:' >"$fake/lib/modules/0.1-broken/modules.dep"
touch "$fake/boot/vmlinuz-0.1-broken" "$fake/boot/vmlinuz-$kver"
echo 'add = virtio_blk' >"$fake/etc/kindling.conf.d/50-test.conf"
out=$("$BUILD/kindling" update -r "$fake" -k all -q 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'failed for kernel(s): 0.1-broken$' <<<"$out" &&
   [ ! -e "$fake/boot/initrd.img-0.1-broken" ] && why=$(is_kindling "$fake/boot/initrd.img-$kver" "$fake"); then
	pass "kindling update -k all: exit 1 naming the kernel that failed, the other one built"
else
	fail "kindling update -r $fake -k all: exit $rc: ${why:-$out}"
fi
rm -rf "$fake"
out=$("$BUILD/kindling" update -r "$chroot" -k 0.0-none 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'kernel 0.0-none is not installed' <<<"$out"; then
	pass "kindling update -k of a missing kernel: exit 1 naming it"
else
	fail "kindling update -k 0.0-none: exit $rc: $out"
fi

# ---- systemd's kernel-install ---------------------------------------------
# A BLS layout in a scratch BOOT_ROOT: loader/entries.srel says type1.
esp=/efi-test
rm -rf "${chroot:?}$esp"
mkdir -p "$chroot$esp/loader"
echo type1 >"$chroot$esp/loader/entries.srel"
machine=$(cat "$chroot/etc/machine-id")
entry=$chroot$esp/$machine/$kver
if out=$(in_chroot BOOT_ROOT=$esp kernel-install add "$kver" "/boot/vmlinuz-$kver" 2>&1); then
	if [ -n "$out" ]; then
		fail "kernel-install add (not verbose) printed: $out"
	elif [ -f "$entry/initrd" ] && why=$(is_kindling "$entry/initrd") &&
	     [ "$(grep '^initrd' "$chroot$esp/loader/entries/$machine-$kver.conf")" = \
	       "initrd     $esp/$machine/$kver/initrd" ]; then
		pass "kernel-install add (layout bls): ENTRY_DIR_ABS/initrd is a kindling image," \
			"the only initrd of the entry, quietly"
		boot kernel-install "$entry/linux" "$entry/initrd"
	else
		fail "kernel-install add (layout bls): $entry/initrd: ${why:-missing, or not the only initrd of the entry}"
		cat "$chroot$esp/loader/entries/$machine-$kver.conf" | sed 's/^/  | /'
		ls -lR "$chroot$esp" | sed 's/^/  | /' | head -20
	fi
else
	fail "kernel-install add (layout bls) failed: $out"
fi
out=$(in_chroot BOOT_ROOT=$esp kernel-install -v add "$kver" "/boot/vmlinuz-$kver" 2>&1)
if grep -q "50-kindling.install: building /tmp/kernel-install.staging.*/initrd for kernel $kver (layout bls)" <<<"$out"; then
	pass "kernel-install -v add: the plugin says what it builds where (KERNEL_INSTALL_VERBOSE=1)"
else
	fail "kernel-install -v add: no line from 50-kindling.install: $(tail -n 5 <<<"$out")"
fi
# Initrd files given by the caller: kindling builds none, the given one is
# the entry's initrd.
rm -f "$entry/initrd"
out=$(in_chroot BOOT_ROOT=$esp kernel-install -v add "$kver" "/boot/vmlinuz-$kver" \
	"/boot/initrd.img-$kver" 2>&1)
if grep -q 'initrd files given on the command line: not building one' <<<"$out" &&
   [ ! -e "$entry/initrd" ] && cmp -s "$entry/initrd.img-$kver" "$img"; then
	pass "kernel-install add KVER KERNEL INITRD: the plugin leaves the given initrd alone"
else
	fail "kernel-install add with an initrd file: $(tail -n 5 <<<"$out")"
fi
rm -f "$entry/initrd.img-$kver"
# Another generator configured: kindling stays out of it.
mkdir -p "$chroot/etc/kernel"
echo initrd_generator=dracut >"$chroot/etc/kernel/install.conf"
rm -f "$entry/initrd"
out=$(in_chroot BOOT_ROOT=$esp kernel-install -v add "$kver" "/boot/vmlinuz-$kver" 2>&1)
if grep -q 'initrd_generator=dracut: not kindling' <<<"$out" && [ ! -e "$entry/initrd" ]; then
	pass "kernel-install with initrd_generator=dracut: the plugin does nothing"
else
	fail "kernel-install with initrd_generator=dracut: $(tail -n 5 <<<"$out")"
fi
rm -f "$chroot/etc/kernel/install.conf"
in_chroot BOOT_ROOT=$esp kernel-install add "$kver" "/boot/vmlinuz-$kver" >/dev/null 2>&1

# Debian's default: no loader/entries.srel, no entry directory: layout other,
# the initrd beside the kernel.
ino=$(stat -c %i "$img")
if out=$(in_chroot kernel-install add "$kver" "/boot/vmlinuz-$kver" 2>&1) &&
   [ "$(stat -c %i "$img")" != "$ino" ] && why=$(is_kindling "$img"); then
	pass "kernel-install add (Debian's default layout other): rebuilt /boot/initrd.img-$kver"
else
	fail "kernel-install add (layout other): ${why:-$out}"
fi

# ---- a failed build inside the hooks ------------------------------------------
mkdir -p "$chroot/etc/kindling.conf.d"
echo 'add = no_such_module' >"$chroot/etc/kindling.conf.d/90-broken.conf"
sum=$(sha256sum <"$img")
esum=$(sha256sum <"$entry/initrd")
out=$(apt_in install --reinstall "$kpkg" 2>&1)
rc=$?
printf '%s\n' "$out" >"$top/failed-apt.log"
if [ "$rc" -ne 0 ] && grep -q 'no_such_module' <<<"$out" &&
   grep -q "kindling: could not build /boot/initrd.img-$kver for kernel $kver" <<<"$out" &&
   [ "$(sha256sum <"$img")" = "$sum" ] && ! ls "$chroot"/boot/.initrd.img-* >/dev/null 2>&1; then
	pass "a failed build in postinst.d: apt-get exits $rc naming the module, the image is byte-identical"
else
	fail "a failed build in postinst.d: apt-get exit $rc, image $([ "$(sha256sum <"$img")" = "$sum" ] &&
		echo unchanged || echo CHANGED)"
	grep -i 'kindling\|error' <<<"$out" | tail -n 8 | sed 's/^/  | /'
fi
out=$(in_chroot BOOT_ROOT=$esp kernel-install add "$kver" "/boot/vmlinuz-$kver" 2>&1)
rc=$?
printf '%s\n' "$out" >"$top/failed-kernel-install.log"
if [ "$rc" -ne 0 ] && grep -q 'no_such_module' <<<"$out" &&
   grep -q "50-kindling.install: could not build the initrd for kernel $kver" <<<"$out" &&
   [ "$(sha256sum <"$entry/initrd")" = "$esum" ]; then
	pass "a failed build in kernel-install: exit $rc with the reason, ENTRY_DIR_ABS/initrd byte-identical"
else
	fail "a failed build in kernel-install: exit $rc: $(tail -n 3 <<<"$out")"
fi
rm -f "$chroot/etc/kindling.conf.d/90-broken.conf"
if apt_in install -f >"$log" 2>&1 && in_chroot dpkg --configure -a >>"$log" 2>&1 &&
   in_chroot dpkg-query -W -f='${db:Status-Status}' "$kpkg" | grep -qx installed; then
	pass "with the configuration fixed, dpkg --configure -a completes the kernel package"
else
	fail_log "$log" "dpkg --configure -a after the fix failed"
fi

# kernel-install remove: the entry and its initrd go
if in_chroot BOOT_ROOT=$esp kernel-install remove "$kver" >"$log" 2>&1 && [ ! -e "$entry/initrd" ] &&
   [ ! -e "$chroot$esp/loader/entries/$machine-$kver.conf" ]; then
	pass "kernel-install remove (layout bls): the entry and its initrd are gone"
else
	fail_log "$log" "kernel-install remove: $entry/initrd is still there"
fi

# ---- apt-get remove ------------------------------------------------------------
# what a build killed half-way leaves where O_TMPFILE is not supported
# (builder/image/output.c's named temporary file; tests/oracle/compress.sh
# kills a real build to make one)
touch "$chroot/boot/.initrd.img-$kver.kindling-tmp"
if apt_in remove "$kpkg" >"$log" 2>&1 && [ ! -e "$img" ] && [ ! -e "$kernel" ] &&
   ! ls "$chroot"/boot/.initrd.img-* >/dev/null 2>&1; then
	pass "apt-get remove $kpkg: the postrm.d hook removed /boot/initrd.img-$kver and a leftover temporary file"
else
	fail_log "$log" "apt-get remove $kpkg: /boot/initrd.img-$kver $([ -e "$img" ] && echo 'is still there')"
fi

exit "$failed"
