// SPDX-License-Identifier: MIT
/*
 * depgen on made-up module trees (tests/unit/elfgen.h).  The expected texts
 * of the first tree are what kmod 30's `depmod -b` wrote for that very tree:
 * modules outside modules.order in kmod's hash order, updates/ winning over
 * kernel/, a symbol exported twice, xz and zstd modules, build/ ignored.
 * Then cycles (reported by name, no hang), damaged modules (listed, named in
 * a warning), an empty tree and a missing one.
 */
#include "unit.h"

#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "builder_test.h"
#include "moddb/internal.h"
#include "elfgen.h"

struct t {
	struct kd_ctx ctx;
	struct kd_str log;
	char dir[64];
	char moddir[128];
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
	t->ctx.log.prio = KD_LOG_INFO;
	kd_str_addz(&t->log, "");
	strcpy(t->dir, "/tmp/kd-depgen-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->moddir, sizeof(t->moddir), "%s/lib/modules/1.0.0-test", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[160];

	if (getenv("KD_TEST_LOG"))
		fputs(t->log.s, stderr);
	if (getenv("KD_TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
		assert_int_equal(system(cmd), 0);
	} else {
		fprintf(stderr, "kept %s\n", t->dir);
	}
	kd_str_free(&t->log);
	free(t);
	return 0;
}

static void assert_logged(struct t *t, const char *what)
{
	if (strstr(t->log.s, what) == NULL)
		fail_msg("expected \"%s\" in the log, got: %s", what, t->log.s);
}

static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

static void write_file(struct t *t, const char *rel, const void *data, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->moddir, rel);
	mkdirs(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void compress_put(struct t *t, const char *rel, const unsigned char *data,
			 size_t n)
{
	size_t cap = n * 2 + 1024, used = 0;
	unsigned char *c = malloc(cap);
	const char *ext = strrchr(rel, '.');

	if (strcmp(ext, ".xz") == 0) {
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, data,
							 n, c, &used, cap),
				 LZMA_OK);
	} else if (strcmp(ext, ".zst") == 0) {
		used = ZSTD_compress(c, cap, data, n, 3);
		assert_false(ZSTD_isError(used));
	} else {
		memcpy(c, data, n);
		used = n;
	}
	write_file(t, rel, c, used);
	free(c);
}

/* A module: modinfo given as "k=v\0k=v" text, names NULL-terminated. */
static void module(struct t *t, const char *rel, const char *mi, size_t mi_len,
		   const char *const *exports, const char *const *undef)
{
	struct elfgen o = { .modinfo = mi,
			    .modinfo_len = mi_len,
			    .exports = exports,
			    .crc = true,
			    .undef = undef };
	size_t n, shoff;
	unsigned char *f = elfgen_build(&o, &n, &shoff);

	compress_put(t, rel, f, n);
	free(f);
}

#define MI(s) s, sizeof(s)
#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

static void run(struct t *t, struct kd_depgen *g)
{
	assert_int_equal(kd_depgen_run(&t->ctx, t->moddir, g), 0);
	if (getenv("KD_TEST_LOG"))
		fprintf(stderr,
			"--- dep\n%s--- alias\n%s--- softdep\n%s--- weakdep\n%s"
			"--- symbols\n%s",
			g->dep, g->alias, g->softdep, g->weakdep, g->symbols);
}

/* ---- a tree checked against depmod -------------------------------------------- */

static void make_tree(struct t *t)
{
	static const char order[] = "kernel/c-dash.ko\nkernel/a.ko\nkernel/b.ko\n"
				    "kernel/d.ko\nkernel/gone.ko\n\nkernel/net/zeta.ko\n";

	module(t, "kernel/a.ko",
	       MI("alias=pci:v00001234d*sv*\0alias=usb:v1-2*\0"
		  "softdep=pre: c_dash\0weakdep=d\0license=GPL"),
	       NONE, NAMES("b_fn", "printk", "c_fn", "dup_fn"));
	module(t, "kernel/b.ko", MI("license=GPL"), NAMES("b_fn", "b_old"),
	       NAMES("c_fn"));
	module(t, "updates/b.ko", MI("license=GPL\0alias=b-new"), NAMES("b_fn", "b_new"),
	       NAMES("c_fn"));
	module(t, "kernel/c-dash.ko", MI("alias=fs-c\0softdep=post: zeta"),
	       NAMES("c_fn", "dup_fn"), NONE);
	module(t, "kernel/d.ko.xz", MI("license=GPL"), NAMES("d_fn"),
	       NAMES("module_layout"));
	module(t, "kernel/sub/e.ko.zst", MI("alias=e-alias"), NONE,
	       NAMES("d_fn", "b_fn"));
	module(t, "kernel/net/zeta.ko", MI("weakdep=alpha"), NAMES("zeta_fn"),
	       NAMES("dup_fn"));
	module(t, "kernel/alpha.ko", MI("x=y"), NAMES("dup_fn"), NAMES("e_missing"));
	module(t, "kernel/mid-name.ko", MI("x=y"), NONE, NAMES("zeta_fn"));
	module(t, "kernel/x1.ko", MI("x=y"), NONE, NONE);
	module(t, "kernel/a-rather-long-module-name.ko", MI("x=y"), NONE,
	       NAMES("alpha_fn"));
	module(t, "build/ignored.ko", MI("x=y"), NAMES("b_fn"), NONE);
	module(t, "kernel/source/ignored2.ko", MI("x=y"), NONE, NONE);
	module(t, "kernel/not-a-module.o", MI("x=y"), NONE, NONE);
	write_file(t, "modules.order", order, strlen(order));
}

/* kmod 30: depmod -b DIR 1.0.0-test, on the tree make_tree() writes */
static const char want_dep[] =
	"kernel/c-dash.ko:\n"
	"kernel/a.ko: kernel/alpha.ko updates/b.ko kernel/c-dash.ko\n"
	"kernel/d.ko.xz:\n"
	"kernel/net/zeta.ko: kernel/alpha.ko\n"
	"updates/b.ko: kernel/c-dash.ko\n"
	"kernel/alpha.ko:\n"
	"kernel/x1.ko:\n"
	"kernel/a-rather-long-module-name.ko:\n"
	"kernel/mid-name.ko: kernel/net/zeta.ko kernel/alpha.ko\n"
	"kernel/sub/e.ko.zst: kernel/d.ko.xz updates/b.ko kernel/c-dash.ko\n";
static const char want_alias[] = "# Aliases extracted from modules themselves.\n"
				 "alias fs-c c_dash\n"
				 "alias pci:v00001234d*sv* a\n"
				 "alias usb:v1-2* a\n"
				 "alias b-new b\n"
				 "alias e-alias e\n";
static const char want_softdep[] =
	"# Soft dependencies extracted from modules themselves.\n"
	"softdep c_dash post: zeta\n"
	"softdep a pre: c_dash\n";
static const char want_symbols[] = "# Aliases for symbols, used by symbol_request().\n"
				   "alias symbol:dup_fn alpha\n"
				   "alias symbol:d_fn d\n"
				   "alias symbol:b_fn b\n"
				   "alias symbol:b_new b\n"
				   "alias symbol:zeta_fn zeta\n"
				   "alias symbol:c_fn c_dash\n";
static const char want_symbols2[] = "# Aliases for symbols, used by symbol_request().\n"
				    "alias symbol:dup_fn c_dash\n"
				    "alias symbol:d_fn d\n"
				    "alias symbol:b_fn b\n"
				    "alias symbol:b_new b\n"
				    "alias symbol:zeta_fn zeta\n"
				    "alias symbol:c_fn c_dash\n";
/* as kmod 33 writes it (kmod 30 has no weakdep) */
static const char want_weakdep[] =
	"# Weak dependencies extracted from modules themselves.\n"
	"weakdep a d\n"
	"weakdep zeta alpha\n";

static void test_tree_like_depmod(void **state)
{
	struct t *t = *state;
	struct kd_depgen g;

	make_tree(t);
	run(t, &g);
	assert_string_equal(g.dep, want_dep);
	assert_string_equal(g.alias, want_alias);
	assert_string_equal(g.softdep, want_softdep);
	assert_string_equal(g.symbols, want_symbols);
	assert_string_equal(g.weakdep, want_weakdep);
	kd_depgen_free(&g);
	assert_null(g.dep);
	/* a trailing slash names the same tree */
	strcat(t->moddir, "/");
	run(t, &g);
	assert_string_equal(g.dep, want_dep);
	kd_depgen_free(&g);
}

/* Without modules.order every module is in kmod's hash order of names. */
static void test_tree_without_order(void **state)
{
	static const char want[] =
		"kernel/net/zeta.ko: kernel/c-dash.ko\n"
		"updates/b.ko: kernel/c-dash.ko\n"
		"kernel/alpha.ko:\n"
		"kernel/x1.ko:\n"
		"kernel/a-rather-long-module-name.ko:\n"
		"kernel/mid-name.ko: kernel/net/zeta.ko kernel/c-dash.ko\n"
		"kernel/d.ko.xz:\n"
		"kernel/a.ko: updates/b.ko kernel/c-dash.ko\n"
		"kernel/sub/e.ko.zst: kernel/d.ko.xz updates/b.ko kernel/c-dash.ko\n"
		"kernel/c-dash.ko:\n";
	struct t *t = *state;
	struct kd_depgen g;
	char path[256];

	make_tree(t);
	snprintf(path, sizeof(path), "%s/modules.order", t->moddir);
	assert_int_equal(unlink(path), 0);
	run(t, &g);
	assert_string_equal(g.dep, want);
	/* dup_fn: c_dash is now last of its exporters in the array */
	assert_string_equal(g.symbols, want_symbols2);
	kd_depgen_free(&g);
}

/* ---- cycles ----------------------------------------------------------------------- */

static void test_cycles(void **state)
{
	static const char order[] =
		"kernel/top.ko\nkernel/x.ko\nkernel/y.ko\nkernel/z.ko\n"
		"kernel/below.ko\nkernel/self.ko\n";
	struct t *t = *state;
	struct kd_depgen g;

	/* top -> x -> y -> z -> x, z -> below; self -> self */
	module(t, "kernel/top.ko", MI("a=b"), NONE, NAMES("x_fn"));
	module(t, "kernel/x.ko", MI("a=b"), NAMES("x_fn"), NAMES("y_fn"));
	module(t, "kernel/y.ko", MI("a=b"), NAMES("y_fn"), NAMES("z_fn"));
	module(t, "kernel/z.ko", MI("a=b"), NAMES("z_fn"), NAMES("x_fn", "below_fn"));
	module(t, "kernel/below.ko", MI("a=b"), NAMES("below_fn"), NONE);
	module(t, "kernel/self.ko", MI("a=b"), NAMES("self_fn"), NAMES("self_fn"));
	write_file(t, "modules.order", order, strlen(order));
	run(t, &g);
	assert_logged(t, "Cycle detected: x -> y -> z -> x");
	assert_logged(t, "Cycle detected: self -> self");
	assert_logged(t, "Found 4 modules in dependency cycles!");
	/* every module has its line, listing what it reaches but itself */
	assert_non_null(strstr(g.dep, "kernel/top.ko: "));
	assert_non_null(strstr(g.dep, "kernel/below.ko:\n"));
	assert_non_null(strstr(g.dep, "kernel/self.ko:\n"));
	assert_non_null(
		strstr(g.dep, "kernel/x.ko: kernel/y.ko kernel/z.ko kernel/below.ko\n"));
	kd_depgen_free(&g);
}

/* ---- damaged trees ------------------------------------------------------------ */

static void test_damaged_module(void **state)
{
	static const char garbage[] = "this is not an ELF file at all";
	struct t *t = *state;
	struct kd_depgen g;

	module(t, "kernel/good.ko", MI("alias=good-alias"), NONE, NAMES("bad_fn"));
	write_file(t, "kernel/bad.ko", garbage, sizeof(garbage));
	write_file(t, "kernel/cut.ko.xz",
		   "\xfd"
		   "7zXZ\0\0\0\0",
		   10);
	run(t, &g);
	assert_logged(t, "kernel/bad.ko: not an ELF file");
	/* said once, not by each reader */
	assert_null(
		strstr(strstr(t->log.s, "bad.ko: not an ELF") + 1, "bad.ko: not an ELF"));
	assert_logged(t, "kernel/bad.ko: listed in modules.dep with what could be read");
	assert_logged(t, "kernel/cut.ko.xz: cannot decompress (xz)");
	assert_non_null(strstr(g.dep, "kernel/bad.ko:\n"));
	assert_non_null(strstr(g.dep, "kernel/cut.ko.xz:\n"));
	assert_non_null(strstr(g.dep, "kernel/good.ko:\n"));
	assert_string_equal(g.alias, "# Aliases extracted from modules themselves.\n"
				     "alias good-alias good\n");
	kd_depgen_free(&g);
}

static void test_corrupt_order_file(void **state)
{
	static const char order[] = "kernel/a.ko\nkernel/b.ko"; /* no final newline */
	struct t *t = *state;
	struct kd_depgen g;

	module(t, "kernel/a.ko", MI("a=b"), NONE, NONE);
	module(t, "kernel/b.ko", MI("a=b"), NONE, NONE);
	write_file(t, "modules.order", order, strlen(order));
	run(t, &g);
	assert_logged(t, "modules.order line 2: no newline at its end");
	/* depmod then ignores the file: hash order, where b comes first */
	assert_string_equal(g.dep, "kernel/b.ko:\nkernel/a.ko:\n");
	kd_depgen_free(&g);
}

static void test_empty_and_missing(void **state)
{
	struct t *t = *state;
	struct kd_depgen g;

	write_file(t, "modules.order", "", 0);
	run(t, &g);
	assert_string_equal(g.dep, "");
	assert_string_equal(g.alias, "# Aliases extracted from modules themselves.\n");
	assert_string_equal(g.symbols,
			    "# Aliases for symbols, used by symbol_request().\n");
	kd_depgen_free(&g);

	strcat(t->moddir, "/nowhere");
	assert_int_equal(kd_depgen_run(&t->ctx, t->moddir, &g), -ENOENT);
	assert_logged(t, "/nowhere: cannot open the module directory");
	assert_null(g.dep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tree_like_depmod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_without_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_order_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_missing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
