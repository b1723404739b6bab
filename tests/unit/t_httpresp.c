/* t_httpresp.c - response heads and chunked decoding: whole, split, byte by byte, at a guard page. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_guard.h"
#include "base/kl.h"
#include "proto/httpresp.h"

#include <unistd.h>

#define FULL 1000

static const struct {
	const char *name, *in;
	int rc;
	size_t cap, max_head;
	int minor, status;
	const char *reason;
	size_t nhdr;
} rows[] = {
	{ "200 ok", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", FULL, 0, 0, 1, 200, "OK", 1 },
	{ "connect reply", "HTTP/1.1 200 Connection established\r\n\r\n", FULL, 0, 0, 1, 200,
		"Connection established", 0 },
	{ "bare LF", "HTTP/1.0 404 Not Found\nServer: x\n\n", FULL, 0, 0, 0, 404, "Not Found", 1 },
	{ "no reason", "HTTP/1.1 204 \r\n\r\n", FULL, 0, 0, 1, 204, "", 0 },
	{ "no reason, no space", "HTTP/1.1 304\r\nETag: \"x\"\r\n\r\n", FULL, 0, 0, 1, 304, "", 1 },
	{ "body follows", "HTTP/1.1 200 OK\r\n\r\n\xff\xd8", 19, 0, 0, 1, 200, "OK", 0 },
	{ "obs-text reason", "HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\n\r\n", FULL, 0, 0, 1, 200, "\xc3\xa9t\xc3\xa9", 0 },
	{ "407", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"k\"\r\n\r\n",
		FULL, 0, 0, 1, 407, "Proxy Authentication Required", 1 },
	{ "599", "HTTP/1.1 599 x\r\n\r\n", FULL, 0, 0, 1, 599, "x", 0 },
	{ "100", "HTTP/1.1 100 Continue\r\n\r\n", FULL, 0, 0, 1, 100, "Continue", 0 },
	{ "exactly max_head", "HTTP/1.1 200 OK\r\n\r\n", FULL, 0, 19, 1, 200, "OK", 0 },

	{ "status 099", "HTTP/1.1 099 x\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "status 600", "HTTP/1.1 600 x\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "four digits", "HTTP/1.1 2000 OK\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "two digits", "HTTP/1.1 20 OK\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "no status", "HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "version 2", "HTTP/2.0 200 OK\r\n\r\n", KL_EUNSUPP, 0, 0, 0, 0, NULL, 0 },
	{ "lower-case", "http/1.1 200 OK\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "not http", "SSH-2.0-OpenSSH\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "socks reply", "\x05\x00\x00\x01", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "tab instead of space", "HTTP/1.1\t200 OK\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "bad header", "HTTP/1.1 200 OK\r\nX : y\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "obs-fold", "HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", KL_EINVAL, 0, 0, 0, 0, NULL, 0 },
	{ "too many headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", KL_ETOOBIG, 1, 0, 0, 0, NULL, 0 },
	{ "head too long", "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n", KL_ETOOBIG, 0, 20, 0, 0, NULL, 0 },
	{ "status line too long", "HTTP/1.1 200 OKOKOKOK\r\n\r\n", KL_ETOOBIG, 0, 12, 0, 0, NULL, 0 },
};

static int parse(size_t i, const char *b, size_t len, struct kl_http_hdr *h, struct kl_httpresp *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->hdr = h;
	rs->hdr_cap = rows[i].cap ? rows[i].cap : 8;
	rs->max_head = rows[i].max_head;
	return kl_httpresp_parse(b, len, rs);
}

static void test_parse(void)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		size_t len = strlen(rows[i].in), full;
		struct kl_http_hdr h[8];
		struct kl_httpresp rs;
		int want = rows[i].rc == FULL ? (int)len : rows[i].rc, rc, bad = 0;

		rc = parse(i, at_guard(rows[i].in, len), len, h, &rs);
		T_OK(rc == want, "%s: rc %d, want %d", rows[i].name, rc, want);
		if (want >= 0 && rc == want)
			T_OK(rs.minor == rows[i].minor && rs.status == rows[i].status && rs.nhdr == rows[i].nhdr &&
				rs.reason_len == strlen(rows[i].reason) &&
				!memcmp(rs.reason, rows[i].reason, rs.reason_len), "%s: fields", rows[i].name);
		full = want >= 0 ? (size_t)want : len;
		for (size_t k = 0; k < full; k++) {
			int p = parse(i, at_guard(rows[i].in, k), k, h, &rs);
			if (want >= 0 ? p != KL_AGAIN : (p != KL_AGAIN && p != want))
				bad++;
		}
		T_OK(bad == 0, "%s: every prefix needs more (or fails the same way)", rows[i].name);
	}
}

/* ---- chunked ---- */

