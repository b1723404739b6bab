/* budget.c - start-up memory arithmetic: config -> pools -> one region. */
/* SPDX-License-Identifier: MIT */
#include "app/budget.h"
#include "app/admin.h"
#include "net/tls.h"
#include "ev/ev.h"
#include "imgsrv/imgsrv.h"
#include "net/dns.h"
#include "relay/relay.h"
#include "port.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Per-connection state of the relay and the thumbs front end. These are
 * upper bounds checked against the real structs with _Static_assert where
 * those structs are defined, so the plan can never undercount.
 */
/*
 * 704: struct kl_rconn holds the destination name as asked (up to 255
 * bytes, for DNS and the close log line) next to two streams, two buffer
 * heads, a timer and the resolved addresses, plus the framing state of a
 * kept-alive HTTP exchange (two chunked decoders, two body counts);
 * relay.c asserts the fit.
 */
#define RELAY_CONN_BYTES   704u
#define RELAY_MIN_CHUNK    2048u        /* buffer_kb = 0: one small chunk per direction */
#define KL_LIBC_HEAP_BASE  (128u * 1024u)  /* libc odds and ends after start-up */
#define KL_TLS_SERVER_CONF_HEAP (32u * 1024u)   /* a parsed certificate chain and key */
#define FD_SLACK           16u          /* stdio, signal pipe, log reopen, resolver */

/* see budget.h */
void kl_budget_human(uint64_t b, char *out, size_t cap)
{
	if (b >= (1ull << 20))
		snprintf(out, cap, "%.1f MB", (double)b / (1 << 20));
	else if (b >= 1024)
		snprintf(out, cap, "%.1f KB", (double)b / 1024);
	else
		snprintf(out, cap, "%llu B", (unsigned long long)b);
	/* "16.0 KB" reads worse than "16 KB" */
	char *dot = strstr(out, ".0 ");
	if (dot)
		memmove(dot, dot + 2, strlen(dot + 2) + 1);
}

