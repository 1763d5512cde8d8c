// SPDX-License-Identifier: MIT
/*
 * Devices without udev: the kernel's uevents on a NETLINK_KOBJECT_UEVENT
 * socket, and coldplug by reading the modalias of every device on every bus
 * (/sys/bus/BUS/devices/DEV/modalias).  The socket is opened before the
 * walk so that a device appearing during the walk is seen at least once
 * (twice is harmless: loads and probes are idempotent).
 *
 * A kernel uevent is "ACTION@DEVPATH\0KEY=VALUE\0KEY=VALUE\0...".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

/* The netlink ABI (<linux/netlink.h>; musl's headers do not carry it). */
#define KI_NETLINK_KOBJECT_UEVENT 15

struct ki_sockaddr_nl {
	sa_family_t nl_family;
	unsigned short nl_pad;
	uint32_t nl_pid;
	uint32_t nl_groups;
};

#define RCVBUF_BYTES (8 << 20) /* coldplug storms must not overflow it */

int ki_uevent_open(int *out)
{
	struct ki_sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int size = RCVBUF_BYTES, fd, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    KI_NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static void set_key(struct ki_event *ev, char *kv)
{
	char *val = strchr(kv, '=');

	if (val == NULL)
		return;
	*val++ = '\0';
	if (strcmp(kv, "ACTION") == 0)
		ev->action = val;
	else if (strcmp(kv, "DEVPATH") == 0)
		ev->devpath = val;
	else if (strcmp(kv, "SUBSYSTEM") == 0)
		ev->subsystem = val;
	else if (strcmp(kv, "DEVNAME") == 0)
		ev->devname = val;
	else if (strcmp(kv, "DEVTYPE") == 0)
		ev->devtype = val;
	else if (strcmp(kv, "MODALIAS") == 0)
		ev->modalias = val;
	else if (strcmp(kv, "MAJOR") == 0)
		ev->has_devnum = ki_parse_uint(val, 1u << 20, &ev->major) == 0;
	else if (strcmp(kv, "MINOR") == 0)
		ki_parse_uint(val, 1u << 20, &ev->minor);
	else if (strcmp(kv, "PARTN") == 0)
		ki_parse_uint(val, 1u << 20, &ev->partn);
}

/* Split a uevent (len bytes; buf[len] must be writable) into ev; -EINVAL if
 * it is not a kernel uevent. */
int ki_uevent_parse(char *buf, size_t len, struct ki_event *ev)
{
	size_t off;

	memset(ev, 0, sizeof(*ev));
	buf[len] = '\0';
	off = strlen(buf) + 1;
	if (strchr(buf, '@') == NULL || off > len)
		return -EINVAL; /* libudev's messages start with "libudev" */
	while (off < len) {
		char *kv = buf + off;

		off += strlen(kv) + 1;
		set_key(ev, kv);
	}
	return ev->action && ev->devpath ? 0 : -EINVAL;
}

/*
 * Receive one uevent into buf (size bytes).  1 with *ev filled, 0 when there
 * is nothing to read, -ENOBUFS when the kernel dropped some (rescan then).
 */
int ki_uevent_recv(int fd, char *buf, size_t size, struct ki_event *ev)
{
	struct ki_sockaddr_nl sa;
	struct iovec iov = { buf, size - 1 };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			      .msg_iov = &iov, .msg_iovlen = 1 };

	for (;;) {
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (sa.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC))
			continue; /* not from the kernel */
		if (ki_uevent_parse(buf, (size_t)n, ev) == 0)
			return 1;
	}
}

struct walk {
	int (*each)(void *data, const char *alias, bool bound);
	void *data;
	unsigned count;
};

/* One device of a bus: its modalias, and whether a driver (built in, say)
 * has it already. */
static int visit_device(struct walk *w, int devsfd, const char *name)
{
	char path[NAME_MAX + 16], alias[512];
	bool bound;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/modalias", name);
	n = ki_read_fileat(devsfd, path, alias, sizeof(alias));
	if (n <= 0)
		return 0;
	alias[strcspn(alias, "\n")] = '\0';
	if (alias[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/driver", name);
	bound = faccessat(devsfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	w->count++;
	return w->each(w->data, alias, bound);
}

static int visit_bus(struct walk *w, int busfd, const char *bus)
{
	char path[NAME_MAX + 16];
	struct dirent *de;
	DIR *dir;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/devices", bus);
	fd = openat(busfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return 0;
	}
	while (err >= 0 && (de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			err = visit_device(w, fd, de->d_name);
	closedir(dir);
	return err;
}

/*
 * Call each(data, alias, bound) for the modalias of every device on every
 * bus under sysbus (/sys/bus/BUS/devices/DEV/modalias: the devices that
 * drivers bind to, far fewer directories than all of /sys/devices); bound
 * says a driver already has the device.  Returns the number of modaliases
 * read, or the first negative value each() returned.
 */
int ki_coldplug_modaliases(const char *sysbus,
			   int (*each)(void *data, const char *alias, bool bound), void *data)
{
	struct walk w = { each, data, 0 };
	struct dirent *de;
	DIR *dir = opendir(sysbus);
	int err = 0;

	if (dir == NULL)
		return -errno;
	while (err >= 0 && (de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			err = visit_bus(&w, dirfd(dir), de->d_name);
	closedir(dir);
	return err < 0 ? err : (int)w.count;
}
