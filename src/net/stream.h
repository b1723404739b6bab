/* stream.h - a byte stream over a socket behind small ops, so TLS can stand in for plain TCP. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_STREAM_H
#define KL_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/kl.h"

/*
 * The relay moves bytes between two kl_streams and never touches the
 * socket beneath. Plain TCP is the identity; a TLS layer implements the
 * same ops over the same fd (its record buffers accounted in the plan):
 *
 *   read     >0 bytes, 0 at EOF, KL_AGAIN, or KL_EIO (s->err holds errno)
 *   write    >=0 bytes taken, KL_AGAIN, or KL_EIO
 *   shutdown half-close the sending side (TLS: close_notify, then FIN)
 *   close    release; abort != 0 resets (RST) instead of FIN
 *   want     poll interest the stream needs for what the caller wants
 *            (TLS may need to write to read, e.g. during a handshake)
 *   pending  bytes already decrypted and readable without the fd becoming
 *            readable; the caller MUST read them before waiting on poll
 *
 * The first error is sticky in s->err. All-zero with fd = -1 is "closed".
 */
struct kl_stream;

struct kl_stream_ops {
	ssize_t  (*read)(struct kl_stream *s, void *b, size_t n);
	ssize_t  (*write)(struct kl_stream *s, const void *b, size_t n);
	int      (*shutdown)(struct kl_stream *s);
	void     (*close)(struct kl_stream *s, int abort);
	unsigned (*want)(const struct kl_stream *s, unsigned want);
	size_t   (*pending)(const struct kl_stream *s);
	const char *name;       /* "tcp", "tls" */
};

struct kl_stream {
	int fd;
	int err;                /* errno of the first failure, 0 none */
	const struct kl_stream_ops *ops;
	void *ctx;              /* layer state (TLS session), NULL for plain */
};

extern const struct kl_stream_ops kl_stream_plain_ops;

/* Wraps a connected, non-blocking socket. */
void kl_stream_plain(struct kl_stream *s, int fd);
static inline int kl_stream_open(const struct kl_stream *s) { return s->fd >= 0; }

static inline ssize_t kl_stream_read(struct kl_stream *s, void *b, size_t n) { return s->ops->read(s, b, n); }
static inline ssize_t kl_stream_write(struct kl_stream *s, const void *b, size_t n) { return s->ops->write(s, b, n); }
static inline int kl_stream_shutdown(struct kl_stream *s) { return s->ops->shutdown(s); }
static inline unsigned kl_stream_want(const struct kl_stream *s, unsigned w) { return s->ops->want(s, w); }
static inline size_t kl_stream_pending(const struct kl_stream *s) { return s->ops->pending(s); }
/* Closes (abort: with RST) and leaves s closed; harmless on a closed stream. */
void kl_stream_close(struct kl_stream *s, int abort);

#endif
