// SPDX-License-Identifier: MIT
/*
 * The parts of a kernel module's ELF file that depmod and modinfo read,
 * from a decompressed buffer, through libelf:
 *
 *   .modinfo           "key=value" strings separated by NUL bytes (runs of
 *                      NULs are padding between entries)
 *   .symtab, .strtab   undefined symbols (SHN_UNDEF) are what the module
 *                      needs; "__crc_NAME" symbols name what it exports when
 *                      the kernel has CONFIG_MODVERSIONS
 *   __ksymtab_strings  the exported names, read when there is no __crc_
 *   __versions         64-byte records {crc, name}: the CRCs of the symbols
 *                      it needs; names with no undefined symbol
 *                      (module_layout) are needed too
 *
 * Sections are looked up by name, the first match winning, as libkmod does.
 * libelf checks its own structures; every range this file reads itself is
 * checked against the buffer without overflowing first.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "moddb/moddb.h"

#define VERSION_RECORD 64 /* struct modversion_info: crc + name[64 - sizeof(long)] */
#define CRC_PREFIX "__crc_"
#ifndef STT_SPARC_REGISTER
#define STT_SPARC_REGISTER 13
#endif

struct elf_file {
	struct kd_ctx *ctx;
	const char *name;
	const unsigned char *buf;
	size_t n;
	Elf *e;
	GElf_Ehdr ehdr;
	size_t shnum;
	const char *names; /* section names, NUL-terminated */
	size_t names_size;
};

struct elf_section {
	Elf_Scn *scn;
	const char *data;
	size_t size;
};

/* libelf wants its version declared once per process before any use. */
static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static bool elf_ready;

static void elf_init_once(void)
{
	elf_ready = elf_version(EV_CURRENT) != EV_NONE;
}

int kd_elf_init(struct kd_ctx *ctx, const char *name)
{
	pthread_once(&elf_once, elf_init_once);
	if (!elf_ready) {
		KD_ERR(kd_ctx_log(ctx), "%s: libelf refuses to start (version mismatch)", name);
		return -ENOSYS;
	}
	return 0;
}

static bool range_ok(size_t total, uint64_t off, uint64_t size)
{
	return off <= total && size <= total - off;
}

static int check_ident(struct kd_ctx *ctx, const char *name, const unsigned char *buf,
		       size_t n)
{
	size_t ehdr;

	if (n < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: not an ELF file (no ELF magic at its start)", name);
		return -ENOEXEC;
	}
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64) {
		KD_ERR(kd_ctx_log(ctx), "%s: bad ELF class %u (neither 32- nor 64-bit): corrupt file",
		       name, buf[EI_CLASS]);
		return -EINVAL;
	}
	if (buf[EI_DATA] != ELFDATA2LSB && buf[EI_DATA] != ELFDATA2MSB) {
		KD_ERR(kd_ctx_log(ctx), "%s: bad ELF byte order %u: corrupt file", name,
		       buf[EI_DATA]);
		return -EINVAL;
	}
	ehdr = buf[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (n < ehdr) {
		KD_ERR(kd_ctx_log(ctx), "%s: truncated ELF file (%zu bytes, shorter than its header)",
		       name, n);
		return -EINVAL;
	}
	return 0;
}

