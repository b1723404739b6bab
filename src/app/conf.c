/* conf.c - the configuration file: INI lines into fixed fields, then validation. */
/* SPDX-License-Identifier: MIT */
#include "app/conf.h"
#include "base/b64.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The parser works one line at a time on a NUL-terminated copy of that line
 * (so it never needs the caller's text to be terminated), looks the key up
 * in a per-section table and writes the typed value straight into its
 * field. Checks that need the whole section (required keys, key pairs, the
 * open-listener rule) run when the section ends.
 */

#define MAX_FILE        (256u << 10)    /* a config larger than this is a mistake */
#define MAX_USERS_FILE  (64u << 10)     /* KL_CONF_MAX_USERS lines fit many times over */
#define MAX_LINE        4096
#define MAX_KEYS        32              /* keys of the largest section, for key_line[] */
#define SHOWN           64              /* bytes of a bad value quoted in a message */

#define KB  (1ull << 10)
#define MB  (1ull << 20)
#define GB  (1ull << 30)
#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)

enum sec { S_NONE, S_GLOBAL, S_ADMIN, S_RELAY, S_THUMBS, S_PRESET };

enum ktype {
	K_STR,          /* path or credential, copied as is */
	K_U32,          /* decimal integer in [min, max] */
	K_SIZE,         /* kl_conf_size, uint64_t field */
	K_DUR,          /* kl_conf_duration, uint32_t milliseconds */
	K_TTL,          /* a duration kept in whole seconds */
	K_BOOL,         /* int 0/1 */
	K_LEVEL,        /* log level */
	K_TYPE,         /* relay type */
	K_LISTEN,       /* host:port with a literal address */
	K_HOSTPORT,     /* host:port, host may be a name */
	K_HEX,          /* key/salt */
	K_USERS,        /* user:pass list into the relay's users[] */
	K_USERS_FILE,   /* path, read now into the relay's users[] */
	K_CIDRS,        /* struct kl_conf_rules of CIDRs */
	K_DESTS,        /* struct kl_conf_rules of CIDRs or domain suffixes */
	K_SOURCES,      /* thumbs allowed_sources */
	K_PIN,          /* SHA-256 pin, hex or base64 */
	K_OPTIONS       /* imgproxy processing options */
};

struct key {
	const char *name;
	enum ktype type;
	size_t off, size;       /* the field inside the section's struct */
	uint64_t min, max;      /* for numbers, sizes and durations */
};

#define FLD(type, f) offsetof(type, f), sizeof(((type *)0)->f)
#define G(f) FLD(struct kl_conf, f)
#define R(f) FLD(struct kl_conf_relay, f)
#define TH(f) FLD(struct kl_conf_thumbs, f)
#define P(f) FLD(struct kl_conf_preset, f)

static const struct key global_keys[] = {
	{ "memory_limit", K_SIZE, G(memory_limit), MB, 1ull << 40 },
	{ "log_level", K_LEVEL, G(log_level), 0, 0 },
	{ "shutdown_grace", K_DUR, G(shutdown_grace_ms), 0, HOUR },
	{ "dns_cache", K_U32, G(dns_cache), 0, 65536 },
};

static const struct key admin_keys[] = {
	{ "listen", K_LISTEN, G(admin_listen), 0, 0 },
};

static const struct key relay_keys[] = {
	{ "type", K_TYPE, R(type), 0, 0 },
	{ "listen", K_LISTEN, R(listen), 0, 0 },
	{ "target", K_HOSTPORT, R(target), 0, 0 },
	{ "tls_cert", K_STR, R(tls_cert), 0, 0 },
	{ "tls_key", K_STR, R(tls_key), 0, 0 },
	{ "buffer_kb", K_U32, R(buffer_kb), 0, 65536 },
	{ "max_conns", K_U32, R(max_conns), 1, 1000000 },
	{ "max_conns_per_ip", K_U32, R(max_conns_per_ip), 0, 1000000 },
	{ "sock_buf_kb", K_U32, R(sock_buf_kb), 0, 65536 },
	{ "allow_clients", K_CIDRS, R(allow_clients), 0, 0 },
	{ "allow_destinations", K_DESTS, R(allow_destinations), 0, 0 },
	{ "deny_destinations", K_DESTS, R(deny_destinations), 0, 0 },
	{ "users", K_USERS, R(users), 0, 0 },
	{ "users_file", K_USERS_FILE, R(users_file), 0, 0 },
	{ "open", K_BOOL, R(open), 0, 0 },
	{ "handshake", K_DUR, R(handshake_ms), 1, WEEK },
	{ "connect", K_DUR, R(connect_ms), 1, WEEK },
	{ "idle", K_DUR, R(idle_ms), 1, WEEK },
	{ "uplink_only", K_DUR, R(uplink_only_ms), 0, WEEK },
	{ "downlink_only", K_DUR, R(downlink_only_ms), 0, WEEK },
	{ "upstream", K_HOSTPORT, R(upstream), 0, 0 },
	{ "upstream_tls", K_BOOL, R(upstream_tls), 0, 0 },
	{ "upstream_user", K_STR, R(upstream_user), 0, 0 },
	{ "upstream_pass", K_STR, R(upstream_pass), 0, 0 },
	{ "upstream_ca", K_STR, R(upstream_ca), 0, 0 },
	{ "upstream_pin", K_PIN, R(upstream_pin), 0, 0 },
	{ "tls_sessions", K_U32, R(tls_sessions), 0, 1000000 },
};

static const struct key thumbs_keys[] = {
	{ "listen", K_LISTEN, TH(listen), 0, 0 },
	{ "key", K_HEX, TH(key), 0, 0 },
	{ "salt", K_HEX, TH(salt), 0, 0 },
	{ "signature_size", K_U32, TH(signature_size), 1, 32 },
	{ "jobs", K_U32, TH(jobs), 1, 64 },
	{ "arena", K_SIZE, TH(arena), 64 * KB, GB },
	{ "queue", K_U32, TH(queue), 0, 4096 },
	{ "max_conns", K_U32, TH(max_conns), 1, 100000 },
	{ "local_root", K_STR, TH(local_root), 0, 0 },
	{ "allowed_sources", K_SOURCES, TH(allowed_sources), 0, 0 },
	{ "allow_private_sources", K_BOOL, TH(allow_private_sources), 0, 0 },
	{ "max_src_size", K_SIZE, TH(max_src_size), KB, 1ull << 40 },
	{ "max_src_resolution", K_U32, TH(max_src_resolution), 1, 1000 },
	{ "download_timeout", K_DUR, TH(download_timeout_ms), 1, HOUR },
	{ "header_timeout", K_DUR, TH(header_timeout_ms), 1, HOUR },
	{ "idle_timeout", K_DUR, TH(idle_timeout_ms), 1, WEEK },
	{ "max_header_kb", K_U32, TH(max_header_kb), 1, 1024 },
	{ "ttl", K_TTL, TH(ttl_s), 0, 10 * 365 * 86400ull },
	{ "quality", K_U32, TH(quality), 1, 100 },
	{ "ca_file", K_STR, TH(ca_file), 0, 0 },
	{ "tls_sessions", K_U32, TH(tls_sessions), 0, 1024 },
};

static const struct key preset_keys[] = {
	{ "options", K_OPTIONS, P(options), 0, 0 },
};

_Static_assert(KL_ARRAY_LEN(relay_keys) <= MAX_KEYS, "key_line[] too small");
_Static_assert(KL_ARRAY_LEN(thumbs_keys) <= MAX_KEYS, "key_line[] too small");

/* A parsed host:port. fam is 0 for a host name. */
struct addr {
	int fam;
	uint8_t ip[16];
	unsigned port;
};

struct listener {
	struct addr a;
	int line;
	const char *text;       /* the value as stored in struct kl_conf */
	char label[48];
};

struct ps {
	struct kl_conf *c;
	const char *file;
	char *err;
	int line;
	enum sec sec;
	char *base;             /* the current section's struct */
	const struct key *keys;
	size_t nkeys;
	int sec_line;
	char label[48];         /* "[relay NAME]" */
	int key_line[MAX_KEYS]; /* where each key of the section was set, 0 = not set */
	int global_line, admin_line, thumbs_line;
	unsigned nlisten;
	struct listener lis[KL_CONF_MAX_RELAYS + 2];
};

/* Copies s for a message: at most SHOWN bytes, control bytes as '?'. */
static const char *shown(char out[SHOWN + 4], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < SHOWN; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i])
		memcpy(out + i, "...", 3), i += 3;
	out[i] = 0;
	return out;
}

