// SPDX-License-Identifier: MIT
/*
 * Module files read and decompressed once, on a few threads.
 *
 * Decompressing xz modules is most of a build's time, and both the set
 * expansion (symbol filters) and the image need module contents: the cache
 * lets them share the work.  Each slot is written by exactly one worker, so
 * the slots need no lock; only the work counter does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moddb/moddb.h"
#include "codec/codec.h"

enum { SLOT_EMPTY, SLOT_READ, SLOT_FAILED };

void kd_modcache_init(struct kd_modcache *c, struct kd_ctx *ctx, unsigned threads)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->threads = threads ? threads : kd_cpu_count();
}

/* A slot for every module of the database (modules may have been added). */
static void cache_reserve(struct kd_modcache *c, size_t n_mods)
{
	if (n_mods <= c->cap)
		return;
	c->bufs = kd_xreallocarray(c->bufs, n_mods, sizeof(*c->bufs));
	c->state = kd_xrealloc(c->state, n_mods);
	memset(c->bufs + c->cap, 0, (n_mods - c->cap) * sizeof(*c->bufs));
	memset(c->state + c->cap, SLOT_EMPTY, n_mods - c->cap);
	c->cap = n_mods;
}

struct load_job {
	struct kd_modcache *c;
	uint32_t *todo;
};

struct by_size {
	off_t size;
	uint32_t mod;
};

static int size_cmp(const void *a, const void *b)
{
	const struct by_size *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return (x->mod > y->mod) - (x->mod < y->mod);
}

/* Largest files first: a big module started last would leave the other
 * threads idle while it alone is decompressed. */
static void largest_first(struct kd_modcache *c, uint32_t *todo, size_t n)
{
	struct by_size *v = kd_xcalloc(n, sizeof(*v));
	struct stat sb;
	size_t i;

	for (i = 0; i < n; i++) {
		char *path = kd_module_fullpath(c->ctx, todo[i]);

		v[i].mod = todo[i];
		v[i].size = path && stat(path, &sb) == 0 ? sb.st_size : 0;
		free(path);
	}
	qsort(v, n, sizeof(*v), size_cmp);
	for (i = 0; i < n; i++)
		todo[i] = v[i].mod;
	free(v);
}

static int load_one(void *data, size_t i)
{
	struct load_job *job = data;
	struct kd_modcache *c = job->c;
	uint32_t mod = job->todo[i];
	char *path = kd_module_fullpath(c->ctx, mod);
	int err;

	if (path == NULL) {
		c->state[mod] = SLOT_FAILED;
		KD_ERR(kd_ctx_log(c->ctx), "module '%s' has no file in modules.dep",
		       kd_db_mod(kd_ctx_db(c->ctx), mod)->name);
		return -ENOENT;
	}
	err = kd_module_read(kd_ctx_log(c->ctx), path, &c->bufs[mod]);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(c->ctx), "%s: module file listed in modules.dep is missing (run depmod?)",
		       path);
	c->state[mod] = err < 0 ? SLOT_FAILED : SLOT_READ;
	free(path);
	return err;
}

int kd_modcache_load(struct kd_modcache *c, const uint32_t *mods, size_t n)
{
	struct load_job job = { .c = c };
	size_t i, k = 0, n_mods = kd_ctx_db(c->ctx)->mods.n;
	int err;

	cache_reserve(c, n_mods);
	job.todo = kd_xcalloc(n, sizeof(*job.todo));
	for (i = 0; i < n; i++) {
		if (mods[i] >= n_mods || c->state[mods[i]] == SLOT_READ)
			continue;
		c->state[mods[i]] = SLOT_READ; /* claimed: a duplicate is not read twice */
		job.todo[k++] = mods[i];
	}
	for (i = 0; i < k; i++)
		c->state[job.todo[i]] = SLOT_EMPTY;
	if (c->threads > 1 && k > c->threads)
		largest_first(c, job.todo, k);
	err = kd_parallel_for(k, c->threads, load_one, &job);
	free(job.todo);
	return err;
}

const struct kd_buf *kd_modcache_get(const struct kd_modcache *c, uint32_t mod)
{
	if (mod >= c->cap || c->state[mod] != SLOT_READ)
		return NULL;
	return &c->bufs[mod];
}

void kd_modcache_free(struct kd_modcache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		kd_buf_free(&c->bufs[i]);
	free(c->bufs);
	free(c->state);
	memset(c, 0, sizeof(*c));
}
