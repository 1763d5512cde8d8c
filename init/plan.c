// SPDX-License-Identifier: MIT
/*
 * The load plan (common/plan.h), read whole from the image, checked by
 * kp_plan_open() and here (serial order, the kernel release), and the
 * lookups the init needs: module by name, built-ins, and device aliases.
 *
 * Alias matching is kmod's: both sides normalised ('-' becomes '_' outside
 * brackets, common/modname.h), then fnmatch(3).  fnmatch against every
 * "pci:" pattern costs half a millisecond per device even natively, so
 * candidates are found by binary search instead (the table is sorted by
 * pattern): a pattern can only match if its literal part, up to its first
 * wildcard, is a prefix of the alias.  For each prefix length k of the alias and each wildcard c, the
 * patterns starting with alias[0..k) followed by c are one sorted range.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/modname.h"
#include "init.h"

#define PLAN_MAX_SIZE (64u << 20)

static int read_all(const char *path, void **out, size_t *size)
{
	struct stat st;
	size_t len = 0;
	void *buf = NULL;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = -EFBIG;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > PLAN_MAX_SIZE)
		goto fail;
	err = -ENOMEM;
	buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		err = n < 0 ? -errno : -EIO;
		if (n <= 0)
			goto fail;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*size = len;
	return 0;
fail:
	free(buf);
	close(fd);
	return err;
}

/* What kp_plan_open() leaves to the reader: load order, sorted built-ins. */
static const char *check_order(struct ki_plan *pl)
{
	const struct kp_plan *p = &pl->p;
	uint32_t i, j;

	for (i = 0; i < p->hdr->n_modules; i++) {
		const struct kp_module *m = &p->modules[i];

		for (j = 0; j < m->n_deps; j++)
			if (p->deps[m->deps_first + j] >= i)
				return "plan has a module before one it depends on";
		if (kp_str(p, m->name)[0] == '\0')
			return "plan has a module without a name";
	}
	pl->builtins_sorted = true;
	for (i = 1; i < p->hdr->n_builtins; i++)
		if (strcmp(kp_str(p, p->builtins[i - 1]), kp_str(p, p->builtins[i])) > 0)
			pl->builtins_sorted = false;
	return NULL;
}

/*
 * Take over buf (malloc'd, size bytes) as the plan for kernel release.
 * On failure buf is freed and the plan stays empty: boot goes on with the
 * kernel's built-in drivers only.
 */
int ki_plan_adopt(struct ki_plan *pl, void *buf, size_t size, const char *release,
		  const struct ki_log *log)
{
	const char *why, *kver;

	memset(pl, 0, sizeof(*pl));
	why = kp_plan_open(&pl->p, buf, size);
	if (why == NULL)
		why = check_order(pl);
	if (why) {
		ki_log(log, KI_ERR, "refusing the load plan %s: %s; no modules will be loaded "
		       "(rebuild the image with kindling build)", KP_PLAN_PATH, why);
		free(buf);
		return -EINVAL;
	}
	kver = kp_str(&pl->p, pl->p.hdr->kver);
	if (release && strcmp(kver, release) != 0) {
		ki_log(log, KI_ERR, "refusing the load plan: it is for kernel %s but this is "
		       "kernel %s; no modules will be loaded (rebuild with kindling build -k %s)",
		       kver, release, release);
		free(buf);
		return -EXDEV;
	}
	pl->buf = buf;
	pl->loaded = true;
	return 0;
}

int ki_plan_load(struct ki_plan *pl, const char *path, const char *release,
		 const struct ki_log *log)
{
	void *buf = NULL;
	size_t size = 0;
	int err;

	memset(pl, 0, sizeof(*pl));
	err = read_all(path, &buf, &size);
	if (err < 0) {
		ki_log(log, err == -ENOENT ? KI_WARN : KI_ERR, "cannot read the load plan %s: "
		       "%s; no modules will be loaded", path, strerror(-err));
		return err;
	}
	return ki_plan_adopt(pl, buf, size, release, log);
}

void ki_plan_free(struct ki_plan *pl)
{
	free(pl->buf);
	memset(pl, 0, sizeof(*pl));
}

uint32_t ki_plan_n_modules(const struct ki_plan *pl)
{
	return pl->loaded ? pl->p.hdr->n_modules : 0;
}

const char *ki_plan_name(const struct ki_plan *pl, uint32_t mod)
{
	return kp_str(&pl->p, pl->p.modules[mod].name);
}

/* Index of the module called name (normalised), or -ENOENT. */
int ki_plan_find(const struct ki_plan *pl, const char *name)
{
	for (uint32_t i = 0; i < ki_plan_n_modules(pl); i++)
		if (strcmp(ki_plan_name(pl, i), name) == 0)
			return (int)i;
	return -ENOENT;
}

bool ki_plan_builtin(const struct ki_plan *pl, const char *name)
{
	const struct kp_plan *p = &pl->p;
	uint32_t lo = 0, hi;

	if (!pl->loaded)
		return false;
	hi = p->hdr->n_builtins;
	if (!pl->builtins_sorted) {
		for (; lo < hi; lo++)
			if (strcmp(kp_str(p, p->builtins[lo]), name) == 0)
				return true;
		return false;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = strcmp(kp_str(p, p->builtins[mid]), name);

		if (r == 0)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* First alias whose pattern is >= key (the table is sorted by strcmp). */
static uint32_t lower_bound(const struct kp_plan *p, const char *key)
{
	uint32_t lo = 0, hi = p->hdr->n_aliases;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(kp_str(p, p->aliases[mid].pattern), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Match the patterns of [first, end) that start with key's k + 1 bytes. */
static int try_range(const struct kp_plan *p, const char *key, size_t klen, const char *alias,
		     int (*each)(void *data, uint32_t mod), void *data, int *count)
{
	int err = 0;

	for (uint32_t i = lower_bound(p, key); i < p->hdr->n_aliases && err == 0; i++) {
		const char *pat = kp_str(p, p->aliases[i].pattern);

		if (strncmp(pat, key, klen) != 0)
			break;
		if (fnmatch(pat, alias, 0) != 0)
			continue;
		(*count)++;
		if (each)
			err = each(data, p->aliases[i].module);
	}
	return err;
}

/*
 * Call each(data, module) for every module with an alias matching
 * modalias.  Returns the number of matches (a module may come twice), or
 * the first negative value each() returned.
 */
int ki_plan_match(const struct ki_plan *pl, const char *modalias,
		  int (*each)(void *data, uint32_t mod), void *data)
{
	static const char wild[] = "*?[";
	const struct kp_plan *p = &pl->p;
	char alias[512], key[514];
	size_t len, k;
	int count = 0, err = 0;

	if (!pl->loaded || kc_alias_normalize(modalias, alias, sizeof(alias)) < 0)
		return 0;
	len = strlen(alias);
	/* patterns without wildcards: the alias itself */
	memcpy(key, alias, len + 1);
	err = try_range(p, key, len + 1, alias, each, data, &count);
	for (k = 0; k <= len && err == 0; k++) {
		for (const char *c = wild; *c && err == 0; c++) {
			key[k] = *c;
			key[k + 1] = '\0';
			err = try_range(p, key, k + 1, alias, each, data, &count);
		}
		key[k] = alias[k];
	}
	return err < 0 ? err : count;
}
