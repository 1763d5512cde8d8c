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
	uint32_t idx;

	return kd_map_get(&ctx->db.by_name, name, &idx) ? (int)idx : -1;
}

int kd_module_get(struct kd_ctx *ctx, const char *name)
{
	struct kd_moddb *db = &ctx->db;
	struct kd_module *m;
	int idx = kd_module_find(ctx, name);

	if (idx >= 0)
		return idx;
	if (db->n_mods == db->cap_mods) {
		size_t cap = db->cap_mods ? db->cap_mods * 2 : 1024;
		void *p = realloc(db->mods, cap * sizeof(*db->mods));

		if (p == NULL)
			return -ENOMEM;
		db->mods = p;
		db->cap_mods = cap;
	}
	m = &db->mods[db->n_mods];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->order = -1;
	m->alias_rank = UINT32_MAX;
	if (m->name == NULL || kd_map_put(&db->by_name, name, (uint32_t)db->n_mods) < 0) {
		free(m->name);
		return -ENOMEM;
	}
	return (int)db->n_mods++;
}

static int module_from_path(struct kd_ctx *ctx, const char *path)
{
	char name[NAME_MAX_LEN];

	kd_modname_from_path(path, name, sizeof(name));
	if (name[0] == '\0')
		return -EINVAL;
	return kd_module_get(ctx, name);
}

/* Iterate lines of text in place; returns the next line start or NULL. */
static char *next_line(char **cursor, unsigned *lineno)
{
	char *s = *cursor, *nl;

	if (s == NULL || *s == '\0')
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = s + strlen(s);
	}
	(*lineno)++;
	return s;
}

static int add_dep(struct kd_module *m, uint32_t dep, size_t *cap)
{
	if (m->n_deps == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(m->deps, ncap * sizeof(*m->deps));

		if (p == NULL)
			return -ENOMEM;
		m->deps = p;
		*cap = ncap;
	}
	m->deps[m->n_deps++] = dep;
	return 0;
}

static int parse_dep_line(struct kd_ctx *ctx, const char *filename, unsigned lineno,
			  char *line)
{
	char *colon = strchr(line, ':'), *p, *tok;
	struct kd_module *m;
	size_t cap = 0;
	int idx;

	if (colon == NULL) {
		KD_WARN(kd_ctx_log(ctx), "%s line %u: ignoring line without ':'", filename, lineno);
		return 0;
	}
	*colon = '\0';
	idx = module_from_path(ctx, line);
	if (idx < 0) {
		if (idx == -EINVAL) {
			KD_WARN(kd_ctx_log(ctx), "%s line %u: ignoring line with an empty module path",
				filename, lineno);
			return 0;
		}
		return idx;
	}
	m = &ctx->db.mods[idx];
	if (m->in_dep) /* the first line for a name wins, as in depmod's index */
		return 0;
	m->in_dep = true;
	free(m->path);
	m->path = strdup(line);
	if (m->path == NULL)
		return -ENOMEM;
	p = colon + 1;
	while ((tok = strsep(&p, " \t")) != NULL) {
		int dep;

		if (*tok == '\0')
			continue;
		dep = module_from_path(ctx, tok);
		if (dep == -EINVAL)
			continue;
		if (dep < 0)
			return dep;
		/* kd_module_get may have moved the array */
		if (add_dep(&ctx->db.mods[idx], (uint32_t)dep, &cap) < 0)
			return -ENOMEM;
	}
	return 0;
}

int kd_moddb_parse_dep(struct kd_ctx *ctx, const char *filename, const char *text)
{
	char *copy = strdup(text), *cur = copy, *line;
	unsigned lineno = 0;
	int err = 0;

	if (copy == NULL)
		return -ENOMEM;
	while (err == 0 && (line = next_line(&cur, &lineno)) != NULL)
		if (line[0] != '\0' && line[0] != '#')
			err = parse_dep_line(ctx, filename, lineno, line);
	free(copy);
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "%s: %s", filename, strerror(-err));
	return err;
}

