// SPDX-License-Identifier: MIT
/*
 * The load plan: from the modules asked for to every module the image
 * holds, in a serial load order, with edges, options, reasons, aliases and
 * the kernel's built-ins (planfile.c writes it in common/plan.h's format).
 *
 * Modules are collected as modprobe would reach them: hard dependencies
 * (modules.dep), softdep pre and post modules (the first softdep line whose
 * pattern matches the name, as kmod), weak dependencies (in the image, never
 * loaded on their own account).  Hard dependency cycles are errors; a
 * softdep edge that would close a cycle is dropped with a warning, which is
 * what kmod's visited flags amount to.  The order is a depth-first
 * post-order over names sorted alphabetically: deterministic, deepest first.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "common/plan.h"

#define NAME_MAX_LEN 256

/* A module of the plan while it is being built. */
struct node {
	uint32_t mod;
	char *reason;
	uint32_t flags;
	uint32_t *hard, *pre, *post, *weak; /* node indices */
	size_t n_hard, n_pre, n_post, n_weak;
	uint32_t *soft_pred; /* accepted softdep edges: nodes that come first */
	size_t n_soft_pred;
	unsigned char mark;  /* DFS state */
};

struct collect {
	struct kd_ctx *ctx;
	const struct kd_plan_opts *o;
	struct node *v;
	size_t n, cap;
	struct kd_map by_name;   /* module name -> node */
	struct kd_map omitted;   /* --omit names, normalised */
};

static int push_u32(uint32_t **arr, size_t *n, uint32_t val)
{
	void *p = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	(*arr)[(*n)++] = val;
	return 0;
}

static const char *mod_name(struct kd_ctx *ctx, uint32_t mod)
{
	return kd_db_mod(kd_ctx_db(ctx), mod)->name;
}

static void node_free(struct node *nd)
{
	free(nd->reason);
	free(nd->hard);
	free(nd->pre);
	free(nd->post);
	free(nd->weak);
	free(nd->soft_pred);
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		node_free(&c->v[i]);
	free(c->v);
	kd_map_free(&c->by_name);
	kd_map_free(&c->omitted);
}

/* ---- which modules ------------------------------------------------------ */

/* Omitted, or needing an omitted module (modules.dep lists every module
 * needed, not only the direct ones, so one level suffices). */
static const char *omitted_by(struct collect *c, uint32_t mod)
{
	const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), mod);

	if (c->omitted.n == 0)
		return NULL;
	if (kd_map_get(&c->omitted, m->name, NULL))
		return m->name;
	for (size_t i = 0; i < m->n_deps; i++)
		if (kd_map_get(&c->omitted, mod_name(c->ctx, m->deps[i]), NULL))
			return mod_name(c->ctx, m->deps[i]);
	return NULL;
}

static bool has_file(struct kd_ctx *ctx, uint32_t mod)
{
	const struct kd_module *m = kd_db_mod(kd_ctx_db(ctx), mod);

	return m->in_dep && m->path != NULL;
}

/* The node of a module, added with reason when new; *idx gets its index. */
static int node_get(struct collect *c, uint32_t mod, const char *reason, uint32_t *idx)
{
	struct node *nd;
	int err;

	if (kd_map_get(&c->by_name, mod_name(c->ctx, mod), idx))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->v, cap * sizeof(*c->v));

		if (p == NULL)
			return -ENOMEM;
		c->v = p;
		c->cap = cap;
	}
	err = kd_map_put(&c->by_name, mod_name(c->ctx, mod), (uint32_t)c->n);
	if (err < 0)
		return err;
	nd = &c->v[c->n];
	memset(nd, 0, sizeof(*nd));
	nd->mod = mod;
	nd->reason = kd_xstrdup(reason);
	if (kd_module_blacklisted(c->ctx, mod))
		nd->flags |= KP_MOD_BLACKLISTED;
	*idx = (uint32_t)c->n++;
	return 0;
}

/* Modules a softdep/weakdep name resolves to (aliases too); missing ones
 * are ignored, as modprobe does. */
