// SPDX-License-Identifier: MIT
/*
 * depmod's work for a module tree without (or with stale) indexes: the text
 * of modules.dep, .alias, .softdep, .weakdep and .symbols, byte for byte what
 * kmod 30's depmod writes (modules.weakdep as kmod 33 and later write it).
 *
 * Every order below is depmod's, because modprobe's answers depend on it:
 *
 *  - Files are found by a depth-first walk in readdir order, skipping
 *    "build" and "source"; a name ending in .ko, .ko.xz, .ko.zst or .ko.gz
 *    is a module (.ko.gz as a kmod built with zlib; Debian's is not).  Two
 *    files of one module name: the first found stays, unless the new one is
 *    under updates/.  That is depmod's default "search updates", quirks
 *    included; depmod.d files (search, override, exclude, external) are not
 *    read: Debian ships none.
 *  - The module array starts in the iteration order of kmod's hash table of
 *    names (512 buckets, SuperFastHash, each bucket sorted by strcmp), then
 *    is sorted stably by modules.order: listed modules first, by their last
 *    line; the others keep the hash order after them.
 *  - A symbol exported by several modules belongs to the last in the array.
 *    A module's dependencies are the owners of its undefined symbols, in the
 *    order first needed; symbols of vmlinux are nobody's.
 *  - Topological order: a stack of modules nobody uses, in array order; the
 *    top is numbered next and its dependencies, in order, are pushed once
 *    their last user is numbered.  A modules.dep line lists every module
 *    reachable from the module, by that number.
 *  - modules.symbols is in the iteration order of kmod's symbol hash table
 *    (2048 buckets).
 *
 * Where depmod would fail (dependency cycles), the cycles are reported by
 * module name and the output is still produced: cyclic modules are numbered
 * after the others, in array order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moddb/moddb.h"
#include "codec/codec.h"

#define NAME_BUCKETS 512u /* depmod's modules_by_name table */
#define SYMBOL_BUCKETS 2048u /* depmod's symbols table */
#define ORDER_LINE_MAX (PATH_MAX - 1) /* depmod reads modules.order with fgets */

static const char *const module_exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

struct dg_mod {
	char *path;	     /* dir/relpath */
	const char *relpath; /* what modules.dep prints */
	char *uncrelpath;    /* relpath ending at ".ko": modules.order's key */
	char *name;	     /* normalised module name */
	off_t size;	     /* of the file: big ones are read first */
	int sort_idx;	     /* modules.order position (negative), else 1 */
	struct kd_symbols syms;
	struct kd_modinfo info;
	uint32_t *deps; /* array positions, in the order first needed */
	size_t n_deps, cap_deps;
	uint32_t users; /* modules depending on it */
	uint32_t dep_sort_idx;
};

struct depgen {
	struct kd_ctx *ctx;
	char *dir;
	struct kd_olist found; /* struct dg_mod by name: the file kept for each */
	struct dg_mod **mods;  /* depmod's module array */
	size_t n;
	struct kd_map symbols; /* exported name -> owner's array position */
	char path[PATH_MAX];
};

/* ---- kmod's hash order ------------------------------------------------------ */

/* Paul Hsieh's SuperFastHash as kmod computes it: 16-bit words in host byte
 * order and the odd tail bytes as the host's (signed) char. */
static uint32_t kmod_hash(const char *key)
{
	size_t len = strlen(key), rem = len & 3, words = len / 4;
	uint32_t h = (uint32_t)len, tmp;
	uint16_t w0, w1;

	for (; words > 0; words--, key += 4) {
		memcpy(&w0, key, 2);
		memcpy(&w1, key + 2, 2);
		h += w0;
		tmp = ((uint32_t)w1 << 11) ^ h;
		h = (h << 16) ^ tmp;
		h += h >> 11;
	}
	switch (rem) {
	case 3:
		memcpy(&w0, key, 2);
		h += w0;
		h ^= h << 16;
		h ^= (uint32_t)(int)key[2] << 18;
		h += h >> 11;
		break;
	case 2:
		memcpy(&w0, key, 2);
		h += w0;
		h ^= h << 11;
		h += h >> 17;
		break;
	case 1:
		h += (uint32_t)(int)key[0];
		h ^= h << 10;
		h += h >> 1;
		break;
	}
	h ^= h << 3;
	h += h >> 5;
	h ^= h << 4;
	h += h >> 17;
	h ^= h << 25;
	h += h >> 6;
	return h;
}