static void vfail(struct ps *p, int line, const char *key, const char *fmt, va_list ap)
{
	size_t n = 0, cap = KL_ERRLEN;
	int k;

	if (line < 0) {         /* the message names its own file (users_file) */
		vsnprintf(p->err, cap, fmt, ap);
		return;
	}
	k = snprintf(p->err, cap, "%s:", p->file);
	n = k > 0 ? KL_MIN((size_t)k, cap - 1) : 0;
	if (line > 0 && n < cap - 1) {
		k = snprintf(p->err + n, cap - n, "%d:", line);
		n += k > 0 ? KL_MIN((size_t)k, cap - n - 1) : 0;
	}
	if (key && n < cap - 1) {
		k = snprintf(p->err + n, cap - n, " %s:", key);
		n += k > 0 ? KL_MIN((size_t)k, cap - n - 1) : 0;
	}
	if (n < cap - 1) {
		p->err[n++] = ' ';
		p->err[n] = 0;
		vsnprintf(p->err + n, cap - n, fmt, ap);
	}
}

/* Fills err with "FILE:LINE: KEY: message" and returns rc (negative). */
__attribute__((format(printf, 5, 6)))
static int fail(struct ps *p, int line, const char *key, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, line, key, fmt, ap);
	va_end(ap);
	return rc;
}

static int is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = 0;
	return s;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* Decimal digits only (no sign, no space), with an overflow check. */
static int parse_u64(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!is_digit(*s))
		return KL_EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return KL_ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

/* see conf.h */
int kl_conf_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	int rc;

	if (!s)
		return KL_EINVAL;
	rc = parse_u64(&s, &v);
	if (rc < 0)
		return rc;
	switch (*s) {
	case 'k': case 'K': mul = KB; s++; break;
	case 'm': case 'M': mul = MB; s++; break;
	case 'g': case 'G': mul = GB; s++; break;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s)
		return KL_EINVAL;
	if (v > UINT64_MAX / mul)
		return KL_ERANGE;
	*out = v * mul;
	return 0;
}

/* A duration in milliseconds, 64 bits wide so that ttl can say "365d". */
static int duration64(const char *s, uint64_t *out_ms)
{
	uint64_t v, mul;
	int rc;

	if (!s)
		return KL_EINVAL;
	rc = parse_u64(&s, &v);
	if (rc < 0)
		return rc;
	if (strcmp(s, "") == 0 || strcmp(s, "s") == 0)
		mul = SEC;
	else if (strcmp(s, "ms") == 0)
		mul = 1;
	else if (strcmp(s, "m") == 0)
		mul = MIN;
	else if (strcmp(s, "h") == 0)
		mul = HOUR;
	else if (strcmp(s, "d") == 0)
		mul = DAY;
	else
		return KL_EINVAL;
	if (v > UINT64_MAX / mul)
		return KL_ERANGE;
	*out_ms = v * mul;
	return 0;
}

/* see conf.h */
int kl_conf_duration(const char *s, uint32_t *out_ms)
{
	uint64_t ms;
	int rc = duration64(s, &ms);

	if (rc < 0)
		return rc;
	if (ms > UINT32_MAX)
		return KL_ERANGE;
	*out_ms = (uint32_t)ms;
	return 0;
}

static const char *fmt_size(char out[32], uint64_t v)
{
	if (v && v % GB == 0)
		snprintf(out, 32, "%lluG", (unsigned long long)(v / GB));
	else if (v && v % MB == 0)
		snprintf(out, 32, "%lluM", (unsigned long long)(v / MB));
	else if (v && v % KB == 0)
		snprintf(out, 32, "%lluK", (unsigned long long)(v / KB));
	else
		snprintf(out, 32, "%llu", (unsigned long long)v);
	return out;
}