static int resolve_names(struct collect *c, char **names, size_t n, uint32_t **mods,
			 size_t *n_mods)
{
	for (size_t i = 0; i < n; i++) {
		struct kd_lookup l;
		int err = kd_lookup(c->ctx, names[i], &l);

		for (size_t j = 0; j < l.n && err == 0; j++) {
			uint32_t mod = l.insts[j]->mod;

			if (!has_file(c->ctx, mod))
				continue; /* built in, or an alias to nothing */
			if (omitted_by(c, mod)) {
				KD_INFO(kd_ctx_log(c->ctx), "soft dependency '%s' (%s) left out: --omit %s",
					names[i], mod_name(c->ctx, mod), omitted_by(c, mod));
				continue;
			}
			err = push_u32(mods, n_mods, mod);
		}
		kd_lookup_free(&l);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Add the modules as nodes (reason "<kind> of NAME"), their indices to list. */
static int link_all(struct collect *c, uint32_t from, const char *kind, const uint32_t *mods,
		    size_t n, int which)
{
	struct kd_str reason = { 0 };
	int err = 0;

	kd_str_printf(&reason, "%s of %s", kind, mod_name(c->ctx, c->v[from].mod));
	for (size_t i = 0; i < n && err == 0; i++) {
		uint32_t idx;
		struct node *nd;

		err = node_get(c, mods[i], reason.s, &idx);
		if (err < 0 || idx == from)
			continue;
		nd = &c->v[from]; /* node_get may have moved the array */
		if (which == 0)
			err = push_u32(&nd->hard, &nd->n_hard, idx);
		else if (which == 1)
			err = push_u32(&nd->pre, &nd->n_pre, idx);
		else if (which == 2)
			err = push_u32(&nd->post, &nd->n_post, idx);
		else
			err = push_u32(&nd->weak, &nd->n_weak, idx);
	}
	kd_str_free(&reason);
	return err;
}

static int expand_soft(struct collect *c, uint32_t idx)
{
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	const char *name = mod_name(c->ctx, c->v[idx].mod);
	uint32_t *pre = NULL, *post = NULL, *weak = NULL;
	size_t n_pre = 0, n_post = 0, n_weak = 0, i;
	int err = 0;

	for (i = 0; i < cf->n_softdeps; i++) {
		const struct kd_conf_softdep *d = &cf->softdeps[i];

		if (fnmatch(d->modname, name, 0) != 0)
			continue;
		err = resolve_names(c, d->pre, d->n_pre, &pre, &n_pre);
		if (err == 0)
			err = resolve_names(c, d->post, d->n_post, &post, &n_post);
		break; /* the first matching line only, as kmod */
	}
	for (i = 0; i < cf->n_weakdeps && err == 0; i++) {
		if (fnmatch(cf->weakdeps[i].modname, name, 0) != 0)
			continue;
		err = resolve_names(c, cf->weakdeps[i].deps, cf->weakdeps[i].n_deps, &weak,
				    &n_weak);
		break;
	}
	if (err == 0)
		err = link_all(c, idx, "soft dependency", pre, n_pre, 1);
	if (err == 0)
		err = link_all(c, idx, "soft dependency", post, n_post, 2);
	if (err == 0)
		err = link_all(c, idx, "weak dependency", weak, n_weak, 3);
	free(pre);
	free(post);
	free(weak);
	return err;
}

static int expand_node(struct collect *c, uint32_t idx)
{
	const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), c->v[idx].mod);
	uint32_t *deps = NULL;
	size_t n = m->n_deps;
	int err;

	if (n > 0) {
		deps = malloc(n * sizeof(*deps));
		if (deps == NULL)
			return -ENOMEM;
		memcpy(deps, m->deps, n * sizeof(*deps)); /* lookups may move mods[] */
	}
	err = link_all(c, idx, "dependency", deps, n, 0);
	free(deps);
	return err ? err : expand_soft(c, idx);
}

