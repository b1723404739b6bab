/* fetch.c - local and HTTP image sources feeding a fixed receive buffer. */
/* SPDX-License-Identifier: MIT */
#include "imgsrv/fetch.h"
#include "base/metric.h"
#include "net/file.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "proto/cidr.h"
#include "proto/httpreq.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { LOCAL = 1, HTTP };
enum { S_IDLE = 0, S_RESOLVE, S_CONNECT, S_SEND, S_HEAD, S_BODY, S_DONE, S_FAILED };

#define MAX_HDRS 64

static ssize_t plain_read(struct kl_fetch *f, void *b, size_t n) { return kl_tcp_read(f->fd, b, n); }
static ssize_t plain_write(struct kl_fetch *f, const void *b, size_t n) { return kl_tcp_write(f->fd, b, n); }
static void plain_close(struct kl_fetch *f) { kl_tcp_close(f->fd); }

static const struct kl_fetch_io plain_io = { plain_read, plain_write, plain_close };

/* https: the TLS stream over the same fd; the handshake runs inside the first write. */
static ssize_t tls_read(struct kl_fetch *f, void *b, size_t n) { return kl_stream_read(&f->st, b, n); }
static ssize_t tls_write(struct kl_fetch *f, const void *b, size_t n) { return kl_stream_write(&f->st, b, n); }
static void tls_close(struct kl_fetch *f) { kl_stream_close(&f->st, 0); }

static const struct kl_fetch_io tls_io = { tls_read, tls_write, tls_close };

/* The poll interest the connection needs for what the fetch wants (TLS may need the other). */
static unsigned io_want(const struct kl_fetch *f, unsigned want)
{
	return f->io == &tls_io ? kl_stream_want(&f->st, want) : want;
}

static int fail(struct kl_fetch *f, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct kl_fetch *f, int status, const char *fmt, ...)
{
	va_list ap;

	if (f->status == 0) {
		f->status = status;
		va_start(ap, fmt);
		vsnprintf(f->why, sizeof(f->why), fmt, ap);
		va_end(ap);
	}
	return status;
}

/* Stops every activity of the current connection: lookup, idle read, socket. */
static void close_fd(struct kl_fetch *f)
{
	if (f->dns_handle) {
		kl_dns_cancel(f->conf->dns, f->dns_handle);
		f->dns_handle = 0;
	}
	kl_idle_cancel(f->ev, &f->idle);
	if (f->fd >= 0) {
		if (kl_ev_watched(f->ev, f->fd))
			kl_ev_del(f->ev, f->fd);
		if (f->kind == LOCAL)
			kl_file_close(f->fd);
		else
			f->io->close(f);
		f->fd = -1;
		f->io = &plain_io;
	}
}

/* see fetch.h */
void kl_fetch_reset(struct kl_fetch *f)
{
	if (!f->ev)
		return;
	kl_timer_cancel(f->ev, &f->timer);
	close_fd(f);
	f->state = S_IDLE;
}

/* Fails an asynchronous step: close, tell the owner. */
static void fail_async(struct kl_fetch *f)
{
	kl_timer_cancel(f->ev, &f->timer);
	close_fd(f);
	f->state = S_FAILED;
	f->fn(f, KL_FETCH_EV_ERROR, f->ud);
}

