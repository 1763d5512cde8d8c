// SPDX-License-Identifier: MIT
/*
 * One kernel's module database: the context that owns it, and the readers
 * of depmod's text indexes (modules.dep, .alias, .symbols, .builtin,
 * .builtin.modinfo, .order).  When depmod's output is missing or older than
 * the modules, depgen.c computes the same text from the modules themselves.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "moddb/moddb.h"
#include "moddb/internal.h"

#define NAME_MAX_LEN 256

int kd_module_find(struct kd_ctx *ctx, const char *name)
{
	return (int)kd_olist_find(&ctx->db.mods, name);
}

uint32_t kd_module_get(struct kd_ctx *ctx, const char *name)
{
	struct kd_olist *mods = &ctx->db.mods;
	long idx = kd_olist_find(mods, name);
	struct kd_module *m;

	if (idx >= 0)
		return (uint32_t)idx;
	m = kd_olist_add(mods, name, NULL);
	m->name = kd_xstrdup(name);
	m->order = -1;
	m->alias_rank = UINT32_MAX;
	return (uint32_t)(mods->n - 1);
}

/* The module a path names, or -1 when it names none ("", "/", ".ko"). */
static int module_from_path(struct kd_ctx *ctx, const char *path)
{
	char name[NAME_MAX_LEN];

	kd_modname_from_path(path, name, sizeof(name));
	if (name[0] == '\0')
		return -1;
	return (int)kd_module_get(ctx, name);
}

/* The lines of a depmod index that carry something (not blank, not '#'). */
static char *next_entry(struct kd_lines *l)
{
	char *line;

	while ((line = kd_lines_next(l)) != NULL)
		if (line[0] != '\0' && line[0] != '#')
			return line;
	return NULL;
}

static void parse_dep_line(struct kd_ctx *ctx, const struct kd_lines *l, char *line)
{
	char *colon = strchr(line, ':'), *p, *tok;
	struct kd_module *m;
	size_t cap = 0;
	int idx;

	if (colon == NULL) {
		KD_LINE_WARN(l, kd_ctx_log(ctx), "ignoring line without ':'");
		return;
	}
	*colon = '\0';
	idx = module_from_path(ctx, line);
	if (idx < 0) {
		KD_LINE_WARN(l, kd_ctx_log(ctx), "ignoring line with an empty module path");
		return;
	}
	m = kd_db_mod(&ctx->db, (uint32_t)idx);
	if (m->in_dep) /* the first line for a name wins, as in depmod's index */
		return;
	m->in_dep = true;
	free(m->path);
	m->path = kd_xstrdup(line);
	p = colon + 1;
	while ((tok = strsep(&p, " \t")) != NULL) {
		int dep = *tok ? module_from_path(ctx, tok) : -1;

		if (dep < 0)
			continue;
		m = kd_db_mod(&ctx->db, (uint32_t)idx); /* kd_module_get may have moved it */
		KD_GROW(m->deps, m->n_deps, cap);
		m->deps[m->n_deps++] = (uint32_t)dep;
	}
}

void kd_moddb_parse_dep(struct kd_ctx *ctx, const char *filename, const char *text)
{
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, filename, text, strlen(text), false);
	while ((line = next_entry(&l)) != NULL)
		parse_dep_line(ctx, &l, line);
	kd_lines_free(&l);
}

static void push_alias(struct kd_alias **arr, size_t *n, size_t *cap, const char *pattern,
		       uint32_t mod)
{
	struct kd_alias *a;

	KD_GROW(*arr, *n, *cap);
	a = &(*arr)[(*n)++];
	a->pattern = kd_xstrdup(pattern);
	a->module = mod;
	a->prefix = (uint32_t)strcspn(pattern, "*?[");
	a->wild = pattern[a->prefix] != '\0';
}

