/* SPDX-License-Identifier: MIT */
/*
 * codec: compressed streams.  One table of the algorithms, chosen by magic
 * (codec.c); one file per algorithm with its decoder and, for those an image
 * can be written in, its encoder (zstd.c, xz.c, gzip.c, lz4.c, bzip2.c); one
 * decoder entry that module files, image segments and the kernel's payload
 * share; one sink that compresses the image (sink.c).  Needs only base.
 */
#ifndef KINDLING_CODEC_H
#define KINDLING_CODEC_H

#include "base/base.h"

/* ---- codec.c: the algorithms, by magic ----------------------------------
 * The first five are what `kindling build --compress` takes, zstd (the
 * default) first: a zeroed enum kd_codec is zstd. */
enum kd_codec {
	KD_CODEC_ZSTD, KD_CODEC_XZ, KD_CODEC_GZIP, KD_CODEC_LZ4, KD_CODEC_NONE,
	KD_CODEC_LZMA, KD_CODEC_BZIP2, KD_CODEC_LZO,
};
/* The stream that starts at buf, by the magic numbers the kernel's
 * decompress_method() matches; KD_CODEC_NONE when it is none of them. */
enum kd_codec kd_codec_detect(const void *buf, size_t n);
const char *kd_codec_name(enum kd_codec c); /* "zstd", "xz", ..., "none" */

/* Decode the one stream at in (compressed with c; KD_CODEC_NONE: all of in,
 * copied), as the kernel's decompressors read an initramfs segment or its
 * own payload: decoding stops where the stream ends, *used tells how many
 * bytes of in it took (the next segment starts there), and what those
 * decompressors refuse is warned about.  out is NUL-terminated.  Output
 * above max bytes is an error (-EFBIG), so is a truncated or corrupt
 * stream, logged naming what. */
int kd_decode(const struct kd_log *log, const char *what, enum kd_codec c, const void *in,
	      size_t n, size_t max, struct kd_buf *out, size_t *used);

/* Module files: decoded by magic, never by name, as kmod does (a ".ko" that
 * is really xz works; a ".ko.xz" that is not is read as it is), with the
 * rules of xz -d, zstd -d and gzip -d: streams of one codec back to back,
 * zero bytes between and after them.  Refused past this size: */
#define KD_MAX_MODULE_SIZE (512u << 20)
/* A module's bytes (name in messages), decoded if compressed, else copied. */
int kd_module_decode(const struct kd_log *log, const char *name, const void *data, size_t n,
		     struct kd_buf *out);
/* Read a module file, decoded if compressed. */
int kd_module_read(const struct kd_log *log, const char *path, struct kd_buf *out);

/* ---- sink.c: the image's compressed stream ------------------------------
 * Bytes written to the sink come out compressed through an emit callback
 * (the output file, or memory in the tests). */
typedef int (*kd_emit_fn)(void *data, const void *buf, size_t n);
struct kd_codec_impl;
struct kd_zsink {
	const struct kd_log *log;
	const char *what;          /* names the output in messages */
	kd_emit_fn emit;           /* receives the compressed bytes */
	void *emit_data;
	const struct kd_codec_impl *codec;
	void *state;
	unsigned long long in, out;
	int err;                   /* the first failure, sticky */
};
/* A name --compress takes (zstd, xz, gzip, lz4, none); -EINVAL: another. */
int kd_compress_parse(const char *name, enum kd_codec *out);
/* 0 if c takes level; else -EINVAL and msg says "xz takes levels 0 to 9 ..." */
int kd_compress_check_level(enum kd_codec c, int level, char *msg, size_t n);
/* level NULL: the codec's default; threads 0: one per CPU. */
int kd_zsink_open(struct kd_zsink *s, const struct kd_log *log, const char *what,
		  enum kd_codec c, const int *level, unsigned threads, kd_emit_fn emit,
		  void *data);
int kd_zsink_write(struct kd_zsink *s, const void *buf, size_t n);
int kd_zsink_finish(struct kd_zsink *s); /* ends the stream */
void kd_zsink_free(struct kd_zsink *s);

#endif
