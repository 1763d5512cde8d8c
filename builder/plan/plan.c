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

/* A growable list of indices. */
struct u32s {
	uint32_t *v;
	size_t n, cap;
};

static void u32s_push(struct u32s *l, uint32_t val)
{
	KD_GROW(l->v, l->n, l->cap);
	l->v[l->n++] = val;
}

/* A module of the plan while it is being built. */
struct node {
	uint32_t mod;
	char *reason;
	uint32_t flags;
	struct u32s hard, pre, post, weak; /* node indices */
	struct u32s soft_pred; /* accepted softdep edges: nodes that come first */
	unsigned char mark;    /* DFS state */
};

struct collect {
	struct kd_ctx *ctx;
	const struct kd_plan_opts *o;
	struct kd_olist nodes;   /* of struct node, by module name */
	struct kd_map omitted;   /* --omit names, normalised */
};

static const char *mod_name(struct kd_ctx *ctx, uint32_t mod)
{
	return kd_db_mod(kd_ctx_db(ctx), mod)->name;
}

/* Valid until the next node is added. */
static struct node *node_at(const struct collect *c, uint32_t i)
{
	return kd_olist_at(&c->nodes, i);
}

static void node_free(struct node *nd)
{
	free(nd->reason);
	free(nd->hard.v);
	free(nd->pre.v);
	free(nd->post.v);
	free(nd->weak.v);
	free(nd->soft_pred.v);
}

static void collect_free(struct collect *c)
{
	for (uint32_t i = 0; i < c->nodes.n; i++)
		node_free(node_at(c, i));
	kd_olist_free(&c->nodes);
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

/* The index of a module's node, added with reason when new. */
static uint32_t node_get(struct collect *c, uint32_t mod, const char *reason)
{
	bool added;
	struct node *nd = kd_olist_add(&c->nodes, mod_name(c->ctx, mod), &added);

	if (added) {
		nd->mod = mod;
		nd->reason = kd_xstrdup(reason);
		if (kd_module_blacklisted(c->ctx, mod))
			nd->flags |= KP_MOD_BLACKLISTED;
	}
	return (uint32_t)kd_olist_find(&c->nodes, mod_name(c->ctx, mod));
}

/* Modules a softdep/weakdep name resolves to (aliases too); missing ones
 * are ignored, as modprobe does. */
static int resolve_names(struct collect *c, char **names, size_t n, struct u32s *mods)
{
	for (size_t i = 0; i < n; i++) {
		struct kd_lookup l;
		int err = kd_lookup(c->ctx, names[i], &l);

		if (err < 0) {
			kd_lookup_free(&l);
			return err;
		}
		for (size_t j = 0; j < l.n; j++) {
			uint32_t mod = l.insts[j]->mod;

			if (!has_file(c->ctx, mod))
				continue; /* built in, or an alias to nothing */
			if (omitted_by(c, mod)) {
				KD_INFO(kd_ctx_log(c->ctx), "soft dependency '%s' (%s) left out: --omit %s",
					names[i], mod_name(c->ctx, mod), omitted_by(c, mod));
				continue;
			}
			u32s_push(mods, mod);
		}
		kd_lookup_free(&l);
	}
	return 0;
}

enum edge { EDGE_HARD, EDGE_PRE, EDGE_POST, EDGE_WEAK };

static struct u32s *edges(struct node *nd, enum edge which)
{
	switch (which) {
	case EDGE_HARD:
		return &nd->hard;
	case EDGE_PRE:
		return &nd->pre;
	case EDGE_POST:
		return &nd->post;
	case EDGE_WEAK:
		break;
	}
	return &nd->weak;
}

/* Add the modules as nodes (reason "<kind> of NAME"), edges of node from. */
static void link_all(struct collect *c, uint32_t from, const char *kind,
		     const struct u32s *mods, enum edge which)
{
	char *reason = kd_xasprintf("%s of %s", kind, mod_name(c->ctx, node_at(c, from)->mod));

	for (size_t i = 0; i < mods->n; i++) {
		uint32_t idx = node_get(c, mods->v[i], reason);

		if (idx != from) /* node_get may have moved the nodes: look from up again */
			u32s_push(edges(node_at(c, from), which), idx);
	}
	free(reason);
}

static int expand_soft(struct collect *c, uint32_t idx)
{
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	const char *name = mod_name(c->ctx, node_at(c, idx)->mod);
	struct u32s pre = { 0 }, post = { 0 }, weak = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; i < cf->n_softdeps; i++) {
		const struct kd_conf_softdep *d = &cf->softdeps[i];

		if (fnmatch(d->modname, name, 0) != 0)
			continue;
		err = resolve_names(c, d->pre, d->n_pre, &pre);
		if (err < 0)
			goto out;
		err = resolve_names(c, d->post, d->n_post, &post);
		if (err < 0)
			goto out;
		break; /* the first matching line only, as kmod */
	}
	for (i = 0; i < cf->n_weakdeps; i++) {
		if (fnmatch(cf->weakdeps[i].modname, name, 0) != 0)
			continue;
		err = resolve_names(c, cf->weakdeps[i].deps, cf->weakdeps[i].n_deps, &weak);
		if (err < 0)
			goto out;
		break;
	}
	link_all(c, idx, "soft dependency", &pre, EDGE_PRE);
	link_all(c, idx, "soft dependency", &post, EDGE_POST);
	link_all(c, idx, "weak dependency", &weak, EDGE_WEAK);
out:
	free(pre.v);
	free(post.v);
	free(weak.v);
	return err;
}

