/* t_httpreq.c - HTTP request heads and header helpers: tables run whole, truncated, at a guard page. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_guard.h"
#include "base/kl.h"
#include "base/b64.h"
#include "proto/httpreq.h"

#include <unistd.h>

#define FULL 1000       /* rc: the whole input is the head */

static const struct row {
	const char *name;
	const char *in;
	int rc;                 /* FULL, a head length, or an error */
	size_t cap, max_line, max_head;
	const char *method, *target;
	int minor;
	const char *hdrs;       /* "name=value|" for each header */
} rows[] = {
	{ "simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "Host=a|" },
	{ "bare LF", "GET / HTTP/1.0\nHost: a\nX: y\n\n", FULL, 0, 0, 0, "GET", "/", 0, "Host=a|X=y|" },
	{ "mixed line ends", "GET / HTTP/1.1\nHost: a\r\n\n", FULL, 0, 0, 0, "GET", "/", 1, "Host=a|" },
	{ "no headers", "GET /x HTTP/1.1\r\n\r\n", FULL, 0, 0, 0, "GET", "/x", 1, "" },
	{ "empty lines first", "\r\n\nGET / HTTP/1.1\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "" },
	{ "connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
		"Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n", FULL, 0, 0, 0,
		"CONNECT", "example.com:443", 1, "Host=example.com:443|Proxy-Authorization=Basic YWxpY2U6c2VjcmV0|" },
	{ "absolute form", "GET http://example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", FULL, 0, 0, 0,
		"GET", "http://example.com/x?y=1", 1, "Host=example.com|" },
	{ "OWS trimmed", "GET / HTTP/1.1\r\nX:   v w \t\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "X=v w|" },
	{ "empty value", "GET / HTTP/1.1\r\nX:\r\nY: \r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "X=|Y=|" },
	{ "obs-text value", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "X=caf\xc3\xa9|" },
	{ "body follows", "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 39, 0, 0, 0, "POST", "/p", 1,
		"Content-Length=3|" },
	{ "pipelined", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 19, 0, 0, 0, "GET", "/a", 1, "" },
	{ "tchar method", "M-SEARCH * HTTP/1.1\r\nMan: \"ssdp:discover\"\r\n\r\n", FULL, 0, 0, 0,
		"M-SEARCH", "*", 1, "Man=\"ssdp:discover\"|" },
	{ "high bytes in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", FULL, 0, 0, 0, "GET", "/caf\xc3\xa9", 1, "" },
	{ "tab in value", "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 1, "X=a\tb|" },
	{ "exactly hdr_cap headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", FULL, 2, 0, 0, "GET", "/", 1, "A=1|B=2|" },
	{ "line of exactly max_line", "GET /abc HTTP/1.1\r\n\r\n", FULL, 0, 19, 0, "GET", "/abc", 1, "" },
	{ "head of exactly max_head", "GET /abc HTTP/1.1\r\n\r\n", FULL, 0, 0, 21, "GET", "/abc", 1, "" },
	{ "http/1.0 minor 9", "GET / HTTP/1.9\r\n\r\n", FULL, 0, 0, 0, "GET", "/", 9, "" },

	{ "double space", "GET  / HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "missing version", "GET /\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "missing target", "GET\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "space after version", "GET / HTTP/1.1 \r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "lower-case version", "GET / http/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "version 2.0", "GET / HTTP/2.0\r\n\r\n", KL_EUNSUPP, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", KL_EUNSUPP, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "version 1.10", "GET / HTTP/1.10\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "version 1", "GET / HTTP/1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "version x.1", "GET / HTTP/x.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "bad method char", "G@T / HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "leading space", " GET / HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "control in target", "GET /a\x01 HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "bare CR after version", "GET / HTTP/1.1\rX: a\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "bare CR first", "\rGET / HTTP/1.1\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "junk after version", "GET / HTTP/1.1x\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "tab fold", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "NUL in value", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "bare CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "DEL in value", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "control in name", "GET / HTTP/1.1\r\nX\x01: a\r\n\r\n", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "bare CR at head end", "GET / HTTP/1.1\r\nX: a\r\n\rz", KL_EINVAL, 0, 0, 0, NULL, NULL, 0, NULL },
	{ "too many headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", KL_ETOOBIG, 2, 0, 0,
		NULL, NULL, 0, NULL },
	{ "head too long", "GET / HTTP/1.1\r\nA: 1234567890\r\n\r\n", KL_ETOOBIG, 0, 0, 30, NULL, NULL, 0, NULL },
	{ "head one over", "GET /abc HTTP/1.1\r\n\r\n", KL_ETOOBIG, 0, 0, 20, NULL, NULL, 0, NULL },
	{ "line too long", "GET /aaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", KL_ERANGE, 0, 10, 0, NULL, NULL, 0, NULL },
	{ "line one over", "GET /abc HTTP/1.1\r\n\r\n", KL_ERANGE, 0, 18, 0, NULL, NULL, 0, NULL },
	{ "head limit in the line", "GET /aaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", KL_ERANGE, 0, 0, 12, NULL, NULL, 0, NULL },
	{ "empty lines over the limit", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", KL_ERANGE, 0, 0, 6,
		NULL, NULL, 0, NULL },
};

static void hdr_string(const struct kl_http_hdr *h, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(out + k, cap - k, "%.*s=%.*s|", (int)h[i].name_len, h[i].name,
			(int)h[i].value_len, h[i].value);
}

static int parse(const struct row *r, const char *buf, size_t len, struct kl_http_hdr *h,
		struct kl_httpreq *rq, size_t max_head)
{
	memset(rq, 0, sizeof(*rq));
	rq->hdr = h;
	rq->hdr_cap = r->cap ? r->cap : 16;
	rq->max_line = r->max_line;
	rq->max_head = max_head;
	return kl_httpreq_parse(buf, len, rq);
}

static void test_parse(void)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		size_t len = strlen(r->in), full;
		struct kl_http_hdr h[16];
		struct kl_httpreq rq;
		char hs[512];
		int want = r->rc, rc, bad = 0;

		if (!strcmp(r->name, "NUL in value"))
			len = 26;     /* strlen stops at the NUL */
		if (want == FULL)
			want = (int)len;
		rc = parse(r, at_guard(r->in, len), len, h, &rq, r->max_head);
		T_OK(rc == want, "%s: rc %d, want %d", r->name, rc, want);
		if (want >= 0 && rc == want) {
			T_OK(rq.method_len == strlen(r->method) && !memcmp(rq.method, r->method, rq.method_len),
				"%s: method", r->name);
			T_OK(rq.target_len == strlen(r->target) && !memcmp(rq.target, r->target, rq.target_len),
				"%s: target", r->name);
			T_EQ_INT(rq.minor, r->minor, r->name);
			hdr_string(h, rq.nhdr, hs, sizeof(hs));
			T_EQ_STR(hs, r->hdrs, r->name);
			if (!r->max_head && !r->max_line && !r->cap) {
				rc = parse(r, r->in, len, h, &rq, (size_t)want);
				T_OK(rc == want, "%s: fits max_head = its length", r->name);
				rc = parse(r, r->in, len, h, &rq, (size_t)want - 1);
				T_OK(rc == KL_ETOOBIG || rc == KL_ERANGE, "%s: one byte less is over the limit", r->name);
			}
		}
		full = want >= 0 ? (size_t)want : len;
		for (size_t k = 0; k < full; k++) {
			int p = parse(r, at_guard(r->in, k), k, h, &rq, r->max_head);
			if (want >= 0 ? p != KL_AGAIN : (p != KL_AGAIN && p != want))
				bad++;
		}
		T_OK(bad == 0, "%s: every prefix needs more (or fails the same way)", r->name);
	}
}

static void test_headers_only(void)
{
	struct kl_http_hdr h[4];
	size_t n = 9;
	const char *s = "xxA: 1\r\nB:2\n\nbody";

	T_EQ_INT(kl_httpreq_headers(s, strlen(s), 2, h, 4, &n, 0), 13, "headers: from an offset");
	T_OK(n == 2 && h[1].name_len == 1 && h[1].name[0] == 'B' && h[1].value[0] == '2', "headers: fields");
	T_EQ_INT(kl_httpreq_headers(s, 10, 2, h, 4, &n, 0), KL_AGAIN, "headers: incomplete");
	T_EQ_INT(kl_httpreq_headers(s, strlen(s), 2, h, 4, &n, 10), KL_ETOOBIG, "headers: limit from buf start");
	T_EQ_INT(kl_httpreq_headers(s, strlen(s), 2, h, 1, &n, 0), KL_ETOOBIG, "headers: over capacity");
	T_EQ_INT(kl_httpreq_status(KL_EINVAL), 400, "status: 400");
	T_EQ_INT(kl_httpreq_status(KL_ERANGE), 414, "status: 414");
	T_EQ_INT(kl_httpreq_status(KL_ETOOBIG), 431, "status: 431");
	T_EQ_INT(kl_httpreq_status(KL_EUNSUPP), 505, "status: 505");
}

static void test_forms(void)
{
	static const struct {
		const char *t;
		int form;
	} f[] = {
		{ "/", KL_HTTPREQ_ORIGIN }, { "/a?b", KL_HTTPREQ_ORIGIN }, { "*", KL_HTTPREQ_ASTERISK },
		{ "http://a/", KL_HTTPREQ_ABSOLUTE }, { "HTTPS://a:1", KL_HTTPREQ_ABSOLUTE },
		{ "svn+ssh://a", KL_HTTPREQ_ABSOLUTE }, { "example.com:443", KL_HTTPREQ_AUTHORITY },
		{ "[::1]:8080", KL_HTTPREQ_AUTHORITY }, { "", KL_EINVAL }, { "**", KL_EINVAL },
		{ "example.com", KL_EINVAL }, { "1http://a", KL_EINVAL }, { "http:/a", KL_EINVAL },
		{ "a b:1", KL_EINVAL },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(f); i++) {
		size_t n = strlen(f[i].t);
		T_OK(kl_httpreq_form(at_guard(f[i].t, n), n) == f[i].form, "form \"%s\"", f[i].t);
	}
}

static void test_hostport(void)
{
	static const struct {
		const char *s;
		uint16_t def;
		int rc;
		const char *host;
		int port, br;
	} r[] = {
		{ "example.com:443", 0, 0, "example.com", 443, 0 },
		{ "example.com", 80, 0, "example.com", 80, 0 },
		{ "a:1", 0, 0, "a", 1, 0 },
		{ "a:65535", 0, 0, "a", 65535, 0 },
		{ "a:00080", 0, 0, "a", 80, 0 },
		{ "10.0.0.1:22", 0, 0, "10.0.0.1", 22, 0 },
		{ "[::1]:8080", 0, 0, "::1", 8080, 1 },
		{ "[2001:db8::1]", 443, 0, "2001:db8::1", 443, 1 },
		{ "[::ffff:1.2.3.4]:1", 0, 0, "::ffff:1.2.3.4", 1, 1 },
		{ "my_host.lan:1", 0, 0, "my_host.lan", 1, 0 },
		{ "example.com", 0, KL_EINVAL, NULL, 0, 0 },
		{ "", 80, KL_EINVAL, NULL, 0, 0 },
		{ ":80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a:", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a:0", 0, KL_ERANGE, NULL, 0, 0 },
		{ "a:65536", 0, KL_ERANGE, NULL, 0, 0 },
		{ "a:123456", 0, KL_ERANGE, NULL, 0, 0 },
		{ "a:12345x", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a:-1", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a:+80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a:8 0", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a b:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "user@a:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "a%2e:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "::1:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[::1", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[]:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[:]:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[fe80::1%eth0]:80", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[::1]x", 0, KL_EINVAL, NULL, 0, 0 },
		{ "[::1]:", 0, KL_EINVAL, NULL, 0, 0 },
	};
	char longhost[300];
	struct kl_httpreq_hostport hp;

	for (size_t i = 0; i < KL_ARRAY_LEN(r); i++) {
		size_t n = strlen(r[i].s);
		int rc = kl_httpreq_hostport(at_guard(r[i].s, n), n, r[i].def, &hp);

		T_OK(rc == r[i].rc, "hostport \"%s\": rc %d", r[i].s, rc);
		if (rc == 0 && r[i].rc == 0)
			T_OK(hp.host_len == strlen(r[i].host) && !memcmp(hp.host, r[i].host, hp.host_len) &&
				hp.port == r[i].port && hp.bracketed == r[i].br, "hostport \"%s\": fields", r[i].s);
	}
	memset(longhost, 'a', sizeof(longhost));
	memcpy(longhost + 255, ":1", 2);
	T_EQ_INT(kl_httpreq_hostport(longhost, 257, 0, &hp), 0, "hostport: 255-byte host");
	longhost[255] = 'a';
	memcpy(longhost + 256, ":1", 2);
	T_EQ_INT(kl_httpreq_hostport(longhost, 258, 0, &hp), KL_ERANGE, "hostport: 256-byte host");
}

static void test_url(void)
{
	static const struct {
		const char *t;
		int rc;
		const char *host;
		int port;
		const char *path;
	} r[] = {
		{ "http://example.com/x?y", 0, "example.com", 80, "/x?y" },
		{ "http://example.com", 0, "example.com", 80, "" },
		{ "HTTP://Example.com:8080/", 0, "Example.com", 8080, "/" },
		{ "https://a/", 0, "a", 443, "/" },
		{ "http://[::1]:81/p", 0, "::1", 81, "/p" },
		{ "http://[::1]/p", 0, "::1", 80, "/p" },
		{ "http://a?q", 0, "a", 80, "?q" },
		{ "http://a#f", 0, "a", 80, "#f" },
		{ "ftp://a:21/", 0, "a", 21, "/" },
		{ "ftp://a/", KL_EUNSUPP, NULL, 0, NULL },
		{ "ftp://[::1]/", KL_EUNSUPP, NULL, 0, NULL },
		{ "http://user:pw@a/", KL_EINVAL, NULL, 0, NULL },
		{ "http:///x", KL_EINVAL, NULL, 0, NULL },
		{ "http://a:0/", KL_ERANGE, NULL, 0, NULL },
		{ "http://a:99999/", KL_ERANGE, NULL, 0, NULL },
		{ "/x", KL_EINVAL, NULL, 0, NULL },
		{ "a:80", KL_EINVAL, NULL, 0, NULL },
	};
	struct kl_httpreq_url u;

	for (size_t i = 0; i < KL_ARRAY_LEN(r); i++) {
		size_t n = strlen(r[i].t);
		int rc = kl_httpreq_split_url(at_guard(r[i].t, n), n, &u);

		T_OK(rc == r[i].rc, "url \"%s\": rc %d", r[i].t, rc);
		if (rc == 0 && r[i].rc == 0)
			T_OK(u.hp.host_len == strlen(r[i].host) && !memcmp(u.hp.host, r[i].host, u.hp.host_len) &&
				u.hp.port == r[i].port && u.path_len == strlen(r[i].path) &&
				!memcmp(u.path, r[i].path, u.path_len), "url \"%s\": fields", r[i].t);
	}
}

/* Parses a head built from header lines; h gets the headers. */
static size_t heads(const char *lines, struct kl_http_hdr *h, size_t cap)
{
	static char buf[1024];
	struct kl_httpreq rq = { .hdr = h, .hdr_cap = cap };
	int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s\r\n", lines);

	KL_ASSERT(kl_httpreq_parse(buf, (size_t)n, &rq) == n);
	return rq.nhdr;
}

static void test_fields(void)
{
	static const struct {
		const char *lines;
		int rc;
		uint64_t len;
	} cl[] = {
		{ "", 0, 0 },
		{ "Content-Length: 0\r\n", 1, 0 },
		{ "content-length: 42\r\n", 1, 42 },
		{ "Content-Length: 42\r\nCONTENT-LENGTH: 42\r\n", 1, 42 },
		{ "Content-Length: 42, 42\r\n", 1, 42 },
		{ "Content-Length: 9223372036854775807\r\n", 1, UINT64_C(9223372036854775807) },
		{ "Content-Length: 9223372036854775808\r\n", KL_ERANGE, 0 },
		{ "Content-Length: 99999999999999999999999\r\n", KL_ERANGE, 0 },
		{ "Content-Length: 42\r\nContent-Length: 43\r\n", KL_EINVAL, 0 },
		{ "Content-Length: 42, 43\r\n", KL_EINVAL, 0 },
		{ "Content-Length: +42\r\n", KL_EINVAL, 0 },
		{ "Content-Length: -1\r\n", KL_EINVAL, 0 },
		{ "Content-Length: 4 2\r\n", KL_EINVAL, 0 },
		{ "Content-Length: 0x10\r\n", KL_EINVAL, 0 },
		{ "Content-Length:\r\n", KL_EINVAL, 0 },
		{ "Content-Length: 42,\r\n", KL_EINVAL, 0 },
		{ "Content-Length: ,42\r\n", KL_EINVAL, 0 },
		{ "Content-Length: 42, ,42\r\n", KL_EINVAL, 0 },
	};
	static const struct {
		const char *lines;
		int rc;
	} te[] = {
		{ "", 0 },
		{ "Transfer-Encoding: chunked\r\n", 1 },
		{ "Transfer-Encoding: CHUNKED\r\n", 1 },
		{ "Transfer-Encoding: gzip, chunked\r\n", 1 },
		{ "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 1 },
		{ "Transfer-Encoding: gzip\r\n", KL_EUNSUPP },
		{ "Transfer-Encoding: chunked, gzip\r\n", KL_EUNSUPP },
		{ "Transfer-Encoding: chunked, chunked\r\n", KL_EINVAL },
		{ "Transfer-Encoding:\r\n", KL_EINVAL },
		{ "Transfer-Encoding: ;x\r\n", KL_EINVAL },
		{ "Transfer-Encoding: chunkedx\r\n", KL_EUNSUPP },
	};
	static const struct {
		const char *lines;
		unsigned flags;
	} conn[] = {
		{ "", 0 },
		{ "Connection: close\r\n", KL_HTTPREQ_CONN_CLOSE },
		{ "Connection: Keep-Alive\r\n", KL_HTTPREQ_CONN_KEEPALIVE },
		{ "Connection: keep-alive, Upgrade\r\n", KL_HTTPREQ_CONN_KEEPALIVE | KL_HTTPREQ_CONN_UPGRADE },
		{ "Connection: foo\r\nConnection: ,close,\r\n", KL_HTTPREQ_CONN_CLOSE },
		{ "Connection: closed\r\n", 0 },
	};
	struct kl_http_hdr h[8];
	size_t n;

	for (size_t i = 0; i < KL_ARRAY_LEN(cl); i++) {
		uint64_t v = 7;
		int rc;
		n = heads(cl[i].lines, h, 8);
		rc = kl_httpreq_content_length(h, n, &v);
		T_OK(rc == cl[i].rc && (rc != 1 || v == cl[i].len), "content-length row %zu: rc %d", i, rc);
	}
	for (size_t i = 0; i < KL_ARRAY_LEN(te); i++) {
		n = heads(te[i].lines, h, 8);
		T_OK(kl_httpreq_chunked(h, n) == te[i].rc, "transfer-encoding row %zu", i);
	}
	for (size_t i = 0; i < KL_ARRAY_LEN(conn); i++) {
		n = heads(conn[i].lines, h, 8);
		T_OK(kl_httpreq_connection(h, n) == conn[i].flags, "connection row %zu", i);
	}
	T_OK(kl_httpreq_keepalive(1, 0), "keepalive: 1.1 default");
	T_OK(!kl_httpreq_keepalive(1, KL_HTTPREQ_CONN_CLOSE), "keepalive: 1.1 close");
	T_OK(!kl_httpreq_keepalive(0, 0), "keepalive: 1.0 default");
	T_OK(kl_httpreq_keepalive(0, KL_HTTPREQ_CONN_KEEPALIVE), "keepalive: 1.0 keep-alive");
	T_OK(!kl_httpreq_keepalive(0, KL_HTTPREQ_CONN_KEEPALIVE | KL_HTTPREQ_CONN_CLOSE), "keepalive: close wins");

	n = heads("Host: a\r\nConnection: X-Foo, close\r\nX-Foo: 1\r\nX-Bar: 2\r\nHOST: b\r\n", h, 8);
	T_EQ_INT(kl_httpreq_find(h, n, 0, "host"), 0, "find: first");
	T_EQ_INT(kl_httpreq_find(h, n, 1, "Host"), 4, "find: next duplicate");
	T_EQ_INT(kl_httpreq_find(h, n, 5, "host"), KL_ENOTFOUND, "find: past the end");
	T_EQ_INT(kl_httpreq_find(h, n, 0, "hos"), KL_ENOTFOUND, "find: prefix is not a match");
	T_EQ_INT(kl_httpreq_find(h, n, 0, "hostx"), KL_ENOTFOUND, "find: longer is not a match");
	T_OK(kl_httpreq_is_hop(h, n, "X-Foo", 5), "hop: named in Connection");
	T_OK(kl_httpreq_is_hop(h, n, "x-foo", 5), "hop: named in Connection, any case");
	T_OK(!kl_httpreq_is_hop(h, n, "X-Bar", 5), "hop: end-to-end header");
	T_OK(!kl_httpreq_is_hop(h, n, "X-Fo", 4), "hop: prefix of a named one");
	T_OK(kl_httpreq_is_hop(h, n, "Proxy-Authorization", 19), "hop: Proxy-Authorization");
	T_OK(kl_httpreq_is_hop(h, n, "TE", 2), "hop: TE");
	T_OK(kl_httpreq_is_hop(h, n, "Keep-Alive", 10), "hop: Keep-Alive");
	T_OK(kl_httpreq_is_hop(h, n, "proxy-connection", 16), "hop: Proxy-Connection");
	T_OK(kl_httpreq_is_hop(h, n, "Transfer-Encoding", 17), "hop: Transfer-Encoding");
	T_OK(!kl_httpreq_is_hop(h, n, "Host", 4), "hop: Host is not");
	T_OK(!kl_httpreq_is_hop(h, n, "Trailers", 8), "hop: Trailers (sic) is not");
}

static void test_basic(void)
{
	static const struct {
		const char *v;
		int rc;
		const char *user, *pass;
	} r[] = {
		{ "Basic YWxpY2U6c2VjcmV0", 0, "alice", "secret" },
		{ "basic   YWxpY2U6c2VjcmV0  ", 0, "alice", "secret" },
		{ "BASIC YWxpY2U6", 0, "alice", "" },
		{ "Basic OnB3", 0, "", "pw" },
		{ "Basic YTpiOmM=", 0, "a", "b:c" },
		{ "Basic YTpiOmM", 0, "a", "b:c" },
		{ "Bearer abc", KL_EUNSUPP, NULL, NULL },
		{ "Basicx YTpi", KL_EUNSUPP, NULL, NULL },
		{ "", KL_EUNSUPP, NULL, NULL },
		{ "Basic", KL_EINVAL, NULL, NULL },
		{ "Basic YWxpY2U", KL_EINVAL, NULL, NULL },
		{ "Basic YW*pY2U6", KL_EINVAL, NULL, NULL },
		{ "Basic YTpi YTpi", KL_EINVAL, NULL, NULL },
		{ "Basic YQ==", KL_EINVAL, NULL, NULL },
		{ "Basic YQE6Yg==", KL_EINVAL, NULL, NULL },
	};
	struct kl_httpreq_cred c;
	char v[1200], raw[600];
	long n;

	for (size_t i = 0; i < KL_ARRAY_LEN(r); i++) {
		size_t len = strlen(r[i].v);
		int rc = kl_httpreq_basic(at_guard(r[i].v, len), len, &c);

		T_OK(rc == r[i].rc, "basic \"%s\": rc %d", r[i].v, rc);
		if (rc == 0 && r[i].rc == 0)
			T_OK(!strcmp(c.user, r[i].user) && !strcmp(c.pass, r[i].pass) && c.ulen == strlen(r[i].user) &&
				c.plen == strlen(r[i].pass), "basic \"%s\": fields", r[i].v);
	}
	/* 255:255 is the longest accepted; one byte more either side is too big */
	memset(raw, 'u', 255);
	raw[255] = ':';
	memset(raw + 256, 'p', 255);
	memcpy(v, "Basic ", 6);
	n = kl_b64_encode(raw, 511, v + 6, sizeof(v) - 6, KL_B64_STD, 1);
	T_EQ_INT(kl_httpreq_basic(v, 6 + (size_t)n, &c), 0, "basic: 255/255");
	T_OK(c.ulen == 255 && c.plen == 255, "basic: 255/255 lengths");
	memset(raw, 'u', 256);
	raw[256] = ':';
	n = kl_b64_encode(raw, 258, v + 6, sizeof(v) - 6, KL_B64_STD, 1);
	T_EQ_INT(kl_httpreq_basic(v, 6 + (size_t)n, &c), KL_ETOOBIG, "basic: 256-byte user");
	memset(raw, 'u', 600);
	n = kl_b64_encode(raw, 600, v + 6, sizeof(v) - 6, KL_B64_STD, 1);
	T_EQ_INT(kl_httpreq_basic(v, 6 + (size_t)n, &c), KL_ETOOBIG, "basic: value too long");

	T_OK(kl_httpreq_cred_eq("secret", 6, "secret", 6), "cred_eq: equal");
	T_OK(!kl_httpreq_cred_eq("secreT", 6, "secret", 6), "cred_eq: last byte differs");
	T_OK(!kl_httpreq_cred_eq("secre", 5, "secret", 6), "cred_eq: prefix");
	T_OK(!kl_httpreq_cred_eq("secretsecret", 12, "secret", 6), "cred_eq: repeated secret");
	T_OK(!kl_httpreq_cred_eq("", 0, "secret", 6), "cred_eq: empty given");
	T_OK(kl_httpreq_cred_eq("", 0, "", 0), "cred_eq: both empty");
	T_OK(!kl_httpreq_cred_eq("x", 1, "", 0), "cred_eq: empty secret");
}

int main(void)
{
	guard_init();
	test_parse();
	test_headers_only();
	test_forms();
	test_hostport();
	test_url();
	test_fields();
	test_basic();
	return T_DONE();
}
