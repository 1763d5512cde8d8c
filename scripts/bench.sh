#!/bin/bash
# kindling next to its peers, in one run, with ratios.  Prints a Markdown
# table per section and keeps them in build/bench/results.md.
# Sections: moddb (database load and resolving typical roots, vs modprobe),
# generic (image build time, size and initrd stage, vs initramfs-tools),
# compress (each --compress: size, build and decompression time, vs zstd),
# hostonly (host-only images vs tiny-initramfs, initramfs-tools MODULES=dep
# and dracut --hostonly).
# Usage: scripts/bench.sh [SECTION...]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=build/bench
mkdir -p "$out"
sections=${*:-moddb generic compress hostonly}

# Newest kernel of a series: 6.12 has .ko.xz modules, 6.1 plain .ko.
kernel_of() {
	ls /lib/modules | grep -E "^$1" | sort -V | tail -1
}

# mean seconds of a command over runs, via hyperfine's JSON
hf_mean() {
	local json=$out/hf.json
	hyperfine -N --warmup 3 --min-runs 20 --export-json "$json" "$@" >/dev/null 2>&1
	sed -n 's/.*"mean": *\([0-9.e-]*\).*/\1/p' "$json" | head -1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }

roots="ext4 xfs btrfs vfat f2fs isofs squashfs overlay erofs nvme ahci ata_piix
sd_mod sr_mod virtio_blk virtio_scsi virtio_pci usb_storage uas xhci_pci ehci_pci
ohci_pci uhci_hcd mmc_block sdhci_pci sdhci_acpi dm_crypt dm_mod dm_raid raid1
raid456 raid10 md_mod nbd loop crypto-crc32c crypto-aes crypto-xts fs-ext4 fs-xfs
fs-btrfs hid_generic usbhid atkbd i8042 i2c_hid_acpi nls_cp437 nls_iso8859_1
megaraid_sas mpt3sas"

bench_moddb() {
	local k t_load t_k50 t_m50
	k=$(kernel_of '6\.12\.')
	t_load=$(hf_mean "$BUILD/kindling deps -k $k --cmdline '' ext4")
	t_k50=$(hf_mean "$BUILD/kindling deps -k $k --cmdline '' $(echo $roots)")
	t_m50=$(hf_mean "modprobe -S $k -a --show-depends $(echo $roots)")
	{
		echo "### Module database ($k, $(echo $roots | wc -w) typical roots)"
		echo
		echo "| what | kindling | modprobe | modprobe / kindling |"
		echo "|---|---|---|---|"
		echo "| load database + resolve ext4 (whole process) | $(ms "$t_load") | | target < 30 ms |"
		echo "| resolve 50 roots (--show-depends) | $(ms "$t_k50") | $(ms "$t_m50") | $(ratio "$t_m50" "$t_k50")x |"
		echo
	} | tee "$out/moddb.md"
}

for s in $sections; do
	if [ -x "scripts/bench-$s.sh" ]; then
		"scripts/bench-$s.sh" | tee "$out/$s.md"
	elif declare -F "bench_$s" >/dev/null; then
		"bench_$s"
	else
		echo "bench: no section '$s' yet" >&2
	fi
done
cat "$out"/*.md >"$out/results.md" 2>/dev/null || true