static const char *fmt_dur(char out[32], uint64_t ms)
{
	static const struct { uint64_t ms; const char *unit; } u[] = {
		{ DAY, "d" }, { HOUR, "h" }, { MIN, "m" }, { SEC, "s" },
	};

	for (size_t i = 0; i < KL_ARRAY_LEN(u); i++)
		if (ms && ms % u[i].ms == 0) {
			snprintf(out, 32, "%llu%s", (unsigned long long)(ms / u[i].ms), u[i].unit);
			return out;
		}
	snprintf(out, 32, ms ? "%llums" : "%llu", (unsigned long long)ms);
	return out;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };

	for (size_t i = 0; i < KL_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return KL_EINVAL;
}

/*
 * Host names as DNS allows them (letters, digits, '-', '_' for the odd
 * service name), labels 1..63 bytes, 253 in all. A name whose last label is
 * all digits would only ever be a mistyped IPv4 address.
 */
static int valid_hostname(const char *h)
{
	size_t n = strlen(h), lab = 0;
	int digits = 1;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char ch = h[i];
		if (ch == '.' || ch == 0) {
			if (lab == 0 || lab > 63)
				return 0;
			if (ch == 0 && digits)
				return 0;
			lab = 0;
			digits = 1;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_' ||
			   is_digit(ch)) {
			lab++;
			digits &= is_digit(ch);
		} else {
			return 0;
		}
	}
	return 1;
}

/*
 * "host:port", "[v6]:port". With literal set the host must be an IP
 * address (a listener binds before any resolver runs). Returns NULL or
 * the reason the value is wrong.
 */
static const char *parse_hostport(const char *v, int literal, struct addr *a)
{
	char host[256];
	const char *port, *colon;
	uint64_t pv;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (!rb)
			return "missing ']' after the IPv6 address";
		hl = (size_t)(rb - v - 1);
		if (hl == 0 || hl >= sizeof(host))
			return "not an IPv6 address";
		memcpy(host, v + 1, hl);
		host[hl] = 0;
		if (inet_pton(AF_INET6, host, a->ip) != 1)
			return "not an IPv6 address";
		a->fam = AF_INET6;
		if (rb[1] != ':')
			return "missing :port after ]";
		port = rb + 2;
	} else {
		colon = strrchr(v, ':');
		if (!colon)
			return "missing :port (expected host:port)";
		if (memchr(v, ':', (size_t)(colon - v)))
			return "an IPv6 address needs brackets: [addr]:port";
		hl = (size_t)(colon - v);
		if (hl == 0)
			return "missing host before :port (0.0.0.0 or [::] means every address)";
		if (hl >= sizeof(host))
			return "host name too long";
		memcpy(host, v, hl);
		host[hl] = 0;
		port = colon + 1;
		if (inet_pton(AF_INET, host, a->ip) == 1)
			a->fam = AF_INET;
		else if (literal)
			return "must be a literal IP address, not a host name";
		else if (!valid_hostname(host))
			return "not a host name or IP address";
	}
	if (strlen(port) > 5 || parse_u64(&port, &pv) < 0 || *port || pv < 1 || pv > 65535)
		return "port must be a number 1..65535";
	a->port = (unsigned)pv;
	return NULL;
}

static int is_any(const struct addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->fam == AF_INET ? 4 : 16) == 0;
}

static int is_loopback(const struct addr *a)
{
	static const uint8_t one[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->fam == AF_INET)
		return a->ip[0] == 127;
	return memcmp(a->ip, one, 16) == 0 || (memcmp(a->ip, mapped, 12) == 0 && a->ip[12] == 127);
}

/* "a.b.c.d[/n]" or "v6[/n]". Returns NULL or the reason it is not a CIDR. */
static const char *parse_cidr(const char *s)
{
	char ip[64];
	uint8_t bin[16];
	const char *slash = strchr(s, '/'), *pfx;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int v6 = memchr(s, ':', n) != NULL;
	uint64_t bits;

	if (n == 0 || n >= sizeof(ip))
		return "not a CIDR (like 192.168.1.0/24 or fd00::/8)";
	memcpy(ip, s, n);
	ip[n] = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin) != 1)
		return v6 ? "not an IPv6 address" : "not an IPv4 address";
	if (!slash)
		return NULL;
	pfx = slash + 1;
	if (strlen(pfx) > 3 || parse_u64(&pfx, &bits) < 0 || *pfx)
		return "prefix length after '/' is not a number";
	if (bits > (v6 ? 128u : 32u))
		return v6 ? "IPv6 prefix length is more than 128" : "IPv4 prefix length is more than 32";
	return NULL;
}

/* A domain suffix: "example.com" or ".example.com". */
static int valid_suffix(const char *s)
{
	return valid_hostname(s[0] == '.' ? s + 1 : s);
}

/* An entry of a destination list: CIDR when it looks like an address. */
static const char *parse_dest(const char *s)
{
	int addrlike = strchr(s, '/') || strchr(s, ':') || s[strspn(s, "0123456789.")] == 0;

	if (addrlike)
		return parse_cidr(s);
	return valid_suffix(s) ? NULL : "not a CIDR or domain suffix (like 10.0.0.0/8 or .example.com)";
}

static const char *parse_source(const char *s)
{
	static const char *const schemes[] = { "http://", "https://", "local:///" };

	for (size_t i = 0; i < KL_ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(s, schemes[i], n) == 0)
			return s[n] || i == 2 ? NULL : "needs a host after the scheme";
	}
	return "not a URL prefix starting with http://, https:// or local:///";
}

/*
 * imgproxy processing options: NAME[:ARG...] parts separated by '/'. The
 * meaning of each option is the URL parser's business; here only the
 * shape, so that a typo shows up at start-up with the line number.
 */
