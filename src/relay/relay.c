/* relay.c - the two-direction splice: lent buffers, backpressure, half-close, timeouts, close. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "base/log.h"
#include "net/sock.h"

#include <stdio.h>
#include <string.h>

/*
 * Direction UP moves client -> server through c->up, DOWN server ->
 * client through c->down. A read needs a block; the block goes back to
 * the pool as soon as the writer drained it, so between bursts a
 * connection holds no buffer at all:
 *
 *   client --read--> [ up block, only while non-empty ] --write--> server
 *   client <--write-- [ down block, only while non-empty ] <--read-- server
 *
 * Backpressure: a side is read only while the block toward the other
 * side has room (or there is none yet); write interest is on only while
 * a block holds data. EOF on a side becomes shutdown(SHUT_WR) on the
 * other once its block drained; the other direction keeps flowing.
 */
enum { UP = KL_UP, DOWN = KL_DOWN };
#define PUMP_ROUNDS 4           /* read/write rounds per event: throughput vs fairness */

_Static_assert(sizeof(struct kl_rconn) <= 704, "struct kl_rconn must fit RELAY_CONN_BYTES in budget.c");

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud);
static void on_timer(struct kl_ev *ev, struct kl_timer *t, void *ud);
static void try_connect(struct kl_rconn *c);

static uint64_t now(const struct kl_rconn *c)
{
	return kl_ev_now(c->l->ev);
}

/* ---------------- buffers and the wait list ---------------- */

static void wait_push(struct kl_rconn *c, uint8_t flag)
{
	struct kl_rlisten *l = c->l;

	c->flags |= flag;
	kl_metric_inc(&l->m_stalls);
	if (c->flags & KL_RF_QUEUED)
		return;
	c->flags |= KL_RF_QUEUED;
	c->wnext = NULL;
	c->wprev = l->wait_tail;
	if (l->wait_tail)
		l->wait_tail->wnext = c;
	else
		l->wait_head = c;
	l->wait_tail = c;
}

static void wait_remove(struct kl_rconn *c)
{
	struct kl_rlisten *l = c->l;

	if (!(c->flags & KL_RF_QUEUED))
		return;
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		l->wait_head = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	else
		l->wait_tail = c->wprev;
	c->wnext = c->wprev = NULL;
	c->flags &= (uint8_t)~(KL_RF_QUEUED | KL_RF_WAIT_UP | KL_RF_WAIT_DOWN);
}

/* A block came back: the oldest waiter may read again (it takes the block on its next event). */
static void wake_one(struct kl_rlisten *l)
{
	struct kl_rconn *w = l->wait_head;

	if (!w)
		return;
	wait_remove(w);
	kl_relay_update(w);
}

/* see relay.h */
int kl_relay_buf_get(struct kl_rconn *c, struct kl_buf *b)
{
	uint8_t *blk;

	if (b->area)
		return 0;
	blk = kl_pool_get(c->l->buf_pool);
	if (!blk)
		return KL_ENOMEM;
	b->area = blk;
	b->size = (uint32_t)c->l->buf_pool->size;
	b->head = b->len = 0;
	return 0;
}

static void buf_put(struct kl_rconn *c, struct kl_buf *b)
{
	if (!b->area)
		return;
	kl_pool_put(c->l->buf_pool, b->area);
	memset(b, 0, sizeof(*b));
	wake_one(c->l);
}

/* see relay.h */
void kl_relay_buf_drop(struct kl_rconn *c, struct kl_buf *b)
{
	if (b->area && b->len == 0)
		buf_put(c, b);
}

/* see relay.h */
void kl_relay_consume(struct kl_rconn *c, size_t n)
{
	struct kl_buf *b = &c->up;

	kl_buf_rack(b, n);
	if (b->len && b->head) {
		memmove(b->area, b->area + b->head, b->len);
		b->head = 0;
	}
}

static void reverse(uint8_t *p, size_t n)
{
	for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
		uint8_t t = p[i];
		p[i] = p[j - 1];
		p[j - 1] = t;
	}
}

