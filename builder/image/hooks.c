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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "plan/plan.h"

#define MAX_HOOKS 100        /* NN is two digits */
#define MAX_SHEBANG_DEPTH 4
#define MAX_IMAGE_LINKS 40

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
	unsigned hook;    /* index in hooks */
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
	char **dirs;
	size_t n_dirs;
	struct hook *hooks;
	size_t n_hooks;
	struct item *items;
	size_t n_items;
	char **modules, **module_reasons, **sets;
	size_t n_modules, n_sets;
	/* content step */
	struct kd_entries *e;
	struct kd_map placed;   /* image paths the hooks wrote: path -> 1 */
	struct kd_ldso ldso;
	bool ldso_ready;
};

static int strv_push(char ***v, size_t *n, char *s)
{
	char **p;

	if (s == NULL)
		return -ENOMEM;
	p = realloc(*v, (*n + 1) * sizeof(**v));
	if (p == NULL) {
		free(s);
		return -ENOMEM;
	}
	*v = p;
	p[(*n)++] = s;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int kd_hooks_new(struct kd_ctx *ctx, const char *root, const char *const *dirs,
		 size_t n_dirs, struct kd_hooks **out)
{
	struct kd_hooks *h = calloc(1, sizeof(*h));
	int err = 0;

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->ctx = ctx;
	h->root = kd_xstrdup(root ? root : "");
	for (size_t i = 0; i < n_dirs && err == 0; i++)
		err = strv_push(&h->dirs, &h->n_dirs, strdup(dirs[i]));
	if (err < 0) {
		kd_hooks_free(h);
		return err;
	}
	*out = h;
	return 0;
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
	for (size_t i = 0; i < h->n_hooks; i++) {
		free(h->hooks[i].name);
		free(h->hooks[i].file);
		free(h->hooks[i].dir);
	}
	free(h->hooks);
	strv_free(h->dirs, h->n_dirs);
	strv_free(h->modules, h->n_modules);
	strv_free(h->module_reasons, h->n_modules);
	strv_free(h->sets, h->n_sets);
	kd_map_free(&h->placed);
	if (h->ldso_ready)
		kd_ldso_free(&h->ldso);
	free(h->root);
	free(h);
}

/* ---- the parser ------------------------------------------------------------ */

struct line {
	struct kd_hooks *h;
	const char *file;
	unsigned no;
	unsigned hook;
	char **w;         /* words after the keyword */
	size_t n;
};

static int bad(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct line *l, const char *fmt, ...)
{
	struct kd_str msg = { 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && (msg.s = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg.s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	KD_ERR(kd_ctx_log(l->h->ctx), "%s line %u: %s", l->file, l->no, msg.s ? msg.s : fmt);
	free(msg.s);
	return -EINVAL;
}

static int add_item(struct line *l, enum item_kind kind, const char *a, const char *b)
{
	struct item *v = realloc(l->h->items, (l->h->n_items + 1) * sizeof(*v));
	struct kd_str where = { 0 };

	if (v == NULL)
		return -ENOMEM;
	l->h->items = v;
	kd_str_printf(&where, "%s line %u", l->file, l->no);
	v[l->h->n_items] = (struct item){
		.kind = kind, .a = kd_xstrdup(a), .b = b ? kd_xstrdup(b) : NULL,
		.where = where.s, .hook = l->hook,
	};
	l->h->n_items++;
	return where.s ? 0 : -ENOMEM;
}

static int need_words(struct line *l, const char *kw, size_t min, size_t max,
		      const char *what)
{
	if (l->n >= min && l->n <= max)
		return 0;
	if (min == max)
		return bad(l, "'%s' takes %s, got %zu word%s", kw, what, l->n,
			   l->n == 1 ? "" : "s");
	if (l->n < min)
		return bad(l, "'%s' needs %s", kw, what);
	return bad(l, "'%s' takes %s, got %zu words", kw, what, l->n);
}

static int need_absolute(struct line *l, const char *kw, const char *path)
{
	if (path[0] == '/')
		return 0;
	return bad(l, "%s: '%s' is not an absolute path", kw, path);
}

static int kw_binary(struct line *l, const char *kw)
{
	enum item_kind k = kw[0] == 'o' ? IT_OPT_BINARY : IT_BINARY;
	int err = need_words(l, kw, 1, SIZE_MAX, "at least one PATH");

	for (size_t i = 0; i < l->n && err == 0; i++)
		err = add_item(l, k, l->w[i], NULL);
	return err;
}

static int kw_file(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 1, 2, "SRC [DEST]");

	if (err == 0 && l->n == 1 && l->w[0][0] != '/')
		return bad(l,
			   "file: a relative SRC ('%s', in the hook's directory) needs a "
			   "DEST in the image",
			   l->w[0]);
	if (err == 0 && l->n == 2)
		err = need_absolute(l, "file DEST", l->w[1]);
	if (err == 0)
		err = add_item(l, IT_FILE, l->w[0], l->n == 2 ? l->w[1] : l->w[0]);
	return err;
}

static int kw_symlink(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 2, 2, "LINK TARGET");

	if (err == 0)
		err = need_absolute(l, kw, l->w[0]);
	if (err == 0)
		err = add_item(l, kw[0] == 'o' ? IT_OPT_SYMLINK : IT_SYMLINK, l->w[0],
			       l->w[1]);
	return err;
}

static int kw_dir(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 1, 1, "one PATH");

	if (err == 0)
		err = need_absolute(l, "dir", l->w[0]);
	if (err == 0)
		err = add_item(l, IT_DIR, l->w[0], NULL);
	return err;
}

