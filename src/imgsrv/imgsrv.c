/* imgsrv.c - the [thumbs] HTTP/1.1 front end: requests, job scheduling, responses. */
/* SPDX-License-Identifier: MIT */
#include "imgsrv/imgsrv.h"
#include "base/arena.h"
#include "base/log.h"
#include "img/thumb.h"
#include "net/tcp.h"
#include "proto/httpreq.h"
#include "proto/httpstatus.h"

#include <mbedtls/sha256.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { C_READ = 0, C_QUEUED, C_WORK, C_WRITE };

struct conn {
	struct kl_imgsrv *s;
	struct conn *next, *prev;               /* every open connection */
	struct conn *qnext;                     /* FIFO of requests waiting for a job */
	struct job *job;
	int fd, state;
	uint32_t in_len, head_len;              /* bytes in in[]; length of the current head */
	uint32_t target_off, target_len;        /* request target inside in[] */
	uint32_t inm_off, inm_len;              /* If-None-Match inside in[] */
	uint32_t max_header;
	int keepalive, is_head, status, pipelined;
	uint32_t out_len, out_off;              /* response head (and short body) in out[] */
	const uint8_t *body;                    /* image bytes inside the job block */
	size_t body_len, body_off;
	uint64_t t0, bytes_out;
	struct kl_timer timer;
	struct kl_imgurl u;
	char etag[40];
	char peer[64];
	char why[200];
	char out[1024];
	uint8_t *in;                            /* max_header bytes after the struct */
	char *scratch;                          /* max_header bytes after in[] */
};

_Static_assert(sizeof(struct conn) <= KL_IMGSRV_CONN_BYTES, "KL_IMGSRV_CONN_BYTES undercounts struct conn");

struct job {
	struct kl_imgsrv *s;
	struct conn *c;
	struct kl_idle idle;
	struct kl_fetch f;
	struct kl_thumb t;
	struct kl_arena arena;
	int thumb_started, ended;
	uint64_t t0;
	uint8_t *rbuf, *out, *mem;
	size_t mem_len;
};

#define JOB_HDR KL_ALIGN_UP(sizeof(struct job), 64)

static const int status_codes[KL_IMGSRV_NSTATUS] = {
	200, 304, 400, 403, 404, 405, 408, 413, 414, 422, 429, 431, 499, 500, 502, 503, 504, 505
};

/* see imgsrv.h */
size_t kl_imgsrv_conn_size(uint32_t max_header_kb)
{
	return KL_IMGSRV_CONN_BYTES + 2 * (size_t)max_header_kb * 1024;
}

static void on_conn_io(struct kl_ev *ev, int fd, unsigned what, void *ud);
static void on_timer(struct kl_ev *ev, struct kl_timer *t, void *ud);
static void try_parse(struct conn *c);
static void job_start(struct conn *c);
static void job_release(struct job *j);

/* ---- connections ---- */

static void count_status(struct kl_imgsrv *s, int status)
{
	for (int i = 0; i < KL_IMGSRV_NSTATUS; i++)
		if (status_codes[i] == status) {
			kl_metric_inc(&s->req[i]);
			return;
		}
	kl_metric_inc(&s->req[KL_IMGSRV_NSTATUS]);
}

static void access_log(struct conn *c)
{
	struct kl_imgsrv *s = c->s;
	const char *t = (const char *)c->in + c->target_off;
	int tl = (int)KL_MIN(c->target_len, 160u);

	kl_log(KL_LOG_INFO, "thumbs %s %s %.*s%s %d %llu B %llu ms%s%s", c->peer, c->is_head ? "HEAD" : "GET",
	       tl, t, c->target_len > 160 ? "..." : "", c->status, (unsigned long long)c->bytes_out,
	       (unsigned long long)(kl_ev_now(s->ev) - c->t0), c->why[0] ? ": " : "", c->why);
}

static void dequeue(struct kl_imgsrv *s, struct conn *c)
{
	struct conn **pp, *prev = NULL;

	for (pp = &s->qhead; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp == c) {
			*pp = c->qnext;
			if (s->qtail == c)
				s->qtail = prev;
			s->qlen--;
			c->qnext = NULL;
			return;
		}
	}
}

