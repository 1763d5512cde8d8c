// SPDX-License-Identifier: MIT
/*
 * The probes against `blkid -p` on real images: every image is made with
 * the real mkfs (or sfdisk, cryptsetup, pvcreate), and TYPE, UUID, LABEL
 * (PTTYPE, PTUUID for tables; PART_ENTRY_UUID and _NAME for partitions,
 * through partx, which uses the same libblkid code) must agree exactly.
 * A tool that is not installed fails its test: scripts/deps.sh installs them.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "init.h"
#include "init_test.h"

#define FS_UUID "4b1d0e2a-6c1f-4d7e-9a55-0e8d1f2c3a41"
#define PART_UUID "9e3c5a7b-2f1d-4c8e-b6a0-5d4e3f2a1b0c"

static char dir[64];

static bool have(const char *tool)
{
	return ts_sh("command -v %s", tool) == 0;
}

static const char *img(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* blkid -o export's value of key, unescaped; "" when absent. */
struct kv {
	char text[4096];
};

static void kv_read(struct kv *kv, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	assert_non_null(p);
	n = fread(kv->text, 1, sizeof(kv->text) - 1, p);
	kv->text[n] = '\0';
	pclose(p);
}

static void kv_get(const struct kv *kv, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), n = 0;
	const char *line = kv->text;

	out[0] = '\0';
	for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		for (const char *v = line + klen + 1; *v && *v != '\n' && n + 1 < size; v++) {
			if (*v == '\\' && v[1])
				v++;
			out[n++] = *v;
		}
		out[n] = '\0';
		return;
	}
}

static void probe_file(const char *path, struct ki_id *id)
{
	struct ki_dev d;
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	d.fd = fd;
	d.size = (uint64_t)st.st_size;
	d.sector = 512;
	ki_probe(&d, id);
	close(fd);
}

/* Our answer must be blkid's, field by field; want_type guards the test itself. */
static void agree(const char *path, const char *want_type)
{
	char cmd[256], type[64], uuid[128], label[512];
	struct ki_id id;
	struct kv kv;

	snprintf(cmd, sizeof(cmd), "blkid -p -o export %s 2>/dev/null", path);
	kv_read(&kv, cmd);
	kv_get(&kv, "TYPE", type, sizeof(type));
	kv_get(&kv, "UUID", uuid, sizeof(uuid));
	kv_get(&kv, "LABEL", label, sizeof(label));
	if (type[0] == '\0') {
		kv_get(&kv, "PTTYPE", type, sizeof(type));
		kv_get(&kv, "PTUUID", uuid, sizeof(uuid));
	}
	probe_file(path, &id);
	print_message("    %s: blkid TYPE=%s UUID=%s LABEL=%s / ours %s %s %s\n", want_type, type,
		      uuid, label, id.type, id.uuid, id.label);
	assert_string_equal(type, want_type);
	assert_string_equal(id.type, type);
	assert_string_equal(id.uuid, uuid);
	assert_string_equal(id.label, label);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kindling-probe.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* a small tree for the image formats made from a directory */
	ts_sh("mkdir -p %1$s/tree/sbin && echo hello > %1$s/tree/sbin/init", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_rm_tree(dir);
	return 0;
}

#define NEED(tool)                  \
	do {                        \
		if (!have(tool))    \
			fail_msg("%s is not installed: run scripts/deps.sh check", tool); \
	} while (0)

static void test_ext(void **state)
{
	(void)state;
	NEED("mkfs.ext4");
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -U %s -L kd-root %s 16M", FS_UUID, img("ext4")),
			 0);
	agree(img("ext4"), "ext4");
	assert_int_equal(ts_sh("mkfs.ext3 -q -F -U %s -L third %s 16M", FS_UUID, img("ext3")), 0);
	agree(img("ext3"), "ext3");
	assert_int_equal(ts_sh("mkfs.ext2 -q -F -U %s %s 8M", FS_UUID, img("ext2")), 0);
	agree(img("ext2"), "ext2");
	/* made from a directory, as the boot tests' disks are */
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -L 'with space' -d %s/tree %s 16M", dir,
			       img("ext4d")), 0);
	agree(img("ext4d"), "ext4");
	/* the other answers of the one ext rule (common/extfs.h) */
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -O ^has_journal %s 16M", img("ext4nj")), 0);
	agree(img("ext4nj"), "ext4");
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -E test_fs -L dev %s 16M", img("ext4dev")), 0);
	agree(img("ext4dev"), "ext4dev");
	assert_int_equal(ts_sh("mke2fs -q -F -O journal_dev -b 4096 -L jlog %s 8M", img("jbd")),
			 0);
	agree(img("jbd"), "jbd");
}