static void set_name(struct kl_fetch *f, const char *path, size_t n)
{
	const char *q = memchr(path, '?', n), *seg = path;
	size_t k = 0;

	if (q)
		n = (size_t)(q - path);
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			seg = path + i + 1;
	n -= (size_t)(seg - path);
	/* Only a conservative alphabet goes into a header; the rest is dropped. */
	for (size_t i = 0; i < n && k + 1 < sizeof(f->name); i++) {
		char c = seg[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_')
			f->name[k++] = c;
	}
	f->name[k] = 0;
}

static int allowed(const struct kl_fetch *f, const char *url, size_t len)
{
	const struct kl_fetch_conf *c = f->conf;

	if (c->nallowed == 0)
		return 1;
	for (unsigned i = 0; i < c->nallowed; i++) {
		size_t n = strlen(c->allowed[i]);
		if (n <= len && memcmp(url, c->allowed[i], n) == 0)
			return 1;
	}
	return 0;
}

static int start_local(struct kl_fetch *f)
{
	const char *root = f->conf->local_root;
	const char *rel = f->url + 8;           /* after "local://" */
	char *q;
	int fd;

	if (!root || !root[0])
		return fail(f, 404, "local sources are disabled (no local_root)");
	if (rel[0] != '/')
		return fail(f, 404, "invalid local source: %.80s", f->url);
	q = strchr(f->url, '?');
	if (q)
		*q = 0;
	set_name(f, rel, strlen(rel));
	fd = kl_file_open_beneath(root, rel);
	if (fd < 0)
		return fail(f, 404, "source not found: %.100s", rel);
	f->fd = fd;
	if (kl_file_stat(fd, &f->size, &f->mtime) < 0) {
		close_fd(f);
		return fail(f, 404, "source is not a regular file: %.100s", rel);
	}
	if (f->conf->max_src_size && f->size > f->conf->max_src_size) {
		close_fd(f);
		return fail(f, 422, "source is larger than max_src_size (%llu > %llu bytes)",
			    (unsigned long long)f->size, (unsigned long long)f->conf->max_src_size);
	}
	{
		time_t t = (time_t)f->mtime;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(f->last_modified, sizeof(f->last_modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	snprintf(f->validator, sizeof(f->validator), "file:%llu:%lld", (unsigned long long)f->size,
		 (long long)f->mtime);
	f->state = S_BODY;
	return 0;
}

static void on_timeout(struct kl_ev *ev, struct kl_timer *t, void *ud)
{
	struct kl_fetch *f = ud;

	fail(f, 504, "download timed out after %u ms", f->conf->timeout_ms);
	fail_async(f);
}

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud);

/* Connects to the next allowed address. Returns 0 (connect under way) or a failure status. */
static int connect_next(struct kl_fetch *f)
{
	int fd = KL_EIO;

	while (f->addr_i < f->naddr) {
		fd = kl_tcp_connect(f->addrs[f->addr_i++], f->port);
		if (fd >= 0)
			break;
	}
	if (fd < 0)
		return fail(f, 502, "cannot connect to the source: %s", kl_tcp_strerror(fd));
	f->fd = fd;
	f->io = &plain_io;
	if (kl_ev_add(f->ev, fd, KL_EV_WR, on_io, f) < 0) {
		close_fd(f);
		return fail(f, 502, "out of file descriptors");
	}
	f->state = S_CONNECT;
	return 0;
}

static void cidr_of(struct kl_cidr_addr *ca, const uint8_t ip[16])
{
	kl_cidr_from_v6(ca, ip);
	if (kl_sock_is_v4(ip))
		kl_cidr_from_v4(ca, ip + 12);
}

/*
 * Keeps the addresses the private-address policy allows (every one of
 * them is checked: a name must not reach loopback through its second
 * address), then connects. Returns 0 or a failure status.
 */
static int resolved(struct kl_fetch *f, const struct kl_dns_addrs *a)
{
	int why = 0;

	f->naddr = f->addr_i = 0;
	for (uint32_t i = 0; i < a->n && i < KL_DNS_MAX_ADDRS; i++) {
		struct kl_cidr_addr ca;
		int w;

		cidr_of(&ca, a->ip[i]);
		w = f->conf->allow_private ? KL_CIDR_PUBLIC : kl_cidr_classify(&ca);
		if (w != KL_CIDR_PUBLIC) {
			why = w;
			continue;
		}
		memcpy(f->addrs[f->naddr++], a->ip[i], 16);
	}
	if (!f->naddr) {
		if (why)
			return fail(f, 404, "source address is not public (%s)", kl_cidr_why_name(why));
		return fail(f, 404, "cannot resolve source host %s", f->host);
	}
	return connect_next(f);
}

static void on_dns(void *ud, int rc, const struct kl_dns_addrs *a)
{
	struct kl_fetch *f = ud;

	f->dns_handle = 0;
	if (rc < 0)
		fail(f, 404, "cannot resolve source host %s%s", f->host,
		     rc == KL_ETIMEDOUT ? " (lookup timed out)" : "");
	else
		resolved(f, a);
	if (f->status)
		fail_async(f);
}

/*
 * Checks an http(s):// URL against the policy, queues the request in the
 * buffer and starts the lookup (a literal address needs none) or the
 * connect. Returns 0 or a failure status.
 */
static int start_http(struct kl_fetch *f)
{
	struct kl_httpreq_url u;
	struct kl_cidr_addr a;
	struct kl_dns_addrs da;
	size_t len = strlen(f->url);
	int n, rc;

	if (kl_httpreq_split_url(f->url, len, &u) < 0 || u.hp.host_len == 0 ||
	    !((u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0) ||
	      (u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) == 0)))
		return fail(f, 404, "invalid source URL: %.100s", f->url);
	f->tls = u.scheme_len == 5;
	if (f->tls && (!f->conf->tls || !f->conf->tls_pool))
		return fail(f, 404, "https sources are disabled: %s",
			    f->conf->tls_why ? f->conf->tls_why : "no TLS configuration");
	if (u.hp.host_len >= sizeof(f->host))
		return fail(f, 404, "source host name too long");
	memcpy(f->host, u.hp.host, u.hp.host_len);
	f->host[u.hp.host_len] = 0;
	f->port = u.hp.port;
	set_name(f, u.path ? u.path : "", u.path_len);

	/* The request waits in the receive buffer until the connection is up. */
	n = snprintf((char *)f->buf, f->cap,
		     "GET %.*s HTTP/1.1\r\nHost: %s%s%s",
		     u.path_len ? (int)u.path_len : 1, u.path_len ? u.path : "/",
		     u.hp.bracketed ? "[" : "", f->host, u.hp.bracketed ? "]" : "");
	if (n > 0 && (size_t)n < f->cap && u.hp.port != (f->tls ? 443 : 80))
		n += snprintf((char *)f->buf + n, f->cap - (size_t)n, ":%u", u.hp.port);
	if (n > 0 && (size_t)n < f->cap)
		n += snprintf((char *)f->buf + n, f->cap - (size_t)n,
			      "\r\nUser-Agent: kinglet/" KL_VERSION "\r\nAccept: image/jpeg, image/png, */*;q=0.5\r\n"
			      "Accept-Encoding: identity\r\nConnection: close\r\n\r\n");
	if (n <= 0 || (size_t)n >= f->cap)
		return fail(f, 404, "source URL too long");
	f->req_len = (uint32_t)n;
	f->req_off = 0;
	f->off = f->len = 0;
	f->state = S_RESOLVE;

	if (kl_cidr_parse_addr(u.hp.host, u.hp.host_len, &a) == 0) {
		da.n = 1;
		memcpy(da.ip[0], a.b, 16);
		return resolved(f, &da);
	}
	if (!f->conf->dns)
		return fail(f, 404, "cannot resolve source host %s: no resolver", f->host);
	rc = kl_dns_resolve(f->conf->dns, f->host, on_dns, f, &da, &f->dns_handle);
	if (rc == KL_AGAIN)
		return 0;
	if (rc == KL_ENOMEM)
		return fail(f, 503, "too many source host lookups in flight");
	if (rc < 0)
		return fail(f, 404, "cannot resolve source host %s", f->host);
	return resolved(f, &da);
}

/* see fetch.h */
int kl_fetch_start(struct kl_fetch *f, struct kl_ev *ev, const struct kl_fetch_conf *conf,
		   const char *url, size_t len, uint8_t *buf, size_t cap, kl_fetch_fn *fn, void *ud)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->conf = conf;
	f->ev = ev;
	f->fn = fn;
	f->ud = ud;
	f->fd = -1;
	f->buf = buf;
	f->cap = (uint32_t)cap;
	f->io = &plain_io;
	if (!allowed(f, url, len))
		return fail(f, 404, "source is not in allowed_sources: %.100s", url);
	if (len >= sizeof(f->url))
		return fail(f, 404, "source URL too long (%zu bytes)", len);
	if (memchr(url, 0, len))
		return fail(f, 404, "invalid source URL");
	memcpy(f->url, url, len);
	f->url[len] = 0;
	if (len >= 8 && strncasecmp(url, "local://", 8) == 0) {
		f->kind = LOCAL;
		return start_local(f);
	}
	if ((len >= 7 && strncasecmp(url, "http://", 7) == 0) || (len >= 8 && strncasecmp(url, "https://", 8) == 0)) {
		f->kind = HTTP;
		rc = start_http(f);
		if (rc)
			return rc;
		if (conf->timeout_ms && kl_timer_arm(ev, &f->timer, conf->timeout_ms, on_timeout, f) < 0) {
			close_fd(f);
			return fail(f, 502, "out of timers");
		}
		return 0;
	}
	return fail(f, 404, "unsupported source scheme: %.60s", url);
}

/* see fetch.h */
int kl_fetch_head_ready(const struct kl_fetch *f)
{
	return f->state >= S_BODY && f->state != S_FAILED;
}

/* see fetch.h */
void kl_fetch_data(const struct kl_fetch *f, const uint8_t **p, size_t *n)
{
	*p = f->buf + f->off;
	*n = f->state >= S_BODY ? f->len - f->off : 0;
}

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud);

