/* b64.h - base64 (RFC 4648 section 4) and base64url (section 5) codecs. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_B64_H
#define KL_B64_H

#include <stddef.h>
#include <stdint.h>

enum { KL_B64_STD = 0, KL_B64_URL = 1 };

/* Bytes needed to encode n bytes (no NUL), with or without '=' padding. */
size_t kl_b64_enc_len(size_t n, int pad);
/*
 * Encodes n bytes into out (cap bytes, a NUL is added when room remains).
 * Returns the encoded length, or KL_ETOOBIG when out is too small.
 */
long kl_b64_encode(const void *in, size_t n, char *out, size_t cap, int alphabet, int pad);
/*
 * Decodes; padding is optional, whitespace is not allowed. Characters of
 * the other alphabet are rejected. Returns the decoded length, KL_EINVAL
 * on a bad character or impossible length, KL_ETOOBIG when out is too small.
 */
long kl_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, int alphabet);

#endif
