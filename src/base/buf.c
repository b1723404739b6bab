/* buf.c - ring buffer arithmetic. */
/* SPDX-License-Identifier: MIT */
#include "base/buf.h"
#include "base/kl.h"

#include <string.h>

/* see buf.h */
size_t kl_buf_room(const struct kl_buf *b)
{
	return b->size - b->len;
}

/* see buf.h */
uint8_t *kl_buf_wptr(const struct kl_buf *b, size_t *room)
{
	uint32_t tail;

	if (!b->area || b->len == b->size) {
		*room = 0;
		return NULL;
	}
	tail = b->head + b->len;
	if (tail >= b->size) {
		tail -= b->size;
		*room = b->head - tail;
	} else {
		*room = b->size - tail;
	}
	return b->area + tail;
}

/* see buf.h */
void kl_buf_wack(struct kl_buf *b, size_t n)
{
	KL_ASSERT_HOT(n <= kl_buf_room(b));
	b->len += (uint32_t)n;
}

/* see buf.h */
const uint8_t *kl_buf_rptr(const struct kl_buf *b, size_t *avail)
{
	if (!b->area || b->len == 0) {
		*avail = 0;
		return NULL;
	}
	*avail = KL_MIN((size_t)b->len, (size_t)(b->size - b->head));
	return b->area + b->head;
}

/* see buf.h */
void kl_buf_rack(struct kl_buf *b, size_t n)
{
	KL_ASSERT_HOT(n <= b->len);
	b->len -= (uint32_t)n;
	b->head += (uint32_t)n;
	if (b->head >= b->size)
		b->head -= b->size;
	if (b->len == 0)
		b->head = 0;
}

/* see buf.h */
size_t kl_buf_put(struct kl_buf *b, const void *src, size_t n)
{
	const uint8_t *s = src;
	size_t done = 0, room;
	uint8_t *w;

	while (done < n && (w = kl_buf_wptr(b, &room)) != NULL) {
		size_t k = KL_MIN(room, n - done);
		memcpy(w, s + done, k);
		kl_buf_wack(b, k);
		done += k;
	}
	return done;
}
