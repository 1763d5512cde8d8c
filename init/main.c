// SPDX-License-Identifier: MIT
/*
 * kindling's /init, PID 1 of the initramfs: a linear list of steps, each
 * named so a failure says which one.  The steps up to coldplug never stop
 * the boot (a missing plan or a failed module still leaves the kernel's
 * built-in drivers); finding, mounting and switching to the root can fail,
 * and then the diagnostics and the rescue run and we look for the root
 * again.  main() never returns: PID 1 exiting panics the kernel.
 *
 * Image hooks (stages.c, whose header lists the scripts' environment) run
 * at three points: "modules" after coldplug's loads, "pre-mount" once the
 * root device is found, "pre-switch" with the root mounted; rd.break=STAGE
 * starts a shell after a stage's scripts.  The root is checked (fsck.c)
 * between pre-mount and the mount.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

#define DEFAULT_TIMEOUT 30
#define WAITING_AFTER 10.0 /* seconds before saying what we wait for */
#define COLDPLUG_AFTER 1.0 /* host-only: seconds before walking every device */
#define POLL_MS 100
#define MODULE_WAIT_MS 30000
#define SETTLE_MS 10000
#define WORKERS 8 /* module init often sleeps (bus probing): overlap it */

/* ---- early: API filesystems, console, log ------------------------------- */

static const struct {
	const char *src, *dir, *type;
	unsigned long flags;
	const char *data;
} api_mounts[] = {
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
};

/* A kernel without devtmpfs: a tmpfs with the nodes we need ourselves. */
static void dev_fallback(struct ki_ctx *c)
{
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0)
		KI_ERRF(&c->log, "cannot mount a tmpfs on /dev either: %s", strerror(errno));
	mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
	mknod("/dev/kmsg", S_IFCHR | 0644, makedev(1, 11));
	mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
}

