/* cidr.c - IP addresses, CIDR and domain-suffix rules, destination policy. */
/* SPDX-License-Identifier: MIT */
#include "proto/cidr.h"

#include <string.h>

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t nat64_prefix[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return KL_EINVAL;
			start = ++i;
		}
		while (i < n && i - start < 3 && s[i] >= '0' && s[i] <= '9')
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return KL_EINVAL;
		out[part] = (uint8_t)v;
	}
	return i == n ? KL_OK : KL_EINVAL;
}

/*
 * Groups are collected left to right into b[]; "::" records where the
 * zeros go (gap) and the groups after it are moved to the end at the end.
 */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint8_t b[16];
	int nb = 0, gap = -1;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		size_t j = i;
		unsigned v = 0;

		if (nb >= 16)
			return KL_EINVAL;
		while (j < n && j - i < 4 && hexval(s[j]) >= 0)
			v = v << 4 | (unsigned)hexval(s[j++]);
		if (j == i)
			return KL_EINVAL;
		if (j < n && s[j] == '.') {
			/* dotted IPv4 tail: the last 32 bits */
			if (nb > 12 || parse_v4(s + i, n - i, b + nb) != KL_OK)
				return KL_EINVAL;
			nb += 4;
			break;
		}
		b[nb++] = (uint8_t)(v >> 8);
		b[nb++] = (uint8_t)v;
		i = j;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return KL_EINVAL;
		if (s[i] == ':') {
			if (gap >= 0)
				return KL_EINVAL;
			gap = nb;
			i++;
		}
	}
	if (gap < 0 ? nb != 16 : nb == 16)
		return KL_EINVAL;
	if (gap < 0)
		gap = nb;
	memset(out, 0, 16);
	memcpy(out, b, (size_t)gap);
	memcpy(out + 16 - (nb - gap), b + gap, (size_t)(nb - gap));
	return KL_OK;
}

/* see cidr.h */
int kl_cidr_parse_addr(const char *s, size_t n, struct kl_cidr_addr *a)
{
	uint8_t v4[4];

	if (memchr(s, ':', n)) {
		if (parse_v6(s, n, a->b) != KL_OK)
			return KL_EINVAL;
		a->v4 = 0;
		return KL_OK;
	}
	if (parse_v4(s, n, v4) != KL_OK)
		return KL_EINVAL;
	kl_cidr_from_v4(a, v4);
	return KL_OK;
}

/* see cidr.h */
void kl_cidr_from_v4(struct kl_cidr_addr *a, const uint8_t b[4])
{
	memcpy(a->b, mapped_prefix, 12);
	memcpy(a->b + 12, b, 4);
	a->v4 = 1;
}

/* see cidr.h */
void kl_cidr_from_v6(struct kl_cidr_addr *a, const uint8_t b[16])
{
	memcpy(a->b, b, 16);
	a->v4 = 0;
}

static size_t put_v4(char *o, const uint8_t *b)
{
	size_t k = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (i)
			o[k++] = '.';
		if (v >= 100)
			o[k++] = (char)('0' + v / 100);
		if (v >= 10)
			o[k++] = (char)('0' + v / 10 % 10);
		o[k++] = (char)('0' + v % 10);
	}
	return k;
}

/* see cidr.h */
int kl_cidr_format(const struct kl_cidr_addr *a, char *out, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	char t[KL_CIDR_ADDRSTRLEN];
	size_t k = 0;
	int best = -1, bestlen = 1, ngroups = 8;

	if (a->v4) {
		k = put_v4(t, a->b + 12);
	} else {
		if (memcmp(a->b, mapped_prefix, 12) == 0)
			ngroups = 6;    /* ::ffff:a.b.c.d keeps its dotted tail */
		for (int g = 0; g < ngroups;) {
			int len = 0;
			while (g + len < ngroups && a->b[2 * (g + len)] == 0 && a->b[2 * (g + len) + 1] == 0)
				len++;
			if (len > bestlen) {
				best = g;
				bestlen = len;
			}
			g += len ? len : 1;
		}
		for (int g = 0; g < ngroups; g++) {
			unsigned v = (unsigned)a->b[2 * g] << 8 | a->b[2 * g + 1];
			int started = 0;

			if (g == best) {
				t[k++] = ':';
				t[k++] = ':';
				g += bestlen - 1;
				continue;
			}
			if (g > 0 && t[k - 1] != ':')
				t[k++] = ':';
			for (int sh = 12; sh >= 0; sh -= 4) {
				unsigned d = v >> sh & 15;
				if (d || started || sh == 0) {
					t[k++] = hx[d];
					started = 1;
				}
			}
		}
		if (ngroups == 6) {
			if (t[k - 1] != ':')
				t[k++] = ':';
			k += put_v4(t + k, a->b + 12);
		}
	}
	if (k + 1 > cap)
		return KL_ETOOBIG;
	memcpy(out, t, k);
	out[k] = 0;
	return (int)k;
}

