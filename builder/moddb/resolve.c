// SPDX-License-Identifier: MIT
/*
 * Resolving names and aliases, and the probe order, exactly as modprobe.
 *
 * Lookup tries, in order, and stops at the first that finds anything:
 * modprobe.d aliases, modules.dep names, modules.symbols ("symbol:X"),
 * install/remove commands, modules.alias patterns, modules.builtin names,
 * built-in aliases.  The probe order is kmod's: for the module, each hard
 * dependency (deepest first) preceded by its softdep "pre" modules and
 * followed by its "post" ones, then the module itself the same way.
 * kmod keeps one object per (module, alias) pair with its own flags; the
 * instances below mirror that so that the answers are the same.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "moddb/moddb.h"
#include "moddb/internal.h"

#define NAME_MAX_LEN 256

static struct kd_inst *inst_get(struct kd_ctx *ctx, uint32_t mod, const char *alias)
{
	struct kd_inst_table *t = &ctx->insts;
	struct kd_str key = { 0 };
	struct kd_inst *in = NULL;
	uint32_t idx;

	kd_str_printf(&key, "%s\\%s", ctx->db.mods[mod].name, alias ? alias : "");
	if (key.s == NULL)
		return NULL;
	if (kd_map_get(&t->index, key.s, &idx)) {
		in = t->items[idx];
		goto out;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *p = realloc(t->items, cap * sizeof(*t->items));

		if (p == NULL)
			goto out;
		t->items = p;
		t->cap = cap;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		goto out;
	in->mod = mod;
	in->alias = alias ? strdup(alias) : NULL;
	if ((alias && in->alias == NULL) || kd_map_put(&t->index, key.s, (uint32_t)t->n) < 0) {
		free(in->alias);
		free(in);
		in = NULL;
		goto out;
	}
	t->items[t->n++] = in;
out:
	kd_str_free(&key);
	return in;
}

void kd_resolve_free(struct kd_ctx *ctx)
{
	struct kd_inst_table *t = &ctx->insts;

	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i]->alias);
		free(t->items[i]);
	}
	free(t->items);
	kd_map_free(&t->index);
	memset(t, 0, sizeof(*t));
}

static int list_add(struct kd_lookup *l, struct kd_inst *in)
{
	void *p;

	if (in == NULL)
		return -ENOMEM;
	p = realloc(l->insts, (l->n + 1) * sizeof(*l->insts));
	if (p == NULL)
		return -ENOMEM;
	l->insts = p;
	l->insts[l->n++] = in;
	return 0;
}

void kd_lookup_free(struct kd_lookup *l)
{
	free(l->insts);
	l->insts = NULL;
	l->n = 0;
}

static int module_by_name(struct kd_ctx *ctx, const char *name)
{
	char norm[NAME_MAX_LEN];

	kd_modname_normalize(name, norm, sizeof(norm));
	return kd_module_get(ctx, norm);
}

static int lookup_config(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	const struct kd_config *c = &ctx->config;
	int err = 0;

	for (size_t i = 0; i < c->n_aliases && err == 0; i++) {
		int mod;

		if (fnmatch(c->aliases[i].pattern, name, 0) != 0)
			continue;
		/* the module name is taken as written, like kmod does */
		mod = kd_module_get(ctx, c->aliases[i].modname);
		err = mod < 0 ? mod : list_add(out, inst_get(ctx, (uint32_t)mod,
						 c->aliases[i].pattern));
	}
	return err;
}

static int lookup_moddep(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	int mod;

	if (strchr(name, ':'))
		return 0;
	mod = kd_module_find(ctx, name);
	if (mod < 0 || !ctx->db.mods[mod].in_dep)
		return 0;
	return list_add(out, inst_get(ctx, (uint32_t)mod, NULL));
}

struct match {
	uint32_t mod, rank, seq;
};

