// SPDX-License-Identifier: MIT
/* The image: written from a fake module tree, read back with libarchive;
 * metadata, sorting, contents, determinism, and failures that must leave
 * the old image alone.  Also `kindling build` itself (kd_cmd_build), and
 * `kindling update --remove` on what a killed build leaves. */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "builder_test.h"
#include "fake_ko.h"
#include "common/plan.h"

#define MODINFO_A "firmware=fw/a.bin\0firmware=missing.bin\0license=GPL"

struct fixture {
	char root[64];
	char moddir[128], confdir[128], setsdir[128], init[128], out[160];
	struct kd_str log;
	struct kd_ctx *ctx;
	struct kd_plan plan;
};

static void make_tree(struct fixture *f)
{
	static const char init[] = "\x7f" "ELF fake init";
	char fw[256];

	fake_ko(f->moddir, "kernel/drivers/a.ko", MODINFO_A, sizeof(MODINFO_A), NULL);
	fake_ko(f->moddir, "kernel/lib/b.ko.xz", "license=GPL", 12, NULL);
	FAKE_KO(f->moddir, "kernel/lib/c.ko");
	FAKE_KO(f->moddir, "kernel/other.ko");
	fake_put(f->moddir, "modules.dep",
	    "kernel/drivers/a.ko: kernel/lib/b.ko.xz\n"
	    "kernel/lib/b.ko.xz:\n"
	    "kernel/lib/c.ko:\n"
	    "kernel/other.ko:\n");
	fake_put(f->moddir, "modules.alias", "alias pci:v1234* a\nalias other-thing other\n");
	fake_put(f->moddir, "modules.softdep", "softdep a post: c\nsoftdep other pre: c\n");
	fake_put(f->moddir, "modules.builtin", "kernel/fs/builtin1.ko\n");
	fake_put(f->moddir, "modules.order", "kernel/lib/c.ko\nkernel/lib/b.ko\nkernel/drivers/a.ko\n");
	fake_put(f->confdir, "test.conf", "options a opt=1\nblacklist c\nalias my-a a\n");
	snprintf(fw, sizeof(fw), "%s/lib/firmware/fw", f->root);
	fake_mkdirs(fw);
	fake_put(fw, "a.bin", "FIRMWARE");
	fake_put(f->setsdir, "test.set", "a\n");
	fake_put(f->setsdir, "default.list", "test\n");
	fake_write(f->init, init, sizeof(init));
	chmod(f->init, 0755);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/kd-image-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->moddir, sizeof(f->moddir), "%s/lib/modules/9.9.9", f->root);
	snprintf(f->confdir, sizeof(f->confdir), "%s/etc/modprobe.d", f->root);
	snprintf(f->setsdir, sizeof(f->setsdir), "%s/sets", f->root);
	snprintf(f->init, sizeof(f->init), "%s/init-bin", f->root);
	snprintf(f->out, sizeof(f->out), "%s/out", f->root);
	fake_mkdirs(f->confdir);
	fake_mkdirs(f->setsdir);
	fake_mkdirs(f->out);
	strcat(f->out, "/initrd.img");
	make_tree(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_plan_free(&f->plan);
	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static void make_plan(struct fixture *f)
{
	const char *dirs[] = { f->confdir, NULL };
	struct kd_ctx_opts o = { .root = f->root, .kver = "9.9.9", .conf_dirs = dirs,
				 .log.fn = capture, .log.data = &f->log,
				 .log.prio = KD_LOG_DEBUG };
	struct kd_wants w = { 0 };

	assert_int_equal(kd_ctx_new(&o, &f->ctx), 0);
	kd_wants_add(&w, "a", "set test", 0);
	assert_int_equal(kd_plan_build(f->ctx, &w, NULL, &f->plan), 0);
	kd_wants_free(&w);
	assert_int_equal(f->plan.n, 3);
}

static int write_image(struct fixture *f, const char *out, bool force, unsigned threads)
{
	struct kd_image_opts o = { .output = out, .init = f->init, .force = force,
				   .threads = threads, .mtime = 1234567 };

	if (f->ctx == NULL)
		make_plan(f);
	return kd_image_write(f->ctx, &f->plan, &o, NULL);
}

struct read_entry {
	char path[256];
	unsigned mode, uid, gid, rmaj, rmin;
	long long mtime, ino;
	char link[64];
	unsigned char *data;
	size_t size;
};

/* Every entry of the image, in archive order. */
static size_t read_image(const char *path, struct read_entry *v, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t n = 0;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_cpio(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		struct read_entry *e = &v[n++];

		assert_true(n <= max);
		snprintf(e->path, sizeof(e->path), "%s", archive_entry_pathname(ae));
		e->mode = archive_entry_mode(ae);
		e->uid = (unsigned)archive_entry_uid(ae);
		e->gid = (unsigned)archive_entry_gid(ae);
		e->mtime = archive_entry_mtime(ae);
		e->ino = archive_entry_ino(ae);
		e->rmaj = archive_entry_rdevmajor(ae);
		e->rmin = archive_entry_rdevminor(ae);
		if (archive_entry_symlink(ae))
			snprintf(e->link, sizeof(e->link), "%s", archive_entry_symlink(ae));
		e->size = S_ISREG(e->mode) ? (size_t)archive_entry_size(ae) : 0;
		e->data = malloc(e->size + 1);
		if (e->size)
			assert_int_equal(archive_read_data(a, e->data, e->size),
					 (la_ssize_t)e->size);
		e->data[e->size] = '\0';
	}
	archive_read_free(a);
	return n;
}

static void free_entries(struct read_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
}

static const struct read_entry *entry(const struct read_entry *v, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, p) == 0)
			return &v[i];
	fail_msg("no %s in the image", p);
	return NULL;
}