static int expand_node(struct collect *c, uint32_t idx)
{
	const struct kd_module *m = kd_db_mod(kd_ctx_db(c->ctx), node_at(c, idx)->mod);
	struct u32s deps = { 0 };

	for (size_t i = 0; i < m->n_deps; i++) /* lookups may move mods[]: a copy */
		u32s_push(&deps, m->deps[i]);
	link_all(c, idx, "dependency", &deps, EDGE_HARD);
	free(deps.v);
	return expand_soft(c, idx);
}

/* One wanted name: looked up like modprobe does (names, then aliases). */
static int add_want(struct collect *c, const struct kd_want *w)
{
	struct kd_lookup l;
	size_t added = 0, builtin = 0, found;
	int err = kd_lookup(c->ctx, w->name, &l);

	if (err < 0)
		goto fail;
	for (size_t i = 0; i < l.n; i++) {
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
			goto fail;
		}
		if (om) {
			KD_INFO(kd_ctx_log(c->ctx), "%s: '%s' left out: --omit %s", w->reason,
				mod_name(c->ctx, mod), om);
			continue;
		}
		if (!(w->flags & KD_WANT_LOAD) && kd_module_blacklisted(c->ctx, mod) &&
		    kd_olist_find(&c->nodes, mod_name(c->ctx, mod)) < 0) {
			KD_INFO(kd_ctx_log(c->ctx), "%s: '%s' left out: it is blacklisted", w->reason,
				mod_name(c->ctx, mod));
			continue;
		}
		idx = node_get(c, mod, w->reason);
		if (w->flags & KD_WANT_LOAD)
			node_at(c, idx)->flags |= KP_MOD_LOAD;
		added++;
	}
	found = l.n;
	kd_lookup_free(&l);
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
fail:
	kd_lookup_free(&l);
	return err;
}

