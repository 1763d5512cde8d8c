// SPDX-License-Identifier: MIT
/* kindling.conf (builder/build/conffile.c): the parser, good and bad lines, the
 * order of the files, and `kindling build` taking its defaults from them. */
#include "unit.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder_test.h"
#include "fake_ko.h"
#include "common/plan.h"

struct fixture {
	char root[64];
	char path[256];
	struct kd_log logger;
	struct kd_str log;
	struct kd_buildconf c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/kd-conf-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->logger = (struct kd_log){ capture, &f->log, KD_LOG_DEBUG };
	kd_buildconf_init(&f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kd_buildconf_free(&f->c);
	kd_str_free(&f->log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void put(struct fixture *f, const char *name, const char *text)
{
	char *slash;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->root, name);
	slash = strrchr(f->path, '/');
	*slash = '\0';
	fake_mkdirs(f->path);
	*slash = '/';
	fake_write(f->path, text, strlen(text));
}

static int parse(struct fixture *f, const char *text)
{
	return kd_buildconf_parse(&f->logger, &f->c, "t.conf", text);
}

static void assert_logged(struct fixture *f, const char *want)
{
	if (f->log.s == NULL || strstr(f->log.s, want) == NULL)
		fail_msg("expected '%s' in the log: %s", want, f->log.s ? f->log.s : "(empty)");
}

static void test_good(void **state)
{
	struct fixture *f = *state;
	struct kd_buildconf *c = &f->c;

	assert_int_equal(parse(f,
		"# a comment\n"
		"\n"
		"   \t\n"
		"sets = storage  filesystems\tgeneric\n"
		"add=dm_crypt\n"
		"  omit = floppy pcspkr  \n"
		"compress = xz\n"
		"level = 9\n"
		"microcode = all\n"
		"cmdline = \"  quiet loglevel=3 \"\n"
		"root_timeout = 15\n"
		"default_root = UUID=1234-abcd\n"
		"hooks = lvm\n"
		"compress = \"lz4\"   \n"
		"level = 0"), 0);
	assert_null(f->log.s);
	assert_int_equal(c->sets.n, 3);
	assert_string_equal(c->sets.v[0], "storage");
	assert_string_equal(c->sets.v[2], "generic");
	assert_int_equal(c->adds.n, 1);
	assert_string_equal(c->adds.v[0], "dm_crypt");
	assert_int_equal(c->omits.n, 2);
	assert_string_equal(c->omits.v[1], "pcspkr");
	assert_string_equal(c->compress, "lz4"); /* the last one wins */
	assert_int_equal(c->level, 0);
	assert_string_equal(c->microcode, "all");
	assert_string_equal(c->cmdline, "  quiet loglevel=3 ");
	assert_int_equal(c->root_timeout, 15);
	assert_string_equal(c->default_root, "UUID=1234-abcd");
	assert_int_equal(c->hooks.n, 1);
}

static void test_unset(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "# nothing\n\n"), 0);
	assert_null(f->c.compress);
	assert_null(f->c.cmdline);
	assert_int_equal(f->c.level, -1);
	assert_int_equal(f->c.root_timeout, -1);
	assert_int_equal(f->c.sets.n, 0);
}

static void test_bad_lines(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f,
		"colour = blue\n"
		"compress zstd\n"
		"compress = bzip2\n"
		"level = fast\n"
		"level = 23\n"
		"root_timeout = -1\n"
		"cmdline = \"quiet\n"
		"cmdline = \"quiet\" extra\n"
		"= zstd\n"
		"add = ok_module\n"), -EINVAL);
	assert_logged(f, "t.conf line 1: unknown key 'colour' (known: sets, add, omit, "
		      "compress, level, microcode, cmdline, root_timeout, default_root, hooks, "
		      "hostonly)");
	assert_logged(f, "t.conf line 2: expected key = value");
	assert_logged(f, "t.conf line 3: compress: 'bzip2' is not one of zstd|xz|gzip|lz4|none");
	assert_logged(f, "t.conf line 4: level: 'fast' is not an integer from 0 to 22");
	assert_logged(f, "t.conf line 5: level: '23' is not an integer");
	assert_logged(f, "t.conf line 6: root_timeout: '-1' is not an integer");
	assert_logged(f, "t.conf line 7: cmdline: unterminated quote");
	assert_logged(f, "t.conf line 8: cmdline: unexpected text after the closing quote");
	assert_logged(f, "t.conf line 9: expected key = value");
	assert_null(strstr(f->log.s, "line 10"));
	assert_int_equal(f->c.adds.n, 1); /* good lines still read */
	assert_null(f->c.compress);
}