static const char *parse_options(const char *s)
{
	const char *part = s;

	for (;;) {
		const char *end = strchr(part, '/');
		size_t n = end ? (size_t)(end - part) : strlen(part), name = 0;

		if (n == 0)
			return "empty option (two '/' in a row, or one at an end)";
		while (name < n && ((part[name] >= 'a' && part[name] <= 'z') || is_digit(part[name]) ||
				    part[name] == '_' || part[name] == '-'))
			name++;
		if (name == 0 || (name < n && part[name] != ':'))
			return "not an option (expected name:arg:arg/...)";
		for (size_t i = name; i < n; i++)
			if ((unsigned char)part[i] <= ' ' || (unsigned char)part[i] >= 0x7f)
				return "options may not contain spaces or non-ASCII bytes";
		if (!end)
			return NULL;
		part = end + 1;
	}
}

static const char *parse_pin(const char *s)
{
	uint8_t d[32];
	size_t n = strlen(s), i;

	for (i = 0; i < n && hexval(s[i]) >= 0; i++)
		;
	if (i == n && n == 64)
		return NULL;
	if (kl_b64_decode(s, n, d, sizeof(d), KL_B64_STD) == 32)
		return NULL;
	return "not a SHA-256 pin (64 hex digits, or base64 of 32 bytes)";
}