static void check_metadata(const struct read_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char parent[sizeof(v[i].path)], *slash;

		assert_int_equal(v[i].uid, 0);
		assert_int_equal(v[i].gid, 0);
		assert_int_equal(v[i].mtime, 1234567);
		assert_int_equal(v[i].ino, (long long)i + 1);
		if (i > 0)
			assert_true(strcmp(v[i - 1].path, v[i].path) < 0);
		/* the parent directory came before */
		memcpy(parent, v[i].path, sizeof(parent));
		slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			assert_true(S_ISDIR(entry(v, i, parent)->mode));
		}
	}
}

static void check_files(struct fixture *f, const struct read_entry *v, size_t n)
{
	struct fake_ko b = fake_ko_plain("license=GPL", 12, NULL);
	const struct read_entry *e;
	struct kp_plan p = { 0 };

	e = entry(v, n, "init");
	assert_int_equal(e->mode, S_IFREG | 0755);
	assert_memory_equal(e->data, "\x7f" "ELF fake init", 14);
	e = entry(v, n, "dev/console");
	assert_int_equal(e->mode, S_IFCHR | 0600);
	assert_int_equal(e->rmaj, 5);
	assert_int_equal(e->rmin, 1);
	assert_string_equal(entry(v, n, "lib")->link, "usr/lib");
	assert_int_equal(entry(v, n, "lib")->mode, S_IFLNK | 0777);
	assert_int_equal(entry(v, n, "proc")->mode, S_IFDIR | 0555);
	/* the xz module decompressed, stored without its suffix */
	e = entry(v, n, "usr/lib/modules/9.9.9/kernel/lib/b.ko");
	assert_int_equal(e->mode, S_IFREG | 0644);
	assert_int_equal(e->size, b.size);
	assert_memory_equal(e->data, b.data, b.size);
	free(b.data);
	assert_string_equal(entry(v, n, "usr/lib/firmware/fw/a.bin")->data, "FIRMWARE");
	assert_non_null(strstr(f->log.s, "module a: firmware missing.bin not found"));
	assert_string_equal(entry(v, n, "usr/lib/modules/9.9.9/modules.dep")->data,
			    "kernel/lib/c.ko:\nkernel/lib/b.ko:\n"
			    "kernel/drivers/a.ko: kernel/lib/b.ko\n");
	assert_string_equal(entry(v, n, "usr/lib/modules/9.9.9/modules.order")->data,
			    "kernel/lib/c.ko\nkernel/lib/b.ko\nkernel/drivers/a.ko\n");
	assert_string_equal(entry(v, n, "usr/lib/modules/9.9.9/modules.alias")->data,
			    "# Aliases extracted from modules themselves.\nalias pci:v1234* a\n");
	assert_string_equal(entry(v, n, "usr/lib/modules/9.9.9/modules.softdep")->data,
			    "# Soft dependencies extracted from modules themselves.\n"
			    "softdep a post: c\n");
	assert_string_equal(entry(v, n, "usr/lib/modules/9.9.9/modules.builtin")->data,
			    "kernel/fs/builtin1.ko\n");
	assert_non_null(strstr((char *)entry(v, n, "etc/modprobe.d/kindling.conf")->data,
			       "\noptions a opt=1\nblacklist c\nalias my_a a\n"));
	e = entry(v, n, "etc/kindling/plan");
	assert_null(kp_plan_open(&p, e->data, e->size));
	assert_int_equal(p.hdr->n_modules, 3);
}

