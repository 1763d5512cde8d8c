// SPDX-License-Identifier: MIT
/*
 * Host-only detection.
 *  - The fixtures of tests/fixtures/sysroot (this VM captured, a laptop and a
 *    server written from real ids) against BOTH installed Debian kernels:
 *    exactly the expected modules with their reasons (expected-6.1.txt,
 *    expected-6.12.txt: the `kindling detect` text, KVER for the release),
 *    the devices left out, and the virtio_pci built-in (6.12) vs module (6.1)
 *    difference.
 *  - A fake kernel and small sysroots for the cases the fixtures do not
 *    cover: --root-device by UUID, a chroot's fstab, the superblock's UUID,
 *    dm-crypt without a table, capi: and essiv ciphers, loop, blacklists,
 *    the root-only policy, a missing root, blkid for a UUID without its
 *    udev link (the live system only); and `kindling build --host-only`
 *    with kindling.conf's hostonly.
 */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder_test.h"
#include "moddb/internal.h" /* a log-only context for the image reader */
#include "fake_ko.h"
#include "common/plan.h"

/* ---- the fixtures against the Debian kernels ---------------------------- */

/* The installed release starting with series ("6.1." or "6.12."). */
static int find_kernel(const char *series, char *out, size_t size)
{
	DIR *d = opendir("/lib/modules");
	struct dirent *de;
	int found = 0;

	assert_non_null(d); /* scripts/deps.sh installs both kernels */
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, series, strlen(series)) == 0 &&
		    strstr(de->d_name, "amd64") && strlen(de->d_name) < size) {
			memcpy(out, de->d_name, strlen(de->d_name) + 1);
			found = 1;
		}
	closedir(d);
	return found;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* text with every kver replaced by "KVER" */
static char *unversion(const char *text, const char *kver)
{
	struct kd_str s = { 0 };
	size_t n = strlen(kver);

	for (const char *p = text; *p;) {
		const char *hit = strstr(p, kver);

		if (hit == NULL) {
			kd_str_addz(&s, p);
			break;
		}
		kd_str_add(&s, p, (size_t)(hit - p));
		kd_str_addz(&s, "KVER");
		p = hit + n;
	}
	return s.s ? s.s : strdup("");
}

/* The lines of text that start with one of the prefixes; for skips only
 * the device ("skip WHAT:"): what the kernel's aliases would load for a
 * device left out changes with every kernel update, the choice does not. */
static char *select_lines(const char *text)
{
	struct kd_str s = { 0 };

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "root ", 5) == 0 || strncmp(p, "module ", 7) == 0 ||
		    strncmp(p, "builtin ", 8) == 0) {
			kd_str_add(&s, p, n + 1);
		} else if (strncmp(p, "skip ", 5) == 0) {
			const char *colon = strstr(p, ": ");

			kd_str_add(&s, p, colon && colon < p + n ? (size_t)(colon - p) : n);
			kd_str_addz(&s, "\n");
		}
		p += n + (p[n] == '\n');
	}
	return s.s ? s.s : strdup("");
}

static const struct kd_detect_item *item(const struct kd_detect *d, const char *module)
{
	for (size_t i = 0; i < d->n_items; i++)
		if (strcmp(d->items[i].module, module) == 0)
			return &d->items[i];
	return NULL;
}

static bool skipped(const struct kd_detect *d, const char *what_part)
{
	for (size_t i = 0; i < d->n_skips; i++)
		if (strstr(d->skips[i].what, what_part))
			return true;
	return false;
}

/* every module name of the items, "name" or "name!" when built in */
static void names(const struct kd_detect *d, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < d->n_items; i++) {
		size_t n = strlen(out);

		snprintf(out + n, size - n, "%s%s%s", n ? " " : "", d->items[i].module,
			 d->items[i].builtin ? "!" : "");
	}
}

