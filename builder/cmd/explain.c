// SPDX-License-Identifier: MIT
/*
 * kindling explain IMAGE MODULE...: why a module is in a built image.
 *
 * Everything comes from the image itself: the plan's per-module reason
 * (plan.c words a module pulled in by another one "dependency of X",
 * "soft dependency of X" or "weak dependency of X", naming a module that
 * is in the plan too, with a reason of its own; following those back ends
 * at a first-hand reason: a set, --add, a device or a root-chain step),
 * the before/after edges (who needs it), options and flags, and for a
 * module that is not there, the host-only detection report the image
 * carries (KD_DETECT_TXT: "skip WHAT: WHY" lines).
 */
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/plan.h"
#include "inspect/inspect.h"

#define KD_DETECT_TXT "/etc/kindling/detect.txt"

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

static int find_module(const struct kp_plan *p, const char *name)
{
	for (uint32_t i = 0; i < p->hdr->n_modules; i++)
		if (strcmp(kp_str(p, p->modules[i].name), name) == 0)
			return (int)i;
	return -1;
}

static bool is_builtin(const struct kp_plan *p, const char *name)
{
	for (uint32_t i = 0; i < p->hdr->n_builtins; i++)
		if (strcmp(kp_str(p, p->builtins[i]), name) == 0)
			return true;
	return false;
}

/* The module a "dependency of X" style reason names, or -1. */
static int reason_parent(const struct kp_plan *p, const char *reason)
{
	static const char *const kinds[] = { "dependency of ", "soft dependency of ",
					     "weak dependency of " };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t n = strlen(kinds[k]);

		if (strncmp(reason, kinds[k], n) == 0 && !strchr(reason + n, ' '))
			return find_module(p, reason + n);
	}
	return -1;
}

static void print_names(const struct kp_plan *p, uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", kp_str(p, p->modules[p->deps[first + i]].name));
	putchar('\n');
}

/* Modules whose before (which 0) or after (which 1) list holds mod. */
static void print_users(const struct kp_plan *p, uint32_t mod, int which, const char *label)
{
	bool any = false;

	for (uint32_t i = 0; i < p->hdr->n_modules; i++) {
		const struct kp_module *m = &p->modules[i];
		uint32_t first = which ? m->post_first : m->deps_first;
		uint32_t n = which ? m->n_post : m->n_deps;

		for (uint32_t j = 0; j < n; j++) {
			if (p->deps[first + j] != mod)
				continue;
			printf("%s%s", any ? ", " : label, kp_str(p, m->name));
			any = true;
			break;
		}
	}
	if (any)
		putchar('\n');
}

static const char *flag_names(uint32_t fl, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", fl & KP_MOD_LOAD ? " load" : "",
		 fl & KP_MOD_BLACKLISTED ? " blacklisted" : "",
		 fl & KP_MOD_FILESYSTEM ? " filesystem" : "");
	return buf[0] ? buf + 1 : "(none: loaded when a device or another module asks for it)";
}

static void explain_module(const struct kp_plan *p, uint32_t i)
{
	const struct kp_module *m = &p->modules[i];
	uint32_t cur = i, steps = 0;
	char flags[64];
	int parent;

	printf("%s: in the image (kernel %s)\n", kp_str(p, m->name), kp_str(p, p->hdr->kver));
	printf("  path:       %s\n", kp_str(p, m->path));
	printf("  reason:     %s\n",
	       *kp_str(p, m->reason) ? kp_str(p, m->reason) : "(none recorded)");
	/* each step names a module added before it, so the walk ends; the
	 * bound guards against a plan written by something else */
	parent = reason_parent(p, kp_str(p, m->reason));
	if (parent >= 0) {
		printf("  why:\n");
		for (;;) {
			const struct kp_module *c = &p->modules[cur];

			printf("    %s: %s\n", kp_str(p, c->name), kp_str(p, c->reason));
			parent = reason_parent(p, kp_str(p, c->reason));
			if (parent < 0 || (uint32_t)parent == cur || ++steps > p->hdr->n_modules)
				break;
			cur = (uint32_t)parent;
		}
	}
	print_users(p, i, 0, "  needed by:  ");
	print_users(p, i, 1, "  loaded after (softdep post of): ");
	if (m->n_deps) {
		printf("  needs:      ");
		print_names(p, m->deps_first, m->n_deps);
	}
	if (m->n_post) {
		printf("  then loads: ");
		print_names(p, m->post_first, m->n_post);
	}
	printf("  options:    %s\n", *kp_str(p, m->options) ? kp_str(p, m->options) : "(none)");
	printf("  flags:      %s\n", flag_names(m->flags, flags, sizeof(flags)));
}

static bool name_char(char ch)
{
	return ch == '_' || ch == '-' || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Is word (a module name) in line, as a whole word of name characters? */
static bool mentions(const char *line, size_t len, const char *word)
{
	const char *end = line + len;
	size_t n = strlen(word);

	for (const char *s = line; s + n <= end; s++) {
		const char *q = memmem(s, (size_t)(end - s), word, n);

		if (q == NULL)
			return false;
		if ((q == line || !name_char(q[-1])) && (q + n == end || !name_char(q[n])))
			return true;
		s = q;
	}
	return false;
}

/* What the host-only detection said about a module it did not put in. */
static void print_detect(const struct kd_imgfiles *f, const char *name)
{
	const struct kd_cpio_entry *e = kd_imgfiles_get(f, KD_DETECT_TXT);
	const char *p, *end;
	bool any = false;

	if (e == NULL) {
		printf("  (the image has no %s: it was not built with --host-only)\n",
		       KD_DETECT_TXT);
		return;
	}
	p = (const char *)e->data;
	end = p + e->size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (mentions(p, len, name)) {
			if (!any)
				printf("  host-only detection (%s):\n", KD_DETECT_TXT);
			printf("    %.*s\n", (int)len, p);
			any = true;
		}
		p += len + 1;
	}
	if (!any)
		printf("  host-only detection (%s) did not see it\n", KD_DETECT_TXT);
}

static int explain_one(const struct kd_imgfiles *f, const char *arg)
{
	const struct kp_plan *p = f->plan;
	char name[256], alias[256];
	bool found = false;
	int i;

	kd_modname_normalize(arg, name, sizeof(name));
	i = find_module(p, name);
	if (i >= 0) {
		explain_module(p, (uint32_t)i);
		return 0;
	}
	if (is_builtin(p, name)) {
		printf("%s: not in the image: built into kernel %s (nothing to load)\n", name,
		       kp_str(p, p->hdr->kver));
		return 0;
	}
	/* an alias of the image's modules, matched as the init matches them */
	if (kd_alias_normalize(arg, alias, sizeof(alias)) == 0) {
		for (uint32_t a = 0; a < p->hdr->n_aliases; a++) {
			const struct kp_alias *al = &p->aliases[a];

			if (fnmatch(kp_str(p, al->pattern), alias, 0) != 0)
				continue;
			printf("%s: alias %s of module %s\n", arg, kp_str(p, al->pattern),
			       kp_str(p, p->modules[al->module].name));
			explain_module(p, al->module);
			found = true;
		}
	}
	if (found)
		return 0;
	printf("%s: not in the image %s (kernel %s)\n", name, f->path, kp_str(p, p->hdr->kver));
	print_detect(f, name);
	return 1;
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
	if (kd_imgfiles_need_plan(&log, &f) < 0) {
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
