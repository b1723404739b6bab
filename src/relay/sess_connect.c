/* sess_connect.c - HTTP proxy sessions: CONNECT tunnels and absolute-form forwarding of http:// requests. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "net/sock.h"
#include "proto/httpreq.h"
#include "proto/httpresp.h"

#include <stdio.h>
#include <string.h>

/*
 * CONNECT host:port -> "200 Connection established", then a plain splice.
 *
 * GET http://host/path -> the head is rewritten (origin-form target, hop-
 * by-hop fields dropped, Via added) and the exchange is framed through
 * the splice's gates (relay.h): the request's body (Content-Length or
 * chunked) is cleared for the origin and nothing behind it; the
 * response head is rewritten in place (hop-by-hop fields dropped, Via,
 * our own Connection) and its body cleared by Content-Length, by the
 * chunked decoder (which only finds the end: the bytes pass unchanged)
 * or until the origin closes. 1xx heads go through and the final head
 * follows; HEAD, 204 and 304 have no body; 101 turns into a tunnel.
 *
 * Keep-alive: when the client allows it (HTTP/1.1 without close, 1.0
 * with keep-alive) and the response ended by its framing, the next
 * request is read on the same client connection. The origin connection
 * is reused for the same host:port while it is open, else the next
 * request resolves and connects anew (with the policy checks). The
 * request toward the origin then says keep-alive; without it, close.
 *
 * Limits: a request head must fit one buffer block (buffer_kb, 2 KB when
 * 0) with what follows it, else 431; a response head must fit the block
 * less KL_RELAY_HEAD_SLACK, else (or when it is malformed) the response
 * passes unchanged and the connection closes after it, as one request
 * per connection did.
 *
 * A 407 keeps the connection open when the request carried no body and
 * did not ask to close: browsers (and curl --proxy-anyauth) retry with
 * credentials on the same connection - over TLS that saves a handshake.
 * The retry must still come within the handshake timeout.
 */
enum { HEAD = 0, TUNNEL, FORWARD };
/* c->http.req_mode / resp_mode */
enum { BODY_NONE = 0, BODY_LEN, BODY_CHUNKED, BODY_CLOSE, BODY_HEAD };
/* c->http.flags */
enum {
	HF_KA = 1 << 0,         /* the client allows another request after this one */
	HF_HEADREQ = 1 << 1,    /* HEAD: the response has no body */
	HF_CLI10 = 1 << 2,      /* HTTP/1.0 client: keep-alive must be said */
	HF_REQ_DONE = 1 << 3,   /* the request is cleared to its end */
	HF_RESP_DONE = 1 << 4   /* the response is cleared to its end */
};
#define MAX_HDRS 64
#define VIA "1.1 kinglet"

static void start(struct kl_rconn *c)
{
	c->sess = HEAD;
}

static const char *reason_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 407: return "Proxy Authentication Required";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* One-line plain-text error, then close. */
static void respond(struct kl_rconn *c, int status, const char *body, const char *why)
{
	char out[512];
	int n = snprintf(out, sizeof(out),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s"
			 "Connection: close\r\n\r\n%s\n", status, reason_of(status), strlen(body) + 1,
			 status == 407 ? "Proxy-Authenticate: Basic realm=\"kinglet\"\r\n" :
			 status == 503 ? "Retry-After: 1\r\n" : "", body);

	kl_relay_reply(c, out, (size_t)n, 1, why);
}

/*
 * 407 that keeps the connection: the request head is dropped and the next
 * one is read from what follows. Returns 1 when done so, 0 when the
 * request does not allow it (a body we would have to skip, Connection:
 * close, HTTP/1.0) and the caller closes instead.
 */