static void conn_close(struct conn *c)
{
	struct kl_imgsrv *s = c->s;

	kl_timer_cancel(s->ev, &c->timer);
	if (c->state != C_READ) {
		/* The client went away while its request was queued or worked on. */
		if (c->status == 0 || c->state != C_WRITE) {
			c->status = 499;
			snprintf(c->why, sizeof(c->why), "client closed the connection");
		}
		count_status(s, c->status);
		access_log(c);
		s->busy--;
	}
	if (c->state == C_QUEUED)
		dequeue(s, c);
	if (c->job)
		job_release(c->job);
	kl_ev_del(s->ev, c->fd);
	kl_tcp_close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	kl_pool_put(s->conns, c);
	s->active--;
	if (!s->stopping)
		kl_listener_resume(&s->lst);
}

static int on_accept(struct kl_listener *l, int fd, const struct kp_addr *peer, void *ud)
{
	struct kl_imgsrv *s = ud;
	struct conn *c = kl_pool_get(s->conns);

	if (!c) {
		kl_metric_inc(&s->refused);
		kl_listener_pause(l);
		return KL_ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->fd = fd;
	c->max_header = s->conf->max_header;
	c->in = (uint8_t *)c + KL_IMGSRV_CONN_BYTES;
	c->scratch = (char *)c->in + c->max_header;
	kl_tcp_format(peer, c->peer, sizeof(c->peer));
	if (kl_ev_add(s->ev, fd, KL_EV_RD, on_conn_io, c) < 0 ||
	    kl_timer_arm(s->ev, &c->timer, s->conf->header_timeout_ms, on_timer, c) < 0) {
		kl_ev_del(s->ev, fd);
		kl_pool_put(s->conns, c);
		return KL_ENOMEM;
	}
	c->next = s->all;
	if (s->all)
		s->all->prev = c;
	s->all = c;
	s->active++;
	/* Stop taking connections we could not hold: they wait in the backlog instead. */
	if (s->conns->used == s->conns->count)
		kl_listener_pause(l);
	return 0;
}

/* ---- responses ---- */

static void flush(struct conn *c);

/*
 * Starts answering: head (and a short text body) in out[], the image (if
 * any) from the job block. Statuses other than 2xx/304 on a request we
 * could not frame close the connection.
 */
static void respond(struct conn *c, int status, const char *extra, const char *text)
{
	struct kl_imgsrv *s = c->s;
	size_t tl = text ? strlen(text) : 0;
	size_t blen = text ? tl + 1 : c->body_len;
	int n;

	c->status = status;
	if (c->job && text)
		job_release(c->job);
	if (s->stopping)
		c->keepalive = 0;
	n = snprintf(c->out, sizeof(c->out), "HTTP/1.1 %d %s\r\nServer: kinglet\r\n%s",
		     status, kl_httpstatus_reason(status), extra ? extra : "");
	if (status != 304)
		n += snprintf(c->out + n, sizeof(c->out) - (size_t)n, "%sContent-Length: %zu\r\n",
			      text ? "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n" : "", blen);
	n += snprintf(c->out + n, sizeof(c->out) - (size_t)n, "Connection: %s\r\n\r\n",
		      c->keepalive ? "keep-alive" : "close");
	if (text && !c->is_head && (size_t)n + tl + 1 < sizeof(c->out)) {
		memcpy(c->out + n, text, tl);
		c->out[n + (int)tl] = '\n';
		n += (int)tl + 1;
	}
	if ((size_t)n >= sizeof(c->out))
		n = (int)sizeof(c->out) - 1;
	c->out_len = (uint32_t)n;
	c->out_off = 0;
	if (text) {
		c->body = NULL;
		c->body_len = 0;
		if (status >= 400 && !c->why[0])
			snprintf(c->why, sizeof(c->why), "%s", text);
	}
	if (c->is_head) {
		c->body = NULL;
		c->body_len = 0;
	}
	c->body_off = 0;
	c->state = C_WRITE;
	kl_timer_arm(s->ev, &c->timer, s->conf->idle_timeout_ms, on_timer, c);
	kl_ev_want(s->ev, c->fd, KL_EV_WR);
	flush(c);
}

static void respond_text(struct conn *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void respond_text(struct conn *c, int status, const char *fmt, ...)
{
	char line[200];
	const char *extra = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (status == 429 || status == 503)
		extra = "Retry-After: 1\r\n";
	else if (status == 405)
		extra = "Allow: GET, HEAD\r\n";
	respond(c, status, extra, line);
}

static void finish(struct conn *c)
{
	struct kl_imgsrv *s = c->s;
	uint32_t rest;

	count_status(s, c->status);
	kl_metric_add(&s->bytes_out, c->bytes_out);
	access_log(c);
	if (c->job)
		job_release(c->job);
	s->busy--;
	c->state = C_READ;
	if (!c->keepalive || s->stopping) {
		c->state = C_READ;
		conn_close(c);
		return;
	}
	/* Keep-alive: what followed the head (a pipelined request) moves to the front. */
	rest = c->in_len - c->head_len;
	memmove(c->in, c->in + c->head_len, rest);
	c->in_len = rest;
	c->head_len = 0;
	c->status = 0;
	c->why[0] = 0;
	c->body = NULL;
	c->body_len = c->body_off = 0;
	c->bytes_out = 0;
	kl_ev_want(s->ev, c->fd, KL_EV_RD);
	if (rest) {
		/* Parsed from the loop, not from here, so pipelining never recurses. */
		c->pipelined = 1;
		kl_timer_arm(s->ev, &c->timer, 0, on_timer, c);
	} else {
		kl_timer_arm(s->ev, &c->timer, s->conf->idle_timeout_ms, on_timer, c);
	}
}

/*
 * Writes p[*off..len) as far as the socket takes it. Returns 1 when all
 * is sent, 0 when the socket is full, -1 on an error.
 */
static int send_part(struct conn *c, const uint8_t *p, size_t len, size_t *off, int *progress)
{
	while (*off < len) {
		ssize_t n = kl_tcp_write(c->fd, p + *off, len - *off);
		if (n == KL_AGAIN)
			return 0;
		if (n < 0)
			return -1;
		*off += (size_t)n;
		c->bytes_out += (uint64_t)n;
		*progress = 1;
	}
	return 1;
}

static void flush(struct conn *c)
{
	struct kl_imgsrv *s = c->s;
	size_t head_off = c->out_off;
	int progress = 0, rc;

	/* the response head (and a short body) in out[], then the image body */
	rc = send_part(c, (const uint8_t *)c->out, c->out_len, &head_off, &progress);
	c->out_off = (uint32_t)head_off;
	if (rc == 1 && c->body)
		rc = send_part(c, c->body, c->body_len, &c->body_off, &progress);
	if (rc < 0)
		c->keepalive = 0;
	if (rc != 0) {
		finish(c);
		return;
	}
	if (progress)
		kl_timer_arm(s->ev, &c->timer, s->conf->idle_timeout_ms, on_timer, c);
}

/* ---- requests ---- */

static int method_is(const struct kl_httpreq *rq, const char *m)
{
	size_t n = strlen(m);
	return rq->method_len == n && memcmp(rq->method, m, n) == 0;
}

static void handle_request(struct conn *c, const struct kl_httpreq *rq, size_t head_len)
{
	struct kl_imgsrv *s = c->s;
	const char *path = rq->target;
	size_t plen = rq->target_len;
	const char *q = memchr(path, '?', plen);
	uint64_t clen = 0;
	int i, rc;

	kl_timer_cancel(s->ev, &c->timer);
	c->t0 = kl_ev_now(s->ev);
	c->head_len = (uint32_t)head_len;
	c->target_off = (uint32_t)(rq->target - (const char *)c->in);
	c->target_len = (uint32_t)rq->target_len;
	c->is_head = method_is(rq, "HEAD");
	c->keepalive = kl_httpreq_keepalive(rq->minor, kl_httpreq_connection(rq->hdr, rq->nhdr));
	c->state = C_QUEUED;    /* busy from here on; respond() moves it to C_WRITE */
	s->busy++;
	if (q)
		plen = (size_t)(q - path);
	i = kl_httpreq_find(rq->hdr, rq->nhdr, 0, "If-None-Match");
	if (i >= 0) {
		c->inm_off = (uint32_t)(rq->hdr[i].value - (const char *)c->in);
		c->inm_len = (uint32_t)rq->hdr[i].value_len;
	} else {
		c->inm_len = 0;
	}

	if (kl_httpreq_chunked(rq->hdr, rq->nhdr) != 0 ||
	    (rc = kl_httpreq_content_length(rq->hdr, rq->nhdr, &clen)) < 0 || clen > 0) {
		/* We never read request bodies, so the stream could not be framed: close. */
		c->keepalive = 0;
		respond_text(c, 400, "request bodies are not accepted");
		return;
	}
	if (!c->is_head && !method_is(rq, "GET")) {
		respond_text(c, 405, "only GET and HEAD");
		return;
	}
	if (kl_httpreq_form(rq->target, rq->target_len) != KL_HTTPREQ_ORIGIN) {
		respond_text(c, 400, "request target must be a path");
		return;
	}
	if (plen == 7 && memcmp(path, "/health", 7) == 0) {
		respond_text(c, 200, "ok");
		return;
	}
	rc = kl_imgurl_parse(&s->ucf, rq->target, rq->target_len, c->scratch, c->max_header, &c->u);
	if (rc < 0) {
		respond_text(c, kl_imgurl_status(rc), "%s", c->u.why[0] ? c->u.why : "invalid URL");
		return;
	}
	if (kl_imgurl_expired(&c->u.opts, (int64_t)time(NULL))) {
		respond_text(c, 404, "expired URL");
		return;
	}
	if (!kl_imgurl_format_supported(c->u.opts.out_format)) {
		respond_text(c, 422, "unsupported output format: %s", kl_imgurl_format_name(c->u.opts.out_format));
		return;
	}
	if (s->jobs_active < s->conf->jobs && !s->qhead) {
		job_start(c);
		return;
	}
	if (s->qlen < s->conf->queue) {
		c->qnext = NULL;
		if (s->qtail)
			s->qtail->qnext = c;
		else
			s->qhead = c;
		s->qtail = c;
		s->qlen++;
		return;
	}
	respond_text(c, 429, "too many requests: %u jobs and %u queued", s->conf->jobs, s->conf->queue);
}

static void try_parse(struct conn *c)
{
	struct kl_imgsrv *s = c->s;
	struct kl_http_hdr hdr[48];
	struct kl_httpreq rq = { .hdr = hdr, .hdr_cap = KL_ARRAY_LEN(hdr), .max_line = c->max_header,
				 .max_head = c->max_header };
	int rc = kl_httpreq_parse((const char *)c->in, c->in_len, &rq);

	if (rc == KL_AGAIN) {
		if (c->pipelined) {
			c->pipelined = 0;
			kl_timer_arm(s->ev, &c->timer, s->conf->header_timeout_ms, on_timer, c);
		}
		return;
	}
	c->pipelined = 0;
	if (rc < 0) {
		kl_timer_cancel(s->ev, &c->timer);
		c->t0 = kl_ev_now(s->ev);
		c->head_len = c->in_len;
		c->target_off = c->target_len = 0;
		c->keepalive = 0;
		c->state = C_QUEUED;
		s->busy++;
		respond_text(c, kl_httpreq_status(rc), "%s", kl_httpreq_status(rc) == 414 ? "request line too long" :
			     kl_httpreq_status(rc) == 431 ? "request header fields too large" :
			     kl_httpreq_status(rc) == 505 ? "HTTP version not supported" : "bad request");
		return;
	}
	handle_request(c, &rq, (size_t)rc);
}

static void on_timer(struct kl_ev *ev, struct kl_timer *t, void *ud)
{
	struct conn *c = ud;

	if (c->pipelined && c->state == C_READ) {
		try_parse(c);
		return;
	}
	/* Header, idle or write timeout: nothing useful can be said, close. */
	if (c->state == C_WRITE)
		c->keepalive = 0;
	conn_close(c);
}

static void on_conn_io(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct conn *c = ud;
	ssize_t n;

	if (c->state == C_WRITE) {
		flush(c);
		return;
	}
	if (c->in_len >= c->max_header) {
		/* Pipelined bytes fill the buffer while a request is worked on: stop reading. */
		if (what & KL_EV_ERR)
			conn_close(c);
		else
			kl_ev_want(ev, fd, 0);
		return;
	}
	n = kl_tcp_read(fd, c->in + c->in_len, c->max_header - c->in_len);
	if (n == KL_AGAIN)
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->state == C_READ && c->in_len == 0)
		kl_timer_arm(c->s->ev, &c->timer, c->s->conf->header_timeout_ms, on_timer, c);
	c->in_len += (uint32_t)n;
	if (c->state == C_READ)
		try_parse(c);
}

/* ---- jobs ---- */

static enum kl_gravity_type grav_type(enum kl_imgurl_grav g)
{
	switch (g) {
	case KL_IMGURL_GRAV_NO: return KL_GRAVITY_NO;
	case KL_IMGURL_GRAV_SO: return KL_GRAVITY_SO;
	case KL_IMGURL_GRAV_EA: return KL_GRAVITY_EA;
	case KL_IMGURL_GRAV_WE: return KL_GRAVITY_WE;
	case KL_IMGURL_GRAV_NOEA: return KL_GRAVITY_NOEA;
	case KL_IMGURL_GRAV_NOWE: return KL_GRAVITY_NOWE;
	case KL_IMGURL_GRAV_SOEA: return KL_GRAVITY_SOEA;
	case KL_IMGURL_GRAV_SOWE: return KL_GRAVITY_SOWE;
	case KL_IMGURL_GRAV_FP: return KL_GRAVITY_FP;
	default: return KL_GRAVITY_CE;  /* ce, and sm: no saliency detection here */
	}
}

static void map_gravity(const struct kl_imgurl_gravity *in, struct kl_gravity *out)
{
	out->type = grav_type(in->type);
	out->x = in->x;
	out->y = in->y;
}

/* imgproxy's options (struct kl_imgopts) as the pipeline's (struct kl_thumb_opts). */
static void map_opts(const struct kl_imgopts *u, uint32_t def_quality, struct kl_thumb_opts *o)
{
	kl_thumb_opts_default(o);
	o->resizing = (enum kl_resizing)u->rtype;
	o->width = (uint32_t)KL_MAX(u->width, 0);
	o->height = (uint32_t)KL_MAX(u->height, 0);
	o->min_width = (uint32_t)KL_MAX(u->min_width, 0);
	o->min_height = (uint32_t)KL_MAX(u->min_height, 0);
	o->zoom_x = u->zoom_x;
	o->zoom_y = u->zoom_y;
	o->dpr = u->dpr;
	o->enlarge = u->enlarge;
	o->extend = u->extend;
	map_gravity(&u->extend_gravity, &o->extend_gravity);
	map_gravity(&u->gravity, &o->gravity);
	o->crop_w = u->crop_w;
	o->crop_h = u->crop_h;
	o->crop_gravity_set = u->crop_gravity.type != KL_IMGURL_GRAV_UNSET;
	if (o->crop_gravity_set)
		map_gravity(&u->crop_gravity, &o->crop_gravity);
	o->auto_rotate = u->auto_rotate;
	o->rotate = u->rotate;
	o->background_set = (u->set & KL_IMGOPT_BACKGROUND) != 0;
	memcpy(o->background, u->bg, 3);
	o->quality = u->quality > 0 ? u->quality : (int)def_quality;
	o->format = u->out_format == KL_IMGURL_FMT_JPEG ? KL_FORMAT_JPEG :
		    u->out_format == KL_IMGURL_FMT_PNG ? KL_FORMAT_PNG : KL_FORMAT_AUTO;
}

/* A strong validator: the signed path (no query) and the source's own validator. */
static void make_etag(struct conn *c, const char *validator)
{
	static const char hex[] = "0123456789abcdef";
	const char *t = (const char *)c->in + c->target_off;
	size_t tl = c->target_len;
	const char *q = memchr(t, '?', tl);
	unsigned char d[32];
	mbedtls_sha256_context h;

	if (q)
		tl = (size_t)(q - t);
	mbedtls_sha256_init(&h);
	mbedtls_sha256_starts_ret(&h, 0);
	mbedtls_sha256_update_ret(&h, (const unsigned char *)"kinglet " KL_VERSION "\n", strlen("kinglet " KL_VERSION "\n"));
	mbedtls_sha256_update_ret(&h, (const unsigned char *)t, tl);
	mbedtls_sha256_update_ret(&h, (const unsigned char *)"\n", 1);
	mbedtls_sha256_update_ret(&h, (const unsigned char *)validator, strlen(validator));
	mbedtls_sha256_finish_ret(&h, d);
	mbedtls_sha256_free(&h);
	c->etag[0] = '"';
	for (int i = 0; i < 16; i++) {
		c->etag[1 + 2 * i] = hex[d[i] >> 4];
		c->etag[2 + 2 * i] = hex[d[i] & 15];
	}
	c->etag[33] = '"';
	c->etag[34] = 0;
}

/* If-None-Match: a list of entity tags (weak comparison, RFC 9110 section 13.1.2) or "*". */
static int etag_matches(const struct conn *c)
{
	const char *v = (const char *)c->in + c->inm_off;
	size_t n = c->inm_len, i = 0, el = strlen(c->etag);

	while (i < n) {
		size_t a, b;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		b = i;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == 1 && v[a] == '*')
			return 1;
		if (b - a >= 2 && v[a] == 'W' && v[a + 1] == '/')
			a += 2;
		if (b - a == el && memcmp(v + a, c->etag, el) == 0)
			return 1;
	}
	return 0;
}