static void run_fixture(const char *fixture, const char *series, struct kd_detect *d,
			char *kver, size_t ksize)
{
	char sysroot[256], expected_path[300];
	struct kd_ctx_opts co = { .log.prio = KD_LOG_ERR };
	struct kd_detect_opts o = { .sysroot = sysroot };
	struct kd_ctx *ctx;
	struct kd_str text = { 0 };
	char *expected, *got, *want;

	assert_true(find_kernel(series, kver, ksize));
	co.kver = kver;
	snprintf(sysroot, sizeof(sysroot), "tests/fixtures/sysroot/%s", fixture);
	snprintf(expected_path, sizeof(expected_path), "%s/expected-%.*s.txt", sysroot,
		 (int)strlen(series) - 1, series);
	assert_int_equal(kd_ctx_new(&co, &ctx), 0);
	assert_int_equal(kd_detect_run(ctx, &o, d), 0);
	kd_detect_format(d, &text);
	expected = read_all(expected_path);
	assert_non_null(expected);
	got = unversion(text.s, kver);
	want = select_lines(expected);
	{
		char *got_sel = select_lines(got);

		if (strcmp(got_sel, want) != 0)
			fprintf(stderr, "%s with %s: got\n%s\nexpected (%s)\n%s\n", fixture, kver,
				got_sel, expected_path, want);
		assert_string_equal(got_sel, want);
		free(got_sel);
	}
	free(got);
	free(want);
	free(expected);
	kd_str_free(&text);
	kd_ctx_free(ctx);
}

static void test_vm_virtio(void **state)
{
	struct kd_detect d;
	char kver[128], n[1024];

	(void)state;
	/* 6.1: virtio_pci is a module the image must carry */
	run_fixture("vm-virtio", "6.1.", &d, kver, sizeof(kver));
	names(&d, n, sizeof(n));
	assert_string_equal(n, "ext4 virtio_blk virtio_pci");
	assert_false(item(&d, "virtio_pci")->builtin);
	assert_true(item(&d, "virtio_pci")->root);
	assert_non_null(strstr(item(&d, "virtio_blk")->reason,
			       "root chain: vda: virtio1 (virtio) modalias virtio:d00000002v00001AF4"));
	assert_string_equal(d.root_source, "/dev/vda");
	assert_string_equal(d.root_fstype, "ext4");
	assert_true(skipped(&d, "/0000:00:03.0/virtio2")); /* the network card */
	kd_detect_free(&d);
	/* 6.12: built in, nothing to add; the image still needs virtio_blk */
	run_fixture("vm-virtio", "6.12.", &d, kver, sizeof(kver));
	names(&d, n, sizeof(n));
	assert_string_equal(n, "ext4 virtio_blk virtio_pci!");
	assert_true(item(&d, "virtio_pci")->builtin);
	kd_detect_free(&d);
}

static void test_laptop(void **state)
{
	static const char *const series[] = { "6.1.", "6.12." };
	struct kd_detect d;
	char kver[128], n[1024];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		run_fixture("laptop-nvme", series[i], &d, kver, sizeof(kver));
		names(&d, n, sizeof(n));
		assert_string_equal(n, "aesni_intel dm_crypt dm_mod ext4 hid_asus hid_generic "
				    "i2c_designware_platform! i2c_hid_acpi intel_lpss_pci nvme "
				    "padlock_aes usbcore xhci_pci xts");
		assert_string_equal(d.root_spec, "/dev/mapper/nvme0n1p3_crypt");
		assert_non_null(strstr(item(&d, "xts")->reason, "cipher aes-xts-plain64 (crypto-xts)"));
		assert_non_null(strstr(item(&d, "intel_lpss_pci")->reason, "parent of"));
		/* sound, webcam, wifi, bluetooth and GPU are left out, each with a reason */
		assert_true(skipped(&d, "/0000:00:1f.3"));
		assert_true(skipped(&d, "/1-5:1.0"));
		assert_true(skipped(&d, "/0000:00:14.3"));
		assert_true(skipped(&d, "/1-10:1.0"));
		assert_true(skipped(&d, "/0000:00:02.0"));
		kd_detect_free(&d);
	}
}