struct hash_key {
	const char *key;
	uint32_t bucket;
	uint32_t val;
};

static int hash_key_cmp(const void *a, const void *b)
{
	const struct hash_key *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* keys[] in the order kmod's hash_iter_next visits a table of nb buckets. */
static void hash_order(struct hash_key *keys, size_t n, uint32_t nb)
{
	for (size_t i = 0; i < n; i++)
		keys[i].bucket = kmod_hash(keys[i].key) & (nb - 1);
	qsort(keys, n, sizeof(*keys), hash_key_cmp);
}

/* ---- finding the module files ----------------------------------------------- */

static bool is_module_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(module_exts) / sizeof(module_exts[0]); i++) {
		size_t el = strlen(module_exts[i]);

		if (len > el && strcmp(name + len - el, module_exts[i]) == 0)
			return true;
	}
	return false;
}

static bool under_updates(const char *relpath)
{
	return strncmp(relpath, "updates/", 8) == 0;
}

/* depmod_module_is_higher_priority() with depmod's default configuration
 * (one "search updates" entry): true keeps the old file.  Its else-if means
 * the old file's directory is not checked once the new one matched. */
static bool keep_old(const char *oldrel, const char *newrel)
{
	int newprio = -1, oldprio = -1;

	if (under_updates(newrel))
		newprio = 0;
	else if (under_updates(oldrel))
		oldprio = 0;
	return newprio <= oldprio;
}

static void mod_release(struct dg_mod *m)
{
	free(m->path);
	free(m->uncrelpath);
	free(m->name);
	free(m->deps);
	kd_symbols_free(&m->syms);
	kd_modinfo_free(&m->info);
	memset(m, 0, sizeof(*m));
}

/* m is the file at g->path, whose name starts at baselen. */
static void mod_fill(struct depgen *g, struct dg_mod *m, size_t dirlen, size_t baselen,
		     const char *modname, off_t size)
{
	size_t keep = baselen - dirlen - 1 + strlen(modname) + 3;

	m->path = kd_xstrdup(g->path);
	m->name = kd_xstrdup(modname);
	m->relpath = m->path + dirlen + 1;
	/* depmod cuts the path after the name's length plus ".ko" */
	m->uncrelpath = kd_xstrndup(m->relpath, keep);
	m->size = size;
	m->sort_idx = 1;
}

/* A module file at g->path; its name starts at baselen. */
static void found_file(struct depgen *g, size_t dirlen, size_t baselen, off_t size)
{
	char modname[PATH_MAX];
	struct dg_mod *m;
	bool added;

	kd_modname_normalize(g->path + baselen, modname, sizeof(modname));
	if (modname[0] == '\0') {
		KD_WARN(kd_ctx_log(g->ctx), "%s: no module name in the file name, ignored", g->path);
		return;
	}
	m = kd_olist_add(&g->found, modname, &added);
	if (!added) {
		if (keep_old(m->relpath, g->path + dirlen + 1)) {
			KD_DBG(kd_ctx_log(g->ctx), "%s: ignored, %s has priority", g->path, m->path);
			return;
		}
		KD_DBG(kd_ctx_log(g->ctx), "%s: replaces %s", g->path, m->path);
		mod_release(m);
	}
	mod_fill(g, m, dirlen, baselen, modname, size);
}

static void walk_dir(struct depgen *g, int dfd, size_t dirlen, size_t baselen);

static void walk_subdir(struct depgen *g, int dfd, const char *name, size_t dirlen,
			size_t baselen)
{
	size_t len = baselen + strlen(name);
	int fd;

	if (len + 2 > sizeof(g->path)) {
		KD_WARN(kd_ctx_log(g->ctx), "%s: path too long, ignored", g->path);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		KD_WARN(kd_ctx_log(g->ctx), "%s: cannot open directory: %s; its modules are ignored",
			g->path, strerror(errno));
		return;
	}
	g->path[len] = '/';
	g->path[len + 1] = '\0';
	walk_dir(g, fd, dirlen, len + 1);
	g->path[baselen] = '\0';
}

