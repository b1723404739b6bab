/* t_img_noalloc.c - a thumbnail job makes no system allocation at all. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_img_job.h"

#include <sys/mman.h>

/*
 * This binary replaces the malloc family (glibc supports that: "Replacing
 * malloc") with counting wrappers around glibc's own allocator, so every
 * allocation of libjpeg, libpng, zlib and libc between the start and the
 * end of a job is seen, whether it comes from our code, a static library
 * or a shared one. Sanitizer builds own malloc themselves: skipped there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NO_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_COUNT 1
#endif
#endif

#ifndef NO_COUNT
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile unsigned long n_alloc;

void *malloc(size_t n)
{
	n_alloc++;
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	n_alloc++;
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	n_alloc++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *memalign(size_t al, size_t n)
{
	n_alloc++;
	return __libc_memalign(al, n);
}

int posix_memalign(void **p, size_t al, size_t n)
{
	n_alloc++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : 12;
}

void *aligned_alloc(size_t al, size_t n)
{
	n_alloc++;
	return __libc_memalign(al, n);
}
#endif

#define C "../shared/corpus/"

int main(void)
{
#ifdef NO_COUNT
	T_OK(1, "# SKIP allocation counting under a sanitizer");
	return T_DONE();
#else
	static const char *files[] = {
		C "jpeg/testorig.jpg", C "jpeg/testimgp.jpg", C "jpeg/testimgari.jpg",
		C "pngsuite/basn6a16.png", C "pngsuite/interlaced/ibasn0g04.png",
		"../shared/bench-images/photo-2mp.jpg", "../shared/bench-images/photo-2mp-rgba.png",
	};
	size_t arena = 64u << 20, cap = 4u << 20;
	uint8_t *mem = mmap(NULL, arena, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *out = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; i < KL_ARRAY_LEN(files); i++) {
		for (int f = 0; f < 2; f++) {
			struct kl_thumb_opts o;
			size_t n;
			uint8_t *data = t_slurp(files[i], &n);
			unsigned long before;
			struct t_job r;

			kl_thumb_opts_default(&o);
			o.width = o.height = 150;
			o.format = f ? KL_FORMAT_PNG : KL_FORMAT_JPEG;
			before = n_alloc;
			r = t_run(data, n, 1000, mem, arena, &o, out, cap, 16);
			T_OK(r.rc == 0 && n_alloc == before, "%s -> %s: %lu system allocations during the job",
			     files[i], f ? "png" : "jpeg", n_alloc - before);
			free(data);
		}
	}
	/* the counter works: a plain malloc is seen */
	{
		unsigned long before = n_alloc;
		void *p = malloc(10);
		T_OK(n_alloc == before + 1, "counting malloc sees allocations");
		free(p);
	}
	return T_DONE();
#endif
}
