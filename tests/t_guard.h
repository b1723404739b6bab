/* t_guard.h - test inputs that end right at a PROT_NONE page, so any over-read faults. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_T_GUARD_H
#define KL_T_GUARD_H

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define T_GUARD_PAGES 16        /* room for inputs of up to 16 pages */

static unsigned char *t_guard;
static size_t t_guard_data;

/* Maps the data pages and the guard page once; bails out of the test without them. */
static void guard_init(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (t_guard)
		return;
	t_guard_data = T_GUARD_PAGES * pg;
	t_guard = mmap(NULL, t_guard_data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t_guard == MAP_FAILED || mprotect(t_guard + t_guard_data, pg, PROT_NONE) != 0) {
		printf("Bail out! no guard page\n");
		_exit(1);
	}
}

/* Copies n bytes so that they end where the PROT_NONE page begins. */
static const void *at_guard(const void *p, size_t n)
{
	unsigned char *d;

	guard_init();
	if (n > t_guard_data) {
		printf("Bail out! guarded input of %zu bytes is too large\n", n);
		_exit(1);
	}
	d = t_guard + t_guard_data - n;
	memmove(d, p, n);
	return d;
}

#endif
