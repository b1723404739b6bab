/* httpreq.h - HTTP/1.x request heads and the header-field helpers both sides use. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_HTTPREQ_H
#define KL_HTTPREQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"

/*
 * The parser is stateless in the picohttpparser way: call it with all
 * bytes received so far; it returns the length of the head (request line,
 * header lines and the empty line) once complete, KL_AGAIN while a valid
 * prefix is still incomplete, or a negative error. Results are slices into
 * the caller's buffer, valid while the buffer is. Lines end with CRLF or a
 * bare LF (as common servers accept); a bare CR is an error.
 *
 * Errors, with the status a server answers (kl_httpreq_status()):
 *   KL_EINVAL   malformed: bad method token, control or space in the
 *               target, missing or bad version, a space before ':',
 *               obs-fold (a line starting with SP/HTAB), control bytes
 *               in a value, bare CR                              -> 400
 *   KL_ERANGE   request line (with its line end) over max_line, or max_head
 *               reached inside the request line                  -> 414
 *   KL_ETOOBIG  more headers than hdr_cap, or the head not ended
 *               within max_head bytes                            -> 431
 *   KL_EUNSUPP  a version other than HTTP/1.x                    -> 505
 * A limit is "reached" once len >= the limit without the item being
 * complete, so a caller whose buffer holds max_head bytes never waits on
 * KL_AGAIN with a full buffer.
 */

struct kl_http_hdr {
	const char *name;
	size_t name_len;
	const char *value;      /* leading and trailing SP/HTAB removed */
	size_t value_len;
};

struct kl_httpreq {
	/* set by the caller */
	struct kl_http_hdr *hdr;        /* array of hdr_cap entries */
	size_t hdr_cap;
	size_t max_line;                /* 0: no limit of its own */
	size_t max_head;                /* 0: no limit (the caller's buffer is) */
	/* set by kl_httpreq_parse() */
	size_t nhdr;
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int minor;                      /* 0 or 1..9 of HTTP/1.x */
};

/*
 * Parses a request head from buf[0..len). Empty lines before the request
 * line are skipped (RFC 9112 section 2.2). Returns the head length,
 * KL_AGAIN, or an error above.
 */
int kl_httpreq_parse(const char *buf, size_t len, struct kl_httpreq *rq);

/*
 * Parses header lines from buf[off..len) up to and including the empty
 * line, into h (cap entries, count in *n). Limits as above: max_head
 * counts from buf[0], 0 for none. Returns the offset just past the empty
 * line, KL_AGAIN, KL_EINVAL or KL_ETOOBIG. Used for responses too.
 */
int kl_httpreq_headers(const char *buf, size_t len, size_t off, struct kl_http_hdr *h,
		size_t cap, size_t *n, size_t max_head);

/* The HTTP status a server answers for a parse error (400 by default). */
int kl_httpreq_status(int rc);

/* Request-target forms (RFC 9112 section 3.2). */
enum {
	KL_HTTPREQ_ORIGIN = 1,          /* "/path?query" */
	KL_HTTPREQ_ABSOLUTE,            /* "scheme://authority/path" */
	KL_HTTPREQ_AUTHORITY,           /* "host:port" (CONNECT) */
	KL_HTTPREQ_ASTERISK             /* "*" (OPTIONS) */
};

/* Classifies a target. Returns one of the forms above or KL_EINVAL. */
int kl_httpreq_form(const char *t, size_t n);

struct kl_httpreq_hostport {
	const char *host;               /* without the brackets of an IPv6 literal */
	size_t host_len;
	uint16_t port;
	uint8_t bracketed;              /* host was "[...]" */
};

/*
 * Parses an authority "host:port", "[v6]:port", or a bare host when
 * defport != 0 (then port = defport). Host: 1..255 bytes of letters,
 * digits, '-', '.', '_' or '~'; an IPv6 literal holds only hex digits,
 * ':' and '.'. No userinfo, no zone index. Port: 1..5 digits, 1..65535.
 * Returns KL_OK, KL_EINVAL (malformed) or KL_ERANGE (port 0 or > 65535,
 * host too long).
 */
