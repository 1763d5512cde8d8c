// SPDX-License-Identifier: MIT
/*
 * codec/: detection by magic; module files decoded from data compressed
 * here with liblzma, libzstd and zlib (several streams, frames without a
 * content size, gzip members, zero padding), corrupt and truncated streams
 * with messages naming the file and the codec's reason, the size limit, and
 * real Debian modules read through kd_module_read; then the image's
 * encoders: round trips through kd_decode with the same bytes for any
 * number of threads, the formats the kernel needs, levels, a failing emit.
 */
#include "unit.h"

#include <errno.h>
#include <glob.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "builder_test.h"

struct t {
	struct kd_log sink; /* into log */
	struct kd_str log;
	char dir[64];
	unsigned char *plain; /* test data: compressible, not trivial */
	size_t n;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->sink = (struct kd_log){ capture, &t->log, KD_LOG_DEBUG };
	kd_str_addz(&t->log, "");
	strcpy(t->dir, "/tmp/kd-codec-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->n = 300000;
	t->plain = malloc(t->n);
	for (size_t i = 0; i < t->n; i++)
		t->plain[i] = (unsigned char)((i * 7 + i / 1000) % 61 +
					      (i % 13 == 0 ? 100 : 0));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	if (getenv("KD_TEST_LOG"))
		fputs(t->log.s, stderr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
	kd_str_free(&t->log);
	free(t->plain);
	free(t);
	return 0;
}

static void assert_logged(struct t *t, const char *what)
{
	if (strstr(t->log.s, what) == NULL)
		fail_msg("expected \"%s\" in the log, got: %s", what, t->log.s);
}

static void assert_plain(struct t *t, const struct kd_buf *b, size_t copies)
{
	assert_int_equal(b->size, t->n * copies);
	for (size_t i = 0; i < copies; i++)
		assert_memory_equal(b->data + i * t->n, t->plain, t->n);
	assert_int_equal(b->data[b->size], '\0');
}

/* ---- compressors ------------------------------------------------------------- */

static size_t xz(const void *in, size_t n, unsigned char *out, size_t cap)
{
	size_t used = 0;

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, n, out,
						 &used, cap),
			 LZMA_OK);
	return used;
}

static size_t zst(const void *in, size_t n, unsigned char *out, size_t cap,
		  bool size_known)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };

	/* a checksum, so that any damaged byte is caught */
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	/* streamed without a pledged size: the frame records no content size */
	if (size_known)
		ZSTD_CCtx_setPledgedSrcSize(c, n);
	else
		assert_false(
			ZSTD_isError(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue)));
	assert_int_equal(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end), 0);
	ZSTD_freeCCtx(c);
	assert_int_equal(ZSTD_getFrameContentSize(out, ob.pos),
			 size_known ? (unsigned long long)n : ZSTD_CONTENTSIZE_UNKNOWN);
	return ob.pos;
}

