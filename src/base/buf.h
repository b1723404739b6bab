/* buf.h - a four-field ring buffer over a block lent by a pool. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_BUF_H
#define KL_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * All-zero is "no buffer" (haproxy's BUF_NULL): a connection holds a block
 * only while data waits in it. Data lives at [head, head+len) modulo size.
 *
 *   area          head            head+len           size
 *   |....free.....|#####data#######|......free........|
 *
 * wptr/wack fill the contiguous free space after the data; rptr/rack drain
 * the contiguous data from head. When len drops to 0 head goes back to 0 so
 * the next read gets the whole contiguous room.
 */
struct kl_buf {
	uint8_t *area;
	uint32_t size, head, len;
};

static inline int kl_buf_is_null(const struct kl_buf *b) { return b->area == NULL; }

uint8_t       *kl_buf_wptr(const struct kl_buf *b, size_t *room);
void           kl_buf_wack(struct kl_buf *b, size_t n);
const uint8_t *kl_buf_rptr(const struct kl_buf *b, size_t *avail);
void           kl_buf_rack(struct kl_buf *b, size_t n);
size_t         kl_buf_room(const struct kl_buf *b);
/* Copies up to n bytes in; returns how many fit. */
size_t         kl_buf_put(struct kl_buf *b, const void *src, size_t n);

#endif
