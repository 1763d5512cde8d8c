// SPDX-License-Identifier: MIT
/* The kernel command line: every root= form, quoting, bad values, modules. */
#include "unit.h"

#include <errno.h>

#include "init.h"
#include "init_test.h"

static struct ki_cmdline cmd;

static int parse(const char *text, struct tlog *tl)
{
	ki_cmdline_init(&cmd);
	return ki_cmdline_parse(&cmd, text, &tl->log);
}

static void root_is(const char *text, enum ki_root_kind kind, const char *value)
{
	struct ki_root r;

	assert_int_equal(ki_root_parse(&r, text), 0);
	assert_int_equal(r.kind, kind);
	assert_string_equal(r.value, value);
}

static void test_root_forms(void **state)
{
	struct ki_root r;

	(void)state;
	root_is("/dev/vda", KI_ROOT_DEVNAME, "vda");
	root_is("/dev/nvme0n1p2", KI_ROOT_DEVNAME, "nvme0n1p2");
	root_is("UUID=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41", KI_ROOT_UUID,
		"4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41");
	root_is("UUID=ABCD-1234", KI_ROOT_UUID, "ABCD-1234");
	root_is("LABEL=kd-root", KI_ROOT_LABEL, "kd-root");
	root_is("PARTUUID=9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c", KI_ROOT_PARTUUID,
		"9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c");
	root_is("PARTUUID=5eed1e55-01", KI_ROOT_PARTUUID, "5eed1e55-01");
	root_is("PARTLABEL=kd-rootpart", KI_ROOT_PARTLABEL, "kd-rootpart");
	root_is("/dev/disk/by-uuid/4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41", KI_ROOT_UUID,
		"4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41");
	root_is("/dev/disk/by-label/my\\x20disk", KI_ROOT_LABEL, "my disk");
	root_is("/dev/disk/by-partuuid/5eed1e55-02", KI_ROOT_PARTUUID, "5eed1e55-02");
	root_is("/dev/disk/by-partlabel/root", KI_ROOT_PARTLABEL, "root");
	assert_int_equal(ki_root_parse(&r, "8:1"), 0);
	assert_int_equal(r.kind, KI_ROOT_DEVNUM);
	assert_int_equal(r.major, 8);
	assert_int_equal(r.minor, 1);
	assert_int_equal(ki_root_parse(&r, "fe01"), 0);
	assert_int_equal(r.kind, KI_ROOT_DEVNUM);
	assert_int_equal(r.major, 0xfe);
	assert_int_equal(r.minor, 1);
}

static void test_root_bad(void **state)
{
	struct ki_root r;
	char longer[400];

	(void)state;
	assert_int_equal(ki_root_parse(&r, "UUID="), -EINVAL);
	assert_int_equal(r.kind, KI_ROOT_NONE);
	assert_int_equal(ki_root_parse(&r, "LABEL="), -EINVAL);
	assert_int_equal(ki_root_parse(&r, "sda1"), -EINVAL);
	assert_int_equal(ki_root_parse(&r, "PARTUUID=abc/PARTNROFF=1"), -EINVAL);
	assert_int_equal(ki_root_parse(&r, "8:"), -EINVAL);
	assert_int_equal(ki_root_parse(&r, "/dev/disk/by-uuid/"), -EINVAL);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "UUID=", 5);
	assert_int_equal(ki_root_parse(&r, longer), -ENAMETOOLONG);
}

static void test_full(void **state)
{
	struct tlog tl;

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(parse("BOOT_IMAGE=/vmlinuz root=UUID=1234-ABCD rootfstype=ext4 "
			       "rootflags=noatime,commit=7 rw init=/sbin/init2 rootwait rootdelay=3 "
			       "rd.timeout=5 rd.debug quiet console=ttyS0 panic=-1 single", &tl), 0);
	assert_int_equal(cmd.root.kind, KI_ROOT_UUID);
	assert_string_equal(cmd.root.value, "1234-ABCD");
	assert_string_equal(cmd.root_text, "UUID=1234-ABCD");
	assert_string_equal(cmd.rootfstype, "ext4");
	assert_string_equal(cmd.rootflags, "noatime,commit=7");
	assert_string_equal(cmd.init, "/sbin/init2");
	assert_int_equal(cmd.rw, 1);
	assert_true(cmd.rootwait);
	assert_int_equal(cmd.rootdelay, 3);
	assert_int_equal(cmd.timeout, 5);
	assert_true(cmd.debug);
	assert_true(cmd.quiet);
	assert_int_equal(cmd.n_params, 0);
	assert_string_equal(tl_text(&tl), "");
	/* later wins; defaults */
	assert_int_equal(parse("rw ro", &tl), 0);
	assert_int_equal(cmd.rw, 0);
	assert_int_equal(cmd.timeout, -1);
	assert_int_equal(cmd.root.kind, KI_ROOT_NONE);
	assert_false(cmd.rootwait);
	tl_close(&tl);
}

