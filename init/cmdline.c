// SPDX-License-Identifier: MIT
/*
 * The kernel command line, read once.  Arguments split as the kernel's
 * next_arg() does: spaces end an argument outside double quotes, a quote
 * around the whole argument or around its value is dropped.  Everything
 * after "--" belongs to the real init (the kernel hands it over in argv).
 * A bad value is reported naming it and otherwise ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/modname.h"
#include "init.h"

void ki_cmdline_init(struct ki_cmdline *c)
{
	memset(c, 0, sizeof(*c));
	c->rw = -1;
	c->timeout = -1;
}

/* Cut the next argument out of *pos (in place); NULL at the end. */
static char *next_arg(char **pos)
{
	char *p = *pos, *start;
	bool quoted = false;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0')
		return NULL;
	start = p;
	for (; *p; p++) {
		if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
			break;
		if (*p == '"')
			quoted = !quoted;
	}
	*pos = *p ? p + 1 : p;
	*p = '\0';
	return start;
}

static char *unquote(char *s)
{
	size_t len;

	if (*s != '"')
		return s;
	s++;
	len = strlen(s);
	if (len && s[len - 1] == '"')
		s[len - 1] = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* udev escapes unsafe bytes of /dev/disk/by-label names as \xNN. */
static int copy_unescaped(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src; src++) {
		char c = *src;

		if (c == '\\' && src[1] == 'x' && hexval(src[2]) >= 0 && hexval(src[3]) >= 0) {
			c = (char)(hexval(src[2]) << 4 | hexval(src[3]));
			src += 3;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		dst[n++] = c;
	}
	dst[n] = '\0';
	return n ? 0 : -EINVAL;
}

static int parse_devnum(struct ki_root *r, const char *s)
{
	char *end;
	unsigned long maj, min;

	if (strchr(s, ':')) {
		maj = strtoul(s, &end, 10);
		if (end == s || *end != ':')
			return -EINVAL;
		s = end + 1;
		min = strtoul(s, &end, 10);
		if (end == s || *end || maj > 4095 || min > 0xfffff)
			return -EINVAL;
	} else {
		unsigned long v = strtoul(s, &end, 16);

		if (end == s || *end || end - s > 4)
			return -EINVAL;
		maj = v >> 8;
		min = v & 0xff;
	}
	r->kind = KI_ROOT_DEVNUM;
	r->major = (unsigned)maj;
	r->minor = (unsigned)min;
	return 0;
}

static const struct {
	const char *prefix;
	enum ki_root_kind kind;
} root_forms[] = {
	{ "UUID=", KI_ROOT_UUID },
	{ "LABEL=", KI_ROOT_LABEL },
	{ "PARTUUID=", KI_ROOT_PARTUUID },
	{ "PARTLABEL=", KI_ROOT_PARTLABEL },
	{ "/dev/disk/by-uuid/", KI_ROOT_UUID },
	{ "/dev/disk/by-label/", KI_ROOT_LABEL },
	{ "/dev/disk/by-partuuid/", KI_ROOT_PARTUUID },
	{ "/dev/disk/by-partlabel/", KI_ROOT_PARTLABEL },
	{ "/dev/", KI_ROOT_DEVNAME },
};

/* root= in any of its forms, into one {kind, value}. */
int ki_root_parse(struct ki_root *r, const char *text)
{
	size_t i, len;
	int err;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < KI_ARRAY_SIZE(root_forms); i++) {
		len = strlen(root_forms[i].prefix);
		if (strncmp(text, root_forms[i].prefix, len) != 0)
			continue;
		r->kind = root_forms[i].kind;
		if (r->kind == KI_ROOT_LABEL || r->kind == KI_ROOT_PARTLABEL || text[0] == '/')
			err = copy_unescaped(r->value, sizeof(r->value), text + len);
		else if (strlen(text + len) >= sizeof(r->value))
			err = -ENAMETOOLONG;
		else
			err = text[len] ? (strcpy(r->value, text + len), 0) : -EINVAL;
		/* The kernel's PARTUUID=x/PARTNROFF=n is not a form we can match. */
		if (err == 0 && r->kind == KI_ROOT_PARTUUID && strchr(r->value, '/'))
			err = -EINVAL;
		if (err < 0)
			r->kind = KI_ROOT_NONE;
		return err;
	}
	return parse_devnum(r, text);
}

