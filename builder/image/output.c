// SPDX-License-Identifier: MIT
/*
 * The output file, written whole or not at all.
 *
 * The new bytes go into an unnamed O_TMPFILE in the output's directory: if
 * the builder dies, even by SIGKILL, or the disk fills up, the kernel drops
 * the file and the old output is untouched.  Once complete and synced it is
 * linked in (linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW): straight to
 * the output's name when that must not exist, else to ".NAME.kindling-tmp"
 * and renamed over the output, signals blocked in between.  A filesystem
 * without O_TMPFILE (or no /proc) gets that named file from the start,
 * removed again on SIGINT, SIGTERM and SIGHUP.
 *
 * Builds into one directory are serialised by flock() on the directory
 * itself, so no lock file is ever left behind.  Under that lock nothing
 * else uses the temporary name: one left by a build killed in the
 * instant between link and rename, or while writing a named one, is
 * removed by the next build (and by kindling update --remove, through
 * kd_output_tmp_path).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

/* A signal handler sees only globals: the named temporary file to remove. */
static char armed_path[PATH_MAX];
static struct sigaction saved[3];
static const int cleanup_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	if (armed_path[0])
		unlink(armed_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm(const char *path)
{
	struct sigaction sa = { .sa_handler = on_signal };

	snprintf(armed_path, sizeof(armed_path), "%s", path);
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(cleanup_signals[i], &sa, &saved[i]);
}

static void disarm(void)
{
	if (armed_path[0] == '\0')
		return;
	for (int i = 0; i < 3; i++)
		sigaction(cleanup_signals[i], &saved[i], NULL);
	armed_path[0] = '\0';
}

static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (int i = 0; i < 3; i++)
		sigaddset(&set, cleanup_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static int lock_dir(struct kd_output *o)
{
	int err;

	if (flock(o->dirfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		goto fail;
	KD_INFO(o->log, "%s: another build is writing into %s: waiting for it", o->path,
		o->dir);
	while (flock(o->dirfd, LOCK_EX) < 0)
		if (errno != EINTR)
			goto fail;
	return 0;
fail:
	err = -errno;
	KD_ERR(o->log, "%s: cannot lock the directory: %s", o->dir, strerror(-err));
	return err;
}

static int open_named(struct kd_output *o)
{
	char *full = kd_xasprintf("%s/%s", o->dir, o->tmp);

	arm(full);
	free(full);
	o->fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (o->fd < 0) {
		int err = -errno;

		disarm();
		KD_ERR(o->log, "%s/%s: cannot create the temporary file: %s", o->dir, o->tmp,
		       strerror(-err));
		return err;
	}
	o->linked = true; /* it has a name: close() removes it unless committed */
	return 0;
}

/* The temporary file's name, from the output's: the one place that says it. */
#define TMP_NAME ".%s.kindling-tmp"

char *kd_output_tmp_path(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

	return kd_xasprintf("%.*s" TMP_NAME, (int)(base - path), path, base);
}

int kd_output_open(const struct kd_log *log, struct kd_output *o, const char *path,
		   bool force)
{
	const char *slash = strrchr(path, '/');
	int err;

	memset(o, 0, sizeof(*o));
	o->log = log;
	o->path = path;
	o->force = force;
	o->fd = o->dirfd = -1;
	o->dir = slash == path ? kd_xstrdup("/") :
		 slash ? kd_xstrndup(path, (size_t)(slash - path)) : kd_xstrdup(".");
	o->base = kd_xstrdup(slash ? slash + 1 : path);
	if (o->base[0] == '\0') {
		KD_ERR(log, "%s: the output must name a file, not a directory", path);
		return -EINVAL;
	}
	o->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0) {
		err = -errno;
		KD_ERR(log, "%s: cannot open the output's directory %s: %s", path, o->dir,
		       strerror(errno));
		return err;
	}
	err = lock_dir(o);
	if (err < 0)
		return err;
	o->tmp = kd_xasprintf(TMP_NAME, o->base);
	/* a leftover of a build killed between link and rename: ours to remove */
	unlinkat(o->dirfd, o->tmp, 0);
	if (access("/proc/self/fd", X_OK) == 0)
		o->fd = openat(o->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (o->fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
	    errno != ENOENT) {
		err = -errno;
		KD_ERR(log, "%s: cannot create the new file in %s: %s", path, o->dir,
		       strerror(errno));
		return err;
	}
	if (o->fd < 0) {
		KD_DBG(log, "%s: no O_TMPFILE here: a named temporary file", o->dir);
		err = open_named(o);
		if (err < 0)
			return err;
	}
	if (fchmod(o->fd, 0600) < 0) {
		err = -errno;
		KD_ERR(log, "%s: chmod 0600 failed: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

int kd_output_write(void *data, const void *buf, size_t n)
{
	struct kd_output *o = data;
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int err = -errno;

			KD_ERR(o->log, "%s: writing failed: %s (nothing was replaced)", o->path,
			       strerror(errno));
			return err;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int exists_error(struct kd_output *o)
{
	KD_ERR(o->log, "%s: already exists (use --force to replace it)", o->path);
	return -EEXIST;
}

/* The named temporary file takes the output's name. */
static int rename_in(struct kd_output *o)
{
	if (o->force)
		return renameat(o->dirfd, o->tmp, o->dirfd, o->base) < 0 ? -errno : 0;
	if (renameat2(o->dirfd, o->tmp, o->dirfd, o->base, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* no RENAME_NOREPLACE here: link() fails if the name exists */
	if (linkat(o->dirfd, o->tmp, o->dirfd, o->base, 0) < 0)
		return -errno;
	unlinkat(o->dirfd, o->tmp, 0);
	return 0;
}

static int link_in(struct kd_output *o)
{
	char proc[64];
	sigset_t old;
	int err = 0;

	if (o->linked)
		return rename_in(o);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	if (!o->force)
		return linkat(AT_FDCWD, proc, o->dirfd, o->base, AT_SYMLINK_FOLLOW) < 0 ?
			-errno : 0;
	block_signals(&old);
	if (linkat(AT_FDCWD, proc, o->dirfd, o->tmp, AT_SYMLINK_FOLLOW) < 0) {
		err = -errno;
	} else if (renameat(o->dirfd, o->tmp, o->dirfd, o->base) < 0) {
		err = -errno;
		unlinkat(o->dirfd, o->tmp, 0);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

int kd_output_commit(struct kd_output *o)
{
	int err;

	if (fsync(o->fd) < 0) {
		err = -errno;
		KD_ERR(o->log, "%s: fsync failed: %s (nothing was replaced)", o->path,
		       strerror(errno));
		return err;
	}
	err = link_in(o);
	if (err == -EEXIST)
		return exists_error(o);
	if (err < 0) {
		KD_ERR(o->log, "%s: cannot put the new file in place: %s", o->path,
		       strerror(-err));
		return err;
	}
	o->linked = false; /* the output's now: close() must not remove it */
	o->tmp[0] = '\0';
	fsync(o->dirfd);
	kd_output_close(o);
	return 0;
}

void kd_output_close(struct kd_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->linked && o->tmp && o->tmp[0])
		unlinkat(o->dirfd, o->tmp, 0);
	o->linked = false;
	disarm();
	if (o->dirfd >= 0)
		close(o->dirfd); /* releases the lock */
	o->dirfd = -1;
	free(o->dir);
	free(o->base);
	free(o->tmp);
	o->dir = o->base = o->tmp = NULL;
}
