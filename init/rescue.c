// SPDX-License-Identifier: MIT
/*
 * When the root never comes: say what was asked for, what was seen (every
 * block device with its identity), which modules loaded or failed and
 * which device aliases no module in the image matched, so the reader can
 * tell a missing driver from a wrong root=.  Then a shell if the image has
 * one (on its exit we look for the root again), else a pause and a reboot.
 * PID 1 never returns from main: the kernel would panic.
 *
 * The same shell serves rd.break=STAGE and an fsck that left errors: in
 * its own session, on the console's real tty as its controlling terminal
 * (job control, ^C), with the stage scripts' environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

#define LIST_LINE 900

/* Lines of "title (N): a b c", cut to what a kernel log record holds. */
struct list {
	const struct ki_log *log;
	const char *title;
	char line[LIST_LINE + 1];
	size_t len;
	unsigned n, lines;
};

static void list_flush(struct list *l)
{
	if (l->len == 0)
		return;
	ki_log(l->log, KI_ERR, "%s%s:%s", l->title, l->lines ? " (more)" : "", l->line);
	l->lines++;
	l->len = 0;
	l->line[0] = '\0';
}

static void list_add(struct list *l, const char *item)
{
	if (l->len + strlen(item) + 1 > LIST_LINE)
		list_flush(l);
	l->len += (size_t)snprintf(l->line + l->len, sizeof(l->line) - l->len, " %s", item);
	l->n++;
}

static void list_end(struct list *l, const char *none)
{
	list_flush(l);
	if (l->n == 0)
		ki_log(l->log, KI_ERR, "%s: %s", l->title, none);
}

static void report_devices(struct ki_ctx *c)
{
	ki_log(&c->log, KI_ERR, "block devices seen: %u", c->devs.n);
	for (unsigned i = 0; i < c->devs.n; i++) {
		const struct ki_blkdev *b = &c->devs.dev[i];

		ki_log(&c->log, KI_ERR, "  %s%s%s: TYPE=%s UUID=%s LABEL=%s PARTUUID=%s "
		       "PARTLABEL=%s%s%s", b->name, b->parent[0] ? " on " : "", b->parent,
		       b->id.type[0] ? b->id.type : "unknown", b->id.uuid, b->id.label,
		       b->partuuid, b->partlabel, b->error ? " error=" : "",
		       b->error ? strerror(-b->error) : "");
	}
}

static void report_modules(struct ki_ctx *c)
{
	struct list live = { .log = &c->log, .title = "modules loaded" };
	struct list failed = { .log = &c->log, .title = "modules failed" };
	char item[128];

	for (uint32_t m = 0; m < ki_plan_n_modules(&c->plan) && c->ml; m++) {
		enum ki_mod_state s = ki_modload_state(c->ml, m);

		if (s == KI_MOD_LIVE) {
			list_add(&live, ki_plan_name(&c->plan, m));
		} else if (s == KI_MOD_FAILED) {
			snprintf(item, sizeof(item), "%s(%s)", ki_plan_name(&c->plan, m),
				 strerror(-ki_modload_error(c->ml, m)));
			list_add(&failed, item);
		} else if (s != KI_MOD_IDLE) {
			snprintf(item, sizeof(item), "%s(still loading)", ki_plan_name(&c->plan, m));
			list_add(&failed, item);
		}
	}
	list_end(&live, c->plan.loaded ? "none" : "none (no usable load plan)");
	list_end(&failed, "none");
}

static void report_unmatched(struct ki_ctx *c)
{
	struct list l = { .log = &c->log, .title = "device aliases no module in the image matched" };

	for (unsigned i = 0; i < c->n_unmatched; i++)
		list_add(&l, c->unmatched[i]);
	if (c->n_unmatched_more) {
		char more[32];

		snprintf(more, sizeof(more), "and %u more", c->n_unmatched_more);
		list_add(&l, more);
	}
	list_end(&l, "none");
}

