/* SPDX-License-Identifier: MIT */
/*
 * codec: compressed streams, by magic: decoding module files and image
 * segments, encoding images.  Needs only base.
 */
#ifndef KINDLING_CODEC_H
#define KINDLING_CODEC_H

#include "base/base.h"

/* ---- file.c, file_xz.c, file_zstd.c, file_gz.c ---------------------- */
enum kd_codec { KD_CODEC_NONE, KD_CODEC_XZ, KD_CODEC_ZSTD, KD_CODEC_GZIP };
#define KD_MAX_MODULE_SIZE (512u << 20) /* refuse to inflate past this */
enum kd_codec kd_codec_detect(const void *buf, size_t n);
const char *kd_codec_name(enum kd_codec c);
/* Read a module file and decompress it if it is xz, zstd or gzip (by magic). */
int kd_module_read(const struct kd_log *log, const char *path, struct kd_buf *out);
/* Each decompressor: name is used in error messages (usually the path). */
int kd_unxz(const struct kd_log *log, const char *name, const void *in, size_t n, struct kd_buf *out);
int kd_unzstd(const struct kd_log *log, const char *name, const void *in, size_t n, struct kd_buf *out);
int kd_ungzip(const struct kd_log *log, const char *name, const void *in, size_t n, struct kd_buf *out);

enum kd_compress { KD_COMPRESS_ZSTD, KD_COMPRESS_XZ, KD_COMPRESS_GZIP, KD_COMPRESS_LZ4,
		   KD_COMPRESS_NONE };

/* ---- compress.c, compress_{zstd,xz,gz,lz4}.c: the compressed stream ----- */
typedef int (*kd_emit_fn)(void *data, const void *buf, size_t n);
struct kd_zsink {
	const struct kd_log *log;
	const char *what;          /* names the output in messages */
	kd_emit_fn emit;           /* receives the compressed bytes */
	void *emit_data;
	const struct kd_zcodec *codec;
	void *state;
	unsigned long long in, out;
	int err;                   /* the first failure, sticky */
};
struct kd_zcodec {
	const char *name;
	int min_level, max_level, default_level; /* max < min: takes no level */
	int (*open)(struct kd_zsink *s, int level, unsigned threads);
	int (*write)(struct kd_zsink *s, const void *buf, size_t n);
	int (*finish)(struct kd_zsink *s);
	void (*free)(struct kd_zsink *s);
};
extern const struct kd_zcodec kd_zcodec_zstd, kd_zcodec_xz, kd_zcodec_gzip, kd_zcodec_lz4,
	kd_zcodec_none;
const struct kd_zcodec *kd_zcodec_get(enum kd_compress c);
int kd_compress_parse(const char *name, enum kd_compress *out); /* -EINVAL: unknown */
const char *kd_compress_name(enum kd_compress c);
/* 0 if c takes level; else -EINVAL and msg says "xz takes levels 0 to 9 ..." */
int kd_compress_check_level(enum kd_compress c, int level, char *msg, size_t n);
/* level NULL: the codec's default; threads 0: one per CPU. */
int kd_zsink_open(struct kd_zsink *s, const struct kd_log *log, const char *what,
		  enum kd_compress c, const int *level, unsigned threads, kd_emit_fn emit,
		  void *data);
int kd_zsink_write(struct kd_zsink *s, const void *buf, size_t n);
int kd_zsink_finish(struct kd_zsink *s); /* ends the stream */
void kd_zsink_free(struct kd_zsink *s);
/* For the codecs: pass compressed bytes on (counts them, keeps the error). */
int kd_zsink_emit(struct kd_zsink *s, const void *buf, size_t n);

/* ---- imgdecode.c: the streams an initramfs segment can be ------------- */
enum kd_img_comp {
	KD_IMG_CPIO, KD_IMG_GZIP, KD_IMG_ZSTD, KD_IMG_XZ, KD_IMG_LZMA, KD_IMG_LZ4,
	KD_IMG_BZIP2, KD_IMG_LZO, KD_IMG_UNKNOWN,
};
/* imgdecode.c: which stream starts at buf (by the kernel's magic numbers) */
enum kd_img_comp kd_img_detect(const void *buf, size_t n);
const char *kd_img_comp_name(enum kd_img_comp c);
/* Decode the one stream at in; *used: bytes of in it took.  Output above
 * max bytes is an error (-EFBIG), so is a truncated or corrupt stream. */
int kd_img_decode(const struct kd_log *log, const char *what, enum kd_img_comp comp,
		  const void *in, size_t n, size_t max, struct kd_buf *out, size_t *used);

#endif