static void test_xfs(void **state)
{
	(void)state;
	NEED("mkfs.xfs");
	assert_int_equal(ts_sh("truncate -s 300M %1$s && mkfs.xfs -q -f -m uuid=%2$s "
			       "-L kd-root %1$s", img("xfs"), FS_UUID), 0);
	agree(img("xfs"), "xfs");
	ts_sh("rm -f %s", img("xfs"));
}

static void test_btrfs(void **state)
{
	(void)state;
	NEED("mkfs.btrfs");
	assert_int_equal(ts_sh("truncate -s 128M %1$s && BLKID_FILE=/dev/null mkfs.btrfs -q -f "
			       "-U %2$s -L kd-btrfs %1$s", img("btrfs"), FS_UUID), 0);
	agree(img("btrfs"), "btrfs");
	ts_sh("rm -f %s", img("btrfs"));
}

static void test_vfat(void **state)
{
	(void)state;
	NEED("mkfs.vfat");
	assert_int_equal(ts_sh("mkfs.vfat -C -i 1a2b3c4d -n ESP12 %s 2048", img("fat12")), 0);
	agree(img("fat12"), "vfat");
	assert_int_equal(ts_sh("mkfs.vfat -C -F 16 -i 0000beef -n 'MY DATA' %s 32768",
			       img("fat16")), 0);
	agree(img("fat16"), "vfat");
	assert_int_equal(ts_sh("mkfs.vfat -C -F 32 -i deadbeef -n BOOT32 %s 66000", img("fat32")),
			 0);
	agree(img("fat32"), "vfat");
	/* no label: "NO NAME" is no label */
	assert_int_equal(ts_sh("mkfs.vfat -C -F 32 -i 12345678 %s 66000", img("fat32n")), 0);
	agree(img("fat32n"), "vfat");
}

static void test_f2fs(void **state)
{
	(void)state;
	NEED("mkfs.f2fs");
	assert_int_equal(ts_sh("truncate -s 64M %1$s && mkfs.f2fs -q -f -l kd-f2fs -U %2$s %1$s",
			       img("f2fs"), FS_UUID), 0);
	agree(img("f2fs"), "f2fs");
}

static void test_erofs(void **state)
{
	(void)state;
	NEED("mkfs.erofs");
	/* Debian 12's mkfs.erofs sets no label */
	assert_int_equal(ts_sh("mkfs.erofs -U%s %s %s/tree", FS_UUID, img("erofs"), dir), 0);
	agree(img("erofs"), "erofs");
}

static void test_squashfs(void **state)
{
	(void)state;
	NEED("mksquashfs");
	assert_int_equal(ts_sh("mksquashfs %s/tree %s -quiet -noappend", dir, img("sqfs")), 0);
	agree(img("sqfs"), "squashfs");
}

static void test_iso9660(void **state)
{
	(void)state;
	NEED("xorriso");
	assert_int_equal(ts_sh("xorriso -as mkisofs -quiet -V KD_ISO -o %s %s/tree", img("iso"),
			       dir), 0);
	agree(img("iso"), "iso9660");
	/* Joliet with the same label, and with one the primary cannot hold */
	assert_int_equal(ts_sh("xorriso -as mkisofs -quiet -J -V KD_ISO -o %s %s/tree",
			       img("isoj"), dir), 0);
	agree(img("isoj"), "iso9660");
	assert_int_equal(ts_sh("xorriso -as mkisofs -quiet -J -V 'Mixed case label' -o %s %s/tree",
			       img("isojm"), dir), 0);
	agree(img("isojm"), "iso9660");
}

