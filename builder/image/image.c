// SPDX-License-Identifier: MIT
/*
 * Writing the image: one cpio "newc" archive (libarchive) compressed by one
 * of compress.c's codecs, after the early microcode cpio (microcode.c); or
 * one uncompressed cpio; or a gen_init_cpio list and the files it names.
 * output.c makes the output appear complete or not at all.
 *
 * The archive is reproducible: entries sorted by path (a directory sorts
 * before what it holds), owner 0:0, one mtime for all, inode numbers by
 * position.  Every codec's output is independent of the number of threads,
 * so the same inputs give the same bytes on any machine.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "plan/plan.h"
#include "codec/codec.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the archive ---------------------------------------------------------- */

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t n)
{
	(void)a;
	return kd_zsink_write(data, buf, n) < 0 ? -1 : (la_ssize_t)n;
}

static int write_entry(struct archive *a, struct archive_entry *ae, const struct kd_entry *e,
		       size_t ino, long long mtime)
{
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	archive_entry_set_ino(ae, (la_int64_t)ino);
	archive_entry_set_nlink(ae, S_ISDIR(e->mode) ? 2 : 1);
	archive_entry_set_size(ae, 0); /* libarchive stores a symlink's target itself */
	if (S_ISLNK(e->mode)) {
		archive_entry_set_symlink(ae, (const char *)e->data);
	} else if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
	} else if (S_ISREG(e->mode)) {
		archive_entry_set_size(ae, (la_int64_t)e->size);
	}
	if (archive_write_header(a, ae) != ARCHIVE_OK)
		return -EIO;
	for (size_t off = 0; S_ISREG(e->mode) && off < e->size;) {
		la_ssize_t w = archive_write_data(a, e->data + off, e->size - off);

		if (w <= 0)
			return -EIO;
		off += (size_t)w;
	}
	return 0;
}

/* One cpio newc archive of the n entries v into s, the stream ended. */
static int write_archive(const struct kd_log *log, const struct kd_entry *const *v, size_t n,
			 struct kd_zsink *s, long long mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	int err;

	if (a == NULL || ae == NULL)
		kd_die_oom(0); /* libarchive's own allocation */
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 64 << 10) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (write_entry(a, ae, v[i], i + 1, mtime) < 0)
			goto fail;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	err = kd_zsink_finish(s);
	goto out;
fail:
	if (s->err == 0)
		KD_ERR(log, "%s: writing the cpio archive: %s", s->what, archive_error_string(a));
	err = s->err ? s->err : -EIO;
out:
	archive_entry_free(ae);
	archive_write_free(a);
	return err;
}

/* The early microcode cpio, uncompressed, at the start of the output. */
static int write_microcode(struct kd_ctx *ctx, struct kd_output *out,
			   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct kd_entries early = { 0 };
	const struct kd_entry **v = NULL;
	struct kd_zsink s = { 0 };
	size_t n;
	int err = kd_microcode_entries(ctx, o->microcode, &early);

	if (err < 0 || early.l.n == 0)
		goto out;
	v = kd_entries_sorted(&early, &n);
	err = kd_zsink_open(&s, kd_ctx_log(ctx), o->output, KD_CODEC_NONE, NULL, 1,
			    kd_output_write, out);
	if (err < 0)
		goto out;
	err = write_archive(kd_ctx_log(ctx), v, n, &s, o->mtime);
	st->microcode_size = s.out;
out:
	kd_zsink_free(&s);
	free(v);
	kd_entries_free(&early);
	return err;
}

/* ---- --format list: a gen_init_cpio list and the files it names --------- */

struct list_out {
	const struct kd_log *log;
	char *dir;          /* OUTPUT.d, absolute */
	struct kd_str text;
};

static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			return false;
	return true;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

#define LIST_MARK ".kindling-list"