/* One wanted name: looked up like modprobe does (names, then aliases). */
static int add_want(struct collect *c, const struct kd_want *w)
{
	struct kd_lookup l;
	size_t added = 0, builtin = 0, found;
	int err = kd_lookup(c->ctx, w->name, &l);

	for (size_t i = 0; i < l.n && err == 0; i++) {
		uint32_t mod = l.insts[i]->mod, idx;
		const char *om;

		if (!has_file(c->ctx, mod)) {
			builtin += kd_db_mod(kd_ctx_db(c->ctx), mod)->builtin || l.insts[i]->builtin;
			continue;
		}
		om = omitted_by(c, mod);
		if (om && (w->flags & KD_WANT_LOAD)) {
			KD_ERR(kd_ctx_log(c->ctx), "--add %s: module '%s' needs '%s', which --omit leaves out",
			       w->name, mod_name(c->ctx, mod), om);
			err = -EINVAL;
			break;
		}
		if (om) {
			KD_INFO(kd_ctx_log(c->ctx), "%s: '%s' left out: --omit %s", w->reason,
				mod_name(c->ctx, mod), om);
			continue;
		}
		if (!(w->flags & KD_WANT_LOAD) && kd_module_blacklisted(c->ctx, mod) &&
		    !kd_map_get(&c->by_name, mod_name(c->ctx, mod), NULL)) {
			KD_INFO(kd_ctx_log(c->ctx), "%s: '%s' left out: it is blacklisted", w->reason,
				mod_name(c->ctx, mod));
			continue;
		}
		err = node_get(c, mod, w->reason, &idx);
		if (err == 0 && (w->flags & KD_WANT_LOAD))
			c->v[idx].flags |= KP_MOD_LOAD;
		added++;
	}
	found = l.n;
	kd_lookup_free(&l);
	if (err < 0)
		return err;
	if (added == 0 && builtin > 0)
		KD_INFO(kd_ctx_log(c->ctx), "%s: '%s' is built into kernel %s", w->reason, w->name,
			kd_ctx_kver(c->ctx));
	else if (found == 0 && (w->flags & KD_WANT_REQUIRED)) {
		KD_ERR(kd_ctx_log(c->ctx), "%s: no module or alias '%s' in %s (kernel %s)", w->reason, w->name,
		       kd_ctx_moddir(c->ctx), kd_ctx_kver(c->ctx));
		return -ENOENT;
	} else if (found == 0) {
		KD_INFO(kd_ctx_log(c->ctx), "%s: no module '%s' in kernel %s: skipped", w->reason, w->name,
			kd_ctx_kver(c->ctx));
	}
	return 0;
}

static int collect_all(struct collect *c, const struct kd_wants *w)
{
	char norm[NAME_MAX_LEN];
	size_t i;
	int err = 0;

	for (i = 0; i < c->o->n_omit && err == 0; i++) {
		kd_modname_normalize(c->o->omit[i], norm, sizeof(norm));
		err = kd_map_put(&c->omitted, norm, 0);
	}
	for (i = 0; i < w->n && err == 0; i++)
		err = add_want(c, &w->v[i]);
	/* nodes are appended while expanding: the loop reaches them too */
	for (i = 0; i < c->n && err == 0; i++)
		err = expand_node(c, (uint32_t)i);
	return err;
}

/* ---- order -------------------------------------------------------------- */

struct by_name {
	const char *name;
	uint32_t old;
};

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_name *)a)->name, ((const struct by_name *)b)->name);
}

static void remap(uint32_t *list, size_t n, const uint32_t *inv)
{
	for (size_t i = 0; i < n; i++)
		list[i] = inv[list[i]];
}

/* Renumber the nodes in name order: index order is then name order, which
 * makes every later walk deterministic. */
