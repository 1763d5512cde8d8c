// SPDX-License-Identifier: MIT
/* Logging through the context: one sink, one priority threshold. */
#include <stdio.h>
#include <stdlib.h>

#include "builder.h"
#include "ctx.h"

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

void kd_set_log(struct kd_ctx *ctx, kd_log_fn fn, void *data, int max_prio)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
	ctx->log_prio = max_prio;
}

void kd_log(struct kd_ctx *ctx, int prio, const char *file, int line, const char *fn,
	    const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int n;

	if (ctx == NULL) {
		va_start(ap, fmt);
		fputs("kindling: ", stderr);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		return;
	}
	if (prio > ctx->log_prio || ctx->log_fn == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
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
	ctx->log_fn(ctx->log_data, prio, file, line, fn, msg);
}
