/* SPDX-License-Identifier: MIT */
/*
 * image: the image's entries (content, hook files and the libraries their
 * programs need, early microcode) and writing them as a cpio archive,
 * compressed, to an output replaced atomically.
 */
#ifndef KINDLING_IMAGE_H
#define KINDLING_IMAGE_H

#include "base/base.h"
#include "codec/codec.h"
#include "moddb/moddb.h"
#include "plan/plan.h"

/* ---- walk.c: a path through symlinks, in any namespace ------------------
 * lookup says what path (absolute, its directories resolved) is: 1 with its
 * target appended to target for a symlink, 0 for anything else (there or
 * not), or a negative errno that ends the walk; last: no component follows.
 * out: the path ("/a/b", "" for the top) with every link met resolved, the
 * last one too when follow_last.  More than 40 links: -ELOOP. */
typedef int (*kd_walk_fn)(void *data, const char *path, bool last, struct kd_str *target);
int kd_walk(const char *path, bool follow_last, kd_walk_fn lookup, void *data,
	    struct kd_str *out);

/* ---- libdeps.c: what ld.so loads for a program ---------------------------
 * Resolve path (absolute, inside root; root NULL or "" for /) one component
 * at a time with root as "/"; each symlink met is reported to fn (may be
 * NULL: its path inside root, its target as written) before it is followed.
 * out: the path with no symlink left.  -ENOENT, -ENOTDIR, -ELOOP as open. */
typedef int (*kd_link_fn)(void *data, const char *link, const char *target);
int kd_root_resolve(const char *root, const char *path, kd_link_fn fn, void *data,
		    struct kd_str *out);
/* The search path of a root: its /etc/ld.so.conf read once. */
struct kd_ldso {
	struct kd_ctx *ctx;
	char *root;          /* "" for / */
	struct kd_strv conf_dirs; /* ld.so.conf's directories (with includes), in order */
};
int kd_ldso_init(struct kd_ldso *l, struct kd_ctx *ctx, const char *root);
void kd_ldso_free(struct kd_ldso *l);
struct kd_libdeps {
	struct kd_strv paths; /* inside the root, as ld.so opens them: the
			       * interpreter first, then the libraries in load order */
	bool is_static; /* ELF without PT_INTERP and DT_NEEDED */
	bool not_elf;   /* a script or other file: nothing to load */
};
/* The closure of binary (absolute, inside the root).  A library not found
 * is -ENOENT, logged naming it, who needs it and where it was looked for. */
int kd_ldso_closure(struct kd_ldso *l, const char *binary, struct kd_libdeps *out);
void kd_libdeps_free(struct kd_libdeps *d);

/* ---- entries.c: the image's entries, by path ----------------------------- */
/* One file of the image; paths have no leading '/'. */
struct kd_entry {
	char *path;
	uint32_t mode;          /* S_IF* | permissions */
	const unsigned char *data; /* contents, or a symlink's target */
	size_t size;
	unsigned char *owned;   /* freed with the entry (data may point into it) */
	unsigned rdev_major, rdev_minor;
};
/* A kd_olist of struct kd_entry by path, in the order added; zero-filled
 * is empty.  l.n counts the entries. */
struct kd_entries {
	struct kd_olist l;
};
/* data is borrowed unless owned (then it is freed with the entries, also
 * on failure).  A path given twice, empty or absolute: -EEXIST. */
int kd_entries_add(struct kd_entries *e, const char *path, uint32_t mode,
		   const void *data, size_t size, void *owned);
int kd_entries_add_dev(struct kd_entries *e, const char *path, uint32_t mode,
		       unsigned major, unsigned minor);
const struct kd_entry *kd_entries_get(const struct kd_entries *e, const char *path);
/* Add every missing parent directory (0755), then the n entries in the
 * archive's order: by path, so a directory comes before what it holds.
 * The array is malloc'd; its pointers are valid until the next add. */
const struct kd_entry **kd_entries_sorted(struct kd_entries *e, size_t *n);
void kd_entries_free(struct kd_entries *e);

/* ---- image.c, content.c: the image ------------------------------------ */
/* --format: a bootloader initrd, one uncompressed cpio, a gen_init_cpio list */
enum kd_format { KD_FORMAT_IMAGE, KD_FORMAT_CPIO, KD_FORMAT_LIST };
/* microcode.c: which vendors' early microcode leads the image */
enum { KD_UCODE_INTEL = 1, KD_UCODE_AMD = 2 };
struct kd_image_opts {
	const char *output;
	const char *init;      /* the init binary, stored as /init */
	bool force;            /* replace an existing output */
	enum kd_format format;
	enum kd_codec compress; /* KD_FORMAT_IMAGE only */
	int level;             /* when has_level, else the codec's default */
	bool has_level;
	unsigned microcode;    /* KD_UCODE_*: an early cpio first (KD_FORMAT_IMAGE) */
	unsigned threads;      /* 0: one per online CPU */
	long long mtime;       /* of every entry */
	struct kd_modcache *cache; /* modules read before (may be NULL) */
	struct kd_hooks *hooks;    /* image hooks' content (may be NULL) */
	const char *detect_text;   /* host-only: etc/kindling/detect.txt (may be NULL) */
};
struct kd_image_stats {
	size_t n_entries, n_modules, n_firmware;
	unsigned long long raw_size, size; /* cpio bytes, compressed bytes */
	unsigned long long microcode_size; /* the early cpio's bytes (in size) */
};
/* Everything the image holds (content.c); o->cache must be set. */
int kd_image_content(struct kd_ctx *ctx, const struct kd_plan *plan,
		     const struct kd_image_opts *o, struct kd_entries *out,
		     struct kd_image_stats *st);
