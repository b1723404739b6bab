/* t_cidr.c - address text, CIDR and domain rules, default refusal classes, policy. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_guard.h"
#include "base/kl.h"
#include "proto/cidr.h"

#include <unistd.h>

/* text in, rc, canonical text out (NULL: same as in) */
static const struct {
	const char *in;
	int rc;
	const char *out;
} addr_rows[] = {
	{ "0.0.0.0", 0, NULL },
	{ "1.2.3.4", 0, NULL },
	{ "255.255.255.255", 0, NULL },
	{ "192.168.1.10", 0, NULL },
	{ "::", 0, NULL },
	{ "::1", 0, NULL },
	{ "1::", 0, NULL },
	{ "2001:db8::1", 0, NULL },
	{ "2001:DB8:0:0:0:0:0:1", 0, "2001:db8::1" },
	{ "2001:db8:0:0:1:0:0:1", 0, "2001:db8::1:0:0:1" },
	{ "2001:0:0:1:0:0:0:1", 0, "2001:0:0:1::1" },
	{ "2001:db8:0:1:1:1:1:1", 0, "2001:db8:0:1:1:1:1:1" },
	{ "1:2:3:4:5:6:7:8", 0, NULL },
	{ "1:2:3:4:5:6:7::", 0, "1:2:3:4:5:6:7:0" },
	{ "::2:3:4:5:6:7:8", 0, "0:2:3:4:5:6:7:8" },
	{ "fe80::0001", 0, "fe80::1" },
	{ "::ffff:127.0.0.1", 0, NULL },
	{ "::FFFF:7f00:1", 0, "::ffff:127.0.0.1" },
	{ "::1.2.3.4", 0, "::102:304" },
	{ "64:ff9b::10.0.0.1", 0, "64:ff9b::a00:1" },
	{ "1:2:3:4:5:6:1.2.3.4", 0, "1:2:3:4:5:6:102:304" },
	{ "", KL_EINVAL, NULL },
	{ "1.2.3", KL_EINVAL, NULL },
	{ "1.2.3.4.5", KL_EINVAL, NULL },
	{ "1.2.3.256", KL_EINVAL, NULL },
	{ "1.2.3.1000", KL_EINVAL, NULL },
	{ "01.2.3.4", KL_EINVAL, NULL },
	{ "1..3.4", KL_EINVAL, NULL },
	{ "1.2.3.4.", KL_EINVAL, NULL },
	{ ".1.2.3", KL_EINVAL, NULL },
	{ "1.2.3.-4", KL_EINVAL, NULL },
	{ "1.2.3.4 ", KL_EINVAL, NULL },
	{ "a.b.c.d", KL_EINVAL, NULL },
	{ ":", KL_EINVAL, NULL },
	{ ":::", KL_EINVAL, NULL },
	{ ":1::2", KL_EINVAL, NULL },
	{ "1::2::3", KL_EINVAL, NULL },
	{ "1:2:3:4:5:6:7:8:9", KL_EINVAL, NULL },
	{ "1:2:3:4:5:6:7:8::", KL_EINVAL, NULL },
	{ "1:2:3:4:5:6:7", KL_EINVAL, NULL },
	{ "1:", KL_EINVAL, NULL },
	{ "12345::", KL_EINVAL, NULL },
	{ "g::", KL_EINVAL, NULL },
	{ "fe80::1%eth0", KL_EINVAL, NULL },
	{ "[::1]", KL_EINVAL, NULL },
	{ "::1.2.3", KL_EINVAL, NULL },
	{ "1:2:3:4:5:6:7:1.2.3.4", KL_EINVAL, NULL },
	{ "::1.2.3.4:5", KL_EINVAL, NULL },
	{ "::ffff:1.2.3.04", KL_EINVAL, NULL },
};

