/* sock.c - socket helpers over port.h in 16-byte address form. */
/* SPDX-License-Identifier: MIT */
#include "net/sock.h"
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* see sock.h */
int kl_sock_is_v4(const uint8_t ip[16])
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(ip, pre, 12) == 0;
}

/* see sock.h */
int kl_sock_connect(const uint8_t ip[16], uint16_t port)
{
	struct kp_addr a;

	kp_addr_from_ip(ip, 1, port, &a);
	return kp_connect_start(&a);
}

/* see sock.h */
int kl_sock_connect_result(int fd)
{
	return kp_connect_result(fd);
}

/* see sock.h */
void kl_sock_bufs(int fd, int bytes)
{
	kp_sock_bufs(fd, bytes);
}

/* see sock.h */
int kl_sock_local(int fd, uint8_t ip[16], uint16_t *port)
{
	struct kp_addr a;
	int r = kp_local_addr(fd, &a);

	if (r < 0)
		return r;
	kp_addr_ip16(&a, ip);
	*port = kp_addr_port(&a);
	return 0;
}

/* see sock.h */
void kl_sock_format(const uint8_t ip[16], uint16_t port, char *out, size_t cap)
{
	struct kp_addr a;

	kp_addr_from_ip(ip, 1, port, &a);
	kp_addr_format(&a, out, cap);
}

/* see sock.h */
int kl_sock_classify(int err)
{
	switch (err) {
	case ECONNREFUSED: return KL_SOCK_REFUSED;
	case ENETUNREACH: case ENETDOWN: case EADDRNOTAVAIL: case EAFNOSUPPORT: return KL_SOCK_NETUNREACH;
	case EHOSTUNREACH: case EHOSTDOWN: return KL_SOCK_HOSTUNREACH;
	case ETIMEDOUT: return KL_SOCK_TIMEDOUT;
	default: return KL_SOCK_OTHER;
	}
}

/* see sock.h */
const char *kl_sock_strerror(int err)
{
	return err ? strerror(err) : "no error";
}
