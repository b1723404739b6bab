/* t_conf.c - the configuration file: syntax, values, errors, shipped configs. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "app/conf.h"
#include "base/kl.h"
#include "base/log.h"

#include <glob.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static struct kl_conf c;
static char err[KL_ERRLEN];

/* A check on the last error message, which is shown when the check fails. */
#define T_ERR(cond, what) do { int ok_ = !!(cond); T_OK(ok_, "%s", what); \
	if (!ok_) printf("#   message: %s\n", err); } while (0)

/*
 * Every input ends right before a PROT_NONE page: the parser is handed
 * text that is not NUL-terminated, and one byte too far would fault.
 */
static int parse_n(const char *text, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + pg - 1) / pg * pg + pg;
	uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *t;
	int rc;

	if (m == MAP_FAILED || mprotect(m + span - pg, pg, PROT_NONE) != 0) {
		perror("mmap");
		exit(1);
	}
	t = (char *)m + span - pg - len;
	memcpy(t, text, len);
	rc = kl_conf_parse(&c, "t.conf", t, len, err);
	munmap(m, span);
	return rc;
}

static int parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* ---- sizes and durations ---------------------------------------------- */

static void test_size(void)
{
	static const struct {
		const char *in;
		int rc;
		uint64_t want;
	} rows[] = {
		{ "0", 0, 0 },
		{ "512", 0, 512 },
		{ "512B", 0, 512 },
		{ "16K", 0, 16384 },
		{ "16k", 0, 16384 },
		{ "16KB", 0, 16384 },
		{ "16kb", 0, 16384 },
		{ "32M", 0, 32u << 20 },
		{ "32mB", 0, 32u << 20 },
		{ "1G", 0, 1u << 30 },
		{ "4g", 0, 4ull << 30 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", KL_ERANGE, 0 },
		{ "17179869184G", KL_ERANGE, 0 },
		{ "", KL_EINVAL, 0 },
		{ "K", KL_EINVAL, 0 },
		{ "-1", KL_EINVAL, 0 },
		{ "+1", KL_EINVAL, 0 },
		{ " 1", KL_EINVAL, 0 },
		{ "1 K", KL_EINVAL, 0 },
		{ "1.5M", KL_EINVAL, 0 },
		{ "1T", KL_EINVAL, 0 },
		{ "1KiB", KL_EINVAL, 0 },
		{ "1BB", KL_EINVAL, 0 },
		{ "0x10", KL_EINVAL, 0 },
	};

	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		uint64_t v = 12345;
		int rc = kl_conf_size(rows[i].in, &v);
		T_OK(rc == rows[i].rc && (rc < 0 ? v == 12345 : v == rows[i].want),
		     "size \"%s\" -> %d %llu", rows[i].in, rows[i].rc, (unsigned long long)rows[i].want);
	}
	T_EQ_INT(kl_conf_size(NULL, NULL), KL_EINVAL, "size: NULL is invalid");
}

static void test_duration(void)
{
	static const struct {
		const char *in;
		int rc;
		uint32_t want;
	} rows[] = {
		{ "0", 0, 0 },
		{ "10", 0, 10000 },
		{ "500ms", 0, 500 },
		{ "5s", 0, 5000 },
		{ "2m", 0, 120000 },
		{ "1h", 0, 3600000 },
		{ "7d", 0, 604800000 },
		{ "4294967295ms", 0, 4294967295u },
		{ "4294967296ms", KL_ERANGE, 0 },
		{ "50d", KL_ERANGE, 0 },
		{ "99999999999999999999", KL_ERANGE, 0 },
		{ "999999999999999999h", KL_ERANGE, 0 },
		{ "", KL_EINVAL, 0 },
		{ "s", KL_EINVAL, 0 },
		{ "5S", KL_EINVAL, 0 },
		{ "5 s", KL_EINVAL, 0 },
		{ "5sec", KL_EINVAL, 0 },
		{ "1m30s", KL_EINVAL, 0 },
		{ "-5s", KL_EINVAL, 0 },
		{ "1.5s", KL_EINVAL, 0 },
		{ "5us", KL_EINVAL, 0 },
	};

	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		uint32_t v = 12345;
		int rc = kl_conf_duration(rows[i].in, &v);
		T_OK(rc == rows[i].rc && (rc < 0 ? v == 12345 : v == rows[i].want),
		     "duration \"%s\" -> %d %u", rows[i].in, rows[i].rc, (unsigned)rows[i].want);
	}
}

/* ---- defaults and good values ----------------------------------------- */

#define RELAY "[relay r]\ntype = socks5\nlisten = 127.0.0.1:1080\n"
#define THUMBS "[thumbs]\nlisten = 127.0.0.1:8080\n"

