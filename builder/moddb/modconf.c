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

#define GROW(arr, n) grow_array((void **)&(arr), (n), sizeof(*(arr)))

static int grow_array(void **arr, size_t n, size_t elem)
{
	void *p;

	/* The capacity is implicit: 8, doubled each time n reaches a power of 2. */
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*arr, (n ? n * 2 : 8) * elem);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	return 0;
}

/* kmod's underscores(): '-' -> '_' outside brackets; unbalanced is bad. */
static int underscores(char *s)
{
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] == '-') {
			s[i] = '_';
		} else if (s[i] == ']') {
			return -EINVAL;
		} else if (s[i] == '[') {
			i += strcspn(&s[i], "]");
			if (!s[i])
				return -EINVAL;
		}
	}
	return 0;
}

/* A whitespace-separated token, advancing *p; NULL at end of line. */
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

static int add_alias(struct kd_config *c, const char *pattern, const char *modname)
{
	if (GROW(c->aliases, c->n_aliases) < 0)
		return -ENOMEM;
	c->aliases[c->n_aliases].pattern = kd_xstrdup(pattern);
	c->aliases[c->n_aliases].modname = kd_xstrdup(modname);
	c->n_aliases++;
	return 0;
}

static int add_option(struct kd_config *c, const char *modname, const char *options)
{
	char *o;

	if (GROW(c->options, c->n_options) < 0)
		return -ENOMEM;
	o = kd_xstrdup(options);
	for (char *t = o; *t; t++)
		if (*t == '\t')
			*t = ' ';
	c->options[c->n_options].modname = kd_xstrdup(modname);
	c->options[c->n_options].options = o;
	c->n_options++;
	return 0;
}

static int add_blacklist(struct kd_config *c, const char *modname)
{
	if (GROW(c->blacklist, c->n_blacklist) < 0)
		return -ENOMEM;
	c->blacklist[c->n_blacklist++] = kd_xstrdup(modname);
	return 0;
}

static int add_command(struct kd_conf_command **list, size_t *n, const char *modname,
		       const char *cmd)
{
	if (GROW(*list, *n) < 0)
		return -ENOMEM;
	(*list)[*n].modname = kd_xstrdup(modname);
	(*list)[*n].command = kd_xstrdup(cmd);
	(*n)++;
	return 0;
}

