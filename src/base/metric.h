/* metric.h - counters and gauges with caller-owned storage, Prometheus text. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_METRIC_H
#define KL_METRIC_H

#include <stddef.h>
#include <stdint.h>

enum { KL_METRIC_COUNTER = 0, KL_METRIC_GAUGE = 1 };

/*
 * One time series. Modules own their kl_metric structs (static or inside a
 * listener) and register them once at start-up; nothing is allocated.
 * Series with the same family are printed under one HELP/TYPE header, in
 * registration order of the family's first series. Counter families MUST
 * end in "_total".
 */
struct kl_metric {
	const char *family;     /* e.g. "kinglet_relay_bytes_total" */
	const char *help;       /* one line */
	int type;               /* KL_METRIC_COUNTER or KL_METRIC_GAUGE */
	char labels[96];        /* e.g. listener="socks",dir="up"; may be empty */
	uint64_t v;
	struct kl_metric *next;
};

/* Fixed-bucket histogram (seconds), printed as _bucket/_sum/_count. */
#define KL_HIST_BUCKETS 10
struct kl_hist {
	const char *family;     /* e.g. "kinglet_thumbs_job_seconds" */
	const char *help;
	char labels[96];
	uint64_t bucket[KL_HIST_BUCKETS];   /* cumulative at print time */
	uint64_t count;
	double sum;
	struct kl_hist *next;
};
extern const double kl_hist_bounds[KL_HIST_BUCKETS];

void kl_metric_init(struct kl_metric *m, const char *family, const char *help, int type,
		    const char *labels_fmt, ...) __attribute__((format(printf, 5, 6)));
void kl_metric_register(struct kl_metric *m);
void kl_hist_init(struct kl_hist *h, const char *family, const char *help, const char *labels);
void kl_hist_register(struct kl_hist *h);
void kl_hist_observe(struct kl_hist *h, double seconds);

static inline void kl_metric_add(struct kl_metric *m, uint64_t n) { m->v += n; }
static inline void kl_metric_inc(struct kl_metric *m) { m->v++; }
static inline void kl_metric_set(struct kl_metric *m, uint64_t v) { m->v = v; }

/*
 * Formats every registered series, then every registered pool
 * (kinglet_pool_used / _capacity / _peak / _refused_total) into out.
 * Returns the length written, or KL_ETOOBIG when cap is too small.
 */
long kl_metrics_format(char *out, size_t cap);
void kl_metric_registry_reset(void);

#endif
