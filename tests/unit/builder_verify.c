// SPDX-License-Identifier: MIT
/*
 * verify/: kindling check's engine on an image built here from a fake module
 * tree: the kernel's files, dependencies, undefined symbols (against a
 * System.map and modules.symbols), the root's filesystem module when its
 * chain cannot be detected, firmware; a kernel that is not there; what is not
 * a kindling image.
 */
#include "unit.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder_test.h"
#include "fake_ko.h"

#define MODINFO_A "license=GPL\0firmware=fw/a.bin\0firmware=missing.bin"

struct fixture {
	char root[64];
	char moddir[128], init[128], out[128], sysroot[128];
	struct kd_str log;    /* messages */
	struct kd_str report; /* "kind: text" lines */
};

static void add_line(void *data, enum kd_check_kind kind, const char *text)
{
	static const char *const names[] = { "note", "ok", "warning", "problem" };

	kd_str_printf(data, "%s: %s\n", names[kind], text);
}

static int setup(void **state)
{
	static const char *const undef_a[] = { "sym_ok", "sym_c", "sym_none", NULL };
	struct fixture *f = calloc(1, sizeof(*f));
	char dir[192];

	strcpy(f->root, "/tmp/kd-verify-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->moddir, sizeof(f->moddir), "%s/lib/modules/9.9.9", f->root);
	snprintf(f->init, sizeof(f->init), "%s/init-bin", f->root);
	snprintf(f->out, sizeof(f->out), "%s/initrd.img", f->root);
	snprintf(f->sysroot, sizeof(f->sysroot), "%s/sysroot", f->root);
	fake_ko(f->moddir, "kernel/a.ko", MODINFO_A, sizeof(MODINFO_A), undef_a);
	fake_ko(f->moddir, "kernel/lib/b.ko.xz", "license=GPL", 12, NULL);
	FAKE_KO(f->moddir, "kernel/lib/c.ko");
	FAKE_KO(f->moddir, "kernel/fs/ext4.ko");
	fake_put(f->moddir, "modules.dep", "kernel/a.ko: kernel/lib/b.ko.xz\n"
		 "kernel/lib/b.ko.xz:\nkernel/lib/c.ko:\nkernel/fs/ext4.ko:\n");
	fake_put(f->moddir, "modules.alias", "alias fs-ext4 ext4\n");
	fake_put(f->moddir, "modules.symbols", "alias symbol:sym_c c\n");
	fake_put(f->moddir, "modules.order", "kernel/lib/b.ko\nkernel/a.ko\nkernel/lib/c.ko\n"
		 "kernel/fs/ext4.ko\n");
	fake_put(f->moddir, "modules.builtin", "");
	fake_put(f->root, "boot/vmlinuz-9.9.9", "not a real kernel");
	fake_put(f->root, "boot/System.map-9.9.9", "ffffffff81000000 r __ksymtab_sym_ok\n");
	fake_put(f->root, "lib/firmware/fw/a.bin", "FIRMWARE");
	fake_put(f->root, "init-bin", "\x7f" "ELF fake init");
	chmod(f->init, 0755);
	snprintf(dir, sizeof(dir), "%s/sys", f->sysroot);
	fake_mkdirs(dir); /* a machine without the root's device */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (getenv("KD_TEST_LOG"))
		fprintf(stderr, "%s%s", f->log.s ? f->log.s : "", f->report.s ? f->report.s : "");
	kd_str_free(&f->log);
	kd_str_free(&f->report);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static void build(struct fixture *f)
{
	const char *argv[] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "--init", f->init,
			       "-o", f->out, "--add", "a", "--add", "ext4", "--root-default",
			       "/dev/vda", "--compress", "gzip", NULL };

	optind = 0;
	assert_int_equal(kd_cmd_build(sizeof(argv) / sizeof(argv[0]) - 1, (char **)argv), 0);
}

static int check(struct fixture *f, const char *kver, const char *image,
		 struct kd_check_counts *n)
{
	const struct kd_log log = { capture, &f->log, KD_LOG_DEBUG };
	struct kd_check_opts o = {
		.image = image, .ctx = { .root = f->root, .kver = kver, .log = log },
		.fstype = "ext4", .sysroot = f->sysroot, .report = add_line,
		.report_data = &f->report,
	};

	f->report.len = 0;
	kd_str_addz(&f->report, "");
	return kd_check_image(&log, &o, n);
}

static void assert_reported(struct fixture *f, const char *line)
{
	if (strstr(f->report.s, line) == NULL)
		fail_msg("expected \"%s\" in the report, got:\n%s", line, f->report.s);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct kd_check_counts n;
	char line[512];

	build(f);
	assert_int_equal(check(f, NULL, f->out, &n), 0);
	snprintf(line, sizeof(line), "note: checking %s: kernel 9.9.9, 3 modules\n", f->out);
	assert_reported(f, line);
	snprintf(line, sizeof(line), "ok: kernel 9.9.9: %s/lib/modules/9.9.9 and "
		 "%s/boot/vmlinuz-9.9.9\n", f->root, f->root);
	assert_reported(f, line);
	assert_reported(f, "ok: dependencies: 3 modules, 1 dependencies, all in the image or "
			"built in\n");
	assert_reported(f, "problem: module a needs symbol sym_c, exported by module c, which "
			"is not in the image\n");
	snprintf(line, sizeof(line), "problem: module a needs symbol sym_none, which neither "
		 "kernel 9.9.9 (%s/boot/System.map-9.9.9 (__ksymtab_ entries)) nor any module "
		 "exports\n", f->root);
	assert_reported(f, line);
	assert_null(strstr(f->report.s, "sym_ok"));
	/* no device here (the sysroot has none): the filesystem's module only */
	assert_reported(f, "warning: root /dev/vda: the chain cannot be detected (see the "
			"message above): its device chain was not checked\n");
	assert_reported(f, "ok: root /dev/vda: filesystem ext4: its module is in the image\n");
	assert_reported(f, "warning: module a names firmware not in the image: missing.bin\n");
	assert_reported(f, "ok: firmware: 2 files named, 1 in the image, 1 missing (not on the "
			"root chain)\n");
	assert_int_equal(n.problems, 2);
	assert_int_equal(n.warnings, 2);
}

static void test_other_kernel(void **state)
{
	struct fixture *f = *state;
	struct kd_check_counts n;
	char line[512];

	build(f);
	assert_int_equal(check(f, "0.0.0-none", f->out, &n), 0);
	assert_reported(f, "problem: the image is for kernel 9.9.9, not 0.0.0-none: its init "
			"refuses to run under another kernel\n");
	snprintf(line, sizeof(line), "problem: kernel 0.0.0-none: no module tree "
		 "%s/lib/modules/0.0.0-none (install the kernel's package); dependencies, "
		 "symbols and the root chain cannot be checked\n", f->root);
	assert_reported(f, line);
	assert_null(strstr(f->report.s, "dependencies:"));
	assert_int_equal(n.problems, 3);
}

/* A newc entry without data. */
static void newc(struct kd_str *s, const char *name, uint32_t mode)
{
	kd_str_printf(s, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", 1u,
		      mode, 0u, 0u, 1u, 0u, 0u, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	kd_str_add(s, name, strlen(name) + 1);
	while (s->len % 4)
		kd_str_add(s, "", 1);
}

static void test_not_an_image(void **state)
{
	struct fixture *f = *state;
	struct kd_check_counts n;
	struct kd_str cpio = { 0 };
	char path[192];

	snprintf(path, sizeof(path), "%s/junk", f->root);
	fake_put(f->root, "junk", "not an image");
	assert_true(check(f, NULL, path, &n) < 0);
	assert_non_null(strstr(f->log.s, "junk: at offset 0: neither a cpio archive"));
	/* an initramfs of another builder: no plan */
	newc(&cpio, "etc", S_IFDIR | 0755);
	newc(&cpio, "TRAILER!!!", 0);
	snprintf(path, sizeof(path), "%s/other.img", f->root);
	fake_write(path, cpio.s, cpio.len);
	kd_str_free(&cpio);
	assert_int_equal(check(f, NULL, path, &n), -ENOENT);
	assert_non_null(strstr(f->log.s, "no load plan (/etc/kindling/plan): not an image made "
			       "by kindling build"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_an_image, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
