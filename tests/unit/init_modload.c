// SPDX-License-Identifier: MIT
/*
 * Module loading with a fake kernel: the ops record what is loaded, in
 * which order, with which options, how many at once, and fail on demand.
 */
#include "unit.h"

#include <errno.h>
#include <pthread.h>

#include "init.h"
#include "init_test.h"

#define KVER "6.1.0-test-amd64"
#define FD_BASE 100

/*
 *   crc <- jbd2 <- ext4 (softdep pre crc32c, post: ext4_post)
 *   a <- b, a <- c, {b, c} <- d   (a diamond)
 *   e, f, g, h independent; bad fails; bl blacklisted; zipped is .ko.xz
 */
enum { CRC, CRC32C, JBD2, EXT4, EXT4_POST, A, B, C, D, E, F, G, H, BAD, BAD_USER, BL, ZIPPED,
       MISSING, N_MODS };

static const struct tp_mod mods[N_MODS] = {
	[CRC] = { "crc16", "/m/crc16.ko", "", 0, { TP_END }, { TP_END } },
	[CRC32C] = { "crc32c_generic", "/m/crc32c.ko", "", 0, { TP_END }, { TP_END } },
	[JBD2] = { "jbd2", "/m/jbd2.ko", "", 0, { CRC, TP_END }, { TP_END } },
	[EXT4] = { "ext4", "/m/ext4.ko", "", KP_MOD_FILESYSTEM, { CRC, JBD2, CRC32C, TP_END },
		   { EXT4_POST, TP_END } },
	[EXT4_POST] = { "ext4_post", "/m/ext4_post.ko", "", 0, { TP_END }, { TP_END } },
	[A] = { "a", "/m/a.ko", "", 0, { TP_END }, { TP_END } },
	[B] = { "b", "/m/b.ko", "", 0, { A, TP_END }, { TP_END } },
	[C] = { "c", "/m/c.ko", "", 0, { A, TP_END }, { TP_END } },
	[D] = { "d", "/m/d.ko", "opt=1 other=\"x y\"", 0, { B, C, A, TP_END }, { TP_END } },
	[E] = { "e", "/m/e.ko", "", 0, { TP_END }, { TP_END } },
	[F] = { "f", "/m/f.ko", "", 0, { TP_END }, { TP_END } },
	[G] = { "g", "/m/g.ko", "", 0, { TP_END }, { TP_END } },
	[H] = { "h", "/m/h.ko", "", 0, { TP_END }, { TP_END } },
	[BAD] = { "bad", "/m/bad.ko", "", 0, { TP_END }, { TP_END } },
	[BAD_USER] = { "bad_user", "/m/bad_user.ko", "", 0, { BAD, TP_END }, { TP_END } },
	[BL] = { "bl", "/m/bl.ko", "", KP_MOD_BLACKLISTED, { TP_END }, { TP_END } },
	[ZIPPED] = { "zipped", "/m/zipped.ko.xz", "", 0, { TP_END }, { TP_END } },
	[MISSING] = { "missing", "/m/missing.ko", "", 0, { TP_END }, { TP_END } },
};

static const struct tp_alias aliases[] = {
	{ "fs_ext4", EXT4 },
	{ "pci:v00001234d*", E },
	{ "pci:v00001234d00000001*", BL },
	{ "pci:v00005678d*", F },
	{ "usb:v*", G },
};

static const char *const builtins[] = { "sd_mod", "virtio" };

struct fake {
	pthread_mutex_t lock;
	int order[64], n;           /* finit calls, in order */
	int loads[N_MODS];          /* finit calls per module */
	char params[N_MODS][128];
	int flags[N_MODS];
	int result[N_MODS];         /* what finit returns */
	int active, max_active;
	unsigned sleep_ms;
};

static int mod_of_path(const char *path)
{
	for (int i = 0; i < N_MODS; i++)
		if (strcmp(mods[i].path, path) == 0)
			return i;
	return -1;
}

static int fake_open(void *data, const char *path)
{
	int m = mod_of_path(path);

	(void)data;
	if (m < 0 || m == MISSING)
		return -ENOENT;
	return FD_BASE + m;
}

