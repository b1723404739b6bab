/* t_dns.c - the name cache (TTL, LRU), literals, and c-ares on the loop without outside queries. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "net/dns.h"
#include "port.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

static struct kl_dns_addrs one(uint8_t last)
{
	struct kl_dns_addrs a = { 0 };
	a.n = 1;
	a.ip[0][10] = a.ip[0][11] = 0xff;
	a.ip[0][12] = 192;
	a.ip[0][15] = last;
	return a;
}

static void test_cache(void)
{
	static struct kl_dns_entry e[3];
	struct kl_dns_cache c;
	struct kl_dns_addrs a = one(1), b = one(2), got;

	kl_dns_cache_init(&c, e, 3);
	T_EQ_INT(kl_dns_cache_get(&c, "example.com", 0, &got), KL_ENOTFOUND, "cache: empty misses");
	kl_dns_cache_put(&c, "Example.COM.", &a, 60, 1000);
	T_OK(kl_dns_cache_get(&c, "example.com", 2000, &got) == 0 && got.ip[0][15] == 1,
	     "cache: hit, case and trailing dot ignored");
	T_OK(kl_dns_cache_get(&c, "example.com", 1000 + 59999, &got) == 0, "cache: live until the TTL");
	T_EQ_INT(kl_dns_cache_get(&c, "example.com", 1000 + 60000, &got), KL_ENOTFOUND, "cache: expired at the TTL");
	kl_dns_cache_put(&c, "zero.ttl", &a, 0, 0);
	T_OK(kl_dns_cache_get(&c, "zero.ttl", KL_DNS_TTL_MIN_S * 1000 - 1, &got) == 0,
	     "cache: TTL 0 raised to the minimum");
	kl_dns_cache_put(&c, "long.ttl", &a, 999999, 0);
	T_EQ_INT(kl_dns_cache_get(&c, "long.ttl", (uint64_t)KL_DNS_TTL_MAX_S * 1000, &got), KL_ENOTFOUND,
		 "cache: TTL capped at the maximum");

	kl_dns_cache_init(&c, e, 3);
	kl_dns_cache_put(&c, "a", &a, 60, 0);
	kl_dns_cache_put(&c, "b", &a, 60, 0);
	kl_dns_cache_put(&c, "c", &a, 60, 0);
	kl_dns_cache_get(&c, "a", 1, &got);    /* a is now more recent than b */
	kl_dns_cache_put(&c, "d", &b, 60, 1);
	T_OK(kl_dns_cache_get(&c, "b", 2, &got) == KL_ENOTFOUND && kl_dns_cache_get(&c, "a", 2, &got) == 0 &&
	     kl_dns_cache_get(&c, "d", 2, &got) == 0, "cache: least recently used evicted");
	T_EQ_INT(c.evictions, 1, "cache: eviction counted");
	kl_dns_cache_put(&c, "a", &b, 60, 3);
	T_OK(kl_dns_cache_get(&c, "a", 4, &got) == 0 && got.ip[0][15] == 2, "cache: put refreshes in place");
	{
		char longname[300];
		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		kl_dns_cache_put(&c, longname, &a, 60, 0);
		T_EQ_INT(kl_dns_cache_get(&c, longname, 0, &got), KL_ENOTFOUND, "cache: over-long names never stored");
	}
	kl_dns_cache_init(&c, NULL, 0);
	kl_dns_cache_put(&c, "a", &a, 60, 0);
	T_EQ_INT(kl_dns_cache_get(&c, "a", 0, &got), KL_ENOTFOUND, "cache: zero entries means caching off");
}

