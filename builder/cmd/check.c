// SPDX-License-Identifier: MIT
/*
 * kindling check IMAGE: a static boot-readiness check of a kindling image,
 * against the target kernel's files on this machine (under -r ROOT):
 *
 *   kernel    the image's kernel release has ROOT/lib/modules/KVER and
 *             ROOT/boot/vmlinuz-KVER;
 *   files     every module of the plan has its file in the image;
 *   deps      every dependency modules.dep gives a module of the image is
 *             in the image or built into the kernel;
 *   symbols   every undefined symbol of every module (read from the image's
 *             own module bytes) is exported by the kernel proper (ksyms.c
 *             says from which source) or by another module in the image;
 *   root      the root SPEC (--root, else the image's default root=)
 *             resolved to a block device of this machine, its chain detected
 *             against the target kernel (detect.c, root chain only): every
 *             module the chain needs is in the image or built in; the
 *             filesystem's fs-TYPE module too.  A SPEC that does not resolve
 *             here gets the fs-TYPE check only (type from --rootfstype or the
 *             image's rootfstype= default) and a note of what was not checked;
 *   firmware  every file a module names (modinfo firmware=) is in the image:
 *             missing firmware of a root-chain module is a problem, of any
 *             other module a warning (many drivers name firmware for
 *             variants of their hardware that this machine does not have).
 *
 * Every problem is one line "problem: ..." naming the module, symbol or
 * file; exit 0 when there is none, 1 otherwise, 2 for bad usage or an
 * image that cannot be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/plan.h"
#include "detect/detect.h"
#include "inspect/inspect.h"
#include "codec/codec.h"

enum { OPT_ROOTSPEC = KD_OPT_FIRST_FREE, OPT_ROOTFSTYPE, OPT_SYSROOT };

struct check {
	struct kd_cli cli;
	struct kd_ctx *ctx;
	struct kd_imgfiles f;
	const struct kp_plan *p;
	const char *image;
	const char *spec;       /* --root */
	const char *fstype;     /* --rootfstype */
	const char *kver;
	const char *root;       /* -r ROOT, "" for / */
	struct kd_map in_image; /* plan module name -> plan index */
	const char *sysroot;    /* --sysroot: detect from a fixture tree */
	struct kd_map root_mods; /* modules the root chain needs (firmware is a problem) */
	struct kd_map fs_checked; /* fs-TYPE modules judged ("" once the type was) */
	unsigned problems, warnings;
};

static void usage(FILE *f)
{
	fputs("usage: kindling check IMAGE [--root SPEC] [--rootfstype TYPE] [-k KVER]\n"
	      "                      [-r ROOT] [--sysroot DIR] [--moddir DIR] [-C DIR]...\n"
	      "                      [-q] [-v]\n"
	      "Checks statically that a kindling image can boot this machine with its\n"
	      "kernel: the kernel's files exist, every module's dependencies and undefined\n"
	      "symbols are satisfied by the kernel or another module in the image, the\n"
	      "root SPEC's drivers and filesystem module are in the image (SPEC: --root,\n"
	      "else the image's default root=), the firmware the modules name is there.\n"
	      "Prints one 'problem: ...' line per problem (warnings: 'warning: ...').\n"
	      "-k KVER checks against another kernel than the image's; -r ROOT reads the\n"
	      "kernel's files under ROOT (--root is the root SPEC here, not ROOT);\n"
	      "--sysroot DIR detects the root chain from DIR's sys/ and dev/disk/.\n"
	      "Exit status: 0 ready, 1 problems found, 2 bad usage or unreadable image.\n", f);
}

