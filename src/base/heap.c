/* heap.c - first-fit allocator with boundary tags and coalescing. */
/* SPDX-License-Identifier: MIT */
#include "base/heap.h"
#include "base/kl.h"

#include <string.h>

#define USED ((size_t)1)

struct blk {
	size_t size;            /* whole block incl. header; low bit = used */
	size_t prev_size;       /* size of the block just below, 0 for the first */
	/* free blocks only: */
	struct blk *next, *prev;
};

static size_t bsize(const struct blk *b) { return b->size & ~USED; }
static int    bused(const struct blk *b) { return (int)(b->size & USED); }
static struct blk *after(struct blk *b) { return (struct blk *)((uint8_t *)b + bsize(b)); }
static struct blk *before(struct blk *b) { return (struct blk *)((uint8_t *)b - b->prev_size); }
static struct blk *of(const void *p) { return (struct blk *)((uint8_t *)p - KL_HEAP_HDR); }

/* Block size for a request of n bytes; 0 on overflow. */
static size_t need(size_t n)
{
	if (n > SIZE_MAX / 2)
		return 0;
	n = KL_ALIGN_UP(n + KL_HEAP_HDR, 16);
	return n < sizeof(struct blk) ? KL_ALIGN_UP(sizeof(struct blk), 16) : n;
}

static void unlink_free(struct kl_heap *h, struct blk *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		h->free = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->next = b->prev = NULL;
}

/* Address order keeps first fit packing low addresses (less fragmentation). */
static void link_free(struct kl_heap *h, struct blk *b)
{
	struct blk *at = h->free, *prev = NULL;

	while (at && at < b) {
		prev = at;
		at = at->next;
	}
	b->prev = prev;
	b->next = at;
	if (prev)
		prev->next = b;
	else
		h->free = b;
	if (at)
		at->prev = b;
}

/* see heap.h */
void kl_heap_init(struct kl_heap *h, void *mem, size_t size)
{
	struct blk *b, *end;

	memset(h, 0, sizeof(*h));
	size &= ~(size_t)15;
	KL_ASSERT(size >= KL_HEAP_MIN_REGION && ((uintptr_t)mem & 15) == 0);
	h->base = mem;
	h->size = size;
	b = mem;
	b->size = size - KL_HEAP_HDR;
	b->prev_size = 0;
	b->next = b->prev = NULL;
	/* The end sentinel is a used zero-size header: no merge runs past it. */
	end = after(b);
	end->size = USED;
	end->prev_size = bsize(b);
	h->free = b;
}

/* Cuts b (free, not linked) down to sz and frees the tail if it is big enough. */
static void split(struct kl_heap *h, struct blk *b, size_t sz)
{
	size_t rest = bsize(b) - sz;
	struct blk *t;

	if (rest < sizeof(struct blk) + 16)
		return;
	b->size = sz | (b->size & USED);
	t = after(b);
	t->size = rest;
	t->prev_size = sz;
	after(t)->prev_size = rest;
	link_free(h, t);
}

/* see heap.h */
void *kl_heap_alloc(struct kl_heap *h, size_t n)
{
	size_t sz = need(n);
	struct blk *b;

	for (b = h->free; b && sz; b = b->next)
		if (bsize(b) >= sz)
			break;
	if (!b || !sz) {
		h->fails++;
		return NULL;
	}
	unlink_free(h, b);
	split(h, b, sz);
	b->size |= USED;
	h->used += bsize(b);
	h->live++;
	if (h->used > h->peak)
		h->peak = h->used;
	return (uint8_t *)b + KL_HEAP_HDR;
}

/* see heap.h */
void *kl_heap_calloc(struct kl_heap *h, size_t count, size_t n)
{
	void *p;

	if (n && count > SIZE_MAX / n) {
		h->fails++;
		return NULL;
	}
	p = kl_heap_alloc(h, count * n);
	if (p)
		memset(p, 0, count * n);
	return p;
}

