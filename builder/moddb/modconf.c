// SPDX-License-Identifier: MIT
/*
 * modprobe.d: the configuration kmod reads, with kmod's rules.
 *
 * Files ending in .conf (or .alias) from each directory, merged by
 * basename (the first directory that has a name wins), parsed in sorted
 * order together with the module directory's modules.softdep and
 * modules.weakdep; then MOD.param= and modprobe.blacklist= from the kernel
 * command line.  A bad line is reported as "FILE line N: ..." and skipped.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "moddb/moddb.h"
#include "moddb/internal.h"

/* kmod's underscores(): s with '-' -> '_' outside [...], malloc'd; NULL when
 * there is no s or its brackets do not balance. */
static char *conf_name(const char *s)
{
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	out = kd_xmalloc(n);
	if (kd_alias_normalize(s, out, n) == 0)
		return out;
	free(out);
	return NULL;
}

/* A token as kmod's strtok_r(" \t") gives it (kd_word also splits at \r, \v
 * and \f, which kmod keeps in names), advancing *p; NULL at end of line. */
static char *next_token(char **p)
{
	char *s = *p, *start;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	start = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

/* The rest of the line after the separator that ended the last token, as
 * strtok_r(NULL, "\0") gives it; NULL when empty. */
static char *rest_of_line(char **p)
{
	char *s = *p;

	*p = s + strlen(s);
	return *s ? s : NULL;
}

/* The add_ functions take the (normalised, malloc'd) module name they are given. */
static void add_alias(struct kd_config *c, char *pattern, char *modname)
{
	KD_GROW(c->aliases, c->n_aliases, c->cap_aliases);
	c->aliases[c->n_aliases].pattern = pattern;
	c->aliases[c->n_aliases].modname = modname;
	c->n_aliases++;
}

static void add_option(struct kd_config *c, char *modname, const char *options)
{
	char *o = kd_xstrdup(options);

	for (char *t = o; *t; t++)
		if (*t == '\t')
			*t = ' ';
	KD_GROW(c->options, c->n_options, c->cap_options);
	c->options[c->n_options].modname = modname;
	c->options[c->n_options].options = o;
	c->n_options++;
}

static void push_name(char ***arr, size_t *n, size_t *cap, const char *s, size_t len)
{
	KD_GROW(*arr, *n, *cap);
	(*arr)[(*n)++] = kd_xstrndup(s, len);
}

static void add_blacklist(struct kd_config *c, char *modname)
{
	KD_GROW(c->blacklist, c->n_blacklist, c->cap_blacklist);
	c->blacklist[c->n_blacklist++] = modname;
}

static void add_command(struct kd_conf_command **list, size_t *n, size_t *cap, char *modname,
			const char *cmd)
{
	KD_GROW(*list, *n, *cap);
	(*list)[*n].modname = modname;
	(*list)[*n].command = kd_xstrdup(cmd);
	(*n)++;
}

/* "softdep MOD pre: a b post: c": names before any pre:/post: are ignored. */
static void add_softdep(struct kd_config *c, char *modname, const char *line)
{
	struct kd_conf_softdep *d;
	enum { NONE, PRE, POST } mode = NONE;
	const char *p = line;

	KD_GROW(c->softdeps, c->n_softdeps, c->cap_softdeps);
	d = &c->softdeps[c->n_softdeps++];
	*d = (struct kd_conf_softdep){ .modname = modname };
	for (;;) {
		size_t len;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		len = 0;
		while (p[len] && !isspace((unsigned char)p[len]))
			len++;
		if (len == 4 && memcmp(p, "pre:", 4) == 0)
			mode = PRE;
		else if (len == 5 && memcmp(p, "post:", 5) == 0)
			mode = POST;
		else if (mode == PRE)
			push_name(&d->pre, &d->n_pre, &d->cap_pre, p, len);
		else if (mode == POST)
			push_name(&d->post, &d->n_post, &d->cap_post, p, len);
		p += len;
	}
}

/* "weakdep MOD a b c" (kmod 33 and later). */
static void add_weakdep(struct kd_config *c, char *modname, char *rest)
{
	struct kd_conf_weakdep *d;
	char *tok;

	KD_GROW(c->weakdeps, c->n_weakdeps, c->cap_weakdeps);
	d = &c->weakdeps[c->n_weakdeps++];
	*d = (struct kd_conf_weakdep){ .modname = modname };
	while ((tok = next_token(&rest)) != NULL)
		push_name(&d->deps, &d->n_deps, &d->cap_deps, tok, strlen(tok));
}

/* "KEYWORD MOD REST" lines, REST required. */
static bool takes_rest(const char *cmd)
{
	return strcmp(cmd, "options") == 0 || strcmp(cmd, "install") == 0 ||
	       strcmp(cmd, "remove") == 0 || strcmp(cmd, "softdep") == 0 ||
	       strcmp(cmd, "weakdep") == 0;
}

static void parse_line(struct kd_ctx *ctx, struct kd_config *c, const struct kd_lines *l,
		       char *line)
{
	char *p = line, *cmd, *name, *rest;

	if (line[0] == '\0' || line[0] == '#')
		return;
	cmd = next_token(&p);
	if (cmd == NULL)
		return;
	if (strcmp(cmd, "alias") == 0) {
		name = conf_name(next_token(&p));
		rest = conf_name(next_token(&p));
		if (name && rest) {
			add_alias(c, name, rest);
			return;
		}
		free(name);
		free(rest);
		goto bad;
	}
	if (strcmp(cmd, "blacklist") == 0) {
		name = conf_name(next_token(&p));
		if (name == NULL)
			goto bad;
		add_blacklist(c, name);
		return;
	}
	if (takes_rest(cmd)) {
		name = conf_name(next_token(&p));
		rest = rest_of_line(&p);
		if (name == NULL || rest == NULL) {
			free(name);
			goto bad;
		}
		if (cmd[0] == 'o')
			add_option(c, name, rest);
		else if (cmd[0] == 'i')
			add_command(&c->install, &c->n_install, &c->cap_install, name, rest);
		else if (cmd[0] == 'r')
			add_command(&c->remove, &c->n_remove, &c->cap_remove, name, rest);
		else if (cmd[0] == 's')
			add_softdep(c, name, rest);
		else
			add_weakdep(c, name, rest);
		return;
	}
	if (strcmp(cmd, "include") == 0 || strcmp(cmd, "config") == 0) {
		KD_LINE_WARN(l, kd_ctx_log(ctx), "command '%s' is deprecated and ignored", cmd);
		return;
	}
bad:
	KD_LINE_WARN(l, kd_ctx_log(ctx), "ignoring bad line starting with '%s'", cmd);
}

/* Lines as kmod reads them: kd_lines' join mode is kmod's backslash rule, and
 * a joined line is numbered by its last physical line, as kmod reports it. */
void kd_config_parse(struct kd_ctx *ctx, struct kd_config *c, const char *filename,
		     const char *text)
{
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, filename, text, strlen(text), true);
	while ((line = kd_lines_next(&l)) != NULL)
		parse_line(ctx, c, &l, line);
	kd_lines_free(&l);
}

