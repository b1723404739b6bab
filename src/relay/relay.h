/* relay.h - relayed connections: the two-direction splice, listeners, sessions and the outbound step. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_RELAY_H
#define KL_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "app/conf.h"
#include "base/buf.h"
#include "base/metric.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "net/dns.h"
#include "net/listener.h"
#include "net/stream.h"
#include "proto/cidr.h"

/*
 * One [relay NAME] section is one kl_rlisten; each accepted client is one
 * kl_rconn from the listener's "relay.NAME.conn" pool. A connection lives
 * through these states:
 *
 *   HANDSHAKE --(session knows host:port)--> RESOLVING --> CONNECTING
 *       |                                        |             |
 *       |              (refused, failed: session writes a reply)
 *       v                                        v             v
 *   CLOSING (flush the reply, half-close, drain)      RELAY (splice)
 *
 * Buffers: c->up carries client -> server bytes and c->down server ->
 * client bytes. Each is a block of the listener's "relay.NAME.buf" pool
 * held only while it holds data (the session also uses them for the
 * handshake: up for what the client sent, down for replies). When the
 * pool is empty the connection stops reading that side and waits on the
 * listener's wait list until a block comes back: a stall, never an abort.
 *
 * Sessions implement the handshake (kl_rsess_ops); everything else -
 * timers, backpressure, half-close, the close log line - is relay.c.
 * config is read-only data here (app/ owns it); relay/ never calls app/.
 */
enum kl_rstate { KL_RS_HANDSHAKE = 1, KL_RS_RESOLVING, KL_RS_CONNECTING, KL_RS_RELAY, KL_RS_CLOSING };

/* c->flags */
enum {
	KL_RF_CLI_EOF = 1 << 0,         /* client sent FIN */
	KL_RF_SRV_EOF = 1 << 1,         /* server sent FIN */
	KL_RF_CLI_SHUT = 1 << 2,        /* we sent FIN to the client */
	KL_RF_SRV_SHUT = 1 << 3,        /* we sent FIN to the server */
	KL_RF_WAIT_UP = 1 << 4,         /* waiting for a block to read the client into */
	KL_RF_WAIT_DOWN = 1 << 5,       /* waiting for a block to read the server into */
	KL_RF_QUEUED = 1 << 6,          /* on the listener's wait list */
	KL_RF_IP_COUNTED = 1 << 7       /* holds a slot in the per-IP table */
};

/* Refusal reasons, for metrics (stable indexes). */
enum { KL_RREF_FULL = 0, KL_RREF_PER_IP, KL_RREF_CLIENTS, KL_RREF_STOPPING, KL_RREF_COUNT };

struct kl_rconn;
struct kl_rlisten;

struct kl_rsess_ops {
	const char *name;               /* "socks5", "http", "forward" */
	/* After accept (client stream ready, state HANDSHAKE). */
	void (*start)(struct kl_rconn *c);
	/* Handshake input: new bytes are in c->up. */
	void (*input)(struct kl_rconn *c);
	/* Outbound result: 0 (c->srv connected) or a KL_E* (c->err may hold errno). */
	void (*connected)(struct kl_rconn *c, int rc);
	/* The client's side of the reply is flushed (keep-alive HTTP may reuse the connection). */
	void (*flushed)(struct kl_rconn *c);
};

struct kl_rconn {
	struct kl_rlisten *l;
	struct kl_stream cli, srv;
	struct kl_buf up, down;
	struct kl_timer timer;
	struct kl_rconn *wnext, *wprev;         /* buffer wait list */
	uint64_t start_ms, last_ms;             /* last_ms: activity, or phase start */
	uint64_t bytes_up, bytes_down;
	uint32_t id;
	uint32_t dns_handle;
	int err;                                /* errno of the outbound failure */
	uint8_t state, flags, sess, naddr, addr_i;
	uint8_t close_after;                    /* CLOSING: close once the reply is flushed */
	uint16_t dport, cport;
	uint8_t cip[16];
	uint8_t dip[KL_DNS_MAX_ADDRS][16];
	const char *why;                        /* close reason for the log line */
	uint32_t sess_u32;                      /* session scratch (HTTP: bytes of body left) */
	char host[256];                         /* destination as asked (name or literal) */
};

