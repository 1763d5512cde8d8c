/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the init's unit tests: a log captured in a temporary file,
 * scratch files and shell commands, and a small writer of load plans
 * (common/plan.h), independent of the builder's: tests describe modules by
 * index and get a malloc'd plan image.  Aliases and built-ins are sorted
 * here, as the format requires.
 */
#ifndef KINDLING_INIT_TEST_H
#define KINDLING_INIT_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "common/plan.h"

/* A log whose lines go to a temporary file, read back by tl_text(). */
struct tlog {
	struct ki_log log;
	char path[64];
	char text[16384];
};

static inline void tl_open(struct tlog *t, bool kmsg)
{
	int fd;

	strcpy(t->path, "/tmp/kindling-test-log.XXXXXX");
	fd = mkstemp(t->path);
	if (fd >= 0)
		close(fd);
	ki_log_init(&t->log);
	ki_log_open(&t->log, t->path, kmsg);
}

static inline const char *tl_text(struct tlog *t)
{
	if (ki_read_file(t->path, t->text, sizeof(t->text)) < 0)
		t->text[0] = '\0';
	return t->text;
}

static inline void tl_close(struct tlog *t)
{
	ki_log_close(&t->log);
	unlink(t->path);
}

/* A shell command, its output thrown away; its exit status, as system()'s. */
static inline int ts_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline int ts_sh(const char *fmt, ...)
{
	static const char quiet[] = " >/dev/null 2>&1";
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - sizeof(quiet), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - sizeof(quiet)) {
		fprintf(stderr, "ts_sh: command too long: %s\n", fmt);
		abort();
	}
	strcat(cmd, quiet);
	return system(cmd);
}

/* DIR/REL holding TEXT, REL's directories made first. */
static inline void ts_put(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
}

/* Remove a test's scratch tree. */
static inline void ts_rm_tree(const char *dir)
{
	if (ts_sh("rm -rf '%s'", dir) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
		abort();
	}
}

#define TP_END (-1)

struct tp_mod {
	const char *name, *path, *options;
	uint32_t flags;
	int before[8]; /* module indices, TP_END-terminated (0 entries: {TP_END}) */
	int after[8];
};

struct tp_alias {
	const char *pattern;
	int mod;
};

struct tp_plan {
	const char *kver, *default_root, *cmdline;
	uint32_t root_timeout;
	const struct tp_mod *mods;
	size_t n_mods;
	const struct tp_alias *aliases;
	size_t n_aliases;
	const char *const *builtins;
	size_t n_builtins;
};

struct tp_strs {
	char buf[65536];
	uint32_t len;
};

static inline uint32_t tp_str(struct tp_strs *s, const char *str)
{
	uint32_t off = s->len;
	size_t n = strlen(str ? str : "") + 1;

	if (str == NULL || *str == '\0')
		return 0;
	memcpy(s->buf + s->len, str, n);
	s->len += (uint32_t)n;
	return off;
}

static inline int tp_alias_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tp_alias *)a)->pattern, ((const struct tp_alias *)b)->pattern);
}

static inline int tp_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static inline size_t tp_count(const int *list)
{
	size_t n = 0;

	while (n < 8 && list[n] != TP_END)
		n++;
	return n;
}

/* The plan image (malloc'd, *size bytes). */
static inline void *tp_build(const struct tp_plan *t, size_t *size)
{
	struct tp_strs *s = calloc(1, sizeof(*s));
	struct tp_alias *al = calloc(t->n_aliases + 1, sizeof(*al));
	const char **bi = calloc(t->n_builtins + 1, sizeof(*bi));
	struct kp_header h = { 0 };
	struct kp_module *mods = calloc(t->n_mods + 1, sizeof(*mods));
	uint32_t deps[512], n_deps = 0;
	struct kp_alias *kal = calloc(t->n_aliases + 1, sizeof(*kal));
	uint32_t *kbi = calloc(t->n_builtins + 1, sizeof(*kbi));
	unsigned char *out;
	size_t i, j;

	s->len = 1; /* offset 0: "" */
	memcpy(h.magic, KP_MAGIC, KP_MAGIC_LEN);
	h.version = KP_VERSION;
	h.header_size = sizeof(h);
	h.kver = tp_str(s, t->kver);
	h.default_root = tp_str(s, t->default_root);
	h.cmdline = tp_str(s, t->cmdline);
	h.root_timeout = t->root_timeout;
	for (i = 0; i < t->n_mods; i++) {
		const struct tp_mod *m = &t->mods[i];

		mods[i].name = tp_str(s, m->name);
		mods[i].path = tp_str(s, m->path);
		mods[i].options = tp_str(s, m->options);
		mods[i].reason = tp_str(s, "test");
		mods[i].flags = m->flags;
		mods[i].deps_first = n_deps;
		mods[i].n_deps = (uint32_t)tp_count(m->before);
		for (j = 0; j < mods[i].n_deps; j++)
			deps[n_deps++] = (uint32_t)m->before[j];
		mods[i].post_first = n_deps;
		mods[i].n_post = (uint32_t)tp_count(m->after);
		for (j = 0; j < mods[i].n_post; j++)
			deps[n_deps++] = (uint32_t)m->after[j];
	}
	if (t->n_aliases)
		memcpy(al, t->aliases, t->n_aliases * sizeof(*al));
	qsort(al, t->n_aliases, sizeof(*al), tp_alias_cmp);
	for (i = 0; i < t->n_aliases; i++) {
		kal[i].pattern = tp_str(s, al[i].pattern);
		kal[i].module = (uint32_t)al[i].mod;
	}
	if (t->n_builtins)
		memcpy(bi, t->builtins, t->n_builtins * sizeof(*bi));
	qsort(bi, t->n_builtins, sizeof(*bi), tp_str_cmp);
	for (i = 0; i < t->n_builtins; i++)
		kbi[i] = tp_str(s, bi[i]);
	s->len = (s->len + 3) & ~3u;
	h.n_modules = (uint32_t)t->n_mods;
	h.modules_off = sizeof(h);
	h.n_deps = n_deps;
	h.deps_off = h.modules_off + h.n_modules * (uint32_t)sizeof(struct kp_module);
	h.n_aliases = (uint32_t)t->n_aliases;
	h.aliases_off = h.deps_off + n_deps * 4;
	h.n_builtins = (uint32_t)t->n_builtins;
	h.builtins_off = h.aliases_off + h.n_aliases * (uint32_t)sizeof(struct kp_alias);
	h.strings_off = h.builtins_off + h.n_builtins * 4;
	h.strings_size = s->len;
	h.file_size = h.strings_off + s->len;
	out = calloc(1, h.file_size);
	memcpy(out, &h, sizeof(h));
	memcpy(out + h.modules_off, mods, h.n_modules * sizeof(struct kp_module));
	memcpy(out + h.deps_off, deps, n_deps * 4);
	memcpy(out + h.aliases_off, kal, h.n_aliases * sizeof(struct kp_alias));
	memcpy(out + h.builtins_off, kbi, h.n_builtins * 4);
	memcpy(out + h.strings_off, s->buf, s->len);
	*size = h.file_size;
	free(s);
	free(al);
	free(bi);
	free(mods);
	free(kal);
	free(kbi);
	return out;
}

#endif
