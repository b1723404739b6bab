/* t_socks5.c - SOCKS5 and RFC 1929 messages: tables run whole, truncated and at a guard page. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_guard.h"
#include "base/kl.h"
#include "proto/socks5.h"

#include <unistd.h>

/* ---- greeting ---- */

struct greet_row {
	const char *name;
	const char *in;
	size_t len;
	int users;
	int rc;
	int method;
};

#define S(x) x, sizeof(x) - 1

static const struct greet_row greet_rows[] = {
	{ "no auth offered, none configured", S("\x05\x01\x00"), 0, 3, 0x00 },
	{ "userpass offered, users configured", S("\x05\x02\x00\x02"), 1, 4, 0x02 },
	{ "only none offered, users configured", S("\x05\x01\x00"), 1, 3, 0xff },
	{ "only userpass offered, none configured", S("\x05\x01\x02"), 0, 3, 0xff },
	{ "gssapi only", S("\x05\x01\x01"), 0, 3, 0xff },
	{ "zero methods", S("\x05\x00"), 0, 2, 0xff },
	{ "trailing bytes are the next message", S("\x05\x01\x00\x05\x01\x00"), 0, 3, 0x00 },
	{ "many methods", S("\x05\x05\x80\x81\x01\x02\x00"), 1, 7, 0x02 },
	{ "socks4 client", S("\x04\x01\x00\x50"), 0, KL_EUNSUPP, -1 },
	{ "bad version", S("\x06\x01\x00"), 0, KL_EINVAL, -1 },
	{ "http on a socks port", S("GET / HTTP/1.1\r\n"), 0, KL_EINVAL, -1 },
	{ "nul version", S("\x00"), 0, KL_EINVAL, -1 },
};

static void test_greeting(void)
{
	for (size_t r = 0; r < KL_ARRAY_LEN(greet_rows); r++) {
		const struct greet_row *g = &greet_rows[r];
		uint8_t m = 0x55;
		int rc = kl_socks5_parse_greeting(at_guard(g->in, g->len), g->len, g->users, &m);
		int bad = 0;

		T_EQ_INT(rc, g->rc, g->name);
		if (g->rc >= 0)
			T_EQ_INT(m, g->method, g->name);
		for (size_t k = 0; k < (g->rc >= 0 ? (size_t)g->rc : g->len); k++) {
			int p = kl_socks5_parse_greeting(at_guard(g->in, k), k, g->users, &m);
			if (g->rc >= 0 ? p != KL_AGAIN : (p != KL_AGAIN && p != g->rc))
				bad++;
		}
		T_OK(bad == 0, "%s: every prefix needs more", g->name);
	}
}

/* ---- auth ---- */

struct auth_row {
	const char *name;
	const char *in;
	size_t len;
	int rc;
	const char *user, *pass;
};

static const struct auth_row auth_rows[] = {
	{ "alice/secret", S("\x01\x05" "alice" "\x06" "secret"), 14, "alice", "secret" },
	{ "empty password", S("\x01\x01u\x00"), 4, "u", "" },
	{ "empty user", S("\x01\x00\x01p"), 4, "", "p" },
	{ "followed by a request", S("\x01\x01u\x01p\x05\x01\x00\x01"), 5, "u", "p" },
	{ "bad version", S("\x05\x01u\x01p"), KL_EINVAL, NULL, NULL },
	{ "version 0", S("\x00\x01u\x01p"), KL_EINVAL, NULL, NULL },
};