/* "alias PATTERN MODULE" lines; modules.symbols has the same shape. */
void kd_moddb_parse_alias(struct kd_ctx *ctx, const char *filename, const char *text,
			  bool symbols)
{
	struct kd_moddb *db = &ctx->db;
	char norm[4096], name[NAME_MAX_LEN];
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, filename, text, strlen(text), false);
	while ((line = next_entry(&l)) != NULL) {
		char *p = line, *kw, *pattern, *modname;
		struct kd_module *m;
		uint32_t idx;

		kw = strsep(&p, " \t");
		pattern = strsep(&p, " \t");
		modname = strsep(&p, " \t");
		if (strcmp(kw, "alias") != 0 || pattern == NULL || modname == NULL ||
		    *pattern == '\0' || *modname == '\0') {
			KD_LINE_WARN(&l, kd_ctx_log(ctx),
				     "ignoring bad line (expected 'alias PATTERN MODULE')");
			continue;
		}
		if (kd_alias_normalize(pattern, norm, sizeof(norm)) < 0) {
			KD_LINE_WARN(&l, kd_ctx_log(ctx), "ignoring alias with unmatched bracket: %s",
				     pattern);
			continue;
		}
		kd_modname_normalize(modname, name, sizeof(name));
		idx = kd_module_get(ctx, name);
		if (symbols) {
			push_alias(&db->symbols, &db->n_symbols, &db->cap_symbols, norm, idx);
			continue;
		}
		m = kd_db_mod(db, idx);
		if (m->alias_rank == UINT32_MAX)
			m->alias_rank = (uint32_t)db->n_aliases;
		push_alias(&db->aliases, &db->n_aliases, &db->cap_aliases, norm, idx);
	}
	kd_lines_free(&l);
}

/*
 * Files that list one module path a line (modules.builtin, modules.order):
 * mark(ctx, index, n) is called for each, with n counting the lines seen.
 */
static void parse_path_list(struct kd_ctx *ctx, const char *filename, const char *text,
			    void (*mark)(struct kd_ctx *ctx, uint32_t idx, int *n))
{
	struct kd_lines l;
	char *line;
	int n = 0;

	kd_lines_init(&l, filename, text, strlen(text), false);
	while ((line = next_entry(&l)) != NULL) {
		int idx = module_from_path(ctx, line);

		if (idx >= 0)
			mark(ctx, (uint32_t)idx, &n);
	}
	kd_lines_free(&l);
}

static void mark_builtin(struct kd_ctx *ctx, uint32_t idx, int *n)
{
	(void)n;
	kd_db_mod(&ctx->db, idx)->builtin = true;
}

void kd_moddb_parse_builtin(struct kd_ctx *ctx, const char *filename, const char *text)
{
	parse_path_list(ctx, filename, text, mark_builtin);
}

/* "MODNAME.KEY=VALUE\0" records; aliases of built-in modules. */
void kd_moddb_parse_builtin_modinfo(struct kd_ctx *ctx, const char *filename,
				    const char *text, size_t len)
{
	struct kd_moddb *db = &ctx->db;
	size_t off = 0;
	char norm[4096], name[NAME_MAX_LEN];

	while (off < len) {
		const char *rec = text + off, *dot, *eq;
		size_t rlen = strnlen(rec, len - off);

		off += rlen + 1;
		if (rlen == 0)
			continue;
		dot = memchr(rec, '.', rlen);
		eq = dot ? memchr(dot, '=', rlen - (size_t)(dot - rec)) : NULL;
		if (dot == NULL || eq == NULL || dot == rec ||
		    (size_t)(dot - rec) >= sizeof(name)) {
			KD_WARN(kd_ctx_log(ctx), "%s: ignoring malformed record at byte %zu",
				filename, (size_t)(rec - text));
			continue;
		}
		if ((size_t)(eq - dot - 1) != 5 || memcmp(dot + 1, "alias", 5) != 0)
			continue;
		if (rlen - (size_t)(eq + 1 - rec) == 0 || rec[rlen] != '\0')
			continue;
		if (kd_alias_normalize(eq + 1, norm, sizeof(norm)) < 0) {
			KD_WARN(kd_ctx_log(ctx), "%s: ignoring alias with unmatched bracket: %s", filename,
				eq + 1);
			continue;
		}
		memcpy(name, rec, (size_t)(dot - rec));
		name[dot - rec] = '\0';
		kd_modname_normalize(name, name, sizeof(name));
		push_alias(&db->builtin_aliases, &db->n_builtin_aliases, &db->cap_builtin_aliases,
			   norm, kd_module_get(ctx, name));
	}
}

static void mark_order(struct kd_ctx *ctx, uint32_t idx, int *n)
{
	struct kd_module *m = kd_db_mod(&ctx->db, idx);

	if (m->order < 0)
		m->order = (*n)++;
}