static int valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Lower-cases a domain name into out (cap >= KL_CIDR_NAME_MAX + 1) after
 * dropping one trailing dot. Returns its length, KL_EINVAL or KL_ERANGE.
 */
static int norm_name(const char *s, size_t n, char *out)
{
	size_t label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return KL_EINVAL;
	if (n > KL_CIDR_NAME_MAX)
		return KL_ERANGE;
	for (size_t i = 0; i < n; i++) {
		char c = lower(s[i]);
		if (c == '.') {
			if (label == 0)
				return KL_EINVAL;
			label = 0;
		} else if (!valid_name_char(c) || ++label > 63) {
			return label > 63 ? KL_ERANGE : KL_EINVAL;
		}
		out[i] = c;
	}
	if (label == 0)
		return KL_EINVAL;
	out[n] = 0;
	return (int)n;
}

static void mask(uint8_t b[16], unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		b[i] &= prefix > 8 * i ? (uint8_t)(0xff << (8 - (prefix - 8 * i))) : 0;
	}
}

/* see cidr.h */
int kl_cidr_parse_rule(const char *s, size_t n, struct kl_cidr_rule *r)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	struct kl_cidr_addr a;
	int rc;

	memset(r, 0, sizeof(*r));
	if (kl_cidr_parse_addr(s, alen, &a) == KL_OK) {
		unsigned max = a.v4 ? 32 : 128, p = max;

		if (slash) {
			size_t i = alen + 1;
			if (i == n || n - i > 3)
				return KL_EINVAL;
			p = 0;
			for (; i < n; i++) {
				if (s[i] < '0' || s[i] > '9')
					return KL_EINVAL;
				p = p * 10 + (unsigned)(s[i] - '0');
			}
			if (p > max)
				return KL_ERANGE;
		}
		r->kind = KL_CIDR_RULE_IP;
		r->prefix = (uint8_t)(a.v4 ? 96 + p : p);
		memcpy(r->b, a.b, 16);
		mask(r->b, r->prefix);
		return KL_OK;
	}
	if (slash)
		return KL_EINVAL;
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	} else if (n >= 1 && s[0] == '.') {
		s++;
		n--;
	}
	rc = norm_name(s, n, r->name);
	if (rc < 0)
		return rc;
	/* an all-digit top label is never a domain (RFC 3696): "10.0.0.256" is a typo */
	for (int i = rc - 1; i >= 0 && r->name[i] != '.'; i--) {
		if (r->name[i] < '0' || r->name[i] > '9')
			break;
		if (i == 0 || r->name[i - 1] == '.')
			return KL_EINVAL;
	}
	r->kind = KL_CIDR_RULE_DOMAIN;
	r->name_len = (uint8_t)rc;
	return KL_OK;
}

