// SPDX-License-Identifier: MIT
/*
 * kindling explain IMAGE MODULE...: why a module is in a built image
 * (inspect/explain.c finds it out from the image's plan and detection
 * report; this prints it).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/plan.h"
#include "inspect/inspect.h"

static void usage(FILE *f)
{
	fputs("usage: kindling explain IMAGE MODULE...\n"
	      "Says why each MODULE is in a kindling image: its recorded reason, the\n"
	      "chain of modules that pulled it in up to a set, --add, device or root-chain\n"
	      "reason, the modules that need it, its options and flags.  MODULE may be an\n"
	      "alias the image knows (fs-ext4, a modalias).  For a module not in the image\n"
	      "it says whether the kernel has it built in, and what the host-only\n"
	      "detection recorded about it.\n"
	      "Exit status: 0 when every MODULE is in the image or built in, 1 otherwise,\n"
	      "2 on bad usage or an unreadable image.\n", f);
}

static const char *mod_name(const struct kp_plan *p, uint32_t i)
{
	return kp_str(p, p->modules[i].name);
}

static void print_users(const struct kp_plan *p, const uint32_t *v, size_t n,
			const char *label)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : label, mod_name(p, v[i]));
	if (n)
		putchar('\n');
}

static const char *flag_names(uint32_t fl, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", fl & KP_MOD_LOAD ? " load" : "",
		 fl & KP_MOD_BLACKLISTED ? " blacklisted" : "",
		 fl & KP_MOD_FILESYSTEM ? " filesystem" : "");
	return buf[0] ? buf + 1 : "(none: loaded when a device or another module asks for it)";
}

static void print_module(const struct kp_plan *p, const struct kd_why_module *w)
{
	const struct kp_module *m = &p->modules[w->index];
	char flags[64];

	printf("%s: in the image (kernel %s)\n", kp_str(p, m->name), kp_str(p, p->hdr->kver));
	printf("  path:       %s\n", kp_str(p, m->path));
	printf("  reason:     %s\n",
	       *kp_str(p, m->reason) ? kp_str(p, m->reason) : "(none recorded)");
	if (w->n_chain)
		printf("  why:\n");
	for (size_t i = 0; i < w->n_chain; i++)
		printf("    %s: %s\n", mod_name(p, w->chain[i]),
		       kp_str(p, p->modules[w->chain[i]].reason));
	print_users(p, w->needed_by, w->n_needed_by, "  needed by:  ");
	print_users(p, w->post_of, w->n_post_of, "  loaded after (softdep post of): ");
	if (m->n_deps) {
		printf("  needs:      ");
		kd_plan_print_deps(stdout, p, m->deps_first, m->n_deps);
	}
	if (m->n_post) {
		printf("  then loads: ");
		kd_plan_print_deps(stdout, p, m->post_first, m->n_post);
	}
	printf("  options:    %s\n", *kp_str(p, m->options) ? kp_str(p, m->options) : "(none)");
	printf("  flags:      %s\n", flag_names(m->flags, flags, sizeof(flags)));
}

/* 0 when the module is in the image or built in, else 1. */
static int explain_one(const struct kd_imgfiles *f, const char *arg)
{
	const struct kp_plan *p = f->plan;
	const char *kver = kp_str(p, p->hdr->kver);
	struct kd_why w;
	int rc = 0;

	kd_explain(f, arg, &w);
	for (size_t i = 0; i < w.n_mods; i++) {
		if (w.mods[i].alias)
			printf("%s: alias %s of module %s\n", arg, w.mods[i].alias,
			       mod_name(p, w.mods[i].index));
		print_module(p, &w.mods[i]);
	}
	if (w.builtin) {
		printf("%s: not in the image: built into kernel %s (nothing to load)\n", w.name,
		       kver);
	} else if (w.n_mods == 0) {
		printf("%s: not in the image %s (kernel %s)\n", w.name, f->path, kver);
		if (!w.have_detect)
			printf("  (the image has no %s: it was not built with --host-only)\n",
			       KD_DETECT_TXT);
		else if (w.n_detect == 0)
			printf("  host-only detection (%s) did not see it\n", KD_DETECT_TXT);
		else
			printf("  host-only detection (%s):\n", KD_DETECT_TXT);
		for (size_t i = 0; i < w.n_detect; i++)
			printf("    %.*s\n", (int)w.detect[i].len, w.detect[i].text);
		rc = 1;
	}
	kd_why_free(&w);
	return rc;
}

int kd_cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	struct kd_imgfiles f;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : 2;
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	if (kd_imgfiles_open(&log, argv[optind], &f) < 0)
		return 2;
	if (kd_imgfiles_plan(&log, &f) < 0) {
		kd_imgfiles_free(&f);
		return 2;
	}
	for (int a = optind + 1; a < argc; a++)
		rc |= explain_one(&f, argv[a]);
	kd_imgfiles_free(&f);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("kindling: explain: writing the answer");
		rc = 1;
	}
	return rc;
}
