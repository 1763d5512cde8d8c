// SPDX-License-Identifier: MIT
/*
 * The ELF reader: .modinfo and symbols of made-up modules (tests/unit/elfgen.h)
 * with libkmod's rules (padding, entries without '=', __crc_ before
 * __ksymtab_strings, __versions records no symbol uses), every malformed
 * input it must refuse with a message naming the file, and real Debian
 * modules of both kernels when they are installed.
 */
#include "unit.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder_test.h"
#include "moddb/internal.h"
#include "elfgen.h"

struct t {
	struct kd_ctx ctx;
	struct kd_str log;
};

static void catch_log(void *data, int prio, const char *file, int line, const char *fn,
		      const char *msg)
{
	(void)prio, (void)file, (void)line, (void)fn;
	kd_str_addz(data, msg);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->ctx.log.fn = catch_log;
	t->ctx.log.data = &t->log;
	t->ctx.log.prio = KD_LOG_DEBUG;
	kd_str_addz(&t->log, "");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (getenv("KD_TEST_LOG"))
		fputs(t->log.s, stderr);
	kd_str_free(&t->log);
	free(t);
	return 0;
}

static void assert_logged(struct t *t, const char *what)
{
	if (strstr(t->log.s, what) == NULL)
		fail_msg("expected \"%s\" in the log, got: %s", what, t->log.s);
}

static const char *const no_names[] = { NULL };

