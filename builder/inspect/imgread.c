// SPDX-License-Identifier: MIT
/*
 * Splitting an initramfs into its segments, the way the kernel's unpack
 * loop (init/initramfs.c) walks it:
 *
 *   - zero bytes between segments are skipped;
 *   - "07070" on a 4-byte boundary starts an uncompressed cpio archive,
 *     which ends with its TRAILER!!! entry (early microcode is one);
 *   - anything else must be the magic of a compressed stream; it is
 *     decoded, and the next segment starts where the stream ends.
 *
 * Every segment is decoded into memory and its cpio archives validated
 * entry by entry, so that a caller gets either the whole image, checked,
 * or one message naming the image, the segment and what is wrong.  The
 * decoded bytes of all segments together are capped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "codec/codec.h"

void kd_img_iter_init(struct kd_img_iter *it, const struct kd_log *log, const char *name,
		      const void *buf, size_t size, uint64_t max_decoded)
{
	memset(it, 0, sizeof(*it));
	it->log = log;
	it->name = name;
	it->buf = buf;
	it->size = size;
	it->max_decoded = max_decoded ? max_decoded : KD_IMG_MAX_DECODED;
}

void kd_img_segment_free(struct kd_img_segment *seg)
{
	free(seg->owned);
	free(seg->label);
	memset(seg, 0, sizeof(*seg));
}

const char *kd_img_segment_format(const struct kd_img_segment *seg)
{
	return seg->codec == KD_CODEC_NONE ? "cpio" : kd_codec_name(seg->codec);
}

/* "07070": newc ("070701", "070702") and the old formats cpio.c refuses. */
static bool is_cpio(const unsigned char *p, size_t n)
{
	return n >= 5 && memcmp(p, "07070", 5) == 0;
}

static void set_label(struct kd_img_iter *it, struct kd_img_segment *seg)
{
	seg->label = kd_xasprintf("%s: segment %zu (%s at offset %llu)", it->name,
				  seg->index + 1, kd_img_segment_format(seg),
				  (unsigned long long)seg->offset);
}

void kd_img_segment_entries(struct kd_cpio_iter *it, const struct kd_log *log,
			    const struct kd_img_segment *seg)
{
	kd_cpio_init(it, log, seg->label, seg->data, seg->size, seg->codec == KD_CODEC_NONE);
}

/* Validate every entry, count them; a raw archive's length is found here. */
static int count_entries(struct kd_img_iter *it, struct kd_img_segment *seg)
{
	struct kd_cpio_iter c;
	struct kd_cpio_entry e;
	int r;

	kd_img_segment_entries(&c, it->log, seg);
	while ((r = kd_cpio_next(&c, &e)) > 0)
		seg->n_entries++;
	if (r < 0)
		return r;
	if (seg->codec == KD_CODEC_NONE)
		seg->size = seg->in_size = c.pos;
	seg->n_archives = c.archives;
	return 0;
}

static int unknown_data(struct kd_img_iter *it, size_t pos)
{
	const unsigned char *p = it->buf + pos;
	size_t left = it->size - pos;

	if (left >= 2 && ((p[0] == 0xc7 && p[1] == 0x71) ||
			  (p[0] == 0x71 && p[1] == 0xc7))) {
		KD_ERR(it->log, "%s: at offset %zu: a binary cpio archive, a format the "
		       "kernel does not read (only newc)", it->name, pos);
		return -EINVAL;
	}
	KD_ERR(it->log, "%s: at offset %zu: neither a cpio archive nor a known "
	       "compressed stream starts here (bytes %02x %02x %02x %02x)", it->name, pos,
	       p[0], left > 1 ? p[1] : 0, left > 2 ? p[2] : 0, left > 3 ? p[3] : 0);
	return -EINVAL;
}

static int decode_segment(struct kd_img_iter *it, struct kd_img_segment *seg)
{
	struct kd_buf out;
	size_t used, left = (size_t)(it->max_decoded - it->decoded);
	int err;

	err = kd_decode(it->log, seg->label, seg->codec, it->buf + seg->offset,
			it->size - seg->offset, left, &out, &used);
	if (err < 0)
		return err;
	seg->owned = out.data;
	seg->data = out.data;
	seg->size = out.size;
	seg->in_size = used;
	it->decoded += out.size;
	return 0;
}

static int load_segment(struct kd_img_iter *it, struct kd_img_segment *seg)
{
	size_t pos = it->pos;
	int err;

	seg->offset = pos;
	seg->index = it->index;
	seg->codec = kd_codec_detect(it->buf + pos, it->size - pos);
	if (seg->codec == KD_CODEC_NONE && !is_cpio(it->buf + pos, it->size - pos))
		return unknown_data(it, pos);
	set_label(it, seg);
	if (seg->codec == KD_CODEC_NONE) {
		if (pos % 4 != 0) {
			KD_ERR(it->log, "%s: cpio archive at offset %zu does not start on "
			       "a 4-byte boundary (the kernel would not read it)", it->name,
			       pos);
			return -EINVAL;
		}
		seg->data = it->buf + pos;
		seg->size = it->size - pos;
	} else {
		err = decode_segment(it, seg);
		if (err < 0)
			return err;
	}
	return count_entries(it, seg);
}

int kd_img_next(struct kd_img_iter *it, struct kd_img_segment *seg)
{
	int err;

	memset(seg, 0, sizeof(*seg));
	if (it->failed)
		return -EINVAL;
	while (it->pos < it->size && it->buf[it->pos] == 0) {
		it->pos++;
		it->padding++;
	}
	if (it->pos == it->size)
		return 0;
	err = load_segment(it, seg);
	if (err < 0) {
		kd_img_segment_free(seg);
		it->failed = true;
		return err;
	}
	it->pos += seg->in_size;
	it->index++;
	return 1;
}

int kd_img_parse(const struct kd_log *log, const char *name, const void *buf, size_t size,
		 uint64_t max_decoded, struct kd_img *img)
{
	struct kd_img_iter it;
	struct kd_img_segment seg;
	int r;

	memset(img, 0, sizeof(*img));
	kd_img_iter_init(&it, log, name, buf, size, max_decoded);
	while ((r = kd_img_next(&it, &seg)) > 0) {
		KD_GROW(img->segs, img->n_segs, img->cap_segs);
		img->segs[img->n_segs++] = seg;
	}
	img->padding = it.padding;
	img->decoded = it.decoded;
	if (r == 0 && img->n_segs == 0) {
		KD_ERR(log, "%s: no cpio archive in it (empty or only zero bytes)", name);
		r = -EINVAL;
	}
	if (r < 0)
		kd_img_free(img);
	return r;
}

int kd_img_open(const struct kd_log *log, const char *path, uint64_t max_decoded,
		struct kd_img *img)
{
	struct kd_buf file;
	int err;

	memset(img, 0, sizeof(*img));
	err = kd_read_file(log, path, &file);
	if (err == -ENOENT)
		KD_ERR(log, "%s: no such file", path);
	if (err < 0)
		return err;
	err = kd_img_parse(log, path, file.data, file.size, max_decoded, img);
	if (err < 0) {
		kd_buf_free(&file);
		return err;
	}
	img->file = file;
	return 0;
}

void kd_img_free(struct kd_img *img)
{
	for (size_t i = 0; i < img->n_segs; i++)
		kd_img_segment_free(&img->segs[i]);
	free(img->segs);
	kd_buf_free(&img->file);
	memset(img, 0, sizeof(*img));
}