static void cmdline_result(struct kd_ctx *ctx, struct kd_config *c, const char *modname,
			   const char *param, char *value)
{
	char *name;

	if (modname == NULL || param == NULL)
		return;
	if (strcmp(modname, "modprobe") == 0 && strncmp(param, "blacklist=", 10) == 0) {
		char *t;

		while ((t = strsep(&value, ",")) != NULL)
			add_blacklist(c, kd_xstrdup(t)); /* kmod keeps these as written */
		return;
	}
	name = conf_name(modname);
	if (name == NULL) {
		KD_WARN(kd_ctx_log(ctx), "kernel command line: ignoring option with bad module name '%s'",
			modname);
		return;
	}
	add_option(c, name, param);
}

/*
 * kmod's reading of MOD.param=value: quotes allowed around the value (or
 * around the whole word, which is re-quoted as "MOD.param=value" becomes
 * MOD.param="value"); words without a dot before '=' are not options.
 */
void kd_config_parse_cmdline(struct kd_ctx *ctx, struct kd_config *c, const char *cmdline)
{
	enum { IGNORE, MODNAME, PARAM, VALUE, COMPLETE } state = MODNAME;
	char *buf = kd_xstrdup(cmdline), *p, *modname = buf, *param = NULL, *value = NULL;
	char *quote = NULL;
	bool quoted = false, more = true;

	for (p = buf; more; p++) {
		switch (*p) {
		case '"':
			quoted = !quoted;
			if (quoted && state == MODNAME && p == modname) {
				quote = p;
				modname = p + 1;
			} else if (state != VALUE) {
				state = IGNORE;
			}
			break;
		case '\0':
			more = false;
			/* fall through */
		case ' ': case '\n': case '\t': case '\v': case '\f': case '\r':
			if (quoted && state == VALUE) {
				;
			} else if (quoted) {
				state = IGNORE;
			} else if (state == VALUE || state == PARAM) {
				*p = '\0';
				state = COMPLETE;
			} else {
				modname = p + 1;
				state = MODNAME;
				quote = NULL;
				value = NULL;
			}
			break;
		case '.':
			if (state == MODNAME) {
				*p = '\0';
				param = p + 1;
				state = PARAM;
			} else if (state == PARAM) {
				state = IGNORE;
			}
			break;
		case '=':
			if (state == PARAM) {
				value = p + 1;
				state = VALUE;
			} else if (state == MODNAME) {
				state = IGNORE;
			}
			break;
		}
		if (state == COMPLETE) {
			if (quote && quote < modname && value) {
				memmove(quote, modname, (size_t)(value - modname));
				value--;
				modname--;
				param--;
				*value = '"';
			}
			cmdline_result(ctx, c, modname, param, value);
			modname = p + 1;
			state = MODNAME;
			quote = NULL;
			value = NULL;
		}
	}
	free(buf);
}

/* One configuration file to parse: basename and the full path. */
struct conf_file {
	char *name;
	char *path;
	const char *text; /* in-memory text (generated indexes), or NULL */
};

/* The files to parse, sorted by name, each name once. */
struct conf_list {
	struct conf_file *v;
	size_t n, cap;
};