/* see relay.h */
void kl_relay_linearize(struct kl_buf *b)
{
	if (!b->area || b->head == 0)
		return;
	if (b->head + b->len <= b->size) {
		memmove(b->area, b->area + b->head, b->len);
	} else {
		/* Wrapped: rotate the whole block left by head (three reversals, no scratch memory). */
		reverse(b->area, b->head);
		reverse(b->area + b->head, b->size - b->head);
		reverse(b->area, b->size);
	}
	b->head = 0;
}

/* see relay.h */
const uint8_t *kl_relay_input(const struct kl_rconn *c, size_t *len)
{
	return kl_buf_rptr(&c->up, len);
}

/* ---------------- interest and timers ---------------- */

static int has_data(const struct kl_buf *b) { return b->area && b->len > 0; }

/* Bytes the read side may add: a framed direction keeps KL_RELAY_HEAD_SLACK free for a head rewrite. */
static size_t read_room(const struct kl_rconn *c, int dir)
{
	const struct kl_buf *b = dir == UP ? &c->up : &c->down;
	uint32_t size = b->area ? b->size : c->l->buf_pool ? (uint32_t)c->l->buf_pool->size : 0;
	uint32_t cap = c->gate[dir] == KL_GATE_OPEN || size <= 2 * KL_RELAY_HEAD_SLACK ? size :
		size - KL_RELAY_HEAD_SLACK;

	return b->len < cap ? cap - b->len : 0;
}

static int has_room(const struct kl_rconn *c, int dir) { return read_room(c, dir) > 0; }

/* Data that may be written now (a framing gate may hold it back). */
static int can_send(const struct kl_rconn *c, int dir)
{
	return has_data(dir == UP ? &c->up : &c->down) && c->gate[dir] != 0;
}

static unsigned cli_want(const struct kl_rconn *c)
{
	unsigned w = 0;

	if (can_send(c, DOWN))
		w |= KL_EV_WR;
	switch (c->state) {
	case KL_RS_HANDSHAKE:
	case KL_RS_RESOLVING:
	case KL_RS_CONNECTING:
	case KL_RS_RELAY:
		if (!(c->flags & (KL_RF_CLI_EOF | KL_RF_WAIT_UP)) && has_room(c, UP))
			w |= KL_EV_RD;
		break;
	case KL_RS_CLOSING:
		if (!has_data(&c->down))
			w |= KL_EV_RD;          /* drain what the client still sends, until its FIN */
		break;
	}
	return w;
}

static unsigned srv_want(const struct kl_rconn *c)
{
	unsigned w = 0;

	if (c->state == KL_RS_CONNECTING)
		return KL_EV_WR;
	if (c->state == KL_RS_UPSTREAM)
		return kl_upstream_want(c);
	if (c->state != KL_RS_RELAY)
		return 0;
	if (can_send(c, UP))
		w |= KL_EV_WR;
	if (!(c->flags & (KL_RF_SRV_EOF | KL_RF_WAIT_DOWN)) && has_room(c, DOWN))
		w |= KL_EV_RD;
	return w;
}

static uint32_t limit_ms(const struct kl_rconn *c, const char **why)
{
	const struct kl_conf_relay *rc = c->l->conf;
	int up_done = (c->flags & KL_RF_CLI_EOF) && !has_data(&c->up) && (c->flags & KL_RF_SRV_SHUT);
	int down_done = (c->flags & KL_RF_SRV_EOF) && !has_data(&c->down) && (c->flags & KL_RF_CLI_SHUT);

	switch (c->state) {
	case KL_RS_HANDSHAKE:
		if (c->http.nreq && !has_data(&c->up)) {
			/* A kept-alive HTTP client between requests is idle, not slow. */
			*why = "keep-alive idle timeout";
			return rc->idle_ms;
		}
		*why = "handshake timeout";
		return rc->handshake_ms;
	case KL_RS_RESOLVING:
	case KL_RS_CONNECTING:
	case KL_RS_UPSTREAM:
		*why = "connect timeout";
		return rc->connect_ms;
	case KL_RS_CLOSING:
		*why = "closing timeout";
		return rc->handshake_ms;
	default:
		break;
	}
	/* V2Ray's policy: uplinkOnly runs once the downlink is closed, downlinkOnly once the uplink is. */
	if (up_done && down_done) {
		*why = "done";
		return 0;
	}
	if (down_done) {
		*why = "uplink_only timeout";
		return rc->uplink_only_ms;
	}
	if (up_done) {
		*why = "downlink_only timeout";
		return rc->downlink_only_ms;
	}
	*why = "idle timeout";
	return rc->idle_ms;
}

