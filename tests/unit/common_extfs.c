// SPDX-License-Identifier: MIT
/*
 * common/extfs.h: libblkid's ext2/ext3/ext4 rule on the feature words
 * (tests/unit/init_probe.c checks the same rule against blkid on images
 * made by mkfs).
 */
#include "unit.h"

#include "common/extfs.h"

#define HAS_JOURNAL KC_EXT_COMPAT_HAS_JOURNAL
#define FILETYPE 0x0002
#define RECOVER 0x0004
#define META_BG 0x0010
#define EXTENTS 0x0040
#define BIT64 0x0080
#define FLEX_BG 0x0200
#define SPARSE_SUPER 0x0001
#define LARGE_FILE 0x0002
#define HUGE_FILE 0x0008
#define METADATA_CSUM 0x0400

static void test_types(void **state)
{
	(void)state;
	/* what mkfs.ext2, mkfs.ext3 and mkfs.ext4 make */
	assert_string_equal(kc_ext_type(0, FILETYPE, SPARSE_SUPER | LARGE_FILE, 0), "ext2");
	assert_string_equal(kc_ext_type(HAS_JOURNAL, FILETYPE, SPARSE_SUPER | LARGE_FILE, 0),
			    "ext3");
	assert_string_equal(kc_ext_type(HAS_JOURNAL, FILETYPE | EXTENTS | BIT64 | FLEX_BG,
					SPARSE_SUPER | LARGE_FILE | HUGE_FILE | METADATA_CSUM, 0),
			    "ext4");
	/* one feature ext3 lacks is enough, journal or not, incompat or ro_compat */
	assert_string_equal(kc_ext_type(0, EXTENTS, 0, 0), "ext4");
	assert_string_equal(kc_ext_type(0, FLEX_BG, 0, 0), "ext4");
	assert_string_equal(kc_ext_type(0, 0, HUGE_FILE, 0), "ext4");
	assert_string_equal(kc_ext_type(HAS_JOURNAL, 0, METADATA_CSUM, 0), "ext4");
	/* ext3 knows recover and meta_bg; ext2 only meta_bg */
	assert_string_equal(kc_ext_type(HAS_JOURNAL, FILETYPE | RECOVER | META_BG, 0, 0), "ext3");
	assert_string_equal(kc_ext_type(0, FILETYPE | META_BG, 0, 0), "ext2");
	assert_null(kc_ext_type(0, RECOVER, 0, 0));
	assert_string_equal(kc_ext_type(0, 0, 0, 0), "ext2");
}

static void test_journal_and_test_fs(void **state)
{
	(void)state;
	/* an external journal before anything else */
	assert_string_equal(kc_ext_type(0, KC_EXT_INCOMPAT_JOURNAL_DEV, 0, 0), "jbd");
	assert_string_equal(kc_ext_type(HAS_JOURNAL, KC_EXT_INCOMPAT_JOURNAL_DEV | EXTENTS, 0,
					KC_EXT_FLAGS_TEST_FILESYS), "jbd");
	/* test_fs makes any of them ext4dev */
	assert_string_equal(kc_ext_type(0, 0, 0, KC_EXT_FLAGS_TEST_FILESYS), "ext4dev");
	assert_string_equal(kc_ext_type(HAS_JOURNAL, EXTENTS, 0, KC_EXT_FLAGS_TEST_FILESYS),
			    "ext4dev");
	assert_string_equal(kc_ext_type(0, RECOVER, 0, KC_EXT_FLAGS_TEST_FILESYS), "ext4dev");
	/* other s_flags bits (signed/unsigned directory hash) change nothing */
	assert_string_equal(kc_ext_type(HAS_JOURNAL, 0, 0, 0x0003), "ext3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_journal_and_test_fs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
