// SPDX-License-Identifier: MIT
/* kindling build: module sets -> load plan -> image. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "detect/detect.h"
#include "plan/plan.h"
#include "image/image.h"
#include "build/build.h"
#include "codec/codec.h"
#include "common/plan.h" /* KP_PLAN_HOST_ONLY */

enum {
	OPT_GENERIC = KD_OPT_FIRST_FREE, OPT_SET, OPT_ADD, OPT_OMIT, OPT_FORCE, OPT_INIT,
	OPT_SETS_DIR, OPT_ROOT_DEFAULT, OPT_PRINT_PLAN, OPT_LEVEL,
	OPT_COMPRESS, OPT_FORMAT, OPT_MICROCODE,
};
/* kindling.conf's own flags (see the conffile section below) */
enum { OPT_CONFIG = KD_OPT_FIRST_FREE + 0x80, OPT_NO_CONFIG, OPT_DEFAULT_CMDLINE,
	OPT_ROOT_TIMEOUT };
/* image hooks (builder/hooks.c) */
enum { OPT_HOOK = KD_OPT_FIRST_FREE + 0x90, OPT_HOOKS_DIR };
/* host-only images (builder/detect.c; see the host-only section below) */
enum { OPT_HOST_ONLY = KD_OPT_FIRST_FREE + 0x40, OPT_SYSROOT, OPT_ROOT_DEVICE };

/* Repeated options: pointers into argv. */
struct list {
	const char **v;
	size_t n;
};

struct build_args {
	struct kd_cli cli;
	const char *output, *init, *root_default;
	struct list sets, adds, omits, sets_dirs;
	bool generic, force, print_plan;
	int level;
	/* the image's shape (builder/image.c, compress.c, microcode.c) */
	const char *compress, *format, *microcode;
	bool has_level, level_from_conf, compress_from_conf, microcode_from_conf;
	struct kd_image_opts shape; /* what craft_opts made of them, checked once */
	/* kindling.conf (builder/conffile.c) and the flags of its keys */
	const char *config, *default_cmdline;
	bool no_config;
	unsigned root_timeout;
	struct list hooks, hooks_dirs; /* --hook, --hooks-dir */
	size_t n_conf_adds; /* adds.v[0..n) came from kindling.conf */
	/* host-only: --host-only, or the default (see host_only_default) */
	bool host_only, generic_flag;
	int hostonly_conf; /* kindling.conf hostonly: 1, 0, -1 not set */
	const char *sysroot, *root_device;
	struct kd_str detect_text; /* etc/kindling/detect.txt of the image */
};

#define CONF_USAGE \
	"  --config FILE     read FILE instead of ROOT/etc/kindling.conf and\n" \
	"                    ROOT/etc/kindling.conf.d/*.conf (command-line flags win)\n" \
	"  --no-config       read no configuration file\n" \
	"  --default-cmdline TEXT  kernel command-line defaults (the real one wins)\n" \
	"  --root-timeout N  seconds the init waits for the root device\n"
#define HOOK_USAGE \
	"  --hook NAME       add image hook NAME (NAME.hook: see README, Image hooks)\n" \
	"  --hooks-dir DIR   look for hooks in DIR first\n"
#define HOOK_LONGOPTS \
	{ "hook", required_argument, NULL, OPT_HOOK }, \
	{ "hooks-dir", required_argument, NULL, OPT_HOOKS_DIR }
#define CONF_LONGOPTS \
	{ "config", required_argument, NULL, OPT_CONFIG }, \
	{ "no-config", no_argument, NULL, OPT_NO_CONFIG }, \
	{ "default-cmdline", required_argument, NULL, OPT_DEFAULT_CMDLINE }, \
	{ "root-timeout", required_argument, NULL, OPT_ROOT_TIMEOUT }
#define HOST_ONLY_USAGE \
	"  --host-only       the modules this machine needs (kindling detect), the\n" \
	"                    default without -r, --moddir, --set, --add, --generic\n" \
	"  --sysroot DIR     detect from DIR's sys/, proc/, etc/fstab, dev/disk\n" \
	"  --root-device DEV the root device for --host-only (default: the mounted /)\n"
