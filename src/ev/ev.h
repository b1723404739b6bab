/* ev.h - the event loop: poll() readiness, timers and idle slices. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_EV_H
#define KL_EV_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"

/*
 * One loop per process. The caller hands in all storage at init (sized by
 * kl_ev_mem_size), so the loop never allocates. File descriptors MUST be
 * below max_fds: the application sets RLIMIT_NOFILE to max_fds so that the
 * kernel enforces it (accept() then fails with EMFILE, a normal refusal).
 *
 * Callbacks may add, change and delete any fd, arm and cancel any timer,
 * and push idle work; deletions during dispatch only mark the pollfd slot
 * and the array is compacted after the pass (nginx's dense array, O(1)).
 */
enum { KL_EV_RD = 1, KL_EV_WR = 2, KL_EV_ERR = 4 };

struct kl_ev;
struct kl_timer;
struct kl_idle;

typedef void kl_ev_fn(struct kl_ev *ev, int fd, unsigned what, void *ud);
typedef void kl_timer_fn(struct kl_ev *ev, struct kl_timer *t, void *ud);
/* Returns non-zero to stay queued for another slice, 0 when done. */
typedef int kl_idle_fn(struct kl_ev *ev, struct kl_idle *w, void *ud);

/* Intrusive timer: embed it in the object it belongs to. All-zero = not armed. */
struct kl_timer {
	uint64_t due;           /* monotonic ms */
	uint32_t heap_idx;      /* 1-based position in the heap, 0 = not armed */
	kl_timer_fn *fn;
	void *ud;
};

/* Intrusive idle item (a unit of CPU work to run between polls). */
struct kl_idle {
	struct kl_idle *next;
	int queued;
	kl_idle_fn *fn;
	void *ud;
};

struct kl_ev_slot {
	kl_ev_fn *fn;
	void *ud;
	int32_t idx;            /* index in pfd[], -1 when the fd is not watched */
};

struct kl_ev {
	struct pollfd *pfd;
	struct kl_ev_slot *slot;        /* indexed by fd */
	struct kl_timer **heap;
	unsigned npfd, max_fds, ntimers, max_timers;
	int dirty;                      /* pfd[] has holes to compact */
	struct kl_idle *idle_head, **idle_tail;
	uint64_t now;                   /* cached at each turn */
	int stop;
};

size_t kl_ev_mem_size(unsigned max_fds, unsigned max_timers);
/* mem MUST hold kl_ev_mem_size() bytes, aligned for pointers. */
int    kl_ev_init(struct kl_ev *ev, void *mem, size_t len, unsigned max_fds, unsigned max_timers);
/* Returns 0, KL_ERANGE when fd >= max_fds, KL_EINVAL when fd is already watched. */
int    kl_ev_add(struct kl_ev *ev, int fd, unsigned want, kl_ev_fn *fn, void *ud);
void   kl_ev_want(struct kl_ev *ev, int fd, unsigned want);
void   kl_ev_del(struct kl_ev *ev, int fd);
int    kl_ev_watched(const struct kl_ev *ev, int fd);

/* Arms (or re-arms) t to fire after ms. Returns KL_ENOMEM when the heap is full. */
int    kl_timer_arm(struct kl_ev *ev, struct kl_timer *t, uint32_t ms, kl_timer_fn *fn, void *ud);
void   kl_timer_cancel(struct kl_ev *ev, struct kl_timer *t);
static inline int kl_timer_armed(const struct kl_timer *t) { return t->heap_idx != 0; }

/* Queues w (no-op when already queued); pending idle work makes poll not block. */
void   kl_idle_push(struct kl_ev *ev, struct kl_idle *w, kl_idle_fn *fn, void *ud);
void   kl_idle_cancel(struct kl_ev *ev, struct kl_idle *w);

/*
 * One turn: poll (timeout = next timer, 0 with idle work, at most max_wait_ms),
 * dispatch ready fds, fire due timers, give every queued idle item one slice.
 * Returns the number of fds dispatched or a negative KL_E* on a poll failure.
 */
int    kl_ev_run_once(struct kl_ev *ev, int max_wait_ms);
uint64_t kl_ev_now(const struct kl_ev *ev);

#endif
