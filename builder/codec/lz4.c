// SPDX-License-Identifier: MIT
/*
 * lz4 (lib/decompress_unlz4.c): the kernel reads only the legacy frame: the
 * magic 0x184C2102, then chunks of (le32 compressed size, LZ4 block), each
 * block the compression of 8 MiB of input (the last one shorter), no end
 * mark and no checksum.
 *
 * Encoding: blocks are independent, so a batch of them is compressed in
 * parallel (LZ4_compress_HC) and written in order: the bytes do not depend
 * on the number of threads.
 *
 * Decoding: like the kernel, the stream ends at the end of the input, at
 * fewer than 4 bytes left, or at a zero size (the padding before the next
 * segment); another magic inside the stream is skipped.
 */
#include <errno.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"

#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_CHUNK (8u << 20) /* each block decodes to at most this */

/* ---- decoding ---------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int lz4_block(struct kd_dec *d, size_t pos, uint32_t csize)
{
	int r, err;

	/* room for a whole block; the limit is checked before the next one */
	err = kd_dec_reserve(d, LZ4_CHUNK);
	if (err < 0)
		return err;
	r = LZ4_decompress_safe((const char *)d->in + pos, (char *)d->out + d->size,
				(int)csize, LZ4_CHUNK);
	if (r < 0)
		return kd_dec_fail(d, -EINVAL, "corrupt chunk at byte %zu of the stream",
				   pos - 4);
	d->size += (size_t)r;
	return 0;
}

static int lz4_decode(struct kd_dec *d)
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
		if (csize > (uint32_t)LZ4_compressBound(LZ4_CHUNK))
			return kd_dec_fail(d, -EINVAL, "chunk at byte %zu claims %u bytes, more than "
					   "a legacy chunk can hold (is another segment glued "
					   "on without zero padding?)", pos, csize);
		if (csize > d->n - pos - 4)
			return kd_dec_truncated(d);
		err = lz4_block(d, pos + 4, csize);
		if (err < 0)
			return err;
		pos += 4 + (size_t)csize;
	}
	d->used = pos;
	return 0;
}

/* ---- encoding ---------------------------------------------------------------- */

struct lz4_job {
	char *out;      /* le32 size then the block */
	int out_size;   /* block bytes */
};

struct lz4_state {
	struct kd_zsink *s;
	int level;
	unsigned batch;     /* chunks per parallel round */
	char *in;           /* batch * LZ4_CHUNK bytes */
	size_t fill;
	struct lz4_job *jobs;
	int bound;
	bool magic_done;
};

static void put_le32(char *p, uint32_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)(v >> 24);
}

static int lz4_job(void *data, size_t i)
{
	struct lz4_state *st = data;
	size_t off = i * LZ4_CHUNK, len = st->fill - off;
	struct lz4_job *j = &st->jobs[i];

	if (len > LZ4_CHUNK)
		len = LZ4_CHUNK;
	j->out_size = LZ4_compress_HC(st->in + off, j->out + 4, (int)len, st->bound, st->level);
	if (j->out_size <= 0)
		return -EIO;
	put_le32(j->out, (uint32_t)j->out_size);
	return 0;
}

/* Compress and emit what the buffer holds. */
static int lz4_flush(struct lz4_state *st)
{
	struct kd_zsink *s = st->s;
	size_t n = (st->fill + LZ4_CHUNK - 1) / LZ4_CHUNK;
	int err;

	if (!st->magic_done) {
		char magic[4];

		put_le32(magic, LZ4_LEGACY_MAGIC);
		if (kd_zsink_emit(s, magic, 4) < 0)
			return s->err;
		st->magic_done = true;
	}
	if (st->fill == 0)
		return 0;
	err = kd_parallel_for(n, st->batch, lz4_job, st);
	if (err < 0) {
		KD_ERR(s->log, "%s: lz4: a block failed to compress", s->what);
		return err;
	}
	for (size_t i = 0; i < n; i++)
		if (kd_zsink_emit(s, st->jobs[i].out, (size_t)st->jobs[i].out_size + 4) < 0)
			return s->err;
	st->fill = 0;
	return 0;
}

static int lz4_open(struct kd_zsink *s, int level, unsigned threads)
{
	struct lz4_state *st = kd_xcalloc(1, sizeof(*st));

	s->state = st;
	st->s = s;
	st->level = level;
	st->batch = threads ? threads : 1;
	st->bound = LZ4_compressBound(LZ4_CHUNK);
	st->in = kd_xreallocarray(NULL, st->batch, LZ4_CHUNK);
	st->jobs = kd_xcalloc(st->batch, sizeof(*st->jobs));
	for (unsigned i = 0; i < st->batch; i++)
		st->jobs[i].out = kd_xmalloc((size_t)st->bound + 4);
	return 0;
}

static int lz4_write(struct kd_zsink *s, const void *buf, size_t n)
{
	struct lz4_state *st = s->state;
	const char *p = buf;
	size_t cap = (size_t)st->batch * LZ4_CHUNK;

	while (n > 0) {
		size_t take = cap - st->fill < n ? cap - st->fill : n;

		memcpy(st->in + st->fill, p, take);
		st->fill += take;
		p += take;
		n -= take;
		if (st->fill == cap && lz4_flush(st) < 0)
			return s->err ? s->err : -EIO;
	}
	return 0;
}

static int lz4_finish(struct kd_zsink *s)
{
	struct lz4_state *st = s->state;
	int err = lz4_flush(st);

	return err < 0 ? err : s->err;
}

static void lz4_free(struct kd_zsink *s)
{
	struct lz4_state *st = s->state;

	if (st == NULL)
		return;
	for (unsigned i = 0; st->jobs && i < st->batch; i++)
		free(st->jobs[i].out);
	free(st->jobs);
	free(st->in);
	free(st);
}

const struct kd_codec_impl kd_codec_lz4 = {
	.name = "lz4", .magic = "\x02\x21\x4c\x18", .magic_len = 4, .decode = lz4_decode,
	.min_level = 1, .max_level = LZ4HC_CLEVEL_MAX, .default_level = 9,
	.open = lz4_open, .write = lz4_write, .finish = lz4_finish, .free = lz4_free,
};
