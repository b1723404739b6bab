/* t_tls.c - TLS streams over socketpairs: handshake, data, verification failures, pins, memory. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/pool.h"
#include "ev/ev.h"
#include "net/tls.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

static char dir[64];
static _Alignas(16) uint8_t conf_mem[4][8192];
static _Alignas(16) uint8_t pool_mem[1 << 16];
static struct kl_pool pool;
static size_t heap_peak;

static int sh(const char *fmt, const char *a)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), fmt, a, a, a, a, a, a, a, a);
	return system(cmd);
}

/* A throw-away CA, a server certificate for "localhost", an expired one, and an ECDSA one. */
static int make_certs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/kl-tls.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return sh("cd %s && exec >/dev/null 2>&1 && "
		  "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=kl-test-ca && "
		  "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost && "
		  "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext && "
		  "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext && "
		  "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out old.pem "
		  "-not_before 20200101000000Z -not_after 20200102000000Z -extfile ext 2>/dev/null || "
		  "faketime_fallback=1; "
		  "openssl ecparam -name prime256v1 -genkey -noout -out ec.key && "
		  "openssl req -new -key ec.key -out ec.csr -subj /CN=localhost && "
		  "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ec.pem -days 2 -extfile ext && "
		  "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca && "
		  "openssl x509 -in srv.pem -pubkey -noout | openssl pkey -pubin -outform der | "
		  "openssl dgst -sha256 -binary | openssl base64 > pin.txt", dir);
}

static const char *path(const char *name)
{
	static char p[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static size_t heap_now(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks;
}

/*
 * Runs client and server until both handshakes finish or one fails.
 * Returns 0, or the failing side's error (1 = client, 2 = server).
 */
static int drive(struct kl_stream *cli, struct kl_stream *srv, size_t base)
{
	for (int i = 0; i < 200; i++) {
		ssize_t a = kl_stream_write(cli, "", 0), b = kl_stream_read(srv, NULL, 0);
		size_t h = heap_now() - base;
		if (h > heap_peak)
			heap_peak = h;
		if (a == KL_EIO)
			return 1;
		if (b == KL_EIO)
			return 2;
		if (kl_tls_ready(cli) && kl_tls_ready(srv))
			return 0;
	}
	return 3;
}

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

/* One full session: handshake, 100 KB each way, close. Returns the handshake result. */
static int session(struct kl_tls_conf *sc, struct kl_tls_conf *cc, const char *sni, char *reason, size_t rcap)
{
	struct kl_stream cli, srv;
	int sv[2], rc;
	size_t base = heap_now();

	pair(sv);
	if (kl_tls_start(&srv, sv[0], sc, &pool, NULL) || kl_tls_start(&cli, sv[1], cc, &pool, sni))
		return 9;
	rc = drive(&cli, &srv, base);
	snprintf(reason, rcap, "%s%s", kl_tls_reason(&cli), kl_tls_reason(&srv));
	if (rc == 0) {
		static uint8_t out[100000], in[100000];
		size_t sent = 0, got = 0;
		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7);
		for (int k = 0; k < 10000 && got < sizeof(in); k++) {
			ssize_t w = sent < sizeof(out) ? kl_stream_write(&cli, out + sent, sizeof(out) - sent) : 0;
			ssize_t r = kl_stream_read(&srv, in + got, sizeof(in) - got);
			if (w > 0)
				sent += (size_t)w;
			if (r > 0)
				got += (size_t)r;
		}
		T_OK(got == sizeof(in) && memcmp(in, out, sizeof(in)) == 0, "tls: 100 KB arrive intact");
		T_OK(kl_tls_alpn(&srv) == NULL || strcmp(kl_tls_alpn(&srv), "http/1.1") == 0, "tls: ALPN http/1.1 only");
	}
	kl_stream_close(&cli, 0);
	kl_stream_close(&srv, 0);
	return rc;
}

/*
 * A write that blocks is retried with more bytes than before (the relay's
 * buffer filled up meanwhile): the stream must take exactly what it had
 * started, so the reader gets every byte once and in order.
 */
static void blocked_write_retry(struct kl_tls_conf *sc, struct kl_tls_conf *cc)
{
	static uint8_t out[1 << 20], in[1 << 20];
	struct kl_stream cli, srv;
	size_t sent = 0, got = 0, step = 3000;
	int sv[2], grew = 0, small = 4096;

	pair(sv);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + (i >> 9));
	if (kl_tls_start(&srv, sv[0], sc, &pool, NULL) || kl_tls_start(&cli, sv[1], cc, &pool, "localhost")) {
		T_OK(0, "blocked write: sessions");
		return;
	}
	T_EQ_INT(drive(&cli, &srv, heap_now()), 0, "blocked write: handshake");
	for (int k = 0; k < 200000 && got < sizeof(in); k++) {
		size_t offer = KL_MIN(step, sizeof(out) - sent);
		ssize_t w = sent < sizeof(out) ? kl_stream_write(&cli, out + sent, offer) : 0;
		if (w > 0) {
			sent += (size_t)w;
			step = 3000;
		} else if (w == KL_AGAIN) {
			step = 9000;    /* offer more than the blocked write held */
			grew++;
		}
		/* drain slowly so writes keep blocking */
		ssize_t r = kl_stream_read(&srv, in + got, KL_MIN((size_t)1500, sizeof(in) - got));
		if (r > 0)
			got += (size_t)r;
	}
	T_OK(grew > 0, "blocked write: writes blocked and were retried with more bytes (%d times)", grew);
	T_OK(got == sizeof(in) && memcmp(in, out, sizeof(in)) == 0,
	     "blocked write: 1 MB arrives whole and in order (%zu bytes)", got);
	kl_stream_close(&cli, 0);
	kl_stream_close(&srv, 0);
}

