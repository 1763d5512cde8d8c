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

#define MAX_WORDS 64 /* of a line */

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
	size_t n, cap;
	bool busy; /* being expanded: including it again is a cycle */
};

struct kd_sets {
	struct kd_ctx *ctx;
	char **dirs;
	size_t n_dirs;
	struct kd_olist sets;     /* of struct set *, by name: the first definition */
	struct kd_modcache *cache;
	struct kd_modcache own_cache; /* when the caller gave none */
	struct kd_symbols **syms; /* undefined symbols by module index, on demand */
	size_t n_syms;
	const char *stack[32];    /* sets being expanded, for cycle messages */
	size_t depth;
};

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

/* The words of a line without its '#' comment, in place: how many, or
 * -EINVAL (logged) beyond MAX_WORDS. */
static int line_words(const struct kd_lines *l, const struct kd_log *log, char *line,
		      char **words)
{
	char *hash = strchr(line, '#'), *w;
	int n = 0;

	if (hash)
		*hash = '\0';
	while ((w = kd_word(&line)) != NULL) {
		if (n == MAX_WORDS) {
			KD_LINE_ERR(l, log, "too many words (at most %d)", MAX_WORDS);
			return -EINVAL;
		}
		words[n++] = w;
	}
	return n;
}

/* A path glob: "kernel/fs/ext4/" means every module below that directory. */
static char *path_glob(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '/' ? kd_xasprintf("%s*", s) : kd_xstrdup(s);
}

static int parse_symbol(struct entry *e, char **words, size_t n, const char **why)
{
	e->kind = ENT_SYMBOL;
	e->arg = kd_xstrdup(words[0] + 7);
	if (e->arg[0] == '\0') {
		*why = "'symbol:' needs a symbol name";
		return -EINVAL;
	}
	e->scope = kd_xcalloc(n, sizeof(char *));
	for (size_t i = 1; i < n; i++) {
		const char *w = words[i];

		if (strchr(w, '/') == NULL || w[0] == '/' || !glob_ok(w)) {
			*why = "a symbol's scope must be module path globs "
			       "like kernel/drivers/block/";
			return -EINVAL;
		}
		e->scope[e->n_scope++] = path_glob(w);
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
		return 0;
	}
	e->kind = strpbrk(w, "*?[") ? ENT_NAME_GLOB : ENT_NAME;
	e->arg = kd_xmalloc(strlen(w) + 1);
	kd_alias_normalize(w, e->arg, strlen(w) + 1); /* balanced: glob_ok said so */
	return 0;
}

static int parse_line(struct kd_sets *s, struct set *st, const struct kd_lines *l, char *line)
{
	char *words[MAX_WORDS];
	const char *why = NULL;
	struct entry *e;
	int n = line_words(l, kd_ctx_log(s->ctx), line, words), err;

	if (n <= 0)
		return n;
	KD_GROW(st->v, st->n, st->cap);
	e = &st->v[st->n++];
	memset(e, 0, sizeof(*e));
	e->line = l->no;
	err = parse_entry(e, words, (size_t)n, &why);
	if (err < 0)
		KD_LINE_ERR(l, kd_ctx_log(s->ctx), "%s: '%s'", why, words[0]);
	return err;
}

int kd_sets_parse(struct kd_sets *s, const char *name, const char *filename,
		  const char *text)
{
	struct set *st = kd_xcalloc(1, sizeof(*st)), **slot;
	struct kd_lines l;
	char *line;
	bool added;
	int err = 0;

	st->name = kd_xstrdup(name);
	st->file = kd_xstrdup(filename);
	kd_lines_init(&l, st->file, text, strlen(text), false);
	while ((line = kd_lines_next(&l)) != NULL) {
		err = parse_line(s, st, &l, line);
		if (err < 0)
			break;
	}
	kd_lines_free(&l);
	if (err < 0) {
		set_free(st);
		return err;
	}
	slot = kd_olist_add(&s->sets, name, &added);
	if (!added) { /* defined already: the first definition stays */
		set_free(st);
		return 0;
	}
	*slot = st;
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
	struct set **known = kd_olist_get(&s->sets, name);

	if (known) {
		*out = *known;
		return 0;
	}
	for (size_t i = 0; i < s->n_dirs; i++) {
		char *path = kd_xasprintf("%s/%s.set", s->dirs[i], name);
		struct kd_buf b;
		int err = kd_read_file(kd_ctx_log(s->ctx), path, &b);

		if (err == 0) {
			err = kd_sets_parse(s, name, path, (const char *)b.data);
			kd_buf_free(&b);
		}
		free(path);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		*out = *(struct set **)kd_olist_get(&s->sets, name);
		return 0;
	}
	return -ENOENT;
}