static void test_overlong_line(void **state)
{
	struct fixture *f = *state;
	size_t n = 5000;
	char *text = malloc(n + 32);

	strcpy(text, "add = ");
	memset(text + 6, 'x', n);
	strcpy(text + 6 + n, "\nlevel = 3\n");
	assert_int_equal(parse(f, text), -EINVAL);
	assert_logged(f, "t.conf line 1: longer than 4096 bytes");
	assert_int_equal(f->c.level, 3);
	assert_int_equal(f->c.adds.n, 0);
	free(text);
}

static void test_missing_value_and_empty(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "cmdline =\ndefault_root = \"\"\nadd =\n"), 0);
	assert_string_equal(f->c.cmdline, "");
	assert_string_equal(f->c.default_root, "");
	assert_int_equal(f->c.adds.n, 0);
	assert_int_equal(parse(f, "default_root = /dev/sda1 x\n"), -EINVAL);
	assert_logged(f, "t.conf line 1: default_root: a root= value cannot contain blanks");
}

/* kindling.conf, then conf.d in bytewise order: scalars later win, lists add. */
static void test_files_in_order(void **state)
{
	struct fixture *f = *state;
	struct kd_buildconf *c = &f->c;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/etc/kindling.conf.d", f->root);
	fake_mkdirs(dir);
	put(f, "etc/kindling.conf", "compress = xz\nlevel = 5\nadd = a\nsets = storage\n");
	put(f, "etc/kindling.conf.d/20-late.conf", "compress = gzip\nadd = c\n");
	put(f, "etc/kindling.conf.d/10-early.conf", "compress = lz4\nadd = b\nomit = x\n");
	put(f, "etc/kindling.conf.d/30-ignored.txt", "this is not read\n");
	put(f, "etc/kindling.conf.d/.hidden.conf", "neither is this\n");
	assert_int_equal(kd_buildconf_load(&f->logger, c, f->root, NULL), 0);
	assert_string_equal(c->compress, "gzip");
	assert_int_equal(c->level, 5);
	assert_int_equal(c->adds.n, 3);
	assert_string_equal(c->adds.v[0], "a");
	assert_string_equal(c->adds.v[1], "b");
	assert_string_equal(c->adds.v[2], "c");
	assert_int_equal(c->omits.n, 1);
	assert_int_equal(c->sets.n, 1);
}

static void test_config_file_and_errors(void **state)
{
	struct fixture *f = *state;
	char path[320];

	put(f, "etc/kindling.conf", "compress = xz\n");
	put(f, "other.conf", "level = 7\n");
	/* --config replaces both places */
	assert_int_equal(kd_buildconf_load(&f->logger, &f->c, f->root, f->path), 0);
	assert_null(f->c.compress);
	assert_int_equal(f->c.level, 7);
	/* no files at all is fine; a missing --config is not */
	snprintf(path, sizeof(path), "%s/nowhere", f->root);
	assert_int_equal(kd_buildconf_load(&f->logger, &f->c, path, NULL), 0);
	assert_int_equal(kd_buildconf_load(&f->logger, &f->c, NULL, path), -ENOENT);
	assert_logged(f, "nowhere: no such configuration file");
	/* the file's own path in errors */
	put(f, "bad.conf", "\n\nlevel = x\n");
	assert_int_equal(kd_buildconf_load(&f->logger, &f->c, NULL, f->path), -EINVAL);
	snprintf(path, sizeof(path), "%s line 3: level:", f->path);
	assert_logged(f, path);
}

