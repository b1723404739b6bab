/* fetch.h - an image source for one job: a local file or an HTTP download on the loop. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_FETCH_H
#define KL_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/kl.h"
#include "base/metric.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "net/dns.h"
#include "net/stream.h"
#include "net/tls.h"
#include "proto/httpresp.h"

/*
 * A fetch delivers the body of one source, piece by piece, into a fixed
 * receive buffer the caller lends (the job's): nothing is buffered whole.
 * The consumer takes payload with kl_fetch_data() / kl_fetch_consume();
 * while the buffer is full the socket's read interest is off (TCP
 * backpressure), so a fast origin cannot outrun a slow decoder.
 *
 *   local:///path   opened beneath local_root (no "..", no symlinks),
 *                   read one chunk per kl_fetch_pull() (the caller's idle
 *                   slice), validator = size + mtime;
 *   http://host[:p]/   non-blocking connect, GET with Connection: close,
 *   https://host[:p]/  Content-Length, chunked or read-to-close bodies, at
 *                   most KL_FETCH_MAX_REDIRECTS redirects (between http
 *                   and https both ways), one deadline (download_timeout)
 *                   over name lookup, connect, TLS handshake, head and body.
 *
 * A host name is resolved by the loop's resolver (net/dns.h, never
 * getaddrinfo); every address it returns goes through the private-address
 * refusal unless allow_private, and the allowed ones are tried in the
 * resolver's order until one accepts the connection. https verifies the
 * source's certificate against conf->tls (chain and name; SNI = the URL's
 * host); its session comes from conf->tls_pool, whose count is the
 * admission limit.
 *
 * Failures carry the HTTP status the thumbs server answers and one line:
 *   404  not allowed, private address, no such file, source 4xx,
 *        too many redirects, "cannot resolve source host NAME"
 *   422  over max_src_size (announced or counted)
 *   502  connect failed, source 5xx, malformed answer, body broken off,
 *        TLS failure (the line is kl_tls_reason's: bad certificate...)
 *   503  no TLS session or TLS memory free, resolver saturated (the
 *        caller adds Retry-After)
 *   504  download_timeout passed
 *
 * The socket's bytes go through struct kl_fetch_io: plain TCP, or the TLS
 * stream over the same fd, so the HTTP logic does not know which.
 */

#define KL_FETCH_URL_MAX 2048
#define KL_FETCH_MAX_REDIRECTS 3
#define KL_FETCH_WHY_MAX 200

struct kl_fetch;

/* The byte path of a download: plain TCP or TLS. */
struct kl_fetch_io {
	ssize_t (*read)(struct kl_fetch *f, void *b, size_t n);         /* >0, 0 EOF, KL_AGAIN, <0 */
	ssize_t (*write)(struct kl_fetch *f, const void *b, size_t n);  /* >=0, KL_AGAIN, <0 */
	void (*close)(struct kl_fetch *f);
};

enum {
	KL_FETCH_EV_HEAD = 1,   /* validator, Last-Modified, name and size are known */
	KL_FETCH_EV_DATA,       /* payload arrived, or the body is complete */
	KL_FETCH_EV_ERROR       /* status and why are set; the fetch is closed */
};

/*
 * Event callback. It MAY call kl_fetch_reset(f) (e.g. a 304 once the
 * validator is known); it then returns non-zero so the fetch stops
 * touching itself.
 */
typedef int kl_fetch_fn(struct kl_fetch *f, int event, void *ud);

/* Source policy, shared by every fetch and read-only. */
struct kl_fetch_conf {
	const char *local_root;                 /* "" or NULL: local:// refused */
	const char *const *allowed;             /* URL prefixes; none = any */
	unsigned nallowed;
	int allow_private;                      /* allow_private_sources */
	uint64_t max_src_size;                  /* 0 = unlimited */
	uint32_t timeout_ms;                    /* download_timeout */
	struct kl_metric *bytes_in;             /* source bytes received; may be NULL */
	struct kl_dns *dns;                     /* NULL: host names refused */
	const struct kl_tls_conf *tls;          /* NULL: https refused (tls_why says why) */
	struct kl_pool *tls_pool;               /* "tls.sess" blocks */
	const char *tls_why;                    /* why https is off, for the 404 line */
};

struct kl_fetch {
	const struct kl_fetch_conf *conf;
	struct kl_ev *ev;
	kl_fetch_fn *fn;
	void *ud;
	const struct kl_fetch_io *io;
	int fd;
	int kind;                               /* local or http */
	int state;
	int tls;                                /* the current URL is https */
	struct kl_stream st;                    /* the TLS stream over fd while tls */
	struct kl_idle idle;                    /* reads bytes TLS decrypted ahead of poll */
	uint32_t dns_handle;                    /* lookup in flight, 0 none */
	uint32_t naddr, addr_i;                 /* allowed addresses, the one being tried */
	uint8_t addrs[KL_DNS_MAX_ADDRS][16];
	char host[KL_DNS_NAME];                 /* the URL's host (lookup, SNI, messages) */
	int status;                             /* HTTP status to answer on failure, else 0 */
	char why[KL_FETCH_WHY_MAX];
	uint8_t *buf;                           /* payload at [off, len), free space after */
	uint32_t cap, off, len;
	uint32_t req_len, req_off;              /* request bytes being written (from buf) */
	int chunked, has_clen, body_done;
	uint64_t clen, got;                     /* announced and received payload bytes */
	struct kl_httpresp_chunked ch;
	unsigned redirects;
	uint16_t port;
	struct kl_timer timer;
	uint64_t size;                          /* local: file size; http: clen or 0 */
	int64_t mtime;                          /* local only */
	char validator[96];                     /* ETag, Last-Modified or size+mtime */
	char last_modified[64];                 /* IMF-fixdate, "" when unknown */
	char name[96];                          /* last path segment, for Content-Disposition */
	char url[KL_FETCH_URL_MAX];
};

/*
 * Starts fetching url (len bytes, not NUL-terminated). buf[0..cap) is the
 * receive buffer (cap MUST be >= 4096); fn gets the events above, from the
 * loop, never from inside this call. Returns 0 when started; a local file
 * is open and its HEAD facts are set already (kl_fetch_head_ready() is 1,
 * no HEAD event follows). Returns the HTTP status (404, 422, 502) with
 * f->why set when refused at once.
 */
int kl_fetch_start(struct kl_fetch *f, struct kl_ev *ev, const struct kl_fetch_conf *conf,
		   const char *url, size_t len, uint8_t *buf, size_t cap, kl_fetch_fn *fn, void *ud);

/* 1 once validator, name and Last-Modified are known. */
int kl_fetch_head_ready(const struct kl_fetch *f);

/* Payload ready to consume (may be 0 bytes). */
void kl_fetch_data(const struct kl_fetch *f, const uint8_t **p, size_t *n);
/* The consumer took n bytes: room may reopen the socket's read interest. */
void kl_fetch_consume(struct kl_fetch *f, size_t n);
/*
 * Asks for more: a local source reads the next chunk now (returns 1 when
 * it got bytes or reached the end, or the failure's status); a download
 * returns 0 and raises KL_FETCH_EV_DATA later.
 */
int kl_fetch_pull(struct kl_fetch *f);
/* 1 when the whole body has arrived (payload may still wait in the buffer). */
int kl_fetch_complete(const struct kl_fetch *f);

/*
 * Closes the fd (and the TLS session), cancels the lookup, the timer and
 * the idle item. Idempotent; all-zero after it is fine too.
 */
void kl_fetch_reset(struct kl_fetch *f);

#endif
