// SPDX-License-Identifier: MIT
/* kindling resolve: the modules an alias names, as modprobe --resolve-alias. */
#include <stdio.h>
#include <unistd.h>

#include "cmd/cmd.h"

static void usage(FILE *f)
{
	fputs("usage: kindling resolve [-k KVER] [-r ROOT] [--moddir DIR] [-C DIR]... "
	      "ALIAS...\n"
	      "Prints the module names each alias resolves to, one per line.\n", f);
}

int kd_cmd_resolve(int argc, char **argv)
{
	struct kd_cli cli;
	struct kd_ctx *ctx;
	int rc = 0;

	kd_cli_init(&cli, "kindling resolve");
	rc = kd_cli_parse_plain(&cli, argc, argv, usage);
	if (rc >= 0)
		return rc;
	rc = 0;
	if (kd_cli_open(&cli, &ctx) < 0)
		return 2;
	for (int i = optind; i < argc; i++) {
		struct kd_lookup l;

		kd_lookup(ctx, argv[i], &l);
		if (l.n == 0) {
			fprintf(stderr, "kindling: module %s not found in directory %s\n",
				argv[i], kd_ctx_moddir(ctx));
			rc = 1;
		}
		for (size_t j = 0; j < l.n; j++)
			printf("%s\n", kd_db_mod(kd_ctx_db(ctx), l.insts[j]->mod)->name);
		kd_lookup_free(&l);
	}
	fflush(stdout);
	kd_ctx_free(ctx);
	return rc;
}
