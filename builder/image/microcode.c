// SPDX-License-Identifier: MIT
/*
 * Early microcode.  The kernel applies CPU microcode before anything else
 * runs by looking, very early, for kernel/x86/microcode/GenuineIntel.bin or
 * AuthenticAMD.bin in an uncompressed cpio at the start of the initrd
 * (arch/x86/kernel/cpu/microcode, find_cpio_data()); it scans that leading
 * archive only, never a compressed one.  The files are what Debian's
 * intel-microcode and amd64-microcode packages install, concatenated the way
 * initramfs-tools and dracut do it: every file in /lib/firmware/intel-ucode,
 * and every /lib/firmware/amd-ucode/microcode_amd*.bin, in name order.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image.h"

unsigned kd_microcode_host_vendor(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	unsigned v = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "vendor_id", 9) == 0) {
			if (strstr(line, "GenuineIntel"))
				v = KD_UCODE_INTEL;
			else if (strstr(line, "AuthenticAMD"))
				v = KD_UCODE_AMD;
			break;
		}
	fclose(f);
	return v;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir matching pattern, in name order, concatenated. */
static int concat_dir(struct kd_ctx *ctx, const char *dir, const char *pattern,
		      struct kd_str *out, size_t *n_files)
{
	DIR *d = opendir(dir);
	struct kd_strv names = { 0 };
	struct dirent *de;
	int err = 0;

	*n_files = 0;
	if (d == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && fnmatch(pattern, de->d_name, 0) == 0)
			kd_strv_add(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char *path = kd_path_join(dir, names.v[i]);
		struct stat sb;
		struct kd_buf b;

		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			err = kd_read_file(kd_ctx_log(ctx), path, &b);
			if (err == 0) {
				kd_str_add(out, (const char *)b.data, b.size);
				kd_buf_free(&b);
				(*n_files)++;
			}
		}
		free(path);
		if (err < 0)
			break;
	}
	kd_strv_free(&names);
	return err;
}

static int add_vendor(struct kd_ctx *ctx, struct kd_entries *out, const char *sub,
		      const char *pattern, const char *bin)
{
	char *dir = kd_xasprintf("%s/lib/firmware/%s", kd_ctx_root(ctx), sub), *path, *bytes;
	struct kd_str data = { 0 };
	size_t n = 0;
	int err = concat_dir(ctx, dir, pattern, &data, &n);

	if (err < 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: cannot read the microcode: %s", dir, strerror(-err));
		goto out;
	}
	if (n == 0) {
		KD_INFO(kd_ctx_log(ctx), "no %s microcode in %s (Debian: install %s)", bin, dir,
			strcmp(sub, "intel-ucode") == 0 ? "intel-microcode" : "amd64-microcode");
		goto out;
	}
	KD_DBG(kd_ctx_log(ctx), "microcode: %zu files of %s, %zu bytes", n, dir, data.len);
	path = kd_xasprintf("kernel/x86/microcode/%s", bin);
	n = data.len;
	bytes = kd_str_take(&data);
	err = kd_entries_add(out, path, S_IFREG | 0644, bytes, n, bytes);
	free(path);
out:
	kd_str_free(&data);
	free(dir);
	return err;
}

int kd_microcode_entries(struct kd_ctx *ctx, unsigned mask, struct kd_entries *out)
{
	int err;

	if (mask & KD_UCODE_AMD) {
		err = add_vendor(ctx, out, "amd-ucode", "microcode_amd*.bin", "AuthenticAMD.bin");
		if (err < 0)
			return err;
	}
	if (mask & KD_UCODE_INTEL)
		return add_vendor(ctx, out, "intel-ucode", "*", "GenuineIntel.bin");
	return 0;
}
