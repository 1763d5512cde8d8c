// SPDX-License-Identifier: MIT
/*
 * The initramfs reader: crafted cpio archives (every field check), images in
 * each compression built here with the libraries, concatenations with zero
 * padding, a decompression bomb, and ls/cat/extract/explain on image files, with
 * extract's refusals of paths that would leave its directory.
 */
#include "unit.h"

#define ZLIB_CONST
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "builder_test.h"
#include "moddb/internal.h"
#include "common/plan.h"

/* ---- helpers: a log catcher, a newc writer, compressors ---------------- */

static void catch_log(void *data, int prio, const char *file, int line, const char *fn,
		      const char *msg)
{
	(void)prio, (void)file, (void)line, (void)fn;
	kd_str_addz(data, msg);
}

struct t {
	struct kd_ctx ctx;
	struct kd_str log;
	struct kd_str a; /* the archive or image being made */
};

static struct t *t_new(void)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->ctx.log.fn = catch_log;
	t->ctx.log.data = &t->log;
	t->ctx.log.prio = KD_LOG_DEBUG;
	kd_str_addz(&t->log, "");
	return t;
}

static void t_free(struct t *t)
{
	kd_str_free(&t->log);
	kd_str_free(&t->a);
	free(t);
}

static void assert_logged(struct t *t, const char *text)
{
	if (strstr(t->log.s, text) == NULL)
		fail_msg("expected '%s' in the log, got: %s", text, t->log.s);
}

static void pad4(struct kd_str *s)
{
	while (s->len % 4)
		kd_str_add(s, "", 1);
}

static void entry_full(struct kd_str *s, const char *magic, const char *name, uint32_t mode,
		       const void *data, size_t size, uint32_t ino, uint32_t nlink,
		       uint32_t check)
{
	kd_str_printf(s, "%s%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", magic,
		      ino, mode, 0u, 0u, nlink, 1000u, size, 0u, 0u, 1u, 3u,
		      strlen(name) + 1, check);
	kd_str_add(s, name, strlen(name) + 1);
	pad4(s);
	if (size)
		kd_str_add(s, data, size);
	pad4(s);
}

static void entry(struct kd_str *s, const char *name, uint32_t mode, const char *data)
{
	static uint32_t ino = 100;

	entry_full(s, "070701", name, mode, data, data ? strlen(data) : 0, ino++, 1, 0);
}

static void trailer(struct kd_str *s)
{
	entry(s, "TRAILER!!!", 0, NULL);
}

/* A small archive of 4 entries. */
static void small_archive(struct kd_str *s)
{
	entry(s, "etc", S_IFDIR | 0755, NULL);
	entry(s, "etc/motd", S_IFREG | 0644, "hello\n");
	entry(s, "etc/link", S_IFLNK | 0777, "motd");
	entry(s, "dev/console", S_IFCHR | 0600, NULL);
	trailer(s);
}

static struct kd_buf gz(const void *in, size_t n)
{
	struct kd_buf b = { malloc(compressBound(n) + 64), 0 };
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = b.data;
	z.avail_out = (uInt)compressBound(n) + 64;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	b.size = z.total_out;
	deflateEnd(&z);
	return b;
}

static struct kd_buf zst(const void *in, size_t n)
{
	struct kd_buf b = { malloc(ZSTD_compressBound(n)), 0 };

	b.size = ZSTD_compress(b.data, ZSTD_compressBound(n), in, n, 3);
	assert_false(ZSTD_isError(b.size));
	return b;
}

static struct kd_buf xz_check(const void *in, size_t n, bool alone, lzma_check check)
{
	struct kd_buf b = { malloc(n + 4096), 0 };
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	if (alone) {
		lzma_lzma_preset(&opt, 6);
		assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
	} else {
		assert_int_equal(lzma_easy_encoder(&s, 6, check), LZMA_OK);
	}
	s.next_in = in;
	s.avail_in = n;
	s.next_out = b.data;
	s.avail_out = n + 4096;
	assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	b.size = s.total_out;
	lzma_end(&s);
	return b;
}

static struct kd_buf xz(const void *in, size_t n, bool alone)
{
	return xz_check(in, n, alone, LZMA_CHECK_CRC32);
}

/* lz4's legacy frame: magic, then (le32 size, block) per 8 MiB of input. */
static struct kd_buf lz4l(const void *in, size_t n)
{
	size_t chunk = 8u << 20, cap = 4 + (n / chunk + 1) * (4 + LZ4_compressBound(chunk));
	struct kd_buf b = { malloc(cap), 4 };

