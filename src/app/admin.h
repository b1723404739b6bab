/* admin.h - the admin HTTP listener: /health and /metrics. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_ADMIN_H
#define KL_ADMIN_H

#include "base/metric.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "net/listener.h"

/*
 * A deliberately small HTTP/1.1 responder: GET /health and GET /metrics,
 * one request per connection (Connection: close), every buffer from the
 * "admin.conn" pool. When the pool is empty the listener pauses, so a
 * scraper storm waits in the kernel's backlog instead of costing memory.
 */
#define KL_ADMIN_MAX_CONNS 4
#define KL_ADMIN_IN_BYTES 4096
#define KL_ADMIN_OUT_BYTES (96 * 1024)
#define KL_ADMIN_TIMEOUT_MS 5000

typedef void kl_admin_collect_fn(void *ud);    /* refreshes gauges before /metrics */

struct kl_admin {
	struct kl_listener lst;
	struct kl_ev *ev;
	struct kl_pool *pool;
	kl_admin_collect_fn *collect;
	void *collect_ud;
	unsigned active;
	struct kl_metric req_health, req_metrics, req_other;
};

size_t kl_admin_conn_size(void);
/* pool MUST have blocks of kl_admin_conn_size() bytes. */
int  kl_admin_start(struct kl_admin *a, struct kl_ev *ev, struct kl_pool *pool, const char *listen,
		    kl_admin_collect_fn *collect, void *ud, char err[KL_ERRLEN]);
/* Stops accepting; in-flight requests finish. */
void kl_admin_stop(struct kl_admin *a);

#endif