/*
 * Lazy deadline: activity only moves last_ms; the timer fires at the old
 * deadline, sees the activity and re-arms for the rest. It is re-armed
 * early only when the deadline moves closer (a phase change, a side
 * closing), so a busy connection costs no heap operation per read.
 */
static void arm(struct kl_rconn *c)
{
	const char *why;
	uint64_t due = c->last_ms + limit_ms(c, &why), t = now(c);

	if (kl_timer_armed(&c->timer) && c->timer.due <= due)
		return;
	kl_timer_arm(c->l->ev, &c->timer, due > t ? (uint32_t)KL_MIN(due - t, 0x7fffffffu) : 0, on_timer, c);
}

/*
 * A TLS stream may hold decrypted bytes the socket will never signal
 * again (a record larger than the room that was offered). While a side
 * that has some is wanted for reading, an idle item delivers the
 * readiness poll cannot.
 */
static int on_idle(struct kl_ev *ev, struct kl_idle *w, void *ud)
{
	struct kl_rconn *c = ud;

	if (kl_stream_open(&c->cli) && kl_stream_pending(&c->cli) && (cli_want(c) & KL_EV_RD))
		on_io(ev, c->cli.fd, KL_EV_RD, c);
	if (c->state && kl_stream_open(&c->srv) && kl_stream_pending(&c->srv) && (srv_want(c) & KL_EV_RD))
		on_io(ev, c->srv.fd, KL_EV_RD, c);
	return 0;
}

/* see relay.h */
void kl_relay_update(struct kl_rconn *c)
{
	struct kl_ev *ev = c->l->ev;
	unsigned cw = cli_want(c), sw = srv_want(c);
	int pend = 0;

	if (kl_stream_open(&c->cli)) {
		kl_ev_want(ev, c->cli.fd, kl_stream_want(&c->cli, cw));
		pend |= (cw & KL_EV_RD) && kl_stream_pending(&c->cli);
	}
	if (kl_stream_open(&c->srv)) {
		kl_ev_want(ev, c->srv.fd, kl_stream_want(&c->srv, sw));
		pend |= (sw & KL_EV_RD) && kl_stream_pending(&c->srv);
	}
	if (pend)
		kl_idle_push(ev, &c->idle, on_idle, c);
	arm(c);
}

static void on_timer(struct kl_ev *ev, struct kl_timer *t, void *ud)
{
	struct kl_rconn *c = ud;
	const char *why;
	uint64_t due = c->last_ms + limit_ms(c, &why);

	if (now(c) < due) {
		kl_timer_arm(ev, &c->timer, (uint32_t)KL_MIN(due - now(c), 0x7fffffffu), on_timer, c);
		return;
	}
	if (c->state == KL_RS_RESOLVING || c->state == KL_RS_CONNECTING || c->state == KL_RS_UPSTREAM) {
		kl_relay_fail_outbound(c, KL_ETIMEDOUT);
		return;
	}
	kl_relay_close(c, why, 0);
}

/* ---------------- close ---------------- */

void kl_rlisten_release(struct kl_rlisten *l, struct kl_rconn *c);