static unsigned char *build(const struct elfgen *o, size_t *n, size_t *shoff)
{
	size_t dummy;

	return elfgen_build(o, n, shoff ? shoff : &dummy);
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* ---- .modinfo -------------------------------------------------------------- */

static void test_modinfo_entries(void **state)
{
	/* leading padding, runs of NULs, no '=', empty value, unterminated last */
	static const char mi[] = "\0\0alias=pci:v1*\0\0\0license=GPL\0intree\0depends=\0"
				 "alias=usb:v2*\0name=x";
	struct elfgen o = { .modinfo = mi, .modinfo_len = sizeof(mi) - 1 };
	struct t *t = *state;
	struct kd_modinfo info;
	size_t n, it = 0;
	unsigned char *f = build(&o, &n, NULL);

	assert_int_equal(kd_elf_modinfo(&t->ctx, "m.ko", f, n, &info), 0);
	assert_int_equal(info.n, 6);
	assert_string_equal(info.keys[0], "alias");
	assert_string_equal(info.vals[0], "pci:v1*");
	assert_string_equal(info.keys[2], "intree");
	assert_string_equal(info.vals[2], "");
	assert_string_equal(info.keys[3], "depends");
	assert_string_equal(info.vals[3], "");
	assert_string_equal(info.keys[5], "name");
	assert_string_equal(info.vals[5], "x");
	assert_string_equal(kd_modinfo_next(&info, "alias", &it), "pci:v1*");
	assert_string_equal(kd_modinfo_next(&info, "alias", &it), "usb:v2*");
	assert_null(kd_modinfo_next(&info, "alias", &it));
	assert_null(kd_modinfo_next(&info, "alias", &it));
	it = 0;
	assert_null(kd_modinfo_next(&info, "firmware", &it));
	kd_modinfo_free(&info);
	assert_int_equal(info.n, 0);
	free(f);
}

static void test_modinfo_empty_and_missing(void **state)
{
	struct elfgen o = { .modinfo = "\0\0\0\0", .modinfo_len = 4 };
	struct t *t = *state;
	struct kd_modinfo info;
	size_t n;
	unsigned char *f = build(&o, &n, NULL);

	assert_int_equal(kd_elf_modinfo(&t->ctx, "pad.ko", f, n, &info), 0);
	assert_int_equal(info.n, 0);
	kd_modinfo_free(&info);
	free(f);

	o.modinfo = NULL;
	f = build(&o, &n, NULL);
	assert_int_equal(kd_elf_modinfo(&t->ctx, "nomi.ko", f, n, &info), -ENOENT);
	assert_logged(t, "nomi.ko: no .modinfo section");
	free(f);
}

/* ---- symbols ---------------------------------------------------------------- */

static void test_symbols_crc_exports(void **state)
{
	static const char *const exp[] = { "foo_start", "foo_stop", NULL };
	static const char *const und[] = { "printk", "__this_module", "bar_get", NULL };
	static const char *const ver[] = { "module_layout", "printk", "bar_get", NULL };
	/* with __crc_ symbols, __ksymtab_strings (and its namespace) is not read */
	struct elfgen o = { .modinfo = "a=b",
			    .modinfo_len = 4,
			    .exports = exp,
			    .crc = true,
			    .ksymtab = true,
			    .ksymtab_extra = "FOO_NS",
			    .undef = und,
			    .versions = ver };
	struct t *t = *state;
	struct kd_symbols s;
	size_t n;
	unsigned char *f = build(&o, &n, NULL);

	assert_int_equal(kd_elf_symbols(&t->ctx, "m.ko", f, n, &s), 0);
	assert_int_equal(s.n_exported, 2);
	assert_string_equal(s.exported[0], "foo_start");
	assert_string_equal(s.exported[1], "foo_stop");
	/* symtab order, no __this_module, then the unused __versions record */
	assert_int_equal(s.n_undefined, 3);
	assert_string_equal(s.undefined[0], "printk");
	assert_string_equal(s.undefined[1], "bar_get");
	assert_string_equal(s.undefined[2], "module_layout");
	kd_symbols_free(&s);
	assert_int_equal(s.n_exported, 0);
	free(f);
}

static void test_symbols_ksymtab_fallback(void **state)
{
	static const char *const exp[] = { "one", "two", NULL };
	static const char *const und[] = { "three", NULL };
	struct elfgen o = { .modinfo = "a=b",
			    .modinfo_len = 4,
			    .exports = exp,
			    .ksymtab = true,
			    .undef = und };
	struct t *t = *state;
	struct kd_symbols s;
	size_t n;
	unsigned char *f = build(&o, &n, NULL);

	assert_int_equal(kd_elf_symbols(&t->ctx, "m.ko", f, n, &s), 0);
	assert_int_equal(s.n_exported, 2);
	assert_string_equal(s.exported[0], "one");
	assert_string_equal(s.exported[1], "two");
	assert_int_equal(s.n_undefined, 1);
	assert_string_equal(s.undefined[0], "three");
	kd_symbols_free(&s);
	free(f);

	/* no exports at all */
	o.exports = no_names;
	o.ksymtab = false;
	f = build(&o, &n, NULL);
	assert_int_equal(kd_elf_symbols(&t->ctx, "m.ko", f, n, &s), 0);
	assert_int_equal(s.n_exported, 0);
	assert_int_equal(s.n_undefined, 1);
	kd_symbols_free(&s);
	free(f);
}

/* ---- malformed input ---------------------------------------------------------- */

static void test_not_elf(void **state)
{
	struct t *t = *state;
	struct kd_modinfo info;
	struct kd_symbols s;

	assert_int_equal(
		kd_elf_modinfo(&t->ctx, "text.ko", "hello world, not ELF", 20, &info),
		-ENOEXEC);
	assert_logged(t, "text.ko: not an ELF file");
	assert_int_equal(kd_elf_symbols(&t->ctx, "empty.ko", "", 0, &s), -ENOEXEC);
	assert_logged(t, "empty.ko: not an ELF file");
	assert_null(s.exported);
}

static void test_bad_header(void **state)
{
	struct elfgen o = { .modinfo = "a=b", .modinfo_len = 4 };
	struct t *t = *state;
	struct kd_modinfo info;
	size_t n;
	unsigned char *f = build(&o, &n, NULL);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)f;

	f[EI_CLASS] = 7;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "class.ko", f, n, &info), -EINVAL);
	assert_logged(t, "class.ko: bad ELF class 7");
	f[EI_CLASS] = ELFCLASS64;
	f[EI_DATA] = 9;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "data.ko", f, n, &info), -EINVAL);
	assert_logged(t, "data.ko: bad ELF byte order");
	f[EI_DATA] = ELFDATA2LSB;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "short.ko", f, 40, &info), -EINVAL);
	assert_logged(t, "short.ko: truncated ELF file (40 bytes");
	eh->e_type = ET_EXEC;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "exec.ko", f, n, &info), -ENOEXEC);
	assert_logged(t, "exec.ko: not a kernel module");
	eh->e_type = ET_REL;
	eh->e_shnum = 0;
	eh->e_shoff = 0;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "nosec.ko", f, n, &info), -EINVAL);
	assert_logged(t, "nosec.ko: ELF file has no sections");
	free(f);
}

