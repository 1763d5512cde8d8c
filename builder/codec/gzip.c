// SPDX-License-Identifier: MIT
/*
 * gzip (lib/decompress_inflate.c, CONFIG_MODULE_COMPRESS_GZIP), through
 * zlib with the gzip wrapper.
 *
 * Encoding: one gzip member.  zlib writes the header with mtime 0 and no
 * file name, so the bytes depend only on the input and the level.
 *
 * Decoding: one member (codec.c chains the members of a module file, as
 * gzip -d does).
 */
#define ZLIB_CONST
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "codec/internal.h"

/* ---- decoding ---------------------------------------------------------------- */

/* One inflate call: 1 when the member ended, 0 to go on, <0 on error. */
static int gzip_step(struct kd_dec *d, z_stream *z, size_t *fed)
{
	unsigned before;
	int ret, err;

	if (z->avail_in == 0 && *fed < d->n) {
		z->next_in = d->in + *fed;
		z->avail_in = kd_feed_size(d->n - *fed);
		*fed += z->avail_in;
	}
	err = kd_dec_room(d);
	if (err < 0)
		return err;
	z->next_out = d->out + d->size;
	z->avail_out = before = kd_feed_size(d->cap - d->size);
	ret = inflate(z, Z_NO_FLUSH);
	d->size += before - z->avail_out;
	if (ret == Z_STREAM_END) {
		d->used = *fed - z->avail_in;
		return 1;
	}
	if (ret == Z_BUF_ERROR && z->avail_in == 0 && *fed == d->n)
		return kd_dec_truncated(d);
	if (ret != Z_OK && ret != Z_BUF_ERROR)
		return kd_dec_fail(d, -EINVAL, "%s", z->msg ? z->msg : zError(ret));
	return 0;
}

static int gzip_decode(struct kd_dec *d)
{
	z_stream z = { 0 };
	size_t fed = 0;
	int ret;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) /* 16: the gzip wrapper, not raw zlib */
		return kd_dec_fail(d, -EIO, "cannot start zlib");
	while ((ret = gzip_step(d, &z, &fed)) == 0)
		;
	inflateEnd(&z);
	return ret < 0 ? ret : 0;
}

/* ---- encoding ---------------------------------------------------------------- */

#define GZ_OUT_SIZE (1u << 16)

struct gz_state {
	z_stream z;
	bool live;
	unsigned char out[GZ_OUT_SIZE];
};

static int gz_feed(struct kd_zsink *s, const unsigned char *buf, size_t n, int flush)
{
	struct gz_state *st = s->state;
	int r;

	do {
		size_t chunk = n > KD_FEED_MAX ? KD_FEED_MAX : n;
		int mode = chunk < n ? Z_NO_FLUSH : flush;

		st->z.next_in = buf;
		st->z.avail_in = (unsigned)chunk;
		do {
			st->z.next_out = st->out;
			st->z.avail_out = sizeof(st->out);
			r = deflate(&st->z, mode);
			if (r == Z_STREAM_ERROR) {
				KD_ERR(s->log, "%s: gzip: %s", s->what,
				       st->z.msg ? st->z.msg : "stream error");
				return -EIO;
			}
			if (kd_zsink_emit(s, st->out, sizeof(st->out) - st->z.avail_out) < 0)
				return s->err;
		} while (mode == Z_FINISH ? r != Z_STREAM_END : st->z.avail_out == 0);
		buf += chunk;
		n -= chunk;
	} while (n > 0);
	return 0;
}

static int gz_open(struct kd_zsink *s, int level, unsigned threads)
{
	struct gz_state *st = kd_xcalloc(1, sizeof(*st));

	(void)threads;
	s->state = st;
	/* 15 + 16: a 32 KiB window in a gzip wrapper */
	if (deflateInit2(&st->z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		KD_ERR(s->log, "%s: cannot start zlib's compressor", s->what);
		return -EIO;
	}
	st->live = true;
	return 0;
}

static int gz_write(struct kd_zsink *s, const void *buf, size_t n)
{
	return gz_feed(s, buf, n, Z_NO_FLUSH);
}

static int gz_finish(struct kd_zsink *s)
{
	return gz_feed(s, (const unsigned char *)"", 0, Z_FINISH);
}

static void gz_free(struct kd_zsink *s)
{
	struct gz_state *st = s->state;

	if (st == NULL)
		return;
	if (st->live)
		deflateEnd(&st->z);
	free(st);
}

const struct kd_codec_impl kd_codec_gzip = {
	.name = "gzip", .magic = "\x1f\x8b", .magic_len = 2, .decode = gzip_decode,
	.min_level = 1, .max_level = 9, .default_level = 6,
	.open = gz_open, .write = gz_write, .finish = gz_finish, .free = gz_free,
};