static int copy_field(struct ps *p, const struct key *k, char *dst, const char *v)
{
	size_t n = strlen(v);

	if (n >= k->size)
		return fail(p, p->line, k->name, KL_ETOOBIG, "value too long (at most %zu bytes)",
			    k->size - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

/* Splits a list value at commas and blanks; calls fn for each item. */
static int each_item(struct ps *p, const struct key *k, char *v,
		     int (*fn)(struct ps *p, const struct key *k, const char *item))
{
	char *s = v;

	for (;;) {
		size_t n;
		int rc;

		s += strspn(s, ", \t");
		if (!*s)
			return 0;
		n = strcspn(s, ", \t");
		if (s[n]) {
			s[n] = 0;
			n++;
		}
		rc = fn(p, k, s);
		if (rc < 0)
			return rc;
		s += n;
	}
}

/*
 * Appends item, already judged by the caller (why = NULL when valid), to a
 * fixed list of *n entries of at most max. Errors name the key and line.
 */
static int append_item(struct ps *p, const struct key *k, const char *why, const char *item,
		       char (*list)[KL_CONF_RULE], unsigned *n, unsigned max)
{
	char sh[SHOWN + 4];

	if (why)
		return fail(p, p->line, k->name, KL_EINVAL, "%s: \"%s\"", why, shown(sh, item));
	if (*n == max)
		return fail(p, p->line, k->name, KL_ETOOBIG, "more than %u entries", max);
	if (strlen(item) >= KL_CONF_RULE)
		return fail(p, p->line, k->name, KL_ETOOBIG, "entry longer than %d bytes: \"%s\"",
			    KL_CONF_RULE - 1, shown(sh, item));
	strcpy(list[(*n)++], item);
	return 0;
}

static int add_rule(struct ps *p, const struct key *k, const char *item)
{
	struct kl_conf_rules *r = (struct kl_conf_rules *)(p->base + k->off);
	const char *why = k->type == K_CIDRS ? parse_cidr(item) : parse_dest(item);

	return append_item(p, k, why, item, r->item, &r->n, KL_CONF_MAX_CIDRS);
}

static int add_source(struct ps *p, const struct key *k, const char *item)
{
	struct kl_conf_thumbs *t = &p->c->thumbs;
	const char *why = parse_source(item);

	return append_item(p, k, why, item, t->allowed_sources, &t->nsources, KL_CONF_MAX_SOURCES);
}

/*
 * One "user:pass" into the current relay. Returns NULL or what is wrong;
 * the caller words the message, since users_file errors name another file.
 * Passwords never appear in messages.
 */
static const char *add_user(struct kl_conf_relay *r, const char *item, char *name_out)
{
	const char *colon = strchr(item, ':');
	size_t un;

	name_out[0] = 0;
	if (!colon)
		return "expected user:pass";
	un = (size_t)(colon - item);
	if (un == 0)
		return "empty user name before ':'";
	if (un >= KL_CONF_CRED)
		return "user name longer than 63 bytes";
	memcpy(name_out, item, un);
	name_out[un] = 0;
	if (colon[1] == 0)
		return "empty password";
	if (strlen(colon + 1) >= KL_CONF_CRED)
		return "password longer than 63 bytes";
	for (unsigned i = 0; i < r->nusers; i++)
		if (strcmp(r->users[i].name, name_out) == 0)
			return "user name appears twice";
	if (r->nusers == KL_CONF_MAX_USERS)
		return "more than 16 users";
	strcpy(r->users[r->nusers].name, name_out);
	strcpy(r->users[r->nusers].pass, colon + 1);
	r->nusers++;
	return NULL;
}

static int add_inline_user(struct ps *p, const struct key *k, const char *item)
{
	char name[KL_CONF_CRED], sh[SHOWN + 4];
	const char *why = add_user((struct kl_conf_relay *)p->base, item, name);

	if (!why)
		return 0;
	if (name[0])
		return fail(p, p->line, k->name, KL_EINVAL, "%s: user \"%s\"", why, shown(sh, name));
	return fail(p, p->line, k->name, KL_EINVAL, "%s", why);
}

/*
 * users_file: one user:pass per line, blank lines and lines starting with
 * '#' skipped. The whole line (trimmed) is the entry, so passwords may hold
 * blanks, commas and '#'. The file is opened non-blocking and must be a
 * regular file, so that a FIFO or a device can never stall start-up.
 */
static int read_users_file(struct ps *p, const struct key *k, const char *path)
{
	static char text[MAX_USERS_FILE + 1];
	struct kl_conf_relay *r = (struct kl_conf_relay *)p->base;
	char sh[SHOWN + 4], name[KL_CONF_CRED];
	struct stat st;
	size_t len = 0, pos = 0;
	int fd, uline = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(p, p->line, k->name, errno == ENOENT ? KL_ENOTFOUND : KL_EIO,
			    "cannot open %s: %s", shown(sh, path), strerror(errno));
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_USERS_FILE) {
		int big = S_ISREG(st.st_mode);
		close(fd);
		return fail(p, p->line, k->name, big ? KL_ETOOBIG : KL_EIO,
			    big ? "%s is larger than 64 KB" : "%s is not a regular file", shown(sh, path));
	}
	while (len < MAX_USERS_FILE) {
		ssize_t got = read(fd, text + len, MAX_USERS_FILE - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			close(fd);
			return fail(p, p->line, k->name, KL_EIO, "cannot read %s: %s", shown(sh, path),
				    strerror(e));
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	while (pos < len) {
		char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		const char *why = NULL;

		pos += n + (nl != NULL);
		uline++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		s[n] = 0;       /* text has one spare byte for the last line */
		if (strlen(s) != n)
			why = "NUL byte in line";
		else if (*(s = trim(s)) == 0 || *s == '#')
			continue;
		if (!why)
			why = add_user(r, s, name);
		if (why) {
			char sh2[SHOWN + 4];
			return fail(p, -1, NULL, KL_EINVAL, "%s:%d: %s%s%s%s (users_file of %s at %s:%d)",
				    shown(sh, path), uline, why, name[0] ? ": user \"" : "",
				    name[0] ? shown(sh2, name) : "", name[0] ? "\"" : "", p->label,
				    p->file, p->line);
		}
	}
	return 0;
}

/* Records a listener and refuses one that another listener already holds. */
static int add_listener(struct ps *p, const struct key *k, const struct addr *a, const char *text)
{
	struct listener *l;

	for (unsigned i = 0; i < p->nlisten; i++) {
		const struct listener *o = &p->lis[i];
		size_t n = a->fam == AF_INET ? 4 : 16;
		if (o->a.fam != a->fam || o->a.port != a->port)
			continue;
		if (memcmp(o->a.ip, a->ip, n) == 0)
			return fail(p, p->line, k->name, KL_EINVAL, "%s is already used by %s (line %d)",
				    text, o->label, o->line);
		if (is_any(a) || is_any(&o->a))
			return fail(p, p->line, k->name, KL_EINVAL, "%s overlaps %s of %s (line %d)",
				    text, o->text, o->label, o->line);
	}
	KL_ASSERT(p->nlisten < KL_ARRAY_LEN(p->lis));
	l = &p->lis[p->nlisten++];
	l->a = *a;
	l->line = p->line;
	l->text = text;
	snprintf(l->label, sizeof(l->label), "%s", p->label);
	return 0;
}

static int set_value(struct ps *p, const struct key *k, char *v)
{
	void *f = p->base + k->off;
	char sh[SHOWN + 4], lo[32], hi[32];
	const char *why;
	struct addr a;
	uint64_t x;
	int rc, b;

	switch (k->type) {
	case K_STR:
		return copy_field(p, k, f, v);
	case K_U32: {
		const char *s = v;
		rc = parse_u64(&s, &x);
		if (rc < 0 || *s)
			return fail(p, p->line, k->name, KL_EINVAL, "not a number: \"%s\"", shown(sh, v));
		if (x < k->min || x > k->max)
			return fail(p, p->line, k->name, KL_ERANGE, "%s is out of range %llu..%llu",
				    shown(sh, v), (unsigned long long)k->min, (unsigned long long)k->max);
		*(uint32_t *)f = (uint32_t)x;
		return 0;
	}
	case K_SIZE:
		rc = kl_conf_size(v, &x);
		if (rc == KL_EINVAL)
			return fail(p, p->line, k->name, rc, "not a size (like 512K, 32M, 1G): \"%s\"",
				    shown(sh, v));
		if (rc < 0 || x < k->min || x > k->max)
			return fail(p, p->line, k->name, KL_ERANGE, "%s is out of range %s..%s",
				    shown(sh, v), fmt_size(lo, k->min), fmt_size(hi, k->max));
		*(uint64_t *)f = x;
		return 0;
	case K_DUR:
	case K_TTL:
		rc = duration64(v, &x);
		if (rc == KL_EINVAL)
			return fail(p, p->line, k->name, rc,
				    "not a duration (like 500ms, 5s, 2m, 1h, 7d; a plain number is seconds): \"%s\"",
				    shown(sh, v));
		if (k->type == K_TTL && rc == 0 && x % SEC)
			return fail(p, p->line, k->name, KL_EINVAL, "must be whole seconds: \"%s\"",
				    shown(sh, v));
		if (k->type == K_TTL)
			x /= SEC;
		if (rc < 0 || x < k->min || x > k->max) {
			if (k->type == K_TTL)
				return fail(p, p->line, k->name, KL_ERANGE, "%s is out of range %s..%s",
					    shown(sh, v), fmt_dur(lo, k->min * SEC), fmt_dur(hi, k->max * SEC));
			return fail(p, p->line, k->name, KL_ERANGE, "%s is out of range %s..%s",
				    shown(sh, v), fmt_dur(lo, k->min), fmt_dur(hi, k->max));
		}
		*(uint32_t *)f = (uint32_t)x;
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b) < 0)
			return fail(p, p->line, k->name, KL_EINVAL,
				    "not a boolean (yes/no, on/off, true/false, 1/0): \"%s\"", shown(sh, v));
		*(int *)f = b;
		return 0;
	case K_LEVEL:
		b = kl_log_parse_level(v);
		if (b < 0)
			return fail(p, p->line, k->name, KL_EINVAL,
				    "not a log level (error, warn, info, debug): \"%s\"", shown(sh, v));
		*(int *)f = b;
		return 0;
	case K_TYPE:
		if (strcmp(v, "socks5") == 0)
			*(enum kl_relay_type *)f = KL_RELAY_SOCKS5;
		else if (strcmp(v, "http") == 0)
			*(enum kl_relay_type *)f = KL_RELAY_HTTP;
		else if (strcmp(v, "forward") == 0)
			*(enum kl_relay_type *)f = KL_RELAY_FORWARD;
		else
			return fail(p, p->line, k->name, KL_EINVAL,
				    "not a relay type (socks5, http, forward): \"%s\"", shown(sh, v));
		return 0;
	case K_LISTEN:
	case K_HOSTPORT:
		why = parse_hostport(v, k->type == K_LISTEN, &a);
		if (why)
			return fail(p, p->line, k->name, KL_EINVAL, "%s: \"%s\"", why, shown(sh, v));
		rc = copy_field(p, k, f, v);
		if (rc == 0 && k->type == K_LISTEN)
			rc = add_listener(p, k, &a, f);
		return rc;
	case K_HEX: {
		size_t n = strlen(v), i;
		for (i = 0; i < n && hexval(v[i]) >= 0; i++)
			;
		if (i < n)
			return fail(p, p->line, k->name, KL_EINVAL, "not hex digits: \"%s\"", shown(sh, v));
		if (n % 2)
			return fail(p, p->line, k->name, KL_EINVAL, "odd number of hex digits (%zu)", n);
		if (n >= k->size)
			return fail(p, p->line, k->name, KL_ETOOBIG, "longer than %zu bytes (%zu hex digits)",
				    (k->size - 1) / 2, k->size - 1);
		return copy_field(p, k, f, v);
	}
	case K_USERS:
		return each_item(p, k, v, add_inline_user);
	case K_USERS_FILE:
		rc = copy_field(p, k, f, v);
		return rc < 0 ? rc : read_users_file(p, k, v);
	case K_CIDRS:
	case K_DESTS:
		return each_item(p, k, v, add_rule);
	case K_SOURCES:
		return each_item(p, k, v, add_source);
	case K_PIN:
		why = parse_pin(v);
		if (why)
			return fail(p, p->line, k->name, KL_EINVAL, "%s: \"%s\"", why, shown(sh, v));
		return copy_field(p, k, f, v);
	case K_OPTIONS:
		why = parse_options(v);
		if (why)
			return fail(p, p->line, k->name, KL_EINVAL, "%s: \"%s\"", why, shown(sh, v));
		return copy_field(p, k, f, v);
	}
	return fail(p, p->line, k->name, KL_EINVAL, "unhandled key type");
}

/* Line where the current section set key, or 0. */
static int key_line(const struct ps *p, const char *name)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].name, name) == 0)
			return p->key_line[i];
	return 0;
}

