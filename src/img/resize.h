/* resize.h - streaming separable Lanczos3 resampler with a row ring. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_RESIZE_H
#define KL_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

/*
 * Resamples an in_w x in_h image of 8-bit pixels with nc channels (3 = RGB,
 * 4 = RGBA, alpha premultiplied while filtering) by 1/shrink on each axis,
 * keeping only the window [win_x, win_x + win_w) x [win_y, win_y + win_h) of
 * the virtual scaled image. Pixel centres follow libvips' convention:
 * output x samples input (x + 0.5) * shrink - 0.5; edges are clamped.
 * The filter is Lanczos3 with its support widened by the shrink factor
 * when downscaling.
 *
 * Rows go in in order, one at a time (kl_resize_push); output rows come out
 * in order as soon as the rows their vertical filter needs have arrived
 * (kl_resize_pull). Only a ring of (vertical taps) filtered rows is kept,
 * so memory is O(win_w x taps), never O(image).
 *
 * The whole state lives in the arena given to kl_resize_init, sized by
 * kl_resize_need() with the same arguments.
 */
struct kl_resize_axis {
	uint32_t n;             /* output samples */
	uint32_t taps;          /* max contributors per output */
	int32_t *first;         /* first contributing input index, per output */
	uint16_t *count;        /* contributors, per output */
	float *w;               /* n x taps weights */
};

struct kl_resize {
	uint32_t in_w, in_h, nc;
	struct kl_resize_axis h, v;
	float *ring;            /* v.taps rows of h.n x nc floats */
	uint32_t ring_rows;
	float *tmp;             /* one input row widened (and premultiplied) */
	float *acc;             /* one output row being summed */
	uint8_t *out;           /* one output row */
	uint32_t y_in;          /* rows pushed */
	uint32_t y_out;         /* rows pulled */
};

size_t kl_resize_need(uint32_t in_w, uint32_t in_h, uint32_t nc, double shrink_x, double shrink_y,
		      uint32_t win_w, uint32_t win_h);

/*
 * Returns 0, KL_ENOMEM when the arena is short, KL_EINVAL for a window
 * that is empty or whose shrink is not > 0.
 */
int kl_resize_init(struct kl_resize *r, struct kl_arena *a, uint32_t in_w, uint32_t in_h,
		   uint32_t nc, double shrink_x, double shrink_y,
		   uint32_t win_x, uint32_t win_y, uint32_t win_w, uint32_t win_h);

/*
 * Pushes the next input row (in_w x nc bytes). MUST NOT be called more than
 * in_h times, and the caller MUST pull until NULL after each push (the ring
 * holds only the rows the next output row needs).
 */
void kl_resize_push(struct kl_resize *r, const uint8_t *row);

/*
 * Returns the next output row (win_w x nc bytes, valid until the next
 * call), or NULL when it needs more input rows or all rows were pulled.
 */
const uint8_t *kl_resize_pull(struct kl_resize *r);

#endif
