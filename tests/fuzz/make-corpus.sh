#!/bin/bash
# Write the fuzzer's seed images into tests/fuzz/corpus/: one small archive
# in each compression the kernel reads, an "070702" (crc) archive, and
# concatenations with zero padding, as initramfs tools write them.  The
# seeds are checked in; run this again only to change them.
set -eu
cd "$(dirname "$0")"
out=$PWD/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/root/etc/kindling" "$work/root/bin" "$work/ucode/kernel/x86/microcode"
printf 'hello\n' >"$work/root/etc/motd"
# a small valid load plan (common/plan.h): two modules, one alias, one built-in
python3 - "$work/root/etc/kindling/plan" <<'PY'
import struct, sys
strs = [b"", b"6.1.0-seed", b"UUID=0123", b"quiet", b"virtio", b"/lib/modules/v.ko",
        b"virtio_blk", b"/lib/modules/vb.ko", b"queues=1", b"root disk", b"pci:v1AF4*", b"ext4"]
tab, off = b"", {}
for s in strs:
    off[s] = len(tab); tab += s + b"\0"
mods = struct.pack("<9I", off[b"virtio"], off[b"/lib/modules/v.ko"], 0, 0, 0, 0, 0, 0, 0)
mods += struct.pack("<9I", off[b"virtio_blk"], off[b"/lib/modules/vb.ko"], off[b"queues=1"],
                    off[b"root disk"], 1, 0, 1, 0, 0)
deps, aliases = struct.pack("<I", 0), struct.pack("<2I", off[b"pci:v1AF4*"], 1)
builtins = struct.pack("<I", off[b"ext4"])
mo = 80; do = mo + len(mods); ao = do + len(deps); bo = ao + len(aliases); so = bo + len(builtins)
hdr = b"KINDLPLN" + struct.pack("<18I", 1, 80, so + len(tab), 1, off[b"6.1.0-seed"],
      off[b"UUID=0123"], off[b"quiet"], 30, 2, mo, 1, do, 1, ao, 1, bo, len(tab), so)
open(sys.argv[1], "wb").write(hdr + mods + deps + aliases + builtins + tab)
PY
ln -s ../etc/motd "$work/root/bin/link"
printf 'GenuineIntel' >"$work/ucode/kernel/x86/microcode/GenuineIntel.bin"
find "$work/root" "$work/ucode" -exec touch -h -d @0 {} +
mk() { (cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H "$2" --reproducible -R 0:0); }
mk "$work/root" newc >"$work/main.cpio"
mk "$work/ucode" newc >"$work/early.cpio"
cp "$work/main.cpio" "$out/seed-cpio"
mk "$work/root" crc >"$out/seed-crc"
gzip -n -9 <"$work/main.cpio" >"$out/seed-gzip"
zstd -q -19 <"$work/main.cpio" >"$out/seed-zstd"
xz --check=crc32 <"$work/main.cpio" >"$out/seed-xz"
xz --format=lzma <"$work/main.cpio" >"$out/seed-lzma"
lz4 -q -l -9 <"$work/main.cpio" >"$out/seed-lz4"
bzip2 -9 <"$work/main.cpio" >"$out/seed-bzip2"
# early microcode, then the main archive compressed, padded to 512 bytes
{ cat "$work/early.cpio"; head -c 512 /dev/zero; cat "$out/seed-zstd"; } >"$out/seed-early-zstd"
{ cat "$out/seed-gzip"; head -c 3 /dev/zero; cat "$out/seed-xz"; head -c 4 /dev/zero;
  cat "$out/seed-lz4"; head -c 4 /dev/zero; } >"$out/seed-multi"
ls -l "$out"
