// SPDX-License-Identifier: MIT
/*
 * Mounting the root found (c->root) on /sysroot: as rootfstype=, else as
 * the type probed, else as each block file system the kernel knows; each
 * type's module ("fs-TYPE") loaded first when the kernel lacks it;
 * rootflags= split as mount(8) does (mount.c), ro unless rw.  Then which
 * of the inits the kernel would try are in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define MODULE_WAIT_MS 30000

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

/* 0 with the root on KI_NEWROOT and c->fstype what it was mounted as. */
int ki_mount_root(struct ki_ctx *c)
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

/* The inits the kernel would try, present in the new root; NULL-ended. */
unsigned ki_root_inits(const struct ki_ctx *c, const char **inits, unsigned max)
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
