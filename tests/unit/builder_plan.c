// SPDX-License-Identifier: MIT
/* The load plan on a fake module tree: order, reasons, edges, cycles,
 * blacklists, --omit, built-ins, and the serialised form read back. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder_test.h"
#include "fake_ko.h"
#include "common/plan.h"

struct fixture {
	char root[64];
	char moddir[128];
	char confdir[128];
	struct kd_str log;
	struct kd_ctx *ctx;
	struct kd_wants w;
	struct kd_plan plan;
};

static const char *const modules[] = {
	"kernel/a.ko", "kernel/b.ko", "kernel/c.ko", "kernel/fs/myfs/myfs.ko", "kernel/pre.ko",
	"kernel/post.ko", "kernel/weak.ko", "kernel/bl.ko", "kernel/needbl.ko",
	"kernel/cyc1.ko", "kernel/cyc2.ko", "kernel/s1.ko", "kernel/s2.ko",
	"kernel/drivers/z-dash.ko.xz", "kernel/p1.ko", "kernel/p2.ko", NULL,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/kd-plan-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->moddir, sizeof(f->moddir), "%s/lib/modules/9.9.9", f->root);
	snprintf(f->confdir, sizeof(f->confdir), "%s/etc/modprobe.d", f->root);
	fake_mkdirs(f->confdir);
	for (size_t i = 0; modules[i]; i++)
		FAKE_KO(f->moddir, modules[i]);
	fake_put(f->moddir, "modules.dep",
	    "kernel/a.ko: kernel/b.ko kernel/c.ko\n"
	    "kernel/b.ko: kernel/c.ko\n"
	    "kernel/c.ko:\n"
	    "kernel/fs/myfs/myfs.ko: kernel/c.ko\n"
	    "kernel/pre.ko:\n"
	    "kernel/post.ko:\n"
	    "kernel/weak.ko:\n"
	    "kernel/bl.ko:\n"
	    "kernel/needbl.ko: kernel/bl.ko\n"
	    "kernel/cyc1.ko: kernel/cyc2.ko\n"
	    "kernel/cyc2.ko: kernel/cyc1.ko\n"
	    "kernel/s1.ko:\n"
	    "kernel/s2.ko: kernel/s1.ko\n"
	    "kernel/drivers/z-dash.ko.xz: kernel/c.ko\n"
	    "kernel/p1.ko:\n"
	    "kernel/p2.ko:\n");
	fake_put(f->moddir, "modules.alias",
	    "alias pci:v00001234d* a\n"
	    "alias fs-myfs myfs\n"
	    "alias crypto-foo pre\n"
	    "alias zz-last z_dash\n"
	    "alias nowhere-used cyc1\n");
	fake_put(f->moddir, "modules.softdep",
	    "softdep a pre: crypto-foo missing-thing post: post\n"
	    "softdep p1 post: p2\n"
	    "softdep p2 post: p1\n");
	fake_put(f->moddir, "modules.weakdep", "weakdep a weak\n");
	fake_put(f->moddir, "modules.builtin", "kernel/drivers/builtin1.ko\nkernel/fs/bfs.ko\n");
	fake_put(f->confdir, "test.conf",
	    "blacklist bl\n"
	    "options a x=1\n"
	    "options a y=2\n"
	    "alias my-alias b\n"
	    "softdep s1 pre: s2\n"
	    "install needb* /sbin/do-something\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_plan_free(&f->plan);
	kd_wants_free(&f->w);
	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static void open_ctx(struct fixture *f)
{
	const char *dirs[] = { f->confdir, NULL };
	struct kd_ctx_opts o = {
		.root = f->root, .kver = "9.9.9", .conf_dirs = dirs,
		.log.fn = capture, .log.data = &f->log, .log.prio = KD_LOG_DEBUG,
	};

	assert_int_equal(kd_ctx_new(&o, &f->ctx), 0);
}

/* Build a plan for "set test" names and --add names (NULL-terminated). */
static int plan_for(struct fixture *f, const char *const *set, const char *const *add,
		    const char *const *omit)
{
	struct kd_plan_opts o = { .omit = omit, .default_root = "UUID=1234" };

	while (omit && omit[o.n_omit])
		o.n_omit++;
	if (f->ctx == NULL)
		open_ctx(f);
	for (; add && *add; add++)
		kd_wants_add(&f->w, *add, "--add",
					      KD_WANT_LOAD | KD_WANT_REQUIRED);
	for (; set && *set; set++)
		kd_wants_add(&f->w, *set, "set test", 0);
	return kd_plan_build(f->ctx, &f->w, &o, &f->plan);
}