int main(void)
{
	struct kl_tls_conf *srv = (void *)conf_mem[0], *ok = (void *)conf_mem[1], *wrong = (void *)conf_mem[2];
	struct kl_tls_conf *tmp = (void *)conf_mem[3];
	char err[KL_ERRLEN], reason[256], pin[128] = "";
	FILE *f;

	if (kl_tls_conf_size() > sizeof(conf_mem[0])) {
		T_OK(0, "conf fits the test's storage (%zu)", kl_tls_conf_size());
		return T_DONE();
	}
	T_OK(make_certs() == 0, "throw-away CA and certificates made with openssl");
	kl_pool_init(&pool, "tls.sess", pool_mem, kl_tls_sess_size(), (uint32_t)(sizeof(pool_mem) / KL_ALIGN_UP(kl_tls_sess_size(), 16)));
	T_OK(pool.count >= 4, "session pool holds a few sessions (%zu bytes each)", kl_tls_sess_size());

	T_EQ_INT(kl_tls_server_conf(srv, path("srv.pem"), path("srv.key"), err), 0, "server conf (RSA)");
	T_EQ_INT(kl_tls_client_conf(ok, path("ca.pem"), NULL, err), 0, "client conf with the test CA");
	T_EQ_INT(session(srv, ok, "localhost", reason, sizeof(reason)), 0, "handshake with a trusted certificate");
	printf("# peak heap of one client + one server session: %zu bytes\n", heap_peak);
	T_OK(heap_peak / 2 <= KL_TLS_SESSION_HEAP, "one session's peak heap fits KL_TLS_SESSION_HEAP (%zu <= %u)",
	     heap_peak / 2, KL_TLS_SESSION_HEAP);
	T_EQ_INT(pool.used, 0, "sessions return to the pool");

	T_OK(session(srv, ok, "wrong.example", reason, sizeof(reason)) != 0, "wrong name refused");
	T_OK(strstr(reason, "CN") != NULL || strstr(reason, "name") != NULL, "and the reason says so: %s", reason);

	/* An address is matched against the certificate's iPAddress entries (IP:127.0.0.1). */
	T_EQ_INT(session(srv, ok, "127.0.0.1", reason, sizeof(reason)), 0, "IP literal named by the certificate");
	T_OK(session(srv, ok, "10.0.0.1", reason, sizeof(reason)) != 0, "IP literal the certificate does not name refused");
	T_OK(strstr(reason, "does not name 10.0.0.1") != NULL, "and the reason says so: %s", reason);
	T_OK(session(srv, ok, "::1", reason, sizeof(reason)) != 0, "IPv6 literal the certificate does not name refused");
	T_EQ_INT(pool.used, 0, "refused sessions return to the pool");

	T_EQ_INT(kl_tls_client_conf(wrong, path("other.pem"), NULL, err), 0, "client conf with another CA");
	T_OK(session(srv, wrong, "localhost", reason, sizeof(reason)) != 0, "wrong CA refused");
	T_OK(strstr(reason, "not correctly signed") != NULL || strstr(reason, "trusted") != NULL,
	     "and the reason says so: %s", reason);

	if (access(path("old.pem"), R_OK) == 0) {
		kl_tls_conf_reset(tmp);
		T_EQ_INT(kl_tls_server_conf(tmp, path("old.pem"), path("srv.key"), err), 0, "server conf with an expired cert");
		T_OK(session(tmp, ok, "localhost", reason, sizeof(reason)) != 0, "expired certificate refused");
		T_OK(strstr(reason, "expired") != NULL, "and the reason says so: %s", reason);
	}

	f = fopen(path("pin.txt"), "r");
	if (f) {
		if (!fgets(pin, sizeof(pin), f))
			pin[0] = 0;
		fclose(f);
		pin[strcspn(pin, "\n")] = 0;
	}
	kl_tls_conf_reset(tmp);
	T_EQ_INT(kl_tls_client_conf(tmp, path("ca.pem"), pin, err), 0, "client conf with the right pin");
	T_EQ_INT(session(srv, tmp, "localhost", reason, sizeof(reason)), 0, "right pin accepted");
	kl_tls_conf_reset(tmp);
	T_EQ_INT(kl_tls_client_conf(tmp, path("ca.pem"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", err), 0,
		 "client conf with a wrong pin");
	T_OK(session(srv, tmp, "localhost", reason, sizeof(reason)) != 0, "wrong pin refused");
	T_OK(strstr(reason, "pin mismatch") != NULL, "and the reason names the pin: %s", reason);
	kl_tls_conf_reset(tmp);
	T_EQ_INT(kl_tls_client_conf(tmp, path("ca.pem"), "xyz", err), KL_EINVAL, "malformed pin refused at config time");

	kl_tls_conf_reset(tmp);
	T_EQ_INT(kl_tls_server_conf(tmp, path("ec.pem"), path("ec.key"), err), 0, "server conf (ECDSA)");
	T_EQ_INT(session(tmp, ok, "localhost", reason, sizeof(reason)), 0, "ECDSA handshake");

	kl_tls_conf_reset(tmp);
	T_OK(kl_tls_server_conf(tmp, path("missing.pem"), path("srv.key"), err) < 0 && strstr(err, "missing.pem"),
	     "a missing certificate is named: %s", err);
	kl_tls_conf_reset(tmp);
	T_OK(kl_tls_server_conf(tmp, path("srv.pem"), path("ec.key"), err) < 0, "a key that does not match is refused: %s", err);

	blocked_write_retry(srv, ok);

	/* Garbage instead of a ClientHello: the server fails cleanly. */
	{
		struct kl_stream s;
		int sv[2];
		pair(sv);
		T_EQ_INT(kl_tls_start(&s, sv[0], srv, &pool, NULL), 0, "server session for garbage");
		if (write(sv[1], "GET / HTTP/1.1\r\n\r\n", 18) != 18)
			T_OK(0, "write");
		T_EQ_INT(kl_stream_read(&s, reason, sizeof(reason)), KL_EIO, "garbage handshake is an error");
		T_OK(kl_tls_reason(&s)[0] != 0, "with a reason: %s", kl_tls_reason(&s));
		kl_stream_close(&s, 1);
		close(sv[1]);
	}
	T_EQ_INT(pool.used, 0, "every session returned");
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
		size_t before = heap_now(), cost;
		kl_tls_conf_reset(tmp);
		T_EQ_INT(kl_tls_client_conf(tmp, NULL, NULL, err), 0, "client conf with the system CA bundle");
		cost = heap_now() - before;
		printf("# heap of the parsed system CA bundle: %zu bytes\n", cost);
		T_OK(cost <= KL_TLS_CA_HEAP, "the parsed bundle fits KL_TLS_CA_HEAP (%zu <= %u)", cost, KL_TLS_CA_HEAP);
	}
	kl_tls_conf_reset(tmp);
	kl_tls_conf_reset(srv);
	kl_tls_conf_reset(ok);
	kl_tls_conf_reset(wrong);
	sh("rm -rf %s", dir);
	/* The confs are reused above and freed here, so leak checkers stay quiet. */
	for (int i = 0; i < 4; i++)
		kl_tls_conf_reset((struct kl_tls_conf *)(void *)conf_mem[i]);
	return T_DONE();
}