#define HOST_ONLY_LONGOPTS \
	{ "host-only", no_argument, NULL, OPT_HOST_ONLY }, \
	{ "sysroot", required_argument, NULL, OPT_SYSROOT }, \
	{ "root-device", required_argument, NULL, OPT_ROOT_DEVICE }

static void usage(FILE *f)
{
	fputs("usage: kindling build [-k KVER] [-r ROOT] [--moddir DIR] [-C DIR]... -o OUTPUT\n"
	      "         [--generic] [--set NAME]... [--add MOD]... [--omit MOD]... [--force]\n"
	      "         [--init PATH] [--sets-dir DIR]... [--root-default SPEC] [--print-plan]\n"
	      "Writes an initramfs for kernel KVER: the modules of the sets and --add\n"
	      "modules with their dependencies, the load plan and the init.\n"
	      "  --generic         the sets listed in default.list (the default with -r,\n"
	      "                    --moddir; see --host-only)\n"
	      "  --set NAME        the modules of modules-sets/NAME.set\n"
	      "  --add MOD         a module (or alias) loaded at every boot\n"
	      "  --omit MOD        never put MOD in the image\n"
	      "  --force           replace OUTPUT if it exists\n"
	      "  --init PATH       the init binary (default: the installed one, else\n"
	      "                    'init' next to kindling)\n"
	      "  --sets-dir DIR    look for sets in DIR first\n"
	      "  --root-default S  root= to use when the kernel command line has none\n"
	      "  --print-plan      print the load plan (-o is then optional)\n"
	      "  --compress C      zstd (default), xz, gzip, lz4 or none\n"
	      "  --level N         the compressor's level: zstd 1-22 (3; 6 under 16 MiB),\n"
	      "                    xz 0-9 (6),\n"
	      "                    gzip 1-9 (6), lz4 1-12 (9)\n"
	      "  --format F        image (default): the boot loader's initrd;\n"
	      "                    cpio: one uncompressed archive (built-in initramfs);\n"
	      "                    list: a gen_init_cpio list, its files in OUTPUT.d/\n"
	      "  --microcode M     early microcode first in the image: auto (default:\n"
	      "                    all for a generic image or -r ROOT, else this CPU's\n"
	      "                    vendor), all, none\n", f);
	fputs(CONF_USAGE, f);
	fputs(HOOK_USAGE, f);
	fputs(HOST_ONLY_USAGE, f);
}

static int list_add(struct list *l, const char *s)
{
	void *p = realloc(l->v, (l->n + 1) * sizeof(*l->v));

	if (p == NULL)
		return -1;
	l->v = p;
	l->v[l->n++] = s;
	return 0;
}

static void args_free(struct build_args *a)
{
	free(a->sets.v);
	free(a->adds.v);
	free(a->omits.v);
	free(a->sets_dirs.v);
	free(a->hooks.v);
	free(a->hooks_dirs.v);
}

static int own_option(struct build_args *a, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'o':
		a->output = arg;
		return 0;
	case OPT_GENERIC:
		a->generic = true;
		a->generic_flag = true;
		return 0;
	case OPT_FORCE:
		a->force = true;
		return 0;
	case OPT_PRINT_PLAN:
		a->print_plan = true;
		return 0;
	case OPT_INIT:
		a->init = arg;
		return 0;
	case OPT_ROOT_DEFAULT:
		a->root_default = arg;
		return 0;
	case OPT_LEVEL:
		a->level = (int)strtol(arg, &end, 10);
		if (*arg == '\0' || *end || a->level < 0 || a->level > 99) {
			fprintf(stderr, "kindling build: --level %s: expected a number "
				"(zstd 1-22, xz 0-9, gzip 1-9, lz4 1-12)\n", arg);
			return -1;
		}
		a->has_level = true;
		a->level_from_conf = false;
		return 0;
	case OPT_COMPRESS:
		a->compress = arg;
		a->compress_from_conf = false;
		return 0;
	case OPT_FORMAT:
		a->format = arg;
		return 0;
	case OPT_MICROCODE:
		a->microcode = arg;
		a->microcode_from_conf = false;
		return 0;
	case OPT_SET:
		return list_add(&a->sets, arg);
	case OPT_ADD:
		return list_add(&a->adds, arg);
	case OPT_OMIT:
		return list_add(&a->omits, arg);
	case OPT_SETS_DIR:
		return list_add(&a->sets_dirs, arg);
	case OPT_HOOK:
		return list_add(&a->hooks, arg);
	case OPT_HOOKS_DIR:
		return list_add(&a->hooks_dirs, arg);
	}
	usage(stderr);
	return -1;
}