/* The section header table and the section name table, both in the file. */
static int check_sections(struct elf_file *f)
{
	size_t entsize = gelf_getclass(f->e) == ELFCLASS32 ? sizeof(Elf32_Shdr)
							   : sizeof(Elf64_Shdr);
	size_t strndx, count;
	GElf_Shdr sh;

	if (f->ehdr.e_shoff == 0) {
		KD_ERR(kd_ctx_log(f->ctx), "%s: ELF file has no sections: not a kernel module",
		       f->name);
		return -EINVAL;
	}
	/* the first header holds the real count when e_shnum is 0; libelf
	 * reports 0 sections, not an error, when the table is cut short */
	f->shnum = f->ehdr.e_shnum;
	if (f->ehdr.e_shentsize != entsize || !range_ok(f->n, f->ehdr.e_shoff, entsize) ||
	    (f->shnum == 0 && elf_getshdrnum(f->e, &f->shnum) < 0) ||
	    !range_ok(f->n, f->ehdr.e_shoff, (uint64_t)f->shnum * entsize) ||
	    elf_getshdrnum(f->e, &count) < 0 || count != f->shnum) {
		KD_ERR(kd_ctx_log(f->ctx),
		       "%s: truncated or corrupt ELF file: its %zu section headers "
		       "at offset %llu do not fit in %zu bytes",
		       f->name, f->shnum, (unsigned long long)f->ehdr.e_shoff, f->n);
		return -EINVAL;
	}
	if (f->shnum < 2) {
		KD_ERR(kd_ctx_log(f->ctx), "%s: ELF file has no sections: not a kernel module",
		       f->name);
		return -EINVAL;
	}
	if (elf_getshdrstrndx(f->e, &strndx) < 0 || strndx == 0 || strndx >= f->shnum ||
	    gelf_getshdr(elf_getscn(f->e, strndx), &sh) == NULL ||
	    !range_ok(f->n, sh.sh_offset, sh.sh_size) || sh.sh_size == 0 ||
	    f->buf[sh.sh_offset + sh.sh_size - 1] != '\0') {
		KD_ERR(kd_ctx_log(f->ctx), "%s: corrupt ELF file: no valid section name table",
		       f->name);
		return -EINVAL;
	}
	f->names = (const char *)f->buf + sh.sh_offset;
	f->names_size = sh.sh_size;
	return 0;
}

static int elf_open(struct kd_ctx *ctx, const char *name, const void *buf, size_t n,
		    struct elf_file *f)
{
	int err = check_ident(ctx, name, buf, n);

	if (err < 0)
		return err;
	err = kd_elf_init(ctx, name);
	if (err < 0)
		return err;
	*f = (struct elf_file){ .ctx = ctx, .name = name, .buf = buf, .n = n };
	/* read-only use: libelf does not write to the image unless asked to */
	f->e = elf_memory((char *)(uintptr_t)buf, n);
	if (f->e == NULL || elf_kind(f->e) != ELF_K_ELF ||
	    gelf_getehdr(f->e, &f->ehdr) == NULL) {
		KD_ERR(kd_ctx_log(ctx), "%s: corrupt ELF file: %s", name, elf_errmsg(-1));
		err = -EINVAL;
		goto fail;
	}
	if (f->ehdr.e_type != ET_REL) {
		KD_ERR(kd_ctx_log(ctx),
		       "%s: not a kernel module: ELF type %u, modules are relocatable "
		       "objects (type 1)",
		       name, f->ehdr.e_type);
		err = -ENOEXEC;
		goto fail;
	}
	err = check_sections(f);
	if (err < 0)
		goto fail;
	return 0;
fail:
	elf_end(f->e);
	f->e = NULL;
	return err;
}

static void elf_close(struct elf_file *f)
{
	elf_end(f->e);
	f->e = NULL;
}

/* 0 and *s, -ENOENT when absent, -EINVAL when it lies outside the file. */
static int find_section(struct elf_file *f, const char *want, struct elf_section *s)
{
	for (size_t i = 1; i < f->shnum; i++) {
		Elf_Scn *scn = elf_getscn(f->e, i);
		GElf_Shdr sh;

		if (scn == NULL || gelf_getshdr(scn, &sh) == NULL ||
		    sh.sh_name >= f->names_size)
			continue;
		if (strcmp(f->names + sh.sh_name, want) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS) {
			*s = (struct elf_section){ scn, "", 0 };
			return 0;
		}
		if (!range_ok(f->n, sh.sh_offset, sh.sh_size)) {
			KD_ERR(kd_ctx_log(f->ctx),
			       "%s: truncated or corrupt ELF file: section %s (%llu "
			       "bytes at offset %llu) does not fit in %zu bytes",
			       f->name, want, (unsigned long long)sh.sh_size,
			       (unsigned long long)sh.sh_offset, f->n);
			return -EINVAL;
		}
		*s = (struct elf_section){ scn, (const char *)f->buf + sh.sh_offset,
					   sh.sh_size };
		return 0;
	}
	return -ENOENT;
}