static void test_defaults(void)
{
	const struct kl_conf_relay *r = &c.relay[0];
	const struct kl_conf_thumbs *t = &c.thumbs;

	T_EQ_INT(parse(""), 0, "defaults: an empty file is a valid config");
	T_EQ_INT(c.memory_limit, 32u << 20, "defaults: memory_limit 32M");
	T_EQ_INT(c.log_level, KL_LOG_INFO, "defaults: log_level info");
	T_EQ_INT(c.shutdown_grace_ms, 5000, "defaults: shutdown_grace 5s");
	T_EQ_INT(c.dns_cache, 64, "defaults: dns_cache 64");
	T_OK(!c.admin_enabled && c.nrelays == 0 && !t->enabled && c.npresets == 0,
	     "defaults: no admin, relay, thumbs or preset");
	T_EQ_STR(c.path, "t.conf", "defaults: path is the name given");

	T_EQ_INT(parse(RELAY), 0, "defaults: minimal relay");
	T_EQ_INT(c.nrelays, 1, "defaults: one relay");
	T_EQ_STR(r->name, "r", "relay name");
	T_EQ_INT(r->line, 1, "relay header line");
	T_EQ_INT(r->type, KL_RELAY_SOCKS5, "relay type socks5");
	T_EQ_STR(r->listen, "127.0.0.1:1080", "relay listen");
	T_EQ_INT(r->buffer_kb, 16, "defaults: buffer_kb 16");
	T_EQ_INT(r->max_conns, 256, "defaults: max_conns 256");
	T_EQ_INT(r->max_conns_per_ip, 0, "defaults: max_conns_per_ip 0");
	T_EQ_INT(r->sock_buf_kb, 0, "defaults: sock_buf_kb 0");
	T_EQ_INT(r->handshake_ms, 4000, "defaults: handshake 4s");
	T_EQ_INT(r->connect_ms, 10000, "defaults: connect 10s");
	T_EQ_INT(r->idle_ms, 300000, "defaults: idle 300s");
	T_EQ_INT(r->uplink_only_ms, 2000, "defaults: uplink_only 2s");
	T_EQ_INT(r->downlink_only_ms, 5000, "defaults: downlink_only 5s");
	T_EQ_INT(r->tls_sessions, 256, "defaults: relay tls_sessions = max_conns");
	T_OK(r->nusers == 0 && r->allow_clients.n == 0 && !r->open && !r->upstream[0] &&
	     !r->upstream_tls && !r->target[0], "defaults: no users, rules, upstream");

	T_EQ_INT(parse(RELAY "max_conns = 100\n"), 0, "relay max_conns set");
	T_EQ_INT(r->tls_sessions, 100, "defaults: relay tls_sessions follows max_conns");
	T_EQ_INT(parse(RELAY "max_conns = 100\ntls_sessions = 7\n"), 0, "relay tls_sessions set");
	T_EQ_INT(r->tls_sessions, 7, "relay tls_sessions kept when set");

	T_EQ_INT(parse(THUMBS), 0, "defaults: minimal thumbs");
	T_OK(t->enabled && t->line == 1, "thumbs enabled, header line");
	T_OK(!t->key[0] && !t->salt[0], "defaults: no key or salt");
	T_EQ_INT(t->signature_size, 32, "defaults: signature_size 32");
	T_EQ_INT(t->jobs, 2, "defaults: jobs 2");
	T_EQ_INT(t->arena, 8u << 20, "defaults: arena 8M");
	T_EQ_INT(t->queue, 16, "defaults: queue 16");
	T_EQ_INT(t->max_conns, 64, "defaults: thumbs max_conns 64");
	T_EQ_INT(t->max_src_size, 20u << 20, "defaults: max_src_size 20M");
	T_EQ_INT(t->max_src_resolution, 50, "defaults: max_src_resolution 50");
	T_EQ_INT(t->download_timeout_ms, 10000, "defaults: download_timeout 10s");
	T_EQ_INT(t->header_timeout_ms, 10000, "defaults: header_timeout 10s");
	T_EQ_INT(t->idle_timeout_ms, 60000, "defaults: idle_timeout 60s");
	T_EQ_INT(t->max_header_kb, 8, "defaults: max_header_kb 8");
	T_EQ_INT(t->ttl_s, 31536000, "defaults: ttl 31536000");
	T_EQ_INT(t->quality, 80, "defaults: quality 80");
	T_EQ_INT(t->tls_sessions, 2, "defaults: thumbs tls_sessions = jobs");
	T_EQ_INT(parse(THUMBS "jobs = 5\n"), 0, "thumbs jobs set");
	T_EQ_INT(t->tls_sessions, 5, "defaults: thumbs tls_sessions follows jobs");

	T_EQ_INT(parse("[relay r]\nlisten = 127.0.0.1:1\nbuffer_kb = 9\n"), KL_EINVAL,
		 "failed parse");
	T_OK(c.nrelays == 0 && c.relay[0].buffer_kb == 16 && !c.relay[0].listen[0],
	     "a failed parse leaves defaults, never half a config");
}

