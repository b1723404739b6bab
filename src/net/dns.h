/* dns.h - non-blocking name resolution inside the poll loop (c-ares), with a small cache. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_DNS_H
#define KL_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "base/heap.h"
#include "base/metric.h"
#include "ev/ev.h"

/*
 * c-ares does the protocol work; its sockets join the loop through the
 * socket-state callback and its retransmissions run on one kl_timer, so a
 * lookup never blocks. All memory comes from the plan: c-ares allocates
 * from a kl_heap over the "dns.heap" region (ares_library_init_mem), and
 * the cache entries and lookup slots are carved from "dns.cache".
 *
 * Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d (kp_addr_ip16 layout),
 * in the order the resolver returned them (c-ares sorts per RFC 6724).
 *
 * Limits, by design: at most KL_DNS_MAX_ADDRS addresses per name; failures
 * are not cached; one process-wide resolver (c-ares' allocator hooks are
 * process-wide).
 */
#define KL_DNS_MAX_ADDRS   4
#define KL_DNS_NAME        256          /* longest name + NUL */
#define KL_DNS_MAX_QUERIES 32           /* lookups in flight */
#define KL_DNS_HEAP_BYTES  (256u << 10) /* c-ares' allocations */
#define KL_DNS_TTL_MIN_S   5            /* /etc/hosts answers carry no TTL */
#define KL_DNS_TTL_MAX_S   3600
#define KL_DNS_TIMEOUT_MS  2000         /* per try; c-ares makes 2 tries per server */

struct kl_dns_addrs {
	uint32_t n;
	uint8_t ip[KL_DNS_MAX_ADDRS][16];
};

/* ---- cache: fixed entries, TTL-honouring, least recently used evicted ---- */

struct kl_dns_entry {
	char name[KL_DNS_NAME];         /* lower-case; "" = empty slot */
	uint32_t hash;
	uint64_t expires_ms;
	uint64_t used;                  /* LRU stamp */
	struct kl_dns_addrs addrs;
};

struct kl_dns_cache {
	struct kl_dns_entry *e;
	uint32_t cap;
	uint64_t tick;
	uint64_t hits, misses, evictions;
};

/* mem MUST hold cap entries (cap may be 0: caching off). */
void kl_dns_cache_init(struct kl_dns_cache *c, struct kl_dns_entry *mem, uint32_t cap);
/* 0 and *out on a live entry; KL_ENOTFOUND when absent or expired (the slot is freed). */
int  kl_dns_cache_get(struct kl_dns_cache *c, const char *name, uint64_t now_ms, struct kl_dns_addrs *out);
/* Stores (or refreshes) name for ttl_s clamped to [TTL_MIN, TTL_MAX]; evicts expired, then LRU. */
void kl_dns_cache_put(struct kl_dns_cache *c, const char *name, const struct kl_dns_addrs *a,
		      uint32_t ttl_s, uint64_t now_ms);

/* ---- resolver ---- */

/*
 * Called once per pending lookup unless cancelled first: rc 0 with addrs,
 * KL_ENOTFOUND (no such name / no address), KL_ETIMEDOUT, KL_EIO (server
 * failure, no memory in the dns heap).
 */
typedef void kl_dns_fn(void *ud, int rc, const struct kl_dns_addrs *addrs);

struct kl_dns;

struct kl_dns_query {
	struct kl_dns *d;
	kl_dns_fn *cb;                  /* NULL once cancelled */
	void *ud;
	uint16_t gen;                   /* handle = (gen << 16) | (index + 1) */
	uint8_t busy, sync;             /* sync: inside ares_getaddrinfo() */
	int sync_rc;
	struct kl_dns_addrs *sync_out;
	char name[KL_DNS_NAME];
};

struct kl_dns {
	struct kl_ev *ev;
	void *channel;                  /* ares_channel */
	struct kl_timer timer;
	struct kl_dns_cache cache;
	struct kl_dns_query *q;
	uint32_t nq, inflight;
	struct kl_metric lookups, hits, failures, refused, pending;
};

/* Bytes of "dns.cache" for cache_entries entries and the query slots. */
size_t kl_dns_mem_size(uint32_t cache_entries);

/*
 * Initialises c-ares with its allocator on heap_mem (16-aligned,
 * KL_DNS_HEAP_BYTES) and the cache and query slots on mem
 * (kl_dns_mem_size bytes, 16-aligned); registers the dns metrics.
 * Returns 0 or KL_EIO with err set (no resolver configuration...).
 */
int  kl_dns_init(struct kl_dns *d, struct kl_ev *ev, void *heap_mem, size_t heap_len, void *mem,
		 uint32_t cache_entries, char err[KL_ERRLEN]);
void kl_dns_reset(struct kl_dns *d);
/* Replaces the servers from resolv.conf ("127.0.0.1:5353,[::1]:53"); tests use it. */
int  kl_dns_set_servers(struct kl_dns *d, const char *csv);

/* The heap c-ares allocates from (metrics, tests). */
extern struct kl_heap kl_dns_heap;

/* Parses a literal IPv4 or IPv6 address ("[::1]" too) into ip16. 0 or KL_EINVAL. */
int  kl_dns_literal(const char *host, uint8_t ip[16]);

/*
 * Resolves host (A and AAAA). Returns:
 *   0            *out holds the answer now (literal, cache hit, /etc/hosts);
 *   KL_AGAIN     pending: cb(ud, ...) runs later, *handle cancels it;
 *   KL_ENOMEM    KL_DNS_MAX_QUERIES lookups in flight: refuse the work;
 *   other < 0    failed now (KL_EINVAL for a name longer than 255).
 * out MUST stay valid only for the duration of the call.
 */
int  kl_dns_resolve(struct kl_dns *d, const char *host, kl_dns_fn *cb, void *ud,
		    struct kl_dns_addrs *out, uint32_t *handle);
/* After this, the callback of handle never runs. Harmless on a stale handle. */
void kl_dns_cancel(struct kl_dns *d, uint32_t handle);

#endif