static void test_write_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct read_entry v[64];
	struct stat sb;
	struct kd_buf file;
	size_t n;

	assert_int_equal(write_image(f, f->out, false, 2), 0);
	assert_int_equal(stat(f->out, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* one zstd frame, nothing after it */
	assert_int_equal(kd_read_file(NULL, f->out, &file), 0);
	assert_int_equal(ZSTD_findFrameCompressedSize(file.data, file.size), file.size);
	kd_buf_free(&file);
	n = read_image(f->out, v, 64);
	check_metadata(v, n);
	check_files(f, v, n);
	free_entries(v, n);
}

static bool same_file(const char *a, const char *b)
{
	struct kd_buf x, y;
	bool same;

	assert_int_equal(kd_read_file(NULL, a, &x), 0);
	assert_int_equal(kd_read_file(NULL, b, &y), 0);
	same = x.size == y.size && memcmp(x.data, y.data, x.size) == 0;
	kd_buf_free(&x);
	kd_buf_free(&y);
	return same;
}

static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	char other[192];

	snprintf(other, sizeof(other), "%s.2", f->out);
	assert_int_equal(write_image(f, f->out, false, 1), 0);
	assert_int_equal(write_image(f, other, false, 4), 0);
	assert_true(same_file(f->out, other));
}

/* No leftover temporary file in the output's directory. */
static void assert_no_temp(struct fixture *f)
{
	char dir[192];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s", f->out);
	*strrchr(dir, '/') = '\0';
	dp = opendir(dir);
	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] == '.' && strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			fail_msg("temporary file %s/%s left behind", dir, d->d_name);
	closedir(dp);
}

static void put_old(struct fixture *f)
{
	fake_write(f->out, "OLD IMAGE", 9);
}

static void assert_old(struct fixture *f)
{
	struct kd_buf b;

	assert_int_equal(kd_read_file(NULL, f->out, &b), 0);
	assert_int_equal(b.size, 9);
	assert_memory_equal(b.data, "OLD IMAGE", 9);
	kd_buf_free(&b);
	assert_no_temp(f);
}

static void test_existing_kept_without_force(void **state)
{
	struct fixture *f = *state;
	struct stat sb;

	put_old(f);
	assert_int_equal(write_image(f, f->out, false, 2), -EEXIST);
	assert_non_null(strstr(f->log.s, "initrd.img: already exists (use --force"));
	assert_old(f);
	assert_int_equal(write_image(f, f->out, true, 2), 0);
	assert_int_equal(stat(f->out, &sb), 0);
	assert_true(sb.st_size > 9);
	assert_no_temp(f);
}

static void test_bad_init_keeps_old(void **state)
{
	struct fixture *f = *state;

	put_old(f);
	strcat(f->init, ".missing");
	assert_int_equal(write_image(f, f->out, true, 2), -ENOENT);
	assert_non_null(strstr(f->log.s, "init-bin.missing: no init binary there"));
	assert_old(f);
	/* not an executable ELF file */
	f->init[strlen(f->init) - 8] = '\0';
	chmod(f->init, 0644);
	assert_int_equal(write_image(f, f->out, true, 2), -ENOEXEC);
	assert_old(f);
}