static void test_truncated(void **state)
{
	struct elfgen o = { .modinfo = "license=GPL", .modinfo_len = 12 };
	struct t *t = *state;
	struct kd_modinfo info;
	struct kd_symbols s;
	size_t n, shoff;
	unsigned char *f = build(&o, &n, &shoff);

	/* the section headers are at the end: any cut loses them */
	assert_int_equal(kd_elf_modinfo(&t->ctx, "cut.ko", f, n - 1, &info), -EINVAL);
	assert_logged(t, "cut.ko: truncated or corrupt ELF file: its 7 section headers");
	assert_int_equal(kd_elf_symbols(&t->ctx, "cut2.ko", f, shoff + 10, &s), -EINVAL);
	assert_logged(t, "cut2.ko: truncated or corrupt ELF file");
	assert_int_equal(kd_elf_modinfo(&t->ctx, "cut3.ko", f, 100, &info), -EINVAL);
	assert_logged(t, "cut3.ko: truncated or corrupt ELF file");
	free(f);
}

static void test_section_outside_file(void **state)
{
	struct elfgen o = { .modinfo = "license=GPL", .modinfo_len = 12 };
	struct t *t = *state;
	struct kd_modinfo info;
	size_t n, shoff;
	unsigned char *f = build(&o, &n, &shoff);
	Elf64_Shdr *mi = elfgen_shdr(f, shoff, EG_MODINFO);

	mi->sh_size = n;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "big.ko", f, n, &info), -EINVAL);
	assert_logged(t, "big.ko: truncated or corrupt ELF file: section .modinfo");
	/* offset + size wraps around: must not pass the check */
	mi->sh_offset = UINT64_MAX - 2;
	mi->sh_size = 10;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "wrap.ko", f, n, &info), -EINVAL);
	assert_logged(t, "wrap.ko: truncated or corrupt ELF file: section .modinfo");
	free(f);
}

static void test_bad_name_tables(void **state)
{
	static const char *const und[] = { "x", NULL };
	struct elfgen o = { .modinfo = "a=b", .modinfo_len = 4, .undef = und };
	struct t *t = *state;
	struct kd_symbols s;
	struct kd_modinfo info;
	size_t n, shoff;
	unsigned char *f = build(&o, &n, &shoff);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)f;
	Elf64_Sym *sym;

	/* a symbol name beyond .strtab */
	sym = (Elf64_Sym *)(void *)(f + elfgen_shdr(f, shoff, EG_SYMTAB)->sh_offset);
	sym[1].st_name = 100000;
	assert_int_equal(kd_elf_symbols(&t->ctx, "strtab.ko", f, n, &s), -EINVAL);
	assert_logged(t, "strtab.ko: corrupt .symtab: entry 1 names offset 100000");
	sym[1].st_name = 1;
	/* a .symtab whose size is not a whole number of symbols */
	elfgen_shdr(f, shoff, EG_SYMTAB)->sh_size -= 3;
	assert_int_equal(kd_elf_symbols(&t->ctx, "symsz.ko", f, n, &s), -EINVAL);
	assert_logged(t, "symsz.ko: corrupt .symtab section");
	elfgen_shdr(f, shoff, EG_SYMTAB)->sh_size += 3;
	/* the section name table out of range */
	eh->e_shstrndx = 60;
	assert_int_equal(kd_elf_modinfo(&t->ctx, "shstr.ko", f, n, &info), -EINVAL);
	assert_logged(t, "shstr.ko: corrupt ELF file: no valid section name table");
	free(f);
}

