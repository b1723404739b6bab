/* t_heap.c - the fixed-region allocator: edges, coalescing, random stress against a shadow model. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/heap.h"
#include "base/kl.h"

#include <stdlib.h>

static _Alignas(16) uint8_t mem[1 << 16];

static void test_edges(void)
{
	struct kl_heap h;
	void *a, *b, *c, *big;

	kl_heap_init(&h, mem, sizeof(mem));
	T_OK(kl_heap_check(&h) == 0, "heap: fresh region is consistent");
	T_EQ_INT(kl_heap_largest(&h), sizeof(mem) - 2 * KL_HEAP_HDR, "heap: one free block minus header and sentinel");
	a = kl_heap_alloc(&h, 1);
	b = kl_heap_alloc(&h, 100);
	c = kl_heap_alloc(&h, 0);
	T_OK(a && b && c && ((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0, "heap: aligned blocks");
	T_OK(kl_heap_usable(b) >= 100, "heap: usable size covers the request");
	big = kl_heap_alloc(&h, sizeof(mem));
	T_OK(big == NULL && h.fails == 1, "heap: too large refused and counted");
	T_OK(kl_heap_alloc(&h, (size_t)-1) == NULL, "heap: size overflow refused");
	T_OK(kl_heap_calloc(&h, (size_t)-1 / 2, 4) == NULL, "heap: calloc overflow refused");
	kl_heap_free(&h, b);
	kl_heap_free(&h, a);
	kl_heap_free(&h, c);
	T_OK(kl_heap_check(&h) == 0 && h.used == 0 && h.live == 0, "heap: all freed");
	T_EQ_INT(kl_heap_largest(&h), sizeof(mem) - 2 * KL_HEAP_HDR, "heap: frees coalesce back to one block");
	/* exactly the largest fits, one more does not */
	a = kl_heap_alloc(&h, kl_heap_largest(&h));
	T_OK(a != NULL && kl_heap_largest(&h) == 0, "heap: a block of exactly the free space fits");
	kl_heap_free(&h, a);
	T_OK(kl_heap_alloc(&h, kl_heap_largest(&h) + 1) == NULL, "heap: one byte more does not");

	/* realloc: grow in place into a free neighbour, shrink in place, move */
	a = kl_heap_alloc(&h, 64);
	b = kl_heap_alloc(&h, 64);
	memset(a, 0x5a, 64);
	kl_heap_free(&h, b);
	c = kl_heap_realloc(&h, a, 120);
	T_OK(c == a && kl_heap_check(&h) == 0, "heap: realloc grows in place");
	c = kl_heap_realloc(&h, a, 16);
	T_OK(c == a && kl_heap_check(&h) == 0 && ((uint8_t *)c)[15] == 0x5a, "heap: realloc shrinks in place");
	b = kl_heap_alloc(&h, 16);
	c = kl_heap_realloc(&h, a, 4000);
	T_OK(c && c != a && ((uint8_t *)c)[0] == 0x5a && kl_heap_check(&h) == 0, "heap: realloc moves and keeps data");
	T_OK(kl_heap_realloc(&h, c, sizeof(mem)) == NULL && ((uint8_t *)c)[0] == 0x5a,
	     "heap: failed realloc leaves the block");
	kl_heap_free(&h, c);
	kl_heap_free(&h, b);
	T_OK(kl_heap_realloc(&h, NULL, 10) != NULL, "heap: realloc(NULL) allocates");
}

/* Random alloc/realloc/free; each live block holds a pattern that must survive. */
static void test_stress(void)
{
	enum { SLOTS = 256, ROUNDS = 200000 };
	static struct { uint8_t *p; size_t n; uint8_t tag; } s[SLOTS];
	struct kl_heap h;
	int bad_data = 0, bad_check = 0, bad_overlap = 0;
	size_t model_used = 0;
	unsigned fails = 0;

	kl_heap_init(&h, mem, sizeof(mem));
	srand(12345);
	for (int r = 0; r < ROUNDS; r++) {
		int i = rand() % SLOTS, op = rand() % 3;
		size_t n = (rand() % 8 == 0) ? (size_t)(rand() % 4000) : (size_t)(rand() % 200);

		if (s[i].p) {
			for (size_t k = 0; k < s[i].n; k++)
				if (s[i].p[k] != (uint8_t)(s[i].tag + k)) {
					bad_data++;
					break;
				}
		}
		if (s[i].p && op == 0) {
			kl_heap_free(&h, s[i].p);
			model_used -= s[i].n;
			s[i].p = NULL;
		} else if (s[i].p && op == 1) {
			uint8_t *q = kl_heap_realloc(&h, s[i].p, n);
			if (q) {
				size_t keep = KL_MIN(n, s[i].n);
				for (size_t k = keep; k < n; k++)
					q[k] = (uint8_t)(s[i].tag + k);
				model_used += n - s[i].n;
				s[i].p = q;
				s[i].n = n;
			} else {
				fails++;
			}
		} else if (!s[i].p) {
			uint8_t *q = kl_heap_alloc(&h, n);
			if (q) {
				s[i].p = q;
				s[i].n = n;
				s[i].tag = (uint8_t)rand();
				for (size_t k = 0; k < n; k++)
					q[k] = (uint8_t)(s[i].tag + k);
				model_used += n;
			} else {
				fails++;
			}
		}
		if (r % 997 == 0 && kl_heap_check(&h) != 0)
			bad_check++;
		if (r % 4999 == 0) {
			/* no two live blocks overlap */
			for (int a = 0; a < SLOTS; a++)
				for (int b = a + 1; b < SLOTS; b++)
					if (s[a].p && s[b].p && s[a].p < s[b].p + kl_heap_usable(s[b].p) &&
					    s[b].p < s[a].p + kl_heap_usable(s[a].p))
						bad_overlap++;
		}
	}
	T_EQ_INT(bad_data, 0, "heap stress: every live block kept its bytes");
	T_EQ_INT(bad_check, 0, "heap stress: invariants hold throughout");
	T_EQ_INT(bad_overlap, 0, "heap stress: live blocks never overlap");
	T_OK(h.used >= model_used, "heap stress: used covers the shadow model's bytes");
	T_OK(fails < ROUNDS / 10, "heap stress: few refusals in a 64 KB region (%u)", fails);
	for (int i = 0; i < SLOTS; i++)
		kl_heap_free(&h, s[i].p);
	T_OK(kl_heap_check(&h) == 0 && h.used == 0 && h.live == 0, "heap stress: empty after freeing all");
	T_EQ_INT(kl_heap_largest(&h), sizeof(mem) - 2 * KL_HEAP_HDR, "heap stress: no fragmentation left behind");
}

int main(void)
{
	test_edges();
	test_stress();
	return T_DONE();
}