/* ---- kindling build --------------------------------------------------- */

static void make_tree(struct fixture *f)
{
	static const char init[] = "\x7f" "ELF fake init";
	char dir[160];

	snprintf(dir, sizeof(dir), "%s/lib/modules/9.9.9", f->root);
	FAKE_KO(dir, "kernel/a.ko");
	FAKE_KO(dir, "kernel/b.ko");
	FAKE_KO(dir, "kernel/c.ko");
	put(f, "lib/modules/9.9.9/modules.dep", "kernel/a.ko:\nkernel/b.ko:\nkernel/c.ko:\n");
	put(f, "lib/modules/9.9.9/modules.alias", "");
	put(f, "lib/modules/9.9.9/modules.builtin", "");
	put(f, "sets/test.set", "a\n");
	put(f, "sets/default.list", "test\n");
	put(f, "etc/modprobe.d/empty.conf", "");
	put(f, "init-bin", init);
	chmod(f->path, 0755);
}

static int build(struct fixture *f, const char *e1, const char *e2, const char *e3)
{
	char sets[128], init[128], out[128], conf[128];
	const char *argv[32] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "-C", conf,
				 "--sets-dir", sets, "--init", init, "-o", out, "--force" };
	int argc = 15;

	snprintf(sets, sizeof(sets), "%s/sets", f->root);
	snprintf(init, sizeof(init), "%s/init-bin", f->root);
	snprintf(out, sizeof(out), "%s/initrd.img", f->root);
	snprintf(conf, sizeof(conf), "%s/etc/modprobe.d", f->root);
	if (e1)
		argv[argc++] = e1;
	if (e2)
		argv[argc++] = e2;
	if (e3)
		argv[argc++] = e3;
	optind = 0;
	return kd_cmd_build(argc, (char **)argv);
}

struct seen {
	char root[64], cmdline[128], mods[64];
	uint32_t timeout;
};

static void read_plan(struct fixture *f, struct seen *s)
{
	char path[128];
	struct kd_img img;
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	int found = 0;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/initrd.img", f->root);
	assert_int_equal(kd_img_open(&f->logger, path, 0, &img), 0);
	kd_cpio_init(&it, &f->logger, path, img.segs[0].data, img.segs[0].size, false);
	while (kd_cpio_next(&it, &e) == 1) {
		static _Alignas(8) unsigned char buf[1 << 16];
		struct kp_plan p = { 0 };

		if (strcmp(kd_cpio_path(e.name), KP_PLAN_PATH + 1) != 0)
			continue;
		assert_true(e.size <= sizeof(buf));
		memcpy(buf, e.data, e.size);
		assert_null(kp_plan_open(&p, buf, e.size));
		snprintf(s->root, sizeof(s->root), "%s", kp_str(&p, p.hdr->default_root));
		snprintf(s->cmdline, sizeof(s->cmdline), "%s", kp_str(&p, p.hdr->cmdline));
		s->timeout = p.hdr->root_timeout;
		for (uint32_t i = 0; i < p.hdr->n_modules; i++)
			strcat(s->mods, kp_str(&p, p.modules[i].name));
		found = 1;
	}
	kd_img_free(&img);
	assert_true(found);
}

