/* input.h - the encoded bytes a decoder has been given but not yet consumed. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_INPUT_H
#define KL_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

/*
 * A fixed-capacity linear buffer between the network (or a file) and a
 * push decoder. Bytes [pos, len) are pending; the decoder consumes from
 * the front, kl_input_feed() compacts and appends at the back.
 *
 *   buf        pos              len                cap
 *   |<-consumed->|<---pending---->|<------room------>|
 *
 * `skip` counts bytes the decoder asked to skip that had not arrived yet:
 * they are dropped as they come. The capacity bounds the largest unit a
 * decoder needs whole (a JPEG marker segment, a PNG chunk), so it MUST be
 * at least KL_INPUT_MIN.
 */
struct kl_input {
	uint8_t *buf;
	size_t cap, pos, len;
	size_t skip;
	int eof;                /* no more bytes will come */
};

#define KL_INPUT_MIN (64 * 1024 + 1024)

/* Returns 0 or KL_ENOMEM. */
int kl_input_init(struct kl_input *in, struct kl_arena *a, size_t cap);

/* Copies up to n bytes in; returns how many were taken (0 when full). */
size_t kl_input_feed(struct kl_input *in, const uint8_t *p, size_t n);

/* Drops n bytes from the front; beyond what is pending, the rest is skipped later. */
void kl_input_skip(struct kl_input *in, size_t n);

static inline size_t kl_input_avail(const struct kl_input *in)
{
	return in->len - in->pos;
}

#endif
