// SPDX-License-Identifier: MIT
/* kindling detect: the modules a host-only image of this machine holds, and why. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "detect/detect.h"

enum { OPT_SYSROOT = KD_OPT_FIRST_FREE, OPT_ROOT_DEVICE, OPT_FSTAB, OPT_POLICY };

static void usage(FILE *f)
{
	fputs("usage: kindling detect [-k KVER] [-r ROOT | --sysroot DIR] [--root-device DEV]\n"
	      "         [--fstab FILE] [--policy CLASSES]\n"
	      "Prints the modules of kernel KVER this machine needs to boot, each with\n"
	      "its reasons, then what was seen but left out and why.\n"
	      "  -r ROOT           modules and modprobe.d from ROOT, the root from\n"
	      "                    ROOT/etc/fstab (a chroot); devices from /sys\n"
	      "  --sysroot DIR     read sys/, proc/self/mountinfo, etc/fstab, dev/disk\n"
	      "                    and dmsetup-table under DIR instead of /\n"
	      "  --root-device DEV the root device (/dev/NAME, UUID=, LABEL=, PARTUUID=...)\n"
	      "  --fstab FILE      the target's fstab: its '/' names the root\n"
	      "  --policy CLASSES  comma-separated: storage, usb-host, input, or root\n"
	      "                    (the root chain only); default storage,usb-host,input\n", f);
}

/* "storage,input" -> KD_DETECT_* bits; 0 on a bad word (printed). */
static unsigned parse_policy(const char *s)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{ "storage", KD_DETECT_STORAGE }, { "usb-host", KD_DETECT_USB_HOST },
		{ "input", KD_DETECT_INPUT }, { "root", KD_DETECT_ROOT_ONLY },
	};
	unsigned bits = 0;

	while (*s) {
		size_t n = strcspn(s, ","), i;

		for (i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (strlen(words[i].name) == n && strncmp(s, words[i].name, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(*words)) {
			fprintf(stderr, "kindling detect: --policy: unknown class '%.*s' (known: "
				"storage, usb-host, input, root)\n", (int)n, s);
			return 0;
		}
		bits |= words[i].bit;
		s += n + (s[n] == ',');
	}
	return bits;
}

int kd_cmd_detect(int argc, char **argv)
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS,
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "root-device", required_argument, NULL, OPT_ROOT_DEVICE },
		{ "fstab", required_argument, NULL, OPT_FSTAB },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kd_detect_opts o = { 0 };
	struct kd_detect d = { 0 };
	struct kd_str text = { 0 };
	char *fstab = NULL;
	struct kd_cli cli;
	struct kd_ctx *ctx = NULL;
	int opt, rc;

	kd_cli_init(&cli, "kindling detect");
	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		int r = kd_cli_option(&cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		switch (opt) {
		case OPT_SYSROOT:
			o.sysroot = optarg;
			break;
		case OPT_ROOT_DEVICE:
			o.root_device = optarg;
			break;
		case OPT_FSTAB:
			o.fstab = optarg;
			break;
		case OPT_POLICY:
			o.policy = parse_policy(optarg);
			if (o.policy == 0)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kindling detect: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* a chroot: its fstab names the root (the running system's is another) */
	if (o.sysroot == NULL && o.fstab == NULL && cli.opts.root && *cli.opts.root)
		o.fstab = fstab = kd_xasprintf("%s/etc/fstab", cli.opts.root);
	if (kd_cli_open(&cli, &ctx) < 0) {
		free(fstab);
		return 2;
	}
	rc = kd_detect_run(ctx, &o, &d) < 0 ? 1 : 0;
	if (rc == 0) {
		kd_detect_format(&d, &text);
		fputs(text.s, stdout);
	}
	if (fflush(stdout) != 0)
		rc = 1;
	kd_str_free(&text);
	free(fstab);
	kd_detect_free(&d);
	kd_ctx_free(ctx);
	return rc;
}
