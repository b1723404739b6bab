/* socks5.h - SOCKS5 messages (RFC 1928) and user/password auth (RFC 1929). */
/* SPDX-License-Identifier: MIT */
#ifndef KL_SOCKS5_H
#define KL_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"

/*
 * Parsers work over a byte stream: each takes what has arrived so far and
 * returns the length of the one message at its start (the caller drops
 * that many bytes and parses the next phase from the rest: a client may
 * send greeting, auth and request in one packet), KL_AGAIN when the
 * message is not complete yet, or a negative KL_E* error. They never read
 * past len and keep no state between calls. Builders write one message
 * into out (cap bytes) and return its length or KL_ETOOBIG.
 *
 * Server side:   parse_greeting -> build_method
 *                [parse_auth -> build_auth_reply]     (method 0x02)
 *                parse_request -> build_reply
 * Client side:   build_greeting -> parse_method
 *                [build_auth -> parse_auth_reply]
 *                build_request -> parse_reply
 */

#define KL_SOCKS5_VER 5
#define KL_SOCKS5_AUTH_VER 1

enum {
	KL_SOCKS5_METHOD_NONE = 0x00,
	KL_SOCKS5_METHOD_USERPASS = 0x02,
	KL_SOCKS5_METHOD_REFUSED = 0xff
};

enum { KL_SOCKS5_CMD_CONNECT = 1, KL_SOCKS5_CMD_BIND = 2, KL_SOCKS5_CMD_UDP = 3 };
enum { KL_SOCKS5_ATYP_IPV4 = 1, KL_SOCKS5_ATYP_DOMAIN = 3, KL_SOCKS5_ATYP_IPV6 = 4 };

/* REP values of the request reply (RFC 1928 section 6). */
enum {
	KL_SOCKS5_REP_SUCCEEDED = 0x00,
	KL_SOCKS5_REP_GENERAL = 0x01,
	KL_SOCKS5_REP_NOT_ALLOWED = 0x02,
	KL_SOCKS5_REP_NET_UNREACH = 0x03,
	KL_SOCKS5_REP_HOST_UNREACH = 0x04,
	KL_SOCKS5_REP_REFUSED = 0x05,
	KL_SOCKS5_REP_TTL = 0x06,
	KL_SOCKS5_REP_CMD_UNSUPP = 0x07,
	KL_SOCKS5_REP_ATYP_UNSUPP = 0x08
};

/* Longest message of each kind, for sizing buffers. */
#define KL_SOCKS5_GREETING_MAX (2 + 255)
#define KL_SOCKS5_AUTH_MAX (3 + 255 + 255)
#define KL_SOCKS5_REQUEST_MAX (4 + 1 + 255 + 2)

/* RFC 1929 credentials, copied out of the stream and NUL-terminated. */
struct kl_socks5_auth {
	uint8_t ulen, plen;     /* 0..255 each */
	char user[256];
	char pass[256];
};

/* A request (server side) or a reply (client side). */
struct kl_socks5_req {
	uint8_t cmd;            /* request: CMD */
	uint8_t rep;            /* request: reply code to send on error (0 when ok); reply: REP */
	uint8_t atyp;           /* KL_SOCKS5_ATYP_* */
	uint8_t name_len;       /* DOMAIN: 1..255 */
	uint16_t port;          /* host order */
	uint8_t addr[16];       /* IPV4: first 4 bytes; IPV6: all 16 */
	char name[256];         /* DOMAIN: NUL-terminated, no NUL inside */
};

/*
 * Parses the greeting VER NMETHODS METHODS and chooses the method:
 * USERPASS when have_users and offered, NONE when !have_users and
 * offered, else REFUSED (sent, then the connection closes). NMETHODS = 0
 * is well formed and gives REFUSED. Returns bytes consumed, KL_AGAIN,
 * KL_EUNSUPP when VER is 4 (a SOCKS4 client) or KL_EINVAL for any other
 * VER; on errors the server closes without a reply.
 */
int kl_socks5_parse_greeting(const uint8_t *in, size_t len, int have_users, uint8_t *method);

