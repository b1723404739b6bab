/* httpreq.c - HTTP/1.x request heads and the header-field helpers both sides use. */
/* SPDX-License-Identifier: MIT */
#include "proto/httpreq.h"
#include "base/b64.h"

#include <limits.h>
#include <string.h>

/* RFC 9110 section 5.6.2: tchar = "!#$%&'*+-.^_`|~" / DIGIT / ALPHA */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == 0 || lower(a[i]) != lower(b[i]))
			return 0;
	return b[i] == 0;
}

/*
 * At buf[*i]: 1 and *i past a line end (CRLF or LF), 0 when no line end
 * starts here, KL_AGAIN when a CR is the last byte seen, KL_EINVAL on a
 * bare CR.
 */
static int eol(const char *buf, size_t end, size_t *i)
{
	if (buf[*i] == '\n') {
		*i += 1;
		return 1;
	}
	if (buf[*i] != '\r')
		return 0;
	if (*i + 1 >= end)
		return KL_AGAIN;
	if (buf[*i + 1] != '\n')
		return KL_EINVAL;
	*i += 2;
	return 1;
}

/*
 * Scanning stops at end = min(len, limit). Hitting it means "need more"
 * while len < limit and "over the limit" once len has reached it.
 */
static size_t bound(size_t len, size_t limit)
{
	return len < limit ? len : limit;
}

/* 0 means no limit; either way a head length must fit the int return value */
static size_t head_limit(size_t max_head)
{
	return max_head && max_head < INT_MAX ? max_head : INT_MAX;
}

/* see httpreq.h */
int kl_httpreq_headers(const char *buf, size_t len, size_t off, struct kl_http_hdr *h,
		size_t cap, size_t *n, size_t max_head)
{
	size_t lim = head_limit(max_head), end = bound(len, lim), i = off;
	int more = len >= lim ? KL_ETOOBIG : KL_AGAIN, rc;

	*n = 0;
	for (;;) {
		size_t name, name_len, val, val_end;

		if (i >= end)
			return more;
		rc = eol(buf, end, &i);
		if (rc == 1)
			return (int)i;
		if (rc < 0)
			return rc == KL_AGAIN ? more : rc;
		/* a leading SP/HTAB is obs-fold (or junk before the first field) */
		name = i;
		while (i < end && is_tchar((unsigned char)buf[i]))
			i++;
		if (i >= end)
			return more;
		if (buf[i] != ':' || i == name)
			return KL_EINVAL;
		name_len = i - name;
		i++;
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		val = val_end = i;
		for (;;) {
			unsigned char c;

			if (i >= end)
				return more;
			c = (unsigned char)buf[i];
			if (c == '\r' || c == '\n')
				break;
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return KL_EINVAL;
			i++;
			if (c != ' ' && c != '\t')
				val_end = i;
		}
		rc = eol(buf, end, &i);
		if (rc < 0)
			return rc == KL_AGAIN ? more : rc;
		if (*n >= cap)
			return KL_ETOOBIG;
		h[*n].name = buf + name;
		h[*n].name_len = name_len;
		h[*n].value = buf + val;
		h[*n].value_len = val_end - val;
		*n += 1;
	}
}

