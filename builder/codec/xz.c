// SPDX-License-Identifier: MIT
/*
 * xz (lib/decompress_unxz.c, CONFIG_MODULE_COMPRESS_XZ) and the legacy
 * .lzma format (lib/decompress_unlzma.c), through liblzma.
 *
 * Encoding (xz only): the .xz container with a CRC32 check (the kernel's
 * xz-embedded decoder verifies CRC32 or none, and may not know CRC64 or
 * SHA-256) and the LZMA2 filter alone.  The x86 BCJ filter is left out on
 * purpose: the image is mostly relocatable .ko objects whose call
 * displacements are still zero, and BCJ would turn those identical bytes
 * into different absolute addresses, compressing worse.  liblzma's
 * multithreaded encoder cuts the input into blocks whose size depends only
 * on the preset, so the output is the same for any number of threads;
 * threads are reduced until the encoder's memory fits.
 *
 * Decoding: one stream (codec.c chains the streams of a module file).
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>

#include "codec/internal.h"

/* ---- decoding ---------------------------------------------------------------- */

#define XZ_MEMLIMIT (256u << 20) /* xz -9 needs 65 MiB */

static const char *lzma_why(lzma_ret r, bool xz)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "the stream needs more than 256 MiB of memory to decode";
	case LZMA_FORMAT_ERROR:
		return xz ? "not an xz stream (bad header)" : "not an lzma stream (bad header)";
	case LZMA_OPTIONS_ERROR: return "unsupported options (a newer format?)";
	case LZMA_DATA_ERROR: return "compressed data is corrupt";
	default: return "internal decoder error";
	}
}

/* The kernel's xz decoder takes CRC32 or no check: say so when it differs. */
static void xz_check_note(struct kd_dec *d, lzma_check check)
{
	const char *name = check == LZMA_CHECK_CRC64 ? "CRC64" :
			   check == LZMA_CHECK_SHA256 ? "SHA-256" : "an unknown check";

	if (check != LZMA_CHECK_CRC32 && check != LZMA_CHECK_NONE)
		KD_WARN(d->log, "%s: xz stream uses %s; the kernel only accepts CRC32 "
			"or none (xz --check=crc32)", d->what, name);
}

static int lzma_run(struct kd_dec *d, lzma_stream *s, bool xz)
{
	lzma_ret r;
	int err;

	s->next_in = d->in;
	s->avail_in = d->n;
	for (;;) {
		err = kd_dec_room(d);
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
			return kd_dec_truncated(d);
		if (r != LZMA_OK && !(r == LZMA_BUF_ERROR && s->avail_out == 0))
			return kd_dec_fail(d, r == LZMA_MEM_ERROR ? -EIO : -EINVAL, "%s",
					   lzma_why(r, xz));
	}
}

static int xz_lzma_decode(struct kd_dec *d, bool xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;
	int err;

	/* No LZMA_CONCATENATED: stop where this stream ends.  A module is never
	 * unpacked by the kernel's decoder here: its check is not our concern. */
	if (xz)
		r = lzma_stream_decoder(&s, XZ_MEMLIMIT, d->module ? 0 : LZMA_TELL_ANY_CHECK);
	else
		r = lzma_alone_decoder(&s, XZ_MEMLIMIT);
	if (r != LZMA_OK)
		return kd_dec_fail(d, -EIO, "cannot start liblzma's decoder: %s",
				   lzma_why(r, xz));
	err = lzma_run(d, &s, xz);
	lzma_end(&s);
	return err;
}

static int xz_decode(struct kd_dec *d)
{
	return xz_lzma_decode(d, true);
}

static int lzma_decode(struct kd_dec *d)
{
	return xz_lzma_decode(d, false);
}

/* ---- encoding ---------------------------------------------------------------- */

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
			return -EIO;
		}
		if (kd_zsink_emit(s, st->out, sizeof(st->out) - st->strm.avail_out) < 0)
			return s->err;
	} while (action == LZMA_FINISH ? r != LZMA_STREAM_END : st->strm.avail_in > 0);
	return 0;
}

static int xz_open(struct kd_zsink *s, int level, unsigned threads)
{
	struct xz_state *st = kd_xcalloc(1, sizeof(*st));
	lzma_mt mt = { .preset = (uint32_t)level, .check = LZMA_CHECK_CRC32 };
	lzma_ret r;

	s->state = st;
	st->strm = (lzma_stream)LZMA_STREAM_INIT;
	for (mt.threads = threads ? threads : 1; mt.threads > 1; mt.threads--)
		if (lzma_stream_encoder_mt_memusage(&mt) <= XZ_MEM_BUDGET)
			break;
	r = lzma_stream_encoder_mt(&st->strm, &mt);
	if (r != LZMA_OK) {
		KD_ERR(s->log, "%s: xz level %d: %s", s->what, level, xz_error(r));
		return r == LZMA_MEM_ERROR ? -EIO : -EINVAL;
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

const struct kd_codec_impl kd_codec_xz = {
	.name = "xz", .magic = "\xfd" "7zXZ\0", .magic_len = 6, .decode = xz_decode,
	.min_level = 0, .max_level = 9, .default_level = 6,
	.open = xz_open, .write = xz_write, .finish = xz_finish, .free = xz_free,
};

const struct kd_codec_impl kd_codec_lzma = {
	.name = "lzma", .magic = "\x5d\0\0", .magic_len = 3, .decode = lzma_decode,
};
