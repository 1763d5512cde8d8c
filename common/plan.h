/* SPDX-License-Identifier: MIT */
/*
 * The load plan: the one format the builder writes and the init reads.
 *
 * The builder resolves everything at build time (dependencies, soft
 * dependencies, options, blacklists, aliases) so the init never parses
 * modules.dep or modprobe.d at boot.  The file lives in the image at
 * KP_PLAN_PATH and is read whole into memory by the init.
 *
 * Layout (all integers little-endian uint32, all offsets from file start):
 *
 *   struct kp_header                      at offset 0
 *   struct kp_module   modules[n_modules] at modules_off
 *   uint32_t           deps[n_deps]       at deps_off     (module indices)
 *   struct kp_alias    aliases[n_aliases] at aliases_off  (sorted by pattern)
 *   uint32_t           builtins[n_builtins] at builtins_off (string offsets,
 *                                          sorted, normalised names)
 *   char               strings[strings_size] at strings_off
 *
 * Strings are NUL-terminated and referenced by their offset inside the
 * string table; offset 0 is always the empty string.  Module names are
 * normalised ('-' becomes '_').
 *
 * A module's "before" list (deps_first, n_deps) holds every module that
 * must be live before it: its hard dependencies and its softdep "pre"
 * modules.  Its "after" list (post_first, n_post) holds softdep "post"
 * modules, loaded once it is live.  The builder guarantees the graph of
 * "before" edges is acyclic and that modules[] is in a valid serial order.
 *
 * Version history:
 *   1  first format.
 */
#ifndef KINDLING_PLAN_H
#define KINDLING_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KP_PLAN_PATH "/etc/kindling/plan"
#define KP_MAGIC "KINDLPLN"
#define KP_MAGIC_LEN 8
#define KP_VERSION 1u

/* kp_module.flags */
enum {
	KP_MOD_LOAD = 1u << 0,        /* load at boot unconditionally */
	KP_MOD_BLACKLISTED = 1u << 1, /* never load on a device match */
	KP_MOD_FILESYSTEM = 1u << 2,  /* a filesystem driver (fs-* alias) */
};

/* kp_header.flags */
enum {
	KP_PLAN_HOST_ONLY = 1u << 0, /* built for one machine */
};

struct kp_header {
	char magic[KP_MAGIC_LEN];
	uint32_t version;
	uint32_t header_size;   /* sizeof(struct kp_header) when written */
	uint32_t file_size;     /* total size, to catch truncation */
	uint32_t flags;
	uint32_t kver;          /* string: kernel release the image is for */
	uint32_t default_root;  /* string: root= used when cmdline has none */
	uint32_t cmdline;       /* string: extra command-line defaults */
	uint32_t root_timeout;  /* seconds to wait for the root device */
	uint32_t n_modules, modules_off;
	uint32_t n_deps, deps_off;
	uint32_t n_aliases, aliases_off;
	uint32_t n_builtins, builtins_off;
	uint32_t strings_size, strings_off;
};

struct kp_module {
	uint32_t name;     /* string: normalised module name */
	uint32_t path;     /* string: absolute path of the .ko in the image */
	uint32_t options;  /* string: parameters, space separated */
	uint32_t reason;   /* string: why the builder put it in the image */
	uint32_t flags;    /* KP_MOD_* */
	uint32_t deps_first, n_deps; /* "before" list, indices into deps[] */
	uint32_t post_first, n_post; /* "after" list, indices into deps[] */
};

struct kp_alias {
	uint32_t pattern; /* string: fnmatch(3) pattern, normalised */
	uint32_t module;  /* index into modules[] */
};

/* A validated view of a plan held in memory. */
struct kp_plan {
	const unsigned char *base;
	size_t size;
	const struct kp_header *hdr;
	const struct kp_module *modules;
	const uint32_t *deps;
	const struct kp_alias *aliases;
	const uint32_t *builtins;
	const char *strings;
};

static inline int kp_range_ok(size_t size, uint32_t off, uint64_t count, size_t elem)
{
	uint64_t end = (uint64_t)off + count * (uint64_t)elem;
	return count <= size && end <= size && off % 4 == 0;
}

static inline const char *kp_str(const struct kp_plan *p, uint32_t off)
{
	return off < p->hdr->strings_size ? p->strings + off : "";
}

/*
 * Check every offset and index of a plan in buf (which must be 4-byte
 * aligned) and fill *p.  Returns NULL on success, else a static message
 * naming what is wrong.  Only little-endian hosts are supported.
 */
static inline const char *kp_plan_open(struct kp_plan *p, const void *buf, size_t size)
{
	const struct kp_header *h = buf;
	uint32_t i;

	if (size < sizeof(*h))
		return "plan is shorter than its header";
	if (memcmp(h->magic, KP_MAGIC, KP_MAGIC_LEN) != 0)
		return "plan has a bad magic (not a kindling plan)";
	if (h->version != KP_VERSION)
		return "plan has an unsupported version (built by another kindling)";
	if (h->header_size < sizeof(*h) || h->file_size != size)
		return "plan is truncated or has a bad size";
	if (!kp_range_ok(size, h->modules_off, h->n_modules, sizeof(struct kp_module)) ||
	    !kp_range_ok(size, h->deps_off, h->n_deps, sizeof(uint32_t)) ||
	    !kp_range_ok(size, h->aliases_off, h->n_aliases, sizeof(struct kp_alias)) ||
	    !kp_range_ok(size, h->builtins_off, h->n_builtins, sizeof(uint32_t)) ||
	    (uint64_t)h->strings_off + h->strings_size > size || h->strings_size == 0)
		return "plan has a table outside the file";
	p->base = buf;
	p->size = size;
	p->hdr = h;
	p->modules = (const void *)((const unsigned char *)buf + h->modules_off);
	p->deps = (const void *)((const unsigned char *)buf + h->deps_off);
	p->aliases = (const void *)((const unsigned char *)buf + h->aliases_off);
	p->builtins = (const void *)((const unsigned char *)buf + h->builtins_off);
	p->strings = (const char *)buf + h->strings_off;
	if (p->strings[0] != '\0' || p->strings[h->strings_size - 1] != '\0')
		return "plan string table is not NUL-terminated";
	for (i = 0; i < h->n_modules; i++) {
		const struct kp_module *m = &p->modules[i];
		if ((uint64_t)m->deps_first + m->n_deps > h->n_deps ||
		    (uint64_t)m->post_first + m->n_post > h->n_deps)
			return "plan module has a dependency list outside the table";
	}
	for (i = 0; i < h->n_deps; i++)
		if (p->deps[i] >= h->n_modules)
			return "plan dependency names a module index out of range";
	for (i = 0; i < h->n_aliases; i++)
		if (p->aliases[i].module >= h->n_modules)
			return "plan alias names a module index out of range";
	return NULL;
}

#endif
