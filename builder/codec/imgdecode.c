// SPDX-License-Identifier: MIT
/*
 * Decoders for the compressed segments of an initramfs.  Each decodes one
 * stream and reports how many input bytes it took, because the next
 * segment starts right after it (after optional zero padding), exactly as
 * the kernel's unpack loop sees it.  Output grows up to a hard limit so
 * that a decompression bomb ends in an error, not in the OOM killer.
 *
 * Magic numbers are the ones the kernel's decompress_method() matches.
 */
#define ZLIB_CONST
#include <bzlib.h>
#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "codec/codec.h"

#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_CHUNK (8u << 20) /* each chunk decodes to at most this */
#define XZ_MEMLIMIT (256u << 20)     /* xz -9 needs 65 MiB */
#define FEED_MAX (1u << 30)          /* zlib and bzip2 count in unsigned int */

struct dec {
	const struct kd_log *log;
	const char *what;
	const unsigned char *in;
	size_t n, used;
	unsigned char *out;
	size_t size, cap, max;
};

static int dec_fail(struct dec *d, int err, const char *why, const char *detail)
{
	KD_ERR(d->log, "%s: %s%s%s", d->what, why, detail ? ": " : "",
	       detail ? detail : "");
	return err;
}

static int too_big(struct dec *d)
{
	KD_ERR(d->log, "%s: decodes to more than %zu bytes, the reader's limit "
	       "(a corrupt image or a decompression bomb)", d->what, d->max);
	return -EFBIG;
}

static int truncated(struct dec *d)
{
	return dec_fail(d, -EINVAL, "truncated: the compressed stream does not end "
			"before the end of the image", NULL);
}

/* Make room for at least one more byte of output, never past d->max. */
static int out_room(struct dec *d)
{
	size_t ncap;
	unsigned char *p;

	if (d->size < d->cap)
		return 0;
	if (d->cap >= d->max)
		return too_big(d);
	ncap = d->cap < (1u << 20) ? (1u << 20) : d->cap * 2;
	if (ncap > d->max)
		ncap = d->max;
	p = realloc(d->out, ncap);
	if (p == NULL)
		return dec_fail(d, -ENOMEM, "out of memory", NULL);
	d->out = p;
	d->cap = ncap;
	return 0;
}

static unsigned clamp_uint(size_t n)
{
	return n > FEED_MAX ? FEED_MAX : (unsigned)n;
}

static int gzip_step(struct dec *d, z_stream *z, size_t *fed)
{
	unsigned before;
	int ret, err;

	if (z->avail_in == 0 && *fed < d->n) {
		z->next_in = d->in + *fed;
		z->avail_in = clamp_uint(d->n - *fed);
		*fed += z->avail_in;
	}
	err = out_room(d);
	if (err < 0)
		return err;
	z->next_out = d->out + d->size;
	z->avail_out = before = clamp_uint(d->cap - d->size);
	ret = inflate(z, Z_NO_FLUSH);
	d->size += before - z->avail_out;
	if (ret == Z_STREAM_END) {
		d->used = *fed - z->avail_in;
		return 1;
	}
	if (ret == Z_BUF_ERROR && z->avail_in == 0 && *fed == d->n)
		return truncated(d);
	if (ret != Z_OK && ret != Z_BUF_ERROR)
		return dec_fail(d, -EINVAL, "corrupt gzip data",
				z->msg ? z->msg : zError(ret));
	return 0;
}

static int gzip_decode(struct dec *d)
{
	z_stream z;
	size_t fed = 0;
	int ret;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
		return dec_fail(d, -ENOMEM, "cannot start zlib", NULL);
	while ((ret = gzip_step(d, &z, &fed)) == 0)
		;
	inflateEnd(&z);
	return ret < 0 ? ret : 0;
}

static int zstd_decode(struct dec *d)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer in = { d->in, d->n, 0 };
	int err = 0;

	if (z == NULL)
		return dec_fail(d, -ENOMEM, "cannot start zstd", NULL);
	for (;;) {
		ZSTD_outBuffer out;
		size_t r;

		err = out_room(d);
		if (err < 0)
			break;
		out = (ZSTD_outBuffer){ d->out + d->size, d->cap - d->size, 0 };
		r = ZSTD_decompressStream(z, &out, &in);
		d->size += out.pos;
		if (ZSTD_isError(r)) {
			err = dec_fail(d, -EINVAL, "corrupt zstd data", ZSTD_getErrorName(r));
			break;
		}
		if (r == 0) { /* the frame is complete and flushed */
			d->used = in.pos;
			break;
		}
		if (in.pos == in.size && out.pos < out.size) {
			err = truncated(d);
			break;
		}
	}
	ZSTD_freeDStream(z);
	return err;
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 256 MiB of memory to decode";
	case LZMA_FORMAT_ERROR: return "not in the expected format";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "corrupt data";
	case LZMA_BUF_ERROR: return "truncated data";
	default: return "decoder error";
	}
}

