/* fuzz_socks5.c - SOCKS5 server and client parsers over arbitrary streams. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"
#include "proto/socks5.h"

#include <stdlib.h>
#include <string.h>

/*
 * The last byte picks the options (bit 0: users configured, bit 1: parse
 * as the client side); the rest is one stream, parsed phase after phase
 * as a session would. A parsed request is rebuilt and must give the same
 * bytes back (RSV aside).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kl_socks5_auth a;
	struct kl_socks5_req rq;
	uint8_t opt, m, st, *in, out[KL_SOCKS5_REQUEST_MAX];
	size_t len, off = 0;
	int rc;

	if (size < 1)
		return 0;
	opt = data[size - 1];
	len = size - 1;
	in = malloc(len ? len : 1);     /* exact size: ASan sees any over-read */
	if (!in)
		return 0;
	memcpy(in, data, len);

	if (opt & 2) {
		rc = kl_socks5_parse_method(in, len, &m);
		KL_ASSERT(rc == KL_AGAIN || rc == KL_EINVAL || rc == 2);
		if (rc > 0)
			off += (size_t)rc;
		rc = kl_socks5_parse_auth_reply(in + off, len - off, &st);
		KL_ASSERT(rc == KL_AGAIN || rc == KL_EINVAL || rc == 2);
		if (rc > 0)
			off += (size_t)rc;
		rc = kl_socks5_parse_reply(in + off, len - off, &rq);
		KL_ASSERT(rc < 0 || (size_t)rc <= len - off);
		goto out;
	}

	rc = kl_socks5_parse_greeting(in, len, opt & 1, &m);
	KL_ASSERT(rc < 0 || (size_t)rc <= len);
	if (rc < 0)
		goto out;
	KL_ASSERT(m == KL_SOCKS5_METHOD_REFUSED || m == ((opt & 1) ? 2 : 0));
	off += (size_t)rc;
	if (m == KL_SOCKS5_METHOD_USERPASS) {
		rc = kl_socks5_parse_auth(in + off, len - off, &a);
		if (rc < 0)
			goto out;
		KL_ASSERT((size_t)rc <= len - off && rc == 3 + a.ulen + a.plen);
		KL_ASSERT(a.user[a.ulen] == 0 && a.pass[a.plen] == 0);
		off += (size_t)rc;
	}
	rc = kl_socks5_parse_request(in + off, len - off, &rq);
	KL_ASSERT(rc < 0 || (size_t)rc <= len - off);
	KL_ASSERT(rc == KL_AGAIN || rc == KL_EINVAL || rc == KL_EUNSUPP || rc > 0);
	KL_ASSERT(rc != KL_EUNSUPP || rq.rep == KL_SOCKS5_REP_CMD_UNSUPP || rq.rep == KL_SOCKS5_REP_ATYP_UNSUPP);
	if (rc > 0) {
		const uint8_t *addr = rq.atyp == KL_SOCKS5_ATYP_DOMAIN ? (const uint8_t *)rq.name : rq.addr;
		size_t alen = rq.atyp == KL_SOCKS5_ATYP_DOMAIN ? rq.name_len : rq.atyp == KL_SOCKS5_ATYP_IPV4 ? 4 : 16;
		int n = kl_socks5_build_request(out, sizeof(out), rq.cmd, rq.atyp, addr, alen, rq.port);

		KL_ASSERT(rq.rep == 0 && rq.cmd == KL_SOCKS5_CMD_CONNECT);
		KL_ASSERT(n == rc && memcmp(out, in + off, 2) == 0 && memcmp(out + 3, in + off + 3, (size_t)n - 3) == 0);
		n = kl_socks5_build_reply(out, sizeof(out), kl_socks5_rep_for(rc), rq.atyp, rq.addr, rq.port);
		KL_ASSERT(n == 10 || n == 22);
	}
out:
	free(in);
	return 0;
}
