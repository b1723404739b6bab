/* port_malloc.c - the process's malloc family over fixed regions (glibc "Replacing malloc"). */
/* SPDX-License-Identifier: MIT */
#include "port.h"
#include "base/heap.h"

#include <errno.h>
#include <string.h>

/*
 * Libraries that cannot be handed an allocator (Debian's mbedtls 2.28 is
 * built without MBEDTLS_PLATFORM_MEMORY; glibc itself for stdio and
 * formatting) call malloc. Defining the malloc family here replaces
 * glibc's for the whole process, in the dynamic and the static build, so
 * those allocations land in two fixed heaps and the process cannot grow:
 *
 *   boot  a region in .bss for what happens before the plan exists; it is
 *         part of the documented fixed overhead (pages count only once used)
 *   plan  the "libc.heap" region of the memory plan, installed by
 *         kp_malloc_use(); tried first once installed
 *
 * Running out returns NULL with errno = ENOMEM, which mbedtls turns into a
 * failed handshake: the connection is refused, nothing aborts. Only one
 * thread exists, so there is no locking. Sanitizer builds (KL_SYSTEM_MALLOC)
 * keep the system allocator, which the sanitizers must own.
 */
#ifndef KL_SYSTEM_MALLOC

#define BOOT_BYTES (KP_MALLOC_BOOT_BYTES)
/* Header of an over-aligned block: never a valid heap header (sizes are multiples of 16). */
#define ALIGN_MAGIC ((size_t)0xA11C0DEEu)

static _Alignas(16) uint8_t boot_mem[BOOT_BYTES];
static struct kl_heap boot, plan;
static int boot_ready, plan_ready;
static uint64_t fails;

static struct kl_heap *owner(const void *p)
{
	const uint8_t *b = p;

	if (plan_ready && b >= plan.base && b < plan.base + plan.size)
		return &plan;
	if (b >= boot_mem && b < boot_mem + sizeof(boot_mem))
		return &boot;
	return NULL;
}

static void *alloc(size_t n)
{
	void *p = NULL;

	if (!boot_ready) {
		kl_heap_init(&boot, boot_mem, sizeof(boot_mem));
		boot_ready = 1;
	}
	if (plan_ready)
		p = kl_heap_alloc(&plan, n);
	if (!p)
		p = kl_heap_alloc(&boot, n);
	if (!p) {
		fails++;
		errno = ENOMEM;
	}
	return p;
}

/* An over-aligned pointer carries {ALIGN_MAGIC, the real block} just below it. */
static void *unalign(void *p)
{
	size_t hdr[2];

	memcpy(hdr, (uint8_t *)p - 16, sizeof(hdr));
	return hdr[0] == ALIGN_MAGIC ? (void *)hdr[1] : p;
}

void *malloc(size_t n)
{
	return alloc(n);
}

void free(void *p)
{
	struct kl_heap *h;

	if (!p)
		return;
	p = unalign(p);
	h = owner(p);
	/* Anything else came from the dynamic loader's own early allocator. */
	if (h)
		kl_heap_free(h, p);
}

void *calloc(size_t count, size_t n)
{
	void *p;

	if (n && count > (size_t)-1 / n) {
		errno = ENOMEM;
		return NULL;
	}
	p = alloc(count * n);
	if (p)
		memset(p, 0, count * n);
	return p;
}

size_t malloc_usable_size(void *p)
{
	void *b;

	if (!p)
		return 0;
	b = unalign(p);
	return kl_heap_usable(b) - (size_t)((uint8_t *)p - (uint8_t *)b);
}

void *realloc(void *p, size_t n)
{
	struct kl_heap *h;
	void *q;
	size_t old;

	if (!p)
		return alloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	h = unalign(p) == p ? owner(p) : NULL;
	if (h) {
		q = kl_heap_realloc(h, p, n);
		if (q)
			return q;
	}
	q = alloc(n);
	if (!q)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

static void *aligned(size_t align, size_t n)
{
	uint8_t *b, *p;
	size_t hdr[2];

	if (align <= 16)
		return alloc(n);
	if (align & (align - 1) || n > (size_t)-1 - align - 16) {
		errno = EINVAL;
		return NULL;
	}
	b = alloc(n + align + 16);
	if (!b)
		return NULL;
	p = (uint8_t *)(((uintptr_t)b + 16 + align - 1) & ~(uintptr_t)(align - 1));
	hdr[0] = ALIGN_MAGIC;
	hdr[1] = (size_t)b;
	memcpy(p - 16, hdr, sizeof(hdr));
	return p;
}

void *memalign(size_t align, size_t n)
{
	return aligned(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return aligned(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = aligned(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *valloc(size_t n)
{
	return aligned(4096, n);
}

void *pvalloc(size_t n)
{
	return aligned(4096, (n + 4095) & ~(size_t)4095);
}

/* see port.h */
int kp_malloc_use(void *mem, size_t n)
{
	if (plan_ready || n < KL_HEAP_MIN_REGION)
		return -EINVAL;
	kl_heap_init(&plan, mem, n);
	plan_ready = 1;
	return 0;
}

/* see port.h */
void kp_malloc_stats(struct kp_malloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->boot_size = sizeof(boot_mem);
	st->boot_used = boot.used;
	st->boot_peak = boot.peak;
	st->plan_size = plan_ready ? plan.size : 0;
	st->plan_used = plan.used;
	st->plan_peak = plan.peak;
	st->fails = fails;
	st->replaced = 1;
}

#else /* KL_SYSTEM_MALLOC */

/* see port.h */
int kp_malloc_use(void *mem, size_t n)
{
	(void)mem;
	(void)n;
	return 0;
}

/* see port.h */
void kp_malloc_stats(struct kp_malloc_stats *st)
{
	memset(st, 0, sizeof(*st));
}

#endif