static void test_auth(void)
{
	static char big[3 + 255 + 255];
	struct kl_socks5_auth a;

	for (size_t r = 0; r < KL_ARRAY_LEN(auth_rows); r++) {
		const struct auth_row *x = &auth_rows[r];
		int rc = kl_socks5_parse_auth(at_guard(x->in, x->len), x->len, &a), bad = 0;

		T_EQ_INT(rc, x->rc, x->name);
		if (x->rc >= 0) {
			T_EQ_STR(a.user, x->user, x->name);
			T_EQ_STR(a.pass, x->pass, x->name);
			T_OK(a.ulen == strlen(x->user) && a.plen == strlen(x->pass), "%s: lengths", x->name);
		}
		for (size_t k = 0; k < (x->rc >= 0 ? (size_t)x->rc : x->len); k++) {
			int p = kl_socks5_parse_auth(at_guard(x->in, k), k, &a);
			if (x->rc >= 0 ? p != KL_AGAIN : (p != KL_AGAIN && p != x->rc))
				bad++;
		}
		T_OK(bad == 0, "%s: every prefix needs more", x->name);
	}
	/* longest credentials, built by the client side and read back */
	{
		char u[255], p[255];
		int n, bad = 0;

		memset(u, 'u', sizeof(u));
		memset(p, 'p', sizeof(p));
		n = kl_socks5_build_auth((uint8_t *)big, sizeof(big), u, 255, p, 255);
		T_EQ_INT(n, sizeof(big), "auth: 255/255 built");
		T_EQ_INT(kl_socks5_parse_auth(at_guard(big, sizeof(big)), sizeof(big), &a), sizeof(big),
			"auth: 255/255 parsed at guard page");
		T_OK(a.ulen == 255 && a.plen == 255 && a.user[255] == 0 && a.pass[254] == 'p', "auth: 255/255 fields");
		for (size_t k = 0; k < sizeof(big); k++)
			bad += kl_socks5_parse_auth(at_guard(big, k), k, &a) != KL_AGAIN;
		T_OK(bad == 0, "auth: 255/255 every prefix needs more");
		T_EQ_INT(kl_socks5_build_auth((uint8_t *)big, sizeof(big), u, 256, p, 1), KL_ERANGE,
			"auth: user over 255 refused");
		T_EQ_INT(kl_socks5_build_auth((uint8_t *)big, 10, u, 5, p, 5), KL_ETOOBIG, "auth: small buffer");
	}
}

/* ---- request ---- */

struct req_row {
	const char *name;
	const char *in;
	size_t len;
	int rc;
	int rep;
	int atyp;
	const char *addr;       /* 4 or 16 bytes, or the domain name */
	int port;
};

static const struct req_row req_rows[] = {
	{ "connect ipv4", S("\x05\x01\x00\x01\x5d\xb8\xd8\x22\x00\x50"), 10, 0, 1, "\x5d\xb8\xd8\x22", 80 },
	{ "connect ipv6", S("\x05\x01\x00\x04" "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x01\xbb"),
		22, 0, 4, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 443 },
	{ "connect domain", S("\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb"), 18, 0, 3, "example.com", 443 },
	{ "domain of one byte", S("\x05\x01\x00\x03\x01" "a" "\xff\xff"), 8, 0, 3, "a", 65535 },
	{ "rsv ignored", S("\x05\x01\x07\x01\x01\x02\x03\x04\x00\x16"), 10, 0, 1, "\x01\x02\x03\x04", 22 },
	{ "port zero passed on", S("\x05\x01\x00\x01\x01\x02\x03\x04\x00\x00"), 10, 0, 1, "\x01\x02\x03\x04", 0 },
	{ "pipelined data after", S("\x05\x01\x00\x01\x01\x02\x03\x04\x00\x50GET /"), 10, 0, 1, "\x01\x02\x03\x04", 80 },
	{ "bind", S("\x05\x02\x00\x01\x01\x02\x03\x04\x00\x50"), KL_EUNSUPP, 0x07, 1, "\x01\x02\x03\x04", 80 },
	{ "udp associate", S("\x05\x03\x00\x01\0\0\0\0\0\0"), KL_EUNSUPP, 0x07, 1, "\0\0\0\0", 0 },
	{ "unknown command", S("\x05\x09\x00\x03\x01" "h" "\x00\x50"), KL_EUNSUPP, 0x07, 3, "h", 80 },
	{ "atyp 2", S("\x05\x01\x00\x02\x01\x02\x03\x04\x00\x50"), KL_EUNSUPP, 0x08, -1, NULL, 0 },
	{ "atyp 0", S("\x05\x01\x00\x00"), KL_EUNSUPP, 0x08, -1, NULL, 0 },
	{ "atyp 255", S("\x05\x01\x00\xff\x00"), KL_EUNSUPP, 0x08, -1, NULL, 0 },
	{ "bad version", S("\x04\x01\x00\x01\x01\x02\x03\x04\x00\x50"), KL_EINVAL, 0x01, -1, NULL, 0 },
	{ "empty domain", S("\x05\x01\x00\x03\x00\x00\x50"), KL_EINVAL, 0x01, -1, NULL, 0 },
	{ "nul in domain", S("\x05\x01\x00\x03\x03" "a\0b" "\x00\x50"), KL_EINVAL, 0x01, -1, NULL, 0 },
};

