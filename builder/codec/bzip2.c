// SPDX-License-Identifier: MIT
/*
 * bzip2 (lib/decompress_bunzip2.c): decoded only, for images made by other
 * tools; kindling writes none.  One stream.
 */
#include <bzlib.h>
#include <errno.h>
#include <stdint.h>

#include "codec/internal.h"

/* One decompress call: 1 when the stream ended, 0 to go on, <0 on error. */
static int bzip2_step(struct kd_dec *d, bz_stream *b, size_t *fed)
{
	unsigned before;
	int ret, err;

	if (b->avail_in == 0 && *fed < d->n) {
		/* libbz2's next_in is not const but it never writes through it */
		b->next_in = (char *)(uintptr_t)(d->in + *fed);
		b->avail_in = kd_feed_size(d->n - *fed);
		*fed += b->avail_in;
	}
	err = kd_dec_room(d);
	if (err < 0)
		return err;
	b->next_out = (char *)d->out + d->size;
	b->avail_out = before = kd_feed_size(d->cap - d->size);
	ret = BZ2_bzDecompress(b);
	d->size += before - b->avail_out;
	if (ret == BZ_STREAM_END) {
		d->used = *fed - b->avail_in;
		return 1;
	}
	if (ret != BZ_OK)
		return kd_dec_fail(d, ret == BZ_MEM_ERROR ? -EIO : -EINVAL, "%s",
				   ret == BZ_MEM_ERROR ? "out of memory" : "corrupt data");
	if (b->avail_in == 0 && *fed == d->n && b->avail_out > 0)
		return kd_dec_truncated(d);
	return 0;
}

static int bzip2_decode(struct kd_dec *d)
{
	bz_stream b = { 0 };
	size_t fed = 0;
	int ret;

	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return kd_dec_fail(d, -EIO, "cannot start libbz2");
	while ((ret = bzip2_step(d, &b, &fed)) == 0)
		;
	BZ2_bzDecompressEnd(&b);
	return ret < 0 ? ret : 0;
}

const struct kd_codec_impl kd_codec_bzip2 = {
	.name = "bzip2", .magic = "BZh", .magic_len = 3, .decode = bzip2_decode,
};