/*
 * TLS decrypts a whole record at a time: what did not fit the buffer
 * waits inside the session, and poll cannot report it (the socket may be
 * empty), so an idle slice reads it as soon as there is room.
 */
static int drain(struct kl_ev *ev, struct kl_idle *w, void *ud)
{
	struct kl_fetch *f = ud;

	if (f->fd >= 0 && f->state == S_BODY)
		on_io(ev, f->fd, KL_EV_RD, f);
	return 0;
}

static void want_read(struct kl_fetch *f)
{
	int room;

	if (f->kind != HTTP || f->fd < 0 || f->state != S_BODY || f->body_done)
		return;
	room = f->len - f->off < f->cap;
	kl_ev_want(f->ev, f->fd, room ? io_want(f, KL_EV_RD) : 0);
	if (room && f->io == &tls_io && kl_stream_pending(&f->st))
		kl_idle_push(f->ev, &f->idle, drain, f);
}

/* see fetch.h */
void kl_fetch_consume(struct kl_fetch *f, size_t n)
{
	KL_ASSERT(n <= f->len - f->off);
	f->off += (uint32_t)n;
	if (f->off == f->len)
		f->off = f->len = 0;
	want_read(f);
}

/* see fetch.h */
int kl_fetch_complete(const struct kl_fetch *f)
{
	return f->body_done;
}

