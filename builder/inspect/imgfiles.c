// SPDX-License-Identifier: MIT
/*
 * A built image's files and load plan, for the commands that read images
 * back (ls, cat, explain, check).  Every entry of every segment is indexed
 * by its path; a path given twice keeps its last entry, as the kernel's
 * unpacker overwrites earlier ones.  The plan is copied out of the cpio
 * data, which is not aligned, before kp_plan_open() checks it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inspect/inspect.h"
#include "common/plan.h"

static void add_entry(struct kd_imgfiles *f, const struct kd_cpio_entry *e, size_t archives)
{
	KD_GROW(f->v, f->n, f->cap);
	f->v[f->n] = *e;
	f->v[f->n].archive += archives; /* counted across the image */
	kd_map_put(&f->index, kd_cpio_path(e->name), (uint32_t)f->n);
	f->n++;
}

int kd_imgfiles_open(const struct kd_log *log, const char *path, struct kd_imgfiles *f)
{
	const struct kd_cpio_entry *pe;
	size_t archives = 0;
	int err;

	memset(f, 0, sizeof(*f));
	f->path = path;
	err = kd_img_open(log, path, 0, &f->img);
	if (err < 0)
		return err;
	for (size_t i = 0; i < f->img.n_segs; i++) {
		const struct kd_img_segment *s = &f->img.segs[i];
		struct kd_cpio_iter it;
		struct kd_cpio_entry e;
		int r;

		kd_img_segment_entries(&it, log, s);
		while ((r = kd_cpio_next(&it, &e)) > 0)
			add_entry(f, &e, archives);
		if (r < 0) {
			kd_imgfiles_free(f);
			return r;
		}
		archives += it.archives;
	}
	pe = kd_imgfiles_get(f, KP_PLAN_PATH);
	if (pe && S_ISREG(pe->mode))
		f->plan_entry = pe;
	return 0;
}

int kd_imgfiles_plan(const struct kd_log *log, struct kd_imgfiles *f)
{
	const struct kd_cpio_entry *e = f->plan_entry;
	const char *why;

	if (f->plan)
		return 0;
	if (e == NULL) {
		KD_ERR(log, "%s: no load plan (%s): not an image made by kindling build",
		       f->path, KP_PLAN_PATH);
		return -ENOENT;
	}
	f->plan_copy = kd_xmalloc(e->size); /* kp_plan_open wants alignment */
	memcpy(f->plan_copy, e->data, e->size);
	f->plan = kd_xcalloc(1, sizeof(*f->plan));
	why = kp_plan_open(f->plan, f->plan_copy, e->size);
	if (why == NULL)
		return 0;
	KD_ERR(log, "%s: %s: %s", f->path, e->name, why);
	free(f->plan);
	free(f->plan_copy);
	f->plan = NULL;
	f->plan_copy = NULL;
	return -EINVAL;
}

const struct kd_cpio_entry *kd_imgfiles_get(const struct kd_imgfiles *f, const char *path)
{
	uint32_t i;

	if (!kd_map_get(&f->index, kd_cpio_path(path), &i))
		return NULL;
	return &f->v[i];
}

const struct kd_cpio_entry *kd_imgfiles_contents(const struct kd_imgfiles *f,
						 const char *path)
{
	const struct kd_cpio_entry *e = kd_imgfiles_get(f, path), *data = e;

	if (e == NULL || !S_ISREG(e->mode) || e->nlink < 2 || e->size != 0)
		return e;
	/* like the kernel, hard links join only within one archive */
	for (size_t i = 0; i < f->n; i++) {
		const struct kd_cpio_entry *o = &f->v[i];

		if (o->archive == e->archive && o->ino == e->ino && o->devmajor == e->devmajor &&
		    o->devminor == e->devminor && S_ISREG(o->mode) && o->size > 0)
			data = o;
	}
	return data;
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

void kd_plan_print_deps(FILE *f, const struct kp_plan *p, uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", kp_str(p, p->modules[p->deps[first + i]].name));
	fputc('\n', f);
}
