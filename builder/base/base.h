/* SPDX-License-Identifier: MIT */
/*
 * base: what every other folder of the builder stands on, and nothing of
 * kindling's own: the logger, memory, strings, a string map, an ordered list
 * with an index, a line reader with its "FILE line N" reporter, whole-file
 * reads and a thread pool.
 *
 * Out of memory: the builder is a command-line tool, so the allocation
 * helpers (kd_xmalloc and friends, kd_str_*, kd_map_*, KD_GROW, kd_olist_*)
 * print "kindling: out of memory" and exit(1) instead of returning: no
 * caller ever sees or propagates -ENOMEM.  Other failures are negative
 * errno values, logged naming the file (and line) they concern.
 */
#ifndef KINDLING_BASE_H
#define KINDLING_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- log.c: one sink, one threshold ------------------------------------ */
enum { KD_LOG_ERR = 3, KD_LOG_WARN = 4, KD_LOG_INFO = 6, KD_LOG_DEBUG = 7 };
typedef void (*kd_log_fn)(void *data, int prio, const char *file, int line,
			  const char *fn, const char *msg);
struct kd_log {
	kd_log_fn fn;    /* NULL: nothing is logged */
	void *data;
	int prio;        /* messages above it are dropped */
};
/* The default sink: "kindling: error: " + message on stderr. */
void kd_log_stderr(void *data, int prio, const char *file, int line, const char *fn,
		   const char *msg);
