/* fuzz_httpreq.c - request heads and every header helper over arbitrary bytes. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"
#include "proto/cidr.h"
#include "proto/httpreq.h"

#include <stdlib.h>
#include <string.h>

/*
 * The last byte picks the limits (bits 0-1: header capacity, bits 2-3:
 * max_line, bits 4-5: max_head). A complete head must also parse the same
 * way from a copy one byte short (KL_AGAIN or a limit never reached), and
 * everything the relay does with a head runs on the result.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 1, 4, 16, 64 };
	static const size_t lines[4] = { 0, 16, 256, 8192 };
	static const size_t heads[4] = { 0, 64, 1024, 16384 };
	struct kl_http_hdr h[64];
	struct kl_httpreq rq;
	uint8_t opt;
	char *in;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	opt = data[size - 1];
	len = size - 1;
	in = malloc(len ? len : 1);
	if (!in)
		return 0;
	memcpy(in, data, len);
	memset(&rq, 0, sizeof(rq));
	rq.hdr = h;
	rq.hdr_cap = caps[opt & 3];
	rq.max_line = lines[(opt >> 2) & 3];
	rq.max_head = heads[(opt >> 4) & 3];
	rc = kl_httpreq_parse(in, len, &rq);
	KL_ASSERT(rc == KL_AGAIN || rc == KL_EINVAL || rc == KL_ERANGE || rc == KL_ETOOBIG ||
		rc == KL_EUNSUPP || (rc > 0 && (size_t)rc <= len));
	KL_ASSERT(kl_httpreq_status(rc) >= 400);
	if (rc > 0) {
		struct kl_httpreq r2 = rq;
		struct kl_httpreq_url u;
		struct kl_httpreq_hostport hp;
		struct kl_httpreq_cred c;
		struct kl_cidr_addr a;
		uint64_t cl;
		int form;

		KL_ASSERT(rq.nhdr <= rq.hdr_cap && rq.minor >= 0 && rq.minor <= 9);
		KL_ASSERT(kl_httpreq_parse(in, (size_t)rc - 1, &r2) == KL_AGAIN);
		form = kl_httpreq_form(rq.target, rq.target_len);
		if (form == KL_HTTPREQ_ABSOLUTE && kl_httpreq_split_url(rq.target, rq.target_len, &u) == 0)
			KL_ASSERT(u.hp.port > 0 && u.path + u.path_len == rq.target + rq.target_len);
		if (kl_httpreq_hostport(rq.target, rq.target_len, 443, &hp) == 0) {
			KL_ASSERT(hp.port > 0 && hp.host_len > 0 && hp.host_len <= 255);
			kl_cidr_parse_addr(hp.host, hp.host_len, &a);
		}
		kl_httpreq_content_length(h, rq.nhdr, &cl);
		kl_httpreq_chunked(h, rq.nhdr);
		kl_httpreq_keepalive(rq.minor, kl_httpreq_connection(h, rq.nhdr));
		for (size_t i = 0; i < rq.nhdr; i++) {
			kl_httpreq_is_hop(h, rq.nhdr, h[i].name, h[i].name_len);
			if (kl_httpreq_basic(h[i].value, h[i].value_len, &c) == 0) {
				KL_ASSERT(c.ulen <= 255 && c.plen <= 255 && c.user[c.ulen] == 0 && c.pass[c.plen] == 0);
				KL_ASSERT(kl_httpreq_cred_eq(c.user, c.ulen, c.user, c.ulen));
				kl_httpreq_cred_eq(c.pass, c.plen, c.user, c.ulen);
			}
		}
	}
	free(in);
	return 0;
}
