/* SPDX-License-Identifier: MIT */
/*
 * verify: `kindling check`'s engine: whether a kindling image can boot this
 * machine with its kernel, judged statically from the image and the target
 * kernel's files.  Uses base, codec, moddb, detect and inspect.
 */
#ifndef KINDLING_VERIFY_H
#define KINDLING_VERIFY_H

#include "base/base.h"
#include "moddb/moddb.h"

/* ---- check.c, modules.c, root.c ------------------------------------------
 *   kernel    the image's kernel release has ROOT/lib/modules/KVER (or
 *             --moddir) and ROOT/boot/vmlinuz-KVER;
 *   files     every module of the plan has its file in the image;
 *   deps      every dependency modules.dep gives a module of the image is in
 *             the image or built into the kernel;
 *   symbols   every undefined symbol of every module (read from the image's
 *             own module bytes) is exported by the kernel proper (ksyms.c
 *             says from which source) or by another module in the image;
 *   root      the root SPEC (else the image's default root=) detected against
 *             the target kernel (detect/, root chain only, which resolves
 *             SPEC): every module the chain needs is in the image or built
 *             in, the filesystem's fs-TYPE module too.  A SPEC that is not a
 *             device here gets the fs-TYPE check only (type from the options
 *             or the image's rootfstype= default) and a warning;
 *   firmware  every file a module names (modinfo firmware=) is in the image:
 *             missing firmware of a root-chain module is a problem, of any
 *             other module a warning (many drivers name firmware for variants
 *             of their hardware that this machine does not have). */
enum kd_check_kind {
	KD_CHECK_NOTE,     /* "checking IMAGE: kernel K, N modules" */
	KD_CHECK_OK,
	KD_CHECK_WARNING,
	KD_CHECK_PROBLEM,  /* names the module, symbol or file */
};
/* One line of the report, as it is found (messages logged meanwhile say
 * "see the message above"). */
typedef void (*kd_check_report_fn)(void *data, enum kd_check_kind kind, const char *text);
struct kd_check_opts {
	const char *image;
	/* the target kernel's database; kver NULL: the image's kernel, root (-r)
	 * also roots lib/modules/KVER and boot/vmlinuz-KVER; log: its messages */
	struct kd_ctx_opts ctx;
	const char *root_spec;  /* NULL or "": the image's default root= */
	const char *fstype;     /* NULL: detected, else the image's rootfstype= */
	const char *sysroot;    /* detect the root chain from a fixture tree */
	kd_check_report_fn report;
	void *report_data;
};
struct kd_check_counts {
	unsigned problems, warnings;
};
/* 0 when the image was judged (the counts say how), <0, logged to log,
 * when it cannot be read or is not a kindling image. */
int kd_check_image(const struct kd_log *log, const struct kd_check_opts *o,
		   struct kd_check_counts *out);

#endif
