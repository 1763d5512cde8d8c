// SPDX-License-Identifier: MIT
/*
 * Image hooks: declarative files that add programs, files and boot-stage
 * scripts to the image.  A hook NAME is the first NAME.hook found in
 * --hooks-dir DIR (in the order given), ROOT/etc/kindling/hooks.d, the
 * source tree's hooks/image, then DATADIR/hooks.
 *
 * Format: one keyword and its words per line, separated by blanks; '#'
 * starts a comment (at the start of a line or after a blank); blank lines
 * are ignored; no quoting (paths with blanks are not supported).  Paths in
 * the image are absolute; host paths are inside the build root (-r ROOT).
 *
 *   binary PATH [PATH...]        programs with the shared libraries ld.so
 *                                would load for them (libdeps.c); a PATH
 *                                without '/' is looked up in /usr/local/sbin,
 *                                /usr/local/bin, /usr/sbin, /usr/bin, /sbin,
 *                                /bin; a script's "#!" interpreter is added
 *                                too
 *   optional-binary PATH [PATH...]  the same, and one that is absent is
 *                                skipped (said with -v)
 *   file SRC [DEST]              a file; DEST defaults to SRC; a relative
 *                                SRC is in the hook file's directory (DEST
 *                                is then required)
 *   symlink LINK TARGET          a symlink at LINK pointing to TARGET
 *   optional-symlink LINK TARGET the same, only when TARGET (relative to
 *                                LINK's directory) is in the image by then:
 *                                a link to an optional-binary
 *   dir PATH                     an empty directory (0755)
 *   module NAME [NAME...]        modules (or aliases) loaded at every boot,
 *                                as --add; absent from the kernel: an error
 *   set NAME [NAME...]           module sets, as --set
 *   script STAGE FILE            FILE (relative to the hook file's
 *                                directory, or absolute on the build host)
 *                                becomes /etc/kindling/stages/STAGE/NN-NAME
 *                                (0755), NN the hook's position in the
 *                                build's list (00, 01, ...); STAGE is
 *                                modules, pre-mount or pre-switch; one
 *                                script per stage and hook
 *
 * Files are placed at the path they have in the root, and every symlink on
 * the way there is kept as a symlink (/lib64/ld-linux-x86-64.so.2 stays a
 * link into /usr/lib/x86_64-linux-gnu), so the image looks like the host.
 * The directories of a path are resolved through the image's own symlinks
 * (/bin -> usr/bin), so a root without merged /usr still lands in /usr.
 *
 * Errors: "FILE line N: ..." for every bad line (all reported, then
 * -EINVAL), a hook not found is -EINVAL, a binary, file or library not
 * found is -ENOENT; each names the hook line it comes from.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "plan/plan.h"

#define MAX_HOOKS 100        /* NN is two digits */
#define MAX_SHEBANG_DEPTH 4

static const char *const bin_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};
static const char *const stages[] = { "modules", "pre-mount", "pre-switch" };
#define N_STAGES (sizeof(stages) / sizeof(stages[0]))

enum item_kind {
	IT_BINARY, IT_OPT_BINARY, IT_FILE, IT_SYMLINK, IT_OPT_SYMLINK, IT_DIR, IT_SCRIPT,
};

struct item {
	enum item_kind kind;
	char *a, *b;      /* binary: path; file: src, dest; symlink: link, target;
			   * dir: path; script: stage, host file */
	char *where;      /* "FILE line N" */
	unsigned hook;    /* position in hooks */
};

struct hook {
	char *name;
	char *file;       /* where it was read from */
	char *dir;        /* its directory: relative names start there */
	unsigned stages;  /* bit per stage with a script */
};

struct kd_hooks {
	struct kd_ctx *ctx;
	char *root;       /* "" for / */
	struct kd_strv dirs;
	struct kd_olist hooks;  /* struct hook by name, in the order chosen */
	struct item *items;
	size_t n_items, cap_items;
	struct kd_strv modules, module_reasons, sets; /* modules[i] for module_reasons[i] */
	/* content step */
	struct kd_entries *e;
	struct kd_map placed;   /* image paths the hooks wrote: path -> 1 */
	struct kd_ldso ldso;
	bool ldso_ready;
};