static void test_values(void)
{
	const struct kl_conf_relay *r = &c.relay[0];
	const struct kl_conf_thumbs *t = &c.thumbs;

	T_EQ_INT(parse("[global]\nmemory_limit = 64M\nlog_level = debug\nshutdown_grace = 1500ms\n"
		       "dns_cache = 0\n"), 0, "global keys");
	T_OK(c.memory_limit == 64u << 20 && c.log_level == KL_LOG_DEBUG &&
	     c.shutdown_grace_ms == 1500 && c.dns_cache == 0, "global values");

	T_EQ_INT(parse("[admin]\nlisten = [::1]:8081\n"), 0, "admin on IPv6 loopback");
	T_OK(c.admin_enabled && strcmp(c.admin_listen, "[::1]:8081") == 0, "admin values");

	T_EQ_INT(parse("[relay f]\ntype = forward\nlisten = 127.0.0.1:2222\n"
		       "target = host-1.example.com:22\n"), 0, "forward with a host name target");
	T_OK(r->type == KL_RELAY_FORWARD && strcmp(r->target, "host-1.example.com:22") == 0,
	     "forward values");
	T_EQ_INT(parse("[relay f]\ntype = forward\nlisten = 127.0.0.1:2222\ntarget = [2001:db8::5]:22\n"),
		 0, "forward to an IPv6 target");

	T_EQ_INT(parse("[relay h]\ntype = http\nlisten = 0.0.0.0:8443\ntls_cert = /etc/c.pem\n"
		       "tls_key = /etc/k.pem\nbuffer_kb = 0\nmax_conns = 1000000\n"
		       "max_conns_per_ip = 8\nsock_buf_kb = 64\n"
		       "users = alice:secret, bob:pa:ss\tcarol:x#y\n"
		       "handshake = 1s\nconnect = 2s\nidle = 1h\nuplink_only = 0\ndownlink_only = 500ms\n"
		       "allow_destinations = 10.0.0.0/8, .lan example.com fd00::/8 192.168.1.1 ::1\n"
		       "deny_destinations = .bad.example\n"), 0, "http relay with every kind of key");
	T_OK(r->type == KL_RELAY_HTTP && strcmp(r->tls_cert, "/etc/c.pem") == 0 &&
	     strcmp(r->tls_key, "/etc/k.pem") == 0 && r->buffer_kb == 0 && r->max_conns == 1000000 &&
	     r->max_conns_per_ip == 8 && r->sock_buf_kb == 64, "http relay numbers and paths");
	T_OK(r->nusers == 3 && strcmp(r->users[0].name, "alice") == 0 &&
	     strcmp(r->users[0].pass, "secret") == 0 && strcmp(r->users[1].pass, "pa:ss") == 0 &&
	     strcmp(r->users[2].pass, "x#y") == 0, "users split at commas and blanks, pass may hold ':'");
	T_OK(r->handshake_ms == 1000 && r->connect_ms == 2000 && r->idle_ms == 3600000 &&
	     r->uplink_only_ms == 0 && r->downlink_only_ms == 500, "relay timeouts");
	T_OK(r->allow_destinations.n == 6 && strcmp(r->allow_destinations.item[1], ".lan") == 0 &&
	     strcmp(r->allow_destinations.item[5], "::1") == 0 && r->deny_destinations.n == 1,
	     "destination rules");

	T_EQ_INT(parse("[relay p]\ntype = socks5\nlisten = 192.168.1.1:1080\n"
		       "allow_clients = 192.168.1.0/24 10.1.2.3 fe80::/10 ::/0 0.0.0.0/0\n"
		       "upstream = vps.example.com:8443\nupstream_tls = on\nupstream_user = u\n"
		       "upstream_pass = p\nupstream_ca = /etc/ca.pem\n"
		       "upstream_pin = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"),
		 0, "socks relay with allow_clients and a TLS upstream");
	T_OK(r->allow_clients.n == 5 && r->upstream_tls == 1 &&
	     strcmp(r->upstream, "vps.example.com:8443") == 0 && strcmp(r->upstream_user, "u") == 0 &&
	     strcmp(r->upstream_ca, "/etc/ca.pem") == 0 && r->upstream_pin[0], "upstream values");
	T_EQ_INT(parse("[relay p]\ntype = socks5\nlisten = 127.0.0.1:1080\nupstream = 10.0.0.1:3128\n"
		       "upstream_tls = yes\nupstream_pin = "
		       "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef\n"),
		 0, "hex upstream_pin");

	T_EQ_INT(parse(THUMBS "key = 943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881\n"
		       "salt = 520F986B\nsignature_size = 8\njobs = 64\narena = 64K\nqueue = 0\n"
		       "max_conns = 1\nlocal_root = \"/srv/my images\"\n"
		       "allowed_sources = https://img.example.com/, http://10.0.0.1:8000/ local:///\n"
		       "allow_private_sources = true\nmax_src_size = 1K\nmax_src_resolution = 1000\n"
		       "download_timeout = 1h\nheader_timeout = 3s\nidle_timeout = 7d\n"
		       "max_header_kb = 1024\nttl = 365d\nquality = 100\nca_file = /etc/ca.crt\n"
		       "tls_sessions = 0\n"), 0, "thumbs with every key");
	T_OK(strlen(t->key) == 64 && strcmp(t->salt, "520F986B") == 0 && t->signature_size == 8 &&
	     t->jobs == 64 && t->arena == 65536 && t->queue == 0 && t->max_conns == 1,
	     "thumbs key, salt, numbers");
	T_EQ_STR(t->local_root, "/srv/my images", "quoted value keeps inner blanks");
	T_OK(t->nsources == 3 && strcmp(t->allowed_sources[2], "local:///") == 0 &&
	     t->allow_private_sources == 1, "allowed_sources");
	T_OK(t->max_src_size == 1024 && t->max_src_resolution == 1000 &&
	     t->download_timeout_ms == 3600000 && t->header_timeout_ms == 3000 &&
	     t->idle_timeout_ms == 604800000 && t->max_header_kb == 1024 && t->ttl_s == 31536000 &&
	     t->quality == 100 && strcmp(t->ca_file, "/etc/ca.crt") == 0 && t->tls_sessions == 0,
	     "thumbs limits and timeouts");
	T_EQ_INT(parse(THUMBS "ttl = 3600\n"), 0, "ttl plain seconds");
	T_EQ_INT(t->ttl_s, 3600, "ttl 3600");

	T_EQ_INT(parse("[preset thumb]\noptions = rs:fill:300:300/q:80\n[preset default]\n"
		       "options = g:ce\n[preset A-b_c.1]\noptions = min-width:10/bg:ff00ff/f:png\n"),
		 0, "presets");
	T_OK(c.npresets == 3 && strcmp(c.preset[0].name, "thumb") == 0 &&
	     strcmp(c.preset[0].options, "rs:fill:300:300/q:80") == 0 &&
	     strcmp(c.preset[2].name, "A-b_c.1") == 0, "preset values");

	/* booleans */
	{
		static const char *const yes[] = { "yes", "on", "true", "1", "YES", "On", "TRUE" };
		static const char *const no[] = { "no", "off", "false", "0", "No", "OFF" };
		char text[256];
		for (size_t i = 0; i < KL_ARRAY_LEN(yes); i++) {
			snprintf(text, sizeof(text), THUMBS "allow_private_sources = %s\n", yes[i]);
			T_OK(parse(text) == 0 && t->allow_private_sources == 1, "bool \"%s\" is true", yes[i]);
		}
		for (size_t i = 0; i < KL_ARRAY_LEN(no); i++) {
			snprintf(text, sizeof(text), THUMBS "allow_private_sources = %s\n", no[i]);
			T_OK(parse(text) == 0 && t->allow_private_sources == 0, "bool \"%s\" is false", no[i]);
		}
	}
	/* log levels */
	{
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		char text[128];
		for (int i = 0; i < 4; i++) {
			snprintf(text, sizeof(text), "[global]\nlog_level = %s\n", lv[i]);
			T_OK(parse(text) == 0 && c.log_level == i, "log_level %s", lv[i]);
		}
	}
	/* listen forms, and loopback listeners that need no users */
	{
		static const char *const ok[] = { "127.0.0.1:1", "127.255.0.9:65535", "[::1]:1080",
						  "[::ffff:127.0.0.1]:1080" };
		char text[256];
		for (size_t i = 0; i < KL_ARRAY_LEN(ok); i++) {
			snprintf(text, sizeof(text), "[relay r]\ntype = http\nlisten = %s\n", ok[i]);
			T_EQ_INT(parse(text), 0, ok[i]);
		}
	}
}

static void test_syntax(void)
{
	const struct kl_conf_relay *r = &c.relay[0];

	T_EQ_INT(parse("; comment\n# comment\n   ; indented comment\n\n[global] ; why\n"
		       "memory_limit = 2M ; two\nlog_level=warn# not a comment, so a bad level\n"),
		 KL_EINVAL, "';'/'#' without a blank before it is part of the value");
	T_ERR(strstr(err, "warn# not a comment") != NULL, "the value kept the '#'");
	T_EQ_INT(parse("[global]\t# c\n\tmemory_limit\t=\t2M\t# two\n  log_level = warn   \n"), 0,
		 "tabs and blanks around keys and values, inline comments");
	T_OK(c.memory_limit == 2u << 20 && c.log_level == KL_LOG_WARN, "values after trimming");
	T_EQ_INT(parse("\xef\xbb\xbf[global]\r\nmemory_limit = 3M\r\n"), 0, "BOM and CRLF");
	T_EQ_INT(c.memory_limit, 3u << 20, "CRLF value");
	T_EQ_INT(parse("[global]\nmemory_limit = 3M"), 0, "no newline at the end");
	T_EQ_INT(c.memory_limit, 3u << 20, "last line without newline");
	T_EQ_INT(parse(RELAY "users = \"al ice:p ;w#d\" ; comment\n"), KL_EINVAL,
		 "quoted users value is still split at blanks");
	T_EQ_INT(parse(RELAY "tls_cert = \"/a b;c #d\"   # comment\ntls_key = \"k\";x\n"), 0,
		 "quoted values keep ';' and '#'");
	T_EQ_STR(r->tls_cert, "/a b;c #d", "quoted value");
	T_EQ_STR(r->tls_key, "k", "quoted value followed by a comment");
	T_EQ_INT(parse("[ relay   r ]\ntype = socks5\nlisten = 127.0.0.1:1\n"), 0,
		 "blanks inside the section header");
	T_EQ_STR(r->name, "r", "name from a spaced header");
	T_EQ_INT(parse_n("[global]\nmemory_limit = 4M\n\0garbage", 27), 0,
		 "length bounds the input, not a NUL");
	T_EQ_INT(parse_n("[global]\nmemory_limit = 4M\n\0garbage", 28), KL_EINVAL, "NUL byte is refused");
	T_ERR(strstr(err, "t.conf:3:") && strstr(err, "control character 0x00"), "NUL message");
}

