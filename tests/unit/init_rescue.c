// SPDX-License-Identifier: MIT
/* The diagnostics printed when the root never appears. */
#include "unit.h"

#include <errno.h>

#include "init.h"
#include "init_test.h"

#define KVER "6.1.0-test-amd64"

static const struct tp_mod mods[] = {
	{ "virtio_blk", "/m/virtio_blk.ko", "", 0, { TP_END }, { TP_END } },
	{ "broken", "/m/broken.ko", "", 0, { TP_END }, { TP_END } },
	{ "unused", "/m/unused.ko", "", 0, { TP_END }, { TP_END } },
};

static int fake_open(void *data, const char *path)
{
	(void)data;
	return strstr(path, "broken") ? -ENOENT : 3;
}

static int fake_finit(void *data, int fd, const char *params, int flags)
{
	(void)data, (void)fd, (void)params, (void)flags;
	return 0;
}

static void fake_close(void *data, int fd)
{
	(void)data, (void)fd;
}

static void test_diagnose(void **state)
{
	static const struct ki_modload_ops ops = { fake_open, fake_finit, fake_close, NULL };
	struct tp_plan t = { .kver = KVER, .mods = mods, .n_mods = KI_ARRAY_SIZE(mods) };
	struct ki_ctx *c = calloc(1, sizeof(*c));
	struct ki_modload_cfg cfg;
	struct ki_blkdev *b;
	struct tlog tl;
	const char *log;
	size_t size;
	void *buf = tp_build(&t, &size);

	(void)state;
	tl_open(&tl, true);
	c->log = tl.log;
	ki_cmdline_init(&c->cmd);
	ki_cmdline_parse(&c->cmd, "root=UUID=deadbeef-0000-4000-8000-00000000beef", &c->log);
	assert_int_equal(ki_plan_adopt(&c->plan, buf, size, KVER, &c->log), 0);
	cfg = (struct ki_modload_cfg){ &c->plan, &c->cmd, &c->log, &ops, 2 };
	assert_int_equal(ki_modload_start(&c->ml, &cfg), 0);
	ki_modload_request(c->ml, 0);
	ki_modload_request(c->ml, 1);
	assert_int_equal(ki_modload_wait_all(c->ml, 5000), 0);
	b = ki_devs_add(&c->devs, "vda", NULL, 254, 0, 0);
	strcpy(b->id.type, "ext4");
	strcpy(b->id.uuid, "4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41");
	strcpy(b->id.label, "kd-root");
	b = ki_devs_add(&c->devs, "sda1", "sda", 8, 1, 1);
	strcpy(b->partuuid, "5eed1e55-01");
	b = ki_devs_add(&c->devs, "sr0", NULL, 11, 0, 0);
	b->error = -ENOMEDIUM;
	strcpy(c->unmatched[c->n_unmatched++], "pci:v00001234d00001111");
	c->n_unmatched_more = 3;
	ki_diagnose(c, "gave up waiting for the root device");
	log = tl_text(&tl);
	assert_non_null(strstr(log, "<3>kindling: gave up waiting for the root device: "
				    "root=UUID=deadbeef-0000-4000-8000-00000000beef"));
	assert_non_null(strstr(log, "block devices seen: 3"));
	assert_non_null(strstr(log, "kindling:   vda: TYPE=ext4 "
				    "UUID=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41 LABEL=kd-root"));
	assert_non_null(strstr(log, "sda1 on sda: TYPE=unknown UUID= LABEL= PARTUUID=5eed1e55-01"));
	assert_non_null(strstr(log, "sr0: TYPE=unknown UUID= LABEL= PARTUUID= PARTLABEL= "
				    "error=No medium found"));
	assert_non_null(strstr(log, "modules loaded: virtio_blk\n"));
	assert_non_null(strstr(log, "modules failed: broken(No such file or directory)\n"));
	assert_non_null(strstr(log, "matched: pci:v00001234d00001111 and 3 more\n"));
	assert_null(strstr(log, "unused"));
	ki_modload_stop(c->ml);
	ki_plan_free(&c->plan);
	tl_close(&tl);
	free(c);
}

static void test_diagnose_empty(void **state)
{
	struct ki_ctx *c = calloc(1, sizeof(*c));
	struct tlog tl;
	const char *log;

	(void)state;
	tl_open(&tl, true);
	c->log = tl.log;
	ki_cmdline_init(&c->cmd);
	ki_diagnose(c, "find the root device failed");
	log = tl_text(&tl);
	assert_non_null(strstr(log, "root=(none)"));
	assert_non_null(strstr(log, "load plan was not usable"));
	assert_non_null(strstr(log, "block devices seen: 0"));
	assert_non_null(strstr(log, "no module in the image matched: none"));
	tl_close(&tl);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnose),
		cmocka_unit_test(test_diagnose_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
