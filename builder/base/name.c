// SPDX-License-Identifier: MIT
/* Module and alias names, normalised as kmod does. */
#include <errno.h>
#include <string.h>

#include "base/base.h"

void kd_modname_normalize(const char *in, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i + 1 < outsz && in[i] != '\0' && in[i] != '.'; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[i] = '\0';
}

void kd_modname_from_path(const char *path, char *out, size_t outsz)
{
	const char *base = strrchr(path, '/');

	kd_modname_normalize(base ? base + 1 : path, out, outsz);
}

int kd_alias_normalize(const char *in, char *out, size_t outsz)
{
	size_t i;

	/* most aliases need no change: copy them at memcpy speed */
	if (strpbrk(in, "-[]") == NULL) {
		i = strlen(in);
		if (i >= outsz)
			return -ENAMETOOLONG;
		memcpy(out, in, i + 1);
		return 0;
	}

	for (i = 0; i + 1 < outsz && in[i] != '\0'; i++) {
		switch (in[i]) {
		case '-':
			out[i] = '_';
			break;
		case ']':
			return -EINVAL;
		case '[':
			while (in[i] != ']' && in[i] != '\0' && i + 1 < outsz) {
				out[i] = in[i];
				i++;
			}
			if (in[i] != ']')
				return -EINVAL;
			out[i] = ']';
			break;
		default:
			out[i] = in[i];
		}
	}
	if (in[i] != '\0')
		return -ENAMETOOLONG;
	out[i] = '\0';
	return 0;
}

