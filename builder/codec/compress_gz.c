// SPDX-License-Identifier: MIT
/*
 * gzip (lib/decompress_inflate.c): one gzip member from zlib.  zlib writes
 * the header with mtime 0 and no file name, so the bytes depend only on the
 * input and the level.
 */
#define ZLIB_CONST
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "codec/codec.h"

#define GZ_OUT_SIZE (1u << 16)
#define GZ_FEED_MAX (1u << 30) /* avail_in is an unsigned int */

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
		size_t chunk = n > GZ_FEED_MAX ? GZ_FEED_MAX : n;
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
	struct gz_state *st = calloc(1, sizeof(*st));

	(void)threads;
	if (st == NULL)
		return -ENOMEM;
	s->state = st;
	/* 15 + 16: a 32 KiB window in a gzip wrapper */
	if (deflateInit2(&st->z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
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

const struct kd_zcodec kd_zcodec_gzip = {
	.name = "gzip", .min_level = 1, .max_level = 9, .default_level = 6,
	.open = gz_open, .write = gz_write, .finish = gz_finish, .free = gz_free,
};