static int fake_finit(void *data, int fd, const char *params, int flags)
{
	struct fake *f = data;
	int m = fd - FD_BASE;

	pthread_mutex_lock(&f->lock);
	f->order[f->n++] = m;
	f->loads[m]++;
	snprintf(f->params[m], sizeof(f->params[m]), "%s", params);
	f->flags[m] = flags;
	if (++f->active > f->max_active)
		f->max_active = f->active;
	pthread_mutex_unlock(&f->lock);
	if (f->sleep_ms)
		ki_sleep_ms(f->sleep_ms);
	pthread_mutex_lock(&f->lock);
	f->active--;
	pthread_mutex_unlock(&f->lock);
	return f->result[m];
}

static void fake_close(void *data, int fd)
{
	(void)data;
	assert_true(fd >= FD_BASE && fd < FD_BASE + N_MODS);
}

struct env {
	struct fake fake;
	struct ki_modload_ops ops;
	struct ki_plan plan;
	struct ki_cmdline cmd;
	struct tlog tl;
	struct ki_modload *ml;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct tp_plan t = { .kver = KVER, .mods = mods, .n_mods = N_MODS,
			     .aliases = aliases, .n_aliases = KI_ARRAY_SIZE(aliases),
			     .builtins = builtins, .n_builtins = KI_ARRAY_SIZE(builtins) };
	size_t size;
	void *buf = tp_build(&t, &size);

	pthread_mutex_init(&e->fake.lock, NULL);
	e->fake.result[BAD] = -ENOEXEC;
	e->fake.result[H] = -EEXIST;
	e->ops = (struct ki_modload_ops){ fake_open, fake_finit, fake_close, &e->fake };
	tl_open(&e->tl, false);
	e->tl.log.debug = true;
	assert_int_equal(ki_plan_adopt(&e->plan, buf, size, KVER, &e->tl.log), 0);
	ki_cmdline_init(&e->cmd);
	*state = e;
	return 0;
}

static void start(struct env *e, unsigned workers)
{
	struct ki_modload_cfg cfg = { &e->plan, &e->cmd, &e->tl.log, &e->ops, workers };

	assert_int_equal(ki_modload_start(&e->ml, &cfg), 0);
}

static int teardown(void **state)
{
	struct env *e = *state;

	ki_modload_stop(e->ml);
	ki_plan_free(&e->plan);
	tl_close(&e->tl);
	pthread_mutex_destroy(&e->fake.lock);
	free(e);
	return 0;
}

static int pos(const struct fake *f, int m)
{
	for (int i = 0; i < f->n; i++)
		if (f->order[i] == m)
			return i;
	return -1;
}

static void test_order(void **state)
{
	struct env *e = *state;

	start(e, 4);
	assert_int_equal(ki_modload_request(e->ml, D), 0);
	assert_int_equal(ki_modload_request(e->ml, EXT4), 0);
	assert_int_equal(ki_modload_request(e->ml, D), 0); /* again: nothing new */
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	/* each once, dependencies strictly first */
	for (int m = 0; m < N_MODS; m++)
		assert_true(e->fake.loads[m] <= 1);
	assert_true(pos(&e->fake, A) >= 0);
	assert_true(pos(&e->fake, A) < pos(&e->fake, B));
	assert_true(pos(&e->fake, A) < pos(&e->fake, C));
	assert_true(pos(&e->fake, B) < pos(&e->fake, D));
	assert_true(pos(&e->fake, C) < pos(&e->fake, D));
	assert_true(pos(&e->fake, CRC) < pos(&e->fake, JBD2));
	assert_true(pos(&e->fake, JBD2) < pos(&e->fake, EXT4));
	assert_true(pos(&e->fake, CRC32C) < pos(&e->fake, EXT4));
	/* softdep post: after ext4 */
	assert_true(pos(&e->fake, EXT4) < pos(&e->fake, EXT4_POST));
	assert_int_equal(e->fake.n, 9);
	assert_int_equal(ki_modload_state(e->ml, D), KI_MOD_LIVE);
	assert_int_equal(ki_modload_state(e->ml, E), KI_MOD_IDLE);
}

static void test_parallel(void **state)
{
	struct env *e = *state;
	double t0 = ki_now();

	e->fake.sleep_ms = 100;
	start(e, 4);
	ki_modload_request(e->ml, E);
	ki_modload_request(e->ml, F);
	ki_modload_request(e->ml, G);
	ki_modload_request(e->ml, A);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	/* four sleeps of 0.1 s side by side, with room for a loaded machine */
	assert_true(e->fake.max_active >= 3);
	assert_true(ki_now() - t0 < 0.39);
}