static void cache_headers(struct conn *c, char *out, size_t cap, size_t *n)
{
	struct kl_imgsrv *s = c->s;
	const struct kl_fetch *f = &c->job->f;

	*n += (size_t)snprintf(out + *n, cap - *n, "ETag: %s\r\nCache-Control: max-age=%u, public\r\n", c->etag,
			       s->conf->ttl_s);
	if (f->last_modified[0] && *n < cap)
		*n += (size_t)snprintf(out + *n, cap - *n, "Last-Modified: %s\r\n", f->last_modified);
}

/* Called once the source's validator is known. Returns 1 when the request was answered (304). */
static int job_head(struct job *j)
{
	struct kl_imgsrv *s = j->s;
	struct conn *c = j->c;
	struct kl_thumb_opts o;
	struct kl_thumb_limits lim = { .max_src_mp = s->conf->max_src_mp };
	char extra[400];
	size_t n = 0;

	make_etag(c, j->f.validator);
	if (c->inm_len && etag_matches(c)) {
		cache_headers(c, extra, sizeof(extra), &n);
		kl_fetch_reset(&j->f);
		c->body = NULL;
		c->body_len = 0;
		respond(c, 304, extra, NULL);
		return 1;
	}
	map_opts(&c->u.opts, s->conf->quality, &o);
	kl_arena_init(&j->arena, j->mem, j->mem_len);
	if (kl_thumb_init(&j->t, &j->arena, &o, &lim, j->out, s->out_cap) < 0) {
		respond_text(c, 500, "job arena too small");
		return 1;
	}
	j->thumb_started = 1;
	return 0;
}

