/* timer.c - timers in a fixed-capacity binary min-heap. */
/* SPDX-License-Identifier: MIT */
#include "ev/ev.h"
#include "port.h"

/* Positions are 1-based in heap_idx so that 0 can mean "not armed". */

static void place(struct kl_ev *ev, uint32_t i, struct kl_timer *t)
{
	ev->heap[i] = t;
	t->heap_idx = i + 1;
}

static void sift_up(struct kl_ev *ev, uint32_t i)
{
	struct kl_timer *t = ev->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (ev->heap[parent]->due <= t->due)
			break;
		place(ev, i, ev->heap[parent]);
		i = parent;
	}
	place(ev, i, t);
}

static void sift_down(struct kl_ev *ev, uint32_t i)
{
	struct kl_timer *t = ev->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= ev->ntimers)
			break;
		if (c + 1 < ev->ntimers && ev->heap[c + 1]->due < ev->heap[c]->due)
			c++;
		if (t->due <= ev->heap[c]->due)
			break;
		place(ev, i, ev->heap[c]);
		i = c;
	}
	place(ev, i, t);
}

/* see ev.h */
void kl_timer_cancel(struct kl_ev *ev, struct kl_timer *t)
{
	uint32_t i;

	if (!t->heap_idx)
		return;
	i = t->heap_idx - 1;
	t->heap_idx = 0;
	ev->ntimers--;
	if (i == ev->ntimers)
		return;
	/* The last entry fills the hole, then moves whichever way it must. */
	struct kl_timer *m = ev->heap[ev->ntimers];
	place(ev, i, m);
	sift_up(ev, i);
	sift_down(ev, m->heap_idx - 1);
}

/* see ev.h */
int kl_timer_arm(struct kl_ev *ev, struct kl_timer *t, uint32_t ms, kl_timer_fn *fn, void *ud)
{
	kl_timer_cancel(ev, t);
	if (ev->ntimers >= ev->max_timers)
		return KL_ENOMEM;
	t->due = kp_now_ms() + ms;
	t->fn = fn;
	t->ud = ud;
	place(ev, ev->ntimers++, t);
	sift_up(ev, t->heap_idx - 1);
	return 0;
}

/* Milliseconds until the next timer (0 if due), -1 when none is armed. */
int kl_timer_next_ms(const struct kl_ev *ev)
{
	uint64_t now;

	if (ev->ntimers == 0)
		return -1;
	now = kp_now_ms();
	if (ev->heap[0]->due <= now)
		return 0;
	return (int)KL_MIN(ev->heap[0]->due - now, (uint64_t)0x7fffffff);
}

/* Fires every timer due now; a callback may re-arm its own timer. */
void kl_timer_run_due(struct kl_ev *ev)
{
	uint64_t now = ev->now;
	unsigned budget = ev->ntimers;

	/* budget stops a timer re-armed with 0 ms from spinning this pass forever. */
	while (ev->ntimers > 0 && ev->heap[0]->due <= now && budget-- > 0) {
		struct kl_timer *t = ev->heap[0];
		kl_timer_cancel(ev, t);
		t->fn(ev, t, t->ud);
	}
}
