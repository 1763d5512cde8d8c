// SPDX-License-Identifier: MIT
/*
 * Module files: read whole, decompressed when compressed.  The codec is
 * chosen by the file's magic bytes, never by its name, as kmod does: a
 * ".ko" that is really xz still works, and a ".ko.xz" that is not fails
 * with a message saying so.  Each codec lives in its own file_<codec>.c.
 */
#include <errno.h>
#include <string.h>

#include "codec/codec.h"

static const unsigned char magic_xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const unsigned char magic_zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
static const unsigned char magic_gzip[] = { 0x1f, 0x8b };

static bool has_magic(const void *buf, size_t n, const unsigned char *magic, size_t len)
{
	return n >= len && memcmp(buf, magic, len) == 0;
}

enum kd_codec kd_codec_detect(const void *buf, size_t n)
{
	if (has_magic(buf, n, magic_xz, sizeof(magic_xz)))
		return KD_CODEC_XZ;
	if (has_magic(buf, n, magic_zstd, sizeof(magic_zstd)))
		return KD_CODEC_ZSTD;
	if (has_magic(buf, n, magic_gzip, sizeof(magic_gzip)))
		return KD_CODEC_GZIP;
	return KD_CODEC_NONE;
}

const char *kd_codec_name(enum kd_codec c)
{
	switch (c) {
	case KD_CODEC_NONE:
		return "none";
	case KD_CODEC_XZ:
		return "xz";
	case KD_CODEC_ZSTD:
		return "zstd";
	case KD_CODEC_GZIP:
		return "gzip";
	}
	return "unknown";
}

int kd_module_read(const struct kd_log *log, const char *path, struct kd_buf *out)
{
	struct kd_buf raw;
	enum kd_codec codec;
	int err;

	err = kd_read_file(log, path, &raw);
	if (err < 0) {
		/* kd_read_file is quiet about a missing file: its callers probe */
		if (err == -ENOENT)
			KD_ERR(log, "%s: module file does not exist", path);
		return err;
	}
	codec = kd_codec_detect(raw.data, raw.size);
	switch (codec) {
	case KD_CODEC_NONE:
		*out = raw;
		return 0;
	case KD_CODEC_XZ:
		err = kd_unxz(log, path, raw.data, raw.size, out);
		break;
	case KD_CODEC_ZSTD:
		err = kd_unzstd(log, path, raw.data, raw.size, out);
		break;
	case KD_CODEC_GZIP:
		err = kd_ungzip(log, path, raw.data, raw.size, out);
		break;
	}
	kd_buf_free(&raw);
	return err;
}