static int job_slice(struct kl_ev *ev, struct kl_idle *w, void *ud);

static void job_fail(struct job *j, int status, const char *why)
{
	respond_text(j->c, status, "%s", why);
}

static void respond_image(struct job *j)
{
	struct conn *c = j->c;
	struct kl_imgsrv *s = j->s;
	const uint8_t *p;
	size_t len, n = 0;
	char extra[900], name[KL_IMGURL_FILENAME_MAX * 3 + 8];
	const char *mime = kl_thumb_mime(&j->t);
	const char *ext = strcmp(mime, "image/png") == 0 ? "png" : "jpg";
	const char *src;
	size_t k = 0;

	kl_thumb_output(&j->t, &p, &len);
	kl_hist_observe(&s->job_seconds, (double)(kl_ev_now(s->ev) - j->t0) / 1000.0);
	kl_fetch_reset(&j->f);
	/* filename: the fn option, else the source's name without its extension */
	src = c->u.opts.filename[0] ? c->u.opts.filename : j->f.name;
	if (!c->u.opts.filename[0]) {
		const char *dot = strrchr(src, '.');
		size_t sl = dot && dot != src ? (size_t)(dot - src) : strlen(src);
		for (size_t i = 0; i < sl && k + 4 < sizeof(name); i++)
			name[k++] = src[i];
	} else {
		for (size_t i = 0; src[i] && k + 4 < sizeof(name); i++) {
			unsigned char ch = (unsigned char)src[i];
			if (ch == '"' || ch == '%' || ch == '\\' || ch >= 0x80 || ch < 0x20) {
				snprintf(name + k, 4, "%%%02X", ch);
				k += 3;
			} else {
				name[k++] = (char)ch;
			}
		}
	}
	name[k] = 0;
	if (!name[0])
		snprintf(name, sizeof(name), "image");
	n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Content-Type: %s\r\n", mime);
	cache_headers(c, extra, sizeof(extra), &n);
	n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Content-Disposition: %s; filename=\"%s.%s\"\r\n",
			      c->u.opts.attachment ? "attachment" : "inline", name, ext);
	c->body = p;
	c->body_len = len;
	if (j->arena.peak > s->arena_peak.v)
		kl_metric_set(&s->arena_peak, j->arena.peak);
	respond(c, 200, extra, NULL);
}