struct kl_rlisten {
	const struct kl_conf_relay *conf;
	const struct kl_rsess_ops *ops;
	struct kl_listener lst;
	struct kl_ev *ev;
	struct kl_dns *dns;
	struct kl_pool *conn_pool, *buf_pool;
	struct kl_rconn *wait_head, *wait_tail; /* connections waiting for a block */
	uint32_t active, next_id;
	int stopping, paused_full;
	/* compiled rules */
	struct kl_cidr_rule *clients, *allow, *deny;
	uint32_t nclients, nallow, ndeny;
	/* per-client-IP connection counts: open addressing, no deletion marks needed (see listen.c) */
	struct kl_rip { uint8_t ip[16]; uint32_t n; } *ips;
	uint32_t nips;
	/* metrics */
	struct kl_metric m_active, m_accepted, m_refused[KL_RREF_COUNT], m_up, m_down, m_stalls,
		m_dns, m_dns_fail, m_denied, m_connfail, m_closed;
};

/* Bytes of per-listener side tables (rules, per-IP table) carved from "relay.NAME.tab". */
size_t kl_rlisten_mem_size(const struct kl_conf_relay *rc);
/* Compiles the config's rules (the config was validated: malformed rules are skipped with a log line). */
int  kl_rlisten_init(struct kl_rlisten *l, const struct kl_conf_relay *rc, struct kl_ev *ev, struct kl_dns *dns,
		     struct kl_pool *conn_pool, struct kl_pool *buf_pool, void *tab_mem, char err[KL_ERRLEN]);
/* Opens the listening socket and registers the metrics. */
int  kl_rlisten_start(struct kl_rlisten *l, char err[KL_ERRLEN]);
/* Stops accepting; connections in flight finish. */
void kl_rlisten_stop(struct kl_rlisten *l);
/* Closes every connection now (end of the grace period). */
void kl_rlisten_abort_all(struct kl_rlisten *l);

/* ---- relay.c: used by sessions ---- */

/* Starts the outbound step for c->host:c->dport (DNS, policy, connect); ends in ops->connected. */
void kl_relay_connect(struct kl_rconn *c);
/* Adopts an already connected server socket (tests; outbounds that connect by other means). */
void kl_relay_attach_server(struct kl_rconn *c, int fd);
/* Enters RELAY: bytes left in c->up go to the server first. */
void kl_relay_splice(struct kl_rconn *c);
/*
 * Queues reply bytes toward the client (into c->down). With close_after the
 * connection flushes them, half-closes, drains and closes with reason why.
 * Returns 0 or KL_ENOMEM (no block, reply too long: the connection closes).
 */
int  kl_relay_reply(struct kl_rconn *c, const void *msg, size_t n, int close_after, const char *why);
/*
 * Handshake input: drops n parsed bytes from the front of c->up and keeps
 * the rest at the start of the block, so parsers always see one
 * contiguous run (the block then never wraps during a handshake).
 */
void kl_relay_consume(struct kl_rconn *c, size_t n);
/* The contiguous handshake bytes in c->up (NULL, 0 when none). */
const uint8_t *kl_relay_input(const struct kl_rconn *c, size_t *len);
/* Takes a buffer block for b now, or NULL (pool empty). */
int  kl_relay_buf_get(struct kl_rconn *c, struct kl_buf *b);
/* Returns b's block when empty (LIFO) and wakes a waiter. */
void kl_relay_buf_drop(struct kl_rconn *c, struct kl_buf *b);
/* Closes now: abort = RST both sides. */
void kl_relay_close(struct kl_rconn *c, const char *why, int abort);
/* Recomputes poll interest on both sides. */
void kl_relay_update(struct kl_rconn *c);
/* Credentials check against the listener's users (constant time per entry). */
int  kl_relay_user_ok(const struct kl_rlisten *l, const char *user, size_t ulen, const char *pass, size_t plen);

/* Accept path (listen.c) into relay.c. */
void kl_relay_begin(struct kl_rconn *c, int fd);

extern const struct kl_rsess_ops kl_sess_fwd_ops, kl_sess_socks5_ops, kl_sess_connect_ops;

#endif
