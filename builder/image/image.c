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

/* ---- the entries ---------------------------------------------------------- */

static int entries_push(struct kd_entries *e, const char *path, uint32_t mode)
{
	struct kd_entry *it;
	int r;

	if (path[0] == '\0' || path[0] == '/' || kd_map_get(&e->index, path, NULL))
		return -EEXIST;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		void *p = realloc(e->v, cap * sizeof(*e->v));

		if (p == NULL)
			return -ENOMEM;
		e->v = p;
		e->cap = cap;
	}
	r = kd_map_put(&e->index, path, (uint32_t)e->n);
	if (r < 0)
		return r;
	it = &e->v[e->n++];
	memset(it, 0, sizeof(*it));
	it->path = kd_xstrdup(path);
	it->mode = mode;
	return 0;
}

int kd_entries_add(struct kd_entries *e, const char *path, uint32_t mode, const void *data,
		   size_t size, void *owned)
{
	int err = entries_push(e, path, mode);

	if (err < 0) {
		free(owned);
		return err;
	}
	e->v[e->n - 1].data = data;
	e->v[e->n - 1].size = size;
	e->v[e->n - 1].owned = owned;
	return 0;
}

int kd_entries_add_dev(struct kd_entries *e, const char *path, uint32_t mode,
		       unsigned major, unsigned minor)
{
	int err = entries_push(e, path, mode);

	if (err == 0) {
		e->v[e->n - 1].rdev_major = major;
		e->v[e->n - 1].rdev_minor = minor;
	}
	return err;
}

void kd_entries_free(struct kd_entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].path);
		free(e->v[i].owned);
	}
	free(e->v);
	kd_map_free(&e->index);
	memset(e, 0, sizeof(*e));
}

/* Every parent directory of every entry exists as an entry (0755). */
static int add_parents(struct kd_entries *e)
{
	/* entries appended here are visited by the same loop */
	for (size_t i = 0; i < e->n; i++) {
		char *dir = kd_xstrdup(e->v[i].path), *slash = strrchr(dir, '/');
		int err = 0;

		if (slash) {
			*slash = '\0';
			if (!kd_map_get(&e->index, dir, NULL))
				err = entries_push(e, dir, S_IFDIR | 0755);
		}
		free(dir);
		if (err < 0)
			return err;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kd_entry *)a)->path, ((const struct kd_entry *)b)->path);
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

/* One cpio newc archive of e into s, the stream ended. */
static int write_archive(struct kd_ctx *ctx, const struct kd_entries *e, struct kd_zsink *s,
			 long long mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	int err = -ENOMEM;

	if (a == NULL || ae == NULL)
		goto out;
	err = -EIO;
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 64 << 10) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
		goto fail;
	for (size_t i = 0; i < e->n; i++)
		if (write_entry(a, ae, &e->v[i], i + 1, mtime) < 0)
			goto fail;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	err = kd_zsink_finish(s);
	goto out;
fail:
	if (s->err == 0)
		KD_ERR(kd_ctx_log(ctx), "%s: writing the cpio archive: %s", s->what, archive_error_string(a));
	err = s->err ? s->err : -EIO;
out:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return err;
}

static int finish_entries(struct kd_entries *e)
{
	int err = add_parents(e);

	if (err == 0)
		qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
	return err;
}

/* The early microcode cpio, uncompressed, at the start of the output. */
static int write_microcode(struct kd_ctx *ctx, struct kd_output *out,
			   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct kd_entries early = { 0 };
	struct kd_zsink s;
	int err = kd_microcode_entries(ctx, o->microcode, &early);

	if (err == 0 && early.n > 0)
		err = finish_entries(&early);
	if (err == 0 && early.n > 0) {
		err = kd_zsink_open(&s, kd_ctx_log(ctx), o->output, KD_CODEC_NONE, NULL, 1,
				    kd_output_write, out);
		if (err == 0)
			err = write_archive(ctx, &early, &s, o->mtime);
		st->microcode_size = s.out;
		kd_zsink_free(&s);
	}
	kd_entries_free(&early);
	return err;
}

/* ---- --format list: a gen_init_cpio list and the files it names --------- */

