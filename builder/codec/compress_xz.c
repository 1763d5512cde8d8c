// SPDX-License-Identifier: MIT
/*
 * xz (lib/decompress_unxz.c, the kernel's xz-embedded decoder): the .xz
 * container with a CRC32 check (the decoder verifies CRC32 or none, and may
 * not know CRC64 or SHA-256) and the LZMA2 filter alone.  The x86 BCJ filter
 * is left out on purpose: the image is mostly relocatable .ko objects whose
 * call displacements are still zero, and BCJ would turn those identical
 * bytes into different absolute addresses, compressing worse.
 *
 * liblzma's multithreaded encoder cuts the input into blocks whose size
 * depends only on the preset, so the output is the same for any number of
 * threads; threads are reduced until the encoder's memory fits.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>

#include "codec/codec.h"

#define XZ_OUT_SIZE (1u << 16)
#define XZ_MEM_BUDGET ((uint64_t)1 << 30) /* encoder memory across threads */

struct xz_state {
	lzma_stream strm;
	unsigned char out[XZ_OUT_SIZE];
};

static const char *xz_error(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "data error";
	case LZMA_BUF_ERROR: return "no progress";
	default: return "internal error";
	}
}

static int xz_feed(struct kd_zsink *s, const void *buf, size_t n, lzma_action action)
{
	struct xz_state *st = s->state;
	lzma_ret r;

	st->strm.next_in = buf;
	st->strm.avail_in = n;
	do {
		st->strm.next_out = st->out;
		st->strm.avail_out = sizeof(st->out);
		r = lzma_code(&st->strm, action);
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			KD_ERR(s->log, "%s: xz: %s", s->what, xz_error(r));
			return r == LZMA_MEM_ERROR ? -ENOMEM : -EIO;
		}
		if (kd_zsink_emit(s, st->out, sizeof(st->out) - st->strm.avail_out) < 0)
			return s->err;
	} while (action == LZMA_FINISH ? r != LZMA_STREAM_END : st->strm.avail_in > 0);
	return 0;
}

static int xz_open(struct kd_zsink *s, int level, unsigned threads)
{
	struct xz_state *st = calloc(1, sizeof(*st));
	lzma_mt mt = { .preset = (uint32_t)level, .check = LZMA_CHECK_CRC32 };
	lzma_ret r;

	if (st == NULL)
		return -ENOMEM;
	s->state = st;
	st->strm = (lzma_stream)LZMA_STREAM_INIT;
	for (mt.threads = threads ? threads : 1; mt.threads > 1; mt.threads--)
		if (lzma_stream_encoder_mt_memusage(&mt) <= XZ_MEM_BUDGET)
			break;
	r = lzma_stream_encoder_mt(&st->strm, &mt);
	if (r != LZMA_OK) {
		KD_ERR(s->log, "%s: xz level %d: %s", s->what, level, xz_error(r));
		return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	KD_DBG(s->log, "xz: preset %d on %u threads", level, mt.threads);
	return 0;
}

static int xz_write(struct kd_zsink *s, const void *buf, size_t n)
{
	return xz_feed(s, buf, n, LZMA_RUN);
}

static int xz_finish(struct kd_zsink *s)
{
	return xz_feed(s, NULL, 0, LZMA_FINISH);
}

static void xz_free(struct kd_zsink *s)
{
	struct xz_state *st = s->state;

	if (st == NULL)
		return;
	lzma_end(&st->strm);
	free(st);
}

const struct kd_zcodec kd_zcodec_xz = {
	.name = "xz", .min_level = 0, .max_level = 9, .default_level = 6,
	.open = xz_open, .write = xz_write, .finish = xz_finish, .free = xz_free,
};