const char *ki_root_kind_name(enum ki_root_kind kind)
{
	switch (kind) {
	case KI_ROOT_DEVNAME: return "device";
	case KI_ROOT_DEVNUM: return "device number";
	case KI_ROOT_UUID: return "UUID";
	case KI_ROOT_LABEL: return "LABEL";
	case KI_ROOT_PARTUUID: return "PARTUUID";
	case KI_ROOT_PARTLABEL: return "PARTLABEL";
	default: return "nothing";
	}
}

static const char *const stage_names[KI_N_STAGES] = { "modules", "pre-mount", "pre-switch" };

const char *ki_stage_name(enum ki_stage s)
{
	return (unsigned)s < KI_N_STAGES ? stage_names[s] : "?";
}

/* A stage by its name (enum ki_stage), or -EINVAL. */
int ki_stage_parse(const char *name)
{
	for (int i = 0; i < KI_N_STAGES; i++)
		if (strcmp(name, stage_names[i]) == 0)
			return i;
	return -EINVAL;
}

/* rd.break alone stops before switching root, as dracut's does. */
static int set_break(struct ki_cmdline *c, const char *val)
{
	int s = val ? ki_stage_parse(val) : KI_STAGE_PRE_SWITCH;

	if (s < 0)
		return s;
	c->breaks |= 1u << s;
	return 0;
}

/* One of words (NULL-ended) into *out, its index. */
static int set_word(int *out, const char *val, const char *const *words)
{
	for (int i = 0; val && words[i]; i++)
		if (strcmp(val, words[i]) == 0)
			return *out = i, 0;
	return -EINVAL;
}

/*
 * Split a comma separated list of module names into list, normalised as
 * modprobe takes a name (kmod's alias rule); one kmod would refuse (an
 * unbalanced bracket) names no module and is kept as given.
 */
static int add_names(const char **list, unsigned *n, char *val)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= KI_MAX_NAMES)
			return -E2BIG;
		kc_alias_normalize(tok, tok, strlen(tok) + 1);
		list[(*n)++] = tok;
	}
	return 0;
}

static int set_uint(unsigned *dst, const char *val, unsigned max)
{
	return val ? ki_parse_uint(val, max, dst) : -EINVAL;
}

/* MOD.param[=value]: kept for when MOD loads. */
static int add_param(struct ki_cmdline *c, char *key, char *val)
{
	char *dot = strchr(key, '.');

	if (dot == key || dot[1] == '\0')
		return -EINVAL;
	if (c->n_params >= KI_MAX_PARAMS)
		return -E2BIG;
	*dot = '\0';
	kc_modname_normalize(key, key, strlen(key) + 1);
	c->params[c->n_params].module = key;
	c->params[c->n_params].name = dot + 1;
	c->params[c->n_params].value = val;
	c->n_params++;
	return 0;
}

static bool is_key(const char *key, const char *a, const char *b)
{
	return strcmp(key, a) == 0 || (b && strcmp(key, b) == 0);
}

static int set_root(struct ki_cmdline *c, const char *val)
{
	struct ki_root r;
	int err;

	if (val == NULL)
		return -EINVAL;
	err = ki_root_parse(&r, val);
	if (err < 0)
		return err;
	c->root = r;
	snprintf(c->root_text, sizeof(c->root_text), "%s", val);
	return 0;
}

static int set_str(const char **dst, const char *val)
{
	if (val == NULL || *val == '\0')
		return -EINVAL;
	*dst = val;
	return 0;
}

/* The arguments without a value; false when key is none of them. */
static bool apply_flag(struct ki_cmdline *c, const char *key)
{
	if (is_key(key, "ro", "rw"))
		c->rw = key[1] == 'w';
	else if (is_key(key, "rootwait", NULL))
		c->rootwait = true;
	else if (is_key(key, "quiet", NULL))
		c->quiet = true;
	else if (is_key(key, "rd.debug", NULL))
		c->debug = true;
	else
		return false;
	return true;
}