static int thumb_status(int rc)
{
	return rc == KL_ENOMEM ? 500 : 422;
}

static int job_slice(struct kl_ev *ev, struct kl_idle *w, void *ud)
{
	struct job *j = ud;
	const uint8_t *p;
	size_t n;
	int rc;

	if (j->f.status) {
		job_fail(j, j->f.status, j->f.why);
		return 0;
	}
	kl_fetch_data(&j->f, &p, &n);
	if (n)
		kl_fetch_consume(&j->f, kl_thumb_feed(&j->t, p, n));
	kl_fetch_data(&j->f, &p, &n);
	if (!j->ended && n == 0 && kl_fetch_complete(&j->f)) {
		kl_thumb_end(&j->t);
		j->ended = 1;
	}
	rc = kl_thumb_step(&j->t, KL_IMGSRV_SLICE_ROWS);
	if (rc == 0) {
		respond_image(j);
		return 0;
	}
	if (rc != KL_AGAIN) {
		job_fail(j, thumb_status(rc), kl_thumb_reason(&j->t));
		return 0;
	}
	if (!kl_thumb_starved(&j->t))
		return 1;
	kl_fetch_data(&j->f, &p, &n);
	if (n || (kl_fetch_complete(&j->f) && !j->ended))
		return 1;
	rc = kl_fetch_pull(&j->f);
	if (rc > 1) {
		job_fail(j, rc, j->f.why);
		return 0;
	}
	/* A download raises KL_FETCH_EV_DATA when bytes come: sleep until then. */
	return rc == 1;
}

