/* admin.c - /health and /metrics over a minimal HTTP/1.1 responder. */
/* SPDX-License-Identifier: MIT */
#include "app/admin.h"
#include "base/log.h"
#include "proto/httpreq.h"
#include "proto/httpstatus.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct aconn {
	struct kl_admin *a;
	int fd;
	uint32_t in_len, out_len, out_off;
	struct kl_timer timer;
	char peer[KP_ADDRSTRLEN];
	uint8_t in[KL_ADMIN_IN_BYTES];
	char out[KL_ADMIN_OUT_BYTES];
};

/* see admin.h */
size_t kl_admin_conn_size(void)
{
	return sizeof(struct aconn);
}

static void conn_close(struct aconn *c)
{
	struct kl_admin *a = c->a;

	kl_timer_cancel(a->ev, &c->timer);
	kl_ev_del(a->ev, c->fd);
	kp_close(c->fd);
	kl_pool_put(a->pool, c);
	a->active--;
	kl_listener_resume(&a->lst);
}

static void respond(struct aconn *c, int status, const char *ctype, const char *body, size_t blen)
{
	int n = snprintf(c->out, sizeof(c->out),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
			 status, kl_httpstatus_reason(status), ctype, blen);

	if (n < 0 || (size_t)n + blen > sizeof(c->out)) {
		n = snprintf(c->out, sizeof(c->out), "HTTP/1.1 500 Internal Server Error\r\n"
				 "Content-Length: 0\r\nConnection: close\r\n\r\n");
		blen = 0;
	}
	if (body != c->out + n && blen)
		memmove(c->out + n, body, blen);
	c->out_len = (uint32_t)((size_t)n + blen);
	c->out_off = 0;
}

static void route(struct aconn *c, const struct kl_httpreq *rq)
{
	struct kl_admin *a = c->a;
	const char *path = rq->target;
	size_t path_len = rq->target_len;
	const char *q = memchr(path, '?', path_len);

	if (q)
		path_len = (size_t)(q - path);
	if (!(rq->method_len == 3 && memcmp(rq->method, "GET", 3) == 0)) {
		kl_metric_inc(&a->req_other);
		respond(c, 405, "text/plain", "only GET\n", 9);
		return;
	}
	if (path_len == 7 && memcmp(path, "/health", 7) == 0) {
		kl_metric_inc(&a->req_health);
		respond(c, 200, "text/plain", "ok\n", 3);
		return;
	}
	if (path_len == 8 && memcmp(path, "/metrics", 8) == 0) {
		/* Format the body 512 bytes in, then slide it behind the headers. */
		long n;
		kl_metric_inc(&a->req_metrics);
		if (a->collect)
			a->collect(a->collect_ud);
		n = kl_metrics_format(c->out + 512, sizeof(c->out) - 512);
		if (n < 0) {
			respond(c, 500, "text/plain", "metrics too large\n", 18);
			return;
		}
		respond(c, 200, "text/plain; version=0.0.4", c->out + 512, (size_t)n);
		return;
	}
	kl_metric_inc(&a->req_other);
	respond(c, 404, "text/plain", "not found\n", 10);
}

static void on_io(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct aconn *c = ud;
	ssize_t n;

	if (c->out_len == 0) {
		struct kl_http_hdr hdr[32];
		struct kl_httpreq rq = { .hdr = hdr, .hdr_cap = KL_ARRAY_LEN(hdr), .max_head = sizeof(c->in) };
		int rc;

		n = kp_read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->in_len += (uint32_t)n;
		rc = kl_httpreq_parse((const char *)c->in, c->in_len, &rq);
		if (rc == KL_AGAIN)
			return;
		if (rc < 0)
			respond(c, kl_httpreq_status(rc), "text/plain", "bad request\n", 12);
		else
			route(c, &rq);
		kl_ev_want(ev, fd, KL_EV_WR);
	}
	while (c->out_off < c->out_len) {
		n = kp_write(fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->out_off += (uint32_t)n;
	}
	conn_close(c);
}

static void on_timeout(struct kl_ev *ev, struct kl_timer *t, void *ud)
{
	conn_close(ud);
}

static int on_accept(struct kl_listener *l, int fd, const struct kp_addr *peer, void *ud)
{
	struct kl_admin *a = ud;
	struct aconn *c = kl_pool_get(a->pool);

	if (!c) {
		/* Not an error: wait in the backlog until a connection finishes. */
		kl_listener_pause(l);
		return KL_ENOMEM;
	}
	memset(c, 0, offsetof(struct aconn, in));
	c->a = a;
	c->fd = fd;
	kp_addr_format(peer, c->peer, sizeof(c->peer));
	if (kl_ev_add(a->ev, fd, KL_EV_RD, on_io, c) < 0 ||
	    kl_timer_arm(a->ev, &c->timer, KL_ADMIN_TIMEOUT_MS, on_timeout, c) < 0) {
		kl_ev_del(a->ev, fd);
		kl_pool_put(a->pool, c);
		return KL_ENOMEM;
	}
	a->active++;
	return 0;
}

/* see admin.h */
int kl_admin_start(struct kl_admin *a, struct kl_ev *ev, struct kl_pool *pool, const char *listen,
		   kl_admin_collect_fn *collect, void *ud, char err[KL_ERRLEN])
{
	static const char fam[] = "kinglet_admin_requests_total", help[] = "Admin HTTP requests by path.";

	memset(a, 0, sizeof(*a));
	a->ev = ev;
	a->pool = pool;
	a->collect = collect;
	a->collect_ud = ud;
	kl_metric_init(&a->req_health, fam, help, KL_METRIC_COUNTER, "path=\"/health\"");
	kl_metric_init(&a->req_metrics, fam, help, KL_METRIC_COUNTER, "path=\"/metrics\"");
	kl_metric_init(&a->req_other, fam, help, KL_METRIC_COUNTER, "path=\"other\"");
	kl_metric_register(&a->req_health);
	kl_metric_register(&a->req_metrics);
	kl_metric_register(&a->req_other);
	return kl_listener_open(&a->lst, ev, "admin", listen, on_accept, a, err);
}

/* see admin.h */
void kl_admin_stop(struct kl_admin *a)
{
	kl_listener_close(&a->lst);
}
