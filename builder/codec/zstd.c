// SPDX-License-Identifier: MIT
/*
 * zstd (lib/decompress_unzstd.c, CONFIG_MODULE_COMPRESS_ZSTD).
 *
 * Encoding: one frame with a checksum, compressed on several threads.
 * libzstd's multithreaded output does not depend on the number of workers
 * (at least one), so the bytes are the same on any machine.
 *
 * Decoding: one frame through the streaming decoder, so that frames need not
 * record their content size; when one does, it sizes the output.
 */
#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

#include "codec/internal.h"

/* ---- decoding ---------------------------------------------------------------- */

static int zstd_decode(struct kd_dec *d)
{
	unsigned long long size = ZSTD_getFrameContentSize(d->in, d->n);
	ZSTD_inBuffer in = { d->in, d->n, 0 };
	ZSTD_DCtx *z;
	int err;

	/* the first frame's declared size: refused at once when too big; plus one
	 * byte so that its end is seen without growing */
	if (d->cap == 0 && size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR) {
		if (size > d->max)
			return kd_dec_too_big(d);
		d->hint = (size_t)size + 1;
	}
	z = ZSTD_createDCtx();
	if (z == NULL)
		return kd_dec_fail(d, -EIO, "cannot start libzstd's decoder");
	for (;;) {
		ZSTD_outBuffer out;
		size_t r;

		err = kd_dec_room(d);
		if (err < 0)
			break;
		out = (ZSTD_outBuffer){ d->out + d->size, d->cap - d->size, 0 };
		r = ZSTD_decompressStream(z, &out, &in);
		d->size += out.pos;
		if (ZSTD_isError(r)) {
			err = kd_dec_fail(d, -EINVAL, "%s", ZSTD_getErrorName(r));
			break;
		}
		if (r == 0) { /* the frame is complete and flushed */
			d->used = in.pos;
			break;
		}
		if (in.pos == in.size && out.pos < out.size) {
			err = kd_dec_truncated(d);
			break;
		}
	}
	ZSTD_freeDCtx(z);
	return err;
}

/* ---- encoding ---------------------------------------------------------------- */

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
	struct zstd_state *st = kd_xcalloc(1, sizeof(*st));

	s->state = st;
	st->z = ZSTD_createCCtx();
	if (st->z == NULL) {
		KD_ERR(s->log, "%s: cannot start libzstd's compressor", s->what);
		return -EIO;
	}
	st->cap = ZSTD_CStreamOutSize();
	st->out = kd_xmalloc(st->cap);
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

const struct kd_codec_impl kd_codec_zstd = {
	.name = "zstd", .magic = "\x28\xb5\x2f\xfd", .magic_len = 4, .decode = zstd_decode,
	.min_level = 1, .max_level = 22, .default_level = 3,
	.open = zstd_open, .write = zstd_write, .finish = zstd_finish, .free = zstd_free,
};
