// SPDX-License-Identifier: MIT
/*
 * The root chain: which modules the target kernel needs to reach the root
 * filesystem (and the early mounts of fstab: /usr, x-initrd.mount).
 *
 * The root is --root-device, else the '/' entry of the target's fstab when
 * one is given (chroot builds), else the '/' of SYSROOT/proc/self/mountinfo
 * (falling back to SYSROOT/etc/fstab).  Its block device is found in
 * SYSROOT/sys/dev/block/MAJ:MIN or sys/class/block/NAME, then walked:
 *   - down through slaves/: device mapper (dm/uuid CRYPT-, LVM-, mpath-,
 *     and the live table from `dmsetup table`, in a sysroot the file
 *     SYSROOT/dmsetup-table holding that command's output), md (md/level),
 *     loop (loop/backing_file);
 *   - up from the disk through every parent with a modalias (disk,
 *     controller, bus), each looked up in the target kernel.
 * The filesystem type adds the fs-TYPE alias's module.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/extfs.h"
#include "detect/internal.h"

#define MAX_CHAIN 16  /* stacked block devices (dm on md on ...) */
#define MAX_FIELDS 32 /* of a mountinfo line: far more than it has */

struct mnt {
	char *spec, *dir, *type, *opts;
	unsigned major, minor; /* mountinfo only; 0:0 unknown */
};

struct mnts {
	struct mnt *v;
	size_t n, cap;
};

struct chain {
	struct kd_detector *r;
	struct mnts fstab, mountinfo;
	char *fstab_path;
	char *dmtable;   /* `dmsetup table` text, once read */
	bool dm_tried;
};

static void mnts_free(struct mnts *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].spec);
		free(m->v[i].dir);
		free(m->v[i].type);
		free(m->v[i].opts);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* fstab and mountinfo escape blanks as \040 (octal). */
static char *unescape(const char *s)
{
	char *out = kd_xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		/* each test fails at the NUL: nothing past the end is read */
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static void mnts_push(struct mnts *m, const char *spec, const char *dir, const char *type,
		      const char *opts, unsigned major, unsigned minor)
{
	struct mnt *e;

	KD_GROW(m->v, m->n, m->cap);
	e = &m->v[m->n++];
	e->spec = unescape(spec);
	e->dir = unescape(dir);
	e->type = unescape(type);
	e->opts = opts ? unescape(opts) : kd_xstrdup("");
	e->major = major;
	e->minor = minor;
}

/* The first max words of line, in place: how many. */
static size_t words(char *line, char **w, size_t max)
{
	size_t n = 0;

	while (n < max && (w[n] = kd_word(&line)) != NULL)
		n++;
	return n;
}

/* fstab(5): spec file vfstype mntops [freq [passno]]; '#' comments. */
static void parse_fstab(struct kd_ctx *ctx, const char *path, const struct kd_str *text,
			struct mnts *m)
{
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, path, text->s, text->len, false);
	while ((line = kd_lines_next(&l)) != NULL) {
		char *f[4] = { 0 };
		size_t nf = words(line, f, 4);

		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf < 3) {
			KD_LINE_WARN(&l, kd_ctx_log(ctx), "expected 'spec file type [options]'; ignored");
			continue;
		}
		mnts_push(m, f[0], f[1], f[2], f[3], 0, 0);
	}
	kd_lines_free(&l);
}

/* proc_pid_mountinfo(5): ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SOURCE SUPER */
static void parse_mountinfo(struct kd_ctx *ctx, const char *path, const struct kd_str *text,
			    struct mnts *m)
{
	struct kd_lines l;
	char *line;

	kd_lines_init(&l, path, text->s, text->len, false);
	while ((line = kd_lines_next(&l)) != NULL) {
		char *f[MAX_FIELDS];
		size_t nf = words(line, f, MAX_FIELDS), dash;
		unsigned major, minor;

		if (nf == 0)
			continue;
		for (dash = 6; dash < nf; dash++)
			if (strcmp(f[dash], "-") == 0)
				break;
		if (nf < 6 || dash + 2 >= nf || sscanf(f[2], "%u:%u", &major, &minor) != 2) {
			KD_LINE_WARN(&l, kd_ctx_log(ctx), "not a mountinfo line; ignored");
			continue;
		}
		/* source, mount point, type, options */
		mnts_push(m, f[dash + 2], f[4], f[dash + 1], f[5], major, minor);
	}
	kd_lines_free(&l);
}

