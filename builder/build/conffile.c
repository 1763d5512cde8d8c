// SPDX-License-Identifier: MIT
/*
 * kindling.conf: the defaults of `kindling build`.
 *
 * One "key = value" per line; blank lines and lines starting with '#' are
 * ignored; a value may be quoted with "..." (no escapes) to keep leading or
 * trailing blanks.  Scalars: the last one read wins.  Lists (sets, add,
 * omit, hooks): space-separated words, accumulated across lines and files.
 */
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
	struct kd_lines *lines;
	const char *key;
	char *val;
};

/* "FILE line N: ..." for a bad line; the value to return for it. */
#define BAD(l, ...) (KD_LINE_ERR((l)->lines, (l)->log, __VA_ARGS__), -EINVAL)

struct key {
	const char *name;
	int (*set)(struct line *l);
};

static const char *const compressors[] = { "zstd", "xz", "gzip", "lz4", "none", NULL };
static const char *const microcodes[] = { "auto", "all", "none", NULL };
static const char *const yes_no[] = { "yes", "no", NULL };

void kd_buildconf_init(struct kd_buildconf *c)
{
	memset(c, 0, sizeof(*c));
	c->level = -1;
	c->root_timeout = -1;
	c->hostonly = -1;
}

void kd_buildconf_free(struct kd_buildconf *c)
{
	kd_strv_free(&c->sets);
	kd_strv_free(&c->adds);
	kd_strv_free(&c->omits);
	kd_strv_free(&c->hooks);
	free(c->compress);
	free(c->microcode);
	free(c->cmdline);
	free(c->default_root);
	kd_buildconf_init(c);
}

static int set_string(struct line *l, char **dst)
{
	free(*dst);
	*dst = kd_xstrdup(l->val);
	return 0;
}

static int set_list(struct line *l, struct kd_strv *v)
{
	char *w, *rest = l->val;

	while ((w = kd_word(&rest)) != NULL)
		kd_strv_add(v, w);
	return 0;
}

/* The position of the value in choices, or -1 (reported). */
static int choice(struct line *l, const char *const *choices)
{
	struct kd_str all = { 0 };

	for (int i = 0; choices[i]; i++)
		if (strcmp(l->val, choices[i]) == 0)
			return i;
	for (size_t i = 0; choices[i]; i++)
		kd_str_printf(&all, "%s%s", i ? "|" : "", choices[i]);
	KD_LINE_ERR(l->lines, l->log, "%s: '%s' is not one of %s", l->key, l->val, all.s);
	kd_str_free(&all);
	return -1;
}

static int set_choice(struct line *l, const char *const *choices, char **dst)
{
	return choice(l, choices) < 0 ? -EINVAL : set_string(l, dst);
}

static int set_int(struct line *l, int min, int max, long long *dst)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(l->val, &end, 10);
	if (errno || end == l->val || *end || v < min || v > max)
		return BAD(l, "%s: '%s' is not an integer from %d to %d", l->key, l->val, min,
			   max);
	*dst = v;
	return 0;
}

static int key_sets(struct line *l)
{
	return set_list(l, &l->c->sets);
}

static int key_add(struct line *l)
{
	return set_list(l, &l->c->adds);
}

static int key_omit(struct line *l)
{
	return set_list(l, &l->c->omits);
}

static int key_hooks(struct line *l)
{
	return set_list(l, &l->c->hooks);
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

	if (set_int(l, 0, 22, &v) < 0)
		return -EINVAL;
	l->c->level = (int)v;
	return 0;
}

static int key_root_timeout(struct line *l)
{
	return set_int(l, 0, KD_CONF_MAX_INT, &l->c->root_timeout);
}

static int key_cmdline(struct line *l)
{
	if (strchr(l->val, '"'))
		return BAD(l, "%s: a double quote inside the value", l->key);
	return set_string(l, &l->c->cmdline);
}

static int key_default_root(struct line *l)
{
	if (strpbrk(l->val, " \t"))
		return BAD(l, "%s: a root= value cannot contain blanks", l->key);
	return set_string(l, &l->c->default_root);
}

static int key_hostonly(struct line *l)
{
	int i = choice(l, yes_no);

	if (i < 0)
		return -EINVAL;
	l->c->hostonly = i == 0;
	return 0;
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
	struct kd_str known = { 0 };

	for (size_t i = 0; i < N_KEYS; i++)
		kd_str_printf(&known, "%s%s", i ? ", " : "", keys[i].name);
	KD_LINE_ERR(l->lines, l->log, "unknown key '%s' (known: %s)", l->key, known.s);
	kd_str_free(&known);
	return -EINVAL;
}

/* The value after '=' (the line is trimmed): quoted or bare. */
static int split_value(struct line *l, char *s)
{
	char *close;

	s += strspn(s, " \t");
	if (*s != '"') {
		l->val = s;
		return 0;
	}
	close = strchr(s + 1, '"');
	if (close == NULL)
		return BAD(l, "%s: unterminated quote", l->key);
	*close = '\0';
	if (*kd_trim(close + 1))
		return BAD(l, "%s: unexpected text after the closing quote", l->key);
	l->val = s + 1;
	return 0;
}

static int parse_line(struct line *l, char *s)
{
	size_t klen;
	char *eq;

	s = kd_trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	klen = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
	eq = s + klen + strspn(s + klen, " \t");
	if (klen == 0 || *eq != '=')
		return BAD(l, "expected key = value");
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
	struct kd_lines lines;
	struct line l = { .log = log, .c = c, .lines = &lines };
	char *s;
	int ret = 0;

	kd_lines_init(&lines, filename, text, strlen(text), false);
	while ((s = kd_lines_next(&lines)) != NULL) {
		/* report every bad line, then fail */
		if (strlen(s) > KD_CONF_MAX_LINE)
			ret = BAD(&l, "longer than %d bytes", KD_CONF_MAX_LINE);
		else if (parse_line(&l, s) < 0)
			ret = -EINVAL;
	}
	kd_lines_free(&lines);
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
		char *path = kd_path_join(dir, v[i]->d_name);
		int e = kd_buildconf_load_file(log, c, path, false);

		if (e < 0 && err == 0)
			err = e; /* keep reading: every bad file is reported */
		free(path);
		free(v[i]);
	}
	free(v);
	return err;
}

int kd_buildconf_load(const struct kd_log *log, struct kd_buildconf *c, const char *root,
		      const char *config)
{
	char *path;
	int err;

	if (config)
		return kd_buildconf_load_file(log, c, config, true);
	path = kd_xasprintf("%s/etc/kindling.conf", root ? root : "");
	err = kd_buildconf_load_file(log, c, path, false);
	if (err == 0) {
		char *dir = kd_xasprintf("%s.d", path);

		err = load_conf_d(log, c, dir);
		free(dir);
	}
	free(path);
	return err;
}
