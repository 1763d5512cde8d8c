// SPDX-License-Identifier: MIT
/*
 * The load plan's outside forms: common/plan.h's binary format (what the
 * init reads), the --print-plan listing, and where modules live in the
 * image.  The format is laid out in one pass: header, module records,
 * dependency indices, aliases, built-ins, then the string table, every
 * string stored once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "common/plan.h"

/* ---- paths and text ------------------------------------------------------ */

char *kd_plan_module_path(struct kd_ctx *ctx, uint32_t mod)
{
	const char *path = kd_db_mod(kd_ctx_db(ctx), mod)->path, *moddir = kd_ctx_moddir(ctx);
	struct kd_str s = { 0 };
	char *full;
	size_t n, k;

	if (path == NULL)
		return NULL;
	/* depmod writes paths relative to the module dir; others go to extra/ */
	if (path[0] == '/') {
		size_t ml = strlen(moddir);
		const char *base = strrchr(path, '/') + 1;

		if (strncmp(path, moddir, ml) == 0 && path[ml] == '/') {
			path += ml + 1;
		} else {
			kd_str_addz(&s, "extra/");
			path = base;
		}
	}
	kd_str_addz(&s, path);
	n = s.len;
	for (const char *sfx = ".xz\0.zst\0.gz\0"; *sfx; sfx += k + 1) {
		k = strlen(sfx);
		if (n > k + 3 && strcmp(s.s + n - k, sfx) == 0 &&
		    strncmp(s.s + n - k - 3, ".ko", 3) == 0) {
			s.s[n - k] = '\0';
			break;
		}
	}
	full = kd_xasprintf("/usr/lib/modules/%s/%s", kd_ctx_kver(ctx), s.s);
	kd_str_free(&s);
	return full;
}

static void print_list(struct kd_ctx *ctx, const struct kd_plan *p, const char *label,
		       const uint32_t *v, size_t n, FILE *f)
{
	if (n == 0)
		return;
	fprintf(f, "\t%s:", label);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s", kd_db_mod(kd_ctx_db(ctx), p->mods[v[i]].mod)->name);
	fputc('\n', f);
}

void kd_plan_print(struct kd_ctx *ctx, const struct kd_plan *p, FILE *f)
{
	fprintf(f, "# kindling load plan for kernel %s: %zu modules, %zu aliases, "
		"%zu built-in modules\n", p->kver, p->n, p->n_aliases, p->n_builtins);
	if (p->default_root[0])
		fprintf(f, "# default root: %s\n", p->default_root);
	if (p->cmdline && p->cmdline[0])
		fprintf(f, "# default cmdline: %s\n", p->cmdline);
	if (p->root_timeout)
		fprintf(f, "# root timeout: %u s\n", p->root_timeout);
	for (size_t i = 0; i < p->n; i++) {
		const struct kd_plan_mod *m = &p->mods[i];
		char *path = kd_plan_module_path(ctx, m->mod);

		fprintf(f, "%s %s%s%s%s (%s)\n", kd_db_mod(kd_ctx_db(ctx), m->mod)->name,
			path ? path : "?", m->flags & KP_MOD_LOAD ? " load" : "",
			m->flags & KP_MOD_FILESYSTEM ? " filesystem" : "",
			m->flags & KP_MOD_BLACKLISTED ? " blacklisted" : "", m->reason);
		free(path);
		print_list(ctx, p, "before", m->before, m->n_before, f);
		print_list(ctx, p, "after", m->after, m->n_after, f);
		if (m->options[0])
			fprintf(f, "\toptions: %s\n", m->options);
	}
}

/* ---- serialisation (common/plan.h) --------------------------------------- */

/* The string table: every string once, offset 0 the empty string. */
struct strtab {
	struct kd_str s;
	struct kd_map index;
	bool too_big; /* past what 32-bit offsets can address */
};

static uint32_t str_off(struct strtab *t, const char *str)
{
	uint32_t off;

	if (str == NULL || str[0] == '\0')
		return 0;
	if (kd_map_get(&t->index, str, &off))
		return off;
	off = (uint32_t)t->s.len;
	if (t->s.len + strlen(str) + 1 > UINT32_MAX / 2) {
		t->too_big = true;
		return 0;
	}
	kd_str_add(&t->s, str, strlen(str) + 1);
	kd_map_put(&t->index, str, off);
	return off;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

struct tables {
	struct kp_module *mods;
	uint32_t *deps, *builtins;
	struct kp_alias *aliases;
	size_t n_deps;
};

static void fill_modules(struct kd_ctx *ctx, const struct kd_plan *p, struct tables *t,
			 struct strtab *st)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct kd_plan_mod *m = &p->mods[i];
		struct kp_module *k = &t->mods[i];
		char *path = kd_plan_module_path(ctx, m->mod);

		k->name = str_off(st, kd_db_mod(kd_ctx_db(ctx), m->mod)->name);
		k->path = str_off(st, path);
		k->options = str_off(st, m->options);
		k->reason = str_off(st, m->reason);
		k->flags = m->flags;
		k->deps_first = (uint32_t)t->n_deps;
		k->n_deps = (uint32_t)m->n_before;
		for (size_t j = 0; j < m->n_before; j++)
			t->deps[t->n_deps++] = m->before[j];
		k->post_first = (uint32_t)t->n_deps;
		k->n_post = (uint32_t)m->n_after;
		for (size_t j = 0; j < m->n_after; j++)
			t->deps[t->n_deps++] = m->after[j];
		free(path);
	}
}