/* Sorted cpio newc after the early microcode cpio, compressed (format
 * image), or one cpio, or a gen_init_cpio list, written through output.c
 * (complete or not at all); on failure nothing is left behind. */
int kd_image_write_entries(struct kd_ctx *ctx, struct kd_entries *e,
			   const struct kd_image_opts *o, struct kd_image_stats *st);
/* Both of the above. */
int kd_image_write(struct kd_ctx *ctx, const struct kd_plan *plan,
		   const struct kd_image_opts *o, struct kd_image_stats *st);

/* ---- hooks.c: image hooks (NAME.hook files; the format is at the top of
 * hooks.c and in README "Image hooks") ---------------------------------- */
struct kd_hooks;
/* dirs: where NAME.hook is looked for, in order; root: the build root. */
int kd_hooks_new(struct kd_ctx *ctx, const char *root, const char *const *dirs,
		 size_t n_dirs, struct kd_hooks **out);
void kd_hooks_free(struct kd_hooks *h);
/* Find NAME.hook and parse it; a name chosen again is ignored.  Not found
 * or bad lines: -EINVAL (logged, "FILE line N: ..." for each bad line). */
int kd_hooks_load(struct kd_hooks *h, const char *name);
/* Parse hook NAME's text as if read from filename (tests use it). */
int kd_hooks_parse(struct kd_hooks *h, const char *name, const char *filename,
		   const char *text);
size_t kd_hooks_count(const struct kd_hooks *h);
/* The hooks' module lines as wants (load at boot, required, "hook NAME"). */
void kd_hooks_wants(struct kd_hooks *h, struct kd_wants *w);
/* The hooks' set lines, for kd_sets_expand. */
const char *const *kd_hooks_sets(const struct kd_hooks *h, size_t *n);
/* Put every binary (with its libraries), file, symlink, dir and stage script
 * into e (content.c calls it after the skeleton).  A missing binary, file or
 * library: -ENOENT, a path taken by something else: -EEXIST, both logged
 * naming the hook line. */
int kd_hooks_content(struct kd_hooks *h, struct kd_entries *e);

/* ---- microcode.c: the early microcode cpio ------------------------------ */
/* This CPU's vendor from /proc/cpuinfo: KD_UCODE_INTEL, _AMD, or 0. */
unsigned kd_microcode_host_vendor(void);
/* kernel/x86/microcode/GenuineIntel.bin (every file of ROOT/lib/firmware/intel-ucode)
 * and AuthenticAMD.bin (amd-ucode/microcode_amd*.bin), for the vendors in
 * mask that have files; none found is not an error (out stays empty). */
int kd_microcode_entries(struct kd_ctx *ctx, unsigned mask, struct kd_entries *out);

/* ---- output.c: the output file, written whole or not at all ------------- */
struct kd_output {
	const struct kd_log *log;
	const char *path;
	char *dir, *base, *tmp;    /* tmp: the named temporary file, if one */
	int dirfd;                 /* flock()ed while writing */
	int fd;
	bool force, linked;
};
/* Lock the output's directory (waiting for another build) and open an
 * unnamed O_TMPFILE in it (else a named one removed on SIGINT/SIGTERM/SIGHUP).
 * Whatever it returns, kd_output_close may follow. */
int kd_output_open(const struct kd_log *log, struct kd_output *o, const char *path,
		   bool force);
int kd_output_write(void *o, const void *buf, size_t n); /* a kd_emit_fn */
/* fsync, give it the output's name (replacing it only with force), fsync
 * the directory, unlock.  On failure the old output is untouched. */
int kd_output_commit(struct kd_output *o);
/* Drop the new file (if not committed) and unlock; safe to call twice. */
void kd_output_close(struct kd_output *o);
/* DIR/.BASE.kindling-tmp for path DIR/BASE (malloc'd): the only file a build
 * can leave beside its output, when SIGKILL (or power loss) stops it while
 * writing without O_TMPFILE (a vfat ESP) or between the link and the rename. */
char *kd_output_tmp_path(const char *path);

#endif
