/* tls.c - mbedtls sessions behind the kl_stream ops, driven by the poll loop. */
/* SPDX-License-Identifier: MIT */
#include "net/tls.h"
#include "base/b64.h"
#include "ev/ev.h"
#include "port.h"
#include "mbedtls_compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct kl_tls_conf {
	mbedtls_ssl_config ssl;
	mbedtls_x509_crt crt;           /* own chain (server) or ca_file (client) */
	mbedtls_pk_context key;
	int is_server, has_pin;
	uint8_t pin[32];
};

struct kl_tls_sess {
	mbedtls_ssl_context ssl;
	const struct kl_tls_conf *conf;
	struct kl_pool *pool;
	int fd;
	int done;                       /* handshake complete */
	unsigned want;                  /* KL_EV_RD / KL_EV_WR the last call blocked on */
	size_t wlen;                    /* length of a write that blocked, 0 when none */
	uint8_t ip_len;                 /* client to an IP literal: 4 or 16, else 0 */
	uint8_t ip[16];
	char reason[160];
};

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt system_ca;      /* parsed once, shared by every client conf */
static int rng_ready, system_ca_ready;
static const char *alpn_list[] = { "http/1.1", NULL };

/* see tls.h */
size_t kl_tls_sess_size(void) { return sizeof(struct kl_tls_sess); }
/* see tls.h */
size_t kl_tls_conf_size(void) { return sizeof(struct kl_tls_conf); }

static void mbed_reason(int rc, char *out, size_t cap)
{
	char msg[120];

	mbedtls_strerror(rc, msg, sizeof(msg));
	snprintf(out, cap, "%s (-0x%04x)", msg, (unsigned)-rc);
}

/* see tls.h */
int kl_tls_global_init(char err[KL_ERRLEN])
{
	static const char pers[] = "kinglet";
	int rc;

	if (rng_ready)
		return 0;
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const uint8_t *)pers,
				   sizeof(pers) - 1);
	if (rc) {
		char m[128];
		mbed_reason(rc, m, sizeof(m));
		snprintf(err, KL_ERRLEN, "tls: cannot seed the random generator: %s", m);
		return KL_EIO;
	}
	rng_ready = 1;
	return 0;
}

static int common(struct kl_tls_conf *c, int endpoint, char err[KL_ERRLEN])
{
	int rc;

	if (kl_tls_global_init(err) < 0)
		return KL_EIO;
	memset(c, 0, sizeof(*c));
	mbedtls_ssl_config_init(&c->ssl);
	mbedtls_x509_crt_init(&c->crt);
	mbedtls_pk_init(&c->key);
	rc = mbedtls_ssl_config_defaults(&c->ssl, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc) {
		snprintf(err, KL_ERRLEN, "tls: config defaults failed (-0x%04x)", (unsigned)-rc);
		return KL_EIO;
	}
	mbedtls_ssl_conf_rng(&c->ssl, mbedtls_ctr_drbg_random, &drbg);
	/* TLS 1.2 at least: what curl, browsers and openssl negotiate today. */
	kp_ssl_min_tls12(&c->ssl);
	/*
	 * ALPN http/1.1 only: Chrome would otherwise try HTTP/2 with an HTTPS
	 * proxy. Harmless for SOCKS5 and forward listeners (clients rarely ask).
	 */
	mbedtls_ssl_conf_alpn_protocols(&c->ssl, alpn_list);
	return 0;
}

/* see tls.h */
int kl_tls_server_conf(struct kl_tls_conf *c, const char *cert, const char *key, char err[KL_ERRLEN])
{
	char m[128];
	int rc;

	if (common(c, MBEDTLS_SSL_IS_SERVER, err) < 0)
		return KL_EIO;
	c->is_server = 1;
	rc = mbedtls_x509_crt_parse_file(&c->crt, cert);
	if (rc) {
		mbed_reason(rc, m, sizeof(m));
		snprintf(err, KL_ERRLEN, "tls_cert %s: %s", cert, m);
		return KL_EINVAL;
	}
	rc = kp_pk_parse_keyfile(&c->key, key, mbedtls_ctr_drbg_random, &drbg);
	if (rc) {
		mbed_reason(rc, m, sizeof(m));
		snprintf(err, KL_ERRLEN, "tls_key %s: %s", key, m);
		return KL_EINVAL;
	}
	rc = kp_pk_check_pair(&c->crt.pk, &c->key, mbedtls_ctr_drbg_random, &drbg);
	if (rc) {
		snprintf(err, KL_ERRLEN, "tls_key %s does not match the certificate in %s", key, cert);
		return KL_EINVAL;
	}
	rc = mbedtls_ssl_conf_own_cert(&c->ssl, &c->crt, &c->key);
	if (rc) {
		mbed_reason(rc, m, sizeof(m));
		snprintf(err, KL_ERRLEN, "tls_cert %s and tls_key %s: %s", cert, key, m);
		return KL_EINVAL;
	}
	mbedtls_ssl_conf_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_NONE);
	return 0;
}

