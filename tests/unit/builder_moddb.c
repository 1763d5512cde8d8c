// SPDX-License-Identifier: MIT
/* The module database and modprobe-style resolution on a fake module tree. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"
#include "builder_test.h"

struct fixture {
	char dir[64];
	char moddir[128];
	char confdir[128];
	struct kd_str log;
	struct kd_ctx *ctx;
};

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

#define PUT(dir, name, text) put(dir, name, text, strlen(text))

static const char builtin_modinfo[] = "crc32c_generic.alias=crypto-crc32c\0"
				      "ext4.alias=fs-ext4\0garbage\0"
				      "unix.license=GPL\0truncated.alias=x";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/kd-moddb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->moddir, sizeof(f->moddir), "%s/lib/modules/9.9.9-test", f->dir);
	snprintf(f->confdir, sizeof(f->confdir), "%s/etc/modprobe.d", f->dir);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "mkdir -p %s/kernel %s && cd %s/kernel && "
			 "touch a.ko b.ko c-dash.ko d.ko.xz e.ko pre.ko post.ko",
			 f->moddir, f->confdir, f->moddir);
		assert_int_equal(system(cmd), 0);
	}
	PUT(f->moddir, "modules.dep",
	    "kernel/a.ko: kernel/b.ko kernel/c-dash.ko\n"
	    "kernel/b.ko: kernel/c-dash.ko\n"
	    "kernel/c-dash.ko:\n"
	    "kernel/d.ko.xz: kernel/b.ko kernel/c-dash.ko\n"
	    "this line has no colon\n"
	    "kernel/e.ko:\n"
	    "kernel/pre.ko:\n"
	    "kernel/post.ko:\n");
	PUT(f->moddir, "modules.alias",
	    "# Aliases extracted from modules themselves.\n"
	    "alias pci:v00001234d*sv*sd*bc*sc*i* d\n"
	    "alias pci:v0000123?d00000001* a\n"
	    "alias usb:v1-2* e\n"
	    "alias broken] e\n"
	    "alias short\n"
	    "alias fs-foo e\n");
	PUT(f->moddir, "modules.symbols", "alias symbol:b_helper b\n");
	PUT(f->moddir, "modules.softdep", "softdep a pre: pre post: post\n");
	PUT(f->moddir, "modules.builtin", "kernel/crypto/crc32c_generic.ko\nkernel/fs/ext4/ext4.ko\n");
	put(f->moddir, "modules.builtin.modinfo", builtin_modinfo, sizeof(builtin_modinfo) - 1);
	PUT(f->confdir, "x.conf", "options d foo=1\nalias myalias e\noptions myalias via=alias\n"
				  "blacklist d\ninstall inst /bin/true\n");
	*state = f;
	return 0;
}

static int open_ctx(struct fixture *f)
{
	const char *dirs[] = { f->confdir, NULL };
	struct kd_ctx_opts o = {
		.moddir = f->moddir, .conf_dirs = dirs, .log_fn = capture,
		.log_data = &f->log, .log_prio = KD_LOG_DEBUG,
	};

	return kd_ctx_new(&o, &f->ctx);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The names kd_lookup gives for a query, joined by spaces. */
static char *lookup_names(struct kd_ctx *ctx, const char *q)
{
	struct kd_lookup l;
	struct kd_str s = { 0 };

	assert_int_equal(kd_lookup(ctx, q, &l), 0);
	kd_str_addz(&s, "");
	for (size_t i = 0; i < l.n; i++)
		kd_str_printf(&s, "%s%s", i ? " " : "", kd_ctx_db(ctx)->mods[l.insts[i]->mod].name);
	kd_lookup_free(&l);
	return s.s;
}

static char *steps_of(struct kd_ctx *ctx, const char *q)
{
	struct kd_lookup l;
	struct kd_str s = { 0 };

	assert_int_equal(kd_lookup(ctx, q, &l), 0);
	kd_str_addz(&s, "");
	for (size_t i = 0; i < l.n; i++) {
		struct kd_step *st;
		size_t n;
		int r = kd_probe_steps(ctx, l.insts[i], NULL, &st, &n);

		assert_true(r >= 0);
		if (r == 1)
			kd_str_addz(&s, "[blacklisted]");
		for (size_t j = 0; j < n; j++)
			kd_str_printf(&s, "%s%s:%s%s%s%s", s.len ? " " : "",
				      st[j].kind == KD_STEP_INSMOD ? "insmod" :
				      st[j].kind == KD_STEP_BUILTIN ? "builtin" : "install",
				      kd_ctx_db(ctx)->mods[st[j].mod].name,
				      st[j].options[0] ? "(" : "", st[j].options,
				      st[j].options[0] ? ")" : "");
		kd_steps_free(st, n);
	}
	kd_lookup_free(&l);
	return s.s;
}

