// SPDX-License-Identifier: MIT
/* kindling depmod: depmod's text indexes computed from the modules themselves. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

enum { OPT_OUTPUT = 'o' };

static void usage(FILE *f)
{
	fputs("usage: kindling depmod [-k KVER] [-r ROOT] [--moddir DIR] -o OUTDIR\n"
	      "Reads every module of the tree and writes modules.dep, modules.alias,\n"
	      "modules.softdep, modules.weakdep and modules.symbols into OUTDIR, with\n"
	      "the text depmod writes.  The tree's own index files are not read.\n",
	      f);
}

/* Write text to dir/name through a temporary file renamed into place. */
static int write_index(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	size_t len = strlen(text);
	FILE *f;
	int err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dir, name, (long)getpid()) >=
		    sizeof(tmp)) {
		fprintf(stderr, "kindling depmod: %s: path too long\n", dir);
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "we");
	if (f == NULL) {
		err = -errno;
		fprintf(stderr, "kindling depmod: cannot create %s: %s\n", tmp,
			strerror(-err));
		return err;
	}
	if (fwrite(text, 1, len, f) != len) {
		err = -EIO;
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "kindling depmod: cannot write %s: %s\n", path, strerror(-err));
	unlink(tmp);
	return err;
}

static int write_all(const char *dir, const struct kd_depgen *g)
{
	const struct {
		const char *name, *text;
	} files[] = {
		{ "modules.dep", g->dep },
		{ "modules.alias", g->alias },
		{ "modules.softdep", g->softdep },
		{ "modules.weakdep", g->weakdep },
		{ "modules.symbols", g->symbols },
	};

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "kindling depmod: cannot create directory %s: %s\n", dir,
			strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int err = write_index(dir, files[i].name, files[i].text);

		if (err < 0)
			return err;
	}
	return 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kd_cmd_depmod(int argc, char **argv)
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS,
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *outdir = NULL;
	struct kd_moddb *db;
	struct kd_cli cli;
	struct kd_ctx *ctx;
	const char *shortopts = KD_CLI_SHORTOPTS "o:h";
	double t0 = now();
	int opt, err;

	kd_cli_init(&cli, "kindling depmod");
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
		int r = kd_cli_option(&cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (opt == OPT_OUTPUT) {
			outdir = optarg;
			continue;
		}
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (outdir == NULL || optind < argc) {
		fputs(outdir ? "kindling depmod: unexpected argument\n"
			     : "kindling depmod: -o OUTDIR is required\n",
		      stderr);
		usage(stderr);
		return 2;
	}
	/* the context computes the indexes itself when told not to trust the tree's */
	cli.opts.force_depgen = true;
	if (kd_cli_open(&cli, &ctx) < 0)
		return 1;
	db = kd_ctx_db(ctx);
	err = write_all(outdir, &db->gen);
	if (err == 0 && cli.verbosity > 1)
		fprintf(stderr, "kindling depmod: %s: %zu modules in %.2f s\n",
			kd_ctx_moddir(ctx), count_lines(db->gen.dep), now() - t0);
	kd_ctx_free(ctx);
	return err < 0 ? 1 : 0;
}
