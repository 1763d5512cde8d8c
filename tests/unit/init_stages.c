// SPDX-License-Identifier: MIT
/*
 * Image hook stages: which programs run, in which order, with which
 * environment, and how their failures are logged.  The programs are files
 * in a temporary directory; "running" them goes through fake ops that
 * record the call and answer with a status chosen by name.
 */
#include "unit.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "init.h"
#include "init_test.h"

#define MAX_CALLS 8

struct fake {
	unsigned n;
	char path[MAX_CALLS][512];
	char env[MAX_CALLS][1024]; /* the environment, one "NAME=VALUE\n" each */
	int spawn_err;             /* for a name containing "nostart" */
};

static int fake_spawn(void *data, const char *path, char *const argv[], char *const envp[])
{
	struct fake *f = data;
	size_t len = 0;

	assert_true(f->n < MAX_CALLS);
	assert_string_equal(argv[0], path);
	assert_null(argv[1]);
	if (strstr(path, "nostart"))
		return f->spawn_err;
	snprintf(f->path[f->n], sizeof(f->path[0]), "%s", path);
	f->env[f->n][0] = '\0';
	for (; *envp; envp++)
		len += (size_t)snprintf(f->env[f->n] + len, sizeof(f->env[0]) - len, "%s\n", *envp);
	return (int)(100 + f->n++);
}

/* The status a program "exits" with comes from its name: -exitN, -sigN. */
static int fake_wait(void *data, int pid, int *status)
{
	struct fake *f = data;
	const char *p = f->path[pid - 100];
	const char *e = strstr(p, "-exit"), *s = strstr(p, "-sig");

	*status = e ? atoi(e + 5) << 8 : s ? atoi(s + 4) : 0;
	return 0;
}

static char dir[64];

static void touch(const char *stage, const char *name, mode_t mode)
{
	char rel[256], path[320];

	snprintf(rel, sizeof(rel), "%s/%s", stage, name);
	ts_put(dir, rel, "#!/bin/sh\n");
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kindling-stages.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ts_rm_tree(dir);
	return 0;
}