#define ASSERT_NAMES(ctx, q, want)                  \
	do {                                        \
		char *got_ = lookup_names(ctx, q);  \
		assert_string_equal(got_, want);    \
		free(got_);                         \
	} while (0)
#define ASSERT_STEPS(ctx, q, want)                  \
	do {                                        \
		char *got_ = steps_of(ctx, q);      \
		assert_string_equal(got_, want);    \
		free(got_);                         \
	} while (0)

static void test_lookup(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_ctx(f), 0);
	ASSERT_NAMES(f->ctx, "c-dash", "c_dash");
	/* kmod orders matches by the module's first line in modules.alias */
	ASSERT_NAMES(f->ctx, "pci:v00001234d00000001sv0sd0bc0sc0i0", "d a");
	ASSERT_NAMES(f->ctx, "usb:v1-2x", "e"); /* '-' normalised on both sides */
	ASSERT_NAMES(f->ctx, "symbol:b_helper", "b");
	ASSERT_NAMES(f->ctx, "myalias", "e");
	ASSERT_NAMES(f->ctx, "inst", "inst");
	ASSERT_NAMES(f->ctx, "ext4", "ext4");
	ASSERT_NAMES(f->ctx, "crypto-crc32c", "crc32c_generic");
	ASSERT_NAMES(f->ctx, "fs-ext4", "ext4");
	ASSERT_NAMES(f->ctx, "fs-foo", "e");
	ASSERT_NAMES(f->ctx, "nothing", "");
	ASSERT_NAMES(f->ctx, "bad]query", "");
	assert_non_null(strstr(f->log.s, "modules.dep line 5: ignoring line without ':'"));
	assert_non_null(strstr(f->log.s, "modules.alias line 5: ignoring alias with unmatched bracket"));
	assert_non_null(strstr(f->log.s, "modules.alias line 6: ignoring bad line"));
	assert_non_null(strstr(f->log.s, "modules.builtin.modinfo: ignoring malformed record"));
}

static void test_probe_order(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_ctx(f), 0);
	/* deepest dependency first; softdeps around the module */
	ASSERT_STEPS(f->ctx, "a", "insmod:c_dash insmod:b insmod:pre insmod:a insmod:post");
	ASSERT_STEPS(f->ctx, "d", "insmod:c_dash insmod:b insmod:d(foo=1 )");
	/* through an alias, a blacklisted module is skipped */
	ASSERT_STEPS(f->ctx, "pci:v00001234d00000002sv0sd0bc0sc0i0", "[blacklisted]");
	ASSERT_STEPS(f->ctx, "myalias", "insmod:e(via=alias )");
	ASSERT_STEPS(f->ctx, "inst", "install:inst");
	ASSERT_STEPS(f->ctx, "crypto-crc32c", "builtin:crc32c_generic");
}

static void test_missing_moddir(void **state)
{
	struct fixture *f = *state;

	strcat(f->moddir, "-nope");
	assert_int_equal(open_ctx(f), -2);
	assert_null(f->ctx);
	assert_non_null(strstr(f->log.s, "-nope: no such module directory"));
}

static void test_fullpath(void **state)
{
	struct fixture *f = *state;
	char *p;

	assert_int_equal(open_ctx(f), 0);
	p = kd_module_fullpath(f->ctx, (uint32_t)kd_module_find(f->ctx, "d"));
	assert_non_null(strstr(p, "/lib/modules/9.9.9-test/kernel/d.ko.xz"));
	free(p);
	assert_string_equal(kd_ctx_kver(f->ctx), "9.9.9-test");
	assert_int_equal(kd_module_find(f->ctx, "c-dash"), -1); /* callers normalise */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_moddir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fullpath, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
