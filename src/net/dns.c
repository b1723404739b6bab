/* dns.c - c-ares on the poll loop, its allocations in a plan region, and the name cache. */
/* SPDX-License-Identifier: MIT */
#include "net/dns.h"
#include "base/log.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---------------- cache ---------------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

/* Lower-cases name into out; 0 or KL_EINVAL when it does not fit. */
static int norm(const char *name, char out[KL_DNS_NAME])
{
	size_t n = strlen(name);

	if (n == 0 || n >= KL_DNS_NAME)
		return KL_EINVAL;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	/* "example.com." and "example.com" are the same name */
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = 0;
	return 0;
}

/* see dns.h */
void kl_dns_cache_init(struct kl_dns_cache *c, struct kl_dns_entry *mem, uint32_t cap)
{
	memset(c, 0, sizeof(*c));
	c->e = mem;
	c->cap = cap;
	if (mem && cap)
		memset(mem, 0, (size_t)cap * sizeof(*mem));
}

static struct kl_dns_entry *find(struct kl_dns_cache *c, const char *key, uint32_t h)
{
	for (uint32_t i = 0; i < c->cap; i++)
		if (c->e[i].name[0] && c->e[i].hash == h && strcmp(c->e[i].name, key) == 0)
			return &c->e[i];
	return NULL;
}

/* see dns.h */
int kl_dns_cache_get(struct kl_dns_cache *c, const char *name, uint64_t now_ms, struct kl_dns_addrs *out)
{
	char key[KL_DNS_NAME];
	struct kl_dns_entry *e;

	if (norm(name, key) < 0 || !(e = find(c, key, name_hash(key)))) {
		c->misses++;
		return KL_ENOTFOUND;
	}
	if (e->expires_ms <= now_ms) {
		e->name[0] = 0;
		c->misses++;
		return KL_ENOTFOUND;
	}
	e->used = ++c->tick;
	*out = e->addrs;
	c->hits++;
	return 0;
}

/* see dns.h */
void kl_dns_cache_put(struct kl_dns_cache *c, const char *name, const struct kl_dns_addrs *a,
		      uint32_t ttl_s, uint64_t now_ms)
{
	char key[KL_DNS_NAME];
	struct kl_dns_entry *e, *victim = NULL;
	uint32_t h;

	if (c->cap == 0 || a->n == 0 || norm(name, key) < 0)
		return;
	h = name_hash(key);
	e = find(c, key, h);
	if (!e) {
		/* An empty or expired slot first; else the least recently used. */
		for (uint32_t i = 0; i < c->cap; i++) {
			struct kl_dns_entry *x = &c->e[i];
			if (!x->name[0] || x->expires_ms <= now_ms) {
				victim = x;
				break;
			}
			if (!victim || x->used < victim->used)
				victim = x;
		}
		if (victim->name[0] && victim->expires_ms > now_ms)
			c->evictions++;
		e = victim;
		memcpy(e->name, key, strlen(key) + 1);
		e->hash = h;
	}
	ttl_s = KL_MAX(ttl_s, (uint32_t)KL_DNS_TTL_MIN_S);
	ttl_s = KL_MIN(ttl_s, (uint32_t)KL_DNS_TTL_MAX_S);
	e->expires_ms = now_ms + (uint64_t)ttl_s * 1000;
	e->used = ++c->tick;
	e->addrs = *a;
}

/* ---------------- literal addresses ---------------- */

/* see dns.h */
int kl_dns_literal(const char *host, uint8_t ip[16])
{
	char tmp[64];
	size_t n = strlen(host);
	struct in_addr v4;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return KL_EINVAL;
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = 0;
		return inet_pton(AF_INET6, tmp, ip) == 1 ? 0 : KL_EINVAL;
	}
	if (inet_pton(AF_INET, host, &v4) == 1) {
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, host, ip) == 1 ? 0 : KL_EINVAL;
}

/* ---------------- c-ares glue ---------------- */

/* c-ares' allocator hooks carry no context: one resolver per process. */
struct kl_heap kl_dns_heap;
#define heap kl_dns_heap
static int lib_ready;

static void *h_malloc(size_t n) { return kl_heap_alloc(&heap, n); }
static void  h_free(void *p) { kl_heap_free(&heap, p); }
static void *h_realloc(void *p, size_t n) { return kl_heap_realloc(&heap, p, n); }

static void rearm(struct kl_dns *d);

static void on_timer(struct kl_ev *ev, struct kl_timer *t, void *ud)
{
	struct kl_dns *d = ud;

	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(d);
}

