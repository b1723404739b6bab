/* log.h - one line per event to stderr, with levels and repeat limiting. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_LOG_H
#define KL_LOG_H

enum { KL_LOG_ERROR = 0, KL_LOG_WARN, KL_LOG_INFO, KL_LOG_DEBUG };

extern int kl_log_level;

/* Returns the level for "error", "warn", "info" or "debug", else -1. */
int  kl_log_parse_level(const char *s);
/* Writes "2026-11-22T04:25:00Z warn message\n" with one write to fd 2. */
void kl_log_write(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kl_log(level, ...) \
	do { if ((level) <= kl_log_level) kl_log_write((level), __VA_ARGS__); } while (0)

#ifdef KL_DEBUG
#define kl_debug(...) kl_log(KL_LOG_DEBUG, __VA_ARGS__)
#else
#define kl_debug(...) ((void)0)
#endif

#endif
