// SPDX-License-Identifier: MIT
/* The module database and modprobe-style resolution on a fake module tree. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		.moddir = f->moddir, .conf_dirs = dirs, .log.fn = capture,
		.log.data = &f->log, .log.prio = KD_LOG_DEBUG,
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
		kd_str_printf(&s, "%s%s", i ? " " : "", kd_db_mod(kd_ctx_db(ctx), l.insts[i]->mod)->name);
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
				      kd_db_mod(kd_ctx_db(ctx), st[j].mod)->name,
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

/* Table positions matching name by a scan of the whole table. */
static size_t brute_force(const struct kd_alias *t, size_t n, const char *name, uint32_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (kd_alias_match(&t[i], name))
			out[k++] = (uint32_t)i;
	return k;
}

/* The module names a scan gives, ordered as kmod: by alias_rank, then table order. */
static char *brute_force_names(struct kd_ctx *ctx, const char *name)
{
	struct kd_moddb *db = kd_ctx_db(ctx);
	uint32_t *pos = calloc(db->n_aliases + 1, sizeof(*pos));
	size_t n = brute_force(db->aliases, db->n_aliases, name, pos);
	struct kd_str s = { 0 };

	/* stable insertion sort by rank keeps table order among equals */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && kd_db_mod(db, db->aliases[pos[j - 1]].module)->alias_rank >
						kd_db_mod(db, db->aliases[pos[j]].module)->alias_rank; j--) {
			uint32_t t = pos[j];

			pos[j] = pos[j - 1];
			pos[j - 1] = t;
		}
	kd_str_addz(&s, "");
	for (size_t i = 0; i < n; i++)
		kd_str_printf(&s, "%s%s", i ? " " : "", kd_db_mod(db, db->aliases[pos[i]].module)->name);
	free(pos);
	return s.s;
}

/* The index finds what the scan finds, in the same order, and kd_lookup
 * orders those by (rank, table position) as before the index existed. */
static size_t check_same(struct kd_ctx *ctx, const char *given)
{
	struct kd_moddb *db = kd_ctx_db(ctx);
	uint32_t *want = calloc(db->n_aliases + 1, sizeof(*want)), *got;
	size_t nwant, ngot;
	char name[256], *names;

	assert_int_equal(kd_alias_normalize(given, name, sizeof(name)), 0); /* as kd_lookup */
	nwant = brute_force(db->aliases, db->n_aliases, name, want);
	kd_alias_index_find(&db->aliases_ix, db->aliases, db->n_aliases, name, &got, &ngot);
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_int_equal(got[i], want[i]);
	free(got);
	free(want);
	names = brute_force_names(ctx, name);
	ASSERT_NAMES(ctx, name, names);
	free(names);
	return nwant;
}

static void test_alias_index(void **state)
{
	struct fixture *f = *state;
	/* shared and overlapping prefixes, '*' first, '?', classes, duplicates */
	static const char extra[] =
		"alias pci:v00001234d00000001sv0sd0bc0sc0i0 m3\n" /* exact, again below */
		"alias pci:v00001234d00000001* m1\n"
		"alias * m4\n"
		"alias pci:v0000123[0-4]d* m2\n"
		"alias pci:v00001234d00000001sv0sd0bc0sc0i0 m5\n"
		"alias pci:v* m1\n"
		"alias *i0 m2\n"
		"alias p?i:v00001234* m3\n"
		"alias pci:[!u]* m4\n"
		"alias pci:v00001234d00000001sv?sd* m5\n"
		"alias pc m2\n"
		"alias pci m1\n"
		"alias pci:v00001234d00000001sv0sd0bc0sc0i0* m4\n";
	static const char *const names[] = {
		"pci:v00001234d00000001sv0sd0bc0sc0i0", "pci:v00001234d00000002sv0sd0bc0sc0i0",
		"pci:v00001239d00000001sv0sd0bc0sc0i0", "pci:v00001234d00000001sv0sd0bc0sc0i0x",
		"pxi:v00001234", "pci:u", "pci", "pc", "p", "xi0", "i0", "usb:v1-2x",
		"pci:v00001234d00000001svZsd",
	};
	struct kd_moddb *db;
	uint32_t *got;
	size_t ngot;

	assert_int_equal(open_ctx(f), 0);
	db = kd_ctx_db(f->ctx);
	for (int i = 0; i < 4; i++) /* the first lookups scan, then the index is built */
		ASSERT_NAMES(f->ctx, "usb:v1-2x", "e");
	assert_true(db->aliases_ix.built);
	/* more lines after the index was built: it must see them */
	kd_moddb_parse_alias(f->ctx, "extra.alias", extra, false);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_same(f->ctx, names[i]);
	assert_true(db->aliases_ix.built); /* rebuilt: most checks above used it */
	assert_int_equal(db->aliases_ix.n, db->n_aliases);
	/* the hand-worked answers, so the comparison above is not vacuous */
	/* ranks: d 0, a 1, m3 4, m1 5, m4 6, m2 7, m5 8 (first line of each) */
	ASSERT_NAMES(f->ctx, "pci:v00001234d00000001sv0sd0bc0sc0i0",
		     "d a m3 m3 m1 m1 m4 m4 m4 m2 m2 m5 m5");
	ASSERT_NAMES(f->ctx, "pc", "m4 m2");
	ASSERT_NAMES(f->ctx, "xyz", "m4");
	/* an exact hit and a wild one interleave in table order */
	kd_alias_index_find(&db->aliases_ix, db->aliases, db->n_aliases, "pci", &got, &ngot);
	assert_int_equal(ngot, 2);
	assert_string_equal(db->aliases[got[0]].pattern, "*");
	assert_string_equal(db->aliases[got[1]].pattern, "pci");
	free(got);
}

/* A fixed linear congruential sequence: the same "random" table every run. */
static uint32_t rnd(uint32_t *seed, uint32_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

/* Random patterns and names over a small alphabet: index == scan. */
static void test_alias_index_random(void **state)
{
	struct fixture *f = *state;
	static const char *const tok[] = { "a", "b", ":", "*", "?", "[ab]", "[!a]", "[a-b]" };
	uint32_t seed = 12345;
	struct kd_str text = { 0 };
	size_t hits = 0, multi = 0;

	assert_int_equal(open_ctx(f), 0);
	for (int i = 0; i < 400; i++) {
		int len = 1 + (int)rnd(&seed, 6);

		kd_str_addz(&text, "alias ");
		if (rnd(&seed, 3) != 0)
			kd_str_addz(&text, "x:"); /* most share the names' prefix */
		for (int j = 0; j < len; j++)
			kd_str_addz(&text, tok[rnd(&seed, rnd(&seed, 2) ? 3 : 8)]);
		kd_str_printf(&text, " r%u\n", (unsigned)rnd(&seed, 40));
	}
	kd_moddb_parse_alias(f->ctx, "random.alias", text.s, false);
	kd_str_free(&text);
	for (int i = 0; i < 600; i++) {
		char name[16] = "x:";
		int len = (int)rnd(&seed, 7);
		size_t n;

		for (int j = 0; j < len; j++)
			name[2 + j] = "ab:"[rnd(&seed, 3)];
		name[2 + len] = '\0';
		n = check_same(f->ctx, name);
		hits += n;
		multi += n > 1;
	}
	assert_true(hits > 2000); /* not vacuous: many patterns match */
	assert_true(multi > 300);
	assert_true(kd_ctx_db(f->ctx)->aliases_ix.built);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_moddir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fullpath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_index_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