static void test_build(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	char dir[128];

	make_tree(f);
	snprintf(dir, sizeof(dir), "%s/etc/kindling.conf.d", f->root);
	fake_mkdirs(dir);
	/* no configuration: the defaults */
	assert_int_equal(build(f, NULL, NULL, NULL), 0);
	read_plan(f, &s);
	assert_string_equal(s.root, "");
	assert_string_equal(s.cmdline, "");
	assert_string_equal(s.mods, "a");
	/* the files: later scalars win, lists accumulate */
	put(f, "etc/kindling.conf", "# base\nsets = generic\nadd = b\n"
	    "default_root = /dev/vda1\ncmdline = \"quiet\"\nroot_timeout = 9\n");
	put(f, "etc/kindling.conf.d/50-board.conf", "add = c\ncmdline = console=ttyS0\n");
	assert_int_equal(build(f, NULL, NULL, NULL), 0);
	read_plan(f, &s);
	assert_string_equal(s.root, "/dev/vda1");
	assert_string_equal(s.cmdline, "console=ttyS0");
	assert_int_equal(s.timeout, 9);
	assert_non_null(strstr(s.mods, "a"));
	assert_non_null(strstr(s.mods, "b"));
	assert_non_null(strstr(s.mods, "c"));
	/* the command line wins */
	assert_int_equal(build(f, "--root-default", "LABEL=x", "--root-timeout=3"), 0);
	read_plan(f, &s);
	assert_string_equal(s.root, "LABEL=x");
	assert_string_equal(s.cmdline, "console=ttyS0");
	assert_int_equal(s.timeout, 3);
	assert_int_equal(build(f, "--default-cmdline", "ro", NULL), 0);
	read_plan(f, &s);
	assert_string_equal(s.cmdline, "ro");
	/* --no-config and --config */
	assert_int_equal(build(f, "--no-config", NULL, NULL), 0);
	read_plan(f, &s);
	assert_string_equal(s.root, "");
	assert_string_equal(s.mods, "a");
	put(f, "alt.conf", "sets =\nadd = b\n");
	assert_int_equal(build(f, "--config", f->path, NULL), 0);
	read_plan(f, &s);
	assert_string_equal(s.mods, "b"); /* an add and no set: no generic */
	/* a bad file stops the build: exit 2 */
	put(f, "etc/kindling.conf.d/60-bad.conf", "compress = rar\n");
	assert_int_equal(build(f, NULL, NULL, NULL), 2);
	assert_int_equal(build(f, "--root-timeout", "x", NULL), 2);
}

/* ---- the precedence, over the structs (settings.c) -------------------- */

static void settle(struct fixture *f, const char *conf, const struct kd_build_opts *o,
		   struct kd_build_settings *s, int want)
{
	kd_buildconf_free(&f->c);
	assert_int_equal(parse(f, conf), 0);
	assert_int_equal(kd_build_settle(o, &f->c, s), want);
}

