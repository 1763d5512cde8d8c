/* SPDX-License-Identifier: MIT */
/*
 * detect's internals, shared by detect.c and rootchain.c only.
 */
#ifndef KINDLING_DETECT_INTERNAL_H
#define KINDLING_DETECT_INTERNAL_H

#include "detect/detect.h"

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

#endif
