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

static struct kd_inst *inst_at(struct kd_ctx *ctx, size_t i)
{
	return *(struct kd_inst **)kd_olist_at(&ctx->insts, i);
}

static struct kd_inst *inst_get(struct kd_ctx *ctx, uint32_t mod, const char *alias)
{
	char *key = kd_xasprintf("%s\\%s", kd_db_mod(&ctx->db, mod)->name, alias ? alias : "");
	struct kd_inst **slot;
	bool added;

	slot = kd_olist_add(&ctx->insts, key, &added);
	free(key);
	if (added) {
		*slot = kd_xcalloc(1, sizeof(**slot));
		(*slot)->mod = mod;
		(*slot)->alias = alias ? kd_xstrdup(alias) : NULL;
	}
	return *slot;
}

void kd_resolve_free(struct kd_ctx *ctx)
{
	for (size_t i = 0; i < ctx->insts.n; i++) {
		free(inst_at(ctx, i)->alias);
		free(inst_at(ctx, i));
	}
	kd_olist_free(&ctx->insts);
}

static void list_add(struct kd_lookup *l, struct kd_inst *in)
{
	KD_GROW(l->insts, l->n, l->cap);
	l->insts[l->n++] = in;
}

void kd_lookup_free(struct kd_lookup *l)
{
	free(l->insts);
	*l = (struct kd_lookup){ 0 };
}

static uint32_t module_by_name(struct kd_ctx *ctx, const char *name)
{
	char norm[NAME_MAX_LEN];

	kd_modname_normalize(name, norm, sizeof(norm));
	return kd_module_get(ctx, norm);
}

static void lookup_config(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	const struct kd_config *c = &ctx->config;

	for (size_t i = 0; i < c->n_aliases; i++) {
		if (fnmatch(c->aliases[i].pattern, name, 0) != 0)
			continue;
		/* the module name is taken as written, like kmod does */
		list_add(out, inst_get(ctx, kd_module_get(ctx, c->aliases[i].modname),
				       c->aliases[i].pattern));
	}
}

static void lookup_moddep(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	int mod;

	if (strchr(name, ':'))
		return;
	mod = kd_module_find(ctx, name);
	if (mod < 0 || !kd_db_mod(&ctx->db, (uint32_t)mod)->in_dep)
		return;
	list_add(out, inst_get(ctx, (uint32_t)mod, NULL));
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
static void lookup_table(struct kd_ctx *ctx, struct kd_alias_index *ix,
			 const struct kd_alias *table, size_t n, const char *name, bool builtin,
			 struct kd_lookup *out)
{
	struct match *m;
	uint32_t *pos;
	size_t nm, i;

	kd_alias_index_find(ix, table, n, name, &pos, &nm);
	if (nm == 0)
		return; /* pos is NULL */
	m = kd_xcalloc(nm, sizeof(*m));
	for (i = 0; i < nm; i++) {
		m[i].mod = table[pos[i]].module;
		m[i].rank = builtin ? 0 : kd_db_mod(&ctx->db, m[i].mod)->alias_rank;
		m[i].seq = pos[i];
	}
	free(pos);
	if (nm > 1)
		qsort(m, nm, sizeof(*m), match_cmp);
	for (i = 0; i < nm; i++) {
		struct kd_inst *in = inst_get(ctx, m[i].mod, name);

		list_add(out, in);
		if (builtin)
			in->builtin = true;
	}
	free(m);
}

static void lookup_symbols(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	if (strncmp(name, "symbol:", 7) != 0)
		return;
	lookup_table(ctx, &ctx->db.symbols_ix, ctx->db.symbols, ctx->db.n_symbols, name, false,
		     out);
}

/* A module named by an install (else remove) command, first match only. */
static void lookup_commands(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	const struct kd_config *c = &ctx->config;
	struct kd_inst *in;
	size_t i;

	for (i = 0; i < c->n_install; i++) {
		if (strcmp(c->install[i].modname, name) != 0)
			continue;
		in = inst_get(ctx, module_by_name(ctx, name), NULL);
		in->install_cmd = c->install[i].command;
		in->install_set = true;
		list_add(out, in);
		return;
	}
	for (i = 0; i < c->n_remove; i++) {
		if (strcmp(c->remove[i].modname, name) == 0) {
			list_add(out, inst_get(ctx, module_by_name(ctx, name), NULL));
			return;
		}
	}
}

static void lookup_aliases(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	lookup_table(ctx, &ctx->db.aliases_ix, ctx->db.aliases, ctx->db.n_aliases, name, false,
		     out);
}

static void lookup_builtin(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	int mod = kd_module_find(ctx, name);
	struct kd_inst *in;

	if (mod < 0 || !kd_db_mod(&ctx->db, (uint32_t)mod)->builtin)
		return;
	in = inst_get(ctx, (uint32_t)mod, NULL);
	in->builtin = true;
	list_add(out, in);
}

static void lookup_builtin_alias(struct kd_ctx *ctx, const char *name, struct kd_lookup *out)
{
	lookup_table(ctx, &ctx->db.builtin_aliases_ix, ctx->db.builtin_aliases,
		     ctx->db.n_builtin_aliases, name, true, out);
}

typedef void (*lookup_fn)(struct kd_ctx *ctx, const char *name, struct kd_lookup *out);

int kd_lookup(struct kd_ctx *ctx, const char *given, struct kd_lookup *out)
{
	static const lookup_fn steps[] = {
		lookup_config, lookup_moddep, lookup_symbols, lookup_commands,
		lookup_aliases, lookup_builtin, lookup_builtin_alias,
	};
	char name[4096];

	*out = (struct kd_lookup){ 0 };
	if (kd_alias_normalize(given, name, sizeof(name)) < 0)
		return 0; /* not a valid name or alias: nothing can match it */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && out->n == 0; i++)
		steps[i](ctx, name, out);
	return 0;
}

