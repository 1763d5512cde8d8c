// SPDX-License-Identifier: MIT
/*
 * Writing the image: one cpio "newc" archive (libarchive), compressed as a
 * single zstd frame (libzstd, on several threads), into a temporary file
 * beside the output that is synced and renamed over it only when complete.
 *
 * The archive is reproducible: entries sorted by path (a directory sorts
 * before what it holds), owner 0:0, one mtime for all, inode numbers by
 * position.  zstd's multithreaded output does not depend on the number of
 * threads, so the same inputs give the same bytes on any machine.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "builder.h"

#define DEFAULT_LEVEL 3

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
	it->path = kd_strdup(path);
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
		char *dir = kd_strdup(e->v[i].path), *slash = strrchr(dir, '/');
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

/* ---- compressed output ---------------------------------------------------- */

struct sink {
	struct kd_ctx *ctx;
	const char *name;   /* the temporary file, for messages */
	int fd;
	ZSTD_CCtx *z;
	unsigned char *out;
	size_t out_cap;
	unsigned long long raw, written;
	int err;
};

static int write_all(struct sink *s, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(s->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->err = -errno;
			KD_ERR(s->ctx, "%s: write failed: %s", s->name, strerror(errno));
			return s->err;
		}
		p += w;
		n -= (size_t)w;
		s->written += (size_t)w;
	}
	return 0;
}

/* Feed bytes to zstd (mode ZSTD_e_end with n == 0 finishes the frame). */
static int sink_feed(struct sink *s, const void *buf, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { buf, n, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { s->out, s->out_cap, 0 };

		left = ZSTD_compressStream2(s->z, &out, &in, mode);
		if (ZSTD_isError(left)) {
			s->err = -EIO;
			KD_ERR(s->ctx, "%s: zstd: %s", s->name, ZSTD_getErrorName(left));
			return s->err;
		}
		if (write_all(s, s->out, out.pos) < 0)
			return s->err;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t n)
{
	struct sink *s = data;

	(void)a;
	s->raw += n;
	if (s->err < 0 || sink_feed(s, buf, n, ZSTD_e_continue) < 0)
		return -1;
	return (la_ssize_t)n;
}

static int sink_open(struct sink *s, const struct kd_image_opts *o)
{
	unsigned threads = o->threads ? o->threads : kd_cpu_count();
	int level = o->level ? o->level : DEFAULT_LEVEL;

	s->z = ZSTD_createCCtx();
	s->out_cap = ZSTD_CStreamOutSize();
	s->out = malloc(s->out_cap);
	if (s->z == NULL || s->out == NULL)
		return -ENOMEM;
	ZSTD_CCtx_setParameter(s->z, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(s->z, ZSTD_c_checksumFlag, 1);
	/* at least one worker: that output does not depend on the count */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(s->z, ZSTD_c_nbWorkers, (int)threads)))
		KD_WARN(s->ctx, "this libzstd has no threads: compressing on one core");
	return 0;
}

static void sink_close(struct sink *s)
{
	ZSTD_freeCCtx(s->z);
	free(s->out);
}

/* ---- the archive ---------------------------------------------------------- */

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

static int write_archive(struct kd_ctx *ctx, const struct kd_entries *e, struct sink *s,
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
	err = sink_feed(s, NULL, 0, ZSTD_e_end);
	goto out;
fail:
	if (s->err == 0)
		KD_ERR(ctx, "%s: writing the cpio archive: %s", s->name, archive_error_string(a));
	err = s->err ? s->err : -EIO;
out:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return err;
}

/* ---- temporary file and rename -------------------------------------------- */

static char *temp_name(const char *output)
{
	const char *slash = strrchr(output, '/');
	struct kd_str s = { 0 };

	if (slash)
		kd_str_printf(&s, "%.*s.%s.XXXXXX", (int)(slash - output + 1), output,
			      slash + 1);
	else
		kd_str_printf(&s, ".%s.XXXXXX", output);
	return s.s;
}

static void sync_dir(const char *output)
{
	const char *slash = strrchr(output, '/');
	char *dir = slash ? strndup(output, (size_t)(slash - output + 1)) : kd_strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Without --force an existing output is never replaced, even one that
 * appeared while we were writing. */
static int install(struct kd_ctx *ctx, const char *tmp, const struct kd_image_opts *o)
{
	int r;

	if (o->force) {
		r = rename(tmp, o->output);
	} else {
		r = renameat2(AT_FDCWD, tmp, AT_FDCWD, o->output, RENAME_NOREPLACE);
		if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* a filesystem without RENAME_NOREPLACE: link fails if it exists */
			r = link(tmp, o->output);
			if (r == 0)
				unlink(tmp);
		}
	}
	if (r < 0) {
		r = -errno;
		if (r == -EEXIST)
			KD_ERR(ctx, "%s: already exists (use --force to replace it)", o->output);
		else
			KD_ERR(ctx, "%s: cannot put the image in place: %s", o->output,
			       strerror(-r));
		return r;
	}
	sync_dir(o->output);
	return 0;
}

int kd_image_write_entries(struct kd_ctx *ctx, struct kd_entries *e,
			   const struct kd_image_opts *o, struct kd_image_stats *st)
{
	struct sink s = { .ctx = ctx, .fd = -1 };
	char *tmp = temp_name(o->output);
	int err;

	err = add_parents(e);
	if (err < 0)
		goto out;
	qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
	s.name = tmp;
	err = sink_open(&s, o);
	if (err < 0)
		goto out;
	s.fd = mkostemp(tmp, O_CLOEXEC);
	if (s.fd < 0) {
		err = -errno;
		KD_ERR(ctx, "%s: cannot create a temporary file beside the output: %s", tmp,
		       strerror(errno));
		goto out;
	}
	if (fchmod(s.fd, 0600) < 0)
		err = -errno;
	if (err == 0)
		err = write_archive(ctx, e, &s, o->mtime);
	if (err == 0 && fsync(s.fd) < 0) {
		err = -errno;
		KD_ERR(ctx, "%s: fsync failed: %s", tmp, strerror(errno));
	}
	if (close(s.fd) < 0 && err == 0) {
		err = -errno;
		KD_ERR(ctx, "%s: close failed: %s", tmp, strerror(errno));
	}
	if (err == 0)
		err = install(ctx, tmp, o);
	if (err < 0)
		unlink(tmp);
out:
	if (err == -ENOMEM)
		KD_ERR(ctx, "%s: out of memory writing the image", o->output);
	if (st) {
		st->n_entries = e->n;
		st->raw_size = s.raw;
		st->size = s.written;
	}
	sink_close(&s);
	free(tmp);
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
	KD_DBG(ctx, "image content: %zu entries in %.0f ms", e.n, now_ms() - t0);
	t0 = now_ms();
	if (err == 0)
		err = kd_image_write_entries(ctx, &e, &opts, st);
	KD_DBG(ctx, "image written in %.0f ms", now_ms() - t0);
	kd_entries_free(&e);
	kd_modcache_free(&cache);
	return err;
}
