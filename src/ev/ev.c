/* ev.c - poll() readiness loop over a dense pollfd array. */
/* SPDX-License-Identifier: MIT */
#include "ev/ev.h"
#include "port.h"

#include <string.h>

void kl_timer_run_due(struct kl_ev *ev);
int  kl_timer_next_ms(const struct kl_ev *ev);

/* see ev.h */
size_t kl_ev_mem_size(unsigned max_fds, unsigned max_timers)
{
	return KL_ALIGN_UP((size_t)max_fds * sizeof(struct pollfd), 16) +
	       KL_ALIGN_UP((size_t)max_fds * sizeof(struct kl_ev_slot), 16) +
	       (size_t)max_timers * sizeof(struct kl_timer *);
}

/* see ev.h */
int kl_ev_init(struct kl_ev *ev, void *mem, size_t len, unsigned max_fds, unsigned max_timers)
{
	uint8_t *p = mem;

	if (len < kl_ev_mem_size(max_fds, max_timers))
		return KL_ENOMEM;
	memset(ev, 0, sizeof(*ev));
	ev->pfd = (struct pollfd *)p;
	p += KL_ALIGN_UP((size_t)max_fds * sizeof(struct pollfd), 16);
	ev->slot = (struct kl_ev_slot *)p;
	p += KL_ALIGN_UP((size_t)max_fds * sizeof(struct kl_ev_slot), 16);
	ev->heap = (struct kl_timer **)p;
	ev->max_fds = max_fds;
	ev->max_timers = max_timers;
	for (unsigned i = 0; i < max_fds; i++)
		ev->slot[i].idx = -1;
	ev->idle_tail = &ev->idle_head;
	ev->now = kp_now_ms();
	return 0;
}

static short events_of(unsigned want)
{
	return (short)((want & KL_EV_RD ? POLLIN : 0) | (want & KL_EV_WR ? POLLOUT : 0));
}

/* see ev.h */
int kl_ev_add(struct kl_ev *ev, int fd, unsigned want, kl_ev_fn *fn, void *ud)
{
	if (fd < 0 || (unsigned)fd >= ev->max_fds || ev->npfd >= ev->max_fds)
		return KL_ERANGE;
	if (ev->slot[fd].idx >= 0)
		return KL_EINVAL;
	ev->pfd[ev->npfd].fd = fd;
	ev->pfd[ev->npfd].events = events_of(want);
	ev->pfd[ev->npfd].revents = 0;
	ev->slot[fd].fn = fn;
	ev->slot[fd].ud = ud;
	ev->slot[fd].idx = (int32_t)ev->npfd++;
	return 0;
}

/* see ev.h */
int kl_ev_watched(const struct kl_ev *ev, int fd)
{
	return fd >= 0 && (unsigned)fd < ev->max_fds && ev->slot[fd].idx >= 0;
}

/* see ev.h */
void kl_ev_want(struct kl_ev *ev, int fd, unsigned want)
{
	if (kl_ev_watched(ev, fd))
		ev->pfd[ev->slot[fd].idx].events = events_of(want);
}

/* see ev.h */
void kl_ev_del(struct kl_ev *ev, int fd)
{
	if (!kl_ev_watched(ev, fd))
		return;
	/* Leave a hole; compact() moves the last entry into it after dispatch. */
	ev->pfd[ev->slot[fd].idx].fd = -1;
	ev->pfd[ev->slot[fd].idx].revents = 0;
	ev->slot[fd].idx = -1;
	ev->slot[fd].fn = NULL;
	ev->slot[fd].ud = NULL;
	ev->dirty = 1;
}

static void compact(struct kl_ev *ev)
{
	unsigned i = 0;

	while (i < ev->npfd) {
		if (ev->pfd[i].fd >= 0) {
			i++;
			continue;
		}
		ev->npfd--;
		if (i != ev->npfd) {
			ev->pfd[i] = ev->pfd[ev->npfd];
			if (ev->pfd[i].fd >= 0)
				ev->slot[ev->pfd[i].fd].idx = (int32_t)i;
		}
	}
	ev->dirty = 0;
}

/* see ev.h */
void kl_idle_push(struct kl_ev *ev, struct kl_idle *w, kl_idle_fn *fn, void *ud)
{
	w->fn = fn;
	w->ud = ud;
	if (w->queued)
		return;
	w->queued = 1;
	w->next = NULL;
	*ev->idle_tail = w;
	ev->idle_tail = &w->next;
}

/* see ev.h */
void kl_idle_cancel(struct kl_ev *ev, struct kl_idle *w)
{
	struct kl_idle **pp;

	if (!w->queued)
		return;
	for (pp = &ev->idle_head; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (ev->idle_tail == &w->next)
				ev->idle_tail = pp;
			break;
		}
	w->queued = 0;
	w->next = NULL;
}

/* Gives each item queued at the start of the pass one slice, round-robin. */
static void run_idle(struct kl_ev *ev)
{
	struct kl_idle *last = NULL, *w;

	for (w = ev->idle_head; w; w = w->next)
		last = w;
	while ((w = ev->idle_head) != NULL) {
		int again;
		ev->idle_head = w->next;
		if (!ev->idle_head)
			ev->idle_tail = &ev->idle_head;
		w->queued = 0;
		w->next = NULL;
		again = w->fn(ev, w, w->ud);
		if (again && !w->queued)
			kl_idle_push(ev, w, w->fn, w->ud);
		if (w == last)
			break;
	}
}

/* see ev.h */
uint64_t kl_ev_now(const struct kl_ev *ev)
{
	return ev->now;
}

/* see ev.h */
int kl_ev_run_once(struct kl_ev *ev, int max_wait_ms)
{
	int timeout = kl_timer_next_ms(ev), n, done = 0;

	if (timeout < 0 || timeout > max_wait_ms)
		timeout = max_wait_ms;
	if (ev->idle_head)
		timeout = 0;
	if (ev->dirty)
		compact(ev);
	n = kp_poll(ev->pfd, ev->npfd, timeout);
	ev->now = kp_now_ms();
	if (n < 0)
		return KL_EIO;
	for (unsigned i = 0; i < ev->npfd && done < n; i++) {
		struct pollfd *p = &ev->pfd[i];
		unsigned what = 0;
		int fd = p->fd;

		if (fd < 0 || !p->revents)
			continue;
		done++;
		if (p->revents & (POLLIN | POLLHUP))
			what |= KL_EV_RD;
		if (p->revents & POLLOUT)
			what |= KL_EV_WR;
		if (p->revents & (POLLERR | POLLNVAL))
			what |= KL_EV_ERR;
		p->revents = 0;
		/* Re-read the slot each time: an earlier callback may have changed it. */
		if (ev->slot[fd].idx == (int32_t)i && ev->slot[fd].fn)
			ev->slot[fd].fn(ev, fd, what, ev->slot[fd].ud);
	}
	if (ev->dirty)
		compact(ev);
	kl_timer_run_due(ev);
	run_idle(ev);
	return n;
}
