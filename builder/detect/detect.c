// SPDX-License-Identifier: MIT
/*
 * Host-only detection: which modules of the TARGET kernel this machine
 * needs to boot.
 *
 * Every modalias file under SYSROOT/sys/devices is looked up in the target
 * kernel's database (kd_lookup: modprobe.d aliases, modules.alias and the
 * built-in aliases, fnmatch as kmod).  The running kernel's driver links and
 * /sys/module are never read: the running kernel may have built in what the
 * target has as modules (this build machine's case) or name it differently.
 *
 * Policy (documented in README "Host-only images"): the root chain always
 * (rootchain.c); beyond it the classes of opts->policy, decided per device
 * from its bus and class (pci base/sub class, virtio device id, usb
 * interface class, scsi type), and for buses without classes (acpi,
 * platform, i2c, serio...) from the matched module's directory in the
 * target tree.  Everything else seen is reported as a skip with the reason.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/internal.h"

#define MAX_DEPTH 64      /* sysfs device trees are far shallower */
#define MODALIAS_MAX 8192 /* cpu modaliases list every feature: ~2 KB */
#define MODALIAS_SHOWN 96 /* of a modalias in a skip's reason */

char *kd_detect_path(struct kd_detector *r, const char *rel)
{
	struct kd_str s = { 0 };

	if (kd_str_printf(&s, "%s%s", r->sysroot, rel) < 0) {
		kd_str_free(&s);
		return NULL;
	}
	return s.s;
}

int kd_detect_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* ---- results ------------------------------------------------------------ */

static int add_item(struct kd_detector *r, const char *module, const char *reason,
		    bool builtin, bool root)
{
	struct kd_detect *d = r->out;
	struct kd_detect_item *it;
	uint32_t idx;
	int err;

	if (kd_map_get(&r->items, module, &idx)) {
		struct kd_str s = { 0 };
		const char *old;

		it = &d->items[idx];
		it->root |= root;
		/* the same reason twice (two paths to one device) says nothing new */
		for (old = it->reason; (old = strstr(old, reason)) != NULL; old++) {
			size_t n = strlen(reason);

			if ((old == it->reason || old[-1] == ' ') && (old[n] == '\0' || old[n] == ';'))
				return 0;
		}
		if (kd_str_printf(&s, "%s; %s", it->reason, reason) < 0) {
			kd_str_free(&s);
			return -ENOMEM;
		}
		free(it->reason);
		it->reason = s.s;
		return 0;
	}
	if (d->n_items == r->cap_items) {
		size_t cap = r->cap_items ? r->cap_items * 2 : 16;
		void *p = realloc(d->items, cap * sizeof(*d->items));

		if (p == NULL)
			return -ENOMEM;
		d->items = p;
		r->cap_items = cap;
	}
	err = kd_map_put(&r->items, module, (uint32_t)d->n_items);
	if (err < 0)
		return err;
	it = &d->items[d->n_items++];
	it->module = kd_xstrdup(module);
	it->reason = kd_xstrdup(reason);
	it->builtin = builtin;
	it->root = root;
	return 0;
}

int kd_detect_skip(struct kd_detector *r, const char *what, const char *why)
{
	struct kd_detect *d = r->out;

	for (size_t i = 0; i < d->n_skips; i++)
		if (strcmp(d->skips[i].what, what) == 0 && strcmp(d->skips[i].why, why) == 0)
			return 0;
	if (d->n_skips == r->cap_skips) {
		size_t cap = r->cap_skips ? r->cap_skips * 2 : 16;
		void *p = realloc(d->skips, cap * sizeof(*d->skips));

		if (p == NULL)
			return -ENOMEM;
		d->skips = p;
		r->cap_skips = cap;
	}
	d->skips[d->n_skips].what = kd_xstrdup(what);
	d->skips[d->n_skips].why = kd_xstrdup(why);
	d->n_skips++;
	return 0;
}