static void test_missing_module_keeps_old(void **state)
{
	struct fixture *f = *state;
	char path[256];

	put_old(f);
	make_plan(f);
	snprintf(path, sizeof(path), "%s/kernel/lib/c.ko", f->moddir);
	unlink(path);
	assert_true(write_image(f, f->out, true, 2) < 0);
	assert_non_null(strstr(f->log.s, "c.ko"));
	assert_old(f);
}

static void test_unwritable_places(void **state)
{
	struct fixture *f = *state;
	char sub[192];

	/* the output is a directory: the rename fails, the temp file goes */
	mkdir(f->out, 0755);
	assert_true(write_image(f, f->out, true, 2) < 0);
	assert_non_null(strstr(f->log.s, "cannot put the new file in place"));
	assert_no_temp(f);
	/* no such directory: named in the message */
	snprintf(sub, sizeof(sub), "%s/nodir/x.img", f->root);
	assert_int_equal(write_image(f, sub, true, 2), -ENOENT);
	assert_non_null(strstr(f->log.s, "x.img: cannot open the output's directory "));
	assert_non_null(strstr(f->log.s, "/nodir: No such file"));
}

/* ---- the command ---------------------------------------------------------- */

static int run(struct fixture *f, const char *extra1, const char *extra2, const char *extra3)
{
	const char *argv[32] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "-C", f->confdir,
				 "--sets-dir", f->setsdir, "--init", f->init, "-o", f->out };
	int argc = 14;

	if (extra1)
		argv[argc++] = extra1;
	if (extra2)
		argv[argc++] = extra2;
	if (extra3)
		argv[argc++] = extra3;
	optind = 0; /* getopt_long starts afresh */
	return kd_cmd_build(argc, (char **)argv);
}

static void test_command(void **state)
{
	struct fixture *f = *state;
	struct read_entry v[64];
	size_t n;

	assert_int_equal(run(f, NULL, NULL, NULL), 0); /* --generic implied: default.list */
	n = read_image(f->out, v, 64);
	entry(v, n, "usr/lib/modules/9.9.9/kernel/drivers/a.ko");
	free_entries(v, n);
	assert_int_equal(run(f, "--add", "other", NULL), 1);          /* exists */
	assert_int_equal(run(f, "--force", "--add", "no-such-mod"), 1); /* unknown --add */
	assert_int_equal(run(f, "--force", "--set", "nope"), 2);       /* unknown set */
	assert_int_equal(run(f, "--force", "--level", "99"), 2);
	assert_int_equal(run(f, "--force", "--add", "other"), 0);
	n = read_image(f->out, v, 64);
	entry(v, n, "usr/lib/modules/9.9.9/kernel/other.ko");
	entry(v, n, "usr/lib/modules/9.9.9/kernel/lib/c.ko"); /* its soft dependency */
	free_entries(v, n);
}

/* ---- messages of the tests below that need no fixture ---------------------- */

/* The output tests' messages, captured. */
static struct kd_str codec_log;
static const struct kd_log codec_logger = { capture, &codec_log, KD_LOG_DEBUG };


/* ---- the command: compression, formats, microcode ------------------------- */

static void read_all(const char *path, struct kd_buf *b)
{
	assert_int_equal(kd_read_file(NULL, path, b), 0);
}