static int sort_nodes(struct collect *c)
{
	size_t n = c->n ? c->n : 1, i;
	struct by_name *order = malloc(n * sizeof(*order));
	uint32_t *inv = malloc(n * sizeof(*inv));
	struct node *v = malloc(n * sizeof(*v));
	int err = -ENOMEM;

	if (order == NULL || inv == NULL || v == NULL)
		goto out;
	for (i = 0; i < c->n; i++) {
		order[i].name = mod_name(c->ctx, c->v[i].mod);
		order[i].old = (uint32_t)i;
	}
	qsort(order, c->n, sizeof(*order), by_name_cmp);
	for (i = 0; i < c->n; i++)
		inv[order[i].old] = (uint32_t)i;
	for (i = 0; i < c->n; i++) {
		struct node *nd = &c->v[i];

		remap(nd->hard, nd->n_hard, inv);
		remap(nd->pre, nd->n_pre, inv);
		remap(nd->post, nd->n_post, inv);
		remap(nd->weak, nd->n_weak, inv);
	}
	for (i = 0; i < c->n; i++) {
		v[i] = c->v[order[i].old];
		if (kd_map_put(&c->by_name, order[i].name, (uint32_t)i) < 0)
			goto out;
	}
	free(c->v);
	c->v = v;
	v = NULL;
	c->cap = c->n;
	err = 0;
out:
	free(order);
	free(inv);
	free(v);
	return err;
}

/* The nodes that must be live before x: hard deps, then accepted softdeps. */
struct preds {
	const uint32_t *a, *b;
	size_t na, nb;
};

static struct preds preds_of(const struct node *nd, bool hard_only)
{
	struct preds p = { nd->hard, nd->soft_pred, nd->n_hard, nd->n_soft_pred };

	if (hard_only)
		p.nb = 0;
	return p;
}

static uint32_t pred_at(const struct preds *p, size_t i)
{
	return i < p->na ? p->a[i] : p->b[i - p->na];
}

enum { WHITE, GREY, BLACK };

/* Iterative DFS state, shared by the walks below (no recursion: a deep
 * chain of modules must not exhaust the stack). */
struct walk {
	uint32_t *node;
	size_t *next;
	size_t depth;
};