static int challenge(struct kl_rconn *c, const struct kl_httpreq *rq, size_t head)
{
	static const char body[] = "proxy authentication required\n";
	char out[256];
	uint64_t clen = 0;
	int n;

	if (rq->minor == 0 || kl_httpreq_chunked(rq->hdr, rq->nhdr) != 0 ||
	    kl_httpreq_content_length(rq->hdr, rq->nhdr, &clen) < 0 || clen != 0 ||
	    (kl_httpreq_connection(rq->hdr, rq->nhdr) & KL_HTTPREQ_CONN_CLOSE))
		return 0;
	n = snprintf(out, sizeof(out), "HTTP/1.1 407 %s\r\nProxy-Authenticate: Basic realm=\"kinglet\"\r\n"
		     "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s", reason_of(407), sizeof(body) - 1, body);
	kl_relay_consume(c, head);
	kl_relay_reply(c, out, (size_t)n, 0, NULL);
	return 1;
}

static int authorized(struct kl_rconn *c, const struct kl_httpreq *rq)
{
	struct kl_httpreq_cred cr;
	int i;

	if (!c->l->conf->nusers)
		return 1;
	i = kl_httpreq_find(rq->hdr, rq->nhdr, 0, "Proxy-Authorization");
	if (i < 0 || kl_httpreq_basic(rq->hdr[i].value, rq->hdr[i].value_len, &cr) < 0)
		return 0;
	return kl_relay_user_ok(c->l, cr.user, cr.ulen, cr.pass, cr.plen);
}

static int set_host(struct kl_rconn *c, const struct kl_httpreq_hostport *hp)
{
	if (hp->host_len == 0 || hp->host_len >= sizeof(c->host))
		return KL_EINVAL;
	memcpy(c->host, hp->host, hp->host_len);
	c->host[hp->host_len] = 0;
	c->dport = hp->port;
	return 0;
}

#define PUT(...) do { \
		int k_ = snprintf(o + n, cap - n, __VA_ARGS__); \
		if (k_ < 0 || (size_t)k_ >= cap - n) \
			return KL_ETOOBIG; \
		n += (size_t)k_; \
	} while (0)
#define PUTN(s, l) do { \
		if ((l) > cap - n) \
			return KL_ETOOBIG; \
		memcpy(o + n, (s), (l)); \
		n += (l); \
	} while (0)

/* Writes the origin-form head into o; returns its length or KL_ETOOBIG. */
static long rewrite(const struct kl_httpreq *rq, const struct kl_httpreq_url *u, int ka, char *o, size_t cap)
{
	size_t n = 0;
	int have_host = 0;

	PUTN(rq->method, rq->method_len);
	PUTN(" ", 1);
	if (u->path_len == 0 || u->path[0] == '?')
		PUTN("/", 1);
	PUTN(u->path, u->path_len);
	PUT(" HTTP/1.%d\r\n", rq->minor);
	for (size_t i = 0; i < rq->nhdr; i++) {
		const struct kl_http_hdr *h = &rq->hdr[i];
		/* The body passes unchanged, so its chunked coding is announced unchanged too. */
		if (kl_httpreq_is_hop(rq->hdr, rq->nhdr, h->name, h->name_len) &&
		    !(h->name_len == 17 && strncasecmp(h->name, "transfer-encoding", 17) == 0))
			continue;
		if (h->name_len == 4 && strncasecmp(h->name, "host", 4) == 0)
			have_host = 1;
		PUTN(h->name, h->name_len);
		PUTN(": ", 2);
		PUTN(h->value, h->value_len);
		PUTN("\r\n", 2);
	}
	if (!have_host) {
		PUTN("Host: ", 6);
		if (u->hp.bracketed)
			PUTN("[", 1);
		PUTN(u->hp.host, u->hp.host_len);
		if (u->hp.bracketed)
			PUTN("]", 1);
		if (u->hp.port != 80)
			PUT(":%u", u->hp.port);
		PUTN("\r\n", 2);
	}
	PUT("Via: %s\r\nConnection: %s\r\n\r\n", VIA, ka ? "keep-alive" : "close");
	return (long)n;
}