/* OUTPUT.d beside the output, absolute (the list names its files so). */
static int list_dir_name(struct list_out *l, const char *output)
{
	const char *slash = strrchr(output, '/');
	char *parent = slash ? kd_xstrndup(output, (size_t)(slash - output + 1)) :
			       kd_xstrdup(".");
	char real[PATH_MAX];
	int err = 0;

	if (realpath(parent, real) == NULL) {
		err = -errno;
		KD_ERR(l->log, "%s: cannot find the output's directory: %s", output,
		       strerror(errno));
	} else {
		l->dir = kd_xasprintf("%s/%s.d", strcmp(real, "/") ? real : "",
				      slash ? slash + 1 : output);
	}
	free(parent);
	return err;
}

/* A fresh OUTPUT.d: one from an earlier --format list is replaced with
 * --force, anything else there is refused. */
static int list_dir(struct list_out *l, const struct kd_image_opts *o)
{
	char *mark;
	struct stat sb;
	int fd, err = list_dir_name(l, o->output);

	if (err < 0)
		return err;
	mark = kd_path_join(l->dir, LIST_MARK);
	if (lstat(l->dir, &sb) == 0) {
		if (!o->force) {
			KD_ERR(l->log, "%s: already exists (use --force to replace it)", l->dir);
			err = -EEXIST;
			goto out;
		}
		if (!S_ISDIR(sb.st_mode) || lstat(mark, &sb) < 0) {
			KD_ERR(l->log, "%s: exists and was not made by kindling --format list: "
			       "not replacing it", l->dir);
			err = -EEXIST;
			goto out;
		}
		if (nftw(l->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
			err = -errno;
			KD_ERR(l->log, "%s: cannot remove the old files: %s", l->dir,
			       strerror(errno));
			goto out;
		}
	}
	if (mkdir(l->dir, 0755) < 0) {
		err = -errno;
		KD_ERR(l->log, "%s: cannot create: %s", l->dir, strerror(errno));
		goto out;
	}
	fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		KD_ERR(l->log, "%s: cannot create: %s", mark, strerror(errno));
		goto out;
	}
	close(fd);
out:
	free(mark);
	return err;
}