int kd_hooks_new(struct kd_ctx *ctx, const char *root, const char *const *dirs,
		 size_t n_dirs, struct kd_hooks **out)
{
	struct kd_hooks *h = kd_xcalloc(1, sizeof(*h));

	h->ctx = ctx;
	h->root = kd_xstrdup(root ? root : "");
	for (size_t i = 0; i < n_dirs; i++)
		kd_strv_add(&h->dirs, dirs[i]);
	kd_olist_init(&h->hooks, sizeof(struct hook));
	*out = h;
	return 0;
}

static struct hook *hook_at(const struct kd_hooks *h, unsigned i)
{
	return kd_olist_at(&h->hooks, i);
}

void kd_hooks_free(struct kd_hooks *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n_items; i++) {
		free(h->items[i].a);
		free(h->items[i].b);
		free(h->items[i].where);
	}
	free(h->items);
	for (unsigned i = 0; i < h->hooks.n; i++) {
		free(hook_at(h, i)->name);
		free(hook_at(h, i)->file);
		free(hook_at(h, i)->dir);
	}
	kd_olist_free(&h->hooks);
	kd_strv_free(&h->dirs);
	kd_strv_free(&h->modules);
	kd_strv_free(&h->module_reasons);
	kd_strv_free(&h->sets);
	kd_map_free(&h->placed);
	if (h->ldso_ready)
		kd_ldso_free(&h->ldso);
	free(h->root);
	free(h);
}

/* ---- the parser ------------------------------------------------------------ */

struct line {
	struct kd_hooks *h;
	struct kd_lines *lines;
	unsigned hook;
	char **w;         /* words after the keyword */
	size_t n;
};

/* "FILE line N: ..." for a bad line; the value to return for it. */
#define BAD(l, ...) (KD_LINE_ERR((l)->lines, kd_ctx_log((l)->h->ctx), __VA_ARGS__), -EINVAL)

static void add_item(struct line *l, enum item_kind kind, const char *a, const char *b)
{
	struct kd_hooks *h = l->h;

	KD_GROW(h->items, h->n_items, h->cap_items);
	h->items[h->n_items++] = (struct item){
		.kind = kind, .a = kd_xstrdup(a), .b = b ? kd_xstrdup(b) : NULL,
		.where = kd_xasprintf("%s line %u", l->lines->file, l->lines->no),
		.hook = l->hook,
	};
}

static int need_words(struct line *l, const char *kw, size_t min, size_t max,
		      const char *what)
{
	if (l->n >= min && l->n <= max)
		return 0;
	if (min == max)
		return BAD(l, "'%s' takes %s, got %zu word%s", kw, what, l->n,
			   l->n == 1 ? "" : "s");
	if (l->n < min)
		return BAD(l, "'%s' needs %s", kw, what);
	return BAD(l, "'%s' takes %s, got %zu words", kw, what, l->n);
}

static int need_absolute(struct line *l, const char *kw, const char *path)
{
	if (path[0] == '/')
		return 0;
	return BAD(l, "%s: '%s' is not an absolute path", kw, path);
}

static int kw_binary(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 1, SIZE_MAX, "at least one PATH");

	if (err < 0)
		return err;
	for (size_t i = 0; i < l->n; i++)
		add_item(l, kw[0] == 'o' ? IT_OPT_BINARY : IT_BINARY, l->w[i], NULL);
	return 0;
}

static int kw_file(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 1, 2, "SRC [DEST]");

	if (err < 0)
		return err;
	if (l->n == 1 && l->w[0][0] != '/')
		return BAD(l, "file: a relative SRC ('%s', in the hook's directory) needs a "
			   "DEST in the image", l->w[0]);
	if (l->n == 2 && need_absolute(l, "file DEST", l->w[1]) < 0)
		return -EINVAL;
	add_item(l, IT_FILE, l->w[0], l->n == 2 ? l->w[1] : l->w[0]);
	return 0;
}

static int kw_symlink(struct line *l, const char *kw)
{
	if (need_words(l, kw, 2, 2, "LINK TARGET") < 0 || need_absolute(l, kw, l->w[0]) < 0)
		return -EINVAL;
	add_item(l, kw[0] == 'o' ? IT_OPT_SYMLINK : IT_SYMLINK, l->w[0], l->w[1]);
	return 0;
}

static int kw_dir(struct line *l, const char *kw)
{
	if (need_words(l, kw, 1, 1, "one PATH") < 0 || need_absolute(l, "dir", l->w[0]) < 0)
		return -EINVAL;
	add_item(l, IT_DIR, l->w[0], NULL);
	return 0;
}

