/* pool.h - fixed-size blocks lent LIFO from one region sized at start-up. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_POOL_H
#define KL_POOL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A pool lends `count` blocks of `size` bytes. Freed blocks go on a LIFO
 * list so the hot set stays small and already touched; blocks never lent
 * are handed out in address order and are not touched before that, so an
 * idle pool costs address space, not RSS. Running out is a normal state:
 * kl_pool_get() returns NULL and counts a failure, the caller refuses the
 * work. Pools register themselves in a process-wide list so that the plan
 * and /metrics can show every one of them.
 */
struct kl_pool {
	const char *name;       /* static string, e.g. "relay.buf" */
	uint8_t *base;
	size_t size;            /* block size, a multiple of 16 */
	uint32_t count;         /* capacity in blocks */
	uint32_t used;          /* blocks lent now */
	uint32_t peak;          /* high-water mark */
	uint32_t fresh;         /* blocks never lent yet start at base + fresh*size */
	uint64_t fails;         /* refused requests */
	void *free;             /* LIFO list threaded through returned blocks */
	struct kl_pool *next;   /* registry */
};

/* Bytes of region a pool of count blocks of size bytes needs. */
size_t kl_pool_mem_size(size_t size, uint32_t count);
/* mem MUST hold kl_pool_mem_size(size, count) bytes and be 16-aligned. */
void   kl_pool_init(struct kl_pool *p, const char *name, void *mem, size_t size, uint32_t count);
void  *kl_pool_get(struct kl_pool *p);
/* blk MUST come from p and MUST NOT be returned twice. */
void   kl_pool_put(struct kl_pool *p, void *blk);
int    kl_pool_owns(const struct kl_pool *p, const void *blk);

/* Registry, in registration order. */
void   kl_pool_register(struct kl_pool *p);
struct kl_pool *kl_pool_first(void);
void   kl_pool_registry_reset(void);

#endif
