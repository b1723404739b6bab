/* budget.h - start-up memory arithmetic: the plan of every pool. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_BUDGET_H
#define KL_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "app/conf.h"
#include "base/pool.h"

/*
 * The plan is decided once, from the config, before anything listens:
 * every buffer kinglet will ever use belongs to one of these pools, and
 * their sum must fit memory_limit. The region is one anonymous mapping
 * carved in plan order; pages are touched only when a block is first lent.
 */
#define KL_PLAN_MAX 96           /* 16 relays x 4 pools + the rest */
#define KL_PLAN_NAME 48

struct kl_plan_item {
	char name[KL_PLAN_NAME];        /* pool name, e.g. "relay.socks.buf" */
	char what[96];                  /* how count and size were derived */
	uint32_t count;
	size_t size;                    /* bytes per block (16-aligned) */
	struct kl_pool pool;            /* valid after kl_budget_reserve() */
};

struct kl_plan {
	uint64_t limit;                 /* memory_limit */
	uint64_t total;                 /* sum of count * size */
	unsigned max_fds;               /* RLIMIT_NOFILE the loop runs with */
	unsigned max_timers;
	unsigned n;
	struct kl_plan_item item[KL_PLAN_MAX];
	uint8_t *region;
	size_t region_len;
};

/*
 * Fixed overhead outside the plan (binary text and data, libc, stack,
 * library state that cannot be redirected), documented in the README and
 * checked by the integration tests: RSS <= memory_limit + this.
 */
#define KL_FIXED_OVERHEAD (12u << 20)

/*
 * Computes the plan. Returns 0, or KL_ETOOBIG with err saying which pool
 * pushes the total over the limit, e.g. "relay socks: max_conns=4000 x 2 x
 * 16 KB = 125 MB exceeds memory_limit 32 MB".
 */
int  kl_budget_plan(const struct kl_conf *c, struct kl_plan *p, char err[KL_ERRLEN]);
/* One line per pool plus a total, into out. Returns the length. */
size_t kl_budget_format(const struct kl_plan *p, char *out, size_t cap);
/* Maps the region and initialises and registers every pool. 0 or KL_ENOMEM. */
int  kl_budget_reserve(struct kl_plan *p);
/* The pool of that name, or NULL. */
struct kl_pool *kl_budget_pool(struct kl_plan *p, const char *name);
/* "12.5 MB", "16 KB", "512 B". */
void kl_budget_human(uint64_t bytes, char *out, size_t cap);

#endif
