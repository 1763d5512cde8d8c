// SPDX-License-Identifier: MIT
/*
 * Allocation for a command-line tool: out of memory ends the process with a
 * message, as git and busybox do, so no caller carries an -ENOMEM path.  The
 * output being written is an unnamed temporary file (image/output.c) that
 * vanishes with the process, so nothing half-written is left behind.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

_Noreturn void kd_die_oom(size_t bytes)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "kindling: out of memory (allocating %zu bytes)\n",
			 bytes);

	/* no stdio buffers: they may need the memory we lack */
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		_exit(1);
	exit(1);
}

void *kd_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		kd_die_oom(size);
	return p;
}

void *kd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		kd_die_oom(n * size);
	return p;
}

void *kd_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (q == NULL)
		kd_die_oom(size);
	return q;
}

void *kd_xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		kd_die_oom(SIZE_MAX);
	return kd_xrealloc(p, n * size);
}

char *kd_xstrdup(const char *s)
{
	return kd_xstrndup(s, strlen(s));
}

char *kd_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = kd_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *kd_xasprintf(const char *fmt, ...)
{
	struct kd_str s = { 0 };
	va_list ap;

	va_start(ap, fmt);
	kd_str_vprintf(&s, fmt, ap);
	va_end(ap);
	return kd_str_take(&s);
}

size_t kd_grow_cap(size_t cap, size_t need)
{
	size_t c = cap < 8 ? 8 : cap;

	while (c < need) {
		if (c > SIZE_MAX / 2)
			kd_die_oom(SIZE_MAX);
		c *= 2;
	}
	return c;
}