static int push_name(char ***arr, size_t *n, const char *s, size_t len)
{
	if (GROW(*arr, *n) < 0)
		return -ENOMEM;
	(*arr)[*n] = strndup(s, len);
	if ((*arr)[*n] == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* "softdep MOD pre: a b post: c": names before any pre:/post: are ignored. */
static int add_softdep(struct kd_config *c, const char *modname, const char *line)
{
	struct kd_conf_softdep *d;
	enum { NONE, PRE, POST } mode = NONE;
	const char *p = line;

	if (GROW(c->softdeps, c->n_softdeps) < 0)
		return -ENOMEM;
	d = &c->softdeps[c->n_softdeps++];
	memset(d, 0, sizeof(*d));
	d->modname = kd_xstrdup(modname);
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
		else if (mode == PRE && push_name(&d->pre, &d->n_pre, p, len) < 0)
			return -ENOMEM;
		else if (mode == POST && push_name(&d->post, &d->n_post, p, len) < 0)
			return -ENOMEM;
		p += len;
	}
	return 0;
}

/* "weakdep MOD a b c" (kmod 33 and later). */
static int add_weakdep(struct kd_config *c, const char *modname, char *rest)
{
	struct kd_conf_weakdep *d;
	char *tok;

	if (GROW(c->weakdeps, c->n_weakdeps) < 0)
		return -ENOMEM;
	d = &c->weakdeps[c->n_weakdeps++];
	memset(d, 0, sizeof(*d));
	d->modname = kd_xstrdup(modname);
	while ((tok = next_token(&rest)) != NULL)
		if (push_name(&d->deps, &d->n_deps, tok, strlen(tok)) < 0)
			return -ENOMEM;
	return 0;
}

static int parse_line(struct kd_ctx *ctx, struct kd_config *c, const char *filename,
		      unsigned lineno, char *line)
{
	char *p = line, *cmd, *name, *rest;

	if (line[0] == '\0' || line[0] == '#')
		return 0;
	cmd = next_token(&p);
	if (cmd == NULL)
		return 0;
	if (strcmp(cmd, "alias") == 0) {
		name = next_token(&p);
		rest = next_token(&p);
		if (underscores(name) < 0 || underscores(rest) < 0)
			goto bad;
		return add_alias(c, name, rest);
	}
	if (strcmp(cmd, "blacklist") == 0) {
		name = next_token(&p);
		if (underscores(name) < 0)
			goto bad;
		return add_blacklist(c, name);
	}
	name = NULL;
	if (strcmp(cmd, "options") == 0 || strcmp(cmd, "install") == 0 ||
	    strcmp(cmd, "remove") == 0 || strcmp(cmd, "softdep") == 0 ||
	    strcmp(cmd, "weakdep") == 0) {
		name = next_token(&p);
		rest = rest_of_line(&p);
		if (underscores(name) < 0 || rest == NULL)
			goto bad;
		if (cmd[0] == 'o')
			return add_option(c, name, rest);
		if (cmd[0] == 'i')
			return add_command(&c->install, &c->n_install, name, rest);
		if (cmd[0] == 'r')
			return add_command(&c->remove, &c->n_remove, name, rest);
		if (cmd[0] == 's')
			return add_softdep(c, name, rest);
		return add_weakdep(c, name, rest);
	}
	if (strcmp(cmd, "include") == 0 || strcmp(cmd, "config") == 0) {
		KD_WARN(kd_ctx_log(ctx), "%s line %u: command '%s' is deprecated and ignored", filename,
			lineno, cmd);
		return 0;
	}
bad:
	KD_WARN(kd_ctx_log(ctx), "%s line %u: ignoring bad line starting with '%s'", filename, lineno,
		cmd);
	return 0;
}

/*
 * Lines as kmod reads them: a backslash joins the next line (and is
 * otherwise dropped, keeping the character after it).  lineno is the
 * number of the last physical line, as kmod reports it.
 */
int kd_config_parse(struct kd_ctx *ctx, struct kd_config *c, const char *filename,
		    const char *text)
{
	struct kd_str line = { 0 };
	const char *s = text;
	unsigned lineno = 0;
	int err = 0;

	while (*s && err == 0) {
		line.len = 0;
		if (kd_str_add(&line, "", 0) < 0)
			return -ENOMEM;
		for (; *s && *s != '\n'; s++) {
			if (*s == '\\') {
				if (s[1] == '\n') {
					lineno++;
					s++;
					continue;
				}
				if (s[1] == '\0')
					continue;
				s++;
			}
			if (kd_str_add(&line, s, 1) < 0) {
				kd_str_free(&line);
				return -ENOMEM;
			}
		}
		if (*s == '\n')
			s++;
		lineno++;
		err = parse_line(ctx, c, filename, lineno, line.s);
	}
	kd_str_free(&line);
	if (err < 0)
		KD_ERR(kd_ctx_log(ctx), "%s: out of memory while parsing", filename);
	return err;
}

static int cmdline_result(struct kd_ctx *ctx, struct kd_config *c, char *modname,
			  char *param, char *value)
{
	if (modname == NULL || param == NULL)
		return 0;
	if (strcmp(modname, "modprobe") == 0 && strncmp(param, "blacklist=", 10) == 0) {
		char *t;

		while ((t = strsep(&value, ",")) != NULL)
			if (add_blacklist(c, t) < 0)
				return -ENOMEM;
		return 0;
	}
	if (underscores(modname) < 0) {
		KD_WARN(kd_ctx_log(ctx), "kernel command line: ignoring option with bad module name '%s'",
			modname);
		return 0;
	}
	return add_option(c, modname, param);
}

/*
 * kmod's reading of MOD.param=value: quotes allowed around the value (or
 * around the whole word, which is re-quoted as "MOD.param=value" becomes
 * MOD.param="value"); words without a dot before '=' are not options.
 */
int kd_config_parse_cmdline(struct kd_ctx *ctx, struct kd_config *c, const char *cmdline)
{
	enum { IGNORE, MODNAME, PARAM, VALUE, COMPLETE } state = MODNAME;
	char *buf = kd_xstrdup(cmdline), *p, *modname = buf, *param = NULL, *value = NULL;
	char *quote = NULL;
	bool quoted = false, more = true;
	int err = 0;

	for (p = buf; more && err == 0; p++) {
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
			err = cmdline_result(ctx, c, modname, param, value);
			modname = p + 1;
			state = MODNAME;
			quote = NULL;
			value = NULL;
		}
	}
	free(buf);
	return err;
}

