// SPDX-License-Identifier: MIT
/*
 * A path resolved one component at a time, each symlink met replaced by its
 * target, in any namespace: the build root on disk (libdeps.c) or the
 * image's own entries (hooks.c).  The caller's lookup says what a name is;
 * the walk does the rest as the kernel does: "." and ".." taken literally,
 * an absolute target starting again at the top, at most 40 links.
 */
#include <errno.h>
#include <string.h>

#include "image/image.h"

#define MAX_LINKS 40 /* the kernel's limit on symlinks in one lookup */

int kd_walk(const char *path, bool follow_last, kd_walk_fn lookup, void *data,
	    struct kd_str *out)
{
	struct kd_str todo = { 0 }, target = { 0 };
	size_t pos = 0;
	int links = 0, err = 0;

	kd_str_addz(&todo, path);
	out->len = 0;
	kd_str_add(out, "", 0);
	while (pos < todo.len) {
		const char *c = todo.s + pos;
		size_t len = strcspn(c, "/"), dir = out->len;
		bool last;
		int r;

		pos += len + (c[len] == '/');
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = strrchr(out->s, '/'); /* out is "" or "/..." */

			out->len = slash ? (size_t)(slash - out->s) : 0;
			out->s[out->len] = '\0';
			continue;
		}
		kd_str_printf(out, "/%.*s", (int)len, c);
		last = pos >= todo.len;
		if (last && !follow_last)
			break;
		target.len = 0;
		r = lookup(data, out->s, last, &target);
		if (r < 0) {
			err = r;
			break;
		}
		if (r == 0)
			continue;
		if (++links > MAX_LINKS) {
			err = -ELOOP;
			break;
		}
		/* the rest of the path now starts with the link's target */
		out->len = target.len && target.s[0] == '/' ? 0 : dir;
		out->s[out->len] = '\0';
		kd_str_printf(&target, "/%s", todo.s + pos);
		todo.len = 0;
		kd_str_addz(&todo, target.s);
		pos = 0;
	}
	kd_str_free(&todo);
	kd_str_free(&target);
	return err;
}