static int kw_module(struct line *l, const char *kw)
{
	struct kd_hooks *h = l->h;
	char *reason;

	if (need_words(l, kw, 1, SIZE_MAX, "at least one module NAME") < 0)
		return -EINVAL;
	reason = kd_xasprintf("hook %s", hook_at(h, l->hook)->name);
	for (size_t i = 0; i < l->n; i++) {
		kd_strv_add(&h->modules, l->w[i]);
		kd_strv_add(&h->module_reasons, reason);
	}
	free(reason);
	return 0;
}

static int kw_set(struct line *l, const char *kw)
{
	if (need_words(l, kw, 1, SIZE_MAX, "at least one set NAME") < 0)
		return -EINVAL;
	for (size_t i = 0; i < l->n; i++)
		kd_strv_add(&l->h->sets, l->w[i]);
	return 0;
}

static int kw_script(struct line *l, const char *kw)
{
	struct hook *hk = hook_at(l->h, l->hook);
	char *src;
	size_t s;

	if (need_words(l, kw, 2, 2, "STAGE FILE") < 0)
		return -EINVAL;
	for (s = 0; s < N_STAGES && strcmp(stages[s], l->w[0]) != 0; s++)
		;
	if (s == N_STAGES)
		return BAD(l, "unknown stage '%s' (modules, pre-mount or pre-switch)", l->w[0]);
	if (hk->stages & (1u << s))
		return BAD(l, "a second script for stage %s (a hook has one script per stage)",
			   l->w[0]);
	hk->stages |= 1u << s;
	src = l->w[1][0] == '/' ? kd_xstrdup(l->w[1]) : kd_xasprintf("%s/%s", hk->dir, l->w[1]);
	add_item(l, IT_SCRIPT, l->w[0], src);
	free(src);
	return 0;
}

static const struct {
	const char *kw;
	int (*fn)(struct line *l, const char *kw);
} keywords[] = {
	{ "binary", kw_binary },
	{ "optional-binary", kw_binary },
	{ "file", kw_file },
	{ "symlink", kw_symlink },
	{ "optional-symlink", kw_symlink },
	{ "dir", kw_dir },
	{ "module", kw_module },
	{ "set", kw_set },
	{ "script", kw_script },
};

/* One line: its words up to a '#' that starts one, the keyword's function. */
static int parse_line(struct line *l, char *text)
{
	char **w = NULL, *word;
	size_t n = 0, cap = 0;
	int err = 0;

	while ((word = kd_word(&text)) != NULL && word[0] != '#') {
		KD_GROW(w, n, cap);
		w[n++] = word;
	}
	if (n == 0)
		goto out;
	l->w = w + 1;
	l->n = n - 1;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		if (strcmp(w[0], keywords[k].kw) == 0) {
			err = keywords[k].fn(l, w[0]);
			goto out;
		}
	err = BAD(l, "unknown keyword '%s' (binary, optional-binary, file, symlink, "
		  "optional-symlink, dir, module, set or script)", w[0]);
out:
	free(w);
	return err;
}

static bool name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

static int hook_add(struct kd_hooks *h, const char *name, const char *filename)
{
	const char *slash = strrchr(filename, '/');
	struct hook *hk;
	bool added;

	if (h->hooks.n >= MAX_HOOKS) {
		KD_ERR(kd_ctx_log(h->ctx), "hook %s: more than %d hooks in one image", name,
		       MAX_HOOKS);
		return -EINVAL;
	}
	hk = kd_olist_add(&h->hooks, name, &added);
	if (!added) {
		KD_ERR(kd_ctx_log(h->ctx), "hook %s: read twice", name);
		return -EINVAL;
	}
	hk->name = kd_xstrdup(name);
	hk->file = kd_xstrdup(filename);
	hk->dir = slash == filename ? kd_xstrdup("/") :
		  slash ? kd_xstrndup(filename, (size_t)(slash - filename)) : kd_xstrdup(".");
	return 0;
}

int kd_hooks_parse(struct kd_hooks *h, const char *name, const char *filename,
		   const char *text)
{
	struct kd_lines lines;
	struct line l = { .h = h, .lines = &lines };
	int bad_lines = 0, err = hook_add(h, name, filename);
	char *line;

	if (err < 0)
		return err;
	l.hook = (unsigned)(h->hooks.n - 1);
	kd_lines_init(&lines, filename, text, strlen(text), false);
	while ((line = kd_lines_next(&lines)) != NULL)
		if (parse_line(&l, line) < 0)
			bad_lines++; /* every bad line is reported */
	kd_lines_free(&lines);
	return bad_lines ? -EINVAL : 0;
}

