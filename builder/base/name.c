// SPDX-License-Identifier: MIT
/* Module and alias names: kmod's rules, from common/modname.h (the init uses
 * the same header, so builder and init cannot disagree on a name). */
#include <string.h>

#include "base/base.h"
#include "common/modname.h"

void kd_modname_normalize(const char *in, char *out, size_t outsz)
{
	kc_modname_normalize(in, out, outsz);
}

void kd_modname_from_path(const char *path, char *out, size_t outsz)
{
	const char *base = strrchr(path, '/');

	kc_modname_normalize(base ? base + 1 : path, out, outsz);
}

int kd_alias_normalize(const char *in, char *out, size_t outsz)
{
	return kc_alias_normalize(in, out, outsz);
}
