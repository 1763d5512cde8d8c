// SPDX-License-Identifier: MIT
/*
 * The kernel's exported symbols (ksyms.c): System.map, Module.symvers and
 * __ksymtab parsers, the bzImage header, the order of the sources
 * under a made-up root (Debian's placeholder System.map is skipped), the
 * error when none exists, and the real vmlinuz of every installed kernel.
 */
#include "unit.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder_test.h"
#include "moddb/internal.h"
#include "fake_ko.h"

struct t {
	struct kd_ctx ctx;
	struct kd_str log;
	char root[64];
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->ctx.log.fn = capture;
	t->ctx.log.data = &t->log;
	t->ctx.log.prio = KD_LOG_DEBUG;
	kd_str_addz(&t->log, "");
	strcpy(t->root, "/tmp/kd-ksyms.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	fake_rm_tree(t->root);
	kd_str_free(&t->log);
	free(t);
	return 0;
}

static void test_sysmap(void **state)
{
	struct kd_ksyms k = { 0 };

	(void)state;
	kd_ksyms_parse_sysmap(&k,
		"ffffffff81000000 T _stext\n"
		"ffffffff82462390 r __ksymtab_printk\n"
		"ffffffff82462394 r __ksymtab_kmalloc_caches\n"
		"ffffffff82462398 r __ksymtab_printk\n"
		"ffffffff8246239c r __ksymtab_\n"
		"ffffffff824623a0 T printk_later\n"
		"ffffffff824623a4 r __ksymtab_last_no_newline");
	assert_int_equal(k.n, 3);
	assert_true(kd_ksyms_has(&k, "printk"));
	assert_true(kd_ksyms_has(&k, "kmalloc_caches"));
	assert_true(kd_ksyms_has(&k, "last_no_newline"));
	assert_false(kd_ksyms_has(&k, "_stext"));
	assert_false(kd_ksyms_has(&k, "printk_later"));
	kd_ksyms_free(&k);
	/* Debian's placeholder */
	kd_ksyms_parse_sysmap(&k, "ffffffffffffffff B The real System.map "
					       "is in the linux-image-<version>-dbg package\n");
	assert_int_equal(k.n, 0);
	kd_ksyms_free(&k);
}

static void test_symvers(void **state)
{
	struct kd_ksyms k = { 0 };

	(void)state;
	kd_ksyms_parse_symvers(&k,
		"0x1234abcd\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
		"0x00000000\tusb_stor_probe1\tdrivers/usb/storage/usb-storage\tEXPORT_SYMBOL_GPL\tUSB_STORAGE\n"
		"0xdeadbeef\tregister_blkdev\tvmlinux\tEXPORT_SYMBOL\n"
		"0xdeadbeef\tvmlinux_lookalike\tvmlinux2\tEXPORT_SYMBOL\n"
		"garbage line\n"
		"\n"
		"0x1\tns_sym\tvmlinux\tEXPORT_SYMBOL_NS_GPL\tCXL");
	assert_int_equal(k.n, 3);
	assert_true(kd_ksyms_has(&k, "printk"));
	assert_true(kd_ksyms_has(&k, "register_blkdev"));
	assert_true(kd_ksyms_has(&k, "ns_sym"));
	assert_false(kd_ksyms_has(&k, "usb_stor_probe1"));
	assert_false(kd_ksyms_has(&k, "vmlinux_lookalike"));
	kd_ksyms_free(&k);
}

/* A made-up __ksymtab: entry i's name_offset is relative to its own address. */
static void put_entry(unsigned char *tab, size_t i, uint64_t tab_addr, uint64_t name_addr)
{
	int32_t rel = (int32_t)(name_addr - (tab_addr + i * 12 + 4));

	memset(tab + i * 12, 0, 12);
	memcpy(tab + i * 12 + 4, &rel, 4);
}

static void test_ksymtab(void **state)
{
	/* "kfree" shares "mempool_kfree"'s bytes, as the linker merges them */
	static const char strs[] = "mempool_kfree\0printk\0nonul";
	const uint64_t sa = 0xffffffff82000000ull, ta = 0xffffffff81000000ull;
	unsigned char tab[4 * 12];
	struct kd_ksyms k = { 0 };

	(void)state;
	put_entry(tab, 0, ta, sa);          /* mempool_kfree */
	put_entry(tab, 1, ta, sa + 8);      /* kfree */
	put_entry(tab, 2, ta, sa + 14);     /* printk */
	assert_int_equal(kd_ksyms_parse_ksymtab(&k, tab, 3 * 12, ta, strs, sizeof(strs), sa), 0);
	assert_int_equal(k.n, 3);
	assert_true(kd_ksyms_has(&k, "kfree"));
	assert_true(kd_ksyms_has(&k, "mempool_kfree"));
	assert_true(kd_ksyms_has(&k, "printk"));
	assert_false(kd_ksyms_has(&k, "nonul"));
	/* a name outside the strings, a size that is not whole entries */
	put_entry(tab, 3, ta, sa + sizeof(strs));
	assert_int_equal(kd_ksyms_parse_ksymtab(&k, tab, 4 * 12, ta, strs, sizeof(strs), sa),
			 -EINVAL);
	put_entry(tab, 3, ta, sa - 1);
	assert_int_equal(kd_ksyms_parse_ksymtab(&k, tab, 4 * 12, ta, strs, sizeof(strs), sa),
			 -EINVAL);
	/* a string without its NUL */
	put_entry(tab, 3, ta, sa + 21);
	assert_int_equal(kd_ksyms_parse_ksymtab(&k, tab, 4 * 12, ta, strs, sizeof(strs) - 1, sa),
			 -EINVAL);
	assert_int_equal(kd_ksyms_parse_ksymtab(&k, tab, 13, ta, strs, sizeof(strs), sa), -EINVAL);
	kd_ksyms_free(&k);
}

static void test_bzimage(void **state)
{
	unsigned char b[4096] = { 0 };
	uint32_t off = 100, len = 200;
	size_t o, l;

	(void)state;
	assert_int_equal(kd_bzimage_payload(b, sizeof(b), &o, &l), -EINVAL);
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x07, b[0x207] = 0x02; /* 2.07: no payload fields */
	assert_int_equal(kd_bzimage_payload(b, sizeof(b), &o, &l), -ENOTSUP);
	b[0x206] = 0x0f;
	b[0x1f1] = 3;
	memcpy(b + 0x248, &off, 4);
	memcpy(b + 0x24c, &len, 4);
	assert_int_equal(kd_bzimage_payload(b, sizeof(b), &o, &l), 0);
	assert_int_equal(o, 4 * 512 + 100);
	assert_int_equal(l, 200);
	b[0x1f1] = 0; /* 0 means 4 setup sectors */
	assert_int_equal(kd_bzimage_payload(b, sizeof(b), &o, &l), 0);
	assert_int_equal(o, 5 * 512 + 100);
	len = 4096; /* past the end */
	memcpy(b + 0x24c, &len, 4);
	assert_int_equal(kd_bzimage_payload(b, sizeof(b), &o, &l), -EINVAL);
}

static void test_sources(void **state)
{
	struct t *t = *state;
	struct kd_ksyms k;

	/* nothing at all: an error naming what was looked for */
	assert_int_equal(kd_ksyms_load(&t->ctx, t->root, "1.0", &k), -ENOENT);
	assert_non_null(strstr(t->log.s, "no list of the kernel's exported symbols for 1.0"));
	assert_non_null(strstr(t->log.s, "linux-headers-1.0"));
	/* the placeholder map is skipped for Module.symvers */
	fake_put(t->root, "boot/System.map-1.0", "ffffffffffffffff B The real System.map\n");
	fake_put(t->root, "usr/src/linux-headers-1.0/Module.symvers",
		   "0x1\tfrom_symvers\tvmlinux\tEXPORT_SYMBOL\t\n");
	assert_int_equal(kd_ksyms_load(&t->ctx, t->root, "1.0", &k), 0);
	assert_true(kd_ksyms_has(&k, "from_symvers"));
	assert_non_null(strstr(k.source, "usr/src/linux-headers-1.0/Module.symvers (vmlinux"));
	kd_ksyms_free(&k);
	/* a real map wins */
	fake_put(t->root, "boot/System.map-1.0", "ffffffff00000000 r __ksymtab_from_map\n");
	assert_int_equal(kd_ksyms_load(&t->ctx, t->root, "1.0", &k), 0);
	assert_true(kd_ksyms_has(&k, "from_map"));
	assert_false(kd_ksyms_has(&k, "from_symvers"));
	assert_non_null(strstr(k.source, "System.map-1.0 (__ksymtab_"));
	kd_ksyms_free(&k);
	/* a vmlinuz that is not a kernel is an error naming it */
	fake_put(t->root, "boot/vmlinuz-2.0", "not a kernel");
	assert_int_equal(kd_ksyms_load(&t->ctx, t->root, "2.0", &k), -EINVAL);
	assert_non_null(strstr(t->log.s, "vmlinuz-2.0: not an x86 bzImage"));
}

/* Every installed kernel: the exports of vmlinux itself, read from vmlinuz
 * (Debian's System.map is a placeholder, headers are not installed). */
static void test_real_vmlinuz(void **state)
{
	struct t *t = *state;
	glob_t g;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		fail_msg("no /boot/vmlinuz-*: scripts/deps.sh installs Debian's kernels");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *kver = g.gl_pathv[i] + strlen("/boot/vmlinuz-");
		struct kd_ksyms k;

		assert_int_equal(kd_ksyms_load(&t->ctx, "", kver, &k), 0);
		assert_true(k.n > 9000);
		assert_true(kd_ksyms_has(&k, "__register_blkdev"));
		assert_true(kd_ksyms_has(&k, "kfree"));
		assert_true(kd_ksyms_has(&k, "_printk"));
		assert_true(kd_ksyms_has(&k, "kmalloc_caches"));
		assert_non_null(strstr(k.source, "vmlinuz-"));
		/* exported by the module virtio_blk, not by vmlinux */
		assert_false(kd_ksyms_has(&k, "virtblk_probe"));
		assert_false(kd_ksyms_has(&k, "jbd2_journal_start"));
		assert_non_null(k.source);
		kd_ksyms_free(&k);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysmap),
		cmocka_unit_test(test_symvers),
		cmocka_unit_test(test_ksymtab),
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_vmlinuz, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