/* ---- errors ------------------------------------------------------------ */

#define X64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define L50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L100 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct erow {
	const char *text;
	int rc;
	int line;               /* expected "t.conf:LINE:" */
	const char *key;        /* expected in the message (NULL: none) */
	const char *what;       /* expected in the message */
} erows[] = {
	/* syntax */
	{ "[global]\nmemory_limit 32M\n", KL_EINVAL, 2, NULL, "syntax error: expected key = value" },
	{ "[global\nmemory_limit = 1M\n", KL_EINVAL, 1, NULL, "unterminated section header" },
	{ "[global] x\n", KL_EINVAL, 1, NULL, "text after the section header" },
	{ "memory_limit = 1M\n", KL_EINVAL, 1, "memory_limit", "outside any section" },
	{ "[global]\n = 1M\n", KL_EINVAL, 2, NULL, "no key before '='" },
	{ "[global]\nlog_level = \"info\n", KL_EINVAL, 2, "log_level", "unterminated quote" },
	{ "[global]\nlog_level = \"info\" x\n", KL_EINVAL, 2, "log_level", "text after the closing quote" },
	{ "[global]\nlog_level = in\001fo\n", KL_EINVAL, 2, NULL, "control character 0x01" },
	{ "[global]\nlog_level =\n", KL_EINVAL, 2, "log_level", "empty value" },
	{ "[global]\nlog_level = \"\"\n", KL_EINVAL, 2, "log_level", "empty value" },
	{ "[global]\nlog_level = ; nothing\n", KL_EINVAL, 2, "log_level", "empty value" },
	/* unknown section or key */
	{ "[global]\n\n[foo]\n", KL_EINVAL, 3, NULL, "unknown section [foo]" },
	{ "[relays x]\n", KL_EINVAL, 1, NULL, "unknown section [relays x]" },
	{ "[Global]\n", KL_EINVAL, 1, NULL, "unknown section [Global]" },
	{ "[relay]\n", KL_EINVAL, 1, NULL, "[relay] needs a name" },
	{ "[preset]\n", KL_EINVAL, 1, NULL, "[preset] needs a name" },
	{ "[global main]\n", KL_EINVAL, 1, NULL, "[global] takes no name" },
	{ "[relay a/b]\n", KL_EINVAL, 1, NULL, "bad name \"a/b\" for [relay]" },
	{ "[relay a b]\n", KL_EINVAL, 1, NULL, "bad name \"a b\"" },
	{ "[relay " L100 "]\n", KL_EINVAL, 1, NULL, "bad name" },
	{ THUMBS "colour = red\n", KL_EINVAL, 3, "colour", "unknown key in [thumbs]" },
	{ RELAY "Type = http\n", KL_EINVAL, 4, "Type", "unknown key in [relay r]" },
	{ "[global]\nlisten = 127.0.0.1:1\n", KL_EINVAL, 2, "listen", "unknown key in [global]" },
	{ "[admin]\nlisten = 127.0.0.1:1\nmax_conns = 5\n", KL_EINVAL, 3, "max_conns",
	  "unknown key in [admin]" },
	{ "[preset p]\noptions = q:1\nquality = 5\n", KL_EINVAL, 3, "quality", "unknown key in [preset p]" },
	/* duplicates */
	{ "[global]\nlog_level = info\nlog_level = warn\n", KL_EINVAL, 3, "log_level",
	  "duplicate key in [global] (first at line 2)" },
	{ RELAY "listen = 127.0.0.1:1081\n", KL_EINVAL, 4, "listen", "duplicate key in [relay r] (first at line 3)" },
	{ RELAY RELAY, KL_EINVAL, 4, NULL, "duplicate section [relay r] (first at line 1)" },
	{ THUMBS THUMBS, KL_EINVAL, 3, NULL, "duplicate section [thumbs] (first at line 1)" },
	{ "[global]\n[admin]\nlisten = 127.0.0.1:1\n[global]\n", KL_EINVAL, 4, NULL,
	  "duplicate section [global] (first at line 1)" },
	{ "[admin]\nlisten = 127.0.0.1:1\n[admin]\n", KL_EINVAL, 3, NULL, "duplicate section [admin]" },
	{ "[preset p]\noptions = q:1\n[preset p]\n", KL_EINVAL, 3, NULL, "duplicate section [preset p]" },
	/* sizes */
	{ "[global]\nmemory_limit = abc\n", KL_EINVAL, 2, "memory_limit", "not a size (like 512K, 32M, 1G): \"abc\"" },
	{ "[global]\nmemory_limit = 32X\n", KL_EINVAL, 2, "memory_limit", "not a size" },
	{ "[global]\nmemory_limit = 1.5M\n", KL_EINVAL, 2, "memory_limit", "not a size" },
	{ "[global]\nmemory_limit = -32M\n", KL_EINVAL, 2, "memory_limit", "not a size" },
	{ "[global]\nmemory_limit = 512K\n", KL_ERANGE, 2, "memory_limit", "512K is out of range 1M..1024G" },
	{ "[global]\nmemory_limit = 99999999999999999999\n", KL_ERANGE, 2, "memory_limit", "out of range" },
	{ "[global]\nmemory_limit = 99999999999G\n", KL_ERANGE, 2, "memory_limit", "out of range" },
	{ THUMBS "arena = 1K\n", KL_ERANGE, 3, "arena", "out of range 64K..1G" },
	{ THUMBS "max_src_size = 100\n", KL_ERANGE, 3, "max_src_size", "out of range 1K..1024G" },
	/* durations */
	{ RELAY "handshake = 5x\n", KL_EINVAL, 4, "handshake", "not a duration (like 500ms" },
	{ RELAY "connect = 5 s\n", KL_EINVAL, 4, "connect", "not a duration" },
	{ RELAY "handshake = 0\n", KL_ERANGE, 4, "handshake", "0 is out of range 1ms..7d" },
	{ RELAY "idle = 8d\n", KL_ERANGE, 4, "idle", "8d is out of range 1ms..7d" },
	{ RELAY "downlink_only = 99999999999999999999\n", KL_ERANGE, 4, "downlink_only", "out of range" },
	{ "[global]\nshutdown_grace = 2h\n", KL_ERANGE, 2, "shutdown_grace", "out of range 0..1h" },
	{ THUMBS "download_timeout = 0ms\n", KL_ERANGE, 3, "download_timeout", "out of range" },
	{ THUMBS "ttl = 500ms\n", KL_EINVAL, 3, "ttl", "must be whole seconds" },
	{ THUMBS "ttl = 3651d\n", KL_ERANGE, 3, "ttl", "out of range 0..3650d" },
	{ THUMBS "ttl = forever\n", KL_EINVAL, 3, "ttl", "not a duration" },
	/* integers */
	{ RELAY "buffer_kb = abc\n", KL_EINVAL, 4, "buffer_kb", "not a number: \"abc\"" },
	{ RELAY "buffer_kb = -1\n", KL_EINVAL, 4, "buffer_kb", "not a number" },
	{ RELAY "buffer_kb = 16K\n", KL_EINVAL, 4, "buffer_kb", "not a number: \"16K\"" },
	{ RELAY "buffer_kb = 0x10\n", KL_EINVAL, 4, "buffer_kb", "not a number" },
	{ RELAY "buffer_kb = 65537\n", KL_ERANGE, 4, "buffer_kb", "65537 is out of range 0..65536" },
	{ RELAY "buffer_kb = 99999999999999999999999\n", KL_EINVAL, 4, "buffer_kb", "not a number" },
	{ RELAY "max_conns = 0\n", KL_ERANGE, 4, "max_conns", "0 is out of range 1..1000000" },
	{ RELAY "max_conns = 1000001\n", KL_ERANGE, 4, "max_conns", "out of range" },
	{ THUMBS "jobs = 0\n", KL_ERANGE, 3, "jobs", "out of range 1..64" },
	{ THUMBS "jobs = 65\n", KL_ERANGE, 3, "jobs", "out of range 1..64" },
	{ THUMBS "quality = 0\n", KL_ERANGE, 3, "quality", "out of range 1..100" },
	{ THUMBS "quality = 101\n", KL_ERANGE, 3, "quality", "out of range 1..100" },
	{ THUMBS "signature_size = 33\n", KL_ERANGE, 3, "signature_size", "out of range 1..32" },
	{ THUMBS "signature_size = 0\n", KL_ERANGE, 3, "signature_size", "out of range 1..32" },
	{ THUMBS "max_src_resolution = 1001\n", KL_ERANGE, 3, "max_src_resolution", "out of range 1..1000" },
	{ "[global]\ndns_cache = 65537\n", KL_ERANGE, 2, "dns_cache", "out of range" },
	/* booleans, levels, types */
	{ RELAY "open = maybe\n", KL_EINVAL, 4, "open", "not a boolean (yes/no, on/off, true/false, 1/0): \"maybe\"" },
	{ RELAY "open = 2\n", KL_EINVAL, 4, "open", "not a boolean" },
	{ "[global]\nlog_level = verbose\n", KL_EINVAL, 2, "log_level", "not a log level (error, warn, info, debug)" },
	{ "[global]\nlog_level = INFO\n", KL_EINVAL, 2, "log_level", "not a log level" },
	{ "[relay r]\ntype = socks4\n", KL_EINVAL, 2, "type", "not a relay type (socks5, http, forward): \"socks4\"" },
	/* addresses */
	{ "[admin]\nlisten = localhost:8081\n", KL_EINVAL, 2, "listen", "must be a literal IP address" },
	{ "[admin]\nlisten = 127.0.0.1\n", KL_EINVAL, 2, "listen", "missing :port" },
	{ "[admin]\nlisten = 127.0.0.1:\n", KL_EINVAL, 2, "listen", "port must be a number 1..65535" },
	{ "[admin]\nlisten = 127.0.0.1:0\n", KL_EINVAL, 2, "listen", "port must be a number 1..65535" },
	{ "[admin]\nlisten = 127.0.0.1:65536\n", KL_EINVAL, 2, "listen", "port must be" },
	{ "[admin]\nlisten = 127.0.0.1:008081\n", KL_EINVAL, 2, "listen", "port must be" },
	{ "[admin]\nlisten = 127.0.0.1:80x\n", KL_EINVAL, 2, "listen", "port must be" },
	{ "[admin]\nlisten = :8081\n", KL_EINVAL, 2, "listen", "missing host before :port" },
	{ "[admin]\nlisten = ::1:8081\n", KL_EINVAL, 2, "listen", "needs brackets: [addr]:port" },
	{ "[admin]\nlisten = [::1:8081\n", KL_EINVAL, 2, "listen", "missing ']'" },
	{ "[admin]\nlisten = [::g]:8081\n", KL_EINVAL, 2, "listen", "not an IPv6 address" },
	{ "[admin]\nlisten = []:8081\n", KL_EINVAL, 2, "listen", "not an IPv6 address" },
	{ "[admin]\nlisten = [127.0.0.1]:8081\n", KL_EINVAL, 2, "listen", "not an IPv6 address" },
	{ "[admin]\nlisten = [::1]8081\n", KL_EINVAL, 2, "listen", "missing :port after ]" },
	{ "[admin]\nlisten = 127.0.0.256:80\n", KL_EINVAL, 2, "listen", "literal IP address" },
	{ "[relay f]\ntype = forward\nlisten = 127.0.0.1:1\ntarget = bad host:22\n", KL_EINVAL, 4, "target",
	  "not a host name or IP address" },
	{ "[relay f]\ntype = forward\nlisten = 127.0.0.1:1\ntarget = 999.1.1.1:22\n", KL_EINVAL, 4, "target",
	  "not a host name or IP address" },
	{ "[relay f]\ntype = forward\nlisten = 127.0.0.1:1\ntarget = a..b:22\n", KL_EINVAL, 4, "target",
	  "not a host name" },
	{ "[relay f]\ntype = forward\nlisten = 127.0.0.1:1\ntarget = example.com\n", KL_EINVAL, 4, "target",
	  "missing :port" },
	{ RELAY "upstream = example.com:0\n", KL_EINVAL, 4, "upstream", "port must be" },
	/* hex */
	{ THUMBS "key = xyz1\nsalt = 00\n", KL_EINVAL, 3, "key", "not hex digits: \"xyz1\"" },
	{ THUMBS "key = abc\nsalt = 00\n", KL_EINVAL, 3, "key", "odd number of hex digits (3)" },
	{ THUMBS "key = 00\nsalt = " X64 X64 "00\n", KL_ETOOBIG, 4, "salt", "longer than 64 bytes" },
	/* users */
	{ RELAY "users = alice\n", KL_EINVAL, 4, "users", "expected user:pass" },
	{ RELAY "users = :secret\n", KL_EINVAL, 4, "users", "empty user name" },
	{ RELAY "users = alice:\n", KL_EINVAL, 4, "users", "empty password: user \"alice\"" },
	{ RELAY "users = alice:a, alice:b\n", KL_EINVAL, 4, "users", "user name appears twice: user \"alice\"" },
	{ RELAY "users = " L100 ":x\n", KL_EINVAL, 4, "users", "user name longer than 63 bytes" },
	{ RELAY "users = x:" L100 "\n", KL_EINVAL, 4, "users", "password longer than 63 bytes" },
	{ RELAY "users = a:1 b:1 c:1 d:1 e:1 f:1 g:1 h:1 i:1 j:1 k:1 l:1 m:1 n:1 o:1 p:1 q:1\n", KL_EINVAL, 4,
	  "users", "more than 16 users" },
	{ RELAY "users_file = tests/unit/no-such-users-file\n", KL_ENOTFOUND, 4, "users_file", "cannot open" },
	{ RELAY "users_file = tests/unit\n", KL_EIO, 4, "users_file", "is not a regular file" },
	/* rules */
	{ RELAY "allow_clients = 10.0.0.0/33\n", KL_EINVAL, 4, "allow_clients", "IPv4 prefix length is more than 32" },
	{ RELAY "allow_clients = fd00::/129\n", KL_EINVAL, 4, "allow_clients", "IPv6 prefix length is more than 128" },
	{ RELAY "allow_clients = 10.0.0.0/x\n", KL_EINVAL, 4, "allow_clients", "prefix length after '/' is not a number" },
	{ RELAY "allow_clients = 10.0.0.0/\n", KL_EINVAL, 4, "allow_clients", "prefix length" },
	{ RELAY "allow_clients = 10.0.0.0/-1\n", KL_EINVAL, 4, "allow_clients", "prefix length" },
	{ RELAY "allow_clients = 10.0.0/8\n", KL_EINVAL, 4, "allow_clients", "not an IPv4 address: \"10.0.0/8\"" },
	{ RELAY "allow_clients = 10.0.0.0/8, example.com\n", KL_EINVAL, 4, "allow_clients", "\"example.com\"" },
	{ RELAY "allow_clients = /8\n", KL_EINVAL, 4, "allow_clients", "not a CIDR" },
	{ RELAY "allow_clients = fd00::zz/8\n", KL_EINVAL, 4, "allow_clients", "not an IPv6 address" },
	{ RELAY "allow_destinations = bad!.example.com\n", KL_EINVAL, 4, "allow_destinations",
	  "not a CIDR or domain suffix" },
	{ RELAY "deny_destinations = ..example.com\n", KL_EINVAL, 4, "deny_destinations", "not a CIDR or domain suffix" },
	{ RELAY "deny_destinations = example.com.\n", KL_EINVAL, 4, "deny_destinations", "not a CIDR or domain suffix" },
	{ RELAY "deny_destinations = 1.2.3\n", KL_EINVAL, 4, "deny_destinations", "not an IPv4 address" },
	{ RELAY "allow_destinations = " "a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,"
	  "a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b,a.b\n", KL_ETOOBIG, 4,
	  "allow_destinations", "more than 32 entries" },
	{ RELAY "allow_destinations = " L50 "." L50 "." L50 ".com\n", KL_ETOOBIG, 4, "allow_destinations",
	  "entry longer than 127 bytes" },
	{ THUMBS "allowed_sources = ftp://x/\n", KL_EINVAL, 3, "allowed_sources", "not a URL prefix" },
	{ THUMBS "allowed_sources = https://\n", KL_EINVAL, 3, "allowed_sources", "needs a host after the scheme" },
	{ THUMBS "allowed_sources = a:/ b:/ c:/\n", KL_EINVAL, 3, "allowed_sources", "\"a:/\"" },
	{ THUMBS "allowed_sources = http://a http://a http://a http://a http://a http://a http://a http://a "
	  "http://a http://a http://a http://a http://a http://a http://a http://a http://a\n", KL_ETOOBIG, 3,
	  "allowed_sources", "more than 16 entries" },
	/* presets, pins */
	{ "[preset p]\noptions = rs:fill//q:80\n", KL_EINVAL, 2, "options", "empty option" },
	{ "[preset p]\noptions = /rs:fill\n", KL_EINVAL, 2, "options", "empty option" },
	{ "[preset p]\noptions = rs fill\n", KL_EINVAL, 2, "options", "not an option" },
	{ "[preset p]\noptions = :300\n", KL_EINVAL, 2, "options", "not an option" },
	{ "[preset p]\noptions = \"rs:fit:3 00\"\n", KL_EINVAL, 2, "options", "may not contain spaces" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_tls = on\nupstream_pin = abc\n", KL_EINVAL, 6,
	  "upstream_pin", "not a SHA-256 pin" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_tls = on\nupstream_pin = " X64 "00\n", KL_EINVAL, 6,
	  "upstream_pin", "not a SHA-256 pin" },
	/* missing required keys */
	{ "[relay a]\nlisten = 127.0.0.1:1\n", KL_EINVAL, 1, "[relay a] type", "missing required key" },
	{ "[relay a]\ntype = socks5\n[global]\n", KL_EINVAL, 1, "[relay a] listen", "missing required key" },
	{ "[relay a]\ntype = forward\nlisten = 127.0.0.1:1\n", KL_EINVAL, 1, "[relay a] target",
	  "missing required key (type = forward)" },
	{ "[thumbs]\njobs = 2\n", KL_EINVAL, 1, "[thumbs] listen", "missing required key" },
	{ "[global]\n[admin]\n", KL_EINVAL, 2, "[admin] listen", "missing required key" },
	{ "[preset p]\n", KL_EINVAL, 1, "[preset p] options", "missing required key" },
	/* listeners in use */
	{ "[relay socks]\ntype = socks5\nlisten = 127.0.0.1:1080\n[relay b]\ntype = http\nlisten = 127.0.0.1:1080\n",
	  KL_EINVAL, 6, "listen", "127.0.0.1:1080 is already used by [relay socks] (line 3)" },
	{ "[admin]\nlisten = 127.0.0.1:8080\n" THUMBS, KL_EINVAL, 4, "listen",
	  "127.0.0.1:8080 is already used by [admin] (line 2)" },
	{ THUMBS "[relay r]\ntype = http\nlisten = 127.0.0.1:8080\n", KL_EINVAL, 5, "listen",
	  "is already used by [thumbs] (line 2)" },
	{ RELAY "[relay w]\ntype = http\nlisten = 0.0.0.0:1080\nopen = yes\n", KL_EINVAL, 6, "listen",
	  "0.0.0.0:1080 overlaps 127.0.0.1:1080 of [relay r] (line 3)" },
	{ "[admin]\nlisten = [::]:81\n[thumbs]\nlisten = [::1]:81\n", KL_EINVAL, 4, "listen", "overlaps [::]:81" },
	{ "[admin]\nlisten = [::1]:81\n[thumbs]\nlisten = [0:0::1]:81\n", KL_EINVAL, 4, "listen", "already used" },
	/* values too long for their field */
	{ RELAY "tls_cert = /" L100 L100 L100 "\ntls_key = k\n", KL_ETOOBIG, 4, "tls_cert",
	  "value too long (at most 255 bytes)" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_user = " L100 "\n", KL_ETOOBIG, 5, "upstream_user",
	  "value too long (at most 63 bytes)" },
	{ "[preset p]\noptions = " L100 ":" L100 L100 L100 L100 L100 "\n", KL_ETOOBIG, 2, "options",
	  "value too long (at most 511 bytes)" },
	{ THUMBS "local_root = \"" L100 L100 L100 "\"\n", KL_ETOOBIG, 3, "local_root", "value too long" },
	/* keys that do not go together */
	{ RELAY "target = 10.0.0.1:22\n", KL_EINVAL, 4, "target", "only used with type = forward, not in [relay r]" },
	{ RELAY "tls_cert = c.pem\n", KL_EINVAL, 4, "tls_cert", "needs tls_key too" },
	{ RELAY "tls_key = k.pem\n", KL_EINVAL, 4, "tls_key", "needs tls_cert too" },
	{ RELAY "upstream_tls = on\n", KL_EINVAL, 4, "upstream_tls", "only used with upstream" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_user = u\n", KL_EINVAL, 5, "upstream_user", "needs upstream_pass too" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_pass = u\n", KL_EINVAL, 5, "upstream_pass", "needs upstream_user too" },
	{ RELAY "upstream = 10.0.0.1:1\nupstream_ca = ca.pem\n", KL_EINVAL, 5, "upstream_ca",
	  "only used with upstream_tls = on" },
	{ "[relay f]\ntype = forward\nlisten = 127.0.0.1:1\ntarget = 10.0.0.1:22\nusers = a:b\n", KL_EINVAL, 5,
	  "users", "a forward relay does not authenticate" },
	{ THUMBS "key = 00\n", KL_EINVAL, 3, "key", "needs salt too" },
	{ THUMBS "salt = 00\n", KL_EINVAL, 3, "salt", "needs key too" },
	/* the open-proxy rule */
	{ "[relay pub]\ntype = socks5\nlisten = 0.0.0.0:1080\n", KL_EDENIED, 3, "[relay pub] listen",
	  "0.0.0.0:1080 is reachable from other hosts and has no users or allow_clients; set open = yes if you mean it" },
	{ "[relay pub]\ntype = http\nlisten = [::]:3128\n", KL_EDENIED, 3, "[relay pub] listen", "reachable from other hosts" },
	{ "[relay pub]\ntype = forward\nlisten = 192.168.1.1:22\ntarget = 10.0.0.1:22\nopen = no\n", KL_EDENIED, 3,
	  "[relay pub] listen", "set open = yes" },
	{ "[relay pub]\ntype = socks5\nlisten = [::ffff:10.0.0.1]:1080\n", KL_EDENIED, 3, "[relay pub] listen",
	  "reachable" },
	/* counts */
	{ "[relay a]\ntype=http\nlisten=127.0.0.1:1\n[relay b]\ntype=http\nlisten=127.0.0.1:2\n"
	  "[relay c]\ntype=http\nlisten=127.0.0.1:3\n[relay d]\ntype=http\nlisten=127.0.0.1:4\n"
	  "[relay e]\ntype=http\nlisten=127.0.0.1:5\n[relay f]\ntype=http\nlisten=127.0.0.1:6\n"
	  "[relay g]\ntype=http\nlisten=127.0.0.1:7\n[relay h]\ntype=http\nlisten=127.0.0.1:8\n"
	  "[relay i]\ntype=http\nlisten=127.0.0.1:9\n[relay j]\ntype=http\nlisten=127.0.0.1:10\n"
	  "[relay k]\ntype=http\nlisten=127.0.0.1:11\n[relay l]\ntype=http\nlisten=127.0.0.1:12\n"
	  "[relay m]\ntype=http\nlisten=127.0.0.1:13\n[relay n]\ntype=http\nlisten=127.0.0.1:14\n"
	  "[relay o]\ntype=http\nlisten=127.0.0.1:15\n[relay p]\ntype=http\nlisten=127.0.0.1:16\n"
	  "[relay q]\n", KL_ETOOBIG, 49, NULL, "more than 16 [relay] sections" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(erows); i++) {
		const struct erow *e = &erows[i];
		char where[32], key[96];
		int rc = parse(e->text);
		int ok;

		snprintf(where, sizeof(where), "t.conf:%d: ", e->line);
		snprintf(key, sizeof(key), " %s: ", e->key ? e->key : "");
		ok = rc == e->rc && strncmp(err, where, strlen(where)) == 0 &&
		     (!e->key || strstr(err, key)) && strstr(err, e->what) && !strchr(err, '\n');
		T_OK(ok, "error row %zu: %s", i, e->what);
		if (!ok)
			printf("#   rc %d (want %d), message: %s\n", rc, e->rc, err);
	}
}

