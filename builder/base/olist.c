// SPDX-License-Identifier: MIT
/* An ordered list of unique keys: a growable array plus a key -> position map. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void kd_olist_init(struct kd_olist *l, size_t elem)
{
	memset(l, 0, sizeof(*l));
	l->elem = elem;
}

void *kd_olist_add(struct kd_olist *l, const char *key, bool *added)
{
	uint32_t pos;
	void *e;

	if (kd_map_get(&l->index, key, &pos)) {
		if (added)
			*added = false;
		return kd_olist_at(l, pos);
	}
	if (l->n >= l->cap) {
		l->cap = kd_grow_cap(l->cap, l->n + 1);
		l->v = kd_xreallocarray(l->v, l->cap, l->elem);
	}
	e = kd_olist_at(l, l->n);
	memset(e, 0, l->elem);
	kd_map_put(&l->index, key, (uint32_t)l->n);
	l->n++;
	if (added)
		*added = true;
	return e;
}

long kd_olist_find(const struct kd_olist *l, const char *key)
{
	uint32_t pos;

	return kd_map_get(&l->index, key, &pos) ? (long)pos : -1;
}

void *kd_olist_get(const struct kd_olist *l, const char *key)
{
	long pos = kd_olist_find(l, key);

	return pos < 0 ? NULL : kd_olist_at(l, (size_t)pos);
}

void kd_olist_free(struct kd_olist *l)
{
	size_t elem = l->elem;

	free(l->v);
	kd_map_free(&l->index);
	kd_olist_init(l, elem);
}