static void conf_insert(struct conf_list *l, const char *name, const char *path,
			const char *text)
{
	size_t i, pos = l->n;

	for (i = 0; i < l->n; i++) {
		int cmp = strcmp(name, l->v[i].name);

		if (cmp == 0)
			return; /* an earlier directory has this name: it wins */
		if (cmp < 0) {
			pos = i;
			break;
		}
	}
	KD_GROW(l->v, l->n, l->cap);
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(*l->v));
	l->v[pos] = (struct conf_file){ kd_xstrdup(name), kd_xstrdup(path), text };
	l->n++;
}

static void conf_list_free(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
	}
	free(l->v);
}

static bool conf_name_ok(const char *fn)
{
	size_t len = strlen(fn);

	if (fn[0] == '.')
		return false;
	if (len >= 5 && strcmp(fn + len - 5, ".conf") == 0)
		return true;
	return len >= 6 && strcmp(fn + len - 6, ".alias") == 0;
}

static void conf_add_entry(struct kd_ctx *ctx, struct conf_list *files, const char *dir,
			   const char *name)
{
	char *full = kd_path_join(dir, name);
	struct stat st;

	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
		KD_WARN(kd_ctx_log(ctx), "%s: directories inside modprobe.d are not supported", full);
	else
		conf_insert(files, name, full, NULL);
	free(full);
}

static int conf_list_dir(struct kd_ctx *ctx, struct conf_list *files, const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	int count, i;

	if (stat(dir, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		conf_insert(files, strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir, dir, NULL);
		return 0;
	}
	count = scandir(dir, &ents, NULL, alphasort);
	if (count < 0) {
		int err = -errno;

		KD_ERR(kd_ctx_log(ctx), "%s: cannot list directory: %s", dir, strerror(-err));
		return err;
	}
	for (i = 0; i < count; i++) {
		if (conf_name_ok(ents[i]->d_name))
			conf_add_entry(ctx, files, dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static void conf_parse_file(struct kd_ctx *ctx, const struct conf_file *f)
{
	struct kd_config *c = &ctx->config;
	struct kd_buf b;

	if (f->text != NULL) {
		kd_config_parse(ctx, c, f->path, f->text);
		return;
	}
	if (kd_read_file(kd_ctx_log(ctx), f->path, &b) < 0)
		return; /* absent (or unreadable: reported) */
	KD_GROW(c->files, c->n_files, c->cap_files);
	c->files[c->n_files++] = kd_xstrdup(f->path);
	kd_config_parse(ctx, c, f->path, (char *)b.data);
	kd_buf_free(&b);
}

int kd_config_load(struct kd_ctx *ctx)
{
	struct conf_list files = { 0 };
	char *sd = kd_path_join(ctx->moddir, "modules.softdep");
	char *wd = kd_path_join(ctx->moddir, "modules.weakdep");
	const struct kd_depgen *gen = ctx->db.generated ? &ctx->db.gen : NULL;
	size_t i;
	int err = 0;

	/* depgen output replaces the module dir's files when it was used. */
	conf_insert(&files, "modules.softdep", sd, gen ? gen->softdep : NULL);
	conf_insert(&files, "modules.weakdep", wd, gen ? gen->weakdep : NULL);
	free(sd);
	free(wd);
	for (i = 0; i < ctx->n_conf_dirs; i++) {
		err = conf_list_dir(ctx, &files, ctx->conf_dirs[i]);
		if (err < 0)
			goto out;
	}
	for (i = 0; i < files.n; i++)
		conf_parse_file(ctx, &files.v[i]);
	if (ctx->cmdline != NULL)
		kd_config_parse_cmdline(ctx, &ctx->config, ctx->cmdline);
out:
	conf_list_free(&files);
	return err;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void kd_config_free(struct kd_config *c)
{
	size_t i;

	for (i = 0; i < c->n_aliases; i++) {
		free(c->aliases[i].pattern);
		free(c->aliases[i].modname);
	}
	for (i = 0; i < c->n_options; i++) {
		free(c->options[i].modname);
		free(c->options[i].options);
	}
	for (i = 0; i < c->n_install; i++) {
		free(c->install[i].modname);
		free(c->install[i].command);
	}
	for (i = 0; i < c->n_remove; i++) {
		free(c->remove[i].modname);
		free(c->remove[i].command);
	}
	for (i = 0; i < c->n_softdeps; i++) {
		free(c->softdeps[i].modname);
		free_names(c->softdeps[i].pre, c->softdeps[i].n_pre);
		free_names(c->softdeps[i].post, c->softdeps[i].n_post);
	}
	for (i = 0; i < c->n_weakdeps; i++) {
		free(c->weakdeps[i].modname);
		free_names(c->weakdeps[i].deps, c->weakdeps[i].n_deps);
	}
	free(c->aliases);
	free(c->options);
	free(c->install);
	free(c->remove);
	free(c->softdeps);
	free(c->weakdeps);
	free_names(c->blacklist, c->n_blacklist);
	free_names(c->files, c->n_files);
	memset(c, 0, sizeof(*c));
}