/* see tls.h */
void kl_tls_conf_reset(struct kl_tls_conf *c)
{
	mbedtls_ssl_config_free(&c->ssl);
	mbedtls_x509_crt_free(&c->crt);
	mbedtls_pk_free(&c->key);
	memset(c, 0, sizeof(*c));
}

static int parse_pin(const char *s, uint8_t out[32])
{
	size_t n = strlen(s);

	if (strncmp(s, "sha256//", 8) == 0) {
		s += 8;
		n -= 8;
	}
	if (n == 64) {
		for (size_t i = 0; i < 32; i++) {
			unsigned v;
			if (sscanf(s + 2 * i, "%2x", &v) != 1)
				return KL_EINVAL;
			out[i] = (uint8_t)v;
		}
		return 0;
	}
	return kl_b64_decode(s, n, out, 32, KL_B64_STD) == 32 ? 0 : KL_EINVAL;
}

/* see tls.h */
int kl_tls_client_conf(struct kl_tls_conf *c, const char *ca_file, const char *pin, char err[KL_ERRLEN])
{
	char m[128];
	int rc;

	if (common(c, MBEDTLS_SSL_IS_CLIENT, err) < 0)
		return KL_EIO;
	if (ca_file && ca_file[0]) {
		rc = mbedtls_x509_crt_parse_file(&c->crt, ca_file);
		if (rc < 0) {
			mbed_reason(rc, m, sizeof(m));
			snprintf(err, KL_ERRLEN, "CA file %s: %s", ca_file, m);
			return KL_EINVAL;
		}
		mbedtls_ssl_conf_ca_chain(&c->ssl, &c->crt, NULL);
	} else {
		if (!system_ca_ready) {
			mbedtls_x509_crt_init(&system_ca);
			/* > 0: some certificates of the bundle were skipped, the rest is usable */
			rc = mbedtls_x509_crt_parse_file(&system_ca, SYSTEM_CA);
			if (rc < 0) {
				mbed_reason(rc, m, sizeof(m));
				snprintf(err, KL_ERRLEN, "system CA bundle %s: %s", SYSTEM_CA, m);
				return KL_EINVAL;
			}
			system_ca_ready = 1;
		}
		mbedtls_ssl_conf_ca_chain(&c->ssl, &system_ca, NULL);
	}
	if (pin && pin[0]) {
		if (parse_pin(pin, c->pin) < 0) {
			snprintf(err, KL_ERRLEN, "pin: want 64 hex digits or base64 of a SHA-256, got \"%s\"", pin);
			return KL_EINVAL;
		}
		c->has_pin = 1;
	}
	mbedtls_ssl_conf_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
	return 0;
}


