/* SPDX-License-Identifier: MIT */
/*
 * cmd: the subcommands, each a thin layer: argv -> options -> one library
 * call -> print.
 */
#ifndef KINDLING_CMD_H
#define KINDLING_CMD_H

#include <getopt.h>
#include "base/base.h"
#include "moddb/moddb.h"

/* ---- cli.c: the options every subcommand shares ------------------------
 * -k/--kver KVER, -r/--root ROOT, --moddir DIR, -C/--config-dir DIR
 * (repeatable; replaces kmod's default modprobe.d list), -v/--verbose,
 * -q/--quiet.  Use KD_CLI_LONGOPTS inside a struct option array and
 * KD_CLI_SHORTOPTS inside the short option string, then hand every option
 * getopt_long returns to kd_cli_option() first. */
struct kd_cli {
	struct kd_ctx_opts opts;
	const char *conf_dirs[64];
	size_t n_conf_dirs;
	int verbosity; /* 0 quiet, 1 normal, 2 verbose, 3 debug */
	const char *prog; /* "kindling SUBCOMMAND" for messages */
};
/* Option IDs of long options without a short one, past every char value;
 * a command numbers its own from KD_OPT_FIRST_FREE. */
enum { KD_OPT_MODDIR = 256, KD_OPT_CMDLINE, KD_OPT_DEPGEN, KD_OPT_FIRST_FREE };
#define KD_CLI_SHORTOPTS "k:r:C:vq"
#define KD_CLI_LONGOPTS                                                    \
	{ "kver", required_argument, NULL, 'k' },                          \
	{ "root", required_argument, NULL, 'r' },                          \
	{ "config-dir", required_argument, NULL, 'C' },                    \
	{ "moddir", required_argument, NULL, KD_OPT_MODDIR },              \
	{ "cmdline", required_argument, NULL, KD_OPT_CMDLINE },            \
	{ "depgen", no_argument, NULL, KD_OPT_DEPGEN },                    \
	{ "verbose", no_argument, NULL, 'v' },                             \
	{ "quiet", no_argument, NULL, 'q' }
void kd_cli_init(struct kd_cli *cli, const char *prog);
/* 1: handled, 0: not a common option, -1: bad value (message printed). */
int kd_cli_option(struct kd_cli *cli, int opt, const char *arg);
/* The logger of a verbosity: stderr, errors only (0) to debug (3 and up). */
struct kd_log kd_cli_log(int verbosity);
/* Create the context (database and modprobe.d loaded); prints errors. */
int kd_cli_open(struct kd_cli *cli, struct kd_ctx **ctx);
/* The options kd_cli_open creates it with (the logger verbosity asks for),
 * for a library call that creates the context itself. */
const struct kd_ctx_opts *kd_cli_ctx_opts(struct kd_cli *cli);
/* For commands with only the common options and at least one argument:
 * -1 to go on (arguments from optind), else the exit code to return. */
int kd_cli_parse_plain(struct kd_cli *cli, int argc, char **argv, void (*usage)(FILE *f));
/* For commands of exactly n arguments and no option but -h/--help: -1 to go
 * on (the arguments are argv[1..n]), else the exit code to return. */
int kd_cli_parse_fixed(int argc, char **argv, int n, void (*usage)(FILE *f));

/* ---- one file per subcommand (build.c, ...); main.c dispatches ---------
 * Each takes argv as given after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code: 0 ok, 1 not found or
 * failed, 2 usage or bad input. */
int kd_cmd_deps(int argc, char **argv);
int kd_cmd_resolve(int argc, char **argv);
int kd_cmd_modinfo(int argc, char **argv);
int kd_cmd_depmod(int argc, char **argv);
int kd_cmd_build(int argc, char **argv);
int kd_cmd_ls(int argc, char **argv);
int kd_cmd_cat(int argc, char **argv);
int kd_cmd_extract(int argc, char **argv);
int kd_cmd_detect(int argc, char **argv);
int kd_cmd_explain(int argc, char **argv);
int kd_cmd_check(int argc, char **argv);
int kd_cmd_update(int argc, char **argv); /* images of installed kernels */

#endif
