/* pool.c - fixed-size block pool with a LIFO free list. */
/* SPDX-License-Identifier: MIT */
#include "base/pool.h"
#include "base/kl.h"

#include <string.h>

static struct kl_pool *registry;
static struct kl_pool **registry_tail = &registry;

/* see pool.h */
size_t kl_pool_mem_size(size_t size, uint32_t count)
{
	return KL_ALIGN_UP(size ? size : 16, 16) * (size_t)count;
}

/* see pool.h */
void kl_pool_init(struct kl_pool *p, const char *name, void *mem, size_t size, uint32_t count)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->base = mem;
	p->size = KL_ALIGN_UP(size ? size : 16, 16);
	p->count = count;
}

/* see pool.h */
void *kl_pool_get(struct kl_pool *p)
{
	void *blk;

	if (p->free) {
		blk = p->free;
		memcpy(&p->free, blk, sizeof(void *));
	} else if (p->fresh < p->count) {
		blk = p->base + (size_t)p->fresh * p->size;
		p->fresh++;
	} else {
		p->fails++;
		return NULL;
	}
	p->used++;
	if (p->used > p->peak)
		p->peak = p->used;
	return blk;
}

/* see pool.h */
int kl_pool_owns(const struct kl_pool *p, const void *blk)
{
	const uint8_t *b = blk;

	return b >= p->base && b < p->base + (size_t)p->count * p->size &&
	       (size_t)(b - p->base) % p->size == 0;
}

/* see pool.h */
void kl_pool_put(struct kl_pool *p, void *blk)
{
	if (!blk)
		return;
	KL_ASSERT(kl_pool_owns(p, blk));
	KL_ASSERT(p->used > 0);
	memcpy(blk, &p->free, sizeof(void *));
	p->free = blk;
	p->used--;
}

/* see pool.h */
void kl_pool_register(struct kl_pool *p)
{
	p->next = NULL;
	*registry_tail = p;
	registry_tail = &p->next;
}

/* see pool.h */
struct kl_pool *kl_pool_first(void)
{
	return registry;
}

/* see pool.h */
void kl_pool_registry_reset(void)
{
	registry = NULL;
	registry_tail = &registry;
}