static int kw_module(struct line *l, const char *kw)
{
	struct kd_hooks *h = l->h;
	int err = need_words(l, kw, 1, SIZE_MAX, "at least one module NAME");

	for (size_t i = 0; i < l->n && err == 0; i++) {
		struct kd_str reason = { 0 };
		size_t n = h->n_modules;

		kd_str_printf(&reason, "hook %s", h->hooks[l->hook].name);
		err = strv_push(&h->module_reasons, &n, reason.s);
		if (err == 0)
			err = strv_push(&h->modules, &h->n_modules, strdup(l->w[i]));
		if (err < 0 && n > h->n_modules)
			free(h->module_reasons[--n]); /* reasons and modules stay pairs */
	}
	return err;
}

static int kw_set(struct line *l, const char *kw)
{
	int err = need_words(l, kw, 1, SIZE_MAX, "at least one set NAME");

	for (size_t i = 0; i < l->n && err == 0; i++)
		err = strv_push(&l->h->sets, &l->h->n_sets, strdup(l->w[i]));
	return err;
}

static int kw_script(struct line *l, const char *kw)
{
	struct hook *hk = &l->h->hooks[l->hook];
	int err = need_words(l, kw, 2, 2, "STAGE FILE");
	struct kd_str src = { 0 };
	size_t s;

	if (err < 0)
		return err;
	for (s = 0; s < N_STAGES && strcmp(stages[s], l->w[0]) != 0; s++)
		;
	if (s == N_STAGES)
		return bad(l, "unknown stage '%s' (modules, pre-mount or pre-switch)",
			   l->w[0]);
	if (hk->stages & (1u << s))
		return bad(
			l,
			"a second script for stage %s (a hook has one script per stage)",
			l->w[0]);
	hk->stages |= 1u << s;
	if (l->w[1][0] == '/')
		kd_str_addz(&src, l->w[1]);
	else
		kd_str_printf(&src, "%s/%s", hk->dir, l->w[1]);
	err = src.s ? add_item(l, IT_SCRIPT, l->w[0], src.s) : -ENOMEM;
	kd_str_free(&src);
	return err;
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

/* Split at blanks, stopping at a '#' that starts a word. */
static int split(char *s, char ***words, size_t *n)
{
	char *save = NULL, *w;

	*n = 0;
	for (w = strtok_r(s, " \t\r", &save); w && w[0] != '#';
	     w = strtok_r(NULL, " \t\r", &save)) {
		char **p = realloc(*words, (*n + 1) * sizeof(**words));

		if (p == NULL)
			return -ENOMEM;
		*words = p;
		p[(*n)++] = w;
	}
	return 0;
}

static int parse_line(struct line *l, char *text)
{
	char **w = NULL;
	size_t n;
	int err = split(text, &w, &n);

	if (err < 0 || n == 0) {
		free(w);
		return err;
	}
	l->w = w + 1;
	l->n = n - 1;
	err = 1;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]) && err == 1; k++)
		if (strcmp(w[0], keywords[k].kw) == 0)
			err = keywords[k].fn(l, w[0]);
	if (err == 1)
		err = bad(l,
			  "unknown keyword '%s' (binary, optional-binary, file, symlink, "
			  "optional-symlink, dir, module, set or script)",
			  w[0]);
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
	struct hook *v;
	const char *slash = strrchr(filename, '/');

	if (h->n_hooks >= MAX_HOOKS) {
		KD_ERR(kd_ctx_log(h->ctx), "hook %s: more than %d hooks in one image", name,
		       MAX_HOOKS);
		return -EINVAL;
	}
	v = realloc(h->hooks, (h->n_hooks + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	h->hooks = v;
	v[h->n_hooks] = (struct hook){
		.name = kd_xstrdup(name),
		.file = kd_xstrdup(filename),
		.dir = slash ? strndup(filename, (size_t)(slash - filename))
			     : kd_xstrdup("."),
	};
	if (slash == filename) {
		free(v[h->n_hooks].dir);
		v[h->n_hooks].dir = kd_xstrdup("/");
	}
	h->n_hooks++;
	return 0;
}

int kd_hooks_parse(struct kd_hooks *h, const char *name, const char *filename,
		   const char *text)
{
	struct line l = { .h = h, .file = filename };
	char *copy, *line, *next;
	int err, bad_lines = 0;

	err = hook_add(h, name, filename);
	if (err < 0)
		return err;
	l.hook = (unsigned)(h->n_hooks - 1);
	copy = strdup(text);
	if (copy == NULL)
		return -ENOMEM;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		l.no++;
		err = parse_line(&l, line);
		if (err == -ENOMEM)
			break;
		if (err < 0)
			bad_lines++;
		err = 0;
	}
	free(copy);
	if (err == 0 && bad_lines)
		err = -EINVAL;
	return err;
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
	for (size_t i = 0; i < h->n_hooks; i++)
		if (strcmp(h->hooks[i].name, name) == 0)
			return 0; /* chosen twice: once is enough */
	for (size_t i = 0; i < h->n_dirs && err == -ENOENT; i++) {
		path.len = 0;
		kd_str_printf(&path, "%s/%s.hook", h->dirs[i], name);
		kd_str_printf(&tried, "%s%s", i ? ", " : "", h->dirs[i]);
		if (path.s == NULL || tried.s == NULL) {
			err = -ENOMEM;
			break;
		}
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

int kd_hooks_wants(struct kd_hooks *h, struct kd_wants *w)
{
	int err = 0;

	for (size_t i = 0; i < h->n_modules && err == 0; i++)
		err = kd_wants_add(w, h->modules[i], h->module_reasons[i],
				   KD_WANT_LOAD | KD_WANT_REQUIRED);
	return err;
}

const char *const *kd_hooks_sets(const struct kd_hooks *h, size_t *n)
{
	*n = h->n_sets;
	return (const char *const *)h->sets;
}

size_t kd_hooks_count(const struct kd_hooks *h)
{
	return h->n_hooks;
}

/* ---- placing things in the image ------------------------------------------ */

struct place {
	struct kd_hooks *h;
	const struct item *it;
};

static const struct kd_entry *entry_at(struct kd_entries *e, const char *path)
{
	uint32_t i;

	return kd_map_get(&e->index, path, &i) ? &e->v[i] : NULL;
}

/* The image path (no leading '/') of an absolute path, its directories
 * resolved through the image's symlinks; the last component is kept. */
static int image_path(struct kd_hooks *h, const char *path, struct kd_str *out)
{
	struct kd_str todo = { 0 }, cand = { 0 };
	int links = 0, err = 0;
	size_t pos = 0;

	if (kd_str_addz(&todo, path) < 0 || kd_str_add(out, "", 0) < 0)
		return -ENOMEM;
	out->len = 0;
	out->s[0] = '\0';
	while (err == 0 && pos < todo.len) {
		const char *c = todo.s + pos;
		size_t len = strcspn(c, "/");
		const struct kd_entry *en;

		pos += len + (c[len] == '/');
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = strrchr(out->s, '/');

			out->len = slash ? (size_t)(slash - out->s) : 0;
			out->s[out->len] = '\0';
			continue;
		}
		cand.len = 0;
		kd_str_printf(&cand, "%s%s%.*s", out->s, out->len ? "/" : "", (int)len,
			      c);
		if (cand.s == NULL) {
			err = -ENOMEM;
			break;
		}
		/* the last component stays as it is */
		en = pos < todo.len ? entry_at(h->e, cand.s) : NULL;
		if (en == NULL || !S_ISLNK(en->mode)) {
			out->len = 0;
			err = kd_str_addz(out, cand.s);
			continue;
		}
		if (++links > MAX_IMAGE_LINKS) {
			KD_ERR(kd_ctx_log(h->ctx), "image: too many symlinks resolving %s", path);
			err = -ELOOP;
			break;
		}
		/* the rest of the path now starts with the link's target */
		cand.len = 0;
		kd_str_printf(&cand, "%.*s/%s", (int)en->size, (const char *)en->data,
			      todo.s + pos);
		if (en->size && en->data[0] == '/') {
			out->len = 0;
			out->s[0] = '\0';
		}
		todo.len = 0;
		err = cand.s ? kd_str_addz(&todo, cand.s) : -ENOMEM;
		pos = 0;
	}
	if (err == 0 && out->len == 0)
		err = -EINVAL; /* "/" is no entry */
	kd_str_free(&todo);
	kd_str_free(&cand);
	return err;
}

static const char *kind_name(uint32_t mode)
{
	return S_ISLNK(mode) ? "symlink" : S_ISDIR(mode) ? "directory" : "file";
}

/* Already there: fine when a hook put the same thing there (two programs
 * sharing libc), else an error naming the path and the hook line. */
static int clash(struct place *p, const char *ipath, uint32_t mode, const void *data,
		 size_t size)
{
	const struct kd_entry *en = entry_at(p->h->e, ipath);

	if (en == NULL)
		return 0;
	if ((en->mode & S_IFMT) == (mode & S_IFMT)) {
		if (S_ISDIR(mode))
			return 1;
		if (S_ISLNK(mode) && size == en->size &&
		    memcmp(en->data, data, size) == 0)
			return 1;
		if (S_ISREG(mode) && kd_map_get(&p->h->placed, ipath, NULL) &&
		    size == en->size && (size == 0 || memcmp(en->data, data, size) == 0))
			return 1;
		if (S_ISREG(mode) && kd_map_get(&p->h->placed, ipath, NULL)) {
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

static int put(struct place *p, const char *path, uint32_t mode, const void *data,
	       size_t size, void *owned)
{
	struct kd_str ipath = { 0 };
	int err = image_path(p->h, path, &ipath);

	if (err == -EINVAL)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: '%s' is not a path for a file in the image",
		       p->it->where, path);
	if (err == 0)
		err = clash(p, ipath.s, mode, data, size);
	if (err == 0)
		err = kd_entries_add(p->h->e, ipath.s, mode, data, size, owned);
	else
		free(owned);
	if (err == 0)
		err = kd_map_put(&p->h->placed, ipath.s, 1);
	kd_str_free(&ipath);
	return err < 0 ? err : 0;
}

static int put_symlink(struct place *p, const char *link, const char *target)
{
	char *t = kd_xstrdup(target);

	return put(p, link, S_IFLNK | 0777, t, strlen(t), t);
}

/* optional-symlink: is its target in the image? */
static int put_optional_symlink(struct place *p)
{
	const char *link = p->it->a, *target = p->it->b;
	struct kd_str abs = { 0 }, ipath = { 0 };
	int err;

	if (target[0] == '/')
		kd_str_addz(&abs, target);
	else
		kd_str_printf(&abs, "%.*s/%s", (int)(strrchr(link, '/') - link), link,
			      target);
	/* LINK there already (the root has the program at LINK itself): done */
	err = image_path(p->h, link, &ipath);
	if (err == 0 && entry_at(p->h->e, ipath.s)) {
		KD_DBG(kd_ctx_log(p->h->ctx), "%s: %s is in the image already", p->it->where, link);
		err = 1;
	}
	if (err == 0)
		err = abs.s ? image_path(p->h, abs.s, &ipath) : -ENOMEM;
	if (err == 0 && entry_at(p->h->e, ipath.s) == NULL) {
		KD_INFO(kd_ctx_log(p->h->ctx), "%s: %s is not in the image, no link %s to it",
			p->it->where, abs.s, link);
		err = 1;
	}
	kd_str_free(&abs);
	kd_str_free(&ipath);
	if (err == -EINVAL)
		err = 1;
	return err < 0 ? err : err == 1 ? 0 : put_symlink(p, link, target);
}

static int link_met(void *data, const char *link, const char *target)
{
	return put_symlink(data, link, target);
}

/* The host file at path (inside the root) at dest; dest NULL: at its own
 * path, with every symlink on the way. */
static int put_host_file(struct place *p, const char *path, const char *dest,
			 mode_t *mode_out)
{
	struct kd_str real = { 0 }, host = { 0 };
	struct kd_buf b = { 0 };
	struct stat sb;
	int err;

	err = kd_root_resolve(p->h->root, path, dest ? NULL : link_met, p, &real);
	if (err == 0) {
		kd_str_printf(&host, "%s%s", p->h->root, real.s);
		err = host.s ? 0 : -ENOMEM;
	}
	if (err == 0 && stat(host.s, &sb) < 0)
		err = -errno;
	if (err == 0 && !S_ISREG(sb.st_mode)) {
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s%s is not a regular file", p->it->where,
		       p->h->root, path);
		err = -EINVAL;
	}
	if (err == 0)
		err = kd_read_file(kd_ctx_log(p->h->ctx), host.s, &b);
	if (err == 0) {
		if (mode_out)
			*mode_out = sb.st_mode;
		err = put(p, dest ? dest : real.s, S_IFREG | (sb.st_mode & 07777), b.data,
			  b.size, b.data);
	}
	if (err == -ENOENT || err == -ENOTDIR)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s%s: no such file", p->it->where, p->h->root,
		       path);
	kd_str_free(&real);
	kd_str_free(&host);
	return err;
}

/* A program's path inside the root: as given, or the first bin dir holding it. */
static int find_binary(struct place *p, const char *name, struct kd_str *out)
{
	struct kd_str real = { 0 }, host = { 0 };
	int err = -ENOENT;

	for (size_t i = 0; i < sizeof(bin_dirs) / sizeof(bin_dirs[0]) && err == -ENOENT;
	     i++) {
		struct stat sb;

		out->len = 0;
		if (name[0] == '/')
			kd_str_addz(out, name);
		else
			kd_str_printf(out, "%s/%s", bin_dirs[i], name);
		if (out->s == NULL)
			return -ENOMEM;
		if (kd_root_resolve(p->h->root, out->s, NULL, NULL, &real) == 0) {
			host.len = 0;
			kd_str_printf(&host, "%s%s", p->h->root, real.s);
			if (host.s && stat(host.s, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    (sb.st_mode & 0111))
				err = 0;
		}
		if (name[0] == '/')
			break;
	}
	kd_str_free(&real);
	kd_str_free(&host);
	return err;
}

static int put_binary(struct place *p, const char *name, bool optional, int depth);

/* "#!/bin/sh -e": the interpreter, added as a binary too. */
static int put_shebang(struct place *p, const char *path, int depth)
{
	struct kd_str host = { 0 }, interp = { 0 };
	struct kd_str real = { 0 };
	char head[256];
	ssize_t n = 0;
	int fd, err = 0;

	if (kd_root_resolve(p->h->root, path, NULL, NULL, &real) == 0)
		kd_str_printf(&host, "%s%s", p->h->root, real.s);
	fd = host.s ? open(host.s, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, head, sizeof(head) - 1);
		close(fd);
	}
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		const char *s = head + 2;

		head[n] = '\0';
		s += strspn(s, " \t");
		kd_str_add(&interp, s, strcspn(s, " \t\r\n"));
		if (interp.s && interp.s[0] == '/') {
			if (depth >= MAX_SHEBANG_DEPTH) {
				KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s: interpreters nested too deep",
				       p->it->where, path);
				err = -ELOOP;
			} else {
				err = put_binary(p, interp.s, false, depth + 1);
			}
		}
	}
	kd_str_free(&host);
	kd_str_free(&interp);
	kd_str_free(&real);
	return err;
}