static const struct {
	const char *name, *in;
	size_t len;             /* 0: strlen(in) */
	int rc;                 /* bytes consumed when done, or the error */
	const char *out;        /* decoded payload */
} ch[] = {
	{ "one chunk", "5\r\nhello\r\n0\r\n\r\n", 0, FULL, "hello" },
	{ "two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, FULL, "hello world" },
	{ "empty body", "0\r\n\r\n", 0, FULL, "" },
	{ "hex case", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", 0, FULL, "0123456789abcdefghij" },
	{ "leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 0, FULL, "hello" },
	{ "extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", 0, FULL, "hello" },
	{ "extension with BWS", "5 ; a=\"b c\"\r\nhello\r\n0\r\n\r\n", 0, FULL, "hello" },
	{ "trailers", "2\r\nhi\r\n0\r\nExpires: never\r\nX: y\r\n\r\n", 0, FULL, "hi" },
	{ "bare LF", "2\nhi\n0\nX: y\n\n", 0, FULL, "hi" },
	{ "CRLF in data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0, FULL, "\r\n\r\n" },
	{ "next message follows", "2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200", 0, 12, "hi" },
	{ "binary data", "3\r\n\0\xff\n\r\n0\r\n\r\n", 13, FULL, "\0\xff\n" },
	{ "largest size", "fffffffffffffff\r\nab", 0, 0, "ab" },

	{ "no size", "\r\n", 0, KL_EINVAL, "" },
	{ "bad hex", "g\r\n", 0, KL_EINVAL, "" },
	{ "sign", "+5\r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "0x prefix", "0x5\r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "space before size", " 5\r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "blank without ext", "5 \r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "junk after size", "5x\r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "bare CR after size", "5\rhello\r\n", 0, KL_EINVAL, "" },
	{ "control in extension", "5;a\x01\r\nhello\r\n", 0, KL_EINVAL, "" },
	{ "data too long", "2\r\nhello\r\n", 0, KL_EINVAL, "he" },
	{ "bare CR after data", "2\r\nhi\rx", 0, KL_EINVAL, "hi" },
	{ "size overflow", "10000000000000000\r\n", 0, KL_ERANGE, "" },
	{ "size of 2^60", "1000000000000000\r\n", 0, KL_ERANGE, "" },
	{ "trailer obs-fold", "0\r\nX: y\r\n z\r\n\r\n", 0, KL_EINVAL, "" },
	{ "trailer control", "0\r\nX: \x01\r\n\r\n", 0, KL_EINVAL, "" },
	{ "trailer bare CR", "0\r\nX: y\rz\r\n\r\n", 0, KL_EINVAL, "" },
	{ "final bare CR", "0\r\n\rz", 0, KL_EINVAL, "" },
	{ "trailer starts with CTL", "0\r\n\x01X: y\r\n\r\n", 0, KL_EINVAL, "" },
};

/*
 * Feeds in[0..len) in pieces of at most step bytes (0: one split at
 * offset split), collects the payload. Returns consumed bytes when done,
 * the error, or KL_AGAIN when input ran out first.
 */
static int decode(const char *in, size_t len, size_t step, size_t split, char *out, size_t *olen)
{
	struct kl_httpresp_chunked c;
	size_t off = 0;

	kl_httpresp_chunked_init(&c);
	*olen = 0;
	while (off < len && !kl_httpresp_chunked_done(&c)) {
		size_t piece = step ? KL_MIN(step, len - off) : (off < split ? split - off : len - off);
		/* each piece ends at the guard page, as a fresh recv() would */
		const char *p = at_guard(in + off, piece), *d;
		size_t dl, used = 0;

		while (used < piece && !kl_httpresp_chunked_done(&c)) {
			int rc = kl_httpresp_chunked_feed(&c, p + used, piece - used, &d, &dl);
			if (rc < 0) {
				KL_ASSERT(kl_httpresp_chunked_feed(&c, p, piece, &d, &dl) == rc);       /* sticky */
				return rc;
			}
			if (dl) {
				KL_ASSERT(d >= p + used && d + dl <= p + used + (size_t)rc);
				memcpy(out + *olen, d, dl);
				*olen += dl;
			}
			if (rc == 0)
				break;
			used += (size_t)rc;
		}
		off += used;
		if (used < piece)
			break;
	}
	return kl_httpresp_chunked_done(&c) ? (int)off : KL_AGAIN;
}

static void test_chunked(void)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(ch); i++) {
		size_t len = ch[i].len ? ch[i].len : strlen(ch[i].in), olen, want_out = strlen(ch[i].out);
		int want = ch[i].rc == FULL ? (int)len : ch[i].rc, rc, bad = 0;
		char out[256];

		if (!strcmp(ch[i].name, "binary data"))
			want_out = 3;
		if (want == 0)
			want = KL_AGAIN;        /* a valid prefix: never done, never an error */
		rc = decode(ch[i].in, len, len, 0, out, &olen);
		T_OK(rc == want, "%s: whole, rc %d want %d", ch[i].name, rc, want);
		T_OK(olen == want_out && !memcmp(out, ch[i].out, olen), "%s: payload", ch[i].name);
		rc = decode(ch[i].in, len, 1, 0, out, &olen);
		T_OK(rc == want && olen == want_out && !memcmp(out, ch[i].out, olen), "%s: byte by byte", ch[i].name);
		for (size_t k = 1; k < len; k++) {
			rc = decode(ch[i].in, len, 0, k, out, &olen);
			bad += !(rc == want && olen == want_out && !memcmp(out, ch[i].out, olen));
		}
		T_OK(bad == 0, "%s: split at every offset", ch[i].name);
		bad = 0;
		for (size_t k = 0; k < (want >= 0 ? (size_t)want : len); k++) {
			rc = decode(ch[i].in, k, 0, 0, out, &olen);
			bad += rc != KL_AGAIN && (want >= 0 || rc != want);
		}
		T_OK(bad == 0, "%s: every prefix is unfinished, not an error", ch[i].name);
	}
}

static void test_chunked_limits(void)
{
	static char big[KL_HTTPRESP_TRAILER_MAX + 64];
	struct kl_httpresp_chunked c;
	const char *d;
	size_t dl, n;
	int rc;

	/* a size line of exactly the limit passes; one byte more does not */
	memset(big, 'x', sizeof(big));
	big[0] = '0';
	big[1] = ';';
	big[KL_HTTPRESP_CHUNK_LINE_MAX - 2] = '\r';
	big[KL_HTTPRESP_CHUNK_LINE_MAX - 1] = '\n';
	kl_httpresp_chunked_init(&c);
	rc = kl_httpresp_chunked_feed(&c, big, KL_HTTPRESP_CHUNK_LINE_MAX, &d, &dl);
	T_EQ_INT(rc, KL_HTTPRESP_CHUNK_LINE_MAX, "chunked: size line at the limit");
	memmove(big + 3, big + 2, KL_HTTPRESP_CHUNK_LINE_MAX);
	kl_httpresp_chunked_init(&c);
	rc = kl_httpresp_chunked_feed(&c, big, KL_HTTPRESP_CHUNK_LINE_MAX + 1, &d, &dl);
	T_EQ_INT(rc, KL_ETOOBIG, "chunked: size line over the limit");

	/* trailer section: many short lines adding up past the limit */
	kl_httpresp_chunked_init(&c);
	kl_httpresp_chunked_feed(&c, "0\r\n", 3, &d, &dl);
	rc = 0;
	for (n = 0; n < KL_HTTPRESP_TRAILER_MAX && rc >= 0; n += 6)
		rc = kl_httpresp_chunked_feed(&c, "X: y\r\n", 6, &d, &dl);
	T_EQ_INT(rc, KL_ETOOBIG, "chunked: trailer section over the limit");

	/* done: nothing more is consumed */
	kl_httpresp_chunked_init(&c);
	T_EQ_INT(kl_httpresp_chunked_feed(&c, "0\r\n\r\nX", 6, &d, &dl), 5, "chunked: stops at the end");
	T_OK(kl_httpresp_chunked_done(&c), "chunked: done");
	T_EQ_INT(kl_httpresp_chunked_feed(&c, "X", 1, &d, &dl), 0, "chunked: consumes nothing after done");
	T_EQ_INT(kl_httpresp_chunked_feed(&c, "", 0, &d, &dl), 0, "chunked: empty input");
}

int main(void)
{
	guard_init();
	test_parse();
	test_chunked();
	test_chunked_limits();
	return T_DONE();
}
