/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: a fake module tree on disk.  fake_ko() writes the smallest
 * ELF relocatable that passes for a kernel module: a .modinfo section
 * ("key=value" strings) and a symbol table whose symbols are undefined,
 * which is all the builder reads from modules.
 */
#ifndef KINDLING_FAKE_KO_H
#define KINDLING_FAKE_KO_H

#include <elf.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fake_ko {
	unsigned char *data;
	size_t size;
};

static inline void fake_append(struct fake_ko *k, const void *p, size_t n, size_t align)
{
	size_t pad = (align - k->size % align) % align;

	k->data = realloc(k->data, k->size + pad + n);
	memset(k->data + k->size, 0, pad);
	memcpy(k->data + k->size + pad, p, n);
	k->size += pad + n;
}

/* modinfo: "a=1\0b=2\0" with its length; undef: NULL-terminated names. */
static inline struct fake_ko fake_ko_build(const char *modinfo, size_t modinfo_len,
				    const char *const *undef)
{
	static const char shstr[] = "\0.modinfo\0.symtab\0.strtab\0.shstrtab";
	struct fake_ko k = { 0 };
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[5] = { { 0 } };
	Elf64_Sym sym = { 0 };
	size_t n = 0, strsz = 1, off_mi, off_sym, off_str, off_shs, i;
	char strtab[4096] = "";

	while (undef && undef[n])
		n++;
	fake_append(&k, &eh, sizeof(eh), 1);
	off_mi = k.size;
	fake_append(&k, modinfo, modinfo_len, 1);
	fake_append(&k, &sym, sizeof(sym), 8); /* symbol 0: null */
	off_sym = k.size - sizeof(sym);
	for (i = 0; i < n; i++) {
		sym.st_name = (Elf64_Word)strsz;
		sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
		sym.st_shndx = SHN_UNDEF;
		memcpy(strtab + strsz, undef[i], strlen(undef[i]) + 1);
		strsz += strlen(undef[i]) + 1;
		fake_append(&k, &sym, sizeof(sym), 1);
	}
	off_str = k.size;
	fake_append(&k, strtab, strsz, 1);
	off_shs = k.size;
	fake_append(&k, shstr, sizeof(shstr), 1);
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC,
			      .sh_offset = off_mi, .sh_size = modinfo_len, .sh_addralign = 1 };
	sh[2] = (Elf64_Shdr){ .sh_name = 10, .sh_type = SHT_SYMTAB, .sh_offset = off_sym,
			      .sh_size = (n + 1) * sizeof(Elf64_Sym), .sh_link = 3, .sh_info = 1,
			      .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[3] = (Elf64_Shdr){ .sh_name = 18, .sh_type = SHT_STRTAB, .sh_offset = off_str,
			      .sh_size = strsz, .sh_addralign = 1 };
	sh[4] = (Elf64_Shdr){ .sh_name = 26, .sh_type = SHT_STRTAB, .sh_offset = off_shs,
			      .sh_size = sizeof(shstr), .sh_addralign = 1 };
	fake_append(&k, sh, sizeof(sh), 8);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = k.size - sizeof(sh);
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 5;
	eh.e_shstrndx = 4;
	memcpy(k.data, &eh, sizeof(eh));
	return k;
}

static inline void fake_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, size, f) != size) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
	fclose(f);
}

static inline void fake_mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

/* DIR/REL holding TEXT, REL's directories made first. */
static inline void fake_put(const char *dir, const char *rel, const char *text)
{
	char path[1024], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	fake_mkdirs(path);
	*slash = '/';
	fake_write(path, text, strlen(text));
}

/* Remove a test's scratch tree. */
static inline void fake_rm_tree(const char *dir)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
		abort();
	}
}

/* Write DIR/REL as a fake module (its directories too); ".xz" compresses it
 * the way Debian's kernels ship them. */
static inline void fake_ko(const char *dir, const char *rel, const char *modinfo, size_t len,
		    const char *const *undef)
{
	struct fake_ko k = fake_ko_build(modinfo, len, undef);
	char path[1024], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	fake_mkdirs(path);
	*slash = '/';
	if (strlen(rel) > 3 && strcmp(rel + strlen(rel) - 3, ".xz") == 0) {
		size_t cap = k.size + 1024, used = 0;
		unsigned char *out = malloc(cap);

		if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, k.data, k.size, out, &used,
					    cap) != LZMA_OK)
			abort();
		fake_write(path, out, used);
		free(out);
	} else {
		fake_write(path, k.data, k.size);
	}
	free(k.data);
}

#define FAKE_KO(dir, rel) fake_ko(dir, rel, "license=GPL", 12, NULL)

/* The fake module's bytes, as the image must hold them. */
static inline struct fake_ko fake_ko_plain(const char *modinfo, size_t len, const char *const *undef)
{
	return fake_ko_build(modinfo, len, undef);
}

#endif
