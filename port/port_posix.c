/* port_posix.c - the POSIX implementation of port.h (poll, sockets, signals). */
/* SPDX-License-Identifier: MIT */
#include "port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* see port.h */
const char *kp_name(void)
{
	return "poll";
}

/* see port.h */
int kp_poll(struct pollfd *p, unsigned n, int timeout_ms)
{
	int r = poll(p, n, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r;
}

/* see port.h */
uint64_t kp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* see port.h */
uint64_t kp_wall_s(void)
{
	return (uint64_t)time(NULL);
}

/* see port.h */
int kp_addr_from_ip(const uint8_t *ip, int is_v6, uint16_t port, struct kp_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (is_v6 && memcmp(ip, mapped, 12) == 0) {
		ip += 12;
		is_v6 = 0;
	}
	if (is_v6) {
		a->u.v6.sin6_family = AF_INET6;
		a->u.v6.sin6_port = htons(port);
		memcpy(&a->u.v6.sin6_addr, ip, 16);
		a->len = sizeof(a->u.v6);
	} else {
		a->u.v4.sin_family = AF_INET;
		a->u.v4.sin_port = htons(port);
		memcpy(&a->u.v4.sin_addr, ip, 4);
		a->len = sizeof(a->u.v4);
	}
	return 0;
}

/* see port.h */
int kp_addr_parse(const char *s, struct kp_addr *a)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &a->u.v4.sin_addr) == 1) {
		a->u.v4.sin_family = AF_INET;
		a->u.v4.sin_port = htons((uint16_t)port);
		a->len = sizeof(a->u.v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a->u.v6.sin6_addr) == 1) {
		a->u.v6.sin6_family = AF_INET6;
		a->u.v6.sin6_port = htons((uint16_t)port);
		a->len = sizeof(a->u.v6);
		return 0;
	}
	return -EINVAL;
}