/* ---- kindling.conf (builder/conffile.c) ---------------------------------
 * The files are read first and fill build_args as defaults; argv is then
 * parsed over them, so every flag wins over the files (list flags add). */

/* 1: handled, 0: not ours, -1: bad value. */
static int conf_option(struct build_args *a, int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case OPT_CONFIG:
		a->config = arg;
		return 1;
	case OPT_NO_CONFIG:
		a->no_config = true;
		return 1;
	case OPT_DEFAULT_CMDLINE:
		a->default_cmdline = arg;
		return 1;
	case OPT_ROOT_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (*arg == '\0' || *end || v < 0 || v > 86400) {
			fprintf(stderr, "kindling build: --root-timeout %s: expected 0 to 86400\n",
				arg);
			return -1;
		}
		a->root_timeout = (unsigned)v;
		return 1;
	}
	return 0;
}

static int conf_list(struct list *l, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list_add(l, v[i]) < 0)
			return -1;
	return 0;
}

/* The defaults from the files; c must outlive a (a points into it). */
static int conf_apply(struct build_args *a, const struct kd_buildconf *c)
{
	for (size_t i = 0; i < c->n_sets; i++) {
		if (strcmp(c->sets[i], "generic") == 0)
			a->generic = true;
		else if (list_add(&a->sets, c->sets[i]) < 0)
			return -1;
	}
	if (conf_list(&a->adds, c->adds, c->n_adds) < 0 ||
	    conf_list(&a->omits, c->omits, c->n_omits) < 0 ||
	    conf_list(&a->hooks, c->hooks, c->n_hooks) < 0)
		return -1;
	a->n_conf_adds = a->adds.n;
	if (c->default_root)
		a->root_default = c->default_root;
	if (c->cmdline)
		a->default_cmdline = c->cmdline;
	if (c->root_timeout >= 0)
		a->root_timeout = (unsigned)c->root_timeout;
	if (c->level >= 0) {
		a->level = c->level;
		a->has_level = a->level_from_conf = true;
	}
	if (c->compress) {
		a->compress = c->compress;
		a->compress_from_conf = true;
	}
	if (c->microcode) {
		a->microcode = c->microcode;
		a->microcode_from_conf = true;
	}
	a->hostonly_conf = c->hostonly;
	return 0;
}

static int parse_args(struct build_args *a, int argc, char **argv);

/* ---- host-only images (builder/detect.c) --------------------------------
 * The detected modules join the wants with their reasons (root-chain ones
 * load at every boot), the plan is marked KP_PLAN_HOST_ONLY, the detected
 * root is the default root= unless --root-default, and what detection left
 * out is written to etc/kindling/detect.txt for `kindling explain`. */

/* 1: handled, 0: not ours. */
static int host_only_option(struct build_args *a, int opt, const char *arg)
{
	switch (opt) {
	case OPT_HOST_ONLY:
		a->host_only = true;
		return 1;
	case OPT_SYSROOT:
		a->sysroot = arg;
		return 1;
	case OPT_ROOT_DEVICE:
		a->root_device = arg;
		return 1;
	}
	return 0;
}

/* Host-only unless told otherwise: kindling.conf's hostonly, else when
 * building for this machine with no module choice of its own. */
static void host_only_default(struct build_args *a)
{
	if (a->host_only || a->generic_flag)
		return;
	if (a->hostonly_conf >= 0) {
		a->host_only = a->hostonly_conf == 1;
		return;
	}
	a->host_only = !a->generic && a->sets.n == 0 && a->adds.n == 0 &&
		       a->cli.opts.root == NULL && a->cli.opts.moddir == NULL;
}

