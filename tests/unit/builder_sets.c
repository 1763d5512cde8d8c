// SPDX-License-Identifier: MIT
/* Module sets: every entry form against a fake module tree, malformed
 * lines, unknown and cyclic sets, directory precedence, default.list. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder_test.h"
#include "fake_ko.h"

struct fixture {
	char root[64];
	char moddir[128];
	char dir1[128], dir2[128];
	struct kd_str log;
	struct kd_ctx *ctx;
	struct kd_modcache cache;
	struct kd_sets *sets;
	struct kd_wants w;
};

static int setup(void **state)
{
	static const char *const disk[] = { "device_add_disk", "put_disk", NULL };
	static const char *const other[] = { "printk", NULL };
	struct fixture *f = calloc(1, sizeof(*f));
	const char *dirs[3];
	const char *noconf[] = { NULL };
	struct kd_ctx_opts o = { .kver = "9.9.9", .conf_dirs = noconf, .log.fn = capture,
				 .log.data = &f->log, .log.prio = KD_LOG_DEBUG };

	strcpy(f->root, "/tmp/kd-sets-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->moddir, sizeof(f->moddir), "%s/lib/modules/9.9.9", f->root);
	snprintf(f->dir1, sizeof(f->dir1), "%s/etc-sets", f->root);
	snprintf(f->dir2, sizeof(f->dir2), "%s/share-sets", f->root);
	fake_mkdirs(f->dir1);
	fake_mkdirs(f->dir2);
	FAKE_KO(f->moddir, "kernel/drivers/ata/ahci.ko");
	FAKE_KO(f->moddir, "kernel/drivers/ata/pata_x.ko");
	FAKE_KO(f->moddir, "kernel/drivers/ata/sub/deep.ko");
	fake_ko(f->moddir, "kernel/drivers/block/virtio_blk.ko.xz", "", 0, disk);
	fake_ko(f->moddir, "kernel/drivers/block/loop.ko", "", 0, disk);
	fake_ko(f->moddir, "kernel/drivers/block/helper.ko", "", 0, other);
	fake_ko(f->moddir, "kernel/drivers/scsi/sd_mod.ko", "", 0, disk);
	FAKE_KO(f->moddir, "kernel/fs/ext4/ext4.ko");
	FAKE_KO(f->moddir, "kernel/drivers/hid/hid-apple.ko");
	FAKE_KO(f->moddir, "kernel/drivers/hid/hid-generic.ko");
	fake_put(f->moddir, "modules.dep",
	    "kernel/drivers/ata/ahci.ko:\n"
	    "kernel/drivers/ata/pata_x.ko:\n"
	    "kernel/drivers/ata/sub/deep.ko:\n"
	    "kernel/drivers/block/virtio_blk.ko.xz:\n"
	    "kernel/drivers/block/loop.ko:\n"
	    "kernel/drivers/block/helper.ko:\n"
	    "kernel/drivers/scsi/sd_mod.ko:\n"
	    "kernel/fs/ext4/ext4.ko:\n"
	    "kernel/drivers/hid/hid-apple.ko:\n"
	    "kernel/drivers/hid/hid-generic.ko:\n");
	o.moddir = f->moddir;
	assert_int_equal(kd_ctx_new(&o, &f->ctx), 0);
	kd_modcache_init(&f->cache, f->ctx, 2);
	dirs[0] = f->dir1;
	dirs[1] = f->dir2;
	assert_int_equal(kd_sets_new(f->ctx, dirs, 2, &f->cache, &f->sets), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_wants_free(&f->w);
	kd_sets_free(f->sets);
	kd_modcache_free(&f->cache);
	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

/* "name(reason) ..." of the wants so far */
static char *wants_text(const struct kd_wants *w)
{
	struct kd_str s = { 0 };

	kd_str_addz(&s, "");
	for (size_t i = 0; i < kd_wants_count(w); i++) {
		const struct kd_want *it = kd_wants_at(w, i);

		kd_str_printf(&s, "%s%s(%s)", i ? " " : "", it->name, it->reason);
	}
	return s.s;
}