static void test_request(void)
{
	struct kl_socks5_req rq;

	for (size_t r = 0; r < KL_ARRAY_LEN(req_rows); r++) {
		const struct req_row *x = &req_rows[r];
		int rc = kl_socks5_parse_request(at_guard(x->in, x->len), x->len, &rq), bad = 0;
		size_t full = x->rc >= 0 ? (size_t)x->rc : x->len;

		T_EQ_INT(rc, x->rc, x->name);
		T_EQ_INT(rq.rep, x->rep, x->name);
		if (x->atyp > 0) {
			T_EQ_INT(rq.atyp, x->atyp, x->name);
			T_EQ_INT(rq.port, x->port, x->name);
			if (x->atyp == 3) {
				T_EQ_STR(rq.name, x->addr, x->name);
				T_EQ_INT(rq.name_len, strlen(x->addr), x->name);
			} else {
				T_EQ_MEM(rq.addr, x->addr, x->atyp == 1 ? 4 : 16, x->name);
			}
		}
		for (size_t k = 0; k < full; k++) {
			int p = kl_socks5_parse_request(at_guard(x->in, k), k, &rq);
			if (x->rc >= 0 ? p != KL_AGAIN : (p != KL_AGAIN && p != x->rc))
				bad++;
		}
		T_OK(bad == 0, "%s: every prefix needs more", x->name);
	}
	/* a 255-byte name, the longest request */
	{
		uint8_t msg[KL_SOCKS5_REQUEST_MAX];
		char name[255];
		int n, bad = 0;

		memset(name, 'x', sizeof(name));
		n = kl_socks5_build_request(msg, sizeof(msg), KL_SOCKS5_CMD_CONNECT, KL_SOCKS5_ATYP_DOMAIN,
			(const uint8_t *)name, 255, 8080);
		T_EQ_INT(n, KL_SOCKS5_REQUEST_MAX, "request: longest built");
		T_EQ_INT(kl_socks5_parse_request(at_guard(msg, (size_t)n), (size_t)n, &rq), n,
			"request: longest parsed");
		T_OK(rq.name_len == 255 && rq.name[255] == 0 && rq.port == 8080, "request: longest fields");
		for (int k = 0; k < n; k++)
			bad += kl_socks5_parse_request(at_guard(msg, (size_t)k), (size_t)k, &rq) != KL_AGAIN;
		T_OK(bad == 0, "request: longest, every prefix needs more");
	}
}

/* Greeting, auth and request in one packet, as some clients send them. */
static void test_pipelined(void)
{
	static const char pkt[] = "\x05\x01\x02" "\x01\x03" "bob" "\x02" "pw"
		"\x05\x01\x00\x03\x04" "host" "\x1f\x90" "hello";
	const uint8_t *p = at_guard(pkt, sizeof(pkt) - 1);
	size_t len = sizeof(pkt) - 1, off = 0;
	struct kl_socks5_auth a;
	struct kl_socks5_req rq;
	uint8_t m;
	int rc;

	rc = kl_socks5_parse_greeting(p, len, 1, &m);
	T_OK(rc == 3 && m == 2, "pipelined: greeting");
	off += (size_t)rc;
	rc = kl_socks5_parse_auth(p + off, len - off, &a);
	T_OK(rc == 8 && strcmp(a.user, "bob") == 0 && strcmp(a.pass, "pw") == 0, "pipelined: auth");
	off += (size_t)rc;
	rc = kl_socks5_parse_request(p + off, len - off, &rq);
	T_OK(rc == 11 && strcmp(rq.name, "host") == 0 && rq.port == 8080, "pipelined: request");
	off += (size_t)rc;
	T_EQ_MEM(p + off, "hello", 5, "pipelined: payload left for the relay");
}