	memcpy(b.data, "\x02\x21\x4c\x18", 4);
	for (size_t off = 0; off < n; off += chunk) {
		int len = (int)(n - off < chunk ? n - off : chunk);
		int c = LZ4_compress_default((const char *)in + off, (char *)b.data + b.size + 4,
					     len, LZ4_compressBound(len));

		assert_true(c > 0);
		b.data[b.size] = (unsigned char)c;
		b.data[b.size + 1] = (unsigned char)(c >> 8);
		b.data[b.size + 2] = (unsigned char)(c >> 16);
		b.data[b.size + 3] = (unsigned char)(c >> 24);
		b.size += 4 + (size_t)c;
	}
	return b;
}

static struct kd_buf bz(const void *in, size_t n)
{
	unsigned len = (unsigned)(n + n / 100 + 600);
	struct kd_buf b = { malloc(len), 0 };

	assert_int_equal(BZ2_bzBuffToBuffCompress((char *)b.data, &len, (char *)(uintptr_t)in,
						  (unsigned)n, 9, 0, 0), BZ_OK);
	b.size = len;
	return b;
}

static void add_buf(struct kd_str *s, struct kd_buf b)
{
	kd_str_add(s, (const char *)b.data, b.size);
	kd_buf_free(&b);
}

static void zeros(struct kd_str *s, size_t n)
{
	while (n--)
		kd_str_add(s, "", 1);
}

static int parse(struct t *t, struct kd_str *s, uint64_t max, struct kd_img *img)
{
	return kd_img_parse(kd_ctx_log(&t->ctx), "test.img", s->s, s->len, max, img);
}

/* Parse a bare archive (as a raw image) and expect an error naming why. */
static void expect_bad_archive(struct kd_str *s, const char *why)
{
	struct t *t = t_new();
	struct kd_img img;

	assert_int_equal(parse(t, s, 0, &img), -EINVAL);
	assert_logged(t, "test.img: segment 1 (cpio at offset 0): cpio ");
	assert_logged(t, why);
	t_free(t);
}

/* ---- cpio parser -------------------------------------------------------- */

static void test_cpio_entries(void **state)
{
	struct kd_str s = { 0 };
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	char mode[11];

	(void)state;
	small_archive(&s);
	kd_cpio_init(&it, NULL, "archive", s.s, s.len, false);
	assert_int_equal(kd_cpio_next(&it, &e), 1);
	assert_string_equal(e.name, "etc");
	assert_true(S_ISDIR(e.mode));
	assert_int_equal(kd_cpio_next(&it, &e), 1);
	assert_string_equal(e.name, "etc/motd");
	assert_int_equal(e.size, 6);
	assert_memory_equal(e.data, "hello\n", 6);
	assert_int_equal(e.mtime, 1000);
	kd_cpio_mode_string(e.mode, mode);
	assert_string_equal(mode, "-rw-r--r--");
	assert_int_equal(kd_cpio_next(&it, &e), 1);
	assert_true(S_ISLNK(e.mode));
	assert_memory_equal(e.data, "motd", 4);
	assert_int_equal(kd_cpio_next(&it, &e), 1);
	assert_true(S_ISCHR(e.mode));
	assert_int_equal(e.rdevmajor, 1);
	assert_int_equal(e.rdevminor, 3);
	assert_int_equal(kd_cpio_next(&it, &e), 0);
	assert_int_equal(it.archives, 1);
	assert_int_equal(it.pos, s.len);
	assert_string_equal(kd_cpio_path("./etc/x"), "etc/x");
	assert_string_equal(kd_cpio_path("/etc/x"), "etc/x");
	assert_string_equal(kd_cpio_path("."), "");
	kd_str_free(&s);
}

static void test_cpio_truncated_header(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	s.len = 50;
	expect_bad_archive(&s, "truncated header: 50 of 110 bytes left");
	kd_str_free(&s);
}

static void test_cpio_bad_hex(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	s.s[6 + 8 * 6 + 3] = 'g'; /* inside filesize */
	expect_bad_archive(&s, "field filesize is not 8 hex digits: '000g0000'");
	kd_str_free(&s);
}

static void test_cpio_huge_namesize(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	memcpy(s.s + 6 + 8 * 11, "FFFFFFFF", 8);
	expect_bad_archive(&s, "name size 4294967295 is larger than PATH_MAX");
	memcpy(s.s + 6 + 8 * 11, "00000F00", 8);
	s.len = 200;
	expect_bad_archive(&s, "name of 3840 bytes runs past the end (90 bytes left)");
	kd_str_free(&s);
}

static void test_cpio_huge_filesize(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	memcpy(s.s + 6 + 8 * 6, "FFFFFFFF", 8);
	expect_bad_archive(&s, "cpio entry 'etc' at byte 0: file size 4294967295 runs past "
			   "the end");
	kd_str_free(&s);
}

