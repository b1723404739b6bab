/* upstream.c - the chain step: reach the destination through an HTTP CONNECT proxy, optionally inside TLS. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "base/b64.h"
#include "base/log.h"
#include "proto/httpresp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Once the TCP connection to the upstream is up (relay.c, CONNECTING):
 *
 *   [TLS handshake: chain, name = the upstream's host, pin]
 *   -> "CONNECT dest:port HTTP/1.1" + Host (+ Proxy-Authorization)
 *   -> the proxy's reply head, parsed by proto/httpresp
 *   -> 200: the session is told "connected" and splices as if direct
 *
 * The request is rebuilt from the config and c->host on every attempt to
 * write it, so nothing is stored but the count of bytes already taken
 * (TLS wants the very same bytes again after a blocked write).
 *
 * The reply head goes into a block lent from the listener's buffer pool
 * (c->uph) and is read without overshooting its end: each read asks only
 * for as many bytes as cannot reach past the blank line. Whatever the
 * destination sends first (an SMTP banner) therefore stays in the socket
 * and reaches the client after the session's own reply, in order. The
 * price is a few short reads per chained connection.
 */
#define MIN_HEAD 12             /* "HTTP/1.1 200" before any line end */
#define MAX_HDRS 32

static void log_refusal(struct kl_rconn *c, const char *what)
{
	struct kl_rlisten *l = c->l;

	kl_metric_inc(&l->m_up_fail);
	kl_log(KL_LOG_WARN, "relay %s: c%u upstream %s:%u refused %s:%u: %s", l->conf->name, c->id, l->up_host,
	       l->up_port, c->host, c->dport, what);
}

/* TLS or socket failure on the way to the upstream: refused (SOCKS 0x05, HTTP 502). */
static void fail_stream(struct kl_rconn *c, const char *phase)
{
	char what[224];
	const char *r = kl_tls_reason(&c->srv);

	if (r[0])
		snprintf(what, sizeof(what), "%s: %s", phase, r);
	else
		snprintf(what, sizeof(what), "%s: %s", phase, c->srv.err ? strerror(c->srv.err) : "connection closed");
	log_refusal(c, what);
	c->err = ECONNREFUSED;
	kl_relay_fail_outbound(c, KL_EIO);
}

static size_t request(const struct kl_rconn *c, char *o, size_t cap)
{
	const struct kl_conf_relay *rc = c->l->conf;
	int v6 = strchr(c->host, ':') != NULL;
	int n = snprintf(o, cap, "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n", v6 ? "[" : "", c->host,
			 v6 ? "]" : "", c->dport, v6 ? "[" : "", c->host, v6 ? "]" : "", c->dport);

	if (rc->upstream_user[0]) {
		char cred[2 * KL_CONF_CRED + 2], b64[4 * (2 * KL_CONF_CRED + 2) / 3 + 8];
		int k = snprintf(cred, sizeof(cred), "%s:%s", rc->upstream_user, rc->upstream_pass);
		kl_b64_encode(cred, (size_t)k, b64, sizeof(b64), KL_B64_STD, 1);
		n += snprintf(o + n, cap - (size_t)n, "Proxy-Authorization: Basic %s\r\n", b64);
	}
	n += snprintf(o + n, cap - (size_t)n, "\r\n");
	return (size_t)n;
}

/* see relay.h */
void kl_upstream_begin(struct kl_rconn *c)
{
	struct kl_rlisten *l = c->l;
	int fd = c->srv.fd;

	c->state = KL_RS_UPSTREAM;
	c->up_sent = 0;
	c->up_status = 0;
	if (l->tls_up) {
		/* Each side has its own cap; the pool is shared with every TLS user of the plan. */
		if (l->tls_upn >= l->conf->tls_sessions ||
		    kl_tls_start(&c->srv, fd, l->tls_up, l->tls_pool, l->up_host) < 0) {
			log_refusal(c, "no TLS session free (tls_sessions or the tls.sess pool)");
			c->err = ECONNREFUSED;
			kl_relay_fail_outbound(c, KL_ENOMEM);
			return;
		}
		c->tflags |= KL_RT_UP;
		l->tls_upn++;
	}
	kl_upstream_io(c);
}

