// SPDX-License-Identifier: MIT
/*
 * Extracting an initramfs under a directory (kindling extract).
 *
 * An image is untrusted input, so nothing may land outside DIR: absolute
 * names and ".." components are refused before anything is created, and
 * every path is walked from DIR one component at a time with O_NOFOLLOW,
 * so a symlink, whether it was there before or came from the archive
 * itself ("s -> /tmp", then "s/file"), is never written through.  The leaf
 * is replaced, never followed: an existing symlink or file there is
 * unlinked and the new one created with O_EXCL.
 *
 * Entries are applied in archive order, later ones replacing earlier ones,
 * as the kernel does.  Owners and device nodes need root; without it
 * owners stay the caller's, device nodes and sockets are skipped with a
 * warning, and directories keep u+rwx so that their entries can be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inspect/inspect.h"

#define MAX_COMPONENTS 2048 /* a name has at most 4095 bytes */

struct link_rec {
	uint32_t ino, devmajor, devminor;
	const char *name; /* the first entry of the group, inside the image */
};

struct xtract {
	const struct kd_log *log;
	const char *image;
	int root_fd;
	bool privileged;
	struct kd_extract *count;
	struct link_rec *links; /* the hard-link groups of the current archive */
	size_t n_links, cap_links, archive;
};

static int refuse(struct xtract *x, const char *name, const char *why)
{
	KD_ERR(x->log, "%s: refusing entry '%s': %s", x->image, name, why);
	x->count->refused++;
	return -EPERM;
}

static int fail(struct xtract *x, const char *name, const char *what, int err)
{
	KD_ERR(x->log, "%s: entry '%s': %s: %s", x->image, name, what, strerror(err));
	x->count->failed++;
	return -err;
}

/* Split a name into components in buf; refuse what could leave DIR. */
static int split(struct xtract *x, const char *name, char *buf, const char **comps,
		 size_t *n)
{
	char *p, *save = NULL;

	*n = 0;
	if (name[0] == '\0')
		return refuse(x, name, "empty name");
	if (name[0] == '/')
		return refuse(x, name, "absolute path");
	strcpy(buf, name);
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0)
			return refuse(x, name, "it has a '..' component");
		if (*n == MAX_COMPONENTS)
			return refuse(x, name, "too many components");
		comps[(*n)++] = p;
	}
	return 0;
}

static int open_dir_nofollow(int at, const char *comp)
{
	return openat(at, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int step_refused(struct xtract *x, const char *name, int at, const char *comp,
			int err)
{
	struct stat st;
	char why[300];

	if (err == ELOOP || err == ENOTDIR) {
		bool link = fstatat(at, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode);

		snprintf(why, sizeof(why), "'%s' on its path is %s", comp,
			 link ? "a symlink, which is never followed" : "not a directory");
		return link ? refuse(x, name, why) : fail(x, name, why, err);
	}
	snprintf(why, sizeof(why), "cannot open directory '%s'", comp);
	return fail(x, name, why, err);
}

/*
 * The directory holding the leaf, walked without following symlinks and
 * created as needed.  *dirfd is x->root_fd or an fd for the caller to close.
 */
static int walk(struct xtract *x, const char *name, const char **comps, size_t n,
		int *dirfd)
{
	int fd = x->root_fd, next;

	for (size_t i = 0; i + 1 < n; i++) {
		next = open_dir_nofollow(fd, comps[i]);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, comps[i], 0755) < 0 && errno != EEXIST)
				next = -1;
			else
				next = open_dir_nofollow(fd, comps[i]);
		}
		if (next < 0) {
			int err = step_refused(x, name, fd, comps[i], errno);

			if (fd != x->root_fd)
				close(fd);
			return err;
		}
		if (fd != x->root_fd)
			close(fd);
		fd = next;
	}
	*dirfd = fd;
	return 0;
}

