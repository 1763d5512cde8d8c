// SPDX-License-Identifier: MIT
/* Small shared helpers: buffers, strings, a string map, name normalising. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"

void kd_buf_free(struct kd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = 0;
}

static int str_reserve(struct kd_str *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	char *p;

	if (need <= b->cap)
		return 0;
	if (need < b->cap * 2)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	p = realloc(b->s, need);
	if (p == NULL)
		return -ENOMEM;
	b->s = p;
	b->cap = need;
	return 0;
}

int kd_str_add(struct kd_str *b, const char *s, size_t n)
{
	if (str_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int kd_str_addz(struct kd_str *b, const char *s)
{
	return kd_str_add(b, s, strlen(s));
}

int kd_str_printf(struct kd_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (str_reserve(b, (size_t)n) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void kd_str_free(struct kd_str *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* FNV-1a: short keys, good spread, no dependencies. */
static size_t hash_str(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int map_grow(struct kd_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	char **keys = calloc(ncap, sizeof(*keys));
	uint32_t *vals = calloc(ncap, sizeof(*vals));

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (m->keys[i] == NULL)
			continue;
		j = hash_str(m->keys[i]) & (ncap - 1);
		while (keys[j] != NULL)
			j = (j + 1) & (ncap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = ncap;
	return 0;
}

int kd_map_put(struct kd_map *m, const char *key, uint32_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap && map_grow(m) < 0)
		return -ENOMEM;
	j = hash_str(key) & (m->cap - 1);
	while (m->keys[j] != NULL) {
		if (strcmp(m->keys[j], key) == 0) {
			m->vals[j] = val;
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = strdup(key);
	if (m->keys[j] == NULL)
		return -ENOMEM;
	m->vals[j] = val;
	m->n++;
	return 0;
}

int kd_map_get(const struct kd_map *m, const char *key, uint32_t *val)
{
	size_t j;

	if (m->cap == 0)
		return 0;
	j = hash_str(key) & (m->cap - 1);
	while (m->keys[j] != NULL) {
		if (strcmp(m->keys[j], key) == 0) {
			if (val)
				*val = m->vals[j];
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}

void kd_map_free(struct kd_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void kd_modname_normalize(const char *in, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i + 1 < outsz && in[i] != '\0' && in[i] != '.'; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[i] = '\0';
}

void kd_modname_from_path(const char *path, char *out, size_t outsz)
{
	const char *base = strrchr(path, '/');

	kd_modname_normalize(base ? base + 1 : path, out, outsz);
}

int kd_alias_normalize(const char *in, char *out, size_t outsz)
{
	size_t i;

	/* most aliases need no change: copy them at memcpy speed */
	if (strpbrk(in, "-[]") == NULL) {
		i = strlen(in);
		if (i >= outsz)
			return -ENAMETOOLONG;
		memcpy(out, in, i + 1);
		return 0;
	}

	for (i = 0; i + 1 < outsz && in[i] != '\0'; i++) {
		switch (in[i]) {
		case '-':
			out[i] = '_';
			break;
		case ']':
			return -EINVAL;
		case '[':
			while (in[i] != ']' && in[i] != '\0' && i + 1 < outsz) {
				out[i] = in[i];
				i++;
			}
			if (in[i] != ']')
				return -EINVAL;
			out[i] = ']';
			break;
		default:
			out[i] = in[i];
		}
	}
	if (in[i] != '\0')
		return -ENAMETOOLONG;
	out[i] = '\0';
	return 0;
}

int kd_read_file(struct kd_ctx *ctx, const char *path, struct kd_buf *out)
{
	struct stat st;
	size_t got = 0;
	int fd, err;

	out->data = NULL;
	out->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			KD_ERR(ctx, "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		KD_ERR(ctx, "%s: not a regular file", path);
		close(fd);
		return err;
	}
	out->data = malloc((size_t)st.st_size + 1);
	if (out->data == NULL) {
		close(fd);
		KD_ERR(ctx, "%s: out of memory reading %lld bytes", path,
		       (long long)st.st_size);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, out->data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			KD_ERR(ctx, "%s: read failed: %s", path,
			       r < 0 ? strerror(-err) : "file shrank while reading");
			close(fd);
			kd_buf_free(out);
			return err;
		}
		got += (size_t)r;
	}
	close(fd);
	out->data[got] = '\0';
	out->size = got;
	return 0;
}

char *kd_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		fputs("kindling: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *kd_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}