/* Accounts n new payload bytes; enforces max_src_size. Returns 0 or a status. */
static int count_payload(struct kl_fetch *f, size_t n)
{
	f->got += n;
	if (f->conf->bytes_in)
		kl_metric_add(f->conf->bytes_in, n);
	if (f->conf->max_src_size && f->got > f->conf->max_src_size)
		return fail(f, 422, "source is larger than max_src_size (%llu bytes)",
			    (unsigned long long)f->conf->max_src_size);
	return 0;
}

/* see fetch.h */
int kl_fetch_pull(struct kl_fetch *f)
{
	ssize_t n;

	if (f->status)
		return f->status;
	if (f->kind != LOCAL || f->body_done)
		return f->kind == LOCAL;
	if (f->off)
		kl_fetch_consume(f, 0);
	if (f->len == f->cap)
		return 1;
	n = kl_file_read(f->fd, f->buf + f->len, f->cap - f->len);
	if (n < 0)
		return fail(f, 404, "cannot read the source: %s", kl_tcp_strerror((int)n));
	if (n == 0) {
		f->body_done = 1;
		close_fd(f);
		return 1;
	}
	f->len += (uint32_t)n;
	if (count_payload(f, (size_t)n))
		return f->status;
	return 1;
}

/*
 * Takes raw body bytes buf[from..len) just received: strips the chunked
 * framing in place (payload never overtakes the raw bytes, so memmove is
 * safe), clips a Content-Length body, and marks the body done. Returns 0
 * or a failure status.
 */
