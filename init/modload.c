// SPDX-License-Identifier: MIT
/*
 * Module loading: the plan's dependency graph run by a few worker threads.
 *
 * A requested module first requests everything on its "before" list and
 * counts those not finished yet; at zero it joins the ready queue.  When a
 * worker finishes a module it counts down the modules waiting on it (the
 * reverse edges, built once) and queues those that reach zero, then
 * requests the module's "after" list.  So each module loads once, strictly
 * after its dependencies, and independent ones load side by side (module
 * init often sleeps: probing a bus, waiting for a link).
 *
 * Modules someone waits for (the root's file system, once the root is
 * found) are urgent: they and their dependencies jump the queue, load at a
 * higher priority, and hold other loads back until they are done, so the
 * CPU is not shared with drivers the root no longer needs.
 *
 * A failed dependency does not stop its dependents: the kernel says why they
 * cannot load (unknown symbol), and a failed soft dependency is harmless, as
 * with modprobe.  EEXIST (already loaded) is success.  One mutex guards all
 * state; the system calls run outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/modname.h"
#include "init.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

#define PARAMS_MAX 4096
#define URGENT_NICE (-10)
#define MAX_WORKERS 16

struct ki_modload {
	struct ki_modload_cfg cfg;
	uint32_t n;
	unsigned char *state;
	int *error;
	uint32_t *pending;          /* unfinished "before" modules of a waiting one */
	uint32_t *rev_first, *rev;  /* modules whose "before" list names each one */
	unsigned char *urgent;
	unsigned urgent_left;               /* urgent and not finished */
	uint32_t *queue, q_head, q_tail;    /* the ready, in order */
	uint32_t *uqueue, u_head, u_tail;   /* the ready and urgent, first */
	unsigned wanted, finished;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	pthread_t threads[MAX_WORKERS];
	unsigned n_threads;
	bool stopping;
};

/* ---- the real system calls ---------------------------------------------- */

static int sys_open(void *data, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	(void)data;
	return fd < 0 ? -errno : fd;
}

static int sys_finit(void *data, int fd, const char *params, int flags)
{
	(void)data;
	return syscall(SYS_finit_module, fd, params, flags) < 0 ? -errno : 0;
}

static void sys_close(void *data, int fd)
{
	(void)data;
	close(fd);
}

const struct ki_modload_ops ki_modload_sys_ops = {
	.open = sys_open,
	.finit = sys_finit,
	.close = sys_close,
};

/* ---- graph ------------------------------------------------------------- */

static const struct kp_module *mod(const struct ki_modload *ml, uint32_t m)
{
	return &ml->cfg.plan->p.modules[m];
}

static const uint32_t *deps(const struct ki_modload *ml)
{
	return ml->cfg.plan->p.deps;
}

static const char *name(const struct ki_modload *ml, uint32_t m)
{
	return ki_plan_name(ml->cfg.plan, m);
}

static int build_reverse(struct ki_modload *ml)
{
	uint32_t m, j, total = 0, *fill;

	ml->rev_first = calloc(ml->n + 1, sizeof(uint32_t));
	for (m = 0; m < ml->n; m++)
		total += mod(ml, m)->n_deps;
	ml->rev = malloc((total + 1) * sizeof(uint32_t));
	fill = calloc(ml->n + 1, sizeof(uint32_t));
	if (ml->rev_first == NULL || ml->rev == NULL || fill == NULL) {
		free(fill);
		return -ENOMEM;
	}
	for (m = 0; m < ml->n; m++)
		for (j = 0; j < mod(ml, m)->n_deps; j++)
			ml->rev_first[deps(ml)[mod(ml, m)->deps_first + j] + 1]++;
	for (m = 0; m < ml->n; m++)
		ml->rev_first[m + 1] += ml->rev_first[m];
	for (m = 0; m < ml->n; m++)
		for (j = 0; j < mod(ml, m)->n_deps; j++) {
			uint32_t d = deps(ml)[mod(ml, m)->deps_first + j];

			ml->rev[ml->rev_first[d] + fill[d]++] = m;
		}
	free(fill);
	return 0;
}

static bool unfinished(const struct ki_modload *ml, uint32_t m)
{
	return ml->state[m] == KI_MOD_WAITING || ml->state[m] == KI_MOD_LOADING;
}