static int put_binary(struct place *p, const char *name, bool optional, int depth)
{
	struct kd_str path = { 0 };
	struct kd_libdeps d = { 0 };
	int err = find_binary(p, name, &path);

	if (err == -ENOENT) {
		if (optional) {
			KD_INFO(kd_ctx_log(p->h->ctx),
				"%s: optional binary %s not found under %s/, skipped",
				p->it->where, name, p->h->root);
			err = 0;
		} else if (name[0] == '/') {
			KD_ERR(kd_ctx_log(p->h->ctx), "%s: binary %s%s: no such executable file",
			       p->it->where, p->h->root, name);
		} else {
			KD_ERR(kd_ctx_log(p->h->ctx),
			       "%s: binary %s not found in %s/{usr/local/sbin,"
			       "usr/local/bin,usr/sbin,usr/bin,sbin,bin} (install it, or give its "
			       "absolute path)",
			       p->it->where, name, p->h->root);
		}
		kd_str_free(&path);
		return err;
	}
	if (err == 0)
		err = put_host_file(p, path.s, NULL, NULL);
	if (err == 0 && !p->h->ldso_ready) {
		err = kd_ldso_init(&p->h->ldso, p->h->ctx, p->h->root);
		p->h->ldso_ready = err == 0;
	}
	if (err == 0)
		err = kd_ldso_closure(&p->h->ldso, path.s, &d);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: binary %s cannot be added without its libraries",
		       p->it->where, path.s);
	for (size_t i = 0; i < d.n && err == 0; i++)
		err = put_host_file(p, d.paths[i], NULL, NULL);
	if (err == 0 && d.not_elf)
		err = put_shebang(p, path.s, depth);
	if (err == 0)
		KD_DBG(kd_ctx_log(p->h->ctx), "%s: %s with %zu libraries", p->it->where, path.s, d.n);
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