/* Listeners that are fine: the open-proxy rule's ways out, distinct ports. */
static void test_open_rule(void)
{
	static const char *const ok[] = {
		"[relay pub]\ntype = socks5\nlisten = 0.0.0.0:1080\nopen = yes\n",
		"[relay pub]\ntype = socks5\nlisten = 0.0.0.0:1080\nusers = a:b\n",
		"[relay pub]\ntype = http\nlisten = [::]:1080\nallow_clients = 10.0.0.0/8\n",
		"[relay pub]\ntype = forward\nlisten = 192.168.1.1:22\ntarget = 10.0.0.1:22\nallow_clients = 192.168.1.0/24\n",
		"[relay a]\ntype = socks5\nlisten = 127.0.0.1:1080\n[relay b]\ntype = socks5\nlisten = 127.0.0.2:1080\n",
		"[relay a]\ntype = socks5\nlisten = 127.0.0.1:1080\n[relay b]\ntype = socks5\nlisten = [::1]:1080\n",
		"[relay a]\ntype = socks5\nlisten = 127.0.0.1:1080\n[relay b]\ntype = socks5\nlisten = 127.0.0.1:1081\n",
	};

	for (size_t i = 0; i < KL_ARRAY_LEN(ok); i++) {
		int rc = parse(ok[i]);
		T_OK(rc == 0, "accepted listener set %zu", i);
		if (rc)
			printf("#   %s\n", err);
	}
}