void kd_moddb_parse_order(struct kd_ctx *ctx, const char *filename, const char *text)
{
	parse_path_list(ctx, filename, text, mark_order);
}

/* Read MODDIR/NAME; absent files are fine (-ENOENT, silently). */
static int read_index(struct kd_ctx *ctx, const char *name, struct kd_buf *b, char **path)
{
	*path = kd_path_join(ctx->moddir, name);
	return kd_read_file(kd_ctx_log(ctx), *path, b);
}

typedef void (*text_parser)(struct kd_ctx *ctx, const char *filename, const char *text);

static int load_index(struct kd_ctx *ctx, const char *name, text_parser parse)
{
	struct kd_buf b;
	char *path;
	int err = read_index(ctx, name, &b, &path);

	if (err == 0)
		parse(ctx, path, (char *)b.data);
	kd_buf_free(&b);
	free(path);
	return err == -ENOENT ? 0 : err;
}

static void parse_alias_file(struct kd_ctx *ctx, const char *fn, const char *text)
{
	kd_moddb_parse_alias(ctx, fn, text, false);
}

static void parse_symbols_file(struct kd_ctx *ctx, const char *fn, const char *text)
{
	kd_moddb_parse_alias(ctx, fn, text, true);
}

/*
 * depmod's output is stale when modules.order or modules.builtin (written
 * by the kernel's modules_install) or a directory holding modules (a module
 * added or removed) is newer than modules.dep.
 * Directories, not files, keep this at ~900 stats for a distro kernel;
 * a module overwritten in place is not noticed.  Sets *why to the culprit.
 */
static bool moddep_stale(struct kd_ctx *ctx, const struct stat *dep_st, char **why)
{
	static const char *const files[] = { "modules.order", "modules.builtin" };
	struct kd_map seen = { 0 };
	struct stat st;
	bool stale = false;
	char *p;
	size_t i;

	for (i = 0; i < 2; i++) {
		p = kd_path_join(ctx->moddir, files[i]);
		if (stat(p, &st) == 0 && st.st_mtime > dep_st->st_mtime) {
			*why = p;
			return true;
		}
		free(p);
	}
	for (i = 0; i < ctx->db.mods.n && !stale; i++) {
		const struct kd_module *m = kd_db_mod(&ctx->db, (uint32_t)i);
		char *slash;

		if (!m->in_dep || m->path == NULL)
			continue;
		p = kd_module_fullpath(ctx, (uint32_t)i);
		slash = strrchr(p, '/');
		if (slash == NULL) {
			free(p);
			continue;
		}
		*slash = '\0';
		if (!kd_map_get(&seen, p, NULL)) {
			kd_map_put(&seen, p, 0);
			if (stat(p, &st) != 0 || st.st_mtime > dep_st->st_mtime)
				stale = true;
		}
		*slash = '/';
		if (stale)
			*why = p;
		else
			free(p);
	}
	kd_map_free(&seen);
	return stale;
}

static void moddb_init(struct kd_moddb *db)
{
	memset(db, 0, sizeof(*db));
	kd_olist_init(&db->mods, sizeof(struct kd_module));
}

static void moddb_clear(struct kd_moddb *db)
{
	size_t i;

	for (i = 0; i < db->mods.n; i++) {
		struct kd_module *m = kd_db_mod(db, (uint32_t)i);

		free(m->name);
		free(m->path);
		free(m->deps);
	}
	for (i = 0; i < db->n_aliases; i++)
		free(db->aliases[i].pattern);
	for (i = 0; i < db->n_symbols; i++)
		free(db->symbols[i].pattern);
	for (i = 0; i < db->n_builtin_aliases; i++)
		free(db->builtin_aliases[i].pattern);
	kd_olist_free(&db->mods);
	free(db->aliases);
	free(db->symbols);
	free(db->builtin_aliases);
	kd_alias_index_free(&db->aliases_ix);
	kd_alias_index_free(&db->symbols_ix);
	kd_alias_index_free(&db->builtin_aliases_ix);
	kd_depgen_free(&db->gen);
	moddb_init(db);
}