static int bio_send(void *ctx, const unsigned char *b, size_t n)
{
	struct kl_tls_sess *t = ctx;
	ssize_t r = kp_write(t->fd, b, n);

	if (r >= 0)
		return (int)r;
	if (r == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return r == -EPIPE || r == -ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n)
{
	struct kl_tls_sess *t = ctx;
	ssize_t r = kp_read(t->fd, b, n);

	if (r >= 0)
		return (int)r;
	if (r == -EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return r == -ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

static ssize_t fail(struct kl_stream *s, int rc)
{
	struct kl_tls_sess *t = s->ctx;

	if (!t->reason[0]) {
		if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			char info[256];
			uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
			int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
			for (int i = 0; i < n; i++)
				if (info[i] == '\n')
					info[i] = i == n - 1 ? 0 : ';';
			snprintf(t->reason, sizeof(t->reason), "certificate verification failed: %s", info);
		} else if (rc == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
			snprintf(t->reason, sizeof(t->reason), "out of TLS memory (libc.heap)");
		} else {
			mbed_reason(rc, t->reason, sizeof(t->reason));
		}
	}
	if (!s->err)
		s->err = rc == MBEDTLS_ERR_SSL_ALLOC_FAILED ? ENOMEM : EPROTO;
	return KL_EIO;
}

static int check_pin(struct kl_stream *s)
{
	struct kl_tls_sess *t = s->ctx;
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
	uint8_t der[1024], hash[32];
	char got[48];
	int n;

	if (!t->conf->has_pin)
		return 0;
	if (!peer)
		n = -1;
	else
		n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&peer->pk, der, sizeof(der));
	if (n <= 0) {
		snprintf(t->reason, sizeof(t->reason), "pin check: cannot read the peer's public key");
		return KL_EDENIED;
	}
	/* mbedtls writes DER at the end of the buffer. */
	kp_sha256(der + sizeof(der) - n, (size_t)n, hash);
	if (memcmp(hash, t->conf->pin, 32) != 0) {
		kl_b64_encode(hash, 32, got, sizeof(got), KL_B64_STD, 1);
		snprintf(t->reason, sizeof(t->reason), "pin mismatch: the peer's key is sha256//%s", got);
		return KL_EDENIED;
	}
	return 0;
}

/*
 * A client that dialled an IP literal checks the certificate's iPAddress
 * entries itself: mbedtls 2.28 matches the expected name against dNSName
 * and the CN only, and RFC 6066 forbids an address as SNI anyway. The
 * chain has been verified by then; this adds the name check.
 */
static int check_ip(struct kl_stream *s)
{
	struct kl_tls_sess *t = s->ctx;
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
	char txt[INET6_ADDRSTRLEN];

	if (!t->ip_len)
		return 0;
	for (const mbedtls_x509_sequence *n = peer ? &peer->subject_alt_names : NULL; n; n = n->next)
		if (n->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) &&
		    n->buf.len == t->ip_len && memcmp(n->buf.p, t->ip, t->ip_len) == 0)
			return 0;
	if (!inet_ntop(t->ip_len == 4 ? AF_INET : AF_INET6, t->ip, txt, sizeof(txt)))
		txt[0] = 0;
	snprintf(t->reason, sizeof(t->reason), "certificate verification failed: the certificate does not name %s",
		 txt);
	return KL_EDENIED;
}

/* A call that would block records which way (for want()); anything else fails. */
static ssize_t blocked_or_fail(struct kl_stream *s, int rc)
{
	struct kl_tls_sess *t = s->ctx;

	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->want = rc == MBEDTLS_ERR_SSL_WANT_READ ? KL_EV_RD : KL_EV_WR;
		return KL_AGAIN;
	}
	return fail(s, rc);
}

/* Drives the handshake; 0 once complete, KL_AGAIN while waiting, else an error. */
static ssize_t handshake(struct kl_stream *s)
{
	struct kl_tls_sess *t = s->ctx;
	int rc = mbedtls_ssl_handshake(&t->ssl);

	if (rc)
		return blocked_or_fail(s, rc);
	if (check_pin(s) < 0 || check_ip(s) < 0) {
		if (!s->err)
			s->err = EPROTO;
		return KL_EIO;
	}
	t->done = 1;
	t->want = 0;
	return 0;
}

static ssize_t t_read(struct kl_stream *s, void *b, size_t n)
{
	struct kl_tls_sess *t = s->ctx;
	ssize_t r;
	int rc;

	if (s->err)
		return KL_EIO;
	if (!t->done && (r = handshake(s)) != 0)
		return r;
	rc = mbedtls_ssl_read(&t->ssl, b, n);
	if (rc > 0) {
		t->want = 0;
		return rc;
	}
	/* A peer that closes TCP without close_notify ends the stream too: a relay
	 * cannot tell truncation from a finished transfer any better than TCP. */
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	return blocked_or_fail(s, rc);
}

