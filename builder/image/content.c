// SPDX-License-Identifier: MIT
/*
 * What the image holds: the init, the plan's modules (decompressed, bytes
 * otherwise unchanged so signatures stay valid), their firmware, the
 * modprobe.d options and blacklists that concern them, depmod's text files
 * filtered to the image's modules (so a rescue shell's modprobe works) and
 * the load plan.  Layout:
 *
 *   /init                                    the static init
 *   /bin /lib /sbin -> usr/bin usr/lib usr/sbin
 *   /dev/console /proc /sys /run /root /tmp  what the kernel and init need
 *   /etc/kindling/plan                       the load plan (common/plan.h)
 *   /etc/modprobe.d/kindling.conf            options, blacklists, aliases
 *   /usr/lib/modules/KVER/...                modules and modules.* files
 *   /usr/lib/firmware/...                    firmware the modules name
 *   what the image hooks add (hooks.c)       programs, libraries, stage scripts
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "common/plan.h"
#include "plan/plan.h"

#define NAME_MAX_LEN 256

struct content {
	struct kd_ctx *ctx;
	const struct kd_plan *plan;
	const struct kd_image_opts *o;
	struct kd_entries *e;
	struct kd_image_stats *st;
	struct kd_map in_image;  /* module name -> plan index */
	char *modroot;           /* "usr/lib/modules/KVER" */
};

/* An owned text file; the text is taken (freed on failure too). */
static int add_text(struct content *c, const char *path, struct kd_str *text)
{
	size_t n = text->len;
	char *s = kd_str_take(text);
	int err = kd_entries_add(c->e, path, S_IFREG | 0644, s, n, s);
	if (err == -EEXIST)
		KD_ERR(kd_ctx_log(c->ctx), "image: %s is written twice", path);
	return err;
}

static int add_under_modroot(struct content *c, const char *name, struct kd_str *text)
{
	char *path = kd_xasprintf("%s/%s", c->modroot, name);
	int err = add_text(c, path, text);

	free(path);
	return err;
}

/* ---- skeleton and init ----------------------------------------------------- */

static int add_skeleton(struct content *c)
{
	static const struct { const char *path; uint32_t mode; } dirs[] = {
		{ "dev", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "run", 0755 },
		{ "root", 0700 }, { "tmp", 01777 }, { "etc", 0755 }, { "usr", 0755 },
		{ "usr/bin", 0755 }, { "usr/sbin", 0755 }, { "usr/lib", 0755 },
	};
	static const char *const links[][2] = {
		{ "bin", "usr/bin" }, { "lib", "usr/lib" }, { "sbin", "usr/sbin" },
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		err = kd_entries_add(c->e, dirs[i].path, S_IFDIR | dirs[i].mode, NULL, 0,
				     NULL);
		if (err < 0)
			return err;
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char *t = kd_xstrdup(links[i][1]);

		err = kd_entries_add(c->e, links[i][0], S_IFLNK | 0777, t, strlen(t), t);
		if (err < 0)
			return err;
	}
	/* the kernel opens /dev/console for PID 1 before any devtmpfs exists */
	return kd_entries_add_dev(c->e, "dev/console", S_IFCHR | 0600, 5, 1);
}

static int add_init(struct content *c)
{
	static const unsigned char elf[4] = { 0x7f, 'E', 'L', 'F' };
	struct kd_buf b;
	struct stat sb;
	int err;

	if (c->o->init == NULL || stat(c->o->init, &sb) < 0) {
		KD_ERR(kd_ctx_log(c->ctx), "%s: no init binary there (build it with make, or give --init "
		       "PATH)", c->o->init ? c->o->init : "(none)");
		return -ENOENT;
	}
	err = kd_read_file(kd_ctx_log(c->ctx), c->o->init, &b);
	if (err < 0)
		return err;
	if (b.size < 4 || memcmp(b.data, elf, 4) != 0 || !(sb.st_mode & S_IXUSR)) {
		KD_ERR(kd_ctx_log(c->ctx), "%s: not an executable ELF file: the kernel could not run it as "
		       "/init", c->o->init);
		kd_buf_free(&b);
		return -ENOEXEC;
	}
	return kd_entries_add(c->e, "init", S_IFREG | 0755, b.data, b.size, b.data);
}

/* ---- modules ---------------------------------------------------------------- */

