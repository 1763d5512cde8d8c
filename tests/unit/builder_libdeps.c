// SPDX-License-Identifier: MIT
/* builder/libdeps.c: the libraries ld.so loads.  Debian's busybox, e2fsck,
 * cryptsetup and lvm must give exactly what `ldd` lists; small programs
 * built here with gcc check $ORIGIN RUNPATHs, the RPATH of the loading
 * chain (and RUNPATH switching it off), a library of the wrong machine
 * being skipped, static programs and scripts, and a -r ROOT with absolute
 * symlinks and ld.so.conf includes that exist only inside the root. */
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
	struct kd_ldso ldso;
};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/kd-libdeps-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.log.fn = capture;
	f->ctx.log.data = &f->log;
	f->ctx.log.prio = KD_LOG_DEBUG;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kd_ldso_free(&f->ldso);
	run("rm -rf %s", f->dir);
	kd_str_free(&f->log);
	free(f);
	return 0;
}

/* ---- sets of real paths ------------------------------------------------------ */

struct pathset {
	char *v[128];
	size_t n;
	int not_found;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_add_real(struct pathset *s, const char *path)
{
	char real[PATH_MAX];

	assert_true(s->n < 128);
	if (realpath(path, real) == NULL)
		fail_msg("realpath %s: %s", path, strerror(errno));
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], real) == 0)
			return;
	s->v[s->n++] = strdup(real);
}