static int match_cmp(const void *pa, const void *pb)
{
	const struct match *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Every pattern of table that matches name, ordered as kmod's index gives
 * them: by the module's position in depmod's module order (its first line
 * in modules.alias), then as found in the table.  ix finds the matches
 * without scanning the whole table.
 */
static int lookup_table(struct kd_ctx *ctx, struct kd_alias_index *ix,
			const struct kd_alias *table, size_t n, const char *name, bool builtin,
			struct kd_lookup *out)
{
	struct match *m = NULL;
	uint32_t *pos;
	size_t nm, i;
	int err;

	err = kd_alias_index_find(ix, table, n, name, &pos, &nm);
	if (err < 0)
		return err;
	if (nm > 0 && (m = malloc(nm * sizeof(*m))) == NULL) {
		free(pos);
		return -ENOMEM;
	}
	for (i = 0; i < nm; i++) {
		m[i].mod = table[pos[i]].module;
		m[i].rank = builtin ? 0 : ctx->db.mods[m[i].mod].alias_rank;
		m[i].seq = pos[i];
	}
	free(pos);
	if (nm > 1)
		qsort(m, nm, sizeof(*m), match_cmp);
	for (i = 0; i < nm && err == 0; i++) {
		struct kd_inst *in = inst_get(ctx, m[i].mod, name);

		err = list_add(out, in);
		if (err == 0 && builtin)
			in->builtin = true;
	}
	free(m);
	return err;
}

static int lookup_symbols(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	if (strncmp(name, "symbol:", 7) != 0)
		return 0;
	return lookup_table(ctx, &ctx->db.symbols_ix, ctx->db.symbols, ctx->db.n_symbols, name,
			    false, out);
}

/* A module named by an install (else remove) command, first match only. */
static int lookup_commands(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	const struct kd_config *c = &ctx->config;
	size_t i;
	int mod;

	for (i = 0; i < c->n_install; i++) {
		struct kd_inst *in;

		if (strcmp(c->install[i].modname, name) != 0)
			continue;
		mod = module_by_name(ctx, name);
		if (mod < 0)
			return mod;
		in = inst_get(ctx, (uint32_t)mod, NULL);
		if (in) {
			in->install_cmd = c->install[i].command;
			in->install_set = true;
		}
		return list_add(out, in);
	}
	for (i = 0; i < c->n_remove; i++) {
		if (strcmp(c->remove[i].modname, name) != 0)
			continue;
		mod = module_by_name(ctx, name);
		if (mod < 0)
			return mod;
		return list_add(out, inst_get(ctx, (uint32_t)mod, NULL));
	}
	return 0;
}

static int lookup_aliases(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	return lookup_table(ctx, &ctx->db.aliases_ix, ctx->db.aliases, ctx->db.n_aliases, name,
			    false, out);
}

static int lookup_builtin(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	int mod = kd_module_find(ctx, name);
	struct kd_inst *in;

	if (mod < 0 || !ctx->db.mods[mod].builtin)
		return 0;
	in = inst_get(ctx, (uint32_t)mod, NULL);
	if (in)
		in->builtin = true;
	return list_add(out, in);
}

static int lookup_builtin_alias(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	return lookup_table(ctx, &ctx->db.builtin_aliases_ix, ctx->db.builtin_aliases,
			    ctx->db.n_builtin_aliases, name, true, out);
}

typedef int (*lookup_fn)(struct kd_ctx *ctx, const char *name, struct kd_lookup *out);

int kd_lookup(struct kd_ctx *ctx, const char *given, struct kd_lookup *out)
{
	static const lookup_fn steps[] = {
		lookup_config, lookup_moddep, lookup_symbols, lookup_commands,
		lookup_aliases, lookup_builtin, lookup_builtin_alias,
	};
	char name[4096];
	int err;

	out->insts = NULL;
	out->n = 0;
	err = kd_alias_normalize(given, name, sizeof(name));
	if (err < 0)
		return 0; /* not a valid name or alias: nothing can match it */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		err = steps[i](ctx, name, out);
		if (err < 0) {
			kd_lookup_free(out);
			KD_ERR(kd_ctx_log(ctx), "looking up '%s': %s", given, strerror(-err));
			return err;
		}
		if (out->n > 0)
			break;
	}
	return 0;
}

char *kd_module_options(struct kd_ctx *ctx, uint32_t mod, const char *alias)
{
	const struct kd_config *c = &ctx->config;
	const char *name = ctx->db.mods[mod].name;
	struct kd_str s = { 0 };

	for (size_t i = 0; i < c->n_options; i++) {
		const struct kd_conf_option *o = &c->options[i];

		if (strcmp(o->modname, name) != 0 &&
		    (alias == NULL || strcmp(o->modname, alias) != 0))
			continue;
		if (o->options[0] == '\0')
			continue;
		if (s.len > 0)
			kd_str_add(&s, " ", 1);
		kd_str_addz(&s, o->options);
	}
	return s.s ? s.s : kd_xstrdup("");
}

bool kd_module_blacklisted(struct kd_ctx *ctx, uint32_t mod)
{
	const struct kd_config *c = &ctx->config;

	for (size_t i = 0; i < c->n_blacklist; i++)
		if (strcmp(c->blacklist[i], ctx->db.mods[mod].name) == 0)
			return true;
	return false;
}

static const char *install_command(struct kd_ctx *ctx, struct kd_inst *in)
{
	const struct kd_config *c = &ctx->config;

	if (!in->install_set) {
		in->install_set = true;
		for (size_t i = 0; i < c->n_install; i++) {
			if (fnmatch(c->install[i].modname, ctx->db.mods[in->mod].name, 0) == 0) {
				in->install_cmd = c->install[i].command;
				break;
			}
		}
	}
	return in->install_cmd;
}

/* The probe list under construction. */
struct probe {
	struct kd_inst **list;
	size_t n;
};

static int probe_push(struct probe *p, struct kd_inst *in)
{
	void *q = realloc(p->list, (p->n + 1) * sizeof(*p->list));

	if (q == NULL)
		return -ENOMEM;
	p->list = q;
	p->list[p->n++] = in;
	return 0;
}

static int probe_module(struct kd_ctx *ctx, struct kd_inst *in, bool required,
			struct probe *p);

