/* SPDX-License-Identifier: MIT */
/*
 * marker-init: the real root's /sbin/init in kindling's QEMU boot tests.
 *
 * It reports what the initramfs left behind, one fact per console line,
 * then powers the machine off:
 *
 *   KINDLING-MARKER argv0=/sbin/init
 *   KINDLING-MARKER KEY=VALUE        ... (see report() for the keys)
 *   KINDLING-MARKER done
 *
 * Before anything else it writes "KINDLING-MARKER start" to /dev/kmsg, so
 * the kernel stamps the moment the real init ran with the same clock as its
 * "Run /init as init process" line: tests/boot/lib.sh takes the initrd stage
 * from those two timestamps.
 *
 * Static, no malloc: built with musl-gcc -static -Os by tests/boot/lib.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define TAG "KINDLING-MARKER "
#define MAX_MODULES 1024
#define MODNAME_LEN 64
#define MAX_KMSG_LINES 400

static int out = 1; /* the console, once opened */

/* One console line per call, written with a single write() so it is not
 * torn by kernel messages printed at the same time. */
static void say(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	memcpy(line, TAG, sizeof(TAG) - 1);
	va_start(ap, fmt);
	n = vsnprintf(line + sizeof(TAG) - 1, sizeof(line) - sizeof(TAG) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += (int)sizeof(TAG) - 1;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(out, line, (size_t)n) < 0) {
		/* nothing better to do: the console is our only channel */
	}
}

/* Read a whole small file into buf (NUL-terminated, trailing newline
 * stripped); returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	return len;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Is PATH a mount point (on another device than its parent "/")? */
static int mounted(const char *path)
{
	struct stat root, st;

	if (stat("/", &root) < 0 || stat(path, &st) < 0)
		return 0;
	return st.st_dev != root.st_dev;
}

/* Mount what the initramfs did not hand over; remember what it did. */
static void setup_mounts(char *premounted, size_t size)
{
	int dev = exists("/dev/console") || exists("/dev/kmsg");
	int proc = exists("/proc/self");
	int sys = exists("/sys/kernel");
	int run = mounted("/run");

	snprintf(premounted, size, "%s%s%s%s", dev ? "dev," : "", proc ? "proc," : "",
		 sys ? "sys," : "", run ? "run," : "");
	if (premounted[0])
		premounted[strlen(premounted) - 1] = '\0';
	if (!dev)
		mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
	if (!proc)
		mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!sys)
		mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* First thing: let the kernel timestamp our start (see the header). */
static void stamp_kmsg(void)
{
	static const char msg[] = "<2>KINDLING-MARKER start\n";
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
		fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	}
	if (fd >= 0) {
		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* the console line still carries the report */
		}
		close(fd);
	}
}

static void report_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		say("boottime=%ld.%06ld", (long)ts.tv_sec, ts.tv_nsec / 1000);
}

/* The root mount: the last "/" entry of /proc/mounts (rootfs comes first). */
static void report_root(void)
{
	char line[1024], src[256] = "", type[64] = "", opts[512] = "";
	char path[128], uevent[512], *p;
	struct stat st;
	FILE *f = fopen("/proc/mounts", "re");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char s[256], m[256], t[64], o[512];

			if (sscanf(line, "%255s %255s %63s %511s", s, m, t, o) == 4 &&
			    strcmp(m, "/") == 0) {
				strcpy(src, s);
				strcpy(type, t);
				strcpy(opts, o);
			}
			line[strcspn(line, "\n")] = '\0';
			say("mount=%s", line);
		}
		fclose(f);
	}
	say("rootsrc=%s", src);
	say("rootfstype=%s", type);
	say("rootopts=%s", opts);

	/* The block device behind "/" (btrfs reports an anonymous device). */
	if (stat("/", &st) == 0) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(st.st_dev),
			 minor(st.st_dev));
		if (read_file(path, uevent, sizeof(uevent)) > 0 &&
		    (p = strstr(uevent, "DEVNAME=")) != NULL) {
			p += 8;
			p[strcspn(p, "\n")] = '\0';
			say("rootdev=%s", p);
		} else {
			say("rootdev=%u:%u", major(st.st_dev), minor(st.st_dev));
		}
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void report_modules(void)
{
	static char names[MAX_MODULES][MODNAME_LEN];
	static char list[MAX_MODULES * MODNAME_LEN];
	char line[512];
	size_t n = 0, len = 0, i;
	FILE *f = fopen("/proc/modules", "re");

	if (!f) {
		say("modules=<no /proc/modules>");
		return;
	}
	while (n < MAX_MODULES && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \n")] = '\0';
		snprintf(names[n++], MODNAME_LEN, "%.*s", MODNAME_LEN - 1, line);
	}
	fclose(f);
	qsort(names, n, MODNAME_LEN, cmp_names);
	list[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? "," : "",
					names[i]);
	say("modules=%s", list);
}