int kd_detect_alias(struct kd_detector *r, const char *alias, const char *reason, bool root)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	struct kd_lookup l;
	int err = kd_lookup(r->ctx, alias, &l), found = 0;

	if (err < 0)
		return err;
	for (size_t i = 0; i < l.n && err == 0; i++) {
		const struct kd_module *m = kd_db_mod(db, l.insts[i]->mod);
		bool builtin = l.insts[i]->builtin || m->builtin;
		struct kd_str why = { 0 };

		if (!builtin && !m->in_dep) {
			/* a modprobe.d alias naming a module the kernel lacks */
			struct kd_str what = { 0 };

			kd_str_printf(&what, "module %s", m->name);
			kd_str_printf(&why, "%s: a modprobe.d alias names it, but %s has no such "
				      "module", reason, kd_ctx_kver(r->ctx));
			err = what.s && why.s ? kd_detect_skip(r, what.s, why.s) : -ENOMEM;
			kd_str_free(&what);
			kd_str_free(&why);
			continue;
		}
		if (!builtin && !root && kd_module_blacklisted(r->ctx, l.insts[i]->mod)) {
			struct kd_str what = { 0 };

			kd_str_printf(&what, "module %s", m->name);
			kd_str_printf(&why, "blacklisted in modprobe.d (wanted by %s)", reason);
			err = what.s && why.s ? kd_detect_skip(r, what.s, why.s) : -ENOMEM;
			kd_str_free(&what);
			kd_str_free(&why);
			continue;
		}
		if (root && kd_module_blacklisted(r->ctx, l.insts[i]->mod))
			KD_WARN(kd_ctx_log(r->ctx), "%s is blacklisted in modprobe.d but the root needs it (%s): "
				"it stays in the image", m->name, reason);
		err = add_item(r, m->name, reason, builtin, root);
		found++;
	}
	kd_lookup_free(&l);
	return err < 0 ? err : found;
}

/* The running kernel's driver bound to a device, as a module name of the
 * target: "driver/module" when sysfs has it, else the driver's own name. */
static int bound_driver(struct kd_detector *r, const char *dev, char *name, size_t size)
{
	struct kd_str p = { 0 };
	char target[PATH_MAX];
	ssize_t n = -1;
	const char *base;

	kd_str_printf(&p, "%s%s/driver/module", r->sysroot, dev);
	if (p.s)
		n = readlink(p.s, target, sizeof(target) - 1);
	kd_str_free(&p);
	if (n <= 0) {
		kd_str_printf(&p, "%s%s/driver", r->sysroot, dev);
		if (p.s)
			n = readlink(p.s, target, sizeof(target) - 1);
		kd_str_free(&p);
	}
	if (n <= 0)
		return 0;
	target[n] = '\0';
	base = strrchr(target, '/');
	kd_modname_normalize(base ? base + 1 : target, name, size);
	return 1;
}

/*
 * A device no alias of the target matches.  Built-in drivers' device tables
 * are not in modules.builtin.modinfo (Debian's 6.1 and 6.12 list only
 * MODULE_ALIAS lines), so a driver the target builds in cannot be found by
 * its modalias.  The running kernel's bound driver names a candidate, and
 * the target's modules.builtin decides: built in there, nothing to add.
 * Returns 1 with an item added, 0 when the target has no such built-in.
 */
int kd_detect_builtin_fallback(struct kd_detector *r, const char *dev, const char *reason,
			       bool root)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	char name[256];
	struct kd_str s = { 0 };
	int mod, err;

	if (!bound_driver(r, dev, name, sizeof(name)))
		return 0;
	mod = kd_module_find(r->ctx, name);
	if (mod < 0 || !kd_db_mod(db, mod)->builtin)
		return 0;
	kd_str_printf(&s, "%s (no alias of %s matches; the running kernel's driver %s is "
		      "built into %s)", reason, kd_ctx_kver(r->ctx), name, kd_ctx_kver(r->ctx));
	err = s.s ? add_item(r, name, s.s, true, root) : -ENOMEM;
	kd_str_free(&s);
	return err < 0 ? err : 1;
}