static int missing(struct ps *p, const char *name, const char *why)
{
	char key[80];

	snprintf(key, sizeof(key), "%s %s", p->label, name);
	return fail(p, p->sec_line, key, KL_EINVAL, "missing required key%s", why);
}

/* The later of two keys that may not be used together, or 0. */
static int both(const struct ps *p, const char *a, const char *b)
{
	int la = key_line(p, a), lb = key_line(p, b);

	return la && lb ? KL_MAX(la, lb) : 0;
}

static int check_relay(struct ps *p)
{
	struct kl_conf_relay *r = (struct kl_conf_relay *)p->base;
	static const char *const up[] = { "upstream_tls", "upstream_user", "upstream_pass",
					  "upstream_ca", "upstream_pin" };
	struct addr a;
	int l;

	if (!key_line(p, "type"))
		return missing(p, "type", " (socks5, http or forward)");
	if (!key_line(p, "listen"))
		return missing(p, "listen", "");
	if (r->type == KL_RELAY_FORWARD && !key_line(p, "target"))
		return missing(p, "target", " (type = forward)");
	if (r->type != KL_RELAY_FORWARD && (l = key_line(p, "target")))
		return fail(p, l, "target", KL_EINVAL, "only used with type = forward, not in %s",
			    p->label);
	if ((l = both(p, "users", "users_file")))
		return fail(p, l, l == key_line(p, "users") ? "users" : "users_file", KL_EINVAL,
			    "users and users_file cannot be used together in %s", p->label);
	if (r->type == KL_RELAY_FORWARD && r->nusers) {
		l = key_line(p, "users") ? key_line(p, "users") : key_line(p, "users_file");
		return fail(p, l, key_line(p, "users") ? "users" : "users_file", KL_EINVAL,
			    "a forward relay does not authenticate; use allow_clients");
	}
	if (!!key_line(p, "tls_cert") != !!key_line(p, "tls_key")) {
		int has_cert = key_line(p, "tls_cert") != 0;
		return fail(p, key_line(p, has_cert ? "tls_cert" : "tls_key"),
			    has_cert ? "tls_cert" : "tls_key", KL_EINVAL, "needs %s too",
			    has_cert ? "tls_key" : "tls_cert");
	}
	for (size_t i = 0; i < KL_ARRAY_LEN(up); i++)
		if ((l = key_line(p, up[i])) && !key_line(p, "upstream"))
			return fail(p, l, up[i], KL_EINVAL, "only used with upstream");
	if (!!key_line(p, "upstream_user") != !!key_line(p, "upstream_pass")) {
		int has_user = key_line(p, "upstream_user") != 0;
		return fail(p, key_line(p, has_user ? "upstream_user" : "upstream_pass"),
			    has_user ? "upstream_user" : "upstream_pass", KL_EINVAL, "needs %s too",
			    has_user ? "upstream_pass" : "upstream_user");
	}
	for (size_t i = 3; i < KL_ARRAY_LEN(up); i++)
		if ((l = key_line(p, up[i])) && !r->upstream_tls)
			return fail(p, l, up[i], KL_EINVAL, "only used with upstream_tls = on");
	if (!key_line(p, "tls_sessions"))
		r->tls_sessions = r->max_conns;
	/*
	 * SPEC section 2: a listener other hosts can reach, with nothing to
	 * tell friends from strangers, is an open proxy. Say so at start-up
	 * instead of finding out from an abuse report.
	 */
	parse_hostport(r->listen, 1, &a);
	if (!is_loopback(&a) && r->nusers == 0 && r->allow_clients.n == 0 && !r->open) {
		char key[80];
		snprintf(key, sizeof(key), "%s listen", p->label);
		return fail(p, key_line(p, "listen"), key, KL_EDENIED,
			    "%s is reachable from other hosts and has no users or allow_clients; "
			    "set open = yes if you mean it", r->listen);
	}
	return 0;
}