static void test_builders(void)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	uint8_t out[32];

	T_EQ_INT(kl_socks5_build_method(out, sizeof(out), 0x02), 2, "build: method");
	T_EQ_MEM(out, "\x05\x02", 2, "build: method bytes");
	T_EQ_INT(kl_socks5_build_method(out, 1, 0x02), KL_ETOOBIG, "build: method, no room");
	T_EQ_INT(kl_socks5_build_auth_reply(out, sizeof(out), 1), 2, "build: auth ok");
	T_EQ_MEM(out, "\x01\x00", 2, "build: auth ok bytes");
	kl_socks5_build_auth_reply(out, sizeof(out), 0);
	T_EQ_MEM(out, "\x01\x01", 2, "build: auth failure bytes");
	T_EQ_INT(kl_socks5_build_auth_reply(out, 0, 1), KL_ETOOBIG, "build: auth, no room");
	T_EQ_INT(kl_socks5_build_reply(out, sizeof(out), 0, KL_SOCKS5_ATYP_IPV4,
		(const uint8_t *)"\x7f\x00\x00\x01", 1080), 10, "build: v4 reply");
	T_EQ_MEM(out, "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38", 10, "build: v4 reply bytes");
	T_EQ_INT(kl_socks5_build_reply(out, sizeof(out), 0, KL_SOCKS5_ATYP_IPV6, v6, 443), 22, "build: v6 reply");
	T_EQ_MEM(out, "\x05\x00\x00\x04\x20\x01\x0d\xb8", 8, "build: v6 reply head");
	T_EQ_MEM(out + 19, "\x09\x01\xbb", 3, "build: v6 reply tail");
	T_EQ_INT(kl_socks5_build_reply(out, sizeof(out), KL_SOCKS5_REP_CMD_UNSUPP, 0, NULL, 0), 10,
		"build: error reply");
	T_EQ_MEM(out, "\x05\x07\x00\x01\0\0\0\0\0\0", 10, "build: error reply bytes");
	T_EQ_INT(kl_socks5_build_reply(out, 9, 0, KL_SOCKS5_ATYP_IPV4, NULL, 0), KL_ETOOBIG, "build: reply, no room");
	T_EQ_INT(kl_socks5_build_reply(out, 21, 0, KL_SOCKS5_ATYP_IPV6, NULL, 0), KL_ETOOBIG, "build: v6 reply, no room");

	T_EQ_INT(kl_socks5_build_greeting(out, sizeof(out), 0), 3, "client: greeting");
	T_EQ_MEM(out, "\x05\x01\x00", 3, "client: greeting bytes");
	T_EQ_INT(kl_socks5_build_greeting(out, sizeof(out), 1), 4, "client: greeting with auth");
	T_EQ_MEM(out, "\x05\x02\x00\x02", 4, "client: greeting with auth bytes");
	T_EQ_INT(kl_socks5_build_greeting(out, 3, 1), KL_ETOOBIG, "client: greeting, no room");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, KL_SOCKS5_ATYP_IPV4,
		(const uint8_t *)"\x01\x02\x03\x04", 4, 80), 10, "client: v4 request");
	T_EQ_MEM(out, "\x05\x01\x00\x01\x01\x02\x03\x04\x00\x50", 10, "client: v4 request bytes");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, KL_SOCKS5_ATYP_IPV6, v6, 16, 80), 22,
		"client: v6 request");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, KL_SOCKS5_ATYP_DOMAIN,
		(const uint8_t *)"ab", 2, 80), 9, "client: domain request");
	T_EQ_MEM(out, "\x05\x01\x00\x03\x02" "ab" "\x00\x50", 9, "client: domain request bytes");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, KL_SOCKS5_ATYP_IPV4, v6, 16, 80), KL_EINVAL,
		"client: v4 with 16 bytes refused");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, KL_SOCKS5_ATYP_DOMAIN, v6, 0, 80), KL_EINVAL,
		"client: empty name refused");
	T_EQ_INT(kl_socks5_build_request(out, sizeof(out), 1, 2, v6, 4, 80), KL_EINVAL, "client: atyp 2 refused");
	T_EQ_INT(kl_socks5_build_request(out, 9, 1, KL_SOCKS5_ATYP_IPV4, v6, 4, 80), KL_ETOOBIG,
		"client: request, no room");
}

