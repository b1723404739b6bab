/* log.c - line-oriented logging to stderr. */
/* SPDX-License-Identifier: MIT */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int kl_log_level = KL_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

/* see log.h */
int kl_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* see log.h */
void kl_log_write(int level, const char *fmt, ...)
{
	char line[1024];
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int k;
	va_list ap;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	k = snprintf(line + n, sizeof(line) - n, "%s ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	n += (size_t)k;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	n += (size_t)k;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* One write per line so concurrent writers (procd, syslog) never interleave. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(2, line, n) < 0) {
		/* stderr is gone; nothing sensible left to do */
	}
}
