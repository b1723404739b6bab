/* imgsrv.h - the [thumbs] HTTP/1.1 service: imgproxy's URL API in front of the thumbnail jobs. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_IMGSRV_H
#define KL_IMGSRV_H

#include <stddef.h>
#include <stdint.h>

#include "base/metric.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "imgsrv/fetch.h"
#include "net/listener.h"
#include "proto/imgurl.h"

/*
 * One listener, connections from the "thumbs.conn" pool, jobs from the
 * "thumbs.arena" pool (one block per job slot, `arena` bytes each).
 *
 * A connection reads a request head within header_timeout (idle_timeout
 * between keep-alive requests); only a complete request may claim a job,
 * so slow clients hold a connection block, never an arena. GET and HEAD;
 * /health; everything else is an imgproxy URL. A request that finds no
 * free job waits in a FIFO of `queue` entries; beyond that it is answered
 * 429 with Retry-After. A job fetches its source into a fixed receive
 * buffer and runs the thumbnail pipeline as idle slices of at most
 * KL_IMGSRV_SLICE_ROWS rows, so other connections keep flowing. The
 * encoded image stays in the job's block until the response is sent (or
 * the client goes away); then the block returns to the pool and the next
 * queued request starts.
 *
 * Connection block:  [struct conn <= KL_IMGSRV_CONN_BYTES][request head: max_header][URL scratch: max_header]
 * Job block:         [struct job][receive buffer][encoded output][arena for the pipeline]
 */

#define KL_IMGSRV_CONN_BYTES 3072u
#define KL_IMGSRV_RECV_BYTES (32u * 1024)
#define KL_IMGSRV_SLICE_ROWS 16
#define KL_IMGSRV_MAX_PRESETS 16

/* Block size of the "thumbs.conn" pool for a given header limit. */
size_t kl_imgsrv_conn_size(uint32_t max_header_kb);

struct kl_imgsrv_conf {
	const char *listen;
	const char *key, *salt;                 /* hex; key "" = unsigned URLs */
	uint32_t signature_size;
	uint32_t jobs, queue;
	uint64_t arena;                         /* bytes per job block */
	uint32_t max_header;                    /* bytes: request line + headers */
	uint32_t header_timeout_ms, idle_timeout_ms;
	uint32_t ttl_s;
	uint32_t quality;                       /* default JPEG quality */
	double max_src_mp;                      /* max_src_resolution */
	struct kl_fetch_conf fetch;             /* bytes_in is set by start */
	struct kl_imgurl_preset presets[KL_IMGSRV_MAX_PRESETS];
	size_t npresets;
};

struct conn;
struct job;

/* Statuses counted one by one in kinglet_thumbs_requests_total; others go to "other". */
#define KL_IMGSRV_NSTATUS 18

struct kl_imgsrv {
	const struct kl_imgsrv_conf *conf;
	struct kl_fetch_conf fconf;
	struct kl_imgurl_conf ucf;
	struct kl_ev *ev;
	struct kl_pool *conns, *arenas;
	struct kl_listener lst;
	int listening, stopping;
	unsigned active;                        /* open connections */
	unsigned busy;                          /* requests queued, in a job or being answered */
	unsigned jobs_active;
	struct conn *all;                       /* every open connection (for stop) */
	struct conn *qhead, *qtail;             /* FIFO of requests waiting for a job */
	unsigned qlen;
	size_t out_cap;                         /* encoded output bytes per job */
	struct kl_metric req[KL_IMGSRV_NSTATUS + 1];
	struct kl_metric queue_len, jobs_gauge, conns_gauge, bytes_in, bytes_out, arena_peak, refused;
	struct kl_hist job_seconds;
};

/*
 * Starts listening. conf MUST outlive the server; conns MUST have blocks
 * of kl_imgsrv_conn_size(), arenas blocks of conf->arena bytes (at least
 * the job header, buffers and KL_THUMB_ARENA_MIN). Registers the metrics.
 * Returns 0 or a KL_E* code with err set.
 */
int  kl_imgsrv_start(struct kl_imgsrv *s, struct kl_ev *ev, const struct kl_imgsrv_conf *conf,
		     struct kl_pool *conns, struct kl_pool *arenas, char err[KL_ERRLEN]);
/* Graceful stop: no new connections, idle ones closed, busy ones finish and close. */
void kl_imgsrv_stop(struct kl_imgsrv *s);
/* Requests still being worked on (for the shutdown grace period). */
unsigned kl_imgsrv_in_flight(const struct kl_imgsrv *s);
/* Refreshes gauges before /metrics. */
void kl_imgsrv_collect(struct kl_imgsrv *s);

#endif