/* Keeps one kl_timer on c-ares' next retransmission deadline. */
static void rearm(struct kl_dns *d)
{
	struct timeval tv, *tp;
	uint32_t ms;

	if (!d->channel)
		return;
	tp = ares_timeout(d->channel, NULL, &tv);
	if (!tp) {
		kl_timer_cancel(d->ev, &d->timer);
		return;
	}
	ms = (uint32_t)tp->tv_sec * 1000u + (uint32_t)(tp->tv_usec + 999) / 1000u;
	kl_timer_arm(d->ev, &d->timer, ms, on_timer, d);
}

static void on_sock(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct kl_dns *d = ud;

	ares_process_fd(d->channel, (what & (KL_EV_RD | KL_EV_ERR)) ? fd : ARES_SOCKET_BAD,
			(what & KL_EV_WR) ? fd : ARES_SOCKET_BAD);
	rearm(d);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct kl_dns *d = data;
	unsigned want = (readable ? KL_EV_RD : 0) | (writable ? KL_EV_WR : 0);

	if (!want) {
		kl_ev_del(d->ev, fd);
		return;
	}
	if (kl_ev_watched(d->ev, fd))
		kl_ev_want(d->ev, fd, want);
	else if (kl_ev_add(d->ev, fd, want, on_sock, d) < 0)
		/* Out of loop slots: c-ares times the query out. */
		kl_log(KL_LOG_WARN, "dns: cannot watch resolver socket %d", fd);
}

static int map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS: return 0;
	case ARES_ENOTFOUND: case ARES_ENODATA: case ARES_ENONAME: case ARES_EBADNAME:
		return KL_ENOTFOUND;
	case ARES_ETIMEOUT: return KL_ETIMEDOUT;
	case ARES_ECANCELLED: case ARES_EDESTRUCTION: return KL_ECLOSED;
	case ARES_ENOMEM: return KL_ENOMEM;
	default: return KL_EIO;
	}
}

/* Delivers a finished lookup: to the caller still inside resolve(), or to cb. */
static void query_finish(struct kl_dns_query *q, int rc, const struct kl_dns_addrs *addrs, uint32_t ttl)
{
	struct kl_dns *d = q->d;
	kl_dns_fn *cb = q->cb;
	void *ud = q->ud;

	if (rc == 0)
		kl_dns_cache_put(&d->cache, q->name, addrs, ttl, kl_ev_now(d->ev));
	else if (rc != KL_ECLOSED)
		kl_metric_inc(&d->failures);
	if (q->sync) {
		q->sync = 0;
		q->sync_rc = rc;
		if (rc == 0)
			*q->sync_out = *addrs;
		return;         /* resolve() frees the slot */
	}
	q->busy = 0;
	q->cb = NULL;
	q->gen++;
	d->inflight--;
	kl_metric_set(&d->pending, d->inflight);
	if (cb)
		cb(ud, rc, addrs);
}

static void query_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct kl_dns_query *q = arg;
	struct kl_dns_addrs addrs;
	uint32_t ttl = KL_DNS_TTL_MAX_S;
	int rc = map_status(status);

	memset(&addrs, 0, sizeof(addrs));
	if (rc == 0 && res) {
		for (struct ares_addrinfo_node *n = res->nodes; n && addrs.n < KL_DNS_MAX_ADDRS; n = n->ai_next) {
			uint8_t *ip = addrs.ip[addrs.n];
			if (n->ai_family == AF_INET) {
				const struct sockaddr_in *s = (const void *)n->ai_addr;
				memset(ip, 0, 10);
				ip[10] = ip[11] = 0xff;
				memcpy(ip + 12, &s->sin_addr, 4);
			} else if (n->ai_family == AF_INET6) {
				const struct sockaddr_in6 *s = (const void *)n->ai_addr;
				memcpy(ip, &s->sin6_addr, 16);
			} else {
				continue;
			}
			if (n->ai_ttl >= 0 && (uint32_t)n->ai_ttl < ttl)
				ttl = (uint32_t)n->ai_ttl;
			addrs.n++;
		}
		if (addrs.n == 0)
			rc = KL_ENOTFOUND;
	}
	if (res)
		ares_freeaddrinfo(res);
	query_finish(q, rc, &addrs, ttl);
}

/* see dns.h */
size_t kl_dns_mem_size(uint32_t cache_entries)
{
	return KL_ALIGN_UP((size_t)cache_entries * sizeof(struct kl_dns_entry), 16) +
	       KL_ALIGN_UP((size_t)KL_DNS_MAX_QUERIES * sizeof(struct kl_dns_query), 16);
}

