# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# --microcode all: an uncompressed early cpio with kernel/x86/microcode/
# GenuineIntel.bin and AuthenticAMD.bin leads the image, the zstd one follows,
# and the image still boots.  Debian's intel-microcode and amd64-microcode
# are in non-free-firmware, which this archive does not carry, so the files
# come from a fixture ROOT (-r; the modules still from /lib/modules): they
# are not real microcode, which the kernel's early loader skips.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
KINDLING_ONLY=1
EXPECT_ROOTDEV=vda
EXPECT_OPTS=ro
EXPECT_MODULES="virtio_blk ext4"
prepare() {
	mkdir -p "$WORK/root/lib/firmware/intel-ucode" "$WORK/root/lib/firmware/amd-ucode"
	printf 'fake intel 06-55-04' >"$WORK/root/lib/firmware/intel-ucode/06-55-04"
	printf 'fake intel 06-8e-09' >"$WORK/root/lib/firmware/intel-ucode/06-8e-09"
	printf 'fake amd fam17h' >"$WORK/root/lib/firmware/amd-ucode/microcode_amd_fam17h.bin"
	BUILD_ARGS="--generic --microcode all -r $WORK/root --moddir /lib/modules/$KVER"
}
# kindling ls: segment 1 at offset 0 is the uncompressed microcode cpio,
# holding both files (concatenated in name order), segment 2 the zstd image
check() {
	local ls segs
	ls=$("$BUILD/kindling" ls "$JOB_INITRD") || { echo "kindling ls failed"; return; }
	segs=$(awk '/^segment +offset/ { t = 1; next } t && NF == 6 { print $1 ":" $2 ":" $3 } /^$/ { t = 0 }' <<<"$ls" | tr '\n' ' ')
	if [[ $segs != "1:0:cpio 2:"*":zstd " ]]; then
		echo "segments '$segs', not the microcode cpio at 0 then zstd"
	elif ! awk '/^segment 1 /,/^$/' <<<"$ls" | grep -q ' 38 kernel/x86/microcode/GenuineIntel.bin$'; then
		echo "no 38-byte kernel/x86/microcode/GenuineIntel.bin in segment 1"
	elif ! awk '/^segment 1 /,/^$/' <<<"$ls" | grep -q ' 15 kernel/x86/microcode/AuthenticAMD.bin$'; then
		echo "no kernel/x86/microcode/AuthenticAMD.bin in segment 1"
	elif [ "$("$BUILD/kindling" cat "$JOB_INITRD" kernel/x86/microcode/GenuineIntel.bin)" != \
	       "fake intel 06-55-04fake intel 06-8e-09" ]; then
		echo "GenuineIntel.bin is not the intel-ucode files concatenated"
	fi
}