/* ---- users_file -------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void test_users_file(void)
{
	const struct kl_conf_relay *r = &c.relay[0];
	char dir[] = "/tmp/t_conf_XXXXXX", path[128], text[512];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/users", dir);
	write_file(path, "# users of the relay\n\nalice:secret\n  bob:with space, comma #hash  \r\n"
		   "carol:x");
	snprintf(text, sizeof(text), RELAY "users_file = %s\n", path);
	T_EQ_INT(parse(text), 0, "users_file loads");
	T_OK(r->nusers == 3 && strcmp(r->users[1].name, "bob") == 0 &&
	     strcmp(r->users[1].pass, "with space, comma #hash") == 0 &&
	     strcmp(r->users[2].pass, "x") == 0, "users_file: a whole line is one entry");
	T_EQ_STR(r->users_file, path, "users_file path kept");

	snprintf(text, sizeof(text), RELAY "users = a:b\nusers_file = %s\n", path);
	T_EQ_INT(parse(text), KL_EINVAL, "users with users_file");
	T_ERR(strstr(err, "t.conf:5: users_file: users and users_file cannot be used together") != NULL,
	      "users with users_file message");
	snprintf(text, sizeof(text), RELAY "users_file = %s\nusers = a:b\n", path);
	T_EQ_INT(parse(text), KL_EINVAL, "users_file with users");
	T_ERR(strstr(err, "t.conf:5: users: users and users_file") != NULL, "names the later key");

	write_file(path, "alice:secret\n# ok\nbob\n");
	snprintf(text, sizeof(text), "[global]\n" RELAY "users_file = %s\n", path);
	T_EQ_INT(parse(text), KL_EINVAL, "users_file with a bad line");
	{
		char want[256];
		snprintf(want, sizeof(want), "%s:3: expected user:pass (users_file of [relay r] at t.conf:5)", path);
		T_EQ_STR(err, want, "users_file error names that file and its line");
	}
	write_file(path, "alice:1\nalice:2\n");
	T_EQ_INT(parse(text), KL_EINVAL, "users_file with a user twice");
	T_ERR(strstr(err, ":2: user name appears twice: user \"alice\"") != NULL, "twice");
	write_file(path, "a:1\nb:1\nc:1\nd:1\ne:1\nf:1\ng:1\nh:1\ni:1\nj:1\nk:1\nl:1\nm:1\nn:1\no:1\np:1\nq:1\n");
	T_EQ_INT(parse(text), KL_EINVAL, "users_file with 17 users");
	T_ERR(strstr(err, ":17: more than 16 users") != NULL, "17 users");
	{
		FILE *f = fopen(path, "wb");
		fwrite("a:b\n\0c:d\n", 1, 9, f);
		fclose(f);
	}
	T_EQ_INT(parse(text), KL_EINVAL, "users_file with a NUL byte");
	T_ERR(strstr(err, ":2: NUL byte in line") != NULL, "NUL");
	{
		FILE *f = fopen(path, "wb");
		for (int i = 0; i < 70000; i++)
			fputc('#', f);
		fclose(f);
	}
	T_EQ_INT(parse(text), KL_ETOOBIG, "users_file larger than 64 KB");
	T_ERR(strstr(err, "t.conf:5: users_file:") && strstr(err, "larger than 64 KB"), "big");

	unlink(path);
	rmdir(dir);
}

/* ---- files ------------------------------------------------------------- */