static int take_body(struct kl_fetch *f, uint32_t from)
{
	uint32_t w = from, r = from;

	if (f->chunked) {
		while (r < f->len && !kl_httpresp_chunked_done(&f->ch)) {
			const char *d;
			size_t dn;
			int k = kl_httpresp_chunked_feed(&f->ch, (const char *)f->buf + r, f->len - r, &d, &dn);
			if (k < 0)
				return fail(f, 502, "malformed chunked body from the source");
			if (dn) {
				memmove(f->buf + w, d, dn);
				w += (uint32_t)dn;
			}
			r += (uint32_t)k;
			if (k == 0)
				break;
		}
		f->len = w;
		if (kl_httpresp_chunked_done(&f->ch))
			f->body_done = 1;
	} else if (f->has_clen) {
		uint64_t left = f->clen - f->got;
		if ((uint64_t)(f->len - from) >= left) {
			/* Bytes beyond the announced length are not the image's: dropped. */
			f->len = from + (uint32_t)left;
			f->body_done = 1;
		}
	}
	return count_payload(f, f->len - from);
}

static const char *hdr_value(const struct kl_httpresp *rs, const char *name, size_t *n)
{
	int i = kl_httpreq_find(rs->hdr, rs->nhdr, 0, name);

	if (i < 0)
		return NULL;
	*n = rs->hdr[i].value_len;
	return rs->hdr[i].value;
}

/* Builds the next URL from a Location value; relative paths resolve against the current one. */
static int redirect(struct kl_fetch *f, const char *loc, size_t n)
{
	char next[KL_FETCH_URL_MAX];
	size_t len;

	if (f->redirects >= KL_FETCH_MAX_REDIRECTS)
		return fail(f, 404, "too many redirects (more than %d)", KL_FETCH_MAX_REDIRECTS);
	f->redirects++;
	if ((n >= 7 && strncasecmp(loc, "http://", 7) == 0) || (n >= 8 && strncasecmp(loc, "https://", 8) == 0)) {
		if (n >= sizeof(next))
			return fail(f, 404, "redirect URL too long");
		memcpy(next, loc, n);
		len = n;
	} else if (n >= 2 && loc[0] == '/' && loc[1] == '/') {
		len = (size_t)snprintf(next, sizeof(next), "%s:%.*s", f->tls ? "https" : "http", (int)n, loc);
	} else if (n >= 1 && loc[0] == '/') {
		/* scheme://authority of the current URL, then the new path */
		const char *p = strstr(f->url, "://");
		const char *slash = p ? strchr(p + 3, '/') : NULL;
		size_t base = slash ? (size_t)(slash - f->url) : strlen(f->url);
		len = (size_t)snprintf(next, sizeof(next), "%.*s%.*s", (int)base, f->url, (int)n, loc);
	} else {
		return fail(f, 404, "unsupported redirect target: %.*s", (int)KL_MIN(n, 80), loc);
	}
	if (len >= sizeof(next))
		return fail(f, 404, "redirect URL too long");
	next[len] = 0;
	if (!allowed(f, next, len))
		return fail(f, 404, "redirect to a source not in allowed_sources: %.80s", next);
	close_fd(f);
	memcpy(f->url, next, len + 1);
	f->chunked = f->has_clen = 0;
	f->naddr = f->addr_i = 0;
	f->state = S_IDLE;
	return start_http(f);
}