static void set_free(struct pathset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* What ldd lists: "name => /path (0x...)" and the interpreter "/path (0x...)". */
static void ldd_set(const char *binary, struct pathset *s)
{
	char cmd[PATH_MAX + 32], line[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ldd '%s' 2>&1", binary);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *arrow = strstr(line, " => "), *path, *end;

		path = arrow ? arrow + 4 : line + strspn(line, " \t");
		if (strncmp(path, "not found", 9) == 0) {
			s->not_found++;
			continue;
		}
		if (path[0] != '/')
			continue; /* linux-vdso.so.1, "statically linked" */
		end = strstr(path, " (");
		if (end == NULL)
			end = path + strcspn(path, "\n");
		*end = '\0';
		set_add_real(s, path);
	}
	pclose(p);
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

static int closure_set(struct fixture *f, const char *root, const char *binary,
		       struct pathset *s, struct kd_libdeps *d)
{
	int err;

	kd_ldso_free(&f->ldso);
	assert_int_equal(kd_ldso_init(&f->ldso, &f->ctx, root), 0);
	err = kd_ldso_closure(&f->ldso, binary, d);
	for (size_t i = 0; err == 0 && i < d->paths.n; i++) {
		char host[PATH_MAX];

		snprintf(host, sizeof(host), "%s%s", root, d->paths.v[i]);
		set_add_real(s, host);
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	return err;
}

static void assert_sets_equal(const char *what, struct pathset *a, struct pathset *b)
{
	bool same = a->n == b->n;

	for (size_t i = 0; same && i < a->n; i++)
		same = strcmp(a->v[i], b->v[i]) == 0;
	if (!same) {
		for (size_t i = 0; i < a->n; i++)
			fprintf(stderr, "  closure: %s\n", a->v[i]);
		for (size_t i = 0; i < b->n; i++)
			fprintf(stderr, "  ldd:     %s\n", b->v[i]);
		fail_msg("%s: closure differs from ldd", what);
	}
}

static void check_like_ldd(struct fixture *f, const char *binary, size_t min_libs)
{
	struct pathset mine = { 0 }, ldd = { 0 };
	struct kd_libdeps d;

	assert_int_equal(closure_set(f, "", binary, &mine, &d), 0);
	ldd_set(binary, &ldd);
	assert_int_equal(ldd.not_found, 0);
	assert_true(ldd.n >= min_libs); /* ldd worked: libc and the interpreter at least */
	assert_sets_equal(binary, &mine, &ldd);
	/* the interpreter first, under the path the program names */
	assert_string_equal(d.paths.v[0], "/lib64/ld-linux-x86-64.so.2");
	assert_false(d.is_static);
	kd_libdeps_free(&d);
	set_free(&mine);
	set_free(&ldd);
}

static void test_debian_binaries(void **state)
{
	struct fixture *f = *state;

	check_like_ldd(f, "/usr/bin/busybox", 3);
	check_like_ldd(f, "/usr/sbin/e2fsck", 7);
	check_like_ldd(f, "/usr/sbin/cryptsetup", 10);
	check_like_ldd(f, "/usr/sbin/lvm", 15);
	/* a symlinked path: $ORIGIN and the result do not depend on the link */
	check_like_ldd(f, "/sbin/e2fsck", 7);
}

/* ---- crafted programs ---------------------------------------------------------- */

static void write_c(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* e_machine := EM_AARCH64 (at 18), or EI_CLASS := ELFCLASS32 (at 4): either
 * way ld.so must skip the file. */
static void patch(const char *path, long off, unsigned char b0, unsigned char b1, size_t n)
{
	unsigned char m[2] = { b0, b1 };
	FILE *fp = fopen(path, "r+b");

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(m, 1, n, fp), n);
	fclose(fp);
}

static void build_origin_tree(struct fixture *f)
{
	char src[128];
	const char *d = f->dir;

	snprintf(src, sizeof(src), "%s/src", d);
	run("mkdir -p %s/src %s/app/bin %s/app/lib/sub %s/app/lib/decoy %s/app/lib/decoy32", d, d,
	    d, d, d);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/bar.c", src);
		write_c(p, "int bar(void) { return 2; }\n");
		snprintf(p, sizeof(p), "%s/foo.c", src);
		write_c(p, "int bar(void); int foo(void) { return bar() + 1; }\n");
		snprintf(p, sizeof(p), "%s/prog.c", src);
		write_c(p, "int foo(void); int main(void) { return foo() == 3 ? 0 : 1; }\n");
	}
	run("gcc -shared -fPIC -Wl,-soname,libbar.so.1 -o %s/app/lib/sub/libbar.so.1 %s/bar.c",
	    d, src);
	/* decoys of the wrong machine and class earlier in libfoo's RUNPATH */
	run("cp %s/app/lib/sub/libbar.so.1 %s/app/lib/decoy/libbar.so.1", d, d);
	run("cp %s/app/lib/sub/libbar.so.1 %s/app/lib/decoy32/libbar.so.1", d, d);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/app/lib/decoy/libbar.so.1", d);
		patch(p, 18, 183, 0, 2);
		snprintf(p, sizeof(p), "%s/app/lib/decoy32/libbar.so.1", d);
		patch(p, 4, 1, 0, 1);
	}
	run("gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -Wl,--enable-new-dtags "
	    "-Wl,-rpath,'${ORIGIN}/decoy:$ORIGIN/decoy32:${ORIGIN}/sub' -o %s/app/lib/libfoo.so.1.0 %s/foo.c "
	    "-L%s/app/lib/sub -l:libbar.so.1", d, src, d);
	run("ln -s libfoo.so.1.0 %s/app/lib/libfoo.so.1", d);
	run("gcc -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' -o %s/app/bin/prog "
	    "%s/prog.c -L%s/app/lib -l:libfoo.so.1 -Wl,-rpath-link,%s/app/lib/sub", d, src, d,
	    d);
	run("%s/app/bin/prog", d); /* it really runs: ld.so agrees with the layout */
}

static void test_origin_runpath(void **state)
{
	struct fixture *f = *state;
	struct pathset mine = { 0 }, ldd = { 0 };
	struct kd_libdeps d;
	char prog[128];

	build_origin_tree(f);
	snprintf(prog, sizeof(prog), "%s/app/bin/prog", f->dir);
	assert_int_equal(closure_set(f, "", prog, &mine, &d), 0);
	ldd_set(prog, &ldd);
	assert_sets_equal(prog, &mine, &ldd);
	/* as ld.so opens them: the SONAME link, not its target; sub/, not decoy/ */
	assert_true(d.paths.n >= 4);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s/app/bin/../lib/libfoo.so.1", f->dir);
		assert_string_equal(d.paths.v[1], want);
		snprintf(want, sizeof(want), "%s/app/bin/../lib/sub/libbar.so.1", f->dir);
		for (size_t i = 0; i < d.paths.n; i++)
			if (strstr(d.paths.v[i], "libbar"))
				assert_string_equal(d.paths.v[i], want);
	}
	assert_non_null(strstr(f->log.s ? f->log.s : "", "decoy/libbar.so.1: another ELF"));
	assert_non_null(strstr(f->log.s, "decoy32/libbar.so.1: another ELF"));
	kd_libdeps_free(&d);
	set_free(&mine);
	set_free(&ldd);
}