/* ---- string lists: .modinfo, __ksymtab_strings --------------------------- */

/* Calls fn for each non-empty NUL-separated string; the last may be
 * unterminated (its length is then bounded by the section). */
typedef void (*string_fn)(void *data, const char *s, size_t len);

static void each_string(const char *p, size_t size, string_fn fn, void *data)
{
	size_t i = 0;

	while (i < size) {
		const char *end = memchr(p + i, '\0', size - i);
		size_t len = end ? (size_t)(end - (p + i)) : size - i;

		if (len > 0)
			fn(data, p + i, len);
		i += len + 1;
	}
}

struct strlist {
	char **v;
	size_t n, cap;
};

static void strlist_add(struct strlist *l, const char *s, size_t len)
{
	KD_GROW(l->v, l->n, l->cap);
	l->v[l->n++] = kd_xstrndup(s, len);
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void strlist_add_cb(void *data, const char *s, size_t len)
{
	strlist_add(data, s, len);
}

/* ---- .modinfo ------------------------------------------------------------ */

struct modinfo_build {
	struct strlist keys, vals;
};

static void modinfo_add(void *data, const char *s, size_t len)
{
	struct modinfo_build *b = data;
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;

	strlist_add(&b->keys, s, klen);
	if (eq)
		strlist_add(&b->vals, eq + 1, len - klen - 1);
	else
		strlist_add(&b->vals, "", 0);
}

int kd_elf_modinfo(struct kd_ctx *ctx, const char *name, const void *buf, size_t n,
		   struct kd_modinfo *out)
{
	struct modinfo_build b = { 0 };
	struct elf_section s;
	struct elf_file f;
	int err;

	memset(out, 0, sizeof(*out));
	err = elf_open(ctx, name, buf, n, &f);
	if (err < 0)
		return err;
	err = find_section(&f, ".modinfo", &s);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(ctx), "%s: no .modinfo section: not a kernel module", name);
	if (err < 0)
		goto out;
	each_string(s.data, s.size, modinfo_add, &b);
	out->keys = b.keys.v;
	out->vals = b.vals.v;
	out->n = b.keys.n;
out:
	elf_close(&f);
	return err;
}

const char *kd_modinfo_next(const struct kd_modinfo *mi, const char *key, size_t *iter)
{
	for (size_t i = *iter; i < mi->n; i++) {
		if (strcmp(mi->keys[i], key) == 0) {
			*iter = i + 1;
			return mi->vals[i];
		}
	}
	*iter = mi->n;
	return NULL;
}

void kd_modinfo_free(struct kd_modinfo *mi)
{
	for (size_t i = 0; i < mi->n; i++) {
		free(mi->keys[i]);
		free(mi->vals[i]);
	}
	free(mi->keys);
	free(mi->vals);
	memset(mi, 0, sizeof(*mi));
}

/* ---- symbols --------------------------------------------------------------- */

struct symtab {
	Elf_Data *data;
	size_t count;
	const char *strtab;
	size_t strtab_size;
};

static int symtab_sections(struct elf_file *f, struct elf_section *sym,
			   struct elf_section *str)
{
	int err = find_section(f, ".symtab", sym);

	if (err < 0)
		return err;
	return find_section(f, ".strtab", str);
}