/* see dns.h */
int kl_dns_init(struct kl_dns *d, struct kl_ev *ev, void *heap_mem, size_t heap_len, void *mem,
		uint32_t cache_entries, char err[KL_ERRLEN])
{
	struct ares_options o;
	ares_channel ch;
	uint8_t *p = mem;
	int rc;

	memset(d, 0, sizeof(*d));
	d->ev = ev;
	kl_dns_cache_init(&d->cache, (struct kl_dns_entry *)p, cache_entries);
	p += KL_ALIGN_UP((size_t)cache_entries * sizeof(struct kl_dns_entry), 16);
	d->q = (struct kl_dns_query *)p;
	d->nq = KL_DNS_MAX_QUERIES;
	memset(d->q, 0, (size_t)d->nq * sizeof(*d->q));

	if (!lib_ready) {
		kl_heap_init(&heap, heap_mem, heap_len);
		rc = ares_library_init_mem(ARES_LIB_INIT_ALL, h_malloc, h_free, h_realloc);
		if (rc != ARES_SUCCESS) {
			snprintf(err, KL_ERRLEN, "dns: c-ares init: %s", ares_strerror(rc));
			return KL_EIO;
		}
		lib_ready = 1;
	}
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = KL_DNS_TIMEOUT_MS;
	o.tries = 2;
	rc = ares_init_options(&ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		snprintf(err, KL_ERRLEN, "dns: c-ares channel: %s", ares_strerror(rc));
		return KL_EIO;
	}
	d->channel = ch;
	kl_metric_init(&d->lookups, "kinglet_dns_lookups_total", "Name lookups (cache hits included).",
		       KL_METRIC_COUNTER, "%s", "");
	kl_metric_init(&d->hits, "kinglet_dns_cache_hits_total", "Lookups answered from the cache.",
		       KL_METRIC_COUNTER, "%s", "");
	kl_metric_init(&d->failures, "kinglet_dns_failures_total", "Lookups that found no address.",
		       KL_METRIC_COUNTER, "%s", "");
	kl_metric_init(&d->refused, "kinglet_dns_refused_total", "Lookups refused: all query slots busy.",
		       KL_METRIC_COUNTER, "%s", "");
	kl_metric_init(&d->pending, "kinglet_dns_inflight", "Lookups in flight.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_register(&d->lookups);
	kl_metric_register(&d->hits);
	kl_metric_register(&d->failures);
	kl_metric_register(&d->refused);
	kl_metric_register(&d->pending);
	return 0;
}

/* see dns.h */
void kl_dns_reset(struct kl_dns *d)
{
	if (d->channel) {
		/* Pending callbacks run with KL_ECLOSED; owners MUST have cancelled. */
		ares_destroy(d->channel);
		d->channel = NULL;
	}
	kl_timer_cancel(d->ev, &d->timer);
}

/* see dns.h */
int kl_dns_resolve(struct kl_dns *d, const char *host, kl_dns_fn *cb, void *ud,
		   struct kl_dns_addrs *out, uint32_t *handle)
{
	struct ares_addrinfo_hints hints;
	struct kl_dns_query *q = NULL;
	uint32_t i;
	int rc;

	*handle = 0;
	memset(out, 0, sizeof(*out));
	if (kl_dns_literal(host, out->ip[0]) == 0) {
		out->n = 1;
		return 0;
	}
	kl_metric_inc(&d->lookups);
	if (kl_dns_cache_get(&d->cache, host, kl_ev_now(d->ev), out) == 0) {
		kl_metric_inc(&d->hits);
		return 0;
	}
	if (strlen(host) >= KL_DNS_NAME || !d->channel)
		return KL_EINVAL;
	for (i = 0; i < d->nq; i++)
		if (!d->q[i].busy) {
			q = &d->q[i];
			break;
		}
	if (!q) {
		kl_metric_inc(&d->refused);
		return KL_ENOMEM;
	}
	q->d = d;
	q->busy = 1;
	q->cb = cb;
	q->ud = ud;
	q->sync = 1;
	q->sync_rc = KL_AGAIN;
	q->sync_out = out;
	norm(host, q->name);
	d->inflight++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(d->channel, q->name, NULL, &hints, query_done, q);
	if (q->sync_rc != KL_AGAIN) {
		/* Answered inside the call (hosts file, bad name, no memory). */
		rc = q->sync_rc;
		q->busy = 0;
		q->cb = NULL;
		q->gen++;
		d->inflight--;
		rearm(d);
		return rc;
	}
	q->sync = 0;
	kl_metric_set(&d->pending, d->inflight);
	*handle = ((uint32_t)q->gen << 16) | (i + 1);
	rearm(d);
	return KL_AGAIN;
}

/* see dns.h */
void kl_dns_cancel(struct kl_dns *d, uint32_t handle)
{
	uint32_t i = (handle & 0xffff);

	if (i == 0 || i > d->nq)
		return;
	if (d->q[i - 1].busy && d->q[i - 1].gen == (uint16_t)(handle >> 16))
		d->q[i - 1].cb = NULL;  /* the slot stays busy until c-ares is done with it */
}

/* see dns.h */
int kl_dns_set_servers(struct kl_dns *d, const char *csv)
{
	return ares_set_servers_ports_csv(d->channel, csv) == ARES_SUCCESS ? 0 : KL_EINVAL;
}