static int want_detected(struct build_args *a, struct kd_ctx *ctx, struct kd_wants *w,
			 struct kd_detect *d, struct kd_str *text)
{
	struct kd_detect_opts o = { .sysroot = a->sysroot, .root_device = a->root_device };
	struct kd_str fstab = { 0 };
	int err;

	/* a chroot (-r ROOT): its fstab names the root */
	if (a->sysroot == NULL && a->cli.opts.root && *a->cli.opts.root) {
		kd_str_printf(&fstab, "%s/etc/fstab", a->cli.opts.root);
		o.fstab = fstab.s;
	}
	err = kd_detect_run(ctx, &o, d);
	kd_str_free(&fstab);
	for (size_t i = 0; i < d->n_items && err == 0; i++) {
		if (d->items[i].builtin)
			continue; /* nothing to add; the plan lists the kernel's built-ins */
		err = kd_wants_add(w, d->items[i].module, d->items[i].reason,
				   d->items[i].root ? KD_WANT_LOAD : 0);
	}
	if (err == 0)
		err = kd_detect_format(d, text);
	if (err == 0)
		KD_INFO(kd_ctx_log(ctx), "host-only: %zu modules detected, root %s (%s), default root=%s",
			d->n_items, d->root_source, d->root_fstype ? d->root_fstype : "type unknown",
			d->root_spec);
	return err;
}

/* Parse argv once for -r/--config/--no-config, read the files into c, fill
 * a from them, then parse argv for real.  0, 1 (help) or 2, as parse_args. */
static int conf_then_args(struct build_args *a, struct kd_buildconf *c, int argc,
			  char **argv)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_ERR);
	struct build_args pre = { 0 };
	int rc = parse_args(&pre, argc, argv);

	if (rc == 0 && !pre.no_config &&
	    kd_buildconf_load(&log, c, pre.cli.opts.root, pre.config) < 0)
		rc = 2;
	args_free(&pre);
	if (rc != 0)
		return rc;
	if (conf_apply(a, c) < 0) {
		fputs("kindling build: out of memory\n", stderr);
		return 2;
	}
	optind = 0; /* getopt_long starts afresh */
	return parse_args(a, argc, argv);
}

/* 0: go on, 1: done (help), 2: usage error. */
static int parse_args(struct build_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		KD_CLI_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "generic", no_argument, NULL, OPT_GENERIC },
		{ "set", required_argument, NULL, OPT_SET },
		{ "add", required_argument, NULL, OPT_ADD },
		{ "omit", required_argument, NULL, OPT_OMIT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "sets-dir", required_argument, NULL, OPT_SETS_DIR },
		{ "root-default", required_argument, NULL, OPT_ROOT_DEFAULT },
		{ "print-plan", no_argument, NULL, OPT_PRINT_PLAN },
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "compress", required_argument, NULL, OPT_COMPRESS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "microcode", required_argument, NULL, OPT_MICROCODE },
		{ "help", no_argument, NULL, 'h' },
		CONF_LONGOPTS,
		HOOK_LONGOPTS,
		HOST_ONLY_LONGOPTS,
		{ 0 },
	};
	int opt;

	kd_cli_init(&a->cli, "kindling build");
	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "o:h", longopts, NULL)) != -1) {
		int r = kd_cli_option(&a->cli, opt, optarg);

		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		r = conf_option(a, opt, optarg);
		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (host_only_option(a, opt, optarg))
			continue;
		if (opt == '?' || own_option(a, opt, optarg) < 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "kindling build: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (a->output == NULL && !a->print_plan) {
		fputs("kindling build: -o OUTPUT is required\n", stderr);
		usage(stderr);
		return 2;
	}
	return 0;
}

/* NAME in the directory of the running binary or up to two levels above
 * (build/kindling finds build/init and ./modules-sets). */
