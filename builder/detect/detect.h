/* SPDX-License-Identifier: MIT */
/*
 * detect: what this machine needs to reach its root (host-only images):
 * every device's modalias and the root's chain of block devices, matched
 * against the target kernel's module database.
 */
#ifndef KINDLING_DETECT_H
#define KINDLING_DETECT_H

#include "base/base.h"
#include "moddb/moddb.h"

/* ---- what this machine needs (host-only) ------------------------------
 * Every modalias under SYSROOT/sys/devices and the root filesystem's chain
 * of block devices, matched against the TARGET kernel's database in ctx
 * (kd_lookup), never the running kernel's driver links or /sys/module. */
enum {
	KD_DETECT_STORAGE = 1u << 0,  /* disk controllers and disks (pci class 01, virtio
					 block/scsi, nvme, ata, scsi, mmc, usb-storage) */
	KD_DETECT_USB_HOST = 1u << 1, /* USB host controllers (pci class 0c03), hubs */
	KD_DETECT_INPUT = 1u << 2,    /* keyboards: hid, i2c-hid, PS/2 (serio, atkbd) */
	KD_DETECT_ROOT_ONLY = 1u << 31, /* nothing beyond the root chain */
	KD_DETECT_DEFAULT = KD_DETECT_STORAGE | KD_DETECT_USB_HOST | KD_DETECT_INPUT,
};
struct kd_detect_opts {
	const char *sysroot;     /* "" or NULL: the live system; else a fixture root holding
				    sys/, proc/self/mountinfo, etc/fstab, dev/disk/... */
	const char *root_device; /* /dev/NAME, UUID=, LABEL=, PARTUUID=, PARTLABEL=,
				    /dev/disk/by-*, /dev/mapper/NAME (a TAG= without
				    its udev link: blkid, live system only); NULL:
				    see fstab */
	const char *fstab;       /* NULL: SYSROOT/etc/fstab for early mounts, and the root
				    is mountinfo's '/'; set (the target's fstab when building
				    in a chroot): its '/' entry names the root */
	unsigned policy;         /* KD_DETECT_* beyond the root chain; 0: KD_DETECT_DEFAULT */
};
struct kd_detect_item {
	char *module;      /* normalised target-kernel module name */
	char *reason;      /* every reason, "; "-separated, in the order found */
	bool builtin;      /* built into the target kernel: nothing to add */
	bool root;         /* root chain or early mount: load at every boot */
};
struct kd_detect_skip {
	char *what;        /* "/sys/devices/...", "module snd_hda_intel" */
	char *why;
};
struct kd_detect {
	struct kd_detect_item *items; /* sorted by module */
	size_t n_items;
	struct kd_detect_skip *skips; /* sorted by what */
	size_t n_skips;
	char *root_spec;   /* the default root=: fstab's spec, else UUID=, else /dev/NAME */
	char *root_fstype; /* "ext4" */
	char *root_source; /* the block device, "/dev/vda" */
};
/* 0, or a negative errno (logged, naming the file or device). */
int kd_detect_run(struct kd_ctx *ctx, const struct kd_detect_opts *o, struct kd_detect *out);
void kd_detect_free(struct kd_detect *d);
/* What `kindling detect` prints (and the image's etc/kindling/detect.txt):
 *   root SOURCE FSTYPE SPEC
 *   module NAME: REASON          (one per item; "builtin NAME: ..." when built in)
 *   skip WHAT: WHY
 * Returns 0 (it dies on out of memory): the int goes once no caller tests it. */
void kd_detect_format(const struct kd_detect *d, struct kd_str *out);

#endif
