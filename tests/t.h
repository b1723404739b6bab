/* t.h - a tiny TAP harness for unit tests: one "ok"/"not ok" line per check. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_T_H
#define KL_T_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

static int t_n, t_fail;

static inline void t_report(int ok, const char *what, const char *file, int line)
{
	t_n++;
	if (!ok)
		t_fail++;
	printf("%sok %d - %s%s", ok ? "" : "not ", t_n, what, ok ? "\n" : "");
	if (!ok)
		printf(" (%s:%d)\n", file, line);
	fflush(stdout);
}

static inline void t_hexdump(const char *tag, const void *p, size_t n)
{
	const uint8_t *b = p;
	printf("# %s:", tag);
	for (size_t i = 0; i < n && i < 64; i++)
		printf(" %02x", b[i]);
	printf("%s\n", n > 64 ? " ..." : "");
}

#define T_OK(cond, ...) do { char t_msg_[256]; snprintf(t_msg_, sizeof t_msg_, __VA_ARGS__); \
	t_report(!!(cond), t_msg_, __FILE__, __LINE__); } while (0)

#define T_EQ_INT(got, want, what) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	T_OK(g_ == w_, "%s", what); if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_); } while (0)

#define T_EQ_STR(got, want, what) do { const char *g_ = (got), *w_ = (want); \
	int ok_ = g_ && w_ && strcmp(g_, w_) == 0; T_OK(ok_, "%s", what); \
	if (!ok_) printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)

#define T_EQ_MEM(got, want, n, what) do { int ok_ = memcmp((got), (want), (n)) == 0; \
	T_OK(ok_, "%s", what); if (!ok_) { t_hexdump("got ", (got), (n)); t_hexdump("want", (want), (n)); } } while (0)

/* Ends main(): prints the TAP plan; non-zero exit when any check failed. */
#define T_DONE() (printf("1..%d\n", t_n), t_fail ? 1 : 0)

#endif
