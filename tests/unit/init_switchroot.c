// SPDX-License-Identifier: MIT
/* Freeing the initramfs without crossing mounts; mount option parsing. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "init.h"
#include "init_test.h"

static void make_tree(const char *root)
{
	assert_int_equal(ts_sh("mkdir -p %1$s/a/b/c %1$s/d %1$s/keep && echo x > %1$s/a/b/c/f && "
			       "echo y > %1$s/d/g && ln -s /etc/passwd %1$s/link && "
			       "ln -s . %1$s/a/loop && mkfifo %1$s/fifo", root), 0);
}

static void test_free_tree(void **state)
{
	char root[] = "/tmp/kindling-free.XXXXXX";
	struct stat st;
	unsigned count = 0;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	make_tree(root);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(ki_free_tree(fd, st.st_dev, &count), 0);
	/* a b c f d g keep link loop fifo */
	assert_int_equal(count, 10);
	close(fd);
	assert_int_equal(rmdir(root), 0); /* empty now */
	/* the symlink's target was not followed */
	assert_int_equal(stat("/etc/passwd", &st), 0);
	ts_rm_tree(root);
}

static void test_free_stops_at_mounts(void **state)
{
	char root[] = "/tmp/kindling-free.XXXXXX", path[256];
	struct stat st;
	unsigned count = 0;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	make_tree(root);
	snprintf(path, sizeof(path), "%s/keep", root);
	if (mount("tmpfs", path, "tmpfs", 0, "size=64k") < 0) {
		ts_rm_tree(root);
		skip(); /* not root: cannot mount */
	}
	ts_put(root, "keep/precious", "z\n");
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(ki_free_tree(fd, st.st_dev, &count), 0);
	assert_int_equal(count, 9);
	close(fd);
	snprintf(path, sizeof(path), "%s/keep/precious", root);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/keep", root);
	assert_int_equal(umount(path), 0);
	ts_rm_tree(root);
}

static void test_mount_opts(void **state)
{
	unsigned long flags = MS_RDONLY;
	char data[64];

	(void)state;
	assert_int_equal(ki_mount_opts("noatime,commit=7", &flags, data, sizeof(data)), 0);
	assert_int_equal(flags, MS_RDONLY | MS_NOATIME);
	assert_string_equal(data, "commit=7");
	flags = MS_RDONLY;
	assert_int_equal(ki_mount_opts("rw,nosuid,data=journal,defaults,errors=remount-ro",
				       &flags, data, sizeof(data)), 0);
	assert_int_equal(flags, MS_NOSUID);
	assert_string_equal(data, "data=journal,errors=remount-ro");
	flags = 0;
	assert_int_equal(ki_mount_opts(NULL, &flags, data, sizeof(data)), 0);
	assert_string_equal(data, "");
	assert_int_equal(ki_mount_opts("subvol=@,compress=zstd,ro", &flags, data, 8), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_tree),
		cmocka_unit_test(test_free_stops_at_mounts),
		cmocka_unit_test(test_mount_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