static void test_rpath_chain(void **state)
{
	struct fixture *f = *state;
	struct pathset mine = { 0 }, ldd = { 0 };
	struct kd_libdeps d;
	const char *dir = f->dir;
	char p[256], prog2[128], prog3[128];
	int err;

	run("mkdir -p %s/rp/bin %s/rp/rlib %s/rp/src", dir, dir, dir);
	snprintf(p, sizeof(p), "%s/rp/src/leaf.c", dir);
	write_c(p, "int leaf(void) { return 0; }\n");
	snprintf(p, sizeof(p), "%s/rp/src/mid.c", dir);
	write_c(p, "int leaf(void); int mid(void) { return leaf(); }\n");
	snprintf(p, sizeof(p), "%s/rp/src/prog.c", dir);
	write_c(p, "int mid(void); int main(void) { return mid(); }\n");
	run("gcc -shared -fPIC -Wl,-soname,libleaf.so.1 -o %s/rp/rlib/libleaf.so.1 "
	    "%s/rp/src/leaf.c", dir, dir);
	/* libmid has no search path: libleaf is found through prog2's DT_RPATH */
	run("gcc -shared -fPIC -Wl,-soname,libmid.so.1 -o %s/rp/rlib/libmid.so.1 "
	    "%s/rp/src/mid.c -L%s/rp/rlib -l:libleaf.so.1", dir, dir, dir);
	/* libmid2 has a DT_RUNPATH: the loaders' DT_RPATH is not used for it */
	run("gcc -shared -fPIC -Wl,-soname,libmid2.so.1 -Wl,--enable-new-dtags "
	    "-Wl,-rpath,'$ORIGIN/none' -o %s/rp/rlib/libmid2.so.1 %s/rp/src/mid.c "
	    "-L%s/rp/rlib -l:libleaf.so.1", dir, dir, dir);
	run("gcc -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../rlib' -o %s/rp/bin/prog2 "
	    "%s/rp/src/prog.c -L%s/rp/rlib -l:libmid.so.1", dir, dir, dir);
	run("gcc -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../rlib' -o %s/rp/bin/prog3 "
	    "%s/rp/src/prog.c -L%s/rp/rlib -l:libmid2.so.1 -Wl,-rpath-link,%s/rp/rlib", dir,
	    dir, dir, dir);
	snprintf(prog2, sizeof(prog2), "%s/rp/bin/prog2", dir);
	snprintf(prog3, sizeof(prog3), "%s/rp/bin/prog3", dir);

	assert_int_equal(closure_set(f, "", prog2, &mine, &d), 0);
	ldd_set(prog2, &ldd);
	assert_int_equal(ldd.not_found, 0);
	assert_sets_equal(prog2, &mine, &ldd);
	kd_libdeps_free(&d);
	set_free(&mine);
	set_free(&ldd);

	/* ldd says "libleaf.so.1 => not found" for prog3; so must we */
	ldd_set(prog3, &ldd);
	assert_int_equal(ldd.not_found, 1);
	set_free(&ldd);
	err = closure_set(f, "", prog3, &mine, &d);
	assert_int_equal(err, -ENOENT);
	assert_non_null(strstr(f->log.s, "library libleaf.so.1 (needed by"));
	assert_non_null(strstr(f->log.s, "libmid2.so.1) not found"));
	set_free(&mine);
}

static void test_static_and_script(void **state)
{
	struct fixture *f = *state;
	struct kd_libdeps d;
	char p[256];

	snprintf(p, sizeof(p), "%s/s.c", f->dir);
	write_c(p, "int main(void) { return 0; }\n");
	run("gcc -static -o %s/static %s/s.c", f->dir, f->dir);
	snprintf(p, sizeof(p), "%s/script", f->dir);
	write_c(p, "#!/bin/sh\necho hi\n");
	assert_int_equal(kd_ldso_init(&f->ldso, &f->ctx, ""), 0);
	snprintf(p, sizeof(p), "%s/static", f->dir);
	assert_int_equal(kd_ldso_closure(&f->ldso, p, &d), 0);
	assert_true(d.is_static);
	assert_int_equal(d.paths.n, 0);
	kd_libdeps_free(&d);
	snprintf(p, sizeof(p), "%s/script", f->dir);
	assert_int_equal(kd_ldso_closure(&f->ldso, p, &d), 0);
	assert_true(d.not_elf);
	assert_int_equal(d.paths.n, 0);
	kd_libdeps_free(&d);
	snprintf(p, sizeof(p), "%s/absent", f->dir);
	assert_int_equal(kd_ldso_closure(&f->ldso, p, &d), -ENOENT);
	assert_non_null(strstr(f->log.s, "/absent: No such file"));
}

/* ---- a build root ---------------------------------------------------------------- */

static int record_link(void *data, const char *link, const char *target)
{
	kd_str_printf(data, "%s -> %s\n", link, target);
	return 0;
}

