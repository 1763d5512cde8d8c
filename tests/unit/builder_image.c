// SPDX-License-Identifier: MIT
/* The image: written from a fake module tree, read back with libarchive;
 * metadata, sorting, contents, determinism, and failures that must leave
 * the old image alone.  Also `kindling build` itself (kd_cmd_build). */
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
#include <unistd.h>
#include <zstd.h>

#include "builder.h"
#include "fake_ko.h"
#include "plan.h"

#define MODINFO_A "firmware=fw/a.bin\0firmware=missing.bin\0license=GPL"

struct fixture {
	char root[64];
	char moddir[128], confdir[128], setsdir[128], init[128], out[160];
	struct kd_str log;
	struct kd_ctx *ctx;
	struct kd_plan plan;
};

static void capture(void *data, int prio, const char *file, int line, const char *fn,
		    const char *msg)
{
	(void)prio, (void)file, (void)line, (void)fn;
	kd_str_addz(data, msg);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fake_write(path, text, strlen(text));
}

static void make_tree(struct fixture *f)
{
	static const char init[] = "\x7f" "ELF fake init";
	char fw[256];

	fake_ko(f->moddir, "kernel/drivers/a.ko", MODINFO_A, sizeof(MODINFO_A), NULL);
	fake_ko(f->moddir, "kernel/lib/b.ko.xz", "license=GPL", 12, NULL);
	FAKE_KO(f->moddir, "kernel/lib/c.ko");
	FAKE_KO(f->moddir, "kernel/other.ko");
	put(f->moddir, "modules.dep",
	    "kernel/drivers/a.ko: kernel/lib/b.ko.xz\n"
	    "kernel/lib/b.ko.xz:\n"
	    "kernel/lib/c.ko:\n"
	    "kernel/other.ko:\n");
	put(f->moddir, "modules.alias", "alias pci:v1234* a\nalias other-thing other\n");
	put(f->moddir, "modules.softdep", "softdep a post: c\nsoftdep other pre: c\n");
	put(f->moddir, "modules.builtin", "kernel/fs/builtin1.ko\n");
	put(f->moddir, "modules.order", "kernel/lib/c.ko\nkernel/lib/b.ko\nkernel/drivers/a.ko\n");
	put(f->confdir, "test.conf", "options a opt=1\nblacklist c\nalias my-a a\n");
	snprintf(fw, sizeof(fw), "%s/lib/firmware/fw", f->root);
	fake_mkdirs(fw);
	put(fw, "a.bin", "FIRMWARE");
	put(f->setsdir, "test.set", "a\n");
	put(f->setsdir, "default.list", "test\n");
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
	char cmd[256];

	kd_plan_free(&f->plan);
	kd_ctx_free(f->ctx);
	kd_str_free(&f->log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void make_plan(struct fixture *f)
{
	const char *dirs[] = { f->confdir, NULL };
	struct kd_ctx_opts o = { .root = f->root, .kver = "9.9.9", .conf_dirs = dirs,
				 .log_fn = capture, .log_data = &f->log,
				 .log_prio = KD_LOG_DEBUG };
	struct kd_wants w = { 0 };

	assert_int_equal(kd_ctx_new(&o, &f->ctx), 0);
	assert_int_equal(kd_wants_add(&w, "a", "set test", 0), 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