static int push_alias(struct kd_alias **arr, size_t *n, const char *pattern,
		      uint32_t mod)
{
	struct kd_alias *a;

	if (*n == 0 || (*n >= 64 && (*n & (*n - 1)) == 0)) {
		void *p = realloc(*arr, (*n ? *n * 2 : 64) * sizeof(**arr));

		if (p == NULL)
			return -ENOMEM;
		*arr = p;
	}
	a = &(*arr)[*n];
	a->pattern = strdup(pattern);
	if (a->pattern == NULL)
		return -ENOMEM;
	a->module = mod;
	a->prefix = (uint32_t)strcspn(pattern, "*?[");
	a->wild = pattern[a->prefix] != '\0';
	(*n)++;
	return 0;
}

/* "alias PATTERN MODULE" lines; modules.symbols has the same shape. */
int kd_moddb_parse_alias(struct kd_ctx *ctx, const char *filename, const char *text,
			 bool symbols)
{
	struct kd_moddb *db = &ctx->db;
	char *copy = strdup(text), *cur = copy, *line;
	char norm[4096], name[NAME_MAX_LEN];
	unsigned lineno = 0;
	int err = 0;

	if (copy == NULL)
		return -ENOMEM;
	while (err == 0 && (line = next_line(&cur, &lineno)) != NULL) {
		char *p = line, *kw, *pattern, *modname;
		int idx;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		kw = strsep(&p, " \t");
		pattern = strsep(&p, " \t");
		modname = strsep(&p, " \t");
		if (strcmp(kw, "alias") != 0 || pattern == NULL || modname == NULL ||
		    *pattern == '\0' || *modname == '\0') {
			KD_WARN(kd_ctx_log(ctx), "%s line %u: ignoring bad line (expected 'alias PATTERN MODULE')",
				filename, lineno);
			continue;
		}
		if (kd_alias_normalize(pattern, norm, sizeof(norm)) < 0) {
			KD_WARN(kd_ctx_log(ctx), "%s line %u: ignoring alias with unmatched bracket: %s",
				filename, lineno, pattern);
			continue;
		}
		kd_modname_normalize(modname, name, sizeof(name));
		idx = kd_module_get(ctx, name);
		if (idx < 0) {
			err = idx;
			break;
		}
		if (symbols) {
			err = push_alias(&db->symbols, &db->n_symbols, norm, (uint32_t)idx);
		} else {
			if (db->mods[idx].alias_rank == UINT32_MAX)
				db->mods[idx].alias_rank = (uint32_t)db->n_aliases;
			err = push_alias(&db->aliases, &db->n_aliases, norm, (uint32_t)idx);
		}
	}
	free(copy);
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "%s: %s", filename, strerror(-err));
	return err;
}

/*
 * Files that list one module path a line (modules.builtin, modules.order):
 * mark(ctx, index, n) is called for each, with n counting the lines seen.
 */
static int parse_path_list(struct kd_ctx *ctx, const char *filename, const char *text,
			   void (*mark)(struct kd_ctx *ctx, int idx, int *n))
{
	char *copy = strdup(text), *cur = copy, *line;
	unsigned lineno = 0;
	int err = 0, n = 0;

	if (copy == NULL)
		return -ENOMEM;
	while ((line = next_line(&cur, &lineno)) != NULL) {
		int idx;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		idx = module_from_path(ctx, line);
		if (idx == -EINVAL)
			continue;
		if (idx < 0) {
			err = idx;
			break;
		}
		mark(ctx, idx, &n);
	}
	free(copy);
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "%s: %s", filename, strerror(-err));
	return err;
}

static void mark_builtin(struct kd_ctx *ctx, int idx, int *n)
{
	(void)n;
	ctx->db.mods[idx].builtin = true;
}

int kd_moddb_parse_builtin(struct kd_ctx *ctx, const char *filename, const char *text)
{
	return parse_path_list(ctx, filename, text, mark_builtin);
}

/* "MODNAME.KEY=VALUE\0" records; aliases of built-in modules. */
int kd_moddb_parse_builtin_modinfo(struct kd_ctx *ctx, const char *filename,
				   const char *text, size_t len)
{
	struct kd_moddb *db = &ctx->db;
	size_t off = 0;
	char norm[4096], name[NAME_MAX_LEN];
	int err = 0;

	while (off < len && err == 0) {
		const char *rec = text + off, *dot, *eq;
		size_t rlen = strnlen(rec, len - off);
		int idx;

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
		idx = kd_module_get(ctx, name);
		if (idx < 0)
			err = idx;
		else
			err = push_alias(&db->builtin_aliases, &db->n_builtin_aliases, norm,
					 (uint32_t)idx);
	}
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "%s: %s", filename, strerror(-err));
	return err;
}

