// SPDX-License-Identifier: MIT
/*
 * The symbols the kernel proper (vmlinux) exports to modules, for
 * `kindling check`.  Three sources, the first that has any wins:
 *
 *   ROOT/boot/System.map-KVER   "ADDR TYPE __ksymtab_NAME" lines.  Debian
 *                               ships a one-line placeholder here (the real
 *                               map is in the -dbg package): no entries, so
 *                               the next source is tried.
 *   Module.symvers              "CRC\tNAME\tvmlinux\tEXPORT_SYMBOL[_GPL][\tNS]"
 *                               lines (only vmlinux's), from the kernel's
 *                               headers: ROOT/lib/modules/KVER/build/ or
 *                               ROOT/usr/src/linux-headers-KVER/.
 *   ROOT/boot/vmlinuz-KVER      an x86 bzImage: its compressed payload (at
 *                               payload_offset, boot protocol 2.08+) is the
 *                               vmlinux ELF.  Its __ksymtab and __ksymtab_gpl
 *                               entries point into __ksymtab_strings; the
 *                               strings alone are not enough, the linker
 *                               merges suffixes ("kfree" is the tail of
 *                               "mempool_kfree").
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "moddb/moddb.h"
#include "codec/codec.h"

#define KSYMTAB_PREFIX "__ksymtab_"
/* struct kernel_symbol with CONFIG_HAVE_ARCH_PREL32_RELOCATIONS (x86_64, arm64):
 * int value_offset, name_offset, namespace_offset, each relative to itself */
#define KSYM_PREL32_SIZE 12
#define VMLINUX_MAX (1024u << 20) /* refuse to inflate a kernel past this */

static void add_name(struct kd_ksyms *k, const char *s, size_t len)
{
	char name[512];

	if (len == 0 || len >= sizeof(name))
		return;
	memcpy(name, s, len);
	name[len] = '\0';
	kd_map_put(&k->names, name, 0);
	k->n = k->names.n;
}

void kd_ksyms_parse_sysmap(struct kd_ksyms *k, const char *text)
{
	const size_t plen = strlen(KSYMTAB_PREFIX);
	struct kd_lines l;
	const char *line;

	kd_lines_init(&l, "System.map", text, strlen(text), false);
	while ((line = kd_lines_next(&l)) != NULL) {
		/* the third blank-separated field */
		const char *name = strchr(line, ' ');

		name = name ? strchr(name + 1, ' ') : NULL;
		if (name && strncmp(name + 1, KSYMTAB_PREFIX, plen) == 0)
			add_name(k, name + 1 + plen, strlen(name + 1 + plen));
	}
	kd_lines_free(&l);
}

void kd_ksyms_parse_symvers(struct kd_ksyms *k, const char *text)
{
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, "Module.symvers", text, strlen(text), false);
	while ((line = kd_lines_next(&l)) != NULL) {
		/* CRC, name, module ("vmlinux" for the kernel proper), export type */
		char *f[4] = { line };
		size_t nf = 1;

		for (char *q = line; *q && nf < 4; q++)
			if (*q == '\t')
				f[nf++] = q + 1;
		if (nf == 4 && f[3] - f[2] == 8 && memcmp(f[2], "vmlinux\t", 8) == 0)
			add_name(k, f[1], (size_t)(f[2] - f[1] - 1));
	}
	kd_lines_free(&l);
}

int kd_ksyms_parse_ksymtab(struct kd_ksyms *k, const void *tab, size_t tab_size,
			   uint64_t tab_addr, const char *strs, size_t strs_size,
			   uint64_t strs_addr)
{
	const unsigned char *t = tab;

	if (tab_size % KSYM_PREL32_SIZE != 0)
		return -EINVAL;
	for (size_t i = 0; i < tab_size / KSYM_PREL32_SIZE; i++) {
		size_t at = i * KSYM_PREL32_SIZE + 4; /* name_offset */
		int32_t rel;
		uint64_t addr;
		const char *name, *z;

		memcpy(&rel, t + at, 4);
		addr = tab_addr + at + (uint64_t)(int64_t)rel;
		if (addr < strs_addr || addr - strs_addr >= strs_size)
			return -EINVAL;
		name = strs + (addr - strs_addr);
		z = memchr(name, '\0', strs_size - (size_t)(addr - strs_addr));
		if (z == NULL)
			return -EINVAL;
		add_name(k, name, (size_t)(z - name));
	}
	return 0;
}

int kd_bzimage_payload(const void *buf, size_t n, size_t *off, size_t *len)
{
	const unsigned char *b = buf;
	uint32_t setup, poff, plen;
	uint16_t version;

	if (n < 0x250 || memcmp(b + 0x202, "HdrS", 4) != 0)
		return -EINVAL;
	version = (uint16_t)(b[0x206] | b[0x207] << 8);
	if (version < 0x208)
		return -ENOTSUP;
	setup = b[0x1f1] ? b[0x1f1] : 4;
	memcpy(&poff, b + 0x248, 4);
	memcpy(&plen, b + 0x24c, 4);
	*off = ((size_t)setup + 1) * 512 + poff;
	*len = plen;
	if (*off > n || *len > n - *off || *len == 0)
		return -EINVAL;
	return 0;
}

struct elf_sec {
	const void *data;
	size_t size;
	uint64_t addr;
};

static int find_sec(Elf *e, size_t shstrndx, const char *want, struct elf_sec *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name == NULL || strcmp(name, want) != 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (d == NULL || d->d_buf == NULL)
			return -EINVAL;
		out->data = d->d_buf;
		out->size = d->d_size;
		out->addr = sh.sh_addr;
		return 0;
	}
	return -ENOENT;
}