static void test_literal(void)
{
	uint8_t ip[16];
	static const uint8_t v4[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1, [14] = 2, [15] = 3 };
	static const uint8_t lo6[16] = { [15] = 1 };

	T_OK(kl_dns_literal("10.1.2.3", ip) == 0 && memcmp(ip, v4, 16) == 0, "literal: IPv4 mapped");
	T_OK(kl_dns_literal("::1", ip) == 0 && memcmp(ip, lo6, 16) == 0, "literal: IPv6");
	T_OK(kl_dns_literal("[::1]", ip) == 0 && memcmp(ip, lo6, 16) == 0, "literal: bracketed IPv6");
	T_OK(kl_dns_literal("::ffff:10.1.2.3", ip) == 0 && memcmp(ip, v4, 16) == 0, "literal: v4-mapped IPv6");
	T_EQ_INT(kl_dns_literal("localhost", ip), KL_EINVAL, "literal: a name is not a literal");
	T_EQ_INT(kl_dns_literal("1.2.3", ip), KL_EINVAL, "literal: short IPv4 refused");
}

static _Alignas(16) uint8_t evmem[1 << 16], heapmem[KL_DNS_HEAP_BYTES], cmem[1 << 16];
static struct kl_ev ev;
static struct kl_dns dns;
static int calls, last_rc;

static void on_dns(void *ud, int rc, const struct kl_dns_addrs *a)
{
	calls++;
	last_rc = rc;
}

static void test_resolver(void)
{
	char err[KL_ERRLEN];
	struct kl_dns_addrs out;
	uint32_t h, h2;
	int rc, u, port;
	struct sockaddr_in sa = { 0 };
	socklen_t sl = sizeof(sa);
	char csv[64];

	kl_ev_init(&ev, evmem, sizeof(evmem), 64, 16);
	T_OK(kl_dns_mem_size(16) <= sizeof(cmem), "resolver: memory fits");
	rc = kl_dns_init(&dns, &ev, heapmem, sizeof(heapmem), cmem, 16, err);
	T_EQ_INT(rc, 0, "resolver: init with c-ares on the plan heap");
	/* A silent local "server" so no query ever leaves the machine. */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	bind(u, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(u, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	snprintf(csv, sizeof(csv), "127.0.0.1:%d", port);
	T_EQ_INT(kl_dns_set_servers(&dns, csv), 0, "resolver: servers replaced by a local one");

	rc = kl_dns_resolve(&dns, "127.0.0.1", on_dns, NULL, &out, &h);
	T_OK(rc == 0 && out.n == 1 && out.ip[0][12] == 127, "resolver: literal skips DNS");
	rc = kl_dns_resolve(&dns, "localhost", on_dns, NULL, &out, &h);
	if (rc == KL_AGAIN) {
		for (int i = 0; i < 100 && calls == 0; i++)
			kl_ev_run_once(&ev, 50);
		rc = last_rc;
	}
	T_EQ_INT(rc, 0, "resolver: localhost from /etc/hosts");
	T_OK(out.n >= 1 || calls == 1, "resolver: at least one address");
	rc = kl_dns_resolve(&dns, "LOCALHOST", on_dns, NULL, &out, &h);
	T_OK(rc == 0 && dns.hits.v == 1, "resolver: second lookup from the cache");
	T_OK(kl_dns_heap.peak > 0, "resolver: c-ares allocated from the plan heap");

	calls = 0;
	rc = kl_dns_resolve(&dns, "nowhere.invalid", on_dns, NULL, &out, &h);
	T_EQ_INT(rc, KL_AGAIN, "resolver: unknown name goes to the (silent) server");
	rc = kl_dns_resolve(&dns, "nowhere2.invalid", on_dns, NULL, &out, &h2);
	kl_dns_cancel(&dns, h);
	T_EQ_INT(dns.inflight, 2, "resolver: two lookups in flight");
	{
		uint64_t t0 = kp_now_ms();
		while (dns.inflight > 0 && kp_now_ms() - t0 < 15000)
			kl_ev_run_once(&ev, 100);
	}
	T_EQ_INT(calls, 1, "resolver: cancelled lookup never called back, the other timed out");
	T_EQ_INT(last_rc, KL_ETIMEDOUT, "resolver: timeout reported");
	T_EQ_INT(dns.inflight, 0, "resolver: slots released");
	T_OK(kl_heap_check(&kl_dns_heap) == 0, "resolver: c-ares heap consistent");
	kl_dns_reset(&dns);
	close(u);
}

int main(void)
{
	test_cache();
	test_literal();
	test_resolver();
	return T_DONE();
}