int kd_hooks_load(struct kd_hooks *h, const char *name)
{
	struct kd_str path = { 0 }, tried = { 0 };
	struct kd_buf b;
	int err = -ENOENT;

	if (!name_ok(name)) {
		KD_ERR(kd_ctx_log(h->ctx),
		       "hook '%s': not a hook name (letters, digits, '-', '_', '.')",
		       name);
		return -EINVAL;
	}
	if (kd_olist_get(&h->hooks, name))
		return 0; /* chosen twice: once is enough */
	for (size_t i = 0; i < h->dirs.n && err == -ENOENT; i++) {
		path.len = 0;
		kd_str_printf(&path, "%s/%s.hook", h->dirs.v[i], name);
		kd_str_printf(&tried, "%s%s", i ? ", " : "", h->dirs.v[i]);
		err = access(path.s, F_OK) == 0 ? kd_read_file(kd_ctx_log(h->ctx), path.s, &b)
						: -ENOENT;
	}
	if (err == 0) {
		err = kd_hooks_parse(h, name, path.s, (const char *)b.data);
		kd_buf_free(&b);
	} else if (err == -ENOENT) {
		KD_ERR(kd_ctx_log(h->ctx),
		       "hook %s: no %s.hook in %s (give --hooks-dir DIR, or put it in "
		       "%s/etc/kindling/hooks.d)",
		       name, name, tried.s ? tried.s : "(no directory)", h->root);
		err = -EINVAL;
	}
	kd_str_free(&path);
	kd_str_free(&tried);
	return err;
}

void kd_hooks_wants(struct kd_hooks *h, struct kd_wants *w)
{
	for (size_t i = 0; i < h->modules.n; i++)
		kd_wants_add(w, h->modules.v[i], h->module_reasons.v[i],
			     KD_WANT_LOAD | KD_WANT_REQUIRED);
}

const char *const *kd_hooks_sets(const struct kd_hooks *h, size_t *n)
{
	*n = h->sets.n;
	return (const char *const *)h->sets.v;
}

size_t kd_hooks_count(const struct kd_hooks *h)
{
	return h->hooks.n;
}

/* ---- placing things in the image ------------------------------------------ */

struct place {
	struct kd_hooks *h;
	const struct item *it;
};

/* kd_walk's lookup in the image: its symlink entries. */
static int image_lookup(void *data, const char *path, bool last, struct kd_str *target)
{
	const struct kd_entry *en = kd_entries_get(data, path + 1);

	(void)last;
	if (en == NULL || !S_ISLNK(en->mode))
		return 0;
	kd_str_add(target, (const char *)en->data, en->size);
	return 1;
}

/* The image path (no leading '/') of an absolute path, its directories
 * resolved through the image's symlinks; the last component too when
 * follow_last.  "/" itself is no entry: -EINVAL. */
static int image_walk(struct kd_hooks *h, const char *path, bool follow_last,
		      struct kd_str *out)
{
	int err = kd_walk(path, follow_last, image_lookup, h->e, out);

	if (err == -ELOOP)
		KD_ERR(kd_ctx_log(h->ctx), "image: too many symlinks resolving %s", path);
	if (err < 0)
		return err;
	if (out->len == 0)
		return -EINVAL;
	memmove(out->s, out->s + 1, out->len--); /* the NUL too */
	return 0;
}

static int image_path(struct kd_hooks *h, const char *path, struct kd_str *out)
{
	return image_walk(h, path, false, out);
}

static const char *kind_name(uint32_t mode)
{
	return S_ISLNK(mode) ? "symlink" : S_ISDIR(mode) ? "directory" : "file";
}

/* Already there: fine when a hook put the same thing there (two programs
 * sharing libc), else an error naming the path and the hook line.
 * 1: there already, 0: free, -EEXIST. */
