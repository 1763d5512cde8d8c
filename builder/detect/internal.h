/* SPDX-License-Identifier: MIT */
/*
 * detect's internals, shared by its files only: found.c keeps the results
 * and does the lookups that add to them; detect.c (the device walk and the
 * entry point) and rootchain.c (the root's chain) add to them.
 */
#ifndef KINDLING_DETECT_INTERNAL_H
#define KINDLING_DETECT_INTERNAL_H

#include "detect/detect.h"

struct kd_detector {
	struct kd_ctx *ctx;
	const struct kd_detect_opts *o;
	struct kd_detect *out;
	char *sysroot;        /* "" for the live system, else without a trailing '/' */
	char *sysroot_real;   /* its realpath, "" for "/" */
	unsigned policy;
	struct kd_olist items; /* of struct kd_detect_item, by module */
	struct kd_olist skips; /* of struct kd_detect_skip, by what and why */
	struct kd_map seen;   /* sysfs device directories the root chain took */
};

/* ---- found.c ------------------------------------------------------------ */
void kd_detect_init(struct kd_detector *r);
/* An item for module; a module found again gains the reason (once) and root. */
void kd_detect_add(struct kd_detector *r, const char *module, const char *reason, bool builtin,
		   bool root);
/* A skip, once per what and why. */
void kd_detect_skip(struct kd_detector *r, const char *what, const char *why);
/* Look alias (a modalias, fs-ext4, dm-crypt, a name) up; every module found
 * becomes an item with reason.  The number of modules found, or -errno. */
int kd_detect_alias(struct kd_detector *r, const char *alias, const char *reason, bool root);
/* The running kernel's driver bound to a device (sysfs dir, relative), as a
 * module name of the target: "driver/module" when sysfs has it, else the
 * driver's own name.  False when no driver is bound. */
bool kd_detect_bound_driver(struct kd_detector *r, const char *dev, char *name, size_t size);
/* A device no alias matches: true (item added, builtin) when the running
 * kernel's bound driver is built into the target. */
bool kd_detect_builtin_fallback(struct kd_detector *r, const char *dev, const char *reason,
				bool root);
/* "SYSROOT" + rel (rel starts with '/'); malloc'd. */
char *kd_detect_path(struct kd_detector *r, const char *rel);
/* A small sysfs attribute, trailing blanks cut: length, or -errno.  readat:
 * name in the directory dirfd, never through a symlink. */
int kd_detect_read(const char *path, char *buf, size_t size);
int kd_detect_readat(int dirfd, const char *name, char *buf, size_t size);
/* The items and skips into r->out, sorted (r's lists are empty again). */
void kd_detect_finish(struct kd_detector *r);

/* ---- rootchain.c: the root (and early mounts): fills out->root_*, adds items */
int kd_rootchain_run(struct kd_detector *r);

#endif
