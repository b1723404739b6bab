/* listener.h - a listening socket on the loop, with pause and resume. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_LISTENER_H
#define KL_LISTENER_H

#include "ev/ev.h"
#include "port.h"

struct kl_listener;

/*
 * Called for each accepted connection; fd is non-blocking. Return 0 when
 * the callee took ownership of fd, or a negative KL_E* when it refused:
 * the listener then closes fd (the refusal is the callee's to count).
 */
typedef int kl_accept_fn(struct kl_listener *l, int fd, const struct kp_addr *peer, void *ud);

struct kl_listener {
	int fd;                         /* -1 when closed */
	struct kp_addr addr;
	char name[48];                  /* for log lines: "admin", "relay socks" */
	struct kl_ev *ev;
	kl_accept_fn *on_accept;
	void *ud;
	int paused;                     /* out of fds or buffers: not reading accept() */
	uint64_t accepted, refused;
};

/* Binds hostport (a literal IP and port). Returns 0 or a KL_E* code with err set. */
int  kl_listener_open(struct kl_listener *l, struct kl_ev *ev, const char *name, const char *hostport,
		      kl_accept_fn *fn, void *ud, char err[KL_ERRLEN]);
/* Stops accepting until resume (an empty pool, EMFILE): "connection not accepted yet". */
void kl_listener_pause(struct kl_listener *l);
void kl_listener_resume(struct kl_listener *l);
void kl_listener_close(struct kl_listener *l);
/* A peer address in 16-byte form (IPv4 as ::ffff:a.b.c.d) and its port, for layers above net/. */
void kl_listener_peer(const struct kp_addr *a, uint8_t ip[16], uint16_t *port);

#endif