static void test_load(void)
{
	char dir[] = "/tmp/t_conf_XXXXXX", path[128];
	glob_t g;
	int n = 0;

	/* tests run from the repository root */
	if (glob("configs/*.conf", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			int rc = kl_conf_load(&c, g.gl_pathv[i], err);
			T_OK(rc == 0, "%s loads", g.gl_pathv[i]);
			if (rc)
				printf("#   %s\n", err);
			n++;
		}
		globfree(&g);
	}
	T_OK(n >= 3, "configs/*.conf found (%d)", n);

	T_EQ_INT(kl_conf_load(&c, "configs/kinglet.conf", err), 0, "kinglet.conf");
	T_OK(c.memory_limit == 32u << 20 && c.admin_enabled &&
	     strcmp(c.admin_listen, "127.0.0.1:8081") == 0, "kinglet.conf: global and admin");
	T_OK(c.nrelays == 2 && strcmp(c.relay[0].name, "socks") == 0 &&
	     c.relay[0].type == KL_RELAY_SOCKS5 && strcmp(c.relay[0].listen, "127.0.0.1:1080") == 0 &&
	     strcmp(c.relay[1].name, "web") == 0 && c.relay[1].type == KL_RELAY_HTTP &&
	     strcmp(c.relay[1].listen, "127.0.0.1:3128") == 0, "kinglet.conf: relays socks and web");
	T_OK(c.thumbs.enabled && strcmp(c.thumbs.listen, "127.0.0.1:8080") == 0 && !c.thumbs.key[0] &&
	     !c.thumbs.salt[0] && strcmp(c.thumbs.local_root, "configs/demo") == 0,
	     "kinglet.conf: thumbs unsigned, local_root configs/demo");
	T_EQ_STR(c.path, "configs/kinglet.conf", "path recorded");

	T_EQ_INT(kl_conf_load(&c, "configs/vps-128m.conf", err), 0, "vps-128m.conf");
	T_OK(c.memory_limit == 64u << 20 && c.thumbs.jobs == 2 && c.thumbs.arena == 16u << 20 &&
	     c.thumbs.key[0] && c.thumbs.salt[0], "vps-128m.conf: budget and thumbs");
	T_EQ_INT(kl_conf_load(&c, "configs/router-64m.conf", err), 0, "router-64m.conf");
	T_OK(c.memory_limit == 16u << 20 && c.nrelays >= 1 && c.relay[0].type == KL_RELAY_SOCKS5 &&
	     strcmp(c.relay[0].listen, "192.168.1.1:1080") == 0 && c.relay[0].upstream_tls &&
	     c.relay[0].allow_clients.n == 1, "router-64m.conf: LAN socks chained over TLS");

	T_EQ_INT(kl_conf_load(&c, "configs/no-such.conf", err), KL_ENOTFOUND, "missing file");
	T_ERR(strstr(err, "configs/no-such.conf: cannot open") != NULL, "missing file message");

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	{
		FILE *f = fopen(path, "wb");
		for (int i = 0; i < 300000 / 10; i++)
			fputs(";........\n", f);
		fclose(f);
	}
	T_EQ_INT(kl_conf_load(&c, path, err), KL_ETOOBIG, "file larger than 256 KB");
	T_ERR(strstr(err, "larger than 256 KB") != NULL, "big file message");
	write_file(path, "[global]\nmemory_limit = 1M\n\n[admin]\nlisten = 127.0.0.1:9\n[admin]\n");
	T_EQ_INT(kl_conf_load(&c, path, err), KL_EINVAL, "load reports parse errors");
	{
		char want[200];
		snprintf(want, sizeof(want), "%s:6: duplicate section [admin] (first at line 4)", path);
		T_EQ_STR(err, want, "message starts with the path given");
	}
	T_EQ_INT(kl_conf_load(&c, dir, err), KL_EIO, "a directory is not a config");
	unlink(path);
	rmdir(dir);
}

/* Every prefix of the default config parses or fails cleanly (guard page). */
static void test_prefixes(void)
{
	static char text[64 << 10];
	FILE *f = fopen("configs/kinglet.conf", "rb");
	size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
	int bad = 0;

	if (f)
		fclose(f);
	for (size_t i = 0; i <= n; i++) {
		int rc = parse_n(text, i);
		if (rc != 0 && !strstr(err, "t.conf:"))
			bad++;
	}
	T_OK(n > 0 && bad == 0, "every prefix of kinglet.conf (%zu) parses or names t.conf", n);
	T_EQ_INT(parse_n(text, n), 0, "the whole file parses from memory");
}

int main(void)
{
	test_size();
	test_duration();
	test_defaults();
	test_values();
	test_syntax();
	test_errors();
	test_open_rule();
	test_users_file();
	test_load();
	test_prefixes();
	return T_DONE();
}