static int symtab_open(struct elf_file *f, struct symtab *t)
{
	struct elf_section sym, str;
	size_t entsize = gelf_fsize(f->e, ELF_T_SYM, 1, EV_CURRENT);
	int err = symtab_sections(f, &sym, &str);

	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(f->ctx),
		       "%s: no .symtab or .strtab section: a stripped module, "
		       "which the kernel cannot load",
		       f->name);
	if (err < 0)
		return err;
	t->data = elf_getdata(sym.scn, NULL);
	if (entsize == 0 || sym.size % entsize != 0 || t->data == NULL ||
	    t->data->d_type != ELF_T_SYM) {
		KD_ERR(kd_ctx_log(f->ctx),
		       "%s: corrupt .symtab section (%zu bytes, not a table of "
		       "%zu-byte symbols)",
		       f->name, sym.size, entsize);
		return -EINVAL;
	}
	t->count = sym.size / entsize;
	t->strtab = str.data;
	t->strtab_size = str.size;
	return 0;
}

/* The name of symbol i; NULL (logged) when its offset is outside .strtab. */
static const char *sym_name(struct elf_file *f, const struct symtab *t, size_t i,
			    GElf_Sym *sym)
{
	const char *s;

	if (gelf_getsym(t->data, (int)i, sym) == NULL) {
		KD_ERR(kd_ctx_log(f->ctx), "%s: cannot read .symtab entry %zu: %s", f->name, i,
		       elf_errmsg(-1));
		return NULL;
	}
	s = t->strtab + sym->st_name;
	if (sym->st_name >= t->strtab_size ||
	    memchr(s, '\0', t->strtab_size - sym->st_name) == NULL) {
		KD_ERR(kd_ctx_log(f->ctx),
		       "%s: corrupt .symtab: entry %zu names offset %u, outside "
		       ".strtab (%zu bytes)",
		       f->name, i, (unsigned)sym->st_name, t->strtab_size);
		return NULL;
	}
	return s;
}

/* Exports as libkmod finds them: the __crc_ symbols, else __ksymtab_strings. */
static int exported_crc(struct elf_file *f, const struct symtab *t, struct strlist *out)
{
	const size_t plen = strlen(CRC_PREFIX);

	for (size_t i = 1; i < t->count; i++) {
		GElf_Sym sym;
		const char *s = sym_name(f, t, i, &sym);

		if (s == NULL)
			return -EINVAL;
		if (strncmp(s, CRC_PREFIX, plen) == 0 && s[plen] != '\0')
			strlist_add(out, s + plen, strlen(s + plen));
	}
	return 0;
}

static int exported_ksymtab(struct elf_file *f, struct strlist *out)
{
	struct elf_section s;
	int err = find_section(f, "__ksymtab_strings", &s);

	if (err == -ENOENT)
		return 0; /* exports nothing */
	if (err < 0)
		return err;
	each_string(s.data, s.size, strlist_add_cb, out);
	return 0;
}

/* Never a dependency: depmod counts these as provided by the kernel itself. */
static bool kernel_provided(const char *s)
{
	if (s[0] == '.') /* PPC64 function descriptors: .foo is foo */
		s++;
	return strcmp(s, "__this_module") == 0 ||
	       strcmp(s, "_GLOBAL_OFFSET_TABLE_") == 0 || strcmp(s, "TOC.") == 0;
}

struct versions {
	const char *data;
	size_t count;
	unsigned char *seen;
	struct kd_map index; /* name -> first record */
};

static const char *version_name(const struct versions *v, size_t i, size_t crclen,
				size_t *len)
{
	const char *s = v->data + i * VERSION_RECORD + crclen;

	*len = strnlen(s, VERSION_RECORD - crclen);
	return s;
}

