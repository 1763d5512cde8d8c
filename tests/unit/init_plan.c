// SPDX-License-Identifier: MIT
/* The init's plan reader: validation, refusal, lookups, alias matching. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>

#include "init.h"
#include "init_test.h"

#define KVER "6.1.0-test-amd64"

static const struct tp_mod mods[] = {
	/* 0 */ { "virtio", "/m/virtio.ko", "", 0, { TP_END }, { TP_END } },
	/* 1 */ { "virtio_pci", "/m/virtio_pci.ko", "", 0, { 0, TP_END }, { TP_END } },
	/* 2 */ { "virtio_blk", "/m/virtio_blk.ko", "", 0, { 0, TP_END }, { TP_END } },
	/* 3 */ { "ext4", "/m/ext4.ko", "", KP_MOD_FILESYSTEM, { TP_END }, { TP_END } },
	/* 4 */ { "i8042", "/m/i8042.ko", "", 0, { TP_END }, { TP_END } },
	/* 5 */ { "usb_storage", "/m/usb-storage.ko", "", 0, { TP_END }, { TP_END } },
	/* 6 */ { "hid_generic", "/m/hid-generic.ko", "", 0, { TP_END }, { TP_END } },
	/* 7 */ { "uas", "/m/uas.ko", "", 0, { TP_END }, { TP_END } },
};

static const struct tp_alias aliases[] = {
	{ "virtio:d00000002v*", 2 },
	{ "pci:v00001AF4d00001001sv*sd*bc*sc*i*", 1 },
	{ "pci:v00001AF4d*sv*sd*bc*sc*i*", 1 },
	{ "fs_ext4", 3 },
	{ "fs_ext3", 3 },
	{ "acpi*:PNP0303:*", 4 },
	{ "usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*", 5 },
	{ "usb:v*p*d*dc*dsc*dp*ic08isc06ip62in*", 7 },
	{ "usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*", 7 },
	{ "hid:b*g0001v*p*", 6 },
	{ "input:b*v*p*e*_e*1,*k*[0-9]*", 4 },
};

static const char *const builtins[] = { "zstd", "crc32c_generic", "sd_mod", "loop" };

static void *make(size_t *size)
{
	struct tp_plan t = { .kver = KVER, .default_root = "UUID=abcd", .root_timeout = 7,
			     .mods = mods, .n_mods = KI_ARRAY_SIZE(mods),
			     .aliases = aliases, .n_aliases = KI_ARRAY_SIZE(aliases),
			     .builtins = builtins, .n_builtins = KI_ARRAY_SIZE(builtins) };

	return tp_build(&t, size);
}

static int open_plan(struct ki_plan *pl, struct tlog *tl)
{
	size_t size;
	void *buf = make(&size);

	return ki_plan_adopt(pl, buf, size, KVER, &tl->log);
}

static void test_good(void **state)
{
	struct ki_plan pl;
	struct tlog tl;

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(open_plan(&pl, &tl), 0);
	assert_true(pl.loaded);
	assert_int_equal(ki_plan_n_modules(&pl), KI_ARRAY_SIZE(mods));
	assert_int_equal(ki_plan_find(&pl, "virtio_blk"), 2);
	assert_int_equal(ki_plan_find(&pl, "nope"), -ENOENT);
	assert_string_equal(ki_plan_name(&pl, 5), "usb_storage");
	assert_true(ki_plan_builtin(&pl, "sd_mod"));
	assert_true(ki_plan_builtin(&pl, "zstd"));
	assert_false(ki_plan_builtin(&pl, "ext4"));
	assert_int_equal(pl.p.hdr->root_timeout, 7);
	assert_string_equal(kp_str(&pl.p, pl.p.hdr->default_root), "UUID=abcd");
	assert_string_equal(tl_text(&tl), "");
	ki_plan_free(&pl);
	tl_close(&tl);
}

static void test_other_kernel(void **state)
{
	struct ki_plan pl;
	struct tlog tl;
	size_t size;
	void *buf = make(&size);

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(ki_plan_adopt(&pl, buf, size, "6.12.9-other", &tl.log), -EXDEV);
	assert_false(pl.loaded);
	assert_int_equal(ki_plan_n_modules(&pl), 0);
	assert_non_null(strstr(tl_text(&tl), KVER));
	assert_non_null(strstr(tl_text(&tl), "6.12.9-other"));
	tl_close(&tl);
}

static void refused(void *buf, size_t size, const char *why)
{
	struct ki_plan pl;
	struct tlog tl;

	tl_open(&tl, false);
	assert_int_equal(ki_plan_adopt(&pl, buf, size, KVER, &tl.log), -EINVAL);
	assert_false(pl.loaded);
	assert_false(ki_plan_builtin(&pl, "zstd"));
	assert_int_equal(ki_plan_match(&pl, "virtio:d00000002v00001AF4", NULL, NULL), 0);
	assert_non_null(strstr(tl_text(&tl), why));
	tl_close(&tl);
}