static void mark_order(struct kd_ctx *ctx, int idx, int *n)
{
	if (ctx->db.mods[idx].order < 0)
		ctx->db.mods[idx].order = (*n)++;
}

int kd_moddb_parse_order(struct kd_ctx *ctx, const char *filename, const char *text)
{
	return parse_path_list(ctx, filename, text, mark_order);
}

/* Read MODDIR/NAME; absent files are fine (-ENOENT, silently). */
static int read_index(struct kd_ctx *ctx, const char *name, struct kd_buf *b, char **path)
{
	*path = kd_path_join(ctx->moddir, name);
	if (*path == NULL)
		return -ENOMEM;
	return kd_read_file(kd_ctx_log(ctx), *path, b);
}

typedef int (*text_parser)(struct kd_ctx *ctx, const char *filename, const char *text);

static int load_index(struct kd_ctx *ctx, const char *name, text_parser parse)
{
	struct kd_buf b;
	char *path;
	int err = read_index(ctx, name, &b, &path);

	if (err == 0)
		err = parse(ctx, path, (char *)b.data);
	else if (err == -ENOENT)
		err = 0;
	kd_buf_free(&b);
	free(path);
	return err;
}

static int parse_alias_file(struct kd_ctx *ctx, const char *fn, const char *text)
{
	return kd_moddb_parse_alias(ctx, fn, text, false);
}