static struct kl_plan_item *add(struct kl_plan *p, uint32_t count, size_t size, const char *name_fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct kl_plan_item *add(struct kl_plan *p, uint32_t count, size_t size, const char *name_fmt, ...)
{
	struct kl_plan_item *it;
	va_list ap;

	if (p->n >= KL_PLAN_MAX)
		return NULL;
	it = &p->item[p->n++];
	memset(it, 0, sizeof(*it));
	va_start(ap, name_fmt);
	vsnprintf(it->name, sizeof(it->name), name_fmt, ap);
	va_end(ap);
	it->count = count;
	it->size = KL_ALIGN_UP(size ? size : 16, 16);
	p->total += (uint64_t)it->count * it->size;
	return it;
}

/* see budget.h */
int kl_budget_plan(const struct kl_conf *c, struct kl_plan *p, char err[KL_ERRLEN])
{
	struct kl_plan_item *it, *worst = NULL;
	uint64_t worst_bytes = 0;
	unsigned fds = FD_SLACK, timers = 8;
	char a[32], b[32];

	memset(p, 0, sizeof(*p));
	p->limit = c->memory_limit;
	err[0] = 0;

	if (c->admin_enabled) {
		fds += 1 + KL_ADMIN_MAX_CONNS;
		timers += KL_ADMIN_MAX_CONNS;
	}
	for (unsigned i = 0; i < c->nrelays; i++) {
		const struct kl_conf_relay *r = &c->relay[i];
		fds += 1 + 2 * r->max_conns;
		timers += r->max_conns;
	}
	if (c->thumbs.enabled) {
		fds += 1 + c->thumbs.max_conns + c->thumbs.jobs;
		timers += c->thumbs.max_conns + c->thumbs.jobs;
	}
	p->max_fds = fds;
	p->max_timers = timers;

	it = add(p, 1, kl_ev_mem_size(fds, timers), "ev.loop");
	snprintf(it->what, sizeof(it->what), "poll set and timer heap for %u fds, %u timers", fds, timers);
	if (c->admin_enabled) {
		it = add(p, KL_ADMIN_MAX_CONNS, kl_admin_conn_size(), "admin.conn");
		snprintf(it->what, sizeof(it->what), "admin connections with request and response buffers");
	}
	/*
	 * TLS: session structs in a pool whose count is the admission limit,
	 * and mbedtls' own allocations (it cannot be handed an allocator) in
	 * libc.heap, which port_malloc.c serves malloc from: the measured peak
	 * per session, the parsed CA bundle once, and a little for libc.
	 */
	{
		uint32_t sessions = 0;
		int need_ca = 0;
		size_t heap = KL_LIBC_HEAP_BASE;

		for (unsigned i = 0; i < c->nrelays; i++) {
			const struct kl_conf_relay *r = &c->relay[i];
			uint32_t n = r->tls_sessions ? r->tls_sessions : r->max_conns;
			if (r->tls_cert[0]) {
				sessions += n;
				heap += KL_TLS_SERVER_CONF_HEAP;
			}
			if (r->upstream[0] && r->upstream_tls) {
				sessions += n;
				need_ca |= !r->upstream_ca[0];
			}
		}
		if (c->thumbs.enabled && c->thumbs.tls_sessions) {
			sessions += c->thumbs.tls_sessions;
			need_ca |= !c->thumbs.ca_file[0];
		}
		heap += (size_t)sessions * KL_TLS_SESSION_HEAP + (need_ca ? KL_TLS_CA_HEAP : 0);
		it = add(p, 1, heap, "libc.heap");
		if (it) {
			kl_budget_human(heap, a, sizeof(a));
			snprintf(it->what, sizeof(it->what), "malloc for mbedtls and libc: %u TLS sessions x %u KB%s",
				 sessions, KL_TLS_SESSION_HEAP / 1024, need_ca ? " + CA bundle" : "");
		}
		if (sessions) {
			it = add(p, sessions, kl_tls_sess_size(), "tls.sess");
			if (it)
				snprintf(it->what, sizeof(it->what), "TLS session state, admission limit");
		}
		if (c->thumbs.enabled && c->thumbs.tls_sessions) {
			it = add(p, 1, kl_tls_conf_size(), "thumbs.tls");
			if (it)
				snprintf(it->what, sizeof(it->what), "client TLS configuration for https sources");
		}
	}
	/* Relays resolve destinations, thumbs resolve source hosts: one resolver for both. */
	if (c->nrelays || c->thumbs.enabled) {
		it = add(p, 1, KL_DNS_HEAP_BYTES, "dns.heap");
		if (it)
			snprintf(it->what, sizeof(it->what), "c-ares allocations (fixed-region heap)");
		it = add(p, 1, kl_dns_mem_size(c->dns_cache), "dns.cache");
		if (it)
			snprintf(it->what, sizeof(it->what), "dns_cache=%u names and %u lookups in flight",
				 c->dns_cache, KL_DNS_MAX_QUERIES);
	}
	for (unsigned i = 0; i < c->nrelays; i++) {
		const struct kl_conf_relay *r = &c->relay[i];
		size_t tab = kl_rlisten_mem_size(r);
		size_t chunk = r->buffer_kb ? (size_t)r->buffer_kb * 1024 : RELAY_MIN_CHUNK;
		uint64_t bytes;

		it = add(p, r->max_conns, RELAY_CONN_BYTES, "relay.%s.conn", r->name);
		if (it)
			snprintf(it->what, sizeof(it->what), "connection state, max_conns=%u", r->max_conns);
		if (tab) {
			it = add(p, 1, tab, "relay.%s.tab", r->name);
			if (it)
				snprintf(it->what, sizeof(it->what), "address rules and the per-client-IP table");
		}
		it = add(p, 2 * r->max_conns, chunk, "relay.%s.buf", r->name);
		if (!it)
			break;
		kl_budget_human(chunk, a, sizeof(a));
		snprintf(it->what, sizeof(it->what), "max_conns=%u x 2 directions x %s", r->max_conns, a);
		bytes = (uint64_t)it->count * it->size;
		if (bytes > worst_bytes) {
			worst_bytes = bytes;
			worst = it;
		}
	}
	if (c->thumbs.enabled) {
		const struct kl_conf_thumbs *t = &c->thumbs;
		it = add(p, t->max_conns, kl_imgsrv_conn_size(t->max_header_kb), "thumbs.conn");
		snprintf(it->what, sizeof(it->what), "HTTP connections, max_conns=%u x (state + %u KB head + %u KB URL)",
			 t->max_conns, t->max_header_kb, t->max_header_kb);
		it = add(p, t->jobs, (size_t)t->arena, "thumbs.arena");
		if (it) {
			kl_budget_human(t->arena, a, sizeof(a));
			snprintf(it->what, sizeof(it->what), "image jobs=%u x arena %s (receive buffer, output, pipeline)",
				 t->jobs, a);
			if ((uint64_t)it->count * it->size > worst_bytes) {
				worst_bytes = (uint64_t)it->count * it->size;
				worst = it;
			}
		}
	}
	if (p->n >= KL_PLAN_MAX) {
		snprintf(err, KL_ERRLEN, "too many pools for one plan (at most %d)", KL_PLAN_MAX);
		return KL_ETOOBIG;
	}
	if (p->total > p->limit) {
		kl_budget_human(p->total, a, sizeof(a));
		kl_budget_human(p->limit, b, sizeof(b));
		if (worst && worst_bytes * 2 > p->total) {
			char w[32];
			kl_budget_human(worst_bytes, w, sizeof(w));
			snprintf(err, KL_ERRLEN, "%s: %s = %s exceeds memory_limit %s (the whole plan needs %s)",
				 worst->name, worst->what, w, b, a);
		} else {
			snprintf(err, KL_ERRLEN, "the plan needs %s, which exceeds memory_limit %s", a, b);
		}
		return KL_ETOOBIG;
	}
	return 0;
}

/* see budget.h */
size_t kl_budget_format(const struct kl_plan *p, char *out, size_t cap)
{
	size_t len = 0;
	char sz[32], tot[32], lim[32];
	int n;

#define PUT(...) do { \
		n = snprintf(out + len, cap - len, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= cap - len) \
			return len; \
		len += (size_t)n; \
	} while (0)
	kl_budget_human(p->limit, lim, sizeof(lim));
	PUT("memory plan (memory_limit %s):\n", lim);
	PUT("  %-24s %8s   %-10s %10s  %s\n", "pool", "count", "x size", "= total", "from");
	for (unsigned i = 0; i < p->n; i++) {
		const struct kl_plan_item *it = &p->item[i];
		kl_budget_human(it->size, sz, sizeof(sz));
		kl_budget_human((uint64_t)it->count * it->size, tot, sizeof(tot));
		PUT("  %-24s %8u x %-10s %10s  %s\n", it->name, it->count, sz, tot, it->what);
	}
	kl_budget_human(p->total, tot, sizeof(tot));
	PUT("  %-24s %8s   %-10s %10s  of %s; fixed overhead outside the plan: %u MB\n", "total", "", "",
	    tot, lim, KL_FIXED_OVERHEAD >> 20);
#undef PUT
	return len;
}

/* see budget.h */
int kl_budget_reserve(struct kl_plan *p)
{
	uint8_t *at;

	p->region_len = (size_t)p->total;
	p->region = kp_mem_map(p->region_len);
	if (!p->region)
		return KL_ENOMEM;
	at = p->region;
	for (unsigned i = 0; i < p->n; i++) {
		struct kl_plan_item *it = &p->item[i];
		kl_pool_init(&it->pool, it->name, at, it->size, it->count);
		kl_pool_register(&it->pool);
		at += (size_t)it->count * it->size;
	}
	return 0;
}

/* see budget.h */
struct kl_pool *kl_budget_pool(struct kl_plan *p, const char *name)
{
	for (unsigned i = 0; i < p->n; i++)
		if (strcmp(p->item[i].name, name) == 0)
			return &p->item[i].pool;
	return NULL;
}