static void test_command_compress(void **state)
{
	static const struct { const char *name; enum kd_codec comp; } t[] = {
		{ "zstd", KD_CODEC_ZSTD }, { "xz", KD_CODEC_XZ }, { "gzip", KD_CODEC_GZIP },
		{ "lz4", KD_CODEC_LZ4 }, { "none", KD_CODEC_NONE },
	};
	struct fixture *f = *state;
	struct kd_img img;

	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(run(f, "--force", "--compress", t[i].name), 0);
		assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
		assert_int_equal(img.n_segs, 1);
		assert_int_equal(img.segs[0].codec, t[i].comp);
		assert_true(img.segs[0].n_entries > 20);
		kd_img_free(&img);
	}
	assert_int_equal(run(f, "--force", "--compress", "bzip2"), 2);
	assert_int_equal(run(f, "--force", "--compress", "xz"), 0);
	/* levels are the codec's */
	optind = 0;
	{
		const char *argv[] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "--sets-dir",
				       f->setsdir, "--init", f->init, "-o", f->out, "--force",
				       "--compress", "xz", "--level", "0" };

		assert_int_equal(kd_cmd_build(17, (char **)argv), 0);
		optind = 0;
		argv[16] = "10";
		assert_int_equal(kd_cmd_build(17, (char **)argv), 2);
		optind = 0;
		argv[14] = "lz4";
		argv[16] = "12";
		assert_int_equal(kd_cmd_build(17, (char **)argv), 0);
		optind = 0;
		argv[14] = "none";
		argv[16] = "1";
		assert_int_equal(kd_cmd_build(17, (char **)argv), 2);
	}
	assert_int_equal(run(f, "--force", "--format", "tar"), 2);
	assert_int_equal(run(f, "--force", "--microcode", "some"), 2);
}

static void test_format_cpio(void **state)
{
	struct fixture *f = *state;
	struct read_entry v[64];
	struct kd_buf b;
	size_t n;

	assert_int_equal(run(f, "--format", "cpio", NULL), 0);
	read_all(f->out, &b);
	assert_memory_equal(b.data, "070701", 6);
	kd_buf_free(&b);
	n = read_image(f->out, v, 64);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(v[i - 1].path, v[i].path) < 0);
	entry(v, n, "usr/lib/modules/9.9.9/kernel/drivers/a.ko");
	free_entries(v, n);
	assert_int_equal(run(f, "--force", "--format", "cpio --compress"), 2);
	optind = 0;
	{
		const char *argv[] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "--sets-dir",
				       f->setsdir, "--init", f->init, "-o", f->out, "--force",
				       "--format", "cpio", "--compress", "zstd" };

		assert_int_equal(kd_cmd_build(17, (char **)argv), 2);
		optind = 0;
		argv[15] = "--microcode";
		argv[16] = "all";
		assert_int_equal(kd_cmd_build(17, (char **)argv), 2);
		optind = 0;
		argv[16] = "none";
		assert_int_equal(kd_cmd_build(17, (char **)argv), 0);
	}
}

static void test_format_list(void **state)
{
	struct fixture *f = *state;
	struct kd_buf list, mod;
	char dir[256], line[1024], cpio_out[200], where[512];
	struct read_entry v[64];
	size_t n, lines = 0;
	FILE *fp;

	snprintf(cpio_out, sizeof(cpio_out), "%s.cpio", f->out);
	assert_int_equal(run(f, "--format", "list", NULL), 0);
	snprintf(dir, sizeof(dir), "%s.d", f->out);
	read_all(f->out, &list);
	assert_non_null(strstr((char *)list.data, "dir /usr/lib/modules 0755 0 0\n"));
	assert_non_null(strstr((char *)list.data, "slink /lib usr/lib 0777 0 0\n"));
	assert_non_null(strstr((char *)list.data, "nod /dev/console 0600 0 0 c 5 1\n"));
	assert_non_null(strstr((char *)list.data, "file /init "));
	/* every file line names a file holding what the cpio holds */
	optind = 0;
	{
		const char *argv[] = { "build", "-q", "-r", f->root, "-k", "9.9.9", "--sets-dir",
				       f->setsdir, "--init", f->init, "-o", cpio_out,
				       "--format", "cpio" };

		assert_int_equal(kd_cmd_build(14, (char **)argv), 0);
	}
	n = read_image(cpio_out, v, 64);
	fp = fmemopen(list.data, list.size, "r");
	while (fgets(line, sizeof(line), fp)) {
		char type[16], name[256], loc[512];

		if (line[0] == '#')
			continue;
		lines++;
		assert_int_equal(sscanf(line, "%15s %255s", type, name), 2);
		entry(v, n, name + 1);
		if (strcmp(type, "file") == 0) {
			assert_int_equal(sscanf(line, "%*s %*s %511s", loc), 1);
			assert_memory_equal(loc, dir, strlen(dir));
			read_all(loc, &mod);
			assert_int_equal(mod.size, entry(v, n, name + 1)->size);
			assert_memory_equal(mod.data, entry(v, n, name + 1)->data, mod.size);
			kd_buf_free(&mod);
		}
	}
	fclose(fp);
	assert_int_equal(lines, n);
	free_entries(v, n);
	kd_buf_free(&list);
	/* the directory is ours: replaced with --force, refused without */
	assert_int_equal(run(f, "--force", "--format", "list"), 0);
	unlink(f->out);
	assert_int_equal(run(f, "--format", "list", NULL), 1);
	snprintf(where, sizeof(where), "%s/.kindling-list", dir);
	unlink(where);
	assert_int_equal(run(f, "--force", "--format", "list"), 1);
}

