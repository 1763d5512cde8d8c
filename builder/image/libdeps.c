// SPDX-License-Identifier: MIT
/*
 * The shared libraries a dynamically linked program loads, found as glibc's
 * ld.so finds them (elf/dl-load.c), read with libelf from the program
 * headers (what ld.so reads; section headers may be stripped):
 *
 *   PT_INTERP       the interpreter, kept under the path the binary names
 *                   (/lib64/ld-linux-x86-64.so.2) with the links it goes
 *                   through; its DT_SONAME matches libc's DT_NEEDED on it
 *   DT_NEEDED       breadth first, in file order; a name already loaded
 *                   (as a requested name or a SONAME) is not searched again
 *   search order    for a name without '/':
 *                   1. DT_RPATH of the loading object, then of its loader
 *                      and so on up to the program, then the program's own,
 *                      all only when the loading object has no DT_RUNPATH
 *                      (an object with DT_RUNPATH has no DT_RPATH at all)
 *                   2. LD_LIBRARY_PATH: never (the image's environment is
 *                      not the build's)
 *                   3. DT_RUNPATH of the loading object only
 *                   4. ROOT/etc/ld.so.conf and its include globs (what
 *                      ldconfig puts in ld.so.cache)
 *                   5. the default directories, as `ld.so --help` lists
 *                      them on Debian 12 x86_64: /lib/x86_64-linux-gnu,
 *                      /usr/lib/x86_64-linux-gnu, /lib, /usr/lib
 *                   A file of another ELF class or machine than the
 *                   program is skipped and the search goes on, as ld.so
 *                   does.  glibc-hwcaps/ and legacy hwcap subdirectories
 *                   are not searched: which one ld.so picks depends on the
 *                   CPU that boots the image, the base directory's copy
 *                   works on all of them.
 *   $ORIGIN         the directory of the object holding the string (for
 *                   the program: of its real path, as /proc/self/exe
 *                   gives ld.so), ${ORIGIN} too; $LIB is
 *                   "lib/x86_64-linux-gnu" and $PLATFORM "x86_64" (what
 *                   Debian 12's ld.so expands them to, seen with LD_DEBUG)
 *
 * Every path is inside the build root: symlinks are resolved with ROOT as
 * "/" (kd_root_resolve), never through the host's own tree.
 */
#include <errno.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

#define MAX_INCLUDE_DEPTH 8
#define DST_LIB "lib/x86_64-linux-gnu"
#define DST_PLATFORM "x86_64"

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib",
};

/* ---- paths inside the root ------------------------------------------------ */

struct in_root {
	const char *root;
	kd_link_fn fn;
	void *data;
	struct kd_str host;
};