/* One directory entry, its name already appended to g->path. */
static void walk_entry(struct depgen *g, int dfd, struct dirent *de, size_t dirlen,
		       size_t baselen)
{
	const char *name = de->d_name;
	struct stat st;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strcmp(name, "build") == 0 || strcmp(name, "source") == 0)
		return;
	if (de->d_type == DT_DIR) {
		walk_subdir(g, dfd, name, dirlen, baselen);
		return;
	}
	if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return;
	if (de->d_type == DT_REG && !is_module_name(name, strlen(name)))
		return;
	/* the size orders the reading; symlinks and unknown types need it anyway */
	if (fstatat(dfd, name, &st, 0) < 0) {
		KD_WARN(kd_ctx_log(g->ctx), "%s: cannot stat: %s; ignored", g->path, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode))
		walk_subdir(g, dfd, name, dirlen, baselen);
	else if (S_ISREG(st.st_mode) && is_module_name(name, strlen(name)))
		found_file(g, dirlen, baselen, st.st_size);
}

/* Takes ownership of dfd.  g->path holds the directory, ending in '/'. */
static void walk_dir(struct depgen *g, int dfd, size_t dirlen, size_t baselen)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (d == NULL) {
		close(dfd);
		KD_WARN(kd_ctx_log(g->ctx), "%s: cannot read directory: %s", g->path,
			strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (baselen + len + 1 > sizeof(g->path)) {
			KD_WARN(kd_ctx_log(g->ctx), "%s%s: path too long, ignored", g->path,
				de->d_name);
			continue;
		}
		memcpy(g->path + baselen, de->d_name, len + 1);
		walk_entry(g, dirfd(d), de, dirlen, baselen);
		g->path[baselen] = '\0';
	}
	closedir(d);
}

static int find_modules(struct depgen *g)
{
	size_t dirlen = strlen(g->dir);
	int fd;

	if (dirlen + 2 > sizeof(g->path)) {
		KD_ERR(kd_ctx_log(g->ctx), "%s: module directory path too long", g->dir);
		return -ENAMETOOLONG;
	}
	fd = open(g->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		KD_ERR(kd_ctx_log(g->ctx), "%s: cannot open the module directory: %s", g->dir,
		       strerror(-err));
		return err;
	}
	memcpy(g->path, g->dir, dirlen);
	g->path[dirlen] = '/';
	g->path[dirlen + 1] = '\0';
	walk_dir(g, fd, dirlen, dirlen + 1);
	return 0;
}

/* ---- the module array ------------------------------------------------------- */

static void build_array(struct depgen *g)
{
	struct hash_key *keys = kd_xcalloc(g->found.n, sizeof(*keys));

	for (size_t i = 0; i < g->found.n; i++) {
		struct dg_mod *m = kd_olist_at(&g->found, i);

		keys[i] = (struct hash_key){ m->name, 0, (uint32_t)i };
	}
	hash_order(keys, g->found.n, NAME_BUCKETS);
	g->n = g->found.n;
	g->mods = kd_xcalloc(g->n, sizeof(*g->mods));
	for (size_t i = 0; i < g->n; i++)
		g->mods[i] = kd_olist_at(&g->found, keys[i].val);
	free(keys);
}

