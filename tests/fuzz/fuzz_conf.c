/* fuzz_conf.c - arbitrary bytes as a configuration file. */
/* SPDX-License-Identifier: MIT */
#include "app/conf.h"
#include "base/kl.h"

#include <stdint.h>
#include <string.h>

/*
 * The whole input goes to kl_conf_parse as it is (not NUL-terminated, so
 * any read past the end shows). Its first line also goes to the size and
 * duration parsers, which take C strings.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kl_conf c;
	char err[KL_ERRLEN], word[64];
	size_t n = 0;
	uint64_t bytes;
	uint32_t ms;
	int rc;

	rc = kl_conf_parse(&c, "fuzz.conf", (const char *)data, size, err);
	/* every message names the config (a users_file message names both) */
	if (rc < 0 && (!strstr(err, "fuzz.conf") || strlen(err) >= KL_ERRLEN))
		__builtin_trap();
	while (n < size && n < sizeof(word) - 1 && data[n] != '\n')
		n++;
	memcpy(word, data, n);
	word[n] = 0;
	kl_conf_size(word, &bytes);
	kl_conf_duration(word, &ms);
	return 0;
}
