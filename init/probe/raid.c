// SPDX-License-Identifier: MIT
/*
 * Members of something larger, which the init must never mount: md RAID
 * (linux_raid_member), LVM2 physical volumes (LVM2_member) and LUKS
 * containers (crypto_LUKS).  Recognised so the diagnostics can say what a
 * device is and the root matcher can refuse it.  Layouts: the kernel's
 * md_p.h, LVM2's label.h, the LUKS1/LUKS2 on-disk format documents.
 */
#include <stdio.h>
#include <string.h>

#include "probe/internal.h"

#define MD_MAGIC 0xa92b4efcu
#define MD_RESERVED 65536u

static void set_member(struct ki_id *id, const char *type, enum ki_usage usage)
{
	snprintf(id->type, sizeof(id->type), "%s", type);
	id->usage = usage;
}

/* md 0.90: at the last 64 KiB-aligned 64 KiB, in the host's byte order. */
static int md0(const struct ki_dev *d, struct ki_id *id)
{
	uint64_t off = (d->size & ~(uint64_t)(MD_RESERVED - 1)) - MD_RESERVED, size;
	unsigned char sb[64], u[16] = { 0 };
	bool le;
	uint32_t (*rd)(const unsigned char *);

	if (ki_pread(d, off, sb, sizeof(sb)) < 0)
		return 0;
	le = ki_le32(sb) == MD_MAGIC;
	if (!le && ki_be32(sb) != MD_MAGIC)
		return 0;
	rd = le ? ki_le32 : ki_be32;
	size = (uint64_t)rd(sb + 32) << 10;
	if (d->size < size + MD_RESERVED || off < size)
		return 0;
	for (int i = 0; i < 4; i++) {
		/* uuid0 at word 5, uuid1-3 at words 13-15; 0.90 needs minor >= 90 */
		uint32_t w = i == 0 ? rd(sb + 20) : rd(sb + 48 + 4 * i);

		if (i > 0 && rd(sb + 8) < 90)
			w = 0;
		u[4 * i] = (unsigned char)(w >> 24);
		u[4 * i + 1] = (unsigned char)(w >> 16);
		u[4 * i + 2] = (unsigned char)(w >> 8);
		u[4 * i + 3] = (unsigned char)w;
	}
	set_member(id, "linux_raid_member", KI_USE_RAID);
	ki_id_uuid(id->uuid, sizeof(id->uuid), u);
	return 1;
}

/* md 1.x at off: magic, major version 1, and it must say where it is. */
static int md1(const struct ki_dev *d, uint64_t off, struct ki_id *id)
{
	unsigned char sb[256];

	if (ki_pread(d, off, sb, sizeof(sb)) < 0 || ki_le32(sb) != MD_MAGIC ||
	    ki_le32(sb + 4) != 1 || ki_le64(sb + 144) != off >> 9)
		return 0;
	set_member(id, "linux_raid_member", KI_USE_RAID);
	ki_id_uuid(id->uuid, sizeof(id->uuid), sb + 16);
	ki_id_set(id->label, sizeof(id->label), sb + 32, 32);
	return 1;
}

static int probe_md(const struct ki_dev *d, struct ki_id *id)
{
	if (d->size > MD_RESERVED) {
		if (md0(d, id) || md1(d, (d->size & ~(uint64_t)4095) - 8192, id))
			return 1; /* 0.90, 1.0 */
	}
	return md1(d, 0, id) || md1(d, 4096, id); /* 1.1, 1.2 */
}

/* LVM2: "LABELONE" in one of the first four sectors, checksummed. */
static int probe_lvm2(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char s[512];
	int i, j, n = 0;

	for (i = 0; i < 4; i++) {
		if (ki_pread(d, (uint64_t)i * 512, s, sizeof(s)) < 0)
			return 0;
		if (memcmp(s, "LABELONE", 8) == 0 && memcmp(s + 24, "LVM2 001", 8) == 0)
			break;
	}
	if (i == 4 || ki_le64(s + 8) != (uint64_t)i ||
	    ki_crc32(0xf597a6cfu, s + 20, 512 - 20) != ki_le32(s + 16))
		return 0;
	set_member(id, "LVM2_member", KI_USE_RAID);
	/* 32 characters shown as 6-4-4-4-4-4-6 */
	for (j = 0; j < 32; j++) {
		if (j == 6 || j == 10 || j == 14 || j == 18 || j == 22 || j == 26)
			id->uuid[n++] = '-';
		id->uuid[n++] = (char)s[32 + j];
	}
	id->uuid[n] = '\0';
	return 1;
}

/* LUKS1 and LUKS2 (primary header at 0): UUID as text, LUKS2 a label. */
static int probe_luks(const struct ki_dev *d, struct ki_id *id)
{
	unsigned char h[256];
	unsigned version;

	if (ki_pread(d, 0, h, sizeof(h)) < 0 || memcmp(h, "LUKS\xba\xbe", 6) != 0)
		return 0;
	version = (unsigned)(h[6] << 8 | h[7]);
	if (version != 1 && version != 2)
		return 0;
	set_member(id, "crypto_LUKS", KI_USE_CRYPTO);
	ki_id_set(id->uuid, sizeof(id->uuid), h + 168, 40);
	if (version == 2)
		ki_id_set(id->label, sizeof(id->label), h + 24, 48);
	return 1;
}

/* 1 when the device is a RAID, LVM or LUKS member (id filled), else 0. */
int ki_probe_raid(const struct ki_dev *d, struct ki_id *id)
{
	if (probe_md(d, id) || probe_lvm2(d, id) || probe_luks(d, id))
		return 1;
	memset(id, 0, sizeof(*id));
	return 0;
}
