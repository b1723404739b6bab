/* tls.h - TLS (mbedtls) as a kl_stream: listeners, upstream chains, https sources. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_TLS_H
#define KL_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"
#include "base/pool.h"
#include "net/stream.h"

/*
 * A TLS session is a kl_stream whose ops drive mbedtls over the same
 * non-blocking fd: the handshake runs inside read/write as the loop
 * delivers readiness (want() says which), so nothing ever blocks.
 *
 * Memory: the session struct comes from the caller's "tls.sess" pool.
 * Debian's mbedtls 2.28 is built without MBEDTLS_PLATFORM_MEMORY, so its
 * own allocations (16 KB input and output record buffers, handshake state,
 * the peer's certificate) go through malloc, which port_malloc.c serves
 * from the plan's "libc.heap" region: the plan reserves KL_TLS_SESSION_HEAP
 * per session (measured peak, see the README) and admission is by the
 * pool's count, so a session that cannot be afforded is refused cleanly.
 *
 * A kl_tls_conf is built once at start-up and read-only afterwards.
 */

/* Measured peak heap bytes of one session (handshake included), with margin. */
#define KL_TLS_SESSION_HEAP (64u * 1024u)
/* Measured heap bytes for the parsed system CA bundle, with margin. */
#define KL_TLS_CA_HEAP (768u * 1024u)

struct kl_tls_conf;
struct kl_tls_sess;

/* Bytes of one block of the "tls.sess" pool. */
size_t kl_tls_sess_size(void);
/* Bytes of struct kl_tls_conf (callers keep it in static storage). */
size_t kl_tls_conf_size(void);

/*
 * Seeds the process's random generator (once; later calls are no-ops).
 * Returns 0 or KL_EIO with err set.
 */
int kl_tls_global_init(char err[KL_ERRLEN]);

/*
 * Server side: PEM certificate chain and key (RSA or ECDSA), ALPN
 * "http/1.1" only. c MUST point to kl_tls_conf_size() bytes.
 */
int kl_tls_server_conf(struct kl_tls_conf *c, const char *cert, const char *key, char err[KL_ERRLEN]);

/*
 * Client side: verify the peer against ca_file (PEM), or the system
 * bundle when ca_file is NULL or ""; pin, when not NULL/"", is the
 * SHA-256 of the peer's SubjectPublicKeyInfo as 64 hex digits or base64
 * and is checked in addition to the chain.
 */
int kl_tls_client_conf(struct kl_tls_conf *c, const char *ca_file, const char *pin, char err[KL_ERRLEN]);

/*
 * Frees what a *_conf call parsed (certificates, key, settings) and
 * leaves c all-zero. No session MAY still use c. For an orderly exit: the
 * heap would be discarded with the process anyway, but leak checkers
 * cannot see pointers kept in the plan's mapping.
 */
void kl_tls_conf_reset(struct kl_tls_conf *c);

/*
 * Turns the connected socket fd into a TLS stream in s. sni is the server
 * name to send and verify (client side; NULL for servers); an IPv4 or
 * IPv6 literal is not sent and is verified against the certificate's
 * iPAddress entries instead (no SNI for addresses, RFC 6066). The session
 * comes from pool; KL_ENOMEM when the pool or the heap is exhausted (the
 * caller refuses the connection). On success s->ops is the TLS ops and
 * kl_stream_close() gives the session back.
 */
int kl_tls_start(struct kl_stream *s, int fd, const struct kl_tls_conf *c, struct kl_pool *pool,
		 const char *sni);

/* 1 once the handshake is complete. */
int kl_tls_ready(const struct kl_stream *s);
/*
 * A one-line reason for the last failure of s (certificate verification
 * details, a wrong pin, an alert), or "" if none.
 */
const char *kl_tls_reason(const struct kl_stream *s);
/* The ALPN protocol agreed on, or NULL. */
const char *kl_tls_alpn(const struct kl_stream *s);

#endif