static void enqueue_locked(struct ki_modload *ml, uint32_t m)
{
	if (ml->urgent[m])
		ml->uqueue[ml->u_tail++] = m;
	else
		ml->queue[ml->q_tail++] = m;
	pthread_cond_signal(&ml->work);
}

/*
 * The next module to load, urgent ones first; others only when nothing
 * urgent is left.  Entries of modules already taken are skipped: a module
 * made urgent while queued is in both queues.
 */
static bool pick_locked(struct ki_modload *ml, uint32_t *m)
{
	while (ml->u_head != ml->u_tail) {
		*m = ml->uqueue[ml->u_head++];
		if (ml->state[*m] == KI_MOD_WAITING)
			return true;
	}
	if (ml->urgent_left > 0)
		return false;
	while (ml->q_head != ml->q_tail) {
		*m = ml->queue[ml->q_head++];
		if (ml->state[*m] == KI_MOD_WAITING)
			return true;
	}
	return false;
}

static bool drained(const struct ki_modload *ml)
{
	return ml->q_head == ml->q_tail && ml->u_head == ml->u_tail;
}

/* m and what it needs first are waited for: see the top of the file. */
static void mark_urgent_locked(struct ki_modload *ml, uint32_t m)
{
	const struct kp_module *km = mod(ml, m);

	if (ml->urgent[m])
		return;
	ml->urgent[m] = 1;
	if (unfinished(ml, m))
		ml->urgent_left++; /* else counted when requested */
	if (ml->state[m] == KI_MOD_WAITING && ml->pending[m] == 0) {
		ml->uqueue[ml->u_tail++] = m; /* queued already: jump ahead */
		pthread_cond_signal(&ml->work);
	}
	for (uint32_t j = 0; j < km->n_deps; j++)
		mark_urgent_locked(ml, deps(ml)[km->deps_first + j]);
}

/* The plan's serial order makes the "before" graph acyclic: this ends. */
static void request_locked(struct ki_modload *ml, uint32_t m)
{
	const struct kp_module *km = mod(ml, m);

	if (ml->state[m] != KI_MOD_IDLE)
		return;
	ml->state[m] = KI_MOD_WAITING;
	ml->wanted++;
	ml->urgent_left += ml->urgent[m];
	ml->pending[m] = 0;
	for (uint32_t j = 0; j < km->n_deps; j++) {
		uint32_t d = deps(ml)[km->deps_first + j];

		request_locked(ml, d);
		if (unfinished(ml, d))
			ml->pending[m]++;
	}
	if (ml->pending[m] == 0)
		enqueue_locked(ml, m);
}

static void finish_locked(struct ki_modload *ml, uint32_t m, int err)
{
	const struct kp_module *km = mod(ml, m);
	uint32_t j;

	ml->state[m] = err < 0 ? KI_MOD_FAILED : KI_MOD_LIVE;
	ml->error[m] = err;
	ml->finished++;
	if (ml->urgent[m] && --ml->urgent_left == 0)
		pthread_cond_broadcast(&ml->work); /* the held back may go */
	for (j = ml->rev_first[m]; j < ml->rev_first[m + 1]; j++) {
		uint32_t r = ml->rev[j];

		if (ml->state[r] == KI_MOD_WAITING && ml->pending[r] > 0 &&
		    --ml->pending[r] == 0)
			enqueue_locked(ml, r);
	}
	if (err == 0)
		for (j = 0; j < km->n_post; j++)
			request_locked(ml, deps(ml)[km->post_first + j]);
	pthread_cond_broadcast(&ml->done);
}

/* ---- loading one module ------------------------------------------------ */

static bool compressed(const char *path)
{
	size_t n = strlen(path);

	return (n > 3 && strcmp(path + n - 3, ".xz") == 0) ||
	       (n > 3 && strcmp(path + n - 3, ".gz") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".zst") == 0);
}

/*
 * Since 6.x every finit_module waits at its end for all async work in the
 * kernel (async_synchronize_full), such as the port scan ata_piix started:
 * a 20 KB library module then takes as long as an IDE probe.  The generic
 * module parameter async_probe lets a module skip that wait and probe its
 * devices asynchronously, as the kernel's module.async_probe=1 does for
 * all.  We never need a load to wait for devices: they come as uevents.
 */