static void test_server(void **state)
{
	static const char *const series[] = { "6.1.", "6.12." };
	struct kd_detect d;
	char kver[128], n[1024];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		run_fixture("server-md", series[i], &d, kver, sizeof(kver));
		names(&d, n, sizeof(n));
		assert_string_equal(n, "ahci ext4 hid_generic md_mod raid1 sd_mod usbcore usbhid "
				    "xfs xhci_pci");
		assert_string_equal(d.root_spec, "UUID=6f3a1c4e-2b7d-4e90-a8c5-3d1f0e9b2a74");
		assert_string_equal(d.root_source, "/dev/md0");
		assert_non_null(strstr(item(&d, "raid1")->reason, "root chain: md0: md level raid1"));
		assert_non_null(strstr(item(&d, "xfs")->reason, "early mount /usr"));
		assert_true(skipped(&d, "/0000:03:00.0")); /* igb */
		assert_true(skipped(&d, "/0000:05:00.0")); /* ast */
		kd_detect_free(&d);
	}
}

/* ---- a fake kernel and small sysroots ----------------------------------- */

struct fixture {
	char root[64];   /* the fake kernel's root (lib/modules/9.9.9, etc/modprobe.d) */
	char sys[128];   /* the sysroot */
	struct kd_str log;
	struct kd_ctx *ctx;
	struct kd_detect d;
};