static int on_fetch(struct kl_fetch *f, int event, void *ud)
{
	struct job *j = ud;

	switch (event) {
	case KL_FETCH_EV_HEAD:
		if (job_head(j))
			return 1;
		kl_idle_push(j->s->ev, &j->idle, job_slice, j);
		return 0;
	case KL_FETCH_EV_DATA:
		if (j->thumb_started)
			kl_idle_push(j->s->ev, &j->idle, job_slice, j);
		return 0;
	default:
		job_fail(j, f->status ? f->status : 502, f->why);
		return 1;
	}
}

static void job_start(struct conn *c)
{
	struct kl_imgsrv *s = c->s;
	struct job *j = kl_pool_get(s->arenas);
	uint8_t *blk = (uint8_t *)j;
	int rc;

	if (!j) {
		/* Cannot happen while jobs_active counts blocks; refuse rather than assert. */
		respond_text(c, 503, "no job slot free");
		return;
	}
	memset(j, 0, sizeof(*j));
	j->s = s;
	j->c = c;
	j->t0 = kl_ev_now(s->ev);
	j->rbuf = blk + JOB_HDR;
	j->out = j->rbuf + KL_IMGSRV_RECV_BYTES;
	j->mem = j->out + s->out_cap;
	j->mem_len = s->arenas->size - (size_t)(j->mem - blk);
	c->job = j;
	c->state = C_WORK;
	s->jobs_active++;
	rc = kl_fetch_start(&j->f, s->ev, &s->fconf, c->u.src, c->u.src_len, j->rbuf, KL_IMGSRV_RECV_BYTES,
			    on_fetch, j);
	if (rc) {
		job_fail(j, rc, j->f.why);
		return;
	}
	if (kl_fetch_head_ready(&j->f)) {
		if (job_head(j))
			return;
		kl_idle_push(s->ev, &j->idle, job_slice, j);
	}
}

