// SPDX-License-Identifier: MIT
/*
 * Module sets: modules-sets/NAME.set, declarative lists of what an image
 * should hold.  One entry per line, '#' starts a comment:
 *
 *   ahci                      a module name (or an alias: crypto-xts)
 *   hid_*                     a module name glob
 *   kernel/drivers/ata/sata_* a glob on the module's path in modules.dep
 *   kernel/fs/ext4/           a directory: every module below it
 *   @usb-host                 every module of another set
 *   symbol:NAME [PATHGLOB..]  modules (below the globs) that use symbol NAME
 *   -ENTRY                    removes what ENTRY would add
 *
 * A set's modules are the union of its entries minus its removals, in the
 * order first listed; the order of lines does not matter otherwise.
 * The first directory holding NAME.set defines the set, so users override
 * a shipped set by writing one of the same name in /etc/kindling.
 * default.list names the sets --generic uses.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

enum entry_kind { ENT_NAME, ENT_NAME_GLOB, ENT_PATH_GLOB, ENT_INCLUDE, ENT_SYMBOL };

struct entry {
	enum entry_kind kind;
	bool remove;
	char *arg;     /* name, glob, set name or symbol */
	char **scope;  /* symbol: path globs the search is limited to */
	size_t n_scope;
	unsigned line;
};

struct set {
	char *name, *file;
	struct entry *v;
	size_t n;
	bool busy; /* being expanded: including it again is a cycle */
};

struct kd_sets {
	struct kd_ctx *ctx;
	char **dirs;
	size_t n_dirs;
	struct set **sets;
	size_t n_sets;
	struct kd_modcache *cache;
	struct kd_modcache own_cache; /* when the caller gave none */
	struct kd_symbols **syms; /* undefined symbols by module index, on demand */
	size_t n_syms;
	const char *stack[32];    /* sets being expanded, for cycle messages */
	size_t depth;
};

/* An ordered list of names without duplicates, each with its reason. */
struct names {
	char **name, **reason;
	size_t n, cap;
	struct kd_map index;
};

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->name[i]);
		free(l->reason[i]);
	}
	free(l->name);
	free(l->reason);
	kd_map_free(&l->index);
	memset(l, 0, sizeof(*l));
}

static int names_add(struct names *l, const char *name, const char *reason)
{
	int r;

	if (kd_map_get(&l->index, name, NULL))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **a = realloc(l->name, cap * sizeof(*a)), **b;

		if (a == NULL)
			return -ENOMEM;
		l->name = a;
		b = realloc(l->reason, cap * sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
		l->reason = b;
		l->cap = cap;
	}
	r = kd_map_put(&l->index, name, (uint32_t)l->n);
	if (r < 0)
		return r;
	l->name[l->n] = kd_xstrdup(name);
	l->reason[l->n] = kd_xstrdup(reason);
	l->n++;
	return 0;
}

/* ---- wants ------------------------------------------------------------ */

int kd_wants_add(struct kd_wants *w, const char *name, const char *reason, unsigned flags)
{
	struct kd_want *it;
	uint32_t idx;
	int err;

	/* the first reason stays; the flags add up */
	if (kd_map_get(&w->index, name, &idx)) {
		w->v[idx].flags |= flags;
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		void *p = realloc(w->v, cap * sizeof(*w->v));

		if (p == NULL)
			return -ENOMEM;
		w->v = p;
		w->cap = cap;
	}
	err = kd_map_put(&w->index, name, (uint32_t)w->n);
	if (err < 0)
		return err;
	it = &w->v[w->n++];
	it->name = kd_xstrdup(name);
	it->reason = kd_xstrdup(reason);
	it->flags = flags;
	return 0;
}

void kd_wants_free(struct kd_wants *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].name);
		free(w->v[i].reason);
	}
	free(w->v);
	kd_map_free(&w->index);
	memset(w, 0, sizeof(*w));
}

/* ---- parsing ------------------------------------------------------------ */

static bool set_name_ok(const char *s)
{
	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-";

	return strspn(s, ok) == strlen(s);
}

/* '[' without its ']' makes fnmatch match nothing: catch it when parsing. */
static bool glob_ok(const char *s)
{
	char tmp[4096];

	return kd_alias_normalize(s, tmp, sizeof(tmp)) == 0;
}

static void entry_free(struct entry *e)
{
	free(e->arg);
	for (size_t i = 0; i < e->n_scope; i++)
		free(e->scope[i]);
	free(e->scope);
}

static void set_free(struct set *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		entry_free(&st->v[i]);
	free(st->v);
	free(st->name);
	free(st->file);
	free(st);
}

