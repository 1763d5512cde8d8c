// SPDX-License-Identifier: MIT
/*
 * Messages: one write(2) per line, "<N>kindling: ..." to /dev/kmsg so the
 * kernel stamps, filters (quiet) and keeps them; without a kernel log, to
 * stderr (the console) with our own monotonic stamp.  One write per line
 * keeps lines whole when worker threads log at the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define LINE_MAX_LEN 1000 /* the kernel keeps at most about 1 KiB a record */

void ki_log_init(struct ki_log *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* Open path for the log; kmsg says it is the kernel's (lines get "<N>"). */
int ki_log_open(struct ki_log *l, const char *path, bool kmsg)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | (kmsg ? 0 : O_APPEND));

	if (fd < 0)
		return -errno;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	l->kmsg = kmsg;
	return 0;
}

void ki_log_close(struct ki_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->kmsg = false;
}

/*
 * The kernel lets a /dev/kmsg writer through ten lines per five seconds
 * unless printk_devkmsg is "on"; the diagnostics need more.  The old value
 * goes back before the real init starts.
 */
void ki_log_unlimit(struct ki_log *l, const char *sysctl)
{
	char old[sizeof(l->devkmsg)];
	ssize_t n = ki_read_file(sysctl, old, sizeof(old));
	int fd;

	if (n <= 0 || strncmp(old, "on", 2) == 0)
		return;
	old[strcspn(old, "\n")] = '\0';
	fd = open(sysctl, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "on\n", 3) == 3)
		memcpy(l->devkmsg, old, sizeof(old));
	close(fd);
}

void ki_log_restore(struct ki_log *l, const char *sysctl)
{
	int fd;

	if (l->devkmsg[0] == '\0')
		return;
	fd = open(sysctl, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		char line[sizeof(l->devkmsg) + 1];
		size_t n = strlen(l->devkmsg);

		/* the kernel wants exactly the word and a newline */
		memcpy(line, l->devkmsg, n);
		line[n++] = '\n';
		if (write(fd, line, n) < 0)
			KI_DBGF(l, "cannot restore %s: %s", sysctl, strerror(errno));
		close(fd);
	}
	l->devkmsg[0] = '\0';
}

/* Seconds on the monotonic clock, which is the kernel log's clock. */
double ki_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t prefix(const struct ki_log *l, int level, char *buf, size_t size)
{
	struct timespec ts;

	if (l->kmsg)
		return (size_t)snprintf(buf, size, "<%d>kindling: ", level);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (size_t)snprintf(buf, size, "[%5lld.%06ld] kindling: ", (long long)ts.tv_sec,
				ts.tv_nsec / 1000);
}

/*
 * Debug lines exist only with rd.debug, and then go out as info so they
 * reach the console.  quiet is the kernel's business for /dev/kmsg (it
 * lowers the console level); on a plain console we drop info ourselves.
 */
void ki_log(const struct ki_log *l, int level, const char *fmt, ...)
{
	char buf[LINE_MAX_LEN + 2];
	size_t n;
	va_list ap;
	int r;

	if (level >= KI_DEBUG) {
		if (!l->debug)
			return;
		level = KI_INFO;
	}
	if (l->quiet && !l->kmsg && level > KI_WARN)
		return;
	n = prefix(l, level, buf, LINE_MAX_LEN);
	va_start(ap, fmt);
	r = vsnprintf(buf + n, LINE_MAX_LEN - n, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += (size_t)r < LINE_MAX_LEN - n ? (size_t)r : LINE_MAX_LEN - n - 1;
	buf[n++] = '\n';
	if (write(l->fd >= 0 ? l->fd : STDERR_FILENO, buf, n) < 0 && l->fd >= 0 && l->kmsg)
		(void)!write(STDERR_FILENO, buf, n); /* the kernel log refused: console */
}