static int find(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (strcmp(kd_db_mod(kd_ctx_db(f->ctx), f->plan.mods[i].mod)->name, name) == 0)
			return (int)i;
	return -1;
}

static const char *name_at(struct fixture *f, uint32_t i)
{
	return kd_db_mod(kd_ctx_db(f->ctx), f->plan.mods[i].mod)->name;
}

/* "b c pre": the names of a list of plan indices. */
static char *names(struct fixture *f, const uint32_t *v, size_t n)
{
	struct kd_str s = { 0 };

	kd_str_addz(&s, "");
	for (size_t i = 0; i < n; i++)
		kd_str_printf(&s, "%s%s", i ? " " : "", name_at(f, v[i]));
	return s.s;
}

static void assert_list(struct fixture *f, const uint32_t *v, size_t n, const char *want)
{
	char *got = names(f, v, n);

	assert_string_equal(got, want);
	free(got);
}

static void test_order_reasons_edges(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "a", "not-a-module", NULL }, *add[] = { "fs-myfs", NULL };
	struct kd_str order = { 0 };
	const struct kd_plan_mod *a;

	assert_int_equal(plan_for(f, set, add, NULL), 0);
	for (size_t i = 0; i < f->plan.n; i++)
		kd_str_printf(&order, "%s%s", i ? " " : "", name_at(f, (uint32_t)i));
	/* deepest first; the softdep pre before, post after its module */
	assert_string_equal(order.s, "c b pre a myfs post weak");
	kd_str_free(&order);

	a = &f->plan.mods[find(f, "a")];
	assert_string_equal(a->reason, "set test");
	assert_string_equal(a->options, "x=1 y=2");
	assert_int_equal(a->flags, 0);
	assert_list(f, a->before, a->n_before, "b c pre");
	assert_list(f, a->after, a->n_after, "post");
	assert_string_equal(f->plan.mods[find(f, "b")].reason, "dependency of a");
	/* --add names are taken first: c is first reached from myfs */
	assert_string_equal(f->plan.mods[find(f, "c")].reason, "dependency of myfs");
	assert_string_equal(f->plan.mods[find(f, "pre")].reason, "soft dependency of a");
	assert_string_equal(f->plan.mods[find(f, "post")].reason, "soft dependency of a");
	assert_string_equal(f->plan.mods[find(f, "weak")].reason, "weak dependency of a");
	assert_int_equal(f->plan.mods[find(f, "weak")].n_before, 0);
	assert_string_equal(f->plan.mods[find(f, "myfs")].reason, "--add");
	assert_int_equal(f->plan.mods[find(f, "myfs")].flags,
			 KP_MOD_LOAD | KP_MOD_FILESYSTEM);
	assert_string_equal(f->plan.kver, "9.9.9");
	assert_string_equal(f->plan.default_root, "UUID=1234");
	/* a set name the kernel lacks is skipped, and said so */
	assert_non_null(strstr(f->log.s, "no module 'not-a-module'"));
}

static char *order_of(struct fixture *f)
{
	struct kd_str s = { 0 };

	for (size_t i = 0; i < f->plan.n; i++)
		kd_str_printf(&s, "%s%s", i ? " " : "", name_at(f, (uint32_t)i));
	return s.s;
}

static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	const char *set1[] = { "weak", "post", "a", NULL }, *set2[] = { "a", "post", NULL };
	char *o1, *o2;

	assert_int_equal(plan_for(f, set1, NULL, NULL), 0);
	o1 = order_of(f);
	kd_plan_free(&f->plan);
	kd_wants_free(&f->w);
	assert_int_equal(plan_for(f, set2, NULL, NULL), 0);
	o2 = order_of(f);
	/* the order asked in changes reasons, never the load order */
	assert_string_equal(o1, "c b pre a post weak");
	assert_string_equal(o2, o1);
	assert_string_equal(f->plan.mods[find(f, "weak")].reason, "weak dependency of a");
	free(o1);
	free(o2);
}

