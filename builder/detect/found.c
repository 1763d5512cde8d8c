// SPDX-License-Identifier: MIT
/*
 * What detection found: the modules (items, one per module with every
 * reason) and what was seen but left out (skips), the target-kernel lookups
 * that add them, and the text `kindling detect` prints.  The device walk
 * (detect.c) and the root chain (rootchain.c) both add here; neither calls
 * the other's internals.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/internal.h"

char *kd_detect_path(struct kd_detector *r, const char *rel)
{
	return kd_xasprintf("%s%s", r->sysroot, rel);
}

static int read_attr(int dirfd, const char *path, int flags, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int kd_detect_read(const char *path, char *buf, size_t size)
{
	return read_attr(AT_FDCWD, path, 0, buf, size);
}

int kd_detect_readat(int dirfd, const char *name, char *buf, size_t size)
{
	return read_attr(dirfd, name, O_NOFOLLOW, buf, size);
}

/* ---- results ------------------------------------------------------------ */

void kd_detect_init(struct kd_detector *r)
{
	kd_olist_init(&r->items, sizeof(struct kd_detect_item));
	kd_olist_init(&r->skips, sizeof(struct kd_detect_skip));
}

/* Is reason one of the "; "-separated reasons of have? */
static bool has_reason(const char *have, const char *reason)
{
	size_t n = strlen(reason);

	for (const char *old = have; (old = strstr(old, reason)) != NULL; old++)
		if ((old == have || old[-1] == ' ') && (old[n] == '\0' || old[n] == ';'))
			return true;
	return false;
}

void kd_detect_add(struct kd_detector *r, const char *module, const char *reason, bool builtin,
		   bool root)
{
	bool added;
	struct kd_detect_item *it = kd_olist_add(&r->items, module, &added);

	if (added) {
		it->module = kd_xstrdup(module);
		it->reason = kd_xstrdup(reason);
		it->builtin = builtin;
		it->root = root;
		return;
	}
	it->root |= root;
	/* the same reason twice (two paths to one device) says nothing new */
	if (!has_reason(it->reason, reason)) {
		char *both = kd_xasprintf("%s; %s", it->reason, reason);

		free(it->reason);
		it->reason = both;
	}
}

void kd_detect_skip(struct kd_detector *r, const char *what, const char *why)
{
	/* the key is the pair; the length keeps "a" "bc" apart from "ab" "c" */
	char *key = kd_xasprintf("%zu %s%s", strlen(what), what, why);
	bool added;
	struct kd_detect_skip *s = kd_olist_add(&r->skips, key, &added);

	if (added) {
		s->what = kd_xstrdup(what);
		s->why = kd_xstrdup(why);
	}
	free(key);
}

int kd_detect_alias(struct kd_detector *r, const char *alias, const char *reason, bool root)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	struct kd_lookup l;
	int err = kd_lookup(r->ctx, alias, &l), found = 0;

	if (err < 0) {
		kd_lookup_free(&l);
		return err;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct kd_module *m = kd_db_mod(db, l.insts[i]->mod);
		bool builtin = l.insts[i]->builtin || m->builtin;
		char *what, *why;

		if (!builtin && !m->in_dep) {
			/* a modprobe.d alias naming a module the kernel lacks */
			what = kd_xasprintf("module %s", m->name);
			why = kd_xasprintf("%s: a modprobe.d alias names it, but %s has no such "
					   "module", reason, kd_ctx_kver(r->ctx));
			kd_detect_skip(r, what, why);
			free(what);
			free(why);
			continue;
		}
		if (!builtin && !root && kd_module_blacklisted(r->ctx, l.insts[i]->mod)) {
			what = kd_xasprintf("module %s", m->name);
			why = kd_xasprintf("blacklisted in modprobe.d (wanted by %s)", reason);
			kd_detect_skip(r, what, why);
			free(what);
			free(why);
			continue;
		}
		if (root && kd_module_blacklisted(r->ctx, l.insts[i]->mod))
			KD_WARN(kd_ctx_log(r->ctx), "%s is blacklisted in modprobe.d but the root needs it (%s): "
				"it stays in the image", m->name, reason);
		kd_detect_add(r, m->name, reason, builtin, root);
		found++;
	}
	kd_lookup_free(&l);
	return found;
}