#define KD_LOG_STDERR(max_prio) ((struct kd_log){ kd_log_stderr, NULL, (max_prio) })
/* Each message becomes one line ending in '\n'; log NULL: straight to stderr. */
void kd_log(const struct kd_log *log, int prio, const char *file, int line, const char *fn,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void kd_vlog(const struct kd_log *log, int prio, const char *file, int line, const char *fn,
	     const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
#define KD_ERR(log, ...) kd_log(log, KD_LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_WARN(log, ...) kd_log(log, KD_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_INFO(log, ...) kd_log(log, KD_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_DBG(log, ...) kd_log(log, KD_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* ---- mem.c: allocation that never returns NULL ----------------------------- */
_Noreturn void kd_die_oom(size_t bytes);
void *kd_xmalloc(size_t size);
void *kd_xcalloc(size_t n, size_t size);
void *kd_xrealloc(void *p, size_t size);
void *kd_xreallocarray(void *p, size_t n, size_t size); /* checks n * size */
char *kd_xstrdup(const char *s);
char *kd_xstrndup(const char *s, size_t n);
char *kd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The next capacity for an array that must hold need elements. */
size_t kd_grow_cap(size_t cap, size_t need);
/* Make room for element number n (0-based) of arr, whose capacity is cap,
 * as git's ALLOC_GROW: the capacity at least doubles. */
#define KD_GROW(arr, n, cap)                                                      \
	do {                                                                      \
		if ((size_t)(n) >= (cap)) {                                       \
			(cap) = kd_grow_cap((cap), (size_t)(n) + 1);              \
			(arr) = kd_xreallocarray((arr), (cap), sizeof(*(arr)));   \
		}                                                                 \
	} while (0)

/* ---- str.c: buffers and growable strings ----------------------------------- */
struct kd_buf {
	unsigned char *data; /* malloc'd; NUL byte kept after size for text */
	size_t size;
};
void kd_buf_free(struct kd_buf *b);
/* A growable string; s is always NUL-terminated once anything was added. */
struct kd_str {
	char *s;
	size_t len, cap;
};
void kd_str_add(struct kd_str *b, const char *s, size_t n);
void kd_str_addz(struct kd_str *b, const char *s);
void kd_str_printf(struct kd_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kd_str_vprintf(struct kd_str *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* The string, taken out of b (b is empty again); "" when nothing was added. */
char *kd_str_take(struct kd_str *b);
void kd_str_free(struct kd_str *b);
char *kd_path_join(const char *a, const char *b); /* malloc'd "a/b" */
/* A list of strings, each a copy freed with the list; v[n] is NULL once
 * anything was added (a NULL-terminated vector). */
struct kd_strv {
	char **v;
	size_t n, cap;
};
void kd_strv_add(struct kd_strv *l, const char *s);
void kd_strv_addn(struct kd_strv *l, const char *s, size_t n); /* at most n bytes of s */
void kd_strv_free(struct kd_strv *l);

/* ---- map.c: string -> uint32 map, open addressing; keys are copied ---------- */
struct kd_map {
	char **keys;
	uint32_t *vals;
	size_t n, cap;
};
int kd_map_put(struct kd_map *m, const char *key, uint32_t val); /* 1 if replaced, else 0 */
int kd_map_get(const struct kd_map *m, const char *key, uint32_t *val); /* 1 found, 0 not */
void kd_map_free(struct kd_map *m);

/* ---- olist.c: an ordered list of unique keys, with an index -----------------
 * Elements of elem bytes, in the order their keys were first added; each key
 * once.  Pointers into the list are valid until the next add. */
struct kd_olist {
	void *v;
	size_t n, cap, elem;
	struct kd_map index; /* key -> position */
};
void kd_olist_init(struct kd_olist *l, size_t elem);
/* The element of key: *added tells whether it is new (then zero-filled). */
void *kd_olist_add(struct kd_olist *l, const char *key, bool *added);
void *kd_olist_get(const struct kd_olist *l, const char *key); /* NULL: not there */
long kd_olist_find(const struct kd_olist *l, const char *key); /* position, or -1 */
static inline void *kd_olist_at(const struct kd_olist *l, size_t i)
{
	return (char *)l->v + i * l->elem;
}
/* Frees the list's own memory; what the elements point to is the caller's. */
void kd_olist_free(struct kd_olist *l);

/* ---- lines.c: lines of a text, and "FILE line N: ..." ---------------------- */
struct kd_lines {
	const char *file;    /* names the text in messages */
	const char *p, *end;
	unsigned no;         /* the current line's number (its last physical line) */
	bool join;           /* a backslash joins the next line (kmod's rule) */
	struct kd_str line;  /* the current line, writable */
};
void kd_lines_init(struct kd_lines *l, const char *file, const char *text, size_t len,
		   bool join);
/* The next line without its newline, writable until the next call; NULL at the
 * end.  With join, "\\\n" joins lines and a backslash before any other character
 * is dropped, the character kept; one that ends the text is dropped. */
char *kd_lines_next(struct kd_lines *l);
void kd_lines_free(struct kd_lines *l);
/* The next blank-separated word of *p, NUL-terminated in place; NULL at the end. */
char *kd_word(char **p);
/* *p past leading blanks, and trailing blanks cut: the rest of a line. */
char *kd_trim(char *s);
/* "FILE line N: MESSAGE", logged at prio. */
void kd_lines_log(const struct kd_lines *l, const struct kd_log *log, int prio,
		  const char *srcfile, int srcline, const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
#define KD_LINE_ERR(l, log, ...) \
	kd_lines_log(l, log, KD_LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define KD_LINE_WARN(l, log, ...) \
	kd_lines_log(l, log, KD_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* ---- fileio.c: whole files ---------------------------------------------- */
/* Read a whole regular file; appends a NUL not counted in size.  -ENOENT is
 * not logged (the caller knows whether a missing file matters). */
int kd_read_file(const struct kd_log *log, const char *path, struct kd_buf *out);
/* Write all n bytes to fd (retrying short writes and EINTR): 0 or -errno. */
int kd_write_all(int fd, const void *buf, size_t n);

/* ---- pool.c: a thread pool for independent work items ----------------------- */
typedef int (*kd_work_fn)(void *data, size_t i);
unsigned kd_cpu_count(void);
/* fn(data, i) for every i < n on up to threads threads (the caller's among
 * them); stops handing out work after the first failure and returns it. */
int kd_parallel_for(size_t n, unsigned threads, kd_work_fn fn, void *data);

/* ---- name.c: module and alias names: common/modname.h's rules, which the
 * init shares (the builder's copy went: it wrote past out on "[...]") ------- */
/* Module names: '-' -> '_', stop at '.' (kmod's modname_normalize). */
void kd_modname_normalize(const char *in, char *out, size_t outsz);
/* From a path: basename without any ".ko[.xz|.zst|.gz]". */
void kd_modname_from_path(const char *path, char *out, size_t outsz);
/* Aliases: '-' -> '_' outside [...] (kmod's alias_normalize). -EINVAL if unbalanced. */
int kd_alias_normalize(const char *in, char *out, size_t outsz);

#endif
