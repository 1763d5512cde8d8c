// SPDX-License-Identifier: MIT
/*
 * xz modules (CONFIG_MODULE_COMPRESS_XZ), through liblzma's stream decoder.
 * Concatenated streams and stream padding are accepted, as xz -d does.
 * Output grows by doubling up to KD_MAX_MODULE_SIZE so that a corrupt or
 * hostile file ends in an error, not in the OOM killer.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>

#include "codec/codec.h"

/* The kernel's modules use xz -9 at most, whose decoder needs 65 MiB. */
#define XZ_MEMLIMIT (128u << 20)
/* One byte past the limit tells "exactly the limit" from "more". */
#define XZ_MAX_CAP ((size_t)KD_MAX_MODULE_SIZE + 1)

static const char *xz_reason(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_MEMLIMIT_ERROR:
		return "the stream needs more than 128 MiB of memory to decode";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream (bad header)";
	case LZMA_OPTIONS_ERROR:
		return "unsupported xz options (a newer xz format?)";
	case LZMA_DATA_ERROR:
		return "compressed data is corrupt";
	case LZMA_BUF_ERROR:
		return "truncated: the compressed data ends early";
	default:
		return "internal decoder error";
	}
}

/* Room for at least one more byte of output (and the final NUL). */
static int xz_grow(const struct kd_log *log, const char *name, struct kd_buf *out, size_t *cap)
{
	size_t ncap;
	unsigned char *p;

	if (out->size < *cap)
		return 0;
	if (*cap >= XZ_MAX_CAP) {
		KD_ERR(log,
		       "%s: xz data decompresses to more than %u MiB: refusing "
		       "(a corrupt file or not a kernel module)",
		       name, KD_MAX_MODULE_SIZE >> 20);
		return -EFBIG;
	}
	ncap = *cap > XZ_MAX_CAP / 2 ? XZ_MAX_CAP : *cap * 2;
	p = realloc(out->data, ncap + 1);
	if (p == NULL) {
		KD_ERR(log, "%s: out of memory decompressing xz data (%zu bytes)", name,
		       ncap);
		return -ENOMEM;
	}
	out->data = p;
	*cap = ncap;
	return 0;
}

static int xz_run(const struct kd_log *log, const char *name, lzma_stream *s,
		  struct kd_buf *out, size_t cap)
{
	for (;;) {
		lzma_ret r;
		int err = xz_grow(log, name, out, &cap);

		if (err < 0)
			return err;
		s->next_out = out->data + out->size;
		s->avail_out = cap - out->size;
		r = lzma_code(s, LZMA_FINISH);
		out->size = cap - s->avail_out;
		if (r == LZMA_STREAM_END)
			return 0;
		if (r != LZMA_OK) {
			KD_ERR(log, "%s: cannot decompress (xz): %s", name, xz_reason(r));
			return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
		}
	}
}

int kd_unxz(const struct kd_log *log, const char *name, const void *in, size_t n,
	    struct kd_buf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	/* modules compress about 4:1; start there and double when short */
	size_t cap = n < (16u << 10)	  ? (64u << 10)
		     : n > XZ_MAX_CAP / 4 ? XZ_MAX_CAP
					  : n * 4;
	lzma_ret r;
	int err;

	out->size = 0;
	out->data = malloc(cap + 1);
	if (out->data == NULL) {
		KD_ERR(log, "%s: out of memory decompressing xz data", name);
		return -ENOMEM;
	}
	r = lzma_stream_decoder(&s, XZ_MEMLIMIT, LZMA_CONCATENATED);
	if (r != LZMA_OK) {
		KD_ERR(log, "%s: cannot start the xz decoder: %s", name, xz_reason(r));
		kd_buf_free(out);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = n;
	err = xz_run(log, name, &s, out, cap);
	lzma_end(&s);
	if (err < 0) {
		kd_buf_free(out);
		return err;
	}
	out->data[out->size] = '\0';
	return 0;
}
