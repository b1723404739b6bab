/* cidr.h - IP addresses, CIDR and domain-suffix rules, destination policy. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_CIDR_H
#define KL_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "base/kl.h"

/*
 * One 16-byte form for both families: an IPv4 address a.b.c.d is held as
 * the v4-mapped IPv6 address ::ffff:a.b.c.d with v4 = 1. Rules use the
 * same form (a v4 rule /n is a v6 rule /96+n over the mapped range), so a
 * v4 rule matches an IPv4 address and its v4-mapped IPv6 spelling alike,
 * and a single comparison loop serves both families.
 */
struct kl_cidr_addr {
	uint8_t b[16];          /* network byte order */
	uint8_t v4;             /* 1: b is ::ffff:a.b.c.d and was given as IPv4 */
};

/* Longest text kl_cidr_format() writes, NUL included ("ffff:...:255.255.255.255"). */
#define KL_CIDR_ADDRSTRLEN 46
/* Longest domain name a rule or a host may have (RFC 1035, no trailing dot). */
#define KL_CIDR_NAME_MAX 253

enum { KL_CIDR_RULE_IP = 1, KL_CIDR_RULE_DOMAIN = 2 };

struct kl_cidr_rule {
	uint8_t kind;           /* KL_CIDR_RULE_IP or KL_CIDR_RULE_DOMAIN */
	uint8_t prefix;         /* IP: 0..128 bits over the 16-byte form */
	uint8_t b[16];          /* IP: network, host bits cleared */
	uint8_t name_len;       /* DOMAIN: 1..253 */
	char name[KL_CIDR_NAME_MAX + 1];        /* DOMAIN: lower case, NUL-terminated */
};

/*
 * Why an address is refused by default (SPEC section 2), or PUBLIC. The
 * two list reasons complete the set kl_cidr_decide() reports; all values
 * are small and stable so they can index a metrics array.
 */
enum kl_cidr_why {
	KL_CIDR_PUBLIC = 0,     /* none of the ranges below */
	KL_CIDR_LOOPBACK,       /* 127/8, ::1 */
	KL_CIDR_PRIVATE,        /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48 */
	KL_CIDR_LINKLOCAL,      /* 169.254/16, fe80::/10 */
	KL_CIDR_CGNAT,          /* 100.64/10 */
	KL_CIDR_MULTICAST,      /* 224/4, ff00::/8 */
	KL_CIDR_UNSPEC,         /* 0/8, :: */
	KL_CIDR_BROADCAST,      /* 255.255.255.255 */
	KL_CIDR_RESERVED,       /* 240/4 (other than broadcast) */
	KL_CIDR_DENY_LIST,      /* kl_cidr_decide(): matched the deny list */
	KL_CIDR_ALLOW_LIST,     /* kl_cidr_decide(): matched the allow list */
	KL_CIDR_WHY_COUNT
};

/*
 * Parses IPv4 dotted-quad text (exactly four decimal parts, no leading
 * zeros: "010.1.1.1" is refused because inet_aton() would read it as
 * octal) or IPv6 text (RFC 4291 section 2.2, with an optional dotted IPv4
 * tail; no zone index, no brackets). s has n bytes and need not be
 * NUL-terminated. Returns KL_OK or KL_EINVAL.
 */
int kl_cidr_parse_addr(const char *s, size_t n, struct kl_cidr_addr *a);

/* Fills a from 4 network-order bytes (v4 = 1) or 16 bytes (v4 = 0). */
void kl_cidr_from_v4(struct kl_cidr_addr *a, const uint8_t b[4]);
void kl_cidr_from_v6(struct kl_cidr_addr *a, const uint8_t b[16]);

/*
 * Writes a as text plus a NUL: dotted quad when v4 is set, else RFC 5952
 * (lower case, longest run of two or more zero groups as "::", v4-mapped
 * addresses as ::ffff:a.b.c.d). Returns the length without the NUL, or
 * KL_ETOOBIG when cap is too small (KL_CIDR_ADDRSTRLEN always suffices).
 */
int kl_cidr_format(const struct kl_cidr_addr *a, char *out, size_t cap);

/*
 * Parses one rule as written in a config list:
 *   "a.b.c.d/n" (n 0..32), "v6/n" (n 0..128), a bare address (a host
 *   route), or a domain suffix: "example.com", ".example.com" or
 *   "*.example.com", which all match example.com and its subdomains.
 * Host bits below the prefix are cleared. A domain is stored lower-cased
 * without a trailing dot; labels are 1..63 bytes of letters, digits, '-'
 * or '_', and the last label is not all digits. Returns KL_OK, KL_EINVAL
 * (malformed) or KL_ERANGE (prefix too long, name too long).
 */
int kl_cidr_parse_rule(const char *s, size_t n, struct kl_cidr_rule *r);

/*
 * Returns the index of the first rule of r[0..n) matching the address a
 * or the host name host (hlen bytes, case-insensitive, a trailing dot
 * ignored), or KL_ENOTFOUND. Either a or host may be NULL. A v4 rule
 * also matches the IPv4 address embedded in an IPv4-compatible (::/96)
 * or NAT64 (64:ff9b::/96) address, since traffic to those reaches it.
 * A domain rule "example.com" matches "example.com" and
 * "a.example.com" but not "badexample.com".
 */
int kl_cidr_match(const struct kl_cidr_rule *r, size_t n, const struct kl_cidr_addr *a,
		const char *host, size_t hlen);

/*
 * Returns the range that makes a refused by default (KL_CIDR_LOOPBACK ..
 * KL_CIDR_RESERVED) or KL_CIDR_PUBLIC. IPv4 is also recognised inside
 * v4-mapped (::ffff:0:0/96), v4-compatible (::/96), NAT64 (64:ff9b::/96)
 * and 6to4 (2002::/16) addresses, so ::ffff:127.0.0.1 is loopback.
 */
int kl_cidr_classify(const struct kl_cidr_addr *a);

/* A short lower-case word for a kl_cidr_why value ("loopback"); never NULL. */
const char *kl_cidr_why_name(int why);

/*
 * The destination policy of SPEC section 2. Returns KL_OK (allowed) or
 * KL_EDENIED and stores the reason in *why (may be NULL):
 *   1. a match in deny (by address or host name) denies: KL_CIDR_DENY_LIST;
 *   2. a match in allow allows: KL_CIDR_ALLOW_LIST;
 *   3. an address in a refused range denies: its class;
 *   4. otherwise allowed: KL_CIDR_PUBLIC.
 * Call it with a == NULL and the name before resolving (to refuse early
 * by name), then again with each resolved address and the same name: a
 * name that passes step 4 without an address has not been checked yet.
 */
int kl_cidr_decide(const struct kl_cidr_rule *allow, size_t nallow,
		const struct kl_cidr_rule *deny, size_t ndeny,
		const struct kl_cidr_addr *a, const char *host, size_t hlen, int *why);

#endif