static void test_microcode(void **state)
{
	struct fixture *f = *state;
	char dir[192];
	struct kd_img img;
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	bool intel = false, amd = false;

	snprintf(dir, sizeof(dir), "%s/lib/firmware/intel-ucode", f->root);
	fake_mkdirs(dir);
	fake_put(dir, "06-9e-0a", "INTEL-B");
	fake_put(dir, "06-8e-09", "INTEL-A");
	snprintf(dir, sizeof(dir), "%s/lib/firmware/amd-ucode", f->root);
	fake_mkdirs(dir);
	fake_put(dir, "microcode_amd_fam17h.bin", "AMD-17");
	fake_put(dir, "microcode_amd.bin", "AMD-0");
	fake_put(dir, "README", "not microcode");
	assert_int_equal(run(f, "--microcode", "all", NULL), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 2);
	assert_int_equal(img.segs[0].offset, 0);
	assert_int_equal(img.segs[0].codec, KD_CODEC_NONE);
	assert_int_equal(img.segs[1].codec, KD_CODEC_ZSTD);
	kd_cpio_init(&it, NULL, "early", img.segs[0].data, img.segs[0].size, true);
	while (kd_cpio_next(&it, &e) == 1) {
		const char *p = kd_cpio_path(e.name);

		if (strcmp(p, "kernel/x86/microcode/GenuineIntel.bin") == 0) {
			assert_int_equal(e.size, 14);
			assert_memory_equal(e.data, "INTEL-AINTEL-B", 14); /* name order */
			intel = true;
		} else if (strcmp(p, "kernel/x86/microcode/AuthenticAMD.bin") == 0) {
			assert_int_equal(e.size, 11);
			assert_memory_equal(e.data, "AMD-0AMD-17", 11);
			amd = true;
		} else {
			assert_true(strcmp(p, "kernel") == 0 || strcmp(p, "kernel/x86") == 0 ||
				    strcmp(p, "kernel/x86/microcode") == 0);
		}
	}
	assert_true(intel && amd);
	kd_img_free(&img);
	/* auto under -r ROOT: both; none: no early cpio */
	assert_int_equal(run(f, "--force", "--microcode", "auto"), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 2);
	kd_img_free(&img);
	assert_int_equal(run(f, "--force", "--microcode", "none"), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 1);
	kd_img_free(&img);
	/* the config key, and the flag winning over it */
	snprintf(dir, sizeof(dir), "%s/etc/kindling.conf", f->root);
	fake_write(dir, "microcode = none\ncompress = gzip\nlevel = 1\n", 43);
	assert_int_equal(run(f, "--force", NULL, NULL), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 1);
	assert_int_equal(img.segs[0].codec, KD_CODEC_GZIP);
	kd_img_free(&img);
	assert_int_equal(run(f, "--force", "--compress", "lz4"), 0); /* level 1 fits lz4 */
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.segs[0].codec, KD_CODEC_LZ4);
	kd_img_free(&img);
	fake_write(dir, "compress = gzip\nlevel = 12\n", 27);
	assert_int_equal(run(f, "--force", NULL, NULL), 2);
	assert_int_equal(run(f, "--force", "--level", "9"), 0);
	/* another --compress drops the files' level; --format cpio their compress */
	fake_write(dir, "compress = zstd\nlevel = 19\nmicrocode = none\n", 44);
	assert_int_equal(run(f, "--force", "--compress", "gzip"), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.segs[0].codec, KD_CODEC_GZIP);
	kd_img_free(&img);
	assert_int_equal(run(f, "--force", "--microcode", "all"), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 2);
	kd_img_free(&img);
	/* --format cpio drops the files' compress and microcode, not the flags' */
	fake_write(dir, "compress = zstd\nmicrocode = all\n", 32);
	assert_int_equal(run(f, "--force", "--format", "cpio"), 0);
	assert_int_equal(kd_img_open(NULL, f->out, 0, &img), 0);
	assert_int_equal(img.n_segs, 1);
	assert_int_equal(img.segs[0].codec, KD_CODEC_NONE);
	kd_img_free(&img);
}

