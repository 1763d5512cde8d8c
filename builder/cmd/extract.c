// SPDX-License-Identifier: MIT
/* kindling extract IMAGE DIR: every entry of an initramfs under DIR, safely
 * (inspect/extract.c). */
#include <stdio.h>

#include "cmd/cmd.h"
#include "inspect/inspect.h"

static void usage(FILE *f)
{
	fputs("usage: kindling extract IMAGE DIR\n"
	      "Writes every entry of IMAGE under DIR (created if missing).  Refuses\n"
	      "absolute names, '..' components and paths through symlinks; each\n"
	      "refusal is reported and makes the exit status 1.  Owners and device\n"
	      "nodes are restored only when run as root.\n", f);
}

int kd_cmd_extract(int argc, char **argv)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	int rc = kd_cli_parse_fixed(argc, argv, 2, usage);
	struct kd_extract x;

	if (rc >= 0)
		return rc;
	if (kd_extract(&log, argv[1], argv[2], &x) < 0)
		return 1;
	if (x.refused || x.failed) {
		KD_ERR(&log, "%s: %zu entries written to %s, %zu refused, %zu failed", argv[1],
		       x.written, argv[2], x.refused, x.failed);
		return 1;
	}
	return 0;
}