static void test_failure_goes_on(void **state)
{
	struct env *e = *state;
	unsigned live, failed, busy;
	const char *log;

	start(e, 2);
	ki_modload_request(e->ml, BAD_USER);
	ki_modload_request(e->ml, E);
	ki_modload_request(e->ml, MISSING);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	assert_int_equal(ki_modload_state(e->ml, BAD), KI_MOD_FAILED);
	assert_int_equal(ki_modload_error(e->ml, BAD), -ENOEXEC);
	/* the dependent is still tried: the kernel says why it cannot load */
	assert_int_equal(e->fake.loads[BAD_USER], 1);
	assert_true(pos(&e->fake, BAD) < pos(&e->fake, BAD_USER));
	assert_int_equal(ki_modload_state(e->ml, E), KI_MOD_LIVE);
	assert_int_equal(ki_modload_state(e->ml, MISSING), KI_MOD_FAILED);
	assert_int_equal(ki_modload_error(e->ml, MISSING), -ENOENT);
	ki_modload_counts(e->ml, &live, &failed, &busy);
	assert_int_equal(live, 2);
	assert_int_equal(failed, 2);
	assert_int_equal(busy, 0);
	log = tl_text(&e->tl);
	assert_non_null(strstr(log, "cannot load module bad: Exec format error"));
	assert_non_null(strstr(log, "cannot load module missing: cannot open /m/missing.ko"));
}

static void test_eexist(void **state)
{
	struct env *e = *state;

	start(e, 1);
	ki_modload_request(e->ml, H);
	assert_int_equal(ki_modload_wait(e->ml, H, 5000), 0);
	assert_int_equal(ki_modload_state(e->ml, H), KI_MOD_LIVE);
	assert_null(strstr(tl_text(&e->tl), "cannot load"));
}

static void test_aliases_and_blacklist(void **state)
{
	struct env *e = *state;

	e->cmd.blacklist[e->cmd.n_blacklist++] = "f";
	start(e, 2);
	/* e matches, bl (flagged) matches too but is blacklisted */
	assert_int_equal(ki_modload_request_alias(e->ml, "pci:v00001234d00000001sv0"), 2);
	/* f is blacklisted on the command line: matched, not loaded */
	assert_int_equal(ki_modload_request_alias(e->ml, "pci:v00005678d00000009"), 1);
	assert_int_equal(ki_modload_request_alias(e->ml, "acpi:NOPE0000:"), 0);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	assert_int_equal(e->fake.loads[E], 1);
	assert_int_equal(e->fake.loads[BL], 0);
	assert_int_equal(e->fake.loads[F], 0);
	/* asked for by name, a blacklisted module loads (as modprobe NAME) */
	assert_int_equal(ki_modload_request_name(e->ml, "bl"), 0);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	assert_int_equal(e->fake.loads[BL], 1);
}

static void test_names(void **state)
{
	struct env *e = *state;

	start(e, 2);
	assert_int_equal(ki_modload_request_name(e->ml, "sd-mod"), 0); /* built in */
	assert_int_equal(ki_modload_request_name(e->ml, "nonexistent"), -ENOENT);
	assert_int_equal(ki_modload_load(e->ml, "fs-ext4", 5000), 0);
	assert_int_equal(ki_modload_state(e->ml, EXT4), KI_MOD_LIVE);
	assert_int_equal(ki_modload_load(e->ml, "virtio", 5000), 0);
	assert_int_equal(ki_modload_load(e->ml, "bad", 5000), -ENOEXEC);
	assert_int_equal(ki_modload_load(e->ml, "fs-xfs", 5000), -ENOENT);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	assert_int_equal(e->fake.n, 6); /* ext4, its three, its post, bad */
}