/* kd_walk's lookup on disk, with root as "/". */
static int root_lookup(void *data, const char *path, bool last, struct kd_str *target)
{
	struct in_root *r = data;
	char buf[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int err;

	r->host.len = 0;
	kd_str_printf(&r->host, "%s%s", r->root, path);
	if (lstat(r->host.s, &sb) < 0)
		return -errno;
	if (!S_ISLNK(sb.st_mode))
		return !last && !S_ISDIR(sb.st_mode) ? -ENOTDIR : 0;
	n = readlink(r->host.s, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (r->fn) {
		err = r->fn(r->data, path, buf);
		if (err < 0)
			return err;
	}
	kd_str_add(target, buf, (size_t)n);
	return 1;
}

int kd_root_resolve(const char *root, const char *path, kd_link_fn fn, void *data,
		    struct kd_str *out)
{
	struct in_root r = { .root = root ? root : "", .fn = fn, .data = data };
	int err = kd_walk(path, true, root_lookup, &r, out);

	kd_str_free(&r.host);
	if (err == 0 && out->len == 0)
		kd_str_addz(out, "/");
	return err;
}

/* ---- ld.so.conf ------------------------------------------------------------- */

static void add_dir(struct kd_ldso *l, const char *dir, size_t len)
{
	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (size_t i = 0; i < l->conf_dirs.n; i++)
		if (strlen(l->conf_dirs.v[i]) == len && memcmp(l->conf_dirs.v[i], dir, len) == 0)
			return;
	kd_strv_addn(&l->conf_dirs, dir, len);
}

static int read_ldso_conf(struct kd_ldso *l, const char *path, int depth);

/* "include GLOB": relative to the including file's directory, as ldconfig. */
static int include_glob(struct kd_ldso *l, const char *conf, const char *pattern,
			int depth)
{
	char *full;
	glob_t g;
	int err = 0, r;

	if (pattern[0] == '/')
		full = kd_xasprintf("%s%s", l->root, pattern);
	else
		full = kd_xasprintf("%s%.*s/%s", l->root, (int)(strrchr(conf, '/') - conf), conf,
				    pattern);
	r = glob(full, 0, NULL, &g);
	free(full);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0)
		kd_die_oom(0); /* without GLOB_ERR, glob fails only for memory */
	for (size_t i = 0; i < g.gl_pathc && err == 0; i++)
		err = read_ldso_conf(l, g.gl_pathv[i] + strlen(l->root), depth + 1);
	globfree(&g);
	return err;
}

/* path: inside the root.  A missing file is no error: ld.so.conf is optional. */
static int read_ldso_conf(struct kd_ldso *l, const char *path, int depth)
{
	struct kd_lines lines;
	struct kd_buf b;
	char *host, *line;
	int err;

	if (depth > MAX_INCLUDE_DEPTH) {
		KD_WARN(kd_ctx_log(l->ctx), "%s%s: ld.so.conf includes nested too deep, ignored",
			l->root, path);
		return 0;
	}
	host = kd_xasprintf("%s%s", l->root, path);
	err = kd_read_file(kd_ctx_log(l->ctx), host, &b);
	kd_lines_init(&lines, host, (const char *)b.data, err == 0 ? b.size : 0, false);
	while (err == 0 && (line = kd_lines_next(&lines)) != NULL) {
		char *hash = strchr(line, '#'), *w;

		if (hash)
			*hash = '\0';
		w = kd_word(&line);
		if (w == NULL || strcmp(w, "hwcap") == 0)
			continue;
		if (strcmp(w, "include") == 0) {
			while (err == 0 && (w = kd_word(&line)) != NULL)
				err = include_glob(l, path, w, depth);
			continue;
		}
		/* "DIR=TYPE" is the old syntax: the type is ignored */
		for (; w; w = kd_word(&line))
			if (w[0] == '/')
				add_dir(l, w, strcspn(w, "="));
	}
	kd_lines_free(&lines);
	kd_buf_free(&b);
	free(host);
	return err == -ENOENT ? 0 : err;
}

int kd_ldso_init(struct kd_ldso *l, struct kd_ctx *ctx, const char *root)
{
	int err;

	*l = (struct kd_ldso){ .ctx = ctx, .root = kd_xstrdup(root ? root : "") };
	err = read_ldso_conf(l, "/etc/ld.so.conf", 0);
	if (err < 0)
		kd_ldso_free(l);
	return err;
}

void kd_ldso_free(struct kd_ldso *l)
{
	kd_strv_free(&l->conf_dirs);
	free(l->root);
	*l = (struct kd_ldso){ 0 };
}

/* ---- one object's dynamic information ------------------------------------- */

struct object {
	char *path;        /* where it was found, inside the root */
	char *real;        /* path with every symlink resolved: the same file */
	char *origin;      /* $ORIGIN */
	struct kd_strv names; /* requested names and DT_SONAME: what matches it */
	struct kd_strv needed;
	char *runpath, *rpath, *interp;
	int loader;        /* index of the object that needed it, -1: none */
	unsigned char class;
	uint16_t machine;
};

struct closure {
	struct kd_ldso *l;
	const char *binary;
	struct object *v;
	size_t n, cap;
};

static void object_free(struct object *o)
{
	free(o->path);
	free(o->real);
	free(o->origin);
	kd_strv_free(&o->names);
	kd_strv_free(&o->needed);
	free(o->runpath);
	free(o->rpath);
	free(o->interp);
}

/* The object takes its place in the closure (its memory is the closure's). */
static void closure_add(struct closure *c, const struct object *o)
{
	KD_GROW(c->v, c->n, c->cap);
	c->v[c->n++] = *o;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static bool vaddr_offset(Elf *e, size_t phnum, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return true;
		}
	}
	return false;
}

