// SPDX-License-Identifier: MIT
/* kindling modinfo: a module's .modinfo fields, by name or path. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "codec/codec.h"

static void usage(FILE *f)
{
	fputs("usage: kindling modinfo [-k KVER] [-r ROOT] [--moddir DIR] [-F FIELD] "
	      "NAME|PATH...\n"
	      "Prints the fields of each module's .modinfo section (compressed modules\n"
	      "too); with -F only that field's values.  A name is resolved like\n"
	      "modprobe resolves it; an argument with a '/' is a file.\n", f);
}

static void print_fields(const struct kd_modinfo *mi, const char *field)
{
	for (size_t i = 0; i < mi->n; i++) {
		if (field) {
			if (strcmp(mi->keys[i], field) == 0)
				printf("%s\n", mi->vals[i]);
			continue;
		}
		printf("%-15s %s\n", mi->keys[i][0] ? mi->keys[i] : "(empty)", mi->vals[i]);
	}
}

static int show_file(struct kd_ctx *ctx, const char *path, const char *name,
		     const char *field)
{
	struct kd_buf b;
	struct kd_modinfo mi = { 0 };
	int err = kd_module_read(kd_ctx_log(ctx), path, &b);

	if (err < 0)
		return 1;
	err = kd_elf_modinfo(ctx, path, b.data, b.size, &mi);
	kd_buf_free(&b);
	if (err < 0)
		return 1;
	if (!field) {
		printf("%-15s %s\n", "filename:", path);
		if (name)
			printf("%-15s %s\n", "name:", name);
	}
	/* keys are printed with their colon, like kmod's modinfo */
	for (size_t i = 0; i < mi.n && !field; i++) {
		char *k = kd_xasprintf("%s:", mi.keys[i]);

		free(mi.keys[i]);
		mi.keys[i] = k;
	}
	print_fields(&mi, field);
	kd_modinfo_free(&mi);
	return 0;
}

static int show_name(struct kd_ctx *ctx, const char *arg, const char *field)
{
	struct kd_lookup l;
	int rc = 0;

	kd_lookup(ctx, arg, &l);
	if (l.n == 0) {
		fprintf(stderr, "kindling: module %s not found in directory %s\n", arg,
			kd_ctx_moddir(ctx));
		return 1;
	}
	for (size_t i = 0; i < l.n; i++) {
		uint32_t mod = l.insts[i]->mod;
		const char *name = kd_db_mod(kd_ctx_db(ctx), mod)->name;
		char *path = kd_module_fullpath(ctx, mod);

		if (path == NULL) {
			if (field == NULL)
				printf("%-15s %s\n%-15s (builtin)\n", "name:", name, "filename:");
		} else if (show_file(ctx, path, name, field) != 0) {
			rc = 1;
		}
		free(path);
	}
	kd_lookup_free(&l);
	return rc;
}

int kd_cmd_modinfo(int argc, char **argv)
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS,
		{ "field", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *field = NULL;
	struct kd_cli cli;
	struct kd_ctx *ctx = NULL;
	int opt, rc = 0;

	kd_cli_init(&cli, "kindling modinfo");
	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "F:h", longopts, NULL)) != -1) {
		int r = kd_cli_option(&cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (opt == 'F') {
			field = optarg;
		} else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (strchr(argv[i], '/')) {
			if (show_file(ctx, argv[i], NULL, field) != 0)
				rc = 1;
			continue;
		}
		if (ctx == NULL && kd_cli_open(&cli, &ctx) < 0)
			return 2;
		if (show_name(ctx, argv[i], field) != 0)
			rc = 1;
	}
	kd_ctx_free(ctx);
	return rc;
}