__attribute__((format(printf, 2, 3))) static void problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	fputs("problem: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((format(printf, 2, 3))) static void warning(struct check *c, const char *fmt, ...)
{
	va_list ap;

	c->warnings++;
	if (c->cli.verbosity == 0)
		return;
	fputs("warning: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((format(printf, 2, 3))) static void ok(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->cli.verbosity == 0)
		return;
	fputs("ok: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *mod_name(const struct check *c, uint32_t i)
{
	return kp_str(c->p, c->p->modules[i].name);
}

static bool path_exists(const char *path, bool dir)
{
	struct stat sb;

	return stat(path, &sb) == 0 && (dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

/* The kernel's module tree and image; 0 when the database can be opened. */
static int check_kernel(struct check *c)
{
	const char *img_kver = kp_str(c->p, c->p->hdr->kver);
	struct kd_str mods = { 0 }, vmlinuz = { 0 };
	bool have_mods, have_vmlinuz;

	if (c->cli.opts.kver && strcmp(c->cli.opts.kver, img_kver) != 0)
		problem(c, "the image is for kernel %s, not %s: its init refuses to run under "
			"another kernel", img_kver, c->cli.opts.kver);
	c->kver = c->cli.opts.kver ? c->cli.opts.kver : img_kver;
	kd_str_printf(&mods, "%s/lib/modules/%s", c->root, c->kver);
	kd_str_printf(&vmlinuz, "%s/boot/vmlinuz-%s", c->root, c->kver);
	have_mods = c->cli.opts.moddir ? path_exists(c->cli.opts.moddir, true) :
		    path_exists(mods.s, true);
	have_vmlinuz = path_exists(vmlinuz.s, false);
	if (!have_mods)
		problem(c, "kernel %s: no module tree %s (install the kernel's package); "
			"dependencies, symbols and the root chain cannot be checked", c->kver,
			c->cli.opts.moddir ? c->cli.opts.moddir : mods.s);
	if (!have_vmlinuz)
		problem(c, "kernel %s: no kernel image %s", c->kver, vmlinuz.s);
	if (have_mods && have_vmlinuz)
		ok(c, "kernel %s: %s and %s", c->kver,
		   c->cli.opts.moddir ? c->cli.opts.moddir : mods.s, vmlinuz.s);
	kd_str_free(&mods);
	kd_str_free(&vmlinuz);
	return have_mods ? 0 : -ENOENT;
}

/* The module's bytes as stored in the image (decompressed if stored so). */
static const struct kd_cpio_entry *module_entry(struct check *c, uint32_t i)
{
	const struct kd_cpio_entry *e = kd_imgfiles_get(&c->f, kp_str(c->p, c->p->modules[i].path));

	return e && S_ISREG(e->mode) ? e : NULL;
}

static int module_bytes(struct check *c, uint32_t i, struct kd_buf *out, const void **data,
			size_t *size)
{
	const struct kd_cpio_entry *e = module_entry(c, i);
	const char *path = kp_str(c->p, c->p->modules[i].path);

	out->data = NULL;
	if (e == NULL)
		return -ENOENT;
	*data = e->data;
	*size = e->size;
	switch (kd_codec_detect(e->data, e->size)) {
	case KD_CODEC_NONE:
		return 0;
	case KD_CODEC_XZ:
		if (kd_unxz(kd_ctx_log(c->ctx), path, e->data, e->size, out) < 0)
			return -EINVAL;
		break;
	case KD_CODEC_ZSTD:
		if (kd_unzstd(kd_ctx_log(c->ctx), path, e->data, e->size, out) < 0)
			return -EINVAL;
		break;
	case KD_CODEC_GZIP:
		if (kd_ungzip(kd_ctx_log(c->ctx), path, e->data, e->size, out) < 0)
			return -EINVAL;
		break;
	}
	*data = out->data;
	*size = out->size;
	return 0;
}

static void check_deps(struct check *c)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);
	unsigned before = c->problems, n_deps = 0;

	for (uint32_t i = 0; i < c->p->hdr->n_modules; i++) {
		const char *name = mod_name(c, i);
		int m = kd_module_find(c->ctx, name);

		if (module_entry(c, i) == NULL)
			problem(c, "module %s: its file %s is not in the image", name,
				kp_str(c->p, c->p->modules[i].path));
		if (m < 0 || !kd_db_mod(db, m)->in_dep) {
			problem(c, "module %s: not in kernel %s's modules.dep (the image was "
				"built from another module tree?)", name, c->kver);
			continue;
		}
		for (size_t d = 0; d < kd_db_mod(db, m)->n_deps; d++) {
			const struct kd_module *dep = kd_db_mod(db, kd_db_mod(db, m)->deps[d]);

			n_deps++;
			if (kd_map_get(&c->in_image, dep->name, NULL) || dep->builtin)
				continue;
			problem(c, "module %s needs module %s (modules.dep of %s), which is not "
				"in the image", name, dep->name, c->kver);
		}
	}
	if (c->problems == before)
		ok(c, "dependencies: %u modules, %u dependencies, all in the image or built in",
		   c->p->hdr->n_modules, n_deps);
}

/* The module of the target kernel that exports sym (modules.symbols), or NULL. */
static const char *symbol_owner(struct check *c, const char *sym)
{
	const struct kd_moddb *db = kd_ctx_db(c->ctx);

	for (size_t i = 0; i < db->n_symbols; i++) {
		const char *pat = db->symbols[i].pattern;

		if (strncmp(pat, "symbol:", 7) == 0 && strcmp(pat + 7, sym) == 0)
			return kd_db_mod(db, db->symbols[i].module)->name;
	}
	return NULL;
}

static void check_symbols(struct check *c)
{
	uint32_t n = c->p->hdr->n_modules;
	struct kd_symbols *syms = calloc(n ? n : 1, sizeof(*syms));
	struct kd_map exported = { 0 }; /* symbol -> exporting plan module */
	struct kd_ksyms ks;
	unsigned before = c->problems;
	size_t n_und = 0;
	bool have_ks;

	if (syms == NULL) {
		problem(c, "out of memory reading the modules' symbols");
		return;
	}
	have_ks = kd_ksyms_load(c->ctx, c->root, c->kver, &ks) == 0;
	if (!have_ks)
		problem(c, "symbols: no list of kernel %s's exported symbols (see the message "
			"above): undefined symbols not checked", c->kver);
	for (uint32_t i = 0; i < n; i++) {
		struct kd_buf b;
		const void *data;
		size_t size;

		if (module_bytes(c, i, &b, &data, &size) < 0)
			continue; /* reported by check_deps */
		if (kd_elf_symbols(c->ctx, kp_str(c->p, c->p->modules[i].path), data, size,
				   &syms[i]) < 0)
			problem(c, "module %s: cannot read its symbols (see the message above)",
				mod_name(c, i));
		kd_buf_free(&b);
		for (size_t s = 0; s < syms[i].n_exported; s++)
			kd_map_put(&exported, syms[i].exported[s], i);
	}
	for (uint32_t i = 0; i < n && have_ks; i++) {
		for (size_t s = 0; s < syms[i].n_undefined; s++) {
			const char *sym = syms[i].undefined[s], *owner;

			n_und++;
			if (kd_ksyms_has(&ks, sym) || kd_map_get(&exported, sym, NULL))
				continue;
			owner = symbol_owner(c, sym);
			if (owner)
				problem(c, "module %s needs symbol %s, exported by module %s, "
					"which is not in the image", mod_name(c, i), sym, owner);
			else
				problem(c, "module %s needs symbol %s, which neither kernel %s "
					"(%s) nor any module exports", mod_name(c, i), sym, c->kver,
					ks.source);
		}
	}
	if (have_ks && c->problems == before)
		ok(c, "symbols: %zu undefined symbols of %u modules, all exported by the kernel "
		   "(%s, %zu symbols) or a module in the image", n_und, n, ks.source, ks.n);
	for (uint32_t i = 0; i < n; i++)
		kd_symbols_free(&syms[i]);
	free(syms);
	kd_map_free(&exported);
	if (have_ks)
		kd_ksyms_free(&ks);
}

/* ---- the root ---------------------------------------------------------- */

/* blkid -l -o device -t TOKEN=VALUE, without a shell: the device or NULL. */
static char *blkid_find(const char *spec)
{
	char buf[PATH_MAX];
	int pfd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pfd) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(pfd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(pfd[0]);
		execlp("blkid", "blkid", "-l", "-o", "device", "-t", spec, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(pfd[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] == '/' ? kd_xstrdup(buf) : NULL;
}

/* SPEC as the init takes it, to a block device of this machine (or NULL). */
static char *resolve_spec(const char *spec)
{
	static const struct { const char *tag, *dir; } tags[] = {
		{ "UUID=", "/dev/disk/by-uuid/" }, { "LABEL=", "/dev/disk/by-label/" },
		{ "PARTUUID=", "/dev/disk/by-partuuid/" },
		{ "PARTLABEL=", "/dev/disk/by-partlabel/" },
	};
	char real[PATH_MAX];
	struct stat sb;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		size_t n = strlen(tags[i].tag);
		struct kd_str p = { 0 };
		char *dev = NULL;

		if (strncmp(spec, tags[i].tag, n) != 0)
			continue;
		kd_str_printf(&p, "%s%s", tags[i].dir, spec + n);
		if (p.s && realpath(p.s, real) && stat(real, &sb) == 0 && S_ISBLK(sb.st_mode))
			dev = kd_xstrdup(real);
		kd_str_free(&p);
		return dev ? dev : blkid_find(spec);
	}
	if (spec[0] == '/' && realpath(spec, real) && stat(real, &sb) == 0 &&
	    S_ISBLK(sb.st_mode))
		return kd_xstrdup(real);
	return NULL;
}

/* rootfstype= in the image's command-line defaults, into buf. */
static const char *plan_rootfstype(const struct check *c, char *buf, size_t size)
{
	const char *s = kp_str(c->p, c->p->hdr->cmdline), *q;

	for (q = s; (q = strstr(q, "rootfstype=")) != NULL; q++) {
		if (q != s && q[-1] != ' ')
			continue;
		q += strlen("rootfstype=");
		snprintf(buf, size, "%.*s", (int)strcspn(q, " \t\n"), q);
		return buf[0] ? buf : NULL;
	}
	return NULL;
}

/* Mark a module of the image and everything it loads after as root chain. */
static void mark_root(struct check *c, uint32_t i, unsigned depth)
{
	const struct kp_module *m = &c->p->modules[i];

	if (depth > c->p->hdr->n_modules || kd_map_put(&c->root_mods, mod_name(c, i), 0) != 0)
		return; /* seen before (or out of memory: only firmware severity is lost) */
	for (uint32_t d = 0; d < m->n_deps; d++)
		mark_root(c, c->p->deps[m->deps_first + d], depth + 1);
}

/* The filesystem's module (fs-TYPE) is in the image or built in. */
static void check_fstype(struct check *c, const char *fstype, const char *what)
{
	struct kd_str alias = { 0 };
	struct kd_lookup l;
	bool builtin = false, present = false;
	const char *missing = NULL;

	if (kd_map_get(&c->fs_checked, "", NULL))
		return; /* once */
	kd_map_put(&c->fs_checked, "", 0);
	kd_str_printf(&alias, "fs-%s", fstype);
	if (kd_lookup(c->ctx, alias.s, &l) < 0) {
		problem(c, "root %s: cannot look up %s in kernel %s", what, alias.s, c->kver);
		kd_str_free(&alias);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), l.insts[i]->mod);
		uint32_t idx;

		kd_map_put(&c->fs_checked, m->name, 0);
		if (m->builtin || l.insts[i]->builtin)
			builtin = true;
		else if (kd_map_get(&c->in_image, m->name, &idx))
			present = true, mark_root(c, idx, 0);
		else
			missing = m->name;
	}
	if (l.n == 0)
		problem(c, "root %s: kernel %s has no module or built-in driver for filesystem "
			"%s (%s)", what, c->kver, fstype, alias.s);
	else if (builtin)
		ok(c, "root %s: filesystem %s is built into kernel %s", what, fstype, c->kver);
	else if (present)
		ok(c, "root %s: filesystem %s: its module is in the image", what, fstype);
	else
		problem(c, "root %s: filesystem %s needs module %s (%s), which is not in the image",
			what, fstype, missing, alias.s);
	kd_lookup_free(&l);
	kd_str_free(&alias);
}

/* Is another module found for the same step (the same reason: one alias
 * with several providers, crypto-aes -> aesni_intel, padlock_aes) built in or
 * in the image?  One provider is enough. */
static bool alternative(struct check *c, const struct kd_detect *d,
			const struct kd_detect_item *it)
{
	for (size_t i = 0; i < d->n_items; i++) {
		const struct kd_detect_item *o = &d->items[i];

		if (o != it && o->root && strcmp(o->reason, it->reason) == 0 &&
		    (o->builtin || kd_map_get(&c->in_image, o->module, NULL)))
			return true;
	}
	return false;
}

/* detect.c's root chain for dev: each module it needs is in the image (the
 * filesystem's are judged by check_fstype, once, with the type given or
 * found).  -errno when detection fails (logged). */
static int check_chain(struct check *c, const char *spec, const char *dev, const char *fstype)
{
	struct kd_detect_opts o = { .sysroot = c->sysroot, .root_device = dev,
				    .policy = KD_DETECT_ROOT_ONLY };
	struct kd_detect d;
	unsigned before, n = 0;
	int err = kd_detect_run(c->ctx, &o, &d);

	if (err < 0)
		return err;
	if (fstype == NULL)
		fstype = d.root_fstype;
	if (fstype)
		check_fstype(c, fstype, spec);
	else
		warning(c, "root %s: filesystem type unknown (give --rootfstype): its module "
			"was not checked", spec);
	before = c->problems;
	for (size_t i = 0; i < d.n_items; i++) {
		const struct kd_detect_item *it = &d.items[i];
		uint32_t idx;

		if (!it->root || it->builtin || kd_map_get(&c->fs_checked, it->module, NULL))
			continue;
		n++;
		if (kd_map_get(&c->in_image, it->module, &idx))
			mark_root(c, idx, 0);
		else if (!alternative(c, &d, it))
			problem(c, "root %s: module %s is not in the image; the root chain needs "
				"it: %s", spec, it->module, it->reason);
	}
	if (c->problems == before)
		ok(c, "root %s: device %s, its chain needs %u module%s beyond the filesystem's: "
		   "all in the image", spec, d.root_source ? d.root_source : dev, n,
		   n == 1 ? "" : "s");
	kd_detect_free(&d);
	return 0;
}

static void check_root(struct check *c)
{
	const char *spec = c->spec, *fstype = c->fstype;
	char fsbuf[64], *dev;

	if (spec == NULL || spec[0] == '\0')
		spec = kp_str(c->p, c->p->hdr->default_root);
	if (spec[0] == '\0') {
		warning(c, "root: not checked: no --root SPEC and the image has no default root=");
		return;
	}
	if (fstype == NULL)
		fstype = plan_rootfstype(c, fsbuf, sizeof(fsbuf));
	/* with --sysroot the fixture's dev/disk resolves SPEC, inside detect */
	dev = c->sysroot ? kd_xstrdup(spec) : resolve_spec(spec);
	if (dev && check_chain(c, spec, dev, fstype) == 0) {
		free(dev);
		return;
	}
	warning(c, "root %s: %s: its device chain was not checked", spec, dev ?
		"the chain cannot be detected (see the message above)" :
		"not a block device of this machine (no /dev/disk/by-* link, blkid does "
		"not find it)");
	if (fstype)
		check_fstype(c, fstype, spec);
	else
		warning(c, "root %s: filesystem type unknown (give --rootfstype): its module "
			"was not checked", spec);
	free(dev);
}

/* ---- firmware ------------------------------------------------------------ */

static bool firmware_present(struct check *c, const char *name)
{
	static const char *const sfx[] = { "", ".zst", ".xz" };
	static const char *const pre[] = { "usr/lib", "lib" };
	struct kd_str p = { 0 };
	bool found = false;

	for (int r = 0; r < 2 && !found; r++) {
		for (int d = 0; d < 4 && !found; d++) {
			for (int s = 0; s < 3 && !found; s++) {
				p.len = 0;
				if (d == 0)
					kd_str_printf(&p, "%s/firmware/updates/%s/%s%s", pre[r],
						      c->kver, name, sfx[s]);
				else if (d == 1)
					kd_str_printf(&p, "%s/firmware/updates/%s%s", pre[r], name,
						      sfx[s]);
				else if (d == 2)
					kd_str_printf(&p, "%s/firmware/%s/%s%s", pre[r], c->kver,
						      name, sfx[s]);
				else
					kd_str_printf(&p, "%s/firmware/%s%s", pre[r], name, sfx[s]);
				found = p.s && kd_imgfiles_get(&c->f, p.s) != NULL;
			}
		}
	}
	kd_str_free(&p);
	return found;
}

static void check_firmware(struct check *c)
{
	unsigned before = c->problems, n_fw = 0, n_missing = 0;

	for (uint32_t i = 0; i < c->p->hdr->n_modules; i++) {
		struct kd_modinfo mi = { 0 };
		struct kd_str miss = { 0 };
		const char *fw, *name = mod_name(c, i);
		const void *data;
		size_t size, it = 0;
		struct kd_buf b;

		if (module_bytes(c, i, &b, &data, &size) < 0)
			continue;
		if (kd_elf_modinfo(c->ctx, name, data, size, &mi) < 0) {
			problem(c, "module %s: cannot read its .modinfo", name);
			kd_buf_free(&b);
			continue;
		}
		while ((fw = kd_modinfo_next(&mi, "firmware", &it)) != NULL) {
			n_fw++;
			if (firmware_present(c, fw))
				continue;
			n_missing++;
			kd_str_printf(&miss, "%s%s", miss.len ? ", " : "", fw);
		}
		if (miss.len && kd_map_get(&c->root_mods, name, NULL))
			problem(c, "module %s (root chain) names firmware not in the image: %s",
				name, miss.s);
		else if (miss.len)
			warning(c, "module %s names firmware not in the image: %s", name, miss.s);
		kd_str_free(&miss);
		kd_modinfo_free(&mi);
		kd_buf_free(&b);
	}
	if (c->problems == before)
		ok(c, "firmware: %u files named, %u in the image, %u missing (not on the root "
		   "chain)", n_fw, n_fw - n_missing, n_missing);
}

int kd_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOTSPEC },
		{ "rootfstype", required_argument, NULL, OPT_ROOTFSTYPE },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "kver", required_argument, NULL, 'k' },
		{ "config-dir", required_argument, NULL, 'C' },
		{ "moddir", required_argument, NULL, KD_OPT_MODDIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	struct check c = { 0 };
	int opt, rc;

	kd_cli_init(&c.cli, "kindling check");
	while ((opt = getopt_long(argc, argv, KD_CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		int r = opt == OPT_ROOTSPEC || opt == OPT_ROOTFSTYPE || opt == OPT_SYSROOT ? 1 :
			kd_cli_option(&c.cli, opt, optarg);

		if (opt == OPT_ROOTSPEC)
			c.spec = optarg;
		else if (opt == OPT_ROOTFSTYPE)
			c.fstype = optarg;
		else if (opt == OPT_SYSROOT)
			c.sysroot = optarg;
		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : 2;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	c.image = argv[optind];
	c.root = c.cli.opts.root ? c.cli.opts.root : "";
	if (kd_imgfiles_open(&log, c.image, &c.f) < 0)
		return 2;
	if (kd_imgfiles_need_plan(&log, &c.f) < 0) {
		kd_imgfiles_free(&c.f);
		return 2;
	}
	c.p = c.f.plan;
	for (uint32_t i = 0; i < c.p->hdr->n_modules; i++)
		kd_map_put(&c.in_image, mod_name(&c, i), i);
	if (c.cli.verbosity)
		printf("checking %s: kernel %s, %u modules%s\n", c.image,
		       kp_str(c.p, c.p->hdr->kver), c.p->hdr->n_modules,
		       c.p->hdr->flags & KP_PLAN_HOST_ONLY ? ", host-only" : "");
	if (check_kernel(&c) == 0) {
		if (!c.cli.opts.kver)
			c.cli.opts.kver = c.kver;
		if (kd_cli_open(&c.cli, &c.ctx) < 0) {
			problem(&c, "kernel %s: its module database cannot be read (see the "
				"message above)", c.kver);
		} else {
			check_deps(&c);
			check_symbols(&c);
			check_root(&c);
			check_firmware(&c);
		}
	}
	if (c.problems)
		printf("%s: %u problem%s: not ready to boot\n", c.image, c.problems,
		       c.problems == 1 ? "" : "s");
	else
		printf("%s: ready to boot (%u warning%s)\n", c.image, c.warnings,
		       c.warnings == 1 ? "" : "s");
	rc = c.problems ? 1 : 0;
	kd_map_free(&c.in_image);
	kd_map_free(&c.root_mods);
	kd_map_free(&c.fs_checked);
	kd_ctx_free(c.ctx);
	kd_imgfiles_free(&c.f);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("kindling: check: writing the report");
		rc = 1;
	}
	return rc;
}
