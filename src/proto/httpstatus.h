/* httpstatus.h - HTTP status codes and their reason phrases. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_HTTPSTATUS_H
#define KL_HTTPSTATUS_H

/* The RFC 9110 reason phrase of code, or "Unknown" (never NULL). */
const char *kl_httpstatus_reason(int code);

#endif
