/* heap.h - a general-purpose allocator over one caller-owned region. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_HEAP_H
#define KL_HEAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * For libraries that want malloc/realloc/free (c-ares) but must live
 * inside the memory plan. First fit over an address-ordered free list,
 * boundary tags on both ends of every block so a free merges with both
 * neighbours in O(1): the region cannot fragment into more free blocks
 * than there are live allocations + 1.
 *
 *   base                                                   base+size
 *   | hdr | payload ... | hdr | payload | ... | hdr(size 0, used) |
 *
 * Every block starts with a 16-byte header {size | USED, prev_size};
 * payloads are 16-aligned when the region is. A free block keeps its
 * free-list links in its payload, so the smallest block is 32 bytes.
 * Running out is a normal result: NULL, counted in fails.
 *
 * Limits: first fit is O(free blocks) per allocation, fine for the few
 * hundred live blocks a resolver keeps; not meant for a hot path.
 */
struct kl_heap {
	uint8_t *base;
	size_t size;            /* usable region, a multiple of 16 */
	size_t used;            /* bytes in live blocks, headers included */
	size_t peak;
	uint64_t fails;
	uint32_t live;          /* live allocations */
	void *free;             /* address-ordered free list */
};

#define KL_HEAP_HDR 16
#define KL_HEAP_MIN_REGION 64

/* mem MUST be 16-aligned and at least KL_HEAP_MIN_REGION bytes. */
void   kl_heap_init(struct kl_heap *h, void *mem, size_t size);
/* NULL when n does not fit; n = 0 returns a valid minimal block. */
void  *kl_heap_alloc(struct kl_heap *h, size_t n);
void  *kl_heap_calloc(struct kl_heap *h, size_t count, size_t n);
/* C semantics: p = NULL allocates; on failure p is left untouched. */
void  *kl_heap_realloc(struct kl_heap *h, void *p, size_t n);
/* p MUST come from h (or be NULL) and MUST NOT be freed twice. */
void   kl_heap_free(struct kl_heap *h, void *p);
/* Bytes usable in block p (at least what was asked for). */
size_t kl_heap_usable(const void *p);
/* Walks every block and checks all invariants; 0 or KL_ECORRUPT (tests). */
int    kl_heap_check(const struct kl_heap *h);
/* Largest allocation that would succeed now. */
size_t kl_heap_largest(const struct kl_heap *h);

#endif
