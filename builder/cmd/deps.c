// SPDX-License-Identifier: MIT
/* kindling deps: the load plan of each name, as modprobe --show-depends. */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>

#include "cmd/cmd.h"

static void usage(FILE *f)
{
	fputs("usage: kindling deps [-k KVER] [-r ROOT] [--moddir DIR] [-C DIR]... "
	      "[--cmdline TEXT] NAME|ALIAS...\n"
	      "Prints, for each name, the modules modprobe would load, in order, as\n"
	      "'modprobe --show-depends' does. MOD.param= options are taken from\n"
	      "/proc/cmdline like modprobe does, unless --cmdline gives the text.\n", f);
}

static void print_steps(struct kd_ctx *ctx, const struct kd_step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *path;

		switch (s[i].kind) {
		case KD_STEP_INSTALL:
			printf("install %s %s\n", s[i].install_cmd, s[i].options);
			break;
		case KD_STEP_BUILTIN:
			printf("builtin %s\n", kd_db_mod(kd_ctx_db(ctx), s[i].mod)->name);
			break;
		case KD_STEP_INSMOD:
			path = kd_module_fullpath(ctx, s[i].mod);
			printf("insmod %s %s\n", path, s[i].options);
			free(path);
			break;
		}
	}
}

static int show_one(struct kd_ctx *ctx, const char *name)
{
	struct kd_lookup l;

	kd_lookup(ctx, name, &l);
	if (l.n == 0) {
		fprintf(stderr, "kindling: module %s not found in directory %s\n", name,
			kd_ctx_moddir(ctx));
		return 1;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct kd_step *steps;
		size_t n;

		/* a blacklisted module (1) has no steps */
		kd_probe_steps(ctx, l.insts[i], NULL, &steps, &n);
		print_steps(ctx, steps, n);
		kd_steps_free(steps, n);
	}
	kd_lookup_free(&l);
	return 0;
}

int kd_cmd_deps(int argc, char **argv)
{
	struct kd_cli cli;
	struct kd_buf cmdline = { 0 };
	struct kd_ctx *ctx;
	int rc = 0;

	kd_cli_init(&cli, "kindling deps");
	rc = kd_cli_parse_plain(&cli, argc, argv, usage);
	if (rc >= 0)
		return rc;
	rc = 0;
	/* modprobe applies MOD.param= of the running kernel's command line */
	if (cli.opts.cmdline == NULL && kd_read_file(NULL, "/proc/cmdline", &cmdline) == 0)
		cli.opts.cmdline = (const char *)cmdline.data;
	if (kd_cli_open(&cli, &ctx) < 0) {
		kd_buf_free(&cmdline);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (show_one(ctx, argv[i]) != 0)
			rc = 1;
	fflush(stdout);
	kd_ctx_free(ctx);
	kd_buf_free(&cmdline);
	return rc;
}