static void build_root(struct fixture *f, char *root, size_t size)
{
	const char *d = f->dir;

	snprintf(root, size, "%s/root", d);
	run("mkdir -p %s/usr/lib/x86_64-linux-gnu %s/usr/lib64 %s/usr/bin %s/opt/x/lib "
	    "%s/etc/ld.so.conf.d %s/src", root, root, root, root, root, root);
	run("ln -s usr/lib %s/lib && ln -s usr/lib64 %s/lib64 && ln -s usr/bin %s/bin", root,
	    root, root);
	run("cp /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "
	    "%s/usr/lib/x86_64-linux-gnu/", root);
	/* absolute links, as Debian has them: they must resolve inside the root */
	run("ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 %s/usr/lib64/", root);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/src/hello.c", root);
		write_c(p, "int hello(void) { return 0; }\n");
		snprintf(p, sizeof(p), "%s/src/main.c", root);
		write_c(p, "int hello(void); int main(void) { return hello(); }\n");
		/* the library's directory exists only inside the root, named by an
		 * ld.so.conf include relative to /etc */
		snprintf(p, sizeof(p), "%s/etc/ld.so.conf", root);
		write_c(p, "# test\ninclude ld.so.conf.d/*.conf\n");
		snprintf(p, sizeof(p), "%s/etc/ld.so.conf.d/x.conf", root);
		write_c(p, "/opt/x/lib   # comment\n");
	}
	run("gcc -shared -fPIC -Wl,-soname,libhello.so.1 -o %s/opt/x/lib/libhello.so.1.2 "
	    "%s/src/hello.c", root, root);
	run("ln -s /opt/x/lib/libhello.so.1.2 %s/opt/x/lib/libhello.so.1", root);
	run("gcc -o %s/usr/bin/hello %s/src/main.c %s/opt/x/lib/libhello.so.1.2", root, root,
	    root);
}

static void test_root(void **state)
{
	struct fixture *f = *state;
	struct kd_str links = { 0 }, real = { 0 };
	struct kd_libdeps d;
	char root[128];

	build_root(f, root, sizeof(root));
	assert_int_equal(kd_root_resolve(root, "/lib64/ld-linux-x86-64.so.2", record_link,
					 &links, &real), 0);
	assert_string_equal(real.s, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	assert_string_equal(links.s, "/lib64 -> usr/lib64\n"
			    "/usr/lib64/ld-linux-x86-64.so.2 -> "
			    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
			    "/lib -> usr/lib\n");
	assert_int_equal(kd_root_resolve(root, "/opt/x/lib/../lib/./libhello.so.1", NULL, NULL,
					 &real), 0);
	assert_string_equal(real.s, "/opt/x/lib/libhello.so.1.2");
	assert_int_equal(kd_root_resolve(root, "/opt/nothing", NULL, NULL, &real), -ENOENT);
	assert_int_equal(kd_root_resolve(root, "/usr/bin/hello/x", NULL, NULL, &real),
			 -ENOTDIR);

	assert_int_equal(kd_ldso_init(&f->ldso, &f->ctx, root), 0);
	assert_int_equal(f->ldso.conf_dirs.n, 1);
	assert_string_equal(f->ldso.conf_dirs.v[0], "/opt/x/lib");
	if (kd_ldso_closure(&f->ldso, "/bin/hello", &d) != 0)
		fail_msg("%s", f->log.s);
	assert_int_equal(d.paths.n, 3);
	assert_string_equal(d.paths.v[0], "/lib64/ld-linux-x86-64.so.2");
	assert_string_equal(d.paths.v[1], "/opt/x/lib/libhello.so.1");
	assert_string_equal(d.paths.v[2], "/lib/x86_64-linux-gnu/libc.so.6");
	kd_libdeps_free(&d);

	/* without the ld.so.conf include the library is not found: the error says
	 * which, who needs it and where it looked */
	run("rm %s/etc/ld.so.conf.d/x.conf", root);
	kd_ldso_free(&f->ldso);
	assert_int_equal(kd_ldso_init(&f->ldso, &f->ctx, root), 0);
	assert_int_equal(kd_ldso_closure(&f->ldso, "/bin/hello", &d), -ENOENT);
	assert_non_null(strstr(f->log.s, "library libhello.so.1 (needed by"));
	assert_non_null(strstr(f->log.s, "/etc/ld.so.conf or the default directories"));
	kd_str_free(&links);
	kd_str_free(&real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_debian_binaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_origin_runpath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpath_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_and_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