/* "kernel/fs/ext4/ext4.ko": the module's path in the image below modroot. */
static char *rel_path(struct content *c, uint32_t mod)
{
	char *full = kd_plan_module_path(c->ctx, mod);
	size_t skip = strlen(c->modroot) + 2; /* "/" + modroot + "/" */
	char *rel;

	if (full == NULL)
		return NULL;
	rel = kd_xstrdup(full + skip);
	free(full);
	return rel;
}

static int add_modules(struct content *c)
{
	const struct kd_plan *p = c->plan;
	uint32_t *mods = kd_xreallocarray(NULL, p->n, sizeof(*mods));
	size_t i;
	int err;

	for (i = 0; i < p->n; i++)
		mods[i] = p->mods[i].mod;
	err = kd_modcache_load(c->o->cache, mods, p->n);
	free(mods);
	if (err < 0)
		return err;
	for (i = 0; i < p->n; i++) {
		const struct kd_buf *b = kd_modcache_get(c->o->cache, p->mods[i].mod);
		char *path = kd_plan_module_path(c->ctx, p->mods[i].mod);

		err = -EIO;
		if (b && path)
			err = kd_entries_add(c->e, path + 1, S_IFREG | 0644, b->data, b->size,
					     NULL);
		if (err == -EEXIST)
			KD_ERR(kd_ctx_log(c->ctx), "image: two modules at %s", path);
		free(path);
		if (err < 0)
			return err;
	}
	c->st->n_modules = p->n;
	return 0;
}

/* ---- firmware ------------------------------------------------------------- */

static bool fw_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '/')
		return false;
	for (const char *p = name; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == name || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

/* The kernel's search order (fw_path), under the build root; plain files
 * first, then the compressed ones a kernel may load. */
static int find_firmware(struct content *c, const char *name, struct kd_str *found,
			 struct kd_str *dest)
{
	const char *kver = kd_ctx_kver(c->ctx);
	static const char *const sfx[] = { "", ".zst", ".xz" };
	struct kd_str dir = { 0 };
	struct stat sb;

	for (int d = 0; d < 4; d++) {
		dir.len = 0;
		if (d == 0)
			kd_str_printf(&dir, "lib/firmware/updates/%s", kver);
		else if (d == 1)
			kd_str_addz(&dir, "lib/firmware/updates");
		else if (d == 2)
			kd_str_printf(&dir, "lib/firmware/%s", kver);
		else
			kd_str_addz(&dir, "lib/firmware");
		for (int s = 0; s < 3; s++) {
			found->len = 0;
			kd_str_printf(found, "%s/%s/%s%s", kd_ctx_root(c->ctx), dir.s, name, sfx[s]);
			if (stat(found->s, &sb) == 0 && S_ISREG(sb.st_mode)) {
				kd_str_printf(dest, "usr/%s/%s%s", dir.s, name, sfx[s]);
				kd_str_free(&dir);
				return 0;
			}
		}
	}
	kd_str_free(&dir);
	return -ENOENT;
}

static int add_one_firmware(struct content *c, const char *mod, const char *name)
{
	struct kd_str src = { 0 }, dest = { 0 };
	struct kd_buf b;
	int err;

	if (!fw_name_ok(name)) {
		KD_WARN(kd_ctx_log(c->ctx), "module %s names firmware '%s': not a relative path, skipped",
			mod, name);
		return 0;
	}
	err = find_firmware(c, name, &src, &dest);
	if (err == -ENOENT) {
		KD_INFO(kd_ctx_log(c->ctx), "module %s: firmware %s not found under %s/lib/firmware", mod,
			name, kd_ctx_root(c->ctx));
		err = 0;
		goto out;
	}
	if (kd_entries_get(c->e, dest.s))
		goto out; /* another module's */
	err = kd_read_file(kd_ctx_log(c->ctx), src.s, &b);
	if (err < 0)
		goto out;
	err = kd_entries_add(c->e, dest.s, S_IFREG | 0644, b.data, b.size, b.data);
	if (err == 0)
		c->st->n_firmware++;
out:
	kd_str_free(&src);
	kd_str_free(&dest);
	return err;
}

static int add_firmware(struct content *c)
{
	for (size_t i = 0; i < c->plan->n; i++) {
		uint32_t mod = c->plan->mods[i].mod;
		const struct kd_buf *b = kd_modcache_get(c->o->cache, mod);
		const char *name = kd_db_mod(kd_ctx_db(c->ctx), mod)->name, *fw;
		struct kd_modinfo mi = { 0 };
		size_t it = 0;
		int err;

		if (b == NULL)
			return -EIO;
		err = kd_elf_modinfo(c->ctx, name, b->data, b->size, &mi);
		while (err == 0 && (fw = kd_modinfo_next(&mi, "firmware", &it)) != NULL)
			err = add_one_firmware(c, name, fw);
		kd_modinfo_free(&mi);
		if (err < 0)
			return err;
	}
	return 0;
}

/* ---- modprobe.d and depmod's files ------------------------------------------ */

static bool in_image(struct content *c, const char *name)
{
	return kd_map_get(&c->in_image, name, NULL);
}

static int add_modprobe_conf(struct content *c)
{
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	struct kd_str s = { 0 };
	char name[NAME_MAX_LEN];
	size_t i;

	kd_str_addz(&s, "# Written by kindling: options, blacklists and aliases of the "
		    "modules in this image.\n");
	for (i = 0; i < c->plan->n; i++) {
		const struct kd_plan_mod *m = &c->plan->mods[i];
		const char *mname = kd_db_mod(kd_ctx_db(c->ctx), m->mod)->name;

		if (m->options[0])
			kd_str_printf(&s, "options %s %s\n", mname, m->options);
		if (m->flags & KP_MOD_BLACKLISTED)
			kd_str_printf(&s, "blacklist %s\n", mname);
	}
	for (i = 0; i < cf->n_aliases; i++) {
		kd_modname_normalize(cf->aliases[i].modname, name, sizeof(name));
		if (in_image(c, name))
			kd_str_printf(&s, "alias %s %s\n", cf->aliases[i].pattern, name);
	}
	return add_text(c, "etc/modprobe.d/kindling.conf", &s);
}

struct by_order {
	int order;
	const char *name;
	uint32_t mod;
};

static int order_cmp(const void *a, const void *b)
{
	const struct by_order *x = a, *y = b;

	/* modules.order's position first, modules it does not list after */
	if ((x->order < 0) != (y->order < 0))
		return x->order < 0 ? 1 : -1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The image's modules in modules.order's order: depmod writes that way. */
static struct by_order *modules_by_order(struct content *c)
{
	struct by_order *v = kd_xcalloc(c->plan->n, sizeof(*v));

	for (size_t i = 0; i < c->plan->n; i++) {
		const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), c->plan->mods[i].mod);

		v[i].order = m->order;
		v[i].name = m->name;
		v[i].mod = c->plan->mods[i].mod;
	}
	qsort(v, c->plan->n, sizeof(*v), order_cmp);
	return v;
}