static int check_thumbs(struct ps *p)
{
	struct kl_conf_thumbs *t = &p->c->thumbs;

	if (!key_line(p, "listen"))
		return missing(p, "listen", "");
	if (!!key_line(p, "key") != !!key_line(p, "salt")) {
		int has_key = key_line(p, "key") != 0;
		return fail(p, key_line(p, has_key ? "key" : "salt"), has_key ? "key" : "salt",
			    KL_EINVAL, "needs %s too (both hex)", has_key ? "salt" : "key");
	}
	if (!key_line(p, "tls_sessions"))
		t->tls_sessions = t->jobs;
	return 0;
}

/* Section-wide checks, run when the next section starts and at the end. */
static int end_section(struct ps *p)
{
	int rc = 0;

	switch (p->sec) {
	case S_ADMIN:
		if (!key_line(p, "listen"))
			rc = missing(p, "listen", "");
		break;
	case S_RELAY:
		rc = check_relay(p);
		break;
	case S_THUMBS:
		rc = check_thumbs(p);
		break;
	case S_PRESET:
		if (!key_line(p, "options"))
			rc = missing(p, "options", " (like options = rs:fit:300:300)");
		break;
	default:
		break;
	}
	p->sec = S_NONE;
	return rc;
}

static void relay_defaults(struct kl_conf_relay *r)
{
	memset(r, 0, sizeof(*r));
	r->buffer_kb = 16;
	r->max_conns = 256;
	r->handshake_ms = 4000;
	r->connect_ms = 10000;
	r->idle_ms = 300000;
	r->uplink_only_ms = 2000;
	r->downlink_only_ms = 5000;
	r->tls_sessions = r->max_conns;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= KL_CONF_NAME)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) ||
		      s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static int section(struct ps *p, char *s)
{
	static const struct {
		const char *kind;
		enum sec sec;
		int named;
	} kinds[] = {
		{ "global", S_GLOBAL, 0 }, { "admin", S_ADMIN, 0 }, { "relay", S_RELAY, 1 },
		{ "thumbs", S_THUMBS, 0 }, { "preset", S_PRESET, 1 },
	};
	char *end = strchr(s, ']'), *inner, *name, *rest, sh[SHOWN + 4];
	struct kl_conf *c = p->c;
	size_t i, kn;
	int rc, *seen = NULL;

	if (!end)
		return fail(p, p->line, NULL, KL_EINVAL, "unterminated section header: \"%s\"",
			    shown(sh, s));
	rest = trim(end + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return fail(p, p->line, NULL, KL_EINVAL, "text after the section header: \"%s\"",
			    shown(sh, rest));
	*end = 0;
	inner = trim(s + 1);
	kn = strcspn(inner, " \t");
	name = inner + kn;
	if (*name)
		*name++ = 0;
	name = trim(name);

	rc = end_section(p);
	if (rc < 0)
		return rc;
	for (i = 0; i < KL_ARRAY_LEN(kinds); i++)
		if (strcmp(inner, kinds[i].kind) == 0)
			break;
	if (i == KL_ARRAY_LEN(kinds)) {
		char sh2[SHOWN + 4];
		return fail(p, p->line, NULL, KL_EINVAL, "unknown section [%s%s%s]", shown(sh, inner),
			    *name ? " " : "", shown(sh2, name));
	}
	if (kinds[i].named && !*name)
		return fail(p, p->line, NULL, KL_EINVAL, "[%s] needs a name: [%s NAME]", inner, inner);
	if (!kinds[i].named && *name)
		return fail(p, p->line, NULL, KL_EINVAL, "[%s] takes no name: \"%s\"", inner,
			    shown(sh, name));
	if (kinds[i].named && !valid_name(name))
		return fail(p, p->line, NULL, KL_EINVAL,
			    "bad name \"%s\" for [%s]: 1..%d letters, digits, '_', '-' or '.'",
			    shown(sh, name), inner, KL_CONF_NAME - 1);
	if (kinds[i].named)
		snprintf(p->label, sizeof(p->label), "[%s %s]", inner, name);
	else
		snprintf(p->label, sizeof(p->label), "[%s]", inner);

	p->sec = kinds[i].sec;
	p->sec_line = p->line;
	memset(p->key_line, 0, sizeof(p->key_line));
	switch (p->sec) {
	case S_GLOBAL:
		seen = &p->global_line;
		p->base = (char *)c;
		p->keys = global_keys;
		p->nkeys = KL_ARRAY_LEN(global_keys);
		break;
	case S_ADMIN:
		seen = &p->admin_line;
		c->admin_enabled = 1;
		p->base = (char *)c;
		p->keys = admin_keys;
		p->nkeys = KL_ARRAY_LEN(admin_keys);
		break;
	case S_THUMBS:
		seen = &p->thumbs_line;
		c->thumbs.enabled = 1;
		c->thumbs.line = p->line;
		p->base = (char *)&c->thumbs;
		p->keys = thumbs_keys;
		p->nkeys = KL_ARRAY_LEN(thumbs_keys);
		break;
	case S_RELAY:
		for (i = 0; i < c->nrelays; i++)
			if (strcmp(c->relay[i].name, name) == 0)
				return fail(p, p->line, NULL, KL_EINVAL,
					    "duplicate section %s (first at line %d)", p->label,
					    c->relay[i].line);
		if (c->nrelays == KL_CONF_MAX_RELAYS)
			return fail(p, p->line, NULL, KL_ETOOBIG, "more than %d [relay] sections",
				    KL_CONF_MAX_RELAYS);
		relay_defaults(&c->relay[c->nrelays]);
		strcpy(c->relay[c->nrelays].name, name);
		c->relay[c->nrelays].line = p->line;
		p->base = (char *)&c->relay[c->nrelays++];
		p->keys = relay_keys;
		p->nkeys = KL_ARRAY_LEN(relay_keys);
		break;
	case S_PRESET:
		for (i = 0; i < c->npresets; i++)
			if (strcmp(c->preset[i].name, name) == 0)
				return fail(p, p->line, NULL, KL_EINVAL, "duplicate section %s", p->label);
		if (c->npresets == KL_CONF_MAX_PRESETS)
			return fail(p, p->line, NULL, KL_ETOOBIG, "more than %d [preset] sections",
				    KL_CONF_MAX_PRESETS);
		strcpy(c->preset[c->npresets].name, name);
		p->base = (char *)&c->preset[c->npresets++];
		p->keys = preset_keys;
		p->nkeys = KL_ARRAY_LEN(preset_keys);
		break;
	default:
		break;
	}
	if (seen) {
		if (*seen)
			return fail(p, p->line, NULL, KL_EINVAL, "duplicate section %s (first at line %d)",
				    p->label, *seen);
		*seen = p->line;
	}
	return 0;
}

/*
 * The value after '=': either "quoted" (taken literally, no escapes) or
 * bare, where a ';' or '#' that follows a blank starts a comment, so that
 * "pass#1" stays a value and "x ; note" does not.
 */
static char *value_text(char *v)
{
	char *q;

	for (q = v; *q; q++)
		if ((*q == ';' || *q == '#') && q > v && is_space(q[-1])) {
			*q = 0;
			break;
		}
	return trim(v);
}

static int key_value(struct ps *p, char *s)
{
	char *eq = strchr(s, '='), *key, *v, sh[SHOWN + 4];
	const struct key *k = NULL;

	if (!eq)
		return fail(p, p->line, NULL, KL_EINVAL,
			    "syntax error: expected key = value or [section]: \"%s\"", shown(sh, s));
	*eq = 0;
	key = trim(s);
	if (!*key)
		return fail(p, p->line, NULL, KL_EINVAL, "syntax error: no key before '='");
	v = eq + 1;
	while (is_space(*v))
		v++;
	if (*v != '"') {
		v = value_text(eq + 1);
	} else {
		char *close = strchr(v + 1, '"'), *rest;
		if (!close)
			return fail(p, p->line, shown(sh, key), KL_EINVAL, "unterminated quote");
		*close = 0;
		rest = trim(close + 1);
		if (*rest && *rest != ';' && *rest != '#')
			return fail(p, p->line, shown(sh, key), KL_EINVAL,
				    "text after the closing quote");
		v++;
	}
	if (p->sec == S_NONE)
		return fail(p, p->line, shown(sh, key), KL_EINVAL,
			    "key outside any section (start with a header such as [global])");
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].name, key) == 0)
			k = &p->keys[i];
	if (!k)
		return fail(p, p->line, shown(sh, key), KL_EINVAL, "unknown key in %s", p->label);
	if (p->key_line[k - p->keys])
		return fail(p, p->line, k->name, KL_EINVAL, "duplicate key in %s (first at line %d)",
			    p->label, p->key_line[k - p->keys]);
	if (!*v)
		return fail(p, p->line, k->name, KL_EINVAL,
			    "empty value (leave the key out to keep the default)");
	p->key_line[k - p->keys] = p->line;
	return set_value(p, k, v);
}

