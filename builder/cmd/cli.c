// SPDX-License-Identifier: MIT
/* The options every subcommand shares, and opening the database with them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

void kd_cli_init(struct kd_cli *cli, const char *prog)
{
	memset(cli, 0, sizeof(*cli));
	cli->verbosity = 1;
	cli->prog = prog;
}

int kd_cli_option(struct kd_cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'k':
		cli->opts.kver = arg;
		return 1;
	case 'r':
		cli->opts.root = arg;
		return 1;
	case 'C':
		if (cli->n_conf_dirs + 1 >= sizeof(cli->conf_dirs) / sizeof(cli->conf_dirs[0])) {
			fprintf(stderr, "%s: too many -C directories (at most 63)\n", cli->prog);
			return -1;
		}
		cli->conf_dirs[cli->n_conf_dirs++] = arg;
		cli->conf_dirs[cli->n_conf_dirs] = NULL;
		cli->opts.conf_dirs = cli->conf_dirs;
		return 1;
	case KD_OPT_MODDIR:
		cli->opts.moddir = arg;
		return 1;
	case KD_OPT_CMDLINE:
		cli->opts.cmdline = arg;
		return 1;
	case KD_OPT_DEPGEN:
		cli->opts.force_depgen = true;
		return 1;
	case 'v':
		cli->verbosity++;
		return 1;
	case 'q':
		cli->verbosity = 0;
		return 1;
	}
	return 0;
}

struct kd_log kd_cli_log(int verbosity)
{
	static const int prio[] = { KD_LOG_ERR, KD_LOG_WARN, KD_LOG_INFO, KD_LOG_DEBUG };

	return KD_LOG_STDERR(prio[verbosity < 0 ? 0 : verbosity > 3 ? 3 : verbosity]);
}

const struct kd_ctx_opts *kd_cli_ctx_opts(struct kd_cli *cli)
{
	cli->opts.log = kd_cli_log(cli->verbosity);
	return &cli->opts;
}

int kd_cli_open(struct kd_cli *cli, struct kd_ctx **ctx)
{
	return kd_ctx_new(kd_cli_ctx_opts(cli), ctx);
}

int kd_cli_parse_plain(struct kd_cli *cli, int argc, char **argv,
		       void (*usage)(FILE *f))
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		int r = kd_cli_option(cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : 2;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int kd_cli_parse_fixed(int argc, char **argv, int n, void (*usage)(FILE *f))
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != n + 1) {
		usage(stderr);
		return 2;
	}
	return -1;
}
