/* SPDX-License-Identifier: MIT */
/*
 * build: kindling.conf, the option precedence and the build pipeline.
 */
#ifndef KINDLING_BUILD_H
#define KINDLING_BUILD_H

#include "base/base.h"
#include "moddb/moddb.h"

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
int kd_buildconf_parse(const struct kd_log *log, struct kd_buildconf *c, const char *filename,
		       const char *text);
/* A missing file is an error only when must_exist. */
int kd_buildconf_load_file(const struct kd_log *log, struct kd_buildconf *c, const char *path,
			   bool must_exist);
/* config (--config FILE) replaces the two default places; root may be NULL. */
int kd_buildconf_load(const struct kd_log *log, struct kd_buildconf *c, const char *root,
		      const char *config);

#endif
