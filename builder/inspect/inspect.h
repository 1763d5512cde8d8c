/* SPDX-License-Identifier: MIT */
/*
 * inspect: reading any initramfs: its segments (decoded through codec), the
 * cpio entries of each, a kindling image's files and plan; and the engines
 * of the commands that read images: extracting one safely (extract.c), why
 * a module is in one (explain.c).  Needs only base, codec and common/.
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
	size_t archive;             /* which archive of the buffer holds it, from 0
				       (kd_imgfiles: of the whole image) */
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
	size_t n_segs, cap_segs;
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
/* A cpio iterator over the segment's entries (they were validated). */
void kd_img_segment_entries(struct kd_cpio_iter *it, const struct kd_log *log,
			    const struct kd_img_segment *seg);
/* Every segment of an image in memory (or read from path). */
int kd_img_parse(const struct kd_log *log, const char *name, const void *buf, size_t size,
		 uint64_t max_decoded, struct kd_img *img);
int kd_img_open(const struct kd_log *log, const char *path, uint64_t max_decoded,
		struct kd_img *img);
void kd_img_free(struct kd_img *img);

/* ---- imgfiles.c: a built image's files and plan (ls, cat, explain, check)
 * Every entry of every segment, indexed by its path; a path given twice
 * keeps its last entry, as the kernel's unpacker overwrites earlier ones. */
struct kp_plan;
/* "a, b, c\n": the names of the plan's deps[first .. first + n) (ls, explain). */
void kd_plan_print_deps(FILE *f, const struct kp_plan *p, uint32_t first, uint32_t n);
struct kd_imgfiles {
	const char *path;
	struct kd_img img;
	struct kd_cpio_entry *v;  /* every entry, image order */
	size_t n, cap;
	struct kd_map index;      /* path without leading '/' -> its last entry */
	const struct kd_cpio_entry *plan_entry; /* a regular KP_PLAN_PATH, or NULL */
	struct kp_plan *plan;     /* once kd_imgfiles_plan loaded it */
	void *plan_copy;
};
int kd_imgfiles_open(const struct kd_log *log, const char *path, struct kd_imgfiles *f);
/* Load and check the plan: -ENOENT when the image has none, -EINVAL when it
 * is bad; both logged naming the image. */
int kd_imgfiles_plan(const struct kd_log *log, struct kd_imgfiles *f);
/* An entry by path ("/etc/x" or "etc/x"), or NULL. */
const struct kd_cpio_entry *kd_imgfiles_get(const struct kd_imgfiles *f, const char *path);
/* The entry whose data a path reads as (NULL: no such entry): its last entry,
 * or for a hard link stored without data (newc keeps a group's data once,
 * in one member) the member of its archive that holds it. */
const struct kd_cpio_entry *kd_imgfiles_contents(const struct kd_imgfiles *f,
						 const char *path);
void kd_imgfiles_free(struct kd_imgfiles *f);

/* ---- extract.c: every entry of an image under a directory ----------------
 * An image is untrusted: nothing lands outside DIR (absolute names, ".."
 * components and paths through symlinks are refused, each logged). */
struct kd_extract {
	size_t written, refused, failed, skipped;
};
/* 0 when the image was read and DIR opened (the counts say the rest);
 * <0, logged, when not. */
int kd_extract(const struct kd_log *log, const char *image, const char *dir,
	       struct kd_extract *out);

/* ---- explain.c: why a module is in a kindling image ----------------------- */
#define KD_DETECT_TXT "/etc/kindling/detect.txt" /* host-only detection's report */
struct kd_why_module {
	uint32_t index;           /* the plan's module */
	const char *alias;        /* the image's alias it was found by, or NULL */
	uint32_t *chain;          /* index, then each module whose reason ("dependency of
				     X") pulled the one before in, up to a first-hand
				     reason; empty when its own reason is first-hand */
	size_t n_chain, cap_chain;
	uint32_t *needed_by;      /* modules whose before list holds it */
	size_t n_needed_by, cap_needed_by;
	uint32_t *post_of;        /* modules whose after list holds it */
	size_t n_post_of, cap_post_of;
};
struct kd_why_line {
	const char *text;         /* inside the image, not NUL-terminated */
	size_t len;
};
struct kd_why {
	char name[256];           /* the module asked for, normalised */
	struct kd_why_module *mods; /* the module, or every one an alias names */
	size_t n_mods, cap_mods;
	bool builtin;             /* not in the image: built into its kernel */
	/* neither: what host-only detection (KD_DETECT_TXT) said about it */
	bool have_detect;
	struct kd_why_line *detect;
	size_t n_detect, cap_detect;
};
/* f's plan must be loaded (kd_imgfiles_plan).  arg: a module or an alias. */
void kd_explain(const struct kd_imgfiles *f, const char *arg, struct kd_why *w);
void kd_why_free(struct kd_why *w);

#endif
