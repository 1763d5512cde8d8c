// SPDX-License-Identifier: MIT
/*
 * kindling update: (re)build the images of installed kernels where Debian
 * expects them, like update-initramfs -u.  A kernel is installed when it has
 * ROOT/lib/modules/KVER and ROOT/boot/vmlinuz-KVER; its image is
 * ROOT/boot/initrd.img-KVER.  Each image is made by kd_build (build/), as
 * `kindling build -k KVER -o IMAGE --force` would make it, so it is written
 * to a temporary file and renamed over the old one: a failed build leaves
 * the previous image as it was.  The distro hooks (hooks/distro/) call this
 * command.
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
	if (a->output)
		return kd_xstrdup(a->output);
	return kd_xasprintf("%s/boot/initrd.img-%s", a->root, kver);
}

/* Is FMT (with ROOT and KVER) a file of type MODE (S_IFREG, S_IFDIR)? */
static bool has(const char *fmt, const char *root, const char *kver, mode_t mode)
{
	char *p = kd_xasprintf(fmt, root, kver);
	struct stat sb;
	bool ok = stat(p, &sb) == 0 && (sb.st_mode & S_IFMT) == mode;

	free(p);
	return ok;
}

static int by_version(const void *x, const void *y)
{
	return strverscmp(*(char *const *)x, *(char *const *)y);
}

/* The installed kernels, oldest first (version order, as linux-version sort). */
static int installed_kernels(const struct update_args *a, struct kd_strv *out)
{
	char *dir = kd_xasprintf("%s/lib/modules", a->root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int err;

	if (d == NULL) {
		err = -errno;
		fprintf(stderr, "kindling update: cannot list the installed kernels: %s: %s\n",
			dir, strerror(errno));
		free(dir);
		return err;
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    has("%s/lib/modules/%s", a->root, e->d_name, S_IFDIR) &&
		    has("%s/boot/vmlinuz-%s", a->root, e->d_name, S_IFREG))
			kd_strv_add(out, e->d_name);
	closedir(d);
	free(dir);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_version);
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

/* As kindling build -k KVER -o IMAGE --force [-r ROOT] --generic|--host-only
 * [-v|-q]; the exit code kindling build would give. */
static int build_one(const struct update_args *a, const char *kver, bool hostonly)
{
	char *out = boot_image(a, kver);
	struct kd_build_opts o;
	int rc;

	kd_build_opts_init(&o);
	o.db.kver = kver;
	o.db.root = *a->root ? a->root : NULL;
	o.db.log = kd_cli_log(a->verbosity);
	o.output = out;
	o.force = true;
	o.generic = !hostonly;
	o.host_only = hostonly;
	if (a->verbosity > 0)
		fprintf(stderr, "kindling update: generating %s for kernel %s (%s)\n", out, kver,
			hostonly ? "host-only" : "generic");
	rc = kd_build_exit(kd_build(&o));
	if (rc != 0)
		fprintf(stderr, "kindling update: kernel %s: building %s failed (exit %d); "
			"the previous image, if any, is unchanged\n", kver, out, rc);
	free(out);
	return rc;
}

/* Unlink path, saying so; 1 when it is there and cannot go. */
static int remove_file(const struct update_args *a, const char *path, bool leftover)
{
	if (unlink(path) == 0) {
		if (a->verbosity > (leftover ? 1 : 0))
			fprintf(stderr, "kindling update: removed %s%s\n",
				leftover ? "the leftover " : "", path);
		return 0;
	}
	if (errno != ENOENT) {
		fprintf(stderr, "kindling update: cannot remove %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!leftover && a->verbosity > 1)
		fprintf(stderr, "kindling update: %s does not exist: nothing to remove\n", path);
	return 0;
}

/* Delete OUT and the temporary file a killed build may have left beside it
 * (image/output.c's named one: DIR/.BASE.kindling-tmp). */
static int remove_one(const struct update_args *a, const char *kver)
{
	char *out = boot_image(a, kver), *tmp = kd_output_tmp_path(out);
	int rc = remove_file(a, out, false) | remove_file(a, tmp, true);

	free(tmp);
	free(out);
	return rc;
}

int kd_cmd_update(int argc, char **argv)
{
	struct update_args a = { 0 };
	struct kd_str failed = { 0 };
	struct kd_strv kernels = { 0 };
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
	if (installed_kernels(&a, &kernels) < 0)
		return 1;
	if (kernels.n == 0) {
		fprintf(stderr, "kindling update: no installed kernel (no %s/lib/modules/KVER "
			"with a %s/boot/vmlinuz-KVER)\n", a.root, a.root);
		return 1;
	}
	rc = 0;
	/* without -k: the newest kernel only, as update-initramfs -u */
	for (size_t i = a.kver ? 0 : kernels.n - 1; i < kernels.n; i++) {
		if (build_one(&a, kernels.v[i], hostonly) == 0)
			continue;
		kd_str_printf(&failed, "%s%s", failed.len ? " " : "", kernels.v[i]);
		rc = 1;
	}
	if (rc)
		fprintf(stderr, "kindling update: failed for kernel(s): %s\n", failed.s);
	kd_str_free(&failed);
	kd_strv_free(&kernels);
	return rc;
}