/* Read a whole text file; /proc files have no size, so read to the end. */
static int read_text(struct kd_ctx *ctx, const char *path, struct kd_str *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	char buf[65536];
	ssize_t n;

	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			KD_ERR(kd_ctx_log(ctx), "%s: cannot open: %s", path, strerror(errno));
		return err;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			err = -errno;
			KD_ERR(kd_ctx_log(ctx), "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (memchr(buf, '\0', (size_t)n)) {
			KD_ERR(kd_ctx_log(ctx), "%s: not a text file (it holds a NUL byte)", path);
			err = -EINVAL;
			goto out;
		}
		kd_str_add(out, buf, (size_t)n);
	}
	kd_str_addz(out, ""); /* an empty file is "", not NULL */
out:
	close(fd);
	return err;
}

static int load_table(struct chain *c, const char *path, bool info, struct mnts *m)
{
	struct kd_str t = { 0 };
	int err = read_text(c->r->ctx, path, &t);

	if (err < 0)
		goto out;
	if (info)
		parse_mountinfo(c->r->ctx, path, &t, m);
	else
		parse_fstab(c->r->ctx, path, &t, m);
out:
	kd_str_free(&t);
	return err;
}

/*
 * Run a tool of the live system (found by PATH, no shell: specs come from
 * fstab and the command line), its standard output into out.  0 when it ran
 * and exited 0, else -1: not installed, or it failed.  Its standard error
 * goes to /dev/null: what a failure means is the caller's to say.
 */
static int run_tool(const char *const argv[], struct kd_str *out)
{
	char buf[4096];
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(pfd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		kd_str_add(out, buf, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- names of block devices ------------------------------------------- */

/* The basename of the target of SYSROOT+rel when it is a symlink. */
static bool link_name(struct kd_detector *r, const char *rel, char *name, size_t size)
{
	char *p = kd_detect_path(r, rel), target[PATH_MAX];
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	const char *base;

	free(p);
	if (n <= 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return false; /* no block device has such a name */
	memcpy(name, base, strlen(base) + 1);
	return true;
}

static bool block_exists(struct kd_detector *r, const char *name)
{
	char *p = kd_xasprintf("%s/sys/class/block/%s", r->sysroot, name);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

/* dm devices by their name (dm/name): /dev/mapper/NAME without udev links. */
static bool dm_by_name(struct kd_detector *r, const char *want, char *name, size_t size)
{
	char *dir = kd_detect_path(r, "/sys/block");
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d)) != NULL) {
		char *p, buf[256];

		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		p = kd_xasprintf("%s/%s/dm/name", dir, de->d_name);
		if (kd_detect_read(p, buf, sizeof(buf)) >= 0 && strcmp(buf, want) == 0) {
			snprintf(name, size, "%s", de->d_name);
			found = true;
		}
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
	return found;
}

struct tag {
	const char *prefix, *dir;
};

static const struct tag tags[] = {
	{ "UUID=", "by-uuid" }, { "LABEL=", "by-label" }, { "PARTUUID=", "by-partuuid" },
	{ "PARTLABEL=", "by-partlabel" },
};

static bool spec_to_name(struct kd_detector *r, const char *spec, char *name, size_t size);

/* TAG=VALUE without its udev link (no udev: a container, a rescue system):
 * blkid probes the devices.  The live system only: a fixture's devices are
 * not the host's. */
static bool spec_by_blkid(struct kd_detector *r, const char *spec, char *name, size_t size)
{
	const char *const argv[] = { "blkid", "-l", "-o", "device", "-t", spec, NULL };
	struct kd_str out = { 0 };
	bool got = false;

	if (*r->sysroot == '\0' && run_tool(argv, &out) == 0 && out.s) {
		out.s[strcspn(out.s, "\n")] = '\0';
		KD_DBG(kd_ctx_log(r->ctx), "%s: no /dev/disk link; blkid names %s", spec, out.s);
		/* /dev/NAME or /dev/mapper/NAME, resolved as any device path */
		got = strncmp(out.s, "/dev/", 5) == 0 && spec_to_name(r, out.s, name, size);
	}
	kd_str_free(&out);
	return got;
}

/*
 * The builder's one root-spec resolver: a root= or fstab spec (/dev/NAME,
 * /dev/disk/by-*, /dev/VG/LV, /dev/mapper/NAME, UUID=, LABEL=, PARTUUID=,
 * PARTLABEL=) to the kernel's name of the block device.
 */
static bool spec_to_name(struct kd_detector *r, const char *spec, char *name, size_t size)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++) {
		size_t n = strlen(tags[i].prefix);
		char *rel;
		bool got;

		if (strncmp(spec, tags[i].prefix, n) != 0)
			continue;
		rel = kd_xasprintf("/dev/disk/%s/%s", tags[i].dir, spec + n);
		got = link_name(r, rel, name, size);
		free(rel);
		return got || spec_by_blkid(r, spec, name, size);
	}
	if (strncmp(spec, "/dev/", 5) != 0)
		return false;
	if (link_name(r, spec, name, size)) /* /dev/disk/..., /dev/VG/LV, /dev/mapper/X */
		return true;
	if (strncmp(spec, "/dev/mapper/", 12) == 0)
		return dm_by_name(r, spec + 12, name, size);
	snprintf(name, size, "%s", spec + 5);
	return strchr(name, '/') == NULL && block_exists(r, name);
}

static bool majmin_to_name(struct kd_detector *r, unsigned major, unsigned minor, char *name,
			   size_t size)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "/sys/dev/block/%u:%u", major, minor);
	return link_name(r, rel, name, size);
}