/* see relay.h */
void kl_relay_close(struct kl_rconn *c, const char *why, int abort)
{
	struct kl_rlisten *l = c->l;
	char cli[KL_SOCK_ADDRSTRLEN], dst[sizeof(c->host) + KL_SOCK_ADDRSTRLEN + 32];
	uint64_t ms;

	if (!c->state)
		return;
	kl_timer_cancel(l->ev, &c->timer);
	kl_idle_cancel(l->ev, &c->idle);
	if (c->dns_handle) {
		kl_dns_cancel(l->dns, c->dns_handle);
		c->dns_handle = 0;
	}
	wait_remove(c);
	if (kl_stream_open(&c->cli)) {
		kl_ev_del(l->ev, c->cli.fd);
		kl_stream_close(&c->cli, abort);
	}
	if (kl_stream_open(&c->srv)) {
		kl_ev_del(l->ev, c->srv.fd);
		kl_stream_close(&c->srv, abort);
	}
	c->state = 0;
	/* Buffers go back whatever they hold: the connection is gone. */
	c->up.len = c->down.len = c->uph.len = 0;
	buf_put(c, &c->up);
	buf_put(c, &c->down);
	buf_put(c, &c->uph);

	ms = now(c) - c->start_ms;
	kl_sock_format(c->cip, c->cport, cli, sizeof(cli));
	if (c->naddr && c->addr_i < c->naddr) {
		char ip[KL_SOCK_ADDRSTRLEN];
		kl_sock_format(c->dip[c->addr_i], l->up_host[0] ? l->up_port : c->dport, ip, sizeof(ip));
		snprintf(dst, sizeof(dst), l->up_host[0] ? "%s:%u (via upstream %s)" : "%s:%u (%s)", c->host, c->dport, ip);
	} else if (c->host[0]) {
		snprintf(dst, sizeof(dst), "%s:%u", c->host, c->dport);
	} else {
		snprintf(dst, sizeof(dst), "-");
	}
	kl_log(KL_LOG_INFO, "relay %s: c%u %s -> %s up %llu down %llu %llu.%03us: %s", l->conf->name, c->id, cli,
	       dst, (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down,
	       (unsigned long long)(ms / 1000), (unsigned)(ms % 1000), why ? why : "closed");
	kl_metric_inc(&l->m_closed);
	kl_rlisten_release(l, c);
}

/* ---------------- the byte path ---------------- */

/*
 * Moves bytes along one direction; reads only when rd says the source
 * reported readiness (a block is taken only when data is there to fill
 * it). Returns 0, or -1 when the connection was closed.
 */
static int pump(struct kl_rconn *c, int dir, int rd)
{
	struct kl_rlisten *l = c->l;
	struct kl_stream *src = dir == UP ? &c->cli : &c->srv, *dst = dir == UP ? &c->srv : &c->cli;
	struct kl_buf *b = dir == UP ? &c->up : &c->down;
	uint8_t eof = dir == UP ? KL_RF_CLI_EOF : KL_RF_SRV_EOF, shut = dir == UP ? KL_RF_SRV_SHUT : KL_RF_CLI_SHUT;
	uint8_t waitf = dir == UP ? KL_RF_WAIT_UP : KL_RF_WAIT_DOWN;
	int can_write = c->state == KL_RS_RELAY || dir == DOWN;
	int can_read = rd && (dir == UP ? c->state != KL_RS_CLOSING : c->state == KL_RS_RELAY);
	void (*frame)(struct kl_rconn *, int) = l->ops->frame;

	for (int round = 0; round < PUMP_ROUNDS; round++) {
		int progress = 0;

		if (can_read && !(c->flags & (eof | waitf))) {
			size_t room = 0;
			uint8_t *w = NULL;

			if (!b->area && kl_relay_buf_get(c, b) < 0)
				wait_push(c, waitf);    /* stall: no block; retried when one returns */
			else
				w = kl_buf_wptr(b, &room);
			room = KL_MIN(room, read_room(c, dir));
			if (w && room) {
				ssize_t r = kl_stream_read(src, w, room);
				if (r > 0) {
					kl_buf_wack(b, (size_t)r);
					progress = 1;
					if (frame && c->gate[dir] != KL_GATE_OPEN) {
						frame(c, dir);
						if (!c->state)
							return -1;
					}
				} else if (r == 0) {
					c->flags |= eof;
					progress = 1;
				} else if (r != KL_AGAIN) {
					kl_relay_close(c, dir == UP ? "client reset" : "server reset", 1);
					return -1;
				}
			}
		}
		if (can_write && can_send(c, dir) && kl_stream_open(dst)) {
			size_t avail;
			const uint8_t *p = kl_buf_rptr(b, &avail);
			ssize_t w = kl_stream_write(dst, p, KL_MIN(avail, (size_t)c->gate[dir]));
			if (w > 0) {
				kl_buf_rack(b, (size_t)w);
				if (c->gate[dir] != KL_GATE_OPEN) {
					c->gate[dir] -= (uint32_t)w;
					if (c->gate[dir] == 0 && frame) {
						frame(c, dir);
						if (!c->state)
							return -1;
					}
				}
				if (dir == UP) {
					c->bytes_up += (uint64_t)w;
					kl_metric_add(&l->m_up, (uint64_t)w);
				} else {
					c->bytes_down += (uint64_t)w;
					kl_metric_add(&l->m_down, (uint64_t)w);
				}
				progress = 1;
			} else if (w != KL_AGAIN) {
				kl_relay_close(c, dir == UP ? "server reset" : "client reset", 1);
				return -1;
			}
		}
		if (c->state == KL_RS_RELAY && progress)
			c->last_ms = now(c);
		kl_relay_buf_drop(c, b);
		if (can_write && (c->flags & eof) && !has_data(b) && !(c->flags & shut) && kl_stream_open(dst) &&
		    (dir == UP || c->gate[DOWN] == KL_GATE_OPEN)) {
			c->flags |= shut;
			if (kl_stream_shutdown(dst) < 0) {
				kl_relay_close(c, dir == UP ? "server reset" : "client reset", 1);
				return -1;
			}
		}
		if (!progress)
			break;
	}
	return 0;
}

/* CLOSING: flush the reply, send FIN, read and drop until the client's FIN. */
static void closing(struct kl_rconn *c)
{
	uint8_t junk[512];
	ssize_t r;

	if (pump(c, DOWN, 0) < 0)
		return;
	if (has_data(&c->down))
		return;
	if (!(c->flags & KL_RF_CLI_SHUT)) {
		c->flags |= KL_RF_CLI_SHUT;
		kl_stream_shutdown(&c->cli);
	}
	/* Dropping unread input before close() would turn our FIN into a RST and lose the reply. */
	for (int i = 0; i < 16; i++) {
		r = kl_stream_read(&c->cli, junk, sizeof(junk));
		if (r == KL_AGAIN)
			return;
		if (r <= 0)
			break;
	}
	if (r > 0)
		return;
	kl_relay_close(c, c->why, 0);
}

static void handshake_read(struct kl_rconn *c)
{
	size_t room = 0;
	uint8_t *w;
	ssize_t r;

	if (c->flags & KL_RF_WAIT_UP)
		return;
	if (kl_relay_buf_get(c, &c->up) < 0) {
		wait_push(c, KL_RF_WAIT_UP);
		return;
	}
	w = kl_buf_wptr(&c->up, &room);
	room = KL_MIN(room, read_room(c, UP));
	if (!w || !room)
		return;
	r = kl_stream_read(&c->cli, w, room);
	if (r > 0) {
		kl_buf_wack(&c->up, (size_t)r);
		c->l->ops->input(c);
		if (c->state)
			kl_relay_buf_drop(c, &c->up);
	} else if (r < 0 && r != KL_AGAIN && (c->tflags & KL_RT_CLI) && !kl_tls_ready(&c->cli)) {
		/* Garbage, a wrong version, a hello cut short: this client only. */
		kl_relay_buf_drop(c, &c->up);
		kl_metric_inc(&c->l->m_tls_fail);
		kl_log(KL_LOG_INFO, "relay %s: c%u tls handshake failed: %s", c->l->conf->name, c->id,
		       kl_tls_reason(&c->cli)[0] ? kl_tls_reason(&c->cli) : "connection closed");
		kl_relay_close(c, "tls handshake failed", 1);
	} else if (r == 0) {
		kl_relay_close(c, "client closed during the handshake", 0);
	} else if (r != KL_AGAIN) {
		kl_relay_close(c, "client reset during the handshake", 1);
	} else {
		kl_relay_buf_drop(c, &c->up);
	}
}

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct kl_rconn *c = ud;
	int is_cli = fd == c->cli.fd;

	if (!is_cli && c->state == KL_RS_CONNECTING) {
		int r = kl_sock_connect_result(fd);
		if (r < 0) {
			c->err = -r;
			kl_ev_del(ev, fd);
			kl_stream_close(&c->srv, 0);
			c->addr_i++;
			try_connect(c);
			return;
		}
		if (c->l->conf->sock_buf_kb)
			kl_sock_bufs(fd, (int)c->l->conf->sock_buf_kb * 1024);
		if (c->l->up_host[0]) {
			kl_upstream_begin(c);
			if (c->state)
				kl_relay_update(c);
			return;
		}
		c->l->ops->connected(c, 0);
		if (c->state)
			kl_relay_update(c);
		return;
	}
	switch (c->state) {
	case KL_RS_HANDSHAKE:
		if (!is_cli) {
			/* A server kept between HTTP requests hung up or failed: the next request connects anew. */
			kl_relay_drop_server(c);
			break;
		}
		if (what & KL_EV_WR) {
			if (pump(c, DOWN, 0) < 0)
				return;
			if (!has_data(&c->down) && c->l->ops->flushed)
				c->l->ops->flushed(c);
		}
		if (c->state == KL_RS_HANDSHAKE && (what & (KL_EV_RD | KL_EV_ERR)))
			handshake_read(c);
		break;
	case KL_RS_UPSTREAM:
		if (!is_cli) {
			kl_upstream_io(c);
			break;
		}
		if (pump(c, UP, what & (KL_EV_RD | KL_EV_ERR)) < 0 || pump(c, DOWN, 0) < 0)
			return;
		break;
	case KL_RS_RESOLVING:
	case KL_RS_CONNECTING:
		/* Keep what the client pipelines behind its request, up to one block; flush replies. */
		if (pump(c, UP, what & (KL_EV_RD | KL_EV_ERR)) < 0 || pump(c, DOWN, 0) < 0)
			return;
		break;
	case KL_RS_CLOSING:
		closing(c);
		break;
	case KL_RS_RELAY:
		/*
		 * This side's readiness reads it. The other direction writes toward
		 * it, and reads on the off chance only when it already holds a
		 * block with room (no block is taken for a maybe).
		 */
		if (pump(c, is_cli ? UP : DOWN, what & (KL_EV_RD | KL_EV_ERR)) < 0 ||
		    pump(c, is_cli ? DOWN : UP, (is_cli ? c->down.area : c->up.area) != NULL) < 0)
			return;
		if (c->l->ops->turn && (c->gate[UP] != KL_GATE_OPEN || c->gate[DOWN] != KL_GATE_OPEN)) {
			c->l->ops->turn(c);
			if (c->state != KL_RS_RELAY)
				break;
			/* The session may have opened the gates: the splice takes over the ends. */
			if (pump(c, UP, 0) < 0 || pump(c, DOWN, 0) < 0)
				return;
		}
		if ((c->flags & (KL_RF_CLI_EOF | KL_RF_SRV_EOF | KL_RF_CLI_SHUT | KL_RF_SRV_SHUT)) ==
		    (KL_RF_CLI_EOF | KL_RF_SRV_EOF | KL_RF_CLI_SHUT | KL_RF_SRV_SHUT)) {
			kl_relay_close(c, "done", 0);
			return;
		}
		break;
	default:
		return;
	}
	if (c->state)
		kl_relay_update(c);
}