static void test_order_and_failures(void **state)
{
	static const struct ki_stage_info info = { "/dev/vda", "UUID=1234", "ext4", "/sysroot",
						   "6.1.0-test" };
	char *inherit[] = { "HOME=/", "TERM=linux", "PATH=/nowhere", "KINDLING_ROOT=/dev/fake",
			    "mymode=debug", NULL };
	struct fake f = { .spawn_err = -ENOMEM };
	struct ki_run_ops ops = { fake_spawn, fake_wait, &f };
	struct tlog tl;
	struct ki_stage_run r;
	const char *log;
	unsigned failed;
	char path[512];

	(void)state;
	touch("pre-mount", "20-second", 0755);
	touch("pre-mount", "10-first-exit3", 0755);
	touch("pre-mount", "30-third-sig9", 0700);
	touch("pre-mount", "15-notexec", 0644);
	touch("pre-mount", ".hidden", 0755);
	touch("pre-mount", "40-nostart", 0755);
	touch("pre-mount", "05-zero", 0755);
	snprintf(path, sizeof(path), "%s/pre-mount/50-dir", dir);
	mkdir(path, 0755);
	touch("modules", "10-other-stage", 0755);
	tl_open(&tl, true);
	r = (struct ki_stage_run){ dir, KI_STAGE_PRE_MOUNT, &info, inherit, &ops, &tl.log };
	assert_int_equal(ki_stage_run(&r, &failed), 5);
	/* byte order of the names; nothing of another stage, no dot files */
	assert_int_equal(f.n, 4);
	snprintf(path, sizeof(path), "%s/pre-mount/05-zero", dir);
	assert_string_equal(f.path[0], path);
	snprintf(path, sizeof(path), "%s/pre-mount/10-first-exit3", dir);
	assert_string_equal(f.path[1], path);
	snprintf(path, sizeof(path), "%s/pre-mount/20-second", dir);
	assert_string_equal(f.path[2], path);
	snprintf(path, sizeof(path), "%s/pre-mount/30-third-sig9", dir);
	assert_string_equal(f.path[3], path);
	/* exit 3, signal 9, not executable, a directory, could not start */
	assert_int_equal(failed, 5);
	log = tl_text(&tl);
	assert_non_null(strstr(log, "<6>kindling: stage pre-mount: running 05-zero\n"));
	assert_non_null(strstr(log, "<6>kindling: stage pre-mount: 05-zero exited 0 ("));
	assert_non_null(strstr(log, "<4>kindling: stage pre-mount: "));
	assert_non_null(strstr(log, "/pre-mount/10-first-exit3 failed: exit status 3; the boot "
				    "goes on\n"));
	assert_non_null(strstr(log, "/pre-mount/30-third-sig9 failed: killed by signal 9"));
	assert_non_null(strstr(log, "/pre-mount/15-notexec: not executable"));
	assert_non_null(strstr(log, "/pre-mount/50-dir: not a regular file"));
	assert_non_null(strstr(log, "cannot start "));
	assert_non_null(strstr(log, "/pre-mount/40-nostart: Cannot allocate memory; going on"));
	assert_null(strstr(log, "hidden"));
	assert_null(strstr(log, "other-stage"));
	/* the environment: inherited minus what we set, then ours */
	for (unsigned i = 0; i < f.n; i++) {
		const char *env = f.env[i];

		assert_non_null(strstr(env, "HOME=/\nTERM=linux\n"));
		assert_non_null(strstr(env, "mymode=debug\n"));
		assert_non_null(strstr(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
		assert_null(strstr(env, "/nowhere"));
		assert_non_null(strstr(env, "KINDLING_STAGE=pre-mount\n"));
		assert_non_null(strstr(env, "KINDLING_ROOT=/dev/vda\n"));
		assert_null(strstr(env, "/dev/fake"));
		assert_non_null(strstr(env, "KINDLING_ROOTSPEC=UUID=1234\n"));
		assert_non_null(strstr(env, "KINDLING_ROOTFSTYPE=ext4\n"));
		assert_non_null(strstr(env, "KINDLING_NEWROOT=/sysroot\n"));
		assert_non_null(strstr(env, "KINDLING_KVER=6.1.0-test\n"));
	}
	tl_close(&tl);
}

static void test_empty_and_unknown(void **state)
{
	static const struct ki_stage_info info = { "", "UUID=1234", NULL, "/sysroot", "6.1" };
	struct fake f = { 0 };
	struct ki_run_ops ops = { fake_spawn, fake_wait, &f };
	struct tlog tl;
	struct ki_stage_run r;
	unsigned failed = 7;
	char path[128];

	(void)state;
	tl_open(&tl, true);
	/* no directory for the stage: nothing runs, nothing is said */
	r = (struct ki_stage_run){ dir, KI_STAGE_PRE_SWITCH, &info, NULL, &ops, &tl.log };
	assert_int_equal(ki_stage_run(&r, &failed), 0);
	assert_int_equal(failed, 0);
	assert_string_equal(tl_text(&tl), "");
	/* before the root is known: KINDLING_ROOT and ROOTFSTYPE are unset */
	snprintf(path, sizeof(path), "%s/modules", dir);
	ts_rm_tree(path);
	touch("modules", "10-early", 0755);
	r.stage = KI_STAGE_MODULES;
	assert_int_equal(ki_stage_run(&r, &failed), 1);
	assert_int_equal(failed, 0);
	assert_int_equal(f.n, 1);
	assert_null(strstr(f.env[0], "KINDLING_ROOT="));
	assert_null(strstr(f.env[0], "KINDLING_ROOTFSTYPE="));
	assert_non_null(strstr(f.env[0], "KINDLING_STAGE=modules\n"));
	assert_non_null(strstr(f.env[0], "KINDLING_ROOTSPEC=UUID=1234\n"));
	tl_close(&tl);
}

static void test_too_many(void **state)
{
	char names[KI_STAGE_MAX][KI_STAGE_NAME_MAX], name[128];
	unsigned left;

	(void)state;
	for (int i = 0; i < KI_STAGE_MAX + 2; i++) {
		snprintf(name, sizeof(name), "%02d-hook", i);
		touch("pre-switch", name, 0755);
	}
	memset(name, 'x', 100);
	name[100] = '\0';
	touch("pre-switch", name, 0755);
	assert_int_equal(ki_stage_list(dir, KI_STAGE_PRE_SWITCH, names, KI_STAGE_MAX, &left),
			 KI_STAGE_MAX);
	assert_int_equal(left, 3);
	/* sorted among the ones read */
	for (int i = 1; i < KI_STAGE_MAX; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
}

static void test_env(void **state)
{
	char *inherit[] = { "A=1", "B=2", NULL };
	struct ki_env e;
	char big[3000];

	(void)state;
	ki_env_init(&e, inherit);
	assert_int_equal(e.n, 2);
	assert_int_equal(ki_env_set(&e, "B", "3"), 0);
	assert_int_equal(ki_env_set(&e, "C", "4"), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.vars[0], "A=1");
	assert_string_equal(e.vars[1], "B=3");
	assert_string_equal(e.vars[2], "C=4");
	assert_null(e.vars[3]);
	/* a prefix of a name is another name */
	assert_int_equal(ki_env_set(&e, "A_LONGER", "5"), 0);
	assert_string_equal(e.vars[0], "A=1");
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ki_env_set(&e, "BIG", big), -E2BIG);
	assert_int_equal(e.n, 4);
	assert_null(e.vars[4]);
}

static void test_status_text(void **state)
{
	char buf[128];

	(void)state;
	ki_status_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "exit status 0");
	ki_status_text(2 << 8, buf, sizeof(buf));
	assert_string_equal(buf, "exit status 2");
	ki_status_text(127 << 8, buf, sizeof(buf));
	assert_non_null(strstr(buf, "exit status 127 (not executable, or its interpreter"));
	ki_status_text(SIGSEGV, buf, sizeof(buf));
	assert_string_equal(buf, "killed by signal 11");
}

/* The real ops: a real program, its status, its environment. */
static void test_sys_ops(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "test \"$X\" = yes && exit 4", NULL };
	char *envp[] = { "X=yes", NULL };
	int status = -1;

	(void)state;
	assert_int_equal(ki_run(&ki_run_sys_ops, "/bin/sh", argv, envp, &status), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 4);
	assert_int_equal(ki_run(&ki_run_sys_ops, "/nonexistent/prog", argv, envp, &status), 0);
	assert_int_equal(WEXITSTATUS(status), 127);
}