struct list_out {
	struct kd_ctx *ctx;
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

/* A fresh OUTPUT.d: one from an earlier --format list is replaced with
 * --force, anything else there is refused. */
static int list_dir(struct list_out *l, const struct kd_image_opts *o)
{
	const char *slash = strrchr(o->output, '/');
	char *parent = slash ? strndup(o->output, (size_t)(slash - o->output + 1)) :
			       kd_xstrdup(".");
	char real[PATH_MAX], *mark;
	struct kd_str d = { 0 };
	struct stat sb;
	int err = 0;

	if (parent == NULL || realpath(parent, real) == NULL) {
		err = parent ? -errno : -ENOMEM;
		KD_ERR(kd_ctx_log(l->ctx), "%s: cannot find the output's directory: %s", o->output,
		       strerror(-err));
		free(parent);
		return err;
	}
	free(parent);
	kd_str_printf(&d, "%s/%s.d", strcmp(real, "/") ? real : "",
		      slash ? slash + 1 : o->output);
	l->dir = d.s;
	if (l->dir == NULL)
		return -ENOMEM;
	mark = kd_path_join(l->dir, LIST_MARK);
	if (lstat(l->dir, &sb) == 0) {
		if (!o->force) {
			KD_ERR(kd_ctx_log(l->ctx), "%s: already exists (use --force to replace it)", l->dir);
			err = -EEXIST;
		} else if (!S_ISDIR(sb.st_mode) || lstat(mark, &sb) < 0) {
			KD_ERR(kd_ctx_log(l->ctx), "%s: exists and was not made by kindling --format list: "
			       "not replacing it", l->dir);
			err = -EEXIST;
		} else if (nftw(l->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
			err = -errno;
			KD_ERR(kd_ctx_log(l->ctx), "%s: cannot remove the old files: %s", l->dir,
			       strerror(errno));
		}
	}
	if (err == 0 && mkdir(l->dir, 0755) < 0) {
		err = -errno;
		KD_ERR(kd_ctx_log(l->ctx), "%s: cannot create: %s", l->dir, strerror(errno));
	}
	if (err == 0) {
		int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0) {
			err = -errno;
			KD_ERR(kd_ctx_log(l->ctx), "%s: cannot create: %s", mark, strerror(errno));
		} else {
			close(fd);
		}
	}
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
	KD_ERR(kd_ctx_log(l->ctx), "%s: cannot write: %s", where, strerror(errno));
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
		KD_ERR(kd_ctx_log(l->ctx), "/%s: a name with white space cannot be in a gen_init_cpio list",
		       e->path);
		return -EINVAL;
	}
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		kd_str_printf(&l->text, "dir /%s 0%o 0 0\n", e->path, perm);
		where = kd_path_join(l->dir, e->path);
		if (mkdir(where, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			KD_ERR(kd_ctx_log(l->ctx), "%s: cannot create: %s", where, strerror(errno));
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
	KD_ERR(kd_ctx_log(l->ctx), "/%s: a file type a gen_init_cpio list cannot hold", e->path);
	return -EINVAL;
}

static int write_list(struct kd_ctx *ctx, const struct kd_entries *e,
		      const struct kd_image_opts *o, struct kd_output *out,
		      struct kd_image_stats *st)
{
	struct list_out l = { .ctx = ctx };
	int err = list_dir(&l, o);

	if (err == 0)
		kd_str_printf(&l.text, "# gen_init_cpio list (usr/gen_init_cpio.c) written by "
			      "kindling; the files are in %s\n", l.dir);
	for (size_t i = 0; i < e->n && err == 0; i++)
		err = list_entry(&l, &e->v[i]);
	if (err == 0 && l.text.s == NULL)
		err = -ENOMEM;
	if (err == 0)
		err = kd_output_write(out, l.text.s, l.text.len);
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

static const int *default_level(const struct kd_entries *e, enum kd_codec comp)
{
	static const int small = SMALL_ZSTD_LEVEL;
	unsigned long long bytes = 0;

	if (comp != KD_CODEC_ZSTD)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		bytes += e->v[i].size;
	return bytes < SMALL_ARCHIVE ? &small : NULL;
}

int kd_image_write_entries(struct kd_ctx *ctx, struct kd_entries *e,
			   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct kd_image_stats local = { 0 };
	enum kd_codec comp = o->format == KD_FORMAT_IMAGE ? o->compress : KD_CODEC_NONE;
	struct kd_output out = { .fd = -1, .dirfd = -1 };
	struct kd_zsink s = { 0 };
	int err;

	if (st == NULL)
		st = &local;
	err = finish_entries(e);
	st->n_entries = e->n;
	if (err == 0)
		err = kd_output_open(ctx, &out, o->output, o->force);
	if (err == 0 && o->format == KD_FORMAT_LIST) {
		err = write_list(ctx, e, o, &out, st);
		goto commit;
	}
	if (err == 0 && o->format == KD_FORMAT_IMAGE && o->microcode)
		err = write_microcode(ctx, &out, o, st);
	if (err == 0)
		err = kd_zsink_open(&s, kd_ctx_log(ctx), o->output, comp,
				    o->has_level ? &o->level : default_level(e, comp), o->threads,
				    kd_output_write, &out);
	if (err == 0)
		err = write_archive(ctx, e, &s, o->mtime);
	st->raw_size = s.in;
	st->size = s.out + st->microcode_size;
commit:
	if (err == 0)
		err = kd_output_commit(&out);
	kd_output_close(&out);
	kd_zsink_free(&s);
	if (err == -ENOMEM)
		KD_ERR(kd_ctx_log(ctx), "%s: out of memory writing the image", o->output);
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
	KD_DBG(kd_ctx_log(ctx), "image content: %zu entries in %.0f ms", e.n, now_ms() - t0);
	t0 = now_ms();
	if (err == 0)
		err = kd_image_write_entries(ctx, &e, &opts, st);
	KD_DBG(kd_ctx_log(ctx), "image written in %.0f ms", now_ms() - t0);
	kd_entries_free(&e);
	kd_modcache_free(&cache);
	return err;
}