static void test_settle(void **state)
{
	struct fixture *f = *state;
	const char *adds[] = { "flag_mod", NULL }, *sets[] = { "dm", NULL };
	struct kd_build_settings s;
	struct kd_build_opts o;

	/* the defaults: host-only for this machine, generic for a root */
	kd_build_opts_init(&o);
	settle(f, "", &o, &s, 0);
	assert_true(s.host_only);
	assert_false(s.generic);
	assert_int_equal(s.shape.compress, KD_CODEC_ZSTD);
	assert_false(s.shape.has_level);
	kd_build_settings_free(&s);
	o.db.root = f->root;
	settle(f, "", &o, &s, 0);
	assert_false(s.host_only);
	assert_true(s.generic);
	assert_int_equal(s.shape.microcode, KD_UCODE_INTEL | KD_UCODE_AMD);
	kd_build_settings_free(&s);

	/* lists: the files' first, then the options'; "generic" is --generic */
	o.adds = adds;
	o.sets = sets;
	settle(f, "sets = generic storage\nadd = conf_mod\nomit = x\n", &o, &s, 0);
	assert_true(s.generic);
	assert_int_equal(s.sets.n, 2);
	assert_string_equal(s.sets.v[0], "storage");
	assert_string_equal(s.sets.v[1], "dm");
	assert_int_equal(s.adds.n, 2);
	assert_int_equal(s.n_conf_adds, 1);
	assert_string_equal(s.adds.v[1], "flag_mod");
	assert_int_equal(s.omits.n, 1);
	kd_build_settings_free(&s);

	/* scalars: an option wins */
	kd_build_opts_init(&o);
	o.db.root = f->root;
	o.root_default = "LABEL=flag";
	o.root_timeout = 0;
	settle(f, "default_root = /dev/conf\nroot_timeout = 7\ncmdline = quiet\n", &o, &s, 0);
	assert_string_equal(s.root_default, "LABEL=flag");
	assert_int_equal(s.root_timeout, 0);
	assert_string_equal(s.cmdline, "quiet");
	kd_build_settings_free(&s);

	/* the files' level was for their compressor: another --compress drops it */
	o.compress = "xz";
	settle(f, "compress = zstd\nlevel = 19\n", &o, &s, 0);
	assert_int_equal(s.shape.compress, KD_CODEC_XZ);
	assert_false(s.shape.has_level);
	kd_build_settings_free(&s);
	o.compress = NULL;
	settle(f, "compress = zstd\nlevel = 19\n", &o, &s, 0);
	assert_true(s.shape.has_level);
	assert_int_equal(s.shape.level, 19);
	kd_build_settings_free(&s);
	settle(f, "compress = xz\nlevel = 19\n", &o, &s, -EINVAL); /* xz: 0 to 9 */
	kd_build_settings_free(&s);

	/* --format cpio: the files' compress and microcode give way, the options' not */
	o.format = "cpio";
	settle(f, "compress = xz\nmicrocode = all\n", &o, &s, 0);
	assert_int_equal(s.shape.format, KD_FORMAT_CPIO);
	assert_int_equal(s.shape.compress, KD_CODEC_NONE);
	assert_int_equal(s.shape.microcode, 0);
	kd_build_settings_free(&s);
	o.microcode = "all";
	settle(f, "", &o, &s, -EINVAL);
	kd_build_settings_free(&s);

	/* hostonly = yes, unless --generic */
	kd_build_opts_init(&o);
	o.db.root = f->root;
	settle(f, "hostonly = yes\n", &o, &s, 0);
	assert_true(s.host_only);
	kd_build_settings_free(&s);
	o.generic = true;
	settle(f, "hostonly = yes\n", &o, &s, 0);
	assert_false(s.host_only);
	assert_true(s.generic);
	kd_build_settings_free(&s);
}

/* kd_build from C, as a distribution's hook or an embedded build would call it. */
static void test_kd_build(void **state)
{
	struct fixture *f = *state;
	char sets[128], init[128], out[128], conf[128];
	const char *conf_dirs[] = { conf, NULL }, *sets_dirs[] = { sets, NULL };
	const char *adds[] = { "c", NULL };
	struct kd_build_opts o;
	struct seen s;

	make_tree(f);
	snprintf(sets, sizeof(sets), "%s/sets", f->root);
	snprintf(init, sizeof(init), "%s/init-bin", f->root);
	snprintf(out, sizeof(out), "%s/initrd.img", f->root);
	snprintf(conf, sizeof(conf), "%s/etc/modprobe.d", f->root);
	put(f, "etc/kindling.conf", "add = b\nroot_timeout = 4\n");
	kd_build_opts_init(&o);
	o.db = (struct kd_ctx_opts){ .root = f->root, .kver = "9.9.9", .conf_dirs = conf_dirs,
				     .log = f->logger };
	o.output = out;
	o.init = init;
	o.sets_dirs = sets_dirs;
	o.adds = adds;
	o.generic = true;
	assert_int_equal(kd_build(&o), 0);
	read_plan(f, &s);
	assert_string_equal(s.mods, "abc"); /* --generic's a, the file's b, the option's c */
	assert_int_equal(s.timeout, 4);
	/* the output is there: refused without force, exit code 1 */
	assert_int_equal(kd_build_exit(kd_build(&o)), 1);
	o.force = true;
	o.compress = "rar";
	assert_int_equal(kd_build_exit(kd_build(&o)), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_value_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kd_build, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
