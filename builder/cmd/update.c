// SPDX-License-Identifier: MIT
/*
 * kindling update: (re)build the images of installed kernels where Debian
 * expects them, like update-initramfs -u.  A kernel is installed when it has
 * ROOT/lib/modules/KVER and ROOT/boot/vmlinuz-KVER; its image is
 * ROOT/boot/initrd.img-KVER.  Each image is made by kd_cmd_build with a
 * constructed argv (no shell), so it is written to a temporary file and
 * renamed over the old one: a failed build leaves the previous image as it
 * was.  The distro hooks (hooks/distro/) call this command.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "build/build.h"
#include "image/image.h"

enum { OPT_REMOVE = KD_OPT_FIRST_FREE };

struct update_args {
	const char *kver;   /* NULL: the newest installed, "all": every one */
	const char *root;   /* "" for / */
	const char *output; /* instead of ROOT/boot/initrd.img-KVER (one kernel) */
	const char *remove; /* --remove KVER */
	int verbosity;      /* as struct kd_cli: 0 quiet, 1 normal, 2+ verbose */
};

static void usage(FILE *f)
{
	fputs("usage: kindling update [-k KVER|all] [-r ROOT] [-o OUTPUT] [-v] [-q]\n"
	      "       kindling update --remove KVER [-r ROOT] [-o OUTPUT]\n"
	      "(Re)builds ROOT/boot/initrd.img-KVER for installed kernels (those with\n"
	      "ROOT/lib/modules/KVER and ROOT/boot/vmlinuz-KVER).\n"
	      "  -k KVER        that kernel (default: the newest installed one)\n"
	      "  -k all         every installed kernel\n"
	      "  -r ROOT        read the kernels and the configuration under ROOT and\n"
	      "                 write ROOT/boot/...\n"
	      "  -o OUTPUT      write (or with --remove delete) OUTPUT instead of\n"
	      "                 ROOT/boot/initrd.img-KVER (one kernel only)\n"
	      "  --remove KVER  delete that kernel's image and the temporary file a killed\n"
	      "                 build may have left beside it\n"
	      "  -v, -q         more or less output (passed on to kindling build)\n"
	      "The image is generic unless the configuration asks for host-only.\n", f);
}