/* see relay.h */
void kl_relay_begin(struct kl_rconn *c)
{
	int fd = c->cli.fd;

	c->srv.fd = -1;
	c->state = KL_RS_HANDSHAKE;
	c->gate[UP] = c->gate[DOWN] = KL_GATE_OPEN;
	c->start_ms = c->last_ms = now(c);
	if (c->l->conf->sock_buf_kb)
		kl_sock_bufs(fd, (int)c->l->conf->sock_buf_kb * 1024);
	if (kl_ev_add(c->l->ev, fd, KL_EV_RD, on_io, c) < 0) {
		kl_relay_close(c, "no poll slot", 1);
		return;
	}
	c->l->ops->start(c);
	if (c->state)
		kl_relay_update(c);
}

/* see relay.h */
void kl_relay_drop_server(struct kl_rconn *c)
{
	if (kl_stream_open(&c->srv)) {
		kl_ev_del(c->l->ev, c->srv.fd);
		kl_stream_close(&c->srv, 0);
	}
	if (c->tflags & KL_RT_UP) {
		c->l->tls_upn--;
		c->tflags &= (uint8_t)~KL_RT_UP;
	}
	c->flags &= (uint8_t)~(KL_RF_SRV_EOF | KL_RF_SRV_SHUT | KL_RF_WAIT_DOWN);
	c->naddr = 0;
	c->addr_i = 0;
}