/* depgen's text in place of depmod's files. */
static int load_generated(struct kd_ctx *ctx)
{
	struct kd_moddb *db = &ctx->db;
	int err = kd_depgen_run(ctx, ctx->moddir, &db->gen);

	if (err < 0)
		return err;
	db->generated = true;
	kd_moddb_parse_dep(ctx, "modules.dep (computed)", db->gen.dep);
	kd_moddb_parse_alias(ctx, "modules.alias (computed)", db->gen.alias, false);
	kd_moddb_parse_alias(ctx, "modules.symbols (computed)", db->gen.symbols, true);
	return 0;
}

/* depmod's modules.dep, .alias and .symbols: 1 when they are absent or stale
 * (then nothing is kept), 0 when read, else an error. */
static int load_depmod(struct kd_ctx *ctx)
{
	struct kd_buf b;
	struct stat st;
	char *path, *why = NULL;
	int err = read_index(ctx, "modules.dep", &b, &path);

	if (err == -ENOENT) {
		KD_INFO(kd_ctx_log(ctx), "%s: no modules.dep; computing dependencies from the modules",
			ctx->moddir);
		err = 1;
		goto out;
	}
	if (err < 0)
		goto out;
	kd_moddb_parse_dep(ctx, path, (char *)b.data);
	if (stat(path, &st) == 0 && moddep_stale(ctx, &st, &why)) {
		KD_WARN(kd_ctx_log(ctx), "%s is older than %s: computing dependencies from the "
			"modules themselves (run depmod to refresh it)", path, why);
		moddb_clear(&ctx->db);
		err = 1;
		goto out;
	}
	err = load_index(ctx, "modules.alias", parse_alias_file);
	if (err < 0)
		goto out;
	err = load_index(ctx, "modules.symbols", parse_symbols_file);
out:
	kd_buf_free(&b);
	free(path);
	free(why);
	return err;
}

static int load_builtin_modinfo(struct kd_ctx *ctx)
{
	struct kd_buf b;
	char *path;
	int err = read_index(ctx, "modules.builtin.modinfo", &b, &path);

	if (err == 0)
		kd_moddb_parse_builtin_modinfo(ctx, path, (char *)b.data, b.size);
	kd_buf_free(&b);
	free(path);
	return err == -ENOENT ? 0 : err;
}

static int moddb_load(struct kd_ctx *ctx)
{
	int err = ctx->force_depgen ? 1 : load_depmod(ctx);

	if (err == 1)
		err = load_generated(ctx);
	if (err < 0)
		return err;
	err = load_index(ctx, "modules.builtin", kd_moddb_parse_builtin);
	if (err < 0)
		return err;
	err = load_builtin_modinfo(ctx);
	if (err < 0)
		return err;
	err = load_index(ctx, "modules.order", kd_moddb_parse_order);
	if (err < 0)
		return err;
	/* an empty tree is a kernel whose modules are not installed (or were
	 * removed), never a kernel that needs none: it would give an image that
	 * cannot mount anything */
	if (ctx->db.mods.n == 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: no modules, no modules.dep and no modules.builtin: is this "
		       "kernel's package installed? (check -k, -r and --moddir)", ctx->moddir);
		return -ENOENT;
	}
	return 0;
}

static bool is_moddir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Newest release under ROOT/lib/modules, by version order. */
static char *newest_kver(const char *base)
{
	struct dirent **ents;
	char *best = NULL;
	int n = scandir(base, &ents, NULL, versionsort);

	if (n < 0)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			char *p = kd_path_join(base, ents[i]->d_name);

			if (is_moddir(p)) {
				free(best);
				best = kd_xstrdup(ents[i]->d_name);
			}
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	return best;
}

