// SPDX-License-Identifier: MIT
/*
 * Reading cpio "newc" archives, the only kind the kernel unpacks.
 *
 * An entry is a 110-byte ASCII header, the name, then the data:
 *
 *   magic "070701" (or "070702": same, plus a checksum of the data)
 *   13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize
 *   devmajor devminor rdevmajor rdevminor namesize check
 *
 * The name (namesize bytes, NUL included) is padded so that the data starts
 * on a 4-byte boundary, and the data is padded to the next one.  An archive
 * ends with an entry named "TRAILER!!!".  Like the kernel, the parser then
 * skips zero bytes and takes another archive if more data follows; the
 * boundaries count from the start of the buffer, which is why a caller
 * hands in either a whole decoded stream or a raw archive that starts on a
 * 4-byte boundary of the image.
 *
 * The old formats ("070707" portable ASCII, binary) are refused with a
 * message: the kernel does not read them either.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "inspect/inspect.h"

#define HDR_SIZE 110
#define NAME_MAX_SIZE 4096 /* PATH_MAX, NUL included */
#define TRAILER "TRAILER!!!"

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static const char *const field_names[13] = {
	"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
	"devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

static int hex8(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

void kd_cpio_init(struct kd_cpio_iter *it, const struct kd_log *log, const char *what,
		  const void *buf, size_t size, bool one_archive)
{
	memset(it, 0, sizeof(*it));
	it->log = log;
	it->what = what;
	it->buf = buf;
	it->size = size;
	it->one_archive = one_archive;
}

/* Errors name the buffer, the header's offset and, once known, the entry. */
#define BAD(it, at, ...) bad(it, at, NULL, __VA_ARGS__)
static int bad(struct kd_cpio_iter *it, size_t at, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct kd_cpio_iter *it, size_t at, const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (name)
		KD_ERR(it->log, "%s: cpio entry '%s' at byte %zu: %s", it->what, name, at, msg);
	else
		KD_ERR(it->log, "%s: cpio header at byte %zu: %s", it->what, at, msg);
	it->failed = true;
	return -EINVAL;
}

static int check_magic(struct kd_cpio_iter *it, const unsigned char *p, size_t left)
{
	size_t at = it->pos;

	if (left == 0)
		return BAD(it, at, "the archive ends without a " TRAILER " entry");
	if (left >= 2 && ((p[0] == 0xc7 && p[1] == 0x71) || (p[0] == 0x71 && p[1] == 0xc7)))
		return BAD(it, at, "binary cpio format, which the kernel does not read");
	if (left < 6 || memcmp(p, "07070", 5) != 0)
		return BAD(it, at, "no cpio magic (bytes %02x %02x %02x %02x)", p[0],
			   left > 1 ? p[1] : 0, left > 2 ? p[2] : 0, left > 3 ? p[3] : 0);
	if (p[5] == '7')
		return BAD(it, at, "old portable cpio format (070707), which the kernel "
			   "does not read: only newc (070701, 070702) is");
	if (p[5] != '1' && p[5] != '2')
		return BAD(it, at, "unknown cpio magic '%.6s'", (const char *)p);
	if (left < HDR_SIZE)
		return BAD(it, at, "truncated header: %zu of %d bytes left", left, HDR_SIZE);
	return 0;
}

static int parse_fields(struct kd_cpio_iter *it, const unsigned char *p, uint32_t f[13])
{
	for (int i = 0; i < 13; i++)
		if (hex8(p + 6 + 8 * i, &f[i]) < 0)
			return BAD(it, it->pos, "field %s is not 8 hex digits: '%.8s'",
				   field_names[i], (const char *)p + 6 + 8 * i);
	return 0;
}

static int check_name(struct kd_cpio_iter *it, uint32_t namesize, size_t *data_off)
{
	size_t at = it->pos, name_off = at + HDR_SIZE;
	const char *name = (const char *)it->buf + name_off;

	if (namesize == 0)
		return BAD(it, at, "name size is 0 (no room for the NUL)");
	if (namesize > NAME_MAX_SIZE)
		return BAD(it, at, "name size %u is larger than PATH_MAX (%d)", namesize,
			   NAME_MAX_SIZE);
	if (namesize > it->size - name_off)
		return BAD(it, at, "name of %u bytes runs past the end (%zu bytes left)",
			   namesize, it->size - name_off);
	if (name[namesize - 1] != '\0')
		return BAD(it, at, "name '%.*s' is not NUL-terminated", (int)namesize, name);
	if (strlen(name) != namesize - 1)
		return BAD(it, at, "name '%s' has a NUL byte inside its %u bytes", name,
			   namesize);
	*data_off = align4(name_off + namesize);
	if (*data_off > it->size)
		return bad(it, at, name, "name padding runs past the end");
	return 0;
}

static bool known_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		return true;
	}
	return false;
}

