/* fuzz_httpresp.c - response heads and the chunked decoder over arbitrary bytes. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"
#include "proto/httpresp.h"

#include <stdlib.h>
#include <string.h>

/*
 * The last byte picks the piece size the body is fed in (0 means whole).
 * After the head (or from the start when the head is malformed) the rest
 * goes through the chunked decoder; payload slices must lie inside the
 * bytes each call reports consumed, and the total payload must equal the
 * one a whole-input decode gives.
 */
static long decode(const char *p, size_t len, size_t step, size_t *payload)
{
	struct kl_httpresp_chunked c;
	size_t off = 0;

	kl_httpresp_chunked_init(&c);
	*payload = 0;
	while (off < len && !kl_httpresp_chunked_done(&c)) {
		size_t piece = step ? KL_MIN(step, len - off) : len - off;
		const char *d;
		size_t dl;
		int rc = kl_httpresp_chunked_feed(&c, p + off, piece, &d, &dl);

		if (rc < 0) {
			KL_ASSERT(kl_httpresp_chunked_feed(&c, p, len, &d, &dl) == rc);
			return rc;
		}
		KL_ASSERT((size_t)rc <= piece);
		KL_ASSERT(dl == 0 || (d >= p + off && d + dl <= p + off + (size_t)rc));
		KL_ASSERT(rc > 0 || kl_httpresp_chunked_done(&c));
		*payload += dl;
		off += (size_t)rc;
	}
	return kl_httpresp_chunked_done(&c) ? (long)off : KL_AGAIN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kl_http_hdr h[16];
	struct kl_httpresp rs = { .hdr = h, .hdr_cap = 16 };
	size_t len, off = 0, p1, p2;
	long r1, r2;
	uint8_t opt;
	char *in;
	int rc;

	if (size < 1)
		return 0;
	opt = data[size - 1];
	len = size - 1;
	in = malloc(len ? len : 1);
	if (!in)
		return 0;
	memcpy(in, data, len);
	rs.max_head = opt & 0x80 ? 256 : 0;
	rc = kl_httpresp_parse(in, len, &rs);
	KL_ASSERT(rc == KL_AGAIN || rc == KL_EINVAL || rc == KL_ETOOBIG || rc == KL_EUNSUPP ||
		(rc > 0 && (size_t)rc <= len));
	if (rc > 0) {
		uint64_t cl;
		KL_ASSERT(rs.status >= 100 && rs.status <= 599 && rs.nhdr <= 16);
		kl_httpreq_content_length(h, rs.nhdr, &cl);
		kl_httpreq_chunked(h, rs.nhdr);
		off = (size_t)rc;
	}
	r1 = decode(in + off, len - off, 0, &p1);
	r2 = decode(in + off, len - off, (opt & 0x7f) + 1u, &p2);
	KL_ASSERT(r1 == r2 && p1 == p2);
	free(in);
	return 0;
}
