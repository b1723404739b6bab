/* httpresp.h - HTTP/1.x response heads and the chunked transfer coding (client side). */
/* SPDX-License-Identifier: MIT */
#ifndef KL_HTTPRESP_H
#define KL_HTTPRESP_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"
#include "proto/httpreq.h"

/*
 * Used by the thumbs fetcher (origin responses) and by a relay chained to
 * an upstream HTTP proxy (the CONNECT reply). Same conventions as
 * httpreq.h: stateless head parser over all bytes received so far,
 * slices into the caller's buffer, CRLF or bare LF line ends.
 */

struct kl_httpresp {
	/* set by the caller */
	struct kl_http_hdr *hdr;        /* array of hdr_cap entries */
	size_t hdr_cap;
	size_t max_head;                /* 0: no limit (the caller's buffer is) */
	/* set by kl_httpresp_parse() */
	size_t nhdr;
	int minor;                      /* HTTP/1.minor */
	int status;                     /* 100..599 */
	const char *reason;             /* may be empty */
	size_t reason_len;
};

/*
 * Parses "HTTP/1.x SP 3DIGIT [SP reason]" and header lines up to the empty
 * line. A missing SP after the status code is tolerated (servers send
 * "HTTP/1.1 200\r\n"). Returns the head length, KL_AGAIN, KL_EINVAL
 * (malformed, status outside 100..599), KL_ETOOBIG (more headers than
 * hdr_cap, or no end within max_head bytes once len >= max_head) or
 * KL_EUNSUPP (a major version other than 1).
 */
int kl_httpresp_parse(const char *buf, size_t len, struct kl_httpresp *rs);

/* Longest chunk-size line (extensions included) and trailer section accepted. */
#define KL_HTTPRESP_CHUNK_LINE_MAX 4096
#define KL_HTTPRESP_TRAILER_MAX 8192

/*
 * Incremental decoder of the chunked transfer coding (RFC 9112 section
 * 7.1). Caller-owned, all-zero after kl_httpresp_chunked_init(); no
 * pointers inside. Chunk extensions are skipped, trailer fields are
 * checked for control bytes and dropped.
 */
struct kl_httpresp_chunked {
	uint64_t left;          /* data bytes left in the current chunk */
	uint32_t line;          /* bytes of the current size line / trailer section */
	uint8_t state;
	int8_t err;             /* first error, sticky */
};

void kl_httpresp_chunked_init(struct kl_httpresp_chunked *c);

/*
 * Consumes framing and at most one run of payload from in[0..len):
 * returns the bytes consumed, with *data and *dlen describing the payload
 * inside them (*dlen may be 0). Call again with the rest until all input
 * is consumed or kl_httpresp_chunked_done(); after the last chunk and its
 * trailers it consumes nothing more (what follows is the next message).
 * Errors (sticky): KL_EINVAL bad hex, missing CRLF after data, control
 * bytes; KL_ERANGE chunk size of 2^60 or more; KL_ETOOBIG over the line or
 * trailer limits.
 */
int kl_httpresp_chunked_feed(struct kl_httpresp_chunked *c, const char *in, size_t len,
		const char **data, size_t *dlen);

/* 1 once the last chunk and the trailer section have been consumed. */
int kl_httpresp_chunked_done(const struct kl_httpresp_chunked *c);

#endif
