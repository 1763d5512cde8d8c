// SPDX-License-Identifier: MIT
/*
 * kindling.conf: the defaults of `kindling build`.
 *
 * One "key = value" per line; blank lines and lines starting with '#' are
 * ignored; a value may be quoted with "..." (no escapes) to keep leading or
 * trailing blanks.  Scalars: the last one read wins.  Lists (sets, add,
 * omit, hooks): space-separated words, accumulated across lines and files.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

#define KD_CONF_MAX_LINE 4096
#define KD_CONF_MAX_INT 86400

struct line {
	const struct kd_log *log;
	struct kd_buildconf *c;
	const char *file;
	unsigned no;
	const char *key;
	char *val;
};

struct key {
	const char *name;
	int (*set)(struct line *l);
};

static const char *const compressors[] = { "zstd", "xz", "gzip", "lz4", "none", NULL };
static const char *const microcodes[] = { "auto", "all", "none", NULL };

void kd_buildconf_init(struct kd_buildconf *c)
{
	memset(c, 0, sizeof(*c));
	c->level = -1;
	c->root_timeout = -1;
	c->hostonly = -1;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void kd_buildconf_free(struct kd_buildconf *c)
{
	strv_free(c->sets, c->n_sets);
	strv_free(c->adds, c->n_adds);
	strv_free(c->omits, c->n_omits);
	strv_free(c->hooks, c->n_hooks);
	free(c->compress);
	free(c->microcode);
	free(c->cmdline);
	free(c->default_root);
	kd_buildconf_init(c);
}

static int bad(struct line *l, const char *what)
{
	KD_ERR(l->log, "%s line %u: %s: %s", l->file, l->no, l->key, what);
	return -EINVAL;
}

static int set_string(struct line *l, char **dst)
{
	char *s = strdup(l->val);

	if (s == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int append_word(char ***v, size_t *n, const char *w, size_t len)
{
	char **p = realloc(*v, (*n + 1) * sizeof(**v));

	if (p == NULL)
		return -ENOMEM;
	*v = p;
	p[*n] = strndup(w, len);
	if (p[*n] == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int set_list(struct line *l, char ***v, size_t *n)
{
	const char *s = l->val;
	int err = 0;

	while (err == 0 && *s) {
		size_t len;

		s += strspn(s, " \t");
		len = strcspn(s, " \t");
		if (len)
			err = append_word(v, n, s, len);
		s += len;
	}
	return err;
}

static int set_choice(struct line *l, const char *const *choices, char **dst)
{
	char msg[160] = "";

	for (size_t i = 0; choices[i]; i++)
		if (strcmp(l->val, choices[i]) == 0)
			return set_string(l, dst);
	for (size_t i = 0; choices[i]; i++) {
		strcat(msg, i ? "|" : "");
		strcat(msg, choices[i]);
	}
	KD_ERR(l->log, "%s line %u: %s: '%s' is not one of %s", l->file, l->no, l->key,
	       l->val, msg);
	return -EINVAL;
}

static int set_int(struct line *l, int min, int max, long long *dst)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(l->val, &end, 10);
	if (errno || end == l->val || *end || v < min || v > max) {
		KD_ERR(l->log, "%s line %u: %s: '%s' is not an integer from %d to %d",
		       l->file, l->no, l->key, l->val, min, max);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int key_sets(struct line *l)
{
	return set_list(l, &l->c->sets, &l->c->n_sets);
}

static int key_add(struct line *l)
{
	return set_list(l, &l->c->adds, &l->c->n_adds);
}

static int key_omit(struct line *l)
{
	return set_list(l, &l->c->omits, &l->c->n_omits);
}

static int key_hooks(struct line *l)
{
	return set_list(l, &l->c->hooks, &l->c->n_hooks);
}

static int key_compress(struct line *l)
{
	return set_choice(l, compressors, &l->c->compress);
}

static int key_microcode(struct line *l)
{
	return set_choice(l, microcodes, &l->c->microcode);
}

static int key_level(struct line *l)
{
	long long v;
	int err = set_int(l, 0, 22, &v);

	if (err == 0)
		l->c->level = (int)v;
	return err;
}

static int key_root_timeout(struct line *l)
{
	return set_int(l, 0, KD_CONF_MAX_INT, &l->c->root_timeout);
}

static int key_cmdline(struct line *l)
{
	if (strchr(l->val, '"'))
		return bad(l, "a double quote inside the value");
	return set_string(l, &l->c->cmdline);
}

static int key_default_root(struct line *l)
{
	if (strpbrk(l->val, " \t"))
		return bad(l, "a root= value cannot contain blanks");
	return set_string(l, &l->c->default_root);
}

static int key_hostonly(struct line *l)
{
	if (strcmp(l->val, "yes") == 0 || strcmp(l->val, "no") == 0) {
		l->c->hostonly = l->val[0] == 'y';
		return 0;
	}
	KD_ERR(l->log, "%s line %u: %s: '%s' is not one of yes|no", l->file, l->no, l->key,
	       l->val);
	return -EINVAL;
}

static const struct key keys[] = {
	{ "sets", key_sets },
	{ "add", key_add },
	{ "omit", key_omit },
	{ "compress", key_compress },
	{ "level", key_level },
	{ "microcode", key_microcode },
	{ "cmdline", key_cmdline },
	{ "root_timeout", key_root_timeout },
	{ "default_root", key_default_root },
	{ "hooks", key_hooks },
	{ "hostonly", key_hostonly },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static int unknown_key(struct line *l)
{
	char known[256] = "";

	for (size_t i = 0; i < N_KEYS; i++) {
		strcat(known, i ? ", " : "");
		strcat(known, keys[i].name);
	}
	KD_ERR(l->log, "%s line %u: unknown key '%s' (known: %s)", l->file, l->no, l->key,
	       known);
	return -EINVAL;
}

static char *trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The value after '=': quoted or bare, trailing blanks dropped. */
static int split_value(struct line *l, char *s)
{
	char *close;

	s += strspn(s, " \t");
	if (*s != '"') {
		l->val = trim_end(s);
		return 0;
	}
	close = strchr(s + 1, '"');
	if (close == NULL) {
		KD_ERR(l->log, "%s line %u: %s: unterminated quote", l->file, l->no, l->key);
		return -EINVAL;
	}
	*close = '\0';
	if (*trim_end(close + 1)) {
		KD_ERR(l->log, "%s line %u: %s: unexpected text after the closing quote",
		       l->file, l->no, l->key);
		return -EINVAL;
	}
	l->val = s + 1;
	return 0;
}