static void test_cpio_missing_trailer(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	entry(&s, "etc", S_IFDIR | 0755, NULL);
	entry(&s, "etc/motd", S_IFREG | 0644, "hello\n");
	expect_bad_archive(&s, "the archive ends without a TRAILER!!! entry");
	kd_str_free(&s);
}

static void test_cpio_name_not_nul(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	s.s[110 + 3] = 'X'; /* "etc\0" -> "etcX" */
	expect_bad_archive(&s, "name 'etcX' is not NUL-terminated");
	s.s[110 + 3] = '\0';
	s.s[110 + 1] = '\0';
	expect_bad_archive(&s, "has a NUL byte inside");
	kd_str_free(&s);
}

static void test_cpio_other_formats(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	small_archive(&s);
	s.s[5] = '7';
	expect_bad_archive(&s, "old portable cpio format (070707)");
	kd_str_free(&s);
	/* binary cpio: refused by the image reader, and by the parser itself */
	kd_str_add(&s, "\xc7\x71\x00\x00", 4);
	struct t *t = t_new();
	struct kd_img img;
	assert_int_equal(parse(t, &s, 0, &img), -EINVAL);
	assert_logged(t, "test.img: at offset 0: a binary cpio archive");
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	kd_cpio_init(&it, kd_ctx_log(&t->ctx), "bin", s.s, s.len, false);
	assert_int_equal(kd_cpio_next(&it, &e), -EINVAL);
	assert_logged(t, "bin: cpio header at byte 0: binary cpio format");
	t_free(t);
	kd_str_free(&s);
}

static void test_cpio_bad_type_and_symlink(void **state)
{
	struct kd_str s = { 0 };

	(void)state;
	entry(&s, "weird", 0170644, NULL);
	trailer(&s);
	expect_bad_archive(&s, "unknown file type in mode 0170644");
	kd_str_free(&s);
	entry(&s, "empty-link", S_IFLNK | 0777, NULL);
	trailer(&s);
	expect_bad_archive(&s, "symlink target of 0 bytes");
	kd_str_free(&s);
}

static void test_cpio_crc(void **state)
{
	struct kd_str s = { 0 };
	struct t *t = t_new();
	struct kd_img img;

	(void)state;
	/* 'h'+'i' = 104 + 105 = 209 */
	entry_full(&s, "070702", "hi", S_IFREG | 0644, "hi", 2, 5, 1, 209);
	entry_full(&s, "070702", "TRAILER!!!", 0, NULL, 0, 0, 1, 0);
	assert_int_equal(parse(t, &s, 0, &img), 0);
	assert_int_equal(img.segs[0].n_entries, 1);
	kd_img_free(&img);
	t_free(t);
	s.s[116 + 1] = 'o'; /* the data "hi" -> "ho" */
	expect_bad_archive(&s, "data checksum is 000000d7, header says 000000d1");
	kd_str_free(&s);
}

/* ---- images ------------------------------------------------------------- */

static void test_img_each_compression(void **state)
{
	struct kd_str cpio = { 0 };
	struct {
		enum kd_codec comp;
		struct kd_buf (*make)(const void *, size_t);
	} cases[] = {
		{ KD_CODEC_GZIP, gz }, { KD_CODEC_ZSTD, zst }, { KD_CODEC_LZ4, lz4l },
		{ KD_CODEC_BZIP2, bz },
	};

	(void)state;
	small_archive(&cpio);
	for (size_t i = 0; i < 6; i++) {
		struct t *t = t_new();
		struct kd_img img;

		if (i < 4)
			add_buf(&t->a, cases[i].make(cpio.s, cpio.len));
		else
			add_buf(&t->a, xz(cpio.s, cpio.len, i == 5));
		assert_int_equal(parse(t, &t->a, 0, &img), 0);
		assert_int_equal(img.n_segs, 1);
		assert_int_equal(img.segs[0].codec, i < 4 ? cases[i].comp :
				 i == 5 ? KD_CODEC_LZMA : KD_CODEC_XZ);
		assert_int_equal(img.segs[0].n_entries, 4);
		assert_int_equal(img.segs[0].size, cpio.len);
		assert_memory_equal(img.segs[0].data, cpio.s, cpio.len);
		assert_int_equal(img.segs[0].in_size, t->a.len);
		kd_img_free(&img);
		t_free(t);
	}
	kd_str_free(&cpio);
}

/* The kernel refuses xz with CRC64: the image reads, with a warning. */
static void test_img_xz_crc64(void **state)
{
	struct kd_str cpio = { 0 };
	struct t *t = t_new();
	struct kd_img img;

	(void)state;
	small_archive(&cpio);
	add_buf(&t->a, xz_check(cpio.s, cpio.len, false, LZMA_CHECK_CRC64));
	assert_int_equal(parse(t, &t->a, 0, &img), 0);
	assert_int_equal(img.segs[0].n_entries, 4);
	assert_logged(t, "xz stream uses CRC64; the kernel only accepts CRC32 or none");
	kd_img_free(&img);
	kd_str_free(&cpio);
	t_free(t);
}