static int read_ksymtabs(Elf *e, size_t shstrndx, struct kd_ksyms *k)
{
	static const char *const tabs[] = { "__ksymtab", "__ksymtab_gpl" };
	struct elf_sec strs, tab;
	int err = find_sec(e, shstrndx, "__ksymtab_strings", &strs);

	if (err < 0)
		return err;
	for (size_t i = 0; i < 2; i++) {
		err = find_sec(e, shstrndx, tabs[i], &tab);
		if (err == -ENOENT && i == 1)
			return 0; /* no GPL exports */
		if (err < 0)
			return err;
		err = kd_ksyms_parse_ksymtab(k, tab.data, tab.size, tab.addr, strs.data, strs.size,
					     strs.addr);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The names __ksymtab and __ksymtab_gpl point to in the vmlinux ELF. */
static int vmlinux_exports(struct kd_ctx *ctx, const char *what, const struct kd_buf *v,
			   struct kd_ksyms *k)
{
	size_t shstrndx;
	Elf *e;
	int err;

	elf_version(EV_CURRENT);
	e = elf_memory((char *)v->data, v->size);
	if (e == NULL || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx) != 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: the decompressed kernel is not an ELF file: %s", what,
		       elf_errmsg(-1));
		if (e)
			elf_end(e);
		return -EINVAL;
	}
	err = read_ksymtabs(e, shstrndx, k);
	elf_end(e);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(ctx), "%s: the kernel has no __ksymtab or __ksymtab_strings section", what);
	else if (err == -EINVAL)
		KD_ERR(kd_ctx_log(ctx), "%s: the kernel's __ksymtab is not in the 12-byte PREL32 form "
		       "kindling reads (install linux-headers for Module.symvers)", what);
	return err;
}

static int from_vmlinuz(struct kd_ctx *ctx, const char *path, struct kd_ksyms *k)
{
	struct kd_buf f = { 0 }, v = { 0 };
	size_t off, len, used;
	enum kd_codec comp;
	int err = kd_read_file(kd_ctx_log(ctx), path, &f);

	if (err < 0)
		return err;
	err = kd_bzimage_payload(f.data, f.size, &off, &len);
	if (err < 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: not an x86 bzImage with a payload (boot protocol 2.08+)", path);
		goto out;
	}
	comp = kd_codec_detect(f.data + off, len);
	if (comp == KD_CODEC_NONE) {
		KD_ERR(kd_ctx_log(ctx), "%s: the kernel's payload is in an unknown compression", path);
		err = -EINVAL;
		goto out;
	}
	err = kd_decode(kd_ctx_log(ctx), path, comp, f.data + off, len, VMLINUX_MAX, &v, &used);
	if (err < 0)
		goto out;
	err = vmlinux_exports(ctx, path, &v, k);
out:
	kd_buf_free(&v);
	kd_buf_free(&f);
	return err;
}

static int exists(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f)
		fclose(f);
	return f != NULL;
}


int kd_ksyms_load(struct kd_ctx *ctx, const char *root, const char *kver, struct kd_ksyms *k)
{
	static const char *const symvers[] = {
		"%s/lib/modules/%s/build/Module.symvers",
		"%s/usr/src/linux-headers-%s/Module.symvers",
	};
	struct kd_str p = { 0 }, tried = { 0 };
	struct kd_buf b;
	int err;

	memset(k, 0, sizeof(*k));
	root = root ? root : "";
	kd_str_printf(&p, "%s/boot/System.map-%s", root, kver);
	if (exists(p.s) && kd_read_file(kd_ctx_log(ctx), p.s, &b) == 0) {
		kd_ksyms_parse_sysmap(k, (const char *)b.data);
		kd_buf_free(&b);
		if (k->n > 0)
			goto found;
		kd_str_printf(&tried, "%s has no __ksymtab_ entries; ", p.s);
	}
	for (size_t i = 0; i < sizeof(symvers) / sizeof(symvers[0]); i++) {
		p.len = 0;
		kd_str_printf(&p, symvers[i], root, kver);
		if (!exists(p.s) || kd_read_file(kd_ctx_log(ctx), p.s, &b) < 0)
			continue;
		kd_ksyms_parse_symvers(k, (const char *)b.data);
		kd_buf_free(&b);
		if (k->n > 0)
			goto found;
		kd_str_printf(&tried, "%s has no vmlinux exports; ", p.s);
	}
	p.len = 0;
	kd_str_printf(&p, "%s/boot/vmlinuz-%s", root, kver);
	if (exists(p.s)) {
		err = from_vmlinuz(ctx, p.s, k);
		if (err == 0 && k->n > 0)
			goto found;
		err = err < 0 ? err : -ENOENT;
		goto fail;
	}
	KD_ERR(kd_ctx_log(ctx), "no list of the kernel's exported symbols for %s: %sno Module.symvers "
	       "(install linux-headers-%s) and no %s", kver, tried.s ? tried.s : "", kver, p.s);
	err = -ENOENT;
	goto fail;
found:
	k->source = kd_xasprintf("%s (%s)", p.s, strstr(p.s, "vmlinuz") ? "__ksymtab" :
				 strstr(p.s, "System.map") ? "__ksymtab_ entries" : "vmlinux lines");
	err = 0;
	goto out;
fail:
	kd_ksyms_free(k);
out:
	kd_str_free(&p);
	kd_str_free(&tried);
	return err;
}

bool kd_ksyms_has(const struct kd_ksyms *k, const char *name)
{
	return kd_map_get(&k->names, name, NULL) == 1;
}

void kd_ksyms_free(struct kd_ksyms *k)
{
	kd_map_free(&k->names);
	free(k->source);
	memset(k, 0, sizeof(*k));
}