static int clash(struct place *p, const char *ipath, uint32_t mode, const void *data,
		 size_t size)
{
	const struct kd_entry *en = kd_entries_get(p->h->e, ipath);
	bool same = en && size == en->size && (size == 0 || memcmp(en->data, data, size) == 0);
	bool placed = kd_map_get(&p->h->placed, ipath, NULL);

	if (en == NULL)
		return 0;
	if ((en->mode & S_IFMT) == (mode & S_IFMT)) {
		if (S_ISDIR(mode) || (S_ISLNK(mode) && same) || (S_ISREG(mode) && placed && same))
			return 1;
		if (S_ISREG(mode) && placed) {
			KD_ERR(kd_ctx_log(p->h->ctx),
			       "%s: /%s is already in the image with other contents",
			       p->it->where, ipath);
			return -EEXIST;
		}
	}
	KD_ERR(kd_ctx_log(p->h->ctx), "%s: /%s is already in the image (a %s), the hook cannot put a "
	       "%s there", p->it->where, ipath, kind_name(en->mode), kind_name(mode));
	return -EEXIST;
}

/* Put an entry at path (owned is freed if it is not taken). */
static int put(struct place *p, const char *path, uint32_t mode, const void *data,
	       size_t size, void *owned)
{
	struct kd_str ipath = { 0 };
	int err = image_path(p->h, path, &ipath);

	if (err == -EINVAL)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: '%s' is not a path for a file in the image",
		       p->it->where, path);
	if (err < 0)
		goto drop;
	err = clash(p, ipath.s, mode, data, size);
	if (err != 0)
		goto drop; /* 1: the same thing is there */
	err = kd_entries_add(p->h->e, ipath.s, mode, data, size, owned);
	if (err == 0)
		kd_map_put(&p->h->placed, ipath.s, 1);
	kd_str_free(&ipath);
	return err;
drop:
	free(owned);
	kd_str_free(&ipath);
	return err < 0 ? err : 0;
}

static int put_symlink(struct place *p, const char *link, const char *target)
{
	char *t = kd_xstrdup(target);

	return put(p, link, S_IFLNK | 0777, t, strlen(t), t);
}

/* optional-symlink: only when its target is in the image and LINK is not. */
static int put_optional_symlink(struct place *p)
{
	const char *link = p->it->a, *target = p->it->b;
	struct kd_str ipath = { 0 };
	char *abs = target[0] == '/' ? kd_xstrdup(target) :
		    kd_xasprintf("%.*s/%s", (int)(strrchr(link, '/') - link), link, target);
	int err = image_path(p->h, link, &ipath);

	if (err < 0)
		goto out;
	/* LINK there already (the root has the program at LINK itself): done */
	if (kd_entries_get(p->h->e, ipath.s)) {
		KD_DBG(kd_ctx_log(p->h->ctx), "%s: %s is in the image already", p->it->where, link);
		goto out;
	}
	err = image_path(p->h, abs, &ipath);
	if (err < 0)
		goto out;
	if (kd_entries_get(p->h->e, ipath.s) == NULL) {
		KD_INFO(kd_ctx_log(p->h->ctx), "%s: %s is not in the image, no link %s to it",
			p->it->where, abs, link);
		goto out;
	}
	kd_str_free(&ipath);
	free(abs);
	return put_symlink(p, link, target);
out:
	kd_str_free(&ipath);
	free(abs);
	return err == -EINVAL ? 0 : err; /* no path in the image: no link either */
}

static int link_met(void *data, const char *link, const char *target)
{
	return put_symlink(data, link, target);
}

/* The host file at path (inside the root) at dest; dest NULL: at its own
 * path, with every symlink on the way. */
static int put_host_file(struct place *p, const char *path, const char *dest)
{
	struct kd_str real = { 0 };
	struct kd_buf b;
	struct stat sb;
	char *host = NULL;
	int err = kd_root_resolve(p->h->root, path, dest ? NULL : link_met, p, &real);

	if (err < 0)
		goto out;
	host = kd_xasprintf("%s%s", p->h->root, real.s);
	if (stat(host, &sb) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s%s is not a regular file", p->it->where,
		       p->h->root, path);
		err = -EINVAL;
		goto out;
	}
	err = kd_read_file(kd_ctx_log(p->h->ctx), host, &b);
	if (err < 0)
		goto out;
	err = put(p, dest ? dest : real.s, S_IFREG | (sb.st_mode & 07777), b.data, b.size, b.data);
out:
	if (err == -ENOENT || err == -ENOTDIR)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s%s: no such file", p->it->where, p->h->root,
		       path);
	kd_str_free(&real);
	free(host);
	return err;
}

