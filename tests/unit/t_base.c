/* t_base.c - arena, pool, ring buffer and metrics. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/kl.h"
#include "base/metric.h"
#include "base/pool.h"

#include <stdlib.h>

static _Alignas(16) uint8_t mem[4096];

static void test_arena(void)
{
	struct kl_arena a;
	void *p, *q, *r;

	kl_arena_init(&a, mem, sizeof(mem));
	p = kl_arena_alloc(&a, 100);
	T_OK(p != NULL && ((uintptr_t)p & 15) == 0, "arena: aligned block");
	q = kl_arena_alloc(&a, 5000);
	T_OK(q == NULL && a.fails == 1, "arena: over-size request refused and counted");
	q = kl_arena_alloc(&a, 200);
	memset(q, 0xab, 200);
	r = kl_arena_realloc(&a, q, 400);
	T_OK(r == q, "arena: last block grows in place");
	kl_arena_free(&a, r);
	T_EQ_INT(a.used, kl_arena_cost(100), "arena: LIFO free gives the top block back");
	r = kl_arena_realloc(&a, p, 50);
	T_OK(r == p, "arena: shrinking realloc keeps the block");
	kl_arena_reset(&a);
	T_EQ_INT(a.used, 0, "arena: reset empties");
	T_OK(a.peak >= kl_arena_cost(100) + kl_arena_cost(400), "arena: peak kept across reset");
	/* exactly full: one block taking the whole arena */
	p = kl_arena_alloc(&a, sizeof(mem) - 16);
	T_OK(p != NULL && kl_arena_avail(&a) == 0, "arena: block of exactly the capacity fits");
	kl_arena_reset(&a);
	T_OK(kl_arena_alloc(&a, sizeof(mem) - 15) == NULL, "arena: one byte more does not");
	T_OK(kl_arena_calloc(&a, (size_t)-1 / 2, 4) == NULL, "arena: calloc overflow refused");
}

static void test_pool(void)
{
	struct kl_pool p;
	void *b[4];

	kl_pool_init(&p, "test", mem, 100, 3);
	T_EQ_INT(p.size, 112, "pool: block size rounded to 16");
	T_EQ_INT(kl_pool_mem_size(100, 3), 336, "pool: region size");
	b[0] = kl_pool_get(&p);
	b[1] = kl_pool_get(&p);
	b[2] = kl_pool_get(&p);
	b[3] = kl_pool_get(&p);
	T_OK(b[0] && b[1] && b[2] && b[3] == NULL, "pool: exhausted pool refuses cleanly");
	T_EQ_INT(p.fails, 1, "pool: refusal counted");
	T_EQ_INT(p.used, 3, "pool: used");
	kl_pool_put(&p, b[1]);
	kl_pool_put(&p, b[2]);
	T_OK(kl_pool_get(&p) == b[2], "pool: LIFO reuse of the hottest block");
	T_EQ_INT(p.peak, 3, "pool: peak");
	T_OK(kl_pool_owns(&p, b[0]) && !kl_pool_owns(&p, mem + 8), "pool: owns");
}

static void test_buf(void)
{
	static uint8_t area[8];
	struct kl_buf b = { area, sizeof(area), 0, 0 };
	struct kl_buf null_buf = { 0 };
	uint8_t out[16];
	size_t n, room;
	const uint8_t *r;

	T_OK(kl_buf_wptr(&null_buf, &room) == NULL && room == 0, "buf: all-zero is no buffer");
	T_EQ_INT(kl_buf_put(&b, "abcdef", 6), 6, "buf: put");
	r = kl_buf_rptr(&b, &n);
	T_OK(n == 6 && memcmp(r, "abcdef", 6) == 0, "buf: read back");
	kl_buf_rack(&b, 4);
	T_EQ_INT(kl_buf_put(&b, "ghijklmn", 8), 6, "buf: wraps, fills to capacity");
	r = kl_buf_rptr(&b, &n);
	T_EQ_INT(n, 4, "buf: contiguous part up to the end");
	memcpy(out, r, n);
	kl_buf_rack(&b, n);
	r = kl_buf_rptr(&b, &n);
	memcpy(out + 4, r, n);
	kl_buf_rack(&b, n);
	T_EQ_MEM(out, "efghijkl", 8, "buf: order kept across the wrap");
	T_OK(b.len == 0 && b.head == 0, "buf: empty resets head");
}

static void test_metrics(void)
{
	static struct kl_metric a, b, c;
	static struct kl_pool p;
	static struct kl_hist h;
	static char out[8192];
	long n;

	kl_metric_registry_reset();
	kl_pool_registry_reset();
	kl_metric_init(&a, "kinglet_x_total", "X things.", KL_METRIC_COUNTER, "listener=\"%s\"", "a");
	kl_metric_init(&b, "kinglet_y", "Y level.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&c, "kinglet_x_total", "X things.", KL_METRIC_COUNTER, "listener=\"%s\"", "b");
	kl_metric_register(&a);
	kl_metric_register(&b);
	kl_metric_register(&c);
	kl_metric_add(&a, 5);
	kl_metric_set(&b, 7);
	kl_hist_init(&h, "kinglet_job_seconds", "Job time.", "");
	kl_hist_register(&h);
	kl_hist_observe(&h, 0.02);
	kl_pool_init(&p, "relay.buf", mem, 16, 4);
	kl_pool_register(&p);
	n = kl_metrics_format(out, sizeof(out));
	T_OK(n > 0, "metrics: formatted");
	T_OK(strstr(out, "# TYPE kinglet_x_total counter\nkinglet_x_total{listener=\"a\"} 5\n"
			 "kinglet_x_total{listener=\"b\"} 0\n") != NULL, "metrics: family grouped under one header");
	T_OK(strstr(out, "kinglet_y 7\n") != NULL, "metrics: unlabelled gauge");
	T_OK(strstr(out, "kinglet_job_seconds_bucket{le=\"0.025\"} 1\n") != NULL, "metrics: histogram bucket");
	T_OK(strstr(out, "kinglet_pool_capacity{pool=\"relay.buf\"} 4\n") != NULL, "metrics: pool capacity");
	T_EQ_INT(kl_metrics_format(out, 40), KL_ETOOBIG, "metrics: short buffer reported");
}

int main(void)
{
	test_arena();
	test_pool();
	test_buf();
	test_metrics();
	return T_DONE();
}