/* see port.h */
void kp_addr_ip(const struct kp_addr *a, char *out, size_t cap)
{
	const void *src = a->u.sa.sa_family == AF_INET6 ? (const void *)&a->u.v6.sin6_addr
							  : (const void *)&a->u.v4.sin_addr;

	if (cap == 0)
		return;
	if (a->u.sa.sa_family != AF_INET && a->u.sa.sa_family != AF_INET6) {
		snprintf(out, cap, "-");
		return;
	}
	if (!inet_ntop(a->u.sa.sa_family, src, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* see port.h */
uint16_t kp_addr_port(const struct kp_addr *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.v6.sin6_port : a->u.v4.sin_port);
}

/* see port.h */
void kp_addr_format(const struct kp_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	kp_addr_ip(a, ip, sizeof(ip));
	snprintf(out, cap, a->u.sa.sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 (unsigned)kp_addr_port(a));
}

/* see port.h */
void kp_addr_ip16(const struct kp_addr *a, uint8_t out[16])
{
	if (a->u.sa.sa_family == AF_INET6) {
		memcpy(out, &a->u.v6.sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &a->u.v4.sin_addr, 4);
}

/* see port.h */
int kp_addr_is_loopback(const struct kp_addr *a)
{
	uint8_t ip[16];
	static const uint8_t lo6[16] = { [15] = 1 };

	kp_addr_ip16(a, ip);
	if (ip[10] == 0xff && ip[11] == 0xff && memcmp(ip, lo6, 10) == 0)
		return ip[12] == 127;
	return memcmp(ip, lo6, 16) == 0;
}

static int nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static int new_socket(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/* see port.h */
int kp_listen(const struct kp_addr *a, int backlog)
{
	int one = 1, fd = new_socket(a->u.sa.sa_family);

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->u.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->u.sa, a->len) < 0 || listen(fd, backlog) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* see port.h */
int kp_accept(int lfd, struct kp_addr *peer)
{
	int fd, one = 1;

	peer->len = sizeof(peer->u);
	fd = accept4(lfd, &peer->u.sa, &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* see port.h */
int kp_connect_start(const struct kp_addr *a)
{
	int one = 1, fd = new_socket(a->u.sa.sa_family);

	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* see port.h */
int kp_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* see port.h */
ssize_t kp_read(int fd, void *b, size_t n)
{
	ssize_t r;

	do
		r = read(fd, b, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* see port.h */
ssize_t kp_write(int fd, const void *b, size_t n)
{
	ssize_t r;

	do
		r = send(fd, b, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ENOTSOCK) {
		do
			r = write(fd, b, n);
		while (r < 0 && errno == EINTR);
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* see port.h */
int kp_shutdown_wr(int fd)
{
	return shutdown(fd, SHUT_WR) < 0 ? -errno : 0;
}

/* see port.h */
int kp_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

/* see port.h */
int kp_abort(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return kp_close(fd);
}

/* see port.h */
int kp_sock_bufs(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

/* see port.h */
int kp_local_addr(int fd, struct kp_addr *a)
{
	a->len = sizeof(a->u);
	return getsockname(fd, &a->u.sa, &a->len) < 0 ? -errno : 0;
}

/* see port.h */
int kp_open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Walks rel one component at a time with O_NOFOLLOW from an fd on root, so
 * neither "..", nor a symlink, nor an absolute path can leave the root.
 * Stricter than needed (symlinks inside the root are refused too), which
 * is the safe side for a public image server.
 */
int kp_open_beneath(const char *root, const char *rel)
{
	char comp[256];
	int dir, fd;

	dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while (*rel == '/')
		rel++;
	for (;;) {
		const char *slash = strchr(rel, '/');
		size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
		if (n == 0 || n >= sizeof(comp) || (n == 1 && rel[0] == '.') ||
		    (n == 2 && rel[0] == '.' && rel[1] == '.')) {
			close(dir);
			return -EACCES;
		}
		memcpy(comp, rel, n);
		comp[n] = 0;
		fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
				       (slash ? O_DIRECTORY : 0));
		close(dir);
		if (fd < 0)
			return errno == ELOOP ? -EACCES : -errno;
		if (!slash)
			break;
		dir = fd;
		rel = slash + 1;
	}
	return fd;
}

/* see port.h */
int kp_file_size(int fd, uint64_t *size, int64_t *mtime)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	*size = (uint64_t)st.st_size;
	*mtime = (int64_t)st.st_mtime;
	return 0;
}

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_bits;

static void on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	sig_bits |= sig == SIGHUP ? KP_SIG_HUP : KP_SIG_TERM;
	/* A full pipe already wakes the loop; losing this byte is harmless. */
	if (write(sig_pipe[1], &c, 1) < 0) {
	}
	errno = saved;
}

/* see port.h */
int kp_signal_init(void)
{
	struct sigaction sa;

	if (sig_pipe[0] < 0) {
		if (pipe(sig_pipe) < 0)
			return -errno;
		nonblock_cloexec(sig_pipe[0]);
		nonblock_cloexec(sig_pipe[1]);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return sig_pipe[0];
}

/* see port.h */
unsigned kp_signal_take(void)
{
	char junk[64];
	unsigned bits;

	while (read(sig_pipe[0], junk, sizeof(junk)) > 0) {
	}
	bits = (unsigned)sig_bits;
	sig_bits = 0;
	return bits;
}

/* see port.h */
void *kp_mem_map(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* see port.h */
void kp_mem_unmap(void *p, size_t n)
{
	if (p)
		munmap(p, n ? n : 1);
}

/*
 * /proc is read with open/read into a stack buffer rather than stdio or
 * opendir: both of those allocate, and /metrics calls these at run time.
 */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

/* see port.h */
uint64_t kp_rss_bytes(void)
{
	char buf[128];
	unsigned long pages_total, pages_rss;

	if (read_small("/proc/self/statm", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%lu %lu", &pages_total, &pages_rss) != 2)
		return 0;
	return (uint64_t)pages_rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* see port.h */
int kp_thread_count(void)
{
	char buf[1024];
	const char *p;
	int field = 3, n;

	/* /proc/self/stat: "pid (comm) state ..." with num_threads as field 20. */
	if (read_small("/proc/self/stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	p += 2;
	while (field < 20 && (p = strchr(p, ' ')) != NULL) {
		p++;
		field++;
	}
	if (!p || sscanf(p, "%d", &n) != 1)
		return -1;
	return n;
}