static void lnk(const char *dir, const char *rel, const char *target)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	fake_mkdirs(path);
	*slash = '/';
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static const char *const fake_modules[] = {
	"kernel/drivers/block/virtio_blk.ko", "kernel/drivers/virtio/virtio_pci.ko",
	"kernel/fs/ext4/ext4.ko", "kernel/drivers/md/dm-mod.ko", "kernel/drivers/md/dm-crypt.ko",
	"kernel/crypto/aes_generic.ko", "kernel/crypto/xts.ko", "kernel/crypto/cbc.ko",
	"kernel/crypto/essiv.ko", "kernel/crypto/sha256_generic.ko",
	"kernel/sound/pci/hda/snd-hda-intel.ko", "kernel/drivers/hid/usbhid/usbhid.ko", NULL,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kd_str dep = { 0 };
	char moddir[128];

	strcpy(f->root, "/tmp/kd-detect-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->sys, sizeof(f->sys), "%s/sysroot", f->root);
	snprintf(moddir, sizeof(moddir), "%s/lib/modules/9.9.9", f->root);
	for (size_t i = 0; fake_modules[i]; i++) {
		FAKE_KO(moddir, fake_modules[i]);
		kd_str_printf(&dep, "%s:\n", fake_modules[i]);
	}
	fake_put(moddir, "modules.dep", dep.s);
	kd_str_free(&dep);
	fake_put(moddir, "modules.alias",
	    "alias virtio:d00000002v* virtio_blk\n"
	    "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n"
	    "alias fs-ext4 ext4\n"
	    "alias crypto-aes aes_generic\n"
	    "alias crypto-xts xts\n"
	    "alias crypto-cbc cbc\n"
	    "alias crypto-essiv essiv\n"
	    "alias crypto-sha256 sha256_generic\n"
	    "alias pci:v*d*sv*sd*bc04sc03i* snd_hda_intel\n"
	    "alias usb:v*p*d*dc*dsc*dp*ic03isc*ip*in* usbhid\n");
	fake_put(moddir, "modules.builtin", "kernel/drivers/block/loop.ko\n");
	fake_put(f->root, "etc/modprobe.d/bl.conf", "blacklist usbhid\n");
	/* the sysroot: a virtio disk vda with a partition vda1, a sound card,
	 * a usb keyboard interface */
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:04.0/modalias",
	    "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:04.0/virtio1/modalias",
	    "virtio:d00000002v00001AF4");
	lnk(f->sys, "sys/devices/pci0000:00/0000:00:04.0/virtio1/subsystem", "../../../../bus/virtio");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/dev", "254:0");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1/dev", "254:1");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1/partition", "1");
	lnk(f->sys, "sys/class/block/vda", "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda");
	lnk(f->sys, "sys/class/block/vda1",
	    "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
	lnk(f->sys, "sys/dev/block/254:1",
	    "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:1b.0/modalias",
	    "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00");
	fake_put(f->sys, "sys/devices/pci0000:00/0000:00:1d.0/usb1/1-1/1-1:1.0/modalias",
	    "usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00");
	lnk(f->sys, "dev/disk/by-uuid/1111-2222", "../../vda1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_detect_free(&f->d);
	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static int detect(struct fixture *f, const struct kd_detect_opts *o)
{
	char confdir[128];
	const char *dirs[] = { confdir, NULL };
	struct kd_ctx_opts co = {
		.root = f->root, .kver = "9.9.9", .conf_dirs = dirs,
		.log.fn = capture, .log.data = &f->log, .log.prio = KD_LOG_DEBUG,
	};

	snprintf(confdir, sizeof(confdir), "%s/etc/modprobe.d", f->root);
	kd_detect_free(&f->d);
	if (f->ctx == NULL)
		assert_int_equal(kd_ctx_new(&co, &f->ctx), 0);
	return kd_detect_run(f->ctx, o, &f->d);
}

static void test_mountinfo_and_devices(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys };
	char n[512];

	fake_put(f->sys, "proc/self/mountinfo",
	    "20 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
	    "21 20 0:5 / /proc rw - proc proc rw\n");
	assert_int_equal(detect(f, &o), 0);
	names(&f->d, n, sizeof(n));
	/* the sound card is left out, the usb keyboard's usbhid is blacklisted */
	assert_string_equal(n, "ext4 virtio_blk virtio_pci");
	assert_string_equal(f->d.root_source, "/dev/vda1");
	assert_string_equal(f->d.root_spec, "UUID=1111-2222"); /* dev/disk/by-uuid */
	assert_string_equal(f->d.root_fstype, "ext4");
	assert_true(skipped(&f->d, "/0000:00:1b.0"));
	assert_true(skipped(&f->d, "module usbhid"));
	assert_non_null(strstr(item(&f->d, "virtio_blk")->reason,
			       "root chain: vda: virtio1 (virtio) modalias virtio:d00000002v00001AF4"));
	/* the root chain only */
	o.policy = KD_DETECT_ROOT_ONLY;
	assert_int_equal(detect(f, &o), 0);
	assert_int_equal(f->d.n_skips, 0);
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "ext4 virtio_blk virtio_pci");
}

static void test_root_device_and_fstab(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys, .root_device = "UUID=1111-2222",
				    .policy = KD_DETECT_ROOT_ONLY };
	char fstab[256], n[512];

	/* by UUID, no mountinfo: the type from fstab */
	fake_put(f->sys, "etc/fstab", "# comment\nUUID=1111-2222 / ext4 defaults 0 1\n");
	assert_int_equal(detect(f, &o), 0);
	assert_string_equal(f->d.root_spec, "UUID=1111-2222");
	assert_string_equal(f->d.root_source, "/dev/vda1");
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "ext4 virtio_blk virtio_pci");
	/* a chroot's fstab names the root; its /usr is an early mount */
	snprintf(fstab, sizeof(fstab), "%s/chroot-fstab", f->root);
	fake_put(f->root, "chroot-fstab", "/dev/vda1 / ext4 defaults 0 1\n"
	    "/dev/vda1 /usr ext4 x-initrd.mount 0 0\n/dev/vdz /data xfs defaults 0 0\n");
	o.root_device = NULL;
	o.fstab = fstab;
	assert_int_equal(detect(f, &o), 0);
	assert_string_equal(f->d.root_spec, "/dev/vda1");
	assert_non_null(strstr(item(&f->d, "ext4")->reason, "early mount /usr"));
	/* an unknown device is an error naming it */
	o.root_device = "LABEL=nope";
	assert_int_equal(detect(f, &o), -ENOENT);
	assert_non_null(strstr(f->log.s, "--root-device LABEL=nope: no such block device"));
	/* no root at all */
	o.root_device = NULL;
	o.fstab = NULL;
	unlink(strcat(strcpy(fstab, f->sys), "/etc/fstab"));
	assert_int_equal(detect(f, &o), -ENOENT);
	assert_non_null(strstr(f->log.s, "cannot tell which device the root is"));
}

