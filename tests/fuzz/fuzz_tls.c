/* fuzz_tls.c - arbitrary bytes as a client's handshake against a TLS server session. */
/* SPDX-License-Identifier: MIT */
#include "base/pool.h"
#include "net/tls.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static _Alignas(16) uint8_t conf_mem[8192];
static _Alignas(16) uint8_t pool_mem[8192];
static struct kl_pool pool;
static int ready = -1;

/* A throw-away key and certificate, made once per process with openssl. */
static int setup(void)
{
	char dir[] = "/tmp/kl-fuzz-tls.XXXXXX", cmd[512], cert[64], key[64], err[KL_ERRLEN];

	if (!mkdtemp(dir))
		return 0;
	snprintf(cmd, sizeof(cmd), "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout k.pem -out c.pem -days 2 -subj /CN=localhost >/dev/null 2>&1", dir);
	if (system(cmd) != 0)
		return 0;
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	if (kl_tls_conf_size() > sizeof(conf_mem) ||
	    kl_tls_server_conf((struct kl_tls_conf *)conf_mem, cert, key, err) < 0)
		return 0;
	kl_pool_init(&pool, "tls.sess", pool_mem, kl_tls_sess_size(), 2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kl_stream s;
	uint8_t buf[512];
	int sv[2];

	if (ready < 0)
		ready = setup();
	if (!ready || size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (write(sv[1], data, size) != (ssize_t)size) {
	}
	shutdown(sv[1], SHUT_WR);
	if (kl_tls_start(&s, sv[0], (struct kl_tls_conf *)conf_mem, &pool, NULL) == 0) {
		/* Bounded: every call consumes input or fails; the input ends with EOF. */
		for (int i = 0; i < 64; i++) {
			ssize_t r = kl_stream_read(&s, buf, sizeof(buf));
			if (r == KL_EIO || r == 0)
				break;
		}
		kl_stream_close(&s, 1);
	} else {
		close(sv[0]);
	}
	close(sv[1]);
	return 0;
}