static int add_dep_and_order(struct content *c)
{
	struct by_order *v = modules_by_order(c);
	struct kd_str dep = { 0 }, order = { 0 };
	int err;

	for (size_t i = 0; i < c->plan->n; i++) {
		const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), v[i].mod);
		char *rel = rel_path(c, v[i].mod);

		kd_str_printf(&dep, "%s:", rel);
		kd_str_printf(&order, "%s\n", rel);
		free(rel);
		for (size_t j = 0; j < m->n_deps; j++) {
			rel = rel_path(c, m->deps[j]);
			kd_str_printf(&dep, " %s", rel);
			free(rel);
		}
		kd_str_add(&dep, "\n", 1);
	}
	free(v);
	err = add_under_modroot(c, "modules.dep", &dep); /* takes dep */
	if (err >= 0)
		return add_under_modroot(c, "modules.order", &order); /* takes order */
	kd_str_free(&order);
	return err;
}

static int add_alias_file(struct content *c)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);
	struct kd_str s = { 0 };

	kd_str_addz(&s, "# Aliases extracted from modules themselves.\n");
	for (size_t i = 0; i < db->n_aliases; i++) {
		const char *name = kd_db_mod(db, db->aliases[i].module)->name;

		if (in_image(c, name))
			kd_str_printf(&s, "alias %s %s\n", db->aliases[i].pattern, name);
	}
	return add_under_modroot(c, "modules.alias", &s);
}

/* Softdep names that resolve to a module of the image. */
static void add_names(struct content *c, struct kd_str *s, const char *label, char **names,
		      size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct kd_lookup l;
		bool hit = false;

		if (kd_lookup(c->ctx, names[i], &l) < 0)
			continue;
		for (size_t j = 0; j < l.n && !hit; j++)
			hit = in_image(c, kd_db_mod(kd_ctx_db(c->ctx), l.insts[j]->mod)->name);
		kd_lookup_free(&l);
		if (!hit)
			continue;
		if (!any && label)
			kd_str_printf(s, " %s", label);
		any = true;
		kd_str_printf(s, " %s", names[i]);
	}
}

