// SPDX-License-Identifier: MIT
/*
 * Checking the root before it is mounted, when the image holds the checker
 * for its type (the fsck hook puts them there):
 *   ext2/3/4  /sbin/e2fsck -p (fsck.repair=preen, the default), -y (yes) or
 *             -n (no); -f with fsck.mode=force
 *   xfs       /sbin/xfs_repair -n          (never repairs)
 *   btrfs     /sbin/btrfs check --readonly (never repairs)
 * fsck.mode=skip checks nothing.  As systemd-fsck does, the check happens
 * whether the root is to be mounted read-only or read-write: the real
 * init usually remounts it read-write soon, and a read-only mount of a
 * damaged file system can still go wrong (journal replay).
 *
 * The exit status is fsck(8)'s for e2fsck, a sum of: 1 errors corrected,
 * 2 reboot needed, 4 errors left uncorrected, 8 operational error, 16
 * usage error, 32 cancelled, 128 shared library error.  What it means for
 * the boot is systemd-fsck's: 2 reboots, 4 stops (the caller's rescue
 * shell), anything else is logged and the boot goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

#define E2FSCK "/sbin/e2fsck"
#define XFS_REPAIR "/sbin/xfs_repair"
#define BTRFS "/sbin/btrfs"

/*
 * The command checking dev of type fstype into *cmd; -ENOENT when kindling
 * knows no checker for the type.  The strings are static or dev's.
 */
int ki_fsck_cmd(struct ki_fsck_cmd *cmd, const char *fstype, const char *dev,
		enum ki_fsck_mode mode, enum ki_fsck_repair repair)
{
	static const char *const e2_repair[] = { "-p", "-y", "-n" };
	unsigned n = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (!strcmp(fstype, "ext2") || !strcmp(fstype, "ext3") || !strcmp(fstype, "ext4")) {
		cmd->tool = E2FSCK;
		cmd->argv[n++] = "e2fsck";
		cmd->argv[n++] = e2_repair[repair];
		if (mode == KI_FSCK_FORCE)
			cmd->argv[n++] = "-f";
	} else if (!strcmp(fstype, "xfs")) {
		cmd->tool = XFS_REPAIR;
		cmd->argv[n++] = "xfs_repair";
		cmd->argv[n++] = "-n";
	} else if (!strcmp(fstype, "btrfs")) {
		cmd->tool = BTRFS;
		cmd->argv[n++] = "btrfs";
		cmd->argv[n++] = "check";
		cmd->argv[n++] = "--readonly";
	} else {
		return -ENOENT;
	}
	cmd->argv[n++] = dev;
	cmd->argv[n] = NULL;
	return 0;
}

static const char *const e2_bits[] = {
	"errors corrected", "reboot needed", "errors left uncorrected", "operational error",
	"usage error", "cancelled", "?", "shared library error",
};

static enum ki_fsck_verdict e2fsck_verdict(int code, char *meaning, size_t size)
{
	size_t len = 0;

	meaning[0] = '\0';
	if (code == 0) {
		snprintf(meaning, size, "clean");
		return KI_FSCK_CLEAN;
	}
	for (unsigned b = 0; b < KI_ARRAY_SIZE(e2_bits); b++)
		if (code & (1 << b) && len < size)
			len += (size_t)snprintf(meaning + len, size - len, "%s%s", len ? ", " : "",
						e2_bits[b]);
	if (code & 2)
		return KI_FSCK_REBOOT;
	if (code & 4)
		return KI_FSCK_BROKEN;
	if (code & ~1)
		return KI_FSCK_FAILED;
	return KI_FSCK_FIXED;
}

/*
 * What status (waitpid's) of tool means, into meaning; and for the boot.
 * xfs_repair -n: 0 clean, 1 corruption found.  btrfs check: 0 clean, 1
 * errors found (or it could not open the device).
 */
