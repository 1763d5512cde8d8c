/* SPDX-License-Identifier: MIT */
/*
 * kmod's two rules for names (libkmod-util.c: modname_normalize and
 * alias_normalize), once for the builder and the init: the image must
 * name a module the way the boot looks it up.  Header only, C11, no
 * allocation, no locale: the same text builds into the glibc builder and
 * the static musl init.  Unlike kmod's, which assume a PATH_MAX buffer,
 * both take the output's size and never write past it.
 */
#ifndef KINDLING_COMMON_MODNAME_H
#define KINDLING_COMMON_MODNAME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * A module's name as the kernel keeps it: '-' becomes '_' and the name
 * ends at the first '.' ("snd-hda-intel.ko.xz" is "snd_hda_intel").
 * out gets at most outsz - 1 bytes and a NUL (nothing when outsz is 0);
 * in and out may be the same buffer.  Returns the whole name's length,
 * as snprintf does: outsz or more means out was cut.
 */
static inline size_t kc_modname_normalize(const char *in, char *out, size_t outsz)
{
	size_t len = 0, n;

	while (in[len] != '\0' && in[len] != '.')
		len++;
	if (outsz == 0)
		return len;
	n = len < outsz ? len : outsz - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[n] = '\0';
	return len;
}

/*
 * An alias, or a name as modprobe takes one (a modalias, a modprobe.d
 * pattern, "fs-ext4"): '-' becomes '_' except inside a [...] class,
 * whose ranges ("[0-9]") must stay ranges for fnmatch.  0; -EINVAL for a
 * ']' outside a class or a class that never closes (kmod refuses both);
 * -ENAMETOOLONG when it does not fit in outsz bytes with its NUL; the
 * first of these met, left to right.  in and out may be the same buffer.
 */
static inline int kc_alias_normalize(const char *in, char *out, size_t outsz)
{
	bool class = false;
	size_t i;

	/* most aliases need no change: copy them at memmove's speed */
	if (strpbrk(in, "-[]") == NULL) {
		i = strlen(in);
		if (i >= outsz)
			return -ENAMETOOLONG;
		memmove(out, in, i + 1);
		return 0;
	}
	for (i = 0; in[i] != '\0'; i++) {
		char c = in[i];

		if (i + 1 >= outsz)
			return -ENAMETOOLONG;
		if (class)
			class = c != ']';
		else if (c == '[')
			class = true;
		else if (c == ']')
			return -EINVAL;
		else if (c == '-')
			c = '_';
		out[i] = c;
	}
	if (class)
		return -EINVAL;
	out[i] = '\0';
	return 0;
}

#endif