static bool matches_image(struct content *c, const char *pattern)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);

	for (size_t i = 0; i < c->plan->n; i++)
		if (fnmatch(pattern, kd_db_mod(db, c->plan->mods[i].mod)->name, 0) == 0)
			return true;
	return false;
}

/* "KEYWORD PATTERN [l1] names... [l2] names...\n" when any name is in the
 * image; nothing otherwise. */
static void dep_line(struct content *c, struct kd_str *s, const char *kw, const char *pattern,
		     const char *l1, char **n1, size_t c1,
		     const char *l2, char **n2, size_t c2)
{
	size_t start = s->len, head;

	if (!matches_image(c, pattern))
		return;
	kd_str_printf(s, "%s %s", kw, pattern);
	head = s->len;
	add_names(c, s, l1, n1, c1);
	add_names(c, s, l2, n2, c2);
	if (s->len == head) {
		s->len = start;
		s->s[start] = '\0';
	} else {
		kd_str_add(s, "\n", 1);
	}
}

/* modules.softdep (and .weakdep): the lines about the image's modules. */
static int add_softdep_files(struct content *c)
{
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	struct kd_str sd = { 0 }, wd = { 0 };
	size_t i;
	int err;

	kd_str_addz(&sd, "# Soft dependencies extracted from modules themselves.\n");
	for (i = 0; i < cf->n_softdeps; i++) {
		const struct kd_conf_softdep *d = &cf->softdeps[i];

		dep_line(c, &sd, "softdep", d->modname, "pre:", d->pre, d->n_pre, "post:",
			 d->post, d->n_post);
	}
	for (i = 0; i < cf->n_weakdeps; i++) {
		const struct kd_conf_weakdep *d = &cf->weakdeps[i];

		dep_line(c, &wd, "weakdep", d->modname, NULL, d->deps, d->n_deps,
			 NULL, NULL, 0);
	}
	err = add_under_modroot(c, "modules.softdep", &sd); /* takes sd */
	if (err == 0 && wd.len > 0)
		err = add_under_modroot(c, "modules.weakdep", &wd);
	kd_str_free(&wd);
	return err;
}

/* modules.builtin as the kernel installed it: every built-in is relevant. */
static int add_builtin_file(struct content *c)
{
	char *src = kd_path_join(kd_ctx_moddir(c->ctx), "modules.builtin");
	struct kd_str s = { 0 };
	struct kd_buf b;
	int err = kd_read_file(kd_ctx_log(c->ctx), src, &b);

	free(src);
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	kd_str_add(&s, (const char *)b.data, b.size);
	kd_buf_free(&b);
	return add_under_modroot(c, "modules.builtin", &s);
}

static int add_plan(struct content *c)
{
	struct kd_buf b;
	int err = kd_plan_serialize(c->ctx, c->plan, &b);

	if (err < 0)
		return err;
	return kd_entries_add(c->e, KP_PLAN_PATH + 1, S_IFREG | 0644, b.data, b.size, b.data);
}

/* after the skeleton: the hooks resolve their paths through its links */
static int add_hooks(struct content *c)
{
	return c->o->hooks ? kd_hooks_content(c->o->hooks, c->e) : 0;
}

/* what host-only detection left out, for kindling explain */
static int add_detect_text(struct content *c)
{
	const char *t = c->o->detect_text;

	return t ? kd_entries_add(c->e, "etc/kindling/detect.txt", S_IFREG | 0644, t,
				  strlen(t), NULL) : 0;
}

int kd_image_content(struct kd_ctx *ctx, const struct kd_plan *plan,
		     const struct kd_image_opts *o, struct kd_entries *out,
		     struct kd_image_stats *st)
{
	static int (*const steps[])(struct content *c) = {
		add_skeleton, add_init, add_hooks, add_detect_text, add_modules,
		add_firmware, add_modprobe_conf, add_dep_and_order, add_alias_file,
		add_softdep_files, add_builtin_file, add_plan,
	};
	struct content c = { .ctx = ctx, .plan = plan, .o = o, .e = out, .st = st };
	int err = 0;

	c.modroot = kd_xasprintf("usr/lib/modules/%s", kd_ctx_kver(ctx));
	for (size_t i = 0; i < plan->n; i++)
		kd_map_put(&c.in_image, kd_db_mod(kd_ctx_db(ctx), plan->mods[i].mod)->name,
			   (uint32_t)i);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && err == 0; i++)
		err = steps[i](&c);
	kd_map_free(&c.in_image);
	free(c.modroot);
	return err;
}
