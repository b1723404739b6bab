/* listener.c - accept loop with backpressure by pausing. */
/* SPDX-License-Identifier: MIT */
#include "net/listener.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ACCEPTS_PER_TURN 32     /* keep one busy listener from starving the rest */

static void on_ready(struct kl_ev *ev, int lfd, unsigned what, void *ud)
{
	struct kl_listener *l = ud;

	for (int i = 0; i < ACCEPTS_PER_TURN && l->fd >= 0 && !l->paused; i++) {
		struct kp_addr peer;
		int fd = kp_accept(l->fd, &peer);

		if (fd == -EAGAIN || fd == -ECONNABORTED || fd == -EINTR)
			return;
		if (fd == -EMFILE || fd == -ENFILE) {
			/* Out of descriptors: the plan's fd budget is reached. */
			kl_log(KL_LOG_WARN, "%s: out of file descriptors, pausing accept", l->name);
			kl_listener_pause(l);
			return;
		}
		if (fd < 0) {
			kl_log(KL_LOG_WARN, "%s: accept: %s", l->name, strerror(-fd));
			return;
		}
		l->accepted++;
		if (l->on_accept(l, fd, &peer, l->ud) < 0) {
			l->refused++;
			kp_close(fd);
		}
	}
}

/* see listener.h */
int kl_listener_open(struct kl_listener *l, struct kl_ev *ev, const char *name, const char *hostport,
		     kl_accept_fn *fn, void *ud, char err[KL_ERRLEN])
{
	int fd, rc;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (kp_addr_parse(hostport, &l->addr) < 0) {
		snprintf(err, KL_ERRLEN, "%s: listen: not an IP address and port: %s", name, hostport);
		return KL_EINVAL;
	}
	fd = kp_listen(&l->addr, 512);
	if (fd < 0) {
		snprintf(err, KL_ERRLEN, "%s: listen %s: %s", name, hostport, strerror(-fd));
		return KL_EIO;
	}
	rc = kl_ev_add(ev, fd, KL_EV_RD, on_ready, l);
	if (rc < 0) {
		kp_close(fd);
		snprintf(err, KL_ERRLEN, "%s: listen %s: %s", name, hostport, kl_strerror(rc));
		return rc;
	}
	/* Port 0 in tests: record the port the kernel chose. */
	kp_local_addr(fd, &l->addr);
	l->fd = fd;
	l->ev = ev;
	l->on_accept = fn;
	l->ud = ud;
	return 0;
}

/* see listener.h */
void kl_listener_pause(struct kl_listener *l)
{
	if (l->fd < 0 || l->paused)
		return;
	l->paused = 1;
	kl_ev_want(l->ev, l->fd, 0);
}

/* see listener.h */
void kl_listener_resume(struct kl_listener *l)
{
	if (l->fd < 0 || !l->paused)
		return;
	l->paused = 0;
	kl_ev_want(l->ev, l->fd, KL_EV_RD);
}

/* see listener.h */
void kl_listener_close(struct kl_listener *l)
{
	if (l->fd < 0)
		return;
	kl_ev_del(l->ev, l->fd);
	kp_close(l->fd);
	l->fd = -1;
}

/* see listener.h */
void kl_listener_peer(const struct kp_addr *a, uint8_t ip[16], uint16_t *port)
{
	kp_addr_ip16(a, ip);
	*port = kp_addr_port(a);
}
