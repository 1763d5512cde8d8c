// SPDX-License-Identifier: MIT
/*
 * Filesystem superblocks, tried in libblkid's order (vfat, xfs, ext4,
 * ext3, ext2, iso9660, squashfs, btrfs, f2fs, erofs).  Each probe returns 1
 * with TYPE, UUID and LABEL set, or 0.  Offsets are those of the on-disk
 * formats (kernel headers: ext4.h, xfs_format.h, btrfs_tree.h, f2fs_fs.h,
 * erofs_fs.h, msdos_fs.h; ECMA-119 for iso9660).
 */
#include <stdio.h>
#include <string.h>

#include "common/extfs.h"
#include "probe/internal.h"

static void set_fs(struct ki_id *id, const char *type)
{
	snprintf(id->type, sizeof(id->type), "%s", type);
	id->usage = KI_USE_FS;
}

/* ---- ext2/3/4: superblock at 1 KiB, the type by common/extfs.h ----------- */

static int probe_ext(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[1024];
	const char *type;

	if (ki_pread(d, KC_EXT_SB_OFFSET, sb, sizeof(sb)) < 0 ||
	    ki_le16(sb + KC_EXT_OFF_MAGIC) != KC_EXT_MAGIC)
		return 0;
	type = kc_ext_type(ki_le32(sb + KC_EXT_OFF_COMPAT), ki_le32(sb + KC_EXT_OFF_INCOMPAT),
			   ki_le32(sb + KC_EXT_OFF_RO_COMPAT), ki_le32(sb + KC_EXT_OFF_FLAGS));
	if (type == NULL)
		return 0;
	set_fs(id, type);
	if (strcmp(type, "jbd") == 0)
		id->usage = KI_USE_OTHER; /* an external journal, not mountable */
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + KC_EXT_OFF_UUID);
	ki_id_set(id->label, sizeof(id->label), sb + KC_EXT_OFF_LABEL, 16);
	return 1;
}

/* ---- xfs: superblock at 0, big endian ------------------------------------ */

static bool pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int probe_xfs(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[512];

	if (ki_pread(d, 0, sb, sizeof(sb)) < 0 || memcmp(sb, "XFSB", 4) != 0)
		return 0;
	if (!pow2_in(ki_be32(sb + 4), 512, 65536) || ki_be32(sb + 88) == 0 ||
	    !pow2_in((uint32_t)(sb[102] << 8 | sb[103]), 512, 32768))
		return 0;
	set_fs(id, "xfs");
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + 32);
	ki_id_set(id->label, sizeof(id->label), sb + 108, 12);
	return 1;
}

/* ---- btrfs: superblock at 64 KiB ----------------------------------------- */

static int probe_btrfs(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[0x12b + 256];

	if (ki_pread(d, 65536, sb, sizeof(sb)) < 0 || memcmp(sb + 0x40, "_BHRfS_M", 8) != 0)
		return 0;
	set_fs(id, "btrfs");
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + 0x20);
	ki_id_set(id->label, sizeof(id->label), sb + 0x12b, 256);
	return 1;
}

/* ---- f2fs: superblock at 1 KiB, checksummed -------------------------------- */

static int probe_f2fs(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[3072];
	uint32_t csum_off;

	if (ki_pread(d, 1024, sb, sizeof(sb)) < 0 || ki_le32(sb) != 0xf2f52010u)
		return 0;
	set_fs(id, "f2fs");
	if (ki_le16(sb + 4) == 1 && ki_le16(sb + 6) == 0)
		return 1; /* version 1.0 has another layout: type only */
	csum_off = ki_le32(sb + 0x20);
	if (csum_off && (csum_off > sizeof(sb) - 4 ||
			 ki_crc32(0xf2f52010u, sb, csum_off) != ki_le32(sb + csum_off))) {
		memset(id, 0, sizeof(*id));
		return 0;
	}
	if (sb[0x7c])
		ki_id_utf16(id->label, sizeof(id->label), sb + 0x7c, 1024, false);
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + 0x6c);
	return 1;
}

/* ---- erofs: superblock at 1 KiB ------------------------------------------ */

static int probe_erofs(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[4096 - 1024];
	uint32_t want;
	size_t len;

	if (ki_pread(d, 1024, sb, 128) < 0 || ki_le32(sb) != 0xe0f5e1e2u)
		return 0;
	if (sb[12] > 12)
		return 0; /* blocks larger than 4 KiB */
	if (ki_le32(sb + 8) & 1) { /* superblock checksum */
		len = (1u << sb[12]) > 1024 ? (1u << sb[12]) - 1024 : 0;
		if (len == 0 || ki_pread(d, 1024, sb, len) < 0)
			return 0;
		want = ki_le32(sb + 4);
		memset(sb + 4, 0, 4);
		if (ki_crc32c(~0u, sb, len) != want)
			return 0;
	}
	set_fs(id, "erofs");
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + 48);
	ki_id_set(id->label, sizeof(id->label), sb + 64, 16);
	return 1;
}

/* ---- squashfs 4: superblock at 0 ----------------------------------------- */