#define ASYNC_PARAM "async_probe"

/* The options of module m: the plan's, then the command line's. */
static int module_params(struct ki_modload *ml, uint32_t m, char *params, size_t size)
{
	ki_strcpy(params, kp_str(&ml->cfg.plan->p, mod(ml, m)->options), size);
	if (ki_cmdline_module_params(ml->cfg.cmd, name(ml, m), params, size) < 0 ||
	    strlen(params) + sizeof(ASYNC_PARAM) + 1 > size) {
		KI_WARNF(ml->cfg.log, "cannot load module %s: its options are longer than %zu "
			 "bytes; shorten %s.* on the command line", name(ml, m), size - 16,
			 name(ml, m));
		return -E2BIG;
	}
	return 0;
}

static void report(struct ki_modload *ml, uint32_t m, const char *params, int err, double t0)
{
	const struct ki_log *log = ml->cfg.log;
	const char *open = params[0] ? " (options: " : "", *close = params[0] ? ")" : "";

	if (err == -EEXIST)
		KI_DBGF(log, "module %s was already loaded", name(ml, m));
	else if (err < 0)
		/* ENODEV: no device for this driver (crc32c_intel on a CPU without
		 * SSE 4.2), which modprobe also reports; not worth a warning. */
		ki_log(log, err == -ENODEV ? KI_INFO : KI_WARN, "cannot load module %s: %s%s%s%s; "
		       "boot goes on", name(ml, m), strerror(-err), open, params, close);
	else
		KI_DBGF(log, "loaded module %s%s%s%s in %.3f s", name(ml, m), open, params, close,
			ki_now() - t0);
}