static int put_script(struct place *p)
{
	struct kd_str dest = { 0 };
	int err;

	kd_str_printf(&dest, "/etc/kindling/stages/%s/%02u-%s", p->it->a, p->it->hook,
		      p->h->hooks[p->it->hook].name);
	err = dest.s ? put_own_file(p, p->it->b, dest.s, S_IFREG | 0755) : -ENOMEM;
	kd_str_free(&dest);
	return err;
}

static int put_file(struct place *p)
{
	struct kd_str src = { 0 };
	struct stat sb;
	int err;

	if (p->it->a[0] == '/')
		return put_host_file(p, p->it->a,
				     strcmp(p->it->a, p->it->b) ? p->it->b : NULL, NULL);
	kd_str_printf(&src, "%s/%s", p->h->hooks[p->it->hook].dir, p->it->a);
	if (src.s == NULL)
		return -ENOMEM;
	err = stat(src.s, &sb) == 0 ? 0 : -errno;
	if (err == 0)
		err = put_own_file(p, src.s, p->it->b, S_IFREG | (sb.st_mode & 07777));
	else
		KD_ERR(kd_ctx_log(p->h->ctx), "%s: %s: no such file (ship it beside the hook file)",
		       p->it->where, src.s);
	kd_str_free(&src);
	return err;
}

