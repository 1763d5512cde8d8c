// SPDX-License-Identifier: MIT
/* kindling build: argv -> struct kd_build_opts -> kd_build -> exit code. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "build/build.h"

enum {
	OPT_GENERIC = KD_OPT_FIRST_FREE, OPT_SET, OPT_ADD, OPT_OMIT, OPT_FORCE, OPT_INIT,
	OPT_SETS_DIR, OPT_ROOT_DEFAULT, OPT_PRINT_PLAN, OPT_LEVEL, OPT_COMPRESS, OPT_FORMAT,
	OPT_MICROCODE, OPT_CONFIG, OPT_NO_CONFIG, OPT_DEFAULT_CMDLINE, OPT_ROOT_TIMEOUT,
	OPT_HOOK, OPT_HOOKS_DIR, OPT_HOST_ONLY, OPT_SYSROOT, OPT_ROOT_DEVICE,
};

struct args {
	struct kd_cli cli;
	struct kd_build_opts o;
	struct kd_strv sets, adds, omits, hooks, sets_dirs, hooks_dirs; /* repeated flags */
};

static void usage(FILE *f)
{
	fputs("usage: kindling build [-k KVER] [-r ROOT] [--moddir DIR] [-C DIR]... -o OUTPUT\n"
	      "         [--generic] [--set NAME]... [--add MOD]... [--omit MOD]... [--force]\n"
	      "         [--init PATH] [--sets-dir DIR]... [--root-default SPEC] [--print-plan]\n"
	      "Writes an initramfs for kernel KVER: the modules of the sets and --add\n"
	      "modules with their dependencies, the load plan and the init.\n"
	      "  --generic         the sets listed in default.list (the default with -r,\n"
	      "                    --moddir; see --host-only)\n"
	      "  --set NAME        the modules of modules-sets/NAME.set\n"
	      "  --add MOD         a module (or alias) loaded at every boot\n"
	      "  --omit MOD        never put MOD in the image\n"
	      "  --force           replace OUTPUT if it exists\n"
	      "  --init PATH       the init binary (default: the installed one, else\n"
	      "                    'init' next to kindling)\n"
	      "  --sets-dir DIR    look for sets in DIR first\n"
	      "  --root-default S  root= to use when the kernel command line has none\n"
	      "  --print-plan      print the load plan (-o is then optional)\n"
	      "  --compress C      zstd (default), xz, gzip, lz4 or none\n"
	      "  --level N         the compressor's level: zstd 1-22 (3; 6 under 16 MiB),\n"
	      "                    xz 0-9 (6),\n"
	      "                    gzip 1-9 (6), lz4 1-12 (9)\n"
	      "  --format F        image (default): the boot loader's initrd;\n"
	      "                    cpio: one uncompressed archive (built-in initramfs);\n"
	      "                    list: a gen_init_cpio list, its files in OUTPUT.d/\n"
	      "  --microcode M     early microcode first in the image: auto (default:\n"
	      "                    all for a generic image or -r ROOT, else this CPU's\n"
	      "                    vendor), all, none\n"
	      "  --config FILE     read FILE instead of ROOT/etc/kindling.conf and\n"
	      "                    ROOT/etc/kindling.conf.d/*.conf (command-line flags win)\n"
	      "  --no-config       read no configuration file\n"
	      "  --default-cmdline TEXT  kernel command-line defaults (the real one wins)\n"
	      "  --root-timeout N  seconds the init waits for the root device\n"
	      "  --hook NAME       add image hook NAME (NAME.hook: see README, Image hooks)\n"
	      "  --hooks-dir DIR   look for hooks in DIR first\n"
	      "  --host-only       the modules this machine needs (kindling detect), the\n"
	      "                    default without -r, --moddir, --set, --add, --generic\n"
	      "  --sysroot DIR     detect from DIR's sys/, proc/, etc/fstab, dev/disk\n"
	      "  --root-device DEV the root device for --host-only (default: the mounted /)\n",
	      f);
}