static int pick_moddir(struct kd_ctx *ctx, const struct kd_ctx_opts *o)
{
	struct kd_str s = { 0 };
	struct utsname u;

	if (o->moddir && o->moddir[0]) {
		const char *base = strrchr(o->moddir, '/');

		ctx->moddir = kd_xstrdup(o->moddir);
		ctx->kver = kd_xstrdup(o->kver ? o->kver : base ? base + 1 : o->moddir);
		goto check;
	}
	kd_str_printf(&s, "%s/lib/modules", ctx->root);
	if (o->kver && o->kver[0]) {
		ctx->kver = kd_xstrdup(o->kver);
	} else {
		char *run = NULL;

		if (uname(&u) == 0) {
			kd_str_printf(&s, "/%s", u.release);
			if (is_moddir(s.s))
				run = kd_xstrdup(u.release);
			s.len -= strlen(u.release) + 1;
			s.s[s.len] = '\0';
		}
		ctx->kver = run ? run : newest_kver(s.s);
		if (ctx->kver == NULL) {
			KD_ERR(kd_ctx_log(ctx), "%s: no kernel modules installed (install a kernel, or give "
			       "-k KVER, -r ROOT or --moddir DIR)", s.s);
			kd_str_free(&s);
			return -ENOENT;
		}
	}
	kd_str_printf(&s, "/%s", ctx->kver);
	ctx->moddir = s.s;
check:
	if (!is_moddir(ctx->moddir)) {
		KD_ERR(kd_ctx_log(ctx), "%s: no such module directory (is kernel %s installed? see -k, -r, "
		       "--moddir)", ctx->moddir, ctx->kver);
		return -ENOENT;
	}
	return 0;
}

static const char *const default_conf_dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d", "/lib/modprobe.d", NULL,
};

static void set_conf_dirs(struct kd_ctx *ctx, const char *const *dirs)
{
	size_t n = 0, i;
	bool defaults = dirs == NULL;

	if (defaults)
		dirs = default_conf_dirs;
	while (dirs[n])
		n++;
	ctx->conf_dirs = kd_xcalloc(n + 1, sizeof(char *));
	/* -C paths are taken as given; the defaults live under -r ROOT. */
	for (i = 0; i < n; i++)
		ctx->conf_dirs[i] = kd_xasprintf("%s%s", defaults ? ctx->root : "", dirs[i]);
	ctx->n_conf_dirs = n;
}

int kd_ctx_new(const struct kd_ctx_opts *o, struct kd_ctx **out)
{
	struct kd_ctx *ctx = kd_xcalloc(1, sizeof(*ctx));
	size_t rl;
	int err;

	*out = NULL;
	moddb_init(&ctx->db);
	kd_olist_init(&ctx->insts, sizeof(struct kd_inst *));
	ctx->log = o->log.fn ? o->log : KD_LOG_STDERR(KD_LOG_WARN);
	ctx->root = kd_xstrdup(o->root ? o->root : "");
	rl = strlen(ctx->root);
	while (rl > 0 && ctx->root[rl - 1] == '/')
		ctx->root[--rl] = '\0';
	ctx->force_depgen = o->force_depgen;
	ctx->cmdline = o->cmdline ? kd_xstrdup(o->cmdline) : NULL;
	err = pick_moddir(ctx, o);
	if (err < 0)
		goto fail;
	set_conf_dirs(ctx, o->conf_dirs);
	err = moddb_load(ctx);
	if (err < 0)
		goto fail;
	err = kd_config_load(ctx);
	if (err < 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	kd_ctx_free(ctx);
	return err;
}

void kd_ctx_free(struct kd_ctx *ctx)
{
	size_t i;

	if (ctx == NULL)
		return;
	kd_resolve_free(ctx);
	moddb_clear(&ctx->db);
	kd_config_free(&ctx->config);
	for (i = 0; i < ctx->n_conf_dirs; i++)
		free(ctx->conf_dirs[i]);
	free(ctx->conf_dirs);
	free(ctx->root);
	free(ctx->kver);
	free(ctx->moddir);
	free(ctx->cmdline);
	free(ctx);
}

const char *kd_ctx_moddir(const struct kd_ctx *ctx)
{
	return ctx->moddir;
}

const char *kd_ctx_kver(const struct kd_ctx *ctx)
{
	return ctx->kver;
}

struct kd_moddb *kd_ctx_db(struct kd_ctx *ctx)
{
	return &ctx->db;
}

struct kd_config *kd_ctx_config(struct kd_ctx *ctx)
{
	return &ctx->config;
}

char *kd_module_fullpath(struct kd_ctx *ctx, uint32_t mod)
{
	const char *p = kd_db_mod(&ctx->db, mod)->path;

	if (p == NULL)
		return NULL;
	/* depmod writes paths relative to the module dir; absolute ones stay */
	return p[0] == '/' ? kd_xstrdup(p) : kd_path_join(ctx->moddir, p);
}

const char *kd_ctx_root(const struct kd_ctx *ctx)
{
	return ctx->root;
}

struct kd_log *kd_ctx_log(struct kd_ctx *ctx)
{
	return &ctx->log;
}