/* The kernel's xz decoder takes CRC32 or no check: say so when it differs. */
static void xz_check_note(struct dec *d, lzma_check check)
{
	const char *name = check == LZMA_CHECK_CRC64 ? "CRC64" :
			   check == LZMA_CHECK_SHA256 ? "SHA-256" : "an unknown check";

	if (check != LZMA_CHECK_CRC32 && check != LZMA_CHECK_NONE)
		KD_WARN(d->log, "%s: xz stream uses %s; the kernel only accepts CRC32 "
			"or none (xz --check=crc32)", d->what, name);
}

static int lzma_run(struct dec *d, lzma_stream *s)
{
	lzma_ret r;
	int err;

	s->next_in = d->in;
	s->avail_in = d->n;
	for (;;) {
		err = out_room(d);
		if (err < 0)
			return err;
		s->next_out = d->out + d->size;
		s->avail_out = d->cap - d->size;
		r = lzma_code(s, LZMA_FINISH);
		d->size = d->cap - s->avail_out;
		if (r == LZMA_GET_CHECK) {
			xz_check_note(d, lzma_get_check(s));
			continue;
		}
		if (r == LZMA_STREAM_END) {
			d->used = d->n - s->avail_in;
			return 0;
		}
		if (r == LZMA_BUF_ERROR && s->avail_in == 0)
			return truncated(d);
		if (r != LZMA_OK && !(r == LZMA_BUF_ERROR && s->avail_out == 0))
			return dec_fail(d, r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL,
					lzma_why(r), NULL);
	}
}

static int xz_lzma_decode(struct dec *d, bool xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;
	int err;

	/* No LZMA_CONCATENATED: stop where this stream ends. */
	if (xz)
		r = lzma_stream_decoder(&s, XZ_MEMLIMIT, LZMA_TELL_ANY_CHECK);
	else
		r = lzma_alone_decoder(&s, XZ_MEMLIMIT);
	if (r != LZMA_OK)
		return dec_fail(d, -ENOMEM, "cannot start liblzma", lzma_why(r));
	err = lzma_run(d, &s);
	lzma_end(&s);
	return err;
}

static int xz_decode(struct dec *d)
{
	return xz_lzma_decode(d, true);
}

static int lzma_decode(struct dec *d)
{
	return xz_lzma_decode(d, false);
}

static int bzip2_step(struct dec *d, bz_stream *b, size_t *fed)
{
	unsigned before;
	int ret, err;

	if (b->avail_in == 0 && *fed < d->n) {
		/* libbz2's next_in is not const but it never writes through it */
		b->next_in = (char *)(uintptr_t)(d->in + *fed);
		b->avail_in = clamp_uint(d->n - *fed);
		*fed += b->avail_in;
	}
	err = out_room(d);
	if (err < 0)
		return err;
	b->next_out = (char *)d->out + d->size;
	b->avail_out = before = clamp_uint(d->cap - d->size);
	ret = BZ2_bzDecompress(b);
	d->size += before - b->avail_out;
	if (ret == BZ_STREAM_END) {
		d->used = *fed - b->avail_in;
		return 1;
	}
	if (ret != BZ_OK)
		return dec_fail(d, ret == BZ_MEM_ERROR ? -ENOMEM : -EINVAL,
				"corrupt bzip2 data", NULL);
	if (b->avail_in == 0 && *fed == d->n && b->avail_out > 0)
		return truncated(d);
	return 0;
}