static void assert_wants(const struct kd_wants *w, const char *want)
{
	char *got = wants_text(w);

	assert_string_equal(got, want);
	free(got);
}

static void test_every_form(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kd_sets_parse(f->sets, "main", "main.set",
				       "# a comment line\n"
				       "ahci    # a trailing comment\n"
				       "\n"
				       "kernel/drivers/ata/\n"
				       "-pata_x\n"
				       "hid_*\n"
				       "symbol:device_add_disk kernel/drivers/block/\n"
				       "-loop\n"
				       "\t@other\n"
				       "crypto-foo\n"), 0);
	assert_int_equal(kd_sets_parse(f->sets, "other", "other.set",
				       "kernel/fs/ext4/*.ko\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "main", &f->w), 0);
	/* union in the order first listed, minus removals; names normalised */
	assert_wants(&f->w, "ahci(set main) deep(set main) hid_apple(set main) "
			    "hid_generic(set main) virtio_blk(set main) ext4(set other) "
			    "crypto_foo(set main)");
}

static void test_symbol_scope_and_suffix(void **state)
{
	struct fixture *f = *state;

	/* no scope: every module; "*.ko" matches a .ko.xz too */
	assert_int_equal(kd_sets_parse(f->sets, "s", "s.set",
				       "symbol:device_add_disk\n"
				       "kernel/drivers/block/*.ko\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "s", &f->w), 0);
	assert_wants(&f->w, "virtio_blk(set s) loop(set s) sd_mod(set s) helper(set s)");
	/* the scanned modules were read once, into the shared cache */
	assert_non_null(kd_modcache_get(&f->cache, (uint32_t)kd_module_find(f->ctx,
										  "virtio_blk")));
}

static void test_removal_of_set_and_symbol(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kd_sets_parse(f->sets, "big", "big.set",
				       "kernel/drivers/\n"
				       "-@ata\n"
				       "-symbol:device_add_disk kernel/drivers/scsi/\n"
				       "-kernel/drivers/hid/hid-apple.ko\n"), 0);
	assert_int_equal(kd_sets_parse(f->sets, "ata", "ata.set", "kernel/drivers/ata/\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "big", &f->w), 0);
	assert_wants(&f->w, "virtio_blk(set big) loop(set big) helper(set big) "
			    "hid_generic(set big)");
}

static void expect_bad(struct fixture *f, const char *text, const char *msg)
{
	f->log.len = 0;
	if (f->log.s)
		f->log.s[0] = '\0';
	assert_int_equal(kd_sets_parse(f->sets, "bad", "/x/bad.set", text), -EINVAL);
	if (f->log.s == NULL || strstr(f->log.s, msg) == NULL)
		fail_msg("for '%s' expected '%s', got '%s'", text, msg, f->log.s);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;

	expect_bad(f, "ahci\nfoo bar\n", "/x/bad.set line 2: one entry per line");
	expect_bad(f, "@\n", "/x/bad.set line 1: '@' must be followed by a set name");
	expect_bad(f, "@a/b\n", "line 1: '@' must be followed by a set name");
	expect_bad(f, "\n\nsymbol:\n", "/x/bad.set line 3: 'symbol:' needs a symbol name");
	expect_bad(f, "-\n", "line 1: '-' must be followed by the entry to remove");
	expect_bad(f, "/lib/modules/x.ko\n", "line 1: paths are relative to the module directory");
	expect_bad(f, "kernel/[abc\n", "line 1: unbalanced '[' or ']'");
	expect_bad(f, "symbol:x /abs/*\n", "line 1: a symbol's scope must be module path globs");
	expect_bad(f, "symbol:x foo\n", "line 1: a symbol's scope must be module path globs");
	/* nothing of a bad set is kept */
	assert_int_equal(kd_sets_expand(f->sets, "bad", &f->w), -ENOENT);
}

static void test_unknown(void **state)
{
	struct fixture *f = *state;
	char want[512];

	assert_int_equal(kd_sets_expand(f->sets, "nope", &f->w), -ENOENT);
	snprintf(want, sizeof(want), "unknown set 'nope' (no nope.set in %s, %s;", f->dir1,
		 f->dir2);
	assert_non_null(strstr(f->log.s, want));
	assert_int_equal(kd_sets_parse(f->sets, "inc", "inc.set", "ahci\n@missing\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "inc", &f->w), -ENOENT);
	assert_non_null(strstr(f->log.s, "inc.set line 2: unknown set 'missing'"));
	assert_int_equal(kd_sets_expand(f->sets, "../etc", &f->w), -EINVAL);
}

static void test_cycle(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kd_sets_parse(f->sets, "a", "a.set", "ahci\n@b\n"), 0);
	assert_int_equal(kd_sets_parse(f->sets, "b", "b.set", "\n@c\n"), 0);
	assert_int_equal(kd_sets_parse(f->sets, "c", "c.set", "@a\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "a", &f->w), -ELOOP);
	assert_non_null(strstr(f->log.s, "c.set line 1: sets include each other: a -> b -> c -> a"));
	/* a set included twice without a cycle is fine */
	assert_int_equal(kd_sets_parse(f->sets, "d", "d.set", "@e\n@e\n"), 0);
	assert_int_equal(kd_sets_parse(f->sets, "e", "e.set", "ahci\n"), 0);
	assert_int_equal(kd_sets_expand(f->sets, "d", &f->w), 0);
	assert_wants(&f->w, "ahci(set e)");
}

static void test_dirs_and_defaults(void **state)
{
	struct fixture *f = *state;
	char **names, path[256];
	size_t n;

	fake_put(f->dir1, "storage.set", "# the user's own\nahci\n");
	fake_put(f->dir2, "storage.set", "kernel/drivers/ata/\n");
	fake_put(f->dir2, "fs.set", "ext4\n");
	fake_put(f->dir2, "default.list", "# comment\nstorage fs\n\n  other-set\n");
	assert_int_equal(kd_sets_defaults(f->sets, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "storage");
	assert_string_equal(names[1], "fs");
	assert_string_equal(names[2], "other-set");
	kd_sets_names_free(names, n);
	/* the first directory's storage.set wins */
	assert_int_equal(kd_sets_expand(f->sets, "storage", &f->w), 0);
	assert_int_equal(kd_sets_expand(f->sets, "fs", &f->w), 0);
	assert_wants(&f->w, "ahci(set storage) ext4(set fs)");

	fake_put(f->dir1, "default.list", "storage\nbad/name\n");
	assert_int_equal(kd_sets_defaults(f->sets, &names, &n), -EINVAL);
	assert_null(names);
	assert_non_null(strstr(f->log.s, "default.list line 2: 'bad/name' is not a set name"));
	snprintf(path, sizeof(path), "%s/default.list", f->dir1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/default.list", f->dir2);
	unlink(path);
	assert_int_equal(kd_sets_defaults(f->sets, &names, &n), -ENOENT);
	assert_non_null(strstr(f->log.s, "no default.list in"));
}

static void test_file_errors_named(void **state)
{
	struct fixture *f = *state;
	char want[256];

	fake_put(f->dir2, "broken.set", "ahci\n\n-\n");
	assert_int_equal(kd_sets_expand(f->sets, "broken", &f->w), -EINVAL);
	snprintf(want, sizeof(want), "%s/broken.set line 3:", f->dir2);
	assert_non_null(strstr(f->log.s, want));
}

static void test_wants_dedupe(void **state)
{
	struct fixture *f = *state;

	kd_wants_add(&f->w, "ahci", "set storage", 0);
	kd_wants_add(&f->w, "ahci", "--add", KD_WANT_LOAD);
	assert_int_equal(kd_wants_count(&f->w), 1);
	assert_string_equal(kd_wants_at(&f->w, 0)->reason, "set storage");
	assert_int_equal(kd_wants_at(&f->w, 0)->flags, KD_WANT_LOAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symbol_scope_and_suffix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal_of_set_and_symbol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirs_and_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wants_dedupe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
