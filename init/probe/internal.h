/* SPDX-License-Identifier: MIT */
/*
 * What the probes share and nothing else includes: the reader, little and
 * big endian fields, libblkid's value formatting, the CRCs the formats
 * check, and each family's probe for probe.c's order.
 */
#ifndef KINDLING_PROBE_INTERNAL_H
#define KINDLING_PROBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/probe.h"

#ifndef KI_ARRAY_SIZE
#define KI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static inline uint16_t ki_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ki_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ki_le64(const unsigned char *p)
{
	return (uint64_t)ki_le32(p) | (uint64_t)ki_le32(p + 4) << 32;
}

static inline uint32_t ki_be32(const unsigned char *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

/* probe/probe.c */
int ki_pread(const struct ki_dev *d, uint64_t off, void *buf, size_t len);
void ki_id_set(char *dst, size_t size, const void *src, size_t len);
void ki_id_uuid(char *dst, size_t size, const unsigned char u[16]);
void ki_id_utf16(char *dst, size_t size, const unsigned char *src, size_t len, bool be);
uint32_t ki_crc32(uint32_t crc, const void *buf, size_t len);
uint32_t ki_crc32c(uint32_t crc, const void *buf, size_t len);

/* probe/fs.c */
int ki_probe_fs(const struct ki_dev *d, struct ki_id *id);
bool ki_probe_is_vfat(const struct ki_dev *d);

/* probe/raid.c */
int ki_probe_raid(const struct ki_dev *d, struct ki_id *id);

#endif