static char *near_binary(const char *name)
{
	char exe[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat sb;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = dirname(exe);
	for (int up = 0; up < 3; up++) {
		struct kd_str p = { 0 };

		kd_str_printf(&p, "%s/%s", dir, name);
		if (p.s && stat(p.s, &sb) == 0)
			return p.s;
		kd_str_free(&p);
		dir = dirname(dir);
	}
	return NULL;
}

static char *default_init(void)
{
	const char *installed = KD_LIBEXECDIR "/init";

	if (access(installed, X_OK) == 0)
		return kd_xstrdup(installed);
	return near_binary("init");
}

/* Where sets or hooks are looked for, in order: the flag's directories,
 * ROOT/etc/kindling/ETC, the source tree's TREE when kindling runs from its
 * build directory (a MARKER file inside it tells, when given), then the
 * installed DATA. */
struct search_path {
	struct list dirs;
	char *etc, *tree; /* owned */
};

static int search_path(const struct build_args *a, const struct list *flag, const char *etc,
		       const char *tree, const char *marker, const char *data,
		       struct search_path *sp)
{
	const char *root = a->cli.opts.root ? a->cli.opts.root : "";
	struct kd_str e = { 0 }, t = { 0 };
	int err = 0;

	memset(sp, 0, sizeof(*sp));
	for (size_t i = 0; i < flag->n && err == 0; i++)
		err = list_add(&sp->dirs, flag->v[i]);
	kd_str_printf(&e, "%s/etc/kindling/%s", root, etc);
	sp->etc = e.s;
	if (marker)
		kd_str_printf(&t, "%s/%s", tree, marker);
	sp->tree = near_binary(marker ? t.s : tree);
	kd_str_free(&t);
	if (sp->tree && marker)
		*strrchr(sp->tree, '/') = '\0';
	if (err == 0)
		err = sp->etc ? list_add(&sp->dirs, sp->etc) : -1;
	if (err == 0 && sp->tree)
		err = list_add(&sp->dirs, sp->tree);
	if (err == 0)
		err = list_add(&sp->dirs, data);
	return err < 0 ? -ENOMEM : 0;
}

static void search_path_free(struct search_path *sp)
{
	free(sp->dirs.v);
	free(sp->etc);
	free(sp->tree);
}

static int want_sets(struct build_args *a, struct kd_ctx *ctx, struct kd_modcache *cache,
		     struct kd_wants *w)
{
	struct search_path sp;
	char **names = NULL;
	size_t n_names = 0, i;
	struct kd_sets *sets = NULL;
	int err;

	err = search_path(a, &a->sets_dirs, "modules-sets", "modules-sets", "default.list",
			  KD_DATADIR "/modules-sets", &sp);
	if (err == 0)
		err = kd_sets_new(ctx, sp.dirs.v, sp.dirs.n, cache, &sets);
	if (err == 0 && a->generic)
		err = kd_sets_defaults(sets, &names, &n_names);
	for (i = 0; i < n_names && err == 0; i++)
		err = kd_sets_expand(sets, names[i], w);
	for (i = 0; i < a->sets.n && err == 0; i++)
		err = kd_sets_expand(sets, a->sets.v[i], w);
	kd_sets_names_free(names, n_names);
	kd_sets_free(sets);
	if (err == -ENOENT)
		err = -EINVAL; /* an unknown set is bad input, like a malformed one */
	search_path_free(&sp);
	return err;
}

/* --hooks-dir first, then ROOT/etc/kindling/hooks.d, the source tree's
 * hooks/image, the installed DATADIR/hooks; *hooks stays NULL without --hook. */
static int load_hooks(struct build_args *a, struct kd_ctx *ctx, struct kd_hooks **hooks)
{
	const char *root = a->cli.opts.root ? a->cli.opts.root : "";
	const char *const *sets;
	struct search_path sp;
	int err;
	size_t i, n = 0;

	*hooks = NULL;
	if (a->hooks.n == 0)
		return 0;
	err = search_path(a, &a->hooks_dirs, "hooks.d", "hooks/image", NULL,
			  KD_DATADIR "/hooks", &sp);
	if (err == 0)
		err = kd_hooks_new(ctx, root, sp.dirs.v, sp.dirs.n, hooks);
	for (i = 0; i < a->hooks.n && err == 0; i++)
		err = kd_hooks_load(*hooks, a->hooks.v[i]);
	/* their sets join --set's (kd_hooks_sets' strings live as long as *hooks) */
	sets = err == 0 ? kd_hooks_sets(*hooks, &n) : NULL;

	for (i = 0; sets && i < n && err == 0; i++)
		err = list_add(&a->sets, sets[i]) < 0 ? -ENOMEM : 0;
	search_path_free(&sp);
	return err;
}

static int get_mtime(long long *mtime)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;

	*mtime = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	*mtime = strtoll(s, &end, 10);
	if (errno || *end || *mtime < 0 || *mtime > UINT32_MAX) {
		fprintf(stderr, "kindling build: SOURCE_DATE_EPOCH=%s is not a time in seconds "
			"(0 to 4294967295)\n", s);
		return -EINVAL;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the image's shape: --compress, --level, --format, --microcode ------
 * Checked before any work; 0 or 2 (bad input, message printed). */
static int craft_opts(const struct build_args *a, struct kd_image_opts *o)
{
	static const char *const formats[] = { "image", "cpio", "list" };
	const char *ucode = a->microcode ? a->microcode : "auto";
	const char *root = a->cli.opts.root;
	bool conf_level_dropped = false;
	char msg[128];
	size_t i;

	for (i = 0; a->format && i < 3 && strcmp(a->format, formats[i]); i++)
		;
	if (i == 3) {
		fprintf(stderr, "kindling build: --format %s: expected image, cpio or list\n",
			a->format);
		return 2;
	}
	o->format = (enum kd_format)(a->format ? i : 0);
	if (a->compress && kd_compress_parse(a->compress, &o->compress) < 0) {
		fprintf(stderr, "kindling build: --compress %s: expected zstd, xz, gzip, lz4 or "
			"none\n", a->compress);
		return 2;
	}
	if (o->format != KD_FORMAT_IMAGE && a->compress && !a->compress_from_conf &&
	    o->compress != KD_CODEC_NONE) {
		fprintf(stderr, "kindling build: --format %s is never compressed: drop "
			"--compress %s\n", a->format, a->compress);
		return 2;
	}
	if (o->format != KD_FORMAT_IMAGE)
		o->compress = KD_CODEC_NONE;
	/* the files' level is for the files' compressor, not another flag's */
	if (a->level_from_conf && a->compress && !a->compress_from_conf)
		conf_level_dropped = true;
	o->level = a->level;
	o->has_level = a->has_level && !conf_level_dropped;
	if (o->has_level && o->format == KD_FORMAT_IMAGE &&
	    kd_compress_check_level(o->compress, a->level, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "kindling build: %s %d: %s\n",
			a->level_from_conf ? "kindling.conf: level =" : "--level", a->level, msg);
		return 2;
	}
	if (o->format != KD_FORMAT_IMAGE)
		o->has_level = false; /* never compressed */
	if (strcmp(ucode, "none") == 0) {
		o->microcode = 0;
	} else if (strcmp(ucode, "all") == 0) {
		o->microcode = KD_UCODE_INTEL | KD_UCODE_AMD;
	} else if (strcmp(ucode, "auto") == 0) {
		/* for another machine (generic, or a ROOT): both vendors */
		o->microcode = a->generic || (root && *root) ? KD_UCODE_INTEL | KD_UCODE_AMD :
			       kd_microcode_host_vendor();
	} else {
		fprintf(stderr, "kindling build: --microcode %s: expected auto, all or none\n",
			ucode);
		return 2;
	}
	if (o->format != KD_FORMAT_IMAGE) {
		/* the kernel looks for early microcode only in the boot loader's initrd */
		if (a->microcode && !a->microcode_from_conf && o->microcode) {
			fprintf(stderr, "kindling build: --microcode %s needs --format image: the "
				"kernel reads early microcode only from the boot loader's "
				"initrd\n", ucode);
			return 2;
		}
		o->microcode = 0;
	}
	return 0;
}

static int write_image(struct build_args *a, struct kd_ctx *ctx, struct kd_modcache *cache,
		       const struct kd_plan *plan, struct kd_hooks *hooks, double t0)
{
	struct kd_image_opts o = a->shape;
	struct kd_image_stats st;
	char *init = a->init ? NULL : default_init();
	int err;

	o.output = a->output;
	o.init = a->init ? a->init : init;
	o.force = a->force;
	o.cache = cache;
	o.hooks = hooks;
	o.detect_text = a->detect_text.s;
	err = get_mtime(&o.mtime);
	if (err == 0)
		err = kd_image_write(ctx, plan, &o, &st);
	free(init);
	if (err < 0)
		return err;
	KD_INFO(kd_ctx_log(ctx), "wrote %s: %zu modules, %zu firmware files, %zu entries, %llu bytes "
		"(%llu uncompressed) in %.0f ms", a->output, st.n_modules, st.n_firmware,
		st.n_entries, st.size, st.raw_size, now_ms() - t0);
	return 0;
}

static int build(struct build_args *a, struct kd_ctx *ctx, double t0)
{
	struct kd_plan_opts po = { .omit = a->omits.v, .n_omit = a->omits.n,
				   .default_root = a->root_default,
				   .cmdline = a->default_cmdline, .root_timeout = a->root_timeout };
	struct kd_wants w = { 0 };
	struct kd_modcache cache;
	struct kd_plan plan = { 0 };
	struct kd_hooks *hooks = NULL;
	struct kd_detect detected = { 0 };
	int err = 0;

	kd_modcache_init(&cache, ctx, 0);
	err = load_hooks(a, ctx, &hooks);
	/* --add first: its reason wins over a set's for the same module */
	for (size_t i = 0; i < a->adds.n && err == 0; i++)
		err = kd_wants_add(&w, a->adds.v[i], i < a->n_conf_adds ? "kindling.conf add" :
				   "--add", KD_WANT_LOAD | KD_WANT_REQUIRED);
	if (err == 0 && hooks)
		err = kd_hooks_wants(hooks, &w);
	if (err == 0 && a->host_only)
		err = want_detected(a, ctx, &w, &detected, &a->detect_text);
	if (err == 0 && a->host_only && po.default_root == NULL)
		po.default_root = detected.root_spec;
	if (err == 0)
		err = want_sets(a, ctx, &cache, &w);
	KD_DBG(kd_ctx_log(ctx), "sets expanded: %zu names, %.0f ms", w.n, now_ms() - t0);
	if (err == 0)
		err = kd_plan_build(ctx, &w, &po, &plan);
	KD_DBG(kd_ctx_log(ctx), "plan computed: %zu modules, %.0f ms", plan.n, now_ms() - t0);
	if (err == 0 && a->host_only)
		plan.flags |= KP_PLAN_HOST_ONLY;
	if (err == 0 && a->print_plan)
		kd_plan_print(ctx, &plan, stdout);
	if (err == 0 && a->output)
		err = write_image(a, ctx, &cache, &plan, hooks, t0);
	kd_hooks_free(hooks);
	kd_plan_free(&plan);
	kd_detect_free(&detected);
	kd_str_free(&a->detect_text);
	kd_wants_free(&w);
	kd_modcache_free(&cache);
	return err;
}

int kd_cmd_build(int argc, char **argv)
{
	struct build_args a = { 0 };
	struct kd_buildconf conf;
	struct kd_ctx *ctx = NULL;
	struct stat sb;
	double t0 = now_ms();
	int rc, err;

	kd_buildconf_init(&conf);
	rc = conf_then_args(&a, &conf, argc, argv);

	if (rc != 0) {
		rc = rc == 1 ? 0 : rc; /* 1: --help */
		goto out;
	}
	rc = 1;
	/* refuse before the work rather than after it */
	if (a.output && !a.force && lstat(a.output, &sb) == 0) {
		fprintf(stderr, "kindling build: %s already exists (use --force to replace it)\n",
			a.output);
		goto out;
	}
	host_only_default(&a);
	if (!a.host_only && !a.generic && a.sets.n == 0 && a.adds.n == 0)
		a.generic = true;
	if (craft_opts(&a, &a.shape) != 0) {
		rc = 2;
		goto out;
	}
	if (kd_cli_open(&a.cli, &ctx) < 0) {
		rc = 2;
		goto out;
	}
	err = build(&a, ctx, t0);
	/* bad sets or options are bad input; a missing --add module is "not found" */
	rc = err == 0 ? 0 : err == -EINVAL || err == -ELOOP ? 2 : 1;
out:
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	kd_ctx_free(ctx);
	args_free(&a);
	kd_buildconf_free(&conf);
	return rc;
}
