// SPDX-License-Identifier: MIT
/*
 * The root's check: which checker with which arguments for each type,
 * fsck.mode= and fsck.repair=; what each exit status means; what is
 * logged.  The checker "runs" through fake ops.
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>

#include "init.h"
#include "init_test.h"

/* argv joined by spaces, for comparing in one line. */
static const char *joined(const struct ki_fsck_cmd *cmd)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; cmd->argv[i]; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
					cmd->argv[i]);
	return buf;
}

static void cmd_is(const char *type, enum ki_fsck_mode mode, enum ki_fsck_repair repair,
		   const char *tool, const char *args)
{
	struct ki_fsck_cmd cmd;

	assert_int_equal(ki_fsck_cmd(&cmd, type, "/dev/vda", mode, repair), 0);
	assert_string_equal(cmd.tool, tool);
	assert_string_equal(joined(&cmd), args);
}

static void test_args(void **state)
{
	struct ki_fsck_cmd cmd;

	(void)state;
	cmd_is("ext4", KI_FSCK_AUTO, KI_REPAIR_PREEN, "/sbin/e2fsck", "e2fsck -p /dev/vda");
	cmd_is("ext4", KI_FSCK_AUTO, KI_REPAIR_YES, "/sbin/e2fsck", "e2fsck -y /dev/vda");
	cmd_is("ext4", KI_FSCK_AUTO, KI_REPAIR_NO, "/sbin/e2fsck", "e2fsck -n /dev/vda");
	cmd_is("ext4", KI_FSCK_FORCE, KI_REPAIR_PREEN, "/sbin/e2fsck", "e2fsck -p -f /dev/vda");
	cmd_is("ext3", KI_FSCK_FORCE, KI_REPAIR_YES, "/sbin/e2fsck", "e2fsck -y -f /dev/vda");
	cmd_is("ext2", KI_FSCK_FORCE, KI_REPAIR_NO, "/sbin/e2fsck", "e2fsck -n -f /dev/vda");
	/* xfs and btrfs: read-only checks whatever was asked */
	cmd_is("xfs", KI_FSCK_AUTO, KI_REPAIR_PREEN, "/sbin/xfs_repair", "xfs_repair -n /dev/vda");
	cmd_is("xfs", KI_FSCK_FORCE, KI_REPAIR_YES, "/sbin/xfs_repair", "xfs_repair -n /dev/vda");
	cmd_is("btrfs", KI_FSCK_AUTO, KI_REPAIR_PREEN, "/sbin/btrfs",
	       "btrfs check --readonly /dev/vda");
	cmd_is("btrfs", KI_FSCK_FORCE, KI_REPAIR_YES, "/sbin/btrfs",
	       "btrfs check --readonly /dev/vda");
	/* no checker kindling knows */
	assert_int_equal(ki_fsck_cmd(&cmd, "vfat", "/dev/vda", KI_FSCK_AUTO, KI_REPAIR_PREEN),
			 -ENOENT);
	assert_int_equal(ki_fsck_cmd(&cmd, "ext4,xfs", "/dev/vda", KI_FSCK_AUTO,
				     KI_REPAIR_PREEN), -ENOENT);
	assert_int_equal(ki_fsck_cmd(&cmd, "", "/dev/vda", KI_FSCK_AUTO, KI_REPAIR_PREEN),
			 -ENOENT);
}

static void verdict_is(const char *tool, int status, enum ki_fsck_verdict v,
		       const char *meaning)
{
	char buf[160];

	assert_int_equal(ki_fsck_verdict(tool, status, buf, sizeof(buf)), v);
	assert_string_equal(buf, meaning);
}

#define EXIT(n) ((n) << 8)

