// SPDX-License-Identifier: MIT
/*
 * The wants: what the image should hold before dependencies, names or
 * aliases, each once, in the order first wanted.  Flags (--add), sets
 * (sets.c), image hooks and host detection add to them; kd_plan_build
 * resolves them.  Its own file so that those who add need nothing else of
 * plan/ (and sets.c is not between hooks and the build).
 */
#include <stdlib.h>

#include "plan/plan.h"

void kd_wants_add(struct kd_wants *w, const char *name, const char *reason, unsigned flags)
{
	struct kd_want *it;
	bool added;

	if (w->list.elem == 0) /* zero-initialised: not set up yet */
		kd_olist_init(&w->list, sizeof(struct kd_want));
	it = kd_olist_add(&w->list, name, &added);
	/* the first reason stays; the flags add up */
	if (added) {
		it->name = kd_xstrdup(name);
		it->reason = kd_xstrdup(reason);
	}
	it->flags |= flags;
}

void kd_wants_free(struct kd_wants *w)
{
	for (size_t i = 0; i < w->list.n; i++) {
		struct kd_want *it = kd_olist_at(&w->list, i);

		free(it->name);
		free(it->reason);
	}
	kd_olist_free(&w->list);
}