/* see httpreq.h */
int kl_httpreq_parse(const char *buf, size_t len, struct kl_httpreq *rq)
{
	size_t lim = head_limit(rq->max_head), i = 0, start, end, k;
	int more, rc;

	rq->nhdr = 0;
	rq->method = rq->target = NULL;
	rq->method_len = rq->target_len = 0;
	rq->minor = -1;

	/* RFC 9112 section 2.2: skip empty lines left over from a previous body */
	for (;;) {
		end = bound(len, lim);
		if (i >= end)
			return len >= lim ? KL_ERANGE : KL_AGAIN;
		rc = eol(buf, end, &i);
		if (rc == 0)
			break;
		if (rc == KL_AGAIN)
			return len >= lim ? KL_ERANGE : KL_AGAIN;
		if (rc < 0)
			return rc;
	}

	/* the request line is bounded by max_line and by max_head */
	start = i;
	end = bound(len, lim);
	if (rq->max_line && start + rq->max_line < end)
		end = start + rq->max_line;
	more = (len >= lim || (rq->max_line && len - start >= rq->max_line)) ? KL_ERANGE : KL_AGAIN;

	while (i < end && is_tchar((unsigned char)buf[i]))
		i++;
	if (i >= end)
		return more;
	if (buf[i] != ' ' || i == start)
		return KL_EINVAL;
	rq->method = buf + start;
	rq->method_len = i - start;

	k = ++i;
	for (;; i++) {
		unsigned char c;

		if (i >= end)
			return more;
		c = (unsigned char)buf[i];
		if (c == ' ')
			break;
		if (c <= 0x20 || c == 0x7f)
			return KL_EINVAL;       /* also CR/LF: a request line without version */
	}
	if (i == k)
		return KL_EINVAL;
	rq->target = buf + k;
	rq->target_len = i - k;
	i++;

	for (k = 0; k < 8; k++, i++) {
		static const char pat[] = "HTTP/#.#";
		char c;

		if (i >= end)
			return more;
		c = buf[i];
		if (pat[k] == '#' ? (c < '0' || c > '9') : c != pat[k])
			return KL_EINVAL;
	}
	if (buf[i - 3] != '1')
		return KL_EUNSUPP;
	rq->minor = buf[i - 1] - '0';
	if (i >= end)
		return more;
	rc = eol(buf, end, &i);
	if (rc == 0)
		return KL_EINVAL;
	if (rc < 0)
		return rc == KL_AGAIN ? more : rc;

	rc = kl_httpreq_headers(buf, len, i, rq->hdr, rq->hdr_cap, &rq->nhdr, rq->max_head);
	return rc;
}

