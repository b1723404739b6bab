/* socks5.c - SOCKS5 messages (RFC 1928) and user/password auth (RFC 1929). */
/* SPDX-License-Identifier: MIT */
#include "proto/socks5.h"

#include <string.h>

/* see socks5.h */
int kl_socks5_parse_greeting(const uint8_t *in, size_t len, int have_users, uint8_t *method)
{
	uint8_t want = have_users ? KL_SOCKS5_METHOD_USERPASS : KL_SOCKS5_METHOD_NONE;
	size_t n;

	if (len < 1)
		return KL_AGAIN;
	if (in[0] != KL_SOCKS5_VER)
		return in[0] == 4 ? KL_EUNSUPP : KL_EINVAL;
	if (len < 2)
		return KL_AGAIN;
	n = in[1];
	if (len < 2 + n)
		return KL_AGAIN;
	*method = KL_SOCKS5_METHOD_REFUSED;
	if (memchr(in + 2, want, n))
		*method = want;
	return (int)(2 + n);
}

/* see socks5.h */
int kl_socks5_parse_auth(const uint8_t *in, size_t len, struct kl_socks5_auth *a)
{
	size_t ul, pl;

	if (len < 1)
		return KL_AGAIN;
	if (in[0] != KL_SOCKS5_AUTH_VER)
		return KL_EINVAL;
	if (len < 2)
		return KL_AGAIN;
	ul = in[1];
	if (len < 3 + ul)
		return KL_AGAIN;
	pl = in[2 + ul];
	if (len < 3 + ul + pl)
		return KL_AGAIN;
	a->ulen = (uint8_t)ul;
	a->plen = (uint8_t)pl;
	memcpy(a->user, in + 2, ul);
	a->user[ul] = 0;
	memcpy(a->pass, in + 3 + ul, pl);
	a->pass[pl] = 0;
	return (int)(3 + ul + pl);
}

/*
 * ATYP DST.ADDR DST.PORT, shared by requests and replies: in points at
 * ATYP, len counts from there. Returns the bytes it spans, KL_AGAIN,
 * KL_EUNSUPP (ATYP) or KL_EINVAL (domain empty or with NUL).
 */
static int parse_addr(const uint8_t *in, size_t len, struct kl_socks5_req *r)
{
	size_t alen, off = 1;

	r->atyp = in[0];
	r->name_len = 0;
	r->name[0] = 0;
	switch (in[0]) {
	case KL_SOCKS5_ATYP_IPV4:
		alen = 4;
		break;
	case KL_SOCKS5_ATYP_IPV6:
		alen = 16;
		break;
	case KL_SOCKS5_ATYP_DOMAIN:
		if (len < 2)
			return KL_AGAIN;
		alen = in[1];
		off = 2;
		break;
	default:
		return KL_EUNSUPP;
	}
	if (len < off + alen + 2)
		return KL_AGAIN;
	memset(r->addr, 0, sizeof(r->addr));
	if (in[0] == KL_SOCKS5_ATYP_DOMAIN) {
		if (alen == 0 || memchr(in + off, 0, alen))
			return KL_EINVAL;
		memcpy(r->name, in + off, alen);
		r->name[alen] = 0;
		r->name_len = (uint8_t)alen;
	} else {
		memcpy(r->addr, in + off, alen);
	}
	r->port = (uint16_t)(in[off + alen] << 8 | in[off + alen + 1]);
	return (int)(off + alen + 2);
}

/* see socks5.h */
int kl_socks5_parse_request(const uint8_t *in, size_t len, struct kl_socks5_req *rq)
{
	int rc;

	rq->rep = KL_SOCKS5_REP_GENERAL;
	if (len < 1)
		return KL_AGAIN;
	if (in[0] != KL_SOCKS5_VER)
		return KL_EINVAL;
	if (len < 4)
		return KL_AGAIN;
	rq->cmd = in[1];
	rc = parse_addr(in + 3, len - 3, rq);
	if (rc == KL_EUNSUPP)
		rq->rep = KL_SOCKS5_REP_ATYP_UNSUPP;
	if (rc < 0)
		return rc;
	if (rq->cmd != KL_SOCKS5_CMD_CONNECT) {
		rq->rep = KL_SOCKS5_REP_CMD_UNSUPP;
		return KL_EUNSUPP;
	}
	rq->rep = KL_SOCKS5_REP_SUCCEEDED;
	return 3 + rc;
}

static int put2(uint8_t *out, size_t cap, uint8_t a, uint8_t b)
{
	if (cap < 2)
		return KL_ETOOBIG;
	out[0] = a;
	out[1] = b;
	return 2;
}

/* see socks5.h */
int kl_socks5_build_method(uint8_t *out, size_t cap, uint8_t method)
{
	return put2(out, cap, KL_SOCKS5_VER, method);
}

/* see socks5.h */
int kl_socks5_build_auth_reply(uint8_t *out, size_t cap, int ok)
{
	return put2(out, cap, KL_SOCKS5_AUTH_VER, ok ? 0 : 1);
}

