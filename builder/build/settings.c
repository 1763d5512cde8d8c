// SPDX-License-Identifier: MIT
/*
 * The precedence of a build's settings: built-in defaults, then
 * kindling.conf (conffile.c), then the options (kd_build_opts: the command
 * line's flags).  A scalar option wins, a list option adds to the files'
 * list.  Options that contradict a file's setting make it give way (a
 * --compress drops the files' level, meant for their compressor; --format
 * cpio or list drops their compress and microcode); the same contradiction
 * between two options is an error.  Last, what is still open is decided:
 * host-only or generic, and which vendors "auto" microcode means.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "build/build.h"
#include "codec/codec.h"

/* An option or setting that cannot be used, said as kindling build says it. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("kindling build: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static void add_all(struct kd_strv *to, const char *const *v)
{
	for (size_t i = 0; v && v[i]; i++)
		kd_strv_add(to, v[i]);
}

/* The lists: the files' words first, then the options'; a set "generic"
 * in the files is --generic. */
static void lists(const struct kd_build_opts *o, const struct kd_buildconf *c,
		  struct kd_build_settings *s)
{
	for (size_t i = 0; i < c->sets.n; i++) {
		if (strcmp(c->sets.v[i], "generic") == 0)
			s->generic = true;
		else
			kd_strv_add(&s->sets, c->sets.v[i]);
	}
	add_all(&s->sets, o->sets);
	add_all(&s->adds, (const char *const *)c->adds.v);
	s->n_conf_adds = s->adds.n;
	add_all(&s->adds, o->adds);
	add_all(&s->omits, (const char *const *)c->omits.v);
	add_all(&s->omits, o->omits);
	add_all(&s->hooks, (const char *const *)c->hooks.v);
	add_all(&s->hooks, o->hooks);
}

/* Host-only when asked (--host-only, else the files' hostonly), else when
 * building for this machine with no module choice of its own; generic when
 * nothing else is chosen. */
static void modules(const struct kd_build_opts *o, const struct kd_buildconf *c,
		    struct kd_build_settings *s)
{
	s->generic |= o->generic;
	if (o->host_only || o->generic)
		s->host_only = o->host_only;
	else if (c->hostonly >= 0)
		s->host_only = c->hostonly == 1;
	else
		s->host_only = !s->generic && s->sets.n == 0 && s->adds.n == 0 &&
			       o->db.root == NULL && o->db.moddir == NULL;
	if (!s->host_only && !s->generic && s->sets.n == 0 && s->adds.n == 0)
		s->generic = true;
}

static int format(const struct kd_build_opts *o, struct kd_image_opts *shape)
{
	static const char *const formats[] = { "image", "cpio", "list" };

	shape->format = KD_FORMAT_IMAGE;
	if (o->format == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(o->format, formats[i]) == 0) {
			shape->format = (enum kd_format)i;
			return 0;
		}
	return bad("--format %s: expected image, cpio or list", o->format);
}

/* --compress and --level over the files' compress and level. */
static int compression(const struct kd_build_opts *o, const struct kd_buildconf *c,
		       struct kd_image_opts *shape)
{
	const char *comp = o->compress ? o->compress : c->compress;
	bool level_from_conf = o->level < 0 && c->level >= 0;
	char msg[128];

	shape->compress = KD_CODEC_ZSTD;
	if (comp && kd_compress_parse(comp, &shape->compress) < 0)
		return bad("--compress %s: expected zstd, xz, gzip, lz4 or none", comp);
	if (shape->format != KD_FORMAT_IMAGE) {
		if (o->compress && shape->compress != KD_CODEC_NONE)
			return bad("--format %s is never compressed: drop --compress %s",
				   o->format, o->compress);
		shape->compress = KD_CODEC_NONE;
		return 0; /* never compressed: no level */
	}
	shape->level = o->level >= 0 ? o->level : c->level;
	/* the files' level is for the files' compressor, not another option's */
	shape->has_level = o->level >= 0 || (level_from_conf && o->compress == NULL);
	if (shape->has_level &&
	    kd_compress_check_level(shape->compress, shape->level, msg, sizeof(msg)) < 0)
		return bad("%s %d: %s", level_from_conf ? "kindling.conf: level =" : "--level",
			   shape->level, msg);
	return 0;
}

/* --microcode over the files' microcode; "auto": both vendors for another
 * machine (a generic image, or a ROOT), else this CPU's. */
static int microcode(const struct kd_build_opts *o, const struct kd_buildconf *c,
		     bool generic, struct kd_image_opts *shape)
{
	const char *ucode = o->microcode ? o->microcode : c->microcode ? c->microcode : "auto";
	const char *root = o->db.root;

	if (strcmp(ucode, "none") == 0)
		shape->microcode = 0;
	else if (strcmp(ucode, "all") == 0)
		shape->microcode = KD_UCODE_INTEL | KD_UCODE_AMD;
	else if (strcmp(ucode, "auto") == 0)
		shape->microcode = generic || (root && *root) ? KD_UCODE_INTEL | KD_UCODE_AMD :
				   kd_microcode_host_vendor();
	else
		return bad("--microcode %s: expected auto, all or none", ucode);
	if (shape->format == KD_FORMAT_IMAGE)
		return 0;
	/* the kernel looks for early microcode only in the boot loader's initrd */
	if (o->microcode && shape->microcode)
		return bad("--microcode %s needs --format image: the kernel reads early "
			   "microcode only from the boot loader's initrd", ucode);
	shape->microcode = 0;
	return 0;
}

int kd_build_settle(const struct kd_build_opts *o, const struct kd_buildconf *c,
		    struct kd_build_settings *s)
{
	memset(s, 0, sizeof(*s));
	lists(o, c, s);
	s->root_default = o->root_default ? o->root_default : c->default_root;
	s->cmdline = o->default_cmdline ? o->default_cmdline : c->cmdline;
	s->root_timeout = (unsigned)(o->root_timeout >= 0 ? o->root_timeout :
				     c->root_timeout >= 0 ? c->root_timeout : 0);
	modules(o, c, s);
	if (format(o, &s->shape) < 0 || compression(o, c, &s->shape) < 0 ||
	    microcode(o, c, s->generic, &s->shape) < 0)
		return -EINVAL;
	return 0;
}

void kd_build_settings_free(struct kd_build_settings *s)
{
	kd_strv_free(&s->sets);
	kd_strv_free(&s->adds);
	kd_strv_free(&s->omits);
	kd_strv_free(&s->hooks);
}
