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
#include <unistd.h>

#include "detect/internal.h"

#define MAX_CHAIN 16 /* stacked block devices (dm on md on ...) */

struct mnt {
	char *spec, *dir, *type, *opts;
	unsigned major, minor; /* mountinfo only; 0:0 unknown */
};

struct mnts {
	struct mnt *v;
	size_t n;
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
	m->v = NULL;
	m->n = 0;
}

/* fstab and mountinfo escape blanks as \040 (octal). */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Split a line into blank-separated fields (at most max). */
static size_t fields(const char *line, const char **f, size_t *len, size_t max)
{
	size_t n = 0;

	while (*line && n < max) {
		line += strspn(line, " \t");
		if (*line == '\0')
			break;
		f[n] = line;
		len[n] = strcspn(line, " \t");
		line += len[n++];
	}
	return n;
}

static int mnts_push(struct mnts *m, const char *const f[4], const size_t len[4],
		     unsigned major, unsigned minor)
{
	void *p = realloc(m->v, (m->n + 1) * sizeof(*m->v));
	struct mnt *e;

	if (p == NULL)
		return -ENOMEM;
	m->v = p;
	e = &m->v[m->n++];
	e->spec = unescape(f[0], len[0]);
	e->dir = unescape(f[1], len[1]);
	e->type = unescape(f[2], len[2]);
	e->opts = f[3] ? unescape(f[3], len[3]) : kd_xstrdup("");
	e->major = major;
	e->minor = minor;
	return e->spec && e->dir && e->type && e->opts ? 0 : -ENOMEM;
}

/* fstab(5): spec file vfstype mntops [freq [passno]]; '#' comments. */
static int parse_fstab(struct kd_ctx *ctx, const char *path, const char *text, struct mnts *m)
{
	unsigned no = 0;

	while (*text) {
		size_t n = strcspn(text, "\n"), len[6];
		const char *f[6] = { 0 };
		char line[4096];
		size_t nf;
		int err;

		no++;
		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
		nf = fields(line, f, len, 6);
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf < 3) {
			KD_WARN(kd_ctx_log(ctx), "%s line %u: expected 'spec file type [options]'; ignored", path, no);
			continue;
		}
		err = mnts_push(m, f, len, 0, 0);
		if (err < 0)
			return err;
	}
	return 0;
}

/* proc_pid_mountinfo(5): ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SOURCE SUPER */
static int parse_mountinfo(struct kd_ctx *ctx, const char *path, const char *text,
			   struct mnts *m)
{
	unsigned no = 0;

	while (*text) {
		size_t n = strcspn(text, "\n"), len[32], nf, dash;
		const char *f[32] = { 0 };
		const char *mf[4];
		size_t ml[4];
		unsigned major, minor;
		char line[8192];
		int err;

		no++;
		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
		nf = fields(line, f, len, 32);
		if (nf == 0)
			continue;
		for (dash = 6; dash < nf; dash++)
			if (len[dash] == 1 && f[dash][0] == '-')
				break;
		if (nf < 6 || dash + 2 >= nf ||
		    sscanf(f[2], "%u:%u", &major, &minor) != 2) {
			KD_WARN(kd_ctx_log(ctx), "%s line %u: not a mountinfo line; ignored", path, no);
			continue;
		}
		mf[0] = f[dash + 2], ml[0] = len[dash + 2]; /* source */
		mf[1] = f[4], ml[1] = len[4];               /* mount point */
		mf[2] = f[dash + 1], ml[2] = len[dash + 1]; /* type */
		mf[3] = f[5], ml[3] = len[5];
		err = mnts_push(m, mf, ml, major, minor);
		if (err < 0)
			return err;
	}
	return 0;
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
	while (err == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			err = -errno;
			KD_ERR(kd_ctx_log(ctx), "%s: cannot read: %s", path, strerror(errno));
		} else if (memchr(buf, '\0', (size_t)n)) {
			KD_ERR(kd_ctx_log(ctx), "%s: not a text file (it holds a NUL byte)", path);
			err = -EINVAL;
		} else {
			err = kd_str_add(out, buf, (size_t)n);
		}
	}
	close(fd);
	if (err == 0 && out->s == NULL)
		err = kd_str_addz(out, "");
	return err;
}