static void test_stage_info(void **state)
{
	struct ki_ctx *c = calloc(1, sizeof(*c));
	struct ki_stage_info info;
	struct ki_blkdev *b;

	(void)state;
	ki_cmdline_init(&c->cmd);
	strcpy(c->cmd.root_text, "LABEL=root");
	strcpy(c->kver, "6.12.0-test");
	ki_stage_info(c, &info);
	assert_string_equal(info.root, "");
	assert_null(info.fstype);
	assert_string_equal(info.rootspec, "LABEL=root");
	assert_string_equal(info.newroot, "/sysroot");
	assert_string_equal(info.kver, "6.12.0-test");
	/* found: probed type; rootfstype= wins; the mounted type wins over both */
	b = ki_devs_add(&c->devs, "vdb1", "vdb", 254, 17, 1);
	strcpy(b->id.type, "xfs");
	b->id.usage = KI_USE_FS;
	c->root = b;
	ki_stage_info(c, &info);
	assert_string_equal(info.root, "/dev/vdb1");
	assert_string_equal(info.fstype, "xfs");
	c->cmd.rootfstype = "ext4";
	ki_stage_info(c, &info);
	assert_string_equal(info.fstype, "ext4");
	strcpy(c->fstype, "btrfs");
	ki_stage_info(c, &info);
	assert_string_equal(info.fstype, "btrfs");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_failures),
		cmocka_unit_test(test_empty_and_unknown),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_sys_ops),
		cmocka_unit_test(test_stage_info),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