struct order_key {
	struct dg_mod *m;
	size_t pos;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	if (x->m->sort_idx != y->m->sort_idx)
		return x->m->sort_idx < y->m->sort_idx ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* depmod_modules_sort() reads modules.order with fgets: a line missing its
 * '\n' (or too long for it) makes depmod ignore the file.  *lines: how many. */
static bool order_file_ok(struct depgen *g, const char *path, const struct kd_buf *b,
			  unsigned *lines)
{
	struct kd_lines l;
	bool ok = true;

	kd_lines_init(&l, path, (const char *)b->data, b->size, false);
	while (ok && kd_lines_next(&l) != NULL) {
		bool unended = l.p == l.end && l.end[-1] != '\n';

		if (unended || l.line.len + 1 > ORDER_LINE_MAX) {
			KD_LINE_WARN(&l, kd_ctx_log(g->ctx), "no newline at its end (corrupt file); "
				     "modules keep depmod's hash order");
			ok = false;
		}
	}
	*lines = l.no;
	kd_lines_free(&l);
	return ok;
}

static void apply_order(struct depgen *g, const char *path, const struct kd_buf *b,
			unsigned total)
{
	struct kd_map by_uncrel = { 0 };
	struct order_key *keys;
	struct kd_lines l;
	const char *line;
	uint32_t pos;

	for (size_t i = 0; i < g->n; i++)
		kd_map_put(&by_uncrel, g->mods[i]->uncrelpath, (uint32_t)i);
	kd_lines_init(&l, path, (const char *)b->data, b->size, false);
	while ((line = kd_lines_next(&l)) != NULL)
		if (kd_map_get(&by_uncrel, line, &pos))
			g->mods[pos]->sort_idx = (int)l.no - (int)total;
	kd_lines_free(&l);
	kd_map_free(&by_uncrel);
	keys = kd_xcalloc(g->n, sizeof(*keys));
	for (size_t i = 0; i < g->n; i++)
		keys[i] = (struct order_key){ g->mods[i], i };
	/* glibc's qsort is a stable merge sort here: ties keep the hash order */
	qsort(keys, g->n, sizeof(*keys), order_cmp);
	for (size_t i = 0; i < g->n; i++)
		g->mods[i] = keys[i].m;
	free(keys);
}

static int sort_by_order(struct depgen *g)
{
	char *path = kd_path_join(g->dir, "modules.order");
	struct kd_buf b;
	unsigned lines;
	int err = kd_read_file(kd_ctx_log(g->ctx), path, &b);

	if (err == 0 && order_file_ok(g, path, &b, &lines))
		apply_order(g, path, &b, lines + 1);
	kd_buf_free(&b);
	free(path);
	return err == -ENOENT ? 0 : err; /* no modules.order: the hash order stays */
}

/* ---- reading the modules ---------------------------------------------------- */

struct read_job {
	struct depgen *g;
	uint32_t *todo; /* array positions, largest files first */
};

static int read_one(void *data, size_t i)
{
	struct read_job *job = data;
	struct dg_mod *m = job->g->mods[job->todo[i]];
	struct kd_ctx *ctx = job->g->ctx;
	struct kd_buf b;
	int err;

	err = kd_module_read(kd_ctx_log(ctx), m->path, &b);
	if (err == 0) {
		/* depmod keeps what it could read of a damaged module; a file
		 * that is no ELF at all is said so once */
		err = kd_elf_modinfo(ctx, m->path, b.data, b.size, &m->info);
		if (err == 0 || err == -ENOENT) {
			int err2 = kd_elf_symbols(ctx, m->path, b.data, b.size, &m->syms);

			err = err < 0 ? err : err2;
		}
		kd_buf_free(&b);
	}
	if (err < 0)
		KD_WARN(kd_ctx_log(ctx), "%s: listed in modules.dep with what could be read of it",
			m->path);
	return 0;
}

static int size_desc(const void *a, const void *b, void *data)
{
	struct dg_mod **mods = data;
	const struct dg_mod *x = mods[*(const uint32_t *)a],
			    *y = mods[*(const uint32_t *)b];

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void read_modules(struct depgen *g)
{
	struct read_job job = { g, kd_xcalloc(g->n, sizeof(uint32_t)) };

	for (size_t i = 0; i < g->n; i++)
		job.todo[i] = (uint32_t)i;
	/* a big module started last would leave the other threads idle */
	qsort_r(job.todo, g->n, sizeof(uint32_t), size_desc, g->mods);
	kd_parallel_for(g->n, kd_cpu_count(), read_one, &job); /* read_one never fails */
	free(job.todo);
}

/* ---- symbols and dependencies ------------------------------------------------ */

static void add_symbols(struct depgen *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct kd_symbols *s = &g->mods[i]->syms;

		/* a later module takes the symbol over, as in depmod's hash_add */
		for (size_t j = 0; j < s->n_exported; j++)
			kd_map_put(&g->symbols, s->exported[j], (uint32_t)i);
	}
}

static void add_dep(struct depgen *g, struct dg_mod *m, uint32_t owner)
{
	for (size_t i = 0; i < m->n_deps; i++)
		if (m->deps[i] == owner)
			return;
	KD_GROW(m->deps, m->n_deps, m->cap_deps);
	m->deps[m->n_deps++] = owner;
	g->mods[owner]->users++;
}

static void add_dependencies(struct depgen *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct dg_mod *m = g->mods[i];

		for (size_t j = 0; j < m->syms.n_undefined; j++) {
			const char *s = m->syms.undefined[j];
			uint32_t owner;

			if (s[0] == '.') /* PPC64: .foo is foo */
				s++;
			if (kd_map_get(&g->symbols, s, &owner))
				add_dep(g, m, owner);
		}
	}
}