char *kd_module_options(struct kd_ctx *ctx, uint32_t mod, const char *alias)
{
	const struct kd_config *c = &ctx->config;
	const char *name = kd_db_mod(&ctx->db, mod)->name;
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
	return kd_str_take(&s);
}

bool kd_module_blacklisted(struct kd_ctx *ctx, uint32_t mod)
{
	const struct kd_config *c = &ctx->config;

	for (size_t i = 0; i < c->n_blacklist; i++)
		if (strcmp(c->blacklist[i], kd_db_mod(&ctx->db, mod)->name) == 0)
			return true;
	return false;
}

static const char *install_command(struct kd_ctx *ctx, struct kd_inst *in)
{
	const struct kd_config *c = &ctx->config;

	if (!in->install_set) {
		in->install_set = true;
		for (size_t i = 0; i < c->n_install; i++) {
			if (fnmatch(c->install[i].modname, kd_db_mod(&ctx->db, in->mod)->name, 0) == 0) {
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
	size_t n, cap;
};

static void probe_push(struct probe *p, struct kd_inst *in)
{
	KD_GROW(p->list, p->n, p->cap);
	p->list[p->n++] = in;
}

static void probe_module(struct kd_ctx *ctx, struct kd_inst *in, bool required,
			 struct probe *p);

static void softdep_lookup(struct kd_ctx *ctx, char **names, size_t n, struct kd_lookup *out)
{
	for (size_t i = 0; i < n; i++) {
		struct kd_lookup one;

		kd_lookup(ctx, names[i], &one);
		for (size_t j = 0; j < one.n; j++)
			list_add(out, one.insts[j]);
		kd_lookup_free(&one);
	}
}

/* The module with its softdeps: pre modules, itself, post modules. */
static void probe_with_softdeps(struct kd_ctx *ctx, struct kd_inst *in, struct probe *p)
{
	const struct kd_config *c = &ctx->config;
	struct kd_lookup pre = { 0 }, post = { 0 };
	size_t i;

	for (i = 0; i < c->n_softdeps; i++) {
		const struct kd_conf_softdep *d = &c->softdeps[i];

		if (fnmatch(d->modname, kd_db_mod(&ctx->db, in->mod)->name, 0) != 0)
			continue;
		softdep_lookup(ctx, d->pre, d->n_pre, &pre);
		softdep_lookup(ctx, d->post, d->n_post, &post);
		break; /* the first matching softdep line only, as kmod */
	}
	for (i = 0; i < pre.n; i++)
		probe_module(ctx, pre.insts[i], false, p);
	probe_push(p, in);
	in->ignorecmd = pre.n > 0 || post.n > 0;
	for (i = 0; i < post.n; i++)
		probe_module(ctx, post.insts[i], false, p);
	kd_lookup_free(&pre);
	kd_lookup_free(&post);
}

static void probe_module(struct kd_ctx *ctx, struct kd_inst *in, bool required,
			 struct probe *p)
{
	const struct kd_module *m;
	struct kd_inst **deps = NULL;
	size_t n = 0, i;

	if (in->visited)
		return;
	in->visited = true;
	m = kd_db_mod(&ctx->db, in->mod);
	if (m->in_dep && m->n_deps > 0) {
		n = m->n_deps;
		deps = kd_xcalloc(n, sizeof(*deps));
		/* modules.dep lists the deepest dependency last: load it first */
		for (i = 0; i < n; i++)
			deps[i] = inst_get(ctx, m->deps[n - 1 - i], NULL);
	}
	if (required) {
		in->required = true;
		for (i = 0; i < n; i++)
			deps[i]->required = true;
	}
	/* softdeps may add modules (and move m): only deps[] is used below */
	for (i = 0; i < n; i++)
		probe_with_softdeps(ctx, deps[i], p);
	probe_with_softdeps(ctx, in, p);
	free(deps);
}

static char *options_concat(const char *a, const char *b)
{
	struct kd_str s = { 0 };

	/* kmod joins with a space whenever the first part exists */
	if (a && *a) {
		kd_str_addz(&s, a);
		kd_str_add(&s, " ", 1);
	}
	if (b && *b)
		kd_str_addz(&s, b);
	return kd_str_take(&s);
}

int kd_probe_steps(struct kd_ctx *ctx, struct kd_inst *inst, const char *extra_options,
		   struct kd_step **steps, size_t *n)
{
	struct probe p = { 0 };
	struct kd_step *out;
	size_t i, k = 0;

	*steps = NULL;
	*n = 0;
	if (inst->alias != NULL && kd_module_blacklisted(ctx, inst->mod))
		return 1;
	for (i = 0; i < ctx->insts.n; i++) {
		inst_at(ctx, i)->visited = false;
		inst_at(ctx, i)->required = false;
	}
	probe_module(ctx, inst, true, &p);
	out = kd_xcalloc(p.n, sizeof(*out));
	for (i = 0; i < p.n; i++) {
		struct kd_inst *m = p.list[i];
		const struct kd_module *mod = kd_db_mod(&ctx->db, m->mod);
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
}

void kd_steps_free(struct kd_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(steps[i].options);
	free(steps);
}
