// SPDX-License-Identifier: MIT
/*
 * A static boot-readiness check of a kindling image (kindling check): the
 * image's plan against the target kernel's files on this machine.  This
 * file runs the checks (verify.h lists them) and words the report; each
 * line goes to the caller as it is found.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "verify/internal.h"
#include "common/plan.h"

void kd_check_say(struct check *c, enum kd_check_kind kind, const char *fmt, ...)
{
	struct kd_str text = { 0 };
	va_list ap;

	if (kind == KD_CHECK_PROBLEM)
		c->n.problems++;
	else if (kind == KD_CHECK_WARNING)
		c->n.warnings++;
	va_start(ap, fmt);
	kd_str_vprintf(&text, fmt, ap);
	va_end(ap);
	c->o->report(c->o->report_data, kind, text.s);
	kd_str_free(&text);
}

const char *kd_check_mod_name(const struct check *c, uint32_t i)
{
	return kp_str(c->p, c->p->modules[i].name);
}

static bool path_exists(const char *path, bool dir)
{
	struct stat sb;

	return stat(path, &sb) == 0 && (dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

/* The kernel's module tree and image; 0 when the database can be opened. */
static int check_kernel(struct check *c)
{
	const char *img_kver = kp_str(c->p, c->p->hdr->kver), *want = c->o->ctx.kver;
	const char *moddir = c->o->ctx.moddir;
	char *mods, *vmlinuz;
	bool have_mods, have_vmlinuz;

	if (want && strcmp(want, img_kver) != 0)
		kd_check_problem(c, "the image is for kernel %s, not %s: its init refuses to run "
				 "under another kernel", img_kver, want);
	c->kver = want ? want : img_kver;
	mods = kd_xasprintf("%s/lib/modules/%s", c->root, c->kver);
	vmlinuz = kd_xasprintf("%s/boot/vmlinuz-%s", c->root, c->kver);
	have_mods = path_exists(moddir ? moddir : mods, true);
	have_vmlinuz = path_exists(vmlinuz, false);
	if (!have_mods)
		kd_check_problem(c, "kernel %s: no module tree %s (install the kernel's package); "
				 "dependencies, symbols and the root chain cannot be checked",
				 c->kver, moddir ? moddir : mods);
	if (!have_vmlinuz)
		kd_check_problem(c, "kernel %s: no kernel image %s", c->kver, vmlinuz);
	if (have_mods && have_vmlinuz)
		kd_check_ok(c, "kernel %s: %s and %s", c->kver, moddir ? moddir : mods, vmlinuz);
	free(mods);
	free(vmlinuz);
	return have_mods ? 0 : -ENOENT;
}

/* Everything else needs the target kernel's module database. */
static void check_modules(struct check *c)
{
	struct kd_ctx_opts opts = c->o->ctx;

	opts.kver = c->kver;
	if (kd_ctx_new(&opts, &c->ctx) < 0) {
		kd_check_problem(c, "kernel %s: its module database cannot be read (see the "
				 "message above)", c->kver);
		return;
	}
	kd_check_deps(c);
	kd_check_symbols(c);
	kd_check_root(c);
	kd_check_firmware(c);
}

int kd_check_image(const struct kd_log *log, const struct kd_check_opts *o,
		   struct kd_check_counts *out)
{
	struct check c = { .o = o, .root = o->ctx.root ? o->ctx.root : "" };
	int err;

	memset(out, 0, sizeof(*out));
	err = kd_imgfiles_open(log, o->image, &c.f);
	if (err < 0)
		return err;
	err = kd_imgfiles_plan(log, &c.f);
	if (err < 0)
		goto out;
	c.p = c.f.plan;
	for (uint32_t i = 0; i < c.p->hdr->n_modules; i++)
		kd_map_put(&c.in_image, kd_check_mod_name(&c, i), i);
	kd_check_say(&c, KD_CHECK_NOTE, "checking %s: kernel %s, %u modules%s", o->image, kp_str(c.p, c.p->hdr->kver),
	     c.p->hdr->n_modules, c.p->hdr->flags & KP_PLAN_HOST_ONLY ? ", host-only" : "");
	if (check_kernel(&c) == 0)
		check_modules(&c);
	*out = c.n;
out:
	kd_map_free(&c.in_image);
	kd_map_free(&c.root_mods);
	kd_map_free(&c.fs_checked);
	kd_ctx_free(c.ctx);
	kd_imgfiles_free(&c.f);
	return err;
}
