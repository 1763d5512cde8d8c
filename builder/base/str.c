// SPDX-License-Identifier: MIT
/* Buffers and growable strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void kd_buf_free(struct kd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = 0;
}

static void str_reserve(struct kd_str *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	char *p;

	if (need <= b->cap)
		return;
	if (need < b->cap * 2)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	p = kd_xrealloc(b->s, need);
	b->s = p;
	b->cap = need;
}

void kd_str_add(struct kd_str *b, const char *s, size_t n)
{
	str_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void kd_str_addz(struct kd_str *b, const char *s)
{
	kd_str_add(b, s, strlen(s));
}

void kd_str_vprintf(struct kd_str *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		fputs("kindling: bad format string\n", stderr);
		abort();
	}
	str_reserve(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void kd_str_printf(struct kd_str *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kd_str_vprintf(b, fmt, ap);
	va_end(ap);
}

char *kd_str_take(struct kd_str *b)
{
	char *s = b->s ? b->s : kd_xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void kd_str_free(struct kd_str *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

char *kd_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = kd_xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

void kd_strv_addn(struct kd_strv *l, const char *s, size_t n)
{
	KD_GROW(l->v, l->n + 1, l->cap); /* room for the NULL too */
	l->v[l->n++] = kd_xstrndup(s, n);
	l->v[l->n] = NULL;
}

void kd_strv_add(struct kd_strv *l, const char *s)
{
	kd_strv_addn(l, s, strlen(s));
}

void kd_strv_free(struct kd_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
