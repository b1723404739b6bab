/* tcp.h - the TCP calls the thumbs service needs (client and server side), without port.h. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_TCP_H
#define KL_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/kl.h"

/*
 * Addresses travel as 16 bytes (IPv4 as ::ffff:a.b.c.d, the kl_cidr_addr
 * layout) plus a host-order port. Every call returns >= 0 or -errno;
 * read/write map "would block" to KL_AGAIN so callers above net/ never
 * see errno values for the normal case.
 */

/* Starts a non-blocking connect. Returns the fd or -errno. */
int     kl_tcp_connect(const uint8_t ip[16], uint16_t port);
/* Once the fd is writable: 0 connected, else -errno. */
int     kl_tcp_connect_result(int fd);
/* >0 bytes, 0 = EOF, KL_AGAIN, or -errno. */
ssize_t kl_tcp_read(int fd, void *b, size_t n);
/* >=0 bytes, KL_AGAIN, or -errno; never raises SIGPIPE. */
ssize_t kl_tcp_write(int fd, const void *b, size_t n);
void    kl_tcp_close(int fd);
struct kp_addr;
/* "1.2.3.4:5678" for a peer handed over by the listener. */
void    kl_tcp_format(const struct kp_addr *a, char *out, size_t cap);
/* A short phrase for a -errno value ("connection refused"). */
const char *kl_tcp_strerror(int err);

#endif
