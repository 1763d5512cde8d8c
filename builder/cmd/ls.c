// SPDX-License-Identifier: MIT
/* kindling ls: the segments and entries of any initramfs, and its load plan. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/cmd.h"
#include "common/plan.h"
#include "inspect/inspect.h"

static void usage(FILE *f)
{
	fputs("usage: kindling ls [-l|--long] IMAGE\n"
	      "Lists every segment of an initramfs (offset, compression, stored and\n"
	      "decoded sizes), then each segment's entries: mode, size, path; --long\n"
	      "adds uid, gid and mtime (UTC).  If the image holds a kindling load plan\n"
	      "(" KP_PLAN_PATH "), prints it too.\n", f);
}

static void print_segments(const char *path, const struct kd_img *img)
{
	printf("%s: %zu segment%s, %zu bytes, %llu bytes of zero padding\n", path,
	       img->n_segs, img->n_segs == 1 ? "" : "s", img->file.size,
	       (unsigned long long)img->padding);
	printf("%-8s %-10s %-11s %10s %10s %8s\n", "segment", "offset", "compression",
	       "stored", "decoded", "entries");
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct kd_img_segment *s = &img->segs[i];

		printf("%-8zu %-10llu %-11s %10llu %10zu %8zu\n", i + 1,
		       (unsigned long long)s->offset, kd_img_segment_format(s),
		       (unsigned long long)s->in_size, s->size, s->n_entries);
	}
}

static void print_entry(const struct kd_cpio_entry *e, bool lng)
{
	char mode[11], size[24], when[32];
	struct tm tm;
	time_t t = e->mtime;

	kd_cpio_mode_string(e->mode, mode);
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
		snprintf(size, sizeof(size), "%u,%u", e->rdevmajor, e->rdevminor);
	else
		snprintf(size, sizeof(size), "%zu", e->size);
	if (lng) {
		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
							  "%Y-%m-%d %H:%M", &tm) == 0)
			snprintf(when, sizeof(when), "@%u", e->mtime);
		printf("%s %5u %5u %10s %s %s", mode, e->uid, e->gid, size, when, e->name);
	} else {
		printf("%s %10s %s", mode, size, e->name);
	}
	if (S_ISLNK(e->mode))
		printf(" -> %.*s", (int)e->size, (const char *)e->data);
	putchar('\n');
}

static int list_segment(const struct kd_log *log, const struct kd_img_segment *s, bool lng)
{
	struct kd_cpio_iter it;
	struct kd_cpio_entry e;
	int r;

	printf("\nsegment %zu (%s at offset %llu):\n", s->index + 1, kd_img_segment_format(s),
	       (unsigned long long)s->offset);
	kd_img_segment_entries(&it, log, s);
	while ((r = kd_cpio_next(&it, &e)) > 0)
		print_entry(&e, lng);
	return r;
}

static void print_module(const struct kp_plan *p, uint32_t i)
{
	const struct kp_module *m = &p->modules[i];

	printf("  %3u %s %s%s%s%s\n", i + 1, kp_str(p, m->name), kp_str(p, m->path),
	       m->flags & KP_MOD_LOAD ? " [load]" : "",
	       m->flags & KP_MOD_BLACKLISTED ? " [blacklisted]" : "",
	       m->flags & KP_MOD_FILESYSTEM ? " [filesystem]" : "");
	if (*kp_str(p, m->options))
		printf("        options: %s\n", kp_str(p, m->options));
	if (m->n_deps) {
		printf("        before: ");
		kd_plan_print_deps(stdout, p, m->deps_first, m->n_deps);
	}
	if (m->n_post) {
		printf("        after: ");
		kd_plan_print_deps(stdout, p, m->post_first, m->n_post);
	}
	if (*kp_str(p, m->reason))
		printf("        reason: %s\n", kp_str(p, m->reason));
}

static void print_plan(const struct kd_imgfiles *f)
{
	const struct kp_plan *p = f->plan;
	const struct kp_header *h = p->hdr;

	printf("\nload plan (%s, %zu bytes, version %u):\n", f->plan_entry->name,
	       f->plan_entry->size, h->version);
	printf("  kernel:       %s\n", kp_str(p, h->kver));
	printf("  default root: %s\n", *kp_str(p, h->default_root) ?
	       kp_str(p, h->default_root) : "(none)");
	printf("  cmdline:      %s\n", kp_str(p, h->cmdline));
	printf("  root timeout: %u s\n", h->root_timeout);
	printf("  host-only:    %s\n", h->flags & KP_PLAN_HOST_ONLY ? "yes" : "no");
	printf("  modules: %u, aliases: %u, built-ins: %u\n", h->n_modules, h->n_aliases,
	       h->n_builtins);
	printf("modules in load order:\n");
	for (uint32_t i = 0; i < h->n_modules; i++)
		print_module(p, i);
}

static int ls_image(const char *path, bool lng)
{
	const struct kd_log log = KD_LOG_STDERR(KD_LOG_WARN);
	struct kd_imgfiles f;
	int rc = 0;

	if (kd_imgfiles_open(&log, path, &f) < 0)
		return 1;
	print_segments(path, &f.img);
	for (size_t i = 0; i < f.img.n_segs && rc == 0; i++)
		if (list_segment(&log, &f.img.segs[i], lng) < 0)
			rc = 1;
	if (rc == 0 && f.plan_entry) {
		if (kd_imgfiles_plan(&log, &f) < 0)
			rc = 1;
		else
			print_plan(&f);
	}
	kd_imgfiles_free(&f);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("kindling: ls: writing the listing");
		rc = 1;
	}
	return rc;
}

int kd_cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool lng = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "lh", longopts, NULL)) != -1) {
		if (opt == 'l') {
			lng = true;
			continue;
		}
		usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : 2;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	return ls_image(argv[optind], lng);
}