static void test_params(void **state)
{
	struct env *e = *state;
	char text[] = "root=/dev/vda d.extra=5 d.spaced=\"a b\" e.flag z.other=1";

	assert_int_equal(ki_cmdline_parse(&e->cmd, text, &e->tl.log), 0);
	start(e, 2);
	ki_modload_request(e->ml, D);
	ki_modload_request(e->ml, E);
	ki_modload_request(e->ml, ZIPPED);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	/* the plan's options first, then the command line's, then ours */
	assert_string_equal(e->fake.params[D],
			    "opt=1 other=\"x y\" extra=5 spaced=\"a b\" async_probe");
	assert_string_equal(e->fake.params[E], "flag async_probe");
	assert_string_equal(e->fake.params[A], "async_probe");
	/* messages show the user's options only */
	assert_non_null(strstr(tl_text(&e->tl), "loaded module e (options: flag) in"));
	assert_int_equal(e->fake.flags[D], 0);
	assert_int_equal(e->fake.flags[ZIPPED], 4); /* MODULE_INIT_COMPRESSED_FILE */
}

static void test_urgent_first(void **state)
{
	struct env *e = *state;

	e->fake.sleep_ms = 100;
	start(e, 1);
	/* the only worker is busy with a; e, f, g queue up behind it */
	ki_modload_request(e->ml, A);
	ki_modload_request(e->ml, E);
	ki_modload_request(e->ml, F);
	ki_modload_request(e->ml, G);
	/* the root's file system is waited for: it and its needs go first */
	assert_int_equal(ki_modload_load(e->ml, "fs-ext4", 5000), 0);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	assert_true(pos(&e->fake, EXT4) < pos(&e->fake, E));
	assert_true(pos(&e->fake, JBD2) < pos(&e->fake, E));
	assert_true(pos(&e->fake, CRC) < pos(&e->fake, E));
	assert_true(pos(&e->fake, CRC32C) < pos(&e->fake, E));
	/* a softdep post module of an urgent one is not urgent itself */
	assert_true(pos(&e->fake, G) < pos(&e->fake, EXT4_POST));
}

static void test_urgent_holds_back(void **state)
{
	struct env *e = *state;

	e->fake.sleep_ms = 100;
	start(e, 2);
	ki_modload_request(e->ml, A); /* both workers busy */
	ki_modload_request(e->ml, E);
	ki_modload_request(e->ml, F); /* queued, not urgent */
	ki_modload_request(e->ml, G);
	/* crc16 is queued as an ordinary module first, then becomes urgent */
	ki_modload_request(e->ml, CRC);
	assert_int_equal(ki_modload_load(e->ml, "fs-ext4", 5000), 0);
	assert_int_equal(ki_modload_wait_all(e->ml, 5000), 0);
	/* nothing ordinary starts while the urgent chain is not done */
	assert_true(pos(&e->fake, EXT4) < pos(&e->fake, F));
	assert_true(pos(&e->fake, EXT4) < pos(&e->fake, G));
	assert_int_equal(e->fake.loads[CRC], 1);
	assert_int_equal(e->fake.n, 9); /* a e f g crc16 crc32c jbd2 ext4 ext4_post */
}

static void test_wait_timeout(void **state)
{
	struct env *e = *state;

	e->fake.sleep_ms = 300;
	start(e, 1);
	ki_modload_request(e->ml, A);
	assert_int_equal(ki_modload_wait(e->ml, A, 20), -ETIMEDOUT);
	assert_int_equal(ki_modload_wait_all(e->ml, 20), -ETIMEDOUT);
	assert_int_equal(ki_modload_wait(e->ml, A, 5000), 0);
	assert_int_equal(ki_modload_wait(e->ml, B, 10), -ENOENT); /* never asked for */
}

static void test_no_plan(void **state)
{
	struct env *e = *state;
	struct ki_plan empty;
	struct ki_modload *ml;
	struct ki_modload_cfg cfg = { &empty, NULL, &e->tl.log, &e->ops, 2 };

	memset(&empty, 0, sizeof(empty));
	start(e, 1);
	assert_int_equal(ki_modload_start(&ml, &cfg), 0);
	assert_int_equal(ki_modload_request_alias(ml, "pci:v00001234d0"), 0);
	assert_int_equal(ki_modload_request_name(ml, "ext4"), -ENOENT);
	assert_int_equal(ki_modload_request(ml, 0), -ENOENT);
	assert_int_equal(ki_modload_wait_all(ml, 100), 0);
	ki_modload_stop(ml);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_order), T(test_parallel), T(test_failure_goes_on), T(test_eexist),
		T(test_aliases_and_blacklist), T(test_names), T(test_params),
		T(test_urgent_first), T(test_urgent_holds_back), T(test_wait_timeout),
		T(test_no_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
