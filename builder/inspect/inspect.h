/* SPDX-License-Identifier: MIT */
/*
 * inspect: reading any initramfs: its segments (decoded through codec),
 * the cpio entries of each, and a kindling image's plan.  Needs only base,
 * codec and common/.
 */
#ifndef KINDLING_INSPECT_H
#define KINDLING_INSPECT_H

#include "base/base.h"
#include "codec/codec.h"

/* ---- cpio.c: cpio "newc" archives ("070701"; "070702" with its data
 * checksum verified).  The old "070707" and binary formats are refused: the
 * kernel does not read them either. */
struct kd_cpio_entry {
	const char *name;           /* NUL-terminated, inside the buffer */
	const unsigned char *data;  /* file data or symlink target (no NUL) */
	size_t size;
	size_t offset;              /* of the header, in the buffer */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t devmajor, devminor, rdevmajor, rdevminor;
};
struct kd_cpio_iter {
	const struct kd_log *log;
	const char *what;           /* names the buffer in messages */
	const unsigned char *buf;
	size_t size, pos;           /* pos: after the last entry read */
	size_t archives;            /* trailers seen */
	bool one_archive;           /* stop at the first trailer */
	bool in_archive, done, failed;
};
/* A buffer holds archives and zero padding between them, aligned to 4 bytes
 * from its start; with one_archive, only the archive at its start. */
void kd_cpio_init(struct kd_cpio_iter *it, const struct kd_log *log, const char *what,
		  const void *buf, size_t size, bool one_archive);
/* 1: an entry (trailers are not returned), 0: end, <0: bad data (logged). */
int kd_cpio_next(struct kd_cpio_iter *it, struct kd_cpio_entry *e);
/* The name without leading "/" and "./" ("." becomes ""). */
const char *kd_cpio_path(const char *name);
/* "drwxr-xr-x" */
void kd_cpio_mode_string(uint32_t mode, char out[11]);

/* ---- imgread.c: the segments of any initramfs --------------------------- */
#define KD_IMG_MAX_DECODED ((uint64_t)2 << 30) /* all segments, decoded */
struct kd_img_segment {
	size_t index;               /* 0 for the first */
	uint64_t offset;            /* where it starts in the image */
	uint64_t in_size;           /* bytes it takes in the image */
	enum kd_codec codec;        /* KD_CODEC_NONE: a cpio archive as it is */
	const unsigned char *data;  /* its cpio bytes: in the image, or owned */
	size_t size;
	unsigned char *owned;       /* decoded bytes */
	size_t n_entries, n_archives;
	char *label;                /* "IMAGE: segment 2 (zstd at offset 512)" */
};
struct kd_img_iter {
	const struct kd_log *log;
	const char *name;
	const unsigned char *buf;
	size_t size, pos, index;
	uint64_t padding, decoded, max_decoded;
	bool failed;
};
struct kd_img {
	struct kd_buf file;         /* the image, when read by kd_img_open */
	struct kd_img_segment *segs;
	size_t n_segs;
	uint64_t padding;           /* zero bytes between and after segments */
	uint64_t decoded;           /* bytes decoded from compressed segments */
};
/* max_decoded 0: KD_IMG_MAX_DECODED.  buf must outlive the segments. */
void kd_img_iter_init(struct kd_img_iter *it, const struct kd_log *log, const char *name,
		      const void *buf, size_t size, uint64_t max_decoded);
/* 1: a segment, decoded and its entries validated; 0: end; <0: error. */
int kd_img_next(struct kd_img_iter *it, struct kd_img_segment *seg);
void kd_img_segment_free(struct kd_img_segment *seg);
/* What the segment is: "cpio" (not compressed), "zstd", "xz", ... */
const char *kd_img_segment_format(const struct kd_img_segment *seg);
/* Every segment of an image in memory (or read from path). */
int kd_img_parse(const struct kd_log *log, const char *name, const void *buf, size_t size,
		 uint64_t max_decoded, struct kd_img *img);
int kd_img_open(const struct kd_log *log, const char *path, uint64_t max_decoded,
		struct kd_img *img);
void kd_img_free(struct kd_img *img);

/* ---- imgplan.c: a built image's files and plan (ls, explain, check) ---- */
struct kp_plan;
/* Copy a plan out of cpio data (unaligned) and check it (kp_plan_open). */
int kd_plan_load(const struct kd_log *log, const char *what, const void *data, size_t size,
		 struct kp_plan *p, void **copy);
struct kd_imgfiles {
	const char *path;
	struct kd_img img;
	struct kd_cpio_entry *v;  /* every entry, image order */
	size_t n, cap;
	struct kd_map index;      /* path without leading '/' -> its last entry */
	const struct kd_cpio_entry *plan_entry;
	struct kp_plan *plan;     /* NULL: the image has no /etc/kindling/plan */
	void *plan_copy;
};
/* Every entry of every segment, and the plan when there is one. */
int kd_imgfiles_open(const struct kd_log *log, const char *path, struct kd_imgfiles *f);
/* -ENOENT, logged naming the image, when it has no plan. */
int kd_imgfiles_need_plan(const struct kd_log *log, const struct kd_imgfiles *f);
/* An entry by path ("/etc/x" or "etc/x"), or NULL. */
const struct kd_cpio_entry *kd_imgfiles_get(const struct kd_imgfiles *f, const char *path);
void kd_imgfiles_free(struct kd_imgfiles *f);

#endif
