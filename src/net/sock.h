/* sock.h - the socket helpers sessions need, in 16-byte address form, without port.h. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_SOCK_H
#define KL_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"

/*
 * Addresses above net/ travel as 16 bytes (IPv4 as ::ffff:a.b.c.d, the
 * kp_addr_ip16 and kl_dns layout) plus a host-order port, so relay/ never
 * needs struct sockaddr.
 */
#define KL_SOCK_ADDRSTRLEN 64

/* Starts a non-blocking connect. Returns the fd, or -errno (e.g. -ENETUNREACH). */
int  kl_sock_connect(const uint8_t ip[16], uint16_t port);
/* After the fd turned writable: 0 connected, else -errno (SO_ERROR). */
int  kl_sock_connect_result(int fd);
/* Clamps SO_RCVBUF and SO_SNDBUF to bytes (the kernel doubles the figure it reports). */
void kl_sock_bufs(int fd, int bytes);
/* The local address of fd, for SOCKS5 BND.ADDR. 0 or -errno. */
int  kl_sock_local(int fd, uint8_t ip[16], uint16_t *port);
/* "1.2.3.4:80" or "[::1]:80"; mapped addresses print as IPv4. */
void kl_sock_format(const uint8_t ip[16], uint16_t port, char *out, size_t cap);
/* Whether ip16 holds an IPv4 address (::ffff:0:0/96). */
int  kl_sock_is_v4(const uint8_t ip[16]);
/* Errno values the relay maps to replies. */
enum { KL_SOCK_REFUSED = 1, KL_SOCK_NETUNREACH, KL_SOCK_HOSTUNREACH, KL_SOCK_TIMEDOUT, KL_SOCK_OTHER };
int  kl_sock_classify(int err);
const char *kl_sock_strerror(int err);

#endif