static void test_superblock_uuid(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys, .root_device = "/dev/vda1",
				    .policy = KD_DETECT_ROOT_ONLY };
	unsigned char sb[4096] = { 0 };
	char path[256];
	static const unsigned char uuid[16] = { 0x4b, 0x1d, 0x0e, 0x2a, 0x6c, 0x1f, 0x4d, 0x7e,
						0x9a, 0x55, 0x0e, 0x8d, 0x1f, 0x2c, 0x3a, 0x41 };

	/* an ext4 superblock where a live system has the device node */
	sb[1024 + 0x38] = 0x53, sb[1024 + 0x39] = 0xef;
	sb[1024 + 0x60] = 0x40; /* extents */
	memcpy(sb + 1024 + 0x68, uuid, 16);
	snprintf(path, sizeof(path), "%s/dev/vda1", f->sys);
	fake_write(path, sb, sizeof(sb));
	unlink(strcat(strcpy(path, f->sys), "/dev/disk/by-uuid/1111-2222"));
	assert_int_equal(detect(f, &o), 0);
	assert_string_equal(f->d.root_spec, "UUID=4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41");
	assert_string_equal(f->d.root_fstype, "ext4");
}

static void make_dm(struct fixture *f, const char *uuid)
{
	fake_put(f->sys, "sys/devices/virtual/block/dm-0/dev", "253:0");
	fake_put(f->sys, "sys/devices/virtual/block/dm-0/dm/name", "root_crypt");
	fake_put(f->sys, "sys/devices/virtual/block/dm-0/dm/uuid", uuid);
	lnk(f->sys, "sys/devices/virtual/block/dm-0/slaves/vda1",
	    "../../../../pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
	lnk(f->sys, "sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
	lnk(f->sys, "sys/dev/block/253:0", "../../devices/virtual/block/dm-0");
	fake_put(f->sys, "proc/self/mountinfo", "20 1 253:0 / / rw - ext4 /dev/mapper/root_crypt rw\n");
}

static void test_dm_crypt(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys, .policy = KD_DETECT_ROOT_ONLY };
	char n[512];

	/* no dm table: the uuid says crypt, the cipher is unknown (reported) */
	make_dm(f, "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-root_crypt");
	assert_int_equal(detect(f, &o), 0);
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "dm_crypt dm_mod ext4 virtio_blk virtio_pci");
	assert_true(skipped(&f->d, "root chain dm-0"));
	assert_non_null(strstr(f->log.s, "no dm table found"));
	/* capi: names */
	fake_put(f->sys, "dmsetup-table", "other: 0 8 linear 254:1 0\n"
	    "root_crypt: 0 1000 crypt capi:xts(aes)-plain64 :64:logon:k 0 254:1 4096\n");
	assert_int_equal(detect(f, &o), 0);
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "aes_generic dm_crypt dm_mod ext4 virtio_blk virtio_pci xts");
	/* essiv needs its hash */
	fake_put(f->sys, "dmsetup-table", "root_crypt: 0 1000 crypt aes-cbc-essiv:sha256 k 0 254:1 0\n");
	assert_int_equal(detect(f, &o), 0);
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "aes_generic cbc dm_crypt dm_mod essiv ext4 sha256_generic "
			    "virtio_blk virtio_pci");
	assert_non_null(strstr(item(&f->d, "sha256_generic")->reason,
			       "root chain: dm-0: cipher aes-cbc-essiv:sha256 (crypto-sha256)"));
}