static int probe_squashfs(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char sb[32];

	if (ki_pread(d, 0, sb, sizeof(sb)) < 0 || memcmp(sb, "hsqs", 4) != 0 ||
	    ki_le16(sb + 28) < 4)
		return 0;
	set_fs(id, "squashfs");
	return 1;
}

/* ---- iso9660: volume descriptors from 32 KiB ------------------------------ */

#define ISO_PVD 0x8000
#define ISO_SECTOR 2048

/* The volume's date as a UUID ("2024-01-31-12-00-00-00"); 0 if unset. */
static int iso_uuid(struct ki_id *id, const unsigned char *date)
{
	static const unsigned char zero[16];
	unsigned zeros = 0;

	for (int i = 0; i < 16; i++)
		zeros += date[i] == '0';
	if (zeros == 16 && date[16] == 0)
		return 0;
	if (memcmp(date, zero, 16) != 0)
		snprintf(id->uuid, sizeof(id->uuid), "%.4s-%.2s-%.2s-%.2s-%.2s-%.2s-%.2s",
			 date, date + 4, date + 6, date + 8, date + 10, date + 12, date + 14);
	return 1;
}

/* Does the Joliet label (UTF-16BE) only repeat the primary one? */
static bool ascii_is_utf16(const unsigned char *ascii, const unsigned char *u16)
{
	for (int i = 0; i < 16; i++)
		if (u16[2 * i] != 0 || u16[2 * i + 1] != ascii[i])
			return false;
	return true;
}

static bool joliet(const unsigned char *vd)
{
	return vd[88] == '%' && vd[89] == '/' && (vd[90] == '@' || vd[90] == 'C' ||
						  vd[90] == 'E');
}

static int probe_iso9660(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char pvd[ISO_SECTOR], vd[ISO_SECTOR];
	uint64_t off = ISO_PVD + ISO_SECTOR;

	if (ki_pread(d, ISO_PVD, pvd, sizeof(pvd)) < 0 || memcmp(pvd + 1, "CD001", 5) != 0)
		return 0;
	set_fs(id, "iso9660");
	if (!iso_uuid(id, pvd + 830))
		iso_uuid(id, pvd + 813);
	for (int i = 0; i < 16; i++, off += ISO_SECTOR) {
		if (ki_pread(d, off, vd, sizeof(vd)) < 0 || vd[0] == 0xff)
			break;
		if (vd[0] != 2 || !joliet(vd))
			continue;
		if (ascii_is_utf16(pvd + 40, vd + 40))
			break;
		ki_id_utf16(id->label, sizeof(id->label), vd + 40, 32, true);
		return 1;
	}
	ki_id_set(id->label, sizeof(id->label), pvd + 40, 32);
	return 1;
}

/* ---- vfat: boot sector, label in the root directory ----------------------- */

struct fat {
	uint32_t sector, cluster, reserved, fat_size, clusters, dir_entries;
	bool fat16, fat32; /* neither: libblkid reports the type only */
};

static bool fat_magic(const unsigned char *bs, bool *weak)
{
	static const struct { const char *magic; size_t len, off; } m[] = {
		{ "MSWIN", 5, 0x52 }, { "FAT32   ", 8, 0x52 }, { "MSDOS", 5, 0x36 },
		{ "FAT16   ", 8, 0x36 }, { "FAT12   ", 8, 0x36 }, { "FAT     ", 8, 0x36 },
	};

	*weak = false;
	for (size_t i = 0; i < KI_ARRAY_SIZE(m); i++)
		if (memcmp(bs + m[i].off, m[i].magic, m[i].len) == 0)
			return true;
	*weak = true;
	return bs[0] == 0xeb || bs[0] == 0xe9 || (bs[510] == 0x55 && bs[511] == 0xaa);
}

/* libblkid's sanity checks of the BIOS parameter block. */
static bool fat_valid(const unsigned char *bs, struct fat *f)
{
	uint32_t sectors, fat_len, dir_size, max;
	bool weak;

	if (!fat_magic(bs, &weak))
		return false;
	if (weak && (bs[510] != 0x55 || bs[511] != 0xaa || !memcmp(bs + 0x36, "JFS     ", 8) ||
		     !memcmp(bs + 0x36, "HPFS    ", 8)))
		return false;
	f->sector = ki_le16(bs + 0x0b);
	f->cluster = bs[0x0d];
	f->reserved = ki_le16(bs + 0x0e);
	if (bs[0x10] == 0 || f->reserved == 0 || !(bs[0x15] >= 0xf8 || bs[0x15] == 0xf0) ||
	    !pow2_in(f->cluster, 1, 128) || !pow2_in(f->sector, 512, 4096))
		return false;
	f->dir_entries = ki_le16(bs + 0x11);
	sectors = ki_le16(bs + 0x13) ? ki_le16(bs + 0x13) : ki_le32(bs + 0x20);
	fat_len = ki_le16(bs + 0x16) ? ki_le16(bs + 0x16) : ki_le32(bs + 0x24);
	f->fat_size = fat_len * bs[0x10];
	dir_size = (f->dir_entries * 32 + f->sector - 1) / f->sector;
	f->clusters = (sectors - (f->reserved + f->fat_size + dir_size)) / f->cluster;
	f->fat16 = ki_le16(bs + 0x16) != 0;
	f->fat32 = !f->fat16 && ki_le32(bs + 0x24) != 0;
	max = f->fat32 ? 0x0ffffff6 : f->clusters > 0xff4 ? 0xfff4 : 0xff4;
	return f->clusters <= max;
}