static int bzip2_decode(struct dec *d)
{
	bz_stream b;
	size_t fed = 0;
	int ret;

	memset(&b, 0, sizeof(b));
	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return dec_fail(d, -ENOMEM, "cannot start libbz2", NULL);
	while ((ret = bzip2_step(d, &b, &fed)) == 0)
		;
	BZ2_bzDecompressEnd(&b);
	return ret < 0 ? ret : 0;
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int lz4_chunk(struct dec *d, size_t pos, uint32_t csize)
{
	unsigned char *p;
	int r;

	/* room for a whole chunk: the buffer may pass the limit by one chunk
	 * before the check below; it grows by doubling, as chunks may be tiny */
	if (d->cap - d->size < LZ4_LEGACY_CHUNK) {
		size_t ncap = d->cap * 2;

		if (ncap < d->size + LZ4_LEGACY_CHUNK)
			ncap = d->size + LZ4_LEGACY_CHUNK;
		if (ncap > d->max + LZ4_LEGACY_CHUNK)
			ncap = d->max + LZ4_LEGACY_CHUNK;
		p = realloc(d->out, ncap);
		if (p == NULL)
			return dec_fail(d, -ENOMEM, "out of memory", NULL);
		d->out = p;
		d->cap = ncap;
	}
	r = LZ4_decompress_safe((const char *)d->in + pos, (char *)d->out + d->size,
				(int)csize, LZ4_LEGACY_CHUNK);
	if (r < 0) {
		KD_ERR(d->log, "%s: corrupt lz4 chunk at byte %zu of the stream", d->what,
		       pos - 4);
		return -EINVAL;
	}
	if ((size_t)r > d->max - d->size)
		return too_big(d);
	d->size += (size_t)r;
	return 0;
}

/*
 * The legacy frame: magic, then chunks of (le32 size, lz4 block) with no end
 * mark.  Like the kernel, stop at the end of the input, at fewer than 4
 * bytes, or at a zero size (the padding before the next segment); another
 * magic inside the stream is skipped.
 */
static int lz4_decode(struct dec *d)
{
	size_t pos = 4;
	uint32_t csize;
	int err;

	while (d->n - pos >= 4) {
		csize = le32(d->in + pos);
		if (csize == 0)
			break;
		if (csize == LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_CHUNK)) {
			KD_ERR(d->log, "%s: lz4 chunk at byte %zu claims %u bytes, more than a "
			       "legacy chunk can hold (is another segment glued on without "
			       "zero padding?)", d->what, pos, csize);
			return -EINVAL;
		}
		if (csize > d->n - pos - 4)
			return truncated(d);
		err = lz4_chunk(d, pos + 4, csize);
		if (err < 0)
			return err;
		pos += 4 + (size_t)csize;
	}
	d->used = pos;
	return 0;
}

static const struct codec {
	enum kd_img_comp comp;
	const char *name;
	const char *magic;
	size_t magic_len;
	int (*decode)(struct dec *d);
} codecs[] = {
	{ KD_IMG_CPIO, "cpio", "07070", 5, NULL },
	{ KD_IMG_GZIP, "gzip", "\x1f\x8b", 2, gzip_decode },
	{ KD_IMG_ZSTD, "zstd", "\x28\xb5\x2f\xfd", 4, zstd_decode },
	{ KD_IMG_XZ, "xz", "\xfd" "7zXZ\0", 6, xz_decode },
	{ KD_IMG_LZMA, "lzma", "\x5d\0\0", 3, lzma_decode },
	{ KD_IMG_LZ4, "lz4", "\x02\x21\x4c\x18", 4, lz4_decode },
	{ KD_IMG_BZIP2, "bzip2", "BZh", 3, bzip2_decode },
	{ KD_IMG_LZO, "lzo", "\x89LZO", 4, NULL },
	{ KD_IMG_UNKNOWN, "unknown", "", 0, NULL },
};

static const struct codec *codec_of(enum kd_img_comp c)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i].comp == c)
			return &codecs[i];
	return &codecs[sizeof(codecs) / sizeof(codecs[0]) - 1];
}

const char *kd_img_comp_name(enum kd_img_comp c)
{
	return codec_of(c)->name;
}

enum kd_img_comp kd_img_detect(const void *buf, size_t n)
{
	for (size_t i = 0; codecs[i].magic_len; i++)
		if (n >= codecs[i].magic_len && memcmp(buf, codecs[i].magic,
						       codecs[i].magic_len) == 0)
			return codecs[i].comp;
	return KD_IMG_UNKNOWN;
}

int kd_img_decode(const struct kd_log *log, const char *what, enum kd_img_comp comp,
		  const void *in, size_t n, size_t max, struct kd_buf *out, size_t *used)
{
	const struct codec *c = codec_of(comp);
	struct dec d = { .log = log, .what = what, .in = in, .n = n, .max = max };
	int err;

	out->data = NULL;
	out->size = 0;
	if (c->decode == NULL) {
		KD_ERR(log, "%s: %s data cannot be decoded by kindling", what, c->name);
		return -ENOTSUP;
	}
	err = c->decode(&d);
	if (err < 0) {
		free(d.out);
		return err;
	}
	out->data = d.out;
	out->size = d.size;
	*used = d.used;
	return 0;
}
