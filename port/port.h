/* port.h - the whole contract between kinglet and the operating system. */
/* SPDX-License-Identifier: MIT */
#ifndef KP_PORT_H
#define KP_PORT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

/*
 * Every call returns >= 0 on success or -errno; nobody above this layer
 * looks at the global errno. Sockets and pipes are created non-blocking
 * and close-on-exec. Only src/ev, src/net and src/app include this file.
 */

struct kp_addr {
	socklen_t len;
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
		struct sockaddr_storage ss;
	} u;
};

#define KP_ADDRSTRLEN 64        /* "[ffff:...:ffff]:65535" fits */

const char *kp_name(void);                      /* "poll"; logged at start */
int      kp_poll(struct pollfd *p, unsigned n, int timeout_ms);  /* EINTR -> 0 */
uint64_t kp_now_ms(void);                       /* CLOCK_MONOTONIC */
uint64_t kp_wall_s(void);                       /* seconds since the epoch */

/* Addresses. parse takes a literal IP "1.2.3.4:80" or "[::1]:80". */
int  kp_addr_parse(const char *hostport, struct kp_addr *a);
int  kp_addr_from_ip(const uint8_t *ip, int is_v6, uint16_t port, struct kp_addr *a);
void kp_addr_format(const struct kp_addr *a, char *out, size_t cap);    /* with port */
void kp_addr_ip(const struct kp_addr *a, char *out, size_t cap);        /* without */
uint16_t kp_addr_port(const struct kp_addr *a);
int  kp_addr_is_loopback(const struct kp_addr *a);
/* 16 bytes, IPv4 as ::ffff:a.b.c.d. */
void kp_addr_ip16(const struct kp_addr *a, uint8_t out[16]);

/* Sockets. */
int     kp_listen(const struct kp_addr *a, int backlog);      /* fd */
int     kp_accept(int lfd, struct kp_addr *peer);             /* fd or -EAGAIN */
int     kp_connect_start(const struct kp_addr *a);            /* fd; in progress is ok */
int     kp_connect_result(int fd);                            /* 0 or -errno (SO_ERROR) */
ssize_t kp_read(int fd, void *b, size_t n);                   /* >0, 0 = EOF, -EAGAIN, -errno */
ssize_t kp_write(int fd, const void *b, size_t n);            /* >=0 or -errno; no SIGPIPE */
int     kp_shutdown_wr(int fd);
int     kp_close(int fd);
int     kp_sock_bufs(int fd, int bytes);                      /* SO_RCVBUF + SO_SNDBUF */
int     kp_local_addr(int fd, struct kp_addr *a);
/* Close with RST instead of FIN (SO_LINGER 0), for "errors reset both sides". */
int     kp_abort(int fd);

/* Files (local image sources, config, users files). */
int     kp_open_read(const char *path);                       /* fd, O_RDONLY|O_NONBLOCK */
int     kp_open_beneath(const char *root, const char *rel);   /* no escape from root */
int     kp_file_size(int fd, uint64_t *size, int64_t *mtime);

/*
 * Signals: TERM, INT and HUP are caught and written to a self-pipe whose
 * read end kp_signal_init() returns, so the poll loop wakes up; take()
 * drains it and returns the bits seen since the last call.
 */
enum { KP_SIG_TERM = 1, KP_SIG_HUP = 2 };
int      kp_signal_init(void);
unsigned kp_signal_take(void);

/* Memory: anonymous private mappings, untouched pages cost no RSS. */
void    *kp_mem_map(size_t n);
void     kp_mem_unmap(void *p, size_t n);
uint64_t kp_rss_bytes(void);

/*
 * The process allocator (port_malloc.c): malloc and friends are served from
 * a boot region of KP_MALLOC_BOOT_BYTES, then also from the plan's
 * "libc.heap" region once kp_malloc_use() installs it (once). Sanitizer
 * builds keep the system allocator (replaced = 0, all figures 0).
 */
#define KP_MALLOC_BOOT_BYTES (512u * 1024u)
struct kp_malloc_stats {
	size_t boot_size, boot_used, boot_peak;
	size_t plan_size, plan_used, plan_peak;
	uint64_t fails;
	int replaced;
};
int  kp_malloc_use(void *mem, size_t n);
void kp_malloc_stats(struct kp_malloc_stats *st);                                  /* 0 when unknown */
int      kp_thread_count(void);                               /* -1 when unknown */

#endif
