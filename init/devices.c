// SPDX-License-Identifier: MIT
/*
 * The boot's devices, as they come (uevents) and as they are (coldplug's
 * walk of sysfs): every device's modalias asks for its modules once, every
 * block device is probed and matched against root=, and the wait for the
 * root watches both.  The primitives are uevent.c's (the socket, the sysfs
 * walk) and rootdev.c's (a block device's facts, probe and match); the
 * state is struct ki_ctx's (devs, root, seen, unmatched, rescan,
 * coldplug_later).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

#define WAITING_AFTER 10.0 /* seconds before saying what we wait for */
#define COLDPLUG_AFTER 1.0 /* host-only: seconds before walking every device */
#define POLL_MS 100

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
void ki_coldplug_start(struct ki_ctx *c)
{
	if (c->plan.loaded && (c->plan.p.hdr->flags & KP_PLAN_HOST_ONLY)) {
		c->coldplug_later = true;
		scan_block(c);
		return;
	}
	coldplug(c);
}

/* The walk a host-only image put off, before a shell or the diagnostics. */
void ki_coldplug_now(struct ki_ctx *c)
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

static void wait_events(struct ki_ctx *c)
{
	struct pollfd p = { .fd = c->uevent_fd, .events = POLLIN };

	if (c->uevent_fd < 0)
		ki_sleep_ms(POLL_MS);
	else
		poll(&p, 1, POLL_MS);
}

/*
 * Until the root= device is there (c->root) and rootdelay= has passed:
 * 0; -EINVAL without a root=, -ETIMEDOUT after the timeout (with rootwait
 * the diagnostics instead, once, and the wait goes on).
 */
int ki_wait_root(struct ki_ctx *c)
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