static void test_truncated(void **state)
{
	size_t size;
	void *buf = make(&size);

	(void)state;
	refused(buf, size - 4, "truncated");
	buf = make(&size);
	refused(buf, 20, "shorter than its header");
}

static void test_corrupt(void **state)
{
	struct kp_header *h;
	struct kp_module *m;
	uint32_t *deps;
	size_t size;
	void *buf;

	(void)state;
	buf = make(&size);
	memcpy(buf, "XINDLPLN", 8);
	refused(buf, size, "bad magic");

	buf = make(&size);
	h = buf;
	h->version = 99;
	refused(buf, size, "unsupported version");

	buf = make(&size);
	h = buf;
	h->aliases_off = (uint32_t)size;
	refused(buf, size, "outside the file");

	buf = make(&size);
	h = buf;
	deps = (uint32_t *)((char *)buf + h->deps_off);
	deps[0] = 1000;
	refused(buf, size, "out of range");

	/* module 1 (virtio_pci) made to depend on module 5: not in load order */
	buf = make(&size);
	h = buf;
	m = (struct kp_module *)((char *)buf + h->modules_off);
	deps = (uint32_t *)((char *)buf + h->deps_off);
	deps[m[1].deps_first] = 5;
	refused(buf, size, "before one it depends on");

	buf = make(&size);
	h = buf;
	((char *)buf)[h->strings_off + h->strings_size - 1] = 'x';
	refused(buf, size, "NUL-terminated");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/kindling-plan.XXXXXX";
	struct ki_plan pl;
	struct tlog tl;
	size_t size;
	void *buf = make(&size);
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	tl_open(&tl, false);
	assert_int_equal(ki_plan_load(&pl, path, KVER, &tl.log), 0);
	assert_int_equal(ki_plan_find(&pl, "ext4"), 3);
	ki_plan_free(&pl);
	unlink(path);
	assert_int_equal(ki_plan_load(&pl, path, KVER, &tl.log), -ENOENT);
	assert_non_null(strstr(tl_text(&tl), path));
	tl_close(&tl);
}

struct hits {
	int mods[16];
	int n;
};

static int collect(void *data, uint32_t mod)
{
	struct hits *h = data;

	h->mods[h->n++] = (int)mod;
	return 0;
}

static bool hit(const struct hits *h, int mod)
{
	for (int i = 0; i < h->n; i++)
		if (h->mods[i] == mod)
			return true;
	return false;
}

static struct hits match(struct ki_plan *pl, const char *alias)
{
	struct hits h = { .n = 0 };
	int n = ki_plan_match(pl, alias, collect, &h);

	assert_int_equal(n, h.n);
	return h;
}

static void test_match(void **state)
{
	struct ki_plan pl;
	struct tlog tl;
	struct hits h;

	(void)state;
	tl_open(&tl, false);
	assert_int_equal(open_plan(&pl, &tl), 0);
	h = match(&pl, "virtio:d00000002v00001AF4");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.mods[0], 2);
	/* two patterns of one module both match: reported twice */
	h = match(&pl, "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00");
	assert_int_equal(h.n, 2);
	assert_true(hit(&h, 1));
	/* the wildcard bus prefix "acpi*:" */
	h = match(&pl, "acpi:PNP0303:");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.mods[0], 4);
	/* every module an alias names: uas and usb_storage */
	h = match(&pl, "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00");
	assert_int_equal(h.n, 2);
	assert_true(hit(&h, 5) && hit(&h, 7));
	/* normalisation: fs-ext4 finds the fs_ext4 alias */
	h = match(&pl, "fs-ext4");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.mods[0], 3);
	/* '-' becomes '_' outside brackets, on both sides */
	h = match(&pl, "input:b0011v0001p0001eAB41-e0,1,4,11,14,k71,72,ram4,l0,1,2,sfw");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.mods[0], 4);
	h = match(&pl, "hid:b0003g0001v00000627p00000001");
	assert_true(hit(&h, 6));
	assert_int_equal(match(&pl, "pci:v00008086d00007010sv00000000sd00000000bc01sc01i80").n, 0);
	assert_int_equal(match(&pl, "platform:serial8250").n, 0);
	assert_int_equal(match(&pl, "fs-xfs").n, 0);
	/* an alias kmod refuses (an unbalanced bracket) matches nothing */
	assert_int_equal(match(&pl, "virtio:d00000002v]").n, 0);
	ki_plan_free(&pl);
	tl_close(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_other_kernel),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