static void fill_tables(struct kd_ctx *ctx, const struct kd_plan *p, struct tables *t,
			struct strtab *st)
{
	size_t n_deps = 0, i;

	for (i = 0; i < p->n; i++)
		n_deps += p->mods[i].n_before + p->mods[i].n_after;
	t->mods = kd_xcalloc(p->n + 1, sizeof(*t->mods));
	t->deps = kd_xcalloc(n_deps + 1, sizeof(*t->deps));
	t->aliases = kd_xcalloc(p->n_aliases + 1, sizeof(*t->aliases));
	t->builtins = kd_xcalloc(p->n_builtins + 1, sizeof(*t->builtins));
	kd_str_add(&st->s, "", 1); /* offset 0: "" */
	fill_modules(ctx, p, t, st);
	for (i = 0; i < p->n_aliases; i++) {
		t->aliases[i].pattern = str_off(st, p->aliases[i].pattern);
		t->aliases[i].module = p->aliases[i].mod;
	}
	for (i = 0; i < p->n_builtins; i++)
		t->builtins[i] = str_off(st, p->builtins[i]);
}

static void put(unsigned char *buf, size_t *off, const void *src, size_t n)
{
	memcpy(buf + *off, src, n);
	*off = align4(*off + n);
}

int kd_plan_serialize(struct kd_ctx *ctx, const struct kd_plan *p, struct kd_buf *out)
{
	struct tables t = { 0 };
	struct strtab st = { 0 };
	struct kp_header h = { 0 };
	size_t off = 0, total;
	int err = 0;

	out->data = NULL;
	out->size = 0;
	fill_tables(ctx, p, &t, &st);
	memcpy(h.magic, KP_MAGIC, KP_MAGIC_LEN);
	h.version = KP_VERSION;
	h.header_size = sizeof(h);
	h.flags = p->flags;
	h.kver = str_off(&st, p->kver);
	h.default_root = str_off(&st, p->default_root);
	h.cmdline = str_off(&st, p->cmdline);
	h.root_timeout = p->root_timeout;
	h.n_modules = (uint32_t)p->n;
	h.modules_off = (uint32_t)align4(sizeof(h));
	h.n_deps = (uint32_t)t.n_deps;
	h.deps_off = (uint32_t)(h.modules_off + p->n * sizeof(struct kp_module));
	h.n_aliases = (uint32_t)p->n_aliases;
	h.aliases_off = (uint32_t)(h.deps_off + t.n_deps * sizeof(uint32_t));
	h.n_builtins = (uint32_t)p->n_builtins;
	h.builtins_off = (uint32_t)(h.aliases_off + p->n_aliases * sizeof(struct kp_alias));
	h.strings_off = (uint32_t)(h.builtins_off + p->n_builtins * sizeof(uint32_t));
	h.strings_size = (uint32_t)st.s.len;
	total = (size_t)h.strings_off + st.s.len;
	if (st.too_big || total > UINT32_MAX) {
		err = -EFBIG;
		goto out;
	}
	h.file_size = (uint32_t)total;
	out->data = kd_xcalloc(1, total + 1);
	put(out->data, &off, &h, sizeof(h));
	put(out->data, &off, t.mods, p->n * sizeof(*t.mods));
	put(out->data, &off, t.deps, t.n_deps * sizeof(*t.deps));
	put(out->data, &off, t.aliases, p->n_aliases * sizeof(*t.aliases));
	put(out->data, &off, t.builtins, p->n_builtins * sizeof(*t.builtins));
	memcpy(out->data + h.strings_off, st.s.s, st.s.len);
	out->size = total;
out:
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "cannot write the load plan: %s", strerror(-err));
	free(t.mods);
	free(t.deps);
	free(t.aliases);
	free(t.builtins);
	kd_str_free(&st.s);
	kd_map_free(&st.index);
	return err;
}
