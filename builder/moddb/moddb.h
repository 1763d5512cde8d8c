/* SPDX-License-Identifier: MIT */
/*
 * moddb: one kernel's module database, as kmod sees it: depmod's
 * indexes (or depgen's), modprobe.d, name and alias lookups, module files and
 * their ELF .modinfo and symbols, the kernel's own exports.  The context
 * (struct kd_ctx) is opaque outside this folder.
 */
#ifndef KINDLING_MODDB_H
#define KINDLING_MODDB_H

#include "base/base.h"
#include "codec/codec.h"

struct kd_ctx;

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

/* ---- depgen.c: depmod's work, for trees without (or with stale) indexes */
/* Once kd_depgen_run succeeded every text is set ("" when empty). */
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
	size_t n_pre, n_post, cap_pre, cap_post;
};
struct kd_conf_weakdep {
	char *modname;
	char **deps;
	size_t n_deps, cap_deps;
};
struct kd_config {
	struct kd_conf_alias *aliases;
	size_t n_aliases, cap_aliases;
	struct kd_conf_option *options;
	size_t n_options, cap_options;
	char **blacklist;
	size_t n_blacklist, cap_blacklist;
	struct kd_conf_command *install, *remove;
	size_t n_install, n_remove, cap_install, cap_remove;
	struct kd_conf_softdep *softdeps;
	size_t n_softdeps, cap_softdeps;
	struct kd_conf_weakdep *weakdeps;
	size_t n_weakdeps, cap_weakdeps;
	char **files; /* every file parsed, in order (for reports) */
	size_t n_files, cap_files;
};
/* Parse one file's text (up to its first NUL); bad lines are logged
 * "FILE line N: ..." and skipped. */
void kd_config_parse(struct kd_ctx *ctx, struct kd_config *c, const char *filename,
		     const char *text);
/* Kernel command line: MOD.param=value, modprobe.blacklist=a,b (kmod's rules). */
void kd_config_parse_cmdline(struct kd_ctx *ctx, struct kd_config *c, const char *cmdline);
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
void kd_alias_index_find(struct kd_alias_index *ix, const struct kd_alias *table, size_t n,
			const char *name, uint32_t **out, size_t *n_out);
void kd_alias_index_free(struct kd_alias_index *ix);
struct kd_moddb {
	struct kd_olist mods; /* struct kd_module, by name: kd_db_mod(), kd_module_find() */
	struct kd_alias *aliases; /* modules.alias, file order */
	size_t n_aliases, cap_aliases;
	struct kd_alias *symbols; /* modules.symbols ("symbol:NAME") */
	size_t n_symbols, cap_symbols;
	struct kd_alias *builtin_aliases; /* from modules.builtin.modinfo */
	size_t n_builtin_aliases, cap_builtin_aliases;
	/* lookup indexes over the three tables above (resolve.c builds them) */
	struct kd_alias_index aliases_ix, symbols_ix, builtin_aliases_ix;
	bool generated; /* indexes computed by depgen, not read from depmod */
	struct kd_depgen gen; /* depgen's text when generated */
};
/* Module number mod (db->mods.n of them); valid until a module is added. */
static inline struct kd_module *kd_db_mod(const struct kd_moddb *db, uint32_t mod)
{
	return kd_olist_at(&db->mods, mod);
}
struct kd_ctx_opts {
	const char *root;       /* NULL or "" for / */
	const char *kver;       /* NULL: running kernel if installed, else newest */
	const char *moddir;     /* bare module tree; overrides root/kver lookup */
	const char *const *conf_dirs; /* NULL: kmod's defaults under root */
	const char *cmdline;    /* kernel command line text to apply, or NULL */
	bool force_depgen;      /* ignore depmod's output even if present */
	struct kd_log log;      /* log.fn NULL: kd_log_stderr, warnings and errors */
};
int kd_ctx_new(const struct kd_ctx_opts *opts, struct kd_ctx **out);
void kd_ctx_free(struct kd_ctx *ctx);
/* The context's logger (what every message about this kernel goes through). */
struct kd_log *kd_ctx_log(struct kd_ctx *ctx);
const char *kd_ctx_moddir(const struct kd_ctx *ctx);
const char *kd_ctx_root(const struct kd_ctx *ctx); /* "" for / */
const char *kd_ctx_kver(const struct kd_ctx *ctx);
struct kd_moddb *kd_ctx_db(struct kd_ctx *ctx);
struct kd_config *kd_ctx_config(struct kd_ctx *ctx);
/* Index of a module by (normalised) name, or -1. */
int kd_module_find(struct kd_ctx *ctx, const char *name);
/* Index of a module, adding an entry without file when it is unknown. */
uint32_t kd_module_get(struct kd_ctx *ctx, const char *name);
/* Full path of the module file ("MODDIR/PATH"); NULL when it has none. */
char *kd_module_fullpath(struct kd_ctx *ctx, uint32_t mod);
/* Parsers, exposed for tests: each takes the file's text (up to its first
 * NUL); bad lines are logged "FILE line N: ..." and skipped. */
void kd_moddb_parse_dep(struct kd_ctx *ctx, const char *filename, const char *text);
void kd_moddb_parse_alias(struct kd_ctx *ctx, const char *filename, const char *text,
			  bool symbols);
void kd_moddb_parse_builtin(struct kd_ctx *ctx, const char *filename, const char *text);
void kd_moddb_parse_builtin_modinfo(struct kd_ctx *ctx, const char *filename,
				    const char *text, size_t len);
void kd_moddb_parse_order(struct kd_ctx *ctx, const char *filename, const char *text);

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
	size_t n, cap;
};
/* Resolve a name or alias as modprobe does: n == 0 is not found.  Returns 0
 * (it cannot fail; the int stays for its callers). */
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

/* ---- modcache.c: module files read once, decompressed in parallel ------ */
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
void kd_ksyms_parse_sysmap(struct kd_ksyms *k, const char *text);
void kd_ksyms_parse_symvers(struct kd_ksyms *k, const char *text);
/* vmlinux's __ksymtab (PREL32 entries, 12 bytes) against __ksymtab_strings;
 * addresses are the sections' sh_addr. */
int kd_ksyms_parse_ksymtab(struct kd_ksyms *k, const void *tab, size_t tab_size,
			   uint64_t tab_addr, const char *strs, size_t strs_size,
			   uint64_t strs_addr);
/* Where an x86 bzImage's compressed kernel is; -EINVAL/-ENOTSUP if none. */
int kd_bzimage_payload(const void *buf, size_t n, size_t *off, size_t *len);

#endif