/* Clear the leaf for a new entry; 1 when it already is a directory we want. */
static int make_room(struct xtract *x, const char *name, int dirfd, const char *leaf,
		     bool want_dir)
{
	struct stat st;

	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail(x, name, "cannot stat", errno);
	if (S_ISDIR(st.st_mode) && want_dir)
		return 1;
	if (unlinkat(dirfd, leaf, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return fail(x, name, "cannot replace what is there", errno);
	return 0;
}

static void set_times(int dirfd, const char *leaf, int fd, uint32_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	if (fd >= 0)
		futimens(fd, ts);
	else
		utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
}

static const struct link_rec *find_link(struct xtract *x, const struct kd_cpio_entry *e)
{
	for (size_t i = 0; i < x->n_links; i++)
		if (x->links[i].ino == e->ino && x->links[i].devmajor == e->devmajor &&
		    x->links[i].devminor == e->devminor)
			return &x->links[i];
	return NULL;
}

static void add_link(struct xtract *x, const struct kd_cpio_entry *e)
{
	KD_GROW(x->links, x->n_links, x->cap_links);
	x->links[x->n_links++] = (struct link_rec){ e->ino, e->devmajor, e->devminor,
						    e->name };
}

/* A later member of a hard-link group: link to the first, like the kernel. */
static int link_to_first(struct xtract *x, const struct link_rec *l, int dirfd,
			 const char *leaf, const char *name)
{
	const char *comps[MAX_COMPONENTS];
	char buf[4096];
	size_t n;
	int olddir, fd, err;

	err = split(x, l->name, buf, comps, &n);
	if (err < 0)
		return err;
	if (n == 0)
		return fail(x, name, "hard link to the root", EINVAL);
	err = walk(x, l->name, comps, n, &olddir);
	if (err < 0)
		return err;
	if (linkat(olddir, comps[n - 1], dirfd, leaf, 0) < 0)
		err = fail(x, name, "cannot create the hard link", errno);
	if (olddir != x->root_fd)
		close(olddir);
	if (err < 0)
		return err;
	fd = openat(dirfd, leaf, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? fail(x, name, "cannot open the hard link", errno) : fd;
}

static int put_file(struct xtract *x, const struct kd_cpio_entry *e, int dirfd,
		    const char *leaf)
{
	const struct link_rec *l = e->nlink >= 2 ? find_link(x, e) : NULL;
	int fd, err;

	if (l) {
		fd = link_to_first(x, l, dirfd, leaf, e->name);
		if (fd < 0)
			return fd;
	} else {
		fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0)
			return fail(x, e->name, "cannot create", errno);
	}
	err = kd_write_all(fd, e->data, e->size);
	if (err < 0) {
		err = fail(x, e->name, "cannot write", -err);
		goto out;
	}
	/* chown first: it clears set-id bits */
	if (x->privileged && fchown(fd, e->uid, e->gid) < 0) {
		err = fail(x, e->name, "cannot set the owner", errno);
		goto out;
	}
	if (fchmod(fd, e->mode & 07777) < 0) {
		err = fail(x, e->name, "cannot set the mode", errno);
		goto out;
	}
	if (!l && e->nlink >= 2)
		add_link(x, e);
out:
	set_times(dirfd, leaf, fd, e->mtime);
	close(fd);
	return err;
}

static int put_dir(struct xtract *x, const struct kd_cpio_entry *e, int dirfd,
		   const char *leaf)
{
	mode_t mode = (e->mode & 07777) | (x->privileged ? 0 : S_IRWXU);
	int fd, err = 0;

	if (mkdirat(dirfd, leaf, 0700) < 0 && errno != EEXIST)
		return fail(x, e->name, "cannot create the directory", errno);
	fd = open_dir_nofollow(dirfd, leaf);
	if (fd < 0)
		return fail(x, e->name, "cannot open the directory", errno);
	if (x->privileged && fchown(fd, e->uid, e->gid) < 0)
		err = fail(x, e->name, "cannot set the owner", errno);
	else if (fchmod(fd, mode) < 0)
		err = fail(x, e->name, "cannot set the mode", errno);
	close(fd);
	return err;
}

static int put_symlink(struct xtract *x, const struct kd_cpio_entry *e, int dirfd,
		       const char *leaf)
{
	char target[4096];

	memcpy(target, e->data, e->size); /* the parser checked 0 < size < 4096 */
	target[e->size] = '\0';
	if (symlinkat(target, dirfd, leaf) < 0)
		return fail(x, e->name, "cannot create the symlink", errno);
	if (x->privileged && fchownat(dirfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(x, e->name, "cannot set the owner", errno);
	set_times(dirfd, leaf, -1, e->mtime);
	return 0;
}

static int put_node(struct xtract *x, const struct kd_cpio_entry *e, int dirfd,
		    const char *leaf)
{
	dev_t dev = makedev(e->rdevmajor, e->rdevminor);

	if (S_ISSOCK(e->mode) || (!S_ISFIFO(e->mode) && !x->privileged)) {
		KD_WARN(x->log, "%s: entry '%s': %s skipped%s", x->image, e->name,
			S_ISSOCK(e->mode) ? "socket" : "device node",
			S_ISSOCK(e->mode) ? "" : " (creating device nodes needs root)");
		x->count->skipped++;
		return 0;
	}
	if (mknodat(dirfd, leaf, e->mode & (S_IFMT | 07777), dev) < 0)
		return fail(x, e->name, "cannot create the node", errno);
	if (x->privileged && fchownat(dirfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(x, e->name, "cannot set the owner", errno);
	set_times(dirfd, leaf, -1, e->mtime);
	return 0;
}

static int put_leaf(struct xtract *x, const struct kd_cpio_entry *e, int dirfd,
		    const char *leaf)
{
	int r = make_room(x, e->name, dirfd, leaf, S_ISDIR(e->mode));

	if (r < 0)
		return r;
	if (S_ISDIR(e->mode))
		return put_dir(x, e, dirfd, leaf);
	if (S_ISREG(e->mode))
		return put_file(x, e, dirfd, leaf);
	if (S_ISLNK(e->mode))
		return put_symlink(x, e, dirfd, leaf);
	return put_node(x, e, dirfd, leaf);
}

static int extract_entry(struct xtract *x, const struct kd_cpio_entry *e)
{
	const char *comps[MAX_COMPONENTS];
	char buf[4096];
	size_t n;
	int dirfd, err;

	/* like the kernel, hard links join only within one archive */
	if (e->archive != x->archive) {
		x->archive = e->archive;
		x->n_links = 0;
	}
	err = split(x, e->name, buf, comps, &n);
	if (err < 0 || n == 0) /* n == 0: "." is DIR itself */
		return err;
	err = walk(x, e->name, comps, n, &dirfd);
	if (err < 0)
		return err;
	err = put_leaf(x, e, dirfd, comps[n - 1]);
	if (dirfd != x->root_fd)
		close(dirfd);
	if (err == 0)
		x->count->written++;
	return err;
}

static int extract_segment(struct xtract *x, const struct kd_img_segment *s)
{
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	int r;

	kd_img_segment_entries(&it, x->log, s);
	x->archive = 0;
	x->n_links = 0;
	while ((r = kd_cpio_next(&it, &e)) > 0)
		extract_entry(x, &e); /* a refusal is counted, the rest goes on */
	return r;
}

static int open_root(const struct kd_log *log, const char *dir)
{
	int fd, err;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		KD_ERR(log, "%s: cannot create: %s", dir, strerror(-err));
		return err;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		KD_ERR(log, "%s: cannot open: %s", dir, strerror(-err));
		return err;
	}
	return fd;
}

int kd_extract(const struct kd_log *log, const char *image, const char *dir,
	       struct kd_extract *out)
{
	struct xtract x = { .log = log, .image = image, .privileged = geteuid() == 0,
			    .count = out };
	struct kd_img img;
	mode_t old_umask;
	int err;

	memset(out, 0, sizeof(*out));
	err = kd_img_open(log, image, 0, &img);
	if (err < 0)
		return err;
	x.root_fd = open_root(log, dir);
	if (x.root_fd < 0) {
		kd_img_free(&img);
		return x.root_fd;
	}
	old_umask = umask(0); /* modes come from the archive */
	for (size_t i = 0; i < img.n_segs; i++) {
		err = extract_segment(&x, &img.segs[i]);
		if (err < 0)
			break; /* cannot happen: kd_img_open validated every entry */
	}
	umask(old_umask);
	close(x.root_fd);
	free(x.links);
	kd_img_free(&img);
	return err;
}
