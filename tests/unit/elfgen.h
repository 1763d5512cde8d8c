/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a made-up kernel module as a 64-bit little-endian ELF
 * relocatable, with exactly the sections depmod reads:
 *
 *   [1] .modinfo           (left out when modinfo is NULL)
 *   [2] __ksymtab_strings  (with ksymtab: the exports, NUL-separated)
 *   [3] __versions         (with versions: 64-byte {crc, name} records)
 *   [4] .symtab            undefined symbols, then for each export a defined
 *                          symbol and, with crc, "__crc_NAME"
 *   [5] .strtab
 *   [6] .shstrtab
 *
 * elfgen_build() returns the file's bytes (malloc'd); the section header
 * offsets are returned too so that tests can damage them.
 */
#ifndef KINDLING_ELFGEN_H
#define KINDLING_ELFGEN_H

#include <elf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct elfgen {
	const char *modinfo; /* NULL: no .modinfo section */
	size_t modinfo_len;
	const char *const *exports;  /* NULL-terminated */
	bool crc;		     /* exports also as __crc_ symbols */
	bool ksymtab;		     /* exports also in __ksymtab_strings */
	const char *ksymtab_extra;   /* appended to __ksymtab_strings (a namespace) */
	const char *const *undef;    /* undefined symbols, in .symtab order */
	const char *const *versions; /* __versions record names */
};

enum {
	EG_MODINFO = 1,
	EG_KSYMTAB,
	EG_VERSIONS,
	EG_SYMTAB,
	EG_STRTAB,
	EG_SHSTRTAB,
	EG_NSEC
};

struct elfgen_buf {
	unsigned char *p;
	size_t n;
};

static inline size_t eg_put(struct elfgen_buf *b, const void *data, size_t len,
			    size_t align)
{
	size_t pad = (align - b->n % align) % align, at;

	b->p = realloc(b->p, b->n + pad + len + 1);
	memset(b->p + b->n, 0, pad);
	at = b->n + pad;
	if (len)
		memcpy(b->p + at, data, len);
	b->n = at + len;
	return at;
}

static inline size_t eg_count(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* strtab: names appended, offsets returned */
static inline unsigned eg_str(struct elfgen_buf *s, const char *prefix, const char *name)
{
	unsigned at = (unsigned)s->n;

	eg_put(s, prefix, strlen(prefix), 1);
	eg_put(s, name, strlen(name) + 1, 1);
	return at;
}

static inline void eg_sym(struct elfgen_buf *t, unsigned name, unsigned char info,
			  unsigned short shndx, unsigned long value)
{
	Elf64_Sym s = {
		.st_name = name, .st_info = info, .st_shndx = shndx, .st_value = value
	};

	eg_put(t, &s, sizeof(s), 1);
}

static inline void eg_tables(const struct elfgen *o, struct elfgen_buf *sym,
			     struct elfgen_buf *str)
{
	const char *const *e = o->exports;

	eg_put(str, "", 1, 1);
	eg_sym(sym, 0, 0, 0, 0);
	for (size_t i = 0; i < eg_count(o->undef); i++)
		eg_sym(sym, eg_str(str, "", o->undef[i]),
		       ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), SHN_UNDEF, 0);
	for (size_t i = 0; i < eg_count(e); i++) {
		eg_sym(sym, eg_str(str, "", e[i]), ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
		       SHN_ABS, 0x1000 + i);
		if (o->crc)
			eg_sym(sym, eg_str(str, "__crc_", e[i]),
			       ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), SHN_ABS,
			       0xc0ffee + i);
	}
}

static inline void eg_ksymtab(const struct elfgen *o, struct elfgen_buf *k)
{
	for (size_t i = 0; i < eg_count(o->exports); i++)
		eg_put(k, o->exports[i], strlen(o->exports[i]) + 1, 1);
	if (o->ksymtab_extra)
		eg_put(k, o->ksymtab_extra, strlen(o->ksymtab_extra) + 1, 1);
}

