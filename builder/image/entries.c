// SPDX-License-Identifier: MIT
/*
 * The image's entries: a kd_olist of struct kd_entry by path, filled by
 * content.c, hooks.c and microcode.c, and read in the archive's order by
 * the writer (image.c).  A path is given once; every parent directory
 * becomes an entry of its own when the list is sorted for writing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image.h"

/* A zero-filled kd_entries is an empty list: the olist learns its element
 * size on first use. */
static struct kd_olist *list(struct kd_entries *e)
{
	if (e->l.elem == 0)
		kd_olist_init(&e->l, sizeof(struct kd_entry));
	return &e->l;
}

static struct kd_entry *push(struct kd_entries *e, const char *path, uint32_t mode)
{
	struct kd_entry *it;
	bool added;

	if (path[0] == '\0' || path[0] == '/')
		return NULL;
	it = kd_olist_add(list(e), path, &added);
	if (!added)
		return NULL;
	it->path = kd_xstrdup(path);
	it->mode = mode;
	return it;
}

int kd_entries_add(struct kd_entries *e, const char *path, uint32_t mode, const void *data,
		   size_t size, void *owned)
{
	struct kd_entry *it = push(e, path, mode);

	if (it == NULL) {
		free(owned);
		return -EEXIST;
	}
	it->data = data;
	it->size = size;
	it->owned = owned;
	return 0;
}

int kd_entries_add_dev(struct kd_entries *e, const char *path, uint32_t mode,
		       unsigned major, unsigned minor)
{
	struct kd_entry *it = push(e, path, mode);

	if (it == NULL)
		return -EEXIST;
	it->rdev_major = major;
	it->rdev_minor = minor;
	return 0;
}

const struct kd_entry *kd_entries_get(const struct kd_entries *e, const char *path)
{
	return e->l.elem ? kd_olist_get(&e->l, path) : NULL;
}

void kd_entries_free(struct kd_entries *e)
{
	for (size_t i = 0; i < e->l.n; i++) {
		struct kd_entry *it = kd_olist_at(&e->l, i);

		free(it->path);
		free(it->owned);
	}
	kd_olist_free(&e->l);
	memset(e, 0, sizeof(*e));
}

static int by_path(const void *a, const void *b)
{
	return strcmp((*(const struct kd_entry *const *)a)->path,
		      (*(const struct kd_entry *const *)b)->path);
}

const struct kd_entry **kd_entries_sorted(struct kd_entries *e, size_t *n)
{
	const struct kd_entry **v;

	/* the directories added here are walked by the same loop */
	for (size_t i = 0; i < e->l.n; i++) {
		const struct kd_entry *it = kd_olist_at(&e->l, i);
		const char *slash = strrchr(it->path, '/');
		char *dir;

		if (slash == NULL)
			continue;
		dir = kd_xstrndup(it->path, (size_t)(slash - it->path));
		push(e, dir, S_IFDIR | 0755); /* NULL when it is there already */
		free(dir);
	}
	v = kd_xreallocarray(NULL, e->l.n, sizeof(*v));
	for (size_t i = 0; i < e->l.n; i++)
		v[i] = kd_olist_at(&e->l, i);
	qsort(v, e->l.n, sizeof(*v), by_path);
	*n = e->l.n;
	return v;
}
