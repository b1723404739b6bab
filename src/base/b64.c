/* b64.c - base64 and base64url. */
/* SPDX-License-Identifier: MIT */
#include "base/b64.h"
#include "base/kl.h"

static const char std_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* see b64.h */
size_t kl_b64_enc_len(size_t n, int pad)
{
	return pad ? (n + 2) / 3 * 4 : n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* see b64.h */
long kl_b64_encode(const void *in, size_t n, char *out, size_t cap, int alphabet, int pad)
{
	const char *abc = alphabet == KL_B64_URL ? url_abc : std_abc;
	const uint8_t *s = in;
	size_t need = kl_b64_enc_len(n, pad), o = 0, i;

	if (need > cap)
		return KL_ETOOBIG;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	if (o < cap)
		out[o] = 0;
	return (long)o;
}

static int val(char c, int alphabet)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (alphabet == KL_B64_URL) {
		if (c == '-') return 62;
		if (c == '_') return 63;
	} else {
		if (c == '+') return 62;
		if (c == '/') return 63;
	}
	return -1;
}

/* see b64.h */
long kl_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, int alphabet)
{
	uint32_t acc = 0;
	size_t o = 0, bits = 0, i;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return KL_EINVAL;
	for (i = 0; i < n; i++) {
		int v = val(in[i], alphabet);
		if (v < 0)
			return KL_EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return KL_ETOOBIG;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}
