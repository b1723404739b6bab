/* relay.h - relayed connections: the two-direction splice, listeners, sessions and the outbound step. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_RELAY_H
#define KL_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/confdata.h"
#include "base/buf.h"
#include "base/metric.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "net/dns.h"
#include "net/listener.h"
#include "net/stream.h"
#include "net/tls.h"
#include "proto/cidr.h"
#include "proto/httpresp.h"

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
 * With `upstream` set, CONNECTING reaches the upstream proxy instead and
 * UPSTREAM runs the chain step (TLS handshake, CONNECT, the proxy's
 * reply; upstream.c) before the session is told the outcome. A TLS
 * listener wraps the client socket before the session sees a byte: the
 * handshake runs inside the first reads, under the handshake timeout.
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
enum kl_rstate { KL_RS_HANDSHAKE = 1, KL_RS_RESOLVING, KL_RS_CONNECTING, KL_RS_UPSTREAM, KL_RS_RELAY, KL_RS_CLOSING };

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

/* c->tflags: which TLS session counts the connection holds (listener side, upstream side). */
enum { KL_RT_CLI = 1 << 0, KL_RT_UP = 1 << 1 };

/* Refusal reasons, for metrics (stable indexes). */
enum { KL_RREF_FULL = 0, KL_RREF_PER_IP, KL_RREF_CLIENTS, KL_RREF_STOPPING, KL_RREF_TLS, KL_RREF_COUNT };

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
	/*
	 * Framing (optional; HTTP forwarding). A direction whose c->gate[dir]
	 * is not KL_GATE_OPEN writes only the gate's count of bytes from the
	 * front of its buffer. frame() runs after bytes arrived in that
	 * buffer and when the gate fell to 0 with bytes left; it may open
	 * more of the gate. turn() runs after each I/O turn in RELAY while a
	 * gate is closed: the session may end the exchange there (next
	 * request, or close). While gate[DOWN] is not open the server's EOF
	 * is not passed to the client: turn() decides.
	 */
	void (*frame)(struct kl_rconn *c, int dir);
	void (*turn)(struct kl_rconn *c);
};

/* Directions of a kl_rconn (indexes of c->gate). */
enum { KL_UP = 0, KL_DOWN = 1 };
#define KL_GATE_OPEN UINT32_MAX
/* Room a framed direction keeps free in its block: a rewritten head may grow in place by this much. */
#define KL_RELAY_HEAD_SLACK 256u

/* HTTP forwarding: the framing of the exchange in flight (sess_connect.c). */
struct kl_rhttp {
	struct kl_httpresp_chunked req_ck, resp_ck;
	uint64_t req_left, resp_left;   /* body bytes not yet cleared (Content-Length) */
	uint8_t req_mode, resp_mode;    /* sess_connect.c's BODY_* */
	uint8_t flags;                  /* sess_connect.c's HF_* */
	uint8_t nreq;                   /* requests served on this client connection, saturating */
};

struct kl_rconn {
	struct kl_rlisten *l;
	struct kl_stream cli, srv;
	struct kl_buf up, down;
	struct kl_timer timer;
	struct kl_idle idle;                    /* TLS: decrypted bytes wait inside the stream */
	struct kl_buf uph;                      /* UPSTREAM: the proxy's reply head (a lent block) */
	struct kl_rconn *wnext, *wprev;         /* buffer wait list */
	uint64_t start_ms, last_ms;             /* last_ms: activity, or phase start */
	uint64_t bytes_up, bytes_down;
	uint32_t id;
	uint32_t dns_handle;
	int err;                                /* errno of the outbound failure */
	uint8_t state, flags, sess, naddr, addr_i;
	uint8_t tflags;                         /* KL_RT_* */
	uint16_t up_sent;                       /* UPSTREAM: bytes of the CONNECT request written */
	uint16_t up_status;                     /* the upstream's refusing status (HTTP), 0 none */
	uint16_t dport, cport;
	uint8_t cip[16];
	uint8_t dip[KL_DNS_MAX_ADDRS][16];
	const char *why;                        /* close reason for the log line */
	uint32_t sess_u32;                      /* session scratch */
	uint32_t gate[2];                       /* framing: bytes cleared for writing per direction */
	struct kl_rhttp http;                   /* HTTP forwarding state (zero for other sessions) */
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
	/* TLS and chaining (kl_rlisten_tls); NULL/0 when not configured */
	const struct kl_tls_conf *tls_srv, *tls_up;
	struct kl_pool *tls_pool;
	uint32_t tls_cli, tls_upn;              /* sessions held now, each capped by tls_sessions */
	char up_host[256];                      /* upstream host (name or literal), "" = direct */
	uint16_t up_port;
	/* metrics */
	struct kl_metric m_active, m_accepted, m_refused[KL_RREF_COUNT], m_up, m_down, m_stalls,
		m_dns, m_dns_fail, m_denied, m_connfail, m_closed, m_tls_fail, m_up_fail;
};

/* Bytes of per-listener side tables (rules, per-IP table) carved from "relay.NAME.tab". */
size_t kl_rlisten_mem_size(const struct kl_conf_relay *rc);
/* Compiles the config's rules (the config was validated: malformed rules are skipped with a log line). */
int  kl_rlisten_init(struct kl_rlisten *l, const struct kl_conf_relay *rc, struct kl_ev *ev, struct kl_dns *dns,
		     struct kl_pool *conn_pool, struct kl_pool *buf_pool, void *tab_mem, char err[KL_ERRLEN]);
/*
 * TLS for the listener: server wraps every accepted client (NULL: plain),
 * upstream is the client conf for upstream_tls (NULL: plain TCP to the
 * upstream). Both are built once by the caller and outlive the listener;
 * sessions come from pool ("tls.sess", shared), at most tls_sessions per
 * side. MUST be called after kl_rlisten_init and before kl_rlisten_start.
 */
void kl_rlisten_tls(struct kl_rlisten *l, const struct kl_tls_conf *server, const struct kl_tls_conf *upstream,
		    struct kl_pool *pool);
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
/* Makes b's bytes one contiguous run at the start of its block (rotates in place). */
void kl_relay_linearize(struct kl_buf *b);
/* Closes the server side only (a kept-alive origin that is gone or not needed again). */
void kl_relay_drop_server(struct kl_rconn *c);
/* Enters CLOSING with nothing more to say: flush c->down, half-close, drain, close with why. */
void kl_relay_finish(struct kl_rconn *c, const char *why);
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

/* Accept path (listen.c) into relay.c; c->cli is already set up (plain or TLS). */
void kl_relay_begin(struct kl_rconn *c);

/* ---- relay.c <-> upstream.c: the chain step ---- */

/* Ends the outbound step with a failure rc (KL_E*; c->err may hold errno): the session replies. */
void kl_relay_fail_outbound(struct kl_rconn *c, int rc);
/* The TCP connection to the upstream is up: starts TLS if configured and sends CONNECT. */
void kl_upstream_begin(struct kl_rconn *c);
/* Server-side readiness in UPSTREAM. */
void kl_upstream_io(struct kl_rconn *c);
/* Poll interest of the server side in UPSTREAM (before the stream's own want()). */
unsigned kl_upstream_want(const struct kl_rconn *c);

extern const struct kl_rsess_ops kl_sess_fwd_ops, kl_sess_socks5_ops, kl_sess_connect_ops;

#endif
