// SPDX-License-Identifier: MIT
/* Kernel uevents as parsed, and the coldplug walk over a fake sysfs. */
#include "unit.h"

#include <errno.h>
#include <sys/stat.h>

#include "init.h"
#include "init_test.h"

static size_t build(char *buf, const char *const *parts)
{
	size_t n = 0;

	for (; *parts; parts++) {
		strcpy(buf + n, *parts);
		n += strlen(*parts) + 1;
	}
	return n;
}

static void test_parse(void **state)
{
	static const char *const msg[] = {
		"add@/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1", "ACTION=add",
		"DEVPATH=/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1",
		"SUBSYSTEM=block", "MAJOR=254", "MINOR=1", "DEVNAME=vda1", "DEVTYPE=partition",
		"PARTN=1", "SEQNUM=1234", NULL,
	};
	char buf[1024];
	struct ki_event ev;
	size_t n = build(buf, msg);

	(void)state;
	assert_int_equal(ki_uevent_parse(buf, n, &ev), 0);
	assert_string_equal(ev.action, "add");
	assert_string_equal(ev.subsystem, "block");
	assert_string_equal(ev.devname, "vda1");
	assert_string_equal(ev.devtype, "partition");
	assert_true(ev.has_devnum);
	assert_int_equal(ev.major, 254);
	assert_int_equal(ev.minor, 1);
	assert_int_equal(ev.partn, 1);
	assert_null(ev.modalias);
}

static void test_parse_modalias(void **state)
{
	static const char *const msg[] = {
		"add@/devices/pci0000:00/0000:00:04.0/virtio1", "ACTION=add",
		"DEVPATH=/devices/pci0000:00/0000:00:04.0/virtio1", "SUBSYSTEM=virtio",
		"MODALIAS=virtio:d00000002v00001AF4", "SEQNUM=9", NULL,
	};
	static const char *const udev[] = { "libudev", "ACTION=add", NULL };
	static const char *const partial[] = { "add@/x", "SUBSYSTEM=block", NULL };
	char buf[1024];
	struct ki_event ev;
	size_t n = build(buf, msg);

	(void)state;
	assert_int_equal(ki_uevent_parse(buf, n, &ev), 0);
	assert_string_equal(ev.modalias, "virtio:d00000002v00001AF4");
	assert_false(ev.has_devnum);
	n = build(buf, udev);
	assert_int_equal(ki_uevent_parse(buf, n, &ev), -EINVAL);
	n = build(buf, partial);
	assert_int_equal(ki_uevent_parse(buf, n, &ev), -EINVAL);
	/* no terminating NUL in what the kernel sent: still bounded */
	memcpy(buf, "add@/y\0ACTION=add\0DEVPATH=/y", 28);
	assert_int_equal(ki_uevent_parse(buf, 28, &ev), 0);
	assert_string_equal(ev.devpath, "/y");
}

static void dir(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

struct seen {
	char alias[8][64];
	bool bound[8];
	int n;
};

static int each(void *data, const char *alias, bool bound)
{
	struct seen *s = data;

	s->bound[s->n] = bound;
	snprintf(s->alias[s->n++], sizeof(s->alias[0]), "%s", alias);
	return 0;
}

/* 0: not seen, 1: seen unbound, 2: seen with a driver */
static int has(const struct seen *s, const char *alias)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->alias[i], alias) == 0)
			return s->bound[i] ? 2 : 1;
	return 0;
}

static void test_coldplug(void **state)
{
	char root[] = "/tmp/kindling-sys.XXXXXX", link[512];
	struct seen s = { .n = 0 };

	(void)state;
	assert_non_null(mkdtemp(root));
	/* devices live under devices/, buses link to them, as in sysfs */
	dir(root, "devices");
	dir(root, "devices/0000:00:04.0");
	ts_put(root, "devices/0000:00:04.0/modalias", "pci:v00001AF4d00001001\n");
	dir(root, "devices/0000:00:04.0/virtio1");
	ts_put(root, "devices/0000:00:04.0/virtio1/modalias", "virtio:d00000002v00001AF4\n");
	dir(root, "devices/platform");
	ts_put(root, "devices/platform/modalias", "\n");
	dir(root, "devices/nomodalias");
	dir(root, "bus");
	dir(root, "bus/pci");
	dir(root, "bus/pci/devices");
	dir(root, "bus/virtio");
	dir(root, "bus/virtio/devices");
	dir(root, "bus/platform");
	dir(root, "bus/platform/devices");
	dir(root, "bus/empty");
	snprintf(link, sizeof(link), "%s/bus/pci/devices/0000:00:04.0", root);
	assert_int_equal(symlink("../../../devices/0000:00:04.0", link), 0);
	snprintf(link, sizeof(link), "%s/bus/virtio/devices/virtio1", root);
	assert_int_equal(symlink("../../../devices/0000:00:04.0/virtio1", link), 0);
	snprintf(link, sizeof(link), "%s/bus/platform/devices/platform", root);
	assert_int_equal(symlink("../../../devices/platform", link), 0);
	snprintf(link, sizeof(link), "%s/bus/platform/devices/nomodalias", root);
	assert_int_equal(symlink("../../../devices/nomodalias", link), 0);
	snprintf(link, sizeof(link), "%s/devices/0000:00:04.0/driver", root);
	assert_int_equal(symlink("../../bus/pci/drivers/virtio-pci", link), 0);
	snprintf(link, sizeof(link), "%s/bus", root);
	assert_int_equal(ki_coldplug_modaliases(link, each, &s), 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(has(&s, "pci:v00001AF4d00001001"), 2);
	assert_int_equal(has(&s, "virtio:d00000002v00001AF4"), 1);
	assert_int_equal(ki_coldplug_modaliases("/nonexistent-sys", each, &s), -ENOENT);
	ts_rm_tree(root);
}

static void test_socket(void **state)
{
	char buf[256];
	struct ki_event ev;
	int fd;

	(void)state;
	/* unprivileged or in a container this may be refused: then skip */
	if (ki_uevent_open(&fd) < 0)
		skip();
	assert_int_equal(ki_uevent_recv(fd, buf, sizeof(buf), &ev) >= 0, 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse), cmocka_unit_test(test_parse_modalias),
		cmocka_unit_test(test_coldplug), cmocka_unit_test(test_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
