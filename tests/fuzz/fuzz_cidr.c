/* fuzz_cidr.c - address text, rules and the destination policy over arbitrary bytes. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"
#include "proto/cidr.h"

#include <stdlib.h>
#include <string.h>

/*
 * The input is split at its first newline: a rule, then an address or
 * host name. A parsed address must format and parse back to itself; a
 * rule with an address must match its own network; the policy must
 * answer without crashing either way.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rlen = nl ? (size_t)(nl - data) : size, plen = nl ? size - rlen - 1 : 0;
	char *rule = malloc(rlen ? rlen : 1), *probe = malloc(plen ? plen : 1);
	struct kl_cidr_rule r;
	struct kl_cidr_addr a, b;
	char txt[KL_CIDR_ADDRSTRLEN];
	int why, have_rule;

	if (!rule || !probe)
		goto out;
	memcpy(rule, data, rlen);
	if (plen)
		memcpy(probe, nl + 1, plen);
	have_rule = kl_cidr_parse_rule(rule, rlen, &r) == KL_OK;
	if (have_rule && r.kind == KL_CIDR_RULE_IP) {
		memcpy(b.b, r.b, 16);
		b.v4 = 0;
		KL_ASSERT(kl_cidr_match(&r, 1, &b, NULL, 0) == 0);
	}
	if (have_rule && r.kind == KL_CIDR_RULE_DOMAIN)
		KL_ASSERT(kl_cidr_match(&r, 1, NULL, r.name, r.name_len) == 0 && strlen(r.name) == r.name_len);
	if (kl_cidr_parse_addr(probe, plen, &a) == KL_OK) {
		int n = kl_cidr_format(&a, txt, sizeof(txt));
		KL_ASSERT(n > 0 && (size_t)n < sizeof(txt));
		KL_ASSERT(kl_cidr_parse_addr(txt, (size_t)n, &b) == KL_OK && memcmp(a.b, b.b, 16) == 0 && a.v4 == b.v4);
		KL_ASSERT(kl_cidr_classify(&a) >= KL_CIDR_PUBLIC && kl_cidr_classify(&a) <= KL_CIDR_RESERVED);
		kl_cidr_decide(have_rule ? &r : NULL, have_rule, NULL, 0, &a, NULL, 0, &why);
		kl_cidr_decide(NULL, 0, have_rule ? &r : NULL, have_rule, &a, NULL, 0, &why);
	} else {
		kl_cidr_decide(NULL, 0, have_rule ? &r : NULL, have_rule, NULL, probe, plen, &why);
	}
	KL_ASSERT(kl_cidr_why_name(why) != NULL);
out:
	free(rule);
	free(probe);
	return 0;
}