static void test_luks(void **state)
{
	(void)state;
	NEED("cryptsetup");
	ts_sh("echo -n secret > %s/key", dir);
	if (ts_sh("truncate -s 32M %1$s && cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 "
		  "--pbkdf-force-iterations 1000 --label kd-luks --uuid %2$s "
		  "--key-file %3$s/key %1$s", img("luks2"), FS_UUID, dir) != 0)
		fail_msg("cryptsetup luksFormat on a plain file failed");
	agree(img("luks2"), "crypto_LUKS");
	assert_int_equal(ts_sh("truncate -s 32M %1$s && cryptsetup luksFormat -q --type luks1 "
			       "--pbkdf-force-iterations 1000 --uuid %2$s --key-file %3$s/key %1$s",
			       img("luks1"), FS_UUID, dir), 0);
	agree(img("luks1"), "crypto_LUKS");
}

static void test_lvm(void **state)
{
	char loop[64] = "";
	struct kv kv;
	char cmd[256];
	int r;

	(void)state;
	NEED("pvcreate");
	NEED("losetup");
	assert_int_equal(ts_sh("truncate -s 16M %s", img("lvm")), 0);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", img("lvm"));
	kv_read(&kv, cmd);
	sscanf(kv.text, "%63s", loop);
	if (strncmp(loop, "/dev/loop", 9) != 0)
		fail_msg("losetup could not attach %s", img("lvm"));
	r = ts_sh("pvcreate -q -y -ff --uuid 0123456789abcdefghijABCDEFGHIJ01 --norestorefile %s",
		  loop);
	ts_sh("losetup -d %s", loop);
	if (r != 0)
		fail_msg("pvcreate on %s failed", loop);
	agree(img("lvm"), "LVM2_member");
}

/* md: no md driver on the build host, so the superblock is written here. */
static void put_md1(const char *path, uint64_t off)
{
	unsigned char sb[256] = { 0 };
	static const unsigned char uuid[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
						5, 6, 7, 8, 9, 10, 11, 12 };
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	sb[0] = 0xfc; sb[1] = 0x4e; sb[2] = 0x2b; sb[3] = 0xa9; /* 0xa92b4efc */
	sb[4] = 1;
	memcpy(sb + 16, uuid, 16);
	memcpy(sb + 32, "host:kdraid", 11);
	for (int i = 0; i < 8; i++)
		sb[144 + i] = (unsigned char)((off >> 9) >> (8 * i));
	assert_int_equal(pwrite(fd, sb, sizeof(sb), (off_t)off), (ssize_t)sizeof(sb));
	close(fd);
}

static void test_md(void **state)
{
	(void)state;
	assert_int_equal(ts_sh("truncate -s 8M %s", img("md12")), 0);
	put_md1(img("md12"), 4096);
	agree(img("md12"), "linux_raid_member");
	/* md 1.0 at the end of a disk that also holds an ext4 at its start: a
	 * member, never to be mounted as the file system */
	NEED("mkfs.ext4");
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -U %s %s 8M", FS_UUID, img("md10")), 0);
	put_md1(img("md10"), 8 * 1024 * 1024 - 8192);
	agree(img("md10"), "linux_raid_member");
}

struct part_check {
	unsigned n;
	struct ki_part p[16];
};

static int keep_part(void *data, const struct ki_part *p)
{
	struct part_check *c = data;

	if (c->n < 16)
		c->p[c->n++] = *p;
	return 0;
}

/* KEY="value" of one line of partx -P output (\xNN escapes decoded). */
static void pair_get(const char *line, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), n = 0;
	const char *p = line;

	out[0] = '\0';
	while (*p && *p != '\n') {
		bool match = strncmp(p, key, klen) == 0 && p[klen] == '=';
		const char *v = strchr(p, '"');

		if (v == NULL)
			return;
		for (v++; *v && *v != '"'; v++) {
			char c = *v;

			if (c == '\\' && v[1] == 'x' && v[2] && v[3]) {
				char hex[3] = { v[2], v[3], 0 };

				c = (char)strtol(hex, NULL, 16);
				v += 3;
			}
			if (match && n + 1 < size)
				out[n++] = c;
		}
		if (match) {
			out[n] = '\0';
			return;
		}
		p = *v ? v + 1 : v;
		while (*p == ' ')
			p++;
	}
}

