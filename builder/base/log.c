// SPDX-License-Identifier: MIT
/* The logger: one sink, one priority threshold. */
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"

void kd_log_stderr(void *data, int prio, const char *file, int line, const char *fn,
		   const char *msg)
{
	(void)data;
	(void)file;
	(void)line;
	(void)fn;
	fprintf(stderr, "kindling: %s%s", prio <= KD_LOG_ERR ? "error: " :
		prio == KD_LOG_WARN ? "warning: " : "", msg);
}

void kd_vlog(const struct kd_log *log, int prio, const char *file, int line, const char *fn,
	     const char *fmt, va_list ap)
{
	char msg[2048];
	int n;

	if (log == NULL) {
		fputs("kindling: ", stderr);
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (prio > log->prio || log->fn == NULL)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Every message is one line ending in '\n', even when cut short. */
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg) - 1) {
		msg[sizeof(msg) - 5] = '.';
		msg[sizeof(msg) - 4] = '.';
		msg[sizeof(msg) - 3] = '.';
		msg[sizeof(msg) - 2] = '\n';
	} else if (n == 0 || msg[n - 1] != '\n') {
		msg[n] = '\n';
		msg[n + 1] = '\0';
	}
	log->fn(log->data, prio, file, line, fn, msg);
}

void kd_log(const struct kd_log *log, int prio, const char *file, int line, const char *fn,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kd_vlog(log, prio, file, line, fn, fmt, ap);
	va_end(ap);
}