/* see heap.h */
void kl_heap_free(struct kl_heap *h, void *p)
{
	struct blk *b, *n;

	if (!p)
		return;
	b = of(p);
	KL_ASSERT((uint8_t *)b >= h->base && (uint8_t *)b < h->base + h->size && bused(b));
	h->used -= bsize(b);
	h->live--;
	b->size &= ~USED;
	n = after(b);
	if (!bused(n)) {
		unlink_free(h, n);
		b->size += bsize(n);
	}
	if (b->prev_size && !bused(before(b))) {
		struct blk *pb = before(b);
		unlink_free(h, pb);
		pb->size += bsize(b);
		b = pb;
	}
	after(b)->prev_size = bsize(b);
	link_free(h, b);
}

/* see heap.h */
size_t kl_heap_usable(const void *p)
{
	return bsize(of(p)) - KL_HEAP_HDR;
}

/* see heap.h */
void *kl_heap_realloc(struct kl_heap *h, void *p, size_t n)
{
	struct blk *b, *nx;
	size_t sz = need(n), have;
	void *q;

	if (!p)
		return kl_heap_alloc(h, n);
	if (!sz) {
		h->fails++;
		return NULL;
	}
	b = of(p);
	have = bsize(b);
	if (sz <= have) {
		/* Shrink in place; give the tail back (merging it forward). */
		size_t before_sz = have;
		b->size = have & ~USED;
		split(h, b, sz);
		b->size |= USED;
		if (bsize(b) != before_sz) {
			struct blk *t = after(b);
			struct blk *tn = after(t);
			h->used -= before_sz - bsize(b);
			if (!bused(tn)) {
				unlink_free(h, tn);
				unlink_free(h, t);
				t->size += bsize(tn);
				after(t)->prev_size = bsize(t);
				link_free(h, t);
			}
		}
		return p;
	}
	nx = after(b);
	if (!bused(nx) && have + bsize(nx) >= sz) {
		/* Grow into the free neighbour. */
		unlink_free(h, nx);
		b->size = (have + bsize(nx));
		after(b)->prev_size = bsize(b);
		split(h, b, sz);
		b->size |= USED;
		h->used += bsize(b) - have;
		if (h->used > h->peak)
			h->peak = h->used;
		return p;
	}
	q = kl_heap_alloc(h, n);
	if (!q)
		return NULL;
	memcpy(q, p, have - KL_HEAP_HDR);
	kl_heap_free(h, p);
	return q;
}

/* see heap.h */
int kl_heap_check(const struct kl_heap *h)
{
	struct blk *b = (struct blk *)h->base, *f, *prev = NULL;
	size_t prev_size = 0, used = 0, nfree = 0, nlist = 0;
	uint32_t live = 0;
	int prev_free = 0;

	while (bsize(b) != 0) {
		if ((uint8_t *)b + bsize(b) > h->base + h->size || bsize(b) % 16 || b->prev_size != prev_size)
			return KL_ECORRUPT;
		if (bused(b)) {
			used += bsize(b);
			live++;
			prev_free = 0;
		} else {
			if (prev_free)
				return KL_ECORRUPT;     /* two adjacent free blocks: a missed merge */
			nfree++;
			prev_free = 1;
		}
		prev_size = bsize(b);
		b = after(b);
	}
	if ((uint8_t *)b != h->base + h->size - KL_HEAP_HDR || !bused(b) || b->prev_size != prev_size)
		return KL_ECORRUPT;
	for (f = h->free; f; f = f->next) {
		if (bused(f) || f->prev != prev || (prev && prev >= f))
			return KL_ECORRUPT;
		prev = f;
		nlist++;
	}
	if (nlist != nfree || used != h->used || live != h->live)
		return KL_ECORRUPT;
	return 0;
}

/* see heap.h */
size_t kl_heap_largest(const struct kl_heap *h)
{
	size_t best = 0;

	for (struct blk *b = h->free; b; b = b->next)
		if (bsize(b) > best)
			best = bsize(b);
	return best > KL_HEAP_HDR ? best - KL_HEAP_HDR : 0;
}
