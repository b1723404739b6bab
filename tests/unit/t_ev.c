/* t_ev.c - event loop: fd dispatch, deletion during dispatch, timers, idle slices. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "ev/ev.h"
#include "port.h"

#include <stdlib.h>
#include <unistd.h>

static _Alignas(16) uint8_t mem[1 << 16];
static struct kl_ev ev;
static int fired[64], nfired, order[64];
static int pipes[4][2], reads;

static void on_timer(struct kl_ev *e, struct kl_timer *t, void *ud)
{
	int id = (int)(intptr_t)ud;
	fired[id]++;
	order[nfired++] = id;
}

static void test_timers(void)
{
	static struct kl_timer t[32];
	int armed[32] = { 0 };
	uint64_t due[32];

	kl_ev_init(&ev, mem, sizeof(mem), 64, 32);
	srand(7);
	/* Random arms, re-arms and cancels; the heap must fire in due order. */
	for (int k = 0; k < 200; k++) {
		int i = rand() % 32;
		if (rand() % 4 == 0) {
			kl_timer_cancel(&ev, &t[i]);
			armed[i] = 0;
		} else {
			kl_timer_arm(&ev, &t[i], (uint32_t)(rand() % 40), on_timer, (void *)(intptr_t)i);
			armed[i] = 1;
			due[i] = t[i].due;
		}
	}
	int want = 0;
	for (int i = 0; i < 32; i++)
		want += armed[i];
	T_EQ_INT(ev.ntimers, want, "timer: heap holds exactly the armed timers");
	while (ev.ntimers)
		kl_ev_run_once(&ev, 50);
	T_EQ_INT(nfired, want, "timer: every armed timer fired once");
	int sorted = 1;
	for (int k = 1; k < nfired; k++)
		if (due[order[k]] < due[order[k - 1]])
			sorted = 0;
	T_OK(sorted, "timer: fired in due order");
	T_EQ_INT(kl_timer_arm(&ev, &t[0], 1, on_timer, NULL), 0, "timer: arm");
	for (int i = 1; i < 32; i++)
		kl_timer_arm(&ev, &t[i], 1000, on_timer, NULL);
	static struct kl_timer extra;
	T_EQ_INT(kl_timer_arm(&ev, &extra, 1, on_timer, NULL), KL_ENOMEM, "timer: full heap refuses");
	for (int i = 0; i < 32; i++)
		kl_timer_cancel(&ev, &t[i]);
	T_EQ_INT(ev.ntimers, 0, "timer: all cancelled");
}

static void on_read(struct kl_ev *e, int fd, unsigned what, void *ud)
{
	char b[16];
	int me = (int)(intptr_t)ud;

	reads++;
	if (read(fd, b, sizeof(b)) < 0) {
	}
	/* The first callback deletes every other watched pipe: they must not be called. */
	if (me == 0)
		for (int i = 1; i < 4; i++)
			kl_ev_del(e, pipes[i][0]);
}

static void test_fds(void)
{
	kl_ev_init(&ev, mem, sizeof(mem), 64, 4);
	for (int i = 0; i < 4; i++) {
		T_OK(pipe(pipes[i]) == 0, "fd: pipe");
		T_EQ_INT(kl_ev_add(&ev, pipes[i][0], KL_EV_RD, on_read, (void *)(intptr_t)i), 0, "fd: add");
		if (write(pipes[i][1], "x", 1) != 1)
			T_OK(0, "write");
	}
	T_EQ_INT(kl_ev_add(&ev, pipes[0][0], KL_EV_RD, on_read, NULL), KL_EINVAL, "fd: double add refused");
	T_EQ_INT(kl_ev_add(&ev, 100, KL_EV_RD, on_read, NULL), KL_ERANGE, "fd: fd over max_fds refused");
	kl_ev_run_once(&ev, 100);
	T_EQ_INT(reads, 1, "fd: deleted fds are not dispatched in the same pass");
	T_EQ_INT(ev.npfd, 1, "fd: array compacted");
	T_OK(kl_ev_watched(&ev, pipes[0][0]) && !kl_ev_watched(&ev, pipes[2][0]), "fd: watched set");
	kl_ev_want(&ev, pipes[0][0], 0);
	if (write(pipes[0][1], "y", 1) != 1)
		T_OK(0, "write");
	kl_ev_run_once(&ev, 10);
	T_EQ_INT(reads, 1, "fd: no interest, no dispatch");
	kl_ev_del(&ev, pipes[0][0]);
	for (int i = 0; i < 4; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

static int slices[3];

static int on_idle(struct kl_ev *e, struct kl_idle *w, void *ud)
{
	int id = (int)(intptr_t)ud;
	return ++slices[id] < 3 * (id + 1);
}

static void test_idle(void)
{
	static struct kl_idle w[3];

	kl_ev_init(&ev, mem, sizeof(mem), 64, 4);
	for (int i = 0; i < 3; i++)
		kl_idle_push(&ev, &w[i], on_idle, (void *)(intptr_t)i);
	kl_ev_run_once(&ev, 1000);
	T_OK(slices[0] == 1 && slices[1] == 1 && slices[2] == 1, "idle: one slice each per turn");
	for (int k = 0; k < 20 && ev.idle_head; k++)
		kl_ev_run_once(&ev, 1000);
	T_OK(slices[0] == 3 && slices[1] == 6 && slices[2] == 9, "idle: each ran until done");
	kl_idle_push(&ev, &w[0], on_idle, (void *)(intptr_t)0);
	kl_idle_cancel(&ev, &w[0]);
	T_OK(ev.idle_head == NULL, "idle: cancel");
}

int main(void)
{
	test_timers();
	test_fds();
	test_idle();
	return T_DONE();
}
