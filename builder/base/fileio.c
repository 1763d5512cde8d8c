// SPDX-License-Identifier: MIT
/* Whole files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

int kd_read_file(const struct kd_log *log, const char *path, struct kd_buf *out)
{
	struct stat st;
	size_t got = 0;
	int fd, err;

	out->data = NULL;
	out->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			KD_ERR(log, "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		KD_ERR(log, "%s: not a regular file", path);
		close(fd);
		return err;
	}
	out->data = kd_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, out->data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			KD_ERR(log, "%s: read failed: %s", path,
			       r < 0 ? strerror(-err) : "file shrank while reading");
			close(fd);
			kd_buf_free(out);
			return err;
		}
		got += (size_t)r;
	}
	close(fd);
	out->data[got] = '\0';
	out->size = got;
	return 0;
}


int kd_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