/* Every partition partx (libblkid) lists must be ours, number for number. */
static void agree_parts(const char *path, unsigned want)
{
	char cmd[256], nr[16], uuid[64], name[128];
	struct part_check c = { .n = 0 };
	struct ki_part p;
	struct ki_id id;
	struct ki_dev d;
	struct stat st;
	struct kv kv;
	const char *line;
	unsigned seen = 0;

	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	fstat(fd, &st);
	d = (struct ki_dev){ fd, (uint64_t)st.st_size, 512 };
	assert_int_equal(ki_probe_table(&d, &id, keep_part, &c), 1);
	assert_int_equal(c.n, want);
	snprintf(cmd, sizeof(cmd), "partx -g -P -o NR,UUID,NAME %s", path);
	kv_read(&kv, cmd);
	for (line = kv.text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		pair_get(line, "NR", nr, sizeof(nr));
		pair_get(line, "UUID", uuid, sizeof(uuid));
		pair_get(line, "NAME", name, sizeof(name));
		if (nr[0] == '\0')
			continue;
		assert_int_equal(ki_probe_part(&d, (unsigned)atoi(nr), &p), 0);
		print_message("    %s: partx UUID=%s NAME=%s / ours %s %s\n", nr, uuid, name, p.uuid,
			      p.name);
		assert_string_equal(p.uuid, uuid);
		assert_string_equal(p.name, name);
		seen++;
	}
	assert_int_equal(seen, want);
	assert_int_equal(ki_probe_part(&d, 99, &p), -ENOENT);
	close(fd);
}

static void test_gpt(void **state)
{
	(void)state;
	NEED("sfdisk");
	assert_int_equal(ts_sh("truncate -s 64M %1$s && printf 'label: gpt\\nlabel-id: "
			       "1b2c3d4e-0000-4000-8000-123456789abc\\n"
			       "start=2048, size=20480, type=linux, uuid=%2$s, name=kd-rootpart\\n"
			       "size=20480, type=uefi, name=\"EFI system\"\\n"
			       "size=8192, type=swap\\n' | sfdisk -q %1$s", img("gpt"), PART_UUID), 0);
	agree(img("gpt"), "gpt");
	agree_parts(img("gpt"), 3);
	/* a file system inside the first partition does not change the disk */
	assert_int_equal(ts_sh("mkfs.ext4 -q -F -U %s %s/p1 10M && dd if=%s/p1 of=%s bs=512 "
			       "seek=2048 conv=notrunc", FS_UUID, dir, dir, img("gpt")), 0);
	agree(img("gpt"), "gpt");
	agree(img("p1"), "ext4");
}

static void test_mbr(void **state)
{
	(void)state;
	NEED("sfdisk");
	/* sfdisk numbers partitions by the names' last digits: 5-7 are logical */
	assert_int_equal(ts_sh("truncate -s 64M %1$s && printf 'label: dos\\n"
			       "label-id: 0x5eed1e55\\n"
			       "x1 : start=2048, size=20480, type=83, bootable\\n"
			       "x2 : start=22528, size=40960, type=5\\n"
			       "x5 : start=24576, size=8192, type=83\\n"
			       "x6 : start=34816, size=8192, type=82\\n"
			       "x7 : start=45056, size=4096, type=83\\n' | sfdisk -q %1$s", img("mbr")),
			 0);
	agree(img("mbr"), "dos");
	agree_parts(img("mbr"), 5); /* 1, 2 (extended), 5, 6, 7 */
}

static void test_nothing(void **state)
{
	struct ki_id id;

	(void)state;
	assert_int_equal(ts_sh("truncate -s 4M %s", img("zero")), 0);
	probe_file(img("zero"), &id);
	assert_string_equal(id.type, "");
	assert_int_equal(id.usage, KI_USE_NONE);
	/* too small for anything: no read past the end */
	assert_int_equal(ts_sh("head -c 600 /dev/urandom > %s", img("tiny")), 0);
	probe_file(img("tiny"), &id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext),      cmocka_unit_test(test_xfs),
		cmocka_unit_test(test_btrfs),    cmocka_unit_test(test_vfat),
		cmocka_unit_test(test_f2fs),     cmocka_unit_test(test_erofs),
		cmocka_unit_test(test_squashfs), cmocka_unit_test(test_iso9660),
		cmocka_unit_test(test_luks),     cmocka_unit_test(test_lvm),
		cmocka_unit_test(test_md),       cmocka_unit_test(test_gpt),
		cmocka_unit_test(test_mbr),      cmocka_unit_test(test_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
