/* arena.c - bump allocator over a fixed region. */
/* SPDX-License-Identifier: MIT */
#include "base/arena.h"
#include "base/kl.h"

#include <string.h>

#define HDR KL_ARENA_ALIGN

/* see arena.h */
void kl_arena_init(struct kl_arena *a, void *mem, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->base = mem;
	a->size = size;
}

/* see arena.h */
size_t kl_arena_cost(size_t n)
{
	return HDR + KL_ALIGN_UP(n, KL_ARENA_ALIGN);
}

/* see arena.h */
void *kl_arena_alloc(struct kl_arena *a, size_t n)
{
	size_t need;
	uint8_t *p;

	if (n > a->size) {
		a->fails++;
		return NULL;
	}
	need = kl_arena_cost(n);
	if (need > a->size - a->used) {
		a->fails++;
		return NULL;
	}
	p = a->base + a->used;
	memcpy(p, &n, sizeof(n));
	a->used += need;
	if (a->used > a->peak)
		a->peak = a->used;
	return p + HDR;
}

/* see arena.h */
void *kl_arena_calloc(struct kl_arena *a, size_t count, size_t n)
{
	void *p;

	if (n && count > (size_t)-1 / n) {
		a->fails++;
		return NULL;
	}
	p = kl_arena_alloc(a, count * n);
	if (p)
		memset(p, 0, count * n);
	return p;
}

static size_t block_size(const void *p)
{
	size_t n;

	memcpy(&n, (const uint8_t *)p - HDR, sizeof(n));
	return n;
}

static int is_last(const struct kl_arena *a, const void *p)
{
	return (const uint8_t *)p - HDR + kl_arena_cost(block_size(p)) == a->base + a->used;
}

/* see arena.h */
void *kl_arena_realloc(struct kl_arena *a, void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return kl_arena_alloc(a, n);
	old = block_size(p);
	if (is_last(a, p)) {
		/* Grow or shrink in place: the block is on top of the stack. */
		size_t start = (size_t)((uint8_t *)p - HDR - a->base);
		if (n > a->size || kl_arena_cost(n) > a->size - start) {
			a->fails++;
			return NULL;
		}
		memcpy((uint8_t *)p - HDR, &n, sizeof(n));
		a->used = start + kl_arena_cost(n);
		if (a->used > a->peak)
			a->peak = a->used;
		return p;
	}
	if (n <= old)
		return p;
	q = kl_arena_alloc(a, n);
	if (q)
		memcpy(q, p, old);
	return q;
}

/* see arena.h */
void kl_arena_free(struct kl_arena *a, void *p)
{
	if (p && is_last(a, p))
		a->used = (size_t)((uint8_t *)p - HDR - a->base);
}

/* see arena.h */
void kl_arena_reset(struct kl_arena *a)
{
	a->used = 0;
}

/* see arena.h */
size_t kl_arena_avail(const struct kl_arena *a)
{
	return a->size - a->used > HDR ? a->size - a->used - HDR : 0;
}
