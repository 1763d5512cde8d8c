// SPDX-License-Identifier: MIT
/* The init's log: the exact kernel log path, prefixes, levels, rate limit. */
#include "unit.h"

#include <fcntl.h>

#include "init.h"
#include "init_test.h"

static void test_kmsg_path(void **state)
{
	(void)state;
	/* tiny-initramfs wrote "/dev/ksmg" and lost every message */
	assert_string_equal(KI_KMSG_PATH, "/dev/kmsg");
	assert_string_equal(KI_DEVKMSG_SYSCTL, "/proc/sys/kernel/printk_devkmsg");
}

static void test_kmsg_lines(void **state)
{
	struct tlog tl;

	(void)state;
	tl_open(&tl, true);
	ki_log(&tl.log, KI_INFO, "hello %d", 42);
	ki_log(&tl.log, KI_ERR, "cannot mount %s", "/dev/vda");
	ki_log(&tl.log, KI_DEBUG, "not shown");
	assert_string_equal(tl_text(&tl),
			    "<6>kindling: hello 42\n<3>kindling: cannot mount /dev/vda\n");
	tl.log.debug = true;
	ki_log(&tl.log, KI_DEBUG, "shown");
	/* quiet is the kernel's filter on /dev/kmsg: the line is still written */
	tl.log.quiet = true;
	ki_log(&tl.log, KI_INFO, "kept");
	assert_non_null(strstr(tl_text(&tl), "<6>kindling: shown\n<6>kindling: kept\n"));
	tl_close(&tl);
}

static void test_console(void **state)
{
	struct tlog tl;
	const char *text;

	(void)state;
	tl_open(&tl, false);
	ki_log(&tl.log, KI_WARN, "on the console");
	text = tl_text(&tl);
	assert_int_equal(text[0], '[');
	assert_non_null(strstr(text, "] kindling: on the console\n"));
	assert_null(strchr(text, '<'));
	tl.log.quiet = true;
	ki_log(&tl.log, KI_INFO, "dropped when quiet");
	ki_log(&tl.log, KI_ERR, "errors stay");
	text = tl_text(&tl);
	assert_null(strstr(text, "dropped"));
	assert_non_null(strstr(text, "errors stay"));
	tl_close(&tl);
}

static void test_long_line(void **state)
{
	struct tlog tl;
	char big[3000];
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tl_open(&tl, true);
	ki_log(&tl.log, KI_INFO, "%s", big);
	n = strlen(tl_text(&tl));
	assert_true(n <= 1001);
	assert_int_equal(tl.text[n - 1], '\n');
	tl_close(&tl);
}

static void test_unlimit(void **state)
{
	char path[] = "/tmp/kindling-sysctl.XXXXXX", buf[64];
	struct ki_log log;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ratelimit\n", 10), 10);
	close(fd);
	ki_log_init(&log);
	ki_log_unlimit(&log, path);
	assert_string_equal(log.devkmsg, "ratelimit");
	ki_read_file(path, buf, sizeof(buf));
	assert_memory_equal(buf, "on\n", 3);
	ki_log_restore(&log, path);
	ki_read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "ratelimit\n");
	assert_string_equal(log.devkmsg, "");
	/* already on: nothing to restore */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "on\n", 3), 3);
	close(fd);
	ki_log_unlimit(&log, path);
	assert_string_equal(log.devkmsg, "");
	unlink(path);
}

static void test_now(void **state)
{
	double a = ki_now(), b;

	(void)state;
	ki_sleep_ms(20);
	b = ki_now();
	assert_true(b - a >= 0.019 && b - a < 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_path), cmocka_unit_test(test_kmsg_lines),
		cmocka_unit_test(test_console),   cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_unlimit),   cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