static int walk_init(struct walk *w, size_t n)
{
	w->node = malloc((n ? n : 1) * sizeof(*w->node));
	w->next = malloc((n ? n : 1) * sizeof(*w->next));
	w->depth = 0;
	if (w->node == NULL || w->next == NULL) {
		free(w->node);
		free(w->next);
		return -ENOMEM;
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	free(w->node);
	free(w->next);
}

static void clear_marks(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->v[i].mark = WHITE;
}

/*
 * Depth-first from root along "before" edges.  Each node is appended to
 * order (when not NULL) once all its predecessors are; reaching a GREY node
 * is a cycle: the stack from that node on is reported through *cycle_at
 * (its stack position) and 1 is returned.  Reaching target returns 2.
 */
static int dfs(struct collect *c, struct walk *w, uint32_t root, bool hard_only,
	       uint32_t target, uint32_t *order, size_t *n_order, size_t *cycle_at)
{
	if (c->v[root].mark != WHITE)
		return 0;
	w->depth = 0;
	w->node[0] = root;
	w->next[0] = 0;
	w->depth = 1;
	c->v[root].mark = GREY;
	while (w->depth > 0) {
		uint32_t x = w->node[w->depth - 1], y;
		struct preds p = preds_of(&c->v[x], hard_only);

		if (w->next[w->depth - 1] == p.na + p.nb) {
			c->v[x].mark = BLACK;
			if (order)
				order[(*n_order)++] = x;
			w->depth--;
			continue;
		}
		y = pred_at(&p, w->next[w->depth - 1]++);
		if (y == target)
			return 2;
		if (c->v[y].mark == GREY) {
			for (*cycle_at = 0; w->node[*cycle_at] != y; (*cycle_at)++)
				;
			return 1;
		}
		if (c->v[y].mark == BLACK)
			continue;
		c->v[y].mark = GREY;
		w->node[w->depth] = y;
		w->next[w->depth] = 0;
		w->depth++;
	}
	return 0;
}

static void report_cycle(struct collect *c, const struct walk *w, size_t from)
{
	struct kd_str s = { 0 };

	for (size_t i = from; i < w->depth; i++)
		kd_str_printf(&s, "%s -> ", mod_name(c->ctx, c->v[w->node[i]].mod));
	kd_str_addz(&s, mod_name(c->ctx, c->v[w->node[from]].mod));
	KD_ERR(kd_ctx_log(c->ctx), "dependency cycle: %s (in %s/modules.dep: run depmod, or --omit one "
	       "of them)", s.s ? s.s : "?", kd_ctx_moddir(c->ctx));
	kd_str_free(&s);
}

static int check_hard_cycles(struct collect *c, struct walk *w)
{
	size_t at;

	clear_marks(c);
	for (uint32_t i = 0; i < c->n; i++) {
		if (dfs(c, w, i, true, UINT32_MAX, NULL, NULL, &at) == 1) {
			report_cycle(c, w, at);
			return -ELOOP;
		}
	}
	return 0;
}

/* Accept "after comes after first" unless first already (transitively)
 * needs after: that edge would close a cycle.  1: accepted, 0: dropped. */
static int add_soft_edge(struct collect *c, struct walk *w, uint32_t after, uint32_t first,
			 uint32_t owner)
{
	uint32_t other = owner == after ? first : after;
	size_t at;
	int err;

	clear_marks(c);
	if (after == first || dfs(c, w, first, false, after, NULL, NULL, &at) == 2) {
		KD_WARN(kd_ctx_log(c->ctx), "soft dependency of %s on %s ignored: %s already needs %s "
			"before it, so the edge would close a cycle",
			mod_name(c->ctx, c->v[owner].mod), mod_name(c->ctx, c->v[other].mod),
			mod_name(c->ctx, c->v[first].mod), mod_name(c->ctx, c->v[after].mod));
		return 0;
	}
	err = push_u32(&c->v[after].soft_pred, &c->v[after].n_soft_pred, first);
	return err < 0 ? err : 1;
}

static void drop(uint32_t *list, size_t *n, size_t i)
{
	memmove(list + i, list + i + 1, (*n - i - 1) * sizeof(*list));
	(*n)--;
}

/* Softdep edges in name order; the ones closing a cycle are dropped from
 * the node's pre/post lists too, so the plan never carries them.  A "post"
 * module comes after its owner: an edge from it to the owner. */
static int add_soft_edges(struct collect *c, struct walk *w)
{
	int r = 0;

	for (uint32_t i = 0; i < c->n && r >= 0; i++) {
		struct node *nd = &c->v[i];
		size_t j = 0;

		while (j < nd->n_pre && r >= 0) {
			r = add_soft_edge(c, w, i, nd->pre[j], i);
			if (r == 0)
				drop(nd->pre, &nd->n_pre, j);
			else
				j++;
		}
		j = 0;
		while (j < nd->n_post && r >= 0) {
			r = add_soft_edge(c, w, nd->post[j], i, i);
			if (r == 0)
				drop(nd->post, &nd->n_post, j);
			else
				j++;
		}
	}
	return r < 0 ? r : 0;
}

/* The serial order: depth-first post-order from every node in name order. */
static int order_nodes(struct collect *c, uint32_t **order)
{
	struct walk w;
	size_t n = 0, at;
	int err = walk_init(&w, c->n);

	*order = NULL;
	if (err < 0)
		return err;
	err = check_hard_cycles(c, &w);
	if (err == 0)
		err = add_soft_edges(c, &w);
	if (err == 0) {
		*order = malloc((c->n ? c->n : 1) * sizeof(**order));
		err = *order ? 0 : -ENOMEM;
	}
	if (err == 0) {
		clear_marks(c);
		for (uint32_t i = 0; i < c->n; i++)
			dfs(c, &w, i, false, UINT32_MAX, *order, &n, &at);
	}
	walk_free(&w);
	return err;
}

/* ---- the plan ------------------------------------------------------------- */

static bool is_filesystem(struct kd_ctx *ctx, uint32_t mod, const bool *fs_alias)
{
	const char *path = kd_db_mod(kd_ctx_db(ctx), mod)->path;

	return fs_alias[mod] || (path && strncmp(path, "kernel/fs/", 10) == 0);
}

static int copy_list(uint32_t **dst, size_t *n_dst, const uint32_t *src, size_t n,
		     const uint32_t *pos)
{
	for (size_t i = 0; i < n; i++)
		if (push_u32(dst, n_dst, pos[src[i]]) < 0)
			return -ENOMEM;
	return 0;
}

static int plan_modules(struct collect *c, const uint32_t *order, const uint32_t *pos,
			struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(c->ctx);
	bool *fs_alias = calloc(db->mods.n ? db->mods.n : 1, sizeof(*fs_alias));
	size_t i;
	int err = -ENOMEM;

	p->mods = calloc(c->n ? c->n : 1, sizeof(*p->mods));
	if (fs_alias == NULL || p->mods == NULL)
		goto out;
	/* aliases are normalised: "fs-ext4" is stored as "fs_ext4" */
	for (i = 0; i < db->n_aliases; i++)
		if (strncmp(db->aliases[i].pattern, "fs_", 3) == 0)
			fs_alias[db->aliases[i].module] = true;
	err = 0;
	for (i = 0; i < c->n && err == 0; i++) {
		struct node *nd = &c->v[order[i]];
		struct kd_plan_mod *m = &p->mods[i];

		p->n++;
		m->mod = nd->mod;
		m->reason = nd->reason;
		nd->reason = NULL;
		m->flags = nd->flags;
		if (is_filesystem(c->ctx, nd->mod, fs_alias))
			m->flags |= KP_MOD_FILESYSTEM;
		m->options = kd_module_options(c->ctx, nd->mod, NULL);
		err = copy_list(&m->before, &m->n_before, nd->hard, nd->n_hard, pos);
		if (err == 0)
			err = copy_list(&m->before, &m->n_before, nd->pre, nd->n_pre, pos);
		if (err == 0)
			err = copy_list(&m->after, &m->n_after, nd->post, nd->n_post, pos);
	}
out:
	free(fs_alias);
	return err;
}

static int alias_cmp(const void *a, const void *b)
{
	const struct kd_plan_alias *x = a, *y = b;
	int r = strcmp(x->pattern, y->pattern);

	return r ? r : (x->mod > y->mod) - (x->mod < y->mod);
}

static int push_alias(struct kd_plan *p, size_t *cap, const char *pattern, uint32_t mod)
{
	if (p->n_aliases == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		void *q = realloc(p->aliases, ncap * sizeof(*p->aliases));

		if (q == NULL)
			return -ENOMEM;
		p->aliases = q;
		*cap = ncap;
	}
	p->aliases[p->n_aliases].pattern = kd_xstrdup(pattern);
	p->aliases[p->n_aliases++].mod = mod;
	return 0;
}

/* modules.alias patterns of the image's modules, and modprobe.d aliases
 * naming one of them; sorted by pattern, duplicates dropped. */
static int plan_aliases(struct collect *c, const uint32_t *pos, struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(c->ctx);
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	size_t cap = 0, i, k;
	uint32_t idx;
	int err = 0;

	for (i = 0; i < db->n_aliases && err == 0; i++)
		if (kd_map_get(&c->by_name, kd_db_mod(db, db->aliases[i].module)->name, &idx))
			err = push_alias(p, &cap, db->aliases[i].pattern, idx);
	for (i = 0; i < cf->n_aliases && err == 0; i++) {
		char name[NAME_MAX_LEN], pat[4096];

		kd_modname_normalize(cf->aliases[i].modname, name, sizeof(name));
		if (kd_alias_normalize(cf->aliases[i].pattern, pat, sizeof(pat)) == 0 &&
		    kd_map_get(&c->by_name, name, &idx))
			err = push_alias(p, &cap, pat, idx);
	}
	if (err < 0)
		return err;
	for (i = 0; i < p->n_aliases; i++)
		p->aliases[i].mod = pos[p->aliases[i].mod];
	if (p->n_aliases > 1)
		qsort(p->aliases, p->n_aliases, sizeof(*p->aliases), alias_cmp);
	for (i = 0, k = 0; i < p->n_aliases; i++) {
		if (k > 0 && alias_cmp(&p->aliases[k - 1], &p->aliases[i]) == 0) {
			free(p->aliases[i].pattern);
			continue;
		}
		p->aliases[k++] = p->aliases[i];
	}
	p->n_aliases = k;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int plan_builtins(struct kd_ctx *ctx, struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(ctx);
	size_t i;

	p->builtins = calloc(db->mods.n ? db->mods.n : 1, sizeof(char *));
	if (p->builtins == NULL)
		return -ENOMEM;
	for (i = 0; i < db->mods.n; i++)
		if (kd_db_mod(db, i)->builtin)
			p->builtins[p->n_builtins++] = kd_xstrdup(kd_db_mod(db, i)->name);
	qsort(p->builtins, p->n_builtins, sizeof(char *), str_cmp);
	return 0;
}

/*
 * modprobe.d "install" commands cannot run in the image (the init loads the
 * module itself): say which of the image's modules have one, so nobody is
 * surprised that it was not run.
 */
static void report_install_commands(struct kd_ctx *ctx, const struct kd_plan *p)
{
	const struct kd_config *conf = kd_ctx_config(ctx);

	for (size_t i = 0; i < p->n; i++) {
		const char *name = kd_db_mod(kd_ctx_db(ctx), p->mods[i].mod)->name;

		for (size_t j = 0; j < conf->n_install; j++) {
			if (fnmatch(conf->install[j].modname, name, 0) != 0)
				continue;
			KD_WARN(kd_ctx_log(ctx), "modprobe.d: 'install %s %s' is not run at boot: the image "
				"loads module %s itself", conf->install[j].modname,
				conf->install[j].command, name);
			break;
		}
	}
}

int kd_plan_build(struct kd_ctx *ctx, const struct kd_wants *w, const struct kd_plan_opts *o,
		  struct kd_plan *out)
{
	static const struct kd_plan_opts none;
	struct collect c = { .ctx = ctx, .o = o ? o : &none };
	uint32_t *order = NULL, *pos = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	out->kver = kd_xstrdup(kd_ctx_kver(ctx));
	out->default_root = kd_xstrdup(c.o->default_root ? c.o->default_root : "");
	out->cmdline = kd_xstrdup(c.o->cmdline ? c.o->cmdline : "");
	out->root_timeout = c.o->root_timeout;
	err = collect_all(&c, w);
	if (err == 0)
		err = sort_nodes(&c);
	if (err == 0)
		err = order_nodes(&c, &order);
	if (err == 0) {
		/* node index -> plan index */
		pos = malloc((c.n ? c.n : 1) * sizeof(*pos));
		err = pos ? 0 : -ENOMEM;
		for (size_t i = 0; i < c.n && pos; i++)
			pos[order[i]] = (uint32_t)i;
	}
	if (err == 0)
		err = plan_modules(&c, order, pos, out);
	if (err == 0)
		err = plan_aliases(&c, pos, out);
	if (err == 0)
		err = plan_builtins(ctx, out);
	if (err == 0)
		report_install_commands(ctx, out);
	free(order);
	free(pos);
	collect_free(&c);
	if (err < 0) {
		if (err == -ENOMEM)
			KD_ERR(kd_ctx_log(ctx), "out of memory computing the load plan");
		kd_plan_free(out);
	}
	return err;
}

void kd_plan_free(struct kd_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->mods[i].reason);
		free(p->mods[i].options);
		free(p->mods[i].before);
		free(p->mods[i].after);
	}
	for (i = 0; i < p->n_aliases; i++)
		free(p->aliases[i].pattern);
	for (i = 0; i < p->n_builtins; i++)
		free(p->builtins[i]);
	free(p->mods);
	free(p->aliases);
	free(p->builtins);
	free(p->kver);
	free(p->default_root);
	free(p->cmdline);
	memset(p, 0, sizeof(*p));
}
