// SPDX-License-Identifier: MIT
/*
 * gzip modules (CONFIG_MODULE_COMPRESS_GZIP), through zlib with the gzip
 * wrapper.  Concatenated members are decoded in turn, as gzip -d does;
 * zero bytes after the last member are padding, anything else is an error.
 */
#define ZLIB_CONST
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "codec/codec.h"

/* One byte past the limit tells "exactly the limit" from "more". */
#define GZ_MAX_CAP ((size_t)KD_MAX_MODULE_SIZE + 1)
#define GZ_FEED_MAX (1u << 30) /* zlib counts in unsigned int */

struct gz {
	const struct kd_log *log;
	const char *name;
	const unsigned char *in;
	size_t n, fed;
	struct kd_buf *out;
	size_t cap;
};

static int gz_fail(struct gz *g, int err, const char *why)
{
	KD_ERR(g->log, "%s: cannot decompress (gzip): %s", g->name, why);
	return err;
}

/* Room for at least one more byte of output (and the final NUL). */
static int gz_grow(struct gz *g)
{
	size_t ncap;
	unsigned char *p;

	if (g->out->size < g->cap)
		return 0;
	if (g->cap >= GZ_MAX_CAP) {
		KD_ERR(g->log,
		       "%s: gzip data decompresses to more than %u MiB: refusing "
		       "(a corrupt file or not a kernel module)",
		       g->name, KD_MAX_MODULE_SIZE >> 20);
		return -EFBIG;
	}
	ncap = g->cap > GZ_MAX_CAP / 2 ? GZ_MAX_CAP : g->cap * 2;
	p = realloc(g->out->data, ncap + 1);
	if (p == NULL)
		return gz_fail(g, -ENOMEM, "out of memory");
	g->out->data = p;
	g->cap = ncap;
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* A member ended: 1 when another follows (zlib reset), 0 at the end. */
static int gz_member_end(struct gz *g, z_stream *z)
{
	size_t used = g->fed - z->avail_in;
	const unsigned char *rest = g->in + used;
	size_t left = g->n - used;

	if (left == 0 || all_zero(rest, left))
		return 0;
	if (left < 2 || rest[0] != 0x1f || rest[1] != 0x8b)
		return gz_fail(g, -EINVAL,
			       "unexpected data after the end of the gzip stream");
	if (inflateReset(z) != Z_OK)
		return gz_fail(g, -EINVAL, "cannot restart zlib for the next member");
	return 1;
}

/* One inflate call; 1 when the last member ended. */
static int gz_step(struct gz *g, z_stream *z)
{
	unsigned before;
	int ret, err;

	if (z->avail_in == 0 && g->fed < g->n) {
		size_t chunk = g->n - g->fed;

		z->next_in = g->in + g->fed;
		z->avail_in = chunk > GZ_FEED_MAX ? GZ_FEED_MAX : (unsigned)chunk;
		g->fed += z->avail_in;
	}
	err = gz_grow(g);
	if (err < 0)
		return err;
	z->next_out = g->out->data + g->out->size;
	before = g->cap - g->out->size > GZ_FEED_MAX ? GZ_FEED_MAX
						     : (unsigned)(g->cap - g->out->size);
	z->avail_out = before;
	ret = inflate(z, Z_NO_FLUSH);
	g->out->size += before - z->avail_out;
	if (ret == Z_STREAM_END) {
		err = gz_member_end(g, z);
		return err < 0 ? err : err == 0 ? 1 : 0;
	}
	if (ret == Z_BUF_ERROR && z->avail_in == 0 && g->fed == g->n)
		return gz_fail(g, -EINVAL, "truncated: the compressed data ends early");
	if (ret == Z_MEM_ERROR)
		return gz_fail(g, -ENOMEM, "out of memory");
	if (ret != Z_OK && ret != Z_BUF_ERROR)
		return gz_fail(g, -EINVAL, z->msg ? z->msg : zError(ret));
	return 0;
}

int kd_ungzip(const struct kd_log *log, const char *name, const void *in, size_t n,
	      struct kd_buf *out)
{
	struct gz g = { .log = log, .name = name, .in = in, .n = n, .out = out };
	z_stream z = { 0 };
	int err;

	g.cap = n < (16u << 10) ? (64u << 10) : n > GZ_MAX_CAP / 4 ? GZ_MAX_CAP : n * 4;
	out->size = 0;
	out->data = malloc(g.cap + 1);
	if (out->data == NULL)
		return gz_fail(&g, -ENOMEM, "out of memory");
	/* 16: expect the gzip wrapper, not raw zlib */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		kd_buf_free(out);
		return gz_fail(&g, -ENOMEM, "cannot start zlib");
	}
	while ((err = gz_step(&g, &z)) == 0)
		;
	inflateEnd(&z);
	if (err < 0) {
		kd_buf_free(out);
		return err;
	}
	out->data[out->size] = '\0';
	return 0;
}