static void job_release(struct job *j)
{
	struct kl_imgsrv *s = j->s;
	struct conn *c = j->c;

	kl_idle_cancel(s->ev, &j->idle);
	kl_fetch_reset(&j->f);
	if (j->thumb_started) {
		if (j->arena.peak > s->arena_peak.v)
			kl_metric_set(&s->arena_peak, j->arena.peak);
		kl_thumb_reset(&j->t);
		kl_arena_reset(&j->arena);
	}
	if (c)
		c->job = NULL;
	kl_pool_put(s->arenas, j);
	s->jobs_active--;
	/* The freed slot goes to the oldest waiting request. */
	while (s->qhead && s->jobs_active < s->conf->jobs) {
		struct conn *next = s->qhead;
		s->qhead = next->qnext;
		if (!s->qhead)
			s->qtail = NULL;
		next->qnext = NULL;
		s->qlen--;
		job_start(next);
	}
}

/* ---- start, stop, metrics ---- */

/* see imgsrv.h */
int kl_imgsrv_start(struct kl_imgsrv *s, struct kl_ev *ev, const struct kl_imgsrv_conf *conf,
		    struct kl_pool *conns, struct kl_pool *arenas, char err[KL_ERRLEN])
{
	static const char rfam[] = "kinglet_thumbs_requests_total", rhelp[] = "Thumbs HTTP requests by status.";
	size_t avail;
	int rc;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->ev = ev;
	s->conns = conns;
	s->arenas = arenas;
	if (conns->size < kl_imgsrv_conn_size(conf->max_header / 1024)) {
		snprintf(err, KL_ERRLEN, "thumbs: connection blocks of %zu bytes are too small", conns->size);
		return KL_EINVAL;
	}
	if (arenas->size < JOB_HDR + KL_IMGSRV_RECV_BYTES + KL_THUMB_ARENA_MIN * 5 / 4) {
		snprintf(err, KL_ERRLEN, "thumbs: arena = %zu bytes is too small (at least %zu)", arenas->size,
			 (size_t)(JOB_HDR + KL_IMGSRV_RECV_BYTES + KL_THUMB_ARENA_MIN * 5 / 4));
		return KL_EINVAL;
	}
	/* A quarter of what is left holds the encoded thumbnail; the rest is the pipeline's arena. */
	avail = arenas->size - JOB_HDR - KL_IMGSRV_RECV_BYTES;
	s->out_cap = KL_ALIGN_UP(avail / 4, 64);
	if (avail - s->out_cap < KL_THUMB_ARENA_MIN)
		s->out_cap = avail - KL_THUMB_ARENA_MIN;

