// SPDX-License-Identifier: MIT
/* Block devices from a fake sysfs and /dev, and matching root= against them. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "init.h"
#include "init_test.h"

#define FS_UUID "4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41"

static char dir[64];
static struct ki_devs devs;

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kindling-rootdev.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/*
	 * sys/class/block/{vda,vda1} link into sys/devices/.../block/vda[/vda1],
	 * as on a real system; dev/vda and dev/vda1 are image files standing
	 * in for the device nodes.
	 */
	assert_int_equal(ts_sh("cd %s && (mkdir -p sys/class/block dev"
			       " && mkdir -p sys/devices/virtio0/block/vda/vda1"
			       " && echo 254:0 > sys/devices/virtio0/block/vda/dev"
			       " && echo 254:1 > sys/devices/virtio0/block/vda/vda1/dev"
			       " && echo 1 > sys/devices/virtio0/block/vda/vda1/partition"
			       " && ln -s ../../devices/virtio0/block/vda sys/class/block/vda"
			       " && ln -s ../../devices/virtio0/block/vda/vda1 sys/class/block/vda1"
			       " && truncate -s 32M dev/vda"
			       " && printf 'label: gpt\\nstart=2048, size=20480, type=linux, "
			       "uuid=9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c, name=kd-rootpart\\n' | "
			       "sfdisk -q dev/vda"
			       " && mkfs.ext4 -q -F -U " FS_UUID " -L kd-root dev/vda1 10M)", dir), 0);
	memset(&devs, 0, sizeof(devs));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_rm_tree(dir);
	return 0;
}

static struct ki_blkdev *add(const char *name, struct tlog *tl)
{
	char sys[128], devdir[128];
	struct ki_blkdev *b = NULL;

	snprintf(sys, sizeof(sys), "%s/sys/class/block", dir);
	snprintf(devdir, sizeof(devdir), "%s/dev", dir);
	assert_int_equal(ki_blkdev_from_sysfs(&devs, sys, name, &b), 0);
	assert_int_equal(ki_blkdev_probe(b, devdir, &tl->log), 0);
	return b;
}

static bool matches(const char *root, const struct ki_blkdev *b)
{
	struct ki_root r;

	assert_int_equal(ki_root_parse(&r, root), 0);
	return ki_root_matches(&r, b);
}

static void test_devices(void **state)
{
	struct ki_blkdev *disk, *part;
	struct tlog tl;

	(void)state;
	tl_open(&tl, false);
	disk = add("vda", &tl);
	part = add("vda1", &tl);
	assert_int_equal(devs.n, 2);
	assert_int_equal(disk->major, 254);
	assert_int_equal(disk->partno, 0);
	assert_string_equal(disk->id.type, "gpt");
	assert_int_equal(disk->id.usage, KI_USE_TABLE);
	assert_int_equal(part->minor, 1);
	assert_int_equal(part->partno, 1);
	assert_string_equal(part->parent, "vda");
	assert_string_equal(part->id.type, "ext4");
	assert_string_equal(part->id.uuid, FS_UUID);
	assert_string_equal(part->partuuid, "9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c");
	assert_string_equal(part->partlabel, "kd-rootpart");
	/* every form of root= that names the partition, and none of the disk */
	assert_true(matches("UUID=" FS_UUID, part));
	assert_true(matches("UUID=4B1D0E2A-6C1F-4D7E-9A55-0E8D1F2C3A41", part));
	assert_true(matches("LABEL=kd-root", part));
	assert_false(matches("LABEL=KD-ROOT", part));
	assert_true(matches("PARTUUID=9E3C5A7B-2f1d-4c8e-b6a0-5d4e3f2a1b0c", part));
	assert_true(matches("PARTLABEL=kd-rootpart", part));
	assert_true(matches("/dev/disk/by-partlabel/kd-rootpart", part));
	assert_true(matches("/dev/vda1", part));
	assert_true(matches("254:1", part));
	assert_false(matches("/dev/vda", part));
	assert_false(matches("UUID=" FS_UUID, disk));
	assert_false(matches("PARTUUID=9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c", disk));
	assert_true(matches("/dev/vda", disk));
	/* the same name again updates the entry, it does not add one */
	add("vda1", &tl);
	assert_int_equal(devs.n, 2);
	assert_ptr_equal(ki_devs_find(&devs, "vda1"), part);
	tl_close(&tl);
}

static void test_missing(void **state)
{
	char sys[128];
	struct ki_blkdev *b = NULL;

	(void)state;
	snprintf(sys, sizeof(sys), "%s/sys/class/block", dir);
	assert_int_equal(ki_blkdev_from_sysfs(&devs, sys, "sdz", &b), -ENODEV);
	assert_true(ki_blkdev_skip("loop0"));
	assert_true(ki_blkdev_skip("ram15"));
	assert_true(ki_blkdev_skip("zram0"));
	assert_false(ki_blkdev_skip("sda"));
	assert_false(ki_blkdev_skip("nvme0n1p1"));
}

static void test_full_table(void **state)
{
	char name[16];

	(void)state;
	memset(&devs, 0, sizeof(devs));
	for (int i = 0; i < KI_MAX_DEVS; i++) {
		snprintf(name, sizeof(name), "sd%d", i);
		assert_non_null(ki_devs_add(&devs, name, NULL, 8, (unsigned)i, 0));
	}
	assert_null(ki_devs_add(&devs, "one-too-many", NULL, 8, 999, 0));
	assert_non_null(ki_devs_add(&devs, "sd3", NULL, 8, 3, 0)); /* an update still fits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_full_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