/* see relay.h */
void kl_relay_finish(struct kl_rconn *c, const char *why)
{
	if (c->dns_handle) {
		kl_dns_cancel(c->l->dns, c->dns_handle);
		c->dns_handle = 0;
	}
	if (kl_stream_open(&c->srv)) {
		kl_ev_del(c->l->ev, c->srv.fd);
		kl_stream_close(&c->srv, 0);
	}
	c->up.len = 0;
	kl_relay_buf_drop(c, &c->up);
	/* CLOSING writes c->down whole: whatever framing held back is now the reply. */
	c->gate[UP] = c->gate[DOWN] = KL_GATE_OPEN;
	c->state = KL_RS_CLOSING;
	c->why = why;
	c->last_ms = now(c);
	kl_timer_cancel(c->l->ev, &c->timer);
	closing(c);
	if (c->state)
		kl_relay_update(c);
}

/* see relay.h */
int kl_relay_reply(struct kl_rconn *c, const void *msg, size_t n, int close_after, const char *why)
{
	if (kl_relay_buf_get(c, &c->down) < 0 || kl_buf_room(&c->down) < n) {
		kl_relay_close(c, "no buffer for the reply", 1);
		return KL_ENOMEM;
	}
	kl_buf_put(&c->down, msg, n);
	if (close_after) {
		kl_relay_finish(c, why);
		return c->state ? 0 : KL_ECLOSED;
	} else {
		if (pump(c, DOWN, 0) < 0)
			return KL_ECLOSED;
	}
	if (c->state)
		kl_relay_update(c);
	return c->state ? 0 : KL_ECLOSED;
}