/* A complete head is in buf[0..hl). Returns 0 (body follows), 1 (redirected) or a status. */
static int on_head(struct kl_fetch *f, const struct kl_httpresp *rs, size_t hl)
{
	const char *v;
	size_t n;
	int rc;

	if (rs->status >= 300 && rs->status < 400 && rs->status != 304 && (v = hdr_value(rs, "Location", &n))) {
		rc = redirect(f, v, n);
		return rc ? rc : 1;
	}
	if (rs->status >= 500)
		return fail(f, 502, "source answered %d", rs->status);
	if (rs->status >= 400)
		return fail(f, 404, "source answered %d", rs->status);
	if (rs->status != 200 && rs->status != 203)
		return fail(f, 502, "unexpected source status %d", rs->status);
	rc = kl_httpreq_chunked(rs->hdr, rs->nhdr);
	if (rc == KL_EINVAL)
		return fail(f, 502, "malformed Transfer-Encoding from the source");
	f->chunked = rc == 1;
	if (!f->chunked) {
		rc = kl_httpreq_content_length(rs->hdr, rs->nhdr, &f->clen);
		if (rc < 0)
			return fail(f, 502, "malformed Content-Length from the source");
		f->has_clen = rc == 1;
		if (f->has_clen && f->conf->max_src_size && f->clen > f->conf->max_src_size)
			return fail(f, 422, "source is larger than max_src_size (%llu > %llu bytes)",
				    (unsigned long long)f->clen, (unsigned long long)f->conf->max_src_size);
		f->size = f->has_clen ? f->clen : 0;
	}
	kl_httpresp_chunked_init(&f->ch);
	if ((v = hdr_value(rs, "Last-Modified", &n)) && n < sizeof(f->last_modified)) {
		memcpy(f->last_modified, v, n);
		f->last_modified[n] = 0;
	}
	if ((v = hdr_value(rs, "ETag", &n)) && n + 5 < sizeof(f->validator))
		snprintf(f->validator, sizeof(f->validator), "etag:%.*s", (int)n, v);
	else if (f->last_modified[0])
		snprintf(f->validator, sizeof(f->validator), "lm:%s", f->last_modified);
	else if (f->has_clen)
		snprintf(f->validator, sizeof(f->validator), "len:%llu", (unsigned long long)f->clen);
	/* The rest of the buffer is the start of the body. */
	memmove(f->buf, f->buf + hl, f->len - hl);
	f->len -= (uint32_t)hl;
	f->off = 0;
	f->state = S_BODY;
	if (!f->chunked && f->has_clen && f->clen == 0)
		f->body_done = 1;
	return 0;
}

/* A read or write on the connection failed: the status and line say how. */
static void io_failed(struct kl_fetch *f, ssize_t n, const char *what)
{
	if (f->io == &tls_io) {
		const char *r = kl_tls_reason(&f->st);
		if (f->st.err == ENOMEM)
			fail(f, 503, "out of TLS memory (libc.heap): try again later");
		else
			fail(f, 502, "TLS with the source failed: %s", r[0] ? r : what);
	} else {
		fail(f, 502, "%s: %s", what, kl_tcp_strerror((int)n));
	}
	fail_async(f);
}