/* see relay.h */
unsigned kl_upstream_want(const struct kl_rconn *c)
{
	char req[1024];

	return c->up_sent < request(c, req, sizeof(req)) ? KL_EV_WR : KL_EV_RD;
}

/* How many bytes may be read without passing the end of the head (CRLF or bare LF lines). */
static size_t safe_len(const struct kl_buf *b)
{
	uint8_t last;

	if (b->len < MIN_HEAD)
		return MIN_HEAD - b->len;
	last = b->area[b->len - 1];
	/* After a line end (or a CR) the blank line may be one byte away; else at least "\n\n". */
	return last == '\n' || last == '\r' ? 1 : 2;
}

/* The proxy answered: 200 goes on, anything else is refused with a reason in the log. */
static void answered(struct kl_rconn *c, const struct kl_httpresp *rs)
{
	char what[160];
	int rc;

	c->uph.len = 0;
	kl_relay_buf_drop(c, &c->uph);
	if (rs->status == 200) {
		c->l->ops->connected(c, 0);
		return;
	}
	c->up_status = (uint16_t)rs->status;
	if (rs->status == 407) {
		log_refusal(c, "upstream refused credentials (407)");
		c->err = ECONNREFUSED;
		rc = KL_EIO;
	} else {
		snprintf(what, sizeof(what), "upstream answered %d %.*s", rs->status, (int)KL_MIN(rs->reason_len, 80),
			 rs->reason);
		log_refusal(c, what);
		switch (rs->status) {
		case 403: rc = KL_EDENIED; break;
		case 504: rc = KL_ETIMEDOUT; break;
		case 503: rc = KL_ENOMEM; break;
		default:
			c->err = rs->status == 502 ? EHOSTUNREACH : ECONNREFUSED;
			rc = KL_EIO;
			break;
		}
	}
	kl_relay_fail_outbound(c, rc);
}

/* see relay.h */
void kl_upstream_io(struct kl_rconn *c)
{
	char req[1024];
	size_t n = request(c, req, sizeof(req));

	while (c->up_sent < n) {
		ssize_t w = kl_stream_write(&c->srv, req + c->up_sent, n - c->up_sent);
		if (w == KL_AGAIN)
			return;
		if (w < 0) {
			fail_stream(c, kl_tls_ready(&c->srv) || !(c->tflags & KL_RT_UP) ? "sending CONNECT" :
				    "TLS handshake");
			return;
		}
		c->up_sent = (uint16_t)(c->up_sent + (size_t)w);
	}
	if (!c->uph.area && kl_relay_buf_get(c, &c->uph) < 0) {
		log_refusal(c, "no buffer for the reply");
		kl_relay_fail_outbound(c, KL_ENOMEM);
		return;
	}
	for (;;) {
		struct kl_http_hdr hdr[MAX_HDRS];
		struct kl_httpresp rs;
		size_t room, want = safe_len(&c->uph);
		uint8_t *p = kl_buf_wptr(&c->uph, &room);
		ssize_t r;
		int h;

		if (!p || room == 0) {
			log_refusal(c, "reply head larger than a buffer block");
			c->err = ECONNREFUSED;
			kl_relay_fail_outbound(c, KL_EIO);
			return;
		}
		r = kl_stream_read(&c->srv, p, KL_MIN(want, room));
		if (r == KL_AGAIN)
			return;
		if (r <= 0) {
			fail_stream(c, "reading the CONNECT reply");
			return;
		}
		kl_buf_wack(&c->uph, (size_t)r);
		memset(&rs, 0, sizeof(rs));
		rs.hdr = hdr;
		rs.hdr_cap = MAX_HDRS;
		h = kl_httpresp_parse((const char *)c->uph.area, c->uph.len, &rs);
		if (h == KL_AGAIN)
			continue;
		if (h < 0) {
			log_refusal(c, "malformed CONNECT reply");
			c->err = ECONNREFUSED;
			kl_relay_fail_outbound(c, KL_EIO);
			return;
		}
		answered(c, &rs);
		return;
	}
}
