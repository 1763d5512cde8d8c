// SPDX-License-Identifier: MIT
/*
 * kindling's /init, PID 1 of the initramfs: a linear list of steps, each
 * named so a failure says which one (the table at the end is the boot).
 * The steps up to coldplug never stop the boot (a missing plan or a failed
 * module still leaves the kernel's built-in drivers); finding, mounting
 * and switching to the root can fail, and then the diagnostics and the
 * rescue run (rescue.c) and we look for the root again.  main() never
 * returns: PID 1 exiting panics the kernel.
 *
 * Devices, and the wait for the root, are devices.c's; the root's check
 * fsck.c's, its mount rootmount.c's.  Image hooks (stages.c, whose header
 * lists the scripts' environment) run at three points: "modules" after
 * coldplug's loads, "pre-mount" once the root device is found,
 * "pre-switch" with the root mounted; rd.break=STAGE starts a shell after
 * a stage's scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "init.h"

#define DEFAULT_TIMEOUT 30
#define SETTLE_MS 10000
#define WORKERS 8 /* module init often sleeps (bus probing): overlap it */

/* ---- early: API filesystems, console, log ------------------------------- */

static int step_mounts(struct ki_ctx *c)
{
	ki_mount_early(&c->log);
	/* The kernel gives PID 1 the console as fds 0-2 when it can. */
	if (fcntl(0, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);

		if (fd < 0)
			fd = open("/dev/null", O_RDWR);
		for (int i = 0; fd >= 0 && i < 3; i++)
			if (fd != i)
				dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static int step_log(struct ki_ctx *c)
{
	int err = ki_log_open(&c->log, KI_KMSG_PATH, true);

	if (err < 0)
		KI_WARNF(&c->log, "cannot open %s: %s; messages go to the console only",
			 KI_KMSG_PATH, strerror(-err));
	else
		ki_log_unlimit(&c->log, KI_DEVKMSG_SYSCTL);
	return 0;
}

/* ---- plan and command line ---------------------------------------------- */

static int step_plan(struct ki_ctx *c)
{
	struct utsname u;

	if (uname(&u) < 0)
		return 0;
	snprintf(c->kver, sizeof(c->kver), "%s", u.release);
	ki_plan_load(&c->plan, KP_PLAN_PATH, u.release, &c->log);
	return 0;
}

static void default_root(struct ki_ctx *c)
{
	const char *def;

	if (c->cmd.root.kind != KI_ROOT_NONE || !c->plan.loaded)
		return;
	def = kp_str(&c->plan.p, c->plan.p.hdr->default_root);
	if (def[0] == '\0')
		return;
	if (ki_root_parse(&c->cmd.root, def) < 0) {
		KI_ERRF(&c->log, "the image's default root '%s' is not understood", def);
		return;
	}
	snprintf(c->cmd.root_text, sizeof(c->cmd.root_text), "%s", def);
}

static int step_cmdline(struct ki_ctx *c)
{
	char text[KI_CMDLINE_MAX];
	unsigned plan_timeout = c->plan.loaded ? c->plan.p.hdr->root_timeout : 0;
	ssize_t n;

	ki_cmdline_init(&c->cmd);
	if (c->plan.loaded && kp_str(&c->plan.p, c->plan.p.hdr->cmdline)[0])
		ki_cmdline_parse(&c->cmd, kp_str(&c->plan.p, c->plan.p.hdr->cmdline), &c->log);
	n = ki_read_file("/proc/cmdline", text, sizeof(text));
	if (n < 0)
		KI_ERRF(&c->log, "cannot read /proc/cmdline: %s; using the image's defaults",
			strerror((int)-n));
	else
		ki_cmdline_parse(&c->cmd, text, &c->log);
	c->log.quiet = c->cmd.quiet;
	c->log.debug = c->cmd.debug;
	default_root(c);
	if (c->cmd.timeout >= 0)
		c->timeout = (unsigned)c->cmd.timeout;
	else
		c->timeout = plan_timeout ? plan_timeout : DEFAULT_TIMEOUT;
	KI_DBGF(&c->log, "started at %.3f s, %.3f s ago", c->t0, ki_now() - c->t0);
	KI_INFOF(&c->log, "looking for root=%s, %u modules in the plan, timeout %u s",
		 c->cmd.root_text[0] ? c->cmd.root_text : "(none)", ki_plan_n_modules(&c->plan),
		 c->timeout);
	return 0;
}

/* ---- modules and devices ------------------------------------------------ */

static int step_uevent(struct ki_ctx *c)
{
	int err = ki_uevent_open(&c->uevent_fd);

	if (err < 0) {
		c->uevent_fd = -1;
		KI_WARNF(&c->log, "cannot listen to kernel uevents: %s; polling sysfs instead",
			 strerror(-err));
	}
	return 0;
}

static int step_modload(struct ki_ctx *c)
{
	struct ki_modload_cfg cfg = { &c->plan, &c->cmd, &c->log, &ki_modload_sys_ops, WORKERS };
	int err = ki_modload_start(&c->ml, &cfg);

	if (err < 0) {
		KI_ERRF(&c->log, "cannot start loading modules: %s", strerror(-err));
		c->ml = NULL;
		return 0;
	}
	for (uint32_t m = 0; m < ki_plan_n_modules(&c->plan); m++)
		if (c->plan.p.modules[m].flags & KP_MOD_LOAD)
			ki_modload_request(c->ml, m);
	for (unsigned i = 0; i < c->cmd.n_load; i++)
		if (ki_modload_request_name(c->ml, c->cmd.load[i]) == -ENOENT)
			KI_WARNF(&c->log, "modules-load: module %s is not in the image "
				 "(kindling build --add %s)", c->cmd.load[i], c->cmd.load[i]);
	return 0;
}

static int step_coldplug(struct ki_ctx *c)
{
	ki_coldplug_start(c);
	return 0;
}

/* After the plan's modules (and coldplug's) are loaded, if anyone looks. */
static int step_stage_modules(struct ki_ctx *c)
{
	bool wanted = (c->cmd.breaks & 1u << KI_STAGE_MODULES) ||
		      access(KI_STAGES_DIR "/modules", F_OK) == 0;

	if (!wanted)
		return 0;
	if (c->ml && ki_modload_wait_all(c->ml, SETTLE_MS) < 0)
		KI_WARNF(&c->log, "module loads still running after %d s; running the modules "
			 "stage anyway", SETTLE_MS / 1000);
	ki_run_stage(c, KI_STAGE_MODULES);
	return 0;
}

/* ---- the root: found by devices.c, checked by fsck.c, mounted by rootmount.c */

static int step_stage_pre_mount(struct ki_ctx *c)
{
	ki_run_stage(c, KI_STAGE_PRE_MOUNT);
	return 0;
}

static int step_stage_pre_switch(struct ki_ctx *c)
{
	ki_run_stage(c, KI_STAGE_PRE_SWITCH);
	return 0;
}

/* ---- handing over ------------------------------------------------------- */

static void settle_modules(struct ki_ctx *c)
{
	if (c->ml == NULL)
		return;
	if (ki_modload_wait_all(c->ml, SETTLE_MS) < 0) {
		KI_WARNF(&c->log, "module loads still running after %d s; switching anyway",
			 SETTLE_MS / 1000);
		return; /* the workers die with exec */
	}
	ki_modload_stop(c->ml);
	c->ml = NULL;
}

static int step_switch(struct ki_ctx *c)
{
	const char *inits[8];
	unsigned freed = 0;
	int err;

	if (ki_root_inits(c, inits, KI_ARRAY_SIZE(inits)) == 0) {
		KI_ERRF(&c->log, "no init in the root file system on /dev/%s (tried %s%s/sbin/init, "
			"/etc/init, /bin/init, /bin/sh)", c->root->name, c->cmd.init ? c->cmd.init : "",
			c->cmd.init ? ", " : "");
		umount2(KI_NEWROOT, MNT_DETACH);
		return -ENOENT;
	}
	settle_modules(c);
	if (c->uevent_fd >= 0)
		close(c->uevent_fd);
	c->uevent_fd = -1;
	KI_INFOF(&c->log, "switching to /dev/%s (%s) after %.2f s, exec %s", c->root->name,
		 c->fstype, ki_now() - c->t0, inits[0]);
	err = ki_switch_root(KI_NEWROOT, inits, c->argv, &c->log, &freed);
	KI_ERRF(&c->log, "cannot start an init in the new root: %s", strerror(-err));
	ki_reboot_after(&c->log, 10);
	return err;
}

/* ---- the list ----------------------------------------------------------- */

static const struct step {
	const char *name;
	int (*run)(struct ki_ctx *c);
} steps[] = {
	{ "mount /dev, /proc, /sys, /run", step_mounts },
	{ "open the kernel log", step_log },
	{ "read the load plan", step_plan },
	{ "read the kernel command line", step_cmdline },
	{ "listen to kernel uevents", step_uevent },
	{ "load the plan's modules", step_modload },
	{ "coldplug devices", step_coldplug },
	{ "run the modules stage", step_stage_modules },
	{ "find the root device", ki_wait_root },
	{ "run the pre-mount stage", step_stage_pre_mount },
	{ "check the root file system", ki_fsck_root },
	{ "mount the root file system", ki_mount_root },
	{ "run the pre-switch stage", step_stage_pre_switch },
	{ "switch to the root file system", step_switch },
};

/* After a rescue: find the root again. */
static size_t retry_step(void)
{
	size_t i = 0;

	while (steps[i].run != ki_wait_root)
		i++;
	return i;
}

int main(int argc, char **argv)
{
	struct ki_ctx *c;
	char why[96];
	size_t i = 0;
	int err;

	(void)argc;
	if (getpid() != 1) {
		fprintf(stderr, "kindling init: not PID 1; this program runs only as the init of "
			"an initramfs\n");
		return 1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		for (;;)
			pause();
	ki_log_init(&c->log);
	c->t0 = c->wait_since = ki_now();
	c->argv = argv;
	c->uevent_fd = -1;
	while (i < KI_ARRAY_SIZE(steps)) {
		KI_DBGF(&c->log, "step: %s", steps[i].name);
		err = steps[i].run(c);
		if (err >= 0) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why), "%s failed", steps[i].name);
		ki_coldplug_now(c); /* its unmatched devices are in the diagnostics */
		ki_diagnose(c, err == -ETIMEDOUT ? "gave up waiting for the root device" : why);
		ki_rescue(c);
		c->wait_since = ki_now();
		i = retry_step();
	}
	ki_reboot_after(&c->log, 10);
}