static int one_line(struct ps *p, char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, p->line, NULL, KL_EINVAL, "control character 0x%02x in line", ch);
	}
	s = trim(s);
	if (*s == 0 || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return section(p, s);
	return key_value(p, s);
}

/* see conf.h */
void kl_conf_defaults(struct kl_conf *c)
{
	struct kl_conf_thumbs *t = &c->thumbs;

	memset(c, 0, sizeof(*c));
	c->memory_limit = 32 * MB;
	c->log_level = KL_LOG_INFO;
	c->shutdown_grace_ms = 5000;
	c->dns_cache = 64;
	for (unsigned i = 0; i < KL_CONF_MAX_RELAYS; i++)
		relay_defaults(&c->relay[i]);
	t->signature_size = 32;
	t->jobs = 2;
	t->arena = 8 * MB;
	t->queue = 16;
	t->max_conns = 64;
	t->max_src_size = 20 * MB;
	t->max_src_resolution = 50;
	t->download_timeout_ms = 10000;
	t->header_timeout_ms = 10000;
	t->idle_timeout_ms = 60000;
	t->max_header_kb = 8;
	t->ttl_s = 31536000;
	t->quality = 80;
	t->tls_sessions = t->jobs;
}

/* see conf.h */
int kl_conf_parse(struct kl_conf *c, const char *name, const char *text, size_t len,
		  char err[KL_ERRLEN])
{
	static struct ps p;     /* 2 KB of listener records: kept off small stacks */
	char line[MAX_LINE];
	size_t pos = 0;
	int rc = 0;

	kl_conf_defaults(c);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.file = name ? name : "(config)";
	p.err = err;
	err[0] = 0;
	if (strlen(p.file) >= sizeof(c->path))
		return fail(&p, 0, NULL, KL_ETOOBIG, "file name longer than %zu bytes",
			    sizeof(c->path) - 1);
	/* a UTF-8 byte order mark, as some editors write, is not a syntax error */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && rc == 0) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		p.line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= sizeof(line)) {
			rc = fail(&p, p.line, NULL, KL_ETOOBIG, "line longer than %zu bytes",
				  sizeof(line) - 1);
			break;
		}
		memcpy(line, s, n);
		line[n] = 0;
		rc = one_line(&p, line, n);
	}
	if (rc == 0)
		rc = end_section(&p);
	if (rc < 0) {
		/* never half a config: a caller that ignores rc still gets defaults */
		kl_conf_defaults(c);
		return rc;
	}
	strcpy(c->path, p.file);
	return 0;
}

/* see conf.h */
int kl_conf_load(struct kl_conf *c, const char *path, char err[KL_ERRLEN])
{
	static char text[MAX_FILE + 1];
	FILE *f;
	size_t n;
	int bad;

	f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		kl_conf_defaults(c);
		snprintf(err, KL_ERRLEN, "%s: cannot open: %s", path, strerror(e));
		return e == ENOENT ? KL_ENOTFOUND : KL_EIO;
	}
	n = fread(text, 1, sizeof(text), f);
	bad = ferror(f);
	fclose(f);
	if (bad || n > MAX_FILE) {
		kl_conf_defaults(c);
		snprintf(err, KL_ERRLEN, bad ? "%s: cannot read the file" : "%s: larger than 256 KB",
			 path);
		return bad ? KL_EIO : KL_ETOOBIG;
	}
	return kl_conf_parse(c, path, text, n, err);
}
