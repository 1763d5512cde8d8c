// SPDX-License-Identifier: MIT
/*
 * An index over one alias table (modules.alias, modules.symbols or the
 * built-in aliases) so a lookup tries only the patterns that can match.
 *
 * A pattern matches a name as kd_alias_match() says: an exact pattern by
 * strcmp, a wild one when its literal prefix (the bytes before the first
 * '*', '?' or '[') begins the name and fnmatch() agrees.  So each pattern
 * has a key: its first `prefix` bytes (all of it when exact; push_alias's
 * strcspn makes prefix the full length then) and whether it is wild.
 * The index is a hash table from key to the first table position with that
 * key, the later ones chained in table order through next[].  For a name
 * of length L a lookup hashes the name's prefixes as it walks it (FNV-1a is
 * incremental), probing the wild keys at every length some wild key has
 * and the exact key at L, then runs fnmatch on the wild candidates only.
 *
 * kd_alias_index_find() gives the very positions a scan of the whole table
 * would, in table order.  Building costs about two or three scans (some
 * 2.5M instructions for Debian's 26k aliases), so the first lookups of a
 * table just scan and one `kindling resolve NAME` never pays for an index;
 * it is built on the next lookup, and again when the table has grown
 * (tests parse more lines after looking up).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "moddb/moddb.h"

#define SCANS_BEFORE_INDEX 3
#define NO_POS UINT32_MAX
#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

/* static inline: scan() runs it 26k times per lookup */
static inline bool alias_match(const struct kd_alias *a, const char *name)
{
	if (!a->wild)
		return strcmp(a->pattern, name) == 0;
	return strncmp(a->pattern, name, a->prefix) == 0 &&
	       fnmatch(a->pattern, name, 0) == 0;
}

bool kd_alias_match(const struct kd_alias *a, const char *name)
{
	return alias_match(a, name);
}

void kd_alias_index_free(struct kd_alias_index *ix)
{
	free(ix->slots);
	free(ix->next);
	free(ix->wild_len);
	memset(ix, 0, sizeof(*ix));
}

static uint32_t key_hash(const char *s, size_t len)
{
	uint32_t h = FNV_BASIS;

	while (len-- > 0)
		h = (h ^ (unsigned char)*s++) * FNV_PRIME;
	return h;
}

/* The slot holding key (s, len, wild), or the empty slot where it would go. */
static uint32_t *key_slot(const struct kd_alias_index *ix, uint32_t h, const char *s,
			  uint32_t len, bool wild)
{
	size_t j = h & (ix->cap - 1);

	for (;; j = (j + 1) & (ix->cap - 1)) {
		const struct kd_alias *a;

		if (ix->slots[j] == NO_POS)
			return &ix->slots[j];
		a = &ix->table[ix->slots[j]];
		if (a->prefix == len && a->wild == wild && memcmp(a->pattern, s, len) == 0)
			return &ix->slots[j];
	}
}

static void index_build(struct kd_alias_index *ix, const struct kd_alias *table, size_t n)
{
	size_t i;

	kd_alias_index_free(ix);
	for (ix->cap = 64; ix->cap < 2 * n; ix->cap *= 2)
		;
	ix->table = table;
	ix->n = n;
	ix->slots = kd_xreallocarray(NULL, ix->cap, sizeof(*ix->slots));
	ix->next = kd_xreallocarray(NULL, n, sizeof(*ix->next));
	for (i = 0; i < n; i++)
		if (table[i].wild && table[i].prefix >= ix->max_wild_len)
			ix->max_wild_len = table[i].prefix + 1;
	ix->wild_len = kd_xcalloc(ix->max_wild_len + 1, sizeof(*ix->wild_len));
	memset(ix->slots, 0xff, ix->cap * sizeof(*ix->slots)); /* all NO_POS */
	/* Backwards, so each chain runs in table order from its head. */
	for (i = n; i-- > 0;) {
		const struct kd_alias *a = &table[i];
		uint32_t *slot = key_slot(ix, key_hash(a->pattern, a->prefix), a->pattern,
					  a->prefix, a->wild);

		ix->next[i] = *slot;
		*slot = (uint32_t)i;
		if (a->wild)
			ix->wild_len[a->prefix] = true;
	}
	ix->built = true;
}

static void push_pos(uint32_t **arr, size_t *n, size_t *cap, uint32_t pos)
{
	KD_GROW(*arr, *n, *cap);
	(*arr)[(*n)++] = pos;
}

static int pos_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	return a < b ? -1 : a > b;
}

/* Before the index pays off: the scan it replaces. */
static void scan(const struct kd_alias *table, size_t n, const char *name, uint32_t **out,
		 size_t *n_out)
{
	size_t cap = 0;

	for (size_t i = 0; i < n; i++)
		if (alias_match(&table[i], name))
			push_pos(out, n_out, &cap, (uint32_t)i);
}

static void find(const struct kd_alias_index *ix, const char *name, uint32_t **out,
		 size_t *n_out)
{
	size_t len = strlen(name), cap = 0, k;
	uint32_t h = FNV_BASIS, pos;

	for (k = 0;; k++) {
		if (k < ix->max_wild_len && ix->wild_len[k]) {
			pos = *key_slot(ix, h, name, (uint32_t)k, true);
			for (; pos != NO_POS; pos = ix->next[pos])
				if (fnmatch(ix->table[pos].pattern, name, 0) == 0)
					push_pos(out, n_out, &cap, pos);
		}
		if (k == len)
			break;
		h = (h ^ (unsigned char)name[k]) * FNV_PRIME;
	}
	pos = *key_slot(ix, h, name, (uint32_t)len, false);
	for (; pos != NO_POS; pos = ix->next[pos])
		push_pos(out, n_out, &cap, pos);
	/* Hits of different keys interleave in the table: give its order. */
	if (*n_out > 1)
		qsort(*out, *n_out, sizeof(**out), pos_cmp);
}

void kd_alias_index_find(struct kd_alias_index *ix, const struct kd_alias *table, size_t n,
			 const char *name, uint32_t **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (ix->built && (ix->table != table || ix->n != n))
		kd_alias_index_free(ix); /* the table grew: scan a little, then rebuild */
	if (!ix->built && ix->scans < SCANS_BEFORE_INDEX) {
		ix->scans++;
		scan(table, n, name, out, n_out);
		return;
	}
	if (!ix->built)
		index_build(ix, table, n);
	find(ix, name, out, n_out);
}
