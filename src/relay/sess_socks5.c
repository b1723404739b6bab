/* sess_socks5.c - SOCKS5 sessions (RFC 1928 CONNECT, RFC 1929 user/password) on the proto parser. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "net/sock.h"
#include "proto/socks5.h"

#include <stdio.h>
#include <string.h>

enum { GREETING = 0, AUTH, REQUEST, WAITING };

static void start(struct kl_rconn *c)
{
	c->sess = GREETING;
}

/* Error reply with zero BND fields, then close. */
static void fail(struct kl_rconn *c, uint8_t rep, const char *why)
{
	uint8_t out[32];
	int n = kl_socks5_build_reply(out, sizeof(out), rep, KL_SOCKS5_ATYP_IPV4, NULL, 0);

	kl_relay_reply(c, out, (size_t)n, 1, why);
}

/* A message that can never fit the block is a protocol error, not a wait. */
static int full(const struct kl_rconn *c, size_t len)
{
	return len >= c->up.size;
}

static void take_request(struct kl_rconn *c, const struct kl_socks5_req *rq)
{
	struct kl_cidr_addr a;

	switch (rq->atyp) {
	case KL_SOCKS5_ATYP_IPV4:
		kl_cidr_from_v4(&a, rq->addr);
		kl_cidr_format(&a, c->host, sizeof(c->host));
		break;
	case KL_SOCKS5_ATYP_IPV6:
		kl_cidr_from_v6(&a, rq->addr);
		a.v4 = 0;
		kl_cidr_format(&a, c->host, sizeof(c->host));
		break;
	default:
		memcpy(c->host, rq->name, (size_t)rq->name_len + 1);
		break;
	}
	c->dport = rq->port;
}

static void input(struct kl_rconn *c)
{
	const uint8_t *p;
	size_t len;
	uint8_t out[32];
	int rc, n;

	while (c->state == KL_RS_HANDSHAKE && (p = kl_relay_input(c, &len)) != NULL) {
		if (c->sess == GREETING) {
			uint8_t method;
			rc = kl_socks5_parse_greeting(p, len, c->l->conf->nusers > 0, &method);
			if (rc == KL_AGAIN)
				return;
			if (rc < 0) {
				kl_relay_close(c, rc == KL_EUNSUPP ? "socks4 client" : "bad socks5 greeting", 0);
				return;
			}
			kl_relay_consume(c, (size_t)rc);
			n = kl_socks5_build_method(out, sizeof(out), method);
			if (method == KL_SOCKS5_METHOD_REFUSED) {
				kl_relay_reply(c, out, (size_t)n, 1, "no acceptable auth method");
				return;
			}
			if (kl_relay_reply(c, out, (size_t)n, 0, NULL) < 0)
				return;
			c->sess = method == KL_SOCKS5_METHOD_USERPASS ? AUTH : REQUEST;
		} else if (c->sess == AUTH) {
			struct kl_socks5_auth a;
			int ok;
			rc = kl_socks5_parse_auth(p, len, &a);
			if (rc == KL_AGAIN) {
				if (full(c, len))
					kl_relay_close(c, "socks5 auth too long", 0);
				return;
			}
			ok = rc > 0 && kl_relay_user_ok(c->l, a.user, a.ulen, a.pass, a.plen);
			if (rc > 0)
				kl_relay_consume(c, (size_t)rc);
			n = kl_socks5_build_auth_reply(out, sizeof(out), ok);
			if (!ok) {
				kl_relay_reply(c, out, (size_t)n, 1, rc < 0 ? "bad socks5 auth" : "auth failed");
				return;
			}
			if (kl_relay_reply(c, out, (size_t)n, 0, NULL) < 0)
				return;
			c->sess = REQUEST;
		} else if (c->sess == REQUEST) {
			struct kl_socks5_req rq;
			memset(&rq, 0, sizeof(rq));
			rc = kl_socks5_parse_request(p, len, &rq);
			if (rc == KL_AGAIN) {
				if (full(c, len))
					fail(c, KL_SOCKS5_REP_GENERAL, "socks5 request too long");
				return;
			}
			if (rc < 0) {
				if (rq.atyp == KL_SOCKS5_ATYP_DOMAIN || rq.atyp == KL_SOCKS5_ATYP_IPV4 ||
				    rq.atyp == KL_SOCKS5_ATYP_IPV6)
					take_request(c, &rq);
				fail(c, rq.rep ? rq.rep : KL_SOCKS5_REP_GENERAL,
				     rq.rep == KL_SOCKS5_REP_CMD_UNSUPP ? "command not supported" :
				     rq.rep == KL_SOCKS5_REP_ATYP_UNSUPP ? "address type not supported" :
				     "bad socks5 request");
				return;
			}
			kl_relay_consume(c, (size_t)rc);
			take_request(c, &rq);
			c->sess = WAITING;
			kl_relay_connect(c);
			return;
		} else {
			return;         /* WAITING: later bytes are data for the destination */
		}
	}
}

static uint8_t rep_for(const struct kl_rconn *c, int rc, const char **why)
{
	if (rc == KL_EIO) {
		switch (kl_sock_classify(c->err)) {
		case KL_SOCK_REFUSED: *why = "connection refused"; return KL_SOCKS5_REP_REFUSED;
		case KL_SOCK_NETUNREACH: *why = "network unreachable"; return KL_SOCKS5_REP_NET_UNREACH;
		case KL_SOCK_HOSTUNREACH: *why = "host unreachable"; return KL_SOCKS5_REP_HOST_UNREACH;
		case KL_SOCK_TIMEDOUT: *why = "connect timeout"; return KL_SOCKS5_REP_HOST_UNREACH;
		default: *why = "connect failed"; return KL_SOCKS5_REP_GENERAL;
		}
	}
	*why = rc == KL_EDENIED ? "destination denied by policy" : rc == KL_ENOTFOUND ? "host not found" :
	       rc == KL_ETIMEDOUT ? "connect timeout" : rc == KL_ENOMEM ? "resolver busy" : "connect failed";
	return kl_socks5_rep_for(rc);
}

static void connected(struct kl_rconn *c, int rc)
{
	uint8_t out[32], ip[16];
	uint16_t port = 0;
	const char *why;
	int n;

	if (rc < 0) {
		uint8_t rep = rep_for(c, rc, &why);
		fail(c, rep, why);
		return;
	}
	memset(ip, 0, sizeof(ip));
	kl_sock_local(c->srv.fd, ip, &port);
	if (kl_sock_is_v4(ip))
		n = kl_socks5_build_reply(out, sizeof(out), KL_SOCKS5_REP_SUCCEEDED, KL_SOCKS5_ATYP_IPV4, ip + 12, port);
	else
		n = kl_socks5_build_reply(out, sizeof(out), KL_SOCKS5_REP_SUCCEEDED, KL_SOCKS5_ATYP_IPV6, ip, port);
	if (kl_relay_reply(c, out, (size_t)n, 0, NULL) < 0)
		return;
	kl_relay_splice(c);
}

const struct kl_rsess_ops kl_sess_socks5_ops = { "socks5", start, input, connected, NULL };
