/* SPDX-License-Identifier: MIT */
/*
 * codec's own: what each algorithm's file gives the table (codec.c) and the
 * helpers they share.  Library failures (a decoder that cannot start, a
 * library out of memory) are reported like corrupt data, naming the input;
 * kindling's own allocations die on out of memory (base).
 */
#ifndef KINDLING_CODEC_INTERNAL_H
#define KINDLING_CODEC_INTERNAL_H

#include "codec/codec.h"

/* One stream being decoded; the output grows as it is written. */
struct kd_dec {
	const struct kd_log *log;
	const char *what;           /* names the input in messages */
	const char *codec;          /* the algorithm's name, for messages */
	bool module;                /* a module file (kd_module_decode), not a stream
				       the kernel reads (kd_decode) */
	const unsigned char *in;    /* this stream: it starts at in[0] */
	size_t n;
	size_t used;                /* set by the decoder: where its stream ended */
	unsigned char *out;         /* every stream's output so far */
	size_t size, cap, max;      /* cap: allocated bytes less one, for the NUL */
	size_t hint;                /* the first allocation (a decoder may set it) */
};

struct kd_codec_impl {
	const char *name;
	const char *magic;          /* "": none */
	size_t magic_len;
	/* Decode the one stream at d->in, appending to d->out; set d->used.
	 * NULL: kindling cannot decode it. */
	int (*decode)(struct kd_dec *d);
	/* The encoder; open NULL: an image cannot be written with it. */
	int min_level, max_level, default_level; /* max < min: takes no level */
	int (*open)(struct kd_zsink *s, int level, unsigned threads);
	int (*write)(struct kd_zsink *s, const void *buf, size_t n);
	int (*finish)(struct kd_zsink *s);
	void (*free)(struct kd_zsink *s);
};

/* zstd.c, xz.c, gzip.c, lz4.c, bzip2.c; codec.c: none, lzo */
extern const struct kd_codec_impl kd_codec_zstd, kd_codec_xz, kd_codec_lzma, kd_codec_gzip,
	kd_codec_lz4, kd_codec_bzip2, kd_codec_none, kd_codec_lzo;
/* codec.c: the table's entry for c (NULL: not one) */
const struct kd_codec_impl *kd_codec_impl(enum kd_codec c);

/* codec.c: for the decoders.  Room for one more byte of output at least,
 * never past max + 1 bytes (one byte past the limit tells "exactly max" from
 * "more"); -EFBIG, logged, past that. */
int kd_dec_room(struct kd_dec *d);
/* Room for n more bytes, whatever the limit (lz4 decodes whole blocks); the
 * limit is checked at the next call and once the stream ends. */
int kd_dec_reserve(struct kd_dec *d, size_t n);
/* "WHAT: cannot decompress (CODEC): WHY", returns err. */
int kd_dec_fail(struct kd_dec *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kd_dec_truncated(struct kd_dec *d); /* -EINVAL: the input ends inside the stream */
int kd_dec_too_big(struct kd_dec *d);   /* -EFBIG: the output passes d->max */

/* zlib and libbz2 count in unsigned int: hand them at most 1 GiB at once. */
#define KD_FEED_MAX (1u << 30)
static inline unsigned kd_feed_size(size_t n)
{
	return n > KD_FEED_MAX ? KD_FEED_MAX : (unsigned)n;
}

/* sink.c: for the encoders: pass compressed bytes on (counted; the first
 * error is kept). */
int kd_zsink_emit(struct kd_zsink *s, const void *buf, size_t n);

#endif
