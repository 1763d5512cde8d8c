// SPDX-License-Identifier: MIT
/*
 * Image hooks at boot: the programs in /etc/kindling/stages/STAGE/ (the
 * builder names them NN-HOOKNAME, mode 0755) run one after the other in
 * the byte order of their names (the C locale's "lexical"), each waited
 * for.  Their stdin, stdout and stderr are the console.  A failing one is
 * logged with its status and the boot goes on: a hook must not be able to
 * make a machine unbootable (rd.break=STAGE stops there for debugging).
 *
 * Their environment: what the kernel gave the init (HOME, TERM and the
 * command line's NAME=VALUE arguments it did not use), then
 *   PATH=/usr/sbin:/usr/bin:/sbin:/bin
 *   KINDLING_STAGE      modules, pre-mount or pre-switch
 *   KINDLING_ROOTSPEC   root= as given (or the image's default root)
 *   KINDLING_ROOT       the root device, /dev/NAME (from pre-mount on)
 *   KINDLING_ROOTFSTYPE its type: rootfstype=, else what was probed, else
 *                       what it was mounted as (unset while not known)
 *   KINDLING_NEWROOT    where the root is (or will be) mounted: /sysroot
 *   KINDLING_KVER       the running kernel's release
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/*
 * The programs of stage s under dir into names, sorted; returns how many
 * (0 when the directory does not exist) or -errno.  *left counts those
 * left out: beyond max, or names of KI_STAGE_NAME_MAX bytes or more.
 */
int ki_stage_list(const char *dir, enum ki_stage s, char (*names)[KI_STAGE_NAME_MAX],
		  unsigned max, unsigned *left)
{
	char path[256];
	struct dirent *de;
	unsigned n = 0, i;
	DIR *d;

	*left = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, ki_stage_name(s));
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n >= max || strlen(de->d_name) >= KI_STAGE_NAME_MAX) {
			(*left)++;
			continue;
		}
		/* insertion in order: a few names, and no qsort in the init */
		i = n++;
		for (; i > 0 && strcmp(names[i - 1], de->d_name) > 0; i--)
			memcpy(names[i], names[i - 1], KI_STAGE_NAME_MAX);
		strcpy(names[i], de->d_name);
	}
	closedir(d);
	return (int)n;
}

/* The environment of stage s's programs (see the top of this file). */
int ki_stage_env(struct ki_env *e, enum ki_stage s, const struct ki_stage_info *info,
		 char *const *inherit)
{
	const struct {
		const char *name, *value;
	} vars[] = {
		{ "PATH", KI_PATH },
		{ "KINDLING_STAGE", ki_stage_name(s) },
		{ "KINDLING_ROOTSPEC", info->rootspec },
		{ "KINDLING_ROOT", info->root[0] ? info->root : NULL },
		{ "KINDLING_ROOTFSTYPE", info->fstype },
		{ "KINDLING_NEWROOT", info->newroot },
		{ "KINDLING_KVER", info->kver },
	};
	int err;

	ki_env_init(e, inherit);
	for (size_t i = 0; i < KI_ARRAY_SIZE(vars); i++) {
		if (vars[i].value == NULL || vars[i].value[0] == '\0')
			continue;
		err = ki_env_set(e, vars[i].name, vars[i].value);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Can it be run?  NULL if so, else why not. */
static const char *not_runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? "a dangling symlink" : strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (!(st.st_mode & 0111))
		return "not executable (the builder installs stage scripts 0755)";
	return NULL;
}

/*
 * Run the programs of r->stage in order; *failed counts those that did
 * not exit 0 (or could not start).  Returns how many ran, or -errno when
 * the stage's environment could not be built (then none ran).
 */
int ki_stage_run(const struct ki_stage_run *r, unsigned *failed)
{
	char names[KI_STAGE_MAX][KI_STAGE_NAME_MAX], path[256 + KI_STAGE_NAME_MAX], how[96];
	const char *stage = ki_stage_name(r->stage), *why;
	struct ki_env *env;
	int n, err, status, ran = 0;
	unsigned left;
	double t0;

	*failed = 0;
	n = ki_stage_list(r->dir, r->stage, names, KI_STAGE_MAX, &left);
	if (n < 0) {
		KI_WARNF(r->log, "stage %s: cannot read %s/%s: %s; its hooks do not run", stage,
			 r->dir, stage, strerror(-n));
		return 0;
	}
	if (left) {
		KI_ERRF(r->log, "stage %s: %u entries of %s/%s not run (more than %d, or names of "
			"%d bytes or more)", stage, left, r->dir, stage, KI_STAGE_MAX,
			KI_STAGE_NAME_MAX);
		*failed = left;
	}
	if (n == 0)
		return 0;
	env = malloc(sizeof(*env));
	if (env == NULL)
		return -ENOMEM;
	err = ki_stage_env(env, r->stage, r->info, r->environ);
	if (err < 0) {
		KI_ERRF(r->log, "stage %s: the environment does not fit (%s); its %d hooks do not "
			"run", stage, strerror(-err), n);
		free(env);
		return err;
	}
	for (int i = 0; i < n; i++) {
		char *argv[] = { path, NULL };

		snprintf(path, sizeof(path), "%s/%s/%s", r->dir, stage, names[i]);
		why = not_runnable(path);
		if (why) {
			KI_WARNF(r->log, "stage %s: skipping %s: %s", stage, path, why);
			(*failed)++;
			continue;
		}
		KI_INFOF(r->log, "stage %s: running %s", stage, names[i]);
		t0 = ki_now();
		err = ki_run(r->ops, path, argv, env->vars, &status);
		ran++;
		if (err < 0) {
			KI_WARNF(r->log, "stage %s: cannot start %s: %s; going on", stage, path,
				 strerror(-err));
			(*failed)++;
			continue;
		}
		ki_status_text(status, how, sizeof(how));
		if (status == 0) {
			KI_INFOF(r->log, "stage %s: %s exited 0 (%.2f s)", stage, names[i],
				 ki_now() - t0);
			continue;
		}
		KI_WARNF(r->log, "stage %s: %s failed: %s; the boot goes on", stage, path, how);
		(*failed)++;
	}
	free(env);
	return ran;
}

/* The boot's answers to the stage variables, as far as they are known. */
void ki_stage_info(const struct ki_ctx *c, struct ki_stage_info *info)
{
	memset(info, 0, sizeof(*info));
	if (c->root)
		snprintf(info->root, sizeof(info->root), "/dev/%s", c->root->name);
	info->rootspec = c->cmd.root_text;
	if (c->fstype[0])
		info->fstype = c->fstype;
	else if (c->cmd.rootfstype)
		info->fstype = c->cmd.rootfstype;
	else if (c->root && c->root->id.usage == KI_USE_FS)
		info->fstype = c->root->id.type;
	info->newroot = KI_NEWROOT;
	info->kver = c->kver;
}

/* The boot's stage s: its hooks (once a boot), then rd.break=STAGE's shell (once). */
void ki_run_stage(struct ki_ctx *c, enum ki_stage s)
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
	ki_coldplug_now(c); /* a keyboard for the shell */
	snprintf(why, sizeof(why), "rd.break=%s: exit the shell to go on with the boot", name);
	if (!ki_shell(c, s, why))
		KI_ERRF(&c->log, "rd.break=%s: the image has no %s (kindling build --hook busybox); "
			"going on", name, KI_SHELL);
}