	s->ucf.sig_size = conf->signature_size >= 32 ? 0 : conf->signature_size;
	s->ucf.presets = conf->presets;
	s->ucf.npresets = conf->npresets;
	if (conf->key && conf->key[0]) {
		rc = kl_imgurl_add_key(&s->ucf, conf->key, strlen(conf->key), conf->salt ? conf->salt : "",
				       conf->salt ? strlen(conf->salt) : 0);
		if (rc < 0) {
			snprintf(err, KL_ERRLEN, "thumbs: key/salt: %s", kl_strerror(rc));
			return rc;
		}
	}
	s->fconf = conf->fetch;
	s->fconf.bytes_in = &s->bytes_in;

	for (int i = 0; i < KL_IMGSRV_NSTATUS; i++)
		kl_metric_init(&s->req[i], rfam, rhelp, KL_METRIC_COUNTER, "status=\"%d\"", status_codes[i]);
	kl_metric_init(&s->req[KL_IMGSRV_NSTATUS], rfam, rhelp, KL_METRIC_COUNTER, "status=\"other\"");
	for (int i = 0; i <= KL_IMGSRV_NSTATUS; i++)
		kl_metric_register(&s->req[i]);
	kl_metric_init(&s->queue_len, "kinglet_thumbs_queue_length", "Requests waiting for a job.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&s->jobs_gauge, "kinglet_thumbs_jobs_active", "Jobs holding an arena.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&s->conns_gauge, "kinglet_thumbs_connections", "Open thumbs HTTP connections.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&s->bytes_in, "kinglet_thumbs_bytes_total", "Thumbs bytes: source in, responses out.",
		       KL_METRIC_COUNTER, "dir=\"in\"");
	kl_metric_init(&s->bytes_out, "kinglet_thumbs_bytes_total", "Thumbs bytes: source in, responses out.",
		       KL_METRIC_COUNTER, "dir=\"out\"");
	kl_metric_init(&s->arena_peak, "kinglet_thumbs_arena_peak_bytes", "Highest arena use of any job.",
		       KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&s->refused, "kinglet_thumbs_refused_total", "Connections refused: no connection block.",
		       KL_METRIC_COUNTER, "%s", "");
	kl_metric_register(&s->queue_len);
	kl_metric_register(&s->jobs_gauge);
	kl_metric_register(&s->conns_gauge);
	kl_metric_register(&s->bytes_in);
	kl_metric_register(&s->bytes_out);
	kl_metric_register(&s->arena_peak);
	kl_metric_register(&s->refused);
	kl_hist_init(&s->job_seconds, "kinglet_thumbs_job_seconds", "Thumbnail job durations (fetch + pipeline).", "");
	kl_hist_register(&s->job_seconds);

	rc = kl_listener_open(&s->lst, ev, "thumbs", conf->listen, on_accept, s, err);
	if (rc < 0)
		return rc;
	s->listening = 1;
	return 0;
}

/* see imgsrv.h */
void kl_imgsrv_stop(struct kl_imgsrv *s)
{
	struct conn *c, *next;

	if (s->stopping)
		return;
	s->stopping = 1;
	if (s->listening)
		kl_listener_close(&s->lst);
	s->listening = 0;
	for (c = s->all; c; c = next) {
		next = c->next;
		if (c->state == C_READ)
			conn_close(c);
		else
			c->keepalive = 0;
	}
}

/* see imgsrv.h */
unsigned kl_imgsrv_in_flight(const struct kl_imgsrv *s)
{
	return s->busy;
}

/* see imgsrv.h */
void kl_imgsrv_collect(struct kl_imgsrv *s)
{
	kl_metric_set(&s->queue_len, s->qlen);
	kl_metric_set(&s->jobs_gauge, s->jobs_active);
	kl_metric_set(&s->conns_gauge, s->active);
}