/* ---- topological order and cycles -------------------------------------------- */

struct tarjan {
	struct depgen *g;
	const uint32_t *left;  /* users not numbered yet: > 0 for cyclic leftovers */
	uint32_t *index, *low; /* 0: not visited */
	uint32_t *stack;
	bool *on_stack;
	size_t sp;
	uint32_t next;
	size_t n_cyclic;
};

static void report_cycle(struct tarjan *t, const uint32_t *scc, size_t n);

/* Tarjan's strongly connected components over the modules left unnumbered. */
static void tarjan_visit(struct tarjan *t, uint32_t v)
{
	struct dg_mod *m = t->g->mods[v];
	size_t start;

	t->index[v] = t->low[v] = ++t->next;
	start = t->sp;
	t->stack[t->sp++] = v;
	t->on_stack[v] = true;
	for (size_t i = 0; i < m->n_deps; i++) {
		uint32_t w = m->deps[i];

		if (t->left[w] == 0)
			continue;
		if (t->index[w] == 0) {
			tarjan_visit(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->on_stack[w] && t->index[w] < t->low[v]) {
			t->low[v] = t->index[w];
		}
	}
	if (t->low[v] != t->index[v])
		return;
	for (size_t i = start; i < t->sp; i++)
		t->on_stack[t->stack[i]] = false;
	report_cycle(t, t->stack + start, t->sp - start);
	t->sp = start;
}

/* A path from the component's first module back to it, through the component. */
static size_t cycle_path(struct depgen *g, const uint32_t *scc, size_t n, uint32_t *path,
			 size_t *edge, unsigned char *in)
{
	uint32_t first = scc[0];
	size_t depth = 1;

	for (size_t i = 1; i < n; i++)
		if (scc[i] < first)
			first = scc[i];
	for (size_t i = 0; i < n; i++)
		in[scc[i]] = 1;
	path[0] = first;
	edge[0] = 0;
	in[first] = 2;
	while (depth > 0) {
		struct dg_mod *m = g->mods[path[depth - 1]];
		uint32_t w;

		if (edge[depth - 1] == m->n_deps) {
			depth--;
			continue;
		}
		w = m->deps[edge[depth - 1]++];
		if (w == first)
			break;
		if (in[w] != 1)
			continue;
		in[w] = 3; /* seen: a dead end once is a dead end always */
		path[depth] = w;
		edge[depth++] = 0;
	}
	for (size_t i = 0; i < n; i++)
		in[scc[i]] = 0;
	return depth;
}

static void report_cycle(struct tarjan *t, const uint32_t *scc, size_t n)
{
	struct depgen *g = t->g;
	struct dg_mod *m = g->mods[scc[0]];
	uint32_t *path;
	size_t *edge, depth;
	unsigned char *in;
	struct kd_str s = { 0 };

	if (n == 1) {
		bool self = false;

		for (size_t i = 0; i < m->n_deps; i++)
			self |= m->deps[i] == scc[0];
		if (!self)
			return; /* downstream of a cycle, not in one */
	}
	t->n_cyclic += n;
	path = kd_xcalloc(n, sizeof(*path));
	edge = kd_xcalloc(n, sizeof(*edge));
	in = kd_xcalloc(g->n, 1);
	depth = cycle_path(g, scc, n, path, edge, in);
	for (size_t i = 0; i < depth; i++)
		kd_str_printf(&s, "%s -> ", g->mods[path[i]]->name);
	kd_str_addz(&s, g->mods[path[0]]->name);
	KD_WARN(kd_ctx_log(g->ctx), "%s: Cycle detected: %s", g->dir, s.s);
	kd_str_free(&s);
	free(path);
	free(edge);
	free(in);
}

static void report_cycles(struct depgen *g, const uint32_t *left)
{
	struct tarjan t = { .g = g, .left = left };

	t.index = kd_xcalloc(g->n, sizeof(*t.index));
	t.low = kd_xcalloc(g->n, sizeof(*t.low));
	t.stack = kd_xcalloc(g->n, sizeof(*t.stack));
	t.on_stack = kd_xcalloc(g->n, sizeof(*t.on_stack));
	for (uint32_t v = 0; v < g->n; v++)
		if (left[v] > 0 && t.index[v] == 0)
			tarjan_visit(&t, v);
	KD_WARN(kd_ctx_log(g->ctx),
		"%s: Found %zu modules in dependency cycles! Their modules.dep "
		"lines are computed anyway, but the kernel cannot load them",
		g->dir, t.n_cyclic);
	free(t.index);
	free(t.low);
	free(t.stack);
	free(t.on_stack);
}

/* depmod_calculate_dependencies(): number modules nobody uses first. */
static void number_modules(struct depgen *g)
{
	uint32_t *left = kd_xcalloc(g->n, sizeof(*left));
	uint32_t *roots = kd_xcalloc(g->n, sizeof(*roots));
	size_t n_roots = 0, n_sorted = 0;

	for (size_t i = 0; i < g->n; i++) {
		left[i] = g->mods[i]->users;
		if (left[i] == 0)
			roots[n_roots++] = (uint32_t)i;
	}
	while (n_roots > 0) {
		struct dg_mod *src = g->mods[roots[--n_roots]];

		src->dep_sort_idx = (uint32_t)n_sorted++;
		for (size_t j = 0; j < src->n_deps; j++)
			if (--left[src->deps[j]] == 0)
				roots[n_roots++] = src->deps[j];
	}
	if (n_sorted < g->n) {
		report_cycles(g, left);
		for (size_t i = 0; i < g->n; i++)
			if (left[i] > 0)
				g->mods[i]->dep_sort_idx = (uint32_t)n_sorted++;
	}
	free(left);
	free(roots);
}

/* ---- output --------------------------------------------------------------- */

struct closure {
	uint32_t *v;
	size_t n;
	uint32_t *mark; /* == stamp: already in v */
	uint32_t stamp;
	uint32_t *stack;
};

static void closure_fill(struct depgen *g, struct closure *c, uint32_t root)
{
	size_t sp = 0;

	c->n = 0;
	c->stamp++;
	c->mark[root] = c->stamp;
	c->stack[sp++] = root;
	while (sp > 0) {
		struct dg_mod *m = g->mods[c->stack[--sp]];

		for (size_t i = 0; i < m->n_deps; i++) {
			uint32_t d = m->deps[i];

			if (c->mark[d] == c->stamp)
				continue;
			c->mark[d] = c->stamp;
			c->v[c->n++] = d;
			c->stack[sp++] = d;
		}
	}
}

static int dep_sort_cmp(const void *a, const void *b, void *data)
{
	struct dg_mod **mods = data;
	uint32_t x = mods[*(const uint32_t *)a]->dep_sort_idx;
	uint32_t y = mods[*(const uint32_t *)b]->dep_sort_idx;

	return x < y ? -1 : x > y;
}

static void output_dep(struct depgen *g, struct kd_str *out)
{
	struct closure c = { kd_xcalloc(g->n, sizeof(uint32_t)), 0,
			     kd_xcalloc(g->n, sizeof(uint32_t)), 0,
			     kd_xcalloc(g->n, sizeof(uint32_t)) };

	for (size_t i = 0; i < g->n; i++) {
		kd_str_addz(out, g->mods[i]->relpath);
		kd_str_add(out, ":", 1);
		closure_fill(g, &c, (uint32_t)i);
		qsort_r(c.v, c.n, sizeof(uint32_t), dep_sort_cmp, g->mods);
		for (size_t j = 0; j < c.n; j++)
			kd_str_printf(out, " %s", g->mods[c.v[j]]->relpath);
		kd_str_add(out, "\n", 1);
	}
	free(c.v);
	free(c.mark);
	free(c.stack);
}

/* modules.alias, .softdep, .weakdep: one line per modinfo value of key. */
static char *output_info(struct depgen *g, const char *header, const char *key,
			 bool name_first)
{
	struct kd_str out = { 0 };

	kd_str_addz(&out, header);
	for (size_t i = 0; i < g->n; i++) {
		const struct dg_mod *m = g->mods[i];
		const char *v;
		size_t it = 0;

		while ((v = kd_modinfo_next(&m->info, key, &it)) != NULL) {
			if (name_first)
				kd_str_printf(&out, "%s %s %s\n", key, m->name, v);
			else
				kd_str_printf(&out, "%s %s %s\n", key, v, m->name);
		}
	}
	return kd_str_take(&out);
}

static char *output_symbols(struct depgen *g)
{
	struct hash_key *keys = kd_xcalloc(g->symbols.n, sizeof(*keys));
	struct kd_str out = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < g->symbols.cap; i++)
		if (g->symbols.keys[i] != NULL)
			keys[n++] = (struct hash_key){ g->symbols.keys[i], 0,
						       g->symbols.vals[i] };
	hash_order(keys, n, SYMBOL_BUCKETS);
	kd_str_addz(&out, "# Aliases for symbols, used by symbol_request().\n");
	for (size_t i = 0; i < n; i++)
		kd_str_printf(&out, "alias symbol:%s %s\n", keys[i].key, g->mods[keys[i].val]->name);
	free(keys);
	return kd_str_take(&out);
}

