/* sess_connect.c - HTTP proxy sessions: CONNECT tunnels and absolute-form forwarding of http:// requests. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "net/sock.h"
#include "proto/httpreq.h"

#include <stdio.h>
#include <string.h>

/*
 * CONNECT host:port -> "200 Connection established", then a plain splice.
 * GET http://host/path -> the head is rewritten (origin-form target, hop-
 * by-hop fields dropped, Via added, "Connection: close" toward the origin)
 * and the rest of the exchange is spliced; the origin's close ends the
 * client connection too. Limits: one request per client connection for
 * plain forwarding (clients see the origin's Connection: close), and the
 * request head must fit one buffer block (buffer_kb, 2 KB when 0): a
 * longer one is answered 431.
 */
enum { HEAD = 0, TUNNEL, FORWARD };
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
static long rewrite(const struct kl_httpreq *rq, const struct kl_httpreq_url *u, char *o, size_t cap)
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
		if (kl_httpreq_is_hop(rq->hdr, rq->nhdr, h->name, h->name_len))
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
	PUT("Via: %s\r\nConnection: close\r\n\r\n", VIA);
	return (long)n;
}

/* Replaces the head in c->up by the rewritten one, keeping any body bytes behind it. */
static int swap_head(struct kl_rconn *c, const struct kl_httpreq *rq, const struct kl_httpreq_url *u, size_t head)
{
	struct kl_buf nb = { 0 };
	const uint8_t *p;
	size_t len;
	long n;

	if (kl_relay_buf_get(c, &nb) < 0)
		return KL_ENOMEM;
	n = rewrite(rq, u, (char *)nb.area, nb.size);
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

	if (c->sess != HEAD)
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
			respond(c, 407, "proxy authentication required", "auth required");
			return;
		}
		kl_relay_consume(c, (size_t)rc);
		c->sess = TUNNEL;
		kl_relay_connect(c);
		return;
	}
	if (form != KL_HTTPREQ_ABSOLUTE || kl_httpreq_split_url(rq.target, rq.target_len, &u) < 0 ||
	    u.scheme_len != 4 || strncasecmp(u.scheme, "http", 4) != 0 || set_host(c, &u.hp) < 0) {
		respond(c, 400, "only CONNECT and absolute http:// URLs are proxied", "bad request");
		return;
	}
	if (!authorized(c, &rq)) {
		respond(c, 407, "proxy authentication required", "auth required");
		return;
	}
	rc = swap_head(c, &rq, &u, (size_t)rc);
	if (rc < 0) {
		respond(c, rc == KL_ENOMEM ? 503 : 431, rc == KL_ENOMEM ? "out of buffers" : "request head too large",
			"request head too large");
		return;
	}
	c->sess = FORWARD;
	kl_relay_connect(c);
}

static void connected(struct kl_rconn *c, int rc)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	if (rc < 0) {
		if (rc == KL_EDENIED)
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

const struct kl_rsess_ops kl_sess_connect_ops = { "http", start, input, connected, NULL };