static int step_mounts(struct ki_ctx *c)
{
	for (size_t i = 0; i < KI_ARRAY_SIZE(api_mounts); i++) {
		mkdir(api_mounts[i].dir, 0755);
		if (mount(api_mounts[i].src, api_mounts[i].dir, api_mounts[i].type,
			  api_mounts[i].flags, api_mounts[i].data) == 0 || errno == EBUSY)
			continue;
		KI_ERRF(&c->log, "cannot mount %s on %s: %s", api_mounts[i].type,
			api_mounts[i].dir, strerror(errno));
		if (i == 0)
			dev_fallback(c);
	}
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

static uint64_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/*
 * A device's modalias: match it once; keep it for the diagnostics when
 * nothing matched and no (built-in) driver has the device.
 */
static int on_alias(void *data, const char *alias, bool bound)
{
	struct ki_ctx *c = data;
	uint64_t h = hash(alias);
	int n;

	for (unsigned i = 0; i < c->n_seen; i++)
		if (c->seen[i] == h)
			return 0;
	if (c->n_seen < KI_ARRAY_SIZE(c->seen))
		c->seen[c->n_seen++] = h;
	n = c->ml ? ki_modload_request_alias(c->ml, alias) : 0;
	if (n > 0 || bound)
		return 0;
	if (c->n_unmatched < KI_MAX_UNMATCHED)
		snprintf(c->unmatched[c->n_unmatched++], sizeof(c->unmatched[0]), "%s", alias);
	else
		c->n_unmatched_more++;
	return 0;
}

static const char *usage_name(enum ki_usage u)
{
	switch (u) {
	case KI_USE_RAID: return "a RAID or LVM member";
	case KI_USE_CRYPTO: return "an encrypted volume";
	case KI_USE_TABLE: return "a partitioned disk";
	default: return "a device without a file system";
	}
}

static void add_block(struct ki_ctx *c, const char *name)
{
	struct ki_blkdev *b;

	if (ki_blkdev_skip(name) || ki_blkdev_from_sysfs(&c->devs, "/sys/class/block", name,
							  &b) < 0)
		return;
	if (c->root == b)
		c->root = NULL;
	if (ki_blkdev_probe(b, "/dev", &c->log) < 0 || !ki_root_matches(&c->cmd.root, b))
		return;
	if (b->id.usage == KI_USE_FS || b->id.usage == KI_USE_NONE) {
		c->root = b;
		return;
	}
	KI_WARNF(&c->log, "root=%s matches /dev/%s, but it is %s (%s), which this image "
		 "cannot open; still looking", c->cmd.root_text, b->name, usage_name(b->id.usage),
		 b->id.type);
}

static void scan_block(struct ki_ctx *c)
{
	DIR *dir = opendir("/sys/class/block");
	struct dirent *de;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			add_block(c, de->d_name);
	closedir(dir);
}

static void coldplug(struct ki_ctx *c)
{
	double t0 = ki_now();
	int n = ki_coldplug_modaliases("/sys/bus", on_alias, c);

	c->coldplug_later = false;

	if (n < 0)
		KI_ERRF(&c->log, "cannot read the devices under /sys/bus: %s", strerror(-n));
	scan_block(c);
	KI_DBGF(&c->log, "coldplug: %d device aliases, %u block devices in %.3f s", n,
		c->devs.n, ki_now() - t0);
}

/*
 * A host-only image loads its whole root chain at once (the builder marks
 * it "load"), so walking every device's modalias (a tenth of a second under
 * emulation, on the one CPU the module loads need) would only delay the
 * root: it waits until the root is slow to appear or a shell is about to
 * start.  Block devices that exist already are looked at now.
 */
static int step_coldplug(struct ki_ctx *c)
{
	if (c->plan.loaded && (c->plan.p.hdr->flags & KP_PLAN_HOST_ONLY)) {
		c->coldplug_later = true;
		scan_block(c);
		return 0;
	}
	coldplug(c);
	return 0;
}

static void coldplug_now(struct ki_ctx *c)
{
	if (c->coldplug_later)
		coldplug(c);
}

static void handle_event(struct ki_ctx *c, const struct ki_event *ev)
{
	const char *name;
	struct ki_blkdev *b;

	if (ev->modalias && strcmp(ev->action, "add") == 0)
		on_alias(c, ev->modalias, false);
	if (ev->subsystem == NULL || strcmp(ev->subsystem, "block") != 0)
		return;
	/* sysfs knows a block device by its kernel name, the last part of DEVPATH */
	name = strrchr(ev->devpath, '/') ? strrchr(ev->devpath, '/') + 1 : ev->devpath;
	if (strcmp(ev->action, "add") == 0 || strcmp(ev->action, "change") == 0) {
		add_block(c, name);
	} else if (strcmp(ev->action, "remove") == 0 && (b = ki_devs_find(&c->devs, name))) {
		memset(&b->id, 0, sizeof(b->id));
		b->error = -ENODEV;
		if (c->root == b)
			c->root = NULL;
	}
}

static void drain_events(struct ki_ctx *c)
{
	char buf[8192];
	struct ki_event ev;
	int r;

	if (c->uevent_fd < 0) {
		c->rescan = true;
		return;
	}
	while ((r = ki_uevent_recv(c->uevent_fd, buf, sizeof(buf), &ev)) != 0) {
		if (r == -ENOBUFS) {
			c->rescan = true; /* the kernel dropped some: look again */
			continue;
		}
		if (r < 0)
			break;
		handle_event(c, &ev);
	}
}

/* ---- the root ----------------------------------------------------------- */

static void wait_events(struct ki_ctx *c)
{
	struct pollfd p = { .fd = c->uevent_fd, .events = POLLIN };

	if (c->uevent_fd < 0)
		ki_sleep_ms(POLL_MS);
	else
		poll(&p, 1, POLL_MS);
}

static int step_wait_root(struct ki_ctx *c)
{
	double start = c->wait_since, now;
	bool warned = false, diagnosed = false, forever = c->cmd.rootwait && c->cmd.timeout < 0;

	if (c->cmd.root.kind == KI_ROOT_NONE) {
		KI_ERRF(&c->log, "no root= on the kernel command line and no default root in the "
			"image: add root=UUID=... (see blkid)");
		return -EINVAL;
	}
	for (;;) {
		drain_events(c);
		if (c->rescan) {
			c->rescan = false;
			coldplug(c);
		}
		now = ki_now();
		if (c->root && now - c->t0 >= c->cmd.rootdelay)
			return 0;
		if (c->coldplug_later && now - start >= COLDPLUG_AFTER)
			coldplug(c);
		if (!warned && now - start >= WAITING_AFTER) {
			KI_WARNF(&c->log, "waiting for root=%s (%s %s)%s", c->cmd.root_text,
				 ki_root_kind_name(c->cmd.root.kind), c->cmd.root.value,
				 forever ? ", for ever (rootwait)" : "");
			warned = true;
		}
		if (c->timeout && now - start >= c->timeout && !diagnosed) {
			if (!forever)
				return -ETIMEDOUT;
			ki_diagnose(c, "root not found yet, still waiting (rootwait)");
			diagnosed = true;
		}
		wait_events(c);
	}
}

/* ---- image hooks, rd.break, fsck (stages.c, fsck.c, rescue.c) ---------- */

/* The stage's hooks (once a boot), then rd.break=STAGE's shell (once). */
static void run_stage(struct ki_ctx *c, enum ki_stage s)
{
	struct ki_stage_info info;
	struct ki_stage_run r = { KI_STAGES_DIR, s, &info, environ, &ki_run_sys_ops, &c->log };
	const char *name = ki_stage_name(s);
	unsigned failed;
	char why[96];

	if (!(c->stages_run & 1u << s)) {
		c->stages_run |= 1u << s;
		ki_stage_info(c, &info);
		ki_stage_run(&r, &failed);
		/* what the scripts left running and then exited is ours to reap */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	if (!(c->cmd.breaks & 1u << s) || (c->breaks_done & 1u << s))
		return;
	c->breaks_done |= 1u << s;
	coldplug_now(c); /* a keyboard for the shell */
	snprintf(why, sizeof(why), "rd.break=%s: exit the shell to go on with the boot", name);
	if (!ki_shell(c, s, why))
		KI_ERRF(&c->log, "rd.break=%s: the image has no %s (kindling build --hook busybox); "
			"going on", name, KI_SHELL);
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
	run_stage(c, KI_STAGE_MODULES);
	return 0;
}

static int step_stage_pre_mount(struct ki_ctx *c)
{
	run_stage(c, KI_STAGE_PRE_MOUNT);
	return 0;
}

static int step_stage_pre_switch(struct ki_ctx *c)
{
	run_stage(c, KI_STAGE_PRE_SWITCH);
	return 0;
}

/* The root's checker, if the image has it (see fsck.c for what it means). */
static int step_fsck(struct ki_ctx *c)
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
	coldplug_now(c);
	if (!ki_shell(c, KI_STAGE_PRE_MOUNT, "fsck left errors on the root: repair it (e.g. "
		      "e2fsck -f DEVICE), then exit the shell to mount it")) {
		KI_ERRF(&c->log, "fsck left errors on %s and the image has no %s: mounting it "
			"read-only", info.root, KI_SHELL);
		c->force_ro = true;
	}
	return 0;
}

/* Make sure the kernel knows type, loading its module ("fs-TYPE"). */
static void fs_driver(struct ki_ctx *c, const char *type)
{
	char alias[64];
	int err;

	if (c->ml == NULL || ki_fs_registered(type))
		return;
	snprintf(alias, sizeof(alias), "fs-%s", type);
	err = ki_modload_load(c->ml, alias, MODULE_WAIT_MS);
	if (err == -ENOENT)
		KI_DBGF(&c->log, "no module for file system %s in the image", type);
	else if (err < 0)
		KI_WARNF(&c->log, "the driver of file system %s did not load: %s", type,
			 strerror(-err));
}

static int fs_types(struct ki_ctx *c, char *out, size_t size)
{
	if (c->cmd.rootfstype)
		return snprintf(out, size, "%s", c->cmd.rootfstype) < (int)size ? 0 : -E2BIG;
	if (c->root->id.usage == KI_USE_FS)
		return snprintf(out, size, "%s", c->root->id.type) < (int)size ? 0 : -E2BIG;
	return ki_fs_list(out, size);
}

static int try_types(struct ki_ctx *c, const char *dev, char *types, unsigned long flags,
		     const char *data)
{
	char *save = NULL, *type;
	int err = -ENODEV;

	for (type = strtok_r(types, ",", &save); type; type = strtok_r(NULL, ",", &save)) {
		fs_driver(c, type);
		err = ki_mount_api(dev, KI_NEWROOT, type, flags, data);
		if (err == 0) {
			snprintf(c->fstype, sizeof(c->fstype), "%s", type);
			return 0;
		}
		KI_DBGF(&c->log, "mounting %s as %s: %s", dev, type, strerror(-err));
	}
	return err;
}

static int step_mount_root(struct ki_ctx *c)
{
	char dev[64], data[1024], types[512], tried[512];
	unsigned long flags = c->cmd.rw == 1 ? 0 : MS_RDONLY;
	int err;

	snprintf(dev, sizeof(dev), "/dev/%s", c->root->name);
	err = ki_mount_opts(c->cmd.rootflags, &flags, data, sizeof(data));
	if (err < 0) {
		KI_ERRF(&c->log, "rootflags=%s is too long; mounting without it", c->cmd.rootflags);
		data[0] = '\0';
	}
	if (c->force_ro)
		flags |= MS_RDONLY;
	mkdir(KI_NEWROOT, 0755);
	err = fs_types(c, types, sizeof(types));
	if (err < 0 || types[0] == '\0') {
		KI_ERRF(&c->log, "%s holds no file system we know; set rootfstype=", dev);
		return -ENODEV;
	}
	snprintf(tried, sizeof(tried), "%s", types);
	err = try_types(c, dev, types, flags, data);
	if (err < 0)
		KI_ERRF(&c->log, "cannot mount the root %s as %s (%s%s%s): %s; check rootfstype= and "
			"rootflags=", dev, tried, flags & MS_RDONLY ? "ro" : "rw", data[0] ? "," : "",
			data, strerror(-err));
	return err;
}

/* ---- handing over ------------------------------------------------------- */

/* The inits the kernel would try, present in the new root; NULL-ended. */
static unsigned pick_inits(struct ki_ctx *c, const char **inits, unsigned max)
{
	static const char *const defaults[] = { "/sbin/init", "/etc/init", "/bin/init", "/bin/sh" };
	struct stat st;
	unsigned n = 0;
	int fd = open(KI_NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (c->cmd.init) {
		if (fstatat(fd, c->cmd.init + (c->cmd.init[0] == '/'), &st, AT_SYMLINK_NOFOLLOW) == 0)
			inits[n++] = c->cmd.init;
		else
			KI_ERRF(&c->log, "init=%s is not in the root file system; trying the "
				"defaults", c->cmd.init);
	}
	for (size_t i = 0; i < KI_ARRAY_SIZE(defaults) && n + 1 < max; i++)
		if (fstatat(fd, defaults[i] + 1, &st, AT_SYMLINK_NOFOLLOW) == 0)
			inits[n++] = defaults[i];
	inits[n] = NULL;
	close(fd);
	return n;
}

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

	if (pick_inits(c, inits, KI_ARRAY_SIZE(inits)) == 0) {
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
	{ "find the root device", step_wait_root },
	{ "run the pre-mount stage", step_stage_pre_mount },
	{ "check the root file system", step_fsck },
	{ "mount the root file system", step_mount_root },
	{ "run the pre-switch stage", step_stage_pre_switch },
	{ "switch to the root file system", step_switch },
};

/* After a rescue: find the root again. */
static size_t retry_step(void)
{
	size_t i = 0;

	while (steps[i].run != step_wait_root)
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
		coldplug_now(c); /* its unmatched devices are in the diagnostics */
		ki_diagnose(c, err == -ETIMEDOUT ? "gave up waiting for the root device" : why);
		ki_rescue(c);
		c->wait_since = ki_now();
		i = retry_step();
	}
	ki_reboot_after(&c->log, 10);
}