static void test_loop_builtin(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys, .policy = KD_DETECT_ROOT_ONLY };
	char n[512];

	fake_put(f->sys, "sys/devices/virtual/block/loop0/dev", "7:0");
	fake_put(f->sys, "sys/devices/virtual/block/loop0/loop/backing_file", "/images/root.img");
	lnk(f->sys, "sys/class/block/loop0", "../../devices/virtual/block/loop0");
	lnk(f->sys, "sys/dev/block/7:0", "../../devices/virtual/block/loop0");
	fake_put(f->sys, "proc/self/mountinfo", "20 1 7:0 / / rw - ext4 /dev/loop0 rw\n");
	assert_int_equal(detect(f, &o), 0);
	names(&f->d, n, sizeof(n));
	assert_string_equal(n, "ext4 loop!"); /* built into this kernel */
}

/* A block device of this machine (the live system's sysfs), or "" if none. */
static void host_block_device(char *name, size_t size)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *de;

	name[0] = '\0';
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && (name[0] == '\0' || strcmp(de->d_name, name) < 0))
			snprintf(name, size, "%s", de->d_name);
	if (d)
		closedir(d);
}

/*
 * UUID= without its /dev/disk link (no udev): on the live system blkid
 * names the device; a fixture sysroot never asks the host's blkid.  A fake
 * blkid first in PATH records its arguments and knows one UUID.
 */
static void test_blkid_fallback(void **state)
{
	struct fixture *f = *state;
	struct kd_detect_opts o = { .sysroot = f->sys, .root_device = "UUID=feed-beef",
				    .policy = KD_DETECT_ROOT_ONLY };
	char bin[128], calls[160], script[768], dev[NAME_MAX + 1], *path = getenv("PATH"), *saved, *got;
	struct kd_str newpath = { 0 };

	host_block_device(dev, sizeof(dev));
	snprintf(bin, sizeof(bin), "%s/bin", f->root);
	snprintf(calls, sizeof(calls), "%s/blkid.calls", f->root);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" >> %s\n"
		 "[ \"$5\" = UUID=feed-beef ] || exit 2\necho /dev/%s\n", calls, dev);
	fake_put(bin, "blkid", script);
	strcat(bin, "/blkid");
	chmod(bin, 0755);
	saved = strdup(path ? path : "/usr/bin:/bin");
	kd_str_printf(&newpath, "%s/bin:%s", f->root, saved);
	setenv("PATH", newpath.s, 1);

	/* a fixture: its dev/disk only, the message as before */
	assert_int_equal(detect(f, &o), -ENOENT);
	assert_non_null(strstr(f->log.s, "--root-device UUID=feed-beef: no such block device "
			       "under"));
	assert_non_null(strstr(f->log.s, "(sys/class/block, dev/disk/by-*)"));
	assert_int_equal(access(calls, F_OK), -1);

	/* the live system: blkid -l -o device -t UUID=... names the device */
	o.sysroot = NULL;
	if (dev[0]) {
		char want[NAME_MAX + 8];

		assert_int_equal(detect(f, &o), 0);
		snprintf(want, sizeof(want), "/dev/%s", dev);
		assert_string_equal(f->d.root_source, want);
		assert_string_equal(f->d.root_spec, "UUID=feed-beef");
	} else { /* no block device at all here: blkid is asked all the same */
		assert_int_equal(detect(f, &o), -ENOENT);
		assert_non_null(strstr(f->log.s, ", blkid)"));
	}
	got = read_all(calls);
	assert_non_null(got);
	assert_non_null(strstr(got, "-l -o device -t UUID=feed-beef\n"));
	free(got);

	setenv("PATH", saved, 1);
	free(saved);
	kd_str_free(&newpath);
}

/* ---- kindling detect ------------------------------------------------------ */