static size_t gz(const void *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(
		deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
		Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (unsigned)n;
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return z.total_out;
}

/* A module's bytes, as kd_module_read decodes them. */
static int dec(struct t *t, const char *name, const void *in, size_t n, struct kd_buf *b)
{
	return kd_module_decode(&t->sink, name, in, n, b);
}

/* Damage byte at, and the stream must fail naming the file and reason (by
 * its codec: a damaged magic would no longer say which codec it is). */
static void assert_corrupt(struct t *t, enum kd_codec codec, unsigned char *c, size_t n,
			   size_t at, const char *why)
{
	struct kd_buf b = { (unsigned char *)"x", 1 };

	c[at] ^= 0x55;
	assert_int_not_equal(kd_decode(&t->sink, "bad.ko", codec, c, n, 1u << 30, &b, NULL), 0);
	assert_null(b.data);
	assert_logged(t, why);
	c[at] ^= 0x55;
}

/* ---- detection ------------------------------------------------------------------ */

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(kd_codec_detect("\xfd"
					 "7zXZ\0rest",
					 9),
			 KD_CODEC_XZ);
	assert_int_equal(kd_codec_detect("\xfd"
					 "7zXZ",
					 5),
			 KD_CODEC_NONE); /* too short */
	assert_int_equal(kd_codec_detect("\x28\xb5\x2f\xfd", 4), KD_CODEC_ZSTD);
	assert_int_equal(kd_codec_detect("\x28\xb5\x2f", 3), KD_CODEC_NONE);
	assert_int_equal(kd_codec_detect("\x1f\x8b\x08", 3), KD_CODEC_GZIP);
	assert_int_equal(kd_codec_detect("\x1f", 1), KD_CODEC_NONE);
	assert_int_equal(kd_codec_detect("\x7f"
					 "ELF",
					 4),
			 KD_CODEC_NONE);
	assert_int_equal(kd_codec_detect("", 0), KD_CODEC_NONE);
	assert_int_equal(kd_codec_detect("070701", 6), KD_CODEC_NONE); /* cpio: not compressed */
	assert_int_equal(kd_codec_detect("\x02\x21\x4c\x18", 4), KD_CODEC_LZ4);
	assert_int_equal(kd_codec_detect("\x5d\0\0\x80", 4), KD_CODEC_LZMA);
	assert_int_equal(kd_codec_detect("BZh9", 4), KD_CODEC_BZIP2);
	assert_int_equal(kd_codec_detect("\x89LZO\0", 5), KD_CODEC_LZO);
	assert_string_equal(kd_codec_name(KD_CODEC_LZMA), "lzma");
	assert_string_equal(kd_codec_name(KD_CODEC_XZ), "xz");
	assert_string_equal(kd_codec_name(KD_CODEC_ZSTD), "zstd");
	assert_string_equal(kd_codec_name(KD_CODEC_GZIP), "gzip");
	assert_string_equal(kd_codec_name(KD_CODEC_NONE), "none");
}

/* ---- xz ------------------------------------------------------------------------- */

