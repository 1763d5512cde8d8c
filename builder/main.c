// SPDX-License-Identifier: MIT
/* kindling: the command line, a thin dispatcher over cmd/: one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand commands[] = {
	{ "build", kd_cmd_build, "write an initramfs image" },
	{ "deps", kd_cmd_deps, "print the load plan of modules, like modprobe --show-depends" },
	{ "resolve", kd_cmd_resolve, "print the modules an alias resolves to" },
	{ "modinfo", kd_cmd_modinfo, "print a module's .modinfo fields" },
	{ "depmod", kd_cmd_depmod, "compute depmod's indexes from a module tree" },
	{ "ls", kd_cmd_ls, "list the segments and entries of any initramfs" },
	{ "cat", kd_cmd_cat, "write one entry of an initramfs to stdout" },
	{ "extract", kd_cmd_extract, "unpack an initramfs into a directory, safely" },
	{ "detect", kd_cmd_detect, "print the modules this machine needs to boot, and why" },
	{ "explain", kd_cmd_explain, "say why a module is in a kindling image" },
	{ "check", kd_cmd_check, "check that a kindling image can boot: kernel, deps, symbols, root" },
	{ "update", kd_cmd_update, "(re)build the images of installed kernels in /boot" },
};

static void usage(FILE *f)
{
	fputs("usage: kindling COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fputs("\ncommon options: -k KVER, -r ROOT, --moddir DIR, -C DIR, -v, -q\n"
	      "'kindling COMMAND --help' describes a command.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kindling: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