static void test_client_parse(void)
{
	struct kl_socks5_req r;
	uint8_t m = 0, st = 9;
	uint8_t rep[32];
	int n, bad = 0;

	T_EQ_INT(kl_socks5_parse_method(at_guard("\x05\x02", 2), 2, &m), 2, "client: method reply");
	T_EQ_INT(m, 2, "client: method value");
	T_EQ_INT(kl_socks5_parse_method(at_guard("\x05", 1), 1, &m), KL_AGAIN, "client: method, short");
	T_EQ_INT(kl_socks5_parse_method(at_guard("", 0), 0, &m), KL_AGAIN, "client: method, empty");
	T_EQ_INT(kl_socks5_parse_method(at_guard("\x04\x00", 2), 2, &m), KL_EINVAL, "client: method, bad version");
	T_EQ_INT(kl_socks5_parse_auth_reply(at_guard("\x01\x00", 2), 2, &st), 2, "client: auth reply");
	T_EQ_INT(st, 0, "client: auth status");
	T_EQ_INT(kl_socks5_parse_auth_reply(at_guard("\x01", 1), 1, &st), KL_AGAIN, "client: auth reply, short");
	T_EQ_INT(kl_socks5_parse_auth_reply(at_guard("", 0), 0, &st), KL_AGAIN, "client: auth reply, empty");
	T_EQ_INT(kl_socks5_parse_auth_reply(at_guard("\x05\x00", 2), 2, &st), KL_EINVAL,
		"client: auth reply, bad version");

	n = kl_socks5_build_reply(rep, sizeof(rep), KL_SOCKS5_REP_REFUSED, KL_SOCKS5_ATYP_IPV4,
		(const uint8_t *)"\x0a\x00\x00\x01", 4321);
	T_EQ_INT(kl_socks5_parse_reply(at_guard(rep, (size_t)n), (size_t)n, &r), n, "client: reply");
	T_OK(r.rep == 5 && r.atyp == 1 && r.port == 4321 && memcmp(r.addr, "\x0a\0\0\x01", 4) == 0,
		"client: reply fields");
	for (int k = 0; k < n; k++)
		bad += kl_socks5_parse_reply(at_guard(rep, (size_t)k), (size_t)k, &r) != KL_AGAIN;
	T_OK(bad == 0, "client: reply, every prefix needs more");
	T_EQ_INT(kl_socks5_parse_reply(at_guard("\x05\x00\x00\x03\x03" "abc" "\x00\x01", 10), 10, &r), 10,
		"client: reply with a name");
	T_EQ_STR(r.name, "abc", "client: reply name");
	T_EQ_INT(kl_socks5_parse_reply(at_guard("\x01\x00\x00\x01", 4), 4, &r), KL_EINVAL, "client: reply, bad version");
	T_EQ_INT(kl_socks5_parse_reply(at_guard("\x05\x00\x00\x07", 4), 4, &r), KL_EUNSUPP, "client: reply, bad atyp");
	T_EQ_INT(kl_socks5_parse_reply(at_guard("\x05\x00\x00\x03\x00\x00\x00", 7), 7, &r), KL_EINVAL,
		"client: reply, empty name");
}

static void test_rep_for(void)
{
	T_EQ_INT(kl_socks5_rep_for(0), 0x00, "rep_for: ok");
	T_EQ_INT(kl_socks5_rep_for(KL_EDENIED), 0x02, "rep_for: denied");
	T_EQ_INT(kl_socks5_rep_for(KL_ENOTFOUND), 0x04, "rep_for: no such host");
	T_EQ_INT(kl_socks5_rep_for(KL_ETIMEDOUT), 0x04, "rep_for: timeout");
	T_EQ_INT(kl_socks5_rep_for(KL_ECLOSED), 0x05, "rep_for: refused");
	T_EQ_INT(kl_socks5_rep_for(KL_EUNSUPP), 0x07, "rep_for: unsupported");
	T_EQ_INT(kl_socks5_rep_for(KL_ENOMEM), 0x01, "rep_for: pool exhausted");
}

int main(void)
{
	guard_init();
	test_greeting();
	test_auth();
	test_request();
	test_pipelined();
	test_builders();
	test_client_parse();
	test_rep_for();
	return T_DONE();
}