/* A NUL-terminated string at off within [0, n). */
static const char *string_at(const unsigned char *buf, size_t n, uint64_t base,
			     uint64_t strsz, uint64_t off)
{
	if (off >= strsz || base > n || strsz > n - base ||
	    memchr(buf + base + off, '\0', strsz - off) == NULL)
		return NULL;
	return (const char *)buf + base + off;
}

static int read_dynamic(struct closure *c, struct object *o, Elf *e, size_t phnum,
			const unsigned char *buf, size_t n, const GElf_Phdr *dph)
{
	Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)dph->p_offset, dph->p_filesz,
					   ELF_T_DYN);
	uint64_t strtab = 0, strsz = 0, stroff;
	size_t count;
	GElf_Dyn dyn;

	if (d == NULL) {
		KD_ERR(kd_ctx_log(c->l->ctx), "%s%s: bad PT_DYNAMIC: %s", c->l->root, o->path,
		       elf_errmsg(-1));
		return -EINVAL;
	}
	count = d->d_size / gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
	for (size_t i = 0; i < count && gelf_getdyn(d, (int)i, &dyn); i++) {
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_STRTAB)
			strtab = dyn.d_un.d_ptr;
		else if (dyn.d_tag == DT_STRSZ)
			strsz = dyn.d_un.d_val;
	}
	if (strtab == 0)
		return 0; /* no strings: nothing needed */
	if (!vaddr_offset(e, phnum, strtab, &stroff)) {
		KD_ERR(kd_ctx_log(c->l->ctx), "%s%s: DT_STRTAB outside the file's segments",
		       c->l->root, o->path);
		return -EINVAL;
	}
	for (size_t i = 0; i < count && gelf_getdyn(d, (int)i, &dyn); i++) {
		const char *s;

		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH &&
		    dyn.d_tag != DT_RPATH && dyn.d_tag != DT_SONAME)
			continue;
		s = string_at(buf, n, stroff, strsz, dyn.d_un.d_val);
		if (s == NULL) {
			KD_ERR(kd_ctx_log(c->l->ctx),
			       "%s%s: dynamic entry %zu points outside DT_STRTAB",
			       c->l->root, o->path, i);
			return -EINVAL;
		}
		if (dyn.d_tag == DT_NEEDED)
			kd_strv_add(&o->needed, s);
		else if (dyn.d_tag == DT_SONAME)
			kd_strv_add(&o->names, s);
		else if (dyn.d_tag == DT_RUNPATH && o->runpath == NULL)
			o->runpath = kd_xstrdup(s);
		else if (dyn.d_tag == DT_RPATH && o->rpath == NULL)
			o->rpath = kd_xstrdup(s);
	}
	/* glibc (get-dynamic-info.h): with both, DT_RPATH is ignored */
	if (o->runpath) {
		free(o->rpath);
		o->rpath = NULL;
	}
	return 0;
}

/* Parse the file at o->path.  1: of another class or machine than want
 * (want NULL: the program, anything goes), 0: parsed, <0: error. */