/* ---- device classes ------------------------------------------------------ */

enum dev_class { CLASS_NONE = 0, CLASS_BY_MODULE = -1 };

struct class_name {
	unsigned code;
	const char *name;
};

/* PCI base classes (PCI Code and ID Assignment Specification). */
static const struct class_name pci_classes[] = {
	{ 0x00, "unclassified device" }, { 0x02, "network controller" },
	{ 0x03, "display controller" }, { 0x04, "multimedia controller" },
	{ 0x05, "memory controller" }, { 0x06, "bridge" },
	{ 0x07, "communication controller" }, { 0x08, "system peripheral" },
	{ 0x0a, "docking station" }, { 0x0b, "processor" }, { 0x0c, "serial bus controller" },
	{ 0x0d, "wireless controller" }, { 0x0e, "intelligent controller" },
	{ 0x0f, "satellite controller" }, { 0x10, "encryption controller" },
	{ 0x11, "signal processing controller" }, { 0x12, "processing accelerator" },
	{ 0x13, "instrumentation" }, { 0xff, "unassigned class" },
};

/* USB interface classes (usb.org defined class codes). */
static const struct class_name usb_classes[] = {
	{ 0x01, "audio" }, { 0x02, "communications" }, { 0x05, "physical" },
	{ 0x06, "image" }, { 0x07, "printer" }, { 0x0a, "CDC data" }, { 0x0b, "smart card" },
	{ 0x0d, "content security" }, { 0x0e, "video" }, { 0x0f, "personal healthcare" },
	{ 0x10, "audio/video" }, { 0x11, "billboard" }, { 0x12, "USB type-C bridge" },
	{ 0xdc, "diagnostic" }, { 0xe0, "wireless controller (bluetooth)" },
	{ 0xef, "miscellaneous" }, { 0xfe, "application specific" },
	{ 0xff, "vendor specific" },
};

/* virtio device ids (virtio specification, "Device Types"). */
static const struct class_name virtio_ids[] = {
	{ 1, "network card" }, { 3, "console" }, { 4, "entropy source" },
	{ 5, "memory balloon" }, { 9, "9p transport" }, { 16, "GPU" }, { 19, "socket (vsock)" },
	{ 20, "crypto" }, { 24, "memory" }, { 25, "sound" }, { 26, "file system" },
	{ 27, "pmem" }, { 29, "iommu" },
};