/*
 * Parses VER ULEN UNAME PLEN PASSWD into a. Empty names and passwords are
 * well formed (they fail the credential check instead). Returns bytes
 * consumed, KL_AGAIN, or KL_EINVAL when VER != 1 (reply failure, close).
 */
int kl_socks5_parse_auth(const uint8_t *in, size_t len, struct kl_socks5_auth *a);

/*
 * Parses VER CMD RSV ATYP DST.ADDR DST.PORT into rq. RSV is ignored as
 * most servers do. Returns bytes consumed (rq->cmd is CONNECT), KL_AGAIN,
 * or an error with rq->rep set to the reply the server SHALL send before
 * closing:
 *   KL_EINVAL   VER != 5, or a domain name empty or holding NUL  -> 0x01
 *   KL_EUNSUPP  ATYP not 1, 3 or 4 (known from its first bytes)  -> 0x08
 *   KL_EUNSUPP  CMD other than CONNECT (BIND, UDP ASSOCIATE, ...; the
 *               whole request is parsed first, so rq holds the
 *               destination for the log line)                    -> 0x07
 * Port 0 is returned as is; connecting to it fails later.
 */
int kl_socks5_parse_request(const uint8_t *in, size_t len, struct kl_socks5_req *rq);

/* Writes VER METHOD (2 bytes). */
int kl_socks5_build_method(uint8_t *out, size_t cap, uint8_t method);
/* Writes VER=1 STATUS (2 bytes): STATUS 0 when ok, else 1. */
int kl_socks5_build_auth_reply(uint8_t *out, size_t cap, int ok);
/*
 * Writes VER REP RSV ATYP BND.ADDR BND.PORT. atyp is KL_SOCKS5_ATYP_IPV4
 * (addr: 4 bytes) or KL_SOCKS5_ATYP_IPV6 (16 bytes); addr NULL means all
 * zeros (what error replies carry). Returns 10 or 22, or KL_ETOOBIG.
 */
int kl_socks5_build_reply(uint8_t *out, size_t cap, uint8_t rep, uint8_t atyp,
		const uint8_t *addr, uint16_t port);

/* Client: offers NONE, plus USERPASS when with_auth. Returns 3 or 4. */
int kl_socks5_build_greeting(uint8_t *out, size_t cap, int with_auth);
/* Client: RFC 1929 request; KL_ERANGE when ulen or plen > 255. */
int kl_socks5_build_auth(uint8_t *out, size_t cap, const char *user, size_t ulen,
		const char *pass, size_t plen);
/*
 * Client: request with cmd and atyp; addr has 4 (IPV4), 16 (IPV6) or
 * addr_len 1..255 (DOMAIN) bytes. KL_EINVAL for a bad atyp/length pair.
 */
int kl_socks5_build_request(uint8_t *out, size_t cap, uint8_t cmd, uint8_t atyp,
		const uint8_t *addr, size_t addr_len, uint16_t port);

/* Client: parses VER METHOD. Returns 2, KL_AGAIN or KL_EINVAL (VER != 5). */
int kl_socks5_parse_method(const uint8_t *in, size_t len, uint8_t *method);
/* Client: parses VER STATUS. Returns 2, KL_AGAIN or KL_EINVAL (VER != 1). */
int kl_socks5_parse_auth_reply(const uint8_t *in, size_t len, uint8_t *status);
/*
 * Client: parses the request reply into r (r->rep = REP, r->cmd = 0).
 * Returns bytes consumed whatever REP says, KL_AGAIN, KL_EINVAL (VER != 5,
 * empty domain) or KL_EUNSUPP (unknown ATYP).
 */
int kl_socks5_parse_reply(const uint8_t *in, size_t len, struct kl_socks5_req *r);

/*
 * The reply code for a failure the relay met while serving a request:
 * KL_EDENIED -> NOT_ALLOWED, KL_ENOTFOUND and KL_ETIMEDOUT -> HOST_UNREACH,
 * KL_ECLOSED -> REFUSED, KL_EUNSUPP -> CMD_UNSUPP, anything else (pool
 * exhausted included) -> GENERAL; rc >= 0 -> SUCCEEDED.
 */
uint8_t kl_socks5_rep_for(int rc);

#endif
