// SPDX-License-Identifier: MIT
/*
 * The build pipeline: kindling.conf and the options settled (settings.c),
 * then detect (host-only) -> the wants of --add, the hooks, detection and
 * the sets -> the load plan -> the image.  `kindling build` and `kindling
 * update` both call kd_build; so may any C program that fills the options.
 *
 * Host-only: the detected modules join the wants with their reasons
 * (root-chain ones load at every boot), the plan is marked
 * KP_PLAN_HOST_ONLY, the detected root is the default root= unless one is
 * given, and what detection left out is written to etc/kindling/detect.txt
 * for `kindling explain`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "build/build.h"
#include "common/plan.h" /* KP_PLAN_HOST_ONLY */
#include "detect/detect.h"
#include "image/image.h"
#include "plan/plan.h"

void kd_build_opts_init(struct kd_build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->root_timeout = -1;
	o->level = -1;
}

int kd_build_exit(int err)
{
	if (err == 0)
		return 0;
	return err == -EINVAL || err == -ELOOP ? 2 : 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One build's state, for the steps below. */
struct build {
	const struct kd_build_opts *o;
	struct kd_build_settings s;
	struct kd_ctx *ctx;
	struct kd_modcache cache;
	struct kd_hooks *hooks;      /* NULL without hooks */
	struct kd_wants w;
	struct kd_detect detected;
	struct kd_str detect_text;   /* etc/kindling/detect.txt of the image */
	struct kd_plan_opts po;
	struct kd_plan plan;
	double t0;
};

/* The hooks chosen, read; their sets join the settings' sets. */
static int load_hooks(struct build *b)
{
	struct kd_strv dirs = { 0 };
	const char *const *sets;
	size_t n;
	int err;

	if (b->s.hooks.n == 0)
		return 0;
	kd_search_path(KD_SEARCH_HOOKS, b->o->db.root, b->o->hooks_dirs, &dirs);
	err = kd_hooks_new(b->ctx, b->o->db.root ? b->o->db.root : "",
			   (const char *const *)dirs.v, dirs.n, &b->hooks);
	kd_strv_free(&dirs);
	for (size_t i = 0; i < b->s.hooks.n && err == 0; i++)
		err = kd_hooks_load(b->hooks, b->s.hooks.v[i]);
	if (err < 0)
		return err;
	sets = kd_hooks_sets(b->hooks, &n);
	for (size_t i = 0; i < n; i++)
		kd_strv_add(&b->s.sets, sets[i]);
	return 0;
}

/* --add first: its reason wins over a set's for the same module. */
static int want_adds(struct build *b)
{
	for (size_t i = 0; i < b->s.adds.n; i++)
		kd_wants_add(&b->w, b->s.adds.v[i],
			     i < b->s.n_conf_adds ? "kindling.conf add" : "--add",
			     KD_WANT_LOAD | KD_WANT_REQUIRED);
	if (b->hooks)
		kd_hooks_wants(b->hooks, &b->w);
	return 0;
}

static int want_detected(struct build *b)
{
	const struct kd_build_opts *o = b->o;
	struct kd_detect_opts d = { .sysroot = o->sysroot, .root_device = o->root_device };
	struct kd_detect *det = &b->detected;
	char *fstab = NULL;
	int err;

	if (!b->s.host_only)
		return 0;
	/* a chroot (-r ROOT): its fstab names the root */
	if (o->sysroot == NULL && o->db.root && *o->db.root)
		d.fstab = fstab = kd_xasprintf("%s/etc/fstab", o->db.root);
	err = kd_detect_run(b->ctx, &d, det);
	free(fstab);
	if (err < 0)
		return err;
	for (size_t i = 0; i < det->n_items; i++) {
		if (det->items[i].builtin)
			continue; /* nothing to add; the plan lists the kernel's built-ins */
		kd_wants_add(&b->w, det->items[i].module, det->items[i].reason,
			     det->items[i].root ? KD_WANT_LOAD : 0);
	}
	kd_detect_format(det, &b->detect_text);
	KD_INFO(kd_ctx_log(b->ctx), "host-only: %zu modules detected, root %s (%s), default root=%s",
		det->n_items, det->root_source, det->root_fstype ? det->root_fstype : "type unknown",
		det->root_spec);
	if (b->po.default_root == NULL)
		b->po.default_root = det->root_spec;
	return 0;
}

/* --generic's sets (default.list), then the sets chosen. */
static int want_sets(struct build *b)
{
	struct kd_strv dirs = { 0 };
	struct kd_sets *sets = NULL;
	char **names = NULL;
	size_t n_names = 0, i;
	int err;

	kd_search_path(KD_SEARCH_SETS, b->o->db.root, b->o->sets_dirs, &dirs);
	err = kd_sets_new(b->ctx, (const char *const *)dirs.v, dirs.n, &b->cache, &sets);
	if (err < 0)
		goto out;
	if (b->s.generic) {
		err = kd_sets_defaults(sets, &names, &n_names);
		if (err < 0)
			goto out;
	}
	/* --generic's first, then the sets chosen */
	for (i = 0; i < n_names && err == 0; i++)
		err = kd_sets_expand(sets, names[i], &b->w);
	for (i = 0; i < b->s.sets.n && err == 0; i++)
		err = kd_sets_expand(sets, b->s.sets.v[i], &b->w);
out:
	kd_sets_names_free(names, n_names);
	kd_sets_free(sets);
	kd_strv_free(&dirs);
	KD_DBG(kd_ctx_log(b->ctx), "sets expanded: %zu names, %.0f ms", kd_wants_count(&b->w),
	       now_ms() - b->t0);
	return err == -ENOENT ? -EINVAL : err; /* an unknown set is bad input, like a malformed one */
}

static int make_plan(struct build *b)
{
	int err = kd_plan_build(b->ctx, &b->w, &b->po, &b->plan);

	KD_DBG(kd_ctx_log(b->ctx), "plan computed: %zu modules, %.0f ms", b->plan.n,
	       now_ms() - b->t0);
	if (err < 0)
		return err;
	if (b->s.host_only)
		b->plan.flags |= KP_PLAN_HOST_ONLY;
	if (b->o->print_plan)
		kd_plan_print(b->ctx, &b->plan, stdout);
	return 0;
}

/* Every entry's mtime: SOURCE_DATE_EPOCH, else 0. */
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

static int write_image(struct build *b)
{
	const struct kd_build_opts *o = b->o;
	struct kd_image_opts io = b->s.shape;
	struct kd_image_stats st;
	char *init = o->init ? NULL : kd_default_init();
	int err;

	if (o->output == NULL)
		return 0;
	io.output = o->output;
	io.init = o->init ? o->init : init;
	io.force = o->force;
	io.cache = &b->cache;
	io.hooks = b->hooks;
	io.detect_text = b->detect_text.s;
	err = get_mtime(&io.mtime);
	if (err < 0)
		goto out;
	err = kd_image_write(b->ctx, &b->plan, &io, &st);
out:
	free(init);
	if (err < 0)
		return err;
	KD_INFO(kd_ctx_log(b->ctx), "wrote %s: %zu modules, %zu firmware files, %zu entries, "
		"%llu bytes (%llu uncompressed) in %.0f ms", o->output, st.n_modules,
		st.n_firmware, st.n_entries, st.size, st.raw_size, now_ms() - b->t0);
	return 0;
}

/* The steps, in order, once the settings are known and the database open. */
static int run(struct build *b)
{
	static int (*const steps[])(struct build *b) = {
		load_hooks, want_adds, want_detected, want_sets, make_plan, write_image,
	};
	int err = 0;

	b->po = (struct kd_plan_opts){
		.omit = (const char *const *)b->s.omits.v, .n_omit = b->s.omits.n,
		.default_root = b->s.root_default, .cmdline = b->s.cmdline,
		.root_timeout = b->s.root_timeout,
	};
	kd_modcache_init(&b->cache, b->ctx, 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && err == 0; i++)
		err = steps[i](b);
	kd_hooks_free(b->hooks);
	kd_plan_free(&b->plan);
	kd_detect_free(&b->detected);
	kd_str_free(&b->detect_text);
	kd_wants_free(&b->w);
	kd_modcache_free(&b->cache);
	return err;
}

int kd_build(const struct kd_build_opts *o)
{
	const struct kd_log log = o->db.log.fn ? o->db.log : KD_LOG_STDERR(KD_LOG_ERR);
	struct build b = { .o = o, .t0 = now_ms() };
	struct kd_buildconf conf;
	struct stat sb;
	int err = 0;

	kd_buildconf_init(&conf);
	if (!o->no_config && kd_buildconf_load(&log, &conf, o->db.root, o->config) < 0) {
		err = -EINVAL;
		goto out;
	}
	/* refuse before the work rather than after it */
	if (o->output && !o->force && lstat(o->output, &sb) == 0) {
		fprintf(stderr, "kindling build: %s already exists (use --force to replace it)\n",
			o->output);
		err = -EEXIST;
		goto out;
	}
	err = kd_build_settle(o, &conf, &b.s);
	if (err < 0)
		goto out;
	if (kd_ctx_new(&o->db, &b.ctx) < 0) {
		err = -EINVAL; /* no module database for that kernel: bad input */
		goto out;
	}
	err = run(&b);
out:
	kd_ctx_free(b.ctx);
	kd_build_settings_free(&b.s);
	kd_buildconf_free(&conf);
	return err;
}