static void test_addr(void)
{
	for (size_t r = 0; r < KL_ARRAY_LEN(addr_rows); r++) {
		const char *in = addr_rows[r].in, *want = addr_rows[r].out ? addr_rows[r].out : in;
		size_t n = strlen(in);
		struct kl_cidr_addr a, b;
		char txt[KL_CIDR_ADDRSTRLEN];
		int rc = kl_cidr_parse_addr(at_guard(in, n), n, &a), bad = 0;

		T_OK(rc == addr_rows[r].rc, "addr \"%s\": rc %d", in, rc);
		if (rc != 0)
			continue;
		rc = kl_cidr_format(&a, txt, sizeof(txt));
		T_OK(rc == (int)strlen(want) && strcmp(txt, want) == 0, "addr \"%s\": formats as %s (%s)", in, want, txt);
		T_OK(kl_cidr_parse_addr(txt, strlen(txt), &b) == 0 && memcmp(a.b, b.b, 16) == 0 && a.v4 == b.v4,
			"addr \"%s\": round trip", in);
		/* no prefix of a valid address reads past its end (a prefix may itself be valid) */
		for (size_t k = 0; k < n; k++)
			bad += kl_cidr_parse_addr(at_guard(in, k), k, &b) > 0;
		T_OK(bad == 0, "addr \"%s\": prefixes at the guard page", in);
	}
	{
		struct kl_cidr_addr a;
		char txt[KL_CIDR_ADDRSTRLEN];

		kl_cidr_parse_addr("1.2.3.4", 7, &a);
		T_OK(a.v4 == 1 && memcmp(a.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x01\x02\x03\x04", 16) == 0,
			"addr: v4 held v4-mapped");
		T_EQ_INT(kl_cidr_format(&a, txt, 7), KL_ETOOBIG, "format: no room for the NUL");
		T_EQ_INT(kl_cidr_format(&a, txt, 8), 7, "format: exactly enough room");
		kl_cidr_from_v6(&a, (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
		T_EQ_INT(kl_cidr_format(&a, txt, sizeof(txt)), 39, "format: longest plain v6");
		kl_cidr_from_v6(&a, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff");
		kl_cidr_format(&a, txt, sizeof(txt));
		T_EQ_STR(txt, "::ffff:255.255.255.255", "format: mapped from bytes");
		kl_cidr_from_v4(&a, (const uint8_t *)"\x0a\x00\x00\x09");
		kl_cidr_format(&a, txt, sizeof(txt));
		T_EQ_STR(txt, "10.0.0.9", "format: from v4 bytes");
	}
}

/* rule text, rc, then for valid rules: probe address or host, expected match */
static const struct {
	const char *rule;
	int rc;
	const char *probe;
	int match;
} rule_rows[] = {
	{ "10.0.0.0/8", 0, "10.255.1.2", 1 },
	{ "10.0.0.0/8", 0, "11.0.0.1", 0 },
	{ "10.0.0.0/8", 0, "::ffff:10.1.1.1", 1 },
	{ "10.0.0.0/8", 0, "::10.1.1.1", 1 },
	{ "10.0.0.0/8", 0, "64:ff9b::10.1.1.1", 1 },
	{ "10.0.0.0/8", 0, "2001:db8::10.1.1.1", 0 },
	{ "10.1.2.3/8", 0, "10.9.9.9", 1 },
	{ "172.16.0.0/12", 0, "172.31.255.255", 1 },
	{ "172.16.0.0/12", 0, "172.32.0.0", 0 },
	{ "192.168.1.7", 0, "192.168.1.7", 1 },
	{ "192.168.1.7", 0, "192.168.1.8", 0 },
	{ "192.168.1.7/32", 0, "192.168.1.7", 1 },
	{ "0.0.0.0/0", 0, "8.8.8.8", 1 },
	{ "0.0.0.0/0", 0, "2001:db8::1", 0 },
	{ "::/0", 0, "2001:db8::1", 1 },
	{ "::/0", 0, "8.8.8.8", 1 },
	{ "2001:db8::/32", 0, "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", 0, "2001:db9::1", 0 },
	{ "2001:db8::/33", 0, "2001:db8:8000::", 0 },
	{ "fe80::/10", 0, "febf::1", 1 },
	{ "fe80::/10", 0, "fec0::1", 0 },
	{ "::1", 0, "::1", 1 },
	{ "::1/128", 0, "::2", 0 },
	{ "example.com", 0, "example.com", 1 },
	{ "example.com", 0, "EXAMPLE.com.", 1 },
	{ "example.com", 0, "a.b.example.com", 1 },
	{ "example.com", 0, "badexample.com", 0 },
	{ "example.com", 0, "example.com.evil", 0 },
	{ "example.com", 0, "com", 0 },
	{ ".example.com", 0, "example.com", 1 },
	{ ".Example.COM.", 0, "www.example.com", 1 },
	{ "*.example.com", 0, "x.example.com", 1 },
	{ "localhost", 0, "localhost", 1 },
	{ "my_host-1.lan", 0, "my_host-1.lan", 1 },
	{ "", KL_EINVAL, NULL, 0 },
	{ ".", KL_EINVAL, NULL, 0 },
	{ "..", KL_EINVAL, NULL, 0 },
	{ "a..b", KL_EINVAL, NULL, 0 },
	{ "-/8", KL_EINVAL, NULL, 0 },
	{ "10.0.0.0/", KL_EINVAL, NULL, 0 },
	{ "10.0.0.0/33", KL_ERANGE, NULL, 0 },
	{ "10.0.0.0/1234", KL_EINVAL, NULL, 0 },
	{ "10.0.0.0/-1", KL_EINVAL, NULL, 0 },
	{ "10.0.0.0/8x", KL_EINVAL, NULL, 0 },
	{ "::/129", KL_ERANGE, NULL, 0 },
	{ "example.com/8", KL_EINVAL, NULL, 0 },
	{ "exa mple.com", KL_EINVAL, NULL, 0 },
	{ "exa*mple.com", KL_EINVAL, NULL, 0 },
	{ "10.0.0.256", KL_EINVAL, NULL, 0 },
	{ "xn--bcher-kva.example", 0, "xn--bcher-kva.example", 1 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", KL_ERANGE, NULL, 0 },
};

static void test_rules(void)
{
	char longname[300];
	struct kl_cidr_rule r;

	for (size_t i = 0; i < KL_ARRAY_LEN(rule_rows); i++) {
		const char *s = rule_rows[i].rule, *p = rule_rows[i].probe;
		int rc = kl_cidr_parse_rule(at_guard(s, strlen(s)), strlen(s), &r);
		struct kl_cidr_addr a;

		T_OK(rc == rule_rows[i].rc, "rule \"%s\": rc %d", s, rc);
		if (rc != 0 || !p)
			continue;
		if (kl_cidr_parse_addr(p, strlen(p), &a) == 0)
			rc = kl_cidr_match(&r, 1, &a, NULL, 0);
		else
			rc = kl_cidr_match(&r, 1, NULL, at_guard(p, strlen(p)), strlen(p));
		T_OK((rc == 0) == rule_rows[i].match, "rule \"%s\" %s \"%s\"", s,
			rule_rows[i].match ? "matches" : "does not match", p);
	}
	/* name length limits: 253 is fine, 254 is not */
	memset(longname, 'a', sizeof(longname));
	for (int k = 63; k < 253; k += 64)
		longname[k] = '.';
	T_EQ_INT(kl_cidr_parse_rule(longname, 253, &r), 0, "rule: 253-byte name");
	T_EQ_INT(r.name_len, 253, "rule: 253-byte name kept");
	T_EQ_INT(kl_cidr_parse_rule(longname, 254, &r), KL_ERANGE, "rule: 254-byte name");
	{
		struct kl_cidr_rule list[3];
		struct kl_cidr_addr a;

		kl_cidr_parse_rule("example.org", 11, &list[0]);
		kl_cidr_parse_rule("10.0.0.0/8", 10, &list[1]);
		kl_cidr_parse_rule("10.1.0.0/16", 11, &list[2]);
		kl_cidr_parse_addr("10.1.2.3", 8, &a);
		T_EQ_INT(kl_cidr_match(list, 3, &a, NULL, 0), 1, "match: first matching rule wins");
		T_EQ_INT(kl_cidr_match(list, 3, &a, "x.example.org", 13), 0, "match: name rule before address rule");
		T_EQ_INT(kl_cidr_match(list, 3, NULL, NULL, 0), KL_ENOTFOUND, "match: nothing to match");
		T_EQ_INT(kl_cidr_match(list, 0, &a, NULL, 0), KL_ENOTFOUND, "match: empty list");
		T_EQ_INT(kl_cidr_match(list, 3, NULL, ".", 1), KL_ENOTFOUND, "match: name of a lone dot");
	}
}

static const struct {
	const char *addr;
	int why;
} class_rows[] = {
	{ "8.8.8.8", KL_CIDR_PUBLIC },
	{ "1.1.1.1", KL_CIDR_PUBLIC },
	{ "2606:4700::1111", KL_CIDR_PUBLIC },
	{ "127.0.0.1", KL_CIDR_LOOPBACK },
	{ "127.255.255.254", KL_CIDR_LOOPBACK },
	{ "::1", KL_CIDR_LOOPBACK },
	{ "::ffff:127.0.0.1", KL_CIDR_LOOPBACK },
	{ "::127.0.0.1", KL_CIDR_LOOPBACK },
	{ "64:ff9b::127.0.0.1", KL_CIDR_LOOPBACK },
	{ "2002:7f00:1::", KL_CIDR_LOOPBACK },
	{ "10.0.0.1", KL_CIDR_PRIVATE },
	{ "172.16.0.1", KL_CIDR_PRIVATE },
	{ "172.31.255.255", KL_CIDR_PRIVATE },
	{ "172.32.0.1", KL_CIDR_PUBLIC },
	{ "172.15.255.255", KL_CIDR_PUBLIC },
	{ "192.168.0.1", KL_CIDR_PRIVATE },
	{ "192.169.0.1", KL_CIDR_PUBLIC },
	{ "fc00::1", KL_CIDR_PRIVATE },
	{ "fdff:ffff::1", KL_CIDR_PRIVATE },
	{ "fec0::1", KL_CIDR_PRIVATE },
	{ "::ffff:10.1.2.3", KL_CIDR_PRIVATE },
	{ "::ffff:192.168.1.1", KL_CIDR_PRIVATE },
	{ "64:ff9b::192.168.1.1", KL_CIDR_PRIVATE },
	{ "64:ff9b:1::1", KL_CIDR_PRIVATE },
	{ "64:ff9b::8.8.8.8", KL_CIDR_PUBLIC },
	{ "2002:808:808::1", KL_CIDR_PUBLIC },
	{ "2002:c0a8:101::1", KL_CIDR_PRIVATE },
	{ "169.254.169.254", KL_CIDR_LINKLOCAL },
	{ "fe80::1", KL_CIDR_LINKLOCAL },
	{ "febf::1", KL_CIDR_LINKLOCAL },
	{ "::ffff:169.254.0.1", KL_CIDR_LINKLOCAL },
	{ "100.64.0.1", KL_CIDR_CGNAT },
	{ "100.127.255.255", KL_CIDR_CGNAT },
	{ "100.128.0.0", KL_CIDR_PUBLIC },
	{ "100.63.255.255", KL_CIDR_PUBLIC },
	{ "224.0.0.1", KL_CIDR_MULTICAST },
	{ "239.255.255.250", KL_CIDR_MULTICAST },
	{ "ff02::1", KL_CIDR_MULTICAST },
	{ "::ffff:224.0.0.251", KL_CIDR_MULTICAST },
	{ "0.0.0.0", KL_CIDR_UNSPEC },
	{ "0.1.2.3", KL_CIDR_UNSPEC },
	{ "::", KL_CIDR_UNSPEC },
	{ "::ffff:0.0.0.0", KL_CIDR_UNSPEC },
	{ "::0.0.1.2", KL_CIDR_UNSPEC },
	{ "255.255.255.255", KL_CIDR_BROADCAST },
	{ "::ffff:255.255.255.255", KL_CIDR_BROADCAST },
	{ "240.0.0.1", KL_CIDR_RESERVED },
	{ "255.255.255.254", KL_CIDR_RESERVED },
	{ "2001:db8::1", KL_CIDR_PUBLIC },
};

static void test_classify(void)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(class_rows); i++) {
		struct kl_cidr_addr a;
		int rc = kl_cidr_parse_addr(class_rows[i].addr, strlen(class_rows[i].addr), &a);
		int why = rc == 0 ? kl_cidr_classify(&a) : -1;

		T_OK(why == class_rows[i].why, "classify %s: %s (got %s)", class_rows[i].addr,
			kl_cidr_why_name(class_rows[i].why), kl_cidr_why_name(why));
	}
	T_EQ_STR(kl_cidr_why_name(KL_CIDR_LOOPBACK), "loopback", "why name");
	T_EQ_STR(kl_cidr_why_name(KL_CIDR_WHY_COUNT), "unknown", "why name out of range");
	T_EQ_STR(kl_cidr_why_name(-1), "unknown", "why name negative");
}

static void parse_list(struct kl_cidr_rule *r, const char *const *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		KL_ASSERT(kl_cidr_parse_rule(s[i], strlen(s[i]), &r[i]) == 0);
}

static void test_decide(void)
{
	static const char *const allow_s[] = { "127.0.0.0/8", "intranet.example", "192.168.7.0/24" };
	static const char *const deny_s[] = { "192.168.7.66", "blocked.example", "9.9.9.9" };
	static const struct {
		const char *addr, *host;
		int rc, why;
	} rows[] = {
		{ "8.8.8.8", NULL, 0, KL_CIDR_PUBLIC },
		{ "8.8.8.8", "dns.google", 0, KL_CIDR_PUBLIC },
		{ "9.9.9.9", NULL, KL_EDENIED, KL_CIDR_DENY_LIST },
		{ "::ffff:9.9.9.9", NULL, KL_EDENIED, KL_CIDR_DENY_LIST },
		{ "127.0.0.1", NULL, 0, KL_CIDR_ALLOW_LIST },
		{ "::ffff:127.0.0.1", NULL, 0, KL_CIDR_ALLOW_LIST },
		{ "::1", NULL, KL_EDENIED, KL_CIDR_LOOPBACK },
		{ "10.0.0.1", NULL, KL_EDENIED, KL_CIDR_PRIVATE },
		{ "10.0.0.1", "intranet.example", 0, KL_CIDR_ALLOW_LIST },
		{ "10.0.0.1", "www.intranet.example", 0, KL_CIDR_ALLOW_LIST },
		{ "192.168.7.5", NULL, 0, KL_CIDR_ALLOW_LIST },
		{ "192.168.7.66", NULL, KL_EDENIED, KL_CIDR_DENY_LIST },
		{ "1.2.3.4", "blocked.example", KL_EDENIED, KL_CIDR_DENY_LIST },
		{ "127.0.0.1", "a.blocked.example", KL_EDENIED, KL_CIDR_DENY_LIST },
		{ NULL, "blocked.example.", KL_EDENIED, KL_CIDR_DENY_LIST },
		{ NULL, "example.net", 0, KL_CIDR_PUBLIC },
		{ "169.254.169.254", "metadata", KL_EDENIED, KL_CIDR_LINKLOCAL },
		{ "100.64.1.1", NULL, KL_EDENIED, KL_CIDR_CGNAT },
	};
	struct kl_cidr_rule allow[3], deny[3];

	parse_list(allow, allow_s, 3);
	parse_list(deny, deny_s, 3);
	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		struct kl_cidr_addr a;
		const char *h = rows[i].host;
		int why = -1, rc;

		if (rows[i].addr)
			KL_ASSERT(kl_cidr_parse_addr(rows[i].addr, strlen(rows[i].addr), &a) == 0);
		rc = kl_cidr_decide(allow, 3, deny, 3, rows[i].addr ? &a : NULL, h, h ? strlen(h) : 0, &why);
		T_OK(rc == rows[i].rc && why == rows[i].why, "decide %s %s: %s, %s (got %d, %s)",
			rows[i].addr ? rows[i].addr : "-", h ? h : "-", rows[i].rc ? "denied" : "allowed",
			kl_cidr_why_name(rows[i].why), rc, kl_cidr_why_name(why));
	}
	{
		struct kl_cidr_addr a;
		kl_cidr_parse_addr("127.0.0.1", 9, &a);
		T_EQ_INT(kl_cidr_decide(NULL, 0, NULL, 0, &a, NULL, 0, NULL), KL_EDENIED,
			"decide: no lists, loopback refused (why may be NULL)");
	}
}

int main(void)
{
	guard_init();
	test_addr();
	test_rules();
	test_classify();
	test_decide();
	return T_DONE();
}