static int parse_line(struct line *l, char *s)
{
	size_t klen;
	char *eq;

	s += strspn(s, " \t");
	if (*trim_end(s) == '\0' || *s == '#')
		return 0;
	klen = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
	eq = s + klen + strspn(s + klen, " \t");
	if (klen == 0 || *eq != '=') {
		KD_ERR(l->log, "%s line %u: expected key = value", l->file, l->no);
		return -EINVAL;
	}
	s[klen] = '\0';
	l->key = s;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, s) != 0)
			continue;
		if (split_value(l, eq + 1) < 0)
			return -EINVAL;
		return keys[i].set(l);
	}
	return unknown_key(l);
}

int kd_buildconf_parse(const struct kd_log *log, struct kd_buildconf *c, const char *filename,
		       const char *text)
{
	struct line l = { .log = log, .c = c, .file = filename };
	char buf[KD_CONF_MAX_LINE + 1];
	int ret = 0;

	while (*text) {
		size_t len = strcspn(text, "\n");
		int err;

		l.no++;
		if (len > KD_CONF_MAX_LINE) {
			KD_ERR(log, "%s line %u: longer than %d bytes", filename, l.no,
			       KD_CONF_MAX_LINE);
			err = -EINVAL;
		} else {
			memcpy(buf, text, len);
			buf[len] = '\0';
			err = parse_line(&l, buf);
		}
		if (err == -ENOMEM)
			return err;
		if (err < 0)
			ret = err; /* report every bad line, then fail */
		text += len + (text[len] == '\n');
	}
	return ret;
}

int kd_buildconf_load_file(const struct kd_log *log, struct kd_buildconf *c, const char *path,
			   bool must_exist)
{
	struct kd_buf b;
	int err = kd_read_file(log, path, &b);

	if (err == -ENOENT && !must_exist)
		return 0;
	if (err == -ENOENT)
		KD_ERR(log, "%s: no such configuration file", path);
	if (err < 0)
		return err;
	if (memchr(b.data, '\0', b.size)) {
		KD_ERR(log, "%s: not a text file (it holds a NUL byte)", path);
		err = -EINVAL;
	} else {
		err = kd_buildconf_parse(log, c, path, (const char *)b.data);
	}
	kd_buf_free(&b);
	return err;
}

static int conf_d_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int bytewise(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_conf_d(const struct kd_log *log, struct kd_buildconf *c, const char *dir)
{
	struct dirent **v;
	int n = scandir(dir, &v, conf_d_filter, bytewise), err = 0;

	if (n < 0) {
		err = -errno;
		if (err == -ENOENT || err == -ENOTDIR)
			return 0;
		KD_ERR(log, "%s: cannot list: %s", dir, strerror(-err));
		return err;
	}
	for (int i = 0; i < n; i++) {
		struct kd_str p = { 0 };
		int e = kd_str_printf(&p, "%s/%s", dir, v[i]->d_name);

		if (e == 0)
			e = kd_buildconf_load_file(log, c, p.s, false);
		if (e < 0 && err == 0)
			err = e; /* keep reading: every bad file is reported */
		kd_str_free(&p);
		free(v[i]);
	}
	free(v);
	return err;
}

int kd_buildconf_load(const struct kd_log *log, struct kd_buildconf *c, const char *root,
		      const char *config)
{
	struct kd_str p = { 0 };
	int err;

	if (config)
		return kd_buildconf_load_file(log, c, config, true);
	root = root ? root : "";
	err = kd_str_printf(&p, "%s/etc/kindling.conf", root);
	if (err == 0)
		err = kd_buildconf_load_file(log, c, p.s, false);
	if (err == 0)
		err = kd_str_addz(&p, ".d");
	if (err == 0)
		err = load_conf_d(log, c, p.s);
	kd_str_free(&p);
	return err;
}