/* Replaces the head in c->up by the rewritten one, keeping any body bytes behind it. */
static long swap_head(struct kl_rconn *c, const struct kl_httpreq *rq, const struct kl_httpreq_url *u, size_t head,
		     int ka)
{
	struct kl_buf nb = { 0 };
	const uint8_t *p;
	size_t len;
	long n;

	if (kl_relay_buf_get(c, &nb) < 0)
		return KL_ENOMEM;
	n = rewrite(rq, u, ka, (char *)nb.area, nb.size);
	p = kl_relay_input(c, &len);
	if (n < 0 || (size_t)n + (len - head) > nb.size) {
		/* the rewritten head plus what followed must fit one block */
		kl_relay_buf_drop(c, &nb);
		return KL_ETOOBIG;
	}
	memcpy(nb.area + n, p + head, len - head);
	nb.len = (uint32_t)((size_t)n + len - head);
	c->up.len = 0;
	kl_relay_buf_drop(c, &c->up);
	c->up = nb;
	return n;
}

/* ---------------- framing of a forwarded exchange ---------------- */

/* The bytes of b past the first off, as far as they run contiguously. */
static const char *piece(const struct kl_buf *b, uint32_t off, size_t *n)
{
	uint32_t pos = (b->head + off) % b->size;

	*n = KL_MIN((size_t)(b->len - off), (size_t)(b->size - pos));
	return (const char *)b->area + pos;
}

/*
 * Clears body bytes that arrived behind the gate: by count, or as far as
 * the chunked decoder consumed them. Returns 1 when the body has ended,
 * 0 when more is to come (always for BODY_CLOSE), KL_EINVAL on bad
 * chunked framing.
 */
static int clear_body(const struct kl_buf *b, uint32_t *gate, uint8_t *mode, uint64_t *left,
		      struct kl_httpresp_chunked *ck)
{
	for (;;) {
		const char *p, *d;
		size_t n, dl;
		int r;

		if (*mode == BODY_LEN && *left == 0)
			*mode = BODY_NONE;
		if (*mode != BODY_LEN && *mode != BODY_CHUNKED)
			return *mode == BODY_NONE;
		if (!b->area || *gate >= b->len)
			return 0;
		p = piece(b, *gate, &n);
		if (*mode == BODY_LEN) {
			size_t k = (size_t)KL_MIN((uint64_t)n, *left);
			*gate += (uint32_t)k;
			*left -= k;
			continue;
		}
		r = kl_httpresp_chunked_feed(ck, p, n, &d, &dl);
		if (r < 0)
			return KL_EINVAL;
		*gate += (uint32_t)r;
		if (kl_httpresp_chunked_done(ck))
			*mode = BODY_NONE;
		else if (r == 0)
			return 0;
	}
}

/*
 * The response cannot be framed (head too large, malformed, a tunnel):
 * everything passes unchanged from here and the connection ends with
 * the origin's close. A request already sent whole lets us half-close
 * toward the origin, so a keep-alive origin ends the response too; what
 * the client sent behind it is dropped.
 */
static void passthrough(struct kl_rconn *c, int tunnel)
{
	struct kl_rhttp *h = &c->http;

	h->flags &= (uint8_t)~HF_KA;
	if (!tunnel && (h->flags & HF_REQ_DONE) && c->gate[KL_UP] != KL_GATE_OPEN) {
		c->up.len = c->gate[KL_UP];
		if (!c->up.len)
			c->up.head = 0;
		c->flags |= KL_RF_CLI_EOF;
	}
	c->gate[KL_UP] = c->gate[KL_DOWN] = KL_GATE_OPEN;
}