/* kd_cmd_detect with stdout into *out; returns the exit code. */
static int run_detect(struct fixture *f, const char *e1, const char *e2, char **out)
{
	char conf[128], path[160];
	const char *argv[16] = { "detect", "-q", "-r", f->root, "-k", "9.9.9", "-C", conf };
	int argc = 8, saved, fd, rc;

	snprintf(conf, sizeof(conf), "%s/etc/modprobe.d", f->root);
	snprintf(path, sizeof(path), "%s/detect.out", f->root);
	if (e1)
		argv[argc++] = e1;
	if (e2)
		argv[argc++] = e2;
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	optind = 0;
	rc = kd_cmd_detect(argc, (char **)argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = read_all(path);
	return rc;
}

static void test_cli(void **state)
{
	struct fixture *f = *state;
	char sysroot[160], *out, fstab[160];

	fake_put(f->sys, "proc/self/mountinfo", "20 1 254:1 / / rw - ext4 /dev/vda1 rw\n");
	snprintf(sysroot, sizeof(sysroot), "--sysroot=%s", f->sys);
	assert_int_equal(run_detect(f, sysroot, "--policy=root", &out), 0);
	assert_string_equal(out,
		"root /dev/vda1 ext4 UUID=1111-2222\n"
		"module ext4: filesystem ext4 (fs-ext4)\n"
		"module virtio_blk: root chain: vda: virtio1 (virtio) modalias "
		"virtio:d00000002v00001AF4\n"
		"module virtio_pci: root chain: vda: 0000:00:04.0 (device) modalias "
		"pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\n");
	free(out);
	/* the default policy reports what it leaves out */
	assert_int_equal(run_detect(f, sysroot, NULL, &out), 0);
	assert_non_null(strstr(out, "skip /sys/devices/pci0000:00/0000:00:1b.0: multimedia "
			       "controller, pci class 0403: not needed to boot "
			       "(pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00); "
			       "would be snd_hda_intel\n"));
	assert_non_null(strstr(out, "skip module usbhid: blacklisted in modprobe.d"));
	free(out);
	/* bad input: 2; a root that cannot be found: 1 */
	assert_int_equal(run_detect(f, sysroot, "--policy=sound", &out), 2);
	free(out);
	assert_int_equal(run_detect(f, "--sysroot=/nonexistent", NULL, &out), 1);
	free(out);
	/* a missing --fstab is an error */
	snprintf(fstab, sizeof(fstab), "--fstab=%s/none", f->root);
	assert_int_equal(run_detect(f, sysroot, fstab, &out), 1);
	free(out);
	/* -r ROOT without --sysroot: a chroot, whose own fstab names the root
	 * (ROOT/etc/fstab; this fake root has none), not the live mountinfo */
	assert_int_equal(run_detect(f, NULL, NULL, &out), 1);
	assert_string_equal(out, "");
	free(out);
}

/* ---- kindling build --host-only, kindling.conf hostonly ------------------ */

static int build(struct fixture *f, const char *e1, const char *e2)
{
	char out[128], init[128], conf[128], cfg[128];
	const char *argv[32] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "-C", conf,
				 "--init", init, "-o", out, "--force", "--config", cfg,
				 "--sysroot", f->sys };
	int argc = 17;

	snprintf(out, sizeof(out), "%s/initrd.img", f->root);
	snprintf(init, sizeof(init), "%s/init-bin", f->root);
	snprintf(conf, sizeof(conf), "%s/etc/modprobe.d", f->root);
	snprintf(cfg, sizeof(cfg), "%s/kindling.conf", f->root);
	if (e1)
		argv[argc++] = e1;
	if (e2)
		argv[argc++] = e2;
	optind = 0;
	return kd_cmd_build(argc, (char **)argv);
}

struct seen {
	char root[64], mods[256];
	uint32_t flags;
	char *detect_txt;
};

