/* tcp.c - TCP helpers for the thumbs service, over port.h. */
/* SPDX-License-Identifier: MIT */
#include "net/tcp.h"
#include "port.h"

#include <errno.h>
#include <string.h>

/* see tcp.h */
int kl_tcp_connect(const uint8_t ip[16], uint16_t port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct kp_addr a;
	int rc;

	if (memcmp(ip, mapped, 12) == 0)
		rc = kp_addr_from_ip(ip + 12, 0, port, &a);
	else
		rc = kp_addr_from_ip(ip, 1, port, &a);
	if (rc < 0)
		return rc;
	return kp_connect_start(&a);
}

/* see tcp.h */
int kl_tcp_connect_result(int fd)
{
	return kp_connect_result(fd);
}

/* see tcp.h */
ssize_t kl_tcp_read(int fd, void *b, size_t n)
{
	ssize_t r = kp_read(fd, b, n);

	return r == -EAGAIN ? KL_AGAIN : r;
}

/* see tcp.h */
ssize_t kl_tcp_write(int fd, const void *b, size_t n)
{
	ssize_t r = kp_write(fd, b, n);

	return r == -EAGAIN ? KL_AGAIN : r;
}

/* see tcp.h */
void kl_tcp_close(int fd)
{
	if (fd >= 0)
		kp_close(fd);
}

/* see tcp.h */
void kl_tcp_format(const struct kp_addr *a, char *out, size_t cap)
{
	kp_addr_format(a, out, cap);
}

/* see tcp.h */
const char *kl_tcp_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}
