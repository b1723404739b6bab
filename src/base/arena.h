/* arena.h - a bump allocator over caller-owned memory, reset in O(1). */
/* SPDX-License-Identifier: MIT */
#ifndef KL_ARENA_H
#define KL_ARENA_H

#include <stddef.h>
#include <stdint.h>

/*
 * An arena hands out aligned blocks from one fixed region and frees them
 * all at once with kl_arena_reset(). It never asks the system for memory.
 * kl_arena_free() only gives back the most recent block (LIFO), which is
 * what codec libraries mostly do; other frees are ignored until reset.
 *
 *   base                         used                        size
 *   |<-------- handed out -------->|<--------- free ---------->|
 *
 * Every block is preceded by a 16-byte header holding its size so that
 * realloc-style hooks and LIFO frees work. All-zero is a valid empty arena.
 */
struct kl_arena {
	uint8_t *base;
	size_t size;            /* capacity in bytes */
	size_t used;            /* bytes handed out, headers included */
	size_t peak;            /* high-water mark since init */
	size_t fails;           /* allocations refused since init */
};

#define KL_ARENA_ALIGN 16

void   kl_arena_init(struct kl_arena *a, void *mem, size_t size);
/* Returns NULL (never aborts) when the block does not fit. */
void  *kl_arena_alloc(struct kl_arena *a, size_t n);
void  *kl_arena_calloc(struct kl_arena *a, size_t count, size_t n);
void  *kl_arena_realloc(struct kl_arena *a, void *p, size_t n);
void   kl_arena_free(struct kl_arena *a, void *p);
void   kl_arena_reset(struct kl_arena *a);
size_t kl_arena_avail(const struct kl_arena *a);
/* Bytes a block of n costs, header and alignment included. */
size_t kl_arena_cost(size_t n);

#endif