/* Everything a person needs to see why the root did not come. */
void ki_diagnose(struct ki_ctx *c, const char *why)
{
	ki_log(&c->log, KI_ERR, "%s: root=%s (%s %s)%s%s%s", why,
	       c->cmd.root_text[0] ? c->cmd.root_text : "(none)",
	       ki_root_kind_name(c->cmd.root.kind), c->cmd.root.value,
	       c->cmd.rootfstype ? " rootfstype=" : "", c->cmd.rootfstype ? c->cmd.rootfstype : "",
	       c->plan.loaded ? "" : "; the image's load plan was not usable");
	report_devices(c);
	if (c->ml)
		report_modules(c);
	report_unmatched(c);
	ki_log(&c->log, KI_ERR, "check root= against the devices above; a missing disk usually "
	       "means its driver is not in the image (kindling build --add MODULE)");
}

/* Pause so the messages can be read, then reboot; never returns. */
void ki_reboot_after(const struct ki_log *log, unsigned seconds)
{
	ki_log(log, KI_ERR, "rebooting in %u seconds", seconds);
	ki_sleep_ms(seconds * 1000);
	sync();
	reboot(RB_AUTOBOOT);
	ki_log(log, KI_ERR, "reboot failed: %s; halting here", strerror(errno));
	for (;;)
		ki_sleep_ms(60000);
}

/*
 * The console's real tty (the last of /sys/class/tty/console/active, as
 * busybox's cttyhack finds it): a shell gets job control only on a tty it
 * can make its controlling one.  /dev/console when it cannot be found.
 */
static void console_tty(char *path, size_t size)
{
	char buf[48], *name;
	ssize_t n = ki_read_file("/sys/class/tty/console/active", buf, sizeof(buf));

	snprintf(path, size, "/dev/console");
	if (n <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	name = strrchr(buf, ' ') ? strrchr(buf, ' ') + 1 : buf;
	if (name[0] != '\0' && strchr(name, '/') == NULL) {
		snprintf(path, size, "/dev/%s", name);
		if (access(path, R_OK | W_OK) != 0)
			snprintf(path, size, "/dev/console");
	}
}

/* In the child: a new session whose controlling tty is the console. */
static void shell_child(const char *tty, char *const envp[])
{
	char *argv[] = { "sh", NULL };
	int fd;

	setsid();
	fd = open(tty, O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 1);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	execve(KI_SHELL, argv, envp);
	_exit(127);
}

/*
 * A shell on the console, why said first; returns when it exits (true),
 * or at once (false) when the image has no /bin/sh.  It gets the stage
 * environment of stage (KINDLING_ROOT and the others).
 */
bool ki_shell(struct ki_ctx *c, enum ki_stage stage, const char *why)
{
	struct ki_stage_info info;
	struct ki_env *env;
	char tty[64];
	pid_t pid;
	int status;

	if (access(KI_SHELL, X_OK) != 0)
		return false;
	env = malloc(sizeof(*env));
	if (env == NULL)
		return false;
	ki_stage_info(c, &info);
	if (ki_stage_env(env, stage, &info, environ) < 0)
		ki_env_init(env, environ);
	console_tty(tty, sizeof(tty));
	ki_log(&c->log, KI_ERR, "%s: starting a shell (%s on %s)", why, KI_SHELL, tty);
	pid = fork();
	if (pid == 0)
		shell_child(tty, env->vars);
	free(env);
	if (pid < 0) {
		ki_log(&c->log, KI_ERR, "cannot start %s: %s", KI_SHELL, strerror(errno));
		return false;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ki_log(&c->log, KI_NOTICE, "the shell exited; going on with the boot");
	return true;
}

/*
 * After the diagnostics: a shell if the image has one; returns when it
 * exits so the caller looks for the root again.  Without one: reboot
 * after a pause.
 */
void ki_rescue(struct ki_ctx *c)
{
	if (access(KI_SHELL, X_OK) != 0) {
		ki_log(&c->log, KI_ERR, "cannot go on: no root file system, and the image has no "
		       "%s for a rescue shell (kindling build --hook busybox)", KI_SHELL);
		ki_reboot_after(&c->log, 10);
	}
	if (!ki_shell(c, KI_STAGE_PRE_MOUNT, "no root file system; exit the shell to look for "
		      "the root again"))
		ki_reboot_after(&c->log, 10);
}