/* see relay.h */
void kl_relay_attach_server(struct kl_rconn *c, int fd)
{
	kl_stream_plain(&c->srv, fd);
	if (c->l->conf->sock_buf_kb)
		kl_sock_bufs(fd, (int)c->l->conf->sock_buf_kb * 1024);
	if (kl_ev_add(c->l->ev, fd, 0, on_io, c) < 0)
		kl_relay_close(c, "no poll slot", 1);
}

/* see relay.h */
void kl_relay_splice(struct kl_rconn *c)
{
	c->state = KL_RS_RELAY;
	c->last_ms = now(c);
	kl_timer_cancel(c->l->ev, &c->timer);
	/* Whatever the client sent behind its request goes first. */
	if (pump(c, UP, 0) < 0 || pump(c, DOWN, 0) < 0)
		return;
	kl_relay_update(c);
}

/* ---------------- outbound: direct ---------------- */

/* see relay.h */
void kl_relay_fail_outbound(struct kl_rconn *c, int rc)
{
	struct kl_rlisten *l = c->l;

	if (c->dns_handle) {
		kl_dns_cancel(l->dns, c->dns_handle);
		c->dns_handle = 0;
	}
	if (kl_stream_open(&c->srv)) {
		kl_ev_del(l->ev, c->srv.fd);
		kl_stream_close(&c->srv, 0);
	}
	c->uph.len = 0;
	kl_relay_buf_drop(c, &c->uph);
	if (rc == KL_EDENIED)
		kl_metric_inc(&l->m_denied);
	else
		kl_metric_inc(&l->m_connfail);
	c->state = KL_RS_HANDSHAKE;
	c->naddr = 0;
	l->ops->connected(c, rc);
}

static void try_connect(struct kl_rconn *c)
{
	struct kl_rlisten *l = c->l;

	while (c->addr_i < c->naddr) {
		int fd = kl_sock_connect(c->dip[c->addr_i], l->up_host[0] ? l->up_port : c->dport);
		if (fd < 0) {
			c->err = -fd;
			c->addr_i++;
			continue;
		}
		kl_stream_plain(&c->srv, fd);
		if (kl_ev_add(l->ev, fd, KL_EV_WR, on_io, c) < 0) {
			kl_stream_close(&c->srv, 0);
			c->err = 24;    /* EMFILE: out of poll slots counts as out of descriptors */
			c->addr_i++;
			continue;
		}
		c->state = KL_RS_CONNECTING;
		kl_relay_update(c);
		return;
	}
	kl_relay_fail_outbound(c, KL_EIO);
}