/* ---- filesystem identities, for the default root= ---------------------- */

static void uuid_string(const unsigned char *u, char *out, size_t size)
{
	snprintf(out, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* The UUID and type of an ext2/3/4, xfs or btrfs superblock on SYSROOT/dev/NAME
 * (a live system's device node); true when found. */
static bool probe_fs(struct kd_detector *r, const char *name, char *uuid, size_t usize,
		     char *type, size_t tsize)
{
	char *p = kd_xasprintf("%s/dev/%s", r->sysroot, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	unsigned char sb[4096];
	bool found = false;

	free(p);
	if (fd < 0)
		return false;
	if (pread(fd, sb, sizeof(sb), 0) == (ssize_t)sizeof(sb)) {
		if (le16(sb + KC_EXT_SB_OFFSET + KC_EXT_OFF_MAGIC) == KC_EXT_MAGIC) {
			const unsigned char *e = sb + KC_EXT_SB_OFFSET;
			const char *t = kc_ext_type(le32(e + KC_EXT_OFF_COMPAT),
						    le32(e + KC_EXT_OFF_INCOMPAT),
						    le32(e + KC_EXT_OFF_RO_COMPAT),
						    le32(e + KC_EXT_OFF_FLAGS));

			/* the init's rule (libblkid's): the type the boot will mount */
			uuid_string(e + KC_EXT_OFF_UUID, uuid, usize);
			snprintf(type, tsize, "%s", t ? t : "");
			found = t != NULL;
		} else if (memcmp(sb, "XFSB", 4) == 0) {
			uuid_string(sb + 32, uuid, usize);
			snprintf(type, tsize, "xfs");
			found = true;
		}
	}
	if (!found && pread(fd, sb, sizeof(sb), 65536) == (ssize_t)sizeof(sb) &&
	    memcmp(sb + 0x40, "_BHRfS_M", 8) == 0) {
		uuid_string(sb + 0x20, uuid, usize);
		snprintf(type, tsize, "btrfs");
		found = true;
	}
	close(fd);
	return found;
}

/* ---- the chain ----------------------------------------------------------- */

static int alias_or_skip(struct chain *c, const char *alias, const char *reason,
			 const char *what)
{
	int n = kd_detect_alias(c->r, alias, reason, true);
	char *why;

	if (n != 0)
		return n < 0 ? n : 0;
	why = kd_xasprintf("%s: %s has no module or built-in driver for %s", reason,
			   kd_ctx_kver(c->r->ctx), alias);
	KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s", what, why);
	kd_detect_skip(c->r, what, why);
	free(why);
	return 0;
}

static int chain_alias(struct chain *c, const char *prefix, const char *dev,
		       const char *alias, const char *fmt, const char *arg)
{
	struct kd_str reason = { 0 };
	char *what = kd_xasprintf("%s %s", prefix, dev);
	int err;

	kd_str_printf(&reason, "%s: %s: ", prefix, dev);
	kd_str_printf(&reason, fmt, arg);
	kd_str_printf(&reason, " (%s)", alias);
	err = alias_or_skip(c, alias, reason.s, what);
	kd_str_free(&reason);
	free(what);
	return err;
}

static const char *dm_table(struct chain *c)
{
	static const char *const argv[] = { "dmsetup", "table", NULL };
	struct kd_detector *r = c->r;
	struct kd_str t = { 0 };
	int err;

	if (c->dm_tried)
		return c->dmtable;
	c->dm_tried = true;
	if (*r->sysroot) {
		char *p = kd_detect_path(r, "/dmsetup-table");

		err = read_text(r->ctx, p, &t);
		free(p);
	} else {
		err = run_tool(argv, &t); /* the live tables: only libdevmapper reads them */
	}
	if (err == 0)
		c->dmtable = kd_str_take(&t);
	kd_str_free(&t);
	return c->dmtable;
}

/* IV generators that need a crypto module of their own. */
static const struct {
	const char *iv, *alias;
} iv_needs[] = {
	{ "essiv", "crypto-essiv" }, { "lmk", "crypto-md5" }, { "tcw", "crypto-crc32" },
};

/* The crypto API names a dm-crypt cipher spec needs: "aes-xts-plain64",
 * "aes-cbc-essiv:sha256", "capi:xts(aes)-plain64". */
static int crypt_cipher(struct chain *c, const char *prefix, const char *dev,
			const char *spec)
{
	char buf[256], alias[128], *save = NULL, *tok;
	int err, i = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	if (strncmp(buf, "capi:", 5) == 0) {
		char *iv = strrchr(buf, '-');

		if (iv)
			*iv = '\0';
		for (tok = strtok_r(buf + 5, "(),", &save); tok; tok = strtok_r(NULL, "(),", &save)) {
			snprintf(alias, sizeof(alias), "crypto-%s", tok);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
			if (err < 0)
				return err;
		}
		return 0;
	}
	for (tok = strtok_r(buf, "-", &save); tok; tok = strtok_r(NULL, "-", &save), i++) {
		char *colon = strchr(tok, ':');

		if (i < 2) { /* cipher, chain mode */
			snprintf(alias, sizeof(alias), "crypto-%s", tok);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
			if (err < 0)
				return err;
			continue;
		}
		/* the IV generator: most are dm-crypt's own; some need a hash */
		if (colon) {
			*colon = '\0';
			snprintf(alias, sizeof(alias), "crypto-%s", colon + 1);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
			if (err < 0)
				return err;
		}
		for (size_t k = 0; k < sizeof(iv_needs) / sizeof(*iv_needs); k++) {
			if (strcmp(tok, iv_needs[k].iv) != 0)
				continue;
			err = chain_alias(c, prefix, dev, iv_needs[k].alias, "cipher %s", spec);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* One line of `dmsetup table` after "NAME:": "START LENGTH TARGET ARGS...". */
static int dm_target(struct chain *c, const char *prefix, const char *dev, char *line)
{
	char *f[4], alias[96];
	size_t n = words(line, f, 4);
	const char *target;
	int err;

	if (n < 3)
		return 0;
	target = f[2];
	if (strcmp(target, "linear") == 0 || strcmp(target, "striped") == 0 ||
	    strcmp(target, "error") == 0)
		return 0; /* part of dm_mod itself */
	if (strcmp(target, "thin") == 0 || strcmp(target, "thin-pool") == 0)
		snprintf(alias, sizeof(alias), "dm-thin-pool");
	else
		snprintf(alias, sizeof(alias), "dm-%s", target);
	err = chain_alias(c, prefix, dev, alias, "device-mapper target %s", target);
	if (err < 0)
		return err;
	if (strcmp(target, "crypt") == 0 && n >= 4)
		return crypt_cipher(c, prefix, dev, f[3]);
	return 0;
}

/* The targets of the dm table lines of device name; how many lines, or -errno. */
static int dm_targets(struct chain *c, const char *prefix, const char *dev, const char *name)
{
	const char *table = dm_table(c);
	size_t nl = strlen(name);
	struct kd_lines l;
	char *line;
	int err = 0, lines = 0;

	if (table == NULL || nl == 0)
		return 0;
	kd_lines_init(&l, "dmsetup table", table, strlen(table), false);
	while ((line = kd_lines_next(&l)) != NULL) {
		if (strncmp(line, name, nl) != 0 || line[nl] != ':')
			continue;
		lines++;
		err = dm_target(c, prefix, dev, line + nl + 1);
		if (err < 0)
			break;
	}
	kd_lines_free(&l);
	return err < 0 ? err : lines;
}

static int dm_device(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	char name[256] = "", uuid[256] = "", *p;
	int err;

	p = kd_xasprintf("%s/dm/name", dir);
	kd_detect_read(p, name, sizeof(name));
	free(p);
	p = kd_xasprintf("%s/dm/uuid", dir);
	kd_detect_read(p, uuid, sizeof(uuid));
	free(p);
	err = chain_alias(c, prefix, dev, "dm_mod", "device mapper %s", name);
	if (err < 0)
		return err;
	err = dm_targets(c, prefix, dev, name);
	if (err != 0)
		return err < 0 ? err : 0;
	/* no table: what the uuid's prefix says (set by cryptsetup, lvm, multipath) */
	if (strncmp(uuid, "CRYPT-", 6) == 0) {
		char *what;

		err = chain_alias(c, prefix, dev, "dm-crypt", "dm uuid %s", uuid);
		KD_WARN(kd_ctx_log(c->r->ctx), "%s (%s): no dm table found, so its cipher is not known: add "
			"its crypto modules (--add crypto-aes --add crypto-xts, or --set dm)",
			dev, name);
		if (err < 0)
			return err;
		what = kd_xasprintf("%s %s", prefix, dev);
		kd_detect_skip(c->r, what, "cipher unknown: no `dmsetup table` output");
		free(what);
		return 0;
	}
	if (strncmp(uuid, "mpath-", 6) == 0)
		return chain_alias(c, prefix, dev, "dm-multipath", "dm uuid %s", uuid);
	return 0;
}

static int md_device(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	char level[64] = "", alias[96], *p = kd_xasprintf("%s/md/level", dir);
	int err;

	if (kd_detect_read(p, level, sizeof(level)) < 0)
		level[0] = '\0';
	free(p);
	err = chain_alias(c, prefix, dev, "md_mod", "md array %s", level);
	if (err || level[0] == '\0')
		return err;
	snprintf(alias, sizeof(alias), "md-%s", level); /* raid1 -> md-raid1, linear -> md-linear */
	return chain_alias(c, prefix, dev, alias, "md level %s", level);
}

/* A parent of a disk with modalias ma (path: its sysfs directory). */
static int chain_device(struct chain *c, const char *prefix, const char *dev, const char *path,
			const char *ma)
{
	struct kd_detector *r = c->r;
	const char *rel = path + strlen(r->sysroot);
	char sub[64] = "", target[PATH_MAX], *p = kd_xasprintf("%s/subsystem", path), *reason;
	ssize_t len = readlink(p, target, sizeof(target) - 1);
	int n;

	free(p);
	if (len > 0) {
		target[len] = '\0';
		snprintf(sub, sizeof(sub), "%s", basename(target));
	}
	kd_map_put(&r->seen, rel, 1);
	reason = kd_xasprintf("%s: %s: %s (%s) modalias %s", prefix, dev, strrchr(path, '/') + 1,
			      *sub ? sub : "device", ma);
	n = kd_detect_alias(r, ma, reason, true);
	if (n == 0)
		n = kd_detect_builtin_fallback(r, rel, reason, true);
	if (n == 0 && strncmp(ma, "pci:", 4) == 0 && strstr(ma, "bc06sc"))
		n = 1; /* a PCI bridge: the PCI core drives it (pcieport) */
	if (n == 0) {
		char *why = kd_xasprintf("%s: no module or built-in driver of %s matches", reason,
					 kd_ctx_kver(r->ctx));

		KD_WARN(kd_ctx_log(r->ctx), "%s", why);
		kd_detect_skip(r, rel, why);
		free(why);
	}
	free(reason);
	return n < 0 ? n : 0;
}

/* Every parent of a disk with a modalias: disk, controller, bus. */
static int walk_up(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	char path[PATH_MAX], *top = kd_detect_path(c->r, "/sys/devices");
	size_t toplen = strlen(top);
	int err = 0;

	snprintf(path, sizeof(path), "%s", dir);
	while (strlen(path) > toplen) {
		char ma[4096], *p = kd_xasprintf("%s/modalias", path), *slash;

		if (kd_detect_read(p, ma, sizeof(ma)) > 0)
			err = chain_device(c, prefix, dev, path, ma);
		free(p);
		if (err < 0)
			break;
		slash = strrchr(path, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	free(top);
	return err;
}

static bool has_entry(const char *dir, const char *name)
{
	char *p = kd_xasprintf("%s/%s", dir, name);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static int not_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int block_chain(struct chain *c, const char *prefix, const char *name, int depth)
{
	struct kd_detector *r = c->r;
	char real[PATH_MAX], dev[NAME_MAX + 1], *p;
	struct dirent **slaves = NULL;
	int err, n;

	if (depth > MAX_CHAIN) {
		KD_ERR(kd_ctx_log(r->ctx), "%s: more than %d stacked block devices: a loop in slaves/?", name,
		       MAX_CHAIN);
		return -ELOOP;
	}
	p = kd_xasprintf("%s/sys/class/block/%s", r->sysroot, name);
	if (realpath(p, real) == NULL) {
		err = -errno;
		KD_ERR(kd_ctx_log(r->ctx), "%s: block device %s not found: %s", p, name, strerror(errno));
		free(p);
		return err;
	}
	free(p);
	/* a sysroot's realpath: keep paths under the sysroot as given */
	if (*r->sysroot_real && strncmp(real, r->sysroot_real, strlen(r->sysroot_real)) == 0) {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s%s", r->sysroot, real + strlen(r->sysroot_real));
		snprintf(real, sizeof(real), "%s", tmp);
	}
	if (has_entry(real, "partition"))
		*strrchr(real, '/') = '\0'; /* the disk holding the partition */
	snprintf(dev, sizeof(dev), "%s", strrchr(real, '/') + 1);

	if (has_entry(real, "dm")) {
		err = dm_device(c, prefix, dev, real);
		if (err < 0)
			return err;
	}
	if (has_entry(real, "md")) {
		err = md_device(c, prefix, dev, real);
		if (err < 0)
			return err;
	}
	if (has_entry(real, "loop")) {
		err = chain_alias(c, prefix, dev, "loop", "%s", "loop device");
		if (err < 0)
			return err;
	}
	err = walk_up(c, prefix, dev, real);
	if (err < 0)
		return err;

	/* down through what the device is made of, sorted for a stable order */
	p = kd_xasprintf("%s/slaves", real);
	n = scandir(p, &slaves, not_dot, alphasort);
	free(p);
	for (int i = 0; i < n; i++) {
		err = block_chain(c, prefix, slaves[i]->d_name, depth + 1);
		if (err < 0)
			break;
	}
	for (int i = 0; i < n; i++)
		free(slaves[i]);
	free(slaves);
	return err;
}

static int filesystem(struct chain *c, const char *prefix, const char *type)
{
	char *alias = kd_xasprintf("fs-%s", type), *reason;
	int n;

	if (prefix)
		reason = kd_xasprintf("%s: filesystem %s (fs-%s)", prefix, type, type);
	else
		reason = kd_xasprintf("filesystem %s (fs-%s)", type, type);
	n = kd_detect_alias(c->r, alias, reason, true);
	if (n == 0) /* kernels before fs- aliases: the module's own name */
		n = kd_detect_alias(c->r, type, reason, true);
	if (n == 0) {
		char *what = kd_xasprintf("filesystem %s", type);
		char *why = kd_xasprintf("%s has no module or built-in driver for fs-%s",
					 kd_ctx_kver(c->r->ctx), type);

		KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s", what, why);
		kd_detect_skip(c->r, what, why);
		free(what);
		free(why);
	}
	free(reason);
	free(alias);
	return n < 0 ? n : 0;
}

static const struct mnt *fstab_entry(const struct mnts *m, const char *dir)
{
	const struct mnt *found = NULL;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].dir, dir) == 0)
			found = &m->v[i]; /* the last one is what is mounted on top */
	return found;
}

static bool is_block_spec(const char *spec)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++)
		if (strncmp(spec, tags[i].prefix, strlen(tags[i].prefix)) == 0)
			return true;
	return strncmp(spec, "/dev/", 5) == 0;
}

/* TAG=VALUE of a udev link SYSROOT/dev/disk/DIR/VALUE naming the device;
 * malloc'd, NULL when none does. */
static char *spec_from_links(struct kd_detector *r, const char *dir, const char *tag,
			     const char *name)
{
	char *p = kd_xasprintf("%s/dev/disk/%s", r->sysroot, dir), *found = NULL;
	struct dirent **v = NULL;
	int n = scandir(p, &v, not_dot, alphasort);

	for (int i = 0; i < n; i++) {
		char *rel = kd_xasprintf("/dev/disk/%s/%s", dir, v[i]->d_name);
		char other[NAME_MAX + 1];

		if (!found && link_name(r, rel, other, sizeof(other)) && strcmp(other, name) == 0)
			found = kd_xasprintf("%s%s", tag, v[i]->d_name);
		free(rel);
		free(v[i]);
	}
	free(v);
	free(p);
	return found;
}

/* The default root=: the spec the root was named by, else its UUID. */
static void root_spec(struct chain *c, const char *given, const char *name, char *type,
		      size_t tsize)
{
	struct kd_detector *r = c->r;
	const struct mnt *e = fstab_entry(&c->fstab, "/");
	char uuid[64], ptype[32], other[NAME_MAX + 1];

	if (given && strncmp(given, "/dev/", 5) != 0) {
		r->out->root_spec = kd_xstrdup(given);
		return;
	}
	if (e && is_block_spec(e->spec) && spec_to_name(r, e->spec, other, sizeof(other)) &&
	    strcmp(other, name) == 0) {
		r->out->root_spec = kd_xstrdup(e->spec);
		if (*type == '\0' && strcmp(e->type, "auto") != 0)
			snprintf(type, tsize, "%s", e->type);
		return;
	}
	r->out->root_spec = spec_from_links(r, "by-uuid", "UUID=", name);
	if (r->out->root_spec)
		return;
	if (probe_fs(r, name, uuid, sizeof(uuid), ptype, sizeof(ptype))) {
		r->out->root_spec = kd_xasprintf("UUID=%s", uuid);
		if (*type == '\0')
			snprintf(type, tsize, "%s", ptype);
		return;
	}
	r->out->root_spec = spec_from_links(r, "by-partuuid", "PARTUUID=", name);
	if (r->out->root_spec == NULL)
		r->out->root_spec = kd_xasprintf("/dev/%s", name);
}

/* The type fstab gives a device (by any of its names), if any. */
static void type_from_fstab(struct chain *c, const char *name, char *type, size_t tsize)
{
	for (size_t i = 0; i < c->fstab.n && *type == '\0'; i++) {
		const struct mnt *e = &c->fstab.v[i];
		char other[NAME_MAX + 1];

		if (strcmp(e->type, "auto") == 0 || strcmp(e->type, "swap") == 0 ||
		    !is_block_spec(e->spec))
			continue;
		if (spec_to_name(c->r, e->spec, other, sizeof(other)) &&
		    strcmp(other, name) == 0)
			snprintf(type, tsize, "%s", e->type);
	}
}

/* Which block device the root is, and its type if known. */
static int find_root(struct chain *c, char *name, size_t size, char *type, size_t tsize,
		     const char **given)
{
	struct kd_detector *r = c->r;
	const struct kd_detect_opts *o = r->o;
	const struct mnt *e = NULL;

	*given = NULL;
	if (o->root_device) {
		*given = o->root_device;
		if (!spec_to_name(r, o->root_device, name, size)) {
			KD_ERR(kd_ctx_log(r->ctx), "--root-device %s: no such block device under %s "
			       "(sys/class/block, dev/disk/by-*%s)", o->root_device,
			       *r->sysroot ? r->sysroot : "/", *r->sysroot ? "" : ", blkid");
			return -ENOENT;
		}
		/* its type: whatever has it mounted, else fstab, else the superblock */
		for (size_t i = 0; i < c->mountinfo.n; i++) {
			char other[NAME_MAX + 1];

			if (c->mountinfo.v[i].major &&
			    majmin_to_name(r, c->mountinfo.v[i].major, c->mountinfo.v[i].minor,
					   other, sizeof(other)) && strcmp(other, name) == 0)
				snprintf(type, tsize, "%s", c->mountinfo.v[i].type);
		}
		type_from_fstab(c, name, type, tsize);
		return 0;
	}
	if (!o->fstab)
		e = fstab_entry(&c->mountinfo, "/");
	if (e && e->major && majmin_to_name(r, e->major, e->minor, name, size)) {
		snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	if (e && spec_to_name(r, e->spec, name, size)) { /* btrfs: 0:NN, by source */
		snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	e = fstab_entry(&c->fstab, "/");
	if (e && spec_to_name(r, e->spec, name, size)) {
		*given = e->spec;
		if (strcmp(e->type, "auto") != 0)
			snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	KD_ERR(kd_ctx_log(r->ctx), "cannot tell which device the root is: %s%s (give --root-device DEV)",
	       e ? "the root's device in fstab is not present: " : "no '/' in mountinfo or fstab",
	       e ? e->spec : "");
	return -ENOENT;
}

/* /usr and x-initrd.mount entries: mounted from the initrd by systemd's rules. */
static int early_mounts(struct chain *c)
{
	int err;

	for (size_t i = 0; i < c->fstab.n; i++) {
		const struct mnt *e = &c->fstab.v[i];
		char name[NAME_MAX + 1], prefix[PATH_MAX + 32];

		if (strcmp(e->dir, "/") == 0 ||
		    (strcmp(e->dir, "/usr") != 0 && !strstr(e->opts, "x-initrd.mount")))
			continue;
		snprintf(prefix, sizeof(prefix), "early mount %s", e->dir);
		if (is_block_spec(e->spec)) {
			if (!spec_to_name(c->r, e->spec, name, sizeof(name))) {
				KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s (%s line for %s) is not present; its "
					"devices are not detected", c->fstab_path, e->spec,
					c->fstab_path, e->dir);
				kd_detect_skip(c->r, prefix, "its device is not present");
				continue;
			}
			err = block_chain(c, prefix, name, 0);
			if (err < 0)
				return err;
		}
		if (strcmp(e->type, "auto") != 0 && strcmp(e->type, "none") != 0) {
			err = filesystem(c, prefix, e->type);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int kd_rootchain_run(struct kd_detector *r)
{
	struct chain c = { .r = r };
	char name[NAME_MAX + 1], type[64] = "";
	char *mi = kd_detect_path(r, "/proc/self/mountinfo");
	const char *given = NULL;
	int err;

	c.fstab_path = r->o->fstab ? kd_xstrdup(r->o->fstab) : kd_detect_path(r, "/etc/fstab");
	err = load_table(&c, c.fstab_path, false, &c.fstab);
	if (err == -ENOENT && r->o->fstab) {
		KD_ERR(kd_ctx_log(r->ctx), "%s: no such fstab (the target's fstab names its root: give "
		       "--fstab FILE or --root-device DEV)", c.fstab_path);
		goto out;
	}
	if (err < 0 && err != -ENOENT)
		goto out;
	err = load_table(&c, mi, true, &c.mountinfo);
	if (err < 0 && err != -ENOENT)
		goto out;
	err = find_root(&c, name, sizeof(name), type, sizeof(type), &given);
	if (err < 0)
		goto out;
	root_spec(&c, given, name, type, sizeof(type));
	r->out->root_source = kd_xasprintf("/dev/%s", name);
	if (*type)
		r->out->root_fstype = kd_xstrdup(type);
	err = block_chain(&c, "root chain", name, 0);
	if (err < 0)
		goto out;
	if (*type) {
		err = filesystem(&c, NULL, type);
		if (err < 0)
			goto out;
	} else {
		KD_WARN(kd_ctx_log(r->ctx), "/dev/%s: the root's filesystem type is not known (not mounted, "
			"not in fstab, no superblock read): add its module with --add", name);
	}
	err = early_mounts(&c);
out:
	mnts_free(&c.fstab);
	mnts_free(&c.mountinfo);
	free(c.fstab_path);
	free(c.dmtable);
	free(mi);
	return err;
}