/* Where an entry stands, for messages while expanding (the file is read). */
static struct kd_lines entry_at(const struct set *st, const struct entry *e)
{
	return (struct kd_lines){ .file = st->file, .no = e->line };
}

static void report_unknown(struct kd_sets *s, const struct set *st, const struct entry *e,
			   const char *name)
{
	struct kd_str dirs = { 0 };

	log_dirs(s, &dirs);
	if (st) {
		struct kd_lines at = entry_at(st, e);

		KD_LINE_ERR(&at, kd_ctx_log(s->ctx), "unknown set '%s' (no %s.set in %s)", name,
			    name, dirs.s);
	} else {
		KD_ERR(kd_ctx_log(s->ctx), "unknown set '%s' (no %s.set in %s; see --sets-dir)",
		       name, name, dirs.s);
	}
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

	if (mod >= s->n_syms) { /* lookups may have added modules since */
		size_t n = kd_ctx_db(s->ctx)->mods.n;

		s->syms = kd_xreallocarray(s->syms, n, sizeof(*s->syms));
		memset(s->syms + s->n_syms, 0, (n - s->n_syms) * sizeof(*s->syms));
		s->n_syms = n;
	}
	if (s->syms[mod] == NULL) {
		b = kd_modcache_get(s->cache, mod);
		if (b == NULL)
			return -EIO;
		s->syms[mod] = kd_xcalloc(1, sizeof(struct kd_symbols));
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

static bool wanted(const struct kd_wants *w, const char *name)
{
	return w && kd_olist_find(&w->list, name) >= 0;
}

/* Modules whose undefined symbols include the entry's symbol. */
static int match_symbol(struct kd_sets *s, const struct entry *e, const char *reason,
			const struct kd_wants *skip, struct kd_wants *out)
{
	struct kd_moddb *db = kd_ctx_db(s->ctx);
	uint32_t *cand = kd_xcalloc(db->mods.n, sizeof(*cand));
	size_t n = 0, i;
	int err;

	for (i = 0; i < db->mods.n; i++) {
		const struct kd_module *m = kd_db_mod(db, (uint32_t)i);

		if (m->in_dep && m->path && in_scope(e, m->path) && !wanted(skip, m->name))
			cand[n++] = (uint32_t)i;
	}
	/* reading the files is the slow part: all at once, in parallel */
	err = kd_modcache_load(s->cache, cand, n);
	if (err < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct kd_symbols *sy;

		err = syms_get(s, cand[i], &sy);
		if (err < 0)
			goto out;
		if (uses_symbol(sy, e->arg))
			kd_wants_add(out, kd_db_mod(db, cand[i])->name, reason, 0);
	}
out:
	free(cand);
	return err;
}

static void match_db(struct kd_sets *s, const struct entry *e, const char *reason,
		     struct kd_wants *out)
{
	struct kd_moddb *db = kd_ctx_db(s->ctx);

	for (size_t i = 0; i < db->mods.n; i++) {
		const struct kd_module *m = kd_db_mod(db, i);
		bool hit;

		if (!m->in_dep || m->path == NULL)
			continue;
		if (e->kind == ENT_NAME_GLOB)
			hit = fnmatch(e->arg, m->name, 0) == 0;
		else
			hit = path_matches(e->arg, m->path);
		if (hit)
			kd_wants_add(out, m->name, reason, 0);
	}
}

static int expand(struct kd_sets *s, struct set *st, struct kd_wants *out);

static int match_include(struct kd_sets *s, struct set *st, const struct entry *e,
			 struct kd_wants *out)
{
	struct set *child;
	int err = set_find(s, e->arg, &child);

	if (err == -ENOENT) {
		report_unknown(s, st, e, e->arg);
		return -ENOENT;
	}
	if (err < 0)
		return err;
	if (child->busy) {
		struct kd_lines at = entry_at(st, e);
		struct kd_str path = { 0 };
		size_t i = 0;

		while (i < s->depth && strcmp(s->stack[i], child->name) != 0)
			i++;
		for (; i < s->depth; i++)
			kd_str_printf(&path, "%s -> ", s->stack[i]);
		KD_LINE_ERR(&at, kd_ctx_log(s->ctx), "sets include each other: %s%s",
			    path.s ? path.s : "", child->name);
		kd_str_free(&path);
		return -ELOOP;
	}
	return expand(s, child, out);
}

/* What one entry adds (or, for a removal, what it takes away); modules in
 * skip are left out anyway and need not be read. */
static int match_entry(struct kd_sets *s, struct set *st, const struct entry *e,
		       const char *reason, const struct kd_wants *skip, struct kd_wants *out)
{
	switch (e->kind) {
	case ENT_NAME:
		kd_wants_add(out, e->arg, reason, 0);
		return 0;
	case ENT_NAME_GLOB:
	case ENT_PATH_GLOB:
		match_db(s, e, reason, out);
		return 0;
	case ENT_SYMBOL:
		return match_symbol(s, e, reason, skip, out);
	case ENT_INCLUDE:
		return match_include(s, st, e, out);
	}
	return -EINVAL;
}

/* The set's modules into out: its entries' union minus its removals. */
static int expand(struct kd_sets *s, struct set *st, struct kd_wants *out)
{
	struct kd_wants add = { 0 }, del = { 0 };
	char *reason;
	size_t i;
	int err = 0;

	if (s->depth == sizeof(s->stack) / sizeof(s->stack[0])) {
		KD_ERR(kd_ctx_log(s->ctx), "%s: sets nested more than %zu deep", st->file, s->depth);
		return -ELOOP;
	}
	reason = kd_xasprintf("set %s", st->name);
	st->busy = true;
	s->stack[s->depth++] = st->name;
	/* removals first: symbol scans then skip what would be removed */
	for (i = 0; i < st->n; i++) {
		if (!st->v[i].remove)
			continue;
		err = match_entry(s, st, &st->v[i], reason, NULL, &del);
		if (err < 0)
			goto out;
	}
	for (i = 0; i < st->n; i++) {
		if (st->v[i].remove)
			continue;
		err = match_entry(s, st, &st->v[i], reason, &del, &add);
		if (err < 0)
			goto out;
	}
	for (i = 0; i < kd_wants_count(&add); i++) {
		const struct kd_want *it = kd_wants_at(&add, i);

		if (!wanted(&del, it->name))
			kd_wants_add(out, it->name, it->reason, 0);
	}
out:
	s->depth--;
	st->busy = false;
	kd_wants_free(&add);
	kd_wants_free(&del);
	free(reason);
	return err;
}

int kd_sets_expand(struct kd_sets *s, const char *name, struct kd_wants *out)
{
	struct set *st;
	int err;

	if (!set_name_ok(name)) {
		KD_ERR(kd_ctx_log(s->ctx), "'%s' is not a set name (letters, digits, _ . + -)", name);
		return -EINVAL;
	}
	err = set_find(s, name, &st);
	if (err == -ENOENT)
		report_unknown(s, NULL, NULL, name);
	if (err < 0)
		return err;
	return expand(s, st, out);
}

/* default.list: set names separated by blanks or lines, '#' comments. */
static int parse_default_list(struct kd_sets *s, const char *path, const struct kd_buf *b,
			      char ***names, size_t *n)
{
	struct kd_lines l;
	char *line;
	size_t cap = 0;
	int err = 0;

	kd_lines_init(&l, path, (const char *)b->data, strlen((const char *)b->data), false);
	while ((line = kd_lines_next(&l)) != NULL) {
		char *words[MAX_WORDS];
		int w = line_words(&l, kd_ctx_log(s->ctx), line, words);

		if (w < 0) {
			err = w;
			goto out;
		}
		for (int k = 0; k < w; k++) {
			if (!set_name_ok(words[k])) {
				KD_LINE_ERR(&l, kd_ctx_log(s->ctx), "'%s' is not a set name",
					    words[k]);
				err = -EINVAL;
				goto out;
			}
			KD_GROW(*names, *n, cap);
			(*names)[(*n)++] = kd_xstrdup(words[k]);
		}
	}
out:
	kd_lines_free(&l);
	return err;
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
		int err = kd_read_file(kd_ctx_log(s->ctx), path, &b);

		if (err == 0) {
			err = parse_default_list(s, path, &b, names, n);
			kd_buf_free(&b);
		}
		free(path);
		if (err == -ENOENT)
			continue;
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
	struct kd_sets *s = kd_xcalloc(1, sizeof(*s));

	s->ctx = ctx;
	kd_olist_init(&s->sets, sizeof(struct set *));
	if (cache == NULL) {
		kd_modcache_init(&s->own_cache, ctx, 0);
		cache = &s->own_cache;
	}
	s->cache = cache;
	s->dirs = kd_xcalloc(n_dirs + 1, sizeof(char *));
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
	for (i = 0; i < s->sets.n; i++)
		set_free(*(struct set **)kd_olist_at(&s->sets, i));
	kd_olist_free(&s->sets);
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
	free(s->dirs);
	free(s);
}