static int load_one(struct ki_modload *ml, uint32_t m)
{
	const struct ki_modload_ops *ops = ml->cfg.ops;
	const char *path = kp_str(&ml->cfg.plan->p, mod(ml, m)->path);
	char params[PARAMS_MAX];
	double t0 = ki_now();
	size_t len;
	int fd, err;

	err = module_params(ml, m, params, sizeof(params));
	if (err < 0)
		return err;
	fd = ops->open(ops->data, path);
	if (fd < 0) {
		KI_WARNF(ml->cfg.log, "cannot load module %s: cannot open %s: %s; boot goes on",
			 name(ml, m), path, strerror(-fd));
		return fd;
	}
	/* appended for the kernel only, so messages show what the user set */
	len = strlen(params);
	snprintf(params + len, sizeof(params) - len, "%s" ASYNC_PARAM, len ? " " : "");
	err = ops->finit(ops->data, fd, params, compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
	ops->close(ops->data, fd);
	params[len] = '\0';
	report(ml, m, params, err, t0);
	return err == -EEXIST ? 0 : err;
}

/* The kernel runs finit_module in the caller's thread, at its priority.
 * Unprivileged (the unit tests) this fails, which only costs speed. */
static void nice_self(int nice)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

static void *worker(void *arg)
{
	struct ki_modload *ml = arg;

	pthread_mutex_lock(&ml->lock);
	for (;;) {
		bool got, hurry;
		uint32_t m;
		int err;

		while (!(got = pick_locked(ml, &m)) && !(ml->stopping && drained(ml)))
			pthread_cond_wait(&ml->work, &ml->lock);
		if (!got)
			break;
		ml->state[m] = KI_MOD_LOADING;
		hurry = ml->urgent[m];
		pthread_mutex_unlock(&ml->lock);
		if (hurry)
			nice_self(URGENT_NICE);
		err = load_one(ml, m);
		if (hurry)
			nice_self(0);
		pthread_mutex_lock(&ml->lock);
		finish_locked(ml, m, err);
	}
	pthread_mutex_unlock(&ml->lock);
	return NULL;
}

/* ---- the interface ----------------------------------------------------- */

static void free_arrays(struct ki_modload *ml)
{
	free(ml->state);
	free(ml->error);
	free(ml->pending);
	free(ml->rev_first);
	free(ml->rev);
	free(ml->queue);
	free(ml->uqueue);
	free(ml->urgent);
	free(ml);
}

static int init_sync(struct ki_modload *ml)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) != 0)
		return -ENOMEM;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&ml->lock, NULL);
	pthread_cond_init(&ml->work, NULL);
	pthread_cond_init(&ml->done, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

int ki_modload_start(struct ki_modload **out, const struct ki_modload_cfg *cfg)
{
	struct ki_modload *ml = calloc(1, sizeof(*ml));
	unsigned w;
	int err;

	if (ml == NULL)
		return -ENOMEM;
	ml->cfg = *cfg;
	ml->n = ki_plan_n_modules(cfg->plan);
	ml->state = calloc(ml->n + 1, 1);
	ml->error = calloc(ml->n + 1, sizeof(int));
	ml->pending = calloc(ml->n + 1, sizeof(uint32_t));
	ml->queue = calloc(ml->n + 1, sizeof(uint32_t));
	ml->uqueue = calloc(ml->n + 1, sizeof(uint32_t));
	ml->urgent = calloc(ml->n + 1, 1);
	if (!ml->state || !ml->error || !ml->pending || !ml->queue || !ml->uqueue || !ml->urgent ||
	    build_reverse(ml) < 0 || init_sync(ml) < 0) {
		free_arrays(ml);
		return -ENOMEM;
	}
	w = cfg->workers ? cfg->workers : 4;
	w = w > MAX_WORKERS ? MAX_WORKERS : w;
	for (ml->n_threads = 0; ml->n_threads < w; ml->n_threads++) {
		err = pthread_create(&ml->threads[ml->n_threads], NULL, worker, ml);
		if (err != 0)
			break;
	}
	if (ml->n_threads == 0) {
		ki_modload_stop(ml);
		return -err;
	}
	*out = ml;
	return 0;
}

/* Let the workers finish what is queued, then free everything. */
void ki_modload_stop(struct ki_modload *ml)
{
	if (ml == NULL)
		return;
	pthread_mutex_lock(&ml->lock);
	ml->stopping = true;
	pthread_cond_broadcast(&ml->work);
	pthread_mutex_unlock(&ml->lock);
	for (unsigned i = 0; i < ml->n_threads; i++)
		pthread_join(ml->threads[i], NULL);
	pthread_cond_destroy(&ml->work);
	pthread_cond_destroy(&ml->done);
	pthread_mutex_destroy(&ml->lock);
	free_arrays(ml);
}

int ki_modload_request(struct ki_modload *ml, uint32_t m)
{
	if (m >= ml->n)
		return -ENOENT;
	pthread_mutex_lock(&ml->lock);
	request_locked(ml, m);
	pthread_mutex_unlock(&ml->lock);
	return 0;
}

#define MAX_MATCHES 64

struct alias_req {
	uint32_t mods[MAX_MATCHES];
	unsigned n;
};

static int alias_each(void *data, uint32_t m)
{
	struct alias_req *rq = data;

	if (rq->n < MAX_MATCHES)
		rq->mods[rq->n++] = m;
	return 0;
}

static bool blacklisted(const struct ki_modload *ml, uint32_t m)
{
	return (mod(ml, m)->flags & KP_MOD_BLACKLISTED) ||
	       ki_cmdline_blacklisted(ml->cfg.cmd, name(ml, m));
}

/* Match without the lock (the plan is read-only), then request. */
static int request_alias(struct ki_modload *ml, const char *alias, bool device)
{
	struct alias_req rq;
	int n;

	rq.n = 0;
	n = ki_plan_match(ml->cfg.plan, alias, alias_each, &rq);
	pthread_mutex_lock(&ml->lock);
	for (unsigned i = 0; i < rq.n; i++) {
		uint32_t m = rq.mods[i];

		if (device && blacklisted(ml, m)) {
			if (ml->state[m] == KI_MOD_IDLE)
				KI_DBGF(ml->cfg.log, "not loading %s for %s: blacklisted",
					name(ml, m), alias);
			continue;
		}
		request_locked(ml, m);
	}
	pthread_mutex_unlock(&ml->lock);
	return n;
}

/* A device's MODALIAS: the number of modules matching it (blacklisted too). */
int ki_modload_request_alias(struct ki_modload *ml, const char *modalias)
{
	return request_alias(ml, modalias, true);
}

/*
 * want looked up by name, normalised as modprobe takes one (kmod's alias
 * rule): 1 when it is built in, 0 with *mod its module (negative when no
 * module has that name: it may still be an alias), or -ENAMETOOLONG.
 */
static int find_name(const struct ki_modload *ml, const char *want, int *mod)
{
	char buf[256];
	int err = kc_alias_normalize(want, buf, sizeof(buf));

	*mod = -ENOENT;
	if (err == -ENAMETOOLONG)
		return err;
	if (err < 0)
		return 0; /* an unbalanced bracket: no module's name */
	if (ki_plan_builtin(ml->cfg.plan, buf))
		return 1;
	*mod = ki_plan_find(ml->cfg.plan, buf);
	return 0;
}

/* A module asked for by name (or alias, as modprobe takes): built-ins are done. */
int ki_modload_request_name(struct ki_modload *ml, const char *want)
{
	int m, r = find_name(ml, want, &m);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (m >= 0)
		return ki_modload_request(ml, (uint32_t)m);
	if (request_alias(ml, want, false) > 0)
		return 0;
	return -ENOENT;
}

/*
 * Load name (a module, or an alias such as "fs-ext4") and wait for it.
 * 0 when it is built in or a module it names is live, else the error.
 */
int ki_modload_load(struct ki_modload *ml, const char *want, unsigned timeout_ms)
{
	struct alias_req rq;
	int m, r = find_name(ml, want, &m), err = -ENOENT;

	if (r != 0)
		return r > 0 ? 0 : r;
	rq.n = 0;
	if (m >= 0)
		rq.mods[rq.n++] = (uint32_t)m;
	else
		ki_plan_match(ml->cfg.plan, want, alias_each, &rq);
	pthread_mutex_lock(&ml->lock);
	for (unsigned i = 0; i < rq.n; i++) {
		mark_urgent_locked(ml, rq.mods[i]);
		request_locked(ml, rq.mods[i]);
	}
	pthread_mutex_unlock(&ml->lock);
	for (unsigned i = 0; i < rq.n; i++) {
		r = ki_modload_wait(ml, rq.mods[i], timeout_ms);
		if (r == 0 || err == -ENOENT)
			err = r;
		if (err == 0)
			break;
	}
	return err;
}

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait until module m finished: 0 live, its error, or -ETIMEDOUT. */
int ki_modload_wait(struct ki_modload *ml, uint32_t m, unsigned timeout_ms)
{
	struct timespec ts;
	int err = 0;

	if (m >= ml->n)
		return -ENOENT;
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&ml->lock);
	while (unfinished(ml, m) && err == 0)
		err = pthread_cond_timedwait(&ml->done, &ml->lock, &ts);
	err = unfinished(ml, m) ? -ETIMEDOUT : ml->state[m] == KI_MOD_IDLE ? -ENOENT :
	      ml->error[m];
	pthread_mutex_unlock(&ml->lock);
	return err;
}

