// SPDX-License-Identifier: MIT
/*
 * The image's compressed stream: one table of the codecs the kernel's
 * initramfs unpacker reads (lib/decompress_*.c), each in its own file, behind
 * one sink that hands compressed bytes to an emit callback (the output file,
 * or memory in the tests).  No external compressor runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"

static const struct kd_zcodec *const codecs[] = {
	[KD_COMPRESS_ZSTD] = &kd_zcodec_zstd,
	[KD_COMPRESS_XZ] = &kd_zcodec_xz,
	[KD_COMPRESS_GZIP] = &kd_zcodec_gzip,
	[KD_COMPRESS_LZ4] = &kd_zcodec_lz4,
	[KD_COMPRESS_NONE] = &kd_zcodec_none,
};

const struct kd_zcodec *kd_zcodec_get(enum kd_compress c)
{
	return (unsigned)c < sizeof(codecs) / sizeof(codecs[0]) ? codecs[c] : NULL;
}

int kd_compress_parse(const char *name, enum kd_compress *out)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (strcmp(codecs[i]->name, name) == 0) {
			*out = (enum kd_compress)i;
			return 0;
		}
	return -EINVAL;
}

const char *kd_compress_name(enum kd_compress c)
{
	const struct kd_zcodec *z = kd_zcodec_get(c);

	return z ? z->name : "?";
}

int kd_compress_check_level(enum kd_compress c, int level, char *msg, size_t n)
{
	const struct kd_zcodec *z = kd_zcodec_get(c);

	if (z == NULL)
		return -EINVAL;
	if (level >= z->min_level && level <= z->max_level)
		return 0;
	if (z->max_level < z->min_level)
		snprintf(msg, n, "%s takes no level", z->name);
	else
		snprintf(msg, n, "%s takes levels %d to %d (default %d)", z->name,
			 z->min_level, z->max_level, z->default_level);
	return -EINVAL;
}

int kd_zsink_emit(struct kd_zsink *s, const void *buf, size_t n)
{
	int err;

	if (s->err < 0)
		return s->err;
	if (n == 0)
		return 0;
	err = s->emit(s->emit_data, buf, n);
	if (err < 0)
		return s->err = err;
	s->out += n;
	return 0;
}

int kd_zsink_open(struct kd_zsink *s, const struct kd_log *log, const char *what,
		  enum kd_compress c, const int *level, unsigned threads, kd_emit_fn emit,
		  void *data)
{
	const struct kd_zcodec *z = kd_zcodec_get(c);
	char msg[128];
	int lv, err;

	memset(s, 0, sizeof(*s));
	s->log = log;
	s->what = what;
	s->emit = emit;
	s->emit_data = data;
	if (z == NULL)
		return -EINVAL;
	lv = level ? *level : z->default_level;
	if (level && kd_compress_check_level(c, lv, msg, sizeof(msg)) < 0) {
		KD_ERR(log, "%s: level %d: %s", what, lv, msg);
		return -EINVAL;
	}
	s->codec = z;
	err = z->open(s, lv, threads ? threads : kd_cpu_count());
	if (err == -ENOMEM)
		KD_ERR(log, "%s: out of memory starting the %s compressor", what, z->name);
	if (err < 0)
		s->err = err;
	return err;
}

int kd_zsink_write(struct kd_zsink *s, const void *buf, size_t n)
{
	int err;

	if (s->err < 0)
		return s->err;
	s->in += n;
	if (n == 0)
		return 0;
	err = s->codec->write(s, buf, n);
	if (err < 0 && s->err == 0)
		s->err = err;
	return s->err;
}

int kd_zsink_finish(struct kd_zsink *s)
{
	int err;

	if (s->err < 0)
		return s->err;
	err = s->codec->finish(s);
	if (err < 0 && s->err == 0)
		s->err = err;
	return s->err;
}

void kd_zsink_free(struct kd_zsink *s)
{
	if (s->codec && s->codec->free)
		s->codec->free(s);
	s->state = NULL;
}

/* ---- none: the cpio as it is ------------------------------------------------ */

static int none_open(struct kd_zsink *s, int level, unsigned threads)
{
	(void)s, (void)level, (void)threads;
	return 0;
}

static int none_write(struct kd_zsink *s, const void *buf, size_t n)
{
	return kd_zsink_emit(s, buf, n);
}

static int none_finish(struct kd_zsink *s)
{
	(void)s;
	return 0;
}

const struct kd_zcodec kd_zcodec_none = {
	.name = "none", .min_level = 0, .max_level = -1, .default_level = 0,
	.open = none_open, .write = none_write, .finish = none_finish,
};