/* One configuration file to parse: basename and the full path. */
struct conf_file {
	char *name;
	char *path;
	const char *text; /* in-memory text (generated indexes), or NULL */
};

static int conf_insert(struct conf_file **files, size_t *n, const char *name,
		       const char *path, const char *text)
{
	size_t i, pos = *n;

	for (i = 0; i < *n; i++) {
		int cmp = strcmp(name, (*files)[i].name);

		if (cmp == 0)
			return 0; /* an earlier directory has this name: it wins */
		if (cmp < 0) {
			pos = i;
			break;
		}
	}
	if (GROW(*files, *n) < 0)
		return -ENOMEM;
	memmove(&(*files)[pos + 1], &(*files)[pos], (*n - pos) * sizeof(**files));
	(*files)[pos].name = kd_xstrdup(name);
	(*files)[pos].path = path ? kd_xstrdup(path) : NULL;
	(*files)[pos].text = text;
	(*n)++;
	return 0;
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

static int conf_list_dir(struct kd_ctx *ctx, struct conf_file **files, size_t *n,
			 const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	int count, i, err = 0;

	if (stat(dir, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return conf_insert(files, n, strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir,
				   dir, NULL);
	count = scandir(dir, &ents, NULL, alphasort);
	if (count < 0) {
		KD_ERR(kd_ctx_log(ctx), "%s: cannot list directory: %s", dir, strerror(errno));
		return -errno;
	}
	for (i = 0; i < count; i++) {
		char *full;

		if (err == 0 && conf_name_ok(ents[i]->d_name)) {
			full = kd_path_join(dir, ents[i]->d_name);
			if (full == NULL) {
				err = -ENOMEM;
			} else if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
				KD_WARN(kd_ctx_log(ctx), "%s: directories inside modprobe.d are not supported",
					full);
			} else {
				err = conf_insert(files, n, ents[i]->d_name, full, NULL);
			}
			free(full);
		}
		free(ents[i]);
	}
	free(ents);
	return err;
}

static int conf_add_file(struct kd_config *c, const char *path)
{
	if (GROW(c->files, c->n_files) < 0)
		return -ENOMEM;
	c->files[c->n_files++] = kd_xstrdup(path);
	return 0;
}

int kd_config_load(struct kd_ctx *ctx)
{
	struct kd_config *c = &ctx->config;
	struct conf_file *files = NULL;
	size_t n = 0, i;
	int err = 0;
	char *sd = kd_path_join(ctx->moddir, "modules.softdep");
	char *wd = kd_path_join(ctx->moddir, "modules.weakdep");

	if (sd == NULL || wd == NULL) {
		err = -ENOMEM;
		goto out;
	}
	/* depgen output replaces the module dir's files when it was used. */
	err = conf_insert(&files, &n, "modules.softdep", sd, ctx->db.generated ?
			  (ctx->db.gen.softdep ? ctx->db.gen.softdep : "") : NULL);
	if (err == 0)
		err = conf_insert(&files, &n, "modules.weakdep", wd, ctx->db.generated ?
				  (ctx->db.gen.weakdep ? ctx->db.gen.weakdep : "") : NULL);
	for (i = 0; err == 0 && i < ctx->n_conf_dirs; i++)
		err = conf_list_dir(ctx, &files, &n, ctx->conf_dirs[i]);
	for (i = 0; err == 0 && i < n; i++) {
		struct kd_buf b = { 0 };

		if (files[i].text != NULL) {
			err = kd_config_parse(ctx, c, files[i].path, files[i].text);
			continue;
		}
		if (kd_read_file(kd_ctx_log(ctx), files[i].path, &b) < 0)
			continue; /* absent (or unreadable: reported) */
		err = conf_add_file(c, files[i].path);
		if (err == 0)
			err = kd_config_parse(ctx, c, files[i].path, (char *)b.data);
		kd_buf_free(&b);
	}
	if (err == 0 && ctx->cmdline != NULL)
		err = kd_config_parse_cmdline(ctx, c, ctx->cmdline);
out:
	for (i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
	free(sd);
	free(wd);
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