static void test_blacklist(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "bl", "needbl", NULL };
	int bl;

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	bl = find(f, "bl");
	assert_true(bl >= 0); /* needed by needbl: still in the image */
	assert_int_equal(f->plan.mods[bl].flags, KP_MOD_BLACKLISTED);
	assert_string_equal(f->plan.mods[bl].reason, "dependency of needbl");
}

/* install commands are reported, never run: the image loads the module */
static void test_install_reported(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "needbl", NULL };

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	assert_true(find(f, "needbl") >= 0);
	assert_non_null(strstr(f->log.s, "'install needb* /sbin/do-something' is not run at "
				 "boot: the image loads module needbl itself"));
}

static void test_blacklist_set_only(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "bl", NULL };

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	assert_int_equal(f->plan.n, 0);
	assert_non_null(strstr(f->log.s, "'bl' left out: it is blacklisted"));
}

static void test_blacklist_add(void **state)
{
	struct fixture *f = *state;
	const char *add[] = { "bl", NULL };

	assert_int_equal(plan_for(f, NULL, add, NULL), 0);
	assert_int_equal(f->plan.n, 1);
	assert_int_equal(f->plan.mods[0].flags, KP_MOD_LOAD | KP_MOD_BLACKLISTED);
}

static void test_hard_cycle(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "cyc2", NULL };

	assert_int_equal(plan_for(f, set, NULL, NULL), -ELOOP);
	assert_non_null(strstr(f->log.s, "dependency cycle: cyc1 -> cyc2 -> cyc1"));
	assert_int_equal(f->plan.n, 0);
}

static void test_softdep_cycle_dropped(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "s1", NULL }, *set2[] = { "p1", NULL };
	int s1, s2;

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	s1 = find(f, "s1");
	s2 = find(f, "s2");
	assert_true(s1 >= 0 && s2 >= 0 && s1 < s2);
	assert_int_equal(f->plan.mods[s1].n_before, 0); /* s2 needs s1: no s1 -> s2 */
	assert_list(f, f->plan.mods[s2].before, f->plan.mods[s2].n_before, "s1");
	assert_non_null(strstr(f->log.s, "soft dependency of s1 on s2 ignored"));

	/* post: each after the other; the second edge is the one dropped */
	kd_plan_free(&f->plan);
	kd_wants_free(&f->w);
	assert_int_equal(plan_for(f, set2, NULL, NULL), 0);
	assert_int_equal(f->plan.n, 2);
	assert_string_equal(name_at(f, 0), "p1");
	assert_list(f, f->plan.mods[0].after, f->plan.mods[0].n_after, "p2");
	assert_int_equal(f->plan.mods[1].n_after, 0);
	assert_non_null(strstr(f->log.s, "soft dependency of p2 on p1 ignored"));
}

static void test_add_unknown(void **state)
{
	struct fixture *f = *state;
	const char *add[] = { "no-such-module", NULL };

	assert_int_equal(plan_for(f, NULL, add, NULL), -ENOENT);
	assert_non_null(strstr(f->log.s, "--add: no module or alias 'no-such-module' in"));
}

static void test_builtin(void **state)
{
	struct fixture *f = *state;
	const char *add[] = { "builtin1", NULL };

	assert_int_equal(plan_for(f, NULL, add, NULL), 0);
	assert_int_equal(f->plan.n, 0);
	assert_int_equal(f->plan.n_builtins, 2);
	assert_string_equal(f->plan.builtins[0], "bfs");
	assert_string_equal(f->plan.builtins[1], "builtin1");
	assert_non_null(strstr(f->log.s, "'builtin1' is built into kernel 9.9.9"));
}

static void test_omit(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "a", "pre", NULL }, *omit[] = { "c", NULL };
	const char *add[] = { "b", NULL };

	assert_int_equal(plan_for(f, set, NULL, omit), 0);
	assert_int_equal(find(f, "a"), -1); /* needs c */
	assert_int_equal(find(f, "c"), -1);
	assert_true(find(f, "pre") >= 0);
	assert_non_null(strstr(f->log.s, "'a' left out: --omit c"));
	kd_plan_free(&f->plan);
	kd_wants_free(&f->w);
	assert_int_equal(plan_for(f, NULL, add, omit), -EINVAL);
	assert_non_null(strstr(f->log.s, "--add b: module 'b' needs 'c', which --omit leaves"));
}

