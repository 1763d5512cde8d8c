// SPDX-License-Identifier: MIT
/*
 * Block devices as they appear: what sysfs says about one (numbers, whole
 * disk or partition of which disk), what its bytes say (probe/), and
 * whether it is the root= asked for.  Partitions get PARTUUID and PARTLABEL
 * from their disk's table, read by us, so every kernel agrees with blkid.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

/* From <linux/fs.h> and <linux/cdrom.h>, which musl's headers do not carry. */
#define KI_BLKSSZGET _IO(0x12, 104)
#define KI_BLKGETSIZE64 _IOR(0x12, 114, size_t)
#define KI_CDROM_DRIVE_STATUS 0x5326
#define KI_CDSL_CURRENT 0x7fffffff
#define KI_CDS_DISC_OK 4

/* Devices that never hold a root we can mount by name or identity. */
bool ki_blkdev_skip(const char *name)
{
	static const char *const prefixes[] = { "ram", "loop", "zram", "fd", "nbd", "mtdblock" };

	for (size_t i = 0; i < KI_ARRAY_SIZE(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

struct ki_blkdev *ki_devs_find(struct ki_devs *d, const char *name)
{
	for (unsigned i = 0; i < d->n; i++)
		if (strcmp(d->dev[i].name, name) == 0)
			return &d->dev[i];
	return NULL;
}

/* The entry for name, new or updated; NULL when the table is full. */
struct ki_blkdev *ki_devs_add(struct ki_devs *d, const char *name, const char *parent,
			      unsigned major, unsigned minor, unsigned partno)
{
	struct ki_blkdev *b = ki_devs_find(d, name);

	if (b == NULL) {
		if (d->n >= KI_MAX_DEVS || strlen(name) >= sizeof(b->name))
			return NULL;
		b = &d->dev[d->n++];
	}
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->parent, sizeof(b->parent), "%s", parent ? parent : "");
	b->major = major;
	b->minor = minor;
	b->partno = partno;
	return b;
}

/* The last-but-one component of the link /sys/class/block/NAME: the disk. */
static void sysfs_parent(const char *sysblock, const char *name, char *out, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	char *slash;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", sysblock, name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	slash = strrchr(link, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	slash = strrchr(link, '/');
	ki_strcpy(out, slash ? slash + 1 : link, size);
}

/* Add (or refresh) name from sysfs: numbers, partition number, disk. */
int ki_blkdev_from_sysfs(struct ki_devs *d, const char *sysblock, const char *name,
			 struct ki_blkdev **out)
{
	char path[PATH_MAX], buf[64], parent[32] = "";
	unsigned maj = 0, min = 0, partno = 0;
	struct ki_blkdev *b;

	char *colon;

	snprintf(path, sizeof(path), "%s/%s/dev", sysblock, name);
	if (ki_read_file(path, buf, sizeof(buf)) <= 0)
		return -ENODEV;
	buf[strcspn(buf, "\n")] = '\0';
	colon = strchr(buf, ':');
	if (colon == NULL)
		return -ENODEV;
	*colon = '\0';
	if (ki_parse_uint(buf, 1u << 20, &maj) < 0 || ki_parse_uint(colon + 1, 1u << 20, &min) < 0)
		return -ENODEV;
	snprintf(path, sizeof(path), "%s/%s/partition", sysblock, name);
	if (ki_read_file(path, buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (ki_parse_uint(buf, 1u << 20, &partno) == 0 && partno > 0)
			sysfs_parent(sysblock, name, parent, sizeof(parent));
	}
	b = ki_devs_add(d, name, parent, maj, min, partno);
	if (b == NULL)
		return -ENOSPC;
	*out = b;
	return 0;
}

/* Open devdir/name, making the node from its numbers if devtmpfs has none. */
static int open_node(const char *devdir, const char *name, unsigned maj, unsigned min)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", devdir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && (maj || min)) {
		if (mknod(path, S_IFBLK | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	}
	return fd < 0 ? -errno : fd;
}

static int dev_init(struct ki_dev *dev, int fd)
{
	struct stat st;
	unsigned long long bytes = 0;
	int ssz = 512;

	if (fstat(fd, &st) < 0)
		return -errno;
	dev->fd = fd;
	dev->sector = 512;
	if (S_ISREG(st.st_mode)) {
		dev->size = (uint64_t)st.st_size;
		return 0;
	}
	if (ioctl(fd, KI_BLKGETSIZE64, &bytes) < 0)
		return -errno;
	if (ioctl(fd, KI_BLKSSZGET, &ssz) == 0 && ssz >= 512)
		dev->sector = (unsigned)ssz;
	dev->size = bytes;
	return bytes ? 0 : -ENOMEDIUM;
}

static void probe_entry(struct ki_blkdev *b, const char *devdir)
{
	struct ki_part part;
	struct ki_dev dev;
	int fd;

	fd = open_node(devdir, b->parent, 0, 0);
	if (fd < 0)
		return;
	if (dev_init(&dev, fd) == 0 && ki_probe_part(&dev, b->partno, &part) == 0) {
		snprintf(b->partuuid, sizeof(b->partuuid), "%s", part.uuid);
		snprintf(b->partlabel, sizeof(b->partlabel), "%s", part.name);
	}
	close(fd);
}

/* Read what the device is; b->error keeps why not (no medium, I/O). */
int ki_blkdev_probe(struct ki_blkdev *b, const char *devdir, const struct ki_log *log)
{
	struct ki_dev dev;
	int fd, err;

	b->probed = true;
	memset(&b->id, 0, sizeof(b->id));
	fd = open_node(devdir, b->name, b->major, b->minor);
	if (fd < 0) {
		b->error = fd;
		if (fd != -ENOMEDIUM)
			KI_DBGF(log, "cannot open %s/%s: %s", devdir, b->name, strerror(-fd));
		return fd;
	}
	err = dev_init(&dev, fd);
	/* An empty drive still reports a size: reading it only fills the
	 * kernel log with I/O errors. */
	if (err == 0 && strncmp(b->name, "sr", 2) == 0 &&
	    ioctl(fd, KI_CDROM_DRIVE_STATUS, KI_CDSL_CURRENT) != KI_CDS_DISC_OK)
		err = -ENOMEDIUM;
	if (err == 0)
		ki_probe(&dev, &b->id);
	close(fd);
	b->error = err;
	if (err == 0 && b->partno && b->parent[0])
		probe_entry(b, devdir);
	KI_DBGF(log, "%s: TYPE=%s UUID=%s LABEL=%s PARTUUID=%s PARTLABEL=%s%s%s", b->name,
		b->id.type, b->id.uuid, b->id.label, b->partuuid, b->partlabel,
		err ? " error=" : "", err ? strerror(-err) : "");
	return err;
}

bool ki_root_matches(const struct ki_root *r, const struct ki_blkdev *b)
{
	switch (r->kind) {
	case KI_ROOT_DEVNAME:
		return strcmp(r->value, b->name) == 0;
	case KI_ROOT_DEVNUM:
		return r->major == b->major && r->minor == b->minor;
	case KI_ROOT_UUID:
		return b->id.uuid[0] && strcasecmp(r->value, b->id.uuid) == 0;
	case KI_ROOT_LABEL:
		return b->id.label[0] && strcmp(r->value, b->id.label) == 0;
	case KI_ROOT_PARTUUID:
		return b->partuuid[0] && strcasecmp(r->value, b->partuuid) == 0;
	case KI_ROOT_PARTLABEL:
		return b->partlabel[0] && strcmp(r->value, b->partlabel) == 0;
	default:
		return false;
	}
}