static int load_table(struct chain *c, const char *path, bool info, struct mnts *m)
{
	struct kd_str t = { 0 };
	int err = read_text(c->r->ctx, path, &t);

	if (err == 0)
		err = info ? parse_mountinfo(c->r->ctx, path, t.s, m)
			   : parse_fstab(c->r->ctx, path, t.s, m);
	kd_str_free(&t);
	return err;
}

/* ---- names of block devices ------------------------------------------- */

/* The basename of the target of SYSROOT+rel when it is a symlink: 1, else 0. */
static int link_name(struct kd_detector *r, const char *rel, char *name, size_t size)
{
	char *p = kd_detect_path(r, rel), target[PATH_MAX];
	ssize_t n;
	const char *base;

	if (p == NULL)
		return -ENOMEM;
	n = readlink(p, target, sizeof(target) - 1);
	free(p);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return 0; /* no block device has such a name */
	memcpy(name, base, strlen(base) + 1);
	return 1;
}

static bool block_exists(struct kd_detector *r, const char *name)
{
	struct kd_str s = { 0 };
	bool ok;

	kd_str_printf(&s, "%s/sys/class/block/%s", r->sysroot, name);
	ok = s.s && access(s.s, F_OK) == 0;
	kd_str_free(&s);
	return ok;
}