/* see socks5.h */
int kl_socks5_build_reply(uint8_t *out, size_t cap, uint8_t rep, uint8_t atyp,
		const uint8_t *addr, uint16_t port)
{
	size_t alen = atyp == KL_SOCKS5_ATYP_IPV6 ? 16 : 4;

	if (atyp != KL_SOCKS5_ATYP_IPV6)
		atyp = KL_SOCKS5_ATYP_IPV4;
	if (cap < 6 + alen)
		return KL_ETOOBIG;
	out[0] = KL_SOCKS5_VER;
	out[1] = rep;
	out[2] = 0;
	out[3] = atyp;
	if (addr)
		memcpy(out + 4, addr, alen);
	else
		memset(out + 4, 0, alen);
	out[4 + alen] = (uint8_t)(port >> 8);
	out[5 + alen] = (uint8_t)port;
	return (int)(6 + alen);
}

/* see socks5.h */
int kl_socks5_build_greeting(uint8_t *out, size_t cap, int with_auth)
{
	size_t n = with_auth ? 4 : 3;

	if (cap < n)
		return KL_ETOOBIG;
	out[0] = KL_SOCKS5_VER;
	out[1] = (uint8_t)(n - 2);
	out[2] = KL_SOCKS5_METHOD_NONE;
	if (with_auth)
		out[3] = KL_SOCKS5_METHOD_USERPASS;
	return (int)n;
}

/* see socks5.h */
int kl_socks5_build_auth(uint8_t *out, size_t cap, const char *user, size_t ulen,
		const char *pass, size_t plen)
{
	if (ulen > 255 || plen > 255)
		return KL_ERANGE;
	if (cap < 3 + ulen + plen)
		return KL_ETOOBIG;
	out[0] = KL_SOCKS5_AUTH_VER;
	out[1] = (uint8_t)ulen;
	memcpy(out + 2, user, ulen);
	out[2 + ulen] = (uint8_t)plen;
	memcpy(out + 3 + ulen, pass, plen);
	return (int)(3 + ulen + plen);
}

/* see socks5.h */
int kl_socks5_build_request(uint8_t *out, size_t cap, uint8_t cmd, uint8_t atyp,
		const uint8_t *addr, size_t addr_len, uint16_t port)
{
	size_t off = 4;

	if ((atyp == KL_SOCKS5_ATYP_IPV4 && addr_len != 4) ||
	    (atyp == KL_SOCKS5_ATYP_IPV6 && addr_len != 16) ||
	    (atyp == KL_SOCKS5_ATYP_DOMAIN && (addr_len == 0 || addr_len > 255)) ||
	    (atyp != KL_SOCKS5_ATYP_IPV4 && atyp != KL_SOCKS5_ATYP_IPV6 && atyp != KL_SOCKS5_ATYP_DOMAIN))
		return KL_EINVAL;
	if (atyp == KL_SOCKS5_ATYP_DOMAIN)
		off = 5;
	if (cap < off + addr_len + 2)
		return KL_ETOOBIG;
	out[0] = KL_SOCKS5_VER;
	out[1] = cmd;
	out[2] = 0;
	out[3] = atyp;
	if (atyp == KL_SOCKS5_ATYP_DOMAIN)
		out[4] = (uint8_t)addr_len;
	memcpy(out + off, addr, addr_len);
	out[off + addr_len] = (uint8_t)(port >> 8);
	out[off + addr_len + 1] = (uint8_t)port;
	return (int)(off + addr_len + 2);
}

/* The server's two-byte answers: a version byte, then one value. */
static int two_byte_reply(const uint8_t *in, size_t len, uint8_t ver, uint8_t *value)
{
	if (len < 1)
		return KL_AGAIN;
	if (in[0] != ver)
		return KL_EINVAL;
	if (len < 2)
		return KL_AGAIN;
	*value = in[1];
	return 2;
}

/* see socks5.h */
int kl_socks5_parse_method(const uint8_t *in, size_t len, uint8_t *method)
{
	return two_byte_reply(in, len, KL_SOCKS5_VER, method);
}

/* see socks5.h */
int kl_socks5_parse_auth_reply(const uint8_t *in, size_t len, uint8_t *status)
{
	return two_byte_reply(in, len, KL_SOCKS5_AUTH_VER, status);
}

/* see socks5.h */
int kl_socks5_parse_reply(const uint8_t *in, size_t len, struct kl_socks5_req *r)
{
	int rc;

	if (len < 1)
		return KL_AGAIN;
	if (in[0] != KL_SOCKS5_VER)
		return KL_EINVAL;
	if (len < 4)
		return KL_AGAIN;
	r->cmd = 0;
	r->rep = in[1];
	rc = parse_addr(in + 3, len - 3, r);
	return rc < 0 ? rc : 3 + rc;
}

/* see socks5.h */
uint8_t kl_socks5_rep_for(int rc)
{
	if (rc >= 0)
		return KL_SOCKS5_REP_SUCCEEDED;
	switch (rc) {
	case KL_EDENIED: return KL_SOCKS5_REP_NOT_ALLOWED;
	case KL_ENOTFOUND: return KL_SOCKS5_REP_HOST_UNREACH;
	case KL_ETIMEDOUT: return KL_SOCKS5_REP_HOST_UNREACH;
	case KL_ECLOSED: return KL_SOCKS5_REP_REFUSED;
	case KL_EUNSUPP: return KL_SOCKS5_REP_CMD_UNSUPP;
	default: return KL_SOCKS5_REP_GENERAL;
	}
}
