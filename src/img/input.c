/* input.c - pending encoded bytes in a fixed buffer. */
/* SPDX-License-Identifier: MIT */
#include "img/input.h"
#include "base/kl.h"

#include <string.h>

/* see input.h */
int kl_input_init(struct kl_input *in, struct kl_arena *a, size_t cap)
{
	memset(in, 0, sizeof(*in));
	in->buf = kl_arena_alloc(a, cap);
	if (!in->buf)
		return KL_ENOMEM;
	in->cap = cap;
	return 0;
}

/* see input.h */
size_t kl_input_feed(struct kl_input *in, const uint8_t *p, size_t n)
{
	size_t took = 0, k;

	if (in->skip && n) {
		k = KL_MIN(in->skip, n);
		in->skip -= k;
		p += k;
		n -= k;
		took = k;
	}
	if (in->pos && in->len + n > in->cap) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	k = KL_MIN(n, in->cap - in->len);
	if (k) {
		memcpy(in->buf + in->len, p, k);
		in->len += k;
	}
	return took + k;
}

/* see input.h */
void kl_input_skip(struct kl_input *in, size_t n)
{
	size_t k = KL_MIN(n, kl_input_avail(in));

	in->pos += k;
	in->skip += n - k;
	if (in->pos == in->len)
		in->pos = in->len = 0;
}