/* see httpreq.h */
int kl_httpreq_status(int rc)
{
	switch (rc) {
	case KL_ERANGE: return 414;
	case KL_ETOOBIG: return 431;
	case KL_EUNSUPP: return 505;
	default: return 400;
	}
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); returns its length when "://" follows */
static size_t scheme_len(const char *t, size_t n)
{
	size_t i = 0;

	if (n == 0 || !((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
		return 0;
	while (i < n && (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') ||
			(t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return 0;
	return i;
}

/* see httpreq.h */
int kl_httpreq_form(const char *t, size_t n)
{
	struct kl_httpreq_hostport hp;

	if (n == 0)
		return KL_EINVAL;
	if (n == 1 && t[0] == '*')
		return KL_HTTPREQ_ASTERISK;
	if (t[0] == '/')
		return KL_HTTPREQ_ORIGIN;
	if (scheme_len(t, n))
		return KL_HTTPREQ_ABSOLUTE;
	if (kl_httpreq_hostport(t, n, 0, &hp) == KL_OK)
		return KL_HTTPREQ_AUTHORITY;
	return KL_EINVAL;
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

/* see httpreq.h */
int kl_httpreq_hostport(const char *s, size_t n, uint16_t defport, struct kl_httpreq_hostport *hp)
{
	size_t i = 0, hs, he;
	uint32_t port = 0;

	hp->bracketed = 0;
	if (n > 0 && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f') ||
					s[i] == ':' || s[i] == '.'))
				return KL_EINVAL;
		if (i >= n || i < 3)
			return KL_EINVAL;       /* no ']', or fewer than "::" inside */
		hs = 1;
		he = i++;
		hp->bracketed = 1;
	} else {
		while (i < n && host_char(s[i]))
			i++;
		hs = 0;
		he = i;
		if (he == 0)
			return KL_EINVAL;
	}
	if (he - hs > 255)
		return KL_ERANGE;
	hp->host = s + hs;
	hp->host_len = he - hs;
	if (i == n) {
		if (!defport)
			return KL_EINVAL;
		hp->port = defport;
		return KL_OK;
	}
	if (s[i] != ':' || ++i == n)
		return KL_EINVAL;
	if (n - i > 5) {
		for (size_t k = i; k < n; k++)
			if (s[k] < '0' || s[k] > '9')
				return KL_EINVAL;
		return KL_ERANGE;
	}
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return KL_EINVAL;
		port = port * 10 + (uint32_t)(s[i] - '0');
	}
	if (port == 0 || port > 65535)
		return KL_ERANGE;
	hp->port = (uint16_t)port;
	return KL_OK;
}

/* see httpreq.h */
int kl_httpreq_split_url(const char *t, size_t n, struct kl_httpreq_url *u)
{
	size_t sl = scheme_len(t, n), a, e;
	uint16_t def = 0;
	int rc;

	if (sl == 0)
		return KL_EINVAL;
	u->scheme = t;
	u->scheme_len = sl;
	if (ieq(t, sl, "http"))
		def = 80;
	else if (ieq(t, sl, "https"))
		def = 443;
	a = sl + 3;
	for (e = a; e < n && t[e] != '/' && t[e] != '?' && t[e] != '#'; e++)
		if (t[e] == '@')
			return KL_EINVAL;       /* userinfo: deprecated, and a way to disguise hosts */
	rc = kl_httpreq_hostport(t + a, e - a, def ? def : 1, &u->hp);
	if (rc < 0)
		return rc;
	if (!def && (e == a || memchr(t + a, ':', e - a) == NULL || (u->hp.bracketed && t[e - 1] == ']')))
		return KL_EUNSUPP;
	u->path = t + e;
	u->path_len = n - e;
	return KL_OK;
}

/* see httpreq.h */
int kl_httpreq_find(const struct kl_http_hdr *h, size_t n, size_t from, const char *name)
{
	for (size_t i = from; i < n; i++)
		if (ieq(h[i].name, h[i].name_len, name))
			return (int)i;
	return KL_ENOTFOUND;
}

/*
 * Iterates the comma-separated elements of every header called name:
 * *hi and *off hold the position; returns 1 with the element (OWS
 * trimmed, never empty) in *tok and *tlen, or 0 when the list is over.
 */
static int next_token(const struct kl_http_hdr *h, size_t n, const char *name,
		size_t *hi, size_t *off, const char **tok, size_t *tlen)
{
	while (*hi < n) {
		const struct kl_http_hdr *x = &h[*hi];

		if (!ieq(x->name, x->name_len, name)) {
			*hi += 1;
			*off = 0;
			continue;
		}
		while (*off < x->value_len) {
			size_t s = *off, e;

			while (s < x->value_len && (x->value[s] == ' ' || x->value[s] == '\t'))
				s++;
			e = s;
			while (e < x->value_len && x->value[e] != ',')
				e++;
			*off = e + 1;
			while (e > s && (x->value[e - 1] == ' ' || x->value[e - 1] == '\t'))
				e--;
			if (e > s) {
				*tok = x->value + s;
				*tlen = e - s;
				return 1;
			}
		}
		*hi += 1;
		*off = 0;
	}
	return 0;
}

/* see httpreq.h */
int kl_httpreq_content_length(const struct kl_http_hdr *h, size_t n, uint64_t *len)
{
	size_t hi = 0, off = 0, tl;
	const char *tok;
	int seen = 0;

	for (int k = kl_httpreq_find(h, n, 0, "content-length"); k >= 0;
			k = kl_httpreq_find(h, n, (size_t)k + 1, "content-length")) {
		/* an empty value or an empty list element is malformed, not absent */
		const char *v = h[k].value;
		size_t vl = h[k].value_len;
		if (vl == 0 || v[0] == ',' || v[vl - 1] == ',')
			return KL_EINVAL;
		for (size_t i = 0; i + 1 < vl; i++) {
			size_t j = i + 1;
			if (v[i] != ',')
				continue;
			while (j < vl && (v[j] == ' ' || v[j] == '\t'))
				j++;
			if (j < vl && v[j] == ',')
				return KL_EINVAL;
		}
	}
	while (next_token(h, n, "content-length", &hi, &off, &tok, &tl)) {
		uint64_t v = 0;

		for (size_t i = 0; i < tl; i++) {
			if (tok[i] < '0' || tok[i] > '9')
				return KL_EINVAL;
			if (v > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(tok[i] - '0')) / 10)
				return KL_ERANGE;
			v = v * 10 + (uint64_t)(tok[i] - '0');
		}
		if (seen && v != *len)
			return KL_EINVAL;
		*len = v;
		seen = 1;
	}
	return seen;
}

/* see httpreq.h */
int kl_httpreq_chunked(const struct kl_http_hdr *h, size_t n)
{
	size_t hi = 0, off = 0, tl;
	const char *tok;
	int any = 0, count = 0, last = 0;

	if (kl_httpreq_find(h, n, 0, "transfer-encoding") < 0)
		return 0;
	while (next_token(h, n, "transfer-encoding", &hi, &off, &tok, &tl)) {
		/* a coding may carry parameters ("gzip;q=1"): compare the name only */
		size_t nl = 0;
		while (nl < tl && tok[nl] != ';' && tok[nl] != ' ' && tok[nl] != '\t')
			nl++;
		if (nl == 0)
			return KL_EINVAL;
		last = ieq(tok, nl, "chunked");
		count += last;
		any = 1;
		if (count > 1)
			return KL_EINVAL;
	}
	if (!any)
		return KL_EINVAL;
	return last ? 1 : KL_EUNSUPP;
}

/* see httpreq.h */
unsigned kl_httpreq_connection(const struct kl_http_hdr *h, size_t n)
{
	size_t hi = 0, off = 0, tl;
	const char *tok;
	unsigned f = 0;

	while (next_token(h, n, "connection", &hi, &off, &tok, &tl)) {
		if (ieq(tok, tl, "close"))
			f |= KL_HTTPREQ_CONN_CLOSE;
		else if (ieq(tok, tl, "keep-alive"))
			f |= KL_HTTPREQ_CONN_KEEPALIVE;
		else if (ieq(tok, tl, "upgrade"))
			f |= KL_HTTPREQ_CONN_UPGRADE;
	}
	return f;
}

/* see httpreq.h */
int kl_httpreq_keepalive(int minor, unsigned conn)
{
	if (conn & KL_HTTPREQ_CONN_CLOSE)
		return 0;
	return minor >= 1 || (conn & KL_HTTPREQ_CONN_KEEPALIVE) != 0;
}

static int ieqn(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* see httpreq.h */
int kl_httpreq_is_hop(const struct kl_http_hdr *h, size_t n, const char *name, size_t nlen)
{
	static const char *const fixed[] = {
		"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
	};
	size_t hi = 0, off = 0, tl;
	const char *tok;

	for (size_t i = 0; i < KL_ARRAY_LEN(fixed); i++)
		if (ieq(name, nlen, fixed[i]))
			return 1;
	while (next_token(h, n, "connection", &hi, &off, &tok, &tl))
		if (ieqn(tok, tl, name, nlen))
			return 1;
	return 0;
}

/* see httpreq.h */
int kl_httpreq_basic(const char *v, size_t n, struct kl_httpreq_cred *c)
{
	/* user (255) ':' pass (255) as base64: 684 characters */
	uint8_t raw[3 * 684 / 4 + 3];
	const uint8_t *colon;
	size_t i = 0, e = n;
	long dl;

	while (i < n && v[i] != ' ' && v[i] != '\t')
		i++;
	if (!ieq(v, i, "basic"))
		return KL_EUNSUPP;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	if (e - i > 684)
		return KL_ETOOBIG;
	dl = kl_b64_decode(v + i, e - i, raw, sizeof(raw), KL_B64_STD);
	if (dl < 0)
		return dl == KL_ETOOBIG ? KL_ETOOBIG : KL_EINVAL;
	colon = memchr(raw, ':', (size_t)dl);
	if (!colon)
		return KL_EINVAL;
	for (long k = 0; k < dl; k++)
		if (raw[k] < 0x20 || raw[k] == 0x7f)
			return KL_EINVAL;
	c->ulen = (size_t)(colon - raw);
	c->plen = (size_t)dl - c->ulen - 1;
	if (c->ulen > 255 || c->plen > 255)
		return KL_ETOOBIG;
	memcpy(c->user, raw, c->ulen);
	c->user[c->ulen] = 0;
	memcpy(c->pass, colon + 1, c->plen);
	c->pass[c->plen] = 0;
	return KL_OK;
}

/* see httpreq.h */
int kl_httpreq_cred_eq(const void *given, size_t glen, const void *secret, size_t slen)
{
	const volatile uint8_t *g = given, *s = secret;
	unsigned d = glen != slen;

	/*
	 * Walk the secret's length whatever was given, reading the given
	 * bytes cyclically, so timing reveals neither the first difference
	 * nor the presented length.
	 */
	for (size_t i = 0; i < slen; i++)
		d |= (unsigned)(s[i] ^ (glen ? g[i % glen] : 0));
	return d == 0;
}