/* For every MOD.PARAM=VALUE on the command line, what /sys/module shows. */
static void report_params(const char *cmdline)
{
	char tok[512], path[600], val[512], *dot, *eq, *c;
	const char *p = cmdline;
	size_t n;

	while (*p) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		p += n;
		eq = strchr(tok, '=');
		dot = strchr(tok, '.');
		if (!eq || !dot || dot > eq || strchr(tok, '/') || tok[0] == '"')
			continue;
		*eq = '\0';
		*dot = '\0';
		for (c = tok; *c; c++) /* module names are normalised with '_' */
			if (*c == '-')
				*c = '_';
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", tok, dot + 1);
		if (read_file(path, val, sizeof(val)) >= 0)
			say("param.%s.%s=%s", tok, dot + 1, val);
		else
			say("param.%s.%s=<absent>", tok, dot + 1);
	}
}

/* Files of an initramfs that must not show through in the real root. */
static void report_leftovers(void)
{
	static const char *const paths[] = {
		"/init", "/etc/kindling", "/etc/kindling/plan", "/usr/lib/modules",
		"/lib/modules", "/conf/initramfs.conf", "/scripts",
	};
	char list[512] = "";
	size_t i, len = 0;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (exists(paths[i]))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						len ? "," : "", paths[i]);
	say("leftovers=%s", list);
}

/* The kernel log's kindling lines (and the initramfs' other messages that
 * name it), read non-blocking from /dev/kmsg. */
static void report_kmsg(void)
{
	char rec[2048], *msg, *ts, *nl;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int shown = 0;
	ssize_t n;

	if (fd < 0) {
		say("kmsg=<cannot open /dev/kmsg: %s>", strerror(errno));
		return;
	}
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records overwritten: go on with the next */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		*msg++ = '\0';
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (!strstr(msg, "kindling") || strstr(msg, "KINDLING-MARKER"))
			continue;
		ts = strchr(rec, ',');
		ts = ts ? strchr(ts + 1, ',') : NULL;
		if (shown++ < MAX_KMSG_LINES) {
			unsigned long long us = ts ? strtoull(ts + 1, NULL, 10) : 0;

			say("kmsg=[%llu.%06llu] %s", us / 1000000, us % 1000000, msg);
		}
	}
	close(fd);
	if (shown > MAX_KMSG_LINES)
		say("kmsg=<%d more lines not shown>", shown - MAX_KMSG_LINES);
}

int main(int argc, char **argv)
{
	char cmdline[4096] = "", premounted[64];

	(void)argc;
	stamp_kmsg();
	setup_mounts(premounted, sizeof(premounted));
	out = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (out < 0)
		out = 1;

	say("argv0=%s", argv[0]);
	say("pid=%d", (int)getpid());
	report_clock();
	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	say("cmdline=%s", cmdline);
	say("premounted=%s", premounted);
	report_root();
	report_modules();
	report_params(cmdline);
	report_leftovers();
	report_kmsg();
	say("done");

	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause(); /* PID 1 must not exit */
}
