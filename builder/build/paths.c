// SPDX-License-Identifier: MIT
/*
 * Where a build finds its sets, hooks and init: the caller's directories,
 * the root's /etc/kindling, the source tree when kindling runs from its
 * build directory, then what `make install` put in DATADIR and LIBEXECDIR.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"

/* NAME in the directory of the running binary or up to two levels above
 * (build/kindling finds build/init and ./modules-sets); NULL: not there. */
static char *near_binary(const char *name)
{
	char exe[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat sb;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = dirname(exe);
	for (int up = 0; up < 3; up++) {
		char *p = kd_path_join(dir, name);

		if (stat(p, &sb) == 0)
			return p;
		free(p);
		dir = dirname(dir);
	}
	return NULL;
}

void kd_search_path(enum kd_search what, const char *root, const char *const *dirs,
		    struct kd_strv *out)
{
	/* the source tree's directory is known by a file in it (sets: the
	 * default.list), else by its name */
	static const struct {
		const char *etc, *tree, *data;
	} where[] = {
		[KD_SEARCH_SETS] = { "modules-sets", "modules-sets/default.list",
				     KD_DATADIR "/modules-sets" },
		[KD_SEARCH_HOOKS] = { "hooks.d", "hooks/image", KD_DATADIR "/hooks" },
	};
	char *etc = kd_xasprintf("%s/etc/kindling/%s", root ? root : "", where[what].etc);
	char *tree = near_binary(where[what].tree);

	for (size_t i = 0; dirs && dirs[i]; i++)
		kd_strv_add(out, dirs[i]);
	kd_strv_add(out, etc);
	if (tree && what == KD_SEARCH_SETS)
		*strrchr(tree, '/') = '\0';
	if (tree)
		kd_strv_add(out, tree);
	kd_strv_add(out, where[what].data);
	free(etc);
	free(tree);
}

char *kd_default_init(void)
{
	const char *installed = KD_LIBEXECDIR "/init";

	if (access(installed, X_OK) == 0)
		return kd_xstrdup(installed);
	return near_binary("init");
}