/* The TCP connection is up: https puts a TLS session over it. Returns 0 or a status. */
static int connected(struct kl_fetch *f)
{
	int rc;

	f->state = S_SEND;
	if (!f->tls)
		return 0;
	rc = kl_tls_start(&f->st, f->fd, f->conf->tls, f->conf->tls_pool, f->host);
	if (rc == KL_ENOMEM)
		return fail(f, 503, "no TLS session free for the source (tls_sessions or TLS memory in use): try again later");
	if (rc < 0)
		return fail(f, 502, "cannot start TLS with the source");
	f->io = &tls_io;
	return 0;
}

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct kl_fetch *f = ud;
	ssize_t n;
	int rc;

	switch (f->state) {
	case S_CONNECT:
		rc = kl_tcp_connect_result(fd);
		if (rc < 0) {
			/* The next address of the name, if any, before giving up. */
			close_fd(f);
			if (f->addr_i < f->naddr && connect_next(f) == 0)
				return;
			fail(f, 502, "cannot connect to the source: %s", kl_tcp_strerror(rc));
			fail_async(f);
			return;
		}
		if (connected(f)) {
			fail_async(f);
			return;
		}
		/* fall through */
	case S_SEND:
		while (f->req_off < f->req_len) {
			n = f->io->write(f, f->buf + f->req_off, f->req_len - f->req_off);
			if (n == KL_AGAIN) {
				kl_ev_want(ev, fd, io_want(f, KL_EV_WR));
				return;
			}
			if (n < 0) {
				io_failed(f, n, "cannot send the request to the source");
				return;
			}
			f->req_off += (uint32_t)n;
		}
		f->len = 0;
		f->state = S_HEAD;
		kl_ev_want(ev, fd, io_want(f, KL_EV_RD));
		/* TLS may hold the answer already: read until the socket runs dry. */
		/* fall through */
	case S_HEAD: {
		struct kl_http_hdr hdr[MAX_HDRS];
		struct kl_httpresp rs = { .hdr = hdr, .hdr_cap = MAX_HDRS, .max_head = f->cap };

		for (;;) {
			n = f->io->read(f, f->buf + f->len, f->cap - f->len);
			if (n == KL_AGAIN) {
				kl_ev_want(ev, fd, io_want(f, KL_EV_RD));
				return;
			}
			if (n == 0) {
				fail(f, 502, "source closed the connection before answering");
				fail_async(f);
				return;
			}
			if (n < 0) {
				io_failed(f, n, "source connection failed");
				return;
			}
			f->len += (uint32_t)n;
			rc = kl_httpresp_parse((const char *)f->buf, f->len, &rs);
			if (rc != KL_AGAIN)
				break;
		}
		if (rc < 0) {
			fail(f, 502, "malformed answer from the source");
			fail_async(f);
			return;
		}
		rc = on_head(f, &rs, (size_t)rc);
		if (rc == 1)
			return;         /* redirected: a new lookup or connect is under way */
		if (rc == 0 && (rc = take_body(f, 0)) == 0) {
			if (f->body_done) {
				kl_timer_cancel(ev, &f->timer);
				close_fd(f);
				f->state = S_DONE;
			} else
				want_read(f);
			if (f->fn(f, KL_FETCH_EV_HEAD, f->ud))
				return;
			if (f->len || f->body_done)
				f->fn(f, KL_FETCH_EV_DATA, f->ud);
			return;
		}
		fail_async(f);
		return;
	}
	case S_BODY: {
		uint32_t from;

		if (f->off) {
			memmove(f->buf, f->buf + f->off, f->len - f->off);
			f->len -= f->off;
			f->off = 0;
		}
		if (f->len == f->cap) {
			kl_ev_want(ev, fd, 0);
			return;
		}
		from = f->len;
		n = f->io->read(f, f->buf + f->len, f->cap - f->len);
		if (n == KL_AGAIN) {
			want_read(f);
			return;
		}
		if (n < 0) {
			io_failed(f, n, "source connection failed");
			return;
		}
		if (n == 0) {
			if (f->chunked || (f->has_clen && f->got < f->clen)) {
				fail(f, 502, "source closed the connection early (%llu bytes received)",
				     (unsigned long long)f->got);
				fail_async(f);
				return;
			}
			f->body_done = 1;
		} else {
			f->len += (uint32_t)n;
			if (take_body(f, from)) {
				fail_async(f);
				return;
			}
		}
		if (f->body_done) {
			kl_timer_cancel(ev, &f->timer);
			close_fd(f);
			f->state = S_DONE;
		} else {
			want_read(f);
		}
		f->fn(f, KL_FETCH_EV_DATA, f->ud);
		return;
	}
	default:
		kl_ev_want(ev, fd, 0);
		return;
	}
}