static void test_aliases(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "a", "z-dash", NULL };
	char *path;

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	/* modules.alias and modprobe.d aliases of the image's modules, sorted */
	assert_int_equal(f->plan.n_aliases, 4);
	assert_string_equal(f->plan.aliases[0].pattern, "crypto_foo");
	assert_string_equal(name_at(f, f->plan.aliases[0].mod), "pre");
	assert_string_equal(f->plan.aliases[1].pattern, "my_alias");
	assert_string_equal(name_at(f, f->plan.aliases[1].mod), "b");
	assert_string_equal(f->plan.aliases[2].pattern, "pci:v00001234d*");
	assert_string_equal(f->plan.aliases[3].pattern, "zz_last");
	path = kd_plan_module_path(f->ctx, f->plan.mods[find(f, "z_dash")].mod);
	assert_string_equal(path, "/usr/lib/modules/9.9.9/kernel/drivers/z-dash.ko");
	free(path);
}

static void test_serialize_roundtrip(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "a", NULL }, *add[] = { "myfs", NULL };
	struct kp_plan p;
	struct kd_buf b;
	const char *err;

	assert_int_equal(plan_for(f, set, add, NULL), 0);
	assert_int_equal(kd_plan_serialize(f->ctx, &f->plan, &b), 0);
	err = kp_plan_open(&p, b.data, b.size);
	assert_null(err);
	assert_int_equal(p.hdr->n_modules, f->plan.n);
	assert_int_equal(p.hdr->n_aliases, f->plan.n_aliases);
	assert_int_equal(p.hdr->n_builtins, 2);
	assert_string_equal(kp_str(&p, p.hdr->kver), "9.9.9");
	assert_string_equal(kp_str(&p, p.hdr->default_root), "UUID=1234");
	assert_int_equal(p.hdr->root_timeout, 0);
	for (uint32_t i = 0; i < p.hdr->n_modules; i++) {
		const struct kp_module *m = &p.modules[i];
		const struct kd_plan_mod *pm = &f->plan.mods[i];
		char *path = kd_plan_module_path(f->ctx, pm->mod);

		assert_string_equal(kp_str(&p, m->name), name_at(f, i));
		assert_string_equal(kp_str(&p, m->path), path);
		assert_string_equal(kp_str(&p, m->options), pm->options);
		assert_string_equal(kp_str(&p, m->reason), pm->reason);
		assert_int_equal(m->flags, pm->flags);
		assert_int_equal(m->n_deps, pm->n_before);
		assert_int_equal(m->n_post, pm->n_after);
		for (uint32_t j = 0; j < m->n_deps; j++) {
			assert_int_equal(p.deps[m->deps_first + j], pm->before[j]);
			assert_true(p.deps[m->deps_first + j] < i); /* a valid serial order */
		}
		for (uint32_t j = 0; j < m->n_post; j++)
			assert_int_equal(p.deps[m->post_first + j], pm->after[j]);
		free(path);
	}
	for (uint32_t i = 0; i < p.hdr->n_aliases; i++) {
		assert_string_equal(kp_str(&p, p.aliases[i].pattern), f->plan.aliases[i].pattern);
		if (i > 0)
			assert_true(strcmp(kp_str(&p, p.aliases[i - 1].pattern),
					   kp_str(&p, p.aliases[i].pattern)) <= 0);
	}
	assert_string_equal(kp_str(&p, p.builtins[0]), "bfs");
	/* truncation and corruption are caught by the reader */
	assert_non_null(kp_plan_open(&p, b.data, b.size - 4));
	((struct kp_header *)b.data)->n_modules = 1000;
	assert_non_null(kp_plan_open(&p, b.data, b.size));
	kd_buf_free(&b);
}

static void test_print(void **state)
{
	struct fixture *f = *state;
	const char *set[] = { "a", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	assert_int_equal(plan_for(f, set, NULL, NULL), 0);
	m = open_memstream(&text, &len);
	kd_plan_print(f->ctx, &f->plan, m);
	fclose(m);
	assert_non_null(strstr(text, "a /usr/lib/modules/9.9.9/kernel/a.ko (set test)\n"
				     "\tbefore: b c pre\n\tafter: post\n\toptions: x=1 y=2\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_reasons_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blacklist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blacklist_set_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blacklist_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_softdep_cycle_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_omit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serialize_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