/* Early microcode, then every compression back to back, with odd padding. */
static void test_img_concatenated(void **state)
{
	struct kd_str cpio = { 0 }, early = { 0 };
	struct t *t = t_new();
	struct kd_img img;
	size_t off[8], n = 0;
	static const enum kd_codec want[8] = {
		KD_CODEC_NONE, KD_CODEC_GZIP, KD_CODEC_ZSTD, KD_CODEC_XZ, KD_CODEC_LZ4, KD_CODEC_BZIP2,
		KD_CODEC_LZMA, KD_CODEC_NONE,
	};

	(void)state;
	small_archive(&cpio);
	entry(&early, "kernel/x86/microcode/GenuineIntel.bin", S_IFREG | 0644, "ucode");
	trailer(&early);
	off[n++] = t->a.len;
	kd_str_add(&t->a, early.s, early.len);
	zeros(&t->a, 512 - t->a.len % 512);
	off[n++] = t->a.len;
	add_buf(&t->a, gz(cpio.s, cpio.len));
	off[n++] = t->a.len; /* zstd right after gzip, no padding */
	add_buf(&t->a, zst(cpio.s, cpio.len));
	zeros(&t->a, 3);
	off[n++] = t->a.len;
	add_buf(&t->a, xz(cpio.s, cpio.len, false));
	zeros(&t->a, 1);
	off[n++] = t->a.len;
	add_buf(&t->a, lz4l(cpio.s, cpio.len));
	zeros(&t->a, 4); /* lz4 ends at a zero chunk size */
	off[n++] = t->a.len;
	add_buf(&t->a, bz(cpio.s, cpio.len));
	off[n++] = t->a.len;
	add_buf(&t->a, xz(cpio.s, cpio.len, true));
	zeros(&t->a, 4 - t->a.len % 4);
	off[n++] = t->a.len;
	kd_str_add(&t->a, cpio.s, cpio.len);
	zeros(&t->a, 100);

	assert_int_equal(parse(t, &t->a, 0, &img), 0);
	assert_int_equal(img.n_segs, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(img.segs[i].offset, off[i]);
		assert_int_equal(img.segs[i].codec, want[i]);
		assert_int_equal(img.segs[i].n_entries, i == 0 ? 1 : 4);
	}
	assert_int_equal(img.segs[0].in_size, early.len);
	kd_img_free(&img);
	kd_str_free(&cpio);
	kd_str_free(&early);
	t_free(t);
}

/* A decoded stream may hold several archives with zero padding between. */
static void test_img_archives_in_one_stream(void **state)
{
	struct kd_str two = { 0 };
	struct t *t = t_new();
	struct kd_img img;

	(void)state;
	small_archive(&two);
	zeros(&two, 512);
	small_archive(&two);
	add_buf(&t->a, zst(two.s, two.len));
	assert_int_equal(parse(t, &t->a, 0, &img), 0);
	assert_int_equal(img.segs[0].n_entries, 8);
	assert_int_equal(img.segs[0].n_archives, 2);
	kd_img_free(&img);
	t_free(t);
	/* ... but the padding keeps the 4-byte alignment */
	t = t_new();
	two.len = 0;
	small_archive(&two);
	zeros(&two, 3);
	small_archive(&two);
	add_buf(&t->a, zst(two.s, two.len));
	assert_int_equal(parse(t, &t->a, 0, &img), -EINVAL);
	assert_logged(t, "does not start on a 4-byte boundary");
	kd_str_free(&two);
	t_free(t);
}

static void test_img_bomb(void **state)
{
	size_t big = 64u << 20;
	unsigned char *z = calloc(1, big);
	struct kd_buf (*makers[])(const void *, size_t) = { zst, gz, lz4l };

	(void)state;
	assert_non_null(z);
	memcpy(z, "070701", 6); /* not that it gets that far */
	for (size_t i = 0; i < 3; i++) {
		struct t *t = t_new();
		struct kd_img img;

		add_buf(&t->a, makers[i](z, big));
		assert_true(t->a.len < big / 100);
		assert_int_equal(parse(t, &t->a, 8u << 20, &img), -EFBIG);
		assert_logged(t, "decodes to more than 8388608 bytes, the reader's limit");
		t_free(t);
	}
	free(z);
}