static inline void eg_versions(const struct elfgen *o, struct elfgen_buf *v)
{
	for (size_t i = 0; i < eg_count(o->versions); i++) {
		unsigned char rec[64] = { 0 };

		rec[0] = (unsigned char)(0x11 + i); /* crc */
		strncpy((char *)rec + 8, o->versions[i], sizeof(rec) - 9);
		eg_put(v, rec, sizeof(rec), 1);
	}
}

/* shdr[] offsets are filled; *shoff is where the header table starts. */
static inline unsigned char *elfgen_build(const struct elfgen *o, size_t *size,
					  size_t *shoff)
{
	static const char shstr[] = "\0.modinfo\0__ksymtab_strings\0__versions\0.symtab\0"
				    ".strtab\0.shstrtab";
	static const unsigned names[EG_NSEC] = { 0, 1, 10, 28, 39, 47, 55 };
	struct elfgen_buf f = { 0 }, sym = { 0 }, str = { 0 }, ks = { 0 }, ver = { 0 };
	Elf64_Shdr sh[EG_NSEC];
	Elf64_Ehdr eh = { 0 };

	memset(sh, 0, sizeof(sh));
	eg_tables(o, &sym, &str);
	eg_ksymtab(o, &ks);
	eg_versions(o, &ver);
	eg_put(&f, &eh, sizeof(eh), 1);
	for (int i = 1; i < EG_NSEC; i++) {
		sh[i].sh_name = names[i];
		sh[i].sh_type = SHT_PROGBITS;
		sh[i].sh_addralign = 1;
	}
	if (o->modinfo) {
		sh[EG_MODINFO].sh_offset = eg_put(&f, o->modinfo, o->modinfo_len, 1);
		sh[EG_MODINFO].sh_size = o->modinfo_len;
	} else {
		sh[EG_MODINFO].sh_name = 0; /* a nameless empty section */
	}
	if (!o->ksymtab)
		ks.n = 0;
	sh[EG_KSYMTAB].sh_offset = eg_put(&f, ks.p, ks.n, 1);
	sh[EG_KSYMTAB].sh_size = ks.n;
	if (!o->ksymtab)
		sh[EG_KSYMTAB].sh_name = 0;
	sh[EG_VERSIONS].sh_offset = eg_put(&f, ver.p, ver.n, 8);
	sh[EG_VERSIONS].sh_size = ver.n;
	if (!o->versions)
		sh[EG_VERSIONS].sh_name = 0;
	sh[EG_SYMTAB] = (Elf64_Shdr){ .sh_name = names[EG_SYMTAB],
				      .sh_type = SHT_SYMTAB,
				      .sh_offset = eg_put(&f, sym.p, sym.n, 8),
				      .sh_size = sym.n,
				      .sh_link = EG_STRTAB,
				      .sh_info = 1,
				      .sh_addralign = 8,
				      .sh_entsize = sizeof(Elf64_Sym) };
	sh[EG_STRTAB] = (Elf64_Shdr){ .sh_name = names[EG_STRTAB],
				      .sh_type = SHT_STRTAB,
				      .sh_offset = eg_put(&f, str.p, str.n, 1),
				      .sh_size = str.n,
				      .sh_addralign = 1 };
	sh[EG_SHSTRTAB] = (Elf64_Shdr){ .sh_name = names[EG_SHSTRTAB],
					.sh_type = SHT_STRTAB,
					.sh_offset = eg_put(&f, shstr, sizeof(shstr), 1),
					.sh_size = sizeof(shstr),
					.sh_addralign = 1 };
	*shoff = eg_put(&f, sh, sizeof(sh), 8);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = *shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = EG_NSEC;
	eh.e_shstrndx = EG_SHSTRTAB;
	memcpy(f.p, &eh, sizeof(eh));
	free(sym.p);
	free(str.p);
	free(ks.p);
	free(ver.p);
	*size = f.n;
	return f.p;
}

/* The section header of section i inside a built file. */
static inline Elf64_Shdr *elfgen_shdr(unsigned char *file, size_t shoff, int i)
{
	return (Elf64_Shdr *)(void *)(file + shoff + (size_t)i * sizeof(Elf64_Shdr));
}

#endif
