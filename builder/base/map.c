// SPDX-License-Identifier: MIT
/* A string -> uint32 map with open addressing. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* FNV-1a: short keys, good spread, no dependencies. */
static size_t hash_str(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void map_grow(struct kd_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	char **keys = kd_xcalloc(ncap, sizeof(*keys));
	uint32_t *vals = kd_xcalloc(ncap, sizeof(*vals));

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
}

int kd_map_put(struct kd_map *m, const char *key, uint32_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		map_grow(m);
	j = hash_str(key) & (m->cap - 1);
	while (m->keys[j] != NULL) {
		if (strcmp(m->keys[j], key) == 0) {
			m->vals[j] = val;
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = kd_xstrdup(key);
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

