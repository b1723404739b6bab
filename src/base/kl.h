/* kl.h - return codes, assertions and small helpers shared by every layer. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_H
#define KL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Return convention (picohttpparser, nginx): >= 0 is success (often a byte
 * count), KL_AGAIN means "need more input or more room", and every other
 * negative value is one of the KL_E* codes below. The first error of an
 * object is sticky: later calls return it again.
 */
enum {
	KL_OK = 0,
	KL_AGAIN = -2,          /* need more input / room; not an error */
	KL_EINVAL = -3,         /* malformed input or bad argument */
	KL_ENOMEM = -4,         /* a pool or arena is exhausted */
	KL_ETOOBIG = -5,        /* over a configured limit (size, pixels) */
	KL_ECORRUPT = -6,       /* corrupt or truncated data */
	KL_EUNSUPP = -7,        /* valid but unsupported (type, feature) */
	KL_EIO = -8,            /* an OS call failed; details were logged */
	KL_ETIMEDOUT = -9,      /* a deadline passed */
	KL_ECLOSED = -10,       /* the peer closed */
	KL_EDENIED = -11,       /* refused by policy */
	KL_ENOTFOUND = -12,     /* no such thing (file, host, route) */
	KL_ERANGE = -13,        /* value out of range */
	KL_ELAST = -14
};

/* Never NULL; a short English phrase for a KL_E* code. */
const char *kl_strerror(int rc);

#define KL_ERRLEN 256           /* size of a caller-owned error message buffer */

#define KL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define KL_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((size_t)(a) - 1))

/* Programmer errors only. Running out of resources is never an assert. */
void kl_assert_fail(const char *expr, const char *file, int line);
#define KL_ASSERT(e) ((e) ? (void)0 : kl_assert_fail(#e, __FILE__, __LINE__))
#ifdef KL_DEBUG
#define KL_ASSERT_HOT(e) KL_ASSERT(e)
#else
#define KL_ASSERT_HOT(e) ((void)0)
#endif

#endif
