// SPDX-License-Identifier: MIT
/*
 * zstd modules (CONFIG_MODULE_COMPRESS_ZSTD), through libzstd's streaming
 * decoder: frames need not record their content size, and several frames
 * (and skippable frames) may follow each other, as zstd -d accepts.
 */
#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

#include "codec/codec.h"

/* One byte past the limit tells "exactly the limit" from "more". */
#define ZSTD_MAX_CAP ((size_t)KD_MAX_MODULE_SIZE + 1)

static int zstd_too_big(const struct kd_log *log, const char *name)
{
	KD_ERR(log,
	       "%s: zstd data decompresses to more than %u MiB: refusing "
	       "(a corrupt file or not a kernel module)",
	       name, KD_MAX_MODULE_SIZE >> 20);
	return -EFBIG;
}

/* Room for at least one more byte of output (and the final NUL). */
static int zstd_grow(const struct kd_log *log, const char *name, struct kd_buf *out,
		     size_t *cap)
{
	size_t ncap;
	unsigned char *p;

	if (out->size < *cap)
		return 0;
	if (*cap >= ZSTD_MAX_CAP)
		return zstd_too_big(log, name);
	ncap = *cap > ZSTD_MAX_CAP / 2 ? ZSTD_MAX_CAP : *cap * 2;
	p = realloc(out->data, ncap + 1);
	if (p == NULL) {
		KD_ERR(log, "%s: out of memory decompressing zstd data (%zu bytes)", name,
		       ncap);
		return -ENOMEM;
	}
	out->data = p;
	*cap = ncap;
	return 0;
}

/* The first frame's declared size, when it has one, sizes the buffer. */
static int zstd_first_cap(const struct kd_log *log, const char *name, const void *in, size_t n,
			  size_t *cap)
{
	unsigned long long size = ZSTD_getFrameContentSize(in, n);

	*cap = 64u << 10;
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR)
		return 0; /* the decoder will say what is wrong, if anything */
	if (size > KD_MAX_MODULE_SIZE)
		return zstd_too_big(log, name);
	/* plus one byte so that the end of the frame is seen without growing */
	if (size + 1 > *cap)
		*cap = (size_t)size + 1;
	return 0;
}

static int zstd_run(const struct kd_log *log, const char *name, ZSTD_DCtx *z, ZSTD_inBuffer *in,
		    struct kd_buf *out, size_t cap)
{
	for (;;) {
		ZSTD_outBuffer ob;
		size_t r;
		int err = zstd_grow(log, name, out, &cap);

		if (err < 0)
			return err;
		ob = (ZSTD_outBuffer){ out->data, cap, out->size };
		r = ZSTD_decompressStream(z, &ob, in);
		out->size = ob.pos;
		if (ZSTD_isError(r)) {
			KD_ERR(log, "%s: cannot decompress (zstd): %s", name,
			       ZSTD_getErrorName(r));
			return -EINVAL;
		}
		/* 0: a frame ended and everything it holds was flushed */
		if (r == 0 && in->pos == in->size)
			return 0;
		if (in->pos == in->size && ob.pos < ob.size) {
			KD_ERR(log,
			       "%s: cannot decompress (zstd): truncated: the compressed "
			       "data ends in the middle of a frame",
			       name);
			return -EINVAL;
		}
	}
}

int kd_unzstd(const struct kd_log *log, const char *name, const void *in, size_t n,
	      struct kd_buf *out)
{
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_DCtx *z;
	size_t cap;
	int err;

	out->data = NULL;
	out->size = 0;
	err = zstd_first_cap(log, name, in, n, &cap);
	if (err < 0)
		return err;
	out->data = malloc(cap + 1);
	z = ZSTD_createDCtx();
	if (out->data == NULL || z == NULL) {
		KD_ERR(log, "%s: out of memory decompressing zstd data", name);
		err = -ENOMEM;
		goto fail;
	}
	err = zstd_run(log, name, z, &ib, out, cap);
	if (err < 0)
		goto fail;
	ZSTD_freeDCtx(z);
	out->data[out->size] = '\0';
	return 0;
fail:
	ZSTD_freeDCtx(z);
	kd_buf_free(out);
	return err;
}