static int versions_open(struct elf_file *f, struct versions *v)
{
	size_t crclen = gelf_getclass(f->e) == ELFCLASS32 ? 4 : 8;
	struct elf_section s;
	char name[VERSION_RECORD];
	int err;

	memset(v, 0, sizeof(*v));
	err = find_section(f, "__versions", &s);
	/* absent (no CONFIG_MODVERSIONS) or of an odd size: libkmod ignores it */
	if (err == -ENOENT || (err == 0 && s.size % VERSION_RECORD != 0))
		return 0;
	if (err < 0)
		return err;
	v->data = s.data;
	v->count = s.size / VERSION_RECORD;
	v->seen = kd_xcalloc(v->count, 1);
	for (size_t i = 0; i < v->count; i++) {
		size_t len;
		const char *s_name = version_name(v, i, crclen, &len);

		memcpy(name, s_name, len);
		name[len] = '\0';
		if (!kd_map_get(&v->index, name, NULL))
			kd_map_put(&v->index, name, (uint32_t)i);
	}
	return 0;
}

static void versions_free(struct versions *v)
{
	free(v->seen);
	kd_map_free(&v->index);
}

static int undefined_symtab(struct elf_file *f, const struct symtab *t,
			    struct versions *v, struct strlist *out)
{
	bool sparc = f->ehdr.e_machine == EM_SPARC || f->ehdr.e_machine == EM_SPARCV9;

	for (size_t i = 1; i < t->count; i++) {
		GElf_Sym sym;
		const char *s;
		uint32_t rec;

		if (gelf_getsym(t->data, (int)i, &sym) == NULL ||
		    sym.st_shndx != SHN_UNDEF)
			continue;
		/* sparc gcc marks global register variables undefined */
		if (sparc && GELF_ST_TYPE(sym.st_info) == STT_SPARC_REGISTER)
			continue;
		s = sym_name(f, t, i, &sym);
		if (s == NULL)
			return -EINVAL;
		if (s[0] == '\0')
			continue;
		if (kd_map_get(&v->index, s, &rec))
			v->seen[rec] = 1;
		if (!kernel_provided(s))
			strlist_add(out, s, strlen(s));
	}
	return 0;
}

/* __versions records no undefined symbol names (module_layout): needed too. */
static void undefined_versions(struct elf_file *f, const struct versions *v,
			       struct strlist *out)
{
	size_t crclen = gelf_getclass(f->e) == ELFCLASS32 ? 4 : 8;

	for (size_t i = 0; i < v->count; i++) {
		size_t len;
		const char *s = version_name(v, i, crclen, &len);

		if (!v->seen[i] && len > 0)
			strlist_add(out, s, len);
	}
}

static int read_symbols(struct elf_file *f, struct strlist *exp, struct strlist *und)
{
	struct versions v;
	struct symtab t;
	int err;

	err = symtab_open(f, &t);
	if (err < 0)
		return err;
	err = exported_crc(f, &t, exp);
	if (err < 0)
		return err;
	if (exp->n == 0) {
		err = exported_ksymtab(f, exp);
		if (err < 0)
			return err;
	}
	err = versions_open(f, &v);
	if (err < 0)
		goto out;
	err = undefined_symtab(f, &t, &v, und);
	if (err < 0)
		goto out;
	undefined_versions(f, &v, und);
out:
	versions_free(&v);
	return err;
}

int kd_elf_symbols(struct kd_ctx *ctx, const char *name, const void *buf, size_t n,
		   struct kd_symbols *out)
{
	struct strlist exp = { 0 }, und = { 0 };
	struct elf_file f;
	int err;

	memset(out, 0, sizeof(*out));
	err = elf_open(ctx, name, buf, n, &f);
	if (err < 0)
		return err;
	err = read_symbols(&f, &exp, &und);
	elf_close(&f);
	if (err < 0) {
		strlist_free(&exp);
		strlist_free(&und);
		return err;
	}
	out->exported = exp.v;
	out->n_exported = exp.n;
	out->undefined = und.v;
	out->n_undefined = und.n;
	return 0;
}

void kd_symbols_free(struct kd_symbols *s)
{
	struct strlist e = { s->exported, s->n_exported, 0 };
	struct strlist u = { s->undefined, s->n_undefined, 0 };

	strlist_free(&e);
	strlist_free(&u);
	memset(s, 0, sizeof(*s));
}
