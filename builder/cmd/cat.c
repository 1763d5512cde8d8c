// SPDX-License-Identifier: MIT
/* kindling cat IMAGE PATH: one entry's data from any initramfs, on stdout. */
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

static int cat_entry(const char *image, const char *path)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	const struct kd_cpio_entry *e;
	struct kd_imgfiles f;
	int err, rc = 0;

	if (kd_imgfiles_open(&log, image, &f) < 0)
		return 1;
	e = kd_imgfiles_contents(&f, path);
	if (e == NULL) {
		KD_ERR(&log, "%s: no entry '%s' in the image", image, path);
		rc = 1;
	} else if (S_ISDIR(e->mode)) {
		KD_ERR(&log, "%s: '%s' is a directory", image, path);
		rc = 1;
	} else if ((err = kd_write_all(STDOUT_FILENO, e->data, e->size)) < 0) {
		KD_ERR(&log, "%s: writing '%s' to stdout: %s", image, path, strerror(-err));
		rc = 1;
	}
	kd_imgfiles_free(&f);
	return rc;
}

int kd_cmd_cat(int argc, char **argv)
{
	int rc = kd_cli_parse_fixed(argc, argv, 2, usage);

	if (rc >= 0)
		return rc;
	return cat_entry(argv[1], argv[2]);
}