/* The length of a path's directory part: "usr/bin/sh" -> 7, "sh" -> 0. */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

/* Whether path is in the image once every symlink (the last one too) is followed. */
static bool in_image(struct kd_hooks *h, const char *path)
{
	struct kd_str cur = { 0 }, ipath = { 0 };
	bool found = false;

	kd_str_addz(&cur, path);
	for (int links = 0; cur.s && links < MAX_IMAGE_LINKS; links++) {
		const struct kd_entry *en;

		if (image_path(h, cur.s, &ipath) < 0 ||
		    (en = entry_at(h->e, ipath.s)) == NULL)
			break;
		if (!S_ISLNK(en->mode)) {
			found = true;
			break;
		}
		cur.len = 0;
		if (en->size && en->data[0] == '/')
			kd_str_printf(&cur, "%.*s", (int)en->size,
				      (const char *)en->data);
		else /* relative to the link's directory */
			kd_str_printf(&cur, "/%.*s/%.*s", (int)dir_len(ipath.s), ipath.s,
				      (int)en->size, (const char *)en->data);
	}
	kd_str_free(&cur);
	kd_str_free(&ipath);
	return found;
}

/* A stage script whose "#!" interpreter is not in the image cannot run:
 * say so at build time rather than at boot. */
static void check_interpreters(struct kd_hooks *h)
{
	for (size_t i = 0; i < h->n_items; i++) {
		const struct item *it = &h->items[i];
		struct kd_str dest = { 0 }, interp = { 0 };
		const struct kd_entry *en;

		if (it->kind != IT_SCRIPT)
			continue;
		kd_str_printf(&dest, "etc/kindling/stages/%s/%02u-%s", it->a, it->hook,
			      h->hooks[it->hook].name);
		en = dest.s ? entry_at(h->e, dest.s) : NULL;
		if (en && en->size > 2 && en->data[0] == '#' && en->data[1] == '!') {
			const char *p = (const char *)en->data + 2;
			const char *end = (const char *)en->data + en->size, *q;

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			for (q = p; q < end && !strchr(" \t\r\n", *q); q++)
				;
			kd_str_add(&interp, p, (size_t)(q - p));
			if (interp.s && interp.s[0] == '/' && !in_image(h, interp.s))
				KD_WARN(kd_ctx_log(h->ctx),
					"%s: the %s script starts with #!%s, which is not in "
					"the image: the init cannot run it (add the busybox hook, or "
					"a binary line for %s)",
					it->where, it->a, interp.s, interp.s);
		}
		kd_str_free(&dest);
		kd_str_free(&interp);
	}
}