/* Keeps the resolved addresses the destination policy allows, then connects. */
static void resolved(struct kl_rconn *c, const struct kl_dns_addrs *a)
{
	struct kl_rlisten *l = c->l;
	int why = 0;
	size_t hlen = strlen(c->host);
	uint8_t tmp[16];
	int literal = kl_dns_literal(c->host, tmp) == 0;

	c->naddr = 0;
	c->addr_i = 0;
	for (uint32_t i = 0; i < a->n; i++) {
		struct kl_cidr_addr ca;
		if (l->conf->type == KL_RELAY_FORWARD || l->up_host[0]) {
			/* The operator chose the target or the upstream: no destination policy applies. */
			memcpy(c->dip[c->naddr++], a->ip[i], 16);
			continue;
		}
		kl_cidr_from_v6(&ca, a->ip[i]);
		if (kl_sock_is_v4(a->ip[i]))
			kl_cidr_from_v4(&ca, a->ip[i] + 12);
		if (kl_cidr_decide(l->allow, l->nallow, l->deny, l->ndeny, &ca, literal ? NULL : c->host,
				   literal ? 0 : hlen, &why) == 0)
			memcpy(c->dip[c->naddr++], a->ip[i], 16);
		else
			kl_log(KL_LOG_DEBUG, "relay %s: c%u %s: address refused (%s)", l->conf->name, c->id,
			       c->host, kl_cidr_why_name(why));
	}
	if (!c->naddr) {
		kl_relay_fail_outbound(c, KL_EDENIED);
		return;
	}
	try_connect(c);
}

static void on_dns(void *ud, int rc, const struct kl_dns_addrs *a)
{
	struct kl_rconn *c = ud;

	c->dns_handle = 0;
	if (rc < 0) {
		kl_metric_inc(&c->l->m_dns_fail);
		kl_relay_fail_outbound(c, rc == KL_ETIMEDOUT ? KL_ETIMEDOUT : KL_ENOTFOUND);
		return;
	}
	resolved(c, a);
}

/* see relay.h */
void kl_relay_connect(struct kl_rconn *c)
{
	struct kl_rlisten *l = c->l;
	struct kl_dns_addrs a;
	uint8_t tmp[16];
	const char *host = c->host;
	int rc, why = 0;

	c->state = KL_RS_RESOLVING;
	c->last_ms = now(c);
	c->err = 0;
	kl_timer_cancel(l->ev, &c->timer);
	/* Refuse by name first: a denied name is never even looked up. */
	if (kl_dns_literal(c->host, tmp) < 0 && l->conf->type != KL_RELAY_FORWARD &&
	    kl_cidr_decide(l->allow, l->nallow, l->deny, l->ndeny, NULL, c->host, strlen(c->host), &why) < 0) {
		kl_relay_fail_outbound(c, KL_EDENIED);
		return;
	}
	if (l->up_host[0]) {
		/*
		 * Chained: the upstream resolves and connects; the policy still
		 * judges what the client asked for (a literal by its address, a
		 * name by the name rules above), never the upstream's address.
		 */
		if (kl_dns_literal(c->host, tmp) == 0 && l->conf->type != KL_RELAY_FORWARD) {
			struct kl_cidr_addr ca;
			kl_cidr_from_v6(&ca, tmp);
			if (kl_sock_is_v4(tmp))
				kl_cidr_from_v4(&ca, tmp + 12);
			if (kl_cidr_decide(l->allow, l->nallow, l->deny, l->ndeny, &ca, NULL, 0, &why) < 0) {
				kl_log(KL_LOG_DEBUG, "relay %s: c%u %s: address refused (%s)", l->conf->name, c->id,
				       c->host, kl_cidr_why_name(why));
				kl_relay_fail_outbound(c, KL_EDENIED);
				return;
			}
		}
		host = l->up_host;
	}
	if (kl_dns_literal(host, tmp) < 0)
		kl_metric_inc(&l->m_dns);
	rc = kl_dns_resolve(l->dns, host, on_dns, c, &a, &c->dns_handle);
	if (rc == KL_AGAIN) {
		kl_relay_update(c);
		return;
	}
	if (rc < 0) {
		kl_metric_inc(&l->m_dns_fail);
		kl_relay_fail_outbound(c, rc == KL_ENOMEM ? KL_ENOMEM : KL_ENOTFOUND);
		return;
	}
	resolved(c, &a);
}