enum ki_fsck_verdict ki_fsck_verdict(const char *tool, int status, char *meaning,
				     size_t size)
{
	int code;

	if (!WIFEXITED(status)) {
		ki_status_text(status, meaning, size);
		return KI_FSCK_FAILED;
	}
	code = WEXITSTATUS(status);
	if (code == 127) {
		snprintf(meaning, size, "could not run (a library missing from the image?)");
		return KI_FSCK_FAILED;
	}
	if (strcmp(tool, E2FSCK) == 0)
		return e2fsck_verdict(code, meaning, size);
	if (code == 0) {
		snprintf(meaning, size, "clean");
		return KI_FSCK_CLEAN;
	}
	if (code == 1) {
		snprintf(meaning, size, "%s (not repaired: the check is read-only)",
			 strcmp(tool, XFS_REPAIR) == 0 ? "corruption found" : "errors found");
		return KI_FSCK_BROKEN;
	}
	snprintf(meaning, size, "unexpected exit status");
	return KI_FSCK_FAILED;
}

/* Run cmd, log its result; the verdict, or -errno when it could not start. */
int ki_fsck_run(const struct ki_fsck_cmd *cmd, char *const envp[],
		const struct ki_run_ops *ops, const struct ki_log *log)
{
	char line[160], meaning[160];
	const char *dev = "";
	size_t len = 0;
	int status, err, level;
	enum ki_fsck_verdict v;
	double t0 = ki_now();

	for (unsigned i = 0; cmd->argv[i]; i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "",
					i ? cmd->argv[i] : cmd->tool);
		if (len >= sizeof(line))
			break;
		dev = cmd->argv[i];
	}
	KI_INFOF(log, "fsck: running %s", line);
	err = ki_run(ops, cmd->tool, (char *const *)cmd->argv, envp, &status);
	if (err < 0) {
		KI_ERRF(log, "fsck: cannot start %s: %s; mounting unchecked", cmd->tool,
			strerror(-err));
		return err;
	}
	v = ki_fsck_verdict(cmd->tool, status, meaning, sizeof(meaning));
	level = v == KI_FSCK_CLEAN || v == KI_FSCK_FIXED ? KI_INFO :
		v == KI_FSCK_FAILED ? KI_WARN : KI_ERR;
	ki_log(log, level, "fsck: %s on %s: exit %d: %s (%.2f s)", cmd->argv[0], dev,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, meaning, ki_now() - t0);
	return (int)v;
}

/*
 * The boot's check of the root found, if the image has its checker: a
 * reboot when the checker asks for one; errors left start the rescue
 * shell, or without one make the mount read-only (c->force_ro).
 */
int ki_fsck_root(struct ki_ctx *c)
{
	struct ki_stage_info info;
	struct ki_fsck_cmd cmd;
	struct ki_env *env;
	const char *type = c->root->id.usage == KI_USE_FS ? c->root->id.type : c->cmd.rootfstype;
	int v;

	ki_stage_info(c, &info);
	if (type == NULL || ki_fsck_cmd(&cmd, type, info.root, c->cmd.fsck_mode,
					c->cmd.fsck_repair) < 0 || access(cmd.tool, X_OK) != 0) {
		KI_DBGF(&c->log, "fsck: no checker for %s (%s) in the image", info.root,
			type ? type : "type unknown");
		return 0;
	}
	if (c->cmd.fsck_mode == KI_FSCK_SKIP) {
		KI_INFOF(&c->log, "fsck: not checking %s (fsck.mode=skip)", info.root);
		return 0;
	}
	env = malloc(sizeof(*env));
	if (env == NULL || ki_stage_env(env, KI_STAGE_PRE_MOUNT, &info, environ) < 0) {
		KI_ERRF(&c->log, "fsck: out of memory for its environment; mounting %s unchecked",
			info.root);
		free(env);
		return 0;
	}
	v = ki_fsck_run(&cmd, env->vars, &ki_run_sys_ops, &c->log);
	free(env);
	if (v == KI_FSCK_REBOOT) {
		KI_ERRF(&c->log, "fsck: %s asks for a reboot after checking %s", cmd.tool, info.root);
		ki_reboot_after(&c->log, 5);
	}
	if (v != KI_FSCK_BROKEN)
		return 0;
	ki_coldplug_now(c);
	if (!ki_shell(c, KI_STAGE_PRE_MOUNT, "fsck left errors on the root: repair it (e.g. "
		      "e2fsck -f DEVICE), then exit the shell to mount it")) {
		KI_ERRF(&c->log, "fsck left errors on %s and the image has no %s: mounting it "
			"read-only", info.root, KI_SHELL);
		c->force_ro = true;
	}
	return 0;
}
