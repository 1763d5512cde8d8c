/* SPDX-License-Identifier: MIT */
/*
 * kindling builder: internal interfaces, grouped by the file that
 * implements them.  Functions return 0 (or a count) on success and a
 * negative errno on failure; every failure is logged through the context
 * with the file (and line) it concerns.
 */
#ifndef KINDLING_BUILDER_H
#define KINDLING_BUILDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kd_ctx;

/* ---- log.c ---------------------------------------------------------- */
enum { KD_LOG_ERR = 3, KD_LOG_WARN = 4, KD_LOG_INFO = 6, KD_LOG_DEBUG = 7 };
typedef void (*kd_log_fn)(void *data, int prio, const char *file, int line,
			  const char *fn, const char *msg);
void kd_log(struct kd_ctx *ctx, int prio, const char *file, int line, const char *fn,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void kd_set_log(struct kd_ctx *ctx, kd_log_fn fn, void *data, int max_prio);
/* Default sink: "kindling: " + message on stderr. */
void kd_log_stderr(void *data, int prio, const char *file, int line, const char *fn,
		   const char *msg);
#define KD_ERR(ctx, ...) kd_log(ctx, KD_LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_WARN(ctx, ...) kd_log(ctx, KD_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_INFO(ctx, ...) kd_log(ctx, KD_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_DBG(ctx, ...) kd_log(ctx, KD_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* ---- util.c --------------------------------------------------------- */
struct kd_buf {
	unsigned char *data; /* malloc'd; NUL byte kept after size for text */
	size_t size;
};
void kd_buf_free(struct kd_buf *b);
/* A growable string; s is always NUL-terminated once anything was added. */
struct kd_str {
	char *s;
	size_t len, cap;
};
int kd_str_add(struct kd_str *b, const char *s, size_t n);
int kd_str_addz(struct kd_str *b, const char *s);
int kd_str_printf(struct kd_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kd_str_free(struct kd_str *b);
/* String -> uint32 map, open addressing; keys are copied. */
struct kd_map {
	char **keys;
	uint32_t *vals;
	size_t n, cap;
};
int kd_map_put(struct kd_map *m, const char *key, uint32_t val); /* 1 if replaced */
int kd_map_get(const struct kd_map *m, const char *key, uint32_t *val); /* 1 found, 0 not */
void kd_map_free(struct kd_map *m);
/* Module names: '-' -> '_', stop at '.' (kmod's modname_normalize). */
void kd_modname_normalize(const char *in, char *out, size_t outsz);
/* From a path: basename without any ".ko[.xz|.zst|.gz]". */
void kd_modname_from_path(const char *path, char *out, size_t outsz);
/* Aliases: '-' -> '_' outside [...] (kmod's alias_normalize). -EINVAL if unbalanced. */
int kd_alias_normalize(const char *in, char *out, size_t outsz);
/* Read a whole (uncompressed) file; appends a NUL not counted in size. */
int kd_read_file(struct kd_ctx *ctx, const char *path, struct kd_buf *out);
char *kd_strdup(const char *s); /* aborts on ENOMEM: only for tiny strings */
char *kd_path_join(const char *a, const char *b); /* malloc'd "a/b" */

/* ---- file.c, file_xz.c, file_zstd.c, file_gz.c ---------------------- */
enum kd_codec { KD_CODEC_NONE, KD_CODEC_XZ, KD_CODEC_ZSTD, KD_CODEC_GZIP };
#define KD_MAX_MODULE_SIZE (512u << 20) /* refuse to inflate past this */
enum kd_codec kd_codec_detect(const void *buf, size_t n);
const char *kd_codec_name(enum kd_codec c);
/* Read a module file and decompress it if it is xz, zstd or gzip (by magic). */
int kd_module_read(struct kd_ctx *ctx, const char *path, struct kd_buf *out);
/* Each decompressor: name is used in error messages (usually the path). */
int kd_unxz(struct kd_ctx *ctx, const char *name, const void *in, size_t n, struct kd_buf *out);
int kd_unzstd(struct kd_ctx *ctx, const char *name, const void *in, size_t n, struct kd_buf *out);
int kd_ungzip(struct kd_ctx *ctx, const char *name, const void *in, size_t n, struct kd_buf *out);

/* ---- elf.c ---------------------------------------------------------- */
/* The .modinfo section: entries "key=value" in file order. */
struct kd_modinfo {
	char **keys;
	char **vals;
	size_t n;
};
int kd_elf_modinfo(struct kd_ctx *ctx, const char *name, const void *buf, size_t n,
		   struct kd_modinfo *out);
/* Next value of key after *iter (start with *iter = 0); NULL when no more. */
const char *kd_modinfo_next(const struct kd_modinfo *mi, const char *key, size_t *iter);
void kd_modinfo_free(struct kd_modinfo *mi);
/* Exported and undefined symbols of a module, as depmod reads them (elf.c). */
struct kd_symbols {
	char **exported;
	size_t n_exported;
	char **undefined;
	size_t n_undefined;
};
int kd_elf_symbols(struct kd_ctx *ctx, const char *name, const void *buf, size_t n,
		   struct kd_symbols *out);
void kd_symbols_free(struct kd_symbols *s);
/* libelf's one-time setup (every ELF reader calls it first); name: for the message. */
int kd_elf_init(struct kd_ctx *ctx, const char *name);

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
	char **conf_dirs;    /* ld.so.conf's directories (with includes), in order */
	size_t n_conf_dirs;
};
int kd_ldso_init(struct kd_ldso *l, struct kd_ctx *ctx, const char *root);
void kd_ldso_free(struct kd_ldso *l);
struct kd_libdeps {
	char **paths;   /* inside the root, as ld.so opens them: the interpreter
			 * first, then the libraries in load order */
	size_t n;
	bool is_static; /* ELF without PT_INTERP and DT_NEEDED */
	bool not_elf;   /* a script or other file: nothing to load */
};
/* The closure of binary (absolute, inside the root).  A library not found
 * is -ENOENT, logged naming it, who needs it and where it was looked for. */
int kd_ldso_closure(struct kd_ldso *l, const char *binary, struct kd_libdeps *out);
void kd_libdeps_free(struct kd_libdeps *d);

/* ---- depgen.c: depmod's work, for trees without (or with stale) indexes */
struct kd_depgen {
	char *dep;     /* text identical to depmod's modules.dep */
	char *alias;   /* modules.alias */
	char *softdep; /* modules.softdep */
	char *weakdep; /* modules.weakdep */
	char *symbols; /* modules.symbols */
};
int kd_depgen_run(struct kd_ctx *ctx, const char *moddir, struct kd_depgen *out);
void kd_depgen_free(struct kd_depgen *g);

/* ---- modconf.c: modprobe.d ------------------------------------------ */
struct kd_conf_alias {
	char *pattern, *modname;
};
struct kd_conf_option {
	char *modname, *options;
};
struct kd_conf_command {
	char *modname, *command;
};
struct kd_conf_softdep {
	char *modname; /* may be a fnmatch pattern */
	char **pre, **post;
	size_t n_pre, n_post;
};
struct kd_conf_weakdep {
	char *modname;
	char **deps;
	size_t n_deps;
};
struct kd_config {
	struct kd_conf_alias *aliases;
	size_t n_aliases;
	struct kd_conf_option *options;
	size_t n_options;
	char **blacklist;
	size_t n_blacklist;
	struct kd_conf_command *install, *remove;
	size_t n_install, n_remove;
	struct kd_conf_softdep *softdeps;
	size_t n_softdeps;
	struct kd_conf_weakdep *weakdeps;
	size_t n_weakdeps;
	char **files; /* every file parsed, in order (for reports) */
	size_t n_files;
};
/* Parse one file's text; bad lines are logged "FILE line N: ..." and skipped. */
int kd_config_parse(struct kd_ctx *ctx, struct kd_config *c, const char *filename,
		    const char *text);
/* Kernel command line: MOD.param=value, modprobe.blacklist=a,b (kmod's rules). */
int kd_config_parse_cmdline(struct kd_ctx *ctx, struct kd_config *c, const char *cmdline);
/* Load the module dir's modules.softdep/.weakdep and every conf dir, merged
 * by basename (first dir wins), in sorted order, then the command line. */
int kd_config_load(struct kd_ctx *ctx);
void kd_config_free(struct kd_config *c);

/* ---- moddb.c: one kernel's module database ---------------------------- */
struct kd_module {
	char *name;       /* normalised */
	char *path;       /* as written in modules.dep (relative), NULL if none */
	uint32_t *deps;   /* module indices, modules.dep line order */
	size_t n_deps;
	bool in_dep;      /* listed in modules.dep */
	bool builtin;     /* listed in modules.builtin */
	int order;        /* line in modules.order, -1 when absent */
	uint32_t alias_rank; /* first line in modules.alias: kmod's priority */
};
struct kd_alias {
	char *pattern;  /* normalised */
	uint32_t module;
	uint32_t prefix; /* length of the literal prefix before a wildcard */
	bool wild;
};
/* aliasidx.c: an index over one alias table (built after a few lookups). */
struct kd_alias_index {
	const struct kd_alias *table; /* what it was built for */
	size_t n;
	bool built;
	unsigned scans;   /* lookups answered by a plain scan so far */
	uint32_t *slots;  /* hash of (literal prefix, wild) -> first position */
	size_t cap;
	uint32_t *next;   /* next position with the same key, table order */
	bool *wild_len;   /* [k]: some wild pattern's literal prefix is k long */
	uint32_t max_wild_len; /* longest wild prefix + 1: wild_len's size - 1 */
};
/* Does pattern a match name (a brute-force scan's test)? */
bool kd_alias_match(const struct kd_alias *a, const char *name);
/* Positions of table[0..n) matching name, ascending, as a full scan with
 * kd_alias_match gives them; *out is malloc'd (NULL when none). */
int kd_alias_index_find(struct kd_alias_index *ix, const struct kd_alias *table, size_t n,
			const char *name, uint32_t **out, size_t *n_out);
void kd_alias_index_free(struct kd_alias_index *ix);
struct kd_moddb {
	struct kd_module *mods;
	size_t n_mods, cap_mods;
	struct kd_map by_name;
	struct kd_alias *aliases; /* modules.alias, file order */
	size_t n_aliases;
	struct kd_alias *symbols; /* modules.symbols ("symbol:NAME") */
	size_t n_symbols;
	struct kd_alias *builtin_aliases; /* from modules.builtin.modinfo */
	size_t n_builtin_aliases;
	/* lookup indexes over the three tables above (resolve.c builds them) */
	struct kd_alias_index aliases_ix, symbols_ix, builtin_aliases_ix;
	bool generated; /* indexes computed by depgen, not read from depmod */
	struct kd_depgen gen; /* depgen's text when generated */
};
struct kd_ctx_opts {
	const char *root;       /* NULL or "" for / */
	const char *kver;       /* NULL: running kernel if installed, else newest */
	const char *moddir;     /* bare module tree; overrides root/kver lookup */
	const char *const *conf_dirs; /* NULL: kmod's defaults under root */
	const char *cmdline;    /* kernel command line text to apply, or NULL */
	bool force_depgen;      /* ignore depmod's output even if present */
	kd_log_fn log_fn;       /* NULL: kd_log_stderr, warnings and errors */
	void *log_data;
	int log_prio;
};
int kd_ctx_new(const struct kd_ctx_opts *opts, struct kd_ctx **out);
void kd_ctx_free(struct kd_ctx *ctx);
const char *kd_ctx_moddir(const struct kd_ctx *ctx);
const char *kd_ctx_kver(const struct kd_ctx *ctx);
struct kd_moddb *kd_ctx_db(struct kd_ctx *ctx);
struct kd_config *kd_ctx_config(struct kd_ctx *ctx);
/* Index of a module by (normalised) name, or -1. */
int kd_module_find(struct kd_ctx *ctx, const char *name);
/* Index of a module, adding an entry without file when it is unknown. */
int kd_module_get(struct kd_ctx *ctx, const char *name);
/* Full path of the module file ("MODDIR/PATH"); NULL when it has none. */
char *kd_module_fullpath(struct kd_ctx *ctx, uint32_t mod);
/* Parsers, exposed for tests: each takes the file's text. */
int kd_moddb_parse_dep(struct kd_ctx *ctx, const char *filename, const char *text);
int kd_moddb_parse_alias(struct kd_ctx *ctx, const char *filename, const char *text,
			 bool symbols);
int kd_moddb_parse_builtin(struct kd_ctx *ctx, const char *filename, const char *text);
int kd_moddb_parse_builtin_modinfo(struct kd_ctx *ctx, const char *filename,
				   const char *text, size_t len);
int kd_moddb_parse_order(struct kd_ctx *ctx, const char *filename, const char *text);

/* ---- resolve.c: modprobe's lookup and probe order --------------------- */
/* A module as reached through one name: kmod keeps a separate object per
 * (module, alias) pair, and so must we to give the same answers. */
struct kd_inst {
	uint32_t mod;
	char *alias;     /* the alias it was looked up by, or NULL */
	const char *install_cmd; /* set when found through an install command */
	bool visited, required, ignorecmd;
	bool install_set;
	bool builtin;    /* found through a built-in index */
};
enum kd_step_kind { KD_STEP_INSMOD, KD_STEP_BUILTIN, KD_STEP_INSTALL };
struct kd_step {
	enum kd_step_kind kind;
	uint32_t mod;
	char *options;   /* malloc'd, "" when none */
	const char *install_cmd;
	bool required;   /* hard dependency chain of the module asked for */
	bool softdep;    /* reached through a soft dependency */
};
struct kd_lookup {
	struct kd_inst **insts;
	size_t n;
};
/* Resolve a name or alias as modprobe does.  0 with n == 0: not found. */
int kd_lookup(struct kd_ctx *ctx, const char *name, struct kd_lookup *out);
void kd_lookup_free(struct kd_lookup *l);
/* The steps modprobe --show-depends would print for one looked-up module.
 * Returns 0, or 1 when the module was skipped as blacklisted. */
int kd_probe_steps(struct kd_ctx *ctx, struct kd_inst *inst, const char *extra_options,
		   struct kd_step **steps, size_t *n);
void kd_steps_free(struct kd_step *steps, size_t n);
/* Options configured for a module (and the alias it came through). */
char *kd_module_options(struct kd_ctx *ctx, uint32_t mod, const char *alias);
bool kd_module_blacklisted(struct kd_ctx *ctx, uint32_t mod);
/* Release the looked-up instances (kd_ctx_free calls it). */
void kd_resolve_free(struct kd_ctx *ctx);

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
	struct kd_ctx *ctx;
	const char *what;           /* names the buffer in messages */
	const unsigned char *buf;
	size_t size, pos;           /* pos: after the last entry read */
	size_t archives;            /* trailers seen */
	bool one_archive;           /* stop at the first trailer */
	bool in_archive, done, failed;
};
/* A buffer holds archives and zero padding between them, aligned to 4 bytes
 * from its start; with one_archive, only the archive at its start. */
