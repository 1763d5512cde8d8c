// SPDX-License-Identifier: MIT
/*
 * The image's compressed stream: the codecs of codec.c's table that have an
 * encoder (those the kernel's initramfs unpacker reads, lib/decompress_*.c),
 * behind one sink that hands compressed bytes to an emit callback.  No
 * external compressor runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec/internal.h"

/* The codec c if an image can be written with it, else NULL. */
static const struct kd_codec_impl *encoder(enum kd_codec c)
{
	const struct kd_codec_impl *impl = kd_codec_impl(c);

	return impl && impl->open ? impl : NULL;
}

int kd_compress_parse(const char *name, enum kd_codec *out)
{
	for (enum kd_codec c = 0; kd_codec_impl(c); c++)
		if (encoder(c) && strcmp(kd_codec_name(c), name) == 0) {
			*out = c;
			return 0;
		}
	return -EINVAL;
}

int kd_compress_check_level(enum kd_codec c, int level, char *msg, size_t n)
{
	const struct kd_codec_impl *z = encoder(c);

	if (z == NULL) {
		snprintf(msg, n, "%s cannot be written", kd_codec_name(c));
		return -EINVAL;
	}
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
		  enum kd_codec c, const int *level, unsigned threads, kd_emit_fn emit,
		  void *data)
{
	const struct kd_codec_impl *z = encoder(c);
	char msg[128];
	int lv;

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
	return s->err = z->open(s, lv, threads ? threads : kd_cpu_count());
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
