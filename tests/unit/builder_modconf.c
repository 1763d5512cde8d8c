// SPDX-License-Identifier: MIT
/* modprobe.d and kernel command line parsing (builder/modconf.c). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "builder_test.h"
#include "moddb/internal.h"

struct fixture {
	struct kd_ctx ctx;
	struct kd_str log;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ctx.log.fn = capture;
	f->ctx.log.data = &f->log;
	f->ctx.log.prio = KD_LOG_DEBUG;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_config_free(&f->ctx.config);
	kd_str_free(&f->log);
	free(f);
	return 0;
}

static void test_keywords(void **state)
{
	struct fixture *f = *state;
	struct kd_config *c = &f->ctx.config;
	const char *text =
		"# comment\n"
		"options ext4 a=1\tb=2\n"
		"alias my-disk virtio-blk\n"
		"blacklist floppy\n"
		"softdep usb-storage pre: uas foo post: sd_mod\n"
		"softdep x ignored pre:\n"
		"install dummy /bin/true --flag\n"
		"remove dummy /bin/false\n"
		"weakdep drm drm_buddy ttm\n"
		"\n";

	kd_config_parse(&f->ctx, c, "t.conf", text);
	assert_int_equal(c->n_options, 1);
	assert_string_equal(c->options[0].modname, "ext4");
	assert_string_equal(c->options[0].options, "a=1 b=2"); /* tabs become spaces */
	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0].pattern, "my_disk");
	assert_string_equal(c->aliases[0].modname, "virtio_blk");
	assert_int_equal(c->n_blacklist, 1);
	assert_string_equal(c->blacklist[0], "floppy");
	assert_int_equal(c->n_softdeps, 2);
	assert_string_equal(c->softdeps[0].modname, "usb_storage");
	assert_int_equal(c->softdeps[0].n_pre, 2);
	assert_string_equal(c->softdeps[0].pre[1], "foo");
	assert_int_equal(c->softdeps[0].n_post, 1);
	assert_string_equal(c->softdeps[0].post[0], "sd_mod");
	assert_int_equal(c->softdeps[1].n_pre, 0);
	assert_int_equal(c->n_install, 1);
	assert_string_equal(c->install[0].command, "/bin/true --flag");
	assert_int_equal(c->n_remove, 1);
	assert_int_equal(c->n_weakdeps, 1);
	assert_int_equal(c->weakdeps[0].n_deps, 2);
	assert_string_equal(c->weakdeps[0].deps[1], "ttm");
	assert_null(f->log.s);
}

static void test_bad_lines(void **state)
{
	struct fixture *f = *state;
	struct kd_config *c = &f->ctx.config;
	const char *text =
		"options\n"
		"alias onlyone\n"
		"alias bad]name mod\n"
		"blacklist\n"
		"frobnicate all\n"
		"install x\n"
		"include /etc/other.conf\n"
		"options ok x=1";

	kd_config_parse(&f->ctx, c, "/etc/modprobe.d/bad.conf", text);
	assert_int_equal(c->n_options, 1); /* the last line, without a newline */
	assert_int_equal(c->n_aliases, 0);
	assert_int_equal(c->n_install, 0);
	assert_non_null(strstr(f->log.s, "/etc/modprobe.d/bad.conf line 1: ignoring bad line"));
	assert_non_null(strstr(f->log.s, "bad.conf line 3:"));
	assert_non_null(strstr(f->log.s, "bad.conf line 5: ignoring bad line starting with 'frobnicate'"));
	assert_non_null(strstr(f->log.s, "bad.conf line 6:"));
	assert_non_null(strstr(f->log.s, "line 7: command 'include' is deprecated"));
}

static void test_continuation_and_long_lines(void **state)
{
	struct fixture *f = *state;
	struct kd_config *c = &f->ctx.config;
	size_t big = 200000;
	char *text = malloc(big + 64);

	strcpy(text, "options \\\n  xfs \\\n  x=1\nfoo\\\nbar\noptions long ");
	memset(text + strlen(text), 'y', big);
	text[strlen("options \\\n  xfs \\\n  x=1\nfoo\\\nbar\noptions long ") + big] = '\0';
	kd_config_parse(&f->ctx, c, "c.conf", text);
	assert_int_equal(c->n_options, 2);
	assert_string_equal(c->options[0].modname, "xfs");
	assert_string_equal(c->options[0].options, "  x=1");
	assert_int_equal(strlen(c->options[1].options), big);
	/* a joined line is reported by its last physical line number */
	assert_non_null(strstr(f->log.s, "c.conf line 5: ignoring bad line starting with 'foobar'"));
	free(text);
}

static void test_cmdline(void **state)
{
	struct fixture *f = *state;
	struct kd_config *c = &f->ctx.config;

	kd_config_parse_cmdline(&f->ctx, c,
		"root=/dev/sda1 quiet virtio-blk.queue_depth=32 modprobe.blacklist=a,b-c "
		"\"parport.dyndbg=file x.c +p\" foo.bar a.b.c=1 x=1.2 -- 0.0.0.0:24\n");
	assert_int_equal(c->n_options, 3);
	assert_string_equal(c->options[0].modname, "virtio_blk");
	assert_string_equal(c->options[0].options, "queue_depth=32");
	assert_string_equal(c->options[1].modname, "parport");
	assert_string_equal(c->options[1].options, "dyndbg=\"file x.c +p\"");
	assert_string_equal(c->options[2].modname, "foo");
	assert_string_equal(c->options[2].options, "bar");
	assert_int_equal(c->n_blacklist, 2);
	assert_string_equal(c->blacklist[0], "a");
	assert_string_equal(c->blacklist[1], "b-c"); /* kmod keeps these as written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation_and_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