int kl_httpreq_hostport(const char *s, size_t n, uint16_t defport, struct kl_httpreq_hostport *hp);

struct kl_httpreq_url {
	const char *scheme;             /* as written; compare case-insensitively */
	size_t scheme_len;
	struct kl_httpreq_hostport hp;  /* port defaults to 80 for http, 443 for https */
	const char *path;               /* what follows the authority: "/..." or "?..." */
	size_t path_len;                /* 0 when nothing does: the caller sends "/" */
};

/*
 * Splits an absolute-form target. Returns KL_OK, KL_EINVAL (not absolute
 * form, userinfo present, bad authority), KL_ERANGE (bad port), or
 * KL_EUNSUPP (a scheme other than http/https without an explicit port).
 */
int kl_httpreq_split_url(const char *t, size_t n, struct kl_httpreq_url *u);

/*
 * Index of the first header at or after from whose name equals name (a C
 * string) case-insensitively, or KL_ENOTFOUND.
 */
int kl_httpreq_find(const struct kl_http_hdr *h, size_t n, size_t from, const char *name);

/*
 * Content-Length, strictly: digits only, no sign, no overflow. Several
 * headers, or a list "42, 42", must all agree (RFC 9110 section 8.6).
 * Returns 1 with *len set, 0 when absent, KL_EINVAL (malformed or
 * disagreeing) or KL_ERANGE (above 2^63 - 1).
 */
int kl_httpreq_content_length(const struct kl_http_hdr *h, size_t n, uint64_t *len);

/*
 * Transfer-Encoding: returns 0 when absent, 1 when chunked is the final
 * coding (RFC 9112 section 6.1), KL_EUNSUPP when the final coding is not
 * chunked (a request SHALL be refused with 400; a response body then runs
 * to the close), KL_EINVAL when chunked appears more than once or the
 * list is empty. A message with both this and Content-Length SHALL be
 * treated as chunked and not be reused (caller's duty).
 */
int kl_httpreq_chunked(const struct kl_http_hdr *h, size_t n);

enum {
	KL_HTTPREQ_CONN_CLOSE = 1,
	KL_HTTPREQ_CONN_KEEPALIVE = 2,
	KL_HTTPREQ_CONN_UPGRADE = 4
};

/* The KL_HTTPREQ_CONN_* tokens found in all Connection headers. */
unsigned kl_httpreq_connection(const struct kl_http_hdr *h, size_t n);

/* Whether the connection persists after this message: HTTP/1.1 unless "close", 1.0 only with "keep-alive". */
int kl_httpreq_keepalive(int minor, unsigned conn);

/*
 * Whether the header called name (nlen bytes) is hop-by-hop for a proxy:
 * Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization,
 * Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, or any name
 * listed in a Connection header of h[0..n).
 */
int kl_httpreq_is_hop(const struct kl_http_hdr *h, size_t n, const char *name, size_t nlen);

/* Credentials from "Basic <base64(user:pass)>", NUL-terminated copies. */
struct kl_httpreq_cred {
	size_t ulen, plen;
	char user[256];
	char pass[256];
};

/*
 * Decodes a Proxy-Authorization (or Authorization) value. The scheme name
 * is case-insensitive; the password is everything after the first ':'.
 * Returns KL_OK, KL_EUNSUPP (not Basic), KL_EINVAL (bad base64, no ':',
 * control bytes) or KL_ETOOBIG (user or password over 255 bytes).
 */
int kl_httpreq_basic(const char *v, size_t n, struct kl_httpreq_cred *c);

/*
 * Compares a presented credential with a configured secret in time that
 * depends only on slen, not on where they differ. Returns 1 when equal.
 * SOCKS5 user/password checks use it too.
 */
int kl_httpreq_cred_eq(const void *given, size_t glen, const void *secret, size_t slen);

#endif
