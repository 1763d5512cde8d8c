// SPDX-License-Identifier: MIT
/* builder/hooks.c: the hook file format (good lines, every kind of bad
 * line with its "FILE line N" message), the search path, and what a hook
 * puts in the image: a binary with its libraries and the links on the way,
 * files, symlinks, directories, stage scripts at their contract paths. */
#include "unit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder_test.h"
#include "moddb/internal.h"

struct fixture {
	char dir[64];
	struct kd_ctx ctx;
	struct kd_str log;
	struct kd_hooks *h;
	struct kd_entries e;
};

static void put_file(struct fixture *f, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void new_hooks(struct fixture *f, const char *const *dirs, size_t n)
{
	kd_hooks_free(f->h);
	assert_int_equal(kd_hooks_new(&f->ctx, "", dirs, n, &f->h), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *dirs[1];

	strcpy(f->dir, "/tmp/kd-hooks-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.log.fn = capture;
	f->ctx.log.data = &f->log;
	f->ctx.log.prio = KD_LOG_DEBUG;
	dirs[0] = f->dir;
	assert_int_equal(kd_hooks_new(&f->ctx, "", dirs, 1, &f->h), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kd_hooks_free(f->h);
	kd_entries_free(&f->e);
	kd_str_free(&f->log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void assert_logged(struct fixture *f, const char *want)
{
	if (f->log.s == NULL || strstr(f->log.s, want) == NULL)
		fail_msg("expected '%s' in the log: %s", want, f->log.s ? f->log.s : "(empty)");
}

/* ---- the parser ------------------------------------------------------------- */

static void test_good_lines(void **state)
{
	struct fixture *f = *state;
	struct kd_wants w = { 0 };
	const char *const *sets;
	size_t n;

	assert_int_equal(kd_hooks_parse(f->h, "user", "/x/user.hook",
		"# a comment\n"
		"\n"
		"   \t\n"
		"binary busybox /usr/sbin/e2fsck   # trailing comment\n"
		"optional-binary xfs_repair\n"
		"file /etc/hostname\n"
		"file data.txt /etc/data.txt\n"
		"symlink /bin/sh busybox\n"
		"optional-symlink /sbin/btrfs /bin/btrfs\n"
		"dir /var/empty\n"
		"module ext4 crypto-xts\n"
		"set storage dm\n"
		"script pre-mount hello.sh\n"
		"script modules other.sh\n"
		"\tscript\tpre-switch last.sh\r\n"), 0);
	assert_null(f->log.s);
	assert_int_equal(kd_hooks_count(f->h), 1);
	sets = kd_hooks_sets(f->h, &n);
	assert_int_equal(n, 2);
	assert_string_equal(sets[0], "storage");
	assert_string_equal(sets[1], "dm");
	kd_hooks_wants(f->h, &w);
	assert_int_equal(kd_wants_count(&w), 2);
	assert_string_equal(kd_wants_at(&w, 0)->name, "ext4");
	assert_string_equal(kd_wants_at(&w, 1)->name, "crypto-xts");
	assert_string_equal(kd_wants_at(&w, 0)->reason, "hook user");
	assert_int_equal(kd_wants_at(&w, 0)->flags, KD_WANT_LOAD | KD_WANT_REQUIRED);
	kd_wants_free(&w);
}

static void test_bad_lines(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {
		"bad.hook line 1: unknown keyword 'binaries' (binary, optional-binary, file, "
		"symlink, optional-symlink, dir, module, set or script)",
		"bad.hook line 2: 'binary' needs at least one PATH",
		"bad.hook line 3: 'file' takes SRC [DEST], got 3 words",
		"bad.hook line 4: file: a relative SRC ('data.txt', in the hook's directory) "
		"needs a DEST in the image",
		"bad.hook line 5: file DEST: 'etc/x' is not an absolute path",
		"bad.hook line 6: 'symlink' takes LINK TARGET, got 1 word",
		"bad.hook line 7: symlink: 'bin/sh' is not an absolute path",
		"bad.hook line 8: 'dir' takes one PATH, got 2 words",
		"bad.hook line 9: dir: 'var' is not an absolute path",
		"bad.hook line 10: 'module' needs at least one module NAME",
		"bad.hook line 11: 'set' needs at least one set NAME",
		"bad.hook line 12: unknown stage 'late' (modules, pre-mount or pre-switch)",
		"bad.hook line 13: 'script' takes STAGE FILE, got 1 word",
		"bad.hook line 15: a second script for stage modules (a hook has one script "
		"per stage)",
		"bad.hook line 16: optional-symlink: 'x' is not an absolute path",
		"bad.hook line 17: 'optional-binary' needs at least one PATH",
	};
	const char *text =
		"binaries busybox\n"          /* 1 */
		"binary\n"                    /* 2 */
		"file /a /b /c\n"             /* 3 */
		"file data.txt\n"             /* 4 */
		"file /a etc/x\n"             /* 5 */
		"symlink /bin/sh\n"           /* 6 */
		"symlink bin/sh busybox\n"    /* 7 */
		"dir /a /b\n"                 /* 8 */
		"dir var\n"                   /* 9 */
		"module # nothing\n"          /* 10 */
		"set\n"                       /* 11 */
		"script late x.sh\n"          /* 12 */
		"script modules\n"            /* 13 */
		"script modules a.sh\n"       /* 14: good */
		"script modules b.sh\n"       /* 15 */
		"optional-symlink x y\n"      /* 16 */
		"optional-binary\n"           /* 17 */
		"dir /good\n";                /* 18: good */
	size_t lines = 0;

	assert_int_equal(kd_hooks_parse(f->h, "bad", "bad.hook", text), -EINVAL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_logged(f, want[i]);
	for (const char *p = f->log.s; (p = strstr(p, "bad.hook line ")) != NULL; p++)
		lines++;
	assert_int_equal(lines, sizeof(want) / sizeof(want[0])); /* good lines say nothing */
}

static void test_search_path(void **state)
{
	struct fixture *f = *state;
	char a[128], b[128];
	const char *dirs[2] = { a, b };
	const char *const *sets;
	size_t n;

	snprintf(a, sizeof(a), "%s/a", f->dir);
	snprintf(b, sizeof(b), "%s/b", f->dir);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	put_file(f, "a/both.hook", "set from-a\n");
	put_file(f, "b/both.hook", "set from-b\n");
	put_file(f, "b/only-b.hook", "set only-b\n");
	new_hooks(f, dirs, 2);
	assert_int_equal(kd_hooks_load(f->h, "both"), 0);
	assert_int_equal(kd_hooks_load(f->h, "only-b"), 0);
	assert_int_equal(kd_hooks_load(f->h, "both"), 0); /* twice: once */
	assert_int_equal(kd_hooks_count(f->h), 2);
	sets = kd_hooks_sets(f->h, &n);
	assert_int_equal(n, 2);
	assert_string_equal(sets[0], "from-a"); /* the first directory wins */
	assert_string_equal(sets[1], "only-b");

	assert_int_equal(kd_hooks_load(f->h, "nope"), -EINVAL);
	assert_logged(f, "hook nope: no nope.hook in ");
	assert_logged(f, "/a, ");
	assert_int_equal(kd_hooks_load(f->h, "../etc/passwd"), -EINVAL);
	assert_logged(f, "hook '../etc/passwd': not a hook name");

	/* a bad line in a found file names the file's path */
	put_file(f, "a/broken.hook", "\nfrobnicate\n");
	assert_int_equal(kd_hooks_load(f->h, "broken"), -EINVAL);
	assert_logged(f, "/a/broken.hook line 2: unknown keyword 'frobnicate'");
}

/* ---- the content ---------------------------------------------------------- */

/* What content.c's skeleton holds before the hooks run. */
static void skeleton(struct fixture *f)
{
	static const char *const dirs[] = { "usr", "usr/bin", "usr/sbin", "usr/lib", "tmp",
					    "etc" };
	static const char *const links[][2] = {
		{ "bin", "usr/bin" }, { "lib", "usr/lib" }, { "sbin", "usr/sbin" },
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(kd_entries_add(&f->e, dirs[i], S_IFDIR | 0755, NULL, 0, NULL), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(kd_entries_add(&f->e, links[i][0], S_IFLNK | 0777, links[i][1],
						strlen(links[i][1]), NULL), 0);
	assert_int_equal(kd_entries_add(&f->e, "init", S_IFREG | 0755, "x", 1, NULL), 0);
}

static const struct kd_entry *entry(struct fixture *f, const char *path)
{
	const struct kd_entry *e = kd_entries_get(&f->e, path);

	if (e == NULL)
		fail_msg("no %s in the image", path);
	return e;
}

static bool has(struct fixture *f, const char *path)
{
	return kd_entries_get(&f->e, path) != NULL;
}

static void assert_link(struct fixture *f, const char *path, const char *target)
{
	const struct kd_entry *e = entry(f, path);

	assert_true(S_ISLNK(e->mode));
	assert_int_equal(e->size, strlen(target));
	assert_memory_equal(e->data, target, e->size);
}

/* Every library ldd lists for a program is in the image at its real path. */
static void assert_ldd_libs_in(struct fixture *f, const char *binary)
{
	char cmd[256], line[1024], real[PATH_MAX];
	size_t found = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ldd %s", binary);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *arrow = strstr(line, " => "), *path, *end;

		path = arrow ? arrow + 4 : line + strspn(line, " \t");
		if (path[0] != '/')
			continue;
		end = strstr(path, " (");
		assert_non_null(end);
		*end = '\0';
		assert_non_null(realpath(path, real));
		assert_true(S_ISREG(entry(f, real + 1)->mode));
		found++;
	}
	pclose(p);
	assert_true(found >= 2);
}

static void test_content(void **state)
{
	struct fixture *f = *state;
	char text[1024];
	struct stat sb;

	skeleton(f);
	put_file(f, "data.txt", "some data\n");
	put_file(f, "abs.txt", "absolute\n");
	put_file(f, "hello.sh", "#!/bin/sh\necho hello from the hook\n");
	put_file(f, "tool", "#!/bin/sh\nexit 0\n");
	snprintf(text, sizeof(text), "%s/tool", f->dir);
	assert_int_equal(chmod(text, 0750), 0);
	snprintf(text, sizeof(text),
		 "binary /usr/bin/true e2fsck\n"
		 "optional-binary /nonexistent/prog\n"
		 "binary %s/tool\n"
		 "file data.txt /etc/data.txt\n"
		 "file %s/abs.txt\n"
		 "symlink /bin/t true\n"
		 "optional-symlink /sbin/x /bin/none\n"
		 "optional-symlink /sbin/t2 ../bin/true\n"
		 "dir /var/empty\n"
		 "script pre-mount hello.sh\n"
		 "script modules hello.sh\n", f->dir, f->dir);
	put_file(f, "first.hook", "dir /var/empty\n");
	put_file(f, "user.hook", text);
	assert_int_equal(kd_hooks_load(f->h, "first"), 0);
	assert_int_equal(kd_hooks_load(f->h, "user"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), 0);

	/* the program at its path, its mode kept; its libraries and the links on
	 * the way to the interpreter, as on the host */
	assert_int_equal(stat("/usr/bin/true", &sb), 0);
	assert_int_equal(entry(f, "usr/bin/true")->mode, S_IFREG | (sb.st_mode & 07777));
	assert_int_equal(entry(f, "usr/bin/true")->size, (size_t)sb.st_size);
	assert_true(S_ISREG(entry(f, "usr/sbin/e2fsck")->mode));
	assert_link(f, "lib64", "usr/lib64");
	assert_link(f, "usr/lib64/ld-linux-x86-64.so.2",
		    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	assert_true(S_ISREG(entry(f, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")->mode));
	assert_ldd_libs_in(f, "/usr/bin/true");
	assert_ldd_libs_in(f, "/usr/sbin/e2fsck");
	/* a SONAME link and its target, both */
	assert_true(S_ISLNK(entry(f, "usr/lib/x86_64-linux-gnu/libext2fs.so.2")->mode));
	assert_logged(f, "user.hook line 2: optional binary /nonexistent/prog not found");
	/* a script's interpreter comes along (/bin/sh -> dash on Debian) */
	assert_link(f, "usr/bin/sh", "dash");
	assert_true(S_ISREG(entry(f, "usr/bin/dash")->mode));
	{
		char tool[128];

		snprintf(tool, sizeof(tool), "%s/tool", f->dir + 1);
		assert_int_equal(entry(f, tool)->mode, S_IFREG | 0750);
	}
	/* files, links, directories */
	assert_int_equal(entry(f, "etc/data.txt")->size, 10);
	assert_memory_equal(entry(f, "etc/data.txt")->data, "some data\n", 10);
	{
		char abs[128];

		snprintf(abs, sizeof(abs), "%s/abs.txt", f->dir + 1);
		assert_memory_equal(entry(f, abs)->data, "absolute\n", 9);
	}
	assert_link(f, "usr/bin/t", "true");
	assert_false(has(f, "usr/sbin/x"));
	assert_link(f, "usr/sbin/t2", "../bin/true");
	assert_int_equal(entry(f, "var/empty")->mode, S_IFDIR | 0755);
	/* stage scripts at the contract's paths, NN the hook's position */
	assert_int_equal(entry(f, "etc/kindling/stages/pre-mount/01-user")->mode,
			 S_IFREG | 0755);
	assert_int_equal(entry(f, "etc/kindling/stages/modules/01-user")->mode,
			 S_IFREG | 0755);
	assert_memory_equal(entry(f, "etc/kindling/stages/pre-mount/01-user")->data,
			    "#!/bin/sh\necho hello", 20);
	assert_false(has(f, "etc/kindling/stages/pre-mount/00-first"));
}

static void test_content_errors(void **state)
{
	struct fixture *f = *state;

	skeleton(f);
	put_file(f, "a.hook", "binary no-such-program-here\n");
	assert_int_equal(kd_hooks_load(f->h, "a"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -ENOENT);
	assert_logged(f, "/a.hook line 1: binary no-such-program-here not found in "
		      "/{usr/local/sbin,usr/local/bin,usr/sbin,usr/bin,sbin,bin}");

	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "b.hook", "\nfile missing.txt /etc/m\n");
	assert_int_equal(kd_hooks_load(f->h, "b"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -ENOENT);
	assert_logged(f, "/b.hook line 2: ");
	assert_logged(f, "/missing.txt: no such file");

	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "c.hook", "script pre-switch gone.sh\n");
	assert_int_equal(kd_hooks_load(f->h, "c"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -ENOENT);
	assert_logged(f, "/c.hook line 1: ");
	assert_logged(f, "/gone.sh: no such file");

	/* a path that kindling itself writes */
	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "d.hook", "symlink /init /bin/sh\n");
	assert_int_equal(kd_hooks_load(f->h, "d"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -EEXIST);
	assert_logged(f, "/d.hook line 1: /init is already in the image (a file), the hook "
		      "cannot put a symlink there");

	/* the same path from two hooks: fine with the same bytes, else an error */
	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "x1.txt", "one\n");
	put_file(f, "x2.txt", "two\n");
	put_file(f, "h1.hook", "file x1.txt /etc/x\n");
	put_file(f, "h2.hook", "file x1.txt /etc/x\n");
	put_file(f, "h3.hook", "file x2.txt /etc/x\n");
	assert_int_equal(kd_hooks_load(f->h, "h1"), 0);
	assert_int_equal(kd_hooks_load(f->h, "h2"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), 0);
	assert_int_equal(kd_hooks_load(f->h, "h3"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -EEXIST);
	assert_logged(f, "/h3.hook line 1: /etc/x is already in the image with other contents");

	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "e.hook", "binary /etc\n");
	assert_int_equal(kd_hooks_load(f->h, "e"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), -ENOENT);
	assert_logged(f, "/e.hook line 1: binary /etc: no such executable file");

	/* a stage script whose interpreter the image lacks: a warning at build time */
	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "f.hook", "script modules f.sh\n");
	put_file(f, "f.sh", "#!/bin/ash -e\necho\n");
	assert_int_equal(kd_hooks_load(f->h, "f"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), 0);
	assert_logged(f, "/f.hook line 1: the modules script starts with #!/bin/ash, which is "
		      "not in the image: the init cannot run it");
	/* found through a relative link (and /bin -> usr/bin): no warning */
	new_hooks(f, (const char *const[]){ f->dir }, 1);
	put_file(f, "g.hook", "file g.sh /usr/bin/realksh\nsymlink /bin/ksh realksh\n"
		 "script pre-switch g.sh\n");
	put_file(f, "g.sh", "#!/bin/ksh\n");
	assert_int_equal(kd_hooks_load(f->h, "g"), 0);
	assert_int_equal(kd_hooks_content(f->h, &f->e), 0);
	assert_null(strstr(f->log.s, "#!/bin/ksh"));
	assert_int_equal(entry(f, "etc/kindling/stages/pre-switch/00-g")->mode, S_IFREG | 0755);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