/* 0: go on, 1: done (--help), 2: usage error. */
static int parse_args(struct update_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kver", required_argument, NULL, 'k' },
		{ "root", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "remove", required_argument, NULL, OPT_REMOVE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	a->root = "";
	a->verbosity = 1;
	while ((opt = getopt_long(argc, argv, "k:r:o:vqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			a->kver = optarg;
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case OPT_REMOVE:
			a->remove = optarg;
			break;
		case 'v':
			a->verbosity++;
			break;
		case 'q':
			a->verbosity = 0;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kindling update: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (a->remove && a->kver) {
		fputs("kindling update: --remove and -k cannot be combined\n", stderr);
		return 2;
	}
	if (a->output && a->kver && strcmp(a->kver, "all") == 0) {
		fputs("kindling update: -o names one image: it cannot be used with -k all\n",
		      stderr);
		return 2;
	}
	if (a->remove && (*a->remove == '\0' || strchr(a->remove, '/'))) {
		fprintf(stderr, "kindling update: --remove '%s': not a kernel release\n", a->remove);
		return 2;
	}
	if (a->kver && (*a->kver == '\0' || strchr(a->kver, '/'))) {
		fprintf(stderr, "kindling update: -k '%s': not a kernel release\n", a->kver);
		return 2;
	}
	return 0;
}

static char *boot_image(const struct update_args *a, const char *kver)
{
	struct kd_str s = { 0 };

	if (a->output)
		return kd_xstrdup(a->output);
	kd_str_printf(&s, "%s/boot/initrd.img-%s", a->root, kver);
	return s.s;
}

/* Is FMT (with ROOT and KVER) a file of type MODE (S_IFREG, S_IFDIR)? */
static bool has(const char *fmt, const char *root, const char *kver, mode_t mode)
{
	struct kd_str p = { 0 };
	struct stat sb;
	bool ok;

	kd_str_printf(&p, fmt, root, kver);
	ok = p.s && stat(p.s, &sb) == 0 && (sb.st_mode & S_IFMT) == mode;
	kd_str_free(&p);
	return ok;
}

static int by_version(const void *x, const void *y)
{
	return strverscmp(*(char *const *)x, *(char *const *)y);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The installed kernels, oldest first (version order, as linux-version sort). */
static int installed_kernels(const struct update_args *a, char ***out, size_t *n_out)
{
	struct kd_str dir = { 0 };
	char **v = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int err = 0;

	kd_str_printf(&dir, "%s/lib/modules", a->root);
	d = dir.s ? opendir(dir.s) : NULL;
	if (d == NULL) {
		err = -errno;
		fprintf(stderr, "kindling update: cannot list the installed kernels: %s: %s\n",
			dir.s ? dir.s : "lib/modules", strerror(errno));
		kd_str_free(&dir);
		return err;
	}
	while ((e = readdir(d)) != NULL) {
		void *p;

		if (e->d_name[0] == '.' ||
		    !has("%s/lib/modules/%s", a->root, e->d_name, S_IFDIR) ||
		    !has("%s/boot/vmlinuz-%s", a->root, e->d_name, S_IFREG))
			continue;
		p = realloc(v, (n + 1) * sizeof(*v));
		if (p == NULL) {
			err = -ENOMEM;
			break;
		}
		v = p;
		v[n++] = kd_xstrdup(e->d_name);
	}
	closedir(d);
	kd_str_free(&dir);
	if (err < 0) {
		strv_free(v, n);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_version);
	*out = v;
	*n_out = n;
	return 0;
}

/* The image mode: generic unless the configuration asks for host-only.
 * Reading the files here also reports a bad configuration once, before any
 * build.  -EINVAL on a bad file (the errors are printed). */
static int config_hostonly(const struct update_args *a, bool *hostonly)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_ERR);
	struct kd_buildconf c;
	int err;

	kd_buildconf_init(&c);
	err = kd_buildconf_load(&log, &c, a->root, NULL);
	/* kindling.conf's hostonly = yes; unset or no: generic, the safe
	 * choice for an image built while another kernel runs */
	*hostonly = err == 0 && c.hostonly == 1;
	kd_buildconf_free(&c);
	return err;
}

/* kindling build -k KVER -o OUTPUT --force [-r ROOT] --generic|--host-only [-v|-q] */
static int build_one(const struct update_args *a, const char *kver, bool hostonly)
{
	char *out = boot_image(a, kver);
	char *argv[16];
	int argc = 0, rc;

	argv[argc++] = (char *)"build";
	argv[argc++] = (char *)"-k";
	argv[argc++] = (char *)kver;
	argv[argc++] = (char *)"-o";
	argv[argc++] = out;
	argv[argc++] = (char *)"--force";
	if (*a->root) {
		argv[argc++] = (char *)"-r";
		argv[argc++] = (char *)a->root;
	}
	argv[argc++] = (char *)(hostonly ? "--host-only" : "--generic");
	if (a->verbosity == 0)
		argv[argc++] = (char *)"-q";
	for (int v = 1; v < a->verbosity && v < 4; v++)
		argv[argc++] = (char *)"-v";
	argv[argc] = NULL;

	if (a->verbosity > 0)
		fprintf(stderr, "kindling update: generating %s for kernel %s (%s)\n", out, kver,
			hostonly ? "host-only" : "generic");
	optind = 0; /* kd_cmd_build runs getopt_long afresh */
	rc = kd_cmd_build(argc, argv);
	if (rc != 0)
		fprintf(stderr, "kindling update: kernel %s: building %s failed (exit %d); "
			"the previous image, if any, is unchanged\n", kver, out, rc);
	free(out);
	return rc;
}

/* Delete OUT and the temporary file a killed build may have left beside it
 * (image/output.c's named one: DIR/.BASE.kindling-tmp). */
static int remove_one(const struct update_args *a, const char *kver)
{
	char *out = boot_image(a, kver);
	char *tmp = kd_output_tmp_path(out);
	int rc = 0;

	if (unlink(out) == 0) {
		if (a->verbosity > 0)
			fprintf(stderr, "kindling update: removed %s\n", out);
	} else if (errno != ENOENT) {
		fprintf(stderr, "kindling update: cannot remove %s: %s\n", out, strerror(errno));
		rc = 1;
	} else if (a->verbosity > 1) {
		fprintf(stderr, "kindling update: %s does not exist: nothing to remove\n", out);
	}
	if (unlink(tmp) == 0) {
		if (a->verbosity > 1)
			fprintf(stderr, "kindling update: removed the leftover %s\n", tmp);
	} else if (errno != ENOENT) {
		fprintf(stderr, "kindling update: cannot remove %s: %s\n", tmp, strerror(errno));
		rc = 1;
	}
	free(tmp);
	free(out);
	return rc;
}

int kd_cmd_update(int argc, char **argv)
{
	struct update_args a = { 0 };
	struct kd_str failed = { 0 };
	char **kernels = NULL;
	size_t n = 0, i;
	bool hostonly;
	int rc;

	rc = parse_args(&a, argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (a.remove)
		return remove_one(&a, a.remove);
	if (config_hostonly(&a, &hostonly) < 0)
		return 2;

	if (a.kver && strcmp(a.kver, "all") != 0) {
		/* an explicit kernel needs only its modules: the kernel image may
		 * live elsewhere (kernel-install, postinst.d with another dir) */
		if (!has("%s/lib/modules/%s", a.root, a.kver, S_IFDIR)) {
			fprintf(stderr, "kindling update: kernel %s is not installed: no %s/lib/"
				"modules/%s\n", a.kver, a.root, a.kver);
			return 1;
		}
		return build_one(&a, a.kver, hostonly) == 0 ? 0 : 1;
	}
	if (installed_kernels(&a, &kernels, &n) < 0)
		return 1;
	if (n == 0) {
		fprintf(stderr, "kindling update: no installed kernel (no %s/lib/modules/KVER "
			"with a %s/boot/vmlinuz-KVER)\n", a.root, a.root);
		return 1;
	}
	rc = 0;
	/* without -k: the newest kernel only, as update-initramfs -u */
	for (i = a.kver ? 0 : n - 1; i < n; i++) {
		if (build_one(&a, kernels[i], hostonly) == 0)
			continue;
		kd_str_printf(&failed, "%s%s", failed.len ? " " : "", kernels[i]);
		rc = 1;
	}
	if (rc)
		fprintf(stderr, "kindling update: failed for kernel(s): %s\n", failed.s);
	kd_str_free(&failed);
	strv_free(kernels, n);
	return rc;
}