bool ki_probe_is_vfat(const struct ki_dev *d)
{
	unsigned char bs[512];
	struct fat f;

	return ki_pread(d, 0, bs, sizeof(bs)) == 0 && fat_valid(bs, &f);
}

/* The volume label entry among entries directory entries at off. */
static int fat_dir_label(const struct ki_dev *d, uint64_t off, uint32_t entries,
			 unsigned char label[11])
{
	unsigned char e[32];

	for (uint32_t i = 0; i < entries; i++, off += 32) {
		if (ki_pread(d, off, e, sizeof(e)) < 0 || e[0] == 0)
			return 0;
		if (e[0] == 0xe5 || ki_le16(e + 20) || ki_le16(e + 26) || (e[11] & 0x3f) == 0x0f)
			continue;
		if ((e[11] & 0x18) == 0x08) {
			memcpy(label, e, 11);
			return 1;
		}
	}
	return 0;
}

/* FAT32's root directory is a cluster chain: follow it (a bounded walk). */
static int fat32_label(const struct ki_dev *d, const unsigned char *bs, const struct fat *f,
		       unsigned char label[11])
{
	uint32_t entries = ki_le32(bs + 0x24) * f->sector / 4, next = ki_le32(bs + 0x2c);
	unsigned char fe[4];

	for (int loop = 1; next && next < entries && loop < 100; loop++) {
		uint64_t off = ((uint64_t)f->reserved + f->fat_size +
				(uint64_t)(next - 2) * f->cluster) * f->sector;

		if (fat_dir_label(d, off, f->cluster * f->sector / 32, label))
			return 1;
		if (ki_pread(d, (uint64_t)f->reserved * f->sector + next * 4ull, fe, 4) < 0)
			return 0;
		next = ki_le32(fe) & 0x0fffffff;
	}
	return 0;
}

static bool fsinfo_ok(const struct ki_dev *d, const unsigned char *bs, const struct fat *f)
{
	unsigned char fi[512];
	uint32_t sect = ki_le16(bs + 0x30);

	if (sect == 0)
		return true;
	if (ki_pread(d, (uint64_t)sect * f->sector, fi, sizeof(fi)) < 0)
		return false;
	return (!memcmp(fi, "RRaA", 4) || !memcmp(fi, "RRdA", 4) || !memcmp(fi, "\0\0\0\0", 4)) &&
	       (!memcmp(fi + 484, "rrAa", 4) || !memcmp(fi + 484, "\0\0\0\0", 4));
}

static int probe_vfat(const struct ki_dev *d, struct ki_id *id)
{
	static const char no_name[] = "NO NAME    ";
	unsigned char bs[512], label[11];
	const unsigned char *serial, *boot_label;
	struct fat f;
	int found;

	if (ki_pread(d, 0, bs, sizeof(bs)) < 0 || !fat_valid(bs, &f))
		return 0;
	set_fs(id, "vfat");
	if (f.fat16) {
		found = fat_dir_label(d, (uint64_t)(f.reserved + f.fat_size) * f.sector,
				      f.dir_entries, label);
		serial = bs + 0x27;
		boot_label = bs + 0x2b;
	} else if (f.fat32) {
		found = fat32_label(d, bs, &f, label);
		serial = bs + 0x43;
		boot_label = bs + 0x47;
		if (!fsinfo_ok(d, bs, &f)) {
			memset(id, 0, sizeof(*id));
			return 0;
		}
	} else {
		return 1;
	}
	if (!found || memcmp(label, no_name, 11) == 0)
		memcpy(label, boot_label, 11);
	if (memcmp(label, no_name, 11) != 0)
		ki_id_set(id->label, sizeof(id->label), label, 11);
	if (serial[0] | serial[1] | serial[2] | serial[3])
		snprintf(id->uuid, sizeof(id->uuid), "%02X%02X-%02X%02X", serial[3], serial[2],
			 serial[1], serial[0]);
	return 1;
}

/* ---- the table --------------------------------------------------------- */

/* 1 when a filesystem is recognised (id filled), else 0. */
int ki_probe_fs(const struct ki_dev *d, struct ki_id *id)
{
	static int (*const probes[])(const struct ki_dev *, struct ki_id *) = {
		probe_vfat, probe_xfs, probe_ext, probe_iso9660, probe_squashfs,
		probe_btrfs, probe_f2fs, probe_erofs,
	};

	for (size_t i = 0; i < KI_ARRAY_SIZE(probes); i++)
		if (probes[i](d, id) > 0)
			return 1;
	return 0;
}