static void test_verdicts(void **state)
{
	char buf[160];

	(void)state;
	verdict_is("/sbin/e2fsck", EXIT(0), KI_FSCK_CLEAN, "clean");
	verdict_is("/sbin/e2fsck", EXIT(1), KI_FSCK_FIXED, "errors corrected");
	verdict_is("/sbin/e2fsck", EXIT(2), KI_FSCK_REBOOT, "reboot needed");
	verdict_is("/sbin/e2fsck", EXIT(3), KI_FSCK_REBOOT, "errors corrected, reboot needed");
	verdict_is("/sbin/e2fsck", EXIT(4), KI_FSCK_BROKEN, "errors left uncorrected");
	verdict_is("/sbin/e2fsck", EXIT(8), KI_FSCK_FAILED, "operational error");
	verdict_is("/sbin/e2fsck", EXIT(12), KI_FSCK_BROKEN,
		   "errors left uncorrected, operational error");
	verdict_is("/sbin/e2fsck", EXIT(16), KI_FSCK_FAILED, "usage error");
	verdict_is("/sbin/e2fsck", EXIT(32), KI_FSCK_FAILED, "cancelled");
	verdict_is("/sbin/e2fsck", EXIT(128), KI_FSCK_FAILED, "shared library error");
	verdict_is("/sbin/e2fsck", EXIT(127), KI_FSCK_FAILED,
		   "could not run (a library missing from the image?)");
	verdict_is("/sbin/xfs_repair", EXIT(0), KI_FSCK_CLEAN, "clean");
	verdict_is("/sbin/xfs_repair", EXIT(1), KI_FSCK_BROKEN,
		   "corruption found (not repaired: the check is read-only)");
	verdict_is("/sbin/xfs_repair", EXIT(2), KI_FSCK_FAILED, "unexpected exit status");
	verdict_is("/sbin/btrfs", EXIT(0), KI_FSCK_CLEAN, "clean");
	verdict_is("/sbin/btrfs", EXIT(1), KI_FSCK_BROKEN,
		   "errors found (not repaired: the check is read-only)");
	assert_int_equal(ki_fsck_verdict("/sbin/e2fsck", SIGKILL, buf, sizeof(buf)),
			 KI_FSCK_FAILED);
	assert_non_null(strstr(buf, "killed by signal 9"));
	/* a short buffer is cut, never overrun */
	assert_int_equal(ki_fsck_verdict("/sbin/e2fsck", EXIT(15), buf, 12), KI_FSCK_REBOOT);
	assert_string_equal(buf, "errors corr");
}

struct fake {
	int status, spawn_err;
	char argv[256], env0[64];
};

static int fake_spawn(void *data, const char *path, char *const argv[], char *const envp[])
{
	struct fake *f = data;
	size_t len = snprintf(f->argv, sizeof(f->argv), "%s:", path);

	for (unsigned i = 0; argv[i]; i++)
		len += (size_t)snprintf(f->argv + len, sizeof(f->argv) - len, " %s", argv[i]);
	snprintf(f->env0, sizeof(f->env0), "%s", envp[0] ? envp[0] : "");
	return f->spawn_err ? f->spawn_err : 42;
}

static int fake_wait(void *data, int pid, int *status)
{
	struct fake *f = data;

	assert_int_equal(pid, 42);
	*status = f->status;
	return 0;
}

static void test_run_logs(void **state)
{
	struct fake f = { .status = EXIT(0) };
	struct ki_run_ops ops = { fake_spawn, fake_wait, &f };
	char *envp[] = { "PATH=" KI_PATH, NULL };
	struct ki_fsck_cmd cmd;
	struct tlog tl;
	const char *log;

	(void)state;
	tl_open(&tl, true);
	assert_int_equal(ki_fsck_cmd(&cmd, "ext4", "/dev/vda", KI_FSCK_FORCE, KI_REPAIR_YES), 0);
	assert_int_equal(ki_fsck_run(&cmd, envp, &ops, &tl.log), KI_FSCK_CLEAN);
	assert_string_equal(f.argv, "/sbin/e2fsck: e2fsck -y -f /dev/vda");
	assert_string_equal(f.env0, "PATH=" KI_PATH);
	log = tl_text(&tl);
	assert_non_null(strstr(log, "<6>kindling: fsck: running /sbin/e2fsck -y -f /dev/vda\n"));
	assert_non_null(strstr(log, "<6>kindling: fsck: e2fsck on /dev/vda: exit 0: clean ("));
	tl_close(&tl);

	tl_open(&tl, true);
	f.status = EXIT(4);
	assert_int_equal(ki_fsck_run(&cmd, envp, &ops, &tl.log), KI_FSCK_BROKEN);
	assert_non_null(strstr(tl_text(&tl), "<3>kindling: fsck: e2fsck on /dev/vda: exit 4: "
					     "errors left uncorrected ("));
	tl_close(&tl);

	tl_open(&tl, true);
	f.status = EXIT(8);
	assert_int_equal(ki_fsck_run(&cmd, envp, &ops, &tl.log), KI_FSCK_FAILED);
	assert_non_null(strstr(tl_text(&tl), "<4>kindling: fsck: e2fsck on /dev/vda: exit 8: "
					     "operational error ("));
	tl_close(&tl);

	tl_open(&tl, true);
	f.spawn_err = -EAGAIN;
	assert_int_equal(ki_fsck_run(&cmd, envp, &ops, &tl.log), -EAGAIN);
	assert_non_null(strstr(tl_text(&tl), "<3>kindling: fsck: cannot start /sbin/e2fsck: "
					     "Resource temporarily unavailable; mounting unchecked"));
	tl_close(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_run_logs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
