/* err.c - error strings and the assertion handler. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"

#include <stdio.h>
#include <stdlib.h>

/* see kl.h */
const char *kl_strerror(int rc)
{
	switch (rc) {
	case KL_OK: return "ok";
	case KL_AGAIN: return "need more data";
	case KL_EINVAL: return "invalid input";
	case KL_ENOMEM: return "out of budgeted memory";
	case KL_ETOOBIG: return "over the configured limit";
	case KL_ECORRUPT: return "corrupt or truncated data";
	case KL_EUNSUPP: return "unsupported";
	case KL_EIO: return "i/o error";
	case KL_ETIMEDOUT: return "timed out";
	case KL_ECLOSED: return "connection closed";
	case KL_EDENIED: return "denied by policy";
	case KL_ENOTFOUND: return "not found";
	case KL_ERANGE: return "out of range";
	default: return rc >= 0 ? "ok" : "unknown error";
	}
}

/* see kl.h */
void kl_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "kinglet: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
