/* stream.c - the plain TCP stream: port calls with errno mapped to KL_* codes. */
/* SPDX-License-Identifier: MIT */
#include "net/stream.h"
#include "port.h"

#include <errno.h>

static ssize_t fail(struct kl_stream *s, ssize_t r)
{
	if (r == -EAGAIN)
		return KL_AGAIN;
	if (!s->err)
		s->err = (int)-r;
	return KL_EIO;
}

static ssize_t p_read(struct kl_stream *s, void *b, size_t n)
{
	ssize_t r = kp_read(s->fd, b, n);

	return r >= 0 ? r : fail(s, r);
}

static ssize_t p_write(struct kl_stream *s, const void *b, size_t n)
{
	ssize_t r = kp_write(s->fd, b, n);

	return r >= 0 ? r : fail(s, r);
}

static int p_shutdown(struct kl_stream *s)
{
	int r = kp_shutdown_wr(s->fd);

	/* ENOTCONN: the peer already reset; the next read or write reports it. */
	return r == 0 || r == -ENOTCONN ? 0 : (int)fail(s, r);
}

static void p_close(struct kl_stream *s, int abort)
{
	if (abort)
		kp_abort(s->fd);
	else
		kp_close(s->fd);
}

static unsigned p_want(const struct kl_stream *s, unsigned want) { return want; }
static size_t p_pending(const struct kl_stream *s) { return 0; }

const struct kl_stream_ops kl_stream_plain_ops = {
	p_read, p_write, p_shutdown, p_close, p_want, p_pending, "tcp"
};

/* see stream.h */
void kl_stream_plain(struct kl_stream *s, int fd)
{
	s->fd = fd;
	s->err = 0;
	s->ops = &kl_stream_plain_ops;
	s->ctx = NULL;
}

/* see stream.h */
void kl_stream_close(struct kl_stream *s, int abort)
{
	if (s->fd < 0)
		return;
	s->ops->close(s, abort);
	s->fd = -1;
	s->ctx = NULL;
}
