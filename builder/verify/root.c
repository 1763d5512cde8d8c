// SPDX-License-Identifier: MIT
/*
 * The root: the SPEC the init will look for (the options', else the
 * image's default root=) handed to detect/, which resolves it (/dev/NAME,
 * UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*, /dev/mapper/NAME;
 * under --sysroot in the fixture's tree) and finds its chain of block
 * devices against the target kernel.  Every module the chain needs must be
 * in the image or built in, and the filesystem's fs-TYPE module too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/internal.h"
#include "detect/detect.h"
#include "common/plan.h"

/* rootfstype= in the image's command-line defaults, into buf. */
static const char *plan_rootfstype(const struct check *c, char *buf, size_t size)
{
	const char *s = kp_str(c->p, c->p->hdr->cmdline), *q;

	for (q = s; (q = strstr(q, "rootfstype=")) != NULL; q++) {
		if (q != s && q[-1] != ' ')
			continue;
		q += strlen("rootfstype=");
		snprintf(buf, size, "%.*s", (int)strcspn(q, " \t\n"), q);
		return buf[0] ? buf : NULL;
	}
	return NULL;
}

/* Mark a module of the image and everything it needs as root chain. */
static void mark_root(struct check *c, uint32_t i, unsigned depth)
{
	const struct kp_module *m = &c->p->modules[i];

	if (depth > c->p->hdr->n_modules ||
	    kd_map_put(&c->root_mods, kd_check_mod_name(c, i), 0) == 1)
		return; /* seen before */
	for (uint32_t d = 0; d < m->n_deps; d++)
		mark_root(c, c->p->deps[m->deps_first + d], depth + 1);
}

/* The filesystem's module (fs-TYPE) is in the image or built in; once. */
static void check_fstype(struct check *c, const char *fstype, const char *what)
{
	bool builtin = false, present = false;
	const char *missing = NULL;
	struct kd_lookup l;
	char *alias;

	if (kd_map_put(&c->fs_checked, "", 0) == 1)
		return;
	alias = kd_xasprintf("fs-%s", fstype);
	if (kd_lookup(c->ctx, alias, &l) < 0) {
		kd_check_problem(c, "root %s: cannot look up %s in kernel %s", what, alias, c->kver);
		free(alias);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), l.insts[i]->mod);
		uint32_t idx;

		kd_map_put(&c->fs_checked, m->name, 0);
		if (m->builtin || l.insts[i]->builtin) {
			builtin = true;
		} else if (kd_map_get(&c->in_image, m->name, &idx)) {
			present = true;
			mark_root(c, idx, 0);
		} else {
			missing = m->name;
		}
	}
	if (l.n == 0)
		kd_check_problem(c, "root %s: kernel %s has no module or built-in driver for "
				 "filesystem %s (%s)", what, c->kver, fstype, alias);
	else if (builtin)
		kd_check_ok(c, "root %s: filesystem %s is built into kernel %s", what, fstype,
			    c->kver);
	else if (present)
		kd_check_ok(c, "root %s: filesystem %s: its module is in the image", what, fstype);
	else
		kd_check_problem(c, "root %s: filesystem %s needs module %s (%s), which is not in "
				 "the image", what, fstype, missing, alias);
	kd_lookup_free(&l);
	free(alias);
}

static void check_fstype_or_warn(struct check *c, const char *fstype, const char *spec)
{
	if (fstype)
		check_fstype(c, fstype, spec);
	else
		kd_check_warning(c, "root %s: filesystem type unknown (give --rootfstype): its "
				 "module was not checked", spec);
}

/* Is another module found for the same step (the same reason: one alias
 * with several providers, crypto-aes -> aesni_intel, padlock_aes) built in or
 * in the image?  One provider is enough. */
static bool alternative(struct check *c, const struct kd_detect *d,
			const struct kd_detect_item *it)
{
	for (size_t i = 0; i < d->n_items; i++) {
		const struct kd_detect_item *o = &d->items[i];

		if (o != it && o->root && strcmp(o->reason, it->reason) == 0 &&
		    (o->builtin || kd_map_get(&c->in_image, o->module, NULL)))
			return true;
	}
	return false;
}

/* detect's root chain for spec: each module it needs is in the image (the
 * filesystem's are judged by check_fstype, once, with the type given or
 * found).  -errno when detection fails (logged; -ENOENT: spec is not a
 * block device here). */
static int check_chain(struct check *c, const char *spec, const char *fstype)
{
	struct kd_detect_opts o = { .sysroot = c->o->sysroot, .root_device = spec,
				    .policy = KD_DETECT_ROOT_ONLY };
	struct kd_detect d;
	unsigned before, n = 0;
	int err = kd_detect_run(c->ctx, &o, &d);

	if (err < 0)
		return err;
	check_fstype_or_warn(c, fstype ? fstype : d.root_fstype, spec);
	before = c->n.problems;
	for (size_t i = 0; i < d.n_items; i++) {
		const struct kd_detect_item *it = &d.items[i];
		uint32_t idx;

		if (!it->root || it->builtin || kd_map_get(&c->fs_checked, it->module, NULL))
			continue;
		n++;
		if (kd_map_get(&c->in_image, it->module, &idx))
			mark_root(c, idx, 0);
		else if (!alternative(c, &d, it))
			kd_check_problem(c, "root %s: module %s is not in the image; the root chain "
					 "needs it: %s", spec, it->module, it->reason);
	}
	if (c->n.problems == before)
		kd_check_ok(c, "root %s: device %s, its chain needs %u module%s beyond the "
			    "filesystem's: all in the image", spec,
			    d.root_source ? d.root_source : spec, n, n == 1 ? "" : "s");
	kd_detect_free(&d);
	return 0;
}

void kd_check_root(struct check *c)
{
	const char *spec = c->o->root_spec, *fstype = c->o->fstype;
	char fsbuf[64];
	int err;

	if (spec == NULL || spec[0] == '\0')
		spec = kp_str(c->p, c->p->hdr->default_root);
	if (spec[0] == '\0') {
		kd_check_warning(c, "root: not checked: no --root SPEC and the image has no "
				 "default root=");
		return;
	}
	if (fstype == NULL)
		fstype = plan_rootfstype(c, fsbuf, sizeof(fsbuf));
	err = check_chain(c, spec, fstype);
	if (err == 0)
		return;
	/* detect's resolver is the one that looks: the blkid fallback this
	 * message promises (for a machine without /dev/disk/by-*) is being added
	 * to it (detect/rootchain.c) */
	kd_check_warning(c, "root %s: %s: its device chain was not checked", spec,
			 err == -ENOENT && !c->o->sysroot ?
			 "not a block device of this machine (no /dev/disk/by-* link, blkid "
			 "does not find it)" : "the chain cannot be detected (see the message above)");
	check_fstype_or_warn(c, fstype, spec);
}
