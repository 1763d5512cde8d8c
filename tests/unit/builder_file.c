// SPDX-License-Identifier: MIT
/*
 * Module files and their codecs: detection by magic, round trips through
 * data compressed here with liblzma, libzstd and zlib (several streams,
 * frames without a content size, gzip members), corrupt and truncated
 * streams with messages naming the file and the codec's reason, the size
 * limit, and real Debian modules read through kd_module_read.
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
#include "moddb/internal.h"

struct t {
	struct kd_ctx ctx;
	struct kd_str log;
	char dir[64];
	unsigned char *plain; /* test data: compressible, not trivial */
	size_t n;
};

static void catch_log(void *data, int prio, const char *file, int line, const char *fn,
		      const char *msg)
{
	(void)prio, (void)file, (void)line, (void)fn;
	kd_str_addz(data, msg);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->ctx.log.fn = catch_log;
	t->ctx.log.data = &t->log;
	t->ctx.log.prio = KD_LOG_DEBUG;
	kd_str_addz(&t->log, "");
	strcpy(t->dir, "/tmp/kd-file-XXXXXX");
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

typedef int (*decoder)(const struct kd_log *, const char *, const void *, size_t,
		       struct kd_buf *);

/* Damage byte at, and the stream must fail naming the file and reason. */
static void assert_corrupt(struct t *t, decoder dec, unsigned char *c, size_t n,
			   size_t at, const char *why)
{
	struct kd_buf b = { (unsigned char *)"x", 1 };

	c[at] ^= 0x55;
	assert_int_not_equal(dec(&t->ctx.log, "bad.ko", c, n, &b), 0);
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
	assert_string_equal(kd_codec_name(KD_CODEC_XZ), "xz");
	assert_string_equal(kd_codec_name(KD_CODEC_ZSTD), "zstd");
	assert_string_equal(kd_codec_name(KD_CODEC_GZIP), "gzip");
	assert_string_equal(kd_codec_name(KD_CODEC_NONE), "none");
}

/* ---- xz ------------------------------------------------------------------------- */

static void test_xz(void **state)
{
	struct t *t = *state;
	size_t cap = t->n * 2 + 1024, n1, n2;
	unsigned char *c = malloc(cap);
	struct kd_buf b;

	n1 = xz(t->plain, t->n, c, cap);
	assert_int_equal(kd_unxz(kd_ctx_log(&t->ctx), "m.ko.xz", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* two streams and stream padding, as xz -d takes them */
	n2 = xz(t->plain, t->n, c + n1, cap - n1);
	memset(c + n1 + n2, 0, 8);
	assert_int_equal(kd_unxz(kd_ctx_log(&t->ctx), "m.ko.xz", c, n1 + n2 + 8, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);

	assert_corrupt(t, kd_unxz, c, n1, n1 / 2, "bad.ko: cannot decompress (xz): ");
	assert_corrupt(t, kd_unxz, c, n1, 0,
		       "bad.ko: cannot decompress (xz): not an xz stream");
	assert_int_equal(kd_unxz(kd_ctx_log(&t->ctx), "cut.ko", c, n1 - 9, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (xz): truncated");
	assert_int_equal(kd_unxz(kd_ctx_log(&t->ctx), "cut2.ko", c, 12, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (xz): truncated");
	memcpy(c + n1, "junk after the stream", 20);
	assert_int_equal(kd_unxz(kd_ctx_log(&t->ctx), "tail.ko", c, n1 + 20, &b), -EINVAL);
	assert_logged(t, "tail.ko: cannot decompress (xz): ");
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
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "m.ko.zst", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* a frame without its content size, after one with it */
	n2 = zst(t->plain, t->n, c + n1, cap - n1, false);
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "m.ko.zst", c, n1 + n2, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "m.ko.zst", c + n1, n2, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);

	assert_corrupt(t, kd_unzstd, c, n1, n1 / 2, "bad.ko: cannot decompress (zstd): ");
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "cut.ko", c, n1 - 5, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (zstd): truncated");
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "cut2.ko", c + n1, n2 - 5, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (zstd): truncated");
	memcpy(c + n1, "junkjunk", 8);
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "tail.ko", c, n1 + 8, &b), -EINVAL);
	assert_logged(t, "tail.ko: cannot decompress (zstd): ");
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
	assert_int_equal(kd_unzstd(kd_ctx_log(&t->ctx), "bomb.ko.zst", hdr, sizeof(hdr), &b), -EFBIG);
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
	assert_int_equal(kd_ungzip(kd_ctx_log(&t->ctx), "m.ko.gz", c, n1, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* two members, then zero padding */
	n2 = gz(t->plain, t->n, c + n1, cap - n1);
	memset(c + n1 + n2, 0, 16);
	assert_int_equal(kd_ungzip(kd_ctx_log(&t->ctx), "m.ko.gz", c, n1 + n2 + 16, &b), 0);
	assert_plain(t, &b, 2);
	kd_buf_free(&b);

	/* the CRC32 in the trailer, then the deflate data */
	assert_corrupt(t, kd_ungzip, c, n1, n1 - 6,
		       "bad.ko: cannot decompress (gzip): "
		       "incorrect data check");
	assert_corrupt(t, kd_ungzip, c, n1, 3, "bad.ko: cannot decompress (gzip): ");
	assert_int_equal(kd_ungzip(kd_ctx_log(&t->ctx), "cut.ko", c, n1 - 4, &b), -EINVAL);
	assert_logged(t, "cut.ko: cannot decompress (gzip): truncated");
	assert_int_equal(kd_ungzip(kd_ctx_log(&t->ctx), "cut2.ko", c, 10, &b), -EINVAL);
	assert_logged(t, "cut2.ko: cannot decompress (gzip): truncated");
	memcpy(c + n1, "junk", 4);
	assert_int_equal(kd_ungzip(kd_ctx_log(&t->ctx), "tail.ko", c, n1 + 4, &b), -EINVAL);
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
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* by magic, whatever the name says */
	n = xz(t->plain, t->n, c, cap);
	put(t, "named-wrong.ko", c, n, path);
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	n = zst(t->plain, t->n, c, cap, false);
	put(t, "m.ko.zst", c, n, path);
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	n = gz(t->plain, t->n, c, cap);
	put(t, "m.ko.gz", c, n, path);
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_plain(t, &b, 1);
	kd_buf_free(&b);
	/* damaged: the message names the file */
	c[n / 2] ^= 0xff;
	put(t, "bad.ko.gz", c, n, path);
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), -EINVAL);
	assert_logged(t, "/bad.ko.gz: cannot decompress (gzip)");
	sprintf(path, "%s/missing.ko", t->dir);
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), -ENOENT);
	assert_logged(t, "/missing.ko: module file does not exist");
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), t->dir, &b), -EISDIR);
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
		assert_int_equal(kd_read_file(kd_ctx_log(&t->ctx), g.gl_pathv[0], &raw), 0);
		assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), g.gl_pathv[0], &b), 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
