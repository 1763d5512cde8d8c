// SPDX-License-Identifier: MIT
/*
 * kindling check IMAGE: a static boot-readiness check of a kindling image
 * against the target kernel's files on this machine (verify/ does it; this
 * prints its report).  Every problem is one line "problem: ..." naming the
 * module, symbol or file; exit 0 when there is none, 1 otherwise, 2 for bad
 * usage or an image that cannot be read.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "verify/verify.h"

enum { OPT_ROOTSPEC = KD_OPT_FIRST_FREE, OPT_ROOTFSTYPE, OPT_SYSROOT };

static void usage(FILE *f)
{
	fputs("usage: kindling check IMAGE [--root SPEC] [--rootfstype TYPE] [-k KVER]\n"
	      "                      [-r ROOT] [--sysroot DIR] [--moddir DIR] [-C DIR]...\n"
	      "                      [-q] [-v]\n"
	      "Checks statically that a kindling image can boot this machine with its\n"
	      "kernel: the kernel's files exist, every module's dependencies and undefined\n"
	      "symbols are satisfied by the kernel or another module in the image, the\n"
	      "root SPEC's drivers and filesystem module are in the image (SPEC: --root,\n"
	      "else the image's default root=), the firmware the modules name is there.\n"
	      "Prints one 'problem: ...' line per problem (warnings: 'warning: ...').\n"
	      "-k KVER checks against another kernel than the image's; -r ROOT reads the\n"
	      "kernel's files under ROOT (--root is the root SPEC here, not ROOT);\n"
	      "--sysroot DIR detects the root chain from DIR's sys/ and dev/disk/.\n"
	      "Exit status: 0 ready, 1 problems found, 2 bad usage or unreadable image.\n", f);
}

/* Problems always; the rest (ok, warnings, the heading) unless -q. */
static void print_line(void *data, enum kd_check_kind kind, const char *text)
{
	static const char *const prefix[] = {
		[KD_CHECK_NOTE] = "", [KD_CHECK_OK] = "ok: ", [KD_CHECK_WARNING] = "warning: ",
		[KD_CHECK_PROBLEM] = "problem: ",
	};
	const struct kd_cli *cli = data;

	if (kind == KD_CHECK_PROBLEM || cli->verbosity > 0)
		printf("%s%s\n", prefix[kind], text);
}

/* -1 to go on, else the exit code. */
static int parse_args(struct kd_cli *cli, struct kd_check_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOTSPEC },
		{ "rootfstype", required_argument, NULL, OPT_ROOTFSTYPE },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "kver", required_argument, NULL, 'k' },
		{ "config-dir", required_argument, NULL, 'C' },
		{ "moddir", required_argument, NULL, KD_OPT_MODDIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		if (opt == OPT_ROOTSPEC)
			o->root_spec = optarg;
		else if (opt == OPT_ROOTFSTYPE)
			o->fstype = optarg;
		else if (opt == OPT_SYSROOT)
			o->sysroot = optarg;
		else if ((r = kd_cli_option(cli, opt, optarg)) < 0)
			return 2;
		else if (r == 0) {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o->image = argv[optind];
	return -1;
}

int kd_cmd_check(int argc, char **argv)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	struct kd_check_opts o = { .report = print_line };
	struct kd_check_counts n;
	struct kd_cli cli;
	int rc;

	kd_cli_init(&cli, "kindling check");
	rc = parse_args(&cli, &o, argc, argv);
	if (rc >= 0)
		return rc;
	o.ctx = *kd_cli_ctx_opts(&cli);
	o.report_data = &cli;
	if (kd_check_image(&log, &o, &n) < 0)
		return 2;
	if (n.problems)
		printf("%s: %u problem%s: not ready to boot\n", o.image, n.problems,
		       n.problems == 1 ? "" : "s");
	else
		printf("%s: ready to boot (%u warning%s)\n", o.image, n.warnings,
		       n.warnings == 1 ? "" : "s");
	rc = n.problems ? 1 : 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("kindling: check: writing the report");
		rc = 1;
	}
	return rc;
}
