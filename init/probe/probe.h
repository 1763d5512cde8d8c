/* SPDX-License-Identifier: MIT */
/*
 * Identifying a block device from its own bytes, as `blkid -p` does: what
 * the rest of the init uses (rootdev.c).  The probes share their reader,
 * byte order and value formatting through probe/internal.h.
 */
#ifndef KINDLING_PROBE_H
#define KINDLING_PROBE_H

#include <stdint.h>

enum ki_usage {
	KI_USE_NONE,
	KI_USE_FS,     /* a file system: mountable */
	KI_USE_RAID,   /* md or LVM member */
	KI_USE_CRYPTO, /* LUKS */
	KI_USE_TABLE,  /* a partitioned disk */
	KI_USE_OTHER,  /* an external journal, swap */
};

struct ki_id {
	char type[24];    /* blkid TYPE (or PTTYPE for a partition table) */
	char uuid[48];    /* UUID (or PTUUID) */
	char label[256];  /* LABEL, UTF-8 */
	enum ki_usage usage;
};

/* An open device (or image file) of size bytes. */
struct ki_dev {
	int fd;
	uint64_t size;    /* bytes */
	unsigned sector;  /* logical sector size */
};

struct ki_part {
	unsigned number;
	uint64_t start, sectors; /* in the table's sectors */
	char uuid[48];           /* PART_ENTRY_UUID */
	char name[144];          /* PART_ENTRY_NAME, UTF-8 */
};

/* probe/probe.c */
int ki_probe(const struct ki_dev *d, struct ki_id *id);

/* probe/table.c */
int ki_probe_table(const struct ki_dev *d, struct ki_id *id,
		   int (*each)(void *data, const struct ki_part *p), void *data);
int ki_probe_part(const struct ki_dev *d, unsigned number, struct ki_part *out);

#endif
