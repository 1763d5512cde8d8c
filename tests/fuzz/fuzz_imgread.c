// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the initramfs reader: the bytes are an image; every
 * segment is found and decoded, and every entry of every archive walked
 * again the way `kindling ls` and `cat` walk them.  Nothing touches the
 * filesystem.  The decode limit is small so that bombs fail fast.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "common/plan.h"

#define FUZZ_MAX_DECODED (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned dep_len(const struct kp_plan *p, uint32_t k)
{
	return (unsigned)strlen(kp_str(p, p->modules[p->deps[k]].name));
}

/* The plan reader must hold against any bytes too: open it, read it all. */
static unsigned check_plan(const struct kd_cpio_entry *e)
{
	struct kp_plan p;
	unsigned sum = 0;
	void *copy = malloc(e->size ? e->size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, e->data, e->size);
	if (kp_plan_open(&p, copy, e->size) == NULL) {
		sum += (unsigned)strlen(kp_str(&p, p.hdr->kver));
		for (uint32_t i = 0; i < p.hdr->n_modules; i++) {
			const struct kp_module *m = &p.modules[i];

			sum += (unsigned)strlen(kp_str(&p, m->name)) + m->flags;
			for (uint32_t j = 0; j < m->n_deps; j++)
				sum += dep_len(&p, m->deps_first + j);
			for (uint32_t j = 0; j < m->n_post; j++)
				sum += dep_len(&p, m->post_first + j);
		}
		for (uint32_t i = 0; i < p.hdr->n_aliases; i++)
			sum += (unsigned)strlen(kp_str(&p, p.aliases[i].pattern));
		for (uint32_t i = 0; i < p.hdr->n_builtins; i++)
			sum += (unsigned)strlen(kp_str(&p, p.builtins[i]));
	}
	free(copy);
	return sum;
}

static void walk_entries(const struct kd_log *log, const struct kd_img_segment *seg)
{
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	volatile unsigned sink = 0;
	size_t n = 0;
	char mode[11];

	kd_img_segment_entries(&it, log, seg);
	while (kd_cpio_next(&it, &e) > 0) {
		kd_cpio_mode_string(e.mode, mode);
		/* read the name and the data's ends: ASan checks they are in bounds */
		sink += (unsigned)strlen(kd_cpio_path(e.name)) + (unsigned char)mode[0];
		if (e.size)
			sink += e.data[0] + e.data[e.size - 1];
		if (strcmp(kd_cpio_path(e.name), &KP_PLAN_PATH[1]) == 0)
			sink += check_plan(&e);
		n++;
	}
	/* the second walk must agree with the validation done while loading */
	if (it.failed || n != seg->n_entries)
		__builtin_trap();
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kd_log log = { .fn = NULL }; /* silent: errors are expected */
	struct kd_img img;

	if (kd_img_parse(&log, "fuzz", data, size, FUZZ_MAX_DECODED, &img) < 0)
		return 0;
	for (size_t i = 0; i < img.n_segs; i++)
		walk_entries(&log, &img.segs[i]);
	kd_img_free(&img);
	return 0;
}
