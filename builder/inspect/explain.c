// SPDX-License-Identifier: MIT
/*
 * Why a module is in a built image (kindling explain), from the image
 * alone: the plan's per-module reason (plan.c words a module pulled in by
 * another one "dependency of X", "soft dependency of X" or "weak dependency
 * of X", naming a module that is in the plan too, with a reason of its own;
 * following those back ends at a first-hand reason: a set, --add, a device
 * or a root-chain step), the modules whose before/after lists hold it, and
 * for a module that is not there, the host-only detection report the image
 * carries (KD_DETECT_TXT: "skip WHAT: WHY" lines).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "common/plan.h"

static int find_module(const struct kp_plan *p, const char *name)
{
	for (uint32_t i = 0; i < p->hdr->n_modules; i++)
		if (strcmp(kp_str(p, p->modules[i].name), name) == 0)
			return (int)i;
	return -1;
}

static bool is_builtin(const struct kp_plan *p, const char *name)
{
	for (uint32_t i = 0; i < p->hdr->n_builtins; i++)
		if (strcmp(kp_str(p, p->builtins[i]), name) == 0)
			return true;
	return false;
}

/* The module a "dependency of X" style reason names, or -1. */
static int reason_parent(const struct kp_plan *p, uint32_t mod)
{
	static const char *const kinds[] = { "dependency of ", "soft dependency of ",
					     "weak dependency of " };
	const char *reason = kp_str(p, p->modules[mod].reason);

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t n = strlen(kinds[k]);

		if (strncmp(reason, kinds[k], n) == 0 && !strchr(reason + n, ' '))
			return find_module(p, reason + n);
	}
	return -1;
}

/* Each step names a module added before it, so the walk ends; the bound
 * guards against a plan written by something else. */
static void follow_reasons(const struct kp_plan *p, struct kd_why_module *m)
{
	uint32_t cur = m->index;
	int parent = reason_parent(p, cur);

	if (parent < 0)
		return; /* first-hand */
	for (uint32_t steps = 0;;) {
		KD_GROW(m->chain, m->n_chain, m->cap_chain);
		m->chain[m->n_chain++] = cur;
		parent = reason_parent(p, cur);
		if (parent < 0 || (uint32_t)parent == cur || ++steps > p->hdr->n_modules)
			break;
		cur = (uint32_t)parent;
	}
}

/* The modules whose before (post false) or after (post true) list holds mod. */
static void find_users(const struct kp_plan *p, uint32_t mod, bool post, uint32_t **v,
		       size_t *n, size_t *cap)
{
	for (uint32_t i = 0; i < p->hdr->n_modules; i++) {
		const struct kp_module *m = &p->modules[i];
		uint32_t first = post ? m->post_first : m->deps_first;
		uint32_t count = post ? m->n_post : m->n_deps;

		for (uint32_t j = 0; j < count; j++) {
			if (p->deps[first + j] != mod)
				continue;
			KD_GROW(*v, *n, *cap);
			(*v)[(*n)++] = i;
			break;
		}
	}
}

static void add_module(const struct kp_plan *p, struct kd_why *w, uint32_t mod,
		       const char *alias)
{
	struct kd_why_module *m;

	KD_GROW(w->mods, w->n_mods, w->cap_mods);
	m = &w->mods[w->n_mods++];
	memset(m, 0, sizeof(*m));
	m->index = mod;
	m->alias = alias;
	follow_reasons(p, m);
	find_users(p, mod, false, &m->needed_by, &m->n_needed_by, &m->cap_needed_by);
	find_users(p, mod, true, &m->post_of, &m->n_post_of, &m->cap_post_of);
}

static bool name_char(char ch)
{
	return ch == '_' || ch == '-' || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Is word (a module name) in line, as a whole word of name characters? */
static bool mentions(const char *line, size_t len, const char *word)
{
	const char *end = line + len;
	size_t n = strlen(word);

	for (const char *s = line; s + n <= end; s++) {
		const char *q = memmem(s, (size_t)(end - s), word, n);

		if (q == NULL)
			return false;
		if ((q == line || !name_char(q[-1])) && (q + n == end || !name_char(q[n])))
			return true;
		s = q;
	}
	return false;
}

/* The lines of the detection report that name the module. */
static void find_detect(const struct kd_imgfiles *f, struct kd_why *w)
{
	const struct kd_cpio_entry *e = kd_imgfiles_get(f, KD_DETECT_TXT);
	const char *p, *end;

	if (e == NULL)
		return;
	w->have_detect = true;
	p = (const char *)e->data;
	end = p + e->size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (mentions(p, len, w->name)) {
			KD_GROW(w->detect, w->n_detect, w->cap_detect);
			w->detect[w->n_detect++] = (struct kd_why_line){ p, len };
		}
		p += len + 1;
	}
}

void kd_explain(const struct kd_imgfiles *f, const char *arg, struct kd_why *w)
{
	const struct kp_plan *p = f->plan;
	char alias[256];
	int i;

	memset(w, 0, sizeof(*w));
	kd_modname_normalize(arg, w->name, sizeof(w->name));
	i = find_module(p, w->name);
	if (i >= 0) {
		add_module(p, w, (uint32_t)i, NULL);
		return;
	}
	if (is_builtin(p, w->name)) {
		w->builtin = true;
		return;
	}
	/* an alias of the image's modules, matched as the init matches them */
	if (kd_alias_normalize(arg, alias, sizeof(alias)) == 0) {
		for (uint32_t a = 0; a < p->hdr->n_aliases; a++) {
			const struct kp_alias *al = &p->aliases[a];

			if (fnmatch(kp_str(p, al->pattern), alias, 0) == 0)
				add_module(p, w, al->module, kp_str(p, al->pattern));
		}
	}
	if (w->n_mods == 0)
		find_detect(f, w);
}

void kd_why_free(struct kd_why *w)
{
	for (size_t i = 0; i < w->n_mods; i++) {
		free(w->mods[i].chain);
		free(w->mods[i].needed_by);
		free(w->mods[i].post_of);
	}
	free(w->mods);
	free(w->detect);
	memset(w, 0, sizeof(*w));
}