int kd_hooks_content(struct kd_hooks *h, struct kd_entries *e)
{
	int err = 0;

	h->e = e;
	for (size_t i = 0; i < h->n_items && err == 0; i++) {
		struct place p = { .h = h, .it = &h->items[i] };

		switch (p.it->kind) {
		case IT_BINARY:
		case IT_OPT_BINARY:
			err = put_binary(&p, p.it->a, p.it->kind == IT_OPT_BINARY, 0);
			break;
		case IT_FILE:
			err = put_file(&p);
			break;
		case IT_SYMLINK:
			err = put_symlink(&p, p.it->a, p.it->b);
			break;
		case IT_OPT_SYMLINK:
			err = put_optional_symlink(&p);
			break;
		case IT_DIR:
			err = put(&p, p.it->a, S_IFDIR | 0755, NULL, 0, NULL);
			break;
		case IT_SCRIPT:
			err = put_script(&p);
			break;
		}
	}
	if (err == 0) {
		check_interpreters(h);
		KD_INFO(kd_ctx_log(h->ctx), "image hooks: %zu entries (programs, libraries, links, files, "
			"scripts) from %zu hook%s", h->placed.n, h->n_hooks,
			h->n_hooks == 1 ? "" : "s");
	}
	h->e = NULL;
	return err;
}