void kd_cpio_init(struct kd_cpio_iter *it, struct kd_ctx *ctx, const char *what,
		  const void *buf, size_t size, bool one_archive);
/* 1: an entry (trailers are not returned), 0: end, <0: bad data (logged). */
int kd_cpio_next(struct kd_cpio_iter *it, struct kd_cpio_entry *e);
/* The name without leading "/" and "./" ("." becomes ""). */
const char *kd_cpio_path(const char *name);
/* "drwxr-xr-x" */
void kd_cpio_mode_string(uint32_t mode, char out[11]);

/* ---- imgread.c, imgdecode.c: the segments of any initramfs ------------- */
enum kd_img_comp {
	KD_IMG_CPIO, KD_IMG_GZIP, KD_IMG_ZSTD, KD_IMG_XZ, KD_IMG_LZMA, KD_IMG_LZ4,
	KD_IMG_BZIP2, KD_IMG_LZO, KD_IMG_UNKNOWN,
};
#define KD_IMG_MAX_DECODED ((uint64_t)2 << 30) /* all segments, decoded */
struct kd_img_segment {
	size_t index;               /* 0 for the first */
	uint64_t offset;            /* where it starts in the image */
	uint64_t in_size;           /* bytes it takes in the image */
	enum kd_img_comp comp;      /* KD_IMG_CPIO: not compressed */
	const unsigned char *data;  /* its cpio bytes: in the image, or owned */
	size_t size;
	unsigned char *owned;       /* decoded bytes */
	size_t n_entries, n_archives;
	char *label;                /* "IMAGE: segment 2 (zstd at offset 512)" */
};
struct kd_img_iter {
	struct kd_ctx *ctx;
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
void kd_img_iter_init(struct kd_img_iter *it, struct kd_ctx *ctx, const char *name,
		      const void *buf, size_t size, uint64_t max_decoded);
/* 1: a segment, decoded and its entries validated; 0: end; <0: error. */
int kd_img_next(struct kd_img_iter *it, struct kd_img_segment *seg);
void kd_img_segment_free(struct kd_img_segment *seg);
/* Every segment of an image in memory (or read from path). */
int kd_img_parse(struct kd_ctx *ctx, const char *name, const void *buf, size_t size,
		 uint64_t max_decoded, struct kd_img *img);
int kd_img_open(struct kd_ctx *ctx, const char *path, uint64_t max_decoded,
		struct kd_img *img);
void kd_img_free(struct kd_img *img);
/* imgdecode.c: which stream starts at buf (by the kernel's magic numbers) */
enum kd_img_comp kd_img_detect(const void *buf, size_t n);
const char *kd_img_comp_name(enum kd_img_comp c);
/* Decode the one stream at in; *used: bytes of in it took.  Output above
 * max bytes is an error (-EFBIG), so is a truncated or corrupt stream. */
int kd_img_decode(struct kd_ctx *ctx, const char *what, enum kd_img_comp comp,
		  const void *in, size_t n, size_t max, struct kd_buf *out, size_t *used);

/* ---- imgplan.c: a built image's files and plan (ls, explain, check) ---- */
struct kp_plan;
/* Copy a plan out of cpio data (unaligned) and check it (kp_plan_open). */
int kd_plan_load(struct kd_ctx *ctx, const char *what, const void *data, size_t size,
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
int kd_imgfiles_open(struct kd_ctx *ctx, const char *path, struct kd_imgfiles *f);
/* -ENOENT, logged naming the image, when it has no plan. */
int kd_imgfiles_need_plan(struct kd_ctx *ctx, const struct kd_imgfiles *f);
/* An entry by path ("/etc/x" or "etc/x"), or NULL. */
const struct kd_cpio_entry *kd_imgfiles_get(const struct kd_imgfiles *f, const char *path);
void kd_imgfiles_free(struct kd_imgfiles *f);

/* ---- ksyms.c: what the kernel proper exports (kindling check) ---------- */
struct kd_ksyms {
	struct kd_map names;
	size_t n;
	char *source; /* "PATH (how)": which source was used */
};
/* ROOT/boot/System.map-KVER (__ksymtab_ entries), else Module.symvers
 * (vmlinux lines), else the vmlinux in ROOT/boot/vmlinuz-KVER (__ksymtab).
 * -ENOENT, logged, when none has any. */
int kd_ksyms_load(struct kd_ctx *ctx, const char *root, const char *kver, struct kd_ksyms *k);
bool kd_ksyms_has(const struct kd_ksyms *k, const char *name);
void kd_ksyms_free(struct kd_ksyms *k);
/* Parsers, exposed for tests; each adds to k. */
int kd_ksyms_parse_sysmap(struct kd_ksyms *k, const char *text);
int kd_ksyms_parse_symvers(struct kd_ksyms *k, const char *text);
/* vmlinux's __ksymtab (PREL32 entries, 12 bytes) against __ksymtab_strings;
 * addresses are the sections' sh_addr. */
int kd_ksyms_parse_ksymtab(struct kd_ksyms *k, const void *tab, size_t tab_size,
			   uint64_t tab_addr, const char *strs, size_t strs_size,
			   uint64_t strs_addr);
/* Where an x86 bzImage's compressed kernel is; -EINVAL/-ENOTSUP if none. */
int kd_bzimage_payload(const void *buf, size_t n, size_t *off, size_t *len);

/* ---- modcache.c: module files read once, decompressed in parallel ------ */
typedef int (*kd_work_fn)(void *data, size_t i);
unsigned kd_cpu_count(void);
/* fn(data, i) for every i < n on up to threads threads (the caller's among
 * them); stops handing out work after the first failure and returns it. */
int kd_parallel_for(size_t n, unsigned threads, kd_work_fn fn, void *data);
struct kd_modcache {
	struct kd_ctx *ctx;
	struct kd_buf *bufs;  /* by module index */
	unsigned char *state;
	size_t cap;
	unsigned threads;
};
void kd_modcache_init(struct kd_modcache *c, struct kd_ctx *ctx, unsigned threads);
/* Read (kd_module_read) every module of mods not read yet. */
int kd_modcache_load(struct kd_modcache *c, const uint32_t *mods, size_t n);
/* The decompressed file of a module loaded before, else NULL. */
const struct kd_buf *kd_modcache_get(const struct kd_modcache *c, uint32_t mod);
void kd_modcache_free(struct kd_modcache *c);

/* ---- sets.c: module sets (modules-sets/NAME.set, default.list) -------- */
/* What the image should hold before dependencies: names or aliases. */
enum {
	KD_WANT_LOAD = 1u << 0,     /* load at boot unconditionally (--add) */
	KD_WANT_REQUIRED = 1u << 1, /* absent from the kernel is an error */
};
struct kd_want {
	char *name;
	char *reason; /* "set storage", "--add" */
	unsigned flags;
};
struct kd_wants {
	struct kd_want *v;
	size_t n, cap;
	struct kd_map index; /* name -> entry: a name is wanted once */
};
int kd_wants_add(struct kd_wants *w, const char *name, const char *reason, unsigned flags);
void kd_wants_free(struct kd_wants *w);
struct kd_sets;
/* dirs are searched in order: the first NAME.set found defines set NAME.
 * cache (may be NULL) keeps the modules read for symbol: entries. */
int kd_sets_new(struct kd_ctx *ctx, const char *const *dirs, size_t n_dirs,
		struct kd_modcache *cache, struct kd_sets **out);
void kd_sets_free(struct kd_sets *s);
/* Define set NAME from text, as if read from filename (tests use it). */
int kd_sets_parse(struct kd_sets *s, const char *name, const char *filename,
		  const char *text);
/* Append the modules of set NAME, reason "set X" (X: the set listing it). */
int kd_sets_expand(struct kd_sets *s, const char *name, struct kd_wants *out);
/* The set names of the first default.list found (what --generic means). */
int kd_sets_defaults(struct kd_sets *s, char ***names, size_t *n);
void kd_sets_names_free(char **names, size_t n);

/* ---- conffile.c: kindling.conf, the defaults of `kindling build` -------
 * ROOT/etc/kindling.conf, then ROOT/etc/kindling.conf.d/NAME.conf in bytewise
 * order; scalars: the last value read wins; lists accumulate.  Errors are
 * "FILE line N: ..."; every bad line is reported, then -EINVAL. */
struct kd_buildconf {
	char **sets, **adds, **omits, **hooks; /* words, in the order read */
	size_t n_sets, n_adds, n_omits, n_hooks;
	char *compress;      /* zstd|xz|gzip|lz4|none, NULL: not set */
	char *microcode;     /* auto|all|none, NULL: not set */
	char *cmdline;       /* kernel command-line defaults, NULL: not set */
	char *default_root;  /* root= when the command line has none, NULL: not set */
	int level;           /* 0..22, -1: not set */
	long long root_timeout; /* seconds, -1: not set */
	int hostonly;        /* hostonly = yes|no: 1 or 0, -1: not set */
};
void kd_buildconf_init(struct kd_buildconf *c);
void kd_buildconf_free(struct kd_buildconf *c);
int kd_buildconf_parse(struct kd_ctx *ctx, struct kd_buildconf *c, const char *filename,
		       const char *text);
/* A missing file is an error only when must_exist. */
int kd_buildconf_load_file(struct kd_ctx *ctx, struct kd_buildconf *c, const char *path,
			   bool must_exist);
/* config (--config FILE) replaces the two default places; root may be NULL. */
int kd_buildconf_load(struct kd_ctx *ctx, struct kd_buildconf *c, const char *root,
		      const char *config);

/* ---- plan.c, planfile.c: the load plan, its serialisation (common/plan.h) */
struct kd_plan_mod {
	uint32_t mod;      /* index into kd_ctx_db(ctx)->mods */
	char *reason;      /* why it is in the image */
	char *options;     /* modprobe.d options, "" when none */
	uint32_t flags;    /* KP_MOD_* */
	uint32_t *before;  /* plan indices: hard deps, then softdep pre */
	size_t n_before;
	uint32_t *after;   /* plan indices: softdep post */
	size_t n_after;
};
struct kd_plan_alias {
	char *pattern;
	uint32_t mod;      /* plan index */
};
struct kd_plan {
	struct kd_plan_mod *mods; /* a valid serial load order */
	size_t n;
	struct kd_plan_alias *aliases; /* sorted by pattern */
	size_t n_aliases;
	char **builtins;   /* sorted names of the kernel's built-in modules */
	size_t n_builtins;
	char *kver;
	char *default_root;
	char *cmdline;         /* kernel command-line defaults ("" when none) */
	uint32_t root_timeout; /* 0: the init's default */
	uint32_t flags;        /* KP_PLAN_* */
};
struct kd_plan_opts {
	const char *const *omit; /* modules never put in the image */
	size_t n_omit;
	const char *default_root; /* NULL: "" */
	const char *cmdline;      /* NULL: "" */
	uint32_t root_timeout;    /* 0: the init's default */
};
int kd_plan_build(struct kd_ctx *ctx, const struct kd_wants *w, const struct kd_plan_opts *o,
		  struct kd_plan *out);
void kd_plan_free(struct kd_plan *p);
/* A module's path in the image: "/usr/lib/modules/KVER/<path without .xz>". */
char *kd_plan_module_path(struct kd_ctx *ctx, uint32_t mod);
/* The plan in common/plan.h's format; out->data is 8-byte aligned. */
int kd_plan_serialize(struct kd_ctx *ctx, const struct kd_plan *p, struct kd_buf *out);
/* A human-readable listing (--print-plan). */
void kd_plan_print(struct kd_ctx *ctx, const struct kd_plan *p, FILE *f);

/* ---- image.c, content.c: the image ------------------------------------ */
/* One file of the image; paths have no leading '/'. */
struct kd_entry {
	char *path;
	uint32_t mode;          /* S_IF* | permissions */
	const unsigned char *data; /* contents, or a symlink's target */
	size_t size;
	unsigned char *owned;   /* freed with the entry (data may point into it) */
	unsigned rdev_major, rdev_minor;
};
struct kd_entries {
	struct kd_entry *v;
	size_t n, cap;
	struct kd_map index;    /* path -> entry */
};
/* data is borrowed unless owned (then it is freed with the entries, also
 * on failure).  A path given twice is an error naming it. */
int kd_entries_add(struct kd_entries *e, const char *path, uint32_t mode,
		   const void *data, size_t size, void *owned);
int kd_entries_add_dev(struct kd_entries *e, const char *path, uint32_t mode,
		       unsigned major, unsigned minor);
void kd_entries_free(struct kd_entries *e);
/* --format: a bootloader initrd, one uncompressed cpio, a gen_init_cpio list */
enum kd_format { KD_FORMAT_IMAGE, KD_FORMAT_CPIO, KD_FORMAT_LIST };
enum kd_compress { KD_COMPRESS_ZSTD, KD_COMPRESS_XZ, KD_COMPRESS_GZIP, KD_COMPRESS_LZ4,
		   KD_COMPRESS_NONE };
/* microcode.c: which vendors' early microcode leads the image */
enum { KD_UCODE_INTEL = 1, KD_UCODE_AMD = 2 };
struct kd_image_opts {
	const char *output;
	const char *init;      /* the init binary, stored as /init */
	bool force;            /* replace an existing output */
	enum kd_format format;
	enum kd_compress compress; /* KD_FORMAT_IMAGE only */
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
int kd_hooks_wants(struct kd_hooks *h, struct kd_wants *w);
/* The hooks' set lines, for kd_sets_expand. */
const char *const *kd_hooks_sets(const struct kd_hooks *h, size_t *n);
/* Put every binary (with its libraries), file, symlink, dir and stage script
 * into e (content.c calls it after the skeleton).  A missing binary, file or
 * library: -ENOENT, a path taken by something else: -EEXIST, both logged
 * naming the hook line. */
int kd_hooks_content(struct kd_hooks *h, struct kd_entries *e);
/* ---- detect.c, rootchain.c: what this machine needs (host-only) -------
 * Every modalias under SYSROOT/sys/devices and the root filesystem's chain
 * of block devices, matched against the TARGET kernel's database in ctx
 * (kd_lookup), never the running kernel's driver links or /sys/module. */
enum {
	KD_DETECT_STORAGE = 1u << 0,  /* disk controllers and disks (pci class 01, virtio
					 block/scsi, nvme, ata, scsi, mmc, usb-storage) */
	KD_DETECT_USB_HOST = 1u << 1, /* USB host controllers (pci class 0c03), hubs */
	KD_DETECT_INPUT = 1u << 2,    /* keyboards: hid, i2c-hid, PS/2 (serio, atkbd) */
	KD_DETECT_ROOT_ONLY = 1u << 31, /* nothing beyond the root chain */
	KD_DETECT_DEFAULT = KD_DETECT_STORAGE | KD_DETECT_USB_HOST | KD_DETECT_INPUT,
};
struct kd_detect_opts {
	const char *sysroot;     /* "" or NULL: the live system; else a fixture root holding
				    sys/, proc/self/mountinfo, etc/fstab, dev/disk/... */
	const char *root_device; /* /dev/NAME, UUID=, LABEL=, PARTUUID=, PARTLABEL=,
				    /dev/disk/by-*, /dev/mapper/NAME; NULL: see fstab */
	const char *fstab;       /* NULL: SYSROOT/etc/fstab for early mounts, and the root
				    is mountinfo's '/'; set (the target's fstab when building
				    in a chroot): its '/' entry names the root */
	unsigned policy;         /* KD_DETECT_* beyond the root chain; 0: KD_DETECT_DEFAULT */
};
struct kd_detect_item {
	char *module;      /* normalised target-kernel module name */
	char *reason;      /* every reason, "; "-separated, in the order found */
	bool builtin;      /* built into the target kernel: nothing to add */
	bool root;         /* root chain or early mount: load at every boot */
};
struct kd_detect_skip {
	char *what;        /* "/sys/devices/...", "module snd_hda_intel" */
	char *why;
};
struct kd_detect {
	struct kd_detect_item *items; /* sorted by module */
	size_t n_items;
	struct kd_detect_skip *skips; /* sorted by what */
	size_t n_skips;
	char *root_spec;   /* the default root=: fstab's spec, else UUID=, else /dev/NAME */
	char *root_fstype; /* "ext4" */
	char *root_source; /* the block device, "/dev/vda" */
};
/* 0, or a negative errno (logged, naming the file or device). */
int kd_detect_run(struct kd_ctx *ctx, const struct kd_detect_opts *o, struct kd_detect *out);
void kd_detect_free(struct kd_detect *d);
/* What `kindling detect` prints (and the image's etc/kindling/detect.txt):
 *   root SOURCE FSTYPE SPEC
 *   module NAME: REASON          (one per item; "builtin NAME: ..." when built in)
 *   skip WHAT: WHY */
int kd_detect_format(const struct kd_detect *d, struct kd_str *out);
/* Internal, shared by detect.c and rootchain.c. */
struct kd_detector {
	struct kd_ctx *ctx;
	const struct kd_detect_opts *o;
	struct kd_detect *out;
	char *sysroot;        /* "" for the live system, else without a trailing '/' */
	char *sysroot_real;   /* its realpath, "" for "/" */
	unsigned policy;
	struct kd_map items;  /* module name -> index in out->items */
	struct kd_map seen;   /* sysfs device directories the root chain took */
	size_t cap_items, cap_skips;
};
/* Look alias (a modalias, fs-ext4, dm-crypt, a name) up; every module found
 * becomes an item with reason.  The number of modules found, or -errno. */
int kd_detect_alias(struct kd_detector *r, const char *alias, const char *reason, bool root);
int kd_detect_skip(struct kd_detector *r, const char *what, const char *why);
/* A device (sysfs dir, relative) no alias matches: 1 when the running kernel's
 * bound driver is built into the target (item added, builtin), else 0. */
int kd_detect_builtin_fallback(struct kd_detector *r, const char *dev, const char *reason,
			       bool root);
/* "SYSROOT" + rel (rel starts with '/'); malloc'd. */
char *kd_detect_path(struct kd_detector *r, const char *rel);
/* A small sysfs attribute, trailing blanks cut: length, or -errno. */
int kd_detect_read(const char *path, char *buf, size_t size);
/* rootchain.c: the root (and early mounts): fills out->root_*, adds items. */
int kd_rootchain_run(struct kd_detector *r);
/* ---- compress.c, compress_{zstd,xz,gz,lz4}.c: the compressed stream ----- */
typedef int (*kd_emit_fn)(void *data, const void *buf, size_t n);
struct kd_zsink {
	struct kd_ctx *ctx;
	const char *what;          /* names the output in messages */
	kd_emit_fn emit;           /* receives the compressed bytes */
	void *emit_data;
	const struct kd_zcodec *codec;
	void *state;
	unsigned long long in, out;
	int err;                   /* the first failure, sticky */
};
struct kd_zcodec {
	const char *name;
	int min_level, max_level, default_level; /* max < min: takes no level */
	int (*open)(struct kd_zsink *s, int level, unsigned threads);
	int (*write)(struct kd_zsink *s, const void *buf, size_t n);
	int (*finish)(struct kd_zsink *s);
	void (*free)(struct kd_zsink *s);
};
extern const struct kd_zcodec kd_zcodec_zstd, kd_zcodec_xz, kd_zcodec_gzip, kd_zcodec_lz4,
	kd_zcodec_none;
const struct kd_zcodec *kd_zcodec_get(enum kd_compress c);
int kd_compress_parse(const char *name, enum kd_compress *out); /* -EINVAL: unknown */
const char *kd_compress_name(enum kd_compress c);
/* 0 if c takes level; else -EINVAL and msg says "xz takes levels 0 to 9 ..." */
int kd_compress_check_level(enum kd_compress c, int level, char *msg, size_t n);
/* level NULL: the codec's default; threads 0: one per CPU. */
int kd_zsink_open(struct kd_zsink *s, struct kd_ctx *ctx, const char *what,
		  enum kd_compress c, const int *level, unsigned threads, kd_emit_fn emit,
		  void *data);
int kd_zsink_write(struct kd_zsink *s, const void *buf, size_t n);
int kd_zsink_finish(struct kd_zsink *s); /* ends the stream */
void kd_zsink_free(struct kd_zsink *s);
/* For the codecs: pass compressed bytes on (counts them, keeps the error). */
int kd_zsink_emit(struct kd_zsink *s, const void *buf, size_t n);

/* ---- microcode.c: the early microcode cpio ------------------------------ */
/* This CPU's vendor from /proc/cpuinfo: KD_UCODE_INTEL, _AMD, or 0. */
unsigned kd_microcode_host_vendor(void);
/* kernel/x86/microcode/GenuineIntel.bin (every file of ROOT/lib/firmware/intel-ucode)
 * and AuthenticAMD.bin (amd-ucode/microcode_amd*.bin), for the vendors in
 * mask that have files; none found is not an error (out stays empty). */
int kd_microcode_entries(struct kd_ctx *ctx, unsigned mask, struct kd_entries *out);

/* ---- output.c: the output file, written whole or not at all ------------- */
struct kd_output {
	struct kd_ctx *ctx;
	const char *path;
	char *dir, *base, *tmp;    /* tmp: the named temporary file, if one */
	int dirfd;                 /* flock()ed while writing */
	int fd;
	bool force, linked;
};
/* Lock the output's directory (waiting for another build) and open an
 * unnamed O_TMPFILE in it (else a named one removed on SIGINT/SIGTERM/SIGHUP). */
int kd_output_open(struct kd_ctx *ctx, struct kd_output *o, const char *path, bool force);
int kd_output_write(void *o, const void *buf, size_t n); /* a kd_emit_fn */
/* fsync, give it the output's name (replacing it only with force), fsync
 * the directory, unlock.  On failure the old output is untouched. */
int kd_output_commit(struct kd_output *o);
/* Drop the new file (if not committed) and unlock; safe to call twice. */
void kd_output_close(struct kd_output *o);

/* ---- cli.c: the options every subcommand shares ------------------------
 * -k/--kver KVER, -r/--root ROOT, --moddir DIR, -C/--config-dir DIR
 * (repeatable; replaces kmod's default modprobe.d list), -v/--verbose,
 * -q/--quiet.  Use KD_CLI_LONGOPTS inside a struct option array and
 * KD_CLI_SHORTOPTS inside the short option string, then hand every option
 * getopt_long returns to kd_cli_option() first. */
struct kd_cli {
	struct kd_ctx_opts opts;
	const char *conf_dirs[64];
	size_t n_conf_dirs;
	int verbosity; /* 0 quiet, 1 normal, 2 verbose, 3 debug */
	const char *prog; /* "kindling SUBCOMMAND" for messages */
};
enum { KD_OPT_MODDIR = 0x1000, KD_OPT_CMDLINE, KD_OPT_DEPGEN, KD_OPT_FIRST_FREE = 0x1100 };
#define KD_CLI_SHORTOPTS "k:r:C:vq"
#define KD_CLI_LONGOPTS                                                    \
	{ "kver", required_argument, NULL, 'k' },                          \
	{ "root", required_argument, NULL, 'r' },                          \
	{ "config-dir", required_argument, NULL, 'C' },                    \
	{ "moddir", required_argument, NULL, KD_OPT_MODDIR },              \
	{ "cmdline", required_argument, NULL, KD_OPT_CMDLINE },            \
	{ "depgen", no_argument, NULL, KD_OPT_DEPGEN },                    \
	{ "verbose", no_argument, NULL, 'v' },                             \
	{ "quiet", no_argument, NULL, 'q' }
void kd_cli_init(struct kd_cli *cli, const char *prog);
/* 1: handled, 0: not a common option, -1: bad value (message printed). */
int kd_cli_option(struct kd_cli *cli, int opt, const char *arg);
/* Create the context (database and modprobe.d loaded); prints errors. */
int kd_cli_open(struct kd_cli *cli, struct kd_ctx **ctx);
/* For commands with only the common options and at least one argument:
 * -1 to go on (arguments from optind), else the exit code to return. */
int kd_cli_parse_plain(struct kd_cli *cli, int argc, char **argv, void (*usage)(FILE *f));

/* ---- cmd_*.c: one file per subcommand; main.c dispatches ---------------
 * Each takes argv as given after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code: 0 ok, 1 not found or
 * failed, 2 usage or bad input. */
int kd_cmd_deps(int argc, char **argv);
int kd_cmd_resolve(int argc, char **argv);
int kd_cmd_modinfo(int argc, char **argv);
int kd_cmd_depmod(int argc, char **argv);
int kd_cmd_build(int argc, char **argv);
int kd_cmd_ls(int argc, char **argv);
int kd_cmd_cat(int argc, char **argv);
int kd_cmd_extract(int argc, char **argv);
int kd_cmd_detect(int argc, char **argv);
int kd_cmd_explain(int argc, char **argv);
int kd_cmd_check(int argc, char **argv);
int kd_cmd_update(int argc, char **argv); /* cmd_update.c: images of installed kernels */

#endif
