#!/bin/bash
# Make a raw root disk image for the boot tests, without loop devices.
#
# Environment (booster's generator style):
#   OUTPUT      the image to write (required; written to OUTPUT.tmp, renamed)
#   ROOTDIR     directory whose contents become the filesystem (required)
#   FSTYPE      ext4 | btrfs | xfs | vfat
#   TABLE       none | gpt | mbr      (none: the filesystem is the whole disk)
#   FS_UUID     filesystem UUID       (vfat: a volume id like 1234-ABCD)
#   FS_LABEL    filesystem label
#   PART_UUID   gpt: the partition's GUID; mbr: the disk id, 8 hex digits
#               (the partition's PARTUUID is then DISKID-01)
#   PART_LABEL  gpt: the partition's name
#   DISK_UUID   gpt: the disk's GUID (optional)
#   FS_SIZE_MB  filesystem size (default: ext4 64, vfat 64, btrfs 128, xfs 300)
#
# ext4: mkfs.ext4 -d; btrfs: mkfs.btrfs --rootdir; xfs: mkfs.xfs -p with a
# prototype file listing ROOTDIR; vfat: mkfs.vfat + mcopy (mtools).  With a
# partition table the filesystem is made in a separate file and dd'd into the
# partition at 1 MiB with conv=notrunc.
set -euo pipefail

die() { echo "disk.sh: $*" >&2; exit 1; }

: "${OUTPUT:?disk.sh: OUTPUT is not set}"
: "${ROOTDIR:?disk.sh: ROOTDIR is not set}"
FSTYPE=${FSTYPE:-ext4}
TABLE=${TABLE:-none}
FS_LABEL=${FS_LABEL:-}
FS_UUID=${FS_UUID:-}
PART_UUID=${PART_UUID:-}
PART_LABEL=${PART_LABEL:-}
DISK_UUID=${DISK_UUID:-}
[ -d "$ROOTDIR" ] || die "ROOTDIR '$ROOTDIR' is not a directory"

case $FSTYPE in
ext4 | vfat) size=${FS_SIZE_MB:-64} ;;
btrfs) size=${FS_SIZE_MB:-128} ;;
xfs) size=${FS_SIZE_MB:-300} ;;
*) die "unknown FSTYPE '$FSTYPE' (ext4, btrfs, xfs or vfat)" ;;
esac

tmp=$OUTPUT.tmp
fs=$OUTPUT.fs.tmp
trap 'rm -f "$tmp" "$fs" "$fs.proto"' EXIT
rm -f "$tmp" "$fs"
if [ "$TABLE" = none ]; then fs=$tmp; fi

# An xfs prototype file (mkfs.xfs -p): one line per entry, "$" closes a
# directory.  Regular files, directories and symlinks are enough here.
xfs_proto() {
	local dir=$1 e name mode
	for e in "$dir"/* "$dir"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		name=${e##*/}
		mode=$(stat -c %a "$e")
		if [ -L "$e" ]; then
			echo "$name l--777 0 0 $(readlink "$e")"
		elif [ -d "$e" ]; then
			echo "$name d--$mode 0 0"
			xfs_proto "$e"
			echo "\$"
		elif [ -f "$e" ]; then
			echo "$name ---$mode 0 0 $e"
		else
			die "xfs prototype: unsupported file type: $e"
		fi
	done
}

truncate -s "${size}M" "$fs"
case $FSTYPE in
ext4)
	mkfs.ext4 -q -F -d "$ROOTDIR" -E root_owner=0:0 ${FS_UUID:+-U "$FS_UUID"} \
		${FS_LABEL:+-L "$FS_LABEL"} "$fs" >/dev/null || die "mkfs.ext4 failed"
	;;
btrfs)
	# BLKID_FILE: mkfs.btrfs -U refuses a UUID libblkid's cache knows.
	BLKID_FILE=/dev/null mkfs.btrfs -q -f -r "$ROOTDIR" ${FS_UUID:+-U "$FS_UUID"} \
		${FS_LABEL:+-L "$FS_LABEL"} "$fs" >/dev/null || die "mkfs.btrfs failed"
	;;
xfs)
	{ echo "kindling-boot-test"; echo "0 0"; echo "d--755 0 0"
	  xfs_proto "$ROOTDIR"; echo "\$"; } >"$fs.proto"
	mkfs.xfs -q -f -p "$fs.proto" ${FS_UUID:+-m uuid="$FS_UUID"} \
		${FS_LABEL:+-L "$FS_LABEL"} "$fs" >/dev/null || die "mkfs.xfs failed"
	;;
vfat)
	command -v mcopy >/dev/null || die "vfat needs mcopy (Debian package mtools)"
	mkfs.vfat ${FS_UUID:+-i "${FS_UUID//-/}"} ${FS_LABEL:+-n "$FS_LABEL"} "$fs" \
		>/dev/null || die "mkfs.vfat failed"
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$fs" "$ROOTDIR"/* ::/ || die "mcopy failed"
	;;
esac

[ "$TABLE" = none ] && { mv "$tmp" "$OUTPUT"; exit 0; }

# The partition starts at 1 MiB; 1 MiB more at the end holds GPT's backup.
truncate -s "$((size + 2))M" "$tmp"
case $FSTYPE in ext4 | btrfs | xfs) gpt_type=0FC63DAF-8483-4772-8E79-3D69D8477DE4 mbr_type=83 ;;
vfat) gpt_type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 mbr_type=0c ;; esac
case $TABLE in
gpt)
	{ echo "label: gpt"
	  [ -n "$DISK_UUID" ] && echo "label-id: $DISK_UUID"
	  echo "start=2048, size=$((size * 2048)), type=$gpt_type${PART_UUID:+, uuid=$PART_UUID}${PART_LABEL:+, name=\"$PART_LABEL\"}"
	} | sfdisk -q --no-reread --no-tell-kernel "$tmp" >/dev/null || die "sfdisk (gpt) failed"
	;;
mbr)
	{ echo "label: dos"
	  [ -n "$PART_UUID" ] && echo "label-id: 0x$PART_UUID"
	  echo "start=2048, size=$((size * 2048)), type=$mbr_type"
	} | sfdisk -q --no-reread --no-tell-kernel "$tmp" >/dev/null || die "sfdisk (mbr) failed"
	;;
*) die "unknown TABLE '$TABLE' (none, gpt or mbr)" ;;
esac
dd if="$fs" of="$tmp" bs=1M seek=1 conv=notrunc,sparse status=none || die "dd into the partition failed"
mv "$tmp" "$OUTPUT"
