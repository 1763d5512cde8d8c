// SPDX-License-Identifier: MIT
/* kindling cat: one entry's data from any initramfs, on stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "inspect/inspect.h"

static void usage(FILE *f)
{
	fputs("usage: kindling cat IMAGE PATH\n"
	      "Writes the data of the entry PATH (leading '/' or './' optional) to\n"
	      "stdout: a file's contents, a symlink's target.  When several segments\n"
	      "hold PATH, the last one wins, as when the kernel unpacks them.  A\n"
	      "hard link without data of its own gives its group's data.\n", f);
}

struct found {
	const struct kd_img_segment *seg;
	struct kd_cpio_entry e;
	bool any;
};

static int find_in_segment(const struct kd_log *log, const struct kd_img_segment *s,
			   const char *want, struct found *f)
{
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	int r;

	kd_cpio_init(&it, log, s->label, s->data, s->size, s->codec == KD_CODEC_NONE);
	while ((r = kd_cpio_next(&it, &e)) > 0) {
		if (strcmp(kd_cpio_path(e.name), want) != 0)
			continue;
		f->seg = s;
		f->e = e;
		f->any = true;
	}
	return r;
}

/* newc stores a hard-linked file's data once, in the group's last entry. */
static void resolve_hardlink(const struct kd_log *log, struct found *f)
{
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;

	if (!S_ISREG(f->e.mode) || f->e.nlink < 2 || f->e.size != 0)
		return;
	kd_cpio_init(&it, log, f->seg->label, f->seg->data, f->seg->size,
		     f->seg->codec == KD_CODEC_NONE);
	while (kd_cpio_next(&it, &e) > 0)
		if (e.ino == f->e.ino && e.devmajor == f->e.devmajor &&
		    e.devminor == f->e.devminor && S_ISREG(e.mode) && e.size > 0)
			f->e = e;
}

static int write_all(const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cat_entry(const char *image, const char *path)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	const char *want = kd_cpio_path(path);
	struct found f = { 0 };
	struct kd_img img;
	int err = 0, rc = 0;

	if (kd_img_open(&log, image, 0, &img) < 0)
		return 1;
	for (size_t i = 0; i < img.n_segs && err == 0; i++)
		err = find_in_segment(&log, &img.segs[i], want, &f);
	if (err == 0 && !f.any) {
		KD_ERR(&log, "%s: no entry '%s' in the image", image, path);
		rc = 1;
	} else if (err == 0 && S_ISDIR(f.e.mode)) {
		KD_ERR(&log, "%s: '%s' is a directory", image, path);
		rc = 1;
	} else if (err == 0) {
		resolve_hardlink(&log, &f);
		err = write_all(f.e.data, f.e.size);
		if (err < 0)
			KD_ERR(&log, "%s: writing '%s' to stdout: %s", image, path,
			       strerror(-err));
	}
	kd_img_free(&img);
	return err < 0 ? 1 : rc;
}

int kd_cmd_cat(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	return cat_entry(argv[1], argv[2]);
}
