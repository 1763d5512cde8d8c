// SPDX-License-Identifier: MIT
/*
 * Identifying a block device from its own bytes, as `blkid -p` does:
 * RAID and crypto members first (a member may also look like a filesystem:
 * md 1.0 keeps its superblock at the end), then filesystems, then partition
 * tables.  The probes themselves live in raid.c, fs.c and table.c; here are
 * the reader and the value formatting they share, with libblkid's
 * conventions: labels lose trailing white space, an all-zero UUID is no
 * UUID, GUIDs are lower case.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe/internal.h"

/* Exactly len bytes at off, or -EIO (also past the end of the device). */
int ki_pread(const struct ki_dev *d, uint64_t off, void *buf, size_t len)
{
	size_t got = 0;

	if (off > d->size || len > d->size - off)
		return -EIO;
	while (got < len) {
		ssize_t n = pread(d->fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* A label field of len bytes: up to its NUL, trailing white space removed. */
void ki_id_set(char *dst, size_t size, const void *src, size_t len)
{
	size_t n = strnlen(src, len);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	rtrim(dst);
}

/* A UUID from 16 bytes in order; empty when all zero. */
void ki_id_uuid(char *dst, size_t size, const unsigned char u[16])
{
	static const unsigned char zero[16];

	if (memcmp(u, zero, 16) == 0) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
		 u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static size_t put_utf8(char *dst, size_t size, size_t n, uint32_t c)
{
	unsigned char b[4];
	size_t len, i;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		len = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | c >> 6);
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		len = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | c >> 12);
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | c >> 18);
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		len = 4;
	}
	if (n + len >= size)
		return n;
	for (i = 0; i < len; i++)
		dst[n + i] = (char)b[i];
	return n + len;
}

/* UTF-16 (little or big endian) of len bytes, up to a NUL, as UTF-8. */
void ki_id_utf16(char *dst, size_t size, const unsigned char *src, size_t len, bool be)
{
	size_t i, n = 0;

	for (i = 0; i + 1 < len; i += 2) {
		uint32_t c = be ? (uint32_t)(src[i] << 8 | src[i + 1]) :
				  (uint32_t)(src[i + 1] << 8 | src[i]);

		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < len) {
			uint32_t lo = be ? (uint32_t)(src[i + 2] << 8 | src[i + 3]) :
					   (uint32_t)(src[i + 3] << 8 | src[i + 2]);

			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		n = put_utf8(dst, size, n, c);
	}
	dst[n] = '\0';
	rtrim(dst);
}

/* Reflected CRC update without the final inversion (callers decide). */
static uint32_t crc_update(uint32_t crc, const void *buf, size_t len, uint32_t poly)
{
	const unsigned char *p = buf;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (poly & (0u - (crc & 1)));
	}
	return crc;
}

uint32_t ki_crc32(uint32_t crc, const void *buf, size_t len)
{
	return crc_update(crc, buf, len, 0xedb88320u);
}

uint32_t ki_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc_update(crc, buf, len, 0x82f63b78u);
}

/*
 * The whole identification: 1 with *id filled (usage tells filesystem,
 * member or partition table), 0 when nothing is recognised.
 */
int ki_probe(const struct ki_dev *d, struct ki_id *id)
{
	int r;

	memset(id, 0, sizeof(*id));
	r = ki_probe_raid(d, id);
	if (r == 0)
		r = ki_probe_fs(d, id);
	if (r == 0)
		r = ki_probe_table(d, id, NULL, NULL);
	if (r <= 0)
		memset(id, 0, sizeof(*id));
	return r < 0 ? 0 : r;
}