/* Whether path (inside the root) is an executable regular file. */
static bool executable(struct place *p, const char *path)
{
	struct kd_str real = { 0 };
	struct stat sb;
	bool ok = false;

	if (kd_root_resolve(p->h->root, path, NULL, NULL, &real) == 0) {
		char *host = kd_xasprintf("%s%s", p->h->root, real.s);

		ok = stat(host, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111);
		free(host);
	}
	kd_str_free(&real);
	return ok;
}

/* A program's path inside the root: as given, or the first bin dir holding it. */
static int find_binary(struct place *p, const char *name, struct kd_str *out)
{
	for (size_t i = 0; i < sizeof(bin_dirs) / sizeof(bin_dirs[0]); i++) {
		out->len = 0;
		if (name[0] == '/')
			kd_str_addz(out, name);
		else
			kd_str_printf(out, "%s/%s", bin_dirs[i], name);
		if (executable(p, out->s))
			return 0;
		if (name[0] == '/')
			break;
	}
	return -ENOENT;
}

static int put_binary(struct place *p, const char *name, bool optional, int depth);

/* The "#!" interpreter of text (up to the first blank), or NULL. */
static char *shebang(const char *text, size_t n)
{
	const char *s = text + 2, *end = text + n, *q;

	if (n <= 2 || text[0] != '#' || text[1] != '!')
		return NULL;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	for (q = s; q < end && !strchr(" \t\r\n", *q); q++)
		;
	return kd_xstrndup(s, (size_t)(q - s));
}

/* "#!/bin/sh -e": the interpreter, added as a binary too. */
static int put_shebang(struct place *p, const char *path, int depth)
{
	struct kd_str real = { 0 };
	char head[256], *interp = NULL;
	ssize_t n = 0;
	int fd = -1, err = 0;

	if (kd_root_resolve(p->h->root, path, NULL, NULL, &real) == 0) {
		char *host = kd_xasprintf("%s%s", p->h->root, real.s);

		fd = open(host, O_RDONLY | O_CLOEXEC);
		free(host);
	}
	if (fd >= 0) {
		n = read(fd, head, sizeof(head) - 1);
		close(fd);
	}
	if (n > 2)
		interp = shebang(head, (size_t)n);
	if (interp && interp[0] == '/') {
		if (depth >= MAX_SHEBANG_DEPTH) {
			KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s: interpreters nested too deep",
			       p->it->where, path);
			err = -ELOOP;
		} else {
			err = put_binary(p, interp, false, depth + 1);
		}
	}
	free(interp);
	kd_str_free(&real);
	return err;
}

static int not_found(struct place *p, const char *name, bool optional)
{
	if (optional) {
		KD_INFO(kd_ctx_log(p->h->ctx), "%s: optional binary %s not found under %s/, skipped",
			p->it->where, name, p->h->root);
		return 0;
	}
	if (name[0] == '/')
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: binary %s%s: no such executable file",
		       p->it->where, p->h->root, name);
	else
		KD_ERR(kd_ctx_log(p->h->ctx),
		       "%s: binary %s not found in %s/{usr/local/sbin,"
		       "usr/local/bin,usr/sbin,usr/bin,sbin,bin} (install it, or give its "
		       "absolute path)",
		       p->it->where, name, p->h->root);
	return -ENOENT;
}

static int put_binary(struct place *p, const char *name, bool optional, int depth)
{
	struct kd_str path = { 0 };
	struct kd_libdeps d = { 0 };
	int err = find_binary(p, name, &path);

	if (err == -ENOENT) {
		err = not_found(p, name, optional);
		goto out;
	}
	err = put_host_file(p, path.s, NULL);
	if (err < 0)
		goto out;
	if (!p->h->ldso_ready) {
		err = kd_ldso_init(&p->h->ldso, p->h->ctx, p->h->root);
		if (err < 0)
			goto out;
		p->h->ldso_ready = true;
	}
	err = kd_ldso_closure(&p->h->ldso, path.s, &d);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: binary %s cannot be added without its libraries",
		       p->it->where, path.s);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < d.paths.n; i++) {
		err = put_host_file(p, d.paths.v[i], NULL);
		if (err < 0)
			goto out;
	}
	if (d.not_elf) {
		err = put_shebang(p, path.s, depth);
		if (err < 0)
			goto out;
	}
	KD_DBG(kd_ctx_log(p->h->ctx), "%s: %s with %zu libraries", p->it->where, path.s,
	       d.paths.n);