static int object_read(struct closure *c, struct object *o, const struct object *want)
{
	struct kd_buf b = { 0 };
	size_t phnum;
	GElf_Ehdr eh;
	Elf *e = NULL;
	/* the resolved path: an absolute link read from the host would leave the root */
	char *host = kd_xasprintf("%s%s", c->l->root, o->real ? o->real : o->path);
	int err = kd_read_file(kd_ctx_log(c->l->ctx), host, &b);

	if (err < 0)
		goto out;
	if (b.size < EI_NIDENT + 4 || memcmp(b.data, ELFMAG, SELFMAG) != 0) {
		err = -ENOEXEC;
		goto out;
	}
	/* ld.so's open_verify: class and machine decide before anything else */
	o->class = b.data[EI_CLASS];
	o->machine = b.data[EI_DATA] == ELFDATA2MSB
			     ? (uint16_t)(b.data[18] << 8 | b.data[19])
			     : (uint16_t)(b.data[19] << 8 | b.data[18]);
	if (want && (o->class != want->class || o->machine != want->machine)) {
		err = 1;
		goto out;
	}
	err = kd_elf_init(c->l->ctx, host);
	if (err < 0)
		goto out;
	e = elf_memory((char *)b.data, b.size);
	if (e == NULL || elf_kind(e) != ELF_K_ELF || gelf_getehdr(e, &eh) == NULL ||
	    elf_getphdrnum(e, &phnum) < 0) {
		KD_ERR(kd_ctx_log(c->l->ctx), "%s: corrupt ELF file: %s", host, elf_errmsg(-1));
		err = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < phnum && err == 0; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) == NULL)
			continue;
		if (ph.p_type == PT_DYNAMIC) {
			err = read_dynamic(c, o, e, phnum, b.data, b.size, &ph);
		} else if (ph.p_type == PT_INTERP && o->interp == NULL) {
			if (ph.p_offset > b.size || ph.p_filesz > b.size - ph.p_offset ||
			    ph.p_filesz == 0) {
				KD_ERR(kd_ctx_log(c->l->ctx), "%s: PT_INTERP outside the file",
				       host);
				err = -EINVAL;
			} else {
				o->interp = kd_xstrndup((const char *)b.data + ph.p_offset,
							ph.p_filesz);
			}
		}
	}
out:
	elf_end(e);
	kd_buf_free(&b);
	free(host);
	return err;
}

/* ---- the search ------------------------------------------------------------- */

/* After a '$': the length of a DST token named name ("ORIGIN" or "{ORIGIN}"
 * followed by no name character), else 0. */