static void test_img_truncated_stream(void **state)
{
	struct kd_str cpio = { 0 };
	struct kd_buf (*makers[])(const void *, size_t) = { zst, gz, bz };

	(void)state;
	small_archive(&cpio);
	for (size_t i = 0; i < 3; i++) {
		struct t *t = t_new();
		struct kd_img img;

		add_buf(&t->a, makers[i](cpio.s, cpio.len));
		t->a.len -= 10;
		assert_true(parse(t, &t->a, 0, &img) < 0);
		assert_logged(t, "test.img: segment 1 (");
		assert_logged(t, "truncated: the compressed stream does not end");
		t_free(t);
	}
	kd_str_free(&cpio);
}

static void test_img_bad_starts(void **state)
{
	struct kd_str cpio = { 0 };
	struct t *t = t_new();
	struct kd_img img;
	char msg[200];

	(void)state;
	small_archive(&cpio);
	zeros(&t->a, 2);
	kd_str_add(&t->a, cpio.s, cpio.len);
	assert_int_equal(parse(t, &t->a, 0, &img), -EINVAL);
	assert_logged(t, "cpio archive at offset 2 does not start on a 4-byte boundary");
	t_free(t);

	t = t_new();
	kd_str_add(&t->a, cpio.s, cpio.len);
	kd_str_addz(&t->a, "junk");
	assert_int_equal(parse(t, &t->a, 0, &img), -EINVAL);
	snprintf(msg, sizeof(msg), "at offset %zu: neither a cpio archive nor a known "
		 "compressed stream starts here (bytes 6a 75 6e 6b)", cpio.len);
	assert_logged(t, msg);
	t_free(t);

	t = t_new();
	kd_str_add(&t->a, "\x89LZO\0", 5);
	assert_int_equal(parse(t, &t->a, 0, &img), -ENOTSUP);
	assert_logged(t, "lzo data cannot be decoded");
	t_free(t);

	t = t_new();
	zeros(&t->a, 64);
	assert_int_equal(parse(t, &t->a, 0, &img), -EINVAL);
	assert_logged(t, "no cpio archive in it");
	t_free(t);
	kd_str_free(&cpio);
}

/* ---- the commands, on image files --------------------------------------- */

struct tmp {
	char dir[64];
	char img[128];
	char out[128];
};

static void tmp_new(struct tmp *d, const struct kd_str *image)
{
	FILE *f;

	strcpy(d->dir, "/tmp/kd-imgread-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->img, sizeof(d->img), "%s/image", d->dir);
	snprintf(d->out, sizeof(d->out), "%s/out", d->dir);
	f = fopen(d->img, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(image->s, 1, image->len, f), image->len);
	fclose(f);
}

static void tmp_free(struct tmp *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	assert_int_equal(system(cmd), 0);
}

/* Run a command with fd (1 or 2) going to a file; returns its exit code. */
static int run_captured(int (*cmd)(int, char **), char **argv, int fd, const char *file,
			struct kd_buf *text)
{
	int argc = 0, saved, f, rc;

	while (argv[argc])
		argc++;
	fflush(stdout);
	fflush(stderr);
	saved = dup(fd);
	f = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && f >= 0);
	dup2(f, fd);
	close(f);
	optind = 0;
	rc = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd);
	close(saved);
	assert_int_equal(kd_read_file(NULL, file, text), 0);
	return rc;
}

static bool exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void test_extract_refusals(void **state)
{
	struct kd_str s = { 0 };
	struct kd_buf err;
	struct tmp d;
	char outside[64], abs_name[96], target[256];
	char *argv[] = { "extract", d.img, d.out, NULL };

	(void)state;
	strcpy(d.dir, "");
	/* the symlink's target: a directory outside DIR, which must stay empty */
	snprintf(outside, sizeof(outside), "/tmp/kd-imgread-outside-%d", (int)getpid());
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(abs_name, sizeof(abs_name), "%s/abs", outside);
	entry(&s, "ok", S_IFREG | 0644, "fine");
	entry(&s, "../x", S_IFREG | 0644, "escape");
	entry(&s, abs_name, S_IFREG | 0644, "escape");
	entry(&s, "a/../../x", S_IFREG | 0644, "escape");
	entry(&s, "s", S_IFLNK | 0777, outside);
	entry(&s, "s/file", S_IFREG | 0644, "escape");
	entry(&s, "s/sub/file", S_IFREG | 0644, "escape");
	entry(&s, "s", S_IFREG | 0644, "replaced, not followed");
	entry(&s, "after", S_IFREG | 0644, "still written");
	trailer(&s);
	tmp_new(&d, &s);
	argv[1] = d.img;
	argv[2] = d.out;

	assert_int_equal(run_captured(kd_cmd_extract, argv, 2, "/tmp/kd-imgread.err", &err), 1);
	assert_non_null(strstr((char *)err.data, "refusing entry '../x': it has a '..' component"));
	assert_non_null(strstr((char *)err.data, "refusing entry 'a/../../x': it has a '..'"));
	snprintf(target, sizeof(target), "refusing entry '%s': absolute path", abs_name);
	assert_non_null(strstr((char *)err.data, target));
	assert_non_null(strstr((char *)err.data, "refusing entry 's/file': 's' on its path is "
			       "a symlink, which is never followed"));
	assert_non_null(strstr((char *)err.data, "refusing entry 's/sub/file'"));
	assert_non_null(strstr((char *)err.data, "5 refused, 0 failed"));
	/* nothing outside: not in the symlink's target, not beside DIR */
	assert_false(exists(outside, "file"));
	assert_false(exists(outside, "sub"));
	assert_false(exists(outside, "abs"));
	assert_false(exists(d.dir, "x"));
	assert_false(exists(d.out, "a"));
	assert_true(exists(d.out, "ok"));
	assert_true(exists(d.out, "after"));
	/* the later regular file "s" replaced the symlink itself */
	snprintf(target, sizeof(target), "%s/s", d.out);
	struct stat st;
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, strlen("replaced, not followed"));
	kd_buf_free(&err);
	unlink("/tmp/kd-imgread.err");
	rmdir(outside);
	tmp_free(&d);
	kd_str_free(&s);
}

