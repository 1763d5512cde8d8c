// SPDX-License-Identifier: MIT
/*
 * Partition tables: GPT (UEFI spec, chapter 5) and MBR ("dos") with its
 * chain of extended boot records.  Partition numbers follow the kernel's:
 * GPT entry index + 1; MBR slots 1-4, logical partitions from 5 in chain
 * order.  PART_ENTRY_UUID is the GPT entry's GUID, or for MBR the disk
 * signature and number as "%08x-%02x" (what root=PARTUUID= takes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"

#define GPT_ENTRIES_MAX (1u << 20) /* bytes of entries we are willing to read */
#define EBR_MAX 128

struct pt_walk {
	int (*each)(void *data, const struct ki_part *p);
	void *data;
};

/* The mixed-endian GUID layout: three little-endian fields, then bytes. */
static void guid(char *dst, size_t size, const unsigned char *g)
{
	static const unsigned char zero[16];

	if (memcmp(g, zero, 16) == 0) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", ki_le32(g),
		 ki_le16(g + 4), ki_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

/* ---- GPT --------------------------------------------------------------- */

static bool pmbr(const unsigned char *mbr)
{
	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return false;
	for (int i = 0; i < 4; i++)
		if (mbr[446 + 16 * i + 4] == 0xee)
			return true;
	return false;
}

/* A header at lba that checks out; its entries array in *ents (malloc'd). */
static int gpt_header(const struct ki_dev *d, uint64_t lba, unsigned char *h,
		      unsigned char **ents)
{
	uint32_t hsize, crc, n, esize;
	uint64_t len;

	*ents = NULL;
	if (ki_pread(d, lba * d->sector, h, d->sector) < 0 || memcmp(h, "EFI PART", 8) != 0)
		return 0;
	hsize = ki_le32(h + 12);
	if (hsize < 92 || hsize > d->sector || ki_le64(h + 24) != lba)
		return 0;
	crc = ki_le32(h + 16);
	memset(h + 16, 0, 4);
	if (~ki_crc32(~0u, h, hsize) != crc)
		return 0;
	n = ki_le32(h + 80);
	esize = ki_le32(h + 84);
	len = (uint64_t)n * esize;
	if (esize < 128 || esize % 8 || len == 0 || len > GPT_ENTRIES_MAX)
		return 0;
	*ents = malloc((size_t)len);
	if (*ents == NULL)
		return 0;
	if (ki_pread(d, ki_le64(h + 72) * d->sector, *ents, (size_t)len) < 0 ||
	    ~ki_crc32(~0u, *ents, (size_t)len) != ki_le32(h + 88)) {
		free(*ents);
		*ents = NULL;
		return 0;
	}
	return 1;
}

static int gpt_entries(const unsigned char *h, const unsigned char *ents,
		       const struct pt_walk *w)
{
	static const unsigned char unused[16];
	uint32_t n = ki_le32(h + 80), esize = ki_le32(h + 84);
	struct ki_part p;
	int err = 0;

	for (uint32_t i = 0; i < n && err == 0 && w->each; i++) {
		const unsigned char *e = ents + (size_t)i * esize;

		if (memcmp(e, unused, 16) == 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.number = i + 1;
		p.start = ki_le64(e + 32);
		p.sectors = ki_le64(e + 40) - p.start + 1;
		guid(p.uuid, sizeof(p.uuid), e + 16);
		ki_id_utf16(p.name, sizeof(p.name), e + 56, 72, false);
		err = w->each(w->data, &p);
	}
	return err;
}

static int probe_gpt(const struct ki_dev *d, struct ki_id *id, const struct pt_walk *w)
{
	unsigned char h[4096], *ents;
	uint64_t last = d->size / d->sector - 1;
	int err;

	if (d->sector > sizeof(h) || ki_pread(d, 0, h, 512) < 0 || !pmbr(h))
		return 0;
	if (!gpt_header(d, 1, h, &ents) && !gpt_header(d, last, h, &ents))
		return 0;
	snprintf(id->type, sizeof(id->type), "gpt");
	guid(id->uuid, sizeof(id->uuid), h + 56);
	id->usage = KI_USE_TABLE;
	err = gpt_entries(h, ents, w);
	free(ents);
	return err < 0 ? err : 1;
}

/* ---- MBR --------------------------------------------------------------- */

static bool is_extended(unsigned char type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static int mbr_part(const struct pt_walk *w, uint32_t sig, unsigned number, uint64_t start,
		    uint64_t sectors)
{
	struct ki_part p;

	if (w->each == NULL)
		return 0;
	memset(&p, 0, sizeof(p));
	p.number = number;
	p.start = start;
	p.sectors = sectors;
	if (sig)
		snprintf(p.uuid, sizeof(p.uuid), "%08x-%02x", sig, number);
	return w->each(w->data, &p);
}

/* The chain of extended boot records; logical partitions from 5. */
static int mbr_logical(const struct ki_dev *d, uint32_t sig, uint64_t ext_start,
		       const struct pt_walk *w)
{
	unsigned char ebr[512];
	uint64_t cur = ext_start;
	unsigned number = 5;
	int err = 0;

	for (int hop = 0; hop < EBR_MAX && err == 0; hop++) {
		uint64_t next = 0;

		if (ki_pread(d, cur * d->sector, ebr, sizeof(ebr)) < 0 ||
		    ebr[510] != 0x55 || ebr[511] != 0xaa)
			break;
		for (int i = 0; i < 4 && err == 0; i++) {
			const unsigned char *e = ebr + 446 + 16 * i;
			uint32_t start = ki_le32(e + 8), size = ki_le32(e + 12);

			if (size == 0)
				continue;
			if (is_extended(e[4]))
				next = ext_start + start;
			else
				err = mbr_part(w, sig, number++, cur + start, size);
		}
		if (next == 0 || next == cur)
			break;
		cur = next;
	}
	return err;
}

static int probe_mbr(const struct ki_dev *d, struct ki_id *id, const struct pt_walk *w)
{
	unsigned char mbr[512];
	uint32_t sig;
	int err = 0;

	if (ki_pread(d, 0, mbr, sizeof(mbr)) < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa)
		return 0;
	for (int i = 0; i < 4; i++) {
		unsigned char boot = mbr[446 + 16 * i], type = mbr[446 + 16 * i + 4];

		if ((boot != 0 && boot != 0x80) || type == 0xee)
			return 0;
	}
	if (ki_probe_is_vfat(d))
		return 0; /* a FAT boot sector, not a table */
	sig = ki_le32(mbr + 440);
	snprintf(id->type, sizeof(id->type), "dos");
	if (sig)
		snprintf(id->uuid, sizeof(id->uuid), "%08x", sig);
	id->usage = KI_USE_TABLE;
	for (int i = 0; i < 4 && err == 0; i++) {
		const unsigned char *e = mbr + 446 + 16 * i;
		uint32_t start = ki_le32(e + 8), size = ki_le32(e + 12);

		if (size == 0)
			continue;
		err = mbr_part(w, sig, (unsigned)i + 1, start, size);
		if (err == 0 && is_extended(e[4]))
			err = mbr_logical(d, sig, start, w);
	}
	return err < 0 ? err : 1;
}

/*
 * The partition table of a whole disk: 1 with id's type ("gpt", "dos") and
 * uuid (PTUUID) set and each() called for every partition, 0 when there is
 * none, or the first negative value each() returned.
 */
int ki_probe_table(const struct ki_dev *d, struct ki_id *id,
		   int (*each)(void *data, const struct ki_part *p), void *data)
{
	struct pt_walk w = { each, data };
	int r;

	if (d->sector < 512)
		return 0;
	r = probe_gpt(d, id, &w);
	if (r == 0)
		r = probe_mbr(d, id, &w);
	if (r <= 0)
		memset(id, 0, sizeof(*id));
	return r;
}

struct find_part {
	unsigned number;
	struct ki_part *out;
};

static int find_each(void *data, const struct ki_part *p)
{
	struct find_part *f = data;

	if (p->number != f->number)
		return 0;
	*f->out = *p;
	return 1; /* found: stop */
}

/* Partition number of the table on whole disk d; 0, or -ENOENT. */
int ki_probe_part(const struct ki_dev *d, unsigned number, struct ki_part *out)
{
	struct find_part f = { number, out };
	struct ki_id id;

	memset(out, 0, sizeof(*out));
	memset(&id, 0, sizeof(id));
	if (d->sector < 512)
		return -ENOENT;
	if (probe_gpt(d, &id, &(struct pt_walk){ find_each, &f }) == 0)
		probe_mbr(d, &id, &(struct pt_walk){ find_each, &f });
	return out->number == number ? 0 : -ENOENT;
}
