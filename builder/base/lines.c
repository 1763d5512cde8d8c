// SPDX-License-Identifier: MIT
/* Lines of a configuration text, the words of a line, and "FILE line N: ...". */
#include <string.h>

#include "base/base.h"

void kd_lines_init(struct kd_lines *l, const char *file, const char *text, size_t len,
		   bool join)
{
	memset(l, 0, sizeof(*l));
	l->file = file;
	l->p = text;
	l->end = text + len;
	l->join = join;
}

/* Where the current physical line's plain run ends: its newline (or the end),
 * or with join a backslash. */
static const char *run_end(const struct kd_lines *l)
{
	const char *s = l->p, *nl = memchr(s, '\n', (size_t)(l->end - s));

	if (nl == NULL)
		nl = l->end;
	if (!l->join)
		return nl;
	while (s < nl && *s != '\\')
		s++;
	return s;
}

char *kd_lines_next(struct kd_lines *l)
{
	if (l->p >= l->end)
		return NULL;
	l->line.len = 0;
	kd_str_add(&l->line, "", 0);
	for (;;) {
		const char *stop = run_end(l);

		/* whole runs, not bytes: a distro's modules.alias is 1 MB */
		kd_str_add(&l->line, l->p, (size_t)(stop - l->p));
		l->p = stop;
		if (l->p == l->end || *l->p == '\n')
			break;
		/* a backslash (join): kmod's "\\\n" joins, "\\c" is c */
		if (++l->p == l->end)
			break; /* the text's last byte: dropped */
		if (*l->p == '\n')
			l->no++;
		else
			kd_str_add(&l->line, l->p, 1);
		l->p++;
	}
	if (l->p < l->end)
		l->p++; /* the newline */
	l->no++;
	return l->line.s;
}

void kd_lines_free(struct kd_lines *l)
{
	kd_str_free(&l->line);
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

char *kd_word(char **p)
{
	char *s = *p, *w;

	while (blank(*s) || *s == '\n')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s && !blank(*s) && *s != '\n')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

char *kd_trim(char *s)
{
	size_t n;

	while (blank(*s) || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (blank(s[n - 1]) || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

void kd_lines_log(const struct kd_lines *l, const struct kd_log *log, int prio,
		  const char *srcfile, int srcline, const char *fn, const char *fmt, ...)
{
	struct kd_str msg = { 0 };
	va_list ap;

	kd_str_printf(&msg, "%s line %u: ", l->file, l->no);
	va_start(ap, fmt);
	kd_str_vprintf(&msg, fmt, ap);
	va_end(ap);
	kd_log(log, prio, srcfile, srcline, fn, "%s", msg.s);
	kd_str_free(&msg);
}
