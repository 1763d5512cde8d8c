// SPDX-License-Identifier: MIT
/* A thread pool for independent work items: the caller's thread works too. */
#include <pthread.h>
#include <unistd.h>

#include "base/base.h"

struct pool {
	pthread_mutex_t lock;
	size_t next, n;
	int err;
	kd_work_fn fn;
	void *data;
};

unsigned kd_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static void *pool_worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;
		int err;

		pthread_mutex_lock(&p->lock);
		/* after a failure, hand out no more work */
		i = p->err < 0 ? p->n : p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		err = p->fn(p->data, i);
		if (err < 0) {
			pthread_mutex_lock(&p->lock);
			if (p->err == 0)
				p->err = err;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

int kd_parallel_for(size_t n, unsigned threads, kd_work_fn fn, void *data)
{
	struct pool p = { .n = n, .fn = fn, .data = data };
	pthread_t tid[64];
	unsigned started = 0, i;

	if (threads > 64)
		threads = 64;
	if (threads > n)
		threads = (unsigned)n;
	if (threads <= 1) {
		for (size_t k = 0; k < n; k++) {
			int err = fn(data, k);

			if (err < 0)
				return err;
		}
		return 0;
	}
	pthread_mutex_init(&p.lock, NULL);
	/* the calling thread is one of the workers */
	for (i = 1; i < threads; i++)
		if (pthread_create(&tid[started], NULL, pool_worker, &p) == 0)
			started++;
	pool_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.lock);
	return p.err;
}