static const char *class_lookup(const struct class_name *t, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

/* Two hex digits after key in a modalias ("bc01", "ic08"); -1 if absent. */
static int hex_field(const char *modalias, const char *key)
{
	const char *p = strstr(modalias, key);
	char digits[3];

	if (p == NULL)
		return -1;
	p += strlen(key);
	if (!p[0] || !p[1] || !strchr("0123456789abcdefABCDEF", p[0]) ||
	    !strchr("0123456789abcdefABCDEF", p[1]))
		return -1;
	digits[0] = p[0], digits[1] = p[1], digits[2] = '\0';
	return (int)strtoul(digits, NULL, 16);
}

/* A device's class from its modalias alone: a KD_DETECT_* bit, CLASS_NONE
 * (outside the policy: *what says what it is) or CLASS_BY_MODULE. */
static int class_of_alias(const char *ma, char *what, size_t n)
{
	int bc, sc, ic;

	if (strncmp(ma, "pci:", 4) == 0) {
		const char *name;

		bc = hex_field(ma, "bc");
		sc = hex_field(ma, "sc");
		snprintf(what, n, "pci class %02x%02x", bc < 0 ? 0 : bc, sc < 0 ? 0 : sc);
		if (bc == 0x01)
			return KD_DETECT_STORAGE;
		if (bc == 0x08 && sc == 0x05) /* SD host controller */
			return KD_DETECT_STORAGE;
		if (bc == 0x0c && sc == 0x03)
			return KD_DETECT_USB_HOST;
		if (bc == 0x09) /* input device controller (keyboard) */
			return KD_DETECT_INPUT;
		name = class_lookup(pci_classes, sizeof(pci_classes) / sizeof(*pci_classes),
				    (unsigned)bc);
		snprintf(what, n, "%s, pci class %02x%02x", name ? name : "other device",
			 bc < 0 ? 0 : bc, sc < 0 ? 0 : sc);
		return CLASS_NONE;
	}
	if (strncmp(ma, "virtio:d", 8) == 0) {
		unsigned id = (unsigned)strtoul(ma + 8, NULL, 10);
		const char *name;

		snprintf(what, n, "virtio device %u", id);
		if (id == 2 || id == 8) /* block, scsi host */
			return KD_DETECT_STORAGE;
		if (id == 18)
			return KD_DETECT_INPUT;
		name = class_lookup(virtio_ids, sizeof(virtio_ids) / sizeof(*virtio_ids), id);
		snprintf(what, n, "virtio %s (device id %u)", name ? name : "device", id);
		return CLASS_NONE;
	}
	if (strncmp(ma, "usb:", 4) == 0) {
		const char *name;

		ic = hex_field(ma, "ic");
		snprintf(what, n, "usb interface class %02x", ic < 0 ? 0 : ic);
		if (ic == 0x08)
			return KD_DETECT_STORAGE;
		if (ic == 0x03)
			return KD_DETECT_INPUT;
		if (ic == 0x09)
			return KD_DETECT_USB_HOST;
		name = class_lookup(usb_classes, sizeof(usb_classes) / sizeof(*usb_classes),
				    (unsigned)ic);
		snprintf(what, n, "usb %s, interface class %02x", name ? name : "device",
			 ic < 0 ? 0 : ic);
		return CLASS_NONE;
	}
	if (strncmp(ma, "hid:", 4) == 0) {
		snprintf(what, n, "hid");
		return KD_DETECT_INPUT;
	}
	if (strncmp(ma, "scsi:t-0x", 9) == 0) {
		unsigned type = (unsigned)strtoul(ma + 9, NULL, 16);

		snprintf(what, n, "scsi type %02x", type);
		/* disk, cd/dvd, optical, reduced block commands */
		if (type == 0x00 || type == 0x05 || type == 0x07 || type == 0x0e)
			return KD_DETECT_STORAGE;
		return CLASS_NONE;
	}
	if (strcmp(ma, "mmc:block") == 0) {
		snprintf(what, n, "mmc card");
		return KD_DETECT_STORAGE;
	}
	if (strncmp(ma, "sdio:", 5) == 0) {
		snprintf(what, n, "SDIO card (wifi, bluetooth)");
		return CLASS_NONE;
	}
	if (strncmp(ma, "cpu:", 4) == 0) {
		snprintf(what, n, "cpu features (accelerators load with what uses them)");
		return CLASS_NONE;
	}
	snprintf(what, n, "%.*s", (int)strcspn(ma, ":"), ma);
	return CLASS_BY_MODULE;
}

struct dir_class {
	const char *glob;
	int cls;
	const char *name;
};

/* For buses without classes: the module's place in the target tree. */
static const struct dir_class module_dirs[] = {
	{ "kernel/drivers/ata/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/nvme/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/scsi/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/block/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/mmc/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/ufs/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/usb/storage/*", KD_DETECT_STORAGE, "storage" },
	{ "kernel/drivers/usb/host/*", KD_DETECT_USB_HOST, "usb host" },
	{ "kernel/drivers/hid/*", KD_DETECT_INPUT, "input" },
	{ "kernel/drivers/input/keyboard/*", KD_DETECT_INPUT, "keyboard" },
	{ "kernel/drivers/input/serio/*", KD_DETECT_INPUT, "keyboard controller" },
	{ "kernel/sound/*", CLASS_NONE, "sound" },
	{ "kernel/drivers/media/*", CLASS_NONE, "video/camera" },
	{ "kernel/drivers/net/wireless/*", CLASS_NONE, "wifi" },
	{ "kernel/drivers/net/*", CLASS_NONE, "network" },
	{ "kernel/net/*", CLASS_NONE, "network" },
	{ "kernel/drivers/bluetooth/*", CLASS_NONE, "bluetooth" },
	{ "kernel/drivers/gpu/*", CLASS_NONE, "gpu" },
	{ "kernel/drivers/input/*", CLASS_NONE, "input device that is not a keyboard" },
};

static int class_of_module(const struct kd_module *m, const char **name)
{
	*name = "other driver";
	if (m->path == NULL)
		return CLASS_NONE;
	for (size_t i = 0; i < sizeof(module_dirs) / sizeof(*module_dirs); i++) {
		if (fnmatch(module_dirs[i].glob, m->path, 0) == 0) {
			*name = module_dirs[i].name;
			return module_dirs[i].cls;
		}
	}
	return CLASS_NONE;
}

static const char *class_label(int cls)
{
	switch (cls) {
	case KD_DETECT_STORAGE:
		return "storage";
	case KD_DETECT_USB_HOST:
		return "usb host";
	case KD_DETECT_INPUT:
		return "input";
	}
	return "other";
}

/* ---- the device walk ---------------------------------------------------- */

static int skip_device(struct kd_detector *r, const char *dev, const char *ma, const char *why,
		       const struct kd_lookup *l)
{
	struct kd_str what = { 0 }, s = { 0 };
	int err;

	kd_str_printf(&what, "%s", dev);
	if (strlen(ma) > MODALIAS_SHOWN) /* cpu modaliases list every feature */
		kd_str_printf(&s, "%s (%.*s... %zu bytes)", why, MODALIAS_SHOWN, ma, strlen(ma));
	else
		kd_str_printf(&s, "%s (%s)", why, ma);
	for (size_t i = 0; l && i < l->n; i++) {
		const char *name = kd_db_mod(kd_ctx_db(r->ctx), l->insts[i]->mod)->name;
		size_t j;

		for (j = 0; j < i; j++) /* one module, several aliases: name it once */
			if (l->insts[j]->mod == l->insts[i]->mod)
				break;
		if (j == i)
			kd_str_printf(&s, "%s%s", i ? " " : "; would be ", name);
	}
	err = what.s && s.s ? kd_detect_skip(r, what.s, s.s) : -ENOMEM;
	kd_str_free(&what);
	kd_str_free(&s);
	return err;
}

static int device(struct kd_detector *r, const char *dev, const char *ma)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	struct kd_lookup l;
	char what[160], out_why[256];
	size_t n_out = 0; /* insts left out, moved to the front of l */
	int cls, err;

	if (*ma == '\0' || kd_map_get(&r->seen, dev, NULL))
		return 0;
	cls = class_of_alias(ma, what, sizeof(what));
	err = kd_lookup(r->ctx, ma, &l);
	if (err < 0)
		return err;
	if (l.n == 0) {
		char why[256];

		if (cls > 0 && (r->policy & (unsigned)cls)) {
			struct kd_str reason = { 0 };

			kd_str_printf(&reason, "device %s (%s): %s", dev, class_label(cls), ma);
			err = reason.s ? kd_detect_builtin_fallback(r, dev, reason.s, false)
				       : -ENOMEM;
			kd_str_free(&reason);
			if (err != 0)
				goto out;
		}
		snprintf(why, sizeof(why), "%s: no module or built-in driver of %s matches",
			 what, kd_ctx_kver(r->ctx));
		err = skip_device(r, dev, ma, why, NULL);
		goto out;
	}
	if (cls == CLASS_NONE || (cls > 0 && !(r->policy & (unsigned)cls))) {
		char why[256];

		snprintf(why, sizeof(why), "%s: %s", what,
			 cls == CLASS_NONE ? "not needed to boot" : "class left out by the policy");
		err = skip_device(r, dev, ma, why, &l);
		goto out;
	}
	for (size_t i = 0; i < l.n && err >= 0; i++) {
		const struct kd_module *m = kd_db_mod(db, l.insts[i]->mod);
		int c = cls;
		const char *name = class_label(cls);

		if (c == CLASS_BY_MODULE)
			c = class_of_module(m, &name);
		if (c == CLASS_NONE || !(r->policy & (unsigned)c)) {
			/* one skip for the device, naming every module left out */
			if (n_out == 0) {
				const char *bi = l.insts[i]->builtin || m->builtin ? ", built in" : "";

				snprintf(out_why, sizeof(out_why), "%s (%s%s): %s", what, name, bi,
					 c == CLASS_NONE ? "not needed to boot"
							 : "class left out by the policy");
			}
			l.insts[n_out++] = l.insts[i];
			continue;
		}
		if (!(l.insts[i]->builtin || m->builtin) &&
		    kd_module_blacklisted(r->ctx, l.insts[i]->mod)) {
			struct kd_str mod = { 0 }, why = { 0 };

			kd_str_printf(&mod, "module %s", m->name);
			kd_str_printf(&why, "blacklisted in modprobe.d (wanted by device %s: %s)",
				      dev, ma);
			err = mod.s && why.s ? kd_detect_skip(r, mod.s, why.s) : -ENOMEM;
			kd_str_free(&mod);
			kd_str_free(&why);
			continue;
		}
		/* the exact module, not the alias again: keeps one module per reason */
		{
			struct kd_str reason = { 0 };

			kd_str_printf(&reason, "device %s (%s): %s", dev, name, ma);
			err = reason.s ? add_item(r, m->name, reason.s,
						  l.insts[i]->builtin || m->builtin, false)
				       : -ENOMEM;
			kd_str_free(&reason);
		}
	}
	if (err >= 0 && n_out) {
		struct kd_lookup left = { .insts = l.insts, .n = n_out };

		err = skip_device(r, dev, ma, out_why, &left);
	}
out:
	kd_lookup_free(&l);
	return err < 0 ? err : 0;
}

