// SPDX-License-Identifier: MIT
/* common/modname.h: kmod's module-name and alias rules, and their bounds. */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "common/modname.h"

static void test_modname(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(kc_modname_normalize("snd-hda-intel", out, sizeof(out)), 13);
	assert_string_equal(out, "snd_hda_intel");
	/* the name ends at the first dot: a file name gives its module's */
	assert_int_equal(kc_modname_normalize("nf-nat.ko.xz", out, sizeof(out)), 6);
	assert_string_equal(out, "nf_nat");
	assert_int_equal(kc_modname_normalize("a.b-c", out, sizeof(out)), 1);
	assert_string_equal(out, "a");
	assert_int_equal(kc_modname_normalize(".ko", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(kc_modname_normalize("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* brackets mean nothing in a name (kmod's modname_normalize) */
	assert_int_equal(kc_modname_normalize("a-[b-c]", out, sizeof(out)), 7);
	assert_string_equal(out, "a_[b_c]");
	assert_int_equal(kc_modname_normalize("ext4", out, sizeof(out)), 4);
	assert_string_equal(out, "ext4");
}

static void test_modname_bounds(void **state)
{
	char out[8], in[5001], big[4096], buf[] = "usb-storage.ko";

	(void)state;
	/* cut to the buffer, the whole length returned as snprintf does */
	assert_int_equal(kc_modname_normalize("dm-crypt-x", out, 4), 10);
	assert_string_equal(out, "dm_");
	assert_int_equal(kc_modname_normalize("abcdefg", out, 8), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(kc_modname_normalize("abcdefgh", out, 8), 8);
	assert_string_equal(out, "abcdefg");
	memset(out, 'X', sizeof(out));
	assert_int_equal(kc_modname_normalize("a-b", out, 1), 3);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'X');
	assert_int_equal(kc_modname_normalize("a-b", out, 0), 3);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'X');
	/* longer than kmod's PATH_MAX buffer */
	memset(in, '-', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(kc_modname_normalize(in, big, sizeof(big)), 5000);
	assert_int_equal(strlen(big), sizeof(big) - 1);
	assert_int_equal(strspn(big, "_"), sizeof(big) - 1);
	/* in place */
	assert_int_equal(kc_modname_normalize(buf, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "usb_storage");
}

static void test_alias(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(kc_alias_normalize("pci:v00008086d*sv*sd*bc01sc06i01*", out,
					    sizeof(out)), 0);
	assert_string_equal(out, "pci:v00008086d*sv*sd*bc01sc06i01*");
	assert_int_equal(kc_alias_normalize("usb-storage", out, sizeof(out)), 0);
	assert_string_equal(out, "usb_storage");
	/* a class keeps its ranges, and what follows it is normalised again */
	assert_int_equal(kc_alias_normalize("a-[x-z]-c", out, sizeof(out)), 0);
	assert_string_equal(out, "a_[x-z]_c");
	assert_int_equal(kc_alias_normalize("char-major-[0-9]*-[1-3]", out, sizeof(out)), 0);
	assert_string_equal(out, "char_major_[0-9]*_[1-3]");
	assert_int_equal(kc_alias_normalize("[-]", out, sizeof(out)), 0);
	assert_string_equal(out, "[-]");
	/* no nesting: a '[' inside a class is one of its characters */
	assert_int_equal(kc_alias_normalize("a[b[c-d]e-f", out, sizeof(out)), 0);
	assert_string_equal(out, "a[b[c-d]e_f");
	/* dots are an alias's own */
	assert_int_equal(kc_alias_normalize("fs-ext4.x", out, sizeof(out)), 0);
	assert_string_equal(out, "fs_ext4.x");
	assert_int_equal(kc_alias_normalize("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_alias_unbalanced(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(kc_alias_normalize("]", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("a]b", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("a-b]", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("[a]]", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("[", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("a[b-c", out, sizeof(out)), -EINVAL);
	assert_int_equal(kc_alias_normalize("a[b]-[c", out, sizeof(out)), -EINVAL);
}

static void test_alias_bounds(void **state)
{
	char out[8], in[5001], big[4096], buf[] = "usb-storage";

	(void)state;
	/* both paths: without anything to change, and with */
	assert_int_equal(kc_alias_normalize("abc", out, 4), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(kc_alias_normalize("abcd", out, 4), -ENAMETOOLONG);
	assert_int_equal(kc_alias_normalize("ab-", out, 4), 0);
	assert_string_equal(out, "ab_");
	assert_int_equal(kc_alias_normalize("ab-d", out, 4), -ENAMETOOLONG);
	assert_int_equal(kc_alias_normalize("[a-b]", out, 4), -ENAMETOOLONG);
	assert_int_equal(kc_alias_normalize("", out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(kc_alias_normalize("", out, 0), -ENAMETOOLONG);
	/* the first problem met wins */
	assert_int_equal(kc_alias_normalize("a]-cd", out, 2), -ENAMETOOLONG);
	assert_int_equal(kc_alias_normalize("]a-cd", out, 2), -EINVAL);
	/* longer than kmod's PATH_MAX buffer: refused, not cut */
	memset(in, '-', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(kc_alias_normalize(in, big, sizeof(big)), -ENAMETOOLONG);
	assert_int_equal(kc_alias_normalize(in, in, sizeof(in)), 0);
	assert_int_equal(strspn(in, "_"), sizeof(in) - 1);
	/* in place */
	assert_int_equal(kc_alias_normalize(buf, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "usb_storage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modname),
		cmocka_unit_test(test_modname_bounds),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_alias_unbalanced),
		cmocka_unit_test(test_alias_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