static int softdep_lookup(struct kd_ctx *ctx, char **names, size_t n, struct kd_lookup *out)
{
	out->insts = NULL;
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct kd_lookup one;
		int err = kd_lookup(ctx, names[i], &one);

		if (err < 0)
			continue;
		for (size_t j = 0; j < one.n && err == 0; j++)
			err = list_add(out, one.insts[j]);
		kd_lookup_free(&one);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The module with its softdeps: pre modules, itself, post modules. */
static int probe_with_softdeps(struct kd_ctx *ctx, struct kd_inst *in, struct probe *p)
{
	const struct kd_config *c = &ctx->config;
	struct kd_lookup pre = { 0 }, post = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; i < c->n_softdeps; i++) {
		const struct kd_conf_softdep *d = &c->softdeps[i];

		if (fnmatch(d->modname, ctx->db.mods[in->mod].name, 0) != 0)
			continue;
		err = softdep_lookup(ctx, d->pre, d->n_pre, &pre);
		if (err == 0)
			err = softdep_lookup(ctx, d->post, d->n_post, &post);
		break; /* the first matching softdep line only, as kmod */
	}
	for (i = 0; i < pre.n && err == 0; i++)
		err = probe_module(ctx, pre.insts[i], false, p);
	if (err == 0)
		err = probe_push(p, in);
	in->ignorecmd = pre.n > 0 || post.n > 0;
	for (i = 0; i < post.n && err == 0; i++)
		err = probe_module(ctx, post.insts[i], false, p);
	kd_lookup_free(&pre);
	kd_lookup_free(&post);
	return err;
}

static int probe_module(struct kd_ctx *ctx, struct kd_inst *in, bool required,
			struct probe *p)
{
	const struct kd_module *m;
	struct kd_inst **deps = NULL;
	size_t n = 0, i;
	int err = 0;

	if (in->visited)
		return 0;
	in->visited = true;
	m = &ctx->db.mods[in->mod];
	if (m->in_dep && m->n_deps > 0) {
		deps = calloc(m->n_deps, sizeof(*deps));
		if (deps == NULL)
			return -ENOMEM;
		/* modules.dep lists the deepest dependency last: load it first */
		for (i = 0; i < m->n_deps; i++) {
			deps[i] = inst_get(ctx, ctx->db.mods[in->mod].deps[m->n_deps - 1 - i], NULL);
			if (deps[i] == NULL) {
				free(deps);
				return -ENOMEM;
			}
		}
		n = m->n_deps;
	}
	if (required) {
		in->required = true;
		for (i = 0; i < n; i++)
			deps[i]->required = true;
	}
	for (i = 0; i < n && err == 0; i++)
		err = probe_with_softdeps(ctx, deps[i], p);
	if (err == 0)
		err = probe_with_softdeps(ctx, in, p);
	free(deps);
	return err;
}

static char *options_concat(const char *a, const char *b)
{
	struct kd_str s = { 0 };

	if ((a == NULL || !*a) && (b == NULL || !*b))
		return kd_xstrdup("");
	/* kmod joins with a space whenever the first part exists */
	if (a && *a) {
		kd_str_addz(&s, a);
		kd_str_add(&s, " ", 1);
	}
	if (b && *b)
		kd_str_addz(&s, b);
	return s.s ? s.s : kd_xstrdup("");
}

int kd_probe_steps(struct kd_ctx *ctx, struct kd_inst *inst, const char *extra_options,
		   struct kd_step **steps, size_t *n)
{
	struct probe p = { 0 };
	struct kd_step *out;
	size_t i, k = 0;
	int err;

	*steps = NULL;
	*n = 0;
	if (inst->alias != NULL && kd_module_blacklisted(ctx, inst->mod))
		return 1;
	for (i = 0; i < ctx->insts.n; i++) {
		ctx->insts.items[i]->visited = false;
		ctx->insts.items[i]->required = false;
	}
	err = probe_module(ctx, inst, true, &p);
	if (err < 0)
		goto fail;
	out = calloc(p.n ? p.n : 1, sizeof(*out));
	if (out == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < p.n; i++) {
		struct kd_inst *m = p.list[i];
		const struct kd_module *mod = &ctx->db.mods[m->mod];
		const char *cmd = install_command(ctx, m);
		char *opts = kd_module_options(ctx, m->mod, m->alias);
		struct kd_step *s = &out[k];

		s->mod = m->mod;
		s->required = m->required;
		s->options = options_concat(opts, m == inst ? extra_options : NULL);
		free(opts);
		if (cmd != NULL && !m->ignorecmd) {
			s->kind = KD_STEP_INSTALL;
			s->install_cmd = cmd;
		} else if (mod->in_dep && mod->path) {
			s->kind = KD_STEP_INSMOD;
		} else if (mod->builtin || m->builtin) {
			s->kind = KD_STEP_BUILTIN;
		} else {
			free(s->options); /* an alias to nothing: modprobe prints nothing */
			continue;
		}
		k++;
	}
	*steps = out;
	*n = k;
	free(p.list);
	return 0;
fail:
	free(p.list);
	KD_ERR(kd_ctx_log(ctx), "module '%s': cannot compute its load order: %s",
	       ctx->db.mods[inst->mod].name, strerror(-err));
	return err;
}

void kd_steps_free(struct kd_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(steps[i].options);
	free(steps);
}