/* One argument; 1 when it is not ours, else 0 or -errno for a bad value. */
static int apply(struct ki_cmdline *c, char *key, char *val)
{
	unsigned t;
	int err, w;

	if (is_key(key, "root", NULL))
		return set_root(c, val);
	if (is_key(key, "rootfstype", NULL))
		return set_str(&c->rootfstype, val);
	if (is_key(key, "rootflags", NULL))
		return set_str(&c->rootflags, val);
	if (is_key(key, "init", NULL))
		return set_str(&c->init, val);
	if (is_key(key, "rootdelay", NULL))
		return set_uint(&c->rootdelay, val, 86400);
	if (is_key(key, "rd.timeout", NULL)) {
		err = set_uint(&t, val, 86400);
		if (err == 0)
			c->timeout = (int)t;
		return err;
	}
	if (is_key(key, "rd.break", NULL))
		return set_break(c, val);
	if (is_key(key, "fsck.mode", NULL)) {
		static const char *const modes[] = { "auto", "force", "skip", NULL };

		err = set_word(&w, val, modes);
		if (err == 0)
			c->fsck_mode = (enum ki_fsck_mode)w;
		return err;
	}
	if (is_key(key, "fsck.repair", NULL)) {
		static const char *const repairs[] = { "preen", "yes", "no", NULL };

		err = set_word(&w, val, repairs);
		if (err == 0)
			c->fsck_repair = (enum ki_fsck_repair)w;
		return err;
	}
	if (is_key(key, "modprobe.blacklist", NULL))
		return val ? add_names(c->blacklist, &c->n_blacklist, val) : -EINVAL;
	if (is_key(key, "rd.modules-load", "rd.modules_load") ||
	    is_key(key, "modules-load", "modules_load"))
		return val ? add_names(c->load, &c->n_load, val) : -EINVAL;
	if (val == NULL && apply_flag(c, key))
		return 0;
	if (strncmp(key, "rd.", 3) == 0 || strncmp(key, "modprobe.", 9) == 0)
		return 1;
	if (strchr(key, '.'))
		return add_param(c, key, val);
	return 1;
}

static void report(const struct ki_log *log, const char *key, const char *val, int err)
{
	const char *why = err == -E2BIG ? "too many values" :
			  err == -ENAMETOOLONG ? "too long" :
			  err == -ERANGE ? "out of range" : "not understood";

	ki_log(log, KI_ERR, "ignoring bad kernel argument %s%s%s (%s): see kindling's README",
	       key, val ? "=" : "", val ? val : "", why);
}

/*
 * Parse text (the plan's defaults, then /proc/cmdline: later wins) into c.
 * Returns the number of bad values, each reported through log.
 */
int ki_cmdline_parse(struct ki_cmdline *c, const char *text, const struct ki_log *log)
{
	size_t len = strlen(text);
	char *pos, *arg, *key, *val, *eq;
	int bad = 0, err;

	if (len + 1 > sizeof(c->buf) - c->used) {
		ki_log(log, KI_ERR, "kernel command line too long (%zu bytes): ignored", len);
		return 1;
	}
	pos = memcpy(c->buf + c->used, text, len + 1);
	c->used += len + 1;
	while ((arg = next_arg(&pos)) != NULL) {
		if (strcmp(arg, "--") == 0)
			break;
		key = unquote(arg);
		eq = strchr(key, '=');
		val = NULL;
		if (eq) {
			*eq = '\0';
			val = unquote(eq + 1);
		}
		err = apply(c, key, val);
		if (err < 0) {
			report(log, key, val, err);
			bad++;
		}
	}
	return bad;
}

bool ki_cmdline_blacklisted(const struct ki_cmdline *c, const char *module)
{
	for (unsigned i = 0; c && i < c->n_blacklist; i++)
		if (strcmp(c->blacklist[i], module) == 0)
			return true;
	return false;
}

/* Append " name=value" (quoted when it has spaces) for every MOD.name=value. */
int ki_cmdline_module_params(const struct ki_cmdline *c, const char *module, char *buf,
			     size_t size)
{
	size_t len = strlen(buf);

	for (unsigned i = 0; c && i < c->n_params; i++) {
		const struct ki_param *p = &c->params[i];
		const char *v = p->value;
		int n;

		if (strcmp(p->module, module) != 0)
			continue;
		if (v == NULL)
			n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", p->name);
		else
			n = snprintf(buf + len, size - len, strchr(v, ' ') ? "%s%s=\"%s\"" :
				     "%s%s=%s", len ? " " : "", p->name, v);
		if (n < 0 || (size_t)n >= size - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}
