/* file.c - local files for the thumbs service, over port.h. */
/* SPDX-License-Identifier: MIT */
#include "net/file.h"
#include "port.h"

/* see file.h */
int kl_file_open_beneath(const char *root, const char *rel)
{
	return kp_open_beneath(root, rel);
}

/* see file.h */
int kl_file_stat(int fd, uint64_t *size, int64_t *mtime)
{
	return kp_file_size(fd, size, mtime);
}

/* see file.h */
ssize_t kl_file_read(int fd, void *b, size_t n)
{
	return kp_read(fd, b, n);
}

/* see file.h */
void kl_file_close(int fd)
{
	if (fd >= 0)
		kp_close(fd);
}
