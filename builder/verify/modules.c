// SPDX-License-Identifier: MIT
/*
 * The image's modules against the target kernel's database: each one's
 * file is in the image, its modules.dep dependencies are in the image or
 * built in, its undefined symbols are exported by the kernel or a module in
 * the image, and the firmware it names is in the image.  Symbols and
 * firmware are read from the image's own module bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "verify/internal.h"
#include "codec/codec.h"
#include "common/plan.h"

static const char *mod_path(const struct check *c, uint32_t i)
{
	return kp_str(c->p, c->p->modules[i].path);
}

static const struct kd_cpio_entry *module_entry(struct check *c, uint32_t i)
{
	const struct kd_cpio_entry *e = kd_imgfiles_get(&c->f, mod_path(c, i));

	return e && S_ISREG(e->mode) ? e : NULL;
}

/* The module's bytes as stored in the image, decompressed if stored so. */
static int module_bytes(struct check *c, uint32_t i, struct kd_buf *out)
{
	const struct kd_cpio_entry *e = module_entry(c, i);

	out->data = NULL;
	out->size = 0;
	if (e == NULL)
		return -ENOENT; /* reported by kd_check_deps */
	return kd_module_decode(kd_ctx_log(c->ctx), mod_path(c, i), e->data, e->size, out);
}

void kd_check_deps(struct check *c)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);
	unsigned before = c->n.problems, n_deps = 0;

	for (uint32_t i = 0; i < c->p->hdr->n_modules; i++) {
		const char *name = kd_check_mod_name(c, i);
		int m = kd_module_find(c->ctx, name);

		if (module_entry(c, i) == NULL)
			kd_check_problem(c, "module %s: its file %s is not in the image", name,
					 mod_path(c, i));
		if (m < 0 || !kd_db_mod(db, m)->in_dep) {
			kd_check_problem(c, "module %s: not in kernel %s's modules.dep (the image "
					 "was built from another module tree?)", name, c->kver);
			continue;
		}
		for (size_t d = 0; d < kd_db_mod(db, m)->n_deps; d++) {
			const struct kd_module *dep = kd_db_mod(db, kd_db_mod(db, m)->deps[d]);

			n_deps++;
			if (kd_map_get(&c->in_image, dep->name, NULL) || dep->builtin)
				continue;
			kd_check_problem(c, "module %s needs module %s (modules.dep of %s), which "
					 "is not in the image", name, dep->name, c->kver);
		}
	}
	if (c->n.problems == before)
		kd_check_ok(c, "dependencies: %u modules, %u dependencies, all in the image or "
			    "built in", c->p->hdr->n_modules, n_deps);
}

/* The module of the target kernel that exports sym (modules.symbols), or NULL. */
static const char *symbol_owner(struct check *c, const char *sym)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);

	for (size_t i = 0; i < db->n_symbols; i++) {
		const char *pat = db->symbols[i].pattern;

		if (strncmp(pat, "symbol:", 7) == 0 && strcmp(pat + 7, sym) == 0)
			return kd_db_mod(db, db->symbols[i].module)->name;
	}
	return NULL;
}

/* Every module's symbols; exported: symbol -> the plan module exporting it. */
static void read_symbols(struct check *c, struct kd_symbols *syms, struct kd_map *exported)
{
	for (uint32_t i = 0; i < c->p->hdr->n_modules; i++) {
		struct kd_buf b;

		if (module_bytes(c, i, &b) < 0)
			continue; /* reported */
		if (kd_elf_symbols(c->ctx, mod_path(c, i), b.data, b.size, &syms[i]) < 0)
			kd_check_problem(c, "module %s: cannot read its symbols (see the message "
					 "above)", kd_check_mod_name(c, i));
		kd_buf_free(&b);
		for (size_t s = 0; s < syms[i].n_exported; s++)
			kd_map_put(exported, syms[i].exported[s], i);
	}
}

static void judge_symbols(struct check *c, const struct kd_symbols *syms,
			  const struct kd_map *exported, const struct kd_ksyms *ks)
{
	uint32_t n = c->p->hdr->n_modules;
	unsigned before = c->n.problems;
	size_t n_und = 0;

	for (uint32_t i = 0; i < n; i++) {
		for (size_t s = 0; s < syms[i].n_undefined; s++) {
			const char *sym = syms[i].undefined[s], *owner;

			n_und++;
			if (kd_ksyms_has(ks, sym) || kd_map_get(exported, sym, NULL))
				continue;
			owner = symbol_owner(c, sym);
			if (owner)
				kd_check_problem(c, "module %s needs symbol %s, exported by module "
						 "%s, which is not in the image",
						 kd_check_mod_name(c, i), sym, owner);
			else
				kd_check_problem(c, "module %s needs symbol %s, which neither kernel "
						 "%s (%s) nor any module exports",
						 kd_check_mod_name(c, i), sym, c->kver, ks->source);
		}
	}
	if (c->n.problems == before)
		kd_check_ok(c, "symbols: %zu undefined symbols of %u modules, all exported by the "
			    "kernel (%s, %zu symbols) or a module in the image", n_und, n,
			    ks->source, ks->n);
}

