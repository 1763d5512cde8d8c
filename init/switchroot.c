// SPDX-License-Identifier: MIT
/*
 * Handing over to the real root, in busybox switch_root's order: move the
 * API filesystems under the new root, chdir into it, free the initramfs
 * (it is RAM: nobody can unmount it), move the new root onto "/", chroot
 * into it and exec its init.  The chdir comes first so that "." still
 * names the new root once it covers "/".
 *
 * Freeing walks "/" and never crosses into another filesystem (st_dev), so
 * the new root mounted below it is safe; and it only happens when "/" is a
 * ramfs or tmpfs and we are PID 1, so a test run on a real system cannot
 * wipe anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "init.h"

#define RAMFS_MAGIC_ 0x858458f6u
#define TMPFS_MAGIC_ 0x01021994u
#define FREE_MAX_DEPTH 64

static int free_dir(int dirfd, dev_t dev, unsigned *count, unsigned depth);

static int free_entry(int dirfd, const char *name, dev_t dev, unsigned *count,
		      unsigned depth)
{
	struct stat st;
	int fd, err;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (st.st_dev != dev)
		return 0; /* a mount point: not ours */
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		err = free_dir(fd, dev, count, depth + 1);
		close(fd);
		if (err < 0)
			return err;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			return errno == EBUSY || errno == ENOTEMPTY ? 0 : -errno;
	} else if (unlinkat(dirfd, name, 0) < 0) {
		return -errno;
	}
	(*count)++;
	return 0;
}

static int free_dir(int dirfd, dev_t dev, unsigned *count, unsigned depth)
{
	struct dirent *de;
	DIR *dir;
	int fd, err = 0, first = 0;

	if (depth > FREE_MAX_DEPTH)
		return -ELOOP;
	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = free_entry(dirfd, de->d_name, dev, count, depth);
		if (err < 0 && first == 0)
			first = err; /* go on: free what we can */
	}
	closedir(dir);
	return first;
}

/*
 * Delete everything under dirfd that lives on device dev, counting what
 * was removed; other filesystems below it are left alone.  Returns 0 or
 * the first error met (after freeing all it could).
 */
int ki_free_tree(int dirfd, dev_t dev, unsigned *count)
{
	*count = 0;
	return free_dir(dirfd, dev, count, 0);
}

static void move_api(const char *newroot, const char *dir, const struct ki_log *log)
{
	char dst[PATH_MAX];

	snprintf(dst, sizeof(dst), "%s%s", newroot, dir);
	if (mount(dir, dst, NULL, MS_MOVE, NULL) == 0)
		return;
	KI_WARNF(log, "cannot move %s to %s: %s; unmounting it (the real root lacks %s?)",
		 dir, dst, strerror(errno), dir);
	umount2(dir, MNT_DETACH);
}

/* May we free "/"?  NULL if so, else why not. */
static const char *free_refused(const struct stat *root, const struct stat *newroot)
{
	struct statfs sfs;

	if (getpid() != 1)
		return "not PID 1";
	if (root->st_dev == newroot->st_dev)
		return "the new root is not a mount point";
	if (statfs("/", &sfs) < 0)
		return "cannot statfs /";
	if ((uint32_t)sfs.f_type != RAMFS_MAGIC_ && (uint32_t)sfs.f_type != TMPFS_MAGIC_)
		return "/ is not a ramfs or tmpfs";
	return NULL;
}

static void free_initramfs(const struct stat *root, const struct stat *newroot,
			   const struct ki_log *log, unsigned *freed)
{
	const char *why = free_refused(root, newroot);
	int fd, err;

	*freed = 0;
	if (why) {
		KI_WARNF(log, "not freeing the initramfs: %s", why);
		return;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	err = ki_free_tree(fd, root->st_dev, freed);
	close(fd);
	if (err < 0)
		KI_WARNF(log, "freeing the initramfs: %s (some files stay in RAM)", strerror(-err));
	KI_INFOF(log, "freed initramfs (%u files)", *freed);
}

/*
 * Switch to newroot (a mount point) and exec the first of inits (NULL
 * terminated) that runs, with argv[1..] as its arguments.  Returns only
 * when none could be executed; by then the initramfs may be gone.
 */
int ki_switch_root(const char *newroot, const char *const *inits, char *const argv[],
		   struct ki_log *log, unsigned *freed)
{
	static const char *const api[] = { "/dev", "/proc", "/sys", "/run" };
	struct stat root, nr;
	char *args[64];
	size_t i, n = 1;
	int err = -ENOENT;

	for (i = 0; i < KI_ARRAY_SIZE(api); i++)
		move_api(newroot, api[i], log);
	if (chdir(newroot) < 0 || stat("/", &root) < 0 || stat(".", &nr) < 0)
		return -errno;
	free_initramfs(&root, &nr, log, freed);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return -errno;
	for (i = 1; argv && argv[i] && n < KI_ARRAY_SIZE(args) - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	ki_log_restore(log, KI_DEVKMSG_SYSCTL);
	for (i = 0; inits[i]; i++) {
		args[0] = (char *)inits[i];
		execv(inits[i], args);
		err = -errno;
		KI_ERRF(log, "cannot run %s from the new root: %s", inits[i], strerror(errno));
	}
	return err;
}
