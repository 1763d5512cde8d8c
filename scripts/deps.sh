#!/bin/sh
# Install, with apt-get, every Debian package kindling's build, tests, demo
# and benchmark use and that is not installed yet.  Idempotent and quiet
# when nothing is missing.  Usage: scripts/deps.sh [build|check|demo|bench|deb]
set -eu

build="gcc make pkg-config libarchive-dev libzstd-dev liblzma-dev libelf-dev
zlib1g-dev liblz4-dev libbz2-dev musl-tools"
check="$build libcmocka-dev kmod linux-image-amd64 linux-image-6.12-amd64
qemu-system-x86 e2fsprogs btrfs-progs xfsprogs dosfstools fuse2fs fdisk util-linux
cpio zstd xz-utils lz4 gzip bzip2 valgrind initramfs-tools
f2fs-tools erofs-utils squashfs-tools xorriso cryptsetup-bin lvm2 busybox
debootstrap systemd dpkg-dev groff-base man-db"
demo="$build kmod linux-image-amd64 qemu-system-x86 e2fsprogs"
bench="$check hyperfine"
fuzz="$build clang libclang-rt-14-dev"
deb="$build dpkg-dev"

case "${1:-check}" in
build) want=$build ;;
check) want=$check ;;
demo) want=$demo ;;
bench) want=$bench ;;
fuzz) want=$fuzz ;;
deb) want=$deb ;;
*) echo "deps.sh: unknown set '$1' (build, check, demo, bench, fuzz or deb)" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
# demo: any installed Debian kernel will do; only install one when none is.
if [ "${1:-check}" = demo ] && ls /lib/modules/*/modules.dep >/dev/null 2>&1 &&
   ls /boot/vmlinuz-* >/dev/null 2>&1; then
	missing=$(echo "$missing" | tr ' ' '\n' | grep -v '^linux-image-amd64$' | tr '\n' ' ' || true)
fi
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: $missing; run as root (or install them) first" >&2
	exit 1
fi
echo "deps.sh: installing $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing >/dev/null