/* A number from min to max, else the message names the flag: -1. */
static int number(const char *flag, const char *arg, long min, long max, const char *expected,
		  int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end || v < min || v > max) {
		fprintf(stderr, "kindling build: %s %s: expected %s\n", flag, arg, expected);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* 0: taken, -1: bad (message printed). */
static int option(struct args *a, int opt, char *arg)
{
	struct kd_build_opts *o = &a->o;

	switch (opt) {
	case 'o':
		o->output = arg;
		return 0;
	case OPT_GENERIC:
		o->generic = true;
		return 0;
	case OPT_HOST_ONLY:
		o->host_only = true;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_PRINT_PLAN:
		o->print_plan = true;
		return 0;
	case OPT_NO_CONFIG:
		o->no_config = true;
		return 0;
	case OPT_INIT:
		o->init = arg;
		return 0;
	case OPT_ROOT_DEFAULT:
		o->root_default = arg;
		return 0;
	case OPT_DEFAULT_CMDLINE:
		o->default_cmdline = arg;
		return 0;
	case OPT_COMPRESS:
		o->compress = arg;
		return 0;
	case OPT_FORMAT:
		o->format = arg;
		return 0;
	case OPT_MICROCODE:
		o->microcode = arg;
		return 0;
	case OPT_CONFIG:
		o->config = arg;
		return 0;
	case OPT_SYSROOT:
		o->sysroot = arg;
		return 0;
	case OPT_ROOT_DEVICE:
		o->root_device = arg;
		return 0;
	case OPT_SET:
		kd_strv_add(&a->sets, arg);
		return 0;
	case OPT_ADD:
		kd_strv_add(&a->adds, arg);
		return 0;
	case OPT_OMIT:
		kd_strv_add(&a->omits, arg);
		return 0;
	case OPT_HOOK:
		kd_strv_add(&a->hooks, arg);
		return 0;
	case OPT_SETS_DIR:
		kd_strv_add(&a->sets_dirs, arg);
		return 0;
	case OPT_HOOKS_DIR:
		kd_strv_add(&a->hooks_dirs, arg);
		return 0;
	case OPT_LEVEL:
		return number("--level", arg, 0, 99, "a number (zstd 1-22, xz 0-9, gzip 1-9, "
			      "lz4 1-12)", &o->level);
	case OPT_ROOT_TIMEOUT:
		return number("--root-timeout", arg, 0, 86400, "0 to 86400", &o->root_timeout);
	}
	usage(stderr);
	return -1;
}

/* 0: go on, 1: done (help), 2: usage error. */
static int parse_args(struct args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "generic", no_argument, NULL, OPT_GENERIC },
		{ "set", required_argument, NULL, OPT_SET },
		{ "add", required_argument, NULL, OPT_ADD },
		{ "omit", required_argument, NULL, OPT_OMIT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "sets-dir", required_argument, NULL, OPT_SETS_DIR },
		{ "root-default", required_argument, NULL, OPT_ROOT_DEFAULT },
		{ "print-plan", no_argument, NULL, OPT_PRINT_PLAN },
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "compress", required_argument, NULL, OPT_COMPRESS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "microcode", required_argument, NULL, OPT_MICROCODE },
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
		{ "default-cmdline", required_argument, NULL, OPT_DEFAULT_CMDLINE },
		{ "root-timeout", required_argument, NULL, OPT_ROOT_TIMEOUT },
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "hooks-dir", required_argument, NULL, OPT_HOOKS_DIR },
		{ "host-only", no_argument, NULL, OPT_HOST_ONLY },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "root-device", required_argument, NULL, OPT_ROOT_DEVICE },
		{ 0 },
	};
	int opt;

	kd_cli_init(&a->cli, "kindling build");
	kd_build_opts_init(&a->o);
	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "o:h", longopts, NULL)) != -1) {
		int r = kd_cli_option(&a->cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (opt == '?' || option(a, opt, optarg) < 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "kindling build: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (a->o.output == NULL && !a->o.print_plan) {
		fputs("kindling build: -o OUTPUT is required\n", stderr);
		usage(stderr);
		return 2;
	}
	a->o.db = a->cli.opts;
	a->o.db.log = kd_cli_log(a->cli.verbosity);
	a->o.sets = (const char *const *)a->sets.v;
	a->o.adds = (const char *const *)a->adds.v;
	a->o.omits = (const char *const *)a->omits.v;
	a->o.hooks = (const char *const *)a->hooks.v;
	a->o.sets_dirs = (const char *const *)a->sets_dirs.v;
	a->o.hooks_dirs = (const char *const *)a->hooks_dirs.v;
	return 0;
}

int kd_cmd_build(int argc, char **argv)
{
	struct args a = { 0 };
	int rc = parse_args(&a, argc, argv);

	if (rc == 0)
		rc = kd_build_exit(kd_build(&a.o));
	else if (rc == 1)
		rc = 0; /* --help */
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1; /* the plan was not all written */
	kd_strv_free(&a.sets);
	kd_strv_free(&a.adds);
	kd_strv_free(&a.omits);
	kd_strv_free(&a.hooks);
	kd_strv_free(&a.sets_dirs);
	kd_strv_free(&a.hooks_dirs);
	return rc;
}
