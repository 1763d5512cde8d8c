// SPDX-License-Identifier: MIT
/*
 * The algorithms by magic, and the one way anything is decoded: module
 * files (any number of streams to the end of the file, as xz -d, zstd -d and
 * gzip -d read them), initramfs segments and the kernel's payload (one
 * stream, whose end is where the next thing starts, as the kernel reads
 * them).  Each algorithm decodes one stream; this file chains them, grows
 * the output and holds it to a limit, so that a corrupt or hostile input
 * ends in an error, not in the OOM killer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"

static const struct kd_codec_impl *const codecs[] = {
	[KD_CODEC_ZSTD] = &kd_codec_zstd, [KD_CODEC_XZ] = &kd_codec_xz,
	[KD_CODEC_GZIP] = &kd_codec_gzip, [KD_CODEC_LZ4] = &kd_codec_lz4,
	[KD_CODEC_NONE] = &kd_codec_none, [KD_CODEC_LZMA] = &kd_codec_lzma,
	[KD_CODEC_BZIP2] = &kd_codec_bzip2, [KD_CODEC_LZO] = &kd_codec_lzo,
};
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

const struct kd_codec_impl *kd_codec_impl(enum kd_codec c)
{
	return (unsigned)c < N_CODECS ? codecs[c] : NULL;
}

const char *kd_codec_name(enum kd_codec c)
{
	const struct kd_codec_impl *impl = kd_codec_impl(c);

	return impl ? impl->name : "unknown";
}

static bool has_magic(const struct kd_codec_impl *c, const void *buf, size_t n)
{
	return c->magic_len && n >= c->magic_len && memcmp(buf, c->magic, c->magic_len) == 0;
}

enum kd_codec kd_codec_detect(const void *buf, size_t n)
{
	for (size_t i = 0; i < N_CODECS; i++)
		if (has_magic(codecs[i], buf, n))
			return (enum kd_codec)i;
	return KD_CODEC_NONE;
}

/* ---- the output ------------------------------------------------------------ */

int kd_dec_too_big(struct kd_dec *d)
{
	if (d->module)
		KD_ERR(d->log, "%s: %s data decompresses to more than %zu MiB: refusing "
		       "(a corrupt file or not a kernel module)", d->what, d->codec, d->max >> 20);
	else
		KD_ERR(d->log, "%s: decodes to more than %zu bytes, the reader's limit "
		       "(a corrupt image or a decompression bomb)", d->what, d->max);
	return -EFBIG;
}

static void grow(struct kd_dec *d, size_t cap)
{
	d->out = kd_xrealloc(d->out, cap + 1);
	d->cap = cap;
}

int kd_dec_room(struct kd_dec *d)
{
	size_t limit = d->max + 1;

	if (d->size < d->cap)
		return 0;
	if (d->cap >= limit)
		return kd_dec_too_big(d);
	if (d->cap == 0)
		grow(d, d->hint < limit ? d->hint : limit);
	else
		grow(d, d->cap > limit / 2 ? limit : d->cap * 2);
	return 0;
}

int kd_dec_reserve(struct kd_dec *d, size_t n)
{
	size_t cap = d->cap ? d->cap * 2 : d->hint;

	if (d->size > d->max)
		return kd_dec_too_big(d);
	if (d->cap - d->size >= n)
		return 0;
	if (cap < d->size + n)
		cap = d->size + n;
	if (cap > d->max + n)
		cap = d->max + n;
	grow(d, cap);
	return 0;
}

int kd_dec_fail(struct kd_dec *d, int err, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	KD_ERR(d->log, "%s: cannot decompress (%s): %s", d->what, d->codec, why);
	return err;
}

int kd_dec_truncated(struct kd_dec *d)
{
	return kd_dec_fail(d, -EINVAL, "truncated: the compressed stream does not end before "
			   "the end of the data");
}

/* ---- decoding ---------------------------------------------------------------- */