bool kd_detect_bound_driver(struct kd_detector *r, const char *dev, char *name, size_t size)
{
	static const char *const links[] = { "driver/module", "driver" };
	char target[PATH_MAX];
	ssize_t n = -1;
	const char *base;

	for (size_t i = 0; i < 2 && n <= 0; i++) {
		char *p = kd_xasprintf("%s%s/%s", r->sysroot, dev, links[i]);

		n = readlink(p, target, sizeof(target) - 1);
		free(p);
	}
	if (n <= 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	kd_modname_normalize(base ? base + 1 : target, name, size);
	return true;
}

/*
 * A device no alias of the target matches.  Built-in drivers' device tables
 * are not in modules.builtin.modinfo (Debian's 6.1 and 6.12 list only
 * MODULE_ALIAS lines), so a driver the target builds in cannot be found by
 * its modalias.  The running kernel's bound driver names a candidate, and
 * the target's modules.builtin decides: built in there, nothing to add.
 */
bool kd_detect_builtin_fallback(struct kd_detector *r, const char *dev, const char *reason,
				bool root)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	char name[256], *why;
	int mod;

	if (!kd_detect_bound_driver(r, dev, name, sizeof(name)))
		return false;
	mod = kd_module_find(r->ctx, name);
	if (mod < 0 || !kd_db_mod(db, mod)->builtin)
		return false;
	why = kd_xasprintf("%s (no alias of %s matches; the running kernel's driver %s is "
			   "built into %s)", reason, kd_ctx_kver(r->ctx), name, kd_ctx_kver(r->ctx));
	kd_detect_add(r, name, why, true, root);
	free(why);
	return true;
}

/* ---- the result ---------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kd_detect_item *)a)->module,
		      ((const struct kd_detect_item *)b)->module);
}

static int skip_cmp(const void *pa, const void *pb)
{
	const struct kd_detect_skip *a = pa, *b = pb;
	int c = strcmp(a->what, b->what);

	return c ? c : strcmp(a->why, b->why);
}

void kd_detect_finish(struct kd_detector *r)
{
	struct kd_detect *d = r->out;

	d->items = r->items.v;
	d->n_items = r->items.n;
	d->skips = r->skips.v;
	d->n_skips = r->skips.n;
	r->items.v = r->skips.v = NULL; /* d owns the arrays now */
	r->items.n = r->skips.n = 0;
	kd_olist_free(&r->items);
	kd_olist_free(&r->skips);
	if (d->n_items > 1)
		qsort(d->items, d->n_items, sizeof(*d->items), item_cmp);
	if (d->n_skips > 1)
		qsort(d->skips, d->n_skips, sizeof(*d->skips), skip_cmp);
}

void kd_detect_free(struct kd_detect *d)
{
	for (size_t i = 0; i < d->n_items; i++) {
		free(d->items[i].module);
		free(d->items[i].reason);
	}
	for (size_t i = 0; i < d->n_skips; i++) {
		free(d->skips[i].what);
		free(d->skips[i].why);
	}
	free(d->items);
	free(d->skips);
	free(d->root_spec);
	free(d->root_fstype);
	free(d->root_source);
	memset(d, 0, sizeof(*d));
}

void kd_detect_format(const struct kd_detect *d, struct kd_str *out)
{
	kd_str_printf(out, "root %s %s %s\n", d->root_source ? d->root_source : "-",
		      d->root_fstype ? d->root_fstype : "-", d->root_spec ? d->root_spec : "-");
	for (size_t i = 0; i < d->n_items; i++)
		kd_str_printf(out, "%s %s: %s\n", d->items[i].builtin ? "builtin" : "module",
			      d->items[i].module, d->items[i].reason);
	for (size_t i = 0; i < d->n_skips; i++)
		kd_str_printf(out, "skip %s: %s\n", d->skips[i].what, d->skips[i].why);
}