static void test_xz(void **state)
{
	struct t *t = *state;
	size_t cap = t->n * 2 + 1024, n1, n2, used;
	unsigned char *c = malloc(cap);
	struct kd_buf b;

	n1 = xz(t->plain, t->n, c, cap);
	assert_int_equal(dec(t, "m.ko.xz", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* two streams and stream padding, as xz -d takes them */
	n2 = xz(t->plain, t->n, c + n1, cap - n1);
	memset(c + n1 + n2, 0, 8);
	assert_int_equal(dec(t, "m.ko.xz", c, n1 + n2 + 8, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);
	/* padding between the streams too */
	memmove(c + n1 + 4, c + n1, n2);
	memset(c + n1, 0, 4);
	assert_int_equal(dec(t, "m.ko.xz", c, n1 + 4 + n2, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);
	/* as one stream (an image's segment): it ends where its stream does */
	assert_int_equal(kd_decode(&t->sink, "seg", KD_CODEC_XZ, c, n1 + 4 + n2,
				   1u << 30, &b, &used), 0);
	assert_int_equal(used, n1);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);

	assert_corrupt(t, KD_CODEC_XZ, c, n1, n1 / 2, "bad.ko: cannot decompress (xz): ");
	assert_corrupt(t, KD_CODEC_XZ, c, n1, 0,
		       "bad.ko: cannot decompress (xz): not an xz stream");
	assert_int_equal(dec(t, "cut.ko", c, n1 - 9, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (xz): truncated");
	assert_int_equal(dec(t, "cut2.ko", c, 12, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (xz): truncated");
	memcpy(c + n1, "junk after the stream", 20);
	assert_int_equal(dec(t, "tail.ko", c, n1 + 20, &b), -EINVAL);
	assert_logged(t, "tail.ko: cannot decompress (xz): unexpected data after the end of the "
		      "xz stream");
	free(c);
}

/* ---- zstd ------------------------------------------------------------------------ */

static void test_zstd(void **state)
{
	struct t *t = *state;
	size_t cap = ZSTD_compressBound(t->n) * 2, n1, n2;
	unsigned char *c = malloc(cap);
	struct kd_buf b;

	n1 = zst(t->plain, t->n, c, cap, true);
	assert_int_equal(dec(t, "m.ko.zst", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* a frame without its content size, after one with it */
	n2 = zst(t->plain, t->n, c + n1, cap - n1, false);
	assert_int_equal(dec(t, "m.ko.zst", c, n1 + n2, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);
	assert_int_equal(dec(t, "m.ko.zst", c + n1, n2, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);

	assert_corrupt(t, KD_CODEC_ZSTD, c, n1, n1 / 2, "bad.ko: cannot decompress (zstd): ");
	assert_int_equal(dec(t, "cut.ko", c, n1 - 5, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (zstd): truncated");
	assert_int_equal(dec(t, "cut2.ko", c + n1, n2 - 5, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (zstd): truncated");
	memcpy(c + n1, "junkjunk", 8);
	assert_int_equal(dec(t, "tail.ko", c, n1 + 8, &b), -EINVAL);
	assert_logged(t, "tail.ko: cannot decompress (zstd): unexpected data after the end of "
		      "the zstd stream");
	/* zero bytes after the last frame are padding */
	memset(c + n1, 0, 8);
	assert_int_equal(dec(t, "m.ko.zst", c, n1 + 8, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	free(c);
}

/* A frame header that claims 1 GiB: refused before anything is decoded. */
static void test_zstd_too_big(void **state)
{
	/* magic, descriptor: 8-byte size, single segment; size 0x40000000 */
	static const unsigned char hdr[] = {
		0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0,
	};
	struct t *t = *state;
	struct kd_buf b;

	assert_int_equal(ZSTD_getFrameContentSize(hdr, sizeof(hdr)), 1ull << 30);
	assert_int_equal(dec(t, "bomb.ko.zst", hdr, sizeof(hdr), &b), -EFBIG);
	assert_null(b.data);
	assert_logged(t, "bomb.ko.zst: zstd data decompresses to more than 512 MiB");
}

/* ---- gzip ------------------------------------------------------------------------ */

static void test_gzip(void **state)
{
	struct t *t = *state;
	size_t cap = t->n * 2 + 1024, n1, n2;
	unsigned char *c = malloc(cap);
	struct kd_buf b;

	n1 = gz(t->plain, t->n, c, cap);
	assert_int_equal(dec(t, "m.ko.gz", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* two members, then zero padding */
	n2 = gz(t->plain, t->n, c + n1, cap - n1);
	memset(c + n1 + n2, 0, 16);
	assert_int_equal(dec(t, "m.ko.gz", c, n1 + n2 + 16, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);

	/* the CRC32 in the trailer, then the deflate data */
	assert_corrupt(t, KD_CODEC_GZIP, c, n1, n1 - 6,
		       "bad.ko: cannot decompress (gzip): "
		       "incorrect data check");
	assert_corrupt(t, KD_CODEC_GZIP, c, n1, 3, "bad.ko: cannot decompress (gzip): ");
	assert_int_equal(dec(t, "cut.ko", c, n1 - 4, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (gzip): truncated");
	assert_int_equal(dec(t, "cut2.ko", c, 10, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (gzip): truncated");
	memcpy(c + n1, "junk", 4);
	assert_int_equal(dec(t, "tail.ko", c, n1 + 4, &b), -EINVAL);
	assert_logged(t,
		      "tail.ko: cannot decompress (gzip): unexpected data after the end");
	free(c);
}

/* ---- kd_module_read -------------------------------------------------------------- */

static void put(struct t *t, const char *name, const void *data, size_t n, char *path)
{
	FILE *f;

	sprintf(path, "%s/%s", t->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void test_module_read(void **state)
{
	struct t *t = *state;
	size_t cap = ZSTD_compressBound(t->n) + t->n, n;
	unsigned char *c = malloc(cap);
	char path[256];
	struct kd_buf b;

	put(t, "plain.ko", t->plain, t->n, path);
	assert_int_equal(kd_module_read(&t->sink, path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* by magic, whatever the name says */
	n = xz(t->plain, t->n, c, cap);
	put(t, "named-wrong.ko", c, n, path);
	assert_int_equal(kd_module_read(&t->sink, path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	n = zst(t->plain, t->n, c, cap, false);
	put(t, "m.ko.zst", c, n, path);
	assert_int_equal(kd_module_read(&t->sink, path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	n = gz(t->plain, t->n, c, cap);
	put(t, "m.ko.gz", c, n, path);
	assert_int_equal(kd_module_read(&t->sink, path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* damaged: the message names the file */
	c[n / 2] ^= 0xff;
	put(t, "bad.ko.gz", c, n, path);
	assert_int_equal(kd_module_read(&t->sink, path, &b), -EINVAL);
	assert_logged(t, "/bad.ko.gz: cannot decompress (gzip)");
	sprintf(path, "%s/missing.ko", t->dir);
	assert_int_equal(kd_module_read(&t->sink, path, &b), -ENOENT);
	assert_logged(t, "/missing.ko: module file does not exist");
	assert_int_equal(kd_module_read(&t->sink, t->dir, &b), -EISDIR);
	free(c);
}

/* A real module of each installed Debian kernel decodes to an ELF file. */
static void test_real_modules(void **state)
{
	static const char *const patterns[] = {
		"/lib/modules/6.1.*-amd64/kernel/fs/ext4/ext4.ko",
		"/lib/modules/6.12.*-amd64/kernel/fs/ext4/ext4.ko.xz",
	};
	struct t *t = *state;
	int found = 0;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct kd_buf raw, b;
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) != 0) {
			print_message("skipped: no module matches %s\n", patterns[i]);
			continue;
		}
		assert_int_equal(kd_read_file(&t->sink, g.gl_pathv[0], &raw), 0);
		assert_int_equal(kd_module_read(&t->sink, g.gl_pathv[0], &b), 0);
		assert_memory_equal(b.data,
				    "\x7f"
				    "ELF",
				    4);
		assert_true(b.size >= raw.size);
		assert_int_equal(kd_codec_detect(raw.data, raw.size),
				 strstr(patterns[i], ".xz") ? KD_CODEC_XZ
							    : KD_CODEC_NONE);
		kd_buf_free(&raw);
		kd_buf_free(&b);
		globfree(&g);
		found++;
	}
	if (found == 0)
		skip();
}

/* ---- the image's encoders ---------------------------------------------------- */

/* Their messages, captured (no fixture: nothing touches the filesystem). */
static struct kd_str codec_log;
static const struct kd_log codec_sink = { capture, &codec_log, KD_LOG_DEBUG };

struct membuf {
	unsigned char *p;
	size_t n, cap;
	int fail_after; /* > 0: emit fails with -ENOSPC after this many calls */
};

static int mem_emit(void *data, const void *buf, size_t n)
{
	struct membuf *m = data;

	if (m->fail_after > 0 && --m->fail_after == 0)
		return -ENOSPC;
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->n, buf, n);
	m->n += n;
	return 0;
}

/* Compressible but not trivial: words from a small table, some noise. */
static unsigned char *sample(size_t n)
{
	static const char *const words[] = { "module ", "kernel ", "\x7f" "ELF", "firmware ",
					     "\0\0\0\0", "init ", "usr/lib/" };
	unsigned char *p = malloc(n);
	uint32_t x = 12345;

	assert_non_null(p);
	for (size_t i = 0; i < n;) {
		const char *w;

		x = x * 1103515245u + 12345u;
		w = words[(x >> 16) % 7];
		for (size_t k = 0; k < 8 && i < n; k++)
			p[i++] = (x & 0x8000) && k == 3 ? (unsigned char)(x >> 24) : (unsigned char)w[k % 5];
	}
	return p;
}

static void compress_mem(enum kd_codec c, const int *level, unsigned threads,
			 const unsigned char *in, size_t n, struct membuf *out)
{
	struct kd_zsink s;
	size_t half = n / 3;

	memset(out, 0, sizeof(*out));
	assert_int_equal(kd_zsink_open(&s, &codec_sink, "mem", c, level, threads, mem_emit, out), 0);
	/* in two writes of uneven size, as libarchive hands them over */
	assert_int_equal(kd_zsink_write(&s, in, half), 0);
	assert_int_equal(kd_zsink_write(&s, in + half, n - half), 0);
	assert_int_equal(kd_zsink_finish(&s), 0);
	assert_int_equal(s.in, n);
	assert_int_equal(s.out, out->n);
	kd_zsink_free(&s);
}

static void round_trip(enum kd_codec c, const int *level, size_t n)
{
	unsigned char *in = sample(n);
	struct membuf a, b;
	struct kd_buf dec = { 0 };
	size_t used = 0;

	compress_mem(c, level, 1, in, n, &a);
	compress_mem(c, level, 3, in, n, &b);
	/* the same bytes whatever the number of threads */
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.p, b.p, a.n);
	if (c != KD_CODEC_NONE) {
		assert_int_equal(kd_codec_detect(a.p, a.n), c);
		assert_true(a.n < n / 2);
		/* followed by zero padding and more: used must stop at its end */
		a.p = realloc(a.p, a.n + 8);
		memset(a.p + a.n, 0, 8);
		assert_int_equal(kd_decode(&codec_sink, "mem", c, a.p,
					   a.n + (c == KD_CODEC_LZ4 ? 0 : 8), n + 1, &dec, &used), 0);
		assert_int_equal(used, a.n);
		assert_int_equal(dec.size, n);
		assert_memory_equal(dec.data, in, n);
		kd_buf_free(&dec);
		/* exactly at the limit is fine, one byte less is too little */
		assert_int_equal(kd_decode(&codec_sink, "mem", c, a.p, a.n, n, &dec,
					   &used), 0);
		kd_buf_free(&dec);
		assert_int_equal(kd_decode(&codec_sink, "mem", c, a.p, a.n, n - 1, &dec,
					   &used), -EFBIG);
		assert_null(dec.data);
	} else {
		assert_int_equal(a.n, n);
		assert_memory_equal(a.p, in, n);
	}
	free(a.p);
	free(b.p);
	free(in);
}

static void test_codecs_round_trip(void **state)
{
	int one = 1, zero = 0;

	(void)state;
	round_trip(KD_CODEC_ZSTD, NULL, 3u << 20);
	round_trip(KD_CODEC_GZIP, NULL, 1u << 20);
	round_trip(KD_CODEC_XZ, &zero, 1u << 20);
	round_trip(KD_CODEC_NONE, NULL, 1u << 20);
	/* three legacy chunks of 8 MiB, the last short; batches of 1 and 3 */
	round_trip(KD_CODEC_LZ4, &one, (17u << 20) + 5);
	round_trip(KD_CODEC_LZ4, NULL, 100000);
	kd_str_free(&codec_log);
}

static void test_codec_formats(void **state)
{
	unsigned char *in = sample(1000);
	struct membuf m;
	lzma_stream_flags flags;

	(void)state;
	/* xz: CRC32 check, what the kernel's xz-embedded decoder verifies */
	compress_mem(KD_CODEC_XZ, NULL, 2, in, 1000, &m);
	assert_int_equal(lzma_stream_header_decode(&flags, m.p), LZMA_OK);
	assert_int_equal(flags.check, LZMA_CHECK_CRC32);
	free(m.p);
	/* lz4: the legacy magic, then le32 sizes */
	compress_mem(KD_CODEC_LZ4, NULL, 1, in, 1000, &m);
	assert_memory_equal(m.p, "\x02\x21\x4c\x18", 4);
	assert_int_equal(m.p[4] | m.p[5] << 8 | m.p[6] << 16 | m.p[7] << 24, m.n - 8);
	free(m.p);
	/* gzip: mtime 0 in the header, for reproducible images */
	compress_mem(KD_CODEC_GZIP, NULL, 1, in, 1000, &m);
	assert_memory_equal(m.p, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
	free(m.p);
	free(in);
	kd_str_free(&codec_log);
}

static void test_levels(void **state)
{
	static const struct { enum kd_codec c; int lo, hi; const char *msg; } t[] = {
		{ KD_CODEC_ZSTD, 1, 22, "zstd takes levels 1 to 22 (default 3)" },
		{ KD_CODEC_XZ, 0, 9, "xz takes levels 0 to 9 (default 6)" },
		{ KD_CODEC_GZIP, 1, 9, "gzip takes levels 1 to 9 (default 6)" },
		{ KD_CODEC_LZ4, 1, 12, "lz4 takes levels 1 to 12 (default 9)" },
	};
	enum kd_codec c;
	char msg[128];
	struct kd_zsink s;
	struct membuf m = { 0 };
	int bad = 10;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(kd_compress_check_level(t[i].c, t[i].lo, msg, sizeof(msg)), 0);
		assert_int_equal(kd_compress_check_level(t[i].c, t[i].hi, msg, sizeof(msg)), 0);
		msg[0] = '\0';
		assert_int_equal(kd_compress_check_level(t[i].c, t[i].lo - 1, msg, sizeof(msg)),
				 -EINVAL);
		assert_string_equal(msg, t[i].msg);
		assert_int_equal(kd_compress_check_level(t[i].c, t[i].hi + 1, msg, sizeof(msg)),
				 -EINVAL);
		assert_string_equal(msg, t[i].msg);
	}
	assert_int_equal(kd_compress_check_level(KD_CODEC_NONE, 0, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "none takes no level");
	assert_int_equal(kd_compress_parse("lz4", &c), 0);
	assert_int_equal(c, KD_CODEC_LZ4);
	assert_int_equal(kd_compress_parse("bzip2", &c), -EINVAL);
	assert_int_equal(kd_compress_parse("lzma", &c), -EINVAL); /* read, never written */
	assert_string_equal(kd_codec_name(KD_CODEC_XZ), "xz");
	/* the sink refuses it too */
	assert_int_equal(kd_zsink_open(&s, &codec_sink, "out.img", KD_CODEC_XZ, &bad, 1,
				       mem_emit, &m), -EINVAL);
	assert_non_null(strstr(codec_log.s, "out.img: level 10: xz takes levels 0 to 9"));
	kd_zsink_free(&s);
	kd_str_free(&codec_log);
}

/* A failing emit (a full disk) stops the stream and stays the error. */
static void test_emit_failure(void **state)
{
	unsigned char *in = sample(4u << 20);
	struct membuf m = { .fail_after = 2 };
	struct kd_zsink s;
	int err;

	(void)state;
	assert_int_equal(kd_zsink_open(&s, &codec_sink, "mem", KD_CODEC_GZIP, NULL, 1, mem_emit, &m), 0);
	err = kd_zsink_write(&s, in, 4u << 20);
	if (err == 0)
		err = kd_zsink_finish(&s);
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(kd_zsink_write(&s, in, 10), -ENOSPC);
	assert_int_equal(kd_zsink_finish(&s), -ENOSPC);
	kd_zsink_free(&s);
	free(m.p);
	free(in);
	kd_str_free(&codec_log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_modules, setup, teardown),
		cmocka_unit_test(test_codecs_round_trip),
		cmocka_unit_test(test_codec_formats),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_emit_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
