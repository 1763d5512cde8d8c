// SPDX-License-Identifier: MIT
/*
 * Mount options as mount(8) takes them: the generic ones become MS_* flags,
 * the rest go to the filesystem as data ("noatime,commit=7" is MS_NOATIME
 * plus "commit=7").  The kernel's own root mount passes rootflags= whole as
 * data, which ext4 would reject for noatime; users write mount(8) options.
 * Also what the kernel can mount now (/proc/filesystems), and the API file
 * systems every boot starts with.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "init.h"

static const struct {
	const char *name;
	unsigned long flag;
	bool clear;
} opts[] = {
	{ "ro", MS_RDONLY, false },         { "rw", MS_RDONLY, true },
	{ "nosuid", MS_NOSUID, false },     { "suid", MS_NOSUID, true },
	{ "nodev", MS_NODEV, false },       { "dev", MS_NODEV, true },
	{ "noexec", MS_NOEXEC, false },     { "exec", MS_NOEXEC, true },
	{ "sync", MS_SYNCHRONOUS, false },  { "async", MS_SYNCHRONOUS, true },
	{ "dirsync", MS_DIRSYNC, false },   { "mand", MS_MANDLOCK, false },
	{ "nomand", MS_MANDLOCK, true },    { "noatime", MS_NOATIME, false },
	{ "atime", MS_NOATIME, true },      { "nodiratime", MS_NODIRATIME, false },
	{ "diratime", MS_NODIRATIME, true }, { "relatime", MS_RELATIME, false },
	{ "norelatime", MS_RELATIME, true }, { "strictatime", MS_STRICTATIME, false },
	{ "lazytime", MS_LAZYTIME, false }, { "nolazytime", MS_LAZYTIME, true },
	{ "silent", MS_SILENT, false },     { "loud", MS_SILENT, true },
	{ "defaults", 0, false },
};

static bool apply_flag(const char *opt, unsigned long *flags)
{
	for (size_t i = 0; i < KI_ARRAY_SIZE(opts); i++) {
		if (strcmp(opt, opts[i].name) != 0)
			continue;
		if (opts[i].clear)
			*flags &= ~opts[i].flag;
		else
			*flags |= opts[i].flag;
		return true;
	}
	return false;
}

/* Split opts (comma separated) into *flags (updated) and data; -E2BIG if
 * data does not fit. */
int ki_mount_opts(const char *optstr, unsigned long *flags, char *data, size_t size)
{
	char buf[1024], *save = NULL, *opt;
	size_t len = 0;

	if (size == 0)
		return -E2BIG;
	data[0] = '\0';
	if (optstr == NULL)
		return 0;
	if (strlen(optstr) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, optstr);
	for (opt = strtok_r(buf, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		int n;

		if (apply_flag(opt, flags))
			continue;
		n = snprintf(data + len, size - len, "%s%s", len ? "," : "", opt);
		if (n < 0 || (size_t)n >= size - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}

/* Does the kernel know filesystem type (built in or its module loaded)? */
bool ki_fs_registered(const char *type)
{
	char buf[8192], *line, *save = NULL;

	if (ki_read_file("/proc/filesystems", buf, sizeof(buf)) <= 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name = strchr(line, '\t');

		if (strcmp(name ? name + 1 : line, type) == 0)
			return true;
	}
	return false;
}

/* Block filesystems the kernel knows now, for a root of unknown type. */
int ki_fs_list(char *out, size_t size)
{
	char buf[8192], *line, *save = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (ki_read_file("/proc/filesystems", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n;

		if (strncmp(line, "nodev", 5) == 0 || line[0] != '\t')
			continue;
		n = snprintf(out + len, size - len, "%s%s", len ? "," : "", line + 1);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return 0;
}

int ki_mount_api(const char *src, const char *dst, const char *type, unsigned long flags,
		 const char *data)
{
	return mount(src, dst, type, flags, data && *data ? data : NULL) < 0 ? -errno : 0;
}

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
static void dev_fallback(const struct ki_log *log)
{
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0)
		KI_ERRF(log, "cannot mount a tmpfs on /dev either: %s", strerror(errno));
	mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
	mknod("/dev/kmsg", S_IFCHR | 0644, makedev(1, 11));
	mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
}

/* The boot's first mounts: /dev, /proc, /sys and /run (already there is fine). */
void ki_mount_early(const struct ki_log *log)
{
	for (size_t i = 0; i < KI_ARRAY_SIZE(api_mounts); i++) {
		mkdir(api_mounts[i].dir, 0755);
		if (mount(api_mounts[i].src, api_mounts[i].dir, api_mounts[i].type,
			  api_mounts[i].flags, api_mounts[i].data) == 0 || errno == EBUSY)
			continue;
		KI_ERRF(log, "cannot mount %s on %s: %s", api_mounts[i].type, api_mounts[i].dir,
			strerror(errno));
		if (i == 0)
			dev_fallback(log);
	}
}
