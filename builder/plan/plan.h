/* SPDX-License-Identifier: MIT */
/*
 * plan: what the image should hold (the wants: from flags, module sets,
 * hooks and detection) resolved into the load plan, and the plan in
 * common/plan.h's format.
 */
#ifndef KINDLING_PLAN_BUILDER_H
#define KINDLING_PLAN_BUILDER_H

#include "base/base.h"
#include "moddb/moddb.h"

/* ---- wants.c: what the image should hold before dependencies ---------
 * Names or aliases, each once, in the order first wanted; the first reason
 * stays, the flags add up.  A zero-initialised struct kd_wants is empty. */
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
	struct kd_olist list; /* of struct kd_want, by name */
};
/* Returns 0 (it dies on out of memory): the int goes once no caller tests it. */
void kd_wants_add(struct kd_wants *w, const char *name, const char *reason, unsigned flags);
void kd_wants_free(struct kd_wants *w);
static inline size_t kd_wants_count(const struct kd_wants *w)
{
	return w->list.n;
}
static inline const struct kd_want *kd_wants_at(const struct kd_wants *w, size_t i)
{
	return kd_olist_at(&w->list, i);
}

/* ---- sets.c: module sets (modules-sets/NAME.set, default.list) -------- */
struct kd_sets;
/* dirs are searched in order: the first NAME.set found defines set NAME.
 * cache (may be NULL) keeps the modules read for symbol: entries.  Returns 0. */
int kd_sets_new(struct kd_ctx *ctx, const char *const *dirs, size_t n_dirs,
		struct kd_modcache *cache, struct kd_sets **out);
void kd_sets_free(struct kd_sets *s);
/* Define set NAME from text, as if read from filename (tests use it); a set
 * defined already keeps its first definition.  Errors: "FILE line N: ...". */
int kd_sets_parse(struct kd_sets *s, const char *name, const char *filename,
		  const char *text);
/* Append the modules of set NAME, reason "set X" (X: the set listing it). */
int kd_sets_expand(struct kd_sets *s, const char *name, struct kd_wants *out);
/* The set names of the first default.list found (what --generic means). */
int kd_sets_defaults(struct kd_sets *s, char ***names, size_t *n);
void kd_sets_names_free(char **names, size_t n);

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

#endif
