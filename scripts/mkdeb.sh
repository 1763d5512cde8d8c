#!/bin/sh
# Build build/kindling_VERSION_amd64.deb with dpkg-deb from the tree (`make deb`).
#   DEB_VERSION     the package version (default 0.1+gitN, N the commit count)
#   DEB_MAINTAINER  the Maintainer field
# The tree is installed with PREFIX=/usr into build/deb/root (objects in
# build/deb/obj: the install paths are compiled into the binary), the binary
# is stripped, man pages compressed, and Depends is what dpkg-shlibdeps finds
# for the shared libraries the binary links (the init is static).
set -eu
cd "$(dirname "$0")/.."

count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
version=${DEB_VERSION:-0.1+git$count}
maintainer=${DEB_MAINTAINER:-kindling developers <kindling@example.org>}
arch=$(dpkg --print-architecture)
top=build/deb
root=$top/root
out=build/kindling_${version}_$arch.deb

rm -rf "$root" "$top/src"
mkdir -p "$root/DEBIAN" "$top/src/debian"
make -s install BUILD="$top/obj" PREFIX=/usr DESTDIR="$PWD/$root" >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/kindling"
gzip -9n "$root/usr/share/man/man8/kindling.8" "$root/usr/share/man/man5/kindling.conf.5"
cat >"$root/usr/share/doc/kindling/copyright" <<'EOT'
kindling: an initramfs builder and its init.

License: MIT (every source file carries SPDX-License-Identifier: MIT).
EOT

# dpkg-shlibdeps reads debian/control of the directory it runs in.
printf 'Source: kindling\n\nPackage: kindling\nArchitecture: any\n' >"$top/src/debian/control"
depends=$(cd "$top/src" && dpkg-shlibdeps -O "../root/usr/bin/kindling" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no Depends for usr/bin/kindling" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: kindling
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Provides: linux-initramfs-tool
Conflicts: linux-initramfs-tool, initramfs-tools
Replaces: initramfs-tools
Section: admin
Priority: optional
Description: initramfs builder with a precomputed module load plan
 kindling builds small initramfs images: it resolves what a machine needs
 to reach its root against the target kernel's module database (with
 modprobe's answers) and writes a cpio image whose static init loads those
 modules in parallel, finds the root and switches to it.  No shell and no
 udev in the image.
 .
 This package replaces initramfs-tools: its hooks in /etc/kernel/postinst.d
 and postrm.d build and remove /boot/initrd.img-KVER when a kernel package
 is installed or removed, and its kernel-install plugin serves systemd's
 kernel-install.
EOT
# Debian's systemd stages /boot/initrd.img-KVER too (85-initrd.install), so a
# BLS entry would list two initrds, the second unpacked over kindling's.
# kindling stages its own (50-kindling.install): mask that plugin, as
# kernel-install documents (a same-named link to /dev/null in /etc).
mkdir -p "$root/etc/kernel/install.d"
ln -s /dev/null "$root/etc/kernel/install.d/85-initrd.install"
# the files under /etc are the administrator's
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'EOT'
#!/bin/sh
# kindling's postinst: nothing to configure.  The images already in /boot
# stay as they are until the next kernel installation, or until the
# administrator runs `kindling update -k all`.
set -e
exit 0
EOT
chmod 0755 "$root/DEBIAN/postinst"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
	xargs md5sum) >"$root/DEBIAN/md5sums"

rm -f build/kindling_*_"$arch".deb # one package in build/, the newest
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