static int is_name(const struct kl_http_hdr *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/*
 * Parses the response head at the front of c->down and rewrites it in
 * place: hop-by-hop fields go (Transfer-Encoding stays: the body passes
 * as it came), Via and our Connection are added. The block was read
 * with KL_RELAY_HEAD_SLACK left free, so the head can grow by that much:
 * the data moves to the end of the block first and the new head is
 * written from the front, never overtaking what it reads. Returns the
 * new head's length, KL_AGAIN, KL_EUNSUPP (101: a tunnel) or another
 * error (the caller passes the response through).
 */
static long response_head(struct kl_rconn *c)
{
	struct kl_rhttp *h = &c->http;
	struct kl_buf *b = &c->down;
	struct kl_http_hdr hdr[MAX_HDRS];
	struct kl_httpresp rs;
	size_t cap = b->size - KL_RELAY_HEAD_SLACK, head, rest, n = 0, shift;
	uint64_t clen = 0;
	char *o = (char *)b->area, *src;
	uint64_t hop = 0;
	uint8_t mode;
	int rc, te, cl, ka;

	kl_relay_linearize(b);
	memset(&rs, 0, sizeof(rs));
	rs.hdr = hdr;
	rs.hdr_cap = MAX_HDRS;
	rs.max_head = cap;
	rc = kl_httpresp_parse((const char *)b->area, b->len, &rs);
	if (rc == KL_AGAIN)
		return b->len >= cap ? KL_ETOOBIG : KL_AGAIN;
	if (rc < 0)
		return rc;
	if (rs.status == 101)
		return KL_EUNSUPP;
	head = (size_t)rc;
	te = kl_httpreq_chunked(rs.hdr, rs.nhdr);
	cl = kl_httpreq_content_length(rs.hdr, rs.nhdr, &clen);
	ka = (h->flags & HF_KA) != 0;
	if (rs.status < 200) {
		mode = BODY_HEAD;       /* interim: the final head follows */
	} else if ((h->flags & HF_HEADREQ) || rs.status == 204 || rs.status == 304) {
		mode = BODY_NONE;
	} else if (te == 1) {
		mode = BODY_CHUNKED;
		if (cl)
			ka = 0;         /* both: chunked wins, the connection is not reused (RFC 9112 6.3) */
	} else if (te == 0 && cl == 1) {
		mode = BODY_LEN;
	} else if (te == 0 && cl == 0) {
		mode = BODY_CLOSE;
		ka = 0;
	} else if (te == KL_EUNSUPP) {
		mode = BODY_CLOSE;      /* another final coding: the body runs to the close */
		ka = 0;
	} else {
		return KL_EINVAL;
	}
	/* Decided before any write: the test reads the Connection fields, wherever they are. */
	for (size_t i = 0; i < rs.nhdr; i++)
		if (kl_httpreq_is_hop(rs.hdr, rs.nhdr, rs.hdr[i].name, rs.hdr[i].name_len) &&
		    !is_name(&rs.hdr[i], "transfer-encoding"))
			hop |= 1ull << i;

	/* Move everything to the end of the block (hdr[] slices are offset by shift from now on). */
	shift = b->size - b->len;
	memmove(o + shift, o, b->len);
	src = o + shift;
	rest = b->len - head;
#define OUT(p_, l_) do { memmove(o + n, (p_), (l_)); n += (l_); } while (0)
	/* status line: everything before the first header (or the whole head without headers) */
	{
		size_t sl = rs.nhdr ? (size_t)(rs.hdr[0].name - (const char *)b->area) : head;
		const char *e = src + sl;
		/* without headers the line ends where the blank line starts */
		if (!rs.nhdr) {
			while (e > src && (e[-1] == '\n' || e[-1] == '\r'))
				e--;
			sl = (size_t)(e - src);
			OUT(src, sl);
			OUT("\r\n", 2);
		} else {
			OUT(src, sl);
		}
	}
	for (size_t i = 0; i < rs.nhdr; i++) {
		const struct kl_http_hdr *f = &rs.hdr[i];
		if (hop >> i & 1)
			continue;
		OUT(f->name + shift, f->name_len);
		OUT(": ", 2);
		OUT(f->value + shift, f->value_len);
		OUT("\r\n", 2);
	}
#undef OUT
	n += (size_t)snprintf(o + n, KL_RELAY_HEAD_SLACK, "Via: 1.%d kinglet\r\n%s\r\n", rs.minor,
			      mode == BODY_HEAD ? "" : !ka ? "Connection: close\r\n" :
			      (h->flags & HF_CLI10) ? "Connection: keep-alive\r\n" : "");
	memmove(o + n, src + head, rest);
	b->len = (uint32_t)(n + rest);
	b->head = 0;
	if (!ka)
		h->flags &= (uint8_t)~HF_KA;
	h->resp_mode = mode;
	h->resp_left = clen;
	if (mode == BODY_CHUNKED)
		kl_httpresp_chunked_init(&h->resp_ck);
	return (long)n;
}

static void frame_down(struct kl_rconn *c)
{
	struct kl_rhttp *h = &c->http;

	for (;;) {
		long r;

		if (h->resp_mode != BODY_HEAD) {
			int e = clear_body(&c->down, &c->gate[KL_DOWN], &h->resp_mode, &h->resp_left, &h->resp_ck);
			if (e < 0) {
				passthrough(c, 0);
			} else if (e > 0) {
				h->flags |= HF_RESP_DONE;
			} else if (h->resp_mode == BODY_CLOSE) {
				/* Ends with the origin's close: the splice passes that on. */
				c->gate[KL_DOWN] = KL_GATE_OPEN;
			}
			return;
		}
		/* An interim head still going out: the next head is parsed once it left the block. */
		if (c->gate[KL_DOWN] != 0 || !c->down.area || !c->down.len)
			return;
		r = response_head(c);
		if (r == KL_AGAIN)
			return;
		if (r < 0) {
			passthrough(c, r == KL_EUNSUPP);
			return;
		}
		c->gate[KL_DOWN] = (uint32_t)r;
	}
}

/* see kl_rsess_ops.frame */
static void frame(struct kl_rconn *c, int dir)
{
	struct kl_rhttp *h = &c->http;
	int r;

	if (c->sess != FORWARD)
		return;
	if (dir == KL_DOWN) {
		frame_down(c);
		return;
	}
	r = clear_body(&c->up, &c->gate[KL_UP], &h->req_mode, &h->req_left, &h->req_ck);
	if (r < 0)
		kl_relay_close(c, "malformed chunked request body", 1);
	else if (r > 0)
		h->flags |= HF_REQ_DONE;
}

static void input(struct kl_rconn *c);

/*
 * See kl_rsess_ops.turn: ends the exchange once the response left the
 * block whole. Keep-alive goes back to reading a request (the origin
 * connection stays, unwatched, for a request to the same host:port).
 */
static void turn(struct kl_rconn *c)
{
	struct kl_rhttp *h = &c->http;
	int done = (h->flags & HF_RESP_DONE) && c->gate[KL_DOWN] == 0;

	if (c->sess != FORWARD)
		return;
	if (!done) {
		if ((c->flags & KL_RF_SRV_EOF) && c->gate[KL_DOWN] != KL_GATE_OPEN) {
			/* The origin left before its response ended: the client sees the close. */
			if (h->resp_mode == BODY_HEAD && c->gate[KL_DOWN] == 0) {
				c->down.len = 0;
				kl_relay_buf_drop(c, &c->down);
				respond(c, 502, "origin closed the connection", "origin closed before responding");
			} else {
				kl_relay_finish(c, "origin closed mid-response");
			}
		}
		return;
	}
	if (c->down.len) {
		/* Bytes behind a complete response: not HTTP we can frame; drop them with the connection. */
		c->down.len = 0;
		kl_relay_buf_drop(c, &c->down);
		kl_relay_finish(c, "origin sent more than its response");
		return;
	}
	if (!(h->flags & HF_KA) || !(h->flags & HF_REQ_DONE) ||
	    ((c->flags & KL_RF_CLI_EOF) && !c->up.len)) {
		kl_relay_finish(c, "done");
		return;
	}
	/* Next request: what the client sent behind this one is at the front of c->up. */
	c->state = KL_RS_HANDSHAKE;
	c->sess = HEAD;
	c->gate[KL_UP] = c->gate[KL_DOWN] = KL_GATE_OPEN;
	c->last_ms = kl_ev_now(c->l->ev);
	if (h->nreq < 255)
		h->nreq++;
	kl_relay_linearize(&c->up);
	kl_relay_buf_drop(c, &c->up);
	kl_relay_buf_drop(c, &c->down);
	if (c->up.len)
		input(c);
}

/*
 * Whether the origin connection can carry the next request: same
 * host:port, still open, and nothing waiting on it (a FIN or stray
 * bytes both mean it is done).
 */
static int origin_reusable(struct kl_rconn *c, const struct kl_httpreq_hostport *hp)
{
	uint8_t x;

	if (!kl_stream_open(&c->srv) || (c->flags & (KL_RF_SRV_EOF | KL_RF_SRV_SHUT)) ||
	    hp->port != c->dport || hp->host_len != strlen(c->host) || strncasecmp(hp->host, c->host, hp->host_len) != 0)
		return 0;
	return kl_stream_read(&c->srv, &x, 1) == KL_AGAIN;
}

/* Whether the client lets the connection persist (Proxy-Connection counts for old clients). */
static int client_keepalive(const struct kl_httpreq *rq)
{
	unsigned conn = kl_httpreq_connection(rq->hdr, rq->nhdr);
	int i = kl_httpreq_find(rq->hdr, rq->nhdr, 0, "Proxy-Connection");

	if (i >= 0 && rq->hdr[i].value_len == 10 && strncasecmp(rq->hdr[i].value, "keep-alive", 10) == 0)
		conn |= KL_HTTPREQ_CONN_KEEPALIVE;
	if (i >= 0 && rq->hdr[i].value_len == 5 && strncasecmp(rq->hdr[i].value, "close", 5) == 0)
		conn |= KL_HTTPREQ_CONN_CLOSE;
	return kl_httpreq_keepalive(rq->minor, conn);
}

/* Sets up the framing of a forwarded request; returns 0 or the status to answer. */
static int forward(struct kl_rconn *c, const struct kl_httpreq *rq, const struct kl_httpreq_url *u, size_t head)
{
	struct kl_rhttp *h = &c->http;
	uint64_t clen = 0;
	int te = kl_httpreq_chunked(rq->hdr, rq->nhdr);
	int cl = kl_httpreq_content_length(rq->hdr, rq->nhdr, &clen);
	int ka = client_keepalive(rq), reuse;
	uint8_t flags;
	long n;

	if (te < 0 || cl < 0)
		return 400;
	if (te && cl)
		ka = 0;
	reuse = ka && origin_reusable(c, &u->hp);
	if (!reuse) {
		kl_relay_drop_server(c);
		if (set_host(c, &u->hp) < 0)
			return 400;
	}
	/* Read rq before swap_head: its slices point into the block that goes back to the pool. */
	flags = (uint8_t)((ka ? HF_KA : 0) | (rq->minor == 0 ? HF_CLI10 : 0) |
			  (rq->method_len == 4 && memcmp(rq->method, "HEAD", 4) == 0 ? HF_HEADREQ : 0));
	n = swap_head(c, rq, u, head, ka);
	if (n < 0)
		return n == KL_ENOMEM ? 503 : 431;
	h->flags = flags;
	h->req_mode = te ? BODY_CHUNKED : clen ? BODY_LEN : BODY_NONE;
	h->req_left = clen;
	kl_httpresp_chunked_init(&h->req_ck);
	h->resp_mode = BODY_HEAD;
	h->resp_left = 0;
	c->gate[KL_UP] = (uint32_t)n;
	c->gate[KL_DOWN] = 0;
	c->sess = FORWARD;
	frame(c, KL_UP);
	if (!c->state)
		return 0;
	if (h->req_mode == BODY_NONE)
		h->flags |= HF_REQ_DONE;
	if (reuse)
		kl_relay_splice(c);
	else
		kl_relay_connect(c);
	return 0;
}

static void input(struct kl_rconn *c)
{
	struct kl_http_hdr hdr[MAX_HDRS];
	struct kl_httpreq rq;
	struct kl_httpreq_hostport hp;
	struct kl_httpreq_url u;
	const uint8_t *p;
	size_t len;
	int rc, form;

again:
	if (c->sess != HEAD || c->state != KL_RS_HANDSHAKE)
		return;
	p = kl_relay_input(c, &len);
	if (!p)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.hdr = hdr;
	rq.hdr_cap = MAX_HDRS;
	rq.max_head = c->up.size;
	rc = kl_httpreq_parse((const char *)p, len, &rq);
	if (rc == KL_AGAIN) {
		if (len >= c->up.size)
			respond(c, 431, "request head too large", "request head too large");
		return;
	}
	if (rc < 0) {
		int st = kl_httpreq_status(rc);
		respond(c, st, st == 400 ? "malformed request" : reason_of(st), "bad request");
		return;
	}
	form = kl_httpreq_form(rq.target, rq.target_len);
	if (rq.method_len == 7 && memcmp(rq.method, "CONNECT", 7) == 0) {
		if (form != KL_HTTPREQ_AUTHORITY ||
		    kl_httpreq_hostport(rq.target, rq.target_len, 0, &hp) < 0 || set_host(c, &hp) < 0) {
			respond(c, 400, "CONNECT needs host:port", "bad request");
			return;
		}
		if (!authorized(c, &rq)) {
			if (challenge(c, &rq, (size_t)rc))
				goto again;
			respond(c, 407, "proxy authentication required", "auth required");
			return;
		}
		kl_relay_consume(c, (size_t)rc);
		c->sess = TUNNEL;
		kl_relay_connect(c);
		return;
	}
	if (form != KL_HTTPREQ_ABSOLUTE || kl_httpreq_split_url(rq.target, rq.target_len, &u) < 0 ||
	    u.scheme_len != 4 || strncasecmp(u.scheme, "http", 4) != 0 || u.hp.host_len == 0 ||
	    u.hp.host_len >= sizeof(c->host)) {
		respond(c, 400, "only CONNECT and absolute http:// URLs are proxied", "bad request");
		return;
	}
	if (!authorized(c, &rq)) {
		if (challenge(c, &rq, (size_t)rc))
			goto again;
		respond(c, 407, "proxy authentication required", "auth required");
		return;
	}
	rc = forward(c, &rq, &u, (size_t)rc);
	if (rc == 400)
		respond(c, 400, "malformed request body framing", "bad request");
	else if (rc)
		respond(c, rc, rc == 503 ? "out of buffers" : "request head too large", "request head too large");
}

static void connected(struct kl_rconn *c, int rc)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	if (rc < 0) {
		if (c->up_status == 407)
			respond(c, 502, "upstream refused credentials", "upstream refused credentials");
		else if (rc == KL_EDENIED)
			respond(c, 403, "destination not allowed", "destination denied by policy");
		else if (rc == KL_ETIMEDOUT || (rc == KL_EIO && kl_sock_classify(c->err) == KL_SOCK_TIMEDOUT))
			respond(c, 504, "connect timeout", "connect timeout");
		else if (rc == KL_ENOMEM)
			respond(c, 503, "resolver busy", "resolver busy");
		else if (rc == KL_ENOTFOUND)
			respond(c, 502, "host not found", "host not found");
		else
			respond(c, 502, "connect failed", "connect failed");
		return;
	}
	if (c->sess == TUNNEL && kl_relay_reply(c, ok, sizeof(ok) - 1, 0, NULL) < 0)
		return;
	kl_relay_splice(c);
}

const struct kl_rsess_ops kl_sess_connect_ops = { "http", start, input, connected, NULL, frame, turn };