out:
	kd_libdeps_free(&d);
	kd_str_free(&path);
	return err;
}

/* A hook's own file (script, relative file SRC): on the build host. */
static int put_own_file(struct place *p, const char *src, const char *dest, uint32_t mode)
{
	struct kd_buf b;
	int err = kd_read_file(kd_ctx_log(p->h->ctx), src, &b);

	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s: no such file (ship it beside the hook file)",
		       p->it->where, src);
	if (err < 0)
		return err;
	return put(p, dest, mode, b.data, b.size, b.data);
}

/* "etc/kindling/stages/STAGE/NN-NAME": where a script item goes (with a
 * leading '/' when slash). */
static char *script_path(const struct kd_hooks *h, const struct item *it, bool slash)
{
	return kd_xasprintf("%setc/kindling/stages/%s/%02u-%s", slash ? "/" : "", it->a,
			    it->hook, hook_at(h, it->hook)->name);
}

static int put_script(struct place *p)
{
	char *dest = script_path(p->h, p->it, true);
	int err = put_own_file(p, p->it->b, dest, S_IFREG | 0755);

	free(dest);
	return err;
}

static int put_file(struct place *p)
{
	struct stat sb;
	char *src;
	int err;

	if (p->it->a[0] == '/')
		return put_host_file(p, p->it->a, strcmp(p->it->a, p->it->b) ? p->it->b : NULL);
	src = kd_xasprintf("%s/%s", hook_at(p->h, p->it->hook)->dir, p->it->a);
	if (stat(src, &sb) == 0) {
		err = put_own_file(p, src, p->it->b, S_IFREG | (sb.st_mode & 07777));
	} else {
		err = -errno;
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s: no such file (ship it beside the hook file)",
		       p->it->where, src);
	}
	free(src);
	return err;
}

/* Whether path is in the image once every symlink (the last one too) is followed. */
static bool in_image(struct kd_hooks *h, const char *path)
{
	struct kd_str ipath = { 0 };
	bool found = image_walk(h, path, true, &ipath) == 0 && kd_entries_get(h->e, ipath.s);

	kd_str_free(&ipath);
	return found;
}

/* A stage script whose "#!" interpreter is not in the image cannot run:
 * say so at build time rather than at boot. */
static void check_interpreters(struct kd_hooks *h)
{
	for (size_t i = 0; i < h->n_items; i++) {
		const struct item *it = &h->items[i];
		const struct kd_entry *en;
		char *dest, *interp;

		if (it->kind != IT_SCRIPT)
			continue;
		dest = script_path(h, it, false);
		en = kd_entries_get(h->e, dest);
		free(dest);
		interp = en ? shebang((const char *)en->data, en->size) : NULL;
		if (interp && interp[0] == '/' && !in_image(h, interp))
			KD_WARN(kd_ctx_log(h->ctx),
				"%s: the %s script starts with #!%s, which is not in "
				"the image: the init cannot run it (add the busybox hook, or "
				"a binary line for %s)",
				it->where, it->a, interp, interp);
		free(interp);
	}
}

static int put_item(struct place *p)
{
	switch (p->it->kind) {
	case IT_BINARY:
	case IT_OPT_BINARY:
		return put_binary(p, p->it->a, p->it->kind == IT_OPT_BINARY, 0);
	case IT_FILE:
		return put_file(p);
	case IT_SYMLINK:
		return put_symlink(p, p->it->a, p->it->b);
	case IT_OPT_SYMLINK:
		return put_optional_symlink(p);
	case IT_DIR:
		return put(p, p->it->a, S_IFDIR | 0755, NULL, 0, NULL);
	case IT_SCRIPT:
		return put_script(p);
	}
	return -EINVAL;
}

int kd_hooks_content(struct kd_hooks *h, struct kd_entries *e)
{
	int err = 0;

	h->e = e;
	for (size_t i = 0; i < h->n_items && err == 0; i++)
		err = put_item(&(struct place){ .h = h, .it = &h->items[i] });
	if (err == 0) {
		check_interpreters(h);
		KD_INFO(kd_ctx_log(h->ctx), "image hooks: %zu entries (programs, libraries, links, files, "
			"scripts) from %zu hook%s", h->placed.n, h->hooks.n,
			h->hooks.n == 1 ? "" : "s");
	}
	h->e = NULL;
	return err;
}