static ssize_t t_write(struct kl_stream *s, const void *b, size_t n)
{
	struct kl_tls_sess *t = s->ctx;
	size_t len = n;
	ssize_t r;
	int rc;

	if (s->err)
		return KL_EIO;
	if (!t->done && (r = handshake(s)) != 0)
		return r;
	if (n == 0)
		return 0;
	/*
	 * A record that blocked stays in mbedtls half sent, and mbedtls then
	 * answers the next call with that call's length, whatever it is. So a
	 * retry passes exactly the length that blocked: the caller's buffer
	 * still holds those bytes at the same place (it acked none of them),
	 * and may hold more behind them by now, which go in the next record.
	 */
	if (t->wlen) {
		if (n < t->wlen) {
			snprintf(t->reason, sizeof(t->reason), "a blocked TLS write was retried with fewer bytes");
			if (!s->err)
				s->err = EPROTO;
			return KL_EIO;
		}
		len = t->wlen;
	}
	rc = mbedtls_ssl_write(&t->ssl, b, len);
	if (rc >= 0) {
		t->want = 0;
		t->wlen = 0;
		return rc;
	}
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		t->wlen = len;
	return blocked_or_fail(s, rc);
}

static int t_shutdown(struct kl_stream *s)
{
	struct kl_tls_sess *t = s->ctx;
	int r;

	/* Best effort: a close_notify that does not fit the socket now is dropped. */
	if (t->done && !s->err)
		mbedtls_ssl_close_notify(&t->ssl);
	r = kp_shutdown_wr(s->fd);
	return r == 0 || r == -ENOTCONN ? 0 : KL_EIO;
}

static void t_close(struct kl_stream *s, int abort)
{
	struct kl_tls_sess *t = s->ctx;

	if (t) {
		mbedtls_ssl_free(&t->ssl);
		kl_pool_put(t->pool, t);
	}
	if (abort)
		kp_abort(s->fd);
	else
		kp_close(s->fd);
}

static unsigned t_want(const struct kl_stream *s, unsigned want)
{
	const struct kl_tls_sess *t = s->ctx;

	if (!t->done)
		return t->want ? t->want : KL_EV_RD | (t->conf->is_server ? 0 : KL_EV_WR);
	/* A record half sent must be finished before anything else moves. */
	return want | t->want;
}

static size_t t_pending(const struct kl_stream *s)
{
	const struct kl_tls_sess *t = s->ctx;

	return t->done ? mbedtls_ssl_get_bytes_avail(&t->ssl) : 0;
}

static const struct kl_stream_ops tls_ops = {
	t_read, t_write, t_shutdown, t_close, t_want, t_pending, "tls"
};

/* see tls.h */
int kl_tls_start(struct kl_stream *s, int fd, const struct kl_tls_conf *c, struct kl_pool *pool,
		 const char *sni)
{
	struct kl_tls_sess *t = kl_pool_get(pool);
	int rc;

	if (!t)
		return KL_ENOMEM;
	memset(t, 0, sizeof(*t));
	t->conf = c;
	t->pool = pool;
	t->fd = fd;
	mbedtls_ssl_init(&t->ssl);
	rc = mbedtls_ssl_setup(&t->ssl, &c->ssl);
	if (!rc && sni && !c->is_server) {
		if (inet_pton(AF_INET, sni, t->ip) == 1)
			t->ip_len = 4;
		else if (inet_pton(AF_INET6, sni, t->ip) == 1)
			t->ip_len = 16;
		else
			rc = mbedtls_ssl_set_hostname(&t->ssl, sni);
	}
	if (rc) {
		mbedtls_ssl_free(&t->ssl);
		kl_pool_put(pool, t);
		return rc == MBEDTLS_ERR_SSL_ALLOC_FAILED ? KL_ENOMEM : KL_EIO;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	s->fd = fd;
	s->err = 0;
	s->ops = &tls_ops;
	s->ctx = t;
	return 0;
}

/* see tls.h */
int kl_tls_ready(const struct kl_stream *s)
{
	return s->ops == &tls_ops && ((const struct kl_tls_sess *)s->ctx)->done;
}

/* see tls.h */
const char *kl_tls_reason(const struct kl_stream *s)
{
	return s->ops == &tls_ops && s->ctx ? ((const struct kl_tls_sess *)s->ctx)->reason : "";
}

/* see tls.h */
const char *kl_tls_alpn(const struct kl_stream *s)
{
	return s->ops == &tls_ops && s->ctx ? mbedtls_ssl_get_alpn_protocol(&((const struct kl_tls_sess *)s->ctx)->ssl)
					    : NULL;
}