static void test_quoting(void **state)
{
	struct tlog tl;
	char buf[256] = "";

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(parse("root=\"LABEL=my root\" \"rootflags=a,b\" mod.opt=\"x y z\" "
			       "\"mod.other=1\"  \t mod.flag -- root=/dev/sdz", &tl), 0);
	assert_int_equal(cmd.root.kind, KI_ROOT_LABEL);
	assert_string_equal(cmd.root.value, "my root");
	assert_string_equal(cmd.rootflags, "a,b");
	assert_int_equal(cmd.n_params, 3);
	assert_int_equal(ki_cmdline_module_params(&cmd, "mod", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "opt=\"x y z\" other=1 flag");
	tl_close(&tl);
}

static void test_modules(void **state)
{
	struct tlog tl;
	char buf[64] = "from_plan=1";

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(parse("modprobe.blacklist=ata-piix,floppy rd.modules-load=loop,dm-mod "
			       "modules-load=virtio_blk virtio-blk.queue_depth=64 loop.max_loop=4 "
			       "rd.unknown=1 printk.time=1", &tl), 0);
	assert_int_equal(cmd.n_blacklist, 2);
	assert_true(ki_cmdline_blacklisted(&cmd, "ata_piix"));
	assert_true(ki_cmdline_blacklisted(&cmd, "floppy"));
	assert_false(ki_cmdline_blacklisted(&cmd, "ahci"));
	assert_int_equal(cmd.n_load, 3);
	assert_string_equal(cmd.load[0], "loop");
	assert_string_equal(cmd.load[1], "dm_mod");
	assert_string_equal(cmd.load[2], "virtio_blk");
	assert_int_equal(ki_cmdline_module_params(&cmd, "virtio_blk", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "from_plan=1 queue_depth=64");
	buf[0] = '\0';
	assert_int_equal(ki_cmdline_module_params(&cmd, "loop", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "max_loop=4");
	buf[0] = '\0';
	assert_int_equal(ki_cmdline_module_params(&cmd, "ext4", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ki_cmdline_module_params(&cmd, "loop", buf, 8), -E2BIG);
	tl_close(&tl);
}

static void test_bad_values(void **state)
{
	struct tlog tl;
	const char *log;

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(parse("root=bogus rootdelay=soon rd.timeout=-1 init= rootfstype "
			       "modprobe.blacklist .x=1 rootdelay=5", &tl), 7);
	log = tl_text(&tl);
	assert_non_null(strstr(log, "root=bogus"));
	assert_non_null(strstr(log, "rootdelay=soon"));
	assert_non_null(strstr(log, "rd.timeout=-1"));
	assert_non_null(strstr(log, "init= "));
	assert_non_null(strstr(log, "rootfstype ("));
	assert_non_null(strstr(log, "modprobe.blacklist ("));
	assert_non_null(strstr(log, ".x=1"));
	assert_int_equal(cmd.root.kind, KI_ROOT_NONE);
	assert_int_equal(cmd.rootdelay, 5); /* the good one stays */
	assert_int_equal(cmd.timeout, -1);
	assert_null(cmd.init);
	tl_close(&tl);
}

static void test_hooks_fsck(void **state)
{
	struct tlog tl;
	const char *log;

	(void)state;
	tl_open(&tl, false);
	/* defaults: no break, fsck auto/preen */
	assert_int_equal(parse("root=/dev/vda", &tl), 0);
	assert_int_equal(cmd.breaks, 0);
	assert_int_equal(cmd.fsck_mode, KI_FSCK_AUTO);
	assert_int_equal(cmd.fsck_repair, KI_REPAIR_PREEN);
	/* rd.break alone is pre-switch (dracut's); several accumulate */
	assert_int_equal(parse("rd.break", &tl), 0);
	assert_int_equal(cmd.breaks, 1u << KI_STAGE_PRE_SWITCH);
	assert_int_equal(parse("rd.break=pre-mount rd.break=modules", &tl), 0);
	assert_int_equal(cmd.breaks, 1u << KI_STAGE_PRE_MOUNT | 1u << KI_STAGE_MODULES);
	assert_int_equal(parse("fsck.mode=force fsck.repair=yes", &tl), 0);
	assert_int_equal(cmd.fsck_mode, KI_FSCK_FORCE);
	assert_int_equal(cmd.fsck_repair, KI_REPAIR_YES);
	assert_int_equal(parse("fsck.mode=skip fsck.repair=no", &tl), 0);
	assert_int_equal(cmd.fsck_mode, KI_FSCK_SKIP);
	assert_int_equal(cmd.fsck_repair, KI_REPAIR_NO);
	assert_int_equal(parse("fsck.mode=force fsck.mode=auto fsck.repair=preen", &tl), 0);
	assert_int_equal(cmd.fsck_mode, KI_FSCK_AUTO);
	assert_int_equal(cmd.fsck_repair, KI_REPAIR_PREEN);
	/* none of them is a module parameter of "fsck" or "rd" */
	assert_int_equal(cmd.n_params, 0);
	assert_string_equal(tl_text(&tl), "");
	/* bad values: reported, the earlier good value stays */
	assert_int_equal(parse("fsck.mode=force rd.break=pre-pivot fsck.mode=sometimes "
			       "fsck.repair=maybe fsck.mode", &tl), 4);
	log = tl_text(&tl);
	assert_non_null(strstr(log, "rd.break=pre-pivot (not understood)"));
	assert_non_null(strstr(log, "fsck.mode=sometimes"));
	assert_non_null(strstr(log, "fsck.repair=maybe"));
	assert_non_null(strstr(log, "fsck.mode ("));
	assert_int_equal(cmd.breaks, 0);
	assert_int_equal(cmd.fsck_mode, KI_FSCK_FORCE);
	assert_int_equal(cmd.fsck_repair, KI_REPAIR_PREEN);
	/* the names both ways */
	for (int i = 0; i < KI_N_STAGES; i++)
		assert_int_equal(ki_stage_parse(ki_stage_name((enum ki_stage)i)), i);
	assert_string_equal(ki_stage_name(KI_STAGE_PRE_MOUNT), "pre-mount");
	assert_int_equal(ki_stage_parse("pre_mount"), -EINVAL);
	tl_close(&tl);
}

static void test_two_texts(void **state)
{
	struct tlog tl;

	(void)state;
	tl_open(&tl, false);
	ki_cmdline_init(&cmd);
	/* the plan's defaults first, then /proc/cmdline overriding them */
	assert_int_equal(ki_cmdline_parse(&cmd, "rd.timeout=9 root=LABEL=a loop.x=1", &tl.log), 0);
	assert_int_equal(ki_cmdline_parse(&cmd, "root=LABEL=b", &tl.log), 0);
	assert_string_equal(cmd.root.value, "b");
	assert_int_equal(cmd.timeout, 9);
	assert_string_equal(cmd.params[0].module, "loop");
	assert_string_equal(cmd.params[0].name, "x");
	assert_string_equal(cmd.params[0].value, "1");
	tl_close(&tl);
}

static void test_limits(void **state)
{
	struct tlog tl;
	static char big[KI_CMDLINE_MAX * 3];
	size_t n = 0;

	(void)state;
	tl_open(&tl, false);
	for (int i = 0; i < 80; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "m%d.p=1 ", i);
	assert_int_equal(parse(big, &tl), 80 - KI_MAX_PARAMS);
	assert_int_equal(cmd.n_params, KI_MAX_PARAMS);
	assert_non_null(strstr(tl_text(&tl), "too many"));
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(parse(big, &tl), 1);
	tl_close(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_forms), cmocka_unit_test(test_root_bad),
		cmocka_unit_test(test_full),       cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_modules),    cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_two_texts),  cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hooks_fsck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
