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

static void skip_device(struct kd_detector *r, const char *dev, const char *ma, const char *why,
			const struct kd_lookup *l)
{
	struct kd_str s = { 0 };

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
	kd_detect_skip(r, dev, s.s);
	kd_str_free(&s);
}

static int device(struct kd_detector *r, const char *dev, const char *ma)
{
	struct kd_moddb *db = kd_ctx_db(r->ctx);
	struct kd_lookup l;
	char what[160], why[256], out_why[256];
	size_t n_out = 0; /* insts left out, moved to the front of l */
	int cls, err;

	if (*ma == '\0' || kd_map_get(&r->seen, dev, NULL))
		return 0;
	cls = class_of_alias(ma, what, sizeof(what));
	err = kd_lookup(r->ctx, ma, &l);
	if (err < 0)
		goto out;
	if (l.n == 0) {
		if (cls > 0 && (r->policy & (unsigned)cls)) {
			char *reason = kd_xasprintf("device %s (%s): %s", dev, class_label(cls), ma);
			bool builtin = kd_detect_builtin_fallback(r, dev, reason, false);

			free(reason);
			if (builtin)
				goto out;
		}
		snprintf(why, sizeof(why), "%s: no module or built-in driver of %s matches",
			 what, kd_ctx_kver(r->ctx));
		skip_device(r, dev, ma, why, NULL);
		goto out;
	}
	if (cls == CLASS_NONE || (cls > 0 && !(r->policy & (unsigned)cls))) {
		snprintf(why, sizeof(why), "%s: %s", what,
			 cls == CLASS_NONE ? "not needed to boot" : "class left out by the policy");
		skip_device(r, dev, ma, why, &l);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct kd_module *m = kd_db_mod(db, l.insts[i]->mod);
		bool builtin = l.insts[i]->builtin || m->builtin;
		const char *name = class_label(cls);
		char *reason;
		int c = cls;

		if (c == CLASS_BY_MODULE)
			c = class_of_module(m, &name);
		if (c == CLASS_NONE || !(r->policy & (unsigned)c)) {
			/* one skip for the device, naming every module left out */
			if (n_out == 0)
				snprintf(out_why, sizeof(out_why), "%s (%s%s): %s", what, name,
					 builtin ? ", built in" : "",
					 c == CLASS_NONE ? "not needed to boot"
							 : "class left out by the policy");
			l.insts[n_out++] = l.insts[i];
			continue;
		}
		if (!builtin && kd_module_blacklisted(r->ctx, l.insts[i]->mod)) {
			char *mod = kd_xasprintf("module %s", m->name);
			char *bl = kd_xasprintf("blacklisted in modprobe.d (wanted by device %s: %s)",
						dev, ma);

			kd_detect_skip(r, mod, bl);
			free(mod);
			free(bl);
			continue;
		}
		/* the exact module, not the alias again: keeps one module per reason */
		reason = kd_xasprintf("device %s (%s): %s", dev, name, ma);
		kd_detect_add(r, m->name, reason, builtin, false);
		free(reason);
	}
	if (n_out) {
		struct kd_lookup left = { .insts = l.insts, .n = n_out };

		skip_device(r, dev, ma, out_why, &left);
	}
out:
	kd_lookup_free(&l);
	return err;
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
	if (kd_lookup(r->ctx, ma, &l) < 0) {
		kd_lookup_free(&l);
		return false;
	}
	if (l.n == 0 && cls > 0 && kd_detect_bound_driver(r, dev, name, sizeof(name))) {
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
	char *reason = kd_xasprintf("device %s (parent of %s): %s", dev, child, ma);
	int n = kd_detect_alias(r, ma, reason, false);

	if (n == 0)
		n = kd_detect_builtin_fallback(r, dev, reason, false);
	if (n == 0 && strncmp(ma, "pci:", 4) == 0 && hex_field(ma, "bc") == 0x06)
		n = 1; /* a PCI bridge: the PCI core drives it */
	if (n == 0) {
		char why[256];

		snprintf(why, sizeof(why), "parent of %s: no module or built-in driver of %s "
			 "matches", child, kd_ctx_kver(r->ctx));
		skip_device(r, dev, ma, why, NULL);
	}
	free(reason);
	return n < 0 ? n : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A device with a modalias; walk order is sorted, so parents come first. */
struct dev {
	char *path, *ma;
};

static void devlist_free(struct kd_olist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct dev *d = kd_olist_at(l, i);

		free(d->path);
		free(d->ma);
	}
	kd_olist_free(l);
}

/* Every device with a modalias below dfd (rel: its path), into list.
 * Directories only, never through a symlink (sysfs is full of loops). */
static int walk(struct kd_detector *r, struct kd_olist *list, int dfd, struct kd_str *rel,
		int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, buf[MODALIAS_MAX];
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
		KD_GROW(names, n, cap);
		names[n++] = kd_xstrdup(de->d_name);
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	/* this directory's own modalias first, then what is below it */
	if (kd_detect_readat(dirfd(d), "modalias", buf, sizeof(buf)) > 0) {
		struct dev *dv = kd_olist_add(list, rel->s, NULL);

		dv->path = kd_xstrdup(rel->s);
		dv->ma = kd_xstrdup(buf);
	}
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		int sub;

		if (fstatat(dirfd(d), names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue; /* gone meanwhile, or unreadable: nothing to learn */
		kd_str_printf(rel, "/%s", names[i]);
		err = walk(r, list, sub, rel, depth + 1);
		rel->len = len;
		rel->s[len] = '\0';
		if (err < 0)
			break;
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
	struct kd_olist list;
	const char **needed_by;
	int fd, err;

	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		KD_ERR(kd_ctx_log(r->ctx), "%s: cannot open: %s (is sysfs mounted, or is the sysroot "
		       "complete?)", top, strerror(errno));
		free(top);
		return err;
	}
	free(top);
	kd_olist_init(&list, sizeof(struct dev));
	kd_str_addz(&rel, "/sys/devices");
	err = walk(r, &list, fd, &rel, 0);
	kd_str_free(&rel);
	if (err < 0)
		goto out;
	/* the parents of what is kept (i2c and usb controllers of a keyboard,
	 * bus bridges) are kept too: the device cannot appear without them */
	needed_by = kd_xcalloc(list.n, sizeof(*needed_by));
	for (size_t i = 0; i < list.n; i++) {
		const struct dev *dv = kd_olist_at(&list, i);
		char up[PATH_MAX];
		long j;

		if (kd_map_get(&r->seen, dv->path, NULL) || !kept(r, dv->path, dv->ma))
			continue;
		snprintf(up, sizeof(up), "%s", dv->path);
		for (char *slash; (slash = strrchr(up, '/')) != NULL && slash != up;) {
			*slash = '\0';
			j = kd_olist_find(&list, up);
			if (j >= 0 && needed_by[j] == NULL)
				needed_by[j] = dv->path;
		}
	}
	for (size_t i = 0; i < list.n; i++) {
		const struct dev *dv = kd_olist_at(&list, i);

		if (kd_map_get(&r->seen, dv->path, NULL))
			continue;
		if (needed_by[i] && !kept(r, dv->path, dv->ma))
			err = parent_device(r, dv->path, dv->ma, needed_by[i]);
		else
			err = device(r, dv->path, dv->ma);
		if (err < 0)
			break;
	}
	free(needed_by);
out:
	devlist_free(&list);
	return err;
}

/* ---- the entry point ----------------------------------------------------- */

int kd_detect_run(struct kd_ctx *ctx, const struct kd_detect_opts *o, struct kd_detect *out)
{
	struct kd_detector r = { .ctx = ctx, .o = o, .out = out };
	char real[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	kd_detect_init(&r);
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
	if (err < 0)
		goto out;
	if (r.policy)
		err = walk_devices(&r);
out:
	kd_detect_finish(&r);
	kd_map_free(&r.seen);
	free(r.sysroot);
	free(r.sysroot_real);
	if (err < 0)
		kd_detect_free(out);
	return err;
}