/* Split a line into whitespace-separated words, in place; at most max. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *tok;

	while ((tok = strsep(&line, " \t\r")) != NULL) {
		if (*tok == '\0')
			continue;
		if (n == max)
			return max + 1;
		words[n++] = tok;
	}
	return n;
}

/* A path glob: "kernel/fs/ext4/" means every module below that directory. */
static char *path_glob(const char *s)
{
	size_t n = strlen(s);
	char *g = malloc(n + 2);

	if (g == NULL)
		return NULL;
	memcpy(g, s, n + 1);
	if (n > 0 && s[n - 1] == '/') {
		g[n] = '*';
		g[n + 1] = '\0';
	}
	return g;
}

static int parse_symbol(struct entry *e, char **words, size_t n, const char **why)
{
	e->kind = ENT_SYMBOL;
	e->arg = kd_xstrdup(words[0] + 7);
	if (e->arg[0] == '\0') {
		*why = "'symbol:' needs a symbol name";
		return -EINVAL;
	}
	e->scope = calloc(n, sizeof(char *));
	if (e->scope == NULL)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		const char *w = words[i];

		if (strchr(w, '/') == NULL || w[0] == '/' || !glob_ok(w)) {
			*why = "a symbol's scope must be module path globs "
			       "like kernel/drivers/block/";
			return -EINVAL;
		}
		e->scope[e->n_scope++] = path_glob(words[i]);
		if (e->scope[e->n_scope - 1] == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* One entry from the words of a line; *why says what is wrong with it. */
static int parse_entry(struct entry *e, char **words, size_t n, const char **why)
{
	const char *w = words[0];

	if (w[0] == '-') {
		e->remove = true;
		w++;
		words[0]++;
		if (*w == '\0' || *w == '-') {
			*why = "'-' must be followed by the entry to remove";
			return -EINVAL;
		}
	}
	if (strncmp(w, "symbol:", 7) == 0)
		return parse_symbol(e, words, n, why);
	if (n > 1) {
		*why = "one entry per line (only symbol: takes more words)";
		return -EINVAL;
	}
	if (w[0] == '@') {
		e->kind = ENT_INCLUDE;
		if (!set_name_ok(w + 1)) {
			*why = "'@' must be followed by a set name (letters, digits, _ . + -)";
			return -EINVAL;
		}
		e->arg = kd_xstrdup(w + 1);
		return 0;
	}
	if (!glob_ok(w)) {
		*why = "unbalanced '[' or ']'";
		return -EINVAL;
	}
	if (strchr(w, '/')) {
		if (w[0] == '/') {
			*why = "paths are relative to the module directory (kernel/...)";
			return -EINVAL;
		}
		e->kind = ENT_PATH_GLOB;
		e->arg = path_glob(w);
		return e->arg ? 0 : -ENOMEM;
	}
	e->kind = strpbrk(w, "*?[") ? ENT_NAME_GLOB : ENT_NAME;
	e->arg = malloc(strlen(w) + 1);
	if (e->arg == NULL)
		return -ENOMEM;
	kd_alias_normalize(w, e->arg, strlen(w) + 1);
	return 0;
}

static int parse_line(struct kd_sets *s, struct set *st, unsigned lineno, char *line)
{
	char *words[64], *hash = strchr(line, '#');
	const char *why = NULL;
	struct entry *e;
	size_t n;
	int err;

	if (hash)
		*hash = '\0';
	n = split_words(line, words, 64);
	if (n == 0)
		return 0;
	if (n > 64) {
		KD_ERR(kd_ctx_log(s->ctx), "%s line %u: too many words (at most 64)", st->file, lineno);
		return -EINVAL;
	}
	e = realloc(st->v, (st->n + 1) * sizeof(*st->v));
	if (e == NULL)
		return -ENOMEM;
	st->v = e;
	e = &st->v[st->n++];
	memset(e, 0, sizeof(*e));
	e->line = lineno;
	err = parse_entry(e, words, n, &why);
	if (err == -EINVAL)
		KD_ERR(kd_ctx_log(s->ctx), "%s line %u: %s: '%s'", st->file, lineno, why, words[0]);
	return err;
}

int kd_sets_parse(struct kd_sets *s, const char *name, const char *filename,
		  const char *text)
{
	struct set *st = calloc(1, sizeof(*st));
	char *copy = kd_xstrdup(text), *cur = copy, *line;
	unsigned lineno = 0;
	void *p;
	int err = 0;

	if (st == NULL) {
		free(copy);
		return -ENOMEM;
	}
	st->name = kd_xstrdup(name);
	st->file = kd_xstrdup(filename);
	while (err == 0 && (line = strsep(&cur, "\n")) != NULL)
		err = parse_line(s, st, ++lineno, line);
	free(copy);
	p = err ? NULL : realloc(s->sets, (s->n_sets + 1) * sizeof(*s->sets));
	if (p == NULL) {
		set_free(st);
		return err ? err : -ENOMEM;
	}
	s->sets = p;
	s->sets[s->n_sets++] = st;
	return 0;
}

/* ---- finding sets ---------------------------------------------------- */

static void log_dirs(struct kd_sets *s, struct kd_str *out)
{
	for (size_t i = 0; i < s->n_dirs; i++)
		kd_str_printf(out, "%s%s", i ? ", " : "", s->dirs[i]);
	if (s->n_dirs == 0)
		kd_str_addz(out, "no directories");
}

/* The set NAME: parsed already, or from the first directory that has it. */
static int set_find(struct kd_sets *s, const char *name, struct set **out)
{
	size_t i;

	for (i = 0; i < s->n_sets; i++) {
		if (strcmp(s->sets[i]->name, name) == 0) {
			*out = s->sets[i];
			return 0;
		}
	}
	for (i = 0; i < s->n_dirs; i++) {
		struct kd_buf b;
		struct kd_str path = { 0 };
		int err;

		kd_str_printf(&path, "%s/%s.set", s->dirs[i], name);
		err = kd_read_file(kd_ctx_log(s->ctx), path.s, &b);
		if (err == 0)
			err = kd_sets_parse(s, name, path.s, (const char *)b.data);
		kd_buf_free(&b);
		kd_str_free(&path);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		*out = s->sets[s->n_sets - 1];
		return 0;
	}
	return -ENOENT;
}

static void report_unknown(struct kd_sets *s, const char *file, unsigned line,
			   const char *name)
{
	struct kd_str dirs = { 0 };

	log_dirs(s, &dirs);
	if (file)
		KD_ERR(kd_ctx_log(s->ctx), "%s line %u: unknown set '%s' (no %s.set in %s)", file, line,
		       name, name, dirs.s);
	else
		KD_ERR(kd_ctx_log(s->ctx), "unknown set '%s' (no %s.set in %s; see --sets-dir)", name, name,
		       dirs.s);
	kd_str_free(&dirs);
}

/* ---- matching entries against the module database -------------------- */

/* A module's path as stored (no .xz/.zst/.gz), so "*.ko" globs work too. */
static bool path_matches(const char *glob, const char *path)
{
	char plain[4096];
	size_t n = strlen(path);

	if (fnmatch(glob, path, 0) == 0)
		return true;
	if (n >= sizeof(plain))
		return false;
	memcpy(plain, path, n + 1);
	for (const char *sfx = ".xz\0.zst\0.gz\0"; *sfx; sfx += strlen(sfx) + 1) {
		size_t k = strlen(sfx);

		if (n > k && strcmp(plain + n - k, sfx) == 0) {
			plain[n - k] = '\0';
			return fnmatch(glob, plain, 0) == 0;
		}
	}
	return false;
}

static bool in_scope(const struct entry *e, const char *path)
{
	if (e->n_scope == 0)
		return true;
	for (size_t i = 0; i < e->n_scope; i++)
		if (path_matches(e->scope[i], path))
			return true;
	return false;
}

static int syms_get(struct kd_sets *s, uint32_t mod, const struct kd_symbols **out)
{
	const struct kd_buf *b;
	char *path;
	int err;

	if (mod >= s->n_syms) {
		size_t n = kd_ctx_db(s->ctx)->mods.n;
		void *p = realloc(s->syms, n * sizeof(*s->syms));

		if (p == NULL)
			return -ENOMEM;
		s->syms = p;
		memset(s->syms + s->n_syms, 0, (n - s->n_syms) * sizeof(*s->syms));
		s->n_syms = n;
	}
	if (s->syms[mod] == NULL) {
		b = kd_modcache_get(s->cache, mod);
		if (b == NULL)
			return -EIO;
		s->syms[mod] = calloc(1, sizeof(struct kd_symbols));
		if (s->syms[mod] == NULL)
			return -ENOMEM;
		path = kd_module_fullpath(s->ctx, mod);
		err = kd_elf_symbols(s->ctx, path ? path : "?", b->data, b->size,
				     s->syms[mod]);
		free(path);
		if (err < 0) {
			free(s->syms[mod]);
			s->syms[mod] = NULL;
			return err;
		}
	}
	*out = s->syms[mod];
	return 0;
}

static bool uses_symbol(const struct kd_symbols *sy, const char *name)
{
	for (size_t i = 0; i < sy->n_undefined; i++)
		if (strcmp(sy->undefined[i], name) == 0)
			return true;
	return false;
}

/* Modules whose undefined symbols include the entry's symbol. */
static int match_symbol(struct kd_sets *s, const struct entry *e, const char *reason,
			const struct names *skip, struct names *out)
{
	struct kd_moddb *db = kd_ctx_db(s->ctx);
	uint32_t *cand = malloc((db->mods.n ? db->mods.n : 1) * sizeof(*cand));
	size_t n = 0, i;
	int err;

	if (cand == NULL)
		return -ENOMEM;
	for (i = 0; i < db->mods.n; i++) {
		const struct kd_module *m = kd_db_mod(db, i);

		if (m->in_dep && m->path && in_scope(e, m->path) &&
		    !(skip && kd_map_get(&skip->index, m->name, NULL)))
			cand[n++] = (uint32_t)i;
	}
	/* reading the files is the slow part: all at once, in parallel */
	err = kd_modcache_load(s->cache, cand, n);
	for (i = 0; i < n && err == 0; i++) {
		const struct kd_symbols *sy;

		err = syms_get(s, cand[i], &sy);
		if (err == 0 && uses_symbol(sy, e->arg))
			err = names_add(out, kd_db_mod(db, cand[i])->name, reason);
	}
	free(cand);
	return err;
}

static int match_db(struct kd_sets *s, const struct entry *e, const char *reason,
		    struct names *out)
{
	struct kd_moddb *db = kd_ctx_db(s->ctx);
	int err = 0;

	for (size_t i = 0; i < db->mods.n && err == 0; i++) {
		const struct kd_module *m = kd_db_mod(db, i);
		bool hit;

		if (!m->in_dep || m->path == NULL)
			continue;
		if (e->kind == ENT_NAME_GLOB)
			hit = fnmatch(e->arg, m->name, 0) == 0;
		else
			hit = path_matches(e->arg, m->path);
		if (hit)
			err = names_add(out, m->name, reason);
	}
	return err;
}

static int expand(struct kd_sets *s, struct set *st, struct names *out);

static int match_include(struct kd_sets *s, struct set *st, const struct entry *e,
			 struct names *out)
{
	struct set *child;
	int err = set_find(s, e->arg, &child);

	if (err == -ENOENT) {
		report_unknown(s, st->file, e->line, e->arg);
		return -ENOENT;
	}
	if (err < 0)
		return err;
	if (child->busy) {
		struct kd_str path = { 0 };
		size_t i = 0;

		while (i < s->depth && strcmp(s->stack[i], child->name) != 0)
			i++;
		for (; i < s->depth; i++)
			kd_str_printf(&path, "%s -> ", s->stack[i]);
		KD_ERR(kd_ctx_log(s->ctx), "%s line %u: sets include each other: %s%s", st->file, e->line,
		       path.s ? path.s : "", child->name);
		kd_str_free(&path);
		return -ELOOP;
	}
	return expand(s, child, out);
}

/* What one entry adds (or, for a removal, what it takes away); modules in
 * skip are left out anyway and need not be read. */
static int match_entry(struct kd_sets *s, struct set *st, const struct entry *e,
		       const char *reason, const struct names *skip, struct names *out)
{
	switch (e->kind) {
	case ENT_NAME:
		return names_add(out, e->arg, reason);
	case ENT_NAME_GLOB:
	case ENT_PATH_GLOB:
		return match_db(s, e, reason, out);
	case ENT_SYMBOL:
		return match_symbol(s, e, reason, skip, out);
	case ENT_INCLUDE:
		return match_include(s, st, e, out);
	}
	return -EINVAL;
}

static int expand(struct kd_sets *s, struct set *st, struct names *out)
{
	struct names add = { 0 }, del = { 0 };
	struct kd_str reason = { 0 };
	size_t i;
	int err = 0;

	if (s->depth == sizeof(s->stack) / sizeof(s->stack[0])) {
		KD_ERR(kd_ctx_log(s->ctx), "%s: sets nested more than %zu deep", st->file, s->depth);
		return -ELOOP;
	}
	kd_str_printf(&reason, "set %s", st->name);
	st->busy = true;
	s->stack[s->depth++] = st->name;
	/* removals first: symbol scans then skip what would be removed */
	for (i = 0; i < st->n && err == 0; i++)
		if (st->v[i].remove)
			err = match_entry(s, st, &st->v[i], reason.s, NULL, &del);
	for (i = 0; i < st->n && err == 0; i++)
		if (!st->v[i].remove)
			err = match_entry(s, st, &st->v[i], reason.s, &del, &add);
	s->depth--;
	st->busy = false;
	for (i = 0; i < add.n && err == 0; i++)
		if (!kd_map_get(&del.index, add.name[i], NULL))
			err = names_add(out, add.name[i], add.reason[i]);
	names_free(&add);
	names_free(&del);
	kd_str_free(&reason);
	return err;
}

int kd_sets_expand(struct kd_sets *s, const char *name, struct kd_wants *out)
{
	struct names got = { 0 };
	struct set *st;
	int err;

	if (!set_name_ok(name)) {
		KD_ERR(kd_ctx_log(s->ctx), "'%s' is not a set name (letters, digits, _ . + -)", name);
		return -EINVAL;
	}
	err = set_find(s, name, &st);
	if (err == -ENOENT)
		report_unknown(s, NULL, 0, name);
	if (err < 0)
		return err;
	err = expand(s, st, &got);
	for (size_t i = 0; i < got.n && err == 0; i++)
		err = kd_wants_add(out, got.name[i], got.reason[i], 0);
	names_free(&got);
	return err;
}

/* default.list: set names separated by blanks or lines, '#' comments. */
static int parse_default_list(struct kd_sets *s, const char *path, char *text,
			      char ***names, size_t *n)
{
	char *line;
	unsigned lineno = 0;

	while ((line = strsep(&text, "\n")) != NULL) {
		char *words[64], *hash = strchr(line, '#');
		size_t w;

		lineno++;
		if (hash)
			*hash = '\0';
		w = split_words(line, words, 64);
		if (w > 64) {
			KD_ERR(kd_ctx_log(s->ctx), "%s line %u: too many words (at most 64)", path, lineno);
			return -EINVAL;
		}
		for (size_t k = 0; k < w; k++) {
			void *p;

			if (!set_name_ok(words[k])) {
				KD_ERR(kd_ctx_log(s->ctx), "%s line %u: '%s' is not a set name", path, lineno,
				       words[k]);
				return -EINVAL;
			}
			p = realloc(*names, (*n + 1) * sizeof(**names));
			if (p == NULL)
				return -ENOMEM;
			*names = p;
			(*names)[(*n)++] = kd_xstrdup(words[k]);
		}
	}
	return 0;
}

void kd_sets_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int kd_sets_defaults(struct kd_sets *s, char ***names, size_t *n)
{
	struct kd_str dirs = { 0 };

	*names = NULL;
	*n = 0;
	for (size_t i = 0; i < s->n_dirs; i++) {
		char *path = kd_path_join(s->dirs[i], "default.list");
		struct kd_buf b;
		int err = path ? kd_read_file(kd_ctx_log(s->ctx), path, &b) : -ENOMEM;

		if (err == -ENOENT) {
			free(path);
			continue;
		}
		if (err == 0)
			err = parse_default_list(s, path, (char *)b.data, names, n);
		kd_buf_free(&b);
		free(path);
		if (err < 0) {
			kd_sets_names_free(*names, *n);
			*names = NULL;
			*n = 0;
		}
		return err;
	}
	log_dirs(s, &dirs);
	KD_ERR(kd_ctx_log(s->ctx), "no default.list in %s: cannot tell which sets --generic means "
	       "(install kindling's modules-sets, or give --sets-dir)", dirs.s);
	kd_str_free(&dirs);
	return -ENOENT;
}

/* ---- the object ---------------------------------------------------------- */

int kd_sets_new(struct kd_ctx *ctx, const char *const *dirs, size_t n_dirs,
		struct kd_modcache *cache, struct kd_sets **out)
{
	struct kd_sets *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->ctx = ctx;
	if (cache == NULL) {
		kd_modcache_init(&s->own_cache, ctx, 0);
		cache = &s->own_cache;
	}
	s->cache = cache;
	s->dirs = calloc(n_dirs + 1, sizeof(char *));
	if (s->dirs == NULL) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_dirs; i++)
		s->dirs[s->n_dirs++] = kd_xstrdup(dirs[i]);
	*out = s;
	return 0;
}

void kd_sets_free(struct kd_sets *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_sets; i++)
		set_free(s->sets[i]);
	for (i = 0; i < s->n_syms; i++) {
		if (s->syms[i]) {
			kd_symbols_free(s->syms[i]);
			free(s->syms[i]);
		}
	}
	for (i = 0; i < s->n_dirs; i++)
		free(s->dirs[i]);
	kd_modcache_free(&s->own_cache);
	free(s->syms);
	free(s->sets);
	free(s->dirs);
	free(s);
}
