/* SPDX-License-Identifier: MIT */
/* verify's own: one check under way, shared by its files. */
#ifndef KINDLING_VERIFY_INTERNAL_H
#define KINDLING_VERIFY_INTERNAL_H

#include "verify/verify.h"
#include "inspect/inspect.h"

struct check {
	const struct kd_check_opts *o;
	struct kd_ctx *ctx;
	struct kd_imgfiles f;
	const struct kp_plan *p;
	const char *kver;         /* the kernel checked against */
	const char *root;         /* -r ROOT, "" for / */
	struct kd_map in_image;   /* plan module name -> plan index */
	struct kd_map root_mods;  /* modules the root chain needs (firmware is a problem) */
	struct kd_map fs_checked; /* fs-TYPE modules judged ("" once the type was) */
	struct kd_check_counts n;
};

/* check.c: one line of the report (problems and warnings are counted) */
void kd_check_say(struct check *c, enum kd_check_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define kd_check_problem(c, ...) kd_check_say(c, KD_CHECK_PROBLEM, __VA_ARGS__)
#define kd_check_warning(c, ...) kd_check_say(c, KD_CHECK_WARNING, __VA_ARGS__)
#define kd_check_ok(c, ...) kd_check_say(c, KD_CHECK_OK, __VA_ARGS__)
const char *kd_check_mod_name(const struct check *c, uint32_t i);

/* modules.c: the image's modules against the kernel's database */
void kd_check_deps(struct check *c);
void kd_check_symbols(struct check *c);
void kd_check_firmware(struct check *c); /* after kd_check_root: it marks the root chain */

/* root.c */
void kd_check_root(struct check *c);

#endif
