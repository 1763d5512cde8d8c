// SPDX-License-Identifier: MIT
/*
 * zstd (lib/decompress_unzstd.c): one frame with a checksum, compressed on
 * several threads.  libzstd's multithreaded output does not depend on the
 * number of workers (at least one), so the bytes are the same on any machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

#include "codec/codec.h"

struct zstd_state {
	ZSTD_CCtx *z;
	unsigned char *out;
	size_t cap;
};

static int zstd_feed(struct kd_zsink *s, const void *buf, size_t n, ZSTD_EndDirective mode)
{
	struct zstd_state *st = s->state;
	ZSTD_inBuffer in = { buf, n, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { st->out, st->cap, 0 };

		left = ZSTD_compressStream2(st->z, &out, &in, mode);
		if (ZSTD_isError(left)) {
			KD_ERR(s->log, "%s: zstd: %s", s->what, ZSTD_getErrorName(left));
			return -EIO;
		}
		if (kd_zsink_emit(s, st->out, out.pos) < 0)
			return s->err;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int zstd_open(struct kd_zsink *s, int level, unsigned threads)
{
	struct zstd_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -ENOMEM;
	s->state = st;
	st->z = ZSTD_createCCtx();
	st->cap = ZSTD_CStreamOutSize();
	st->out = malloc(st->cap);
	if (st->z == NULL || st->out == NULL)
		return -ENOMEM;
	ZSTD_CCtx_setParameter(st->z, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(st->z, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(ZSTD_CCtx_setParameter(st->z, ZSTD_c_nbWorkers, (int)threads)))
		KD_WARN(s->log, "this libzstd has no threads: compressing on one core");
	return 0;
}

static int zstd_write(struct kd_zsink *s, const void *buf, size_t n)
{
	return zstd_feed(s, buf, n, ZSTD_e_continue);
}

static int zstd_finish(struct kd_zsink *s)
{
	return zstd_feed(s, NULL, 0, ZSTD_e_end);
}

static void zstd_free(struct kd_zsink *s)
{
	struct zstd_state *st = s->state;

	if (st == NULL)
		return;
	ZSTD_freeCCtx(st->z);
	free(st->out);
	free(st);
}

const struct kd_zcodec kd_zcodec_zstd = {
	.name = "zstd", .min_level = 1, .max_level = 22, .default_level = 3,
	.open = zstd_open, .write = zstd_write, .finish = zstd_finish, .free = zstd_free,
};