static void read_image(struct fixture *f, struct seen *s)
{
	char path[128];
	struct kd_img img;
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	struct kd_ctx log = { .log.fn = kd_log_stderr, .log.prio = KD_LOG_ERR };
	struct kd_ctx *ctx = &log;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/initrd.img", f->root);
	assert_int_equal(kd_img_open(kd_ctx_log(ctx), path, 0, &img), 0);
	kd_cpio_init(&it, kd_ctx_log(ctx), path, img.segs[0].data, img.segs[0].size, false);
	while (kd_cpio_next(&it, &e) == 1) {
		static _Alignas(8) unsigned char buf[1 << 16];
		struct kp_plan p = { 0 };
		const char *name = kd_cpio_path(e.name);

		if (strcmp(name, "etc/kindling/detect.txt") == 0)
			s->detect_txt = strndup((const char *)e.data, e.size);
		if (strcmp(name, KP_PLAN_PATH + 1) != 0)
			continue;
		assert_true(e.size <= sizeof(buf));
		memcpy(buf, e.data, e.size);
		assert_null(kp_plan_open(&p, buf, e.size));
		snprintf(s->root, sizeof(s->root), "%s", kp_str(&p, p.hdr->default_root));
		s->flags = p.hdr->flags;
		for (uint32_t i = 0; i < p.hdr->n_modules; i++) {
			strcat(s->mods, i ? " " : "");
			strcat(s->mods, kp_str(&p, p.modules[i].name));
		}
	}
	kd_img_free(&img);
}

static void test_build_host_only(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct seen s;

	snprintf(path, sizeof(path), "%s/init-bin", f->root);
	fake_write(path, "\x7f" "ELF fake init", 14);
	chmod(path, 0755);
	fake_put(f->sys, "proc/self/mountinfo", "20 1 254:1 / / rw - ext4 /dev/vda1 rw\n");
	fake_put(f->root, "kindling.conf", "# nothing\n");
	fake_put(f->root, "lib/modules/9.9.9/modules.softdep", "");
	/* with -r the default stays generic (sets): the host-only flag is needed */
	assert_int_equal(build(f, "--host-only", NULL), 0);
	read_image(f, &s);
	assert_true(s.flags & KP_PLAN_HOST_ONLY);
	assert_string_equal(s.root, "UUID=1111-2222");
	assert_string_equal(s.mods, "ext4 virtio_blk virtio_pci");
	assert_non_null(s.detect_txt);
	assert_non_null(strstr(s.detect_txt, "root /dev/vda1 ext4 UUID=1111-2222\n"));
	assert_non_null(strstr(s.detect_txt, "skip /sys/devices/pci0000:00/0000:00:1b.0: "));
	free(s.detect_txt);
	/* --root-default wins over the detected root */
	assert_int_equal(build(f, "--host-only", "--root-default=/dev/vdb"), 0);
	read_image(f, &s);
	assert_string_equal(s.root, "/dev/vdb");
	free(s.detect_txt);
	/* kindling.conf: hostonly = yes is --host-only; a flag still wins */
	fake_put(f->root, "kindling.conf", "hostonly = yes\n");
	assert_int_equal(build(f, "--add", "ext4"), 0);
	read_image(f, &s);
	assert_true(s.flags & KP_PLAN_HOST_ONLY);
	free(s.detect_txt);
	fake_put(f->root, "kindling.conf", "hostonly = yes\nsets = nosuchset\n");
	assert_int_equal(build(f, "--generic", NULL), 2); /* generic: the (bad) sets */
	/* hostonly = no: the generic default, no detection */
	fake_put(f->root, "kindling.conf", "hostonly = no\nadd = ext4\n");
	assert_int_equal(build(f, NULL, NULL), 0);
	read_image(f, &s);
	assert_false(s.flags & KP_PLAN_HOST_ONLY);
	assert_null(s.detect_txt);
	assert_string_equal(s.mods, "ext4");
	/* a bad value */
	fake_put(f->root, "kindling.conf", "hostonly = maybe\n");
	assert_int_equal(build(f, NULL, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_virtio),
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_server),
		cmocka_unit_test_setup_teardown(test_mountinfo_and_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_device_and_fstab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_superblock_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dm_crypt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blkid_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_host_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