/* Would device() keep a module for this device? */
static bool kept(struct kd_detector *r, const char *dev, const char *ma)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	struct kd_lookup l;
	char what[160], name[256];
	int cls = class_of_alias(ma, what, sizeof(what));
	bool keep = false;

	if (cls == CLASS_NONE || (cls > 0 && !(r->policy & (unsigned)cls)))
		return false;
	if (kd_lookup(r->ctx, ma, &l) < 0)
		return false;
	if (l.n == 0 && cls > 0 && bound_driver(r, dev, name, sizeof(name))) {
		int mod = kd_module_find(r->ctx, name);

		keep = mod >= 0 && kd_db_mod(db, mod)->builtin;
	}
	for (size_t i = 0; i < l.n && !keep; i++) {
		const char *label;
		int c = cls;

		if (c == CLASS_BY_MODULE)
			c = class_of_module(kd_db_mod(db, l.insts[i]->mod), &label);
		keep = c > 0 && (r->policy & (unsigned)c);
	}
	kd_lookup_free(&l);
	return keep;
}

/* A device above one that is kept: every module its modalias matches. */
static int parent_device(struct kd_detector *r, const char *dev, const char *ma,
			 const char *child)
{
	struct kd_str reason = { 0 };
	int n;

	kd_str_printf(&reason, "device %s (parent of %s): %s", dev, child, ma);
	if (reason.s == NULL)
		return -ENOMEM;
	n = kd_detect_alias(r, ma, reason.s, false);
	if (n == 0)
		n = kd_detect_builtin_fallback(r, dev, reason.s, false);
	if (n == 0 && strncmp(ma, "pci:", 4) == 0 && hex_field(ma, "bc") == 0x06)
		n = 1; /* a PCI bridge: the PCI core drives it */
	if (n == 0) {
		char why[256];

		snprintf(why, sizeof(why), "parent of %s: no module or built-in driver of %s "
			 "matches", child, kd_ctx_kver(r->ctx));
		n = skip_device(r, dev, ma, why, NULL);
	}
	kd_str_free(&reason);
	return n < 0 ? n : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directories only, never through a symlink (sysfs is full of loops). */
/* Every device with a modalias, in walk order (sorted: parents first). */
struct devlist {
	char **dev, **ma;
	size_t n, cap;
	struct kd_map index; /* dev -> position */
};

static int devlist_add(struct devlist *l, const char *dev, const char *ma)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *a = realloc(l->dev, cap * sizeof(*l->dev)), *b;

		if (a == NULL)
			return -ENOMEM;
		l->dev = a;
		b = realloc(l->ma, cap * sizeof(*l->ma));
		if (b == NULL)
			return -ENOMEM;
		l->ma = b;
		l->cap = cap;
	}
	l->dev[l->n] = kd_xstrdup(dev);
	l->ma[l->n] = kd_xstrdup(ma);
	return kd_map_put(&l->index, dev, (uint32_t)l->n++) < 0 ? -ENOMEM : 0;
}