static void read_back(const char *dir, const char *rel, const char *want)
{
	char p[512];
	struct kd_buf b;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(kd_read_file(NULL, p, &b), 0);
	assert_int_equal(b.size, strlen(want));
	assert_memory_equal(b.data, want, b.size);
	kd_buf_free(&b);
}

static void test_extract_tree(void **state)
{
	struct kd_str s = { 0 }, img = { 0 };
	struct kd_buf err;
	struct tmp d;
	struct stat st, st2;
	char p[512], link[64];
	char *argv[] = { "extract", NULL, NULL, NULL };

	(void)state;
	entry(&s, ".", S_IFDIR | 0755, NULL);
	entry(&s, "./bin", S_IFDIR | 0750, NULL);
	entry(&s, "bin/tool", S_IFREG | 0751, "#!/bin/sh\n");
	entry(&s, "bin/alias", S_IFLNK | 0777, "tool");
	entry(&s, "deep/er/file", S_IFREG | 0600, "created parents");
	entry_full(&s, "070701", "h1", S_IFREG | 0644, NULL, 0, 77, 2, 0);
	entry_full(&s, "070701", "h2", S_IFREG | 0644, "shared", 6, 77, 2, 0);
	entry(&s, "fifo", S_IFIFO | 0644, NULL);
	trailer(&s);
	/* a second segment overrides a file, as the kernel would */
	add_buf(&img, zst(s.s, s.len));
	s.len = 0;
	entry(&s, "deep/er/file", S_IFREG | 0644, "second segment");
	trailer(&s);
	add_buf(&img, gz(s.s, s.len));
	tmp_new(&d, &img);
	argv[1] = d.img;
	argv[2] = d.out;

	assert_int_equal(run_captured(kd_cmd_extract, argv, 2, "/tmp/kd-imgread.err", &err), 0);
	read_back(d.out, "bin/tool", "#!/bin/sh\n");
	read_back(d.out, "deep/er/file", "second segment");
	read_back(d.out, "h1", "shared");
	snprintf(p, sizeof(p), "%s/bin/tool", d.out);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_mtime, 1000);
	snprintf(p, sizeof(p), "%s/bin/alias", d.out);
	assert_int_equal(readlink(p, link, sizeof(link)), 4);
	assert_memory_equal(link, "tool", 4);
	snprintf(p, sizeof(p), "%s/h1", d.out);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/h2", d.out);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st.st_nlink, 2);
	snprintf(p, sizeof(p), "%s/fifo", d.out);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	kd_buf_free(&err);
	unlink("/tmp/kd-imgread.err");
	tmp_free(&d);
	kd_str_free(&s);
	kd_str_free(&img);
}