/* dm devices by their name (dm/name): /dev/mapper/NAME without udev links. */
static int dm_by_name(struct kd_detector *r, const char *want, char *name, size_t size)
{
	char *dir = kd_detect_path(r, "/sys/block");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int found = 0;

	while (d && (de = readdir(d)) != NULL && !found) {
		struct kd_str p = { 0 };
		char buf[256];

		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		kd_str_printf(&p, "%s/%s/dm/name", dir, de->d_name);
		if (p.s && kd_detect_read(p.s, buf, sizeof(buf)) >= 0 && strcmp(buf, want) == 0) {
			snprintf(name, size, "%s", de->d_name);
			found = 1;
		}
		kd_str_free(&p);
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

/* A root= style spec to a kernel block device name: 1 found, 0 not, -errno. */
static int spec_to_name(struct kd_detector *r, const char *spec, char *name, size_t size)
{
	struct kd_str rel = { 0 };
	int got = 0;

	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++) {
		size_t n = strlen(tags[i].prefix);

		if (strncmp(spec, tags[i].prefix, n) != 0)
			continue;
		if (kd_str_printf(&rel, "/dev/disk/%s/%s", tags[i].dir, spec + n) < 0)
			return -ENOMEM;
		got = link_name(r, rel.s, name, size);
		kd_str_free(&rel);
		return got;
	}
	if (strncmp(spec, "/dev/", 5) != 0)
		return 0;
	got = link_name(r, spec, name, size); /* /dev/disk/..., /dev/VG/LV, /dev/mapper/X */
	if (got != 0)
		return got;
	if (strncmp(spec, "/dev/mapper/", 12) == 0)
		return dm_by_name(r, spec + 12, name, size);
	snprintf(name, size, "%s", spec + 5);
	return strchr(name, '/') == NULL && block_exists(r, name);
}

static int majmin_to_name(struct kd_detector *r, unsigned major, unsigned minor, char *name,
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

/* The UUID and type of an ext2/3/4, xfs or btrfs superblock on SYSROOT/dev/NAME
 * (a live system's device node); 1 found, 0 not. */
static int probe_fs(struct kd_detector *r, const char *name, char *uuid, size_t usize,
		    char *type, size_t tsize)
{
	struct kd_str p = { 0 };
	unsigned char sb[4096];
	int fd, found = 0;

	kd_str_printf(&p, "%s/dev/%s", r->sysroot, name);
	fd = p.s ? open(p.s, O_RDONLY | O_CLOEXEC) : -1;
	kd_str_free(&p);
	if (fd < 0)
		return 0;
	if (pread(fd, sb, sizeof(sb), 0) == (ssize_t)sizeof(sb)) {
		if (sb[1024 + 0x38] == 0x53 && sb[1024 + 0x39] == 0xef) {
			unsigned compat = sb[1024 + 0x5c] | (unsigned)sb[1024 + 0x5d] << 8;
			unsigned incompat = sb[1024 + 0x60] | (unsigned)sb[1024 + 0x61] << 8;

			uuid_string(sb + 1024 + 0x68, uuid, usize);
			/* journal: ext3; extents or 64bit: ext4 */
			snprintf(type, tsize, "%s", incompat & 0x2c0 ? "ext4" : compat & 4 ? "ext3"
								    : "ext2");
			found = 1;
		} else if (memcmp(sb, "XFSB", 4) == 0) {
			uuid_string(sb + 32, uuid, usize);
			snprintf(type, tsize, "xfs");
			found = 1;
		}
	}
	if (!found && pread(fd, sb, sizeof(sb), 65536) == (ssize_t)sizeof(sb) &&
	    memcmp(sb + 0x40, "_BHRfS_M", 8) == 0) {
		uuid_string(sb + 0x20, uuid, usize);
		snprintf(type, tsize, "btrfs");
		found = 1;
	}
	close(fd);
	return found;
}

/* ---- the chain ----------------------------------------------------------- */

static int alias_or_skip(struct chain *c, const char *alias, const char *reason,
			 const char *what)
{
	int n = kd_detect_alias(c->r, alias, reason, true);

	if (n == 0) {
		struct kd_str why = { 0 };

		kd_str_printf(&why, "%s: %s has no module or built-in driver for %s", reason,
			      kd_ctx_kver(c->r->ctx), alias);
		KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s", what, why.s);
		n = why.s ? kd_detect_skip(c->r, what, why.s) : -ENOMEM;
		kd_str_free(&why);
	}
	return n < 0 ? n : 0;
}

static int chain_alias(struct chain *c, const char *prefix, const char *dev,
		       const char *alias, const char *fmt, const char *arg)
{
	struct kd_str reason = { 0 }, what = { 0 };
	int err;

	kd_str_printf(&reason, "%s: %s: ", prefix, dev);
	kd_str_printf(&reason, fmt, arg);
	kd_str_printf(&reason, " (%s)", alias);
	kd_str_printf(&what, "%s %s", prefix, dev);
	err = reason.s && what.s ? alias_or_skip(c, alias, reason.s, what.s) : -ENOMEM;
	kd_str_free(&reason);
	kd_str_free(&what);
	return err;
}

static const char *dm_table(struct chain *c)
{
	struct kd_detector *r = c->r;

	if (c->dm_tried)
		return c->dmtable;
	c->dm_tried = true;
	if (*r->sysroot) {
		char *p = kd_detect_path(r, "/dmsetup-table");
		struct kd_str t = { 0 };

		if (p && read_text(r->ctx, p, &t) == 0)
			c->dmtable = t.s;
		else
			kd_str_free(&t);
		free(p);
	} else {
		/* the live tables: only dmsetup (libdevmapper) reads them */
		FILE *f = popen("dmsetup table 2>/dev/null", "r");
		struct kd_str s = { 0 };
		char line[4096];

		while (f && fgets(line, sizeof(line), f))
			kd_str_addz(&s, line);
		if (f && pclose(f) == 0)
			c->dmtable = s.s;
		else
			kd_str_free(&s);
	}
	return c->dmtable;
}

/* The crypto API names a dm-crypt cipher spec needs: "aes-xts-plain64",
 * "aes-cbc-essiv:sha256", "capi:xts(aes)-plain64". */
static int crypt_cipher(struct chain *c, const char *prefix, const char *dev,
			const char *spec)
{
	char buf[256], *save = NULL, *tok;
	int err = 0, i = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	if (strncmp(buf, "capi:", 5) == 0) {
		char *iv = strrchr(buf, '-');

		if (iv)
			*iv = '\0';
		for (tok = strtok_r(buf + 5, "(),", &save); tok && err == 0;
		     tok = strtok_r(NULL, "(),", &save)) {
			char alias[128];

			snprintf(alias, sizeof(alias), "crypto-%s", tok);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
		}
		return err;
	}
	for (tok = strtok_r(buf, "-", &save); tok && err == 0; tok = strtok_r(NULL, "-", &save), i++) {
		char alias[128], *colon = strchr(tok, ':');

		if (i < 2) { /* cipher, chain mode */
			snprintf(alias, sizeof(alias), "crypto-%s", tok);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
			continue;
		}
		/* the IV generator: most are dm-crypt's own; some need a hash */
		if (colon) {
			*colon = '\0';
			snprintf(alias, sizeof(alias), "crypto-%s", colon + 1);
			err = chain_alias(c, prefix, dev, alias, "cipher %s", spec);
		}
		if (err == 0 && strcmp(tok, "essiv") == 0)
			err = chain_alias(c, prefix, dev, "crypto-essiv", "cipher %s", spec);
		else if (err == 0 && strcmp(tok, "lmk") == 0)
			err = chain_alias(c, prefix, dev, "crypto-md5", "cipher %s", spec);
		else if (err == 0 && strcmp(tok, "tcw") == 0)
			err = chain_alias(c, prefix, dev, "crypto-crc32", "cipher %s", spec);
	}
	return err;
}

/* One line of `dmsetup table` after "NAME:": "START LENGTH TARGET ARGS...". */
static int dm_target(struct chain *c, const char *prefix, const char *dev, const char *line)
{
	const char *f[6];
	size_t len[6];
	char target[64], alias[96], arg[256];
	size_t n = fields(line, f, len, 6);

	if (n < 3)
		return 0;
	snprintf(target, sizeof(target), "%.*s", (int)len[2], f[2]);
	if (strcmp(target, "linear") == 0 || strcmp(target, "striped") == 0 ||
	    strcmp(target, "error") == 0)
		return 0; /* part of dm_mod itself */
	if (strcmp(target, "thin") == 0 || strcmp(target, "thin-pool") == 0)
		snprintf(alias, sizeof(alias), "dm-thin-pool");
	else
		snprintf(alias, sizeof(alias), "dm-%s", target);
	if (chain_alias(c, prefix, dev, alias, "device-mapper target %s", target) < 0)
		return -ENOMEM;
	if (strcmp(target, "crypt") == 0 && n >= 4) {
		snprintf(arg, sizeof(arg), "%.*s", (int)len[3], f[3]);
		return crypt_cipher(c, prefix, dev, arg);
	}
	return 0;
}

static int dm_device(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	struct kd_str p = { 0 };
	char name[256] = "", uuid[256] = "";
	const char *table;
	int err, lines = 0;

	kd_str_printf(&p, "%s/dm/name", dir);
	if (p.s)
		kd_detect_read(p.s, name, sizeof(name));
	kd_str_free(&p);
	kd_str_printf(&p, "%s/dm/uuid", dir);
	if (p.s)
		kd_detect_read(p.s, uuid, sizeof(uuid));
	kd_str_free(&p);
	err = chain_alias(c, prefix, dev, "dm_mod", "device mapper %s", name);
	table = dm_table(c);
	for (const char *l = table; err == 0 && l && *l;) {
		size_t n = strcspn(l, "\n"), nl = strlen(name);
		char line[4096];

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		l += n + (l[n] == '\n');
		if (nl && strncmp(line, name, nl) == 0 && line[nl] == ':') {
			err = dm_target(c, prefix, dev, line + nl + 1);
			lines++;
		}
	}
	if (err || lines)
		return err;
	/* no table: what the uuid's prefix says (set by cryptsetup, lvm, multipath) */
	if (strncmp(uuid, "CRYPT-", 6) == 0) {
		struct kd_str what = { 0 };

		err = chain_alias(c, prefix, dev, "dm-crypt", "dm uuid %s", uuid);
		kd_str_printf(&what, "%s %s", prefix, dev);
		KD_WARN(kd_ctx_log(c->r->ctx), "%s (%s): no dm table found, so its cipher is not known: add "
			"its crypto modules (--add crypto-aes --add crypto-xts, or --set dm)",
			dev, name);
		if (err == 0)
			err = kd_detect_skip(c->r, what.s ? what.s : dev,
					     "cipher unknown: no `dmsetup table` output");
		kd_str_free(&what);
	} else if (strncmp(uuid, "mpath-", 6) == 0) {
		err = chain_alias(c, prefix, dev, "dm-multipath", "dm uuid %s", uuid);
	}
	return err;
}

static int md_device(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	struct kd_str p = { 0 };
	char level[64] = "", alias[96];
	int err;

	kd_str_printf(&p, "%s/md/level", dir);
	if (p.s && kd_detect_read(p.s, level, sizeof(level)) < 0)
		level[0] = '\0';
	kd_str_free(&p);
	err = chain_alias(c, prefix, dev, "md_mod", "md array %s", level);
	if (err || level[0] == '\0')
		return err;
	snprintf(alias, sizeof(alias), "md-%s", level); /* raid1 -> md-raid1, linear -> md-linear */
	return chain_alias(c, prefix, dev, alias, "md level %s", level);
}

/* Every parent of a disk with a modalias: disk, controller, bus. */
static int walk_up(struct chain *c, const char *prefix, const char *dev, const char *dir)
{
	struct kd_detector *r = c->r;
	char path[PATH_MAX], *top = kd_detect_path(r, "/sys/devices");
	size_t toplen;
	int err = 0;

	if (top == NULL)
		return -ENOMEM;
	toplen = strlen(top);
	snprintf(path, sizeof(path), "%s", dir);
	while (err == 0 && strlen(path) > toplen) {
		struct kd_str p = { 0 }, reason = { 0 }, what = { 0 };
		char ma[4096], sub[64] = "", *slash;
		const char *rel = path + strlen(r->sysroot);
		int n;

		kd_str_printf(&p, "%s/modalias", path);
		if (p.s && kd_detect_read(p.s, ma, sizeof(ma)) > 0) {
			kd_str_free(&p);
			kd_str_printf(&p, "%s/subsystem", path);
			if (p.s) {
				char target[PATH_MAX];
				ssize_t len = readlink(p.s, target, sizeof(target) - 1);

				if (len > 0) {
					target[len] = '\0';
					snprintf(sub, sizeof(sub), "%s", basename(target));
				}
			}
			err = kd_map_put(&r->seen, rel, 1);
			kd_str_printf(&reason, "%s: %s: %s (%s) modalias %s", prefix, dev,
				      strrchr(path, '/') + 1, *sub ? sub : "device", ma);
			kd_str_printf(&what, "%s", rel);
			n = err < 0 ? err : reason.s && what.s
				? kd_detect_alias(r, ma, reason.s, true) : -ENOMEM;
			if (n == 0)
				n = kd_detect_builtin_fallback(r, rel, reason.s, true);
			if (n == 0 && strncmp(ma, "pci:", 4) == 0 && strstr(ma, "bc06sc"))
				n = 1; /* a PCI bridge: the PCI core drives it (pcieport) */
			if (n == 0) {
				struct kd_str why = { 0 };

				kd_str_printf(&why, "%s: no module or built-in driver of %s matches",
					      reason.s, kd_ctx_kver(r->ctx));
				KD_WARN(kd_ctx_log(r->ctx), "%s", why.s ? why.s : rel);
				n = why.s ? kd_detect_skip(r, what.s, why.s) : -ENOMEM;
				kd_str_free(&why);
			}
			err = n < 0 ? n : 0;
		}
		kd_str_free(&p);
		kd_str_free(&reason);
		kd_str_free(&what);
		slash = strrchr(path, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	free(top);
	return err;
}

static int block_chain(struct chain *c, const char *prefix, const char *name, int depth)
{
	struct kd_detector *r = c->r;
	struct kd_str p = { 0 };
	char real[PATH_MAX], dev[NAME_MAX + 1];
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (depth > MAX_CHAIN) {
		KD_ERR(kd_ctx_log(r->ctx), "%s: more than %d stacked block devices: a loop in slaves/?", name,
		       MAX_CHAIN);
		return -ELOOP;
	}
	kd_str_printf(&p, "%s/sys/class/block/%s", r->sysroot, name);
	if (p.s == NULL)
		return -ENOMEM;
	if (realpath(p.s, real) == NULL) {
		err = -errno;
		KD_ERR(kd_ctx_log(r->ctx), "%s: block device %s not found: %s", p.s, name, strerror(errno));
		kd_str_free(&p);
		return err;
	}
	kd_str_free(&p);
	/* a sysroot's realpath: keep paths under the sysroot as given */
	if (*r->sysroot_real && strncmp(real, r->sysroot_real, strlen(r->sysroot_real)) == 0) {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s%s", r->sysroot, real + strlen(r->sysroot_real));
		snprintf(real, sizeof(real), "%s", tmp);
	}
	kd_str_printf(&p, "%s/partition", real);
	if (p.s && access(p.s, F_OK) == 0)
		*strrchr(real, '/') = '\0'; /* the disk holding the partition */
	kd_str_free(&p);
	snprintf(dev, sizeof(dev), "%s", strrchr(real, '/') + 1);

	kd_str_printf(&p, "%s/dm", real);
	if (p.s && access(p.s, F_OK) == 0)
		err = dm_device(c, prefix, dev, real);
	kd_str_free(&p);
	kd_str_printf(&p, "%s/md", real);
	if (err == 0 && p.s && access(p.s, F_OK) == 0)
		err = md_device(c, prefix, dev, real);
	kd_str_free(&p);
	kd_str_printf(&p, "%s/loop", real);
	if (err == 0 && p.s && access(p.s, F_OK) == 0)
		err = chain_alias(c, prefix, dev, "loop", "%s", "loop device");
	kd_str_free(&p);
	if (err == 0)
		err = walk_up(c, prefix, dev, real);

	kd_str_printf(&p, "%s/slaves", real);
	d = p.s ? opendir(p.s) : NULL;
	kd_str_free(&p);
	if (d) {
		char *names[64];
		size_t n = 0;

		while ((de = readdir(d)) != NULL && n < 64)
			if (de->d_name[0] != '.')
				names[n++] = kd_xstrdup(de->d_name);
		closedir(d);
		for (size_t i = 0; i < n; i++) {
			/* sorted, for a stable order of reasons */
			for (size_t j = i + 1; j < n; j++)
				if (strcmp(names[j], names[i]) < 0) {
					char *t = names[i];

					names[i] = names[j];
					names[j] = t;
				}
			if (err == 0)
				err = block_chain(c, prefix, names[i], depth + 1);
			free(names[i]);
		}
	}
	return err;
}

static int filesystem(struct chain *c, const char *prefix, const char *type)
{
	struct kd_str reason = { 0 }, alias = { 0 };
	int n;

	kd_str_printf(&alias, "fs-%s", type);
	if (prefix)
		kd_str_printf(&reason, "%s: ", prefix);
	kd_str_printf(&reason, "filesystem %s (fs-%s)", type, type);
	n = reason.s && alias.s ? kd_detect_alias(c->r, alias.s, reason.s, true) : -ENOMEM;
	if (n == 0) /* kernels before fs- aliases: the module's own name */
		n = kd_detect_alias(c->r, type, reason.s, true);
	if (n == 0) {
		struct kd_str what = { 0 }, why = { 0 };

		kd_str_printf(&what, "filesystem %s", type);
		kd_str_printf(&why, "%s has no module or built-in driver for fs-%s",
			      kd_ctx_kver(c->r->ctx), type);
		KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s", what.s, why.s);
		n = kd_detect_skip(c->r, what.s, why.s);
		kd_str_free(&what);
		kd_str_free(&why);
	}
	kd_str_free(&reason);
	kd_str_free(&alias);
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

/* TAG=VALUE of a udev link SYSROOT/dev/disk/DIR/VALUE naming the device. */
static int spec_from_links(struct kd_detector *r, const char *dir, const char *tag,
			   const char *name, struct kd_str *out)
{
	struct kd_str p = { 0 };
	struct dirent **v = NULL;
	int n, found = 0;

	kd_str_printf(&p, "%s/dev/disk/%s", r->sysroot, dir);
	n = p.s ? scandir(p.s, &v, NULL, alphasort) : -1;
	for (int i = 0; i < n; i++) {
		struct kd_str rel = { 0 };
		char other[NAME_MAX + 1];

		kd_str_printf(&rel, "/dev/disk/%s/%s", dir, v[i]->d_name);
		if (!found && v[i]->d_name[0] != '.' && rel.s &&
		    link_name(r, rel.s, other, sizeof(other)) == 1 && strcmp(other, name) == 0)
			found = kd_str_printf(out, "%s%s", tag, v[i]->d_name) == 0;
		kd_str_free(&rel);
		free(v[i]);
	}
	free(v);
	kd_str_free(&p);
	return found;
}

/* The default root=: the spec the root was named by, else its UUID. */
static int root_spec(struct chain *c, const char *given, const char *name, char *type,
		     size_t tsize)
{
	struct kd_detector *r = c->r;
	const struct mnt *e = fstab_entry(&c->fstab, "/");
	char uuid[64], ptype[32], other[NAME_MAX + 1];
	struct kd_str s = { 0 };

	if (given && strncmp(given, "/dev/", 5) != 0) {
		r->out->root_spec = kd_xstrdup(given);
		return 0;
	}
	if (e && is_block_spec(e->spec) && spec_to_name(r, e->spec, other, sizeof(other)) == 1 &&
	    strcmp(other, name) == 0) {
		r->out->root_spec = kd_xstrdup(e->spec);
		if (*type == '\0' && strcmp(e->type, "auto") != 0)
			snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	if (spec_from_links(r, "by-uuid", "UUID=", name, &s)) {
		r->out->root_spec = s.s;
		return 0;
	}
	if (probe_fs(r, name, uuid, sizeof(uuid), ptype, sizeof(ptype))) {
		kd_str_printf(&s, "UUID=%s", uuid);
		r->out->root_spec = s.s;
		if (*type == '\0')
			snprintf(type, tsize, "%s", ptype);
		return s.s ? 0 : -ENOMEM;
	}
	if (spec_from_links(r, "by-partuuid", "PARTUUID=", name, &s)) {
		r->out->root_spec = s.s;
		return 0;
	}
	kd_str_printf(&s, "/dev/%s", name);
	r->out->root_spec = s.s;
	return s.s ? 0 : -ENOMEM;
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
		if (spec_to_name(c->r, e->spec, other, sizeof(other)) == 1 &&
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
	int got;

	*given = NULL;
	if (o->root_device) {
		*given = o->root_device;
		got = spec_to_name(r, o->root_device, name, size);
		if (got == 0)
			KD_ERR(kd_ctx_log(r->ctx), "--root-device %s: no such block device under %s "
			       "(sys/class/block, dev/disk/by-*)", o->root_device,
			       *r->sysroot ? r->sysroot : "/");
		if (got <= 0)
			return got < 0 ? got : -ENOENT;
		/* its type: whatever has it mounted, else fstab, else the superblock */
		for (size_t i = 0; i < c->mountinfo.n; i++) {
			char other[NAME_MAX + 1];

			if (c->mountinfo.v[i].major &&
			    majmin_to_name(r, c->mountinfo.v[i].major, c->mountinfo.v[i].minor,
					   other, sizeof(other)) == 1 && strcmp(other, name) == 0)
				snprintf(type, tsize, "%s", c->mountinfo.v[i].type);
		}
		type_from_fstab(c, name, type, tsize);
		return 0;
	}
	if (!o->fstab)
		e = fstab_entry(&c->mountinfo, "/");
	if (e && e->major && majmin_to_name(r, e->major, e->minor, name, size) == 1) {
		snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	if (e && spec_to_name(r, e->spec, name, size) == 1) { /* btrfs: 0:NN, by source */
		snprintf(type, tsize, "%s", e->type);
		return 0;
	}
	e = fstab_entry(&c->fstab, "/");
	if (e && (got = spec_to_name(r, e->spec, name, size)) != 0) {
		*given = e->spec;
		if (got > 0 && strcmp(e->type, "auto") != 0)
			snprintf(type, tsize, "%s", e->type);
		return got < 0 ? got : 0;
	}
	KD_ERR(kd_ctx_log(r->ctx), "cannot tell which device the root is: %s%s (give --root-device DEV)",
	       e ? "the root's device in fstab is not present: " : "no '/' in mountinfo or fstab",
	       e ? e->spec : "");
	return -ENOENT;
}

/* /usr and x-initrd.mount entries: mounted from the initrd by systemd's rules. */
static int early_mounts(struct chain *c)
{
	int err = 0;

	for (size_t i = 0; i < c->fstab.n && err == 0; i++) {
		const struct mnt *e = &c->fstab.v[i];
		char name[NAME_MAX + 1], prefix[PATH_MAX + 32];
		int got;

		if (strcmp(e->dir, "/") == 0 ||
		    (strcmp(e->dir, "/usr") != 0 && !strstr(e->opts, "x-initrd.mount")))
			continue;
		snprintf(prefix, sizeof(prefix), "early mount %s", e->dir);
		if (is_block_spec(e->spec)) {
			got = spec_to_name(c->r, e->spec, name, sizeof(name));
			if (got < 0)
				return got;
			if (got == 0) {
				KD_WARN(kd_ctx_log(c->r->ctx), "%s: %s (%s line for %s) is not present; its "
					"devices are not detected", c->fstab_path, e->spec,
					c->fstab_path, e->dir);
				err = kd_detect_skip(c->r, prefix, "its device is not present");
				continue;
			}
			err = block_chain(c, prefix, name, 0);
		}
		if (err == 0 && strcmp(e->type, "auto") != 0 && strcmp(e->type, "none") != 0)
			err = filesystem(c, prefix, e->type);
	}
	return err;
}

int kd_rootchain_run(struct kd_detector *r)
{
	struct chain c = { .r = r };
	char name[NAME_MAX + 1], type[64] = "", *mi;
	const char *given = NULL;
	struct kd_str s = { 0 };
	int err;

	c.fstab_path = r->o->fstab ? kd_xstrdup(r->o->fstab) : kd_detect_path(r, "/etc/fstab");
	mi = kd_detect_path(r, "/proc/self/mountinfo");
	if (c.fstab_path == NULL || mi == NULL) {
		err = -ENOMEM;
		goto out;
	}
	err = load_table(&c, c.fstab_path, false, &c.fstab);
	if (err == -ENOENT && r->o->fstab) {
		KD_ERR(kd_ctx_log(r->ctx), "%s: no such fstab (the target's fstab names its root: give "
		       "--fstab FILE or --root-device DEV)", c.fstab_path);
		goto out;
	}
	if (err == -ENOENT)
		err = 0;
	if (err == 0)
		err = load_table(&c, mi, true, &c.mountinfo);
	if (err == -ENOENT)
		err = 0;
	if (err == 0)
		err = find_root(&c, name, sizeof(name), type, sizeof(type), &given);
	if (err < 0)
		goto out;
	err = root_spec(&c, given, name, type, sizeof(type));
	kd_str_printf(&s, "/dev/%s", name);
	r->out->root_source = s.s;
	if (*type)
		r->out->root_fstype = kd_xstrdup(type);
	if (err == 0)
		err = block_chain(&c, "root chain", name, 0);
	if (err == 0 && *type)
		err = filesystem(&c, NULL, type);
	else if (err == 0)
		KD_WARN(kd_ctx_log(r->ctx), "/dev/%s: the root's filesystem type is not known (not mounted, "
			"not in fstab, no superblock read): add its module with --add", name);
	if (err == 0)
		err = early_mounts(&c);
out:
	mnts_free(&c.fstab);
	mnts_free(&c.mountinfo);
	free(c.fstab_path);
	free(c.dmtable);
	free(mi);
	return err;
}