void kd_check_symbols(struct check *c)
{
	uint32_t n = c->p->hdr->n_modules;
	struct kd_symbols *syms = kd_xcalloc(n, sizeof(*syms));
	struct kd_map exported = { 0 };
	struct kd_ksyms ks;
	bool have_ks;

	have_ks = kd_ksyms_load(c->ctx, c->root, c->kver, &ks) == 0;
	if (!have_ks)
		kd_check_problem(c, "symbols: no list of kernel %s's exported symbols (see the "
				 "message above): undefined symbols not checked", c->kver);
	read_symbols(c, syms, &exported);
	if (have_ks) {
		judge_symbols(c, syms, &exported, &ks);
		kd_ksyms_free(&ks);
	}
	for (uint32_t i = 0; i < n; i++)
		kd_symbols_free(&syms[i]);
	free(syms);
	kd_map_free(&exported);
}

/* Where the kernel's firmware loader looks, under usr/lib and lib. */
static bool firmware_present(struct check *c, const char *name)
{
	static const char *const sfx[] = { "", ".zst", ".xz" };
	static const char *const pre[] = { "usr/lib", "lib" };
	struct kd_str p = { 0 };
	bool found = false;

	for (int r = 0; r < 2 && !found; r++) {
		for (int d = 0; d < 4 && !found; d++) {
			for (int s = 0; s < 3 && !found; s++) {
				p.len = 0;
				if (d == 0)
					kd_str_printf(&p, "%s/firmware/updates/%s/%s%s", pre[r],
						      c->kver, name, sfx[s]);
				else if (d == 1)
					kd_str_printf(&p, "%s/firmware/updates/%s%s", pre[r], name,
						      sfx[s]);
				else if (d == 2)
					kd_str_printf(&p, "%s/firmware/%s/%s%s", pre[r], c->kver,
						      name, sfx[s]);
				else
					kd_str_printf(&p, "%s/firmware/%s%s", pre[r], name, sfx[s]);
				found = kd_imgfiles_get(&c->f, p.s) != NULL;
			}
		}
	}
	kd_str_free(&p);
	return found;
}

/* The firmware module i names that is not in the image, ", "-separated;
 * counts every file named and every one missing. */
static int missing_firmware(struct check *c, uint32_t i, struct kd_str *miss, unsigned *n_fw,
			    unsigned *n_missing)
{
	struct kd_modinfo mi = { 0 };
	const char *fw, *name = kd_check_mod_name(c, i);
	size_t it = 0;
	struct kd_buf b;

	if (module_bytes(c, i, &b) < 0)
		return -ENOENT;
	if (kd_elf_modinfo(c->ctx, name, b.data, b.size, &mi) < 0) {
		kd_check_problem(c, "module %s: cannot read its .modinfo", name);
		kd_buf_free(&b);
		return -EINVAL;
	}
	while ((fw = kd_modinfo_next(&mi, "firmware", &it)) != NULL) {
		(*n_fw)++;
		if (firmware_present(c, fw))
			continue;
		(*n_missing)++;
		kd_str_printf(miss, "%s%s", miss->len ? ", " : "", fw);
	}
	kd_modinfo_free(&mi);
	kd_buf_free(&b);
	return 0;
}

void kd_check_firmware(struct check *c)
{
	unsigned before = c->n.problems, n_fw = 0, n_missing = 0;

	for (uint32_t i = 0; i < c->p->hdr->n_modules; i++) {
		const char *name = kd_check_mod_name(c, i);
		struct kd_str miss = { 0 };

		if (missing_firmware(c, i, &miss, &n_fw, &n_missing) < 0)
			continue;
		if (miss.len && kd_map_get(&c->root_mods, name, NULL))
			kd_check_problem(c, "module %s (root chain) names firmware not in the "
					 "image: %s", name, miss.s);
		else if (miss.len)
			kd_check_warning(c, "module %s names firmware not in the image: %s", name,
					 miss.s);
		kd_str_free(&miss);
	}
	if (c->n.problems == before)
		kd_check_ok(c, "firmware: %u files named, %u in the image, %u missing (not on "
			    "the root chain)", n_fw, n_fw - n_missing, n_missing);
}