static void test_cat(void **state)
{
	struct kd_str s = { 0 };
	struct kd_buf out;
	struct tmp d;
	char *argv[] = { "cat", NULL, "/etc/motd", NULL };

	(void)state;
	small_archive(&s);
	entry(&s, "etc/motd", S_IFREG | 0644, "later wins\n");
	entry_full(&s, "070701", "h1", S_IFREG | 0644, NULL, 0, 77, 2, 0);
	entry_full(&s, "070701", "h2", S_IFREG | 0644, "shared", 6, 77, 2, 0);
	trailer(&s);
	/* the same inode in another archive is another file */
	entry_full(&s, "070701", "h3", S_IFREG | 0644, "other", 5, 77, 2, 0);
	trailer(&s);
	tmp_new(&d, &s);
	argv[1] = d.img;
	assert_int_equal(run_captured(kd_cmd_cat, argv, 1, d.out, &out), 0);
	assert_string_equal((char *)out.data, "later wins\n");
	kd_buf_free(&out);
	argv[2] = "etc/link";
	assert_int_equal(run_captured(kd_cmd_cat, argv, 1, d.out, &out), 0);
	assert_string_equal((char *)out.data, "motd");
	kd_buf_free(&out);
	argv[2] = "etc/nothere";
	assert_int_equal(run_captured(kd_cmd_cat, argv, 2, d.out, &out), 1);
	assert_non_null(strstr((char *)out.data, "no entry 'etc/nothere' in the image"));
	kd_buf_free(&out);
	argv[2] = "etc";
	assert_int_equal(run_captured(kd_cmd_cat, argv, 2, d.out, &out), 1);
	assert_non_null(strstr((char *)out.data, "'etc' is a directory"));
	kd_buf_free(&out);
	/* a hard link stored without data reads as its group's data */
	argv[2] = "h1";
	assert_int_equal(run_captured(kd_cmd_cat, argv, 1, d.out, &out), 0);
	assert_string_equal((char *)out.data, "shared");
	kd_buf_free(&out);
	tmp_free(&d);
	kd_str_free(&s);
}

/* A plan of two modules, built by hand after common/plan.h: virtio_blk
 * (root disk, needs virtio, alias virtio:d00000002v*) and virtio (its
 * dependency); ext4 built in. */
static void make_plan(struct kd_str *p)
{
	static const char strs[] = "\0" "6.1.0-t\0" "virtio\0" "/v.ko\0" "virtio_blk\0"
				   "/vb.ko\0" "root disk\0" "ext4\0"
				   "dependency of virtio_blk\0" "virtio:d00000002v*\0";
	struct {
		struct kp_header h;
		struct kp_module m[2];
		uint32_t deps[1];
		struct kp_alias aliases[1];
		uint32_t builtins[1];
		char strings[sizeof(strs)];
	} plan;

	memset(&plan, 0, sizeof(plan));
	memcpy(plan.h.magic, KP_MAGIC, KP_MAGIC_LEN);
	plan.h.version = KP_VERSION;
	plan.h.header_size = sizeof(plan.h);
	plan.h.file_size = sizeof(plan);
	plan.h.kver = 1;
	plan.h.root_timeout = 30;
	plan.h.n_modules = 2;
	plan.h.modules_off = offsetof(__typeof__(plan), m);
	plan.h.n_deps = 1;
	plan.h.deps_off = offsetof(__typeof__(plan), deps);
	plan.h.n_aliases = 1;
	plan.h.aliases_off = offsetof(__typeof__(plan), aliases);
	plan.h.n_builtins = 1;
	plan.h.builtins_off = offsetof(__typeof__(plan), builtins);
	plan.h.strings_size = sizeof(strs);
	plan.h.strings_off = offsetof(__typeof__(plan), strings);
	plan.m[0] = (struct kp_module){ .name = 9, .path = 16, .reason = 55 };
	plan.m[1] = (struct kp_module){ .name = 22, .path = 33, .reason = 40,
					.flags = KP_MOD_LOAD, .n_deps = 1 };
	plan.aliases[0] = (struct kp_alias){ .pattern = 80, .module = 1 };
	plan.builtins[0] = 50;
	memcpy(plan.strings, strs, sizeof(strs));
	entry(p, "etc", S_IFDIR | 0755, NULL);
	entry(p, "etc/kindling", S_IFDIR | 0755, NULL);
	entry_full(p, "070701", "etc/kindling/plan", S_IFREG | 0644, &plan, sizeof(plan), 9, 1, 0);
	trailer(p);
}

static void test_ls_plan(void **state)
{
	struct kd_str s = { 0 }, img = { 0 };
	struct kd_buf out;
	struct tmp d;
	char *argv[] = { "ls", "--long", NULL, NULL };

	(void)state;
	make_plan(&s);
	entry(&img, "kernel/x86/microcode/AuthenticAMD.bin", S_IFREG | 0644, "amd");
	trailer(&img);
	zeros(&img, 4);
	add_buf(&img, zst(s.s, s.len));
	tmp_new(&d, &img);
	argv[2] = d.img;
	assert_int_equal(run_captured(kd_cmd_ls, argv, 1, d.out, &out), 0);
	assert_non_null(strstr((char *)out.data, "2 segments"));
	assert_non_null(strstr((char *)out.data, "\n1        0          cpio "));
	assert_non_null(strstr((char *)out.data, "zstd"));
	assert_non_null(strstr((char *)out.data, "-rw-r--r--     0     0          3 "
			       "1970-01-01 00:16 kernel/x86/microcode/AuthenticAMD.bin\n"));
	assert_non_null(strstr((char *)out.data, "  kernel:       6.1.0-t\n"));
	assert_non_null(strstr((char *)out.data, "modules: 2, aliases: 1, built-ins: 1"));
	assert_non_null(strstr((char *)out.data, "    2 virtio_blk /vb.ko [load]\n"
			       "        before: virtio\n        reason: root disk\n"));
	kd_buf_free(&out);
	tmp_free(&d);
	kd_str_free(&s);
	kd_str_free(&img);
}

