/* metric.c - metric registry and Prometheus text exposition. */
/* SPDX-License-Identifier: MIT */
#include "base/metric.h"
#include "base/kl.h"
#include "base/pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const double kl_hist_bounds[KL_HIST_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10
};

static struct kl_metric *metrics, **metrics_tail = &metrics;
static struct kl_hist *hists, **hists_tail = &hists;

/* see metric.h */
void kl_metric_init(struct kl_metric *m, const char *family, const char *help, int type,
		    const char *labels_fmt, ...)
{
	va_list ap;

	memset(m, 0, sizeof(*m));
	m->family = family;
	m->help = help;
	m->type = type;
	va_start(ap, labels_fmt);
	vsnprintf(m->labels, sizeof(m->labels), labels_fmt, ap);
	va_end(ap);
}

/* see metric.h */
void kl_metric_register(struct kl_metric *m)
{
	m->next = NULL;
	*metrics_tail = m;
	metrics_tail = &m->next;
}

/* see metric.h */
void kl_hist_init(struct kl_hist *h, const char *family, const char *help, const char *labels)
{
	memset(h, 0, sizeof(*h));
	h->family = family;
	h->help = help;
	snprintf(h->labels, sizeof(h->labels), "%s", labels ? labels : "");
}

/* see metric.h */
void kl_hist_register(struct kl_hist *h)
{
	h->next = NULL;
	*hists_tail = h;
	hists_tail = &h->next;
}

/* see metric.h */
void kl_hist_observe(struct kl_hist *h, double s)
{
	for (int i = 0; i < KL_HIST_BUCKETS; i++)
		if (s <= kl_hist_bounds[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += s;
}

/* see metric.h */
void kl_metric_registry_reset(void)
{
	metrics = NULL;
	metrics_tail = &metrics;
	hists = NULL;
	hists_tail = &hists;
}

struct out {
	char *p;
	size_t cap, len;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = 1;
		return;
	}
	o->len += (size_t)n;
}

static void series(struct out *o, const char *family, const char *suffix, const char *labels,
		   const char *extra, unsigned long long v)
{
	int any = labels[0] || extra[0];

	put(o, "%s%s%s%s%s%s%s %llu\n", family, suffix, any ? "{" : "", labels,
	    labels[0] && extra[0] ? "," : "", extra, any ? "}" : "", v);
}

static int seen_before(const struct kl_metric *m)
{
	for (const struct kl_metric *x = metrics; x != m; x = x->next)
		if (strcmp(x->family, m->family) == 0)
			return 1;
	return 0;
}

/* see metric.h */
long kl_metrics_format(char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };

	if (cap == 0)
		return KL_ETOOBIG;
	buf[0] = 0;
	for (struct kl_metric *m = metrics; m; m = m->next) {
		if (seen_before(m))
			continue;
		put(&o, "# HELP %s %s\n# TYPE %s %s\n", m->family, m->help, m->family,
		    m->type == KL_METRIC_COUNTER ? "counter" : "gauge");
		for (struct kl_metric *x = m; x; x = x->next)
			if (strcmp(x->family, m->family) == 0)
				series(&o, x->family, "", x->labels, "", (unsigned long long)x->v);
	}
	for (struct kl_hist *h = hists; h; h = h->next) {
		unsigned long long cum = 0;
		char le[32];
		put(&o, "# HELP %s %s\n# TYPE %s histogram\n", h->family, h->help, h->family);
		for (int i = 0; i < KL_HIST_BUCKETS; i++) {
			cum += h->bucket[i];
			snprintf(le, sizeof(le), "le=\"%g\"", kl_hist_bounds[i]);
			series(&o, h->family, "_bucket", h->labels, le, cum);
		}
		series(&o, h->family, "_bucket", h->labels, "le=\"+Inf\"", (unsigned long long)h->count);
		put(&o, "%s_sum%s%s%s %.6f\n", h->family, h->labels[0] ? "{" : "", h->labels,
		    h->labels[0] ? "}" : "", h->sum);
		series(&o, h->family, "_count", h->labels, "", (unsigned long long)h->count);
	}
	if (kl_pool_first()) {
		static const struct { const char *fam, *help, *type; } pf[] = {
			{ "kinglet_pool_used", "Blocks lent now.", "gauge" },
			{ "kinglet_pool_capacity", "Blocks the pool holds.", "gauge" },
			{ "kinglet_pool_peak", "Most blocks lent at once.", "gauge" },
			{ "kinglet_pool_block_bytes", "Size of one block.", "gauge" },
			{ "kinglet_pool_refused_total", "Requests refused because the pool was empty.", "counter" },
		};
		for (size_t k = 0; k < KL_ARRAY_LEN(pf); k++) {
			put(&o, "# HELP %s %s\n# TYPE %s %s\n", pf[k].fam, pf[k].help, pf[k].fam, pf[k].type);
			for (struct kl_pool *p = kl_pool_first(); p; p = p->next) {
				unsigned long long v = k == 0 ? p->used : k == 1 ? p->count : k == 2 ? p->peak :
						       k == 3 ? (unsigned long long)p->size : (unsigned long long)p->fails;
				put(&o, "%s{pool=\"%s\"} %llu\n", pf[k].fam, p->name, v);
			}
		}
	}
	return o.full ? KL_ETOOBIG : (long)o.len;
}
