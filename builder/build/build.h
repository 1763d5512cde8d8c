/* SPDX-License-Identifier: MIT */
/*
 * build: the build pipeline (kindling build, kindling update, or any C
 * caller), kindling.conf, the option precedence and the search paths.
 */
#ifndef KINDLING_BUILD_H
#define KINDLING_BUILD_H

#include "base/base.h"
#include "moddb/moddb.h"
#include "image/image.h"

/* ---- conffile.c: kindling.conf, the defaults of `kindling build` -------
 * ROOT/etc/kindling.conf, then ROOT/etc/kindling.conf.d/NAME.conf in bytewise
 * order; scalars: the last value read wins; lists accumulate.  Errors are
 * "FILE line N: ..."; every bad line is reported, then -EINVAL. */
struct kd_buildconf {
	struct kd_strv sets, adds, omits, hooks; /* words, in the order read */
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
int kd_buildconf_parse(const struct kd_log *log, struct kd_buildconf *c, const char *filename,
		       const char *text);
/* A missing file is an error only when must_exist. */
int kd_buildconf_load_file(const struct kd_log *log, struct kd_buildconf *c, const char *path,
			   bool must_exist);
/* config (--config FILE) replaces the two default places; root may be NULL. */
int kd_buildconf_load(const struct kd_log *log, struct kd_buildconf *c, const char *root,
		      const char *config);

/* ---- build.c: one image, as `kindling build` makes it ---------------------
 * Each field is a flag of kindling build (README, "Building an image"): a
 * caller fills what it would give on the command line and leaves the rest
 * as kd_build_opts_init made it.  kindling.conf is read under db.root
 * unless no_config; then the precedence is defaults < the files < these
 * fields (settings.c).  Lists are NULL-terminated (NULL: none). */
struct kd_build_opts {
	struct kd_ctx_opts db;        /* -k, -r, --moddir, -C, --cmdline, --depgen, the logger */
	const char *output;           /* -o; NULL: no image (print_plan only) */
	bool force;                   /* --force: replace output */
	bool print_plan;              /* --print-plan: the load plan on stdout */
	const char *init;             /* --init; NULL: the installed one, else next to kindling */
	/* the modules; none chosen: host-only for this machine, else generic */
	bool generic, host_only;      /* --generic, --host-only */
	const char *const *sets;      /* --set NAME... */
	const char *const *adds;      /* --add MOD... */
	const char *const *omits;     /* --omit MOD... */
	const char *const *hooks;     /* --hook NAME... */
	const char *const *sets_dirs; /* --sets-dir DIR...: looked at first */
	const char *const *hooks_dirs; /* --hooks-dir DIR...: looked at first */
	const char *sysroot;          /* --sysroot: host-only detection from DIR */
	const char *root_device;      /* --root-device: host-only's root */
	/* what the plan tells the init */
	const char *root_default;     /* --root-default SPEC */
	const char *default_cmdline;  /* --default-cmdline TEXT */
	int root_timeout;             /* --root-timeout N (0 to 86400); -1: not given */
	/* the image's shape; NULL or -1: not given */
	const char *compress;         /* --compress zstd|xz|gzip|lz4|none */
	int level;                    /* --level N */
	const char *format;           /* --format image|cpio|list */
	const char *microcode;        /* --microcode auto|all|none */
	/* kindling.conf */
	const char *config;           /* --config FILE instead of ROOT/etc/kindling.conf{,.d} */
	bool no_config;               /* --no-config */
};
void kd_build_opts_init(struct kd_build_opts *o);
/* Detect (host-only), the sets and wants, the plan, the image.  0, or a
 * negative errno, every failure reported (db.log; a bad option or setting
 * as "kindling build: ..." on stderr, as the command line says it). */
int kd_build(const struct kd_build_opts *o);
/* kindling build's exit code for kd_build's result: 0 written, 1 failed
 * (a module, file or output problem), 2 bad input (options, configuration,
 * sets, the kernel's module tree, a dependency cycle). */
int kd_build_exit(int err);

/* ---- settings.c: defaults < kindling.conf < the options -------------------
 * A scalar option wins over the files, a list option adds to theirs (the
 * files' first); the files' level gives way to a --compress option, their
 * compress and microcode to --format cpio or list.  Then the choices the
 * build makes for what is left open: host-only or generic, the microcode
 * of "auto".  Bad values: "kindling build: ..." on stderr, -EINVAL. */
struct kd_build_settings {
	struct kd_strv sets, adds, omits, hooks; /* the files' words, then the options' */
	size_t n_conf_adds;        /* adds.v[0..n_conf_adds) are kindling.conf's */
	bool generic, host_only;
	const char *root_default;  /* NULL: none (host-only: the detected root) */
	const char *cmdline;       /* NULL: none */
	unsigned root_timeout;     /* 0: the init's default */
	struct kd_image_opts shape; /* format, compress, level, microcode */
};
int kd_build_settle(const struct kd_build_opts *o, const struct kd_buildconf *conf,
		    struct kd_build_settings *out);
void kd_build_settings_free(struct kd_build_settings *s);

/* ---- paths.c: where sets, hooks and the init are found --------------------
 * In order: dirs (the options'), ROOT/etc/kindling/modules-sets (hooks.d),
 * the source tree's modules-sets/ (hooks/image/) when kindling runs from
 * its build directory, then DATADIR/modules-sets (DATADIR/hooks).  The
 * first file of a name wins. */
enum kd_search { KD_SEARCH_SETS, KD_SEARCH_HOOKS };
void kd_search_path(enum kd_search what, const char *root, const char *const *dirs,
		    struct kd_strv *out);
/* The init binary: the installed LIBEXECDIR/init, else "init" next to the
 * running kindling (build/kindling finds build/init); NULL: neither. */
char *kd_default_init(void);

#endif