static void test_explain(void **state)
{
	struct kd_str s = { 0 };
	struct kd_buf out;
	struct tmp d;
	char *argv[] = { "explain", NULL, "virtio", NULL, NULL };

	(void)state;
	make_plan(&s);
	tmp_new(&d, &s);
	argv[1] = d.img;
	assert_int_equal(run_captured(kd_cmd_explain, argv, 1, d.out, &out), 0);
	assert_non_null(strstr((char *)out.data, "virtio: in the image (kernel 6.1.0-t)\n"
			       "  path:       /v.ko\n"
			       "  reason:     dependency of virtio_blk\n"
			       "  why:\n"
			       "    virtio: dependency of virtio_blk\n"
			       "    virtio_blk: root disk\n"
			       "  needed by:  virtio_blk\n"
			       "  options:    (none)\n"
			       "  flags:      (none: loaded when a device or another module "
			       "asks for it)\n"));
	kd_buf_free(&out);
	/* an alias, then a built-in */
	argv[2] = "virtio:d00000002v00001AF4";
	argv[3] = "ext4";
	assert_int_equal(run_captured(kd_cmd_explain, argv, 1, d.out, &out), 0);
	assert_non_null(strstr((char *)out.data, "virtio:d00000002v00001AF4: alias "
			       "virtio:d00000002v* of module virtio_blk\n"
			       "virtio_blk: in the image (kernel 6.1.0-t)\n"));
	assert_non_null(strstr((char *)out.data, "  reason:     root disk\n  needs:      "
			       "virtio\n"));
	assert_null(strstr((char *)out.data, "why:"));
	assert_non_null(strstr((char *)out.data, "ext4: not in the image: built into kernel "
			       "6.1.0-t (nothing to load)\n"));
	kd_buf_free(&out);
	argv[2] = "nvme";
	argv[3] = NULL;
	assert_int_equal(run_captured(kd_cmd_explain, argv, 1, d.out, &out), 1);
	assert_non_null(strstr((char *)out.data, "nvme: not in the image "));
	assert_non_null(strstr((char *)out.data, "  (the image has no /etc/kindling/detect.txt: "
			       "it was not built with --host-only)\n"));
	kd_buf_free(&out);
	tmp_free(&d);
	/* with a detection report: the lines that name it, as whole words */
	entry(&s, "etc/kindling/detect.txt", S_IFREG | 0644,
	      "skip /sys/devices/x: not needed to boot (would be nvme)\n"
	      "skip /sys/devices/y: would be nvme_core\n");
	trailer(&s);
	tmp_new(&d, &s);
	argv[1] = d.img;
	assert_int_equal(run_captured(kd_cmd_explain, argv, 1, d.out, &out), 1);
	assert_non_null(strstr((char *)out.data, "  host-only detection (/etc/kindling/detect.txt):\n"
			       "    skip /sys/devices/x: not needed to boot (would be nvme)\n"));
	assert_null(strstr((char *)out.data, "nvme_core"));
	kd_buf_free(&out);
	tmp_free(&d);
	kd_str_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio_entries),
		cmocka_unit_test(test_cpio_truncated_header),
		cmocka_unit_test(test_cpio_bad_hex),
		cmocka_unit_test(test_cpio_huge_namesize),
		cmocka_unit_test(test_cpio_huge_filesize),
		cmocka_unit_test(test_cpio_missing_trailer),
		cmocka_unit_test(test_cpio_name_not_nul),
		cmocka_unit_test(test_cpio_other_formats),
		cmocka_unit_test(test_cpio_bad_type_and_symlink),
		cmocka_unit_test(test_cpio_crc),
		cmocka_unit_test(test_img_each_compression),
		cmocka_unit_test(test_img_xz_crc64),
		cmocka_unit_test(test_img_concatenated),
		cmocka_unit_test(test_img_archives_in_one_stream),
		cmocka_unit_test(test_img_bomb),
		cmocka_unit_test(test_img_truncated_stream),
		cmocka_unit_test(test_img_bad_starts),
		cmocka_unit_test(test_extract_refusals),
		cmocka_unit_test(test_extract_tree),
		cmocka_unit_test(test_cat),
		cmocka_unit_test(test_ls_plan),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