static int parse_symbols_file(struct kd_ctx *ctx, const char *fn, const char *text)
{
	return kd_moddb_parse_alias(ctx, fn, text, true);
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

	for (i = 0; i < 2 && !stale; i++) {
		p = kd_path_join(ctx->moddir, files[i]);
		if (p && stat(p, &st) == 0 && st.st_mtime > dep_st->st_mtime) {
			*why = p;
			return true;
		}
		free(p);
	}
	for (i = 0; i < ctx->db.n_mods && !stale; i++) {
		const struct kd_module *m = &ctx->db.mods[i];
		char *slash;

		if (!m->in_dep || m->path == NULL)
			continue;
		p = m->path[0] == '/' ? kd_xstrdup(m->path) : kd_path_join(ctx->moddir, m->path);
		slash = p ? strrchr(p, '/') : NULL;
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

static void moddb_clear(struct kd_moddb *db)
{
	size_t i;

	for (i = 0; i < db->n_mods; i++) {
		free(db->mods[i].name);
		free(db->mods[i].path);
		free(db->mods[i].deps);
	}
	for (i = 0; i < db->n_aliases; i++)
		free(db->aliases[i].pattern);
	for (i = 0; i < db->n_symbols; i++)
		free(db->symbols[i].pattern);
	for (i = 0; i < db->n_builtin_aliases; i++)
		free(db->builtin_aliases[i].pattern);
	free(db->mods);
	free(db->aliases);
	free(db->symbols);
	free(db->builtin_aliases);
	kd_alias_index_free(&db->aliases_ix);
	kd_alias_index_free(&db->symbols_ix);
	kd_alias_index_free(&db->builtin_aliases_ix);
	kd_map_free(&db->by_name);
	kd_depgen_free(&db->gen);
	memset(db, 0, sizeof(*db));
}

static int load_generated(struct kd_ctx *ctx)
{
	struct kd_moddb *db = &ctx->db;
	int err;

	err = kd_depgen_run(ctx, ctx->moddir, &db->gen);
	if (err < 0)
		return err;
	db->generated = true;
	err = kd_moddb_parse_dep(ctx, "modules.dep (computed)", db->gen.dep ? db->gen.dep : "");
	if (err == 0 && db->gen.alias)
		err = kd_moddb_parse_alias(ctx, "modules.alias (computed)", db->gen.alias, false);
	if (err == 0 && db->gen.symbols)
		err = kd_moddb_parse_alias(ctx, "modules.symbols (computed)", db->gen.symbols,
					   true);
	return err;
}

static int load_builtin_modinfo(struct kd_ctx *ctx)
{
	struct kd_buf b;
	char *path;
	int err = read_index(ctx, "modules.builtin.modinfo", &b, &path);

	if (err == 0)
		err = kd_moddb_parse_builtin_modinfo(ctx, path, (char *)b.data, b.size);
	else if (err == -ENOENT)
		err = 0;
	kd_buf_free(&b);
	free(path);
	return err;
}

static int moddb_load(struct kd_ctx *ctx)
{
	struct kd_buf b = { 0 };
	struct stat st;
	char *path = NULL, *why = NULL;
	int err;

	if (!ctx->force_depgen) {
		err = read_index(ctx, "modules.dep", &b, &path);
		if (err < 0 && err != -ENOENT)
			goto out;
		if (err == 0) {
			err = kd_moddb_parse_dep(ctx, path, (char *)b.data);
			if (err < 0)
				goto out;
			if (stat(path, &st) == 0 && moddep_stale(ctx, &st, &why)) {
				KD_WARN(kd_ctx_log(ctx), "%s is older than %s: computing dependencies from the "
					"modules themselves (run depmod to refresh it)", path, why);
				moddb_clear(&ctx->db);
			} else {
				err = load_index(ctx, "modules.alias", parse_alias_file);
				if (err == 0)
					err = load_index(ctx, "modules.symbols", parse_symbols_file);
				goto rest;
			}
		} else {
			KD_INFO(kd_ctx_log(ctx), "%s: no modules.dep; computing dependencies from the modules",
				ctx->moddir);
		}
	}
	err = load_generated(ctx);
rest:
	if (err == 0)
		err = load_index(ctx, "modules.builtin", kd_moddb_parse_builtin);
	if (err == 0)
		err = load_builtin_modinfo(ctx);
	if (err == 0)
		err = load_index(ctx, "modules.order", kd_moddb_parse_order);
	/* an empty tree is a kernel whose modules are not installed (or were
	 * removed), never a kernel that needs none: it would give an image that
	 * cannot mount anything */
	if (err == 0 && ctx->db.n_mods == 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: no modules, no modules.dep and no modules.builtin: is this "
		       "kernel's package installed? (check -k, -r and --moddir)", ctx->moddir);
		err = -ENOENT;
	}
out:
	kd_buf_free(&b);
	free(path);
	free(why);
	return err;
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

			if (p && is_moddir(p)) {
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

static int set_conf_dirs(struct kd_ctx *ctx, const char *const *dirs)
{
	size_t n = 0, i;
	bool defaults = dirs == NULL;

	if (defaults)
		dirs = default_conf_dirs;
	while (dirs[n])
		n++;
	ctx->conf_dirs = calloc(n + 1, sizeof(char *));
	if (ctx->conf_dirs == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct kd_str s = { 0 };

		/* -C paths are taken as given; the defaults live under -r ROOT. */
		kd_str_printf(&s, "%s%s", defaults ? ctx->root : "", dirs[i]);
		ctx->conf_dirs[i] = s.s;
	}
	ctx->n_conf_dirs = n;
	return 0;
}

int kd_ctx_new(const struct kd_ctx_opts *o, struct kd_ctx **out)
{
	struct kd_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t rl;
	int err;

	*out = NULL;
	if (ctx == NULL)
		return -ENOMEM;
	ctx->log = o->log.fn ? o->log : KD_LOG_STDERR(KD_LOG_WARN);
	ctx->root = kd_xstrdup(o->root ? o->root : "");
	rl = strlen(ctx->root);
	while (rl > 0 && ctx->root[rl - 1] == '/')
		ctx->root[--rl] = '\0';
	ctx->force_depgen = o->force_depgen;
	ctx->cmdline = o->cmdline ? kd_xstrdup(o->cmdline) : NULL;
	err = pick_moddir(ctx, o);
	if (err == 0)
		err = set_conf_dirs(ctx, o->conf_dirs);
	if (err == 0)
		err = moddb_load(ctx);
	if (err == 0)
		err = kd_config_load(ctx);
	if (err < 0) {
		kd_ctx_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
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
	const char *p = ctx->db.mods[mod].path;

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

void kd_set_log(struct kd_ctx *ctx, kd_log_fn fn, void *data, int max_prio)
{
	ctx->log = (struct kd_log){ fn, data, max_prio };
}