static int collect_all(struct collect *c, const struct kd_wants *w)
{
	char norm[NAME_MAX_LEN];
	size_t i;
	int err;

	for (i = 0; i < c->o->n_omit; i++) {
		kd_modname_normalize(c->o->omit[i], norm, sizeof(norm));
		kd_map_put(&c->omitted, norm, 0);
	}
	for (i = 0; i < kd_wants_count(w); i++) {
		err = add_want(c, kd_wants_at(w, i));
		if (err < 0)
			return err;
	}
	/* nodes are appended while expanding: the loop reaches them too */
	for (i = 0; i < c->nodes.n; i++) {
		err = expand_node(c, (uint32_t)i);
		if (err < 0)
			return err;
	}
	return 0;
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

static void remap(struct u32s *list, const uint32_t *inv)
{
	for (size_t i = 0; i < list->n; i++)
		list->v[i] = inv[list->v[i]];
}

/* Renumber the nodes in name order: index order is then name order, which
 * makes every later walk deterministic. */
static void sort_nodes(struct collect *c)
{
	size_t n = c->nodes.n, i;
	struct by_name *order = kd_xcalloc(n, sizeof(*order));
	uint32_t *inv = kd_xcalloc(n, sizeof(*inv));
	struct kd_olist sorted;

	for (i = 0; i < n; i++) {
		order[i].name = mod_name(c->ctx, node_at(c, (uint32_t)i)->mod);
		order[i].old = (uint32_t)i;
	}
	qsort(order, n, sizeof(*order), by_name_cmp);
	for (i = 0; i < n; i++)
		inv[order[i].old] = (uint32_t)i;
	kd_olist_init(&sorted, sizeof(struct node));
	for (i = 0; i < n; i++) {
		struct node *nd = kd_olist_add(&sorted, order[i].name, NULL);

		*nd = *node_at(c, order[i].old);
		remap(&nd->hard, inv);
		remap(&nd->pre, inv);
		remap(&nd->post, inv);
		remap(&nd->weak, inv);
	}
	kd_olist_free(&c->nodes); /* the nodes' lists moved to sorted */
	c->nodes = sorted;
	free(order);
	free(inv);
}

/* The nodes that must be live before x: hard deps, then accepted softdeps. */
struct preds {
	const uint32_t *a, *b;
	size_t na, nb;
};

static struct preds preds_of(const struct node *nd, bool hard_only)
{
	struct preds p = { nd->hard.v, nd->soft_pred.v, nd->hard.n, nd->soft_pred.n };

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

static void walk_init(struct walk *w, size_t n)
{
	w->node = kd_xcalloc(n, sizeof(*w->node));
	w->next = kd_xcalloc(n, sizeof(*w->next));
	w->depth = 0;
}

static void walk_free(struct walk *w)
{
	free(w->node);
	free(w->next);
}

static void clear_marks(struct collect *c)
{
	for (uint32_t i = 0; i < c->nodes.n; i++)
		node_at(c, i)->mark = WHITE;
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
	if (node_at(c, root)->mark != WHITE)
		return 0;
	w->node[0] = root;
	w->next[0] = 0;
	w->depth = 1;
	node_at(c, root)->mark = GREY;
	while (w->depth > 0) {
		uint32_t x = w->node[w->depth - 1], y;
		struct preds p = preds_of(node_at(c, x), hard_only);

		if (w->next[w->depth - 1] == p.na + p.nb) {
			node_at(c, x)->mark = BLACK;
			if (order)
				order[(*n_order)++] = x;
			w->depth--;
			continue;
		}
		y = pred_at(&p, w->next[w->depth - 1]++);
		if (y == target)
			return 2;
		if (node_at(c, y)->mark == GREY) {
			for (*cycle_at = 0; w->node[*cycle_at] != y; (*cycle_at)++)
				;
			return 1;
		}
		if (node_at(c, y)->mark == BLACK)
			continue;
		node_at(c, y)->mark = GREY;
		w->node[w->depth] = y;
		w->next[w->depth] = 0;
		w->depth++;
	}
	return 0;
}

static const char *node_name(const struct collect *c, uint32_t i)
{
	return mod_name(c->ctx, node_at(c, i)->mod);
}

static void report_cycle(struct collect *c, const struct walk *w, size_t from)
{
	struct kd_str s = { 0 };

	for (size_t i = from; i < w->depth; i++)
		kd_str_printf(&s, "%s -> ", node_name(c, w->node[i]));
	kd_str_addz(&s, node_name(c, w->node[from]));
	KD_ERR(kd_ctx_log(c->ctx), "dependency cycle: %s (in %s/modules.dep: run depmod, or --omit one "
	       "of them)", s.s, kd_ctx_moddir(c->ctx));
	kd_str_free(&s);
}

static int check_hard_cycles(struct collect *c, struct walk *w)
{
	size_t at;

	clear_marks(c);
	for (uint32_t i = 0; i < c->nodes.n; i++) {
		if (dfs(c, w, i, true, UINT32_MAX, NULL, NULL, &at) == 1) {
			report_cycle(c, w, at);
			return -ELOOP;
		}
	}
	return 0;
}

/* Accept "after comes after first" unless first already (transitively)
 * needs after: that edge would close a cycle.  True when accepted. */
static bool add_soft_edge(struct collect *c, struct walk *w, uint32_t after, uint32_t first,
			  uint32_t owner)
{
	uint32_t other = owner == after ? first : after;
	size_t at;

	clear_marks(c);
	if (after == first || dfs(c, w, first, false, after, NULL, NULL, &at) == 2) {
		KD_WARN(kd_ctx_log(c->ctx), "soft dependency of %s on %s ignored: %s already needs %s "
			"before it, so the edge would close a cycle", node_name(c, owner),
			node_name(c, other), node_name(c, first), node_name(c, after));
		return false;
	}
	u32s_push(&node_at(c, after)->soft_pred, first);
	return true;
}

static void drop(struct u32s *list, size_t i)
{
	memmove(list->v + i, list->v + i + 1, (list->n - i - 1) * sizeof(*list->v));
	list->n--;
}

/* Softdep edges in name order; the ones closing a cycle are dropped from
 * the node's pre/post lists too, so the plan never carries them.  A "post"
 * module comes after its owner: an edge from it to the owner. */
static void add_soft_edges(struct collect *c, struct walk *w)
{
	for (uint32_t i = 0; i < c->nodes.n; i++) {
		struct node *nd = node_at(c, i); /* no node is added here: stays valid */
		size_t j = 0;

		while (j < nd->pre.n) {
			if (add_soft_edge(c, w, i, nd->pre.v[j], i))
				j++;
			else
				drop(&nd->pre, j);
		}
		j = 0;
		while (j < nd->post.n) {
			if (add_soft_edge(c, w, nd->post.v[j], i, i))
				j++;
			else
				drop(&nd->post, j);
		}
	}
}

/* The serial order: depth-first post-order from every node in name order. */
static int order_nodes(struct collect *c, uint32_t **order)
{
	struct walk w;
	size_t n = 0, at;
	int err;

	*order = NULL;
	walk_init(&w, c->nodes.n);
	err = check_hard_cycles(c, &w);
	if (err < 0)
		goto out;
	add_soft_edges(c, &w);
	*order = kd_xcalloc(c->nodes.n, sizeof(**order));
	clear_marks(c);
	for (uint32_t i = 0; i < c->nodes.n; i++)
		dfs(c, &w, i, false, UINT32_MAX, *order, &n, &at);
out:
	walk_free(&w);
	return err;
}

/* ---- the plan ------------------------------------------------------------- */

static bool is_filesystem(struct kd_ctx *ctx, uint32_t mod, const bool *fs_alias)
{
	const char *path = kd_db_mod(kd_ctx_db(ctx), mod)->path;

	return fs_alias[mod] || (path && strncmp(path, "kernel/fs/", 10) == 0);
}

/* pos[] of every index of src, appended to dst. */
static void add_mapped(struct u32s *dst, const struct u32s *src, const uint32_t *pos)
{
	for (size_t i = 0; i < src->n; i++)
		u32s_push(dst, pos[src->v[i]]);
}

static void plan_modules(struct collect *c, const uint32_t *order, const uint32_t *pos,
			 struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(c->ctx);
	bool *fs_alias = kd_xcalloc(db->mods.n, sizeof(*fs_alias));
	size_t i;

	p->mods = kd_xcalloc(c->nodes.n, sizeof(*p->mods));
	/* aliases are normalised: "fs-ext4" is stored as "fs_ext4" */
	for (i = 0; i < db->n_aliases; i++)
		if (strncmp(db->aliases[i].pattern, "fs_", 3) == 0)
			fs_alias[db->aliases[i].module] = true;
	for (i = 0; i < c->nodes.n; i++) {
		struct node *nd = node_at(c, order[i]);
		struct kd_plan_mod *m = &p->mods[i];
		struct u32s before = { 0 }, after = { 0 };

		p->n++;
		m->mod = nd->mod;
		m->reason = nd->reason;
		nd->reason = NULL;
		m->flags = nd->flags;
		if (is_filesystem(c->ctx, nd->mod, fs_alias))
			m->flags |= KP_MOD_FILESYSTEM;
		m->options = kd_module_options(c->ctx, nd->mod, NULL);
		add_mapped(&before, &nd->hard, pos);
		add_mapped(&before, &nd->pre, pos);
		add_mapped(&after, &nd->post, pos);
		m->before = before.v;
		m->n_before = before.n;
		m->after = after.v;
		m->n_after = after.n;
	}
	free(fs_alias);
}

static int alias_cmp(const void *a, const void *b)
{
	const struct kd_plan_alias *x = a, *y = b;
	int r = strcmp(x->pattern, y->pattern);

	return r ? r : (x->mod > y->mod) - (x->mod < y->mod);
}

static void push_alias(struct kd_plan *p, size_t *cap, const char *pattern, uint32_t mod)
{
	KD_GROW(p->aliases, p->n_aliases, *cap);
	p->aliases[p->n_aliases].pattern = kd_xstrdup(pattern);
	p->aliases[p->n_aliases++].mod = mod;
}

/* modules.alias patterns of the image's modules, and modprobe.d aliases
 * naming one of them; sorted by pattern, duplicates dropped. */
static void plan_aliases(struct collect *c, const uint32_t *pos, struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(c->ctx);
	const struct kd_config *cf = kd_ctx_config(c->ctx);
	size_t cap = 0, i, k;
	long idx;

	for (i = 0; i < db->n_aliases; i++) {
		idx = kd_olist_find(&c->nodes, kd_db_mod(db, db->aliases[i].module)->name);
		if (idx >= 0)
			push_alias(p, &cap, db->aliases[i].pattern, (uint32_t)idx);
	}
	for (i = 0; i < cf->n_aliases; i++) {
		char name[NAME_MAX_LEN], pat[4096];

		kd_modname_normalize(cf->aliases[i].modname, name, sizeof(name));
		if (kd_alias_normalize(cf->aliases[i].pattern, pat, sizeof(pat)) == 0 &&
		    (idx = kd_olist_find(&c->nodes, name)) >= 0)
			push_alias(p, &cap, pat, (uint32_t)idx);
	}
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
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void plan_builtins(struct kd_ctx *ctx, struct kd_plan *p)
{
	struct kd_moddb *db = kd_ctx_db(ctx);

	p->builtins = kd_xcalloc(db->mods.n, sizeof(char *));
	for (size_t i = 0; i < db->mods.n; i++)
		if (kd_db_mod(db, i)->builtin)
			p->builtins[p->n_builtins++] = kd_xstrdup(kd_db_mod(db, i)->name);
	qsort(p->builtins, p->n_builtins, sizeof(char *), str_cmp);
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
	kd_olist_init(&c.nodes, sizeof(struct node));
	out->kver = kd_xstrdup(kd_ctx_kver(ctx));
	out->default_root = kd_xstrdup(c.o->default_root ? c.o->default_root : "");
	out->cmdline = kd_xstrdup(c.o->cmdline ? c.o->cmdline : "");
	out->root_timeout = c.o->root_timeout;
	err = collect_all(&c, w);
	if (err < 0)
		goto out;
	sort_nodes(&c);
	err = order_nodes(&c, &order);
	if (err < 0)
		goto out;
	pos = kd_xcalloc(c.nodes.n, sizeof(*pos)); /* node index -> plan index */
	for (size_t i = 0; i < c.nodes.n; i++)
		pos[order[i]] = (uint32_t)i;
	plan_modules(&c, order, pos, out);
	plan_aliases(&c, pos, out);
	plan_builtins(ctx, out);
	report_install_commands(ctx, out);
out:
	free(order);
	free(pos);
	collect_free(&c);
	if (err < 0)
		kd_plan_free(out);
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