static void test_no_symtab(void **state)
{
	struct elfgen o = { .modinfo = "a=b", .modinfo_len = 4 };
	struct t *t = *state;
	struct kd_symbols s;
	size_t n, shoff;
	unsigned char *f = build(&o, &n, &shoff);

	/* unnamed: as if stripped */
	elfgen_shdr(f, shoff, EG_SYMTAB)->sh_name = 0;
	assert_int_equal(kd_elf_symbols(&t->ctx, "stripped.ko", f, n, &s), -ENOENT);
	assert_logged(t, "stripped.ko: no .symtab or .strtab section");
	free(f);
}

/* ---- real modules -------------------------------------------------------------- */

/* The first file matching pattern, or NULL (the kernel is not installed). */
static char *find_module(const char *pattern)
{
	glob_t g;
	char *p = NULL;

	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0)
		p = strdup(g.gl_pathv[0]);
	globfree(&g);
	return p;
}

static void check_jbd2(struct t *t, const char *path)
{
	struct kd_modinfo info;
	struct kd_symbols s;
	struct kd_buf b;
	size_t it = 0;

	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_int_equal(kd_elf_modinfo(&t->ctx, path, b.data, b.size, &info), 0);
	assert_string_equal(kd_modinfo_next(&info, "license", &it), "GPL");
	it = 0;
	assert_string_equal(kd_modinfo_next(&info, "name", &it), "jbd2");
	kd_modinfo_free(&info);
	assert_int_equal(kd_elf_symbols(&t->ctx, path, b.data, b.size, &s), 0);
	assert_true(s.n_exported > 20);
	assert_true(has(s.exported, s.n_exported, "jbd2_journal_start"));
	assert_true(s.n_undefined > 20);
	assert_false(has(s.undefined, s.n_undefined, "__this_module"));
	assert_false(has(s.undefined, s.n_undefined, ""));
	assert_false(has(s.undefined, s.n_undefined, "jbd2_journal_start"));
	kd_symbols_free(&s);
	/* cut in half: the section headers at its end are gone */
	assert_int_equal(kd_elf_symbols(&t->ctx, "half.ko", b.data, b.size / 2, &s),
			 -EINVAL);
	assert_logged(t, "half.ko: truncated or corrupt ELF file");
	kd_buf_free(&b);
}

static void test_real_modules(void **state)
{
	static const char *const patterns[] = {
		"/lib/modules/6.1.*-amd64/kernel/fs/jbd2/jbd2.ko",
		"/lib/modules/6.12.*-amd64/kernel/fs/jbd2/jbd2.ko.xz",
	};
	struct t *t = *state;
	int found = 0;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char *path = find_module(patterns[i]);

		if (path == NULL) {
			print_message("skipped: no module matches %s\n", patterns[i]);
			continue;
		}
		check_jbd2(t, path);
		free(path);
		found++;
	}
	if (found == 0)
		skip();
}

/* ext4 needs jbd2's exports: the names must meet. */
static void test_real_ext4_needs_jbd2(void **state)
{
	char *path = find_module("/lib/modules/6.1*-amd64/kernel/fs/ext4/ext4.ko*");
	struct t *t = *state;
	struct kd_symbols s;
	struct kd_buf b;

	if (path == NULL)
		skip();
	assert_int_equal(kd_module_read(kd_ctx_log(&t->ctx), path, &b), 0);
	assert_int_equal(kd_elf_symbols(&t->ctx, path, b.data, b.size, &s), 0);
	assert_true(has(s.undefined, s.n_undefined, "jbd2_journal_stop"));
	assert_false(has(s.exported, s.n_exported, "jbd2_journal_stop"));
	kd_symbols_free(&s);
	kd_buf_free(&b);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modinfo_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modinfo_empty_and_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symbols_crc_exports, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symbols_ksymtab_fallback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_outside_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_name_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_symtab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_ext4_needs_jbd2, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