static void devlist_free(struct devlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->dev[i]);
		free(l->ma[i]);
	}
	free(l->dev);
	free(l->ma);
	kd_map_free(&l->index);
}

static int walk(struct kd_detector *r, struct devlist *list, int dfd, struct kd_str *rel,
		int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, len = rel->len;
	int err = 0;

	if (depth > MAX_DEPTH) {
		KD_WARN(kd_ctx_log(r->ctx), "%s%s: deeper than %d levels; not walked", r->sysroot, rel->s,
			MAX_DEPTH);
		close(dfd);
		return 0;
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		err = -errno;
		close(dfd);
		return err;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type == DT_LNK)
			continue;
		if (n == cap) {
			void *p = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*names));

			if (p == NULL) {
				err = -ENOMEM;
				break;
			}
			names = p;
		}
		names[n++] = kd_xstrdup(de->d_name);
	}
	if (err == 0 && n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	/* this directory's own modalias first, then what is below it */
	for (size_t i = 0; i < n && err == 0; i++) {
		char buf[MODALIAS_MAX];
		int fd;

		if (strcmp(names[i], "modalias") != 0)
			continue;
		fd = openat(dirfd(d), "modalias", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			break;
		{
			ssize_t got = read(fd, buf, sizeof(buf) - 1);

			close(fd);
			if (got < 0)
				break;
			while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
				got--;
			buf[got] = '\0';
		}
		if (*buf)
			err = devlist_add(list, rel->s, buf);
	}
	for (size_t i = 0; i < n && err == 0; i++) {
		struct stat sb;
		int sub;

		if (fstatat(dirfd(d), names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue; /* gone meanwhile, or unreadable: nothing to learn */
		err = kd_str_printf(rel, "/%s", names[i]);
		if (err == 0)
			err = walk(r, list, sub, rel, depth + 1);
		else
			close(sub);
		rel->len = len;
		rel->s[len] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

static int walk_devices(struct kd_detector *r)
{
	char *top = kd_detect_path(r, "/sys/devices");
	struct kd_str rel = { 0 };
	struct devlist list = { 0 };
	const char **needed_by = NULL;
	int fd, err;

	if (top == NULL)
		return -ENOMEM;
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		KD_ERR(kd_ctx_log(r->ctx), "%s: cannot open: %s (is sysfs mounted, or is the sysroot "
		       "complete?)", top, strerror(errno));
		free(top);
		return err;
	}
	err = kd_str_addz(&rel, "/sys/devices");
	if (err == 0)
		err = walk(r, &list, fd, &rel, 0);
	else
		close(fd);
	kd_str_free(&rel);
	free(top);
	/* the parents of what is kept (i2c and usb controllers of a keyboard,
	 * bus bridges) are kept too: the device cannot appear without them */
	needed_by = calloc(list.n ? list.n : 1, sizeof(*needed_by));
	if (err == 0 && needed_by == NULL)
		err = -ENOMEM;
	for (size_t i = 0; i < list.n && err == 0; i++) {
		char up[PATH_MAX];
		uint32_t j;

		if (kd_map_get(&r->seen, list.dev[i], NULL) || !kept(r, list.dev[i], list.ma[i]))
			continue;
		snprintf(up, sizeof(up), "%s", list.dev[i]);
		for (char *slash; (slash = strrchr(up, '/')) != NULL && slash != up;) {
			*slash = '\0';
			if (kd_map_get(&list.index, up, &j) && needed_by[j] == NULL)
				needed_by[j] = list.dev[i];
		}
	}
	for (size_t i = 0; i < list.n && err == 0; i++) {
		if (kd_map_get(&r->seen, list.dev[i], NULL))
			continue;
		if (needed_by[i] && !kept(r, list.dev[i], list.ma[i]))
			err = parent_device(r, list.dev[i], list.ma[i], needed_by[i]);
		else
			err = device(r, list.dev[i], list.ma[i]);
	}
	free(needed_by);
	devlist_free(&list);
	return err;
}

/* ---- the entry points ---------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kd_detect_item *)a)->module,
		      ((const struct kd_detect_item *)b)->module);
}

static int skip_cmp(const void *pa, const void *pb)
{
	const struct kd_detect_skip *a = pa, *b = pb;
	int c = strcmp(a->what, b->what);

	return c ? c : strcmp(a->why, b->why);
}

int kd_detect_run(struct kd_ctx *ctx, const struct kd_detect_opts *o, struct kd_detect *out)
{
	struct kd_detector r = { .ctx = ctx, .o = o, .out = out };
	char real[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	r.policy = o->policy ? o->policy : KD_DETECT_DEFAULT;
	if (r.policy & KD_DETECT_ROOT_ONLY)
		r.policy = 0;
	r.sysroot = kd_xstrdup(o->sysroot ? o->sysroot : "");
	for (size_t n = strlen(r.sysroot); n > 0 && r.sysroot[n - 1] == '/'; n--)
		r.sysroot[n - 1] = '\0';
	if (*r.sysroot && realpath(r.sysroot, real) == NULL) {
		err = -errno;
		KD_ERR(kd_ctx_log(ctx), "%s: the sysroot cannot be opened: %s", r.sysroot, strerror(errno));
		goto out;
	}
	r.sysroot_real = kd_xstrdup(*r.sysroot && strcmp(real, "/") != 0 ? real : "");
	err = kd_rootchain_run(&r);
	if (err == 0 && r.policy)
		err = walk_devices(&r);
	if (err == 0) {
		if (out->n_items > 1)
			qsort(out->items, out->n_items, sizeof(*out->items), item_cmp);
		if (out->n_skips > 1)
			qsort(out->skips, out->n_skips, sizeof(*out->skips), skip_cmp);
	}
out:
	kd_map_free(&r.items);
	kd_map_free(&r.seen);
	free(r.sysroot);
	free(r.sysroot_real);
	if (err < 0)
		kd_detect_free(out);
	return err;
}

void kd_detect_free(struct kd_detect *d)
{
	for (size_t i = 0; i < d->n_items; i++) {
		free(d->items[i].module);
		free(d->items[i].reason);
	}
	for (size_t i = 0; i < d->n_skips; i++) {
		free(d->skips[i].what);
		free(d->skips[i].why);
	}
	free(d->items);
	free(d->skips);
	free(d->root_spec);
	free(d->root_fstype);
	free(d->root_source);
	memset(d, 0, sizeof(*d));
}

int kd_detect_format(const struct kd_detect *d, struct kd_str *out)
{
	int err = kd_str_printf(out, "root %s %s %s\n", d->root_source ? d->root_source : "-",
				d->root_fstype ? d->root_fstype : "-",
				d->root_spec ? d->root_spec : "-");

	for (size_t i = 0; i < d->n_items && err == 0; i++)
		err = kd_str_printf(out, "%s %s: %s\n", d->items[i].builtin ? "builtin" : "module",
				    d->items[i].module, d->items[i].reason);
	for (size_t i = 0; i < d->n_skips && err == 0; i++)
		err = kd_str_printf(out, "skip %s: %s\n", d->skips[i].what, d->skips[i].why);
	return err;
}