static void output_all(struct depgen *g, struct kd_depgen *out)
{
	struct kd_str dep = { 0 };

	output_dep(g, &dep);
	out->dep = kd_str_take(&dep);
	out->alias = output_info(g, "# Aliases extracted from modules themselves.\n", "alias",
				 false);
	out->softdep = output_info(g, "# Soft dependencies extracted from modules themselves.\n",
				   "softdep", true);
	out->weakdep = output_info(g, "# Weak dependencies extracted from modules themselves.\n",
				   "weakdep", true);
	out->symbols = output_symbols(g);
}

/* ---- the whole run ------------------------------------------------------------ */

static void depgen_release(struct depgen *g)
{
	for (size_t i = 0; i < g->found.n; i++)
		mod_release(kd_olist_at(&g->found, i));
	kd_olist_free(&g->found);
	free(g->mods);
	free(g->dir);
	kd_map_free(&g->symbols);
}

int kd_depgen_run(struct kd_ctx *ctx, const char *moddir, struct kd_depgen *out)
{
	struct depgen g = { .ctx = ctx };
	size_t len = strlen(moddir);
	int err;

	memset(out, 0, sizeof(*out));
	kd_olist_init(&g.found, sizeof(struct dg_mod));
	/* "dir/" and "dir" name the same tree; "/" stays "/" */
	while (len > 1 && moddir[len - 1] == '/')
		len--;
	g.dir = kd_xstrndup(moddir, len);
	err = find_modules(&g);
	if (err < 0)
		goto out;
	build_array(&g);
	err = sort_by_order(&g);
	if (err < 0)
		goto out;
	read_modules(&g);
	add_symbols(&g);
	add_dependencies(&g);
	number_modules(&g);
	output_all(&g, out);
	KD_DBG(kd_ctx_log(ctx), "%s: %zu modules, %zu exported symbols", g.dir, g.n, g.symbols.n);
out:
	depgen_release(&g);
	return err;
}

void kd_depgen_free(struct kd_depgen *g)
{
	free(g->dep);
	free(g->alias);
	free(g->softdep);
	free(g->weakdep);
	free(g->symbols);
	memset(g, 0, sizeof(*g));
}