/* ---- output.c ------------------------------------------------------------- */

static void assert_content(const char *path, const char *text)
{
	struct kd_buf b;

	assert_int_equal(kd_read_file(NULL, path, &b), 0);
	assert_int_equal(b.size, strlen(text));
	assert_memory_equal(b.data, text, b.size);
	kd_buf_free(&b);
}

static void test_output(void **state)
{
	struct fixture *f = *state;
	struct kd_output o;
	struct stat sb;
	char tmp[256];

	/* committed: the bytes, mode 0600, nothing else */
	assert_int_equal(kd_output_open(&codec_logger, &o, f->out, false), 0);
	assert_int_equal(kd_output_write(&o, "NEW", 3), 0);
	assert_int_equal(kd_output_commit(&o), 0);
	kd_output_close(&o);
	assert_content(f->out, "NEW");
	assert_int_equal(stat(f->out, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_no_temp(f);
	/* dropped half-way: the old file as it was, nothing left */
	assert_int_equal(kd_output_open(&codec_logger, &o, f->out, true), 0);
	assert_int_equal(kd_output_write(&o, "HALF", 4), 0);
	kd_output_close(&o);
	assert_content(f->out, "NEW");
	assert_no_temp(f);
	/* without force, a file that appeared while writing is never replaced */
	unlink(f->out);
	assert_int_equal(kd_output_open(&codec_logger, &o, f->out, false), 0);
	assert_int_equal(kd_output_write(&o, "MINE", 4), 0);
	fake_write(f->out, "THEIRS", 6);
	assert_int_equal(kd_output_commit(&o), -EEXIST);
	kd_output_close(&o);
	assert_content(f->out, "THEIRS");
	assert_non_null(strstr(codec_log.s, "initrd.img: already exists (use --force"));
	assert_no_temp(f);
	/* a leftover of a build killed between link and rename is removed */
	snprintf(tmp, sizeof(tmp), "%s", f->out);
	snprintf(strrchr(tmp, '/'), sizeof(tmp) - (size_t)(strrchr(tmp, '/') - tmp),
		 "/.initrd.img.kindling-tmp");
	fake_write(tmp, "STALE", 5);
	assert_int_equal(kd_output_open(&codec_logger, &o, f->out, true), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(kd_output_write(&o, "FORCED", 6), 0);
	assert_int_equal(kd_output_commit(&o), 0);
	kd_output_close(&o);
	assert_content(f->out, "FORCED");
	assert_no_temp(f);
	kd_str_free(&codec_log);
}

/* A second writer into the directory waits for the first's flock. */
static void test_output_lock(void **state)
{
	struct fixture *f = *state;
	char dir[192];
	struct kd_output o;
	int fds[2], dfd;
	struct timespec t0, t1;
	pid_t pid;
	char c;

	snprintf(dir, sizeof(dir), "%s", f->out);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY);
		flock(dfd, LOCK_EX);
		(void)!write(fds[1], "L", 1);
		usleep(300 * 1000);
		_exit(0); /* the lock goes with the process */
	}
	assert_int_equal(read(fds[0], &c, 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kd_output_open(&codec_logger, &o, f->out, true), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* it returned only once the child let go, 300 ms later */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 250);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_non_null(strstr(codec_log.s, "another build is writing into "));
	assert_non_null(strstr(codec_log.s, ": waiting for it"));
	kd_output_close(&o);
	close(fds[0]);
	close(fds[1]);
	kd_str_free(&codec_log);
}

/* kindling update --remove deletes what a build killed while writing really
 * leaves: output.c's named temporary file, which a child makes here as it
 * does where O_TMPFILE cannot be used (no /proc: a tmpfs over it in a
 * private mount namespace), killed with SIGKILL half-way. */
static void test_update_remove_leftover(void **state)
{
	struct fixture *f = *state;
	char boot[128], out[192], tmp[224], *argv[] = {
		"update", "--remove", "9.9.9", "-r", f->root, NULL,
	};
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip(); /* not root: no mount namespace */
	snprintf(boot, sizeof(boot), "%s/boot", f->root);
	snprintf(out, sizeof(out), "%s/initrd.img-9.9.9", boot);
	snprintf(tmp, sizeof(tmp), "%s/.initrd.img-9.9.9.kindling-tmp", boot);
	fake_mkdirs(boot);
	fake_write(out, "OLD IMAGE", 9);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kd_output o;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("none", "/proc", "tmpfs", 0, NULL) < 0)
			_exit(2);
		if (kd_output_open(&codec_logger, &o, out, true) < 0 ||
		    kd_output_write(&o, "HALF", 4) < 0)
			_exit(3);
		raise(SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_content(tmp, "HALF");
	assert_content(out, "OLD IMAGE");
	optind = 0;
	assert_int_equal(kd_cmd_update(5, argv), 0);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(rmdir(boot), 0); /* nothing else is left */
	kd_str_free(&codec_log);
}

/* kindling update builds through kd_build: generic, into ROOT/boot, the
 * configuration applied; a failed build leaves the image as it was. */
static void test_update_builds(void **state)
{
	struct fixture *f = *state;
	char dir[160], out[192];
	char *argv[] = { "update", "-q", "-r", f->root, "-k", "all", NULL };
	struct kd_img img;
	struct stat sb;
	ino_t ino;

	snprintf(dir, sizeof(dir), "%s/etc/kindling/modules-sets", f->root);
	fake_mkdirs(dir);
	fake_put(dir, "test.set", "a\n");
	fake_put(dir, "default.list", "test\n");
	snprintf(dir, sizeof(dir), "%s/boot", f->root);
	fake_mkdirs(dir);
	fake_put(dir, "vmlinuz-9.9.9", "kernel");
	snprintf(out, sizeof(out), "%s/initrd.img-9.9.9", dir);
	optind = 0;
	assert_int_equal(kd_cmd_update(6, argv), 0);
	assert_int_equal(kd_img_open(NULL, out, 0, &img), 0);
	kd_img_free(&img);
	assert_int_equal(stat(out, &sb), 0);
	ino = sb.st_ino;
	/* a module the kernel lacks: exit 1, the image untouched */
	snprintf(dir, sizeof(dir), "%s/etc/kindling.conf", f->root);
	fake_write(dir, "add = no_such_module\n", 21);
	optind = 0;
	assert_int_equal(kd_cmd_update(6, argv), 1);
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_ino, ino);
}

static void test_microcode_vendor(void **state)
{
	FILE *p = popen("grep -m1 '^vendor_id' /proc/cpuinfo", "r");
	char line[128] = "";
	unsigned want = 0;

	(void)state;
	assert_non_null(p);
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	pclose(p);
	if (strstr(line, "GenuineIntel"))
		want = KD_UCODE_INTEL;
	else if (strstr(line, "AuthenticAMD"))
		want = KD_UCODE_AMD;
	assert_int_equal(kd_microcode_host_vendor(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_kept_without_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_init_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_module_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_places, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_compress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_cpio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_microcode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_remove_leftover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_builds, setup, teardown),
		cmocka_unit_test(test_microcode_vendor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
