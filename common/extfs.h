/* SPDX-License-Identifier: MIT */
/*
 * ext2, ext3 or ext4: which one a superblock is, by libblkid's rules
 * (superblocks/ext.c), from its feature words alone.  One rule for the
 * init's probe and the builder's look at the root, so that the image is
 * built for the type the boot will mount.  Header only, C11.
 *
 * The superblock is 1 KiB into the device; its fields are little endian
 * at the offsets below, counted from the superblock's start.
 */
#ifndef KINDLING_COMMON_EXTFS_H
#define KINDLING_COMMON_EXTFS_H

#include <stddef.h>
#include <stdint.h>

#define KC_EXT_SB_OFFSET 1024
#define KC_EXT_MAGIC 0xef53       /* le16 at KC_EXT_OFF_MAGIC */

#define KC_EXT_OFF_MAGIC 0x38
#define KC_EXT_OFF_COMPAT 0x5c    /* s_feature_compat */
#define KC_EXT_OFF_INCOMPAT 0x60  /* s_feature_incompat */
#define KC_EXT_OFF_RO_COMPAT 0x64 /* s_feature_ro_compat */
#define KC_EXT_OFF_UUID 0x68      /* 16 bytes */
#define KC_EXT_OFF_LABEL 0x78     /* 16 bytes, NUL-padded */
#define KC_EXT_OFF_FLAGS 0x160    /* s_flags */

#define KC_EXT_COMPAT_HAS_JOURNAL 0x0004
#define KC_EXT_INCOMPAT_JOURNAL_DEV 0x0008
#define KC_EXT_FLAGS_TEST_FILESYS 0x0004
/* The features ext2 and ext3 know; any other makes it ext4. */
#define KC_EXT2_RO_COMPAT_SUPP 0x0007 /* sparse_super, large_file, btree_dir */
#define KC_EXT2_INCOMPAT_SUPP 0x0012  /* filetype, meta_bg */
#define KC_EXT3_INCOMPAT_SUPP 0x0016  /* filetype, recover, meta_bg */

/*
 * blkid's TYPE: "jbd" (an external journal, not mountable), "ext4dev" (a
 * test file system), "ext4", "ext3" or "ext2"; NULL for the odd volume
 * that needs recovery but has no journal, which libblkid calls none.
 */
static inline const char *kc_ext_type(uint32_t compat, uint32_t incompat, uint32_t ro_compat,
				      uint32_t flags)
{
	if (incompat & KC_EXT_INCOMPAT_JOURNAL_DEV)
		return "jbd";
	if (flags & KC_EXT_FLAGS_TEST_FILESYS)
		return "ext4dev";
	if ((ro_compat & ~KC_EXT2_RO_COMPAT_SUPP) || (incompat & ~KC_EXT3_INCOMPAT_SUPP))
		return "ext4";
	if (compat & KC_EXT_COMPAT_HAS_JOURNAL)
		return "ext3";
	return incompat & ~KC_EXT2_INCOMPAT_SUPP ? NULL : "ext2";
}

#endif