static size_t dst_token(const char *p, size_t room, const char *name)
{
	size_t n = strlen(name);

	if (room >= n + 2 && p[0] == '{' && memcmp(p + 1, name, n) == 0 && p[n + 1] == '}')
		return n + 2;
	if (room >= n && memcmp(p, name, n) == 0 &&
	    (room == n || !(p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z') ||
			    (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9'))))
		return n;
	return 0;
}

/* "$ORIGIN/../lib" -> "/usr/bin/../lib" */
static void expand_dst(const struct object *o, const char *in, size_t len, struct kd_str *out)
{
	const char *const values[] = { o->origin, DST_LIB, DST_PLATFORM };
	static const char *const tokens[] = { "ORIGIN", "LIB", "PLATFORM" };

	out->len = 0;
	kd_str_add(out, "", 0);
	for (size_t i = 0; i < len;) {
		size_t t = 0, skip = 0;

		while (in[i] == '$' && t < 3 &&
		       (skip = dst_token(in + i + 1, len - i - 1, tokens[t])) == 0)
			t++;
		if (skip == 0) {
			kd_str_add(out, in + i, 1);
			i++;
			continue;
		}
		kd_str_addz(out, values[t]);
		i += skip + 1;
	}
}

/* The object loaded under that name (or from that real file), else NULL. */
static struct object *loaded_as(const struct closure *c, const char *name,
				const char *real)
{
	for (size_t i = 0; i < c->n; i++) {
		if (real && c->v[i].real && strcmp(c->v[i].real, real) == 0)
			return &c->v[i];
		for (size_t j = 0; name && j < c->v[i].names.n; j++)
			if (strcmp(c->v[i].names.v[j], name) == 0)
				return &c->v[i];
	}
	return NULL;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == path || slash == NULL ? kd_xstrdup("/")
					      : kd_xstrndup(path, (size_t)(slash - path));
}

static bool is_regular(const char *root, const char *path)
{
	char *host = kd_xasprintf("%s%s", root, path);
	struct stat sb;
	bool ok = stat(host, &sb) == 0 && S_ISREG(sb.st_mode);

	free(host);
	return ok;
}

/* Try dir/name.  1: found (appended), 0: not there or of the wrong kind. */
static int try_file(struct closure *c, int loader, const char *name, const char *file)
{
	struct object o = { .loader = loader }, *same;
	struct kd_str real = { 0 };
	int err;

	if (kd_root_resolve(c->l->root, file, NULL, NULL, &real) < 0 ||
	    !is_regular(c->l->root, real.s)) {
		kd_str_free(&real);
		return 0;
	}
	/* ld.so compares device and inode: one file under two names loads once */
	same = loaded_as(c, NULL, real.s);
	if (same) {
		kd_str_free(&real);
		kd_strv_add(&same->names, name);
		return 1;
	}
	o.real = kd_str_take(&real);
	o.path = kd_xstrdup(file);
	err = object_read(c, &o, &c->v[0]);
	if (err == 1)
		KD_DBG(kd_ctx_log(c->l->ctx), "%s%s: another ELF class or machine, skipped",
		       c->l->root, file);
	if (err != 0) {
		object_free(&o);
		/* not a library for this program: the search goes on */
		return err == 1 || err == -ENOENT || err == -ENOEXEC || err == -EISDIR ? 0 : err;
	}
	o.origin = dir_of(file);
	kd_strv_add(&o.names, name);
	closure_add(c, &o);
	return 1;
}

/* Each directory of a colon-separated list (DSTs expanded against o). */
static int try_path_list(struct closure *c, int loader, const struct object *o,
			 const char *list, const char *name)
{
	struct kd_str dir = { 0 }, file = { 0 };
	int r = 0;

	for (const char *p = list; r == 0 && *p;) {
		size_t len = strcspn(p, ":");

		if (len > 0) {
			expand_dst(o, p, len, &dir);
			if (dir.s[0] == '/') {
				file.len = 0;
				kd_str_printf(&file, "%s/%s", dir.s, name);
				r = try_file(c, loader, name, file.s);
			}
		}
		p += len + (p[len] == ':');
	}
	kd_str_free(&dir);
	kd_str_free(&file);
	return r;
}

static int try_dirs(struct closure *c, int loader, const char *const *dirs, size_t n,
		    const char *name)
{
	struct kd_str file = { 0 };
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		file.len = 0;
		kd_str_printf(&file, "%s/%s", strcmp(dirs[i], "/") ? dirs[i] : "", name);
		r = try_file(c, loader, name, file.s);
	}
	kd_str_free(&file);
	return r;
}

/* The order of _dl_map_object for a name without '/'. */
static int search(struct closure *c, int loader, const char *name)
{
	const struct object *ld = &c->v[loader];
	bool did_main = false;
	int r = 0;

	if (ld->runpath == NULL) {
		for (int l = loader; l >= 0 && r == 0; l = c->v[l].loader) {
			if (c->v[l].rpath == NULL)
				continue;
			r = try_path_list(c, loader, &c->v[l], c->v[l].rpath, name);
			did_main |= l == 0;
		}
		if (r == 0 && !did_main && c->v[0].rpath)
			r = try_path_list(c, loader, &c->v[0], c->v[0].rpath, name);
	}
	/* c->v may have moved: index again */
	if (r == 0 && c->v[loader].runpath)
		r = try_path_list(c, loader, &c->v[loader], c->v[loader].runpath, name);
	if (r == 0)
		r = try_dirs(c, loader, (const char *const *)c->l->conf_dirs.v,
			     c->l->conf_dirs.n, name);
	if (r == 0)
		r = try_dirs(c, loader, default_dirs,
			     sizeof(default_dirs) / sizeof(default_dirs[0]), name);
	return r;
}

static int need(struct closure *c, int loader, const char *needed)
{
	struct kd_str name = { 0 };
	int r;

	if (loaded_as(c, needed, NULL))
		return 0;
	expand_dst(&c->v[loader], needed, strlen(needed), &name);
	if (strchr(name.s, '/'))
		r = try_file(c, loader, needed, name.s);
	else
		r = search(c, loader, name.s);
	if (r == 0) {
		KD_ERR(kd_ctx_log(c->l->ctx),
		       "%s: library %s (needed by %s%s) not found in its RPATH/RUNPATH, "
		       "%s/etc/ld.so.conf or the default directories (install it, or add its "
		       "directory to ld.so.conf)",
		       c->binary, name.s, c->l->root, c->v[loader].path, c->l->root);
		r = -ENOENT;
	}
	kd_str_free(&name);
	return r < 0 ? r : 0;
}

static int add_interp(struct closure *c)
{
	struct object o = { .loader = -1, .path = kd_xstrdup(c->v[0].interp) };
	struct kd_str real = { 0 };
	int err = kd_root_resolve(c->l->root, o.path, NULL, NULL, &real);

	o.real = kd_str_take(&real);
	if (err >= 0)
		err = object_read(c, &o, NULL);
	if (err == -ENOENT)
		KD_ERR(kd_ctx_log(c->l->ctx), "%s: its ELF interpreter %s%s does not exist",
		       c->binary, c->l->root, o.path);
	if (err != 0) {
		object_free(&o);
		return err < 0 ? err : -ENOEXEC;
	}
	o.origin = dir_of(o.path);
	kd_strv_add(&o.names, o.path);
	closure_add(c, &o);
	return 0;
}

int kd_ldso_closure(struct kd_ldso *l, const char *binary, struct kd_libdeps *out)
{
	struct closure c = { .l = l, .binary = binary };
	struct object prog = { .loader = -1, .path = kd_xstrdup(binary) };
	struct kd_str real = { 0 };
	size_t first_lib;
	int err;

	*out = (struct kd_libdeps){ 0 };
	err = kd_root_resolve(l->root, binary, NULL, NULL, &real);
	if (err < 0) {
		KD_ERR(kd_ctx_log(l->ctx), "%s%s: %s", l->root, binary, strerror(-err));
		object_free(&prog);
		goto out;
	}
	prog.origin = dir_of(real.s);
	prog.real = kd_str_take(&real);
	closure_add(&c, &prog);
	err = object_read(&c, &c.v[0], NULL);
	if (err == -ENOEXEC) {
		out->not_elf = true; /* a script: nothing for ld.so to load */
		err = 0;
		goto out;
	}
	if (err < 0)
		goto out;
	if (c.v[0].interp) {
		err = add_interp(&c);
		if (err < 0)
			goto out;
	}
	first_lib = c.n;
	out->is_static = c.v[0].interp == NULL && c.v[0].needed.n == 0;
	/* breadth first: the objects appended while walking are walked too */
	for (size_t i = 0; i < c.n; i++) {
		if (i > 0 && i < first_lib)
			continue; /* the interpreter needs nothing */
		for (size_t j = 0; j < c.v[i].needed.n; j++) {
			err = need(&c, (int)i, c.v[i].needed.v[j]);
			if (err < 0)
				goto out;
		}
	}
	for (size_t i = 1; i < c.n; i++)
		kd_strv_add(&out->paths, c.v[i].path);
out:
	if (err < 0)
		kd_libdeps_free(out);
	for (size_t i = 0; i < c.n; i++)
		object_free(&c.v[i]);
	free(c.v);
	kd_str_free(&real);
	return err;
}

void kd_libdeps_free(struct kd_libdeps *d)
{
	kd_strv_free(&d->paths);
	*d = (struct kd_libdeps){ 0 };
}
