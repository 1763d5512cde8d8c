// SPDX-License-Identifier: MIT
/* base/: the ordered list, the line reader and its reporter, growth, strings,
 * whole-file writes. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder_test.h"

struct item {
	int value;
};

static void test_olist_order_and_uniqueness(void **state)
{
	struct kd_olist l;
	struct item *it;
	bool added;

	(void)state;
	kd_olist_init(&l, sizeof(struct item));
	for (int i = 0; i < 100; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i % 40);
		it = kd_olist_add(&l, key, &added);
		assert_int_equal(added, i < 40);
		if (added)
			it->value = i;
	}
	assert_int_equal(l.n, 40);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(((struct item *)kd_olist_at(&l, i))->value, (int)i);
	assert_int_equal(kd_olist_find(&l, "k7"), 7);
	assert_int_equal(kd_olist_find(&l, "nope"), -1);
	assert_null(kd_olist_get(&l, "nope"));
	assert_int_equal(((struct item *)kd_olist_get(&l, "k39"))->value, 39);
	kd_olist_free(&l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.elem, sizeof(struct item));
}

static void test_lines_plain_and_joined(void **state)
{
	const char text[] = "one two\n# c\n\nlast \\\n  joined\\x\nend";
	struct kd_lines l;
	char *s;

	(void)state;
	kd_lines_init(&l, "f.conf", text, strlen(text), false);
	assert_string_equal(kd_lines_next(&l), "one two");
	assert_int_equal(l.no, 1);
	assert_string_equal(kd_lines_next(&l), "# c");
	assert_string_equal(kd_lines_next(&l), "");
	assert_string_equal(kd_lines_next(&l), "last \\");
	assert_int_equal(l.no, 4);
	kd_lines_free(&l);

	kd_lines_init(&l, "f.conf", text, strlen(text), true);
	for (int i = 0; i < 3; i++)
		kd_lines_next(&l);
	s = kd_lines_next(&l);
	/* kmod: the joined line is numbered by its last physical line */
	assert_string_equal(s, "last   joinedx");
	assert_int_equal(l.no, 5);
	assert_string_equal(kd_lines_next(&l), "end");
	assert_int_equal(l.no, 6);
	assert_null(kd_lines_next(&l));
	kd_lines_free(&l);

	/* a backslash that ends the text is dropped */
	kd_lines_init(&l, "f.conf", "a\\\\b \\", 6, true);
	assert_string_equal(kd_lines_next(&l), "a\\b ");
	assert_null(kd_lines_next(&l));
	kd_lines_free(&l);
}

static void test_words_and_trim(void **state)
{
	char line[] = "  alias\tfoo-bar   baz  ";
	char *p = line, *w;

	(void)state;
	w = kd_word(&p);
	assert_string_equal(w, "alias");
	assert_string_equal(kd_trim(p), "foo-bar   baz");
	assert_string_equal(kd_word(&p), "foo-bar");
	assert_string_equal(kd_word(&p), "baz");
	assert_null(kd_word(&p));
	assert_null(kd_word(&p));
}

static void test_line_report_names_file_and_line(void **state)
{
	const char text[] = "a\nb\n";
	struct kd_str got = { 0 };
	struct kd_log log = { capture, &got, KD_LOG_DEBUG };
	struct kd_lines l;

	(void)state;
	kd_lines_init(&l, "/etc/x.conf", text, strlen(text), false);
	kd_lines_next(&l);
	kd_lines_next(&l);
	KD_LINE_ERR(&l, &log, "bad word '%s'", "b");
	assert_string_equal(got.s, "/etc/x.conf line 2: bad word 'b'\n");
	kd_lines_free(&l);
	kd_str_free(&got);
}

static void test_grow_and_strings(void **state)
{
	int *v = NULL;
	size_t cap = 0;
	struct kd_str s = { 0 };
	char *t;

	(void)state;
	for (size_t n = 0; n < 1000; n++) {
		KD_GROW(v, n, cap);
		v[n] = (int)n;
	}
	assert_true(cap >= 1000);
	assert_int_equal(v[999], 999);
	free(v);
	t = kd_str_take(&s);
	assert_string_equal(t, "");
	free(t);
	kd_str_printf(&s, "%s-%d", "x", 42);
	kd_str_addz(&s, "!");
	t = kd_str_take(&s);
	assert_string_equal(t, "x-42!");
	assert_null(s.s);
	free(t);
	t = kd_xasprintf("%05d", 7);
	assert_string_equal(t, "00007");
	free(t);
	t = kd_xstrndup("abcdef", 3);
	assert_string_equal(t, "abc");
	free(t);
}

static void test_strv(void **state)
{
	struct kd_strv l = { 0 };
	char word[] = "abcdef";

	(void)state;
	kd_strv_add(&l, word);
	word[0] = 'X'; /* a copy */
	kd_strv_addn(&l, "ghijkl", 3);
	for (int i = 0; i < 20; i++)
		kd_strv_add(&l, "more");
	assert_int_equal(l.n, 22);
	assert_string_equal(l.v[0], "abcdef");
	assert_string_equal(l.v[1], "ghi");
	assert_null(l.v[22]);
	kd_strv_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
}

/* kd_write_all: everything reaches the file; a bad fd is -errno. */
static void test_write_all(void **state)
{
	char path[] = "/tmp/kd-base-XXXXXX";
	static char big[1 << 20];
	struct kd_buf b;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 31);
	assert_int_equal(kd_write_all(fd, big, sizeof(big)), 0);
	assert_int_equal(kd_write_all(fd, "", 0), 0);
	close(fd);
	assert_int_equal(kd_read_file(NULL, path, &b), 0);
	assert_int_equal(b.size, sizeof(big));
	assert_memory_equal(b.data, big, sizeof(big));
	kd_buf_free(&b);
	unlink(path);
	assert_int_equal(kd_write_all(-1, "x", 1), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_olist_order_and_uniqueness),
		cmocka_unit_test(test_lines_plain_and_joined),
		cmocka_unit_test(test_words_and_trim),
		cmocka_unit_test(test_line_report_names_file_and_line),
		cmocka_unit_test(test_grow_and_strings),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