static int list_file(struct list_out *l, const struct kd_entry *e, const char *where)
{
	int fd = open(where, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	int err = 0;

	if (fd < 0)
		goto fail;
	while (off < e->size) {
		ssize_t w = write(fd, e->data + off, e->size - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	err = -errno;
	KD_ERR(l->log, "%s: cannot write: %s", where, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

static int list_entry(struct list_out *l, const struct kd_entry *e)
{
	unsigned perm = e->mode & 07777;
	char *where;
	int err = 0;

	if (!plain_name(e->path) || (S_ISLNK(e->mode) && !plain_name((const char *)e->data))) {
		KD_ERR(l->log, "/%s: a name with white space cannot be in a gen_init_cpio list",
		       e->path);
		return -EINVAL;
	}
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		kd_str_printf(&l->text, "dir /%s 0%o 0 0\n", e->path, perm);
		where = kd_path_join(l->dir, e->path);
		if (mkdir(where, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			KD_ERR(l->log, "%s: cannot create: %s", where, strerror(errno));
		}
		free(where);
		return err;
	case S_IFREG:
		where = kd_path_join(l->dir, e->path);
		kd_str_printf(&l->text, "file /%s %s 0%o 0 0\n", e->path, where, perm);
		err = list_file(l, e, where);
		free(where);
		return err;
	case S_IFLNK:
		kd_str_printf(&l->text, "slink /%s %s 0%o 0 0\n", e->path, (const char *)e->data,
			      perm);
		return 0;
	case S_IFCHR:
	case S_IFBLK:
		kd_str_printf(&l->text, "nod /%s 0%o 0 0 %c %u %u\n", e->path, perm,
			      S_ISCHR(e->mode) ? 'c' : 'b', e->rdev_major, e->rdev_minor);
		return 0;
	}
	KD_ERR(l->log, "/%s: a file type a gen_init_cpio list cannot hold", e->path);
	return -EINVAL;
}

static int write_list(const struct kd_log *log, const struct kd_entry *const *v, size_t n,
		      const struct kd_image_opts *o, struct kd_output *out,
		      struct kd_image_stats *st)
{
	struct list_out l = { .log = log };
	int err = list_dir(&l, o);

	if (err < 0)
		goto out;
	kd_str_printf(&l.text, "# gen_init_cpio list (usr/gen_init_cpio.c) written by "
		      "kindling; the files are in %s\n", l.dir);
	for (size_t i = 0; i < n; i++) {
		err = list_entry(&l, v[i]);
		if (err < 0)
			goto out;
	}
	err = kd_output_write(out, l.text.s, l.text.len);
out:
	st->raw_size = st->size = l.text.len;
	kd_str_free(&l.text);
	free(l.dir);
	return err;
}

/* ---- the output ----------------------------------------------------------- */

/* zstd's default for a small archive: level 6 makes a host-only image
 * (about 3 MB of cpio) 9% smaller than level 3 for about 25 ms more, and the
 * kernel decodes both at the same speed.  The cost grows with the size, so
 * bigger (generic) images keep the codec's default. */
#define SMALL_ARCHIVE (16u << 20)
#define SMALL_ZSTD_LEVEL 6

static const int *default_level(const struct kd_entry *const *v, size_t n,
				enum kd_codec comp)
{
	static const int small = SMALL_ZSTD_LEVEL;
	unsigned long long bytes = 0;

	if (comp != KD_CODEC_ZSTD)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bytes += v[i]->size;
	return bytes < SMALL_ARCHIVE ? &small : NULL;
}

/* Everything after kd_output_open: the list, or [microcode +] the archive. */
static int write_out(struct kd_ctx *ctx, const struct kd_entry *const *v, size_t n,
		     const struct kd_image_opts *o, struct kd_output *out,
		     struct kd_image_stats *st)
{
	enum kd_codec comp = o->format == KD_FORMAT_IMAGE ? o->compress : KD_CODEC_NONE;
	struct kd_zsink s = { 0 };
	int err;

	if (o->format == KD_FORMAT_LIST)
		return write_list(kd_ctx_log(ctx), v, n, o, out, st);
	if (o->format == KD_FORMAT_IMAGE && o->microcode) {
		err = write_microcode(ctx, out, o, st);
		if (err < 0)
			return err;
	}
	err = kd_zsink_open(&s, kd_ctx_log(ctx), o->output, comp,
			    o->has_level ? &o->level : default_level(v, n, comp), o->threads,
			    kd_output_write, out);
	if (err < 0)
		goto out;
	err = write_archive(kd_ctx_log(ctx), v, n, &s, o->mtime);
	st->raw_size = s.in;
	st->size = s.out + st->microcode_size;
out:
	kd_zsink_free(&s);
	return err;
}

int kd_image_write_entries(struct kd_ctx *ctx, struct kd_entries *e,
			   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct kd_image_stats local = { 0 };
	struct kd_output out;
	const struct kd_entry **v;
	size_t n;
	int err;

	if (st == NULL)
		st = &local;
	v = kd_entries_sorted(e, &n);
	st->n_entries = n;
	err = kd_output_open(kd_ctx_log(ctx), &out, o->output, o->force);
	if (err < 0)
		goto out;
	err = write_out(ctx, v, n, o, &out, st);
	if (err < 0)
		goto out;
	err = kd_output_commit(&out);
out:
	kd_output_close(&out);
	free(v);
	return err;
}

int kd_image_write(struct kd_ctx *ctx, const struct kd_plan *plan,
		   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct kd_entries e = { 0 };
	struct kd_image_stats local = { 0 };
	struct kd_image_opts opts = *o;
	struct kd_modcache cache;
	double t0 = now_ms();
	int err;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof(*st));
	/* the entries borrow the modules' bytes from the cache */
	kd_modcache_init(&cache, ctx, o->threads);
	if (opts.cache == NULL)
		opts.cache = &cache;
	err = kd_image_content(ctx, plan, &opts, &e, st);
	KD_DBG(kd_ctx_log(ctx), "image content: %zu entries in %.0f ms", e.l.n, now_ms() - t0);
	if (err < 0)
		goto out;
	t0 = now_ms();
	err = kd_image_write_entries(ctx, &e, &opts, st);
	KD_DBG(kd_ctx_log(ctx), "image written in %.0f ms", now_ms() - t0);
out:
	kd_entries_free(&e);
	kd_modcache_free(&cache);
	return err;
}