static int check_data(struct kd_cpio_iter *it, const struct kd_cpio_entry *e, bool crc,
		      uint32_t check)
{
	uint32_t sum = 0;

	if (!known_type(e->mode))
		return bad(it, e->offset, e->name, "unknown file type in mode 0%o", e->mode);
	if (S_ISLNK(e->mode)) {
		if (e->size == 0 || e->size >= NAME_MAX_SIZE)
			return bad(it, e->offset, e->name, "symlink target of %zu bytes "
				   "(must be 1 to %d)", e->size, NAME_MAX_SIZE - 1);
		if (memchr(e->data, '\0', e->size))
			return bad(it, e->offset, e->name, "symlink target has a NUL byte");
	}
	if (!crc || !S_ISREG(e->mode))
		return 0;
	for (size_t i = 0; i < e->size; i++)
		sum += e->data[i];
	if (sum != check)
		return bad(it, e->offset, e->name, "data checksum is %08x, header says %08x",
			   sum, check);
	return 0;
}

/* After a trailer: zero padding, then the end or another archive. */
static int skip_padding(struct kd_cpio_iter *it)
{
	while (it->pos < it->size && it->buf[it->pos] == 0)
		it->pos++;
	if (it->pos < it->size && it->pos % 4 != 0)
		return BAD(it, it->pos, "archive after zero padding does not start on a "
			   "4-byte boundary");
	return 0;
}

static void fill_entry(struct kd_cpio_entry *e, const uint32_t f[13])
{
	e->ino = f[0];
	e->mode = f[1];
	e->uid = f[2];
	e->gid = f[3];
	e->nlink = f[4];
	e->mtime = f[5];
	e->size = f[6];
	e->devmajor = f[7];
	e->devminor = f[8];
	e->rdevmajor = f[9];
	e->rdevminor = f[10];
}

/* One header at it->pos; *trailer tells whether it closed the archive. */
static int read_entry(struct kd_cpio_iter *it, struct kd_cpio_entry *e, bool *trailer)
{
	const unsigned char *p = it->buf + it->pos;
	size_t data_off = 0, next;
	uint32_t f[13];
	int err;

	err = check_magic(it, p, it->size - it->pos);
	if (err < 0)
		return err;
	err = parse_fields(it, p, f);
	if (err < 0)
		return err;
	err = check_name(it, f[11], &data_off);
	if (err < 0)
		return err;
	memset(e, 0, sizeof(*e));
	fill_entry(e, f);
	e->offset = it->pos;
	e->archive = it->archives;
	e->name = (const char *)p + HDR_SIZE;
	e->data = it->buf + data_off;
	if (e->size > it->size - data_off)
		return bad(it, e->offset, e->name, "file size %zu runs past the end "
			   "(%zu bytes left)", e->size, it->size - data_off);
	next = align4(data_off + e->size);
	if (next > it->size)
		return bad(it, e->offset, e->name, "data padding runs past the end");
	*trailer = strcmp(e->name, TRAILER) == 0;
	if (!*trailer) {
		err = check_data(it, e, p[5] == '2', f[12]);
		if (err < 0)
			return err;
	}
	it->pos = next;
	return 0;
}

int kd_cpio_next(struct kd_cpio_iter *it, struct kd_cpio_entry *e)
{
	bool trailer;
	int err;

	if (it->failed)
		return -EINVAL;
	for (;;) {
		if (it->done)
			return 0;
		if (!it->in_archive && it->pos == it->size) {
			it->done = true;
			return 0;
		}
		err = read_entry(it, e, &trailer);
		if (err < 0)
			return err;
		it->in_archive = !trailer;
		if (!trailer)
			return 1;
		it->archives++;
		if (it->one_archive) {
			it->done = true;
			return 0;
		}
		err = skip_padding(it);
		if (err < 0)
			return err;
	}
}

const char *kd_cpio_path(const char *name)
{
	for (;;) {
		if (name[0] == '/')
			name++;
		else if (name[0] == '.' && name[1] == '/')
			name += 2;
		else if (name[0] == '.' && name[1] == '\0')
			name++;
		else
			return name;
	}
}

void kd_cpio_mode_string(uint32_t mode, char out[11])
{
	static const char types[] = "?pc?d?b?-?l?s???";
	static const char rwx[] = "rwxrwxrwx";

	out[0] = types[(mode & S_IFMT) >> 12];
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (1u << (8 - i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = mode & S_IXUSR ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = mode & S_IXGRP ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = mode & S_IXOTH ? 't' : 'T';
	out[10] = '\0';
}
