// SPDX-License-Identifier: MIT
/*
 * A built image's files and load plan, for the commands that read images
 * back (ls, explain, check).  Every entry of every segment is indexed by
 * its path; a path given twice keeps its last entry, as the kernel's
 * unpacker overwrites earlier ones.  The plan is copied out of the cpio
 * data, which is not aligned, before kp_plan_open() checks it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inspect/inspect.h"
#include "common/plan.h"

int kd_plan_load(const struct kd_log *log, const char *what, const void *data, size_t size,
		 struct kp_plan *p, void **copy)
{
	const char *why;
	void *c = malloc(size ? size : 1); /* kp_plan_open wants alignment */

	*copy = NULL;
	if (c == NULL) {
		KD_ERR(log, "%s: out of memory", what);
		return -ENOMEM;
	}
	memcpy(c, data, size);
	why = kp_plan_open(p, c, size);
	if (why) {
		KD_ERR(log, "%s: %s", what, why);
		free(c);
		return -EINVAL;
	}
	*copy = c;
	return 0;
}

static int add_entry(struct kd_imgfiles *f, const struct kd_cpio_entry *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		void *v = realloc(f->v, cap * sizeof(*f->v));

		if (v == NULL)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n] = *e;
	if (kd_map_put(&f->index, kd_cpio_path(e->name), (uint32_t)f->n) < 0)
		return -ENOMEM;
	f->n++;
	return 0;
}

int kd_imgfiles_open(const struct kd_log *log, const char *path, struct kd_imgfiles *f)
{
	const struct kd_cpio_entry *pe;
	int err;

	memset(f, 0, sizeof(*f));
	f->path = path;
	err = kd_img_open(log, path, 0, &f->img);
	if (err < 0)
		return err;
	for (size_t i = 0; i < f->img.n_segs && err == 0; i++) {
		const struct kd_img_segment *s = &f->img.segs[i];
		struct kd_cpio_iter it;
		struct kd_cpio_entry e;
		int r;

		kd_cpio_init(&it, log, s->label, s->data, s->size, s->codec == KD_CODEC_NONE);
		while ((r = kd_cpio_next(&it, &e)) > 0 && err == 0)
			err = add_entry(f, &e);
		if (err == -ENOMEM)
			KD_ERR(log, "%s: out of memory", path);
		else if (r < 0)
			err = r;
	}
	if (err < 0)
		goto fail;
	pe = kd_imgfiles_get(f, KP_PLAN_PATH);
	if (pe == NULL || !S_ISREG(pe->mode))
		return 0;
	f->plan = calloc(1, sizeof(*f->plan));
	if (f->plan == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	f->plan_entry = pe;
	err = kd_plan_load(log, path, pe->data, pe->size, f->plan, &f->plan_copy);
	if (err == 0)
		return 0;
fail:
	kd_imgfiles_free(f);
	return err;
}

int kd_imgfiles_need_plan(const struct kd_log *log, const struct kd_imgfiles *f)
{
	if (f->plan)
		return 0;
	KD_ERR(log, "%s: no load plan (%s): not an image made by kindling build", f->path,
	       KP_PLAN_PATH);
	return -ENOENT;
}

const struct kd_cpio_entry *kd_imgfiles_get(const struct kd_imgfiles *f, const char *path)
{
	uint32_t i;

	if (!kd_map_get(&f->index, kd_cpio_path(path), &i))
		return NULL;
	return &f->v[i];
}

void kd_imgfiles_free(struct kd_imgfiles *f)
{
	free(f->plan_copy);
	free(f->plan);
	free(f->v);
	kd_map_free(&f->index);
	kd_img_free(&f->img);
	memset(f, 0, sizeof(*f));
}