/* One stream, or for a module file every stream to the end. */
static int run(struct kd_dec *d, const struct kd_codec_impl *c, size_t *used)
{
	const unsigned char *in = d->in;
	size_t n = d->n, pos = 0;
	int err;

	if (c->decode == NULL) {
		KD_ERR(d->log, "%s: %s data cannot be decoded by kindling", d->what, c->name);
		return -ENOTSUP;
	}
	for (;;) {
		d->in = in + pos;
		d->n = n - pos;
		d->used = 0;
		err = c->decode(d);
		if (err < 0)
			return err;
		pos += d->used;
		if (!d->module)
			break;
		while (pos < n && in[pos] == 0) /* padding */
			pos++;
		if (pos == n)
			break;
		if (!has_magic(c, in + pos, n - pos))
			return kd_dec_fail(d, -EINVAL, "unexpected data after the end of the %s "
					   "stream", c->name);
	}
	if (d->size > d->max)
		return kd_dec_too_big(d);
	*used = d->module ? n : pos;
	return 0;
}

static int decode(struct kd_dec *d, enum kd_codec codec, struct kd_buf *out, size_t *used)
{
	const struct kd_codec_impl *c = kd_codec_impl(codec);
	size_t n = d->n, u = 0;
	int err;

	out->data = NULL;
	out->size = 0;
	if (c == NULL)
		return -EINVAL;
	if (d->max > SIZE_MAX / 4)
		d->max = SIZE_MAX / 4; /* room for the arithmetic on it */
	d->codec = c->name;
	/* a first guess (modules compress about 4:1); the output doubles when short */
	d->hint = n > d->max / 4 ? d->max : n * 4;
	if (d->hint < (64u << 10))
		d->hint = 64u << 10;
	err = run(d, c, &u);
	if (err < 0) {
		free(d->out);
		return err;
	}
	out->data = kd_xrealloc(d->out, d->size + 1); /* the slack back */
	out->data[d->size] = '\0';
	out->size = d->size;
	if (used)
		*used = u;
	return 0;
}

int kd_decode(const struct kd_log *log, const char *what, enum kd_codec c, const void *in,
	      size_t n, size_t max, struct kd_buf *out, size_t *used)
{
	struct kd_dec d = { .log = log, .what = what, .in = in, .n = n, .max = max };

	return decode(&d, c, out, used);
}

int kd_module_decode(const struct kd_log *log, const char *name, const void *data, size_t n,
		     struct kd_buf *out)
{
	struct kd_dec d = { .log = log, .what = name, .module = true, .in = data, .n = n,
			    .max = KD_MAX_MODULE_SIZE };

	return decode(&d, kd_codec_detect(data, n), out, NULL);
}

int kd_module_read(const struct kd_log *log, const char *path, struct kd_buf *out)
{
	struct kd_buf raw;
	int err;

	err = kd_read_file(log, path, &raw);
	if (err == -ENOENT) /* kd_read_file is quiet about it: its callers probe */
		KD_ERR(log, "%s: module file does not exist", path);
	if (err < 0)
		return err;
	if (kd_codec_detect(raw.data, raw.size) == KD_CODEC_NONE) {
		*out = raw; /* not compressed: no copy */
		return 0;
	}
	err = kd_module_decode(log, path, raw.data, raw.size, out);
	kd_buf_free(&raw);
	return err;
}

/* ---- none (a copy) and lzo (known by its magic only) ---------------------- */

static int none_decode(struct kd_dec *d)
{
	grow(d, d->n);
	memcpy(d->out, d->in, d->n);
	d->size = d->used = d->n;
	return 0;
}

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

const struct kd_codec_impl kd_codec_none = {
	.name = "none", .magic = "", .decode = none_decode,
	.min_level = 0, .max_level = -1, .default_level = 0,
	.open = none_open, .write = none_write, .finish = none_finish,
};

const struct kd_codec_impl kd_codec_lzo = {
	.name = "lzo", .magic = "\x89LZO", .magic_len = 4,
};