/* Wait until every requested module finished; -ETIMEDOUT if not in time. */
int ki_modload_wait_all(struct ki_modload *ml, unsigned timeout_ms)
{
	struct timespec ts;
	int err = 0;

	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&ml->lock);
	while (ml->finished < ml->wanted && err == 0)
		err = pthread_cond_timedwait(&ml->done, &ml->lock, &ts);
	err = ml->finished < ml->wanted ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&ml->lock);
	return err;
}

enum ki_mod_state ki_modload_state(struct ki_modload *ml, uint32_t m)
{
	enum ki_mod_state s;

	if (m >= ml->n)
		return KI_MOD_IDLE;
	pthread_mutex_lock(&ml->lock);
	s = (enum ki_mod_state)ml->state[m];
	pthread_mutex_unlock(&ml->lock);
	return s;
}

int ki_modload_error(struct ki_modload *ml, uint32_t m)
{
	int err;

	if (m >= ml->n)
		return -ENOENT;
	pthread_mutex_lock(&ml->lock);
	err = ml->error[m];
	pthread_mutex_unlock(&ml->lock);
	return err;
}

void ki_modload_counts(struct ki_modload *ml, unsigned *live, unsigned *failed,
		       unsigned *busy)
{
	*live = *failed = 0;
	pthread_mutex_lock(&ml->lock);
	for (uint32_t m = 0; m < ml->n; m++) {
		*live += ml->state[m] == KI_MOD_LIVE;
		*failed += ml->state[m] == KI_MOD_FAILED;
	}
	*busy = ml->wanted - ml->finished;
	pthread_mutex_unlock(&ml->lock);
}