static int in_prefix(const uint8_t *b, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(b, net, full) != 0)
		return 0;
	return rest == 0 || ((b[full] ^ net[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/*
 * The IPv4 address reached through a, as a v4-mapped form in out: a itself
 * when it is v4-mapped, else the embedded address of an IPv4-compatible or
 * NAT64 well-known-prefix address. Returns 0 when there is none.
 */
static int embedded_v4(const struct kl_cidr_addr *a, uint8_t out[16])
{
	static const uint8_t zero[12];
	const uint8_t *v4 = NULL;

	if (memcmp(a->b, mapped_prefix, 12) == 0)
		v4 = a->b + 12;
	else if (memcmp(a->b, nat64_prefix, 12) == 0)
		v4 = a->b + 12;
	else if (memcmp(a->b, zero, 12) == 0 && !(memcmp(a->b + 12, zero, 3) == 0 && a->b[15] <= 1))
		v4 = a->b + 12;     /* ::a.b.c.d; :: and ::1 are v6 addresses of their own */
	else if (a->b[0] == 0x20 && a->b[1] == 0x02)
		v4 = a->b + 2;      /* 6to4 */
	if (!v4)
		return 0;
	memcpy(out, mapped_prefix, 12);
	memcpy(out + 12, v4, 4);
	return 1;
}

/* Does host (already without trailing dot) equal name or end with "." name? */
static int suffix_match(const char *host, size_t hlen, const char *name, size_t nlen)
{
	size_t off;

	if (hlen < nlen)
		return 0;
	off = hlen - nlen;
	if (off > 0 && host[off - 1] != '.')
		return 0;
	for (size_t i = 0; i < nlen; i++)
		if (lower(host[off + i]) != name[i])
			return 0;
	return 1;
}

/* see cidr.h */
int kl_cidr_match(const struct kl_cidr_rule *r, size_t n, const struct kl_cidr_addr *a,
		const char *host, size_t hlen)
{
	uint8_t emb[16];
	int have_emb = 0;

	if (a && memcmp(a->b, mapped_prefix, 12) != 0)
		have_emb = embedded_v4(a, emb) && !(a->b[0] == 0x20 && a->b[1] == 0x02);
	if (host && hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind == KL_CIDR_RULE_IP && a) {
			if (in_prefix(a->b, r[i].b, r[i].prefix))
				return (int)i;
			if (have_emb && r[i].prefix >= 96 && in_prefix(emb, r[i].b, r[i].prefix))
				return (int)i;
		} else if (r[i].kind == KL_CIDR_RULE_DOMAIN && host && hlen > 0) {
			if (suffix_match(host, hlen, r[i].name, r[i].name_len))
				return (int)i;
		}
	}
	return KL_ENOTFOUND;
}

static int classify_v4(const uint8_t *b)
{
	if (b[0] == 127)
		return KL_CIDR_LOOPBACK;
	if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
		return KL_CIDR_PRIVATE;
	if (b[0] == 169 && b[1] == 254)
		return KL_CIDR_LINKLOCAL;
	if (b[0] == 100 && (b[1] & 0xc0) == 64)
		return KL_CIDR_CGNAT;
	if ((b[0] & 0xf0) == 224)
		return KL_CIDR_MULTICAST;
	if (b[0] == 0)
		return KL_CIDR_UNSPEC;
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return KL_CIDR_BROADCAST;
	if ((b[0] & 0xf0) == 240)
		return KL_CIDR_RESERVED;
	return KL_CIDR_PUBLIC;
}

/* see cidr.h */
int kl_cidr_classify(const struct kl_cidr_addr *a)
{
	static const uint8_t zero[15];
	const uint8_t *b = a->b;
	uint8_t emb[16];

	if (memcmp(b, zero, 15) == 0 && b[15] <= 1)
		return b[15] == 1 ? KL_CIDR_LOOPBACK : KL_CIDR_UNSPEC;
	if (embedded_v4(a, emb)) {
		int c = classify_v4(emb + 12);
		/* 6to4 of a public address is an ordinary global address */
		if (c != KL_CIDR_PUBLIC || !(b[0] == 0x20 && b[1] == 0x02))
			return c;
		return KL_CIDR_PUBLIC;
	}
	if ((b[0] & 0xfe) == 0xfc)
		return KL_CIDR_PRIVATE;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return KL_CIDR_LINKLOCAL;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return KL_CIDR_PRIVATE;     /* deprecated site-local, still routed inside sites */
	if (b[0] == 0xff)
		return KL_CIDR_MULTICAST;
	if (memcmp(b, nat64_prefix, 4) == 0 && b[4] == 0 && b[5] == 1)
		return KL_CIDR_PRIVATE;     /* local-use NAT64 prefix (RFC 8215) */
	return KL_CIDR_PUBLIC;
}

/* see cidr.h */
const char *kl_cidr_why_name(int why)
{
	static const char *const names[KL_CIDR_WHY_COUNT] = {
		"public", "loopback", "private", "link-local", "cgnat", "multicast",
		"unspecified", "broadcast", "reserved", "deny list", "allow list",
	};
	return why >= 0 && why < KL_CIDR_WHY_COUNT ? names[why] : "unknown";
}

/* see cidr.h */
int kl_cidr_decide(const struct kl_cidr_rule *allow, size_t nallow,
		const struct kl_cidr_rule *deny, size_t ndeny,
		const struct kl_cidr_addr *a, const char *host, size_t hlen, int *why)
{
	int w, rc = KL_OK;

	if (kl_cidr_match(deny, ndeny, a, host, hlen) >= 0) {
		w = KL_CIDR_DENY_LIST;
		rc = KL_EDENIED;
	} else if (kl_cidr_match(allow, nallow, a, host, hlen) >= 0) {
		w = KL_CIDR_ALLOW_LIST;
	} else {
		w = a ? kl_cidr_classify(a) : KL_CIDR_PUBLIC;
		if (w != KL_CIDR_PUBLIC)
			rc = KL_EDENIED;
	}
	if (why)
		*why = w;
	return rc;
}
